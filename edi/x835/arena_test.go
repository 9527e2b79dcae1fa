package x835

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

// bigClaim is a generated claim with n service lines: more lines and
// adjustments than one arena chunk holds, so reading it grows the chunks
// in the middle of the claim.
func bigClaim(g *gen, n int) *ClaimPayment {
	c := g.claim()
	c.Lines, c.Charge = nil, 0
	for len(c.Lines) < n {
		l := g.line(false)
		c.Lines = append(c.Lines, l)
		c.Charge += l.Charge
	}
	c.Adjustments = nil
	c.Paid = c.Charge - c.AdjustmentTotal()
	c.PatientResponsibility = 0
	for _, a := range c.AdjustmentsAll() {
		if a.Group == "PR" {
			c.PatientResponsibility += a.Amount
		}
	}
	return c
}

// bare is a copy of c without the links the readers set (remittance,
// reversal, correction), for comparing claims alone.
func bare(c *ClaimPayment) ClaimPayment {
	x := *c
	x.Remittance, x.Reversal, x.Correction = nil, nil, nil
	return x
}

// sharedFile is a generated file with ordinary claims and a few big
// ones, and the claims written to it.
func sharedFile(t *testing.T) ([]byte, []*ClaimPayment) {
	t.Helper()
	g := newGen(11)
	rem := g.remittance(120)
	for _, i := range []int{3, 60, 61} {
		big := bigClaim(g, 150)
		big.HeaderNumber, big.ProviderSummary, big.Index, big.Remittance = rem.Claims[i].HeaderNumber, rem.Claims[i].ProviderSummary, i, rem
		big.PatientControlNumber = rem.Claims[i].PatientControlNumber + "BIG"
		if r := rem.Claims[i].Reversal; r != nil {
			r.Correction = nil
		}
		if c := rem.Claims[i].Correction; c != nil {
			c.Reversal = nil
		}
		rem.Claims[i] = big
	}
	rem.ProviderAdjustments = nil
	rem.Payment.Amount = rem.NetPayment()
	if rem.Payment.Amount < 0 {
		rem.ProviderAdjustments = []ProviderAdjustment{{ProviderID: rem.Payee.ID, FiscalPeriod: NewDate(2025, 12, 31), Reason: "FB", Amount: rem.Payment.Amount}}
		rem.Payment.Amount = 0
	}
	if rem.Payment.Amount == 0 {
		rem.Payment.Handling, rem.Payment.Method, rem.Payment.Format = "H", "NON", ""
		rem.Payment.SenderBank, rem.Payment.ReceiverBank, rem.Payment.OriginatorID = BankAccount{}, BankAccount{}, ""
	}
	return writeFile(t, x12.DefaultDelimiters, false, rem), rem.Claims
}

// TestClaimsStayIntact reads claims with the default Reader, keeps them
// all, and checks that none was overwritten by the claims read after it:
// claims share memory chunks, never items. Then it writes to and appends
// to every slice of every claim and checks the others did not change.
func TestClaimsStayIntact(t *testing.T) {
	data, want := sharedFile(t)
	rd := NewReader(bytes.NewReader(data))
	var got []*ClaimPayment
	for {
		c, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	if len(rd.Findings()) != 0 {
		t.Fatalf("findings: %v", rd.Findings())
	}
	if len(got) != len(want) {
		t.Fatalf("%d claims, want %d", len(got), len(want))
	}
	same := func(when string) {
		t.Helper()
		for i := range want {
			if g, w := bare(got[i]), bare(want[i]); !reflect.DeepEqual(g, w) {
				t.Fatalf("%s: claim %d (%s) differs from what was written", when, i, want[i].PatientControlNumber)
			}
		}
	}
	same("after reading")

	// Scribble over claim i's slices (in place and past their ends); the
	// claims around it must not change.
	for i, c := range got {
		saved := deepCopy(c)
		for j := range c.Adjustments {
			c.Adjustments[j].Reason = "XX"
		}
		c.Adjustments = append(c.Adjustments, Adjustment{Group: "CO", Reason: "45"})
		c.References = append(c.References, Reference{Qualifier: "EA", Value: "NEW"})
		c.Amounts = append(c.Amounts, SupplementalAmount{Qualifier: "AU", Amount: 1})
		c.Contacts = append(c.Contacts, Contact{Function: "CX"})
		for k := range c.Lines {
			l := &c.Lines[k]
			l.Adjustments = append(l.Adjustments, Adjustment{Group: "PR", Reason: "1"})
			l.Remarks = append(l.Remarks, Remark{Qualifier: "HE", Code: "N1"})
			l.Procedure.Modifiers = append(l.Procedure.Modifiers, "ZZ")
			l.References = append(l.References, Reference{Qualifier: "1S", Value: "X"})
		}
		c.Lines = append(c.Lines, ServiceLine{Charge: 1})
		if c.Outpatient != nil {
			c.Outpatient.Remarks = append(c.Outpatient.Remarks, "M1")
		}
		*c = saved
		got[i] = c
		if i+1 < len(got) {
			if g, w := bare(got[i+1]), bare(want[i+1]); !reflect.DeepEqual(g, w) {
				t.Fatalf("claim %d changed when claim %d was written to", i+1, i)
			}
		}
	}
	same("after writing to every claim")
}

// deepCopy copies c's slices and structs so that c can be written to
// and restored.
func deepCopy(c *ClaimPayment) ClaimPayment {
	x := *c
	x.Adjustments = append([]Adjustment(nil), c.Adjustments...)
	x.References = append([]Reference(nil), c.References...)
	x.Amounts = append([]SupplementalAmount(nil), c.Amounts...)
	x.Contacts = append([]Contact(nil), c.Contacts...)
	if c.Lines != nil {
		x.Lines = make([]ServiceLine, len(c.Lines))
		for i, l := range c.Lines {
			l.Adjustments = append([]Adjustment(nil), l.Adjustments...)
			l.Remarks = append([]Remark(nil), l.Remarks...)
			l.References = append([]Reference(nil), l.References...)
			l.Procedure.Modifiers = append([]string(nil), l.Procedure.Modifiers...)
			x.Lines[i] = l
		}
	}
	if c.Outpatient != nil {
		o := *c.Outpatient
		o.Remarks = append([]string(nil), o.Remarks...)
		x.Outpatient = &o
	}
	// empty slices the copies made non-nil go back to nil
	if c.Adjustments == nil {
		x.Adjustments = nil
	}
	if c.References == nil {
		x.References = nil
	}
	if c.Amounts == nil {
		x.Amounts = nil
	}
	if c.Contacts == nil {
		x.Contacts = nil
	}
	for i := range x.Lines {
		l, o := &x.Lines[i], &c.Lines[i]
		if o.Adjustments == nil {
			l.Adjustments = nil
		}
		if o.Remarks == nil {
			l.Remarks = nil
		}
		if o.References == nil {
			l.References = nil
		}
		if o.Procedure.Modifiers == nil {
			l.Procedure.Modifiers = nil
		}
	}
	if c.Outpatient != nil && c.Outpatient.Remarks == nil {
		x.Outpatient.Remarks = nil
	}
	return x
}

// TestReuseClaimsStrings checks the ReuseClaims promise: the claim and
// its slices are reused, its strings stay valid; and the reused claims
// carry the same values as fresh ones, big claims included.
func TestReuseClaimsStrings(t *testing.T) {
	data, want := sharedFile(t)
	rd := NewReader(bytes.NewReader(data))
	rd.ReuseClaims = true
	type kept struct{ pcn, last, ctl, ref string }
	var ks []kept
	var prev *ClaimPayment
	i := 0
	for ; ; i++ {
		c, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(want) {
			t.Fatal("more claims than written")
		}
		if i > 1 && c != prev && c != &rd.p.claimBuf[0] && c != &rd.p.claimBuf[1] {
			t.Fatal("ReuseClaims returned a new claim")
		}
		prev = c
		if g, w := bare(c), bare(want[i]); !reflect.DeepEqual(g, w) {
			t.Fatalf("claim %d (%s) differs from what was written", i, want[i].PatientControlNumber)
		}
		k := kept{pcn: c.PatientControlNumber, last: c.Patient.Last}
		if len(c.Lines) > 0 {
			k.ctl = c.Lines[len(c.Lines)-1].ControlNumber
		}
		if len(c.References) > 0 {
			k.ref = c.References[0].Value
		}
		ks = append(ks, k)
	}
	if i != len(want) {
		t.Fatalf("%d claims, want %d", i, len(want))
	}
	for i, k := range ks {
		w := want[i]
		if k.pcn != w.PatientControlNumber || k.last != w.Patient.Last {
			t.Fatalf("claim %d: kept strings %q %q changed, want %q %q", i, k.pcn, k.last, w.PatientControlNumber, w.Patient.Last)
		}
		if len(w.Lines) > 0 && k.ctl != w.Lines[len(w.Lines)-1].ControlNumber {
			t.Fatalf("claim %d: kept line control number %q, want %q", i, k.ctl, w.Lines[len(w.Lines)-1].ControlNumber)
		}
		if len(w.References) > 0 && k.ref != w.References[0].Value {
			t.Fatalf("claim %d: kept reference %q, want %q", i, k.ref, w.References[0].Value)
		}
	}
}

// TestTextChunk checks that strings made from the shared text chunk keep
// their values while later ones fill and replace the chunk, and that
// long values get their own strings.
func TestTextChunk(t *testing.T) {
	var tc textChunk
	var got, want []string
	for i := 0; i < 5000; i++ {
		n := i % 97
		if i%500 == 0 {
			n = textOwn + i/500
		}
		v := []byte(strings.Repeat(string(rune('A'+i%26)), n))
		got = append(got, tc.str(v))
		want = append(want, string(v))
		for j := range v {
			v[j] = '!' // the caller's buffer is reused
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("strings from the text chunk changed")
	}
	if tc.str(nil) != "" {
		t.Fatal("empty value")
	}
}
