package x12

// maxScanEnds is how many element separators scanSegment records; a
// segment with more is split later, on demand.
const maxScanEnds = 63

// scanSegmentGo is scanSegment in plain Go: the reference the assembly
// versions are tested against, and the implementation elsewhere.
//
// It looks through b for the terminator term, recording in ends the
// index of each element separator sep before it (up to len(ends)), and
// returns the terminator's index (-1 when b has none) and the number of
// separators before it (or in all of b), which may exceed len(ends).
func scanSegmentGo(b []byte, sep, term byte, ends *[maxScanEnds]int32) (end, n int) {
	for i, c := range b {
		switch c {
		case term:
			return i, n
		case sep:
			if n < len(ends) {
				ends[n] = int32(i)
			}
			n++
		}
	}
	return -1, n
}
