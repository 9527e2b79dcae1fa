package x837p

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

// roundTripDelimiters are the delimiter sets the round trip writes with:
// the usual ones, a newline terminator, and the odd set of one of the
// samples.
var roundTripDelimiters = []x12.Delimiters{
	x12.DefaultDelimiters,
	{Element: '|', Component: '>', Repetition: '!', Segment: '\n'},
	{Element: '~', Component: '^', Repetition: '{', Segment: '_'},
	{Element: '*', Component: ':', Segment: '~'}, // no repetition separator
}

// TestRoundTrip writes hundreds of random models and reads them back:
// the reader must return exactly what was written, with no findings, and
// the envelopes must check clean.
func TestRoundTrip(t *testing.T) {
	seeds := 400
	if testing.Short() {
		seeds = 50
	}
	ctx := context.Background()
	for seed := 1; seed <= seeds; seed++ {
		g := newGen(uint64(seed))
		sets := []Transaction{g.transaction()}
		if g.r.IntN(3) == 0 {
			sets = append(sets, g.transaction())
			sets[1].Header.Control = sets[0].Header.Control + "1"
			if len(sets[1].Header.Control) > 9 {
				sets[1].Header.Control = "1234"
			}
		}
		d := roundTripDelimiters[seed%len(roundTripDelimiters)]
		var buf bytes.Buffer
		w := x12.NewWriter(&buf, x12.WriterOptions{Delimiters: d, Newline: seed%2 == 0 && d.Segment != '\n'})
		if _, _, err := WriteFile(ctx, w, x12.InterchangeHeader{Sender: "SUBMITTER", Receiver: "PAYER", Usage: 'T'},
			x12.GroupHeader{Sender: "SUBMITTER", Receiver: "PAYER"}, sets); err != nil {
			t.Fatalf("seed %d: WriteFile: %v", seed, err)
		}
		_, fs, err := x12.Check(bytes.NewReader(buf.Bytes()), x12.CheckOptions{Name: "roundtrip"})
		if err != nil || fs.Errors() > 0 {
			t.Fatalf("seed %d: x12.Check: %v %v", seed, err, fs)
		}
		got, fs, err := Read(bytes.NewReader(buf.Bytes()), "roundtrip")
		if err != nil {
			t.Fatalf("seed %d: Read: %v", seed, err)
		}
		if len(fs) > 0 {
			t.Fatalf("seed %d: reader findings on its own output: %v", seed, fs)
		}
		if !reflect.DeepEqual(got, sets) {
			t.Fatalf("seed %d: round trip differs:\n%s\nfile:\n%s", seed, firstDiff(sets, got), buf.String())
		}
	}
}

// firstDiff describes the first item that differs, for a readable failure.
func firstDiff(want, got []Transaction) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d sets, want %d", len(got), len(want))
	}
	for s := range want {
		if !reflect.DeepEqual(want[s].Header, got[s].Header) {
			return fmt.Sprintf("set %d header\n got %+v\nwant %+v", s, got[s].Header, want[s].Header)
		}
		if len(want[s].Items) != len(got[s].Items) {
			return fmt.Sprintf("set %d: %d items, want %d", s, len(got[s].Items), len(want[s].Items))
		}
		for i := range want[s].Items {
			a, b := want[s].Items[i], got[s].Items[i]
			switch {
			case !reflect.DeepEqual(a.Billing, b.Billing):
				return fmt.Sprintf("set %d item %d billing\n got %+v\nwant %+v", s, i, *b.Billing, *a.Billing)
			case !reflect.DeepEqual(a.Subscriber, b.Subscriber):
				return fmt.Sprintf("set %d item %d subscriber\n got %+v\nwant %+v", s, i, *b.Subscriber, *a.Subscriber)
			case !reflect.DeepEqual(a.Patient, b.Patient):
				return fmt.Sprintf("set %d item %d patient\n got %+v\nwant %+v", s, i, b.Patient, a.Patient)
			case !reflect.DeepEqual(a.Claim, b.Claim):
				return fmt.Sprintf("set %d item %d claim\n got %+v\nwant %+v", s, i, *b.Claim, *a.Claim)
			}
		}
	}
	return "no difference found"
}

// TestReaderSharesContext checks that claims of one hierarchical level
// share their context pointers, so consumers can group by pointer.
func TestReaderSharesContext(t *testing.T) {
	b, s := ptContext()
	items := []Item{{Billing: b, Subscriber: s, Claim: ptClaim("A")}, {Billing: b, Subscriber: s, Claim: ptClaim("B")}}
	s2 := *s
	s2.ID = "OTHER"
	items = append(items, Item{Billing: b, Subscriber: &s2, Claim: ptClaim("C")})
	var buf bytes.Buffer
	w := x12.NewWriter(&buf, x12.WriterOptions{})
	h := ptHeader()
	if _, _, err := WriteFile(context.Background(), w, x12.InterchangeHeader{Sender: "S", Receiver: "R"}, x12.GroupHeader{Sender: "S", Receiver: "R"},
		[]Transaction{{Header: h, Items: items}}); err != nil {
		t.Fatal(err)
	}
	got, _, err := Read(&buf, "")
	if err != nil || len(got) != 1 || len(got[0].Items) != 3 {
		t.Fatalf("Read = %v, %v", got, err)
	}
	it := got[0].Items
	if it[0].Billing != it[1].Billing || it[1].Billing != it[2].Billing {
		t.Error("claims under one 2000A do not share the billing provider")
	}
	if it[0].Subscriber != it[1].Subscriber || it[1].Subscriber == it[2].Subscriber {
		t.Error("subscriber pointers do not follow the 2000B loops")
	}
}

type manifestStats struct {
	file         string
	claims, sets int
	lx           int
	hl           map[string]int
	clean        bool // pyx12 accepted the file
}

var statRe = regexp.MustCompile(`\b(CLM|LX|ST)=(\d+)`)

// readManifest reads the 837p blocks of SOURCES.txt (the MANIFEST entries
// of the copied samples).
func readManifest(t *testing.T, path string) []manifestStats {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []manifestStats
	var cur *manifestStats
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "837p/") {
			out = append(out, manifestStats{file: strings.TrimSpace(strings.TrimPrefix(line, "837p/")), hl: map[string]int{}})
			cur = &out[len(out)-1]
			continue
		}
		if cur != nil && strings.HasPrefix(strings.TrimSpace(line), "verdict:") {
			cur.clean = strings.Contains(line, "pyx12=OK")
			continue
		}
		if cur == nil || !strings.HasPrefix(strings.TrimSpace(line), "stats:") {
			continue
		}
		for _, m := range statRe.FindAllStringSubmatch(line, -1) {
			n, _ := strconv.Atoi(m[2])
			switch m[1] {
			case "CLM":
				cur.claims = n
			case "LX":
				cur.lx = n
			case "ST":
				cur.sets = n
			}
		}
		if i := strings.Index(line, "HL="); i >= 0 {
			for _, kv := range strings.Split(strings.Fields(line[i+3:])[0], ",") {
				k, v, _ := strings.Cut(kv, ":")
				n, _ := strconv.Atoi(v)
				cur.hl[k] = n
			}
		}
	}
	return out
}

func sampleDir(t *testing.T) string {
	for _, d := range []string{"../../testdata/837p", "../../../shared/samples/837p"} {
		if _, err := os.Stat(filepath.Join(d, "SOURCES.txt")); err == nil {
			return d
		}
	}
	t.Skip("no 837P samples")
	return ""
}

type rawClaim struct {
	id     string
	charge int64
}

// rawClaims scans a file with the x12 reader alone for CLM01 and CLM02,
// as a check on the typed reader independent of it.
func rawClaims(t *testing.T, data []byte) []rawClaim {
	r := x12.NewReader(bytes.NewReader(data))
	var out []rawClaim
	for {
		seg, err := r.Next()
		if err == io.EOF {
			return out
		}
		if x12.IsFinding(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if seg.Is("CLM") {
			f, err := strconv.ParseFloat(seg.Text(2), 64)
			if err != nil {
				t.Fatalf("CLM02 %q: %v", seg.Text(2), err)
			}
			out = append(out, rawClaim{seg.Text(1), int64(math.Round(f * 100))})
		}
	}
}

// TestReadSamples reads the public samples and checks the claim counts,
// hierarchy counts, CLM01 and CLM02 against the MANIFEST stats and a raw
// segment scan.
func TestReadSamples(t *testing.T) {
	dir := sampleDir(t)
	stats := readManifest(t, filepath.Join(dir, "SOURCES.txt"))
	if len(stats) < 10 {
		t.Fatalf("only %d 837p entries in SOURCES.txt", len(stats))
	}
	for _, st := range stats {
		t.Run(st.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, st.file))
			if err != nil {
				t.Fatal(err)
			}
			r := NewReader(bytes.NewReader(data))
			r.Name = st.file
			var items []*Item
			sets := map[*Header]bool{}
			for {
				it, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				items = append(items, it)
				sets[r.Header()] = true
			}
			if len(items) != st.claims {
				t.Errorf("%d claims, MANIFEST says CLM=%d", len(items), st.claims)
			}
			if len(sets) != st.sets {
				t.Errorf("claims from %d sets, MANIFEST says ST=%d", len(sets), st.sets)
			}
			lines := 0
			bills, subs, pats := map[*BillingProvider]bool{}, map[*Subscriber]bool{}, map[*Patient]bool{}
			for _, it := range items {
				lines += len(it.Claim.Lines)
				bills[it.Billing] = true
				subs[it.Subscriber] = true
				if it.Patient != nil {
					pats[it.Patient] = true
				}
			}
			if lines != st.lx {
				t.Errorf("%d service lines, MANIFEST says LX=%d", lines, st.lx)
			}
			if len(bills) != st.hl["20"] || len(subs) != st.hl["22"] || len(pats) != st.hl["23"] {
				t.Errorf("hierarchy: %d billing, %d subscriber, %d patient levels; MANIFEST says %v", len(bills), len(subs), len(pats), st.hl)
			}
			raw := rawClaims(t, data)
			if len(raw) != len(items) {
				t.Fatalf("raw scan finds %d CLM segments, reader %d claims", len(raw), len(items))
			}
			for i, it := range items {
				if it.Claim.ID != raw[i].id || it.Claim.Charge != raw[i].charge {
					t.Errorf("claim %d: CLM01 %q CLM02 %d, raw scan says %q %d", i, it.Claim.ID, it.Claim.Charge, raw[i].id, raw[i].charge)
				}
			}
			// Files pyx12 accepts must map without structure or value
			// errors; the others may have them (the imsweb files' HL
			// parents point at levels that do not exist).
			for _, f := range r.Findings() {
				if st.clean && (f.Rule == RuleStructure || f.Rule == RuleValue || f.Rule == RuleTruncated) {
					t.Errorf("unexpected finding: %v", &f)
				}
			}
		})
	}
}

// TestReadSampleDetails checks the mapping of fields the samples carry.
func TestReadSampleDetails(t *testing.T) {
	dir := sampleDir(t)
	open := func(name string) ([]Transaction, x12.Findings) {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		tx, fs, err := Read(f, name)
		if err != nil {
			t.Fatal(err)
		}
		return tx, fs
	}
	tx, _ := open("lfh__demo.cob.example3.B.x222a1.837")
	it := tx[0].Items[0]
	c := it.Claim
	if tx[0].Header.Submitter.Contact.Phone != "3055552222" || tx[0].Header.Receiver.ID != "567890" {
		t.Errorf("header: %+v", tx[0].Header)
	}
	if it.Billing.Contact.Name != "CONNIE" || it.Billing.PayTo.Line1 != "2345" || it.Billing.PayTo.Line2 != "OCEAN BLVD" {
		t.Errorf("billing: %+v", *it.Billing)
	}
	if it.Patient == nil || it.Patient.Relationship != "19" || it.Patient.Name.First != "TED" || it.Patient.Birth != "19730501" {
		t.Errorf("patient: %+v", it.Patient)
	}
	if len(c.Diagnoses) != 4 || c.Diagnoses[0] != (Diagnosis{"BK", "4779"}) || c.Diagnoses[3] != (Diagnosis{"BF", "53081"}) {
		t.Errorf("diagnoses: %v", c.Diagnoses)
	}
	if c.Rendering == nil || c.Rendering.Taxonomy != "204C00000X" || c.Rendering.SecondaryID != "88877" {
		t.Errorf("rendering: %+v", c.Rendering)
	}
	if c.Facility == nil || c.Facility.NPI != "1581234567" || c.Facility.Address.Zip != "33111" {
		t.Errorf("facility: %+v", c.Facility)
	}
	if len(c.OtherSubscribers) != 1 {
		t.Fatalf("other subscribers: %v", c.OtherSubscribers)
	}
	o := c.OtherSubscribers[0]
	wantAdj := []Adjustment{{Group: "PR", Reason: "1", Amount: 2189}, {Group: "PR", Reason: "2", Amount: 1500}}
	if !reflect.DeepEqual(o.Adjustments, wantAdj) || !o.HasPaid || o.Paid != 3915 || !o.HasRemaining || o.Remaining != 3689 ||
		o.Relationship != "01" || o.FilingCode != "12" || o.ID != "JS00111223333" || o.Payer.ID != "999996666" || o.BenefitsAssigned != "Y" {
		t.Errorf("other subscriber: %+v", o)
	}
	if len(c.Lines) != 3 || c.Lines[0].Pointers != [4]uint8{1, 2, 3, 4} || c.Lines[2].Procedure != "J3301" || c.Lines[2].Charge != 2104 ||
		c.Lines[0].Units != Units(1) || c.Lines[0].ServiceDate != "20051003" {
		t.Errorf("lines: %+v", c.Lines)
	}

	tx, fs := open("lfh__demo.autoaccident.x222a1.837")
	c = tx[0].Items[0].Claim
	if c.RelatedCauses != [2]string{"AA", ""} || c.AccidentState != "CA" {
		t.Errorf("auto accident: %v %q", c.RelatedCauses, c.AccidentState)
	}
	_ = fs

	// The drug claim carries loops the model does not cover: they are
	// reported, the rest is read.
	tx, fs = open("lfh__demo.drug.example10.2.x222a1.837")
	if len(tx) != 1 || len(tx[0].Items[0].Claim.Lines) != 6 {
		t.Fatalf("drug claim: %+v", tx)
	}
	if !fs.HasRule(RuleUnmapped) {
		t.Error("no unmapped finding for the 2410 drug loops")
	}
	for _, f := range fs {
		if f.Rule == RuleUnmapped && f.SegmentID == "LIN" && f.Loop == "" {
			t.Errorf("finding without a loop: %v", &f)
		}
	}
}

// TestReadTolerant feeds broken input: the reader must not panic, must
// keep reading, and must report what it could not map.
func TestReadTolerant(t *testing.T) {
	const isa = "ISA*00*          *00*          *ZZ*S              *ZZ*R              *250101*1200*^*00501*000000001*0*T*:~"
	cases := map[string]struct {
		body   string
		claims int
		rule   string
	}{
		"claim without hierarchy": {"ST*837*0001*005010X222A1~BHT*0019*00*1*20250101*1200*CH~CLM*A*10***11:B:1~LX*1~SV1*HC:97110*10*UN*1***1~SE*6*0001~", 1, RuleStructure},
		"bad amount":              {"ST*837*0001~HL*1**20*1~HL*2*1*22*0~CLM*A*1O.00***11:B:1~LX*1~SV1*HC:97110*abc*UN*x~SE*7*0001~", 1, RuleValue},
		"truncated":               {"ST*837*0001~HL*1**20*1~HL*2*1*22*0~CLM*A*10***11:B:1~LX*1~SV1*HC:97110*10", 1, RuleTruncated},
		"not an 837":              {"ST*835*0001~CLP*A*1*10*10~SE*3*0001~ST*837*0002~HL*1**20*1~HL*2*1*22*0~CLM*B*5~SE*5*0002~", 1, RuleSkippedSet},
		"unknown HL level":        {"ST*837*0001~HL*1**20*1~HL*2*1*22*0~CLM*A*5~HL*3*2*99*0~NM1*IL*1*X~CLM*B*5~SE*8*0001~", 2, RuleStructure},
		"sv1 before lx":           {"ST*837*0001~HL*1**20*1~HL*2*1*22*0~CLM*A*5~SV1*HC:97110*5~SE*6*0001~", 1, RuleStructure},
		"bad pointer":             {"ST*837*0001~HL*1**20*1~HL*2*1*22*0~CLM*A*5~LX*1~SV1*HC:97110*5*UN*1***0:13:X~SE*7*0001~", 1, RuleValue},
		"other payer overflow":    {"ST*837*0001~HL*1**20*1~HL*2*1*22*0~CLM*A*5~" + strings.Repeat("SBR*S~NM1*IL*1*X~NM1*PR*2*Y~", 120) + "LX*1~SE*9*0001~", 1, RuleTooMany},
		"garbage":                 {"\x00\x01 not x12 at all ~~~ ***", 0, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := isa + "GS*HC*S*R*20250101*1200*1*X*005010X222A1~" + tc.body
			if name == "garbage" {
				in = tc.body
			}
			tx, fs, err := Read(strings.NewReader(in), name)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, s := range tx {
				n += len(s.Items)
			}
			if n != tc.claims {
				t.Errorf("%d claims, want %d", n, tc.claims)
			}
			if tc.rule != "" && !fs.HasRule(tc.rule) {
				t.Errorf("no %s finding in %v", tc.rule, fs)
			}
			for _, s := range tx {
				for _, it := range s.Items {
					if it.Billing == nil || it.Subscriber == nil || it.Claim == nil {
						t.Errorf("item with nil context: %+v", it)
					}
				}
			}
		})
	}
}

// TestReadFindingsBounded checks the cap on kept findings.
func TestReadFindingsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("ISA*00*          *00*          *ZZ*S              *ZZ*R              *250101*1200*^*00501*000000001*0*T*:~GS*HC*S*R*20250101*1200*1*X*005010X222A1~ST*837*0001~HL*1**20*1~HL*2*1*22*0~CLM*A*5~")
	for i := 0; i < 500; i++ {
		b.WriteString("ZZZ*1~")
	}
	b.WriteString("SE*505*0001~GE*1*1~IEA*1*000000001~")
	r := NewReader(strings.NewReader(b.String()))
	r.MaxFindings = 100
	for {
		if _, err := r.Next(); err != nil {
			break
		}
	}
	fs := r.Findings()
	if len(fs) != 101 || !fs.HasRule(RuleFindingsDropped) {
		t.Errorf("%d findings kept (want 100 and one saying the rest were dropped)", len(fs))
	}
}

func FuzzRead(f *testing.F) {
	dir := "../../testdata/837p"
	for _, name := range []string{"lfh__demo.example1.x222a1.837", "lfh__demo.cob.example3.B.x222a1.837", "moov__example_5010_837p_sample.txt"} {
		if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		for {
			it, err := r.Next()
			if err != nil {
				break
			}
			if it.Claim == nil || it.Billing == nil || it.Subscriber == nil {
				t.Fatal("item with nil claim or context")
			}
		}
	})
}

// TestRewriteSamples reads each sample, writes what was read as a new
// file, and reads that again: everything the reader mapped must survive,
// which is what re-enveloping a PM system's file per payer relies on.
func TestRewriteSamples(t *testing.T) {
	dir := sampleDir(t)
	for _, st := range readManifest(t, filepath.Join(dir, "SOURCES.txt")) {
		t.Run(st.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, st.file))
			if err != nil {
				t.Fatal(err)
			}
			first, _, err := Read(bytes.NewReader(data), st.file)
			if err != nil {
				t.Fatal(err)
			}
			for i := range first {
				first[i].Header.Control = fmt.Sprintf("%04d", i+1) // unique per group
			}
			var buf bytes.Buffer
			w := x12.NewWriter(&buf, x12.WriterOptions{})
			if _, _, err := WriteFile(context.Background(), w, x12.InterchangeHeader{Sender: "CLAIMGATE", Receiver: "PAYER"},
				x12.GroupHeader{Sender: "CLAIMGATE", Receiver: "PAYER"}, first); err != nil {
				t.Fatal(err)
			}
			if _, fs, _ := x12.Check(bytes.NewReader(buf.Bytes()), x12.CheckOptions{}); fs.Errors() > 0 {
				t.Fatalf("rewritten file: %v", fs)
			}
			second, fs, err := Read(&buf, "rewritten")
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) > 0 {
				t.Errorf("findings on the rewritten file: %v", fs)
			}
			if !reflect.DeepEqual(first, second) {
				t.Errorf("rewrite differs: %s", firstDiff(first, second))
			}
		})
	}
}
