package x999

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/internal/testkit"
	"github.com/claimgate/claimgate/edi/x12"
)

// TestSamplesMatchBytes reads every sample and compares the model with
// what a plain byte scan of the file counts.
func TestSamplesMatchBytes(t *testing.T) {
	stats := manifestStats(t, testdataDir)
	for _, path := range sampleFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data := readFile(t, path)
			ack, fs, err := Read(bytes.NewReader(data), path)
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 0 {
				t.Errorf("reading findings: %v", fs)
			}
			// Expectations from the raw bytes.
			var ak2, ik3, ik4, ctx, st999 int
			ik5 := map[string]int{}
			var ak9s [][]string
			for _, s := range rawSegments(t, data) {
				switch string(s[0]) {
				case "ST":
					if string(s[1]) == "999" {
						st999++
					}
				case "AK2":
					ak2++
				case "IK3":
					ik3++
				case "IK4":
					ik4++
				case "CTX":
					ctx++
				case "IK5":
					ik5[string(s[1])]++
				case "AK9":
					var v []string
					for _, e := range s[1:] {
						v = append(v, string(e))
					}
					ak9s = append(ak9s, v)
				}
			}
			if len(ack.Groups) != st999 || len(ak9s) != st999 {
				t.Fatalf("groups: read %d, file has %d ST*999 and %d AK9", len(ack.Groups), st999, len(ak9s))
			}
			var gotAK2, gotIK3, gotIK4, gotCTX int
			gotIK5 := map[string]int{}
			for i, g := range ack.Groups {
				gotAK2 += len(g.Sets)
				for _, s := range g.Sets {
					gotIK5[s.Status]++
					gotIK3 += len(s.SegmentErrors)
					for _, e := range s.SegmentErrors {
						gotCTX += len(e.Contexts)
						gotIK4 += len(e.Elements)
						for _, el := range e.Elements {
							gotCTX += len(el.Contexts)
						}
					}
				}
				a := ak9s[i]
				if g.Status != a[0] || strconv.Itoa(g.Included) != a[1] || strconv.Itoa(g.Received) != a[2] || strconv.Itoa(g.Accepted) != a[3] {
					t.Errorf("group %d AK9: read %s/%d/%d/%d, file says %v", i, g.Status, g.Included, g.Received, g.Accepted, a)
				}
			}
			if gotAK2 != ak2 || gotIK3 != ik3 || gotIK4 != ik4 || gotCTX != ctx {
				t.Errorf("read AK2/IK3/IK4/CTX %d/%d/%d/%d, file has %d/%d/%d/%d", gotAK2, gotIK3, gotIK4, gotCTX, ak2, ik3, ik4, ctx)
			}
			if !reflect.DeepEqual(gotIK5, ik5) {
				t.Errorf("IK5 statuses: read %v, file has %v", gotIK5, ik5)
			}
			// And with the MANIFEST's own stats line.
			st, ok := stats[filepath.Base(path)]
			if !ok {
				t.Fatalf("no MANIFEST stats for %s in SOURCES.txt", filepath.Base(path))
			}
			if want, _ := strconv.Atoi(st["AK2"]); want != gotAK2 {
				t.Errorf("MANIFEST says AK2=%d, read %d", want, gotAK2)
			}
			if want, _ := strconv.Atoi(st["IK3"]); want != gotIK3 {
				t.Errorf("MANIFEST says IK3=%s, read %d", st["IK3"], gotIK3)
			}
			if want, _ := strconv.Atoi(st["IK4"]); want != gotIK4 {
				t.Errorf("MANIFEST says IK4=%s, read %d", st["IK4"], gotIK4)
			}
			for _, kv := range strings.Split(st["IK5"], ",") {
				code, n, _ := strings.Cut(kv, ":")
				if want, _ := strconv.Atoi(n); gotIK5[code] != want {
					t.Errorf("MANIFEST says IK5 %s:%d, read %d", code, want, gotIK5[code])
				}
			}
			if v := st["GS08"]; len(ack.Groups) > 0 && ack.Groups[0].Version != v {
				t.Errorf("MANIFEST says GS08 %s, read version %s", v, ack.Groups[0].Version)
			}
		})
	}
}

// TestSampleDetails pins fields the byte counts do not cover.
func TestSampleDetails(t *testing.T) {
	read := func(name string) *Ack {
		ack, _, err := Read(bytes.NewReader(readFile(t, filepath.Join(testdataDir, name))), name)
		if err != nil {
			t.Fatal(err)
		}
		return ack
	}
	rej := read("herophilus__999_rejected.txt").Groups[0]
	wantSet := SetResponse{ID: "837", Control: "0028",
		SegmentErrors: []SegmentError{{SegmentID: "NM", Position: 17, Code: "1"}},
		Status:        "R", Errors: []string{"5"}}
	if !reflect.DeepEqual(rej.Sets[0], wantSet) {
		t.Errorf("rejected set = %+v, want %+v", rej.Sets[0], wantSet)
	}
	if rej.FunctionalID != "HC" || rej.GroupControl != "28" || rej.GroupVersion != "005010X223A2" || rej.Sets[0].Accepted() || rej.GroupAccepted() {
		t.Errorf("rejected group header = %+v", rej)
	}

	part := read("mjpete3__999_partial_CTX_IK4.txt").Groups[0]
	if part.Version != VersionBase || part.Status != StatusPartial || len(part.Sets) != 3 {
		t.Fatalf("partial = %+v", part)
	}
	se := part.Sets[1].SegmentErrors[0]
	wantIK4 := ElementError{Position: ElementPosition{Element: 2}, Reference: "782", Code: "1"}
	if se.SegmentID != "CLM" || se.Position != 22 || se.Code != "8" || len(se.Elements) != 1 || !reflect.DeepEqual(se.Elements[0], wantIK4) {
		t.Errorf("IK3/IK4 = %+v", se)
	}
	if len(se.Contexts) != 1 || !se.Contexts[0].IsBusinessUnit() || se.Contexts[0].Name != "CLM01" || se.Contexts[0].Reference != "123456789" {
		t.Errorf("business unit context = %+v", se.Contexts)
	}
	trig := part.Sets[2].SegmentErrors[0].Contexts[0]
	wantTrig := Context{Name: SituationalTrigger, SegmentID: "CLM", Position: 43, Element: ElementPosition{Element: 5, Component: 3}, ElementRef: "C023", ComponentRef: "1325"}
	if !reflect.DeepEqual(trig, wantTrig) {
		t.Errorf("trigger context = %+v, want %+v", trig, wantTrig)
	}

	ta1 := read("mjpete3__999_with_TA1_34_AK2.txt")
	want := []x12.TA1{{Control: "004211112", Date: "140421", Time: "0812", Ack: "A", Note: "000"}}
	if !reflect.DeepEqual(ta1.InterchangeAcks, want) {
		t.Errorf("TA1 = %+v, want %+v", ta1.InterchangeAcks, want)
	}
	for i, s := range ta1.Groups[0].Sets {
		if s.Control != fmt.Sprintf("%09d", i+1) || s.Version != "005010X222A1" || !s.Accepted() {
			t.Errorf("set %d = %+v", i, s)
		}
	}

	multi := read("pyx12__834_lui_id_5010.999.txt")
	var groups []string
	for _, g := range multi.Groups {
		groups = append(groups, g.Group+"/"+g.Control+"/"+g.Version)
	}
	if got := strings.Join(groups, " "); got != "344666205/0001/005010X231 344666205/0002/005010X231 102/0003/005010X231 102/0004/005010X231" {
		t.Errorf("groups = %s", got)
	}
}

// TestValidateSamples pins every finding on the samples; each one is a
// real defect of the file.
func TestValidateSamples(t *testing.T) {
	want := map[string][]string{
		"herophilus__999_accepted.txt": nil,
		"herophilus__999_rejected.txt": nil,
		// GS05 102497 is not a time; IEA02 differs from ISA13.
		"imsweb__x12_999_accepted.txt": {"envelope.gs-time", "envelope.iea-control"},
		// CTX06-1 "C023" is a composite id where the guide wants a data
		// element number (N0), and CTX06-2 is not used in the 999.
		"mjpete3__999_partial_CTX_IK4.txt": {"tr3.not-used", "tr3.type"},
		"mjpete3__999_with_TA1_34_AK2.txt": nil,
		"pyx12__834_lui_id_5010.999.txt":   nil,
	}
	for _, path := range sampleFiles(t) {
		name := filepath.Base(path)
		sum, fs, err := Validate(bytes.NewReader(readFile(t, path)), name)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: no expectation", name)
			continue
		}
		if got := rules(fs); !reflect.DeepEqual(got, w) {
			t.Errorf("%s: rules %v, want %v\n%v", name, got, w, fs)
		}
		if name == "mjpete3__999_partial_CTX_IK4.txt" {
			for _, f := range fs {
				if f.SegmentID != "CTX" || f.Element != 6 || f.Loop != "2100" {
					t.Errorf("%s: finding not on CTX06 in loop 2100: %v", name, &f)
				}
			}
		}
		if name == "mjpete3__999_with_TA1_34_AK2.txt" {
			if acks := sum.Interchanges[0].Acks; len(acks) != 1 || acks[0].Ack != "A" {
				t.Errorf("TA1 not in the envelope summary: %+v", acks)
			}
		}
	}
}

// TestNot999 feeds the 277 X212 samples and an 837 to the 999 reader.
func TestNot999(t *testing.T) {
	for _, path := range []string{"../../testdata/277/lfh__claim-level-status.277", "../../testdata/277/imsweb__x12_277_x212.txt"} {
		data := readFile(t, path)
		ack, fs, err := Read(bytes.NewReader(data), path)
		if err != nil {
			t.Fatal(err)
		}
		if len(ack.Groups) != 0 || !fs.HasRule("999.not-999") {
			t.Errorf("%s: groups %d, findings %v", path, len(ack.Groups), fs)
		}
		_, vfs, _ := Validate(bytes.NewReader(data), path)
		if !vfs.HasRule("999.not-999") {
			t.Errorf("%s: Validate findings %v", path, vfs)
		}
	}
}

// TestCorrupted breaks good samples one way each and expects the rule.
func TestCorrupted(t *testing.T) {
	cases := []struct {
		name, file, old, new, rule string
		sev                        x12.Severity
	}{
		{"AK9 accepts a rejected set", "herophilus__999_rejected.txt", "AK9*R*1*1*0", "AK9*A*1*1*0", "999.ak9-status", x12.Error},
		{"AK9 accepts a partial group", "mjpete3__999_partial_CTX_IK4.txt", "AK9*P*3*3*1", "AK9*A*3*3*1", "999.ak9-status", x12.Error},
		{"AK9 rejects an accepted group", "herophilus__999_accepted.txt", "AK9*A*1*1*1", "AK9*R*1*1*0", "999.ak9-status", x12.Error},
		{"AK902 count wrong", "mjpete3__999_with_TA1_34_AK2.txt", "AK9*A*34*34*34", "AK9*A*35*34*34", "999.ak9-count", x12.Error},
		{"AK904 count wrong", "mjpete3__999_with_TA1_34_AK2.txt", "AK9*A*34*34*34", "AK9*A*34*34*33", "999.ak9-count", x12.Error},
		{"AK903 count wrong", "pyx12__834_lui_id_5010.999.txt", "AK9*A*1*1*1~\nSE*6*0003", "AK9*A*1*2*1~\nSE*6*0003", "999.ak9-count", x12.Error},
		{"SE01 off", "herophilus__999_accepted.txt", "SE*6*4001", "SE*7*4001", "envelope.se-count", x12.Error},
		{"IK5 missing", "herophilus__999_accepted.txt", "IK5*A~", "", "999.required", x12.Error},
		{"AK9 missing", "herophilus__999_accepted.txt", "AK9*A*1*1*1~", "", "999.required", x12.Error},
		{"AK1 missing", "herophilus__999_accepted.txt", "AK1*HC*28*005010X223A2~", "", "999.required", x12.Error},
		{"bad IK501 code", "herophilus__999_accepted.txt", "IK5*A~", "IK5*Q~", "tr3.code", x12.Error},
		{"bad IK304 code", "herophilus__999_rejected.txt", "IK3*NM*17**1", "IK3*NM*17**99", "tr3.code", x12.Error},
		{"IK3 after AK9", "herophilus__999_rejected.txt", "AK9*R*1*1*0~", "AK9*R*1*1*0~IK3*NM*17**1~", "999.structure", x12.Error},
		{"IK4 without IK3", "herophilus__999_accepted.txt", "IK5*A~", "IK4*2**1~IK5*A~", "999.structure", x12.Error},
		{"rejection without a reason", "herophilus__999_rejected.txt", "IK3*NM*17**1~IK5*R*5~", "IK5*R~", "999.ik5-reason", x12.Warning},
		{"accepted with segment errors", "herophilus__999_accepted.txt", "IK5*A~", "IK3*CLM*22**8~IK5*A~", "999.ik5-status", x12.Warning},
		{"duplicate AK2", "mjpete3__999_with_TA1_34_AK2.txt", "AK2*837*000000002*", "AK2*837*000000001*", "999.ak2-duplicate", x12.Warning},
		{"unknown version", "herophilus__999_accepted.txt", "ST*999*4001*005010X231A1", "ST*999*4001*005010X231A9", "999.version", x12.Warning},
		{"segment not in a 999", "herophilus__999_accepted.txt", "IK5*A~", "IK5*A~CLM*1~", "999.structure", x12.Error},
	}
	read := func(r io.Reader, name string) error {
		_, _, err := Read(r, name)
		return err
	}
	for _, tc := range cases {
		testkit.CheckCorruption(t, testdataDir, testkit.Corruption{Name: tc.name, File: tc.file, Old: tc.old, New: tc.new, Rule: tc.rule, Sev: tc.sev}, Validate, read)
	}
}

// TestStreaming reads a large generated 999 without keeping it: the sets
// come one by one and the group holds none of them.
func TestStreaming(t *testing.T) {
	const n = 50000
	r := NewReader(newGen999(n, 7), "gen")
	sets, groups := 0, 0
	for {
		g, s, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if s != nil {
			if s.Control != fmt.Sprintf("%09d", sets+1) {
				t.Fatalf("set %d control %s", sets, s.Control)
			}
			sets++
			continue
		}
		groups++
		if len(g.Sets) != 0 {
			t.Errorf("streaming group keeps %d sets", len(g.Sets))
		}
		if g.Included != n || g.Status != StatusPartial {
			t.Errorf("AK9 = %s %d", g.Status, g.Included)
		}
	}
	if sets != n || groups != 1 || len(r.Findings()) != 0 {
		t.Errorf("sets %d groups %d findings %v", sets, groups, r.Findings())
	}
}

// TestStreamingAllocs checks that reading an accepted set in streaming mode
// costs about one allocation (its control number).
func TestStreamingAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	data, err := io.ReadAll(newGen999(5000, 0))
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(bytes.NewReader(data), "gen")
	for i := 0; i < 1000; i++ {
		if _, _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(2000, func() {
		if _, _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1.5 {
		t.Errorf("%.2f allocations per accepted set, want about 1", allocs)
	}
}

func TestTruncated(t *testing.T) {
	orig := string(readFile(t, filepath.Join(testdataDir, "mjpete3__999_partial_CTX_IK4.txt")))
	cut := orig[:strings.Index(orig, "AK2*837*0003")]
	ack, fs, err := Read(strings.NewReader(cut), "cut")
	if err != nil {
		t.Fatal(err)
	}
	if len(ack.Groups) != 1 || len(ack.Groups[0].Sets) != 2 || !fs.HasRule("envelope.se-missing") {
		t.Errorf("groups %+v findings %v", ack.Groups, fs)
	}
}

func TestBuildAndWrite(t *testing.T) {
	sets := []SetResponse{
		{ID: "837", Control: "0001", Version: "005010X222A1"},
		{ID: "837", Control: "0002", Version: "005010X222A1", SegmentErrors: []SegmentError{{
			SegmentID: "CLM", Position: 12, Loop: "2300", Code: "8",
			Contexts: []Context{{Name: "CLM01", Reference: "PCN123"}},
			Elements: []ElementError{{Position: ElementPosition{Element: 2}, Reference: "782", Code: "7", BadValue: "ABC"}},
		}}},
	}
	g := Build("HC", "1201", "005010X222A1", sets)
	if g.Status != StatusPartial || g.Included != 2 || g.Received != 2 || g.Accepted != 1 {
		t.Fatalf("AK9 = %s %d %d %d", g.Status, g.Included, g.Received, g.Accepted)
	}
	if g.Sets[0].Status != "A" || g.Sets[1].Status != "R" || !reflect.DeepEqual(g.Sets[1].Errors, []string{"5"}) {
		t.Fatalf("sets = %+v", g.Sets)
	}
	if sets[1].Status != "" {
		t.Error("Build changed its input")
	}
	var buf bytes.Buffer
	ih := x12.InterchangeHeader{Sender: "PAYER", Receiver: "CLAIMGATE", Time: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)}
	if err := WriteFile(context.Background(), &buf, x12.WriterOptions{Newline: true}, ih, x12.GroupHeader{Sender: "PAYER", Receiver: "CG"}, g); err != nil {
		t.Fatal(err)
	}
	want := "ST*999*0001*005010X231A1~\nAK1*HC*1201*005010X222A1~\nAK2*837*0001*005010X222A1~\nIK5*A~\n" +
		"AK2*837*0002*005010X222A1~\nIK3*CLM*12*2300*8~\nCTX*CLM01:PCN123~\nIK4*2*782*7*ABC~\nIK5*R*5~\nAK9*P*2*2*1~\nSE*11*0001~\n"
	if !strings.Contains(buf.String(), want) {
		t.Errorf("written:\n%s\nwant to contain:\n%s", buf.String(), want)
	}
	_, fs, _ := Validate(bytes.NewReader(buf.Bytes()), "built")
	if len(fs) != 0 {
		t.Errorf("built 999 has findings: %v", fs)
	}

	// The writer refuses an inconsistent AK9 and a delimiter in the data.
	bad := *g
	bad.Accepted = 2
	w := x12.NewWriter(io.Discard, x12.WriterOptions{})
	if err := WriteGroup(w, "0001", &bad); err == nil || !strings.Contains(err.Error(), "AK904") {
		t.Errorf("inconsistent AK904 written: %v", err)
	}
	bad = *g
	bad.Status = StatusAccepted
	if err := bad.Verify(); err == nil {
		t.Error("AK901 A with a rejected set verified")
	}
	bad = *Build("HC", "1*2", "005010X222A1", nil)
	var out bytes.Buffer
	err := WriteFile(context.Background(), &out, x12.WriterOptions{}, ih, x12.GroupHeader{}, &bad)
	if !x12.IsFinding(err) {
		t.Errorf("delimiter in AK102 not refused: %v", err)
	}
}

func TestFromFindings(t *testing.T) {
	fs := x12.Findings{
		{Severity: x12.Error, Rule: "tr3.required", SegmentID: "CLM", SetPosition: 20, Loop: "2300", Element: 2},
		{Severity: x12.Error, Rule: "tr3.length", SegmentID: "CLM", SetPosition: 20, Loop: "2300", Element: 1, Message: "CLM01 \"\" is 0 characters, at least 1 required"},
		{Severity: x12.Warning, Rule: "tr3.trailing-space", SegmentID: "NM1", SetPosition: 5, Element: 3},
		{Severity: x12.Error, Rule: "837.hl-parent", SegmentID: "HL", SetPosition: 30, Loop: "2000B"},
		{Severity: x12.Error, Rule: "tr3.code", SegmentID: "SV1", SetPosition: 31, Loop: "2400", Element: 1, Component: 1},
	}
	s := FromFindings("837", "0001", "005010X222A1", fs)
	want := SetResponse{ID: "837", Control: "0001", Version: "005010X222A1", Status: "R", Errors: []string{"5"}, SegmentErrors: []SegmentError{
		{SegmentID: "CLM", Position: 20, Loop: "2300", Code: "8", Elements: []ElementError{
			{Position: ElementPosition{Element: 2}, Code: "1"}, {Position: ElementPosition{Element: 1}, Code: "4"}}},
		{SegmentID: "HL", Position: 30, Code: "2"}, // loop 2000B does not fit IK303
		{SegmentID: "SV1", Position: 31, Loop: "2400", Code: "8", Elements: []ElementError{{Position: ElementPosition{Element: 1, Component: 1}, Code: "7"}}},
	}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("FromFindings =\n%+v\nwant\n%+v", s, want)
	}
	if ok := FromFindings("837", "0002", "", x12.Findings{fs[2]}); ok.Status != "A" || len(ok.SegmentErrors) != 0 {
		t.Errorf("warnings only: %+v", ok)
	}
}

// TestGeneratorValid keeps the benchmark input honest.
func TestGeneratorValid(t *testing.T) {
	for _, every := range []int{0, 1, 10} {
		_, fs, err := Validate(newGen999(2500, every), "gen")
		if err != nil || len(fs) != 0 {
			t.Errorf("generated 999 (reject every %d): %v %v", every, err, fs)
		}
	}
}

// TestLimits: a hostile AK2 loop with too many IK3 loops is cut, once,
// and reading goes on with the next set.
func TestLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("ISA*00*          *00*          *ZZ*A              *ZZ*B              *260102*0304*^*00501*000000001*0*P*:~GS*FA*A*B*20260102*0304*1*X*005010X231A1~ST*999*0001*005010X231A1~AK1*HC*1*005010X222A1~AK2*837*0001~")
	for i := 0; i < maxSegmentErrors+5; i++ {
		b.WriteString("IK3*CLM*2**8~IK4*1**7~CTX*CLM01:X~")
	}
	b.WriteString("IK5*R*5~AK2*837*0002~IK5*A~AK9*P*2*2*1~SE*9*0001~GE*1*1~IEA*1*000000001~")
	ack, fs, err := Read(strings.NewReader(b.String()), "big")
	if err != nil {
		t.Fatal(err)
	}
	sets := ack.Groups[0].Sets
	if len(sets) != 2 || len(sets[0].SegmentErrors) != maxSegmentErrors || sets[1].Control != "0002" || !sets[1].Accepted() {
		t.Fatalf("sets: %d, first has %d IK3", len(sets), len(sets[0].SegmentErrors))
	}
	if len(fs) != 1 || fs[0].Rule != "999.limit" {
		t.Errorf("findings %v", fs)
	}
}

// TestDuplicateControls: only the repeated control number is reported,
// whether or not the numbers were increasing before.
func TestDuplicateControls(t *testing.T) {
	var sets []SetResponse
	for _, c := range []string{"0005", "0006", "0007", "0003", "0006", "A001", "A001"} {
		sets = append(sets, SetResponse{ID: "837", Control: c})
	}
	var buf bytes.Buffer
	if err := WriteFile(context.Background(), &buf, x12.WriterOptions{}, x12.InterchangeHeader{Sender: "A", Receiver: "B"}, x12.GroupHeader{}, Build("HC", "1", "005010X222A1", sets)); err != nil {
		t.Fatal(err)
	}
	_, fs, _ := Validate(&buf, "dup")
	var got []int
	for _, f := range fs {
		if f.Rule == "999.ak2-duplicate" {
			got = append(got, f.SetPosition)
		}
	}
	// ST=1, AK1=2, then AK2/IK5 pairs: the 5th AK2 is at 11, the 7th at 15.
	if !reflect.DeepEqual(got, []int{11, 15}) || len(fs) != 2 {
		t.Errorf("duplicates at %v, findings %v", got, fs)
	}
}
