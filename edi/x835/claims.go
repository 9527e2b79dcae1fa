package x835

// Finishing service lines and claims: balancing, categories, the claim's
// strings, reversal links.

import "github.com/claimgate/claimgate/edi/x12"

// strField names a string field of a claim whose value waits in
// parser.text until the claim is complete.
type strField uint8

const (
	fPCN strField = iota
	fPCCN
	fEntLast
	fEntFirst
	fEntMiddle
	fEntID
	fClaimRef
	fLineRef
	fLineCtl
)

type strPatch struct {
	field    strField
	ent      uint8
	line     int32
	idx      int32
	off, end int32
}

// later records b as the value of a claim string field and returns "":
// when the claim is complete, patch makes one string of all the values
// and fills the fields with substrings of it (one allocation per claim
// instead of one per field).
func (p *parser) later(f strField, ent, idx int, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	line := 0
	if f == fLineRef || f == fLineCtl {
		line = ent
		ent = 0
	}
	off := int32(len(p.text))
	p.text = append(p.text, b...)
	end := int32(len(p.text))
	if f == fPCN {
		p.pcn = [2]int32{off, end}
	}
	p.patches = append(p.patches, strPatch{field: f, ent: uint8(ent), line: int32(line), idx: int32(idx), off: off, end: end})
	return ""
}

// claimID is the current claim's CLP01, for messages.
func (p *parser) claimID() string {
	return string(p.text[p.pcn[0]:p.pcn[1]])
}

// patch fills the deferred string fields of the finished claim c.
func (p *parser) patch(c *ClaimPayment) {
	if len(p.patches) == 0 {
		return
	}
	s := string(p.text)
	for _, pt := range p.patches {
		v := s[pt.off:pt.end]
		switch pt.field {
		case fPCN:
			c.PatientControlNumber = v
		case fPCCN:
			c.PayerClaimControlNumber = v
		case fEntLast:
			entityAt(c, int(pt.ent)).Last = v
		case fEntFirst:
			entityAt(c, int(pt.ent)).First = v
		case fEntMiddle:
			entityAt(c, int(pt.ent)).Middle = v
		case fEntID:
			entityAt(c, int(pt.ent)).ID = v
		case fClaimRef:
			c.References[pt.idx].Value = v
		case fLineRef:
			c.Lines[pt.line].References[pt.idx].Value = v
		case fLineCtl:
			c.Lines[pt.line].ControlNumber = v
		}
	}
}

func (p *parser) closeLine() {
	if !p.inLine {
		return
	}
	p.inLine = false
	c := p.claim
	l := p.line()
	p.a.closeLinePart(l)
	nl := p.a.line.mark()
	if d := l.Imbalance(); d != 0 {
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
			a := &l.Adjustments[i]
			a.Category = p.cache().cats.classify(a.Group, a.Reason, rarcs)
		}
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
	if p.recycle {
		c.Lines = p.a.line.since(0)
	} else if n := p.a.line.mark(); n > 0 {
		c.Lines = make([]ServiceLine, n)
		copy(c.Lines, p.a.line.buf)
	}
	p.patch(c)
	if !p.seenInClaim(sNM1QC) {
		p.atLoc(p.clpLoc, loop2100, x12.Error, RulePatientMissing, 0, "claim %s has no patient name (NM1*QC): it is required in loop 2100", p.claimID())
	}
	if d := c.Imbalance(); d != 0 {
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
			a := &c.Adjustments[i]
			a.Category = p.cache().cats.classify(a.Group, a.Reason, rarcs)
		}
		p.remarkBuf = rarcs[:0]
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
