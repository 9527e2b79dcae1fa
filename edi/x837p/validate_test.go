package x837p

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
)

// The validator is tested on the public samples (testdata/837p, see
// SOURCES.txt for their pyx12 verdicts) and on copies of a clean sample
// with one defect each.

var testClock = func() time.Time { return time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC) }

func sample(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/837p/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func validate(t testing.TB, name, text string) x12.Findings {
	t.Helper()
	fs, err := ValidateOptions{Now: testClock}.Validate(strings.NewReader(text), name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return fs
}

// structural says whether a rule is about TR3 syntax, structure or the
// envelopes, as opposed to the claim edits pyx12 does not make.
func structural(rule string) bool {
	switch rule {
	case "837p.npi", "837p.npi-check-digit", "837p.clm-total", "837p.amount", "837p.dx-pointer",
		"837p.dx-code", "837p.dx-duplicate", "837p.date", "837p.ref-f8", "837p.carc":
		return false
	}
	return true
}

type loc struct {
	rule string
	seg  int
	elem int
	comp int
}

func (l loc) String() string { return fmt.Sprintf("%s@%d.%d.%d", l.rule, l.seg, l.elem, l.comp) }

func locs(fs x12.Findings, keep func(x12.Finding) bool) []string {
	var out []string
	for _, f := range fs {
		if keep(f) {
			out = append(out, loc{f.Rule, f.Segment, f.Element, f.Component}.String())
		}
	}
	sort.Strings(out)
	return out
}

// claimEditOracle works out, by a deliberately simple reading of the file
// independent of the validator, which NPI and diagnosis-pointer findings
// the samples' made-up data must produce.
func claimEditOracle(text string) []string {
	el, comp, term := text[3], text[104], text[105]
	var out []string
	dx := 0
	for n, raw := range strings.Split(text, string(term)) {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		e := strings.Split(raw, string(el))
		num := n + 1
		switch e[0] {
		case "NM1":
			if len(e) > 9 && e[8] == "XX" && !ValidNPI(e[9]) {
				rule := "837p.npi-check-digit"
				if len(e[9]) != 10 || (e[9][0] != '1' && e[9][0] != '2') {
					rule = "837p.npi"
				}
				out = append(out, loc{rule, num, 9, 0}.String())
			}
		case "CLM":
			dx = 0
		case "HI":
			if q := strings.Split(e[1], string(comp))[0]; q == "BK" || q == "ABK" {
				dx = len(e) - 1
			}
		case "SV1":
			if len(e) > 7 {
				for j, p := range strings.Split(e[7], string(comp)) {
					if k := int(p[0] - '0'); len(p) == 1 && k > dx {
						out = append(out, loc{"837p.dx-pointer", num, 7, j + 1}.String())
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestValidSamples: the files pyx12 accepts pass every TR3 structure and
// element check; the only findings are the claim edits the oracle above
// predicts from the samples' made-up NPIs and diagnosis pointers.
func TestValidSamples(t *testing.T) {
	for _, name := range []string{
		"moov__example_5010_837p_sample.txt",
		"lfh__demo.example1.x222a1.837",
		"lfh__demo.example7.x222a1.837",
		"lfh__demo.autoaccident.x222a1.837",
		"lfh__demo.cob.example3.B.x222a1.837",
		"lfh__demo.drug.example10.2.x222a1.837",
	} {
		t.Run(name, func(t *testing.T) {
			text := sample(t, name)
			fs := validate(t, name, text)
			for _, f := range fs {
				if structural(f.Rule) {
					t.Errorf("structure finding on a pyx12-valid sample: %s (loop %s)", f.Error(), f.Loop)
				}
			}
			got := locs(fs, func(f x12.Finding) bool { return !structural(f.Rule) })
			want := claimEditOracle(text)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("claim edit findings\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestValidSamplesNamedFindings(t *testing.T) {
	// The moov sample's providers have 9-digit "NPIs", and two of its
	// claims point SV107-02 at a second diagnosis their HI lacks.
	fs := validate(t, "moov", sample(t, "moov__example_5010_837p_sample.txt"))
	wantFinding(t, fs, "837p.npi", "NM1", 9, 0, "2310A")
	wantFinding(t, fs, "837p.dx-pointer", "SV1", 7, 2, "2400")
	// example7's billing NPI starts with 9.
	fs = validate(t, "ex7", sample(t, "lfh__demo.example7.x222a1.837"))
	wantFinding(t, fs, "837p.npi", "NM1", 9, 0, "2010AA")
	// cob.B's NPIs have wrong check digits.
	fs = validate(t, "cobB", sample(t, "lfh__demo.cob.example3.B.x222a1.837"))
	wantFinding(t, fs, "837p.npi-check-digit", "NM1", 9, 0, "2310B")
	// example1 and the drug claim are clean throughout.
	for _, n := range []string{"lfh__demo.example1.x222a1.837", "lfh__demo.drug.example10.2.x222a1.837"} {
		if fs := validate(t, n, sample(t, n)); len(fs) != 0 {
			t.Errorf("%s: want no findings, got %v", n, fs[0].Error())
		}
	}
}

func wantFinding(t *testing.T, fs x12.Findings, rule, segID string, elem, comp int, loop string) x12.Finding {
	t.Helper()
	for _, f := range fs {
		if f.Rule == rule && f.SegmentID == segID && f.Element == elem && f.Component == comp && f.Loop == loop {
			return f
		}
	}
	var all []string
	for _, f := range fs {
		all = append(all, fmt.Sprintf("%s [%s loop %s]", f.Error(), f.Rule, f.Loop))
	}
	t.Errorf("no %s finding at %s element %d component %d in loop %s; findings:\n  %s", rule, segID, elem, comp, loop, strings.Join(all, "\n  "))
	return x12.Finding{}
}

func TestNegativeSamples(t *testing.T) {
	t.Run("example6 component separator mismatch", func(t *testing.T) {
		// ISA16 says ":" but the body uses ">": CLM05 is one 6-character
		// component, which the TR3 limits to 2 (pyx12's first error too).
		fs := validate(t, "ex6", sample(t, "lfh__demo.example6.NEGATIVE.x222a1.837"))
		f := wantFinding(t, fs, "tr3.length", "CLM", 5, 1, "2300")
		if f.Segment != 21 || f.SetPosition != 19 {
			t.Errorf("CLM finding at segment %d, set position %d; want 21 and 19", f.Segment, f.SetPosition)
		}
		wantFinding(t, fs, "tr3.required", "CLM", 5, 3, "2300")
	})
	t.Run("cob example3.A lacks 2330B", func(t *testing.T) {
		text := sample(t, "lfh__demo.cob.example3.A.NEGATIVE.x222a1.837")
		fs := validate(t, "cobA", text)
		f := wantFinding(t, fs, "837p.missing-loop", "SBR", 0, 0, "2330B")
		if f.Segment != 39 {
			t.Errorf("missing 2330B reported at segment %d, want the 2320 SBR (39)", f.Segment)
		}
		for _, f := range fs {
			if structural(f.Rule) && f.Rule != "837p.missing-loop" {
				t.Errorf("unexpected structure finding %s", f.Error())
			}
		}
		if got, want := locs(fs, func(f x12.Finding) bool { return !structural(f.Rule) }), claimEditOracle(text); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("claim edits: got %v want %v", got, want)
		}
	})
	t.Run("Molina short ISA", func(t *testing.T) {
		fs := validate(t, "molina", sample(t, "dwai__Molina_Mock_UP_837P_File.NEGATIVE.txt"))
		wantFinding(t, fs, "envelope.isa-length", "ISA", 0, 0, "")
		// The body is still read and validated after the envelope finding.
		wantFinding(t, fs, "837p.npi-check-digit", "NM1", 9, 0, "2010AA")
	})
	for _, name := range []string{"imsweb__x12_many_claims.txt", "imsweb__x12_multiple_isa.txt",
		"imsweb__x12_multiple_st.txt", "imsweb__x12_valid_different_separators.txt"} {
		t.Run(name, func(t *testing.T) {
			// HI*BK*8901*BF*87200: the codes sit in their own elements, so
			// HI01 has a qualifier and no code (pyx12's first error).
			fs := validate(t, name, sample(t, name))
			f := wantFinding(t, fs, "tr3.required", "HI", 1, 2, "2300")
			if f.Segment != 23 {
				t.Errorf("first HI finding at segment %d, want 23", f.Segment)
			}
			wantFinding(t, fs, "tr3.length", "HI", 2, 1, "2300")
		})
	}
}

// corrupt returns text with old replaced by new exactly n times (n=0:
// every time), failing the test if old is not there.
func corrupt(t *testing.T, text, old, new string, n int) string {
	t.Helper()
	if c := strings.Count(text, old); c == 0 || (n > 0 && c < n) {
		t.Fatalf("%q occurs %d times in the sample", old, c)
	}
	if n == 0 {
		n = -1
	}
	return strings.Replace(text, old, new, n)
}

func TestCorruptedCopies(t *testing.T) {
	base := sample(t, "lfh__demo.example1.x222a1.837")
	if fs := validate(t, "base", base); len(fs) != 0 {
		t.Fatalf("base sample must be clean, got %v", fs[0].Error())
	}
	for _, tc := range []struct {
		name, old, new string
		n              int
		rule, segID    string
		elem, comp     int
		loop           string
		also           []string // other rules the defect may cause
	}{
		{"missing NM1*PR", "NM1*PR*2*KEY INSURANCE COMPANY*****PI*999996666~\n", "", 1, "837p.missing-loop", "HL", 0, 0, "2010BB", []string{"envelope.se-count"}},
		{"SE01 off", "SE*40*0021", "SE*41*0021", 1, "envelope.se-count", "SE", 1, 0, "", nil},
		{"bad HL parent", "HL*3*2*23*0", "HL*3*1*23*0", 1, "837p.hl-parent", "HL", 2, 0, "2000C", []string{"837p.hl-child"}},
		{"LX gap", "LX*3~", "LX*4~", 1, "837p.lx-sequence", "LX", 1, 0, "2400", nil},
		{"bad date", "DTP*472*D8*20061010", "DTP*472*D8*20061310", 1, "837p.date", "DTP", 3, 0, "2400", nil},
		{"bad code SBR09", "SBR*P**2222-SJ******CI", "SBR*P**2222-SJ******XY", 1, "tr3.code", "SBR", 9, 0, "2000B", nil},
		{"bad NPI check digit", "XX*1912301953", "XX*1912301954", 1, "837p.npi-check-digit", "NM1", 9, 0, "2010AA", nil},
		{"CLM02 not the sum", "CLM*26463774*100.00", "CLM*26463774*101.00", 1, "837p.clm-total", "CLM", 2, 0, "2300", nil},
		{"dx pointer past HI", "SV1*HC:99214*35.00*UN*1.00***2~", "SV1*HC:99214*35.00*UN*1.00***3~", 1, "837p.dx-pointer", "SV1", 7, 1, "2400", nil},
		{"dx pointer twice", "SV1*HC:99214*35.00*UN*1.00***2~", "SV1*HC:99214*35.00*UN*1.00***2:2~", 1, "837p.dx-pointer", "SV1", 7, 2, "2400", nil},
		{"five dx pointers", "SV1*HC:99214*35.00*UN*1.00***2~", "SV1*HC:99214*35.00*UN*1.00***2:1:2:1:2~", 1, "tr3.too-many-components", "SV1", 7, 5, "2400", []string{"837p.dx-pointer"}},
		{"future service date", "DTP*472*D8*20061010", "DTP*472*D8*20260102", 1, "837p.date", "DTP", 3, 0, "2400", []string{"837p.dx-code"}},
		{"service before birth", "DTP*472*D8*20061010", "DTP*472*D8*19700101", 1, "837p.date", "DTP", 3, 0, "2400", nil},
		{"RD8 backwards", "DTP*472*D8*20061010", "DTP*472*RD8*20061010-20061001", 1, "837p.date", "DTP", 3, 0, "2400", nil},
		{"birth date invalid", "DMG*D8*19730501", "DMG*D8*19730532", 1, "837p.date", "DMG", 2, 0, "2010CA", nil},
		{"REF*F8 on an original", "REF*D9*", "REF*F8*PAYERCLAIM1~\nREF*D9*", 1, "837p.ref-f8", "REF", 1, 0, "2300", []string{"envelope.se-count"}},
		{"replacement without REF*F8", "11:B:1*", "11:B:7*", 1, "837p.ref-f8", "CLM", 5, 3, "2300", nil},
		{"bad frequency code", "11:B:1*", "11:B:5*", 1, "tr3.code", "CLM", 5, 3, "2300", nil},
		{"bad place of service", "*11:B:1*", "*1:B:1*", 1, "tr3.code", "CLM", 5, 1, "2300", nil},
		{"negative line charge", "SV1*HC:86663*10.00", "SV1*HC:86663*-10.00", 1, "837p.amount", "SV1", 2, 0, "2400", []string{"837p.clm-total"}},
		{"missing required segment", "N4*MIAMI*FL*331110000~\n", "", 1, "837p.missing-segment", "NM1", 0, 0, "2010AA", []string{"envelope.se-count"}},
		{"unexpected segment", "BHT*0019*00*244579*20061015*1023*CH~\n", "BHT*0019*00*244579*20061015*1023*CH~\nSV1*HC:99213*40.00*UN*1.00***1~\n", 1, "837p.unexpected-segment", "SV1", 0, 0, "", []string{"envelope.se-count"}},
		{"unknown NM1 qualifier", "NM1*QC*1*SMITH*TED~", "NM1*QQ*1*SMITH*TED~", 1, "tr3.code", "NM1", 1, 0, "2000C", []string{"837p.missing-loop", "837p.unexpected-segment"}},
		{"segment out of order", "REF*D9*17312345600006351~\nHI*BK:0340*BF:V7389~", "HI*BK:0340*BF:V7389~\nREF*D9*17312345600006351~", 1, "837p.segment-order", "REF", 0, 0, "2300", nil},
		{"segment repeated too often", "PER*IC*JERRY*TE*3055552222*EX*231~\n", strings.Repeat("PER*IC*JERRY*TE*3055552222*EX*231~\n", 3), 1, "837p.segment-repeat", "PER", 0, 0, "1000A", []string{"envelope.se-count"}},
		{"2000C with SBR02=18", "SBR*P**2222-SJ", "SBR*P*18*2222-SJ", 1, "837p.situational", "HL", 0, 0, "2000C", []string{"837p.missing-segment"}},
		{"HL04=0 but a patient level follows", "HL*2*1*22*1~", "HL*2*1*22*0~", 1, "837p.hl-child", "HL", 2, 0, "2000C", nil},
		{"not-used element", "NM1*87*2~", "NM1*87*2*ACME~", 1, "tr3.not-used", "NM1", 3, 0, "2010AB", nil},
		{"required element missing", "SV1*HC:87070*15.00*UN*1.00***1~", "SV1*HC:87070*15.00**1.00***1~", 1, "tr3.required", "SV1", 3, 0, "2400", nil},
		{"ICD-10 code with decimal point", "HI*BK:0340*BF:V7389~", "HI*ABK:J45.909~", 1, "837p.dx-code", "HI", 1, 2, "2300", []string{"837p.dx-pointer"}},
		{"ICD-10 before October 2015", "HI*BK:0340*BF:V7389~", "HI*ABK:J45909*ABF:Z7689~", 1, "837p.dx-code", "CLM", 0, 0, "2300", nil},
		{"13 diagnoses", "HI*BK:0340*BF:V7389~", "HI*BK:0340*BF:V7302*BF:V7303*BF:V7304*BF:V7305*BF:V7306*BF:V7307*BF:V7308*BF:V7309*BF:V7310*BF:V7311*BF:V7312*BF:V7313~", 1, "tr3.too-many-elements", "HI", 13, 0, "2300", nil},
		{"diagnosis listed twice", "HI*BK:0340*BF:V7389~", "HI*BK:0340*BF:0340~", 1, "837p.dx-duplicate", "HI", 2, 2, "2300", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := corrupt(t, base, tc.old, tc.new, tc.n)
			fs := validate(t, tc.name, text)
			wantFinding(t, fs, tc.rule, tc.segID, tc.elem, tc.comp, tc.loop)
			allowed := map[string]bool{tc.rule: true}
			for _, r := range tc.also {
				allowed[r] = true
			}
			for _, f := range fs {
				if !allowed[f.Rule] {
					t.Errorf("one defect, but also %s (loop %s)", f.Error(), f.Loop)
				}
			}
		})
	}
}

func TestCOBAdjustmentCodes(t *testing.T) {
	base := sample(t, "lfh__demo.cob.example3.B.x222a1.837")
	fs := validate(t, "carc", corrupt(t, base, "CAS*CO*42*3.00", "CAS*CO*Z42*3.00", 1))
	f := wantFinding(t, fs, "837p.carc", "CAS", 2, 0, "2430")
	if f.Severity != x12.Warning {
		t.Errorf("unknown CARC should warn, got %v", f.Severity)
	}
	if fs.HasRule("tr3.code") {
		t.Errorf("an unknown CARC is not a TR3 code error")
	}
	// The sample's own codes (PR-1, PR-2, CO-42) are known.
	if validate(t, "cobB", base).HasRule("837p.carc") {
		t.Error("known CARCs reported")
	}
}

func TestSituationalOnSubscriberPatient(t *testing.T) {
	// example7: the subscriber is the patient (SBR02=18), so 2010BA needs
	// DMG and N3/N4.
	base := sample(t, "lfh__demo.example7.x222a1.837")
	fs := validate(t, "nodmg", corrupt(t, base, "DMG*D8*19380105*F~\n", "", 1))
	f := wantFinding(t, fs, "837p.missing-segment", "NM1", 0, 0, "2010BA")
	if !strings.Contains(f.Message, "DMG") {
		t.Errorf("message %q does not name DMG", f.Message)
	}
	fs = validate(t, "non3", corrupt(t, base, "N3*121 SOUTH ST~\n", "", 1))
	wantFinding(t, fs, "837p.missing-segment", "NM1", 0, 0, "2010BA")
	// Without SBR02=18 the patient is someone else and needs a 2000C.
	fs = validate(t, "no2000C", corrupt(t, base, "SBR*P*18*", "SBR*P**", 1))
	wantFinding(t, fs, "837p.missing-loop", "HL", 0, 0, "2000C")
	// And a subscriber-patient must have a claim under 2000B.
	text := base[:strings.Index(base, "CLM*")] + base[strings.Index(base, "SE*"):]
	fs = validate(t, "noclaim", text)
	wantFinding(t, fs, "837p.missing-loop", "HL", 0, 0, "2300")
}

func TestAccidentNeedsDate(t *testing.T) {
	base := sample(t, "lfh__demo.autoaccident.x222a1.837")
	fs := validate(t, "nodate", corrupt(t, base, "DTP*439*D8*20051031~\n", "", 1))
	wantFinding(t, fs, "837p.missing-segment", "CLM", 11, 0, "2300")
	fs = validate(t, "nostate", corrupt(t, base, "AA:::CA", "AA", 1))
	f := wantFinding(t, fs, "837p.situational", "CLM", 11, 4, "2300")
	if f.Severity != x12.Warning {
		t.Errorf("missing accident state should be a warning, got %v", f.Severity)
	}
}

func TestLoopRepeatLimit(t *testing.T) {
	// 51 service lines: the guide allows 50 per claim.
	base := sample(t, "lfh__demo.example1.x222a1.837")
	var lines strings.Builder
	for i := 1; i <= 51; i++ {
		fmt.Fprintf(&lines, "LX*%d~\nSV1*HC:99213*1.00*UN*1.00***1~\nDTP*472*D8*20061003~\n", i)
	}
	head := base[strings.Index(base, "ST*"):strings.Index(base, "LX*1~")] + lines.String()
	text := base[:strings.Index(base, "ST*")] + head + fmt.Sprintf("SE*%d*0021~", strings.Count(head, "~")+1) + base[strings.Index(base, "\nGE*"):]
	text = strings.Replace(text, "CLM*26463774*100.00", "CLM*26463774*51.00", 1)
	fs := validate(t, "51lines", text)
	f := wantFinding(t, fs, "837p.loop-repeat", "LX", 0, 0, "2400")
	if !strings.Contains(f.Message, "51") {
		t.Errorf("message %q should give the count", f.Message)
	}
	for _, f := range fs {
		if f.Rule != "837p.loop-repeat" {
			t.Errorf("unexpected %s", f.Error())
		}
	}
}

func TestFindingCap(t *testing.T) {
	text := sample(t, "imsweb__x12_many_claims.txt")
	fs, err := ValidateOptions{Now: testClock, MaxFindings: 20}.Validate(strings.NewReader(text), "many")
	if err != nil {
		t.Fatal(err)
	}
	ours := 0
	capped := false
	for _, f := range fs {
		if strings.HasPrefix(f.Rule, "837p.") || strings.HasPrefix(f.Rule, "tr3.") {
			ours++
		}
		capped = capped || f.Rule == "837p.too-many-findings"
	}
	if ours != 21 || !capped {
		t.Errorf("got %d checker findings (capped %v), want 20 and the cap notice", ours, capped)
	}
}

func TestNotAn837(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/835/x12org__X221-claim-adjustment-reason-code-45.edi")
	if err != nil {
		t.Skip("835 sample not present:", err)
	}
	fs := validate(t, "835", string(raw))
	wantFinding(t, fs, "837p.set-type", "ST", 1, 0, "")
}

func TestIs837P(t *testing.T) {
	if !Is837P(x12.SetHeader{ID: "837", Version: "005010X222A1"}) || Is837P(x12.SetHeader{ID: "837", Version: "005010X223A2"}) || Is837P(x12.SetHeader{ID: "835", Version: "005010X222A1"}) {
		t.Error("Is837P picks the wrong sets")
	}
}

// TestCheckerDirect drives the SetChecker as claimgate validate will:
// through x12.Check with a Sets function.
func TestCheckerDirect(t *testing.T) {
	text := sample(t, "lfh__demo.cob.example3.A.NEGATIVE.x222a1.837")
	_, fs, err := x12.Check(strings.NewReader(text), x12.CheckOptions{Name: "cobA", Sets: func(h x12.SetHeader) x12.SetChecker {
		if Is837P(h) {
			return NewChecker(h)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !fs.HasRule("837p.missing-loop") {
		t.Errorf("NewChecker via x12.Check missed the 2330B loop: %v", fs)
	}
}

func TestGarbageDoesNotPanic(t *testing.T) {
	base := sample(t, "lfh__demo.cob.example3.B.x222a1.837")
	inputs := []string{"", "ISA", "ST*837*1~SE*1*1~", base[:len(base)/2], strings.ReplaceAll(base, "~", "~ST*837*0001*005010X222A1~")}
	// Every prefix ending at a segment boundary: loops left open at SE.
	for i := 0; i < len(base); i++ {
		if base[i] == '~' {
			inputs = append(inputs, base[:i+1]+"SE*3*1234~GE*1*1~IEA*1*000000907~")
		}
	}
	for _, in := range inputs {
		if _, err := (ValidateOptions{Now: testClock}).Validate(strings.NewReader(in), "garbage"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAmounts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"100", 1000000, true}, {"100.5", 1005000, true}, {"-0.01", -100, true}, {".5", 5000, true},
		{"1.23456", 0, false}, {"", 0, false}, {"-", 0, false}, {"1.2.3", 0, false}, {"12345678901234", 123456789012340000, true},
		{"123456789012345", 0, false},
	} {
		got, ok := vdAmount([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("vdAmount(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	for v, want := range map[int64]string{1000000: "100.00", 1005000: "100.50", -100: "-0.01", 12345: "1.2345", 0: "0.00"} {
		if got := vdFmtAmount(v); got != want {
			t.Errorf("vdFmtAmount(%d) = %q, want %q", v, got, want)
		}
	}
}
