package x835

import "strings"

// Memory for claims. The default Reader hands out claims the caller may
// keep, so their parts must never be reused; allocating each claim, line
// list, adjustment list and string on its own would cost a dozen
// allocations per claim. Instead the parts are carved out of chunks of a
// few kilobytes shared by consecutive claims: an arena per element type
// for the repeated parts, a pool per type for the parts reached through a
// pointer, and a text chunk for the strings. A chunk is only ever
// appended to, and every slice handed out is capped at its length, so
// nothing a caller holds is overwritten and appending to it copies. The
// cost is that a claim kept after reading keeps its chunks alive (a few
// tens of kilobytes at most).
//
// With recycling (validation, Reader.ReuseClaims) the same chunks are
// emptied and refilled for every claim instead.

// Chunk sizes, in items: 2-9 KB each, enough for ten to twenty typical
// claims. Larger chunks would save few allocations and keep more memory
// alive for a caller who holds on to a claim or two.
const (
	claimChunk = 16  // 8.8 KB
	lineChunk  = 32  // 9 KB
	itemChunk  = 128 // 2-8 KB
	entChunk   = 32  // 3.5 KB
	rareChunk  = 16
)

type arena[T any] struct {
	buf   []T
	start int  // the current claim's first item in buf
	chunk int  // items in a new chunk
	dirty bool // buf beyond its length may hold old items (recycling)
}

// reset starts a claim: after the previous claim's items, or at the
// start of the same chunk when recycling.
func (a *arena[T]) reset(recycle bool) {
	if recycle {
		a.buf = a.buf[:0]
		a.dirty = true
	}
	a.start = len(a.buf)
}

func (a *arena[T]) add(v T) {
	if len(a.buf) == cap(a.buf) {
		a.grow()
	}
	a.buf = append(a.buf, v)
}

// push adds a zero item and returns it to be filled in place, which
// saves building the item and copying it.
func (a *arena[T]) push() *T {
	if len(a.buf) == cap(a.buf) {
		a.grow()
	}
	n := len(a.buf)
	a.buf = a.buf[:n+1]
	v := &a.buf[n]
	if a.dirty {
		var zero T
		*v = zero
	}
	return v
}

// grow moves the current claim's items to a new chunk. Parts already
// handed out keep pointing at the old chunk, whose contents are final,
// so nothing is ever copied back.
func (a *arena[T]) grow() {
	cur := a.buf[a.start:]
	nb := make([]T, len(cur), max(a.chunk, 2*len(cur)))
	copy(nb, cur)
	a.buf, a.start = nb, 0
}

// mark is the number of items the current claim has so far.
func (a *arena[T]) mark() int { return len(a.buf) - a.start }

// since returns the current claim's items from mark on, capped so that
// appending to the result cannot overwrite what follows; nil when there
// are none.
func (a *arena[T]) since(mark int) []T {
	n := len(a.buf)
	if n == a.start+mark {
		return nil
	}
	return a.buf[a.start+mark : n : n]
}

// last is the most recently added item.
func (a *arena[T]) last() *T { return &a.buf[len(a.buf)-1] }

// pool hands out single values (a claim, an extra NM1 entity, MIA/MOA,
// SVC06) from chunks.
type pool[T any] struct {
	buf   []T
	chunk int
	dirty bool // buf beyond its length may hold old values (recycling)
}

// reset starts a claim; when recycling the chunk is refilled from the
// start.
func (p *pool[T]) reset(recycle bool) {
	if recycle {
		p.buf = p.buf[:0]
		p.dirty = true
	}
}

// get returns a zeroed value.
func (p *pool[T]) get() *T {
	n := len(p.buf)
	if n == cap(p.buf) {
		p.buf, n = make([]T, 0, p.chunk), 0
	}
	p.buf = p.buf[:n+1]
	v := &p.buf[n]
	if p.dirty {
		var zero T
		*v = zero
	}
	return v
}

// textChunk makes the strings of claims (names, identifiers, reference
// values) as substrings of a shared block: a strings.Builder only ever
// appends, so the strings it has returned never change, and one
// allocation serves a few dozen claims.
type textChunk struct {
	b strings.Builder
}

const (
	textChunkSize = 8 << 10
	textOwn       = 512 // longer values get their own string
)

func (t *textChunk) str(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	if len(v) > textOwn {
		return string(v)
	}
	if t.b.Cap()-t.b.Len() < len(v) {
		t.b.Reset()
		t.b.Grow(textChunkSize)
	}
	off := t.b.Len()
	t.b.Write(v)
	return t.b.String()[off:]
}

// arenas are the memory of a claim: arenas for its repeated parts (and
// where the open part, the claim's own items or the current line's, began
// in each), pools for its pointed-to parts.
type arenas struct {
	adj  arena[Adjustment]
	ref  arena[Reference]
	amt  arena[SupplementalAmount]
	qty  arena[SupplementalQuantity]
	rem  arena[Remark]
	strs arena[string] // procedure modifiers, MIA/MOA remark codes
	con  arena[Contact]
	num  arena[ContactNumber]
	line arena[ServiceLine]

	claims pool[ClaimPayment]
	ents   pool[Entity]
	mia    pool[InpatientAdjudication]
	moa    pool[OutpatientAdjudication]
	procs  pool[Procedure]

	adj0, ref0, amt0, qty0, rem0 int
}

func newArenas() arenas {
	var a arenas
	a.adj.chunk, a.ref.chunk, a.amt.chunk, a.qty.chunk, a.rem.chunk, a.strs.chunk = itemChunk, itemChunk, itemChunk, itemChunk, itemChunk, itemChunk
	a.con.chunk, a.num.chunk = entChunk, entChunk
	a.line.chunk = lineChunk
	a.claims.chunk = claimChunk
	a.ents.chunk = entChunk
	a.mia.chunk, a.moa.chunk, a.procs.chunk = rareChunk, rareChunk, rareChunk
	return a
}

func (a *arenas) reset(recycle bool) {
	a.adj.reset(recycle)
	a.ref.reset(recycle)
	a.amt.reset(recycle)
	a.qty.reset(recycle)
	a.rem.reset(recycle)
	a.strs.reset(recycle)
	a.con.reset(recycle)
	a.num.reset(recycle)
	a.line.reset(recycle)
	a.ents.reset(recycle)
	a.mia.reset(recycle)
	a.moa.reset(recycle)
	a.procs.reset(recycle)
	a.open()
}

// open starts a new part (the claim's own, or a line's).
func (a *arenas) open() {
	a.adj0, a.ref0, a.amt0, a.qty0, a.rem0 = a.adj.mark(), a.ref.mark(), a.amt.mark(), a.qty.mark(), a.rem.mark()
}

// closeClaimPart gives the claim its own items (those before the first
// line). Contacts only come there.
func (a *arenas) closeClaimPart(c *ClaimPayment) {
	c.Contacts = a.con.since(0)
	c.Adjustments = a.adj.since(a.adj0)
	c.References = a.ref.since(a.ref0)
	c.Amounts = a.amt.since(a.amt0)
	c.Quantities = a.qty.since(a.qty0)
}

// closeLinePart gives line l the items read since it began.
func (a *arenas) closeLinePart(l *ServiceLine) {
	l.Adjustments = a.adj.since(a.adj0)
	l.References = a.ref.since(a.ref0)
	l.Amounts = a.amt.since(a.amt0)
	l.Quantities = a.qty.since(a.qty0)
	l.Remarks = a.rem.since(a.rem0)
}
