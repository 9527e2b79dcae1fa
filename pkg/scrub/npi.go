package scrub

// ValidNPI reports whether s is a well-formed National Provider Identifier:
// 10 digits, the first 1 or 2, and the last a Luhn check digit computed over
// "80840" (the NPI's ISO 7812 prefix) followed by the first 9 digits.
func ValidNPI(s string) bool {
	if len(s) != 10 || (s[0] != '1' && s[0] != '2') {
		return false
	}
	for i := 0; i < 10; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	// Luhn: from the rightmost payload digit leftwards, double every
	// other digit starting with the rightmost. Payload = "80840" + s[:9].
	const prefix = "80840"
	sum := 0
	double := true
	for i := 8; i >= -len(prefix); i-- {
		var d int
		if i >= 0 {
			d = int(s[i] - '0')
		} else {
			d = int(prefix[len(prefix)+i] - '0')
		}
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	check := (10 - sum%10) % 10
	return int(s[9]-'0') == check
}
