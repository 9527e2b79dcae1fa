package reconcile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x277ca"
	"github.com/claimgate/claimgate/edi/x835"
	"github.com/claimgate/claimgate/edi/x837p"
	"github.com/claimgate/claimgate/edi/x999"
	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/claim"
)

var testNow = time.Date(2025, 4, 2, 15, 4, 0, 0, time.UTC)

// Trading partners of the test submissions: two payers behind one
// clearinghouse receiver (AETNACH) and one with its own (NORIDIAN).
const (
	payerNoridian = "04412"
	payerAetna    = "60054"
	payerUHC      = "87726"
	isaNoridian   = "NORIDIAN"
	isaAetna      = "AETNACH"
)

func testConfig() assemble.Config {
	return assemble.Config{
		Submitter: assemble.Submitter{Name: "CLAIMGATE", ID: "CG0001", Contact: x837p.Contact{Name: "EDI DESK", Phone: "8005551212"}, ISAQualifier: "ZZ", ISAID: "CLAIMGATE"},
		Receivers: map[string]assemble.Receiver{
			payerNoridian: {Name: "NORIDIAN", ID: payerNoridian, ISAQualifier: "ZZ", ISAID: isaNoridian, GSID: payerNoridian, FilingCode: "MB"},
			payerAetna:    {Name: "AETNA", ID: payerAetna, ISAQualifier: "ZZ", ISAID: isaAetna, FilingCode: "CI"},
			payerUHC:      {Name: "UHC", ID: payerUHC, ISAQualifier: "ZZ", ISAID: isaAetna, FilingCode: "CI"},
		},
		Usage:           'T',
		MaxClaimsPerSet: 6,
		Now:             func() time.Time { return testNow },
	}
}

// testClaim is a PT claim with four lines of 50.00, 51.00, 52.00 and
// 53.00 (line control numbers <id>-1 .. <id>-4); n varies the patient.
func testClaim(id, payer string, n int) *claim.Claim {
	c := &claim.Claim{
		ID:    id,
		Payer: claim.Payer{ID: payer, Name: "PAYER " + payer},
		Billing: claim.Provider{
			Entity: claim.Organization, Name: claim.Name{Last: "SEAWAY PHYSICAL THERAPY"}, NPI: "1245319599",
			TaxID: "587654321", Taxonomy: "225100000X",
			Address: claim.Address{Line1: "234 SEAWAY ST", City: "MIAMI", State: "FL", Zip: "331110000"},
		},
		Subscriber: claim.Subscriber{
			MemberID: fmt.Sprintf("M%06d", n), Name: claim.Name{Last: "SMITH", First: fmt.Sprintf("PAT%d", n)},
			Birth: claim.Date{Year: 1960, Month: time.May, Day: 1}, Gender: "F",
			Address: claim.Address{Line1: "1 MAIN ST", City: "MIAMI", State: "FL", Zip: "33101"},
		},
		PlaceOfService: "11",
		Diagnoses:      []string{"M54.5"},
	}
	for k, p := range []string{"97110", "97140", "97112", "97530"} {
		c.Lines = append(c.Lines, claim.Line{
			ControlNumber: fmt.Sprintf("%s-%d", id, k+1), Procedure: p, Modifiers: []string{"GP"},
			Charge: claim.Money(5000 + 100*k), Units: 1, DiagnosisPointers: []int{1},
			ServiceDate: claim.Date{Year: 2025, Month: time.March, Day: 10}, PlaceOfService: "11",
		})
	}
	return c
}

type discardCloser struct{ io.Writer }

func (discardCloser) Close() error { return nil }

// submission is a set of submitted claims: the files assemble wrote and
// an index that recorded them.
type submission struct {
	files map[string]assemble.FileInfo // by payer
	idx   *MemoryIndex
}

// submit assembles the claims (payer → ids, in order) into 837P files
// and records them in a MemoryIndex.
func submit(t testing.TB, claims map[string][]string) *submission {
	t.Helper()
	a, err := assemble.New(testConfig(), &x12.MemoryControlNumbers{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, payer := range []string{payerNoridian, payerAetna, payerUHC} {
		for _, id := range claims[payer] {
			n++
			if err := a.Add(testClaim(id, payer, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	fis, err := a.Flush(context.Background(), func(string) (io.WriteCloser, error) { return discardCloser{io.Discard}, nil })
	if err != nil {
		t.Fatal(err)
	}
	s := &submission{files: map[string]assemble.FileInfo{}, idx: NewMemoryIndex()}
	for i := range fis {
		s.files[fis[i].PayerID] = fis[i]
		if err := s.idx.Record(context.Background(), &fis[i]); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// payerEnvelope is the envelope of a response from a partner to us.
func payerEnvelope(partner string, fid, version string) (x12.InterchangeHeader, x12.GroupHeader) {
	return x12.InterchangeHeader{SenderQual: "ZZ", Sender: partner, ReceiverQual: "ZZ", Receiver: "CLAIMGATE", Time: testNow, Usage: 'T'},
		x12.GroupHeader{FunctionalID: fid, Sender: partner, Receiver: "CLAIMGATE", Time: testNow, Version: version}
}

// file999 writes a 999 from partner answering the groups.
func file999(t testing.TB, partner string, groups ...*x999.GroupResponse) []byte {
	t.Helper()
	var buf bytes.Buffer
	ih, gh := payerEnvelope(partner, "FA", "")
	if err := x999.WriteFile(context.Background(), &buf, x12.WriterOptions{Newline: true}, ih, gh, groups...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fileTA1 writes an interchange holding only a TA1 for isa13.
func fileTA1(t testing.TB, partner string, isa13 int64, ack, note string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := x12.NewWriter(&buf, x12.WriterOptions{Newline: true})
	ih, _ := payerEnvelope(partner, "", "")
	if _, err := w.BeginInterchange(context.Background(), ih); err != nil {
		t.Fatal(err)
	}
	if err := w.Segment("TA1", fmt.Sprintf("%09d", isa13), "250402", "1504", ack, note); err != nil {
		t.Fatal(err)
	}
	if err := w.EndInterchange(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// file277 writes a 277CA from partner for payer about one batch.
func file277(t testing.TB, partner, payer, batch string, claims ...x277ca.ClaimResult) []byte {
	t.Helper()
	tx, err := x277ca.Build(x277ca.Submission{
		Payer:    x277ca.Entity{LastName: "PAYER " + payer, IDQual: "PI", ID: payer},
		Receiver: x277ca.Entity{LastName: "CLAIMGATE", ID: "CG0001"},
		Batch:    batch, Time: testNow, Claims: claims,
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	ih, gh := payerEnvelope(partner, "HN", "")
	if err := x277ca.WriteFile(context.Background(), &buf, x12.WriterOptions{Newline: true}, ih, gh, tx); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// verdict277 is a 277CA verdict on one claim.
func verdict277(id string, o x277ca.Outcome, cat, code, payerClaim string) x277ca.ClaimResult {
	return x277ca.ClaimResult{
		Provider:       x277ca.Entity{LastName: "SEAWAY PHYSICAL THERAPY", IDQual: "XX", ID: "1245319599"},
		Patient:        x277ca.Entity{LastName: "SMITH", FirstName: "PAT", ID: "M1"},
		PatientControl: id, Outcome: o, Status: x277ca.StatusCode{Category: cat, Code: code},
		Charge: "206", PayerClaimControl: payerClaim, ServiceFrom: "20250310",
	}
}

// remittance is an 835 transaction set from a payer; claims are added by
// paidClaim and friends.
func remittance(payer, trace string, claims ...*x835.ClaimPayment) *x835.Remittance {
	rem := &x835.Remittance{
		Payment: x835.Payment{Handling: "I", CreditDebit: "C", Method: "CHK", Date: 20250415, TraceNumber: trace, PayerID: "1999999999"},
		Payer: x835.Payer{Name: "PAYER " + payer, Address: x835.Address{Line1: "1 PAYER WAY", City: "FARGO", State: "ND", Zip: "58102"}, References: []x835.Reference{{Qualifier: "2U", Value: payer}},
			Contacts: []x835.Contact{{Function: "BL", Numbers: []x835.ContactNumber{{Qualifier: "TE", Number: "8005551212"}}}}},
		Payee:  x835.Payee{Name: "SEAWAY PHYSICAL THERAPY", IDQualifier: "XX", ID: "1245319599"},
		Claims: claims,
	}
	for _, c := range claims {
		rem.Payment.Amount += c.Paid
	}
	if rem.Payment.Amount < 0 {
		// more taken back than paid: the payer debits the difference
		rem.Payment.Amount = -rem.Payment.Amount
		rem.Payment.CreditDebit = "D"
	}
	return rem
}

func file835(t testing.TB, partner string, rems ...*x835.Remittance) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := x12.NewWriter(&buf, x12.WriterOptions{Newline: true})
	ctx := context.Background()
	ih, gh := payerEnvelope(partner, "HP", x835.Version)
	if _, err := w.BeginInterchange(ctx, ih); err != nil {
		t.Fatal(err)
	}
	if _, err := w.BeginGroup(ctx, gh); err != nil {
		t.Fatal(err)
	}
	for i, rem := range rems {
		rem.Control = fmt.Sprintf("%04d", i+1)
		if err := x835.WriteRemittance(w, rem); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.EndGroup(); err != nil {
		t.Fatal(err)
	}
	if err := w.EndInterchange(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// payment builds a balanced 835 claim for a testClaim: lines[i] gives
// the adjustments of line i (paid = charge − adjustments); claimAdj are
// claim-level adjustments taken from the paid amount of the first line.
func payment(id, status, payerClaim string, lines [4][]x835.Adjustment) *x835.ClaimPayment {
	c := &x835.ClaimPayment{PatientControlNumber: id, Status: status, FilingIndicator: "MB", PayerClaimControlNumber: payerClaim,
		Patient: x835.Entity{Type: "1", Last: "SMITH", First: "PAT", IDQualifier: "MI", ID: "M1"}}
	for k, p := range []string{"97110", "97140", "97112", "97530"} {
		charge := x835.Amount(5000 + 100*k)
		ln := x835.ServiceLine{Procedure: x835.Procedure{Qualifier: "HC", Code: p, Modifiers: []string{"GP"}}, Charge: charge,
			UnitsPaid: 1, ServiceDate: 20250310, ControlNumber: fmt.Sprintf("%s-%d", id, k+1), Adjustments: lines[k]}
		ln.Paid = charge - ln.AdjustmentTotal()
		c.Charge += charge
		c.Paid += ln.Paid
		for _, a := range lines[k] {
			if a.Group == "PR" {
				c.PatientResponsibility += a.Amount
			}
		}
		c.Lines = append(c.Lines, ln)
	}
	return c
}

// negate turns a payment into its reversal (CLP02 22, amounts negated).
func negate(c *x835.ClaimPayment) *x835.ClaimPayment {
	r := *c
	r.Status = "22"
	r.Charge, r.Paid, r.PatientResponsibility = -c.Charge, -c.Paid, -c.PatientResponsibility
	r.Lines = nil
	for _, ln := range c.Lines {
		ln.Charge, ln.Paid = -ln.Charge, -ln.Paid
		var adj []x835.Adjustment
		for _, a := range ln.Adjustments {
			a.Amount = -a.Amount
			adj = append(adj, a)
		}
		ln.Adjustments = adj
		r.Lines = append(r.Lines, ln)
	}
	return &r
}

func adj(group, reason string, cents int64) x835.Adjustment {
	return x835.Adjustment{Group: group, Reason: reason, Amount: x835.Amount(cents)}
}
