package payersim

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x835"
)

// cycle collects the claim payments of one payment cycle by payee, in
// the order payees first appear.
type cycle struct {
	order  []payee
	claims map[payee][]*x835.ClaimPayment
}

func (c *cycle) add(p payee, pay *x835.ClaimPayment) {
	if c.claims == nil {
		c.claims = map[payee][]*x835.ClaimPayment{}
	}
	if _, ok := c.claims[p]; !ok {
		c.order = append(c.order, p)
	}
	c.claims[p] = append(c.claims[p], pay)
}

// remittance builds the 835 set for one payee: check payment (or a
// zero-payment notification), payer and payee loops, the claims and the
// provider adjustments: recovery of a balance carried forward (FB), the
// configured ones (left out when they would make the payment negative)
// and, when reversals exceed payments, a balance carried forward.
func (s *Simulator) remittance(p *PayerConfig, pe payee, claims []*x835.ClaimPayment, now time.Time) *x835.Remittance {
	total := x835.Amount(0)
	for _, c := range claims {
		total += c.Paid
	}
	rem := &x835.Remittance{
		Payer: x835.Payer{Name: p.Name, Address: x835.Address{Line1: p.Address.Line1, City: p.Address.City, State: p.Address.State, Zip: p.Address.Zip},
			References: []x835.Reference{{Qualifier: "2U", Value: p.ID}},
			Contacts:   []x835.Contact{{Function: "BL", Name: "EDI SUPPORT", Numbers: []x835.ContactNumber{{Qualifier: "TE", Number: "8005550100"}}}}},
		Payee:  x835.Payee{Name: pe.name, IDQualifier: "XX", ID: pe.npi},
		Claims: claims,
	}
	fiscal := x835.NewDate(now.Year(), time.December, 31)
	plb := func(reason, ref string, amt x835.Amount) {
		total -= amt
		rem.ProviderAdjustments = append(rem.ProviderAdjustments, x835.ProviderAdjustment{ProviderID: pe.npi, FiscalPeriod: fiscal,
			Reason: reason, Reference: ref, Amount: amt})
	}
	// A balance the provider owes from an earlier cycle (reversals that
	// exceeded the payments) is recovered first.
	key := p.ID + "/" + pe.npi
	if owed := s.balances[key]; owed > 0 && total > 0 {
		take := min(owed, total)
		plb("FB", fmt.Sprintf("FB%04d", s.cycle), take)
		s.balances[key] -= take
		if s.balances[key] == 0 {
			delete(s.balances, key)
		}
	}
	for _, pl := range p.PLB {
		if total-pl.Amount < 0 {
			continue
		}
		ref := pl.Reference
		if ref == "" {
			ref = fmt.Sprintf("%s%04d", pl.Reason, s.cycle)
		}
		plb(pl.Reason, ref, pl.Amount)
	}
	// More reversed than paid: an 835 cannot pay less than zero, so the
	// difference is carried forward (a negative FB adjustment now,
	// recovered from a later payment).
	if total < 0 {
		s.balances[key] += -total
		plb("FB", fmt.Sprintf("FB%04d", s.cycle), total)
	}
	s.checkSeq++
	pm := &rem.Payment
	pm.Amount, pm.CreditDebit, pm.Date = total, "C", x835.DateOf(now)
	pm.TraceNumber, pm.PayerID = fmt.Sprintf("%s%09d", p.ClaimNumberPrefix, s.checkSeq), p.TIN
	if total == 0 {
		pm.Handling, pm.Method = "H", "NON"
	} else {
		pm.Handling, pm.Method = "C", "CHK"
	}
	rem.ProductionDate = x835.DateOf(now)
	return rem
}

// write835 writes the cycle's 835 file: one transaction set per payee.
func (s *Simulator) write835(ctx context.Context, p *PayerConfig, sub *submission, cyc *cycle, now time.Time, stem string) (File, error) {
	rems := make([]*x835.Remittance, 0, len(cyc.order))
	for _, pe := range cyc.order {
		rems = append(rems, s.remittance(p, pe, cyc.claims[pe], now))
	}
	ih, gh := s.headers(p, sub, now)
	gh.FunctionalID, gh.Version = "HP", x835.Version
	ctl, err := s.nums.Next(ctx, x12.InterchangeControl, ih.Sender, ih.Receiver)
	if err != nil {
		return File{}, err
	}
	ih.Control = ctl
	var buf bytes.Buffer
	err = x12.WriteFile(ctx, &buf, s.writerOptions(), ih, gh, len(rems), func(w *x12.Writer, control string, i int) error {
		rems[i].Control = control
		return x835.WriteRemittance(w, rems[i])
	})
	if err != nil {
		return File{}, fmt.Errorf("payersim: writing 835: %w", err)
	}
	return File{Type: Type835, Name: p.fileName(Type835, now, sub.isa13, "", stem, ctl), Delay: time.Duration(p.Delays.Payment), Data: buf.Bytes()}, nil
}
