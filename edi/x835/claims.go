package x835

// Finishing service lines and claims: balancing, categories, reversal
// links.

import "github.com/claimgate/claimgate/edi/x12"

// claimID is the current claim's CLP01, for messages.
func (p *parser) claimID() string { return p.pcn }

func (p *parser) closeLine() {
	if !p.inLine {
		return
	}
	p.inLine = false
	c := p.claim
	l := p.line()
	p.a.closeLinePart(l)
	nl := p.a.line.mark()
	if d := l.Charge - p.lineAdj - l.Paid; d != 0 { // l.Imbalance(), summed as read
		p.atLoc(p.svcLoc, loop2110, x12.Error, RuleBalanceLine, 3,
			"service line %d (%s) of claim %s does not balance: charge SVC02 %s − adjustments %s = %s, but paid SVC03 is %s (off by %s)",
			nl, procLabel(&l.Procedure), p.claimID(), l.Charge.Fixed(), l.AdjustmentTotal().Fixed(),
			(l.Charge - l.AdjustmentTotal()).Fixed(), l.Paid.Fixed(), d.Fixed())
	}
	if l.ServiceDate == 0 && l.ServiceFrom == 0 && c.StatementFrom == 0 {
		p.atLoc(p.svcLoc, loop2110, x12.Error, RuleServiceDate, 0,
			"service line %d (%s) of claim %s has no service date: DTM*472 (or 150/151) is required when the claim has no statement date DTM*232",
			nl, procLabel(&l.Procedure), p.claimID())
	}
	if len(l.Adjustments) > 0 {
		rarcs := p.remarkBuf[:0]
		for _, r := range l.Remarks {
			if r.Qualifier == "HE" {
				rarcs = append(rarcs, r.Code)
			}
		}
		for i := range l.Adjustments {
			// CAS set the category for no remark codes when it could
			if a := &l.Adjustments[i]; len(rarcs) > 0 || a.Category == "" {
				a.Category = p.cache().cats.classify(a.Group, a.Reason, rarcs)
			}
		}
		p.keepRemarkBuf(rarcs)
	}
}

// keepRemarkBuf keeps rarcs's array for the next line when it grew
// (storing the same slice back would cost a write barrier).
func (p *parser) keepRemarkBuf(rarcs []string) {
	if cap(rarcs) > cap(p.remarkBuf) {
		p.remarkBuf = rarcs[:0]
	}
}

func procLabel(pr *Procedure) string {
	if pr.Qualifier == "" {
		return pr.Code
	}
	return pr.Qualifier + ":" + pr.Code
}

// closeClaim finishes the current claim: balance, categories, reversal
// link, and hands it to the reader.
func (p *parser) closeClaim() {
	if p.claim == nil {
		return
	}
	p.closeLine()
	c := p.claim
	p.claim = nil
	if !p.claimPartOK {
		p.a.closeClaimPart(c)
	}
	c.Lines = p.a.line.since(0)
	if !p.seenInClaim(sNM1QC) {
		p.atLoc(p.clpLoc, loop2100, x12.Error, RulePatientMissing, 0, "claim %s has no patient name (NM1*QC): it is required in loop 2100", p.claimID())
	}
	if d := c.Charge - p.claimAdj - c.Paid; d != 0 { // c.Imbalance(), summed as read
		var lineAdj Amount
		for i := range c.Lines {
			lineAdj += c.Lines[i].AdjustmentTotal()
		}
		var claimAdj Amount
		for _, a := range c.Adjustments {
			claimAdj += a.Amount
		}
		p.atLoc(p.clpLoc, loop2100, x12.Error, RuleBalanceClaim, 4,
			"claim %s does not balance: charge CLP03 %s − claim adjustments %s − line adjustments %s = %s, but paid CLP04 is %s (off by %s)",
			p.claimID(), c.Charge.Fixed(), claimAdj.Fixed(), lineAdj.Fixed(), (c.Charge - claimAdj - lineAdj).Fixed(), c.Paid.Fixed(), d.Fixed())
	}
	if len(c.Adjustments) > 0 {
		rarcs := p.remarkBuf[:0]
		if c.Outpatient != nil {
			rarcs = append(rarcs, c.Outpatient.Remarks...)
		}
		if c.Inpatient != nil {
			rarcs = append(rarcs, c.Inpatient.Remarks...)
		}
		for i := range c.Adjustments {
			if a := &c.Adjustments[i]; len(rarcs) > 0 || a.Category == "" {
				a.Category = p.cache().cats.classify(a.Group, a.Reason, rarcs)
			}
		}
		p.keepRemarkBuf(rarcs)
	}
	p.paid += c.Paid
	if p.recycle {
		p.ready = c
		return
	}
	p.link(c)
	if p.collect {
		p.rem.Claims = append(p.rem.Claims, c)
	}
	p.ready = c
}

// seenInClaim reports whether slot s appeared in the current 2100 loop.
func (p *parser) seenInClaim(s slot) bool { return p.counts[s] > 0 }

// link connects a reversal and the claim that corrects it.
func (p *parser) link(c *ClaimPayment) {
	if c.Status == "22" {
		if p.npending >= maxPendingReversals {
			clear(p.pending)
			p.npending = 0
		}
		p.pending[c.PatientControlNumber] = append(p.pending[c.PatientControlNumber], c)
		p.npending++
		return
	}
	if p.npending == 0 {
		return
	}
	revs := p.pending[c.PatientControlNumber]
	if len(revs) == 0 {
		return
	}
	k := 0 // prefer the same payer claim number, else the oldest
	for i, r := range revs {
		if r.PayerClaimControlNumber == c.PayerClaimControlNumber {
			k = i
			break
		}
	}
	r := revs[k]
	r.Correction, c.Reversal = c, r
	revs = append(revs[:k], revs[k+1:]...)
	p.npending--
	if len(revs) == 0 {
		delete(p.pending, c.PatientControlNumber)
	} else {
		p.pending[c.PatientControlNumber] = revs
	}
}
