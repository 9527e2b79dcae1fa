package x277ca

import (
	"fmt"
	"io"
	"strconv"

	"github.com/claimgate/claimgate/edi/x12"
)

// Loops of the 277CA, as the checker tracks them.
const (
	lNone = iota
	l2000A
	l2200A
	l2000B
	l2200B
	l2000C
	l2200C
	l2000D
	l2200D
	l2220D
	lSkip // an HL of an unknown level: its segments are not checked
)

var loopNames = [...]string{lNone: "header", l2000A: "2000A", l2200A: "2200A", l2000B: "2000B", l2200B: "2200B",
	l2000C: "2000C", l2200C: "2200C", l2000D: "2000D", l2200D: "2200D", l2220D: "2220D", lSkip: ""}

// Segments seen once per loop, as bits.
const (
	bNM1 = 1 << iota
	bTRN
	bDTP050
	bDTP009
	bDTP472
	bQTYAccepted
	bQTYRejected
	bAMTAccepted
	bAMTRejected
	bREF // first REF of a qualifier: shifted by refBit
)

// Element rules. NM1, TRN, STC, QTY, REF, DTP differ by loop.
var (
	specST  = x12.SegSpec{ID: "ST", Elems: []x12.Elem{x12.Req(x12.ID, 3, 3, "277"), x12.Req(x12.AN, 4, 9), x12.Req(x12.AN, 1, 35, Version)}}
	specSE  = x12.SegSpec{ID: "SE", Elems: []x12.Elem{x12.Req(x12.N0, 1, 10), x12.Req(x12.AN, 4, 9)}}
	specBHT = x12.SegSpec{ID: "BHT", Name: "Beginning of Hierarchical Transaction", Elems: []x12.Elem{
		x12.Req(x12.ID, 4, 4, "0085"), x12.Req(x12.ID, 2, 2, "08"), x12.Req(x12.AN, 1, 50),
		x12.Req(x12.DT, 8, 8), x12.Req(x12.TM, 4, 8), x12.Req(x12.ID, 2, 2, "TH"),
	}}

	specHL = [...]x12.SegSpec{
		1: hlSpec(x12.NU, "20", x12.Req(x12.ID, 1, 1, "1")),
		2: hlSpec(x12.Req(x12.AN, 1, 12), "21", x12.Req(x12.ID, 1, 1, "0", "1")),
		3: hlSpec(x12.Req(x12.AN, 1, 12), "19", x12.Req(x12.ID, 1, 1, "0", "1")),
		4: hlSpec(x12.Req(x12.AN, 1, 12), "PT", x12.Sit(x12.ID, 1, 1, "0", "1")),
	}

	specNM1 = [...]x12.SegSpec{
		1: nm1Spec([]string{"PR", "AY"}, []string{"2"}, x12.NU, x12.NU, x12.NU, x12.NU, "46", "FI", "PI", "XV"),
		2: nm1Spec([]string{"41"}, []string{"1", "2"}, x12.Sit(x12.AN, 1, 35), x12.Sit(x12.AN, 1, 25), x12.NU, x12.NU, "46"),
		3: nm1Spec([]string{"85"}, []string{"1", "2"}, x12.Sit(x12.AN, 1, 35), x12.Sit(x12.AN, 1, 25), x12.Sit(x12.AN, 1, 10), x12.Sit(x12.AN, 1, 10), "FI", "SV", "XX"),
		4: nm1Spec([]string{"QC"}, []string{"1"}, x12.Sit(x12.AN, 1, 35), x12.Sit(x12.AN, 1, 25), x12.Sit(x12.AN, 1, 10), x12.Sit(x12.AN, 1, 10), "II", "MI"),
	}

	specTRN1 = trnSpec("1") // 2200A, 2200C
	specTRN2 = trnSpec("2") // 2200B, 2200D

	specDTPSource = x12.SegSpec{ID: "DTP", Name: "Information Source Date", Elems: []x12.Elem{
		x12.Req(x12.ID, 3, 3, "050", "009"), x12.Req(x12.ID, 2, 3, "D8"), x12.Req(x12.AN, 1, 35)}}
	specDTPService = x12.SegSpec{ID: "DTP", Name: "Service Date", Elems: []x12.Elem{
		x12.Req(x12.ID, 3, 3, "472"), x12.Req(x12.ID, 2, 3, "D8", "RD8"), x12.Req(x12.AN, 1, 35)}}

	entities2200B = []string{"36", "40", "41", "AY", "PR"}
	entities2200C = []string{"36", "40", "41", "77", "82", "85", "87", "AY", "PR"}
	entities2200D = []string{"03", "1P", "1Z", "40", "41", "71", "72", "73", "77", "82", "85", "87", "DK", "DN", "DQ",
		"FA", "GB", "HK", "IL", "LI", "MSC", "PR", "PRP", "QB", "QC", "QD", "SEP", "TL", "TTP", "TU"}

	specSTCReceiver = stcSpec(entities2200B, x12.Required, x12.Required, false)
	specSTCProvider = stcSpec(entities2200C, x12.Situational, x12.Required, false)
	specSTCClaim    = stcSpec(entities2200D, x12.Required, x12.Required, true)
	specSTCLine     = stcSpec(entities2200D, x12.Required, x12.NotUsed, false)

	specQTYReceiver = qtySpec("90", "AA")
	specQTYProvider = qtySpec("QA", "QC")
	specAMT         = x12.SegSpec{ID: "AMT", Name: "Total Amount", Elems: []x12.Elem{
		x12.Req(x12.ID, 1, 3, "YU", "YY"), x12.Req(x12.R, 1, 18), x12.NU}}

	specREFProvider = refSpec("0B", "1G", "G2", "LU", "SY", "TJ")
	specREFClaim    = refSpec("1K", "D9", "BLT", "EA")
	specREFLine     = refSpec("FJ", "XZ")

	specSVC = x12.SegSpec{ID: "SVC", Name: "Service Line Information", Elems: []x12.Elem{
		{Usage: x12.Required, Comp: []x12.Elem{
			x12.Req(x12.ID, 2, 2, "AD", "ER", "HC", "HP", "IV", "NU", "WK"), x12.Req(x12.AN, 1, 48),
			x12.Sit(x12.AN, 2, 2), x12.Sit(x12.AN, 2, 2), x12.Sit(x12.AN, 2, 2), x12.Sit(x12.AN, 2, 2), x12.NU,
		}},
		x12.Req(x12.R, 1, 18), x12.NU, x12.Sit(x12.AN, 1, 48), x12.NU, x12.NU, x12.Sit(x12.R, 1, 15),
	}}
)

func hlSpec(parent x12.Elem, level string, child x12.Elem) x12.SegSpec {
	return x12.SegSpec{ID: "HL", Name: "Hierarchical Level", Elems: []x12.Elem{
		x12.Req(x12.AN, 1, 12), parent, x12.Req(x12.ID, 1, 2, level), child}}
}

func nm1Spec(codes, types []string, first, middle, prefix, suffix x12.Elem, quals ...string) x12.SegSpec {
	return x12.SegSpec{ID: "NM1", Name: "Name", Elems: []x12.Elem{
		x12.Req(x12.ID, 2, 3, codes...), x12.Req(x12.ID, 1, 1, types...), x12.Req(x12.AN, 1, 60),
		first, middle, prefix, suffix, x12.Req(x12.ID, 1, 2, quals...), x12.Req(x12.AN, 2, 80), x12.NU, x12.NU, x12.NU,
	}}
}

func trnSpec(typ string) x12.SegSpec {
	return x12.SegSpec{ID: "TRN", Name: "Trace", Elems: []x12.Elem{x12.Req(x12.ID, 1, 2, typ), x12.Req(x12.AN, 1, 50), x12.NU, x12.NU}}
}

func statusComposite(u x12.Usage, entities []string) x12.Elem {
	return x12.Elem{Usage: u, Comp: []x12.Elem{
		x12.Req(x12.AN, 1, 30), x12.Req(x12.AN, 1, 30), x12.Sit(x12.ID, 2, 3, entities...), x12.NU}}
}

func stcSpec(entities []string, date, amount x12.Usage, message bool) x12.SegSpec {
	msg := x12.NU
	if message {
		msg = x12.Sit(x12.AN, 1, 264)
	}
	return x12.SegSpec{ID: "STC", Name: "Status Information", Elems: []x12.Elem{
		statusComposite(x12.Required, entities),
		{Usage: date, Type: x12.DT, Min: 8, Max: 8},
		x12.Req(x12.ID, 1, 2, "U", "WQ"),
		{Usage: amount, Type: x12.R, Min: 1, Max: 18},
		x12.NU, x12.NU, x12.NU, x12.NU, x12.NU,
		statusComposite(x12.Situational, nil), statusComposite(x12.Situational, nil),
		msg,
	}}
}

func qtySpec(accepted, rejected string) x12.SegSpec {
	return x12.SegSpec{ID: "QTY", Name: "Total Quantity", Elems: []x12.Elem{
		x12.Req(x12.ID, 2, 2, accepted, rejected), x12.Req(x12.R, 1, 15), x12.NU, x12.NU}}
}

func refSpec(quals ...string) x12.SegSpec {
	return x12.SegSpec{ID: "REF", Name: "Reference", Elems: []x12.Elem{
		x12.Req(x12.ID, 2, 3, quals...), x12.Req(x12.AN, 1, 50), x12.NU, x12.NU}}
}

// loc is where a segment was, for findings reported later.
type loc struct {
	num, setPos int
	off         int64
	id          string
}

func locOf(seg *x12.Segment) loc {
	return loc{num: seg.Num, setPos: seg.SetPos, off: seg.Offset, id: seg.ID()}
}

type hlNode struct {
	id    string
	child string // HL04
	at    loc
}

// Checker validates one 277CA transaction set: the HL hierarchy (levels
// 20 > 21 > 19 > PT in order, parents, HL04 child codes), required and
// repeated segments and their order in each loop, the element rules of
// every segment, status categories and dates. It implements
// x12.SetChecker.
//
// In the 277CA (unlike what pyx12's map demands) the 2200B and 2200C loops
// are situational: a billing provider may come with no TRN/STC, or with a
// TRN and no STC.
//
// Rules (besides the tr3.* element rules of x12.SegSpec; tr3.date is also
// used for DTP03 dates):
//
//	277ca.not-277        the set is not a 277
//	277ca.version        the set is not 005010X214 (e.g. a X212 claim status response): not checked
//	277ca.structure      segment not expected in its loop, or a loop without its first segment
//	277ca.order          segment out of order within its loop
//	277ca.required       required segment or loop missing
//	277ca.repeat         segment repeated beyond its maximum
//	277ca.hl-level       HL03 unknown, or a level skipped (e.g. 19 right under 20)
//	277ca.hl-parent      HL02 is not the id of the enclosing level
//	277ca.hl-child       HL04 disagrees with whether children follow
//	277ca.hl-sequence    HL01 not the previous HL01 + 1 (warning)
//	277ca.stc-category   STC category code not in list 507
//	277ca.stc-status     STC status code not in list 508 (warning)
//	277ca.stc-action     STC03 action disagrees with the category (warning)
//	277ca.date-range     RD8 range ends before it starts
//	277ca.date-implausible a well-formed date before 1800 (warning)
//	277ca.no-claim       a patient loop without any claim (warning)
type Checker struct {
	h    x12.SetHeader
	skip bool
	rep  func(x12.Finding)

	bht     bool
	stack   [5]hlNode // by level 1 (20) .. 4 (PT)
	depth   int       // level of the last HL, 0 before the first
	prevID  int64
	prevNum bool

	loop   int
	loopAt loc // where the current loop began
	phase  int
	seen   uint64
	stcs   int
	claims int // claims in the current patient loop
}

// NewChecker returns the checker for one 277CA transaction set; it fits
// x12.CheckOptions.Sets.
func NewChecker(h x12.SetHeader) x12.SetChecker { return &Checker{h: h} }

func (c *Checker) at(seg *x12.Segment, sev x12.Severity, rule string, elem int, format string, args ...any) {
	f := x12.At(seg, sev, rule, elem, 0, format, args...)
	f.Loop = loopNames[c.loop]
	c.rep(f)
}

func (c *Checker) atLoc(l loc, sev x12.Severity, rule, loop, format string, args ...any) {
	c.rep(x12.Finding{Severity: sev, Rule: rule, Offset: l.off, Segment: l.num, SegmentID: l.id, SetPosition: l.setPos,
		Loop: loop, Message: fmt.Sprintf(format, args...)})
}

func (c *Checker) check(spec *x12.SegSpec, seg *x12.Segment) {
	spec.Check(seg, loopNames[c.loop], c.rep)
}

// Segment checks one segment of the set.
func (c *Checker) Segment(seg *x12.Segment, report func(x12.Finding)) {
	if c.skip {
		return
	}
	c.rep = report
	switch seg.ID() {
	case "ST":
		c.st(seg)
		return
	case "SE":
		c.closeAll()
		c.loop = lNone
		c.check(&specSE, seg)
		return
	case "BHT":
		if c.bht || c.depth > 0 {
			c.at(seg, x12.Error, "277ca.structure", 0, "BHT must come once, right after ST")
			return
		}
		c.bht = true
		c.check(&specBHT, seg)
		return
	case "HL":
		if !c.bht {
			c.at(seg, x12.Error, "277ca.required", 0, "BHT (beginning of hierarchical transaction) is missing before the first HL")
			c.bht = true
		}
		c.hl(seg)
		return
	}
	switch c.loop {
	case lNone:
		c.at(seg, x12.Error, "277ca.structure", 0, "%s before the first HL", seg.ID())
	case lSkip:
	case l2000A, l2200A:
		c.source(seg)
	case l2000B, l2200B:
		c.receiver(seg)
	case l2000C, l2200C:
		c.provider(seg)
	default:
		c.patient(seg)
	}
}

func (c *Checker) st(seg *x12.Segment) {
	if id := seg.Text(1); id != "277" {
		c.at(seg, x12.Error, "277ca.not-277", 1, "transaction set %s is a %s, not a 277CA: not checked as one", seg.Text(2), id)
		c.skip = true
		return
	}
	if c.h.Version != Version {
		c.at(seg, x12.Error, "277ca.version", 3, "%s", versionMessage(seg.Text(2), c.h.Version))
		c.skip = true
		return
	}
	c.check(&specST, seg)
}

// order enforces the segment order within a loop.
func (c *Checker) order(seg *x12.Segment, phase int) {
	if phase < c.phase {
		c.at(seg, x12.Error, "277ca.order", 0, "%s is out of order in loop %s", seg.ID(), loopNames[c.loop])
		return
	}
	c.phase = phase
}

// once reports a second occurrence of a once-only segment, named by its
// id and (when qualified) its first element.
func (c *Checker) once(seg *x12.Segment, bit uint64, qualified bool) bool {
	if c.seen&bit != 0 {
		what := seg.ID()
		if qualified {
			what += "*" + string(seg.Element(1))
		}
		c.at(seg, x12.Error, "277ca.repeat", 0, "%s appears more than once in loop %s", what, loopNames[c.loop])
		return false
	}
	c.seen |= bit
	return true
}

// enter starts a loop at seg.
func (c *Checker) enter(loop int, seg *x12.Segment) {
	c.loop, c.loopAt, c.phase, c.seen, c.stcs = loop, locOf(seg), 0, 0, 0
}

// closeLoop reports what the loop being left lacks.
func (c *Checker) closeLoop() {
	name := loopNames[c.loop]
	need := func(bit uint64, what string) {
		if c.seen&bit == 0 {
			c.atLoc(c.loopAt, x12.Error, "277ca.required", name, "%s is missing in loop %s", what, name)
		}
	}
	switch c.loop {
	case l2000A, l2000B, l2000C:
		need(bNM1, "NM1 (name)")
		if c.loop == l2000A {
			c.atLoc(c.loopAt, x12.Error, "277ca.required", name, "loop 2200A (TRN transmission receipt control identifier) is missing")
		}
	case l2200A:
		need(bDTP050, "DTP*050 (receipt date)")
		need(bDTP009, "DTP*009 (process date)")
	case l2000D:
		need(bNM1, "NM1*QC (patient name)")
		if c.claims == 0 {
			c.atLoc(c.loopAt, x12.Warning, "277ca.no-claim", name, "patient loop %s has no claim (2200D TRN)", c.stack[4].id)
		}
	case l2200D:
		if c.stcs == 0 {
			c.atLoc(c.loopAt, x12.Error, "277ca.required", name, "STC (claim level status) is missing in loop 2200D")
		}
		need(bDTP472, "DTP*472 (claim service date)")
	case l2220D:
		if c.stcs == 0 {
			c.atLoc(c.loopAt, x12.Error, "277ca.required", name, "STC (service line status) is missing in loop 2220D")
		}
	}
}

// levelOf maps HL03 to a level 1..4, 0 for unknown.
func levelOf(code []byte) int {
	switch string(code) {
	case "20":
		return 1
	case "21":
		return 2
	case "19":
		return 3
	case "PT":
		return 4
	}
	return 0
}

var levelCodes = [...]string{1: "20", 2: "21", 3: "19", 4: "PT"}

func (c *Checker) hl(seg *x12.Segment) {
	c.closeAll()
	level := levelOf(seg.Element(3))
	// HL04 of the previous HL against whether this one is its child.
	if c.depth > 0 {
		prev := &c.stack[c.depth]
		isChild := level > c.depth || level == 0
		c.childCheck(prev, isChild)
	}
	c.sequence(seg)
	if level == 0 {
		c.at(seg, x12.Error, "277ca.hl-level", 3, "HL03 %q is not a 277CA level (20 source, 21 receiver, 19 provider, PT patient)", seg.Element(3))
		c.loop = lSkip
		return
	}
	if level > c.depth+1 {
		c.at(seg, x12.Error, "277ca.hl-level", 3, "HL level %s follows level %s: the %s level in between is missing", levelCodes[level], levelName(c.depth), levelCodes[level-1])
	}
	if level > 1 && level <= c.depth+1 {
		parent := c.stack[level-1].id
		if got := string(seg.Element(2)); got != parent {
			c.at(seg, x12.Error, "277ca.hl-parent", 2, "HL02 %q should be %q, the HL01 of the enclosing level %s", got, parent, levelCodes[level-1])
		}
	}
	c.stack[level] = hlNode{id: string(seg.Element(1)), child: string(seg.Element(4)), at: locOf(seg)}
	c.depth = level
	c.enter([...]int{1: l2000A, 2: l2000B, 3: l2000C, 4: l2000D}[level], seg)
	c.claims = 0
	c.check(&specHL[level], seg)
}

func levelName(d int) string {
	if d == 0 {
		return "(none)"
	}
	return levelCodes[d]
}

func (c *Checker) childCheck(n *hlNode, hasChild bool) {
	switch {
	case n.child == "1" && !hasChild:
		c.atLoc(n.at, x12.Error, "277ca.hl-child", "", "HL %s says it has children (HL04 1) but no child level follows", n.id)
	case n.child == "0" && hasChild:
		c.atLoc(n.at, x12.Error, "277ca.hl-child", "", "HL %s says it has no children (HL04 0) but a child level follows", n.id)
	}
}

func (c *Checker) sequence(seg *x12.Segment) {
	id := seg.Element(1)
	n, err := strconv.ParseInt(string(id), 10, 64)
	if err != nil {
		c.prevNum = false
		return
	}
	if c.prevNum && n != c.prevID+1 {
		c.at(seg, x12.Warning, "277ca.hl-sequence", 1, "HL01 %d does not follow the previous HL01 %d", n, c.prevID)
	}
	c.prevID, c.prevNum = n, true
}

// closeAll closes the loop open when an HL (or SE) arrives. The checks of
// a claim ran when its first SVC started, and those of a patient's NM1
// when its first claim did, so closing the innermost loop is enough.
func (c *Checker) closeAll() { c.closeLoop() }

func (c *Checker) nm1(seg *x12.Segment, level int) {
	c.order(seg, 1)
	c.once(seg, bNM1, false)
	c.check(&specNM1[level], seg)
}

func (c *Checker) source(seg *x12.Segment) {
	switch seg.ID() {
	case "NM1":
		if c.loop != l2000A {
			c.at(seg, x12.Error, "277ca.order", 0, "NM1 must follow the HL of loop 2000A")
			return
		}
		c.nm1(seg, 1)
	case "TRN":
		if c.loop == l2000A {
			c.closeSourceHeader()
		} else {
			c.closeLoop()
		}
		c.enter(l2200A, seg)
		c.seen |= bTRN
		c.check(&specTRN1, seg)
	case "DTP":
		if c.loop != l2200A {
			c.at(seg, x12.Error, "277ca.structure", 0, "DTP before the TRN that starts loop 2200A")
			return
		}
		c.check(&specDTPSource, seg)
		switch string(seg.Element(1)) {
		case "050":
			c.order(seg, 1)
			c.once(seg, bDTP050, true)
		case "009":
			c.order(seg, 2)
			c.once(seg, bDTP009, true)
		}
		c.dateCheck(seg)
	default:
		c.unexpected(seg)
	}
}

// closeSourceHeader checks 2000A before its first 2200A starts.
func (c *Checker) closeSourceHeader() {
	if c.seen&bNM1 == 0 {
		c.atLoc(c.loopAt, x12.Error, "277ca.required", "2000A", "NM1 (name) is missing in loop 2000A")
	}
}

func (c *Checker) unexpected(seg *x12.Segment) {
	c.at(seg, x12.Error, "277ca.structure", 0, "%s is not expected in loop %s", seg.ID(), loopNames[c.loop])
}

func (c *Checker) receiver(seg *x12.Segment) {
	switch seg.ID() {
	case "NM1":
		if c.loop != l2000B {
			c.at(seg, x12.Error, "277ca.order", 0, "NM1 must follow the HL of loop 2000B")
			return
		}
		c.nm1(seg, 2)
	case "TRN":
		if c.loop == l2200B {
			c.at(seg, x12.Error, "277ca.repeat", 0, "TRN appears more than once: loop 2200B occurs once per receiver")
		}
		c.headerDone(seg, l2200B)
		c.check(&specTRN2, seg)
	case "STC":
		c.inTrace(seg, l2200B)
		c.order(seg, 1)
		c.stc(seg, &specSTCReceiver)
	case "QTY":
		c.inTrace(seg, l2200B)
		c.order(seg, 2)
		c.qty(seg, &specQTYReceiver, "90")
	case "AMT":
		c.inTrace(seg, l2200B)
		c.order(seg, 3)
		c.amt(seg)
	default:
		c.unexpected(seg)
	}
}

func (c *Checker) provider(seg *x12.Segment) {
	switch seg.ID() {
	case "NM1":
		if c.loop != l2000C {
			c.at(seg, x12.Error, "277ca.order", 0, "NM1 must follow the HL of loop 2000C")
			return
		}
		c.nm1(seg, 3)
	case "TRN":
		if c.loop == l2200C {
			c.at(seg, x12.Error, "277ca.repeat", 0, "TRN appears more than once: loop 2200C occurs once per provider")
		}
		c.headerDone(seg, l2200C)
		c.check(&specTRN1, seg)
	case "STC":
		c.inTrace(seg, l2200C)
		c.order(seg, 1)
		c.stc(seg, &specSTCProvider)
	case "REF":
		c.inTrace(seg, l2200C)
		c.order(seg, 2)
		c.ref(seg, &specREFProvider)
	case "QTY":
		c.inTrace(seg, l2200C)
		c.order(seg, 3)
		c.qty(seg, &specQTYProvider, "QA")
	case "AMT":
		c.inTrace(seg, l2200C)
		c.order(seg, 4)
		c.amt(seg)
	default:
		c.unexpected(seg)
	}
}

// headerDone ends a 2000x header (checking its NM1) as the TRN of its
// 2200x loop starts.
func (c *Checker) headerDone(seg *x12.Segment, trace int) {
	if c.loop != trace {
		if c.seen&bNM1 == 0 {
			c.atLoc(c.loopAt, x12.Error, "277ca.required", loopNames[c.loop], "NM1 (name) is missing in loop %s", loopNames[c.loop])
		}
		c.enter(trace, seg)
	}
	c.seen |= bTRN
}

// inTrace makes sure a 2200B/2200C segment comes after the loop's TRN.
func (c *Checker) inTrace(seg *x12.Segment, trace int) {
	if c.loop == trace {
		return
	}
	c.at(seg, x12.Error, "277ca.structure", 0, "%s before the TRN that starts loop %s", seg.ID(), loopNames[trace])
	if c.seen&bNM1 == 0 {
		c.atLoc(c.loopAt, x12.Error, "277ca.required", loopNames[c.loop], "NM1 (name) is missing in loop %s", loopNames[c.loop])
	}
	c.enter(trace, seg)
}

func (c *Checker) patient(seg *x12.Segment) {
	switch seg.ID() {
	case "NM1":
		if c.loop != l2000D {
			c.at(seg, x12.Error, "277ca.order", 0, "NM1 must follow the HL of loop 2000D")
			return
		}
		c.nm1(seg, 4)
		return
	case "TRN":
		switch c.loop {
		case l2000D:
			if c.seen&bNM1 == 0 {
				c.atLoc(c.loopAt, x12.Error, "277ca.required", "2000D", "NM1*QC (patient name) is missing in loop 2000D")
			}
		default:
			c.closeLoop() // the claim, or the last line of the claim
		}
		c.enter(l2200D, seg)
		c.claims++
		c.seen |= bTRN
		c.check(&specTRN2, seg)
		return
	case "SVC":
		switch c.loop {
		case l2200D, l2220D:
			c.closeLoop()
		default:
			c.at(seg, x12.Error, "277ca.structure", 0, "SVC outside a claim (2200D) loop")
		}
		c.enter(l2220D, seg)
		c.check(&specSVC, seg)
		return
	}
	if c.loop == l2000D {
		c.at(seg, x12.Error, "277ca.structure", 0, "%s before the TRN that starts loop 2200D", seg.ID())
		return
	}
	line := c.loop == l2220D
	switch seg.ID() {
	case "STC":
		c.order(seg, 1)
		if line {
			c.stc(seg, &specSTCLine)
		} else {
			c.stc(seg, &specSTCClaim)
		}
	case "REF":
		c.order(seg, 2)
		if line {
			c.ref(seg, &specREFLine)
		} else {
			c.ref(seg, &specREFClaim)
		}
	case "DTP":
		c.order(seg, 3)
		c.once(seg, bDTP472, true)
		c.check(&specDTPService, seg)
		c.dateCheck(seg)
	default:
		c.unexpected(seg)
	}
}

func (c *Checker) qty(seg *x12.Segment, spec *x12.SegSpec, accepted string) {
	c.check(spec, seg)
	q := seg.Element(1)
	if string(q) == accepted {
		c.once(seg, bQTYAccepted, true)
	} else if len(q) > 0 {
		c.once(seg, bQTYRejected, true)
	}
}

func (c *Checker) amt(seg *x12.Segment) {
	c.check(&specAMT, seg)
	switch string(seg.Element(1)) {
	case "YU":
		c.once(seg, bAMTAccepted, true)
	case "YY":
		c.once(seg, bAMTRejected, true)
	}
}

func (c *Checker) ref(seg *x12.Segment, spec *x12.SegSpec) {
	c.check(spec, seg)
	q := seg.Element(1)
	for i, code := range spec.Elems[0].Codes {
		if string(q) == code {
			c.once(seg, bREF<<i, true)
		}
	}
}

// stc checks a status segment: element rules, known codes, and the action
// against the category.
func (c *Checker) stc(seg *x12.Segment, spec *x12.SegSpec) {
	c.stcs++
	c.check(spec, seg)
	worst := OutcomeUnknown
	for _, i := range [...]int{1, 10, 11} {
		comp := seg.Composite(i)
		cat, code := comp.Part(1), comp.Part(2)
		if len(cat) > 0 {
			if categoryKnown(cat) {
				worst = Worst(worst, categoryOutcome(string(cat)))
			} else {
				f := x12.At(seg, x12.Error, "277ca.stc-category", i, 1, "STC%02d-01 status category %q is not a claim status category code (list 507)", i, cat)
				f.Loop = loopNames[c.loop]
				c.rep(f)
			}
		}
		if len(code) > 0 && !statusKnown(code) {
			f := x12.At(seg, x12.Warning, "277ca.stc-status", i, 2, "STC%02d-02 status code %q is not a claim status code (list 508)", i, code)
			f.Loop = loopNames[c.loop]
			c.rep(f)
		}
	}
	switch action := string(seg.Element(3)); {
	case worst == OutcomeRejected && action == "WQ":
		c.at(seg, x12.Warning, "277ca.stc-action", 3, "STC03 action WQ (accept) with a rejecting status category: U expected")
	case (worst == OutcomeAccepted || worst == OutcomeReceived) && action == "U":
		c.at(seg, x12.Warning, "277ca.stc-action", 3, "STC03 action U (reject) with a status category that does not reject: WQ expected")
	}
}

// dateCheck validates DTP03 against its DTP02 format (D8 or RD8).
func (c *Checker) dateCheck(seg *x12.Segment) {
	v := seg.Element(3)
	if len(v) == 0 {
		return
	}
	switch string(seg.Element(2)) {
	case "D8":
		c.date(seg, v)
	case "RD8":
		if len(v) != 17 || v[8] != '-' {
			c.at(seg, x12.Error, "tr3.date", 3, "DTP03 %q is not a CCYYMMDD-CCYYMMDD range", v)
			return
		}
		ok1, ok2 := c.date(seg, v[:8]), c.date(seg, v[9:])
		if ok1 && ok2 && string(v[:8]) > string(v[9:]) {
			c.at(seg, x12.Error, "277ca.date-range", 3, "DTP03 range %q ends before it starts", v)
		}
	}
}

// date checks one CCYYMMDD date; a real calendar date before 1800 (a
// placeholder such as 10010101) is only a warning.
func (c *Checker) date(seg *x12.Segment, v []byte) bool {
	if x12.ValidDate8(v) {
		return true
	}
	if len(v) == 8 && x12.IsDigits(v) && calendarDate(v) {
		c.at(seg, x12.Warning, "277ca.date-implausible", 3, "DTP03 date %q is before 1800: a placeholder, not a real date", v)
		return false
	}
	c.at(seg, x12.Error, "tr3.date", 3, "DTP03 %q is not a valid CCYYMMDD date", v)
	return false
}

// calendarDate reports whether 8 digits are a real date in any year.
func calendarDate(v []byte) bool {
	n := func(b []byte) int {
		x := 0
		for _, d := range b {
			x = x*10 + int(d-'0')
		}
		return x
	}
	y, m, d := n(v[:4]), n(v[4:6]), n(v[6:])
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}

// End checks the end of the set: open loops and the last HL's HL04.
func (c *Checker) End(se *x12.Segment, report func(x12.Finding)) {
	if c.skip {
		return
	}
	c.rep = report
	c.closeAll()
	if c.depth > 0 {
		c.childCheck(&c.stack[c.depth], false)
	}
	var l loc
	if se != nil {
		l = locOf(se)
	}
	if !c.bht {
		c.atLoc(l, x12.Error, "277ca.required", "", "BHT (beginning of hierarchical transaction) is missing")
	}
	if c.depth == 0 {
		c.atLoc(l, x12.Error, "277ca.required", "", "the set has no HL loops: the information source (HL 20) is required")
	}
}

// Validate checks a whole file: envelopes (x12.Check) and every set as a
// 277CA; sets of other kinds or versions get a finding.
func Validate(r io.Reader, name string) (*x12.Summary, x12.Findings, error) {
	return x12.Check(r, x12.CheckOptions{Name: name, Sets: NewChecker})
}
