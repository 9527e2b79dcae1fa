package x835

import (
	"bytes"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

// The same payer's trace number in two sets of a file is the same
// payment twice: an error at the second TRN02, from Validate and from
// the validating Reader alike; another payer's, or another trace, is not.
func TestDuplicatePayment(t *testing.T) {
	g := newGen(11)
	a, b, c, d := g.remittance(2), g.remittance(1), g.remittance(1), g.remittance(1)
	b.Payment.TraceNumber, b.Payment.PayerID = a.Payment.TraceNumber, a.Payment.PayerID // a twice
	c.Payment.TraceNumber = a.Payment.TraceNumber                                       // another payer
	d.Payment.PayerID = a.Payment.PayerID                                               // another trace
	data := writeFile(t, x12.DefaultDelimiters, false, a, c, d, b)

	dups := func(fs x12.Findings) []x12.Finding {
		var out []x12.Finding
		for _, f := range fs {
			if f.Rule == RuleDuplicatePayment {
				out = append(out, f)
			}
		}
		return out
	}
	_, vfs, err := Validate(bytes.NewReader(data), "dup.835")
	if err != nil {
		t.Fatal(err)
	}
	_, rfs, err := ReadAll(bytes.NewReader(data), "dup.835")
	if err != nil {
		t.Fatal(err)
	}
	for name, fs := range map[string]x12.Findings{"Validate": vfs, "ReadAll": rfs} {
		got := dups(fs)
		if len(got) != 1 || got[0].Severity != x12.Error || got[0].SegmentID != "TRN" || got[0].Element != 2 {
			t.Fatalf("%s: want one duplicate-payment error at TRN02, got %v", name, got)
		}
		if !bytes.HasPrefix(data[got[0].Offset:], []byte("TRN*1*"+a.Payment.TraceNumber+"*"+a.Payment.PayerID)) {
			t.Errorf("%s: finding at offset %d is not the repeated TRN", name, got[0].Offset)
		}
	}
	// Each file starts afresh: the x12.Check Sets function of another
	// file does not remember this one's payments.
	if _, fs, _ := Validate(bytes.NewReader(writeFile(t, x12.DefaultDelimiters, false, b)), "b.835"); len(dups(fs)) != 0 {
		t.Errorf("a file with one payment: %v", dups(fs))
	}
}
