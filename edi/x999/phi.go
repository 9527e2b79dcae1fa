package x999

// IK404 is a copy of the bad data element of the acknowledged file, which
// may be a patient's name, member id or birth date: findings about it
// withhold the value (x12.Elem.PHI).
func init() { specIK4.Elems[3].PHI = true }
