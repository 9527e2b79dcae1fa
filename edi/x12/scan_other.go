//go:build !amd64

package x12

func scanSegment(b []byte, sep, term byte, ends *[maxScanEnds]int32) (end, n int) {
	return scanSegmentGo(b, sep, term, ends)
}
