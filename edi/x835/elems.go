package x835

import (
	"encoding/binary"
	"math/bits"

	"github.com/claimgate/claimgate/edi/x12"
)

// maxElems is the most elements elems keeps; the widest 835 segments
// (MIA, TS3) have 24 and the parser never asks for more. Elements past it
// read as empty here (x12.SegSpec, used with Validate, still sees them).
const maxElems = 40

// elems is the current segment split into elements once, giving the same
// answers as x12.Segment.Element and Len (up to maxElems) with less work
// per call: the parser looks at nearly every element of every segment.
type elems struct {
	raw []byte
	n   int // elements after the id (x12.Segment.Len)
	max int // min(n, maxElems): the elements at answers for
	// ends[i] is the index in raw just past element i (0 is the id); the
	// power-of-two size lets at index without bounds checks.
	ends [64]int32
}

const (
	lo7 = 0x7f7f7f7f7f7f7f7f
	b01 = 0x0101010101010101
)

// split locates the element separators of seg eight bytes at a time.
func (e *elems) split(seg *x12.Segment) {
	raw := seg.Raw()
	e.raw = raw
	sep := uint64(seg.Delimiters().Element) * b01
	// A segment from the x12 Reader is a view of its buffer: the last
	// word may be loaded whole from the bytes past the segment (masked
	// off below) when the capacity allows.
	full := raw[:cap(raw)]
	n := 0
	for i := 0; i < len(raw); i += 8 {
		var x uint64
		if i+8 <= len(full) {
			x = binary.LittleEndian.Uint64(full[i:])
		} else {
			for j := len(raw) - 1; j >= i; j-- {
				x = x<<8 | uint64(raw[j])
			}
		}
		x ^= sep
		// the high bit of each byte of x that is zero (a separator),
		// exactly: no borrow from one byte into the next
		m := ^((x&lo7 + lo7) | x | lo7)
		m &= 1<<(8*min(len(raw)-i, 8)) - 1 // within the segment
		for ; m != 0; m &= m - 1 {
			if n <= maxElems { // ends[maxElems] ends the last element kept
				e.ends[n] = int32(i + bits.TrailingZeros64(m)>>3)
			}
			n++
		}
	}
	if n <= maxElems {
		e.ends[n] = int32(len(raw))
	}
	e.n, e.max = n, min(n, maxElems)
}

// at returns element i (1-based), or nil when the segment has fewer.
func (e *elems) at(i int) []byte {
	if uint(i-1) >= uint(e.max) {
		return nil
	}
	return e.raw[e.ends[(i-1)&63]+1 : e.ends[i&63]]
}
