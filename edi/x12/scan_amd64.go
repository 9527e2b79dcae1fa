package x12

// scanSegment is scanSegmentGo sixteen bytes at a time (SSE2, which
// every amd64 processor has). It may read past len(b) up to cap(b), so b
// must not be shorter than the memory behind it says.
//
//go:noescape
func scanSegment(b []byte, sep, term byte, ends *[maxScanEnds]int32) (end, n int)
