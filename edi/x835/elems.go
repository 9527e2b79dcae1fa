package x835

import (
	"github.com/claimgate/claimgate/edi/x12"
)

// maxElems is how many elements elems answers for; the widest 835
// segments (MIA, TS3) have 24 and the parser never asks for more. Elements
// past it read as empty here (x12.SegSpec, used with Validate, still sees
// them).
const maxElems = 40

// elems is the current segment split into elements once, giving the same
// answers as x12.Segment.Element and Len (up to maxElems) with less work
// per call: the parser looks at nearly every element of every segment.
type elems struct {
	raw []byte
	n   int // elements after the id (x12.Segment.Len)
	max int // min(n, maxElems): the elements at answers for
	// ends[i] is the index in raw just past element i (0 is the id): the
	// segment's own ElementEnds when they have room for 64 (those of an
	// x12 Reader do), else a copy in own. The fixed size lets at index
	// without bounds checks.
	ends *[64]int32
	own  [64]int32
}

// split takes the element ends of seg (which the x12 Reader found while
// reading it, with SplitElements). They are used in place, valid until
// the Reader moves on, like the segment.
func (e *elems) split(seg *x12.Segment) {
	ends := seg.ElementEnds()
	e.raw = seg.Raw()
	n := len(ends) - 1
	e.n, e.max = n, min(n, maxElems)
	if cap(ends) >= len(e.own) {
		e.ends = (*[64]int32)(ends[:len(e.own)])
		return
	}
	copy(e.own[:], ends)
	e.ends = &e.own
}

// at returns element i (1-based), or nil when the segment has fewer.
func (e *elems) at(i int) []byte {
	if uint(i-1) >= uint(e.max) {
		return nil
	}
	return e.raw[e.ends[(i-1)&63]+1 : e.ends[i&63]]
}
