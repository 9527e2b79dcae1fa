package assemble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x837p"
	"github.com/claimgate/claimgate/pkg/claim"
)

var testNow = time.Date(2025, 4, 2, 15, 4, 0, 0, time.UTC)

func testConfig() Config {
	return Config{
		Submitter: Submitter{Name: "CLAIMGATE", ID: "CG0001", Contact: x837p.Contact{Name: "EDI DESK", Phone: "8005551212"}, ISAQualifier: "ZZ", ISAID: "CLAIMGATE"},
		Receivers: map[string]Receiver{
			"04412": {Name: "NORIDIAN", ID: "04412", ISAQualifier: "ZZ", ISAID: "NORIDIAN", GSID: "04412", FilingCode: "MB"},
			"60054": {Name: "AETNA", ID: "60054", ISAQualifier: "ZZ", ISAID: "AETNACH", FilingCode: "CI"},
			// A second payer behind the same clearinghouse receiver.
			"87726": {Name: "UHC", ID: "87726", ISAQualifier: "ZZ", ISAID: "AETNACH", FilingCode: "CI"},
		},
		Usage: 'T',
		Now:   func() time.Time { return testNow },
	}
}

// testClaim is a typical PT claim; n varies the patient so claims do not
// all share one subscriber.
func testClaim(id, payer string, n int) *claim.Claim {
	c := &claim.Claim{
		ID:    id,
		Payer: claim.Payer{ID: payer, Name: "PAYER " + payer},
		Billing: claim.Provider{
			Entity: claim.Organization, Name: claim.Name{Last: "SEAWAY PHYSICAL THERAPY"}, NPI: "1245319599",
			TaxID: "587654321", Taxonomy: "225100000X",
			Address: claim.Address{Line1: "234 SEAWAY ST", City: "MIAMI", State: "FL", Zip: "331110000"},
		},
		Rendering: &claim.Provider{Entity: claim.Person, Name: claim.Name{Last: "KILDARE", First: "BEN"}, NPI: "1234567893", Taxonomy: "225100000X"},
		Subscriber: claim.Subscriber{
			MemberID: fmt.Sprintf("M%06d", n%997), Name: claim.Name{Last: "SMITH", First: fmt.Sprintf("PAT%d", n%997)},
			Birth: claim.Date{Year: 1960, Month: time.May, Day: 1}, Gender: "F",
			Address: claim.Address{Line1: "1 MAIN ST", City: "MIAMI", State: "FL", Zip: "33101"},
		},
		PlaceOfService: "11",
		OnsetDate:      claim.Date{Year: 2025, Month: time.January, Day: 2},
		Diagnoses:      []string{"M54.5", "M54.16"},
	}
	for k, p := range []string{"97110", "97140", "97112", "97530"} {
		c.Lines = append(c.Lines, claim.Line{
			ControlNumber: fmt.Sprintf("%s-%d", id, k+1), Procedure: p, Modifiers: []string{"GP"},
			Charge: claim.Money(5000 + 100*k), Units: 1 + k%2, DiagnosisPointers: []int{1, 2},
			ServiceDate: claim.Date{Year: 2025, Month: time.March, Day: 10}, PlaceOfService: "11",
		})
	}
	return c
}

// memFile collects a written file.
type memFile struct {
	bytes.Buffer
	closed, aborted bool
}

func (m *memFile) Close() error { m.closed = true; return nil }
func (m *memFile) Abort() error { m.aborted = true; return nil }

type memFiles struct {
	mu    sync.Mutex
	files map[string][]*memFile
}

func (m *memFiles) open(payer string) (io.WriteCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string][]*memFile{}
	}
	f := &memFile{}
	m.files[payer] = append(m.files[payer], f)
	return f, nil
}

// checkFile checks a file's envelopes and reads it back, returning the
// envelope summary and the claims in file order.
func checkFile(t *testing.T, name string, data []byte) (*x12.Summary, []x837p.Transaction) {
	t.Helper()
	sum, fs, err := x12.Check(bytes.NewReader(data), x12.CheckOptions{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) > 0 {
		t.Fatalf("%s: x12.Check findings: %v", name, fs)
	}
	tx, rfs, err := x837p.Read(bytes.NewReader(data), name)
	if err != nil {
		t.Fatal(err)
	}
	if len(rfs) > 0 {
		t.Fatalf("%s: reading our own file: %v", name, rfs)
	}
	return sum, tx
}

func newAssembler(t *testing.T, cfg Config, nums x12.ControlNumbers) *Assembler {
	t.Helper()
	a, err := New(cfg, nums)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestTwoPayersTwoFiles(t *testing.T) {
	a := newAssembler(t, testConfig(), &x12.MemoryControlNumbers{})
	want := map[string][]*claim.Claim{}
	for i := 0; i < 40; i++ {
		payer := []string{"04412", "60054"}[i%2]
		c := testClaim(fmt.Sprintf("CLM%03d", i), payer, i/4) // pairs of claims share a subscriber
		if i%5 == 0 {
			c.Patient = &claim.Patient{Relationship: "19", Name: claim.Name{Last: "SMITH", First: "KID"}, Birth: claim.Date{Year: 2015, Month: 1, Day: 1}, Gender: "M"}
		}
		if err := a.Add(c); err != nil {
			t.Fatal(err)
		}
		want[payer] = append(want[payer], c)
	}
	if a.Pending() != 40 {
		t.Fatalf("Pending = %d", a.Pending())
	}
	var mf memFiles
	files, err := a.Flush(context.Background(), mf.open)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || a.Pending() != 0 {
		t.Fatalf("%d files, %d pending", len(files), a.Pending())
	}
	for _, fi := range files {
		f := mf.files[fi.PayerID]
		if len(f) != 1 || !f[0].closed || f[0].aborted {
			t.Fatalf("payer %s: files %v", fi.PayerID, f)
		}
		sum, tx := checkFile(t, fi.PayerID, f[0].Bytes())
		if len(sum.Interchanges) != 1 || sum.Sets() != 1 {
			t.Fatalf("payer %s: %d interchanges, %d sets", fi.PayerID, len(sum.Interchanges), sum.Sets())
		}
		ic := sum.Interchanges[0]
		recv := testConfig().Receivers[fi.PayerID]
		if recv.GSID == "" {
			recv.GSID = recv.ISAID // the documented default
		}
		if ic.Receiver != recv.ISAID || ic.Usage != "T" || ic.Control != fmt.Sprintf("%09d", fi.Interchange) ||
			ic.Groups[0].Control != fmt.Sprint(fi.Group) || ic.Groups[0].Receiver != recv.GSID || ic.Groups[0].Sets[0].Control != fi.Sets[0].Control {
			t.Errorf("payer %s: envelope %+v %+v does not match FileInfo %+v", fi.PayerID, ic, ic.Groups[0], fi)
		}
		if tx[0].Header.Receiver.ID != recv.ID || tx[0].Header.Submitter.ID != "CG0001" || tx[0].Header.Reference != fi.Sets[0].Reference {
			t.Errorf("payer %s: header %+v", fi.PayerID, tx[0].Header)
		}
		// Every claim of the payer is in the file, once, with its total,
		// and FileInfo lists them in file order.
		got := map[string]*x837p.Item{}
		var order []string
		for i := range tx[0].Items {
			it := &tx[0].Items[i]
			got[it.Claim.ID] = it
			order = append(order, it.Claim.ID)
			if it.Subscriber.Payer.ID != fi.PayerID {
				t.Errorf("claim %s in payer %s's file has payer %s", it.Claim.ID, fi.PayerID, it.Subscriber.Payer.ID)
			}
		}
		if strings.Join(order, ",") != strings.Join(fi.Sets[0].ClaimIDs, ",") {
			t.Errorf("FileInfo claims %v, file has %v", fi.Sets[0].ClaimIDs, order)
		}
		if len(got) != len(want[fi.PayerID]) || fi.Claims != len(got) {
			t.Errorf("payer %s: %d claims in file, %d added, FileInfo says %d", fi.PayerID, len(got), len(want[fi.PayerID]), fi.Claims)
		}
		for _, c := range want[fi.PayerID] {
			it := got[c.ID]
			if it == nil {
				t.Errorf("claim %s missing from %s", c.ID, fi.PayerID)
				continue
			}
			if it.Claim.Charge != int64(c.Total()) || len(it.Claim.Lines) != 4 || it.Claim.Lines[3].ControlNumber != c.Lines[3].ControlNumber {
				t.Errorf("claim %s: charge %d lines %d", c.ID, it.Claim.Charge, len(it.Claim.Lines))
			}
			if (it.Patient != nil) != (c.Patient != nil) || it.Subscriber.FilingCode != recv.FilingCode {
				t.Errorf("claim %s: patient %v filing code %q", c.ID, it.Patient, it.Subscriber.FilingCode)
			}
		}
		// Claims sharing a billing provider and subscriber share loops:
		// one 2000A, and fewer 2000B than claims.
		bills, subs := map[*x837p.BillingProvider]bool{}, map[*x837p.Subscriber]bool{}
		for _, it := range tx[0].Items {
			bills[it.Billing], subs[it.Subscriber] = true, true
		}
		if len(bills) != 1 || len(subs) >= len(tx[0].Items) {
			t.Errorf("payer %s: %d billing loops, %d subscriber loops for %d claims", fi.PayerID, len(bills), len(subs), len(tx[0].Items))
		}
		if refs := fi.Refs(); len(refs) != fi.Claims || refs[0].Interchange != fi.Interchange || refs[0].Set != "0001" {
			t.Errorf("Refs = %v", refs)
		}
	}
}

func TestMaxClaimsPerSet(t *testing.T) {
	if testing.Short() {
		t.Skip("12,000 claims")
	}
	cfg := testConfig()
	cfg.Newline = true
	a := newAssembler(t, cfg, &x12.MemoryControlNumbers{})
	for i := 0; i < 12000; i++ {
		if err := a.Add(testClaim(fmt.Sprintf("C%05d", i), "04412", i)); err != nil {
			t.Fatal(err)
		}
	}
	var mf memFiles
	files, err := a.Flush(context.Background(), mf.open)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 {
		t.Fatalf("%d files", len(files))
	}
	fi := files[0]
	sum, tx := checkFile(t, "big", mf.files["04412"][0].Bytes())
	if sum.Sets() != 3 || len(fi.Sets) != 3 || len(tx) != 3 {
		t.Fatalf("%d sets in the file, %d in FileInfo, %d read", sum.Sets(), len(fi.Sets), len(tx))
	}
	seen := map[string]bool{}
	for k, want := range []int{5000, 5000, 2000} {
		s := fi.Sets[k]
		if len(s.ClaimIDs) != want || len(tx[k].Items) != want || s.Control != fmt.Sprintf("%04d", k+1) || tx[k].Header.Control != s.Control {
			t.Errorf("set %d: %d claims (read %d), ST02 %s", k, len(s.ClaimIDs), len(tx[k].Items), s.Control)
		}
		for i, id := range s.ClaimIDs {
			if seen[id] || tx[k].Items[i].Claim.ID != id {
				t.Fatalf("set %d claim %d: %s duplicated or out of order", k, i, id)
			}
			seen[id] = true
		}
	}
	if len(seen) != 12000 {
		t.Errorf("%d distinct claims written", len(seen))
	}
}

func TestDelimiterInDataRejectsOnlyThatClaim(t *testing.T) {
	a := newAssembler(t, testConfig(), &x12.MemoryControlNumbers{})
	for i := 0; i < 10; i++ {
		c := testClaim(fmt.Sprintf("OK%d", i), "60054", i)
		if i == 4 {
			c.ID = "BAD4"
			c.Subscriber.Name.Last = "O*NEIL"
		}
		if i == 7 {
			c.ID = "BAD7"
			c.Lines[2].Note = "SEE NOTES~ATTACHED"
		}
		err := a.Add(c)
		if i == 4 || i == 7 {
			var re *RejectError
			var f *x12.Finding
			if !errors.As(err, &re) || re.ClaimID != c.ID || !errors.As(err, &f) {
				t.Errorf("claim %s: Add = %v, want a RejectError wrapping an x12.Finding", c.ID, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("claim %s: %v", c.ID, err)
		}
	}
	if a.Pending() != 8 {
		t.Fatalf("Pending = %d, want 8", a.Pending())
	}
	var mf memFiles
	files, err := a.Flush(context.Background(), mf.open)
	if err != nil {
		t.Fatal(err)
	}
	data := mf.files["60054"][0].Bytes()
	_, tx := checkFile(t, "60054", data)
	if len(tx[0].Items) != 8 || files[0].Claims != 8 {
		t.Fatalf("%d claims written", len(tx[0].Items))
	}
	if bytes.Contains(data, []byte("BAD")) || bytes.Contains(data, []byte("NEIL")) {
		t.Error("a rejected claim's data is in the file")
	}
}

func TestRejections(t *testing.T) {
	a := newAssembler(t, testConfig(), &x12.MemoryControlNumbers{})
	if err := a.Add(testClaim("A", "99999", 1)); !errors.Is(err, ErrUnknownPayer) {
		t.Errorf("unknown payer: %v", err)
	}
	if err := a.Add(testClaim("A", "04412", 1)); err != nil {
		t.Fatal(err)
	}
	if err := a.Add(testClaim("A", "04412", 2)); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate claim id: %v", err)
	}
	if err := a.Add(testClaim("A", "60054", 2)); err != nil {
		t.Errorf("same id for another payer: %v", err)
	}
	c := testClaim("B", "04412", 3)
	c.Lines[0].Modifiers = []string{"GP", "KX", "59", "CQ", "XE"}
	if err := a.Add(c); err == nil || !strings.Contains(err.Error(), "modifiers") {
		t.Errorf("five modifiers: %v", err)
	}
	c = testClaim("C", "04412", 3)
	c.Lines[0].DiagnosisPointers = []int{300}
	if err := a.Add(c); err == nil {
		t.Error("pointer 300 accepted")
	}
	c = testClaim("D", "04412", 3)
	c.Diagnoses = make([]string, 13)
	if err := a.Add(c); err == nil {
		t.Error("13 diagnoses accepted")
	}
	if a.Pending() != 2 {
		t.Errorf("Pending = %d, want 2", a.Pending())
	}
}

func TestConfigChecked(t *testing.T) {
	for name, breakIt := range map[string]func(*Config){
		"no usage":                 func(c *Config) { c.Usage = 0 },
		"delimiter in submitter":   func(c *Config) { c.Submitter.Name = "A*B" },
		"receiver id too long":     func(c *Config) { r := c.Receivers["04412"]; r.ISAID = "SIXTEENCHARSLONG"; c.Receivers["04412"] = r },
		"delimiter in receiver":    func(c *Config) { r := c.Receivers["60054"]; r.Name = "X~Y"; c.Receivers["60054"] = r },
		"four submitter contacts":  func(c *Config) { c.Submitter.Contact = x837p.Contact{Phone: "1", Ext: "2", Email: "3", Fax: "4"} },
		"delimiters clash":         func(c *Config) { c.Delimiters = x12.Delimiters{Element: '*', Component: '*', Segment: '~'} },
		"control char in sub name": func(c *Config) { c.Submitter.Name = "A\nB" },
	} {
		cfg := testConfig()
		breakIt(&cfg)
		if _, err := New(cfg, &x12.MemoryControlNumbers{}); err == nil {
			t.Errorf("%s: New accepted a bad configuration", name)
		}
	}
	if _, err := New(testConfig(), nil); err == nil {
		t.Error("New accepted no control numbers")
	}
}

// TestControlNumbersUnique writes several flushes for payers that share a
// receiver: no interchange control number repeats for a receiver, and
// every BHT03 is unique.
func TestControlNumbersUnique(t *testing.T) {
	a := newAssembler(t, testConfig(), &x12.MemoryControlNumbers{Start: 41})
	var mf memFiles
	isa := map[string]bool{}
	bht := map[string]bool{}
	n := 0
	for round := 0; round < 3; round++ {
		for _, payer := range []string{"04412", "60054", "87726"} {
			for k := 0; k < 3; k++ {
				n++
				if err := a.Add(testClaim(fmt.Sprintf("R%dC%d", round, n), payer, n)); err != nil {
					t.Fatal(err)
				}
			}
		}
		files, err := a.Flush(context.Background(), mf.open)
		if err != nil || len(files) != 3 {
			t.Fatalf("round %d: %d files, %v", round, len(files), err)
		}
		for _, fi := range files {
			key := fmt.Sprintf("%s/%09d", fi.Receiver, fi.Interchange)
			if isa[key] {
				t.Errorf("ISA13 %s reused", key)
			}
			isa[key] = true
			for _, s := range fi.Sets {
				if bht[fi.Receiver+"/"+s.Reference] {
					t.Errorf("BHT03 %s reused", s.Reference)
				}
				bht[fi.Receiver+"/"+s.Reference] = true
			}
			if fi.Interchange <= 41 {
				t.Errorf("ISA13 %d not from the allocator (it starts after 41)", fi.Interchange)
			}
		}
	}
	// The file contents agree with FileInfo.
	for payer, fs := range mf.files {
		for _, f := range fs {
			sum, _ := checkFile(t, payer, f.Bytes())
			if !isa[sum.Interchanges[0].Receiver+"/"+sum.Interchanges[0].Control] {
				t.Errorf("file ISA13 %s not reported", sum.Interchanges[0].Control)
			}
		}
	}
}

// failingFile fails after some bytes, like a full disk.
type failingFile struct {
	memFile
	left int
}

func (f *failingFile) Write(p []byte) (int, error) {
	if len(p) > f.left {
		n, _ := f.memFile.Write(p[:f.left])
		f.left = 0
		return n, errors.New("disk full")
	}
	f.left -= len(p)
	return f.memFile.Write(p)
}

func TestFlushFailureKeepsClaims(t *testing.T) {
	a := newAssembler(t, testConfig(), &x12.MemoryControlNumbers{})
	for i := 0; i < 2000; i++ {
		for _, payer := range []string{"04412", "60054"} {
			if err := a.Add(testClaim(fmt.Sprintf("C%d", i), payer, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	var broken *failingFile
	var mf memFiles
	open := func(payer string) (io.WriteCloser, error) {
		if payer == "60054" {
			broken = &failingFile{left: 100000}
			return broken, nil
		}
		return mf.open(payer)
	}
	files, err := a.Flush(context.Background(), open)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Flush error = %v", err)
	}
	if len(files) != 1 || files[0].PayerID != "04412" {
		t.Fatalf("files = %v", files)
	}
	if !broken.aborted || broken.closed {
		t.Error("the failed file was not aborted")
	}
	if a.Pending() != 2000 {
		t.Fatalf("Pending = %d after a failed file, want its 2000 claims", a.Pending())
	}
	// A claim added meanwhile joins them; the next Flush writes all.
	if err := a.Add(testClaim("LATE", "60054", 1)); err != nil {
		t.Fatal(err)
	}
	if err := a.Add(testClaim("C1", "60054", 1)); !errors.Is(err, ErrDuplicate) {
		t.Errorf("re-adding a requeued claim: %v", err)
	}
	files, err = a.Flush(context.Background(), mf.open)
	if err != nil || len(files) != 1 || files[0].Claims != 2001 {
		t.Fatalf("second Flush: %v %v", files, err)
	}
	_, tx := checkFile(t, "60054", mf.files["60054"][0].Bytes())
	if len(tx[0].Items) != 2001 {
		t.Errorf("%d claims in the rewritten file", len(tx[0].Items))
	}

	// An open error keeps the claims too.
	if err := a.Add(testClaim("X", "04412", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Flush(context.Background(), func(string) (io.WriteCloser, error) { return nil, errors.New("no space") }); err == nil || a.Pending() != 1 {
		t.Errorf("open failure: %v, pending %d", err, a.Pending())
	}
}

func TestConcurrentAdd(t *testing.T) {
	a := newAssembler(t, testConfig(), &x12.MemoryControlNumbers{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				c := testClaim(fmt.Sprintf("G%dC%d", g, i), []string{"04412", "60054"}[i%2], i)
				if i%50 == 0 {
					c.Subscriber.Name.First = "BAD^NAME"
				}
				_ = a.Add(c)
			}
		}()
	}
	wg.Wait()
	var mf memFiles
	files, err := a.Flush(context.Background(), mf.open)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, fi := range files {
		total += fi.Claims
		checkFile(t, fi.PayerID, mf.files[fi.PayerID][0].Bytes())
	}
	if total != 4*(200-4) {
		t.Errorf("%d claims written, want %d", total, 4*196)
	}
}

func TestToItem(t *testing.T) {
	c := testClaim("MAP1", "04412", 1)
	c.Rendering.NPI = c.Billing.NPI // same as billing: no 2310B
	c.PayTo = &claim.Provider{Address: claim.Address{Line1: "PO BOX 1", City: "MIAMI", State: "FL", Zip: "33101"}}
	c.Frequency = claim.FrequencyReplacement
	c.OriginalRef = "PAYERCLAIM9"
	c.Patient = &claim.Patient{Relationship: "19", Name: claim.Name{Last: "SMITH", First: "KID"}, Birth: claim.Date{Year: 2015, Month: 2, Day: 3}, Gender: "M"}
	c.Lines[1].PlaceOfService = "02"
	c.OtherPayers = []claim.OtherPayer{{
		Payer: claim.Payer{ID: "60054", Name: "AETNA"}, Sequence: "P", Relation: "18", FilingCode: "CI",
		Subscriber: claim.Subscriber{MemberID: "W123", Name: claim.Name{Last: "SMITH", First: "JANE"}},
		Paid:       3000,
		Adjustment: []claim.Adjustment{{Group: "CO", Reason: "45", Amount: 1000}, {Group: "PR", Reason: "2", Amount: 500}, {Group: "CO", Reason: "253", Amount: 20}},
	}}
	it, err := ToItem(c)
	if err != nil {
		t.Fatal(err)
	}
	cl := it.Claim
	if cl.Rendering != nil {
		t.Error("rendering provider with the billing NPI was sent")
	}
	if it.Billing.PayTo.Line1 != "PO BOX 1" || it.Billing.PayToEntity != "2" || it.Billing.TaxIDQualifier != "EI" {
		t.Errorf("billing: %+v", *it.Billing)
	}
	if it.Subscriber.Relationship != "" || it.Subscriber.Birth != "19600501" || it.Subscriber.Sequence != "P" || it.Subscriber.IDQualifier != "MI" || it.Subscriber.Payer.IDQualifier != "PI" {
		t.Errorf("subscriber: %+v", *it.Subscriber)
	}
	if it.Patient == nil || it.Patient.Birth != "20150203" || it.Patient.Relationship != "19" {
		t.Errorf("patient: %+v", it.Patient)
	}
	if cl.Frequency != "7" || cl.OriginalRef != "PAYERCLAIM9" || cl.Charge != int64(c.Total()) || cl.OnsetDate != "20250102" {
		t.Errorf("claim: %+v", *cl)
	}
	if cl.ProviderSignature != "Y" || cl.Assignment != "A" || cl.BenefitsAssigned != "Y" || cl.ReleaseOfInfo != "Y" {
		t.Errorf("CLM06-09 defaults: %+v", *cl)
	}
	if cl.Diagnoses[0] != (x837p.Diagnosis{Qualifier: "ABK", Code: "M545"}) || cl.Diagnoses[1] != (x837p.Diagnosis{Qualifier: "ABF", Code: "M5416"}) {
		t.Errorf("diagnoses: %v", cl.Diagnoses)
	}
	if cl.Lines[0].PlaceOfService != "" || cl.Lines[1].PlaceOfService != "02" || cl.Lines[0].Pointers != [4]uint8{1, 2} ||
		cl.Lines[1].Units != x837p.Units(2) || cl.Lines[0].Modifiers != [4]string{"GP"} || cl.Lines[0].ServiceDate != "20250310" {
		t.Errorf("lines: %+v", cl.Lines)
	}
	o := cl.OtherSubscribers[0]
	wantAdj := []x837p.Adjustment{{Group: "CO", Reason: "45", Amount: 1000}, {Group: "CO", Reason: "253", Amount: 20}, {Group: "PR", Reason: "2", Amount: 500}}
	if !o.HasPaid || o.Paid != 3000 || fmt.Sprint(o.Adjustments) != fmt.Sprint(wantAdj) || o.ID != "W123" || o.Payer.ID != "60054" || o.BenefitsAssigned != "Y" {
		t.Errorf("other subscriber: %+v", o)
	}
	c.Rendering.NPI = "1003000126"
	it, _ = ToItem(c)
	if it.Claim.Rendering == nil || it.Claim.Rendering.Taxonomy != "225100000X" {
		t.Errorf("distinct rendering provider: %+v", it.Claim.Rendering)
	}
}

func BenchmarkAssemble(b *testing.B) {
	claims := make([]*claim.Claim, 5000)
	for i := range claims {
		claims[i] = testClaim(fmt.Sprintf("C%05d", i), "04412", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	n := 0
	for n < b.N {
		a, err := New(testConfig(), &x12.MemoryControlNumbers{})
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range claims[:min(len(claims), b.N-n)] {
			if err := a.Add(c); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if _, err := a.Flush(context.Background(), func(string) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "claims/s")
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// TestAssembledFilesValidate runs the 837P validator (edi/x837p) on
// assembled files of complete claims: subscribers and dependents, COB,
// referring provider, service facility. The writer must produce nothing
// the TR3 forbids.
func TestAssembledFilesValidate(t *testing.T) {
	a := newAssembler(t, testConfig(), &x12.MemoryControlNumbers{})
	for i := 0; i < 30; i++ {
		c := testClaim(fmt.Sprintf("V%02d", i), []string{"04412", "60054"}[i%2], i/3)
		switch i % 5 {
		case 0:
			c.Patient = &claim.Patient{Relationship: "19", Name: claim.Name{Last: "SMITH", First: "KID"},
				Birth: claim.Date{Year: 2015, Month: 1, Day: 1}, Gender: "M", Address: c.Subscriber.Address}
		case 1:
			c.Referring = &claim.Provider{Entity: claim.Person, Name: claim.Name{Last: "HOUSE", First: "GREG"}, NPI: "1003000126"}
			c.PriorAuth = "AUTH77"
			c.InitialTreatmentDate = claim.Date{Year: 2025, Month: time.January, Day: 10}
		case 2:
			c.Facility = &claim.Facility{Name: "SEAWAY CLINIC NORTH", NPI: "1003000126", Address: claim.Address{Line1: "9 NORTH RD", City: "MIAMI", State: "FL", Zip: "331120000"}}
			c.Note = "PLAN OF CARE CERTIFIED"
		case 3:
			c.Subscriber.Sequence = "S"
			c.OtherPayers = []claim.OtherPayer{{
				Payer: claim.Payer{ID: "00590", Name: "BLUE CROSS"}, Sequence: "P", Relation: "18", FilingCode: "BL",
				Subscriber: claim.Subscriber{MemberID: "XYZ123", Name: c.Subscriber.Name},
				Paid:       9000, Adjustment: []claim.Adjustment{{Group: "CO", Reason: "45", Amount: 11000}, {Group: "PR", Reason: "2", Amount: 800}},
			}}
		}
		if err := a.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	var mf memFiles
	files, err := a.Flush(context.Background(), mf.open)
	if err != nil || len(files) != 2 {
		t.Fatalf("%d files, %v", len(files), err)
	}
	for _, fi := range files {
		fs, err := x837p.Validate(bytes.NewReader(mf.files[fi.PayerID][0].Bytes()), fi.PayerID)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if f.Severity == x12.Error {
				t.Errorf("validator: %v", &f)
			}
		}
	}
}

// TestReenvelopePMFile reads a practice-management system's 837P and
// re-envelopes its claims to their payers: the claims come out whole in
// files of our own.
func TestReenvelopePMFile(t *testing.T) {
	var dir string
	for _, d := range []string{"../../testdata/837p", "../../../shared/samples/837p"} {
		if _, err := os.Stat(d); err == nil {
			dir = d
			break
		}
	}
	if dir == "" {
		t.Skip("no 837P samples")
	}
	cfg := testConfig()
	cfg.Receivers = map[string]Receiver{
		"567890":    {Name: "GREAT PRAIRIES HEALTH", ID: "567890", ISAID: "GPH"},
		"999996666": {Name: "KEY INSURANCE", ID: "999996666", ISAID: "KEY"},
		"999888777": {Name: "HEISMAN INSURANCE", ID: "999888777", ISAID: "KEY"},
	}
	a := newAssembler(t, cfg, &x12.MemoryControlNumbers{})
	var want []x837p.Item
	for _, name := range []string{"lfh__demo.cob.example3.B.x222a1.837", "lfh__demo.example1.x222a1.837", "lfh__demo.autoaccident.x222a1.837"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		r := x837p.NewReader(f)
		for {
			it, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := a.AddItem(*it); err != nil {
				t.Fatal(err)
			}
			want = append(want, *it)
		}
		f.Close()
	}
	if len(want) != 3 {
		t.Fatalf("%d claims queued", len(want))
	}
	var mf memFiles
	files, err := a.Flush(context.Background(), mf.open)
	if err != nil || len(files) != 3 {
		t.Fatalf("%d files, %v", len(files), err)
	}
	got := map[string]x837p.Item{}
	for _, fi := range files {
		_, tx := checkFile(t, fi.PayerID, mf.files[fi.PayerID][0].Bytes())
		for _, it := range tx[0].Items {
			got[it.Claim.ID] = it
		}
	}
	for _, w := range want {
		g, ok := got[w.Claim.ID]
		if !ok {
			t.Errorf("claim %s not written", w.Claim.ID)
			continue
		}
		if !reflect.DeepEqual(g.Claim, w.Claim) || !reflect.DeepEqual(g.Patient, w.Patient) || *g.Billing != *w.Billing || *g.Subscriber != *w.Subscriber {
			t.Errorf("claim %s changed in re-enveloping:\n got %+v\nwant %+v", w.Claim.ID, *g.Claim, *w.Claim)
		}
	}
}

func TestFlushPayerStreams(t *testing.T) {
	a := newAssembler(t, testConfig(), &x12.MemoryControlNumbers{})
	for i := 0; i < 5; i++ {
		a.Add(testClaim(fmt.Sprintf("A%d", i), "04412", i))
	}
	for i := 0; i < 3; i++ {
		a.Add(testClaim(fmt.Sprintf("B%d", i), "60054", i))
	}
	if id, n := a.Fullest(); id != "04412" || n != 5 || a.PendingFor("60054") != 3 || !reflect.DeepEqual(a.PendingPayers(), []string{"04412", "60054"}) {
		t.Fatalf("Fullest %s %d, PendingFor %d, payers %v", id, n, a.PendingFor("60054"), a.PendingPayers())
	}
	var mf memFiles
	fi, ok, err := a.FlushPayer(context.Background(), "04412", mf.open)
	if err != nil || !ok || fi.Claims != 5 || fi.Sender != "CLAIMGATE" || fi.Receiver != "NORIDIAN" || a.Pending() != 3 {
		t.Fatalf("FlushPayer: %+v %v %v, pending %d", fi, ok, err, a.Pending())
	}
	checkFile(t, "04412", mf.files["04412"][0].Bytes())
	if _, ok, err := a.FlushPayer(context.Background(), "04412", mf.open); ok || err != nil {
		t.Fatalf("nothing pending: %v %v", ok, err)
	}
	// A failed file drops its claims and names them: no retry forever.
	broken := &failingFile{left: 200}
	_, ok, err = a.FlushPayer(context.Background(), "60054", func(string) (io.WriteCloser, error) { return broken, nil })
	var fe *FlushError
	if ok || !errors.As(err, &fe) || !reflect.DeepEqual(fe.ClaimIDs, []string{"B0", "B1", "B2"}) || !broken.aborted || a.Pending() != 0 {
		t.Fatalf("failed FlushPayer: %v %v, aborted %v, pending %d", ok, err, broken.aborted, a.Pending())
	}
}

func TestAddReceiverAndSetSubmitter(t *testing.T) {
	a := newAssembler(t, testConfig(), &x12.MemoryControlNumbers{})
	if err := a.Add(testClaim("N1", "NEW01", 1)); !errors.Is(err, ErrUnknownPayer) {
		t.Fatalf("unknown payer: %v", err)
	}
	if err := a.AddReceiver("BAD", Receiver{Name: "A*B", ID: "BAD"}); err == nil || a.HasReceiver("BAD") {
		t.Fatalf("receiver with a delimiter accepted: %v", err)
	}
	if err := a.AddReceiver("NEW01", Receiver{Name: "NEW PAYER", ID: "NEW01"}); err != nil || !a.HasReceiver("NEW01") {
		t.Fatal(err)
	}
	if err := a.AddReceiver("NEW01", Receiver{Name: "AGAIN", ID: "NEW01"}); err == nil {
		t.Fatal("second receiver for one payer accepted")
	}
	if err := a.Add(testClaim("N1", "NEW01", 1)); err != nil {
		t.Fatal(err)
	}
	a.SetSubmitter(Submitter{Name: "RIVERBEND", ID: "RB01", Contact: x837p.Contact{Name: "EDI", Email: "edi@example.com"}})
	var mf memFiles
	fi, _, err := a.FlushPayer(context.Background(), "NEW01", mf.open)
	if err != nil || fi.Sender != "RB01" {
		t.Fatalf("%+v %v", fi, err)
	}
	b := mf.files["NEW01"][0].Bytes()
	checkFile(t, "NEW01", b)
	if !bytes.Contains(b, []byte("NM1*41*2*RIVERBEND*****46*RB01~")) || !bytes.Contains(b, []byte("NM1*40*2*NEW PAYER*****46*NEW01~")) {
		t.Fatalf("file:\n%s", b)
	}
}
