package x835

// Handlers for the segments of an 835, each placing its segment in the
// loop structure and filling the model.

import (
	"bytes"

	"github.com/claimgate/claimgate/edi/x12"
)

// header places a header segment (BPR, TRN, CUR), reporting one that
// comes after the header has ended.
func (p *parser) header(seg *x12.Segment, s slot) bool {
	if p.phase != phHeader {
		p.at(seg, x12.Error, RuleOrder, 0, 0, "%s belongs in the header, before the payer loop 1000A", slots[s].name)
		return false
	}
	p.place(seg, s)
	return true
}

func (p *parser) bpr(seg *x12.Segment) {
	p.haveBPR = true
	p.bprLoc = locOf(seg)
	pm := &p.rem.Payment
	pm.Handling = p.str(p.el.at(1))
	pm.Amount = p.amount(seg, 2)
	pm.CreditDebit = p.str(p.el.at(3))
	method := p.el.at(4)
	pm.Method = p.str(method)
	pm.Format = p.str(p.el.at(5))
	pm.SenderBank = BankAccount{DFIQualifier: p.str(p.el.at(6)), DFI: p.str(p.el.at(7)), AccountQualifier: p.str(p.el.at(8)), Account: string(p.el.at(9))}
	pm.OriginatorID = p.str(p.el.at(10))
	pm.OriginatorSupplemental = p.str(p.el.at(11))
	pm.ReceiverBank = BankAccount{DFIQualifier: p.str(p.el.at(12)), DFI: p.str(p.el.at(13)), AccountQualifier: p.str(p.el.at(14)), Account: string(p.el.at(15))}
	pm.Date = p.date(seg, 16)

	if len(method) > 0 && !validMethod(method) {
		p.at(seg, x12.Error, RuleBPRMethod, 4, 0, "BPR04 payment method %q is not ACH, BOP, CHK, FWT or NON", clip(method))
	}
	if pm.Amount < 0 {
		p.at(seg, x12.Error, RulePaymentNegative, 2, 0, "BPR02 total payment %s is negative: an 835 cannot be issued for less than zero dollars (use BPR03 D for a debit)", pm.Amount.Fixed())
	}
	if pm.Handling == "H" && pm.Amount != 0 {
		p.at(seg, x12.Warning, RuleBPRHandling, 1, 0, "BPR01 H (notification only) is for a zero payment, but BPR02 is %s", pm.Amount.Fixed())
	}
	switch pm.Method {
	case "NON":
		if pm.Amount != 0 {
			p.at(seg, x12.Warning, RuleBPRMethod, 4, 0, "BPR04 NON (no payment) with a non-zero BPR02 %s", pm.Amount.Fixed())
		}
		p.noBank(seg)
	case "CHK":
		p.noBank(seg)
	case "ACH", "BOP", "FWT":
		for _, i := range [...]int{5, 6, 7, 8, 9, 10, 12, 13, 14, 15} {
			if len(p.el.at(i)) == 0 {
				p.at(seg, x12.Error, RuleBPRBank, i, 0, "BPR%02d is required when BPR04 is %s (electronic payment needs both bank accounts)", i, pm.Method)
			}
		}
	}
}

func (p *parser) noBank(seg *x12.Segment) {
	for i := 5; i <= 15; i++ {
		if i != 10 && i != 11 && len(p.el.at(i)) > 0 {
			p.at(seg, x12.Warning, RuleBPRBank, i, 0, "BPR%02d (bank information) is sent only for ACH, BOP or FWT payments, not %s", i, p.rem.Payment.Method)
			return
		}
	}
}

func (p *parser) ref(seg *x12.Segment, q []byte) {
	switch p.loop {
	case loopHeader:
		s := sREFEV
		if string(q) == "F2" {
			s = sREFF2
		}
		if !p.header(seg, s) {
			return
		}
		if s == sREFF2 {
			p.rem.VersionID = string(p.el.at(2))
		} else {
			p.rem.ReceiverID = string(p.el.at(2))
		}
	case loop1000A:
		p.place(seg, sREFPR)
		p.rem.Payer.References = append(p.rem.Payer.References, p.reference(seg, q))
	case loop1000B:
		p.place(seg, sREFPE)
		r := p.reference(seg, q)
		p.rem.Payee.References = append(p.rem.Payee.References, r)
		if r.Qualifier == "TJ" && p.rem.Payee.TaxID == "" {
			p.rem.Payee.TaxID = r.Value
		}
	case loop2100:
		s := sREFClaim
		switch string(q) {
		case "0B", "1A", "1B", "1C", "1D", "1G", "1H", "1J", "D3", "G2", "LU":
			s = sREFRend
		}
		p.place(seg, s)
		r := p.a.ref.push()
		r.Qualifier, r.Value = p.str(q), p.text(p.el.at(2))
	case loop2110:
		l := p.line()
		switch string(q) {
		case "6R":
			p.place(seg, sREF6R)
			l.ControlNumber = p.text(p.el.at(2))
			return
		case "0K":
			p.place(seg, sREF0K)
		case "0B", "1A", "1B", "1C", "1D", "1G", "1H", "1J", "D3", "G2", "HPI", "SY", "TJ":
			p.place(seg, sREFSvcRend)
		default:
			p.place(seg, sREFSvc)
		}
		r := p.a.ref.push()
		r.Qualifier, r.Value = p.str(q), p.text(p.el.at(2))
	default:
		p.unexpected(seg)
	}
}

func (p *parser) reference(seg *x12.Segment, q []byte) Reference {
	return Reference{Qualifier: p.str(q), Value: string(p.el.at(2))}
}

func (p *parser) dtm(seg *x12.Segment, q []byte) {
	switch p.loop {
	case loopHeader:
		if p.header(seg, sDTM405) {
			p.rem.ProductionDate = p.date(seg, 2)
		}
	case loop2100:
		c := p.claim
		var s slot
		var dst *Date
		switch string(q) {
		case "232":
			s, dst = sDTM232, &c.StatementFrom
		case "233":
			s, dst = sDTM233, &c.StatementTo
		case "036":
			s, dst = sDTM036, &c.CoverageExpiration
		case "050":
			s, dst = sDTM050, &c.Received
		default:
			p.unexpected(seg)
			return
		}
		p.place(seg, s)
		*dst = p.date(seg, 2)
	case loop2110:
		l := p.line()
		var s slot
		var dst *Date
		switch string(q) {
		case "472":
			s, dst = sDTM472, &l.ServiceDate
		case "150":
			s, dst = sDTM150, &l.ServiceFrom
		case "151":
			s, dst = sDTM151, &l.ServiceTo
		default:
			p.unexpected(seg)
			return
		}
		p.place(seg, s)
		*dst = p.date(seg, 2)
	default:
		p.unexpected(seg)
	}
}

func (p *parser) n1(seg *x12.Segment, q []byte) {
	var to phase
	var l loopID
	var s slot
	switch string(q) {
	case "PR":
		to, l, s = ph1000A, loop1000A, sN1PR
	case "PE":
		to, l, s = ph1000B, loop1000B, sN1PE
	default:
		p.unexpected(seg)
		return
	}
	if p.phase == to {
		p.at(seg, x12.Error, RuleRepeat, 0, 0, "a second %s: loop %s appears once per 835", slots[s].name, loopNames[l])
		return
	}
	if !p.advance(seg, to) {
		p.at(seg, x12.Error, RuleOrder, 0, 0, "%s (loop %s) must come before the claims and provider adjustments", slots[s].name, loopNames[l])
		return
	}
	p.startLoop(l)
	p.place(seg, s)
	name, qual, id := string(p.el.at(2)), p.str(p.el.at(3)), string(p.el.at(4))
	if l == loop1000A {
		p.rem.Payer.Name, p.rem.Payer.IDQualifier, p.rem.Payer.ID = name, qual, id
		return
	}
	pe := &p.rem.Payee
	pe.Name, pe.IDQualifier, pe.ID = name, qual, id
	switch qual {
	case "XX":
		pe.NPI = id
	case "FI":
		pe.TaxID = id
	}
}

func (p *parser) address(seg *x12.Segment) {
	var a *Address
	var s slot
	n4 := seg.ID() == "N4"
	switch p.loop {
	case loop1000A:
		a, s = &p.rem.Payer.Address, sN3PR
		if n4 {
			s = sN4PR
		}
	case loop1000B:
		a, s = &p.rem.Payee.Address, sN3PE
		if n4 {
			s = sN4PE
		}
	default:
		p.unexpected(seg)
		return
	}
	p.place(seg, s)
	if !n4 {
		a.Line1, a.Line2 = string(p.el.at(1)), string(p.el.at(2))
		return
	}
	a.City = string(p.el.at(1))
	a.State = p.str(p.el.at(2))
	a.Zip = p.str(p.el.at(3))
	a.Country = p.str(p.el.at(4))
	a.Subdivision = p.str(p.el.at(7))
}

func (p *parser) contact(seg *x12.Segment, q []byte) Contact {
	c := Contact{Function: p.str(q), Name: string(p.el.at(2))}
	for i := 3; i <= 7; i += 2 {
		qual, num := p.el.at(i), p.el.at(i+1)
		if len(qual) > 0 || len(num) > 0 {
			c.Numbers = append(c.Numbers, ContactNumber{Qualifier: p.str(qual), Number: string(num)})
		}
	}
	return c
}

func (p *parser) per(seg *x12.Segment, q []byte) {
	switch p.loop {
	case loop1000A:
		s := sPERBL
		switch string(q) {
		case "CX":
			s = sPERCX
		case "IC":
			s = sPERIC
		}
		p.place(seg, s)
		p.rem.Payer.Contacts = append(p.rem.Payer.Contacts, p.contact(seg, q))
	case loop2100:
		// in the claim's arenas; the claim gets them with its own part
		p.place(seg, sPERClaim)
		c := p.a.con.push()
		c.Function, c.Name = p.str(q), p.text(p.el.at(2))
		mark := p.a.num.mark()
		for i := 3; i <= 7; i += 2 {
			qual, num := p.el.at(i), p.el.at(i+1)
			if len(qual) > 0 || len(num) > 0 {
				n := p.a.num.push()
				n.Qualifier, n.Number = p.str(qual), p.text(num)
			}
		}
		c.Numbers = p.a.num.since(mark)
	default:
		p.unexpected(seg)
	}
}

func (p *parser) lx(seg *x12.Segment) {
	if !p.advance(seg, phDetail) {
		p.at(seg, x12.Error, RuleOrder, 0, 0, "LX (loop 2000) must come before the provider adjustments (PLB)")
		return
	}
	p.close2000(seg)
	p.in2000 = true
	p.lxLoc = locOf(seg)
	p.claimsIn2000 = 0
	p.summary = nil
	n := 0
	for _, c := range p.el.at(1) {
		if c >= '0' && c <= '9' && n < 1e9 {
			n = n*10 + int(c-'0')
		}
	}
	p.headerNumber = n
	p.startLoop(loop2000)
	p.place(seg, sLX)
}

func (p *parser) close2000(seg *x12.Segment) {
	p.closeClaim()
	if p.in2000 && p.claimsIn2000 == 0 {
		p.atLoc(p.lxLoc, loop2000, x12.Error, RuleClaimMissing, 0, "header number loop 2000 (LX) has no claim (CLP): loop 2100 is required in it")
	}
	p.in2000 = false
}

func (p *parser) ts(seg *x12.Segment) {
	if p.loop != loop2000 {
		p.unexpected(seg)
		return
	}
	if seg.ID() == "TS2" {
		p.place(seg, sTS2)
		if p.summary == nil {
			p.summary = &ProviderSummary{}
		}
		t := &SupplementalSummary{}
		var buf [24]numField
		p.fields(seg, t.fields(buf[:0]))
		p.summary.Supplemental = t
		return
	}
	p.place(seg, sTS3)
	t := &ProviderSummary{
		ProviderID:   string(p.el.at(1)),
		FacilityCode: p.str(p.el.at(2)),
		FiscalPeriod: p.date(seg, 3),
	}
	var buf [24]numField
	p.fields(seg, t.fields(buf[:0]))
	p.summary = t
}

// fields parses the numeric elements listed in fs (element index ->
// *Amount or *float64).
func (p *parser) fields(seg *x12.Segment, fs []numField) {
	for _, f := range fs {
		switch v := f.ptr.(type) {
		case *Amount:
			*v = p.amount(seg, f.elem)
		case *float64:
			*v = p.quantity(seg, f.elem)
		}
	}
}

func (p *parser) clp(seg *x12.Segment) {
	if p.phase < phDetail {
		p.advance(seg, phDetail)
	}
	if p.phase > phDetail {
		p.at(seg, x12.Error, RuleOrder, 0, 0, "CLP (loop 2100) must come before the provider adjustments (PLB)")
		return
	}
	if !p.in2000 {
		// A claim without LX: the 2000 loop is situational in name only
		// (LX starts it). Report and read the claim anyway.
		p.at(seg, x12.Error, RuleUnexpected, 0, 0, "CLP without a preceding LX: claims must be inside a header number loop 2000")
		p.in2000 = true
		p.lxLoc = locOf(seg)
	}
	p.closeClaim()
	p.claimsIn2000++
	p.startLoop(loop2100)
	p.place(seg, sCLP)

	var c *ClaimPayment
	if p.recycle {
		// two buffers: the claim this CLP ends is still to be returned
		p.flip = !p.flip
		c = &p.claimBuf[0]
		if p.flip {
			c = &p.claimBuf[1]
		}
		*c = ClaimPayment{}
	} else {
		c = p.a.claims.get()
	}
	p.a.reset(p.recycle)
	p.claimPartOK = false
	c.Index = p.claimNo
	p.claimNo++
	c.HeaderNumber = p.headerNumber
	c.ProviderSummary = p.summary
	c.Remittance = p.rem
	p.claim = c
	p.clpLoc = locOf(seg)
	p.nLines = 0
	p.claimAdj = 0

	c.PatientControlNumber = p.text(p.el.at(1))
	p.pcn = c.PatientControlNumber
	status := p.el.at(2)
	c.Status = p.str(status)
	c.Charge = p.amount(seg, 3)
	c.Paid = p.amount(seg, 4)
	c.PatientResponsibility = p.amount(seg, 5)
	c.FilingIndicator = p.str(p.el.at(6))
	c.PayerClaimControlNumber = p.text(p.el.at(7))
	c.FacilityCode = p.str(p.el.at(8))
	c.Frequency = p.str(p.el.at(9))
	if p.el.n > 10 {
		c.DRG = p.str(p.el.at(11))
		c.DRGWeight = p.quantity(seg, 12)
		c.DischargeFraction = p.quantity(seg, 13)
	}
	if len(status) > 0 && !validStatus(status) {
		p.at(seg, x12.Error, RuleCLPStatus, 2, 0, "CLP02 claim status %q is not a 005010 claim status code (1, 2, 3, 4, 19, 20, 21, 22, 23, 25)", clip(status))
	}
	if c.Status == "22" && (c.Charge > 0 || c.Paid > 0) {
		p.at(seg, x12.Error, RuleReversal, 3, 0, "claim %s is a reversal (CLP02 22) but its amounts are not negated (CLP03 %s, CLP04 %s): a reversal repeats the original claim with every amount's sign reversed", p.claimID(), c.Charge.Fixed(), c.Paid.Fixed())
	}
}

// inClaim places seg in loop 2100, reporting it elsewhere.
func (p *parser) inClaim(seg *x12.Segment, s slot) bool {
	if p.loop != loop2100 {
		p.unexpected(seg)
		return false
	}
	p.place(seg, s)
	return true
}

func (p *parser) line() *ServiceLine { return p.a.line.last() }

func (p *parser) cas(seg *x12.Segment) {
	switch p.loop {
	case loop2100:
		p.place(seg, sCAS)
	case loop2110:
		p.place(seg, sCASSvc)
	default:
		p.unexpected(seg)
		return
	}
	gb := p.el.at(1)
	group, g := groupOf(gb)
	if group == "" {
		switch {
		case string(gb) == "CR":
			p.at(seg, x12.Error, RuleCASGroup, 1, 0, "CAS01 group code CR (correction and reversal) is not valid in 005010: a reversal is a claim with CLP02 22 and the original group codes")
		case len(gb) == 0:
			p.at(seg, x12.Error, RuleCASGroup, 1, 0, "CAS01 group code is missing")
		default:
			p.at(seg, x12.Error, RuleCASGroup, 1, 0, "CAS01 group code %q is not CO, OA, PI or PR", clip(gb))
		}
		group = p.str(gb)
	}
	n := p.el.n
	for k := 0; k < 6; k++ {
		ri := 2 + 3*k
		if ri > n {
			break
		}
		rb, ab, qb := p.el.at(ri), p.el.at(ri+1), p.el.at(ri+2)
		if len(rb) == 0 && len(ab) == 0 {
			if len(qb) > 0 {
				p.at(seg, x12.Error, RuleCASTriplet, ri+2, 0, "CAS%02d quantity without a reason code and amount", ri+2)
			}
			continue
		}
		if len(rb) == 0 {
			p.at(seg, x12.Error, RuleCASTriplet, ri, 0, "CAS%02d adjustment amount %s has no reason code (CAS%02d)", ri+1, clip(ab), ri)
		}
		if len(ab) == 0 {
			p.at(seg, x12.Error, RuleCASTriplet, ri+1, 0, "CAS%02d reason code %s has no adjustment amount (CAS%02d)", ri, clip(rb), ri+1)
		}
		reason, ce := p.carc(seg, ri, rb)
		amt := p.amountOf(seg, ri+1, ab)
		p.claimAdj += amt
		if p.loop == loop2110 {
			p.lineAdj += amt
		}
		a := p.a.adj.push()
		a.Group, a.Reason, a.Amount = group, reason, amt
		if ce != nil && g >= 0 {
			// final unless the line or claim has remark codes
			a.Category = ce.category(g, group)
		}
		if len(qb) > 0 {
			a.Quantity, _ = parseQuantity(qb)
		}
	}
}

// groupOf returns a valid CAS01 group code as a constant string and its
// index in carcEntry.cats; "" and -1 for any other.
func groupOf(b []byte) (string, int) {
	switch string(b) {
	case "CO":
		return "CO", 0
	case "OA":
		return "OA", 1
	case "PI":
		return "PI", 2
	case "PR":
		return "PR", 3
	}
	return "", -1
}

// carc returns the reason code as a string (the code list's own string
// when known, so no allocation) and reports unknown or retired codes.
// Its cache entry (nil for a value too long to cache) knows the code's
// categories.
func (p *parser) carc(seg *x12.Segment, i int, b []byte) (string, *carcEntry) {
	if len(b) == 0 {
		return "", nil
	}
	e, hit := p.cache().carcs.entry(b)
	var se *strEntry
	if e != nil {
		se = &e.strEntry
	}
	s, flag := lookupCode(se, hit, b, true)
	if flag&codeKnown == 0 {
		p.at(seg, x12.Warning, RuleCARCUnknown, i, 0, "adjustment reason code %q is not in the CARC list (X12 code list 139)", clip(b))
		return s, e
	}
	if p.full && flag&codeDeactivated != 0 {
		c, _ := knownCARC(b)
		if d := p.rem.Payment.Date; d != 0 && !c.ValidOn(d.Time()) {
			p.at(seg, x12.Warning, RuleCARCInactive, i, 0, "adjustment reason code %s is not valid on the payment date %s (deactivated %s)", c.Code, d, c.Stop.Format("2006-01-02"))
		}
	}
	return s, e
}

// rarc is carc for remark codes.
func (p *parser) rarc(seg *x12.Segment, i int, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	e, hit := p.cache().rarcs.entry(b)
	s, flag := lookupCode(e, hit, b, false)
	if flag&codeKnown == 0 {
		p.at(seg, x12.Warning, RuleRARCUnknown, i, 0, "remark code %q is not in the RARC list (X12 code list 411)", clip(b))
	}
	return s
}

func (p *parser) nm1(seg *x12.Segment, q []byte) {
	if p.loop != loop2100 {
		p.unexpected(seg)
		return
	}
	c := p.claim
	var s slot
	var k int // entity number, see entitySlot
	switch string(q) {
	case "QC":
		s, k = sNM1QC, 0
	case "IL":
		s, k = sNM1IL, 1
	case "74":
		s, k = sNM174, 2
	case "82":
		s, k = sNM182, 3
	case "TT":
		s, k = sNM1TT, 4
	case "PR":
		s, k = sNM1PR, 5
	case "GB":
		s, k = sNM1GB, 6
	default:
		p.unexpected(seg)
		return
	}
	p.place(seg, s)
	e := &c.Patient
	if k > 0 {
		e = p.a.ents.get()
		*entitySlot(c, k) = e
	}
	// every field, in place: a repeated NM1 replaces the first whole
	e.Type = p.str(p.el.at(2))
	e.Last = p.text(p.el.at(3))
	e.First = p.text(p.el.at(4))
	e.Middle = p.text(p.el.at(5))
	e.Suffix = p.str(p.el.at(7))
	e.IDQualifier = p.str(p.el.at(8))
	e.ID = p.text(p.el.at(9))
}

// entitySlot is where NM1 entity k (1 IL .. 6 GB) of a claim lives.
func entitySlot(c *ClaimPayment, k int) **Entity {
	switch k {
	case 1:
		return &c.Insured
	case 2:
		return &c.CorrectedPatient
	case 3:
		return &c.RenderingProvider
	case 4:
		return &c.CrossoverCarrier
	case 5:
		return &c.CorrectedPriorityPayer
	}
	return &c.OtherSubscriber
}

func (p *parser) mia(seg *x12.Segment) {
	m := p.a.mia.get()
	var buf [24]numField
	p.fields(seg, m.fields(buf[:0]))
	mark := p.a.strs.mark()
	for _, i := range [...]int{5, 20, 21, 22, 23} {
		if b := p.el.at(i); len(b) > 0 {
			p.a.strs.add(p.rarc(seg, i, b))
		}
	}
	m.Remarks = p.a.strs.since(mark)
	p.claim.Inpatient = m
}

func (p *parser) moa(seg *x12.Segment) {
	m := p.a.moa.get()
	var buf [24]numField
	p.fields(seg, m.fields(buf[:0]))
	mark := p.a.strs.mark()
	for i := 3; i <= 7; i++ {
		if b := p.el.at(i); len(b) > 0 {
			p.a.strs.add(p.rarc(seg, i, b))
		}
	}
	m.Remarks = p.a.strs.since(mark)
	p.claim.Outpatient = m
}

func (p *parser) amt(seg *x12.Segment, q []byte) {
	switch p.loop {
	case loop2100:
		p.place(seg, sAMTClaim)
		a := p.a.amt.push()
		a.Qualifier, a.Amount = p.str(q), p.amount(seg, 2)
	case loop2110:
		p.place(seg, sAMTSvc)
		a := p.a.amt.push()
		a.Qualifier, a.Amount = p.str(q), p.amount(seg, 2)
	default:
		p.unexpected(seg)
	}
}

func (p *parser) qty(seg *x12.Segment, q []byte) {
	switch p.loop {
	case loop2100:
		p.place(seg, sQTYClaim)
		a := p.a.qty.push()
		a.Qualifier, a.Quantity = p.str(q), p.quantity(seg, 2)
	case loop2110:
		p.place(seg, sQTYSvc)
		a := p.a.qty.push()
		a.Qualifier, a.Quantity = p.str(q), p.quantity(seg, 2)
	default:
		p.unexpected(seg)
	}
}

// procedure parses an SVC01 or SVC06 composite into pr; its modifiers go
// to the claim's string arena.
func (p *parser) procedure(pr *Procedure, b []byte, sep byte, desc bool) {
	var comps [8][]byte
	n := splitComposite(b, sep, &comps)
	pr.Qualifier, pr.Code = p.str(comps[0]), p.str(comps[1])
	last := min(n, 6)
	for last > 2 && len(comps[last-1]) == 0 {
		last--
	}
	m := p.a.strs.mark()
	for j := 2; j < last; j++ {
		p.a.strs.add(p.str(comps[j]))
	}
	pr.Modifiers = p.a.strs.since(m)
	if desc && n >= 7 {
		pr.Description = p.text(comps[6])
	}
}

func (p *parser) svc(seg *x12.Segment) {
	if p.loop != loop2100 && p.loop != loop2110 {
		p.unexpected(seg)
		return
	}
	p.closeLine()
	p.lineAdj = 0
	p.nLines++
	if p.nLines == 1000 {
		p.at(seg, x12.Error, RuleRepeat, 0, 0, "claim %s has more than 999 service lines (loop 2110)", p.claimID())
	}
	p.startLoop(loop2110)
	p.place(seg, sSVC)
	p.inLine = true
	p.svcLoc = locOf(seg)
	sep := seg.Delimiters().Component
	if !p.claimPartOK {
		p.a.closeClaimPart(p.claim)
		p.claimPartOK = true
	}
	p.a.open()
	l := p.a.line.push()
	p.procedure(&l.Procedure, p.el.at(1), sep, false)
	l.Charge = p.amount(seg, 2)
	l.Paid = p.amount(seg, 3)
	l.RevenueCode = p.str(p.el.at(4))
	l.UnitsPaid = 1
	if b := p.el.at(5); len(b) > 0 {
		l.UnitsPaid, _ = parseQuantity(b)
	}
	if b := p.el.at(6); len(b) > 0 {
		op := p.a.procs.get()
		p.procedure(op, b, sep, true)
		l.OriginalProcedure = op
	}
	l.OriginalUnits = p.quantity(seg, 7)
}

func (p *parser) plbSeg(seg *x12.Segment) {
	if !p.advance(seg, phFooter) {
		p.at(seg, x12.Error, RuleOrder, 0, 0, "PLB is out of order")
		return
	}
	if p.loop != loopFooter {
		p.startLoop(loopFooter)
	}
	p.place(seg, sPLB)
	id := string(p.el.at(1))
	date := p.date(seg, 2)
	sep := seg.Delimiters().Component
	n := p.el.n
	for k := 0; k < 6; k++ {
		ci := 3 + 2*k
		if ci > n {
			break
		}
		cb, ab := p.el.at(ci), p.el.at(ci+1)
		if len(cb) == 0 && len(ab) == 0 {
			continue
		}
		if len(cb) == 0 || len(ab) == 0 {
			p.at(seg, x12.Error, RulePLBPair, ci, 0, "PLB%02d adjustment identifier and PLB%02d amount must be sent together", ci, ci+1)
		}
		reason, ref, _ := bytes.Cut(cb, []byte{sep})
		if len(reason) > 0 && !knownPLBReason(reason) {
			p.at(seg, x12.Error, RulePLBReason, ci, 1, "PLB%02d-1 adjustment reason %q is not a provider adjustment reason code", ci, clip(reason))
		}
		var amt Amount
		if len(ab) > 0 {
			var err error
			if amt, err = ParseAmount(ab); err != nil {
				p.badAmount(seg, ci+1, 0, ab, err)
			}
		}
		p.plb += amt
		p.rem.ProviderAdjustments = append(p.rem.ProviderAdjustments, ProviderAdjustment{
			ProviderID: id, FiscalPeriod: date, Reason: p.str(reason), Reference: string(ref), Amount: amt,
		})
	}
}
