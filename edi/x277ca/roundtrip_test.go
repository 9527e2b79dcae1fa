package x277ca

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/codes"
	"github.com/claimgate/claimgate/edi/x12"
)

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randText(r *rand.Rand, min, max int) string {
	b := make([]byte, min+r.IntN(max-min+1))
	for i := range b {
		b[i] = alnum[r.IntN(len(alnum))]
	}
	return string(b)
}

func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

func maybe(r *rand.Rand, s string) string {
	if r.IntN(2) == 0 {
		return ""
	}
	return s
}

func randAmount(r *rand.Rand) string {
	s := fmt.Sprint(r.IntN(100000))
	if r.IntN(2) == 0 {
		s += fmt.Sprintf(".%02d", r.IntN(100))
	}
	return s
}

func randDate(r *rand.Rand) string {
	return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(2500)).Format("20060102")
}

var statusCodes = func() []string {
	var out []string
	for _, c := range codes.ClaimStatus().Codes() {
		out = append(out, c.Code)
	}
	return out
}()

var categories = []string{"A0", "A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "P1", "F0", "E0"}

func randCode(r *rand.Rand, entities []string) StatusCode {
	c := StatusCode{Category: pick(r, categories), Code: pick(r, statusCodes)}
	if entities != nil && r.IntN(2) == 0 {
		c.Entity = pick(r, entities)
	}
	return c
}

// randStatuses makes n statuses valid for a loop; amount and message say
// whether STC04 / STC12 are used there.
func randStatuses(r *rand.Rand, n int, entities []string, date, amount, message bool) []Status {
	var out []Status
	for ; n > 0; n-- {
		s := Status{StatusCode: randCode(r, entities)}
		for k := r.IntN(3); k > 0; k-- {
			s.More = append(s.More, randCode(r, nil))
		}
		if date {
			s.Date = randDate(r)
		}
		if amount {
			s.Amount = randAmount(r)
		}
		if message && r.IntN(2) == 0 {
			s.Message = randText(r, 1, 40)
		}
		s.Action = "WQ"
		if s.Outcome() == OutcomeRejected {
			s.Action = "U"
		}
		out = append(out, s)
	}
	return out
}

func randEntity(r *rand.Rand, code string, types []string, quals []string, first bool) Entity {
	e := Entity{Code: code, Type: pick(r, types), LastName: randText(r, 1, 30), IDQual: pick(r, quals), ID: randText(r, 2, 20)}
	if first && e.Type == "1" {
		e.FirstName, e.MiddleName = maybe(r, randText(r, 1, 20)), maybe(r, randText(r, 1, 1))
	}
	return e
}

func randTotals(r *rand.Rand) Totals {
	return Totals{AcceptedQuantity: maybe(r, fmt.Sprint(r.IntN(500))), RejectedQuantity: maybe(r, fmt.Sprint(r.IntN(500))),
		AcceptedAmount: maybe(r, randAmount(r)), RejectedAmount: maybe(r, randAmount(r))}
}

func randDates(r *rand.Rand) (string, string) {
	from := randDate(r)
	if r.IntN(2) == 0 {
		return from, from
	}
	t, _ := time.Parse("20060102", from)
	return from, t.AddDate(0, 0, r.IntN(30)).Format("20060102")
}

func randTransaction(r *rand.Rand) *Transaction {
	t := &Transaction{Version: Version, Reference: randText(r, 1, 30), Date: randDate(r), Time: pick(r, []string{"1025", "235959", "0000"})}
	for i := 1 + r.IntN(2); i > 0; i-- {
		s := &Source{Name: randEntity(r, pick(r, []string{"PR", "AY"}), []string{"2"}, []string{"46", "FI", "PI", "XV"}, false),
			Trace: randText(r, 1, 30), Received: randDate(r), Processed: randDate(r)}
		for j := 1 + r.IntN(2); j > 0; j-- {
			v := &Receiver{Name: randEntity(r, "41", []string{"1", "2"}, []string{"46"}, true), Providers: []*Provider{}}
			if r.IntN(4) > 0 {
				v.Trace = randText(r, 1, 30)
				v.Statuses = randStatuses(r, r.IntN(3), entities2200B, true, true, false)
				v.Totals = randTotals(r)
			}
			for k := r.IntN(4); k > 0; k-- {
				p := &Provider{Name: randEntity(r, "85", []string{"1", "2"}, []string{"FI", "SV", "XX"}, true), Patients: []*Patient{}}
				if p.Name.Type == "1" {
					p.Name.Suffix = maybe(r, "MD")
				}
				if r.IntN(3) > 0 {
					p.Trace = randText(r, 1, 30)
					p.Statuses = randStatuses(r, r.IntN(3), entities2200C, r.IntN(2) == 0, true, false)
					if r.IntN(3) == 0 {
						p.SecondaryIDs = []Reference{{Qualifier: pick(r, []string{"0B", "1G", "G2", "LU", "SY", "TJ"}), Value: randText(r, 1, 20)}}
					}
					p.Totals = randTotals(r)
				}
				for m := r.IntN(4); m > 0; m-- {
					pt := &Patient{Name: randEntity(r, "QC", []string{"1"}, []string{"II", "MI"}, true)}
					for n := 1 + r.IntN(2); n > 0; n-- {
						pt.Claims = append(pt.Claims, randClaim(r))
					}
					p.Patients = append(p.Patients, pt)
				}
				v.Providers = append(v.Providers, p)
			}
			s.Receivers = append(s.Receivers, v)
		}
		t.Sources = append(t.Sources, s)
	}
	finish(t)
	return t
}

func randClaim(r *rand.Rand) *Claim {
	c := &Claim{PatientControl: randText(r, 1, 38), Statuses: randStatuses(r, 1+r.IntN(2), entities2200D, true, true, true),
		PayerClaimControl: maybe(r, randText(r, 1, 30)), ClearinghouseTrace: maybe(r, randText(r, 1, 30)),
		BillType: maybe(r, "731"), MedicalRecord: maybe(r, randText(r, 1, 20))}
	c.ServiceFrom, c.ServiceTo = randDates(r)
	for i := r.IntN(3); i > 0; i-- {
		ln := Line{Qualifier: "HC", Procedure: pick(r, []string{"97110", "97140", "97530", "G0283"}), Charge: randAmount(r),
			Revenue: maybe(r, "0420"), Units: maybe(r, fmt.Sprint(1+r.IntN(8))),
			Statuses: randStatuses(r, 1+r.IntN(2), entities2200D, true, false, false), LineControl: maybe(r, randText(r, 1, 30)),
			Prescription: maybe(r, randText(r, 1, 10))}
		for m := r.IntN(5); m > 0; m-- {
			ln.Modifiers = append(ln.Modifiers, pick(r, []string{"GP", "59", "KX", "CQ", "XE"}))
		}
		if r.IntN(2) == 0 {
			ln.ServiceFrom, ln.ServiceTo = randDates(r)
		}
		c.Lines = append(c.Lines, ln)
	}
	return c
}

// TestRoundTrip writes random transactions (fixed seeds) and reads them
// back unchanged; the written files must validate without any finding.
func TestRoundTrip(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		r := rand.New(rand.NewPCG(seed, 277))
		var txs []*Transaction
		for i := 1 + r.IntN(2); i > 0; i-- {
			txs = append(txs, randTransaction(r))
		}
		var buf bytes.Buffer
		ih := x12.InterchangeHeader{Sender: "PAYER", Receiver: "CLAIMGATE", Control: int64(seed), Time: time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)}
		gh := x12.GroupHeader{Sender: "PAYER", Receiver: "CG", Control: 9, Time: ih.Time}
		opts := x12.WriterOptions{Newline: seed%2 == 0}
		if seed%3 == 0 {
			opts.Delimiters = x12.Delimiters{Element: '|', Repetition: '>', Component: '^', Segment: '\n'}
		}
		if err := WriteFile(context.Background(), &buf, opts, ih, gh, txs...); err != nil {
			t.Fatalf("seed %d: write: %v", seed, err)
		}
		ack, fs, err := Read(bytes.NewReader(buf.Bytes()), "rt")
		if err != nil || len(fs) != 0 {
			t.Fatalf("seed %d: read: %v %v", seed, err, fs)
		}
		if len(ack.Transactions) != len(txs) {
			t.Fatalf("seed %d: %d transactions read, %d written", seed, len(ack.Transactions), len(txs))
		}
		for i, tx := range txs {
			tx.Interchange, tx.Group, tx.Control = fmt.Sprintf("%09d", seed), "9", fmt.Sprintf("%04d", i+1)
			if !reflect.DeepEqual(ack.Transactions[i], tx) {
				t.Fatalf("seed %d transaction %d differs:\n%s", seed, i, buf.String())
			}
		}
		if _, vfs, _ := Validate(bytes.NewReader(buf.Bytes()), "rt"); len(vfs) != 0 {
			t.Fatalf("seed %d: written file has findings %v\n%s", seed, vfs, buf.String())
		}
	}
}

func TestBuild(t *testing.T) {
	day := time.Date(2026, 5, 6, 7, 8, 0, 0, time.UTC)
	clinic := Entity{Type: "2", LastName: "GOOD PT CLINIC", IDQual: "XX", ID: "1234567893"}
	other := Entity{Type: "1", LastName: "SOLO", FirstName: "ANN", IDQual: "XX", ID: "1497758544"}
	sub := Submission{
		Payer:    Entity{LastName: "BIG PAYER", IDQual: "PI", ID: "87726"},
		Receiver: Entity{LastName: "CLAIMGATE", ID: "CG001"},
		Batch:    "BATCH42",
		Time:     day,
		Claims: []ClaimResult{
			{Provider: clinic, Patient: Entity{LastName: "DOE", FirstName: "JANE", ID: "M1"}, PatientControl: "PCN1", Outcome: OutcomeAccepted,
				Charge: "150.50", PayerClaimControl: "PAY1", ServiceFrom: "20260420"},
			{Provider: clinic, Patient: Entity{LastName: "ROE", ID: "M2"}, PatientControl: "PCN2", Outcome: OutcomeRejected,
				Status: StatusCode{Category: "A7", Code: "21", Entity: "85"}, Charge: "99.5", ServiceFrom: "20260401", ServiceTo: "20260410",
				Lines: []LineResult{{LineControl: "PCN2-1", Procedure: "97110", Modifiers: []string{"GP"}, Charge: "99.5", Units: "3", Outcome: OutcomeRejected}}},
			{Provider: other, Patient: Entity{LastName: "POE", ID: "M3"}, PatientControl: "PCN3", Charge: "10", ServiceFrom: "20260402"},
		},
		RejectedProviders: []ProviderRejection{{Provider: Entity{Type: "2", LastName: "UNENROLLED", IDQual: "XX", ID: "1003000126"}, Claims: 2, Charge: "300"}},
	}
	tx, err := Build(sub)
	if err != nil {
		t.Fatal(err)
	}
	rcv := tx.Sources[0].Receivers[0]
	if rcv.Trace != "BATCH42" || rcv.Totals != (Totals{AcceptedQuantity: "2", AcceptedAmount: "160.5", RejectedQuantity: "3", RejectedAmount: "399.5"}) || rcv.Statuses[0].Amount != "560" {
		t.Errorf("receiver = %+v", rcv)
	}
	if len(rcv.Providers) != 3 || rcv.Providers[0].Totals != (Totals{AcceptedQuantity: "1", AcceptedAmount: "150.5", RejectedQuantity: "1", RejectedAmount: "99.5"}) {
		t.Errorf("providers = %+v", rcv.Providers)
	}
	if rp := tx.RejectedProviders(); len(rp) != 1 || rp[0].Name.ID != "1003000126" || rp[0].Totals.RejectedQuantity != "2" {
		t.Errorf("rejected providers = %+v", rp)
	}
	var outcomes []string
	tx.Claims(func(p *Provider, c *Claim) error {
		outcomes = append(outcomes, c.PatientControl+":"+string(c.Outcome)+":"+c.Statuses[0].Category+":"+c.Statuses[0].Action)
		return nil
	})
	if got := strings.Join(outcomes, " "); got != "PCN1:accepted:A2:WQ PCN2:rejected:A7:U PCN3:received:A1:WQ" {
		t.Errorf("claims: %s", got)
	}

	var buf bytes.Buffer
	ih := x12.InterchangeHeader{Sender: "PAYER", Receiver: "CLAIMGATE", Control: 5, Time: day}
	if err := WriteFile(context.Background(), &buf, x12.WriterOptions{Newline: true}, ih, x12.GroupHeader{Sender: "P", Receiver: "C", Control: 6, Time: day}, tx); err != nil {
		t.Fatal(err)
	}
	if _, fs, _ := Validate(bytes.NewReader(buf.Bytes()), "built"); len(fs) != 0 {
		t.Errorf("built 277CA has findings: %v\n%s", fs, buf.String())
	}
	ack, _, _ := Read(bytes.NewReader(buf.Bytes()), "built")
	tx.Interchange, tx.Group, tx.Control = "000000005", "6", "0001"
	if !reflect.DeepEqual(ack.Transactions[0], tx) {
		t.Errorf("built transaction does not read back equal:\n%s", buf.String())
	}
	for _, want := range []string{"HL*8*2*19*0~", "STC*A3:21:85*20260506*U*300~", "QTY*QC*2~", "REF*FJ*PCN2-1~", "DTP*472*RD8*20260401-20260410~", "TRN*2*BATCH42~"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("written file lacks %q", want)
		}
	}

	if _, err := Build(Submission{Claims: []ClaimResult{{PatientControl: "X", Charge: "1.234", ServiceFrom: "20260101"}}}); err == nil {
		t.Error("a charge with 3 decimals was accepted")
	}
}

func TestWriterRefuses(t *testing.T) {
	base := func() *Transaction {
		r := rand.New(rand.NewPCG(5, 5))
		for {
			tx := randTransaction(r)
			n := 0
			tx.Claims(func(*Provider, *Claim) error { n++; return nil })
			if n > 0 {
				return tx
			}
		}
	}
	first := func(tx *Transaction) *Claim {
		var c *Claim
		tx.Claims(func(_ *Provider, cl *Claim) error {
			if c == nil {
				c = cl
			}
			return nil
		})
		return c
	}
	cases := map[string]func(*Transaction){
		"no status":          func(tx *Transaction) { first(tx).Statuses = nil },
		"no patient control": func(tx *Transaction) { first(tx).PatientControl = "" },
		"no service date":    func(tx *Transaction) { first(tx).ServiceFrom = "" },
		"delimiter in data":  func(tx *Transaction) { first(tx).PayerClaimControl = "A*B" },
		"no receiver":        func(tx *Transaction) { tx.Sources[0].Receivers = nil },
		"statuses without a trace": func(tx *Transaction) {
			v := tx.Sources[0].Receivers[0]
			v.Trace, v.Statuses = "", []Status{{StatusCode: StatusCode{Category: "A1", Code: "19"}}}
		},
	}
	for name, breakIt := range cases {
		tx := base()
		breakIt(tx)
		var buf bytes.Buffer
		w := x12.NewWriter(&buf, x12.WriterOptions{})
		w.BeginInterchange(context.Background(), x12.InterchangeHeader{Sender: "A", Receiver: "B"})
		w.BeginGroup(context.Background(), x12.GroupHeader{FunctionalID: "HN", Version: Version})
		if err := WriteTransaction(w, "0001", tx); err == nil {
			t.Errorf("%s: written", name)
		}
	}
}

func FuzzRead277CA(f *testing.F) {
	for _, path := range sampleFiles(f) {
		f.Add(readFile(f, path))
	}
	f.Add(readFile(f, "../../testdata/277/lfh__claim-level-status.277"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ack, _, err := Read(bytes.NewReader(data), "fuzz")
		if err != nil {
			t.Fatalf("read error on an in-memory input: %v", err)
		}
		claims := 0
		for _, tx := range ack.Transactions {
			tx.Claims(func(*Provider, *Claim) error { claims++; return nil })
		}
		if n := bytes.Count(data, []byte("TRN")); claims > n {
			t.Fatalf("%d claims from %d TRN occurrences", claims, n)
		}
		// The streaming Reader, which reuses its patients and claims, hands
		// out the same claims in the same order.
		var want []string
		for _, tx := range ack.Transactions {
			tx.Claims(func(_ *Provider, c *Claim) error { want = append(want, fmt.Sprintf("%+v", *c)); return nil })
		}
		sr := NewReader(bytes.NewReader(data), "fuzz")
		k := 0
		for {
			e, err := sr.Next()
			if err != nil {
				break
			}
			if e.Kind != ClaimDone {
				continue
			}
			if got := fmt.Sprintf("%+v", *e.Claim); k >= len(want) || got != want[k] {
				t.Fatalf("streamed claim %d differs from Read's: %s", k, got)
			}
			k++
		}
		if k != len(want) {
			t.Fatalf("%d claims streamed, %d read", k, len(want))
		}
		if _, _, err := Validate(bytes.NewReader(data), "fuzz"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestStreamMatchesRead checks that the streaming Reader, which reuses its
// patient and claim buffers, hands out the same claims as Read, including
// patients with several claims and claims with lines.
func TestStreamMatchesRead(t *testing.T) {
	for seed := uint64(1); seed <= 60; seed++ {
		r := rand.New(rand.NewPCG(seed, 31))
		var buf bytes.Buffer
		ih := x12.InterchangeHeader{Sender: "P", Receiver: "C", Control: 1}
		if err := WriteFile(context.Background(), &buf, x12.WriterOptions{}, ih, x12.GroupHeader{}, randTransaction(r), randTransaction(r)); err != nil {
			t.Fatal(err)
		}
		ack, _, _ := Read(bytes.NewReader(buf.Bytes()), "rt")
		var want []string
		for _, tx := range ack.Transactions {
			for _, s := range tx.Sources {
				for _, v := range s.Receivers {
					for _, p := range v.Providers {
						for _, pt := range p.Patients {
							for _, c := range pt.Claims {
								want = append(want, fmt.Sprintf("%s %s %+v", pt.HL, pt.Name.LastName, *c))
							}
						}
					}
				}
			}
		}
		sr := NewReader(bytes.NewReader(buf.Bytes()), "rt")
		var got []string
		var kept []*Claim
		for {
			e, err := sr.Next()
			if err != nil {
				break
			}
			if e.Kind == ClaimDone {
				got = append(got, fmt.Sprintf("%s %s %+v", e.Patient.HL, e.Patient.Name.LastName, *e.Claim))
				kept = append(kept, e.Claim.Clone())
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: stream\n%v\nread\n%v", seed, got, want)
		}
		for i, c := range kept {
			if s := fmt.Sprintf("%+v", *c); !strings.HasSuffix(want[i], s) {
				t.Fatalf("seed %d: clone %d changed: %s", seed, i, s)
			}
		}
	}
}

// TestStreamRecycles checks the streaming Reader on input of many 64 KiB
// buffers, which it fills again as claims are returned: every claim and
// its patient equal Read's when handed out (patients with several claims
// included), the providers, receivers and sources keep their values to
// the end; and reading a generated file allocates a small fraction of its
// size.
func TestStreamRecycles(t *testing.T) {
	var buf bytes.Buffer
	// a patient whose three claims of 990 lines take more than two input
	// buffers: its name must outlive them
	r := rand.New(rand.NewPCG(99, 7))
	big := randTransaction(r)
	pt := &Patient{Name: Entity{Code: "QC", Type: "1", LastName: "BIGPATIENT", FirstName: "ONE", IDQual: "MI", ID: "BIG123456"}}
	for range 3 {
		c := randClaim(r)
		c.Lines = nil
		for i := range 990 {
			c.Lines = append(c.Lines, Line{Qualifier: "HC", Procedure: "97110", Charge: "50", LineControl: fmt.Sprintf("LINECONTROL%019d", i),
				Statuses: randStatuses(r, 2, entities2200D, true, false, false)})
		}
		pt.Claims = append(pt.Claims, c)
	}
	rcv := big.Sources[0].Receivers[0]
	rcv.Providers = append(rcv.Providers, &Provider{Name: randEntity(r, "85", []string{"2"}, []string{"XX"}, false), Patients: []*Patient{pt}})
	finish(big)
	if err := WriteFile(context.Background(), &buf, x12.WriterOptions{}, x12.InterchangeHeader{Sender: "P", Receiver: "C", Control: 999999}, x12.GroupHeader{}, big); err != nil {
		t.Fatal(err)
	}
	for seed := uint64(1); buf.Len() < 2<<20; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		ih := x12.InterchangeHeader{Sender: "P", Receiver: "C", Control: int64(seed)}
		if err := WriteFile(context.Background(), &buf, x12.WriterOptions{}, ih, x12.GroupHeader{}, randTransaction(r), randTransaction(r)); err != nil {
			t.Fatal(err)
		}
	}
	data := buf.Bytes()
	ack, fs, err := Read(bytes.NewReader(data), "rt")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	var provs []string
	for _, tx := range ack.Transactions {
		for _, s := range tx.Sources {
			for _, v := range s.Receivers {
				for _, p := range v.Providers {
					provs = append(provs, fmt.Sprintf("%+v %+v %+v %+v %+v", s.Name, s.Trace, v.Name, v.Trace, p.Name)+fmt.Sprint(p.Trace, p.SecondaryIDs))
					for _, pt := range p.Patients {
						for _, c := range pt.Claims {
							want = append(want, fmt.Sprintf("%s %+v %+v", pt.HL, pt.Name, *c))
						}
					}
				}
			}
		}
	}
	if len(want) < 1000 {
		t.Fatalf("only %d claims", len(want))
	}

	sr := NewReader(bytes.NewReader(data), "rt")
	type kept struct {
		src  *Source
		rcv  *Receiver
		prov *Provider
	}
	var ks []kept
	n := 0
	for {
		e, err := sr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch e.Kind {
		case ClaimDone:
			if got := fmt.Sprintf("%s %+v %+v", e.Patient.HL, e.Patient.Name, *e.Claim); n >= len(want) || got != want[n] {
				t.Fatalf("claim %d: stream\n%s\nread\n%s", n, got, want[min(n, len(want)-1)])
			}
			n++
		case ProviderDone:
			ks = append(ks, kept{e.Source, e.Receiver, e.Provider})
		}
	}
	if n != len(want) || len(ks) != len(provs) || !reflect.DeepEqual(sr.Findings(), fs) {
		t.Fatalf("%d claims, %d providers; want %d, %d", n, len(ks), len(want), len(provs))
	}
	for i, k := range ks {
		if got := fmt.Sprintf("%+v %+v %+v %+v %+v", k.src.Name, k.src.Trace, k.rcv.Name, k.rcv.Trace, k.prov.Name) + fmt.Sprint(k.prov.Trace, k.prov.SecondaryIDs); got != provs[i] {
			t.Fatalf("provider %d changed after reading on:\n%s\nwant\n%s", i, got, provs[i])
		}
	}

	if raceEnabled {
		return // the race detector's allocations would count
	}
	// on the benchmark's kind of file (random transactions allocate for
	// their many small providers and statuses)
	data, err = io.ReadAll(newGen277(20000))
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	sr = NewReader(bytes.NewReader(data), "gen")
	for {
		if _, err := sr.Next(); err != nil {
			break
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > uint64(len(data)/4) {
		t.Fatalf("streaming %d bytes allocated %d bytes: the input buffers are not reused", len(data), got)
	}
}
