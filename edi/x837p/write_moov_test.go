package x837p

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	moovfile "github.com/moov-io/x12/pkg/file"
	"github.com/moov-io/x12/pkg/loops"
	moov837p "github.com/moov-io/x12/rule_5010_837p"

	"github.com/claimgate/claimgate/edi/x12"
)

// moov-io/x12 v0.1.0 is a second opinion on our output, in tests only: it
// is both too strict and too loose on real files (see the MANIFEST
// verdicts), so it only checks the shapes it supports: no 2000C patient
// loop, no line-level REF or NTE, no AMT*EAF, at most 200 subscribers per
// billing provider, at most 8 diagnoses (its HI segment has 8 composites,
// the TR3 allows 12), a submitter PER with TE and EM only, a billing NPI,
// and TR3 codes from its accept lists.

// moovify reshapes a random transaction into what moov's 837P rules know.
func moovify(t *Transaction, g *gen) {
	t.Header.Submitter.Name.Suffix = ""
	if t.Header.Submitter.Contact.IsZero() {
		t.Header.Submitter.Contact = Contact{Name: "EDI", Phone: "8005551212"}
	}
	if t.Header.Submitter.Contact.Phone == "" {
		t.Header.Submitter.Contact.Phone, t.Header.Submitter.Contact.Ext = "8005551212", ""
	}
	t.Header.Submitter.Contact.Fax, t.Header.Submitter.Contact.Ext = "", ""
	t.Header.ClaimType = "CH"
	bills := map[*BillingProvider]*BillingProvider{}
	subs := map[*Subscriber]*Subscriber{}
	for i := range t.Items {
		it := &t.Items[i]
		if nb, ok := bills[it.Billing]; ok {
			it.Billing = nb
		} else {
			b := *it.Billing
			b.Name.Suffix = ""
			b.NPI = g.digits(10)
			if b.Name.Entity == "2" {
				b.Name.First, b.Name.Middle = "", ""
			}
			b.Address = Address{Line1: g.str(1, 20), City: g.str(2, 10), State: "FL", Zip: g.digits(5)}
			b.TaxIDQualifier, b.TaxID = "EI", g.digits(9)
			b.Contact = Contact{}
			if !b.PayTo.IsZero() {
				b.PayToEntity = "2"
				b.PayTo.Country = ""
			}
			bills[it.Billing] = &b
			it.Billing = &b
		}
		if ns, ok := subs[it.Subscriber]; ok && it.Patient == nil {
			it.Subscriber = ns
		} else {
			s := *it.Subscriber
			s.Relationship = "18"
			s.IDQualifier, s.ID = "MI", g.str(3, 15)
			s.Name.Entity = "1"
			s.Payer.IDQualifier, s.Payer.ID = "PI", g.str(3, 10)
			s.Address, s.Payer.Address = Address{}, Address{}
			if s.Gender == "" {
				s.Gender = "U"
			}
			s.Birth = g.date()
			s.InsuranceType = ""
			subs[it.Subscriber] = &s
			it.Subscriber = &s
		}
		it.Patient = nil
		c := *it.Claim
		it.Claim = &c
		c.NoteCode = "ADD"
		c.DelayReason = ""
		c.RelatedCauses, c.AccidentState, c.AccidentCountry, c.AccidentDate = [2]string{}, "", "", ""
		c.PatientSignatureSource = "P"
		c.MedicalRecord = ""
		if len(c.Diagnoses) == 0 {
			c.Diagnoses = []Diagnosis{{Code: "M545"}}
		}
		if len(c.Diagnoses) > 8 {
			c.Diagnoses = c.Diagnoses[:8]
		}
		c.Diagnoses = append([]Diagnosis(nil), c.Diagnoses...)
		for k := range c.Diagnoses {
			c.Diagnoses[k].Qualifier = map[bool]string{true: "ABK", false: "ABF"}[k == 0]
		}
		if c.Referring != nil {
			p := *c.Referring
			p.Name.Entity, p.SecondaryQualifier, p.SecondaryID = "1", "", ""
			c.Referring = &p
		}
		if c.Rendering != nil {
			p := *c.Rendering
			p.Name.Suffix = ""
			p.SecondaryQualifier, p.SecondaryID = "", ""
			c.Rendering = &p
		}
		if c.Facility != nil {
			f := *c.Facility
			f.Address = Address{Line1: g.str(1, 20), City: g.str(2, 10), State: "NY", Zip: g.digits(5)}
			c.Facility = &f
		}
		c.OtherSubscribers = append([]OtherSubscriber(nil), c.OtherSubscribers...)
		for k := range c.OtherSubscribers {
			o := &c.OtherSubscribers[k]
			o.HasRemaining, o.Remaining = false, 0
			o.BenefitsAssigned, o.PatientSignatureSource, o.ReleaseOfInfo = "Y", "P", "Y"
			o.InsuranceType = ""
			o.Name.Entity = "1"
			o.Name.First, o.Name.Middle, o.Name.Suffix = "", "", ""
			o.IDQualifier, o.ID = "MI", g.str(3, 12)
			o.Payer.IDQualifier, o.Payer.ID = "PI", g.str(3, 10)
			o.Address, o.Payer.Address = Address{}, Address{}
			if len(o.Adjustments) > 6 {
				o.Adjustments = o.Adjustments[:6]
			}
			o.Adjustments = append([]Adjustment(nil), o.Adjustments...)
			for a := range o.Adjustments {
				o.Adjustments[a].Group = o.Adjustments[0].Group
			}
		}
		c.Lines = append([]Line(nil), c.Lines...)
		for k := range c.Lines {
			l := &c.Lines[k]
			l.ControlNumber, l.PriorAuth, l.Referral, l.Note, l.NoteCode = "", "", "", "", ""
			l.ServiceDateEnd = ""
			l.Description = ""
			if l.ServiceDate == "" {
				l.ServiceDate = g.date()
			}
			for p := range l.Pointers {
				l.Pointers[p] = min(l.Pointers[p], uint8(len(c.Diagnoses)))
			}
			if l.Pointers[0] == 0 {
				l.Pointers[0] = 1
			}
		}
	}
}

// moovParse parses and validates data with moov's 837P rules and returns
// the claims (2300 loops) it found.
func moovParse(t *testing.T, data []byte) (claims int, err error) {
	t.Helper()
	raw := string(data)
	ic := moovfile.NewInterchange(&moov837p.InterchangeRule)
	n, err := ic.Parse(raw, ":")
	if err != nil {
		return 0, fmt.Errorf("parse: %w", err)
	}
	// moov stops quietly at the first segment it cannot place: demand that
	// it consumed the whole file.
	if n != len(raw) {
		return 0, fmt.Errorf("parse stopped at byte %d of %d: %.80q", n, len(raw), raw[n:])
	}
	if err := ic.Validate(nil); err != nil {
		return 0, fmt.Errorf("validate: %w", err)
	}
	for _, g := range ic.FunctionalGroups {
		for _, ts := range g.TransactionSets {
			for i := range ts.Loops {
				claims += countLoops(&ts.Loops[i], "2300")
			}
		}
	}
	return claims, nil
}

func countLoops(l *loops.CompositeLoop, name string) int {
	n := 0
	if l.Name() == name {
		n++
	}
	for i := range l.SubLoops {
		n += countLoops(&l.SubLoops[i], name)
	}
	return n
}

func moovFile(t *testing.T, sets []Transaction) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := x12.NewWriter(&buf, x12.WriterOptions{})
	if _, _, err := WriteFile(context.Background(), w, x12.InterchangeHeader{Sender: "CLAIMGATE", Receiver: "PAYER", Time: testTime, Usage: 'T'},
		x12.GroupHeader{Sender: "CLAIMGATE", Receiver: "PAYER", Time: testTime}, sets); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestMoovAcceptsOurOutput(t *testing.T) {
	for seed := uint64(1); seed <= 60; seed++ {
		g := newGen(seed + 1000)
		sets := []Transaction{g.transaction(), g.transaction()}
		sets[1].Header.Control = "99999"
		want := 0
		for i := range sets {
			moovify(&sets[i], g)
			want += len(sets[i].Items)
		}
		data := moovFile(t, sets)
		got, err := moovParse(t, data)
		if err != nil {
			t.Fatalf("seed %d: moov: %v\n%s", seed, err, strings.ReplaceAll(string(data), "~", "~\n"))
		}
		if got != want {
			t.Errorf("seed %d: moov found %d claims, we wrote %d", seed, got, want)
		}
	}
}

// TestMoovTypicalBatch writes the benchmark's claims, 200 subscribers per
// billing provider (moov's limit) in two billing providers.
func TestMoovTypicalBatch(t *testing.T) {
	items := benchItems(400)
	b2, _ := ptContext()
	b2.NPI = "1003000126"
	for i := range items {
		if i >= 200 {
			items[i].Billing = b2
		}
		c := *items[i].Claim
		c.Lines = append([]Line(nil), c.Lines...)
		for k := range c.Lines {
			c.Lines[k].ControlNumber = ""
		}
		items[i].Claim = &c
	}
	h := ptHeader()
	data := moovFile(t, []Transaction{{Header: h, Items: items}})
	got, err := moovParse(t, data)
	if err != nil {
		t.Fatalf("moov: %v", err)
	}
	if got != 400 {
		t.Errorf("moov found %d claims, want 400", got)
	}
}

// TestMoovRejectsBroken makes sure the moov check can fail: a file with a
// wrong BHT01 or a segment moov cannot place is refused.
func TestMoovRejectsBroken(t *testing.T) {
	items := benchItems(3)
	h := ptHeader()
	data := moovFile(t, []Transaction{{Header: h, Items: items}})
	for name, broken := range map[string]string{
		"BHT01":           strings.Replace(string(data), "BHT*0019*", "BHT*0020*", 1),
		"line REF*6R":     string(data), // our line control numbers: moov has no place for them
		"no SBR in 2000B": strings.Replace(string(data), "SBR*P*18*******CI~", "", 1),
	} {
		if _, err := moovParse(t, []byte(broken)); err == nil {
			t.Errorf("%s: moov accepted a file it should refuse", name)
		}
	}
}
