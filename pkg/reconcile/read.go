package reconcile

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/claimgate/claimgate/edi/codes"
	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x277ca"
	"github.com/claimgate/claimgate/edi/x835"
	"github.com/claimgate/claimgate/edi/x999"
	"github.com/claimgate/claimgate/pkg/claim"
)

// maxHeldSets bounds the accepted 999 set responses held until their
// group's AK9 is read (an AK9 rejecting the group rejects them). Real
// groups hold at most a few thousand sets; beyond the bound a set is
// emitted on its IK5 alone.
const maxHeldSets = 100000

// Read detects the type of the response file r (TA1, 999, 277CA, 835),
// reads it once, streaming, and calls emit with one Outcome per part that
// speaks for submitted claims, in file order (a 999's accepted sets once
// their group's AK9 is read; TA1s at the end). name and digest identify
// the file in the outcomes. A file of another type gives KindUnknown with
// a note and no outcome. Data problems are the edi readers' findings
// (counted in Summary); the error is an I/O error or emit's.
//
// Memory stays bounded whatever the file's size: the readers stream and
// each Outcome is built from one claim (or set, or TA1) at a time.
func Read(r io.Reader, name, digest string, emit func(*Outcome) error) (Summary, error) {
	br := bufio.NewReaderSize(r, detectWindow)
	d := detect(br)
	s := Summary{Kind: d.kind, Partner: d.partner, Note: d.note}
	rd := &reading{name: strings.Clone(name), digest: strings.Clone(digest), partner: d.partner, emit: emit, sum: &s}
	var err error
	switch d.kind {
	case KindTA1, Kind999:
		err = rd.read999(br)
	case Kind277CA:
		err = rd.read277(br)
	case Kind835:
		err = rd.read835(br)
	}
	return s, err
}

type reading struct {
	name, digest, partner string
	emit                  func(*Outcome) error
	sum                   *Summary
	pos                   int

	// the 835 transaction set of the last claim and its copied values
	rem                                                 *x835.Remittance
	remPartner, remPayer, remTrace, remDate, remLocator string
	pack                                                []byte
	packEnds                                            []int
}

// outcome starts an Outcome at the next position.
func (rd *reading) outcome(kind Kind, locator string) *Outcome {
	rd.pos++
	return &Outcome{Kind: kind, File: rd.name, Digest: rd.digest, Position: rd.pos, Locator: locator,
		Keys: Keys{Partner: rd.partner}}
}

func (rd *reading) send(o *Outcome) error {
	rd.sum.Outcomes++
	return rd.emit(o)
}

func (rd *reading) read999(br io.Reader) error {
	x := x999.NewReader(br, rd.name)
	var held []*Outcome
	setsInGroup := 0
	for {
		g, set, err := x.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if set != nil {
			setsInGroup++
			o := rd.setOutcome(g, set)
			if set.Accepted() && len(held) < maxHeldSets {
				held = append(held, o)
				continue
			}
			if err := rd.send(o); err != nil {
				return err
			}
			continue
		}
		// The group ended: its AK9 decides the held sets.
		rejected := groupRejected(g.Status)
		for _, o := range held {
			if rejected {
				o.State = claim.AckRejected
				o.Status = strings.Clone(g.Status)
				o.Reasons = append(o.Reasons, ak9Reasons(g)...)
			}
			if err := rd.send(o); err != nil {
				return err
			}
		}
		if setsInGroup == 0 && rejected {
			// A group rejected as a whole without AK2 loops: every set
			// of the group is rejected.
			o := rd.outcome(Kind999, fmt.Sprintf("999 %s AK1 group %s", g.Control, g.GroupControl))
			o.Keys.Group = strings.Clone(g.GroupControl)
			o.State, o.Status, o.Reasons = claim.AckRejected, strings.Clone(g.Status), ak9Reasons(g)
			if err := rd.send(o); err != nil {
				return err
			}
		}
		held, setsInGroup = held[:0], 0
	}
	rd.sum.Findings += len(x.Findings())
	return rd.ta1s(x.InterchangeAcks())
}

// groupRejected reports whether AK901 rejects the whole group.
func groupRejected(status string) bool {
	switch status {
	case x999.StatusRejected, x999.StatusMACFailed, x999.StatusAssuranceFailed, x999.StatusDecryptFailed:
		return true
	}
	return false
}

func (rd *reading) setOutcome(g *x999.GroupResponse, s *x999.SetResponse) *Outcome {
	o := rd.outcome(Kind999, fmt.Sprintf("999 %s AK2 set %s", g.Control, s.Control))
	o.Keys.Group = strings.Clone(g.GroupControl)
	o.Keys.Set = strings.Clone(s.Control)
	o.Status = strings.Clone(s.Status)
	switch {
	case s.Accepted():
		o.State = claim.AckAccepted
	case s.Status == "":
		// an AK2 loop without IK5 (a reader finding): no verdict
	default:
		o.State = claim.AckRejected
	}
	for i := range s.SegmentErrors {
		se := &s.SegmentErrors[i]
		o.Reasons = append(o.Reasons, Reason{Source: "IK3", Code: strings.Clone(se.Code), Text: text(codes.SegmentSyntaxError(), se.Code),
			Segment: strings.Clone(se.SegmentID), SegmentPosition: se.Position, Loop: strings.Clone(se.Loop)})
		for j := range se.Elements {
			el := &se.Elements[j]
			// IK404 (a copy of the bad data) may be patient data: not kept.
			o.Reasons = append(o.Reasons, Reason{Source: "IK4", Code: strings.Clone(el.Code), Text: text(codes.ElementSyntaxError(), el.Code),
				Segment: strings.Clone(se.SegmentID), SegmentPosition: se.Position, Loop: strings.Clone(se.Loop),
				Element: el.Position.Element, Component: el.Position.Component, ElementRef: strings.Clone(el.Reference)})
		}
	}
	for _, c := range s.Errors {
		o.Reasons = append(o.Reasons, Reason{Source: "IK5", Code: strings.Clone(c), Text: text(codes.TransactionSetSyntaxError(), c)})
	}
	return o
}

func ak9Reasons(g *x999.GroupResponse) []Reason {
	out := []Reason{{Source: "AK9", Code: strings.Clone(g.Status), Text: text(codes.FunctionalGroupAck(), g.Status)}}
	for _, c := range g.Errors {
		out = append(out, Reason{Source: "AK9", Code: strings.Clone(c), Text: text(codes.FunctionalGroupSyntaxError(), c)})
	}
	return out
}

// ta1s emits one outcome per TA1: a rejected interchange rejects every
// claim in it; an accepted one is recorded without a state change (the
// 999 decides per set).
func (rd *reading) ta1s(ta1s []x12.TA1) error {
	for _, t := range ta1s {
		o := rd.outcome(KindTA1, "TA1 "+t.Control)
		o.Keys.Interchange = strings.Clone(t.Control)
		o.Status = strings.Clone(t.Ack)
		if t.Ack == "R" {
			o.State = claim.AckRejected
		}
		if t.Note != "" {
			o.Reasons = []Reason{{Source: "TA1", Code: strings.Clone(t.Note), Text: ta1Notes[t.Note]}}
		}
		if err := rd.send(o); err != nil {
			return err
		}
	}
	return nil
}

func (rd *reading) read277(br io.Reader) error {
	x := x277ca.NewReader(br, rd.name)
	for {
		ev, err := x.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		var o *Outcome
		switch {
		case ev.Kind == x277ca.ClaimDone && ev.Claim != nil:
			o = rd.claimStatus(ev)
		case ev.Kind == x277ca.ProviderDone && ev.Provider != nil && ev.Provider.Rejected():
			o = rd.providerRejection(ev)
		default:
			continue
		}
		if err := rd.send(o); err != nil {
			return err
		}
	}
	rd.sum.Findings += len(x.Findings())
	return rd.ta1s(x.InterchangeAcks())
}

func (rd *reading) claimStatus(ev x277ca.Event) *Outcome {
	c := ev.Claim
	o := rd.outcome(Kind277CA, fmt.Sprintf("277CA %s claim %d", ev.Transaction.Control, rd.pos+1))
	o.Keys.ClaimID = strings.Clone(c.PatientControl)
	if ev.Source != nil {
		o.Keys.Payer = strings.Clone(ev.Source.Name.ID)
	}
	if ev.Receiver != nil {
		o.Keys.Batch = strings.Clone(ev.Receiver.Trace)
	}
	o.PayerClaimNumber = strings.Clone(c.PayerClaimControl)
	o.Trace = strings.Clone(c.ClearinghouseTrace)
	o.State = stateOf277(c.Outcome)
	o.Status = decisiveCategory(c.Statuses, c.Outcome)
	o.Reasons = stcReasons(c.Statuses)
	for i := range c.Lines {
		ln := &c.Lines[i]
		billed, _ := claim.ParseMoney(ln.Charge)
		o.Lines = append(o.Lines, LineOutcome{Control: strings.Clone(ln.LineControl), Procedure: strings.Clone(ln.Procedure),
			State: stateOf277(ln.Outcome), Billed: billed, Reasons: stcReasons(ln.Statuses)})
	}
	return o
}

// providerRejection is a 2000C billing provider rejected as a whole: all
// its claims in the batch are rejected. The index does not record billing
// providers, so the reconciler reports it unmatched.
func (rd *reading) providerRejection(ev x277ca.Event) *Outcome {
	p := ev.Provider
	o := rd.outcome(Kind277CA, fmt.Sprintf("277CA %s provider %s", ev.Transaction.Control, p.HL))
	if ev.Source != nil {
		o.Keys.Payer = strings.Clone(ev.Source.Name.ID)
	}
	if ev.Receiver != nil {
		o.Keys.Batch = strings.Clone(ev.Receiver.Trace)
	}
	o.State = claim.PayerRejected
	o.Status = decisiveCategory(p.Statuses, p.Outcome)
	o.Reasons = stcReasons(p.Statuses)
	return o
}

func stateOf277(o x277ca.Outcome) claim.State {
	switch o {
	case x277ca.OutcomeAccepted:
		return claim.PayerAccepted
	case x277ca.OutcomeRejected:
		return claim.PayerRejected
	}
	return "" // received, pending, unknown: recorded only
}

// decisiveCategory is the first category whose outcome is the claim's.
func decisiveCategory(ss []x277ca.Status, want x277ca.Outcome) string {
	for i := range ss {
		if ss[i].StatusCode.Outcome() == want {
			return strings.Clone(ss[i].Category)
		}
		for _, m := range ss[i].More {
			if m.Outcome() == want {
				return strings.Clone(m.Category)
			}
		}
	}
	if len(ss) > 0 {
		return strings.Clone(ss[0].Category)
	}
	return ""
}

func stcReasons(ss []x277ca.Status) []Reason {
	var out []Reason
	add := func(sc x277ca.StatusCode) {
		t := text(codes.ClaimStatusCategory(), sc.Category)
		if st := text(codes.ClaimStatus(), sc.Code); st != "" {
			t += ": " + st
		}
		out = append(out, Reason{Source: "STC", Category: strings.Clone(sc.Category), Code: strings.Clone(sc.Code),
			Entity: strings.Clone(sc.Entity), Text: t})
	}
	for i := range ss {
		add(ss[i].StatusCode)
		for _, m := range ss[i].More {
			add(m)
		}
	}
	return out
}

func (rd *reading) read835(br io.Reader) error {
	x := x835.NewReader(br)
	x.Name = rd.name
	x.ReuseClaims = true
	x.MaxFindings = 1000
	for {
		c, err := x.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := rd.send(rd.payment(c)); err != nil {
			return err
		}
	}
	rd.sum.Findings += len(x.Findings()) + x.Dropped()
	return nil
}

func (rd *reading) payment(c *x835.ClaimPayment) *Outcome {
	rem := c.Remittance
	if rem != rd.rem {
		// Values of the transaction set, copied once for all its claims.
		rd.rem = rem
		rd.remPartner = rd.partner
		if p := rem.Envelope.InterchangeSender; p != "" {
			rd.remPartner = strings.Clone(p)
		}
		rd.remPayer = strings.Clone(payerID(rem))
		rd.remTrace = strings.Clone(rem.Payment.TraceNumber)
		rd.remDate = rem.Payment.Date.String()
		rd.remLocator = "835 " + strings.Clone(rem.Control) + " claim "
	}
	o := rd.outcome(Kind835, rd.remLocator+strconv.Itoa(c.Index+1))
	o.Keys.Partner, o.Keys.Payer = rd.remPartner, rd.remPayer
	o.Trace, o.PaymentDate = rd.remTrace, rd.remDate
	// The claim's own strings are copied into one allocation.
	pk := packer{buf: rd.pack[:0], ends: rd.packEnds[:0]}
	pk.add(c.PatientControlNumber)
	pk.add(c.PayerClaimControlNumber)
	for i := range c.Lines {
		pk.add(c.Lines[i].ControlNumber)
		pk.add(c.Lines[i].Procedure.Code)
	}
	str := pk.strings()
	rd.pack, rd.packEnds = pk.buf, pk.ends
	o.Keys.ClaimID, o.PayerClaimNumber = str(0), str(1)
	o.Status = clp02(c.Status)
	o.Amounts = &Amounts{Billed: claim.Money(c.Charge), Paid: claim.Money(c.Paid), PatientResponsibility: claim.Money(c.PatientResponsibility)}
	classify835(c, o)
	for i := range o.Lines {
		o.Lines[i].Control, o.Lines[i].Procedure = str(2+2*i), str(3+2*i)
	}
	return o
}

// packer copies several strings into one allocation.
type packer struct {
	buf  []byte
	ends []int
}

func (p *packer) add(s string) {
	p.buf = append(p.buf, s...)
	p.ends = append(p.ends, len(p.buf))
}

// strings returns the i-th string added, a substring of one copy.
func (p *packer) strings() func(i int) string {
	all := string(p.buf)
	ends := p.ends
	return func(i int) string {
		from := 0
		if i > 0 {
			from = ends[i-1]
		}
		return all[from:ends[i]]
	}
}

// clp02 returns a copy of a claim status code, constants for the common
// ones.
func clp02(s string) string {
	for _, c := range [...]string{"1", "2", "3", "4", "19", "20", "21", "22", "23", "25"} {
		if s == c {
			return c
		}
	}
	return strings.Clone(s)
}

// payerID is the payer id an 835 names: REF*2U, else N1*PR N104.
func payerID(rem *x835.Remittance) string {
	for _, r := range rem.Payer.References {
		if r.Qualifier == "2U" {
			return r.Value
		}
	}
	return rem.Payer.ID
}

// classify835 sets the state, reasons, denial category and line outcomes
// of an 835 claim payment. The rules (docs/reconcile.md):
//
//   - CLP02 22 → reversed.
//   - CLP02 23 (not our claim) or 25 (predetermination) → no state change.
//   - CLP02 4 → denied.
//   - CLP04 = 0 and some claim or line adjustment of a non-zero amount in
//     a denial category (edi/codes Category.IsDenial: not contractual,
//     not patient responsibility) → denied.
//   - CLP04 > 0 and such an adjustment → partially_paid.
//   - otherwise → paid (a claim applied wholly to the deductible, PR-1,
//     is paid with zero payment, not denied).
func classify835(c *x835.ClaimPayment, o *Outcome) {
	claimRARCs := c.Remarks()
	var worst claim.Money // the largest denial adjustment decides the category
	denial := false
	note := func(adj *x835.Adjustment, rarcs []string, into *[]Reason) (bool, string) {
		cat := codes.Classify(adj.Group, adj.Reason, rarcs)
		r := Reason{Source: "CAS", Group: strings.Clone(adj.Group), Code: strings.Clone(adj.Reason),
			Text: text(codes.CARC(), adj.Reason), Amount: claim.Money(adj.Amount), DenialCategory: cat.String()}
		*into = append(*into, r)
		isDenial := cat.IsDenial() && adj.Amount != 0
		if isDenial && (claim.Money(abs(adj.Amount)) > worst || o.DenialCategory == "") {
			worst = claim.Money(abs(adj.Amount))
			o.DenialCategory = cat.String()
		}
		return isDenial, cat.String()
	}
	for i := range c.Adjustments {
		if d, _ := note(&c.Adjustments[i], claimRARCs, &o.Reasons); d {
			denial = true
		}
	}
	for _, rc := range claimRARCs {
		o.Reasons = append(o.Reasons, Reason{Source: "RARC", Code: strings.Clone(rc), Text: text(codes.RARC(), rc)})
	}
	o.Lines = make([]LineOutcome, 0, len(c.Lines))
	for i := range c.Lines {
		ln := &c.Lines[i]
		var rarcs []string
		for _, rm := range ln.Remarks {
			if rm.Qualifier == "HE" {
				rarcs = append(rarcs, rm.Code)
			}
		}
		// Control and Procedure are set by the caller (payment).
		lo := LineOutcome{Billed: claim.Money(ln.Charge), Paid: claim.Money(ln.Paid)}
		all := append(rarcs[:len(rarcs):len(rarcs)], claimRARCs...)
		lineDenial := false
		for j := range ln.Adjustments {
			d, cat := note(&ln.Adjustments[j], all, &lo.Reasons)
			if d {
				lineDenial = true
				if lo.DenialCategory == "" {
					lo.DenialCategory = cat
				}
			}
		}
		for _, rc := range rarcs {
			lo.Reasons = append(lo.Reasons, Reason{Source: "RARC", Code: strings.Clone(rc), Text: text(codes.RARC(), rc)})
		}
		switch {
		case !lineDenial:
			lo.State = claim.Paid
		case ln.Paid == 0:
			lo.State = claim.Denied
		default:
			lo.State = claim.PartiallyPaid
		}
		denial = denial || lineDenial
		o.Lines = append(o.Lines, lo)
	}
	switch {
	case c.Status == "22":
		o.State = claim.Reversed
	case c.Status == "23" || c.Status == "25":
		o.State = ""
	case c.Status == "4":
		o.State = claim.Denied
	case denial && c.Paid == 0:
		o.State = claim.Denied
	case denial:
		o.State = claim.PartiallyPaid
	default:
		o.State = claim.Paid
	}
	if o.State != claim.Denied && o.State != claim.PartiallyPaid {
		o.DenialCategory = ""
	}
}

func abs(a x835.Amount) x835.Amount {
	if a < 0 {
		return -a
	}
	return a
}

// text is the description of code in set, or "".
func text(s *codes.Set, code string) string {
	if c, ok := s.Lookup(code); ok {
		return c.Description
	}
	return ""
}

// ta1Notes are the TA105 interchange note codes (X12 element I18).
var ta1Notes = map[string]string{
	"000": "No error",
	"001": "The interchange control number in the header and trailer do not match",
	"002": "This standard as noted in the control standards identifier is not supported",
	"003": "This version of the controls is not supported",
	"004": "The segment terminator is invalid",
	"005": "Invalid interchange ID qualifier for sender",
	"006": "Invalid interchange sender ID",
	"007": "Invalid interchange ID qualifier for receiver",
	"008": "Invalid interchange receiver ID",
	"009": "Unknown interchange receiver ID",
	"010": "Invalid authorization information qualifier value",
	"011": "Invalid authorization information value",
	"012": "Invalid security information qualifier value",
	"013": "Invalid security information value",
	"014": "Invalid interchange date value",
	"015": "Invalid interchange time value",
	"016": "Invalid interchange standards identifier value",
	"017": "Invalid interchange version ID value",
	"018": "Invalid interchange control number value",
	"019": "Invalid acknowledgment requested value",
	"020": "Invalid test indicator value",
	"021": "Invalid number of included groups value",
	"022": "Invalid control structure",
	"023": "Improper (premature) end-of-file (transmission)",
	"024": "Invalid interchange content (e.g. invalid GS segment)",
	"025": "Duplicate interchange control number",
	"026": "Invalid data element separator",
	"027": "Invalid component element separator",
	"028": "Invalid delivery date in deferred delivery request",
	"029": "Invalid delivery time in deferred delivery request",
	"030": "Invalid delivery time code in deferred delivery request",
	"031": "Invalid grade of service code",
}
