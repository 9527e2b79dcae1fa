package x837p

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
)

// Version is the implementation guide this package validates against.
const Version = "005010X222A1"

// ValidateMaxFindings is how many findings one transaction set reports
// before the checker stops reporting (and says so), so that a garbage
// file cannot grow the finding list without bound.
const ValidateMaxFindings = 10000

// ValidateOptions configure the 837P checker. The zero value is ready to use.
type ValidateOptions struct {
	// Now is the clock for "date in the future" checks; nil means
	// time.Now. Dates are compared as calendar days in Now's location.
	Now func() time.Time
	// MaxFindings caps the findings per transaction set; 0 means
	// ValidateMaxFindings.
	MaxFindings int
}

// Is837P reports whether a transaction set is an 837P this package knows:
// ST01 837 and a 005010X222 version.
func Is837P(h x12.SetHeader) bool {
	return h.ID == "837" && strings.HasPrefix(h.Version, "005010X222")
}

// NewChecker returns a checker validating one 837P transaction set
// against the 005010X222A1 TR3 and the claim edits described in
// docs/837p-validation.md. It keeps state for the current claim only, so
// memory stays bounded however large the set.
func NewChecker(h x12.SetHeader) x12.SetChecker { return ValidateOptions{}.NewChecker(h) }

// NewChecker is NewChecker with these options.
func (o ValidateOptions) NewChecker(h x12.SetHeader) x12.SetChecker {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	t := now()
	c := &vdChecker{today: t.Year()*10000 + int(t.Month())*100 + t.Day(), max: o.MaxFindings}
	if c.max <= 0 {
		c.max = ValidateMaxFindings
	}
	c.emitFn = c.emit // bound once: a method value made per call would allocate
	return c
}

// Validate checks a whole file: envelopes (x12.Check) and every 837P
// transaction set in it. Sets that are not 837P are reported. The error
// is only for failure to read r.
func Validate(r io.Reader, name string) (x12.Findings, error) {
	return ValidateOptions{}.Validate(r, name)
}

// Validate is Validate with these options.
func (o ValidateOptions) Validate(r io.Reader, name string) (x12.Findings, error) {
	_, fs, err := x12.Check(r, x12.CheckOptions{Name: name, Sets: func(h x12.SetHeader) x12.SetChecker {
		if !Is837P(h) {
			return vdWrongSet{h}
		}
		return o.NewChecker(h)
	}})
	return fs, err
}

// vdWrongSet reports a transaction set that is not an 837.
type vdWrongSet struct{ h x12.SetHeader }

func (w vdWrongSet) Segment(seg *x12.Segment, report func(x12.Finding)) {
	if seg.Is("ST") {
		report(x12.At(seg, x12.Error, "837p.set-type", 1, 0, "transaction set %s version %s is not an 837P (005010X222) professional claim", w.h.ID, w.h.Version))
	}
}

func (w vdWrongSet) End(*x12.Segment, func(x12.Finding)) {}

// vdPos locates a segment after the Reader has moved on.
type vdPos struct {
	off         int64
	num, setPos int
	id          string
}

func vdPosOf(seg *x12.Segment) vdPos {
	return vdPos{off: seg.Offset, num: seg.Num, setPos: seg.SetPos, id: seg.ID()}
}

// vdFrame is one open loop instance.
type vdFrame struct {
	def    *vdLoop
	idx    int // item last matched (a segment, or the open child loop)
	counts [vdMaxItems]uint16
	start  vdPos
}

const vdMaxDepth = 8 // root, 2000A, 2000B, 2000C, 2300, 2400, 24xx

// vdID holds a short identifier (an HL01) without allocating.
type vdID struct {
	b [24]byte
	n int
}

func (b *vdID) set(v []byte) { b.n = copy(b.b[:], v) }
func (b *vdID) is(v []byte) bool {
	return b.n > 0 && len(v) == b.n && bytes.Equal(b.b[:b.n], v)
}
func (b *vdID) String() string { return string(b.b[:b.n]) }

// vdClaim is what the claim edits need of the current 2300 loop.
type vdClaim struct {
	clm      vdPos
	total    int64 // CLM02 in ten-thousandths
	totalOK  bool
	sum      int64 // sum of SV102
	sumOK    bool
	freq     byte // CLM05-3, 0 when unknown
	hasF8    bool
	accident bool // CLM11 has AA
	dtp439   bool
	dx       [13]bool // dx[k]: HI element k holds a diagnosis
	lines    int
	birth    int  // birth date of the claim's patient, 0 unknown
	icd9     bool // HI used BK/BF
	icd10    bool // HI used ABK/ABF
	minDOS   int
	maxDOS   int
	dxCodes  [12][8]byte
	dxLens   [12]uint8
	ndxCodes int
}

type vdChecker struct {
	today  int // CCYYMMDD
	report func(x12.Finding)
	max    int
	nfind  int
	emitFn func(x12.Finding)

	stack [vdMaxDepth]vdFrame
	depth int

	// Hierarchy.
	hlSeq       int // last HL01, -1 after a non-numeric one
	hlA, hlB    vdID
	prevHL      vdID
	prevHLChild byte
	prevHLPos   vdPos
	prevHLLoop  string

	// Subscriber / patient.
	sbrSelf  bool
	sbrSeen  bool
	has2000C bool
	subBirth int
	patBirth int

	claim vdClaim
}

// emit reports a finding, stopping at the cap.
func (c *vdChecker) emit(f x12.Finding) {
	c.nfind++
	if c.nfind > c.max {
		if c.nfind == c.max+1 {
			f.Severity = x12.Warning
			f.Rule = "837p.too-many-findings"
			f.Element, f.Component = 0, 0
			f.Message = fmt.Sprintf("more than %d findings in this transaction set: further findings are not reported", c.max)
			c.report(f)
		}
		return
	}
	c.report(f)
}

func (c *vdChecker) at(seg *x12.Segment, loop, rule string, elem, spComp int, format string, args ...any) {
	f := x12.At(seg, x12.Error, rule, elem, spComp, format, args...)
	f.Loop = loop
	c.emit(f)
}

func (c *vdChecker) warn(seg *x12.Segment, loop, rule string, elem, spComp int, format string, args ...any) {
	f := x12.At(seg, x12.Warning, rule, elem, spComp, format, args...)
	f.Loop = loop
	c.emit(f)
}

func (c *vdChecker) atPos(p vdPos, loop, rule string, elem, spComp int, format string, args ...any) {
	c.emit(x12.Finding{Severity: x12.Error, Rule: rule, Offset: p.off, Segment: p.num, SegmentID: p.id,
		SetPosition: p.setPos, Loop: loop, Element: elem, Component: spComp, Message: fmt.Sprintf(format, args...)})
}

func (c *vdChecker) top() *vdFrame { return &c.stack[c.depth-1] }

// Segment implements x12.SetChecker.
func (c *vdChecker) Segment(seg *x12.Segment, report func(x12.Finding)) {
	c.report = report
	if c.depth == 0 {
		c.openRoot(seg)
		if seg.Is("ST") {
			c.checkSeg(vdLoopRoot.items[0].seg, seg, "")
			return
		}
	}
	key := vdKey(seg.ID())
	lvl, i, back := c.find(seg, key)
	if lvl < 0 {
		c.unknown(seg, key)
		return
	}
	for c.depth-1 > lvl {
		c.closeTop()
	}
	f := c.top()
	it := &f.def.items[i]
	if back {
		c.at(seg, f.def.id, "837p.segment-order", 0, 0, "%s is out of order in loop %s (%s): the guide puts it before the segments or loops already seen",
			seg.ID(), vdLoopName(f.def), f.def.name)
	}
	if f.counts[i] < 0xFFFF {
		f.counts[i]++
	}
	f.idx = i
	if it.loop != nil {
		if it.max > 0 && int(f.counts[i]) > it.max {
			c.at(seg, it.loop.id, "837p.loop-repeat", 0, 0, "loop %s (%s) repeats %d times in loop %s, at most %d allowed",
				it.loop.id, it.loop.name, f.counts[i], vdLoopName(f.def), it.max)
		}
		c.push(it.loop, seg)
		d := it.loop.items[0].seg
		c.checkSeg(d, seg, it.loop.id)
		c.hook(d.hook, key, seg, it.loop.id)
		return
	}
	if it.max > 0 && int(f.counts[i]) > it.max {
		c.at(seg, f.def.id, "837p.segment-repeat", 0, 0, "%s (%s) appears %d times in loop %s, at most %d allowed",
			seg.ID(), it.seg.spec.Name, f.counts[i], vdLoopName(f.def), it.max)
	}
	c.checkSeg(it.seg, seg, f.def.id)
	c.hook(it.seg.hook, key, seg, f.def.id)
}

func vdLoopName(l *vdLoop) string {
	if l.id == "" {
		return "header"
	}
	return l.id
}

// End implements x12.SetChecker.
func (c *vdChecker) End(se *x12.Segment, report func(x12.Finding)) {
	c.report = report
	for c.depth > 0 {
		c.closeTop()
	}
	if c.prevHLChild == '1' {
		c.atPos(c.prevHLPos, c.prevHLLoop, "837p.hl-child", 4, 0, "HL %s says it has child levels (HL04=1) but no HL names it as parent", c.prevHL.String())
	}
}

func (c *vdChecker) openRoot(seg *x12.Segment) {
	c.depth = 1
	f := &c.stack[0]
	*f = vdFrame{def: vdLoopRoot, start: vdPosOf(seg)}
	f.counts[0] = 1
	c.hlSeq = 0
}

// find locates the guide position of seg: first forward from where each
// open loop stands (innermost first), then backward (out of order). It
// returns the stack level and item index, or -1.
func (c *vdChecker) find(seg *x12.Segment, key uint32) (lvl, idx int, back bool) {
	n := vdIDs.num(key)
	if n == 0 {
		return -1, 0, false // an id the guide never uses
	}
	var q qualCache
	for l := c.depth - 1; l >= 0; l-- {
		f := &c.stack[l]
		start := int16(f.def.items[f.idx].group)
		for _, i := range f.def.cand[n] {
			if i >= start && q.ok(f.def.items[i].head, seg) {
				return l, int(i), false
			}
		}
	}
	for l := c.depth - 1; l >= 0; l-- {
		f := &c.stack[l]
		start := int16(f.def.items[f.idx].group)
		for _, i := range f.def.cand[n] {
			if i >= start {
				break
			}
			if q.ok(f.def.items[i].head, seg) {
				return l, int(i), true
			}
		}
	}
	return -1, 0, false
}

// qualCache remembers the last qualifier value looked up, since the
// variants of one segment id nearly always share their qualifier element.
type qualCache struct {
	elem, comp int
	v          []byte
}

func (q *qualCache) ok(d *vdSegDef, seg *x12.Segment) bool {
	if d.qual > 0 {
		if q.elem != d.qual || q.comp != d.qcomp {
			q.elem, q.comp, q.v = d.qual, d.qcomp, vdQual(d, seg)
		}
		if !vdIn(q.v, d.codes) {
			return false
		}
	}
	return d.qual2 == 0 || vdIn(seg.Element(d.qual2), d.codes2)
}

// vdQual returns the qualifier value d looks at. It scans the raw bytes
// rather than asking seg.Element, so that segments needing nothing else
// are never split into elements.
func vdQual(d *vdSegDef, seg *x12.Segment) []byte {
	dl := seg.Delimiters()
	v := vdPart(seg.Raw(), dl.Element, d.qual)
	if d.qcomp > 0 {
		v = vdPart(v, dl.Component, d.qcomp-1)
	}
	return v
}

// vdPart returns the part of b after the n-th sep (part 0 is the start),
// up to the next sep; nil when b has fewer parts.
func vdPart(b []byte, sep byte, n int) []byte {
	i := 0
	for ; n > 0; n-- {
		for i < len(b) && b[i] != sep {
			i++
		}
		if i == len(b) {
			return nil
		}
		i++
	}
	j := i
	for j < len(b) && b[j] != sep {
		j++
	}
	return b[i:j]
}

// unknown reports a segment that fits nowhere open. When an open loop
// uses the segment id with other qualifiers, the qualifier is the problem.
func (c *vdChecker) unknown(seg *x12.Segment, key uint32) {
	for l := c.depth - 1; l >= 0; l-- {
		f := &c.stack[l]
		var d *vdSegDef
		var codes []string
		for i := 1; i < len(f.def.items); i++ {
			fd := f.def.items[i].head
			if fd.key == key && fd.qual > 0 {
				if d == nil {
					d = fd
				}
				codes = append(codes, fd.codes...)
			}
		}
		if d != nil {
			v := vdQual(d, seg)
			if vdIn(v, codes) && d.qual2 > 0 {
				c.at(seg, f.def.id, "tr3.code", d.qual2, 0, "%s%02d %q does not fit %s %q in loop %s", seg.ID(), d.qual2, vdClip(seg.Element(d.qual2)), seg.ID(), v, vdLoopName(f.def))
				return
			}
			if vdMisplaced(d, v) {
				c.atPHI(seg, f.def.id, "tr3.code", d.qual, string(v), "%s qualifier %s is not used in loop %s (%s) at this point: expected one of %s",
					seg.ID(), x12.Withheld, vdLoopName(f.def), f.def.name, strings.Join(vdDedupe(codes), ", "))
				return
			}
			c.at(seg, f.def.id, "tr3.code", d.qual, d.qcomp, "%s qualifier %q is not used in loop %s (%s) at this point: expected one of %s",
				seg.ID(), vdClip(v), vdLoopName(f.def), f.def.name, strings.Join(vdDedupe(codes), ", "))
			return
		}
	}
	where := "the header"
	if c.depth > 0 {
		where = "loop " + vdLoopName(c.top().def) + " (" + c.top().def.name + ")"
	}
	c.at(seg, c.top().def.id, "837p.unexpected-segment", 0, 0, "%s segment is not expected in %s or the loops around it", seg.ID(), where)
}

func vdDedupe(s []string) []string {
	out := s[:0:0]
	seen := map[string]bool{}
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func vdClip(b []byte) string {
	if len(b) > 30 {
		return string(b[:30]) + "..."
	}
	return string(b)
}

// checkSeg runs the element rules; the fast pre-check keeps clean
// segments allocation-free.
func (c *vdChecker) checkSeg(d *vdSegDef, seg *x12.Segment, loop string) {
	if vdClean(&d.fast, seg) {
		return
	}
	d.spec.Check(seg, loop, c.emitFn)
}

func (c *vdChecker) push(l *vdLoop, seg *x12.Segment) {
	if c.depth == vdMaxDepth {
		c.closeTop() // cannot happen with the guide's tree; stay safe
	}
	f := &c.stack[c.depth]
	f.def = l
	f.idx = 0
	clear(f.counts[:len(l.items)])
	f.counts[0] = 1
	f.start = vdPosOf(seg)
	c.depth++
	c.open(l)
}

// open resets per-loop state when a loop starts.
func (c *vdChecker) open(l *vdLoop) {
	switch l.kind {
	case vdKind2000B:
		c.sbrSelf, c.sbrSeen, c.has2000C, c.subBirth, c.patBirth = false, false, false, 0, 0
	case vdKind2000C:
		c.has2000C = true
		c.patBirth = 0
	case vdKind2300:
		c.claim = vdClaim{birth: c.subBirth}
		if c.depth >= 2 && c.stack[c.depth-2].def.kind == vdKind2000C {
			c.claim.birth = c.patBirth
		}
	}
}

// closeTop ends the innermost loop: required segments and loops, then the
// loop's own situational rules and claim edits.
func (c *vdChecker) closeTop() {
	f := c.top()
	for _, i := range f.def.required {
		it := &f.def.items[i]
		if f.counts[i] > 0 {
			continue
		}
		if it.loop != nil {
			c.atPos(f.start, it.loop.id, "837p.missing-loop", 0, 0, "loop %s (%s) is required in loop %s (%s) but missing",
				it.loop.id, it.loop.name, vdLoopName(f.def), f.def.name)
		} else {
			c.atPos(f.start, f.def.id, "837p.missing-segment", 0, 0, "segment %s (%s) is required in loop %s (%s) but missing",
				it.seg.spec.ID, it.seg.spec.Name, vdLoopName(f.def), f.def.name)
		}
	}
	switch f.def.kind {
	case vdKind2010BA:
		if c.sbrSelf {
			if f.counts[vdIdx2010BADMG] == 0 {
				c.atPos(f.start, f.def.id, "837p.missing-segment", 0, 0, "subscriber demographic DMG is required in loop 2010BA when the subscriber is the patient (SBR02=18)")
			}
			if f.counts[vdIdx2010BAN3] == 0 || f.counts[vdIdx2010BAN4] == 0 {
				c.atPos(f.start, f.def.id, "837p.missing-segment", 0, 0, "subscriber address N3 and N4 are required in loop 2010BA when the subscriber is the patient (SBR02=18)")
			}
		}
	case vdKind2000B:
		if c.sbrSeen && !c.sbrSelf && !c.has2000C {
			c.atPos(f.start, "2000C", "837p.missing-loop", 0, 0, "patient loop 2000C is required: SBR02 is not 18, so the patient is not the subscriber")
		}
		if c.sbrSelf && !c.has2000C && f.counts[vdIdx2000B2300] == 0 {
			c.atPos(f.start, "2300", "837p.missing-loop", 0, 0, "claim loop 2300 is required under the subscriber when the subscriber is the patient (SBR02=18)")
		}
	case vdKind2300:
		c.closeClaim()
	}
	c.depth--
}

// vdIdx2000B2300 is the place of the claim loop among 2000B's items.
var vdIdx2000B2300 = func() int {
	for i := range vdLoop2000B.items {
		if vdLoop2000B.items[i].loop == vdLoop2300 {
			return i
		}
	}
	panic("x837p: 2300 missing from 2000B") // table bug, caught at init
}()

// closeClaim runs the claim edits that need the whole 2300 loop.
func (c *vdChecker) closeClaim() {
	cl := &c.claim
	if cl.totalOK && cl.sumOK && cl.lines > 0 && cl.total != cl.sum {
		c.atPos(cl.clm, "2300", "837p.clm-total", 2, 0, "CLM02 total claim charge %s is not the sum of the service line charges SV102 (%s)",
			vdFmtAmount(cl.total), vdFmtAmount(cl.sum))
	}
	if (cl.freq == '7' || cl.freq == '8') && !cl.hasF8 {
		c.atPos(cl.clm, "2300", "837p.ref-f8", 5, 3, "claim frequency %c (replacement/void) requires REF*F8 with the payer claim control number", cl.freq)
	}
	if cl.icd9 && cl.maxDOS >= vdICD10Start {
		c.atPos(cl.clm, "2300", "837p.dx-code", 0, 0, "the claim's HI uses ICD-9-CM qualifiers (BK/BF) but has services on or after 2015-10-01, which need ICD-10-CM (ABK/ABF)")
	}
	if cl.icd10 && cl.minDOS > 0 && cl.minDOS < vdICD10Start {
		c.atPos(cl.clm, "2300", "837p.dx-code", 0, 0, "the claim's HI uses ICD-10-CM qualifiers (ABK/ABF) but has services before 2015-10-01, which need ICD-9-CM (BK/BF)")
	}
	if cl.accident && !cl.dtp439 {
		c.atPos(cl.clm, "2300", "837p.missing-segment", 11, 0, "DTP*439 accident date is required when CLM11 related causes include AA (auto accident)")
	}
}
