package x835

import (
	"bytes"
	"io"
	"reflect"
	"runtime"
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
	return bigClaimsFile(t, 11, 120, 150, 3, 60, 61)
}

// bigClaimsFile is a generated file of n claims, those at the indexes big
// having lines service lines.
func bigClaimsFile(t *testing.T, seed int64, n, lines int, big ...int) ([]byte, []*ClaimPayment) {
	t.Helper()
	g := newGen(seed)
	rem := g.remittance(n)
	for _, i := range big {
		big := bigClaim(g, lines)
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
	} else if rem.Payment.Method == "NON" {
		rem.Payment.Handling, rem.Payment.Method = "I", "CHK"
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

// TestReuseClaims checks the ReuseClaims promise on a file of many input
// buffers (two streamed sets around the shared file's, which has big
// claims, provider summaries and adjustments): Next returns the same
// claims over and over, each equal — when returned — to what a default
// Reader returns for it; the Remittances keep their values to the end,
// although the input buffers are filled again; and reading allocates a
// small fraction of the input's size.
func TestReuseClaims(t *testing.T) {
	shared, want := sharedFile(t)
	// a claim of 990 lines, over 64 KiB: its buffers must not be reused
	// before it is returned
	huge, hugeClaims := bigClaimsFile(t, 12, 3, 990, 1)
	var buf bytes.Buffer
	if _, _, err := streamFile(&buf, 5, 3000); err != nil {
		t.Fatal(err)
	}
	buf.Write(shared)
	buf.Write(huge)
	if _, _, err := streamFile(&buf, 6, 3000); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if len(data) < 16*64<<10 {
		t.Fatalf("input of %d bytes is too small to reuse buffers", len(data))
	}

	plain, reuse := NewReader(bytes.NewReader(data)), NewReader(bytes.NewReader(data))
	reuse.ReuseClaims = true
	var plainRems, reuseRems []*Remittance
	plain.EndRemittance = func(r *Remittance) { plainRems = append(plainRems, r) }
	reuse.EndRemittance = func(r *Remittance) { reuseRems = append(reuseRems, r) }
	var prev *ClaimPayment
	n, big := 0, 0
	for ; ; n++ {
		w, errW := plain.Next()
		c, err := reuse.Next()
		if err != errW {
			t.Fatalf("claim %d: reuse error %v, default reader %v", n, err, errW)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n > 1 && c != prev && c != &reuse.p.claimBuf[0] && c != &reuse.p.claimBuf[1] {
			t.Fatal("ReuseClaims returned a new claim")
		}
		prev = c
		if g, w := bare(c), bare(w); !reflect.DeepEqual(g, w) {
			t.Fatalf("claim %d (%s) differs from the default reader's (%s)", n, c.PatientControlNumber, w.PatientControlNumber)
		}
		if len(c.Lines) >= 150 {
			big++
		}
	}
	if n != 6000+len(want)+len(hugeClaims) || big != 4 {
		t.Fatalf("%d claims (%d big), want %d (4 big)", n, big, 6000+len(want)+len(hugeClaims))
	}
	if len(reuseRems) != 4 || !reflect.DeepEqual(reuseRems, plainRems) {
		t.Fatal("the Remittances of the reusing reader changed or differ from the default reader's")
	}
	if len(reuse.Findings()) != 0 || len(plain.Findings()) != 0 {
		t.Fatalf("findings: %v %v", reuse.Findings(), plain.Findings())
	}

	// Alone, so the default reader's allocations do not count: reading
	// the input three times over allocates hardly more than reading it
	// once (a first read loads the code lists; each 990-line claim grows
	// the arenas, about 100 KB, which a default-sized claim then shrinks).
	allocs := func(copies int) uint64 {
		in := bytes.NewReader(bytes.Repeat(data, copies))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rd := NewReader(in)
		rd.ReuseClaims = true
		for {
			if _, err := rd.Next(); err != nil {
				break
			}
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	allocs(1)
	once, thrice := allocs(1), allocs(3)
	if more := int64(thrice) - int64(once); more > int64(len(data)/8) {
		t.Fatalf("reading %d more bytes allocated %d more bytes (%d for the first %d): the input buffers are not reused", 2*len(data), more, once, len(data))
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
