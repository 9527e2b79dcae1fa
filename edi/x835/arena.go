package x835

// A claim's repeated parts (adjustments, references, amounts, quantities,
// remarks, modifiers) of the claim and all its lines share one arena per
// element type: items are appended as they are read, and when a line (or
// the claim's own part, which comes before the first line) is complete it
// gets its slice of the arena. Growing the arena leaves earlier slices on
// the old array, whose contents are final, so nothing is ever copied back.
// A new claim starts new arenas sized from the previous claim, so the
// claims handed out share nothing; with recycling (validation, or
// Reader.ReuseClaims) the arenas are reused instead.

type arena[T any] struct {
	buf  []T
	last int // size the previous claim needed, to size the next arena
}

// reset starts a claim: a fresh arena, or the same one emptied.
func (a *arena[T]) reset(recycle bool) {
	a.last = max(a.last/2, len(a.buf)) // remember big claims a while
	if recycle {
		a.buf = a.buf[:0]
		return
	}
	a.buf = nil
}

func (a *arena[T]) add(v T) {
	if a.buf == nil {
		a.buf = make([]T, 0, max(a.last, 4))
	}
	a.buf = append(a.buf, v)
}

// since returns the items added after mark, capped so that appending to
// the result cannot overwrite what follows; nil when there are none.
func (a *arena[T]) since(mark int) []T {
	n := len(a.buf)
	if n == mark {
		return nil
	}
	return a.buf[mark:n:n]
}

func (a *arena[T]) mark() int { return len(a.buf) }

// arenas are a claim's arenas and where the open part (the claim's own
// items, or the current line's) began in each.
type arenas struct {
	adj  arena[Adjustment]
	ref  arena[Reference]
	amt  arena[SupplementalAmount]
	qty  arena[SupplementalQuantity]
	rem  arena[Remark]
	mod  arena[string]
	line arena[ServiceLine]

	adj0, ref0, amt0, qty0, rem0 int
}

func (a *arenas) reset(recycle bool) {
	a.adj.reset(recycle)
	a.ref.reset(recycle)
	a.amt.reset(recycle)
	a.qty.reset(recycle)
	a.rem.reset(recycle)
	a.mod.reset(recycle)
	// Lines are big (~280 bytes) and their number varies: they are
	// gathered in a reused buffer and copied out at the exact size, which
	// costs less than over-allocating an arena for them.
	a.line.reset(true)
	a.open()
}

// open starts a new part (the claim's own, or a line's).
func (a *arenas) open() {
	a.adj0, a.ref0, a.amt0, a.qty0, a.rem0 = a.adj.mark(), a.ref.mark(), a.amt.mark(), a.qty.mark(), a.rem.mark()
}

// closeClaimPart gives the claim its own items (those before the first
// line).
func (a *arenas) closeClaimPart(c *ClaimPayment) {
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
