package x837p

import (
	"fmt"
	"math/rand/v2"
)

// Random models for the round-trip tests. Every value is one the writer
// writes and the reader reads back unchanged: qualifiers are explicit
// (the writer's defaults would read back as the default), optional parts
// are either wholly present or absent, and no string holds a character
// used as a delimiter by any of the delimiter sets the tests write with.

const genAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .-,/&#()'?=+@;"

type gen struct{ r *rand.Rand }

func newGen(seed uint64) *gen { return &gen{rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))} }

func (g *gen) str(min, max int) string {
	n := min + g.r.IntN(max-min+1)
	b := make([]byte, n)
	for i := range b {
		b[i] = genAlphabet[g.r.IntN(len(genAlphabet))]
	}
	return string(b)
}

// opt returns a random string or, with probability 1/3, "".
func (g *gen) opt(min, max int) string {
	if g.r.IntN(3) == 0 {
		return ""
	}
	return g.str(min, max)
}

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g *gen) pick(s ...string) string { return s[g.r.IntN(len(s))] }

func (g *gen) date() string {
	return fmt.Sprintf("%04d%02d%02d", 1920+g.r.IntN(110), 1+g.r.IntN(12), 1+g.r.IntN(28))
}

func (g *gen) optDate() string {
	if g.r.IntN(3) == 0 {
		return ""
	}
	return g.date()
}

func (g *gen) name(entity string) Name {
	n := Name{Entity: entity, Last: g.str(1, 30)}
	if entity == "1" {
		n.First, n.Middle, n.Suffix = g.opt(1, 20), g.opt(1, 3), g.opt(1, 3)
	}
	return n
}

func (g *gen) address() Address {
	switch g.r.IntN(5) {
	case 0:
		return Address{}
	case 1: // partial: only some parts, as PM files send
		return Address{Line2: g.opt(1, 20), State: g.opt(2, 2)}
	}
	return Address{Line1: g.str(1, 30), Line2: g.opt(1, 20), City: g.str(2, 20), State: g.str(2, 2), Zip: g.digits(5 + 4*g.r.IntN(2)), Country: g.pick("", "", "", "CA")}
}

func (g *gen) contact() Contact {
	if g.r.IntN(4) == 0 {
		return Contact{}
	}
	c := Contact{Name: g.opt(1, 20)}
	// at most three numbers
	switch g.r.IntN(4) {
	case 0:
		c.Phone = g.digits(10)
	case 1:
		c.Phone, c.Ext = g.digits(10), g.digits(3)
	case 2:
		c.Phone, c.Ext, c.Email = g.digits(10), g.digits(3), g.str(3, 20)
	case 3:
		c.Email, c.Fax = g.str(3, 20), g.digits(10)
	}
	return c
}

func (g *gen) amount() int64 {
	switch g.r.IntN(6) {
	case 0:
		return 0
	case 1:
		return -g.r.Int64N(100000)
	case 2:
		return g.r.Int64N(100) * 100 // whole dollars
	}
	return g.r.Int64N(10000000)
}

func (g *gen) quantity() Quantity {
	switch g.r.IntN(3) {
	case 0:
		return Units(1 + g.r.Int64N(8))
	case 1:
		return Quantity(g.r.Int64N(100000))
	}
	return Units(g.r.Int64N(100))
}

func (g *gen) billing() *BillingProvider {
	b := &BillingProvider{Taxonomy: g.opt(10, 10), Name: g.name(g.pick("1", "2")), NPI: g.opt(10, 10), Address: g.address(), Contact: g.contact()}
	if g.r.IntN(5) > 0 {
		b.TaxIDQualifier, b.TaxID = g.pick("EI", "SY"), g.digits(9)
	}
	if g.r.IntN(3) == 0 {
		b.PayToEntity = g.pick("1", "2")
		b.PayTo = Address{Line1: g.str(1, 30), City: g.str(2, 20), State: g.str(2, 2), Zip: g.digits(5)}
	}
	return b
}

func (g *gen) payer() Payer {
	p := Payer{Name: g.str(1, 30), Address: g.address()}
	if g.r.IntN(6) > 0 {
		p.IDQualifier, p.ID = g.pick("PI", "XV"), g.str(2, 15)
	}
	return p
}

func (g *gen) subscriber(self bool) *Subscriber {
	s := &Subscriber{
		Sequence: g.pick("P", "S", "T"), GroupNumber: g.opt(1, 15), GroupName: g.opt(1, 20),
		InsuranceType: g.pick("", "", "12", "47"), FilingCode: g.pick("CI", "MB", "MC", "BL", ""),
		Name: g.name("1"), Address: g.address(), Birth: g.optDate(), Gender: g.pick("M", "F", "U", ""),
		Payer: g.payer(),
	}
	if self {
		s.Relationship = "18"
	}
	if g.r.IntN(6) > 0 {
		s.IDQualifier, s.ID = g.pick("MI", "II"), g.str(3, 20)
	}
	return s
}

func (g *gen) patient() *Patient {
	return &Patient{Relationship: g.pick("01", "19", "20", "21", "G8"), Name: g.name("1"), Address: g.address(), Birth: g.optDate(), Gender: g.pick("M", "F", "U", "")}
}

func (g *gen) provider(taxonomy bool) *Provider {
	if g.r.IntN(3) == 0 {
		return nil
	}
	p := &Provider{Name: g.name(g.pick("1", "2")), NPI: g.opt(10, 10)}
	if taxonomy {
		p.Taxonomy = g.opt(10, 10)
	}
	if g.r.IntN(3) == 0 {
		p.SecondaryQualifier, p.SecondaryID = g.pick("G2", "0B", "1G"), g.str(2, 15)
	}
	return p
}

func (g *gen) other() OtherSubscriber {
	o := OtherSubscriber{
		Sequence: g.pick("P", "S", "T"), Relationship: g.pick("18", "01", "19"), GroupNumber: g.opt(1, 10),
		GroupName: g.opt(1, 10), InsuranceType: g.pick("", "12"), FilingCode: g.pick("CI", "MB", ""),
		Name: g.name(g.pick("1", "2")), Address: g.address(), Payer: g.payer(), AdjudicationDate: g.optDate(),
	}
	if g.r.IntN(5) > 0 {
		o.IDQualifier, o.ID = g.pick("MI", "II"), g.str(3, 15)
	}
	// Adjustments in runs of one group code, some runs longer than the
	// six triplets of one CAS.
	for runs := g.r.IntN(4); runs > 0; runs-- {
		grp := g.pick("CO", "OA", "PI", "PR")
		for k := 1 + g.r.IntN(8); k > 0; k-- {
			a := Adjustment{Group: grp, Reason: g.pick("1", "2", "3", "45", "96", "253"), Amount: g.amount()}
			if g.r.IntN(3) == 0 {
				a.Quantity = g.quantity()
			}
			o.Adjustments = append(o.Adjustments, a)
		}
	}
	if g.r.IntN(3) > 0 {
		o.Paid, o.HasPaid = g.amount(), true
	}
	if g.r.IntN(3) == 0 {
		o.Remaining, o.HasRemaining = g.amount(), true
	}
	if g.r.IntN(4) > 0 {
		o.BenefitsAssigned, o.PatientSignatureSource, o.ReleaseOfInfo = g.pick("Y", "N", "W"), g.pick("", "P"), g.pick("I", "Y")
	}
	return o
}

func (g *gen) line() Line {
	l := Line{
		Qualifier: "HC", Procedure: g.pick("97110", "97112", "97140", "97530", "97161", "G0283"),
		Charge: g.amount(), Unit: g.pick("UN", "MJ"), Units: g.quantity(), PlaceOfService: g.pick("", "", "11", "02"),
		Emergency: g.pick("", "", "Y"), ServiceDate: g.optDate(), PriorAuth: g.opt(1, 15),
		ControlNumber: g.opt(1, 30), Referral: g.opt(1, 10),
	}
	for k := g.r.IntN(5); k > 0; k-- {
		l.Modifiers[g.r.IntN(4)] = g.pick("GP", "KX", "CQ", "59", "XE")
	}
	if g.r.IntN(5) == 0 {
		l.Description = g.str(1, 40)
	}
	for k := range l.Pointers {
		if g.r.IntN(2) == 0 {
			l.Pointers[k] = uint8(g.r.IntN(MaxPointer + 1))
		}
	}
	if l.ServiceDate != "" && g.r.IntN(4) == 0 {
		l.ServiceDateEnd = g.date()
	}
	if g.r.IntN(4) == 0 {
		l.NoteCode, l.Note = g.pick("ADD", "DCP"), g.str(1, 60)
	}
	return l
}

func (g *gen) claim(n int) *Claim {
	c := &Claim{
		ID: fmt.Sprintf("C%d-%s", n, g.str(1, 12)), Charge: g.amount(), PlaceOfService: g.pick("11", "02", "10", "12"),
		Frequency: g.pick("1", "7", "8"), ProviderSignature: g.pick("Y", "N"), Assignment: g.pick("A", "B", "C"),
		BenefitsAssigned: g.pick("Y", "N", "W"), ReleaseOfInfo: g.pick("I", "Y"), PatientSignatureSource: g.pick("", "P"),
		OnsetDate: g.optDate(), InitialTreatmentDate: g.optDate(), LastSeenDate: g.optDate(),
		Referral: g.opt(1, 20), PriorAuth: g.opt(1, 20), OriginalRef: g.opt(1, 20), ClearinghouseTrace: g.opt(1, 30),
		MedicalRecord: g.opt(1, 20), DelayReason: g.pick("", "", "", "1", "11"),
		Referring: g.provider(false), Rendering: g.provider(true),
	}
	if g.r.IntN(5) == 0 {
		c.RelatedCauses = [2]string{g.pick("AA", "EM", "OA"), g.pick("", "EM")}
		c.AccidentState, c.AccidentCountry = g.pick("", "CA", "NY"), g.pick("", "", "US")
		c.AccidentDate = g.optDate()
	}
	if g.r.IntN(4) == 0 {
		c.NoteCode, c.Note = g.pick("ADD", "CER", "DCP", "DGN", "TPO"), g.str(1, 80)
	}
	for k := g.r.IntN(MaxDiagnoses + 1); k > 0; k-- {
		c.Diagnoses = append(c.Diagnoses, Diagnosis{Qualifier: g.pick("ABK", "ABF", "BK", "BF"), Code: g.str(3, 7)})
	}
	if g.r.IntN(3) == 0 {
		c.Facility = &Facility{Name: g.str(1, 30), NPI: g.opt(10, 10), Address: g.address()}
	}
	for k := g.r.IntN(3); k > 0 && g.r.IntN(2) == 0; k-- {
		c.OtherSubscribers = append(c.OtherSubscribers, g.other())
	}
	for k := 1 + g.r.IntN(6); k > 0; k-- {
		c.Lines = append(c.Lines, g.line())
	}
	if g.r.IntN(20) == 0 {
		for len(c.Lines) < MaxLines {
			c.Lines = append(c.Lines, g.line())
		}
	}
	return c
}

func (g *gen) header() Header {
	h := Header{
		Control: g.digits(4 + g.r.IntN(6)), Purpose: g.pick("00", "18"), Reference: g.str(1, 30),
		Date: g.date(), Time: g.pick(g.digits(4), g.digits(6)), ClaimType: g.pick("CH", "RP", "31"),
		Submitter: Submitter{Name: g.name(g.pick("1", "2")), ID: g.str(2, 15), Contact: g.contact()},
		Receiver:  Receiver{Name: g.str(1, 30), ID: g.str(2, 15)},
	}
	h.Submitter.Name.Suffix = ""
	return h
}

// transaction builds a random set: billing providers, their subscribers,
// the subscribers' own claims, and dependents' claims. Now and then a
// subscriber's own claim follows a dependent's, which the writer must put
// in a new 2000B.
func (g *gen) transaction() Transaction {
	t := Transaction{Header: g.header()}
	n := 0
	for nb := 1 + g.r.IntN(3); nb > 0; nb-- {
		b := g.billing()
		for ns := 1 + g.r.IntN(4); ns > 0; ns-- {
			own := g.r.IntN(3)
			deps := g.r.IntN(3)
			if own+deps == 0 {
				own = 1
			}
			s := g.subscriber(own > 0 && deps == 0)
			for k := 0; k < own; k++ {
				n++
				t.Items = append(t.Items, Item{Billing: b, Subscriber: s, Claim: g.claim(n)})
			}
			for k := 0; k < deps; k++ {
				p := g.patient()
				for m := 1 + g.r.IntN(2); m > 0; m-- {
					n++
					t.Items = append(t.Items, Item{Billing: b, Subscriber: s, Patient: p, Claim: g.claim(n)})
				}
			}
			if deps > 0 && g.r.IntN(4) == 0 {
				n++
				t.Items = append(t.Items, Item{Billing: b, Subscriber: s, Claim: g.claim(n)})
			}
		}
	}
	return t
}
