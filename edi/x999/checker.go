package x999

import (
	"io"
	"slices"

	"github.com/claimgate/claimgate/edi/x12"
)

// Element rules of the 999 segments (005010X231A1; X231 differs only in
// AK103 being situational).
var (
	specST = x12.SegSpec{ID: "ST", Name: "Transaction Set Header", Elems: []x12.Elem{
		x12.Req(x12.ID, 3, 3, "999"), x12.Req(x12.AN, 4, 9), x12.Req(x12.AN, 1, 35),
	}}
	specAK1 = x12.SegSpec{ID: "AK1", Name: "Functional Group Response Header", Elems: []x12.Elem{
		x12.Req(x12.ID, 2, 2, "BE", "FA", "HB", "HC", "HI", "HN", "HP", "HR", "HS", "RA"),
		x12.Req(x12.N0, 1, 9), x12.Req(x12.AN, 1, 12),
	}}
	specAK1Base = x12.SegSpec{ID: "AK1", Name: specAK1.Name, Elems: []x12.Elem{specAK1.Elems[0], specAK1.Elems[1], x12.Sit(x12.AN, 1, 12)}}
	specAK2     = x12.SegSpec{ID: "AK2", Name: "Transaction Set Response Header", Elems: []x12.Elem{
		x12.Req(x12.ID, 3, 3, "270", "271", "276", "277", "278", "820", "834", "835", "837"),
		x12.Req(x12.AN, 4, 9), x12.Sit(x12.AN, 1, 35),
	}}
	specIK3 = x12.SegSpec{ID: "IK3", Name: "Error Identification", Elems: []x12.Elem{
		x12.Req(x12.ID, 2, 3), x12.Req(x12.N0, 1, 6), x12.Sit(x12.AN, 1, 4), x12.Sit(x12.ID, 1, 3, ik304Codes...),
	}}
	position = x12.Elem{Comp: []x12.Elem{x12.Req(x12.N0, 1, 2), x12.Sit(x12.N0, 1, 2), x12.Sit(x12.N0, 1, 4)}}
	specIK4  = x12.SegSpec{ID: "IK4", Name: "Implementation Data Element Note", Elems: []x12.Elem{
		withUsage(position, x12.Required), x12.Sit(x12.N0, 1, 4), x12.Req(x12.ID, 1, 3, ik403Codes...), x12.Sit(x12.AN, 1, 99),
	}}
	// specCTXTrigger is a segment or element context (CTX01-1 SITUATIONAL
	// TRIGGER); specCTXUnit the business unit identifier context.
	specCTXTrigger = x12.SegSpec{ID: "CTX", Name: "Segment Context", Elems: []x12.Elem{
		{Usage: x12.Required, Comp: []x12.Elem{x12.Req(x12.AN, 1, 35, SituationalTrigger), x12.NU}},
		x12.Req(x12.ID, 2, 3), x12.Req(x12.N0, 1, 6), x12.Sit(x12.AN, 1, 4),
		withUsage(position, x12.Situational),
		{Usage: x12.Situational, Comp: []x12.Elem{x12.Req(x12.N0, 1, 4), x12.NU}},
	}}
	specCTXUnit = x12.SegSpec{ID: "CTX", Name: "Business Unit Identifier", Elems: []x12.Elem{
		{Usage: x12.Required, Comp: []x12.Elem{
			x12.Req(x12.AN, 1, 35, "TRN02", "NM109", "PATIENT NAME NM109", "SUBSCRIBER NAME NM109", "ENT01", "SUBSCRIBER NUMBER REF02", "CLM01"),
			x12.Req(x12.AN, 1, 35),
		}},
		x12.NU, x12.NU, x12.NU, withUsage(position, x12.Situational), x12.NU,
	}}
	specIK5 = x12.SegSpec{ID: "IK5", Name: "Transaction Set Response Trailer", Elems: []x12.Elem{
		x12.Req(x12.ID, 1, 1, ik501Codes...),
		x12.Sit(x12.ID, 1, 3, ik502Codes...), x12.Sit(x12.ID, 1, 3, ik502Codes...), x12.Sit(x12.ID, 1, 3, ik502Codes...),
		x12.Sit(x12.ID, 1, 3, ik502Codes...), x12.Sit(x12.ID, 1, 3, ik502Codes...),
	}}
	specAK9 = x12.SegSpec{ID: "AK9", Name: "Functional Group Response Trailer", Elems: []x12.Elem{
		x12.Req(x12.ID, 1, 1, ak901Codes...), x12.Req(x12.N0, 1, 6), x12.Req(x12.N0, 1, 6), x12.Req(x12.N0, 1, 6),
		x12.Sit(x12.ID, 1, 3, ak905Codes...), x12.Sit(x12.ID, 1, 3, ak905Codes...), x12.Sit(x12.ID, 1, 3, ak905Codes...),
		x12.Sit(x12.ID, 1, 3, ak905Codes...), x12.Sit(x12.ID, 1, 3, ak905Codes...),
	}}
	specSE = x12.SegSpec{ID: "SE", Name: "Transaction Set Trailer", Elems: []x12.Elem{x12.Req(x12.N0, 1, 10), x12.Req(x12.AN, 4, 9)}}
)

func withUsage(e x12.Elem, u x12.Usage) x12.Elem {
	e.Usage = u
	return e
}

// Limits of the 999 guide.
const (
	maxSegmentContexts = 9  // CTX segment context per IK3
	maxUnitContexts    = 1  // CTX business unit per IK3
	maxElementContexts = 10 // CTX per IK4
)

// Checker positions.
const (
	posStart = iota // after ST
	posAK1          // after AK1 or IK5: AK2 or AK9 next
	posAK2          // in an AK2 loop, before any IK3
	posIK3          // in an IK3 loop, before any IK4
	posIK4          // in an IK4 loop
	posAK9          // after AK9: SE next
	posSkip         // not a 999 this checker can judge
)

// Checker validates one 999 transaction set: the loop structure, the
// element rules of every segment and the consistency of AK9 with the IK5
// verdicts. It implements x12.SetChecker.
//
// Rules (besides the tr3.* element rules of x12.SegSpec):
//
//	999.structure   segment out of place or not part of a 999
//	999.required    AK1, IK5 or AK9 missing
//	999.repeat      AK1 twice, too many CTX
//	999.version     ST03/GS08 is neither 005010X231A1 nor 005010X231 (warning)
//	999.ak9-count   AK902/AK903 differ from the AK2 count, AK904 from the accepted count
//	999.ak9-status  AK901 disagrees with the IK5 verdicts
//	999.ik5-reason  a rejected (or accepted-with-errors) set gives no reason (warning)
//	999.ik5-status  IK5 A although errors are listed (warning)
//	999.ak2-duplicate one set acknowledged twice (warning)
type Checker struct {
	h   x12.SetHeader
	pos int

	ak1, ak9     bool
	ak1Spec      *x12.SegSpec
	t            tally
	setErrors    int    // IK3 loops in the open AK2 loop
	setControl   []byte // AK202 of the open AK2 loop (a reused buffer)
	segContexts  int
	unitContexts int
	elemContexts int
	seen         map[uint64]struct{} // hashes of the AK202 values seen
	nSeen        int
	lastNum      uint64
	increasing   bool // every AK202 so far numeric and above the one before
}

// NewChecker returns the checker for one 999 transaction set; it fits
// x12.CheckOptions.Sets.
func NewChecker(h x12.SetHeader) x12.SetChecker {
	c := &Checker{h: h, ak1Spec: &specAK1, seen: map[uint64]struct{}{}, increasing: true}
	if h.Version == VersionBase {
		c.ak1Spec = &specAK1Base
	}
	return c
}

// duplicate warns about an AK202 already acknowledged in this 999. While
// the control numbers only increase (the usual case) no lookup is needed;
// a 64-bit hash stands for each number remembered (the first maxSeen), so
// no string is kept per set and a false duplicate is vanishingly unlikely.
func (c *Checker) duplicate(at func(x12.Severity, string, int, string, ...any)) {
	n, numeric := uint64(0), len(c.setControl) > 0 && len(c.setControl) <= 18
	for _, d := range c.setControl {
		if d < '0' || d > '9' {
			numeric = false
			break
		}
		n = n*10 + uint64(d-'0')
	}
	increasing := numeric && c.increasing && (c.nSeen == 0 || n > c.lastNum)
	c.increasing, c.lastNum = increasing, n
	c.nSeen++
	h := hash64(c.setControl)
	if !increasing {
		if _, dup := c.seen[h]; dup {
			at(x12.Warning, "999.ak2-duplicate", 2, "transaction set %s is acknowledged twice in this 999", c.setControl)
			return
		}
	}
	if len(c.seen) < maxSeen {
		c.seen[h] = struct{}{}
	}
}

// hash64 is FNV-1a.
func hash64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

// maxSeen bounds the AK202 values remembered for the duplicate check.
const maxSeen = 10000

func loopOf(pos int) string {
	switch pos {
	case posAK2:
		return "2000"
	case posIK3:
		return "2100"
	case posIK4:
		return "2110"
	}
	return "header"
}

// Segment checks one segment of the set.
func (c *Checker) Segment(seg *x12.Segment, report func(x12.Finding)) {
	if c.pos == posSkip {
		return
	}
	at := func(sev x12.Severity, rule string, elem int, format string, args ...any) {
		f := x12.At(seg, sev, rule, elem, 0, format, args...)
		f.Loop = loopOf(c.pos)
		report(f)
	}
	switch seg.ID() {
	case "ST":
		if id := seg.Text(1); id != "999" {
			at(x12.Error, "999.not-999", 1, "transaction set %s is a %s, not a 999 acknowledgment: not checked as one", seg.Text(2), id)
			c.pos = posSkip
			return
		}
		specST.Check(seg, "header", report)
		if v := c.h.Version; v != Version && v != VersionBase {
			at(x12.Warning, "999.version", 3, "999 version %q is neither %s nor %s: checked as %s", v, Version, VersionBase, Version)
		}
	case "AK1":
		if c.ak1 {
			at(x12.Error, "999.repeat", 0, "AK1 appears twice: a 999 acknowledges one functional group")
			return
		}
		if c.pos != posStart {
			at(x12.Error, "999.structure", 0, "AK1 must follow ST directly")
		}
		c.ak1 = true
		c.ak1Spec.Check(seg, "header", report)
		c.pos = posAK1
	case "AK2":
		c.needAK1(seg, at)
		c.closeAK2(seg, at, "AK2")
		if c.pos == posAK9 {
			at(x12.Error, "999.structure", 0, "AK2 after AK9: AK9 must be the last segment before SE")
		}
		specAK2.Check(seg, "2000", report)
		c.t.sets++
		c.pos, c.setErrors, c.setControl = posAK2, 0, append(c.setControl[:0], seg.Element(2)...)
		c.duplicate(at)
	case "IK3":
		if c.pos < posAK2 || c.pos > posIK4 {
			at(x12.Error, "999.structure", 0, "IK3 outside an AK2 loop")
			return
		}
		specIK3.Check(seg, "2100", report)
		c.pos, c.setErrors = posIK3, c.setErrors+1
		c.segContexts, c.unitContexts = 0, 0
	case "IK4":
		if c.pos != posIK3 && c.pos != posIK4 {
			at(x12.Error, "999.structure", 0, "IK4 outside an IK3 loop")
			return
		}
		c.pos, c.elemContexts = posIK4, 0
		specIK4.Check(seg, "2110", report)
	case "CTX":
		c.ctx(seg, report, at)
	case "IK5":
		if c.pos < posAK2 || c.pos > posIK4 {
			at(x12.Error, "999.structure", 0, "IK5 outside an AK2 loop")
			return
		}
		c.pos = posAK2 // for the loop name
		specIK5.Check(seg, "2000", report)
		c.ik5(seg, at)
		c.pos = posAK1
	case "AK9":
		c.needAK1(seg, at)
		c.closeAK2(seg, at, "AK9")
		if c.ak9 {
			at(x12.Error, "999.repeat", 0, "AK9 appears twice")
			return
		}
		c.ak9 = true
		specAK9.Check(seg, "header", report)
		c.ak9Consistency(seg, at)
		c.pos = posAK9
	case "SE":
		c.closeAK2(seg, at, "SE")
		specSE.Check(seg, "", report)
	default:
		at(x12.Error, "999.structure", 0, "%s is not a 999 segment", seg.ID())
	}
}

func (c *Checker) needAK1(seg *x12.Segment, at func(x12.Severity, string, int, string, ...any)) {
	if !c.ak1 && c.pos == posStart {
		at(x12.Error, "999.required", 0, "AK1 is missing: it must follow ST")
		c.pos = posAK1
	}
}

// closeAK2 reports an AK2 loop left without its IK5.
func (c *Checker) closeAK2(seg *x12.Segment, at func(x12.Severity, string, int, string, ...any), by string) {
	if c.pos >= posAK2 && c.pos <= posIK4 {
		at(x12.Error, "999.required", 0, "IK5 is missing for transaction set %s before %s", c.setControl, by)
		c.t.rejected++ // a set without a verdict is not counted as accepted
		c.pos = posAK1
	}
}

func (c *Checker) ctx(seg *x12.Segment, report func(x12.Finding), at func(x12.Severity, string, int, string, ...any)) {
	trigger := string(seg.Component(1, 1)) == SituationalTrigger
	switch {
	case c.pos == posIK3 && trigger:
		c.segContexts++
		if c.segContexts == maxSegmentContexts+1 {
			at(x12.Error, "999.repeat", 0, "more than %d segment contexts (CTX) in one IK3 loop", maxSegmentContexts)
		}
		specCTXTrigger.Check(seg, "2100", report)
	case c.pos == posIK3:
		c.unitContexts++
		if c.unitContexts == maxUnitContexts+1 {
			at(x12.Error, "999.repeat", 0, "more than %d business unit context (CTX) in one IK3 loop", maxUnitContexts)
		}
		specCTXUnit.Check(seg, "2100", report)
	case c.pos == posIK4:
		c.elemContexts++
		if c.elemContexts == maxElementContexts+1 {
			at(x12.Error, "999.repeat", 0, "more than %d element contexts (CTX) in one IK4 loop", maxElementContexts)
		}
		specCTXTrigger.Check(seg, "2110", report)
	default:
		at(x12.Error, "999.structure", 0, "CTX outside an IK3 or IK4 loop")
	}
}

func rejected(status []byte) bool {
	return len(status) > 0 && !(len(status) == 1 && (status[0] == 'A' || status[0] == 'E'))
}

func (c *Checker) ik5(seg *x12.Segment, at func(x12.Severity, string, int, string, ...any)) {
	st := seg.Element(1)
	reasons := c.setErrors > 0 || len(seg.Element(2)) > 0
	switch {
	case len(st) == 0:
		c.t.rejected++
	case string(st) == StatusAccepted:
		c.t.accepted++
		if c.setErrors > 0 {
			at(x12.Warning, "999.ik5-status", 1, "IK5 accepts set %s (A) but lists %d segment errors: E (accepted with errors) or R expected", c.setControl, c.setErrors)
		}
	case string(st) == StatusAcceptedWithErrors:
		c.t.accepted++
		c.t.withErrors++
		if !reasons {
			at(x12.Warning, "999.ik5-reason", 1, "IK5 accepts set %s with errors (E) but names no error: no IK3 loop and no IK502 code", c.setControl)
		}
	default:
		c.t.rejected++
		if rejected(st) && !reasons {
			at(x12.Warning, "999.ik5-reason", 1, "IK5 rejects set %s (%s) but gives no reason: no IK3 loop and no IK502 code", c.setControl, st)
		}
	}
}

func (c *Checker) ak9Consistency(seg *x12.Segment, at func(x12.Severity, string, int, string, ...any)) {
	groupErrors := false
	countError := false // AK905 code 5: the group's own set count was wrong
	for i := 5; i <= 9; i++ {
		if e := seg.Element(i); len(e) > 0 {
			groupErrors = true
			countError = countError || string(e) == "5"
		}
	}
	count := func(elem int, want int, what string) {
		e := seg.Element(elem)
		if !x12.IsDigits(e) {
			return // the element rule reports it
		}
		if got := num(e); got != want {
			at(x12.Error, "999.ak9-count", elem, "AK9%02d says %d %s, but the 999 has %d", elem, got, what, want)
		}
	}
	if !countError {
		count(2, c.t.sets, "transaction sets included (AK2 loops)")
	}
	count(3, c.t.sets, "transaction sets received (AK2 loops)")
	count(4, c.t.accepted, "transaction sets accepted (IK5 A or E)")

	got := string(seg.Element(1))
	want := c.t.expected()
	if got == "" || statusAgrees(got, want, groupErrors) {
		return
	}
	at(x12.Error, "999.ak9-status", 1, "AK901 is %s but the IK5 verdicts (%d accepted, %d with errors, %d rejected) call for %s",
		got, c.t.accepted-c.t.withErrors, c.t.withErrors, c.t.rejected, want)
}

// End checks what must have been seen by the end of the set.
func (c *Checker) End(se *x12.Segment, report func(x12.Finding)) {
	if c.pos == posSkip {
		return
	}
	var f x12.Finding
	if se != nil {
		f = x12.At(se, x12.Error, "999.required", 0, 0, "")
	} else {
		f = x12.Finding{Severity: x12.Error, Rule: "999.required"}
	}
	if !c.ak1 {
		f.Message = "AK1 (functional group response header) is missing"
		report(f)
	}
	if !c.ak9 {
		f.Message = "AK9 (functional group response trailer) is missing"
		report(f)
	}
}

// Validate checks a whole file: envelopes (x12.Check) and every set as a
// 999; a set that is not a 999 gets a 999.not-999 finding.
func Validate(r io.Reader, name string) (*x12.Summary, x12.Findings, error) {
	return x12.Check(r, x12.CheckOptions{Name: name, Sets: NewChecker})
}

// tally counts IK5 verdicts to derive what AK9 must say.
type tally struct {
	sets       int // AK2 loops
	accepted   int // IK5 A or E
	withErrors int // IK5 E
	rejected   int // anything else, including a missing IK5
}

func (t *tally) add(status string) {
	t.sets++
	switch status {
	case StatusAccepted:
		t.accepted++
	case StatusAcceptedWithErrors:
		t.accepted++
		t.withErrors++
	default:
		t.rejected++
	}
}

// expected is the AK901 the IK5 verdicts call for: A when all are A, E
// when all are accepted and some with errors, P when some are accepted and
// some rejected, R when none is accepted; "" for a group without sets.
func (t *tally) expected() string {
	switch {
	case t.sets == 0:
		return ""
	case t.rejected == 0 && t.withErrors == 0:
		return StatusAccepted
	case t.rejected == 0:
		return StatusAcceptedWithErrors
	case t.accepted > 0:
		return StatusPartial
	}
	return StatusRejected
}

// statusAgrees reports whether AK901 got may stand where the set verdicts
// call for want. groupErrors says AK905.. lists group-level errors, which
// can make a group with clean sets E or R.
func statusAgrees(got, want string, groupErrors bool) bool {
	switch {
	case want == "" || got == want:
		return true
	case want == StatusRejected:
		// M, W and X are other ways to reject the whole group.
		return got == StatusMACFailed || got == StatusAssuranceFailed || got == StatusDecryptFailed
	case want == StatusAccepted || want == StatusAcceptedWithErrors:
		return groupErrors && (got == StatusAcceptedWithErrors || got == StatusRejected)
	}
	return false
}

// IsFunctionalID reports whether id is a value AK101 allows (a GS01 the
// 999 can acknowledge).
func IsFunctionalID(id string) bool { return slices.Contains(specAK1.Elems[0].Codes, id) }

// IsSetID reports whether id is a value AK201 allows.
func IsSetID(id string) bool { return slices.Contains(specAK2.Elems[0].Codes, id) }
