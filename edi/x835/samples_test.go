package x835

import (
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/internal/testkit"
	"github.com/claimgate/claimgate/edi/x12"
)

const sampleDir = "../../testdata/835"

func sampleFiles(t testing.TB) []string {
	t.Helper()
	out := testkit.SampleFiles(t, sampleDir, 15)
	if len(out) != 15 {
		t.Fatalf("found %d 835 samples in %s, want 15", len(out), sampleDir)
	}
	return out
}

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sampleDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// scanned is what a naive scan of the file text says, computed without
// the x12 or x835 readers: the expectations the typed reader must meet.
type scanned struct {
	sets     []scannedSet
	clp      int
	statuses []string
	paid     int64 // Σ CLP04 in cents
	plb      int
}

type scannedSet struct {
	bpr02 int64
	clp   int
}

// scan splits the text on the terminator found after the ISA's 16th
// element separator and looks at segment ids and elements by hand.
func scan(t *testing.T, data []byte) scanned {
	t.Helper()
	i := bytes.Index(data, []byte("ISA"))
	el := data[i+3]
	n, p := 0, i+3
	for ; p < len(data); p++ {
		if data[p] == el {
			n++
			if n == 16 {
				break
			}
		}
	}
	term := data[p+2]
	var s scanned
	for _, raw := range bytes.Split(data, []byte{term}) {
		seg := strings.TrimSpace(string(raw))
		f := strings.Split(seg, string(el))
		switch f[0] {
		case "ST":
			s.sets = append(s.sets, scannedSet{})
		case "BPR":
			s.sets[len(s.sets)-1].bpr02 = cents(t, f[2])
		case "CLP":
			s.clp++
			s.sets[len(s.sets)-1].clp++
			s.statuses = append(s.statuses, f[2])
			s.paid += cents(t, f[4])
		case "PLB":
			s.plb++
		}
	}
	return s
}

func cents(t *testing.T, s string) int64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return int64(math.Round(f * 100))
}

// streamAll reads a file with the streaming Reader.
func streamAll(t *testing.T, data []byte, validate bool) ([]*ClaimPayment, []*Remittance, x12.Findings) {
	t.Helper()
	rd := NewReader(bytes.NewReader(data))
	rd.Validate = validate
	var rems []*Remittance
	rd.EndRemittance = func(r *Remittance) { rems = append(rems, r) }
	var claims []*ClaimPayment
	for {
		c, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if c.Remittance != rd.Remittance() || c.Remittance == nil {
			t.Fatalf("claim %s: Remittance not the reader's current one", c.PatientControlNumber)
		}
		claims = append(claims, c)
	}
	return claims, rems, rd.Findings()
}

func TestSamplesMatchText(t *testing.T) {
	for _, file := range sampleFiles(t) {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			data := readSample(t, name)
			want := scan(t, data)
			for _, validate := range []bool{false, true} {
				claims, rems, _ := streamAll(t, data, validate)
				if len(claims) != want.clp {
					t.Errorf("validate=%v: %d claims, the file has %d CLP segments", validate, len(claims), want.clp)
				}
				var paid int64
				var statuses []string
				for _, c := range claims {
					paid += int64(c.Paid)
					statuses = append(statuses, c.Status)
				}
				if paid != want.paid {
					t.Errorf("validate=%v: Σ CLP04 = %d cents, the file says %d", validate, paid, want.paid)
				}
				if !reflect.DeepEqual(statuses, want.statuses) {
					t.Errorf("validate=%v: statuses %v, the file has %v", validate, statuses, want.statuses)
				}
				if len(rems) != len(want.sets) {
					t.Fatalf("validate=%v: %d sets, the file has %d ST", validate, len(rems), len(want.sets))
				}
				plb := 0
				for i, r := range rems {
					if int64(r.Payment.Amount) != want.sets[i].bpr02 {
						t.Errorf("set %d: BPR02 %s, the file says %d cents", i, r.Payment.Amount, want.sets[i].bpr02)
					}
					if r.ProviderAdjustments != nil {
						plb++
					}
				}
				// PLB segments hold one or more pairs; every sample's
				// PLB sits in its own set.
				if plb != want.plb {
					t.Errorf("validate=%v: %d sets with provider adjustments, the file has %d PLB", validate, plb, want.plb)
				}
			}

			// ReadAll, the streaming reader and the validating streaming
			// reader build the same model.
			all, _, err := ReadAll(bytes.NewReader(data), name)
			if err != nil {
				t.Fatal(err)
			}
			light, _, _ := streamAll(t, data, false)
			var fromAll []*ClaimPayment
			for _, r := range all {
				fromAll = append(fromAll, r.Claims...)
			}
			if len(fromAll) != len(light) {
				t.Fatalf("ReadAll %d claims, Reader %d", len(fromAll), len(light))
			}
			for i := range light {
				a, b := *fromAll[i], *light[i]
				a.Remittance, b.Remittance = nil, nil
				a.Reversal, b.Reversal, a.Correction, b.Correction = nil, nil, nil, nil
				if !reflect.DeepEqual(a, b) {
					t.Errorf("claim %d: ReadAll and Reader differ:\n%+v\n%+v", i, a, b)
				}
			}
		})
	}
}

// Exact values read off the files by eye.
func TestSampleValues(t *testing.T) {
	rems, _, err := ReadAll(bytes.NewReader(readSample(t, "herophilus__835_Pharmacy_2014.txt")), "pharmacy")
	if err != nil {
		t.Fatal(err)
	}
	r := rems[0]
	if r.Payment.Amount != 21965 || r.Payment.Method != "ACH" || r.Payment.Date != 20100101 || r.Payment.TraceNumber != "10100000000" || r.Payment.PayerID != "1000000000" {
		t.Errorf("payment %+v", r.Payment)
	}
	if r.Payer.Name != "NYSDOH" || r.Payee.NPI != "9999999995" || r.Payee.TaxID != "000000000" || r.ReceiverID != "ETIN" {
		t.Errorf("payer %+v payee %+v", r.Payer, r.Payee)
	}
	if want := []ProviderAdjustment{{ProviderID: "9999999995", FiscalPeriod: 20100101, Reason: "WO", Reference: "FCN#201001010000000", Amount: 399}}; !reflect.DeepEqual(r.ProviderAdjustments, want) {
		t.Errorf("PLB %+v", r.ProviderAdjustments)
	}
	c := r.Claims[2]
	l := c.Lines[0]
	if l.Procedure.Qualifier != "N4" || l.Procedure.Code != "54092051902" || l.Charge != 25646 || l.Paid != 22364 || l.UnitsPaid != 30 {
		t.Errorf("line %+v", l)
	}
	// CAS*CO*91*-3.5**45*36.32: two triplets, the first negative.
	wantAdj := []Adjustment{{Group: "CO", Reason: "91", Amount: -350, Category: "other"}, {Group: "CO", Reason: "45", Amount: 3632, Category: "contractual"}}
	if !reflect.DeepEqual(l.Adjustments, wantAdj) {
		t.Errorf("adjustments %+v", l.Adjustments)
	}
	if a, ok := l.Allowed(); !ok || a != 22364 {
		t.Errorf("allowed %v %v", a, ok)
	}
	if got := r.Claims[0].Lines[0].Remarks; !reflect.DeepEqual(got, []Remark{{"RX", "65"}}) {
		t.Errorf("LQ*RX remarks %+v", got)
	}

	// The TR3 example: 9 claims on one check, BPR02 810.80.
	rems, _, _ = ReadAll(bytes.NewReader(readSample(t, "x12org__X221-multiple-claims-single-check.edi")), "x")
	r = rems[0]
	if r.Payment.Amount != 81080 || len(r.Claims) != 9 || r.Payment.Method != "CHK" {
		t.Errorf("BPR02 %s, %d claims", r.Payment.Amount, len(r.Claims))
	}
	c = r.Claims[4] // CLP*7722337*1*348*16.8*44.2: D4342 125 → 0 by CO-45
	if c.Paid != 1680 || c.PatientResponsibility != 4420 || len(c.Lines) != 3 || !reflect.DeepEqual(c.Lines[2].Procedure, Procedure{Qualifier: "AD", Code: "D2950"}) || c.RenderingProvider.ID != "1811901945" {
		t.Errorf("claim 5 %+v", c)
	}
	if d := c.Lines[0].ServiceDate; d.String() != "2019-03-13" {
		t.Errorf("service date %s", d)
	}

	// SVC with modifiers, REF*6R and LQ*HE.
	rems, _, _ = ReadAll(bytes.NewReader(readSample(t, "x12org__X221-line-service-line-penalty-example-1.edi")), "x")
	c = rems[0].Claims[0]
	if c.Lines[1].ControlNumber != "B2" || c.Outpatient == nil || !reflect.DeepEqual(c.Outpatient.Remarks, []string{"N25"}) || c.Received != 20170113 {
		t.Errorf("claim %+v", c)
	}
	if got := c.Lines[0].Adjustments[1]; got != (Adjustment{Group: "CO", Reason: "137", Amount: -6, Category: Category("CO", "137", nil)}) {
		t.Errorf("CAS*CO*45*23.2**137*-.06 second triplet = %+v", got)
	}
	rems, _, _ = ReadAll(bytes.NewReader(readSample(t, "moov__example_5010_835_sample1.txt")), "x")
	l = rems[0].Claims[0].Lines[0]
	if l.Procedure.Code != "97001" || l.RevenueCode != "0424" || l.ControlNumber != "1" || rems[0].Claims[0].Frequency != "2" {
		t.Errorf("moov line %+v", l)
	}
	if got := rems[1].ProviderAdjustments; len(got) != 1 || got[0].Reason != "50" || got[0].Reference != "111" || got[0].Amount != 617340 {
		t.Errorf("moov PLB %+v", got)
	}
}

// The herophilus retro files reverse a claim (CLP02 22) and re-adjudicate
// it: the reader links the two.
func TestReversalLinks(t *testing.T) {
	for _, name := range []string{"herophilus__835_OutpatientRetro.CRLF.txt", "herophilus__835_Inpatient_DRG_Retro.txt"} {
		for _, validate := range []bool{false, true} {
			claims, rems, _ := streamAll(t, readSample(t, name), validate)
			if len(claims) != 2 {
				t.Fatalf("%s: %d claims", name, len(claims))
			}
			rev, corr := claims[0], claims[1]
			if !rev.IsReversal() || corr.IsReversal() {
				t.Fatalf("%s: statuses %s %s", name, rev.Status, corr.Status)
			}
			if rev.Correction != corr || corr.Reversal != rev || rev.Reversal != nil || corr.Correction != nil {
				t.Errorf("%s: reversal links not set: %p %p", name, rev.Correction, corr.Reversal)
			}
			if rev.Paid >= 0 || rev.Charge != -corr.Charge {
				t.Errorf("%s: reversal amounts %s %s", name, rev.Charge, rev.Paid)
			}
			if len(rems) != 1 {
				t.Fatalf("%d sets", len(rems))
			}
		}
	}
	// In the DRG file the two claims share CLP01 but not CLP07
	// (1300000000000020 vs 1400000000000020): linked by CLP01 alone.
	claims, _, _ := streamAll(t, readSample(t, "herophilus__835_Inpatient_DRG_Retro.txt"), false)
	if claims[0].PayerClaimControlNumber == claims[1].PayerClaimControlNumber {
		t.Fatal("expected different CLP07s")
	}
	// The outpatient retro balances only with its PLB: Σ CLP04 = -20.16,
	// PLB FB -20.16, BPR02 0.
	rems, fs, _ := ReadAll(bytes.NewReader(readSample(t, "herophilus__835_OutpatientRetro.CRLF.txt")), "retro")
	if rems[0].NetPayment() != 0 || rems[0].ProviderAdjustmentTotal() != -2016 || fs.Errors() != 0 {
		t.Errorf("net %s plb %s findings %v", rems[0].NetPayment(), rems[0].ProviderAdjustmentTotal(), fs)
	}
}

// A reversal whose correction has the same CLP01 and CLP07 wins over an
// earlier one with the same CLP01 only.
func TestReversalPrefersSameCLP07(t *testing.T) {
	g := newGen(7)
	rem := g.remittance(0)
	a, b := g.claim(), g.claim()
	a.PatientControlNumber, b.PatientControlNumber = "SAME", "SAME"
	ra, rb := reversalOf(a), reversalOf(b)
	corr := g.claim()
	corr.PatientControlNumber, corr.PayerClaimControlNumber = "SAME", b.PayerClaimControlNumber
	rem.Claims = []*ClaimPayment{ra, rb, corr}
	rem.Payment.Amount = rem.NetPayment()
	if rem.Payment.Amount < 0 {
		rem.ProviderAdjustments = []ProviderAdjustment{{ProviderID: "X", FiscalPeriod: 20251231, Reason: "FB", Amount: rem.Payment.Amount}}
		rem.Payment.Amount = 0
	}
	claims, _, _ := streamAll(t, writeFile(t, x12.DefaultDelimiters, true, rem), false)
	if claims[2].Reversal != claims[1] || claims[1].Correction != claims[2] || claims[0].Correction != nil {
		t.Errorf("correction linked to the wrong reversal")
	}
}

func TestSampleFindings(t *testing.T) {
	// What the full validation says of each sample, and why.
	want := map[string][]string{
		// TR3 examples: balanced and clean, except the one pyx12 also
		// rejects for REF02 "555555555 " (trailing space).
		"x12org__X221-multiple-claims-single-check.edi":        nil,
		"x12org__X221-claim-adjustment-reason-code-45.edi":     nil,
		"x12org__X221-coordination-of-benefits-example-1a.edi": nil,
		"x12org__X221-dollars-and-data-sent-separate.edi":      nil,
		"x12org__X221-line-service-line-penalty-example-1.edi": nil,
		"x12org__X221-correcting-the-subscriber-example-1.edi": {"tr3.trailing-space"},
		"herophilus__835_Inpatient_DRG_Retro.txt":              nil,
		"herophilus__835_OutpatientRetro.CRLF.txt":             nil,
		"herophilus__835_Pharmacy_2014.txt":                    nil,
		"herophilus__835_Professional_w_payment_2014.txt":      nil,
		"tasty__multi-line-not-delimited.edi":                  nil,
		// the same interchange twice (same sender and ISA13), so the
		// same payment (payer and TRN02) twice
		"tasty__oneLine-2-ISA.edi": {"envelope.isa-duplicate", RuleDuplicatePayment},
		// no PER*BL; TS3 carries 4010-era amounts in TS309/TS311
		"lfh__medicare-part-a.835": {RulePayerContact, "tr3.not-used"},
		// a negative BPR02, and claim 9999999 pays 0.00 where its line
		// pays 0.01 (CLP03 385.21 − PR-27 385.20 = 0.01 ≠ CLP04 0); its
		// two sets share payer 1234567890 and trace 0000010305
		"moov__example_5010_835_sample1.txt": {RulePaymentNegative, RuleBalanceClaim, RuleDuplicatePayment},
		// short ISA, and a PLB split over two lines by a newline that is
		// the segment terminator
		"dwai__sample_835_nv_medicaid.NEGATIVE.txt": {"envelope.isa-length", "envelope.isa-width", RulePLBPair, "segment.id", RuleUnexpected, "envelope.se-count", "segment.unterminated", "envelope.iea-control"},
	}
	for _, file := range sampleFiles(t) {
		name := filepath.Base(file)
		rules, ok := want[name]
		if !ok {
			t.Errorf("%s: no expectation", name)
			continue
		}
		_, fs, err := ReadAll(bytes.NewReader(readSample(t, name)), name)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, f := range fs {
			if f.Severity == x12.Error {
				got[f.Rule] = true
			}
		}
		for _, r := range rules {
			if !got[r] {
				t.Errorf("%s: no %s finding; got %v", name, r, fs)
			}
			delete(got, r)
		}
		for r := range got {
			t.Errorf("%s: unexpected error finding %s: %v", name, r, fs)
		}
		// Validate (x12.Check with the 835 checker) agrees on errors.
		_, vfs, err := Validate(bytes.NewReader(readSample(t, name)), name)
		if err != nil {
			t.Fatal(err)
		}
		if vfs.Errors() != fs.Errors() {
			t.Errorf("%s: Validate %d errors, ReadAll %d:\n%v\n%v", name, vfs.Errors(), fs.Errors(), vfs, fs)
		}
	}
}

// The NEGATIVE file fails, and the failure says what is wrong where.
func TestNegativeSample(t *testing.T) {
	name := "dwai__sample_835_nv_medicaid.NEGATIVE.txt"
	_, fs, err := Validate(bytes.NewReader(readSample(t, name)), name)
	if err != nil {
		t.Fatal(err)
	}
	if fs.Errors() == 0 {
		t.Fatal("NEGATIVE sample passed validation")
	}
	var msgs []string
	for _, f := range fs {
		msgs = append(msgs, f.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		"ISA segment is 99 characters long",
		`segment id "-181.55" is not 2 or 3 upper-case letters`,
		"PLB07 adjustment identifier and PLB08 amount must be sent together",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no finding saying %q in:\n%s", want, all)
		}
	}
}
