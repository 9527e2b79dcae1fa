package x12

import "unsafe"

// StableString returns b as a string without copying it. b must be bytes
// of a segment from a Reader with KeepBuffers: the Reader never changes
// them, so the string stays valid, and keeps its buffer alive, for as long
// as it is referenced. Typed readers use it for
// the names, identifiers and codes they return: no copy, no allocation.
func StableString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
