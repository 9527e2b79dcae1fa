package pipeline

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x837p"
	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/scrub"
)

// maxProblemsPerClaim caps the findings reported for one claim of an
// 837P batch; the rest are counted in one more problem.
const maxProblemsPerClaim = 10

// span is one claim of an 837P batch being read: its segments and what
// the validator found in them.
type span struct {
	start int // CLM segment number
	end   int // last segment; 0 while open
	probs []Problem
	more  int
	ctx   *loopCtx // the innermost HL loop (or the set) around the claim
	kind  string   // of its set: 837P, or 837I/837D/837 (refused)
}

// loopCtx is a loop around claims: the set header, or a 2000A billing
// provider, 2000B subscriber or 2000C patient HL loop.
type loopCtx struct {
	num    int // its ST or HL segment number
	parent *loopCtx
	taint  *taint
}

// taint is an error in a loop around claims: it rejects the claims in the
// loop and is reported once, with their count, at the end of the batch.
type taint struct {
	first  Problem
	others int
	claims int
}

// maxTaints caps the loop errors kept for the end-of-batch report; later
// ones are reported at once, without a claim count.
const maxTaints = 1000

// recentLoops is how many HL loops are remembered to place a finding the
// validator reports late (at the segment that closes a loop).
const recentLoops = 64

// x837Run validates and maps an 837P batch in one pass: the x837p
// Reader's OnSegment hook feeds each segment to an x12.Checker before the
// Reader hands out the claim, and findings are attributed by segment
// number to the claim whose segments hold them, else to the HL loop (or
// set header) holding them, whose claims they reject. A claim is decided
// once the next one has been read, so findings reported late still count.
type x837Run struct {
	p    *Pipeline
	name string

	setIDs   map[string]int // ST01 (837P/837I/837D for 837s) → count
	in837    bool
	kind     string  // of the current set
	gsVer    string  // GS08 of the current group
	spans    []*span // read, not yet decided
	open     *span
	lastSeg  int
	lastEnd  int64
	set      *loopCtx
	cur      *loopCtx            // innermost loop
	levels   map[string]*loopCtx // current loop by HL level code
	recent   []*loopCtx          // last HL loops, oldest first
	taints   []*taint
	envelope []Problem // findings outside sets: reported once at the end
	envMore  int
}

func (p *Pipeline) run837(ctx context.Context, r io.Reader, name string) error {
	t := &x837Run{p: p, name: name, setIDs: map[string]int{}, levels: map[string]*loopCtx{}}
	chk := x12.NewChecker(name, t.finding)
	chk.ShowValues = p.cfg.ShowValues
	chk.Sets = func(h x12.SetHeader) x12.SetChecker {
		if h.ID != "837" {
			return nil // told apart below; its TR3 findings are noise
		}
		return x837p.NewChecker(h)
	}
	rd := x837p.NewReader(r)
	rd.Name = name
	rd.OnSegment = func(seg *x12.Segment) {
		t.segment(seg)
		chk.Segment(seg)
		t.lastEnd = seg.Offset + int64(len(seg.Raw())) + 1
	}
	seen := 0 // reader findings already looked at
	type pending struct {
		it *x837p.Item
		sp *span
	}
	var queue []pending
	var submitterSet bool
	decide := func(q pending) error {
		if p.cfg.BatchSubmitter && !submitterSet {
			if h := rd.Header(); h != nil {
				sub := h.Submitter
				s := assemble.Submitter{Name: orgName(sub.Name), ID: sub.ID, Contact: sub.Contact, ISAQualifier: "ZZ", ISAID: sub.ID}
				if usableSubmitter(s) {
					p.asm.SetSubmitter(s)
				}
			}
			submitterSet = true
		}
		return t.decide(ctx, q.it, q.sp)
	}
	for {
		it, err := rd.Next()
		fs := rd.Findings()
		for ; seen < len(fs); seen++ {
			f := fs[seen]
			switch {
			case f.Rule == x837p.RuleTruncated && it != nil:
				// The claim handed out with this finding may be incomplete.
				t.claimFinding(t.spanAt(len(queue)), f)
			case !strings.HasPrefix(f.Rule, "x837p.read."):
				t.finding(f) // x12 syntax, which the Checker does not see
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		queue = append(queue, pending{it, t.spanAt(len(queue))})
		for len(queue) > 1 {
			if err := decide(queue[0]); err != nil {
				return err
			}
			queue = queue[1:]
			t.spans = t.spans[1:]
		}
	}
	chk.Finish(t.lastEnd)
	t.closeClaim(t.lastSeg)
	for _, q := range queue {
		if err := decide(q); err != nil {
			return err
		}
	}
	t.spans = nil
	if t.setIDs["837P"] == 0 {
		return fmt.Errorf("%s: %w: %s", name, ErrNotABatch, t.describe())
	}
	for _, x := range t.taints {
		t.report(x)
	}
	for _, pr := range t.envelope {
		p.warn(pr)
	}
	if t.envMore > 0 {
		p.warn(Problem{Rule: "envelope", Message: fmt.Sprintf("%d more envelope findings not shown", t.envMore)})
	}
	if p.sum.Read == 0 {
		return fmt.Errorf("%s: %w: an 837P without any readable claim (CLM)", name, ErrNotABatch)
	}
	return nil
}

func orgName(n x837p.Name) string {
	if n.Last != "" {
		return n.Last
	}
	return "SUBMITTER"
}

var setNames = map[string]string{
	"835":  "835 health care claim payment/advice",
	"999":  "999 implementation acknowledgment",
	"997":  "997 functional acknowledgment",
	"277":  "277 claim status",
	"270":  "270 eligibility inquiry",
	"271":  "271 eligibility response",
	"276":  "276 claim status request",
	"834":  "834 benefit enrollment",
	"837I": "837I institutional claim (005010X223)",
	"837D": "837D dental claim (005010X224)",
	"837":  "837 of an unknown implementation",
}

// describe says what an X12 file without 837P sets holds.
func (t *x837Run) describe() string {
	if len(t.setIDs) == 0 {
		return "an X12 file without any transaction set (ST): not an 837P"
	}
	var ids []string
	for id, n := range t.setIDs {
		name := setNames[id]
		if name == "" {
			name = id
		}
		ids = append(ids, fmt.Sprintf("%d %s", n, name))
	}
	sort.Strings(ids)
	return "an X12 file of " + strings.Join(ids, ", ") + " set(s), not an 837P claim batch"
}

// spanAt returns the i-th undecided claim's span (one is made when the
// reader hands out a claim the tracker did not see start).
func (t *x837Run) spanAt(i int) *span {
	for len(t.spans) <= i {
		t.spans = append(t.spans, &span{start: t.lastSeg, end: t.lastSeg, kind: t.kind})
	}
	return t.spans[i]
}

func (t *x837Run) closeClaim(last int) {
	if t.open != nil {
		t.open.end = last
		t.open = nil
	}
}

func (t *x837Run) segment(seg *x12.Segment) {
	t.lastSeg = seg.Num
	switch seg.ID() {
	case "GS":
		t.closeClaim(seg.Num - 1)
		t.gsVer = seg.Text(8)
	case "ST":
		t.closeClaim(seg.Num - 1)
		kind := seg.Text(1)
		if kind == "837" {
			v := seg.Text(3)
			if v == "" {
				v = t.gsVer
			}
			switch {
			case strings.Contains(v, "X222"):
				kind = "837P"
			case strings.Contains(v, "X223"):
				kind = "837I"
			case strings.Contains(v, "X224"):
				kind = "837D"
			}
		}
		t.setIDs[kind]++
		t.kind = kind
		t.in837 = seg.Text(1) == "837"
		t.set = &loopCtx{num: seg.Num}
		t.cur = t.set
		clear(t.levels)
		t.recent = t.recent[:0]
	case "SE", "GE", "IEA", "ISA":
		t.closeClaim(seg.Num - 1)
		if seg.ID() == "SE" {
			t.in837 = false
		}
	case "HL":
		t.closeClaim(seg.Num - 1)
		if !t.in837 {
			return
		}
		parent := t.set
		switch lvl := seg.Text(3); lvl {
		case "22":
			parent = t.levels["20"]
		case "23":
			parent = t.levels["22"]
		}
		if parent == nil {
			parent = t.set
		}
		c := &loopCtx{num: seg.Num, parent: parent}
		t.levels[seg.Text(3)] = c
		t.cur = c
		if len(t.recent) == recentLoops {
			copy(t.recent, t.recent[1:])
			t.recent = t.recent[:recentLoops-1]
		}
		t.recent = append(t.recent, c)
	case "CLM":
		t.closeClaim(seg.Num - 1)
		if !t.in837 {
			return
		}
		sp := &span{start: seg.Num, ctx: t.cur, kind: t.kind}
		t.spans = append(t.spans, sp)
		t.open = sp
	}
}

// finding attributes a validator or syntax finding: to the claim holding
// its segment, else to the loop holding it (its claims are rejected),
// else (the interchange and group envelopes and SE, which re-enveloping
// replaces) to the batch, reported once without rejecting claims.
func (t *x837Run) finding(f x12.Finding) {
	if f.Severity != x12.Error {
		return
	}
	for i := len(t.spans) - 1; i >= 0; i-- {
		sp := t.spans[i]
		if f.Segment >= sp.start && (sp.end == 0 || f.Segment <= sp.end) {
			t.claimFinding(sp, f)
			return
		}
	}
	pr := Problem{Where: "segment " + strconv.Itoa(f.Segment), Rule: f.Rule, Message: f.Message}
	if f.Segment == 0 {
		pr.Where = ""
	}
	var ctx *loopCtx
	if t.set != nil && f.Segment > t.set.num && f.SegmentID != "SE" && f.SegmentID != "GE" && f.SegmentID != "IEA" {
		ctx = t.set
		for i := len(t.recent) - 1; i >= 0; i-- {
			if t.recent[i].num <= f.Segment {
				ctx = t.recent[i]
				break
			}
		}
	}
	if ctx == nil || !t.in837 && f.Segment > t.lastSeg {
		if len(t.envelope) < maxProblemsPerClaim {
			t.envelope = append(t.envelope, pr)
		} else {
			t.envMore++
		}
		return
	}
	if ctx.taint != nil {
		ctx.taint.others++
		return
	}
	ctx.taint = &taint{first: pr}
	if len(t.taints) < maxTaints {
		t.taints = append(t.taints, ctx.taint)
	} else {
		t.report(ctx.taint)
	}
}

func (t *x837Run) claimFinding(sp *span, f x12.Finding) {
	if len(sp.probs) >= maxProblemsPerClaim {
		sp.more++
		return
	}
	sp.probs = append(sp.probs, Problem{Where: "segment " + strconv.Itoa(f.Segment), Rule: f.Rule, Message: f.Message})
}

// report reports a loop's error once, with the claims it rejected.
func (t *x837Run) report(x *taint) {
	pr := x.first
	pr.Claims = x.claims
	msg := fmt.Sprintf("%s (in a loop around claims: rejects its %d claim(s)", pr.Message, x.claims)
	if x.others > 0 {
		msg += fmt.Sprintf("; %d more error(s) in the loop", x.others)
	}
	pr.Message = msg + ")"
	if x.claims > 0 {
		t.p.reject(pr)
	} else {
		t.p.warn(pr)
	}
}

func (t *x837Run) decide(ctx context.Context, it *x837p.Item, sp *span) error {
	if err := ctx.Err(); err != nil {
		return err // stop between claims; Run counts what is held
	}
	p := t.p
	p.sum.Read++
	if p.cfg.Events.Claim != nil {
		p.cfg.Events.Claim(p.sum.Read)
	}
	id, payer := "", ""
	if it.Claim != nil {
		id = it.Claim.ID
	}
	if it.Subscriber != nil {
		payer = it.Subscriber.Payer.ID
	}
	reject := func(pr Problem) {
		pr.ClaimID, pr.PayerID = id, payer
		p.reject(pr)
	}
	rejected := false
	if sp.kind != "837P" {
		// The reader maps any 837; only professional claims go out.
		reject(Problem{Where: "segment " + strconv.Itoa(sp.start), Rule: "x837p.not-professional",
			Message: "the claim is in a transaction set of " + setNames[sp.kind] + ", not an 837P (005010X222)"})
		rejected = true
	}
	for _, pr := range sp.probs {
		reject(pr)
		rejected = true
	}
	if sp.more > 0 {
		reject(Problem{Rule: "x837p.more", Message: fmt.Sprintf("%d more finding(s) in this claim not shown", sp.more)})
	}
	for c := sp.ctx; c != nil; c = c.parent {
		if c.taint != nil {
			c.taint.claims++
			rejected = true
		}
	}
	if rejected {
		p.sum.Rejected++
		return nil
	}
	key, hasKey := itemKey(it, p.cfg.Scrub.DuplicateKeySecret)
	if hasKey {
		seen, err := p.seen.SeenBefore(ctx, key)
		if err != nil {
			return fmt.Errorf("pipeline: duplicate-claim store: %w", err)
		}
		if seen {
			p.sum.Rejected++
			reject(Problem{Where: "segment " + strconv.Itoa(sp.start), Rule: scrub.IDDuplicateClaim,
				Message: "an original claim for the same patient, payer, service dates and procedures was already sent (in an earlier batch or earlier in this one); send a replacement (frequency 7) instead"})
			return nil
		}
	}
	if it.Subscriber != nil {
		if err := p.ensureReceiver(it.Subscriber.Payer.ID, it.Subscriber.Payer.Name); err != nil {
			p.sum.Rejected++
			reject(Problem{Where: "segment " + strconv.Itoa(sp.start), Rule: "assemble", Message: err.Error()})
			return nil
		}
	}
	if err := p.asm.AddItem(*it); err != nil {
		p.sum.Rejected++
		reject(Problem{Where: "segment " + strconv.Itoa(sp.start), Rule: "assemble", Message: err.Error()})
		return nil
	}
	if hasKey {
		p.run.Remember(ctx, key)
		p.keys[heldKey{it.Subscriber.Payer.ID, id}] = key
	}
	return p.held1(ctx, it.Subscriber.Payer.ID, len(it.Claim.Lines))
}
