package payersim

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/claimgate/claimgate/edi/x277ca"
	"github.com/claimgate/claimgate/edi/x835"
	"github.com/claimgate/claimgate/edi/x837p"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/scrub"
)

// payee is the billing provider an 835 set pays.
type payee struct {
	npi, name string
}

// lineDecision is the verdict on one service line before pricing.
type lineDecision struct {
	line        *x837p.Line
	billedUnits int64 // whole units billed
	units       int64 // units allowed
	unitsReason *Reason
	deny        *Reason
	denyRule    string
}

// claimDecision is the verdict on one claim before pricing: everything
// price needs, so a later cycle can reprice it for a correction.
type claimDecision struct {
	item     *x837p.Item
	payee    payee
	from, to string // first and last date of service, CCYYMMDD
	received time.Time
	reject   *x277ca.StatusCode // front-end (277CA) rejection
	icn      string
	lines    []lineDecision
	rules    []string
	dupKey   string
	// corrects is the paid claim a replacement (frequency 7) or void (8)
	// names in REF*F8.
	corrects *paidRecord
	// deductible is PR-1 to take (0 when the claim is not picked).
	deductible x835.Amount
}

func (d *claimDecision) fire(rule string) {
	for _, r := range d.rules {
		if r == rule {
			return
		}
	}
	d.rules = append(d.rules, rule)
}

func (d *claimDecision) rulesFired() []string { return append([]string(nil), d.rules...) }

// patientEntity277 is the 277CA NM1*QC: the patient, with the member id.
func (d *claimDecision) patientEntity277() x277ca.Entity {
	it := d.item
	n := it.Subscriber.Name
	if it.Patient != nil {
		n = it.Patient.Name
	}
	return x277ca.Entity{LastName: n.Last, FirstName: n.First, MiddleName: n.Middle, Suffix: n.Suffix, Type: "1", IDQual: "MI", ID: it.Subscriber.ID}
}

var bypassModifiers = map[string]bool{"59": true, "XE": true, "XS": true, "XP": true, "XU": true}

func hasModifier(l *x837p.Line, m string) bool {
	for _, x := range l.Modifiers {
		if x == m {
			return true
		}
	}
	return false
}

func hasBypass(l *x837p.Line) bool {
	for _, x := range l.Modifiers {
		if bypassModifiers[x] {
			return true
		}
	}
	return false
}

// duplicateKey identifies the services of a claim: billing provider,
// member, patient and each line's date, code, modifiers, units and
// charge. It is a hash, so it holds no patient data.
func duplicateKey(payer string, it *x837p.Item) string {
	h := sha256.New()
	w := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	w(payer)
	w(it.Billing.NPI)
	w(it.Subscriber.ID)
	if it.Patient != nil {
		w(it.Patient.Name.Last)
		w(it.Patient.Name.First)
		w(it.Patient.Birth)
	}
	lines := make([]string, 0, len(it.Claim.Lines))
	for i := range it.Claim.Lines {
		l := &it.Claim.Lines[i]
		lines = append(lines, strings.Join([]string{l.ServiceDate, l.Procedure, strings.Join(l.Modifiers[:], ":"),
			strconv.FormatInt(int64(l.Units), 10), strconv.FormatInt(l.Charge, 10)}, "|"))
	}
	sort.Strings(lines)
	for _, l := range lines {
		w(l)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// decide applies the payer's front-end edits and adjudication rules to
// one claim.
func (s *Simulator) decide(p *PayerConfig, it *x837p.Item, now time.Time) *claimDecision {
	c := it.Claim
	d := &claimDecision{item: it, payee: payee{npi: it.Billing.NPI, name: it.Billing.Name.Last}, received: now}
	if d.payee.name == "" {
		d.payee.name = "PROVIDER"
	}
	for i := range c.Lines {
		l := &c.Lines[i]
		if l.ServiceDate != "" && (d.from == "" || l.ServiceDate < d.from) {
			d.from = l.ServiceDate
		}
		end := orDefault(l.ServiceDateEnd, l.ServiceDate)
		if end > d.to {
			d.to = end
		}
		u := int64(l.Units) / 1000
		d.lines = append(d.lines, lineDecision{line: l, billedUnits: u, units: u})
	}
	if d.to == d.from {
		d.to = ""
	}

	// Front end (277CA): member id format, then a random share.
	switch {
	case p.member != nil && !p.member.MatchString(it.Subscriber.ID):
		d.reject = &x277ca.StatusCode{Category: "A7", Code: "164", Entity: "IL"}
		return d
	case s.chance("reject", p.ID, c.ID) < p.RejectRate:
		d.reject = &x277ca.StatusCode{Category: "A7", Code: "164", Entity: "IL"}
		return d
	}

	// A replacement or void must name a claim this payer paid (REF*F8 =
	// its payer claim number) and not already reversed.
	if c.Frequency == "7" || c.Frequency == "8" {
		rec := s.findPaid(p.ID, c.OriginalRef)
		if rec == nil {
			d.reject = &x277ca.StatusCode{Category: "A7", Code: "464"}
			return d
		}
		d.corrects = rec
	}

	pol := p.policy
	d.dupKey = duplicateKey(p.ID, it)
	if s.chance("deductible", p.ID, c.ID) < p.DeductibleRate {
		d.deductible = p.Deductible
	}
	denyAll := func(rule string, r Reason) {
		d.fire(rule)
		for i := range d.lines {
			if d.lines[i].deny == nil {
				r := r
				d.lines[i].deny, d.lines[i].denyRule = &r, rule
			}
		}
	}
	// Claim-level denials first: they make line edits moot.
	if pol.TimelyFilingMonths > 0 && d.from != "" {
		if from, err := claim.ParseDate(d.from); err == nil {
			limit := from.Time().AddDate(0, pol.TimelyFilingMonths, 0)
			rcv := claim.DateOf(now).Time()
			if rcv.After(limit) {
				denyAll(RuleTimelyFiling, p.denials[RuleTimelyFiling])
				return d
			}
		}
	}
	if c.Frequency == "" || c.Frequency == "1" {
		if s.paidKeys[d.dupKey] {
			denyAll(RuleDuplicate, p.denials[RuleDuplicate])
			return d
		}
	}
	if s.chance("deny", p.ID, c.ID) < p.DenialRate {
		k := int(s.chance("deny-reason", p.ID, c.ID) * float64(len(p.RandomDenials)))
		denyAll("random", p.RandomDenials[k])
		return d
	}

	needsAuth := func(code string) bool {
		if !pol.PriorAuth.Required {
			return false
		}
		if len(pol.PriorAuth.Codes) == 0 {
			return true
		}
		for _, x := range pol.PriorAuth.Codes {
			if strings.EqualFold(strings.TrimSpace(x), code) {
				return true
			}
		}
		return false
	}
	denyLine := func(i int, rule string) {
		if d.lines[i].deny != nil {
			return
		}
		r := p.denials[rule]
		d.lines[i].deny, d.lines[i].denyRule = &r, rule
		d.fire(rule)
	}
	for i := range d.lines {
		l := d.lines[i].line
		code, pt := s.codes.Lookup(l.Procedure)
		if pt && pol.MedicareCodeStatus && code.Medicare == scrub.MedicareBundled {
			denyLine(i, RuleBundled)
		}
		if pt && pol.RequireGP && !hasModifier(l, "GP") {
			denyLine(i, RuleGPMissing)
		}
		if needsAuth(l.Procedure) && l.PriorAuth == "" && c.PriorAuth == "" {
			denyLine(i, RulePriorAuth)
		}
	}
	if pol.NCCI {
		for i := range d.lines {
			a := d.lines[i].line
			for j := range d.lines {
				b := d.lines[j].line
				if i == j || a.ServiceDate != b.ServiceDate || a.ServiceDate == "" {
					continue
				}
				dos, err := claim.ParseDate(b.ServiceDate)
				if err != nil {
					continue
				}
				pair, ok := s.ncci.Pair(a.Procedure, b.Procedure, dos)
				if ok && (pair.ModifierIndicator == 0 || !hasBypass(b)) {
					denyLine(j, RuleNCCI)
				}
			}
		}
	}
	s.timedUnits(p, d)
	return d
}

// timedUnits reduces timed codes billed over what the payer allows per
// date of service: with the minutes of every timed line of the date
// documented in the line notes, the 8-minute rule (or per-code rounding)
// over them; else a cap on the day's timed units.
func (s *Simulator) timedUnits(p *PayerConfig, d *claimDecision) {
	rule := p.policy.TimedUnits
	if rule == "" || rule == scrub.TimedNone {
		return
	}
	byDate := map[string][]int{}
	var dates []string
	for i := range d.lines {
		l := d.lines[i].line
		if code, ok := s.codes.Lookup(l.Procedure); !ok || !code.Timed || d.lines[i].deny != nil {
			continue
		}
		if _, ok := byDate[l.ServiceDate]; !ok {
			dates = append(dates, l.ServiceDate)
		}
		byDate[l.ServiceDate] = append(byDate[l.ServiceDate], i)
	}
	reason := p.denials[RuleTimedUnits]
	for _, date := range dates {
		idx := byDate[date]
		// The 8-minute rule needs the minutes of every timed line of the
		// date; with some undocumented, only the day cap applies.
		minutes := map[string]int{}
		documented := true
		for _, i := range idx {
			n := -1
			if m := p.minutes.FindStringSubmatch(strings.ToUpper(d.lines[i].line.Note)); m != nil {
				if v, err := strconv.Atoi(m[1]); err == nil && v < 1440 {
					n = v
				}
			}
			if n < 0 {
				documented = false
				break
			}
			minutes[d.lines[i].line.Procedure] += n
		}
		if documented {
			var allowed map[string]int
			if rule == scrub.TimedPerCode {
				allowed = scrub.PerCodeUnits(minutes)
			} else {
				allowed = scrub.MedicareUnits(minutes)
			}
			left := map[string]int64{}
			for code, u := range allowed {
				left[code] = int64(u)
			}
			for _, i := range idx {
				ld := &d.lines[i]
				a := min(ld.billedUnits, max(left[ld.line.Procedure], 0))
				left[ld.line.Procedure] -= a
				if a < ld.billedUnits {
					ld.units, ld.unitsReason = a, &reason
					d.fire(RuleTimedUnits)
				}
			}
			continue
		}
		total := int64(0)
		for _, i := range idx {
			total += d.lines[i].billedUnits
		}
		over := total - int64(p.MaxTimedUnitsPerDay)
		for k := len(idx) - 1; k >= 0 && over > 0; k-- {
			ld := &d.lines[idx[k]]
			cut := min(over, ld.units)
			if cut > 0 {
				ld.units -= cut
				ld.unitsReason = &reason
				over -= cut
				d.fire(RuleTimedUnits)
			}
		}
	}
}

// pct is v × percent / 100, rounded half up to a cent.
func pct(v x835.Amount, percent float64) x835.Amount {
	return x835.Amount(math.Round(float64(v) * percent / 100))
}

// price turns a decision into an 835 claim payment. factor scales the
// allowed amounts (1 for a first payment; below 1 for a correction).
func (s *Simulator) price(p *PayerConfig, d *claimDecision, factor float64) *x835.ClaimPayment {
	it := d.item
	c := it.Claim
	pay := &x835.ClaimPayment{
		PatientControlNumber:    c.ID,
		FilingIndicator:         clp06(orDefault(it.Subscriber.FilingCode, p.FilingCode)),
		PayerClaimControlNumber: d.icn,
		FacilityCode:            orDefault(c.PlaceOfService, "11"),
		Frequency:               orDefault(c.Frequency, "1"),
		Received:                x835.DateOf(d.received),
	}
	pn := it.Subscriber.Name
	if it.Patient != nil {
		pn = it.Patient.Name
		pay.Insured = &x835.Entity{Type: "1", Last: it.Subscriber.Name.Last, First: it.Subscriber.Name.First, IDQualifier: "MI", ID: it.Subscriber.ID}
	}
	pay.Patient = x835.Entity{Type: "1", Last: pn.Last, First: pn.First, Middle: pn.Middle, Suffix: pn.Suffix, IDQualifier: "MI", ID: it.Subscriber.ID}
	if pay.Insured != nil {
		pay.Patient.IDQualifier, pay.Patient.ID = "", ""
	}

	deductible, copay := d.deductible, p.Copay
	anyPaidLine := false
	for i := range d.lines {
		ld := &d.lines[i]
		l := ld.line
		sl := x835.ServiceLine{
			Procedure:     x835.Procedure{Qualifier: orDefault(l.Qualifier, "HC"), Code: l.Procedure},
			Charge:        x835.Amount(l.Charge),
			ControlNumber: l.ControlNumber,
		}
		for _, m := range l.Modifiers {
			if m != "" {
				sl.Procedure.Modifiers = append(sl.Procedure.Modifiers, m)
			}
		}
		if l.ServiceDateEnd != "" && l.ServiceDateEnd != l.ServiceDate {
			sl.ServiceFrom, sl.ServiceTo = d8(l.ServiceDate), d8(l.ServiceDateEnd)
		} else {
			sl.ServiceDate = d8(l.ServiceDate)
		}
		billed := float64(l.Units) / 1000
		remarks := func(r *Reason) {
			for _, code := range r.RARC {
				sl.Remarks = append(sl.Remarks, x835.Remark{Qualifier: "HE", Code: code})
			}
		}
		if ld.deny != nil {
			sl.Adjustments = append(sl.Adjustments, x835.Adjustment{Group: ld.deny.Group, Reason: ld.deny.CARC, Amount: sl.Charge})
			remarks(ld.deny)
			sl.UnitsPaid = 0
			sl.OriginalUnits = billed
			pay.Lines = append(pay.Lines, sl)
			continue
		}
		rest := sl.Charge
		sl.UnitsPaid = billed
		if ld.units < ld.billedUnits {
			// The units not allowed take their share of the charge.
			cut := x835.Amount(math.Round(float64(sl.Charge) * float64(ld.billedUnits-ld.units) / float64(ld.billedUnits)))
			sl.Adjustments = append(sl.Adjustments, x835.Adjustment{Group: ld.unitsReason.Group, Reason: ld.unitsReason.CARC, Amount: cut,
				Quantity: float64(ld.billedUnits - ld.units)})
			remarks(ld.unitsReason)
			rest -= cut
			sl.UnitsPaid = float64(ld.units)
			sl.OriginalUnits = billed
		}
		allowed := rest
		if fee, ok := p.FeeSchedule[l.Procedure]; ok || p.DefaultFee > 0 {
			if !ok {
				fee = p.DefaultFee
			}
			allowed = min(rest, x835.Amount(math.Round(float64(fee)*sl.UnitsPaid)))
		}
		if factor != 1 {
			allowed = x835.Amount(math.Round(float64(allowed) * factor))
		}
		if co45 := rest - allowed; co45 > 0 {
			sl.Adjustments = append(sl.Adjustments, x835.Adjustment{Group: "CO", Reason: "45", Amount: co45})
		}
		left := allowed
		var pr []x835.Adjustment
		if ded := min(deductible, left); ded > 0 {
			pr = append(pr, x835.Adjustment{Group: "PR", Reason: "1", Amount: ded})
			deductible -= ded
			left -= ded
		}
		if co := pct(left, p.CoinsurancePercent); co > 0 {
			pr = append(pr, x835.Adjustment{Group: "PR", Reason: "2", Amount: co})
			left -= co
		}
		if cp := min(copay, left); cp > 0 {
			pr = append(pr, x835.Adjustment{Group: "PR", Reason: "3", Amount: cp})
			copay -= cp
			left -= cp
		}
		sl.Adjustments = append(sl.Adjustments, pr...)
		for _, a := range pr {
			pay.PatientResponsibility += a.Amount
		}
		sl.Paid = left
		sl.Amounts = []x835.SupplementalAmount{{Qualifier: "B6", Amount: allowed}}
		anyPaidLine = true
		pay.Lines = append(pay.Lines, sl)
	}
	for i := range pay.Lines {
		pay.Charge += pay.Lines[i].Charge
		pay.Paid += pay.Lines[i].Paid
	}
	switch {
	case !anyPaidLine:
		pay.Status = "4"
	case it.Subscriber.Sequence == "S":
		pay.Status = "2"
	case it.Subscriber.Sequence == "T":
		pay.Status = "3"
	default:
		pay.Status = "1"
	}
	return pay
}

// clp06 maps an 837 claim filing indicator (SBR09) to the 835's CLP06
// code list, which lacks the commercial codes: CI (commercial) becomes 15
// (indemnity), BL (Blue Cross) 12 (PPO), anything else unknown ZZ.
func clp06(sbr09 string) string {
	switch sbr09 {
	case "12", "13", "14", "15", "16", "17", "AM", "CH", "DS", "HM", "LM", "MA", "MB", "MC", "OF", "TV", "VA", "WC", "ZZ":
		return sbr09
	case "CI":
		return "15"
	case "BL":
		return "12"
	}
	return "ZZ"
}

func d8(s string) x835.Date {
	if len(s) != 8 {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return x835.Date(n)
}

// remember keeps a paid claim for duplicate detection and later
// reversals.
func (s *Simulator) remember(p *PayerConfig, d *claimDecision, pay *x835.ClaimPayment) {
	s.rememberKey(d.dupKey)
	h := append(s.history[p.ID], &paidRecord{cycle: s.cycle, payee: d.payee, claim: d, pay: pay})
	if len(h) > maxHistory {
		h = h[len(h)-maxHistory:]
	}
	s.history[p.ID] = h
}

// findPaid returns the claim a payer paid under a payer claim number,
// unless it was reversed since.
func (s *Simulator) findPaid(payer, icn string) *paidRecord {
	if icn == "" {
		return nil
	}
	h := s.history[payer]
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].pay.PayerClaimControlNumber == icn {
			if h[i].reversed {
				return nil
			}
			return h[i]
		}
	}
	return nil
}

// reverse adds the reversal of a paid claim to the cycle and forgets it
// as a duplicate target (the services may be billed again).
func (s *Simulator) reverse(rec *paidRecord, cyc *cycle) {
	rec.reversed = true
	cyc.add(rec.payee, negate(rec.pay))
	delete(s.paidKeys, rec.claim.dupKey)
}

// reversals adds to the cycle a reversal and correction pair for each
// claim paid in an earlier cycle that the payer picks (ReversalRate),
// each at most once, and returns their payer claim numbers.
func (s *Simulator) reversals(p *PayerConfig, cyc *cycle) []string {
	if p.ReversalRate <= 0 {
		return nil
	}
	var out []string
	for _, h := range s.history[p.ID] {
		if h.reversed || h.cycle >= s.cycle || s.chance("reverse", p.ID, h.pay.PayerClaimControlNumber) >= p.ReversalRate {
			continue
		}
		s.reverse(h, cyc)
		corr := s.price(p, h.claim, 1-p.CorrectionPercent/100)
		cyc.add(h.payee, corr)
		out = append(out, h.pay.PayerClaimControlNumber)
	}
	return out
}

// negate returns the reversal of a payment: CLP02 22, every amount with
// its sign reversed.
func negate(c *x835.ClaimPayment) *x835.ClaimPayment {
	r := *c
	r.Status = "22"
	r.Charge, r.Paid, r.PatientResponsibility = -c.Charge, -c.Paid, -c.PatientResponsibility
	r.Adjustments = negAdj(c.Adjustments)
	r.Lines = make([]x835.ServiceLine, len(c.Lines))
	for i, l := range c.Lines {
		l.Charge, l.Paid = -l.Charge, -l.Paid
		l.Adjustments = negAdj(l.Adjustments)
		amts := make([]x835.SupplementalAmount, len(l.Amounts))
		for k, a := range l.Amounts {
			amts[k] = x835.SupplementalAmount{Qualifier: a.Qualifier, Amount: -a.Amount}
		}
		l.Amounts = amts
		r.Lines[i] = l
	}
	return &r
}

func negAdj(as []x835.Adjustment) []x835.Adjustment {
	out := make([]x835.Adjustment, len(as))
	for i, a := range as {
		a.Amount = -a.Amount
		out[i] = a
	}
	return out
}
