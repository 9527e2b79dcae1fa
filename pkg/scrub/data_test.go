package scrub

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/claim"
)

// briefPairs are exactly the NCCI pairs the domain brief lists (column 1,
// column 2), all modifier indicator 1.
var briefPairs = [][2]string{
	{"97140", "97530"},
	{"97530", "97116"},
	{"97530", "97164"},
	{"97161", "97140"}, {"97162", "97140"}, {"97163", "97140"},
	{"97110", "97164"}, {"97112", "97164"}, {"97113", "97164"}, {"97116", "97164"}, {"97140", "97164"},
	{"97150", "97110"}, {"97150", "97112"}, {"97150", "97116"}, {"97150", "97164"},
}

func TestEmbeddedNCCI(t *testing.T) {
	tbl, err := EmbeddedNCCI()
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Len() != len(briefPairs) {
		t.Errorf("embedded table has %d pairs, the brief lists %d", tbl.Len(), len(briefPairs))
	}
	d := claim.Date{Year: 2025, Month: time.March, Day: 10}
	for _, p := range briefPairs {
		row, ok := tbl.Pair(p[0], p[1], d)
		if !ok {
			t.Errorf("pair %s/%s missing", p[0], p[1])
			continue
		}
		if row.ModifierIndicator != 1 || row.Source != "domain brief" {
			t.Errorf("pair %s/%s: %+v", p[0], p[1], row)
		}
		if _, ok := tbl.Pair(p[1], p[0], d); ok {
			t.Errorf("pair %s/%s found reversed", p[0], p[1])
		}
	}
	m := tbl.Meta()
	if m.Name != "NCCIPTP" || m.Version == "" || !strings.Contains(m.Effective, "UNCONFIRMED") || len(m.Sources) == 0 || !strings.Contains(m.Sources[0], "domain brief") {
		t.Errorf("meta %+v", m)
	}
}

func TestEmbeddedThresholds(t *testing.T) {
	tbl, err := EmbeddedThresholds()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		year      int
		kx, tr    claim.Money
		confirmed bool
	}{
		{2024, 233000, 300000, true},
		{2025, 241000, 300000, false},
		{2026, 248000, 300000, false},
	}
	for _, w := range want {
		th, ok := tbl.Year(w.year)
		if !ok || th.KX != w.kx || th.TargetedReview != w.tr || th.Confirmed != w.confirmed {
			t.Errorf("year %d: %+v, want %+v", w.year, th, w)
		}
		if !w.confirmed && !strings.Contains(th.Note, "UNCONFIRMED") {
			t.Errorf("year %d note %q does not say UNCONFIRMED", w.year, th.Note)
		}
	}
	if _, ok := tbl.Year(2023); ok {
		t.Error("2023 should not be in the table")
	}
}

func TestEmbeddedCodes(t *testing.T) {
	tbl, err := EmbeddedCodes()
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"97110", "97112", "97113", "97116", "97140", "97530", "97535", "97032", "97033", "97035", "97750"} {
		if c, ok := tbl.Lookup(code); !ok || !c.Timed {
			t.Errorf("%s should be timed: %+v", code, c)
		}
	}
	for _, code := range []string{"97161", "97162", "97163", "97164", "97150", "97012", "97010", "G0283", "97014"} {
		if c, ok := tbl.Lookup(code); !ok || c.Timed {
			t.Errorf("%s should be untimed: %+v", code, c)
		}
	}
	if c, _ := tbl.Lookup("97010"); c.Medicare != MedicareBundled {
		t.Errorf("97010: %+v", c)
	}
	if c, _ := tbl.Lookup("97014"); c.Medicare != MedicareInvalid || c.Replacement != "G0283" {
		t.Errorf("97014: %+v", c)
	}
	if c, _ := tbl.Lookup("97150"); c.MultiUnit != Warn {
		t.Errorf("97150: %+v", c)
	}
	if c, _ := tbl.Lookup("97161"); c.MultiUnit != Reject {
		t.Errorf("97161: %+v", c)
	}
	if _, ok := tbl.Lookup("99213"); ok {
		t.Error("99213 is not a PT code")
	}
	if tbl.Len() != 20 || tbl.Meta().Version == "" {
		t.Errorf("len %d meta %+v", tbl.Len(), tbl.Meta())
	}
}

func TestLoadFromFile(t *testing.T) {
	dir := t.TempDir()
	ncci := filepath.Join(dir, "ncci.csv")
	if err := os.WriteFile(ncci, []byte(`# name: NCCIPTP
# version: 2026Q3
# effective: 2026Q3
# source: operator test
column1,column2,modifier_indicator,effective,deletion,source
97161,97140,1,2017-01-01,*,CMS
97530,97150,0,20200101,20200401,CMS
`), 0o600); err != nil {
		t.Fatal(err)
	}
	tbl, err := LoadNCCI(ncci)
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Meta().Version != "2026Q3" || tbl.Len() != 2 {
		t.Errorf("meta %+v len %d", tbl.Meta(), tbl.Len())
	}
	if _, ok := tbl.Pair("97530", "97150", claim.Date{Year: 2020, Month: time.April, Day: 1}); ok {
		t.Error("deleted pair still in effect on its deletion date")
	}
	if p, ok := tbl.Pair("97530", "97150", claim.Date{Year: 2020, Month: time.March, Day: 31}); !ok || p.ModifierIndicator != 0 {
		t.Errorf("pair on the day before deletion: %+v %v", p, ok)
	}

	codes := filepath.Join(dir, "codes.csv")
	os.WriteFile(codes, []byte("# name: PTCodes\n# version: x\ncode,timed,multi_unit,medicare,replacement,note\n97124,yes,,,,massage\n"), 0o600)
	ct, err := LoadCodes(codes)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := ct.Lookup("97124"); !ok || !c.Timed {
		t.Errorf("97124 %+v", c)
	}

	th := filepath.Join(dir, "th.csv")
	os.WriteFile(th, []byte("# name: TherapyThresholds\n# version: x\nyear,kx_threshold,targeted_review_threshold,confirmed,note\n2027,2550,3000,yes,test\n"), 0o600)
	tt, err := LoadThresholds(th)
	if err != nil {
		t.Fatal(err)
	}
	if y, ok := tt.Year(2027); !ok || y.KX != 255000 {
		t.Errorf("2027 %+v", y)
	}

	// A scrubber built from the loaded files uses them.
	cfg := testConfig()
	cfg.Codes, cfg.NCCI, cfg.Thresholds = ct, tbl, tt
	s := newScrubber(t, cfg)
	c := cleanClaim(t)
	// 97161 and 97110 are not in this code table: no GP or unit checks.
	line(c, 1).Modifiers, line(c, 2).Modifiers, line(c, 2).Units = nil, nil, 9
	wantIDs(t, s.Scrub(c))
	// 97124 is: timed, GP required, and 2025 has no threshold in this table.
	addLine(c, claim.Line{Procedure: "97124", Minutes: 10, Units: 1})
	wantIDs(t, s.Scrub(c), IDGPMissing, IDKXNoThreshold)

	if _, err := LoadNCCI(filepath.Join(dir, "missing.csv")); err == nil {
		t.Error("LoadNCCI of a missing file succeeded")
	}
	if _, err := LoadCodes(ncci); err == nil || !strings.Contains(err.Error(), "ncci.csv") {
		t.Errorf("LoadCodes of an NCCI file: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	const ncciHead = "# name: NCCIPTP\n# version: 1\ncolumn1,column2,modifier_indicator,effective,deletion,source\n"
	const codeHead = "# name: PTCodes\n# version: 1\ncode,timed,multi_unit,medicare,replacement,note\n"
	const thHead = "# name: TherapyThresholds\n# version: 1\nyear,kx_threshold,targeted_review_threshold,confirmed,note\n"
	ncci := map[string]string{
		"no header":       "column1,column2,modifier_indicator,effective,deletion,source\n97161,97140,1,,,x\n",
		"no version":      "# name: NCCIPTP\ncolumn1,column2,modifier_indicator,effective,deletion,source\n",
		"wrong table":     "# name: PTCodes\n# version: 1\n",
		"wrong columns":   "# name: NCCIPTP\n# version: 1\ncol1,col2,mod,eff,del,src\n",
		"indicator":       ncciHead + "97161,97140,2,,,x\n",
		"bad code":        ncciHead + "9716,97140,1,,,x\n",
		"same code":       ncciHead + "97161,97161,1,,,x\n",
		"bad date":        ncciHead + "97161,97140,1,2025-02-30,,x\n",
		"deletion first":  ncciHead + "97161,97140,1,2025-03-01,2025-03-01,x\n",
		"overlap":         ncciHead + "97161,97140,1,,,x\n97161,97140,0,2020-01-01,,x\n",
		"too few columns": ncciHead + "97161,97140,1\n",
	}
	for name, in := range ncci {
		if _, err := ParseNCCI(strings.NewReader(in)); err == nil {
			t.Errorf("ParseNCCI %s: no error", name)
		}
	}
	if tbl, err := ParseNCCI(strings.NewReader(ncciHead + "97161,97140,1,,2020-01-01,x\n97161,97140,0,2020-01-01,,x\n# a comment\n")); err != nil || tbl.Len() != 2 {
		t.Errorf("consecutive periods: %v", err)
	}
	codes := map[string]string{
		"timed":      codeHead + "97110,maybe,,,,x\n",
		"multi":      codeHead + "97161,no,,,,x\n",
		"multi on t": codeHead + "97110,yes,warn,,,x\n",
		"medicare":   codeHead + "97010,no,reject,denied,,x\n",
		"dup":        codeHead + "97110,yes,,,,x\n97110,yes,,,,x\n",
		"repl":       codeHead + "97014,no,reject,invalid,G02,x\n",
	}
	for name, in := range codes {
		if _, err := ParseCodes(strings.NewReader(in)); err == nil {
			t.Errorf("ParseCodes %s: no error", name)
		}
	}
	ths := map[string]string{
		"year":      thHead + "20x5,2410,3000,yes,x\n",
		"amount":    thHead + "2025,2410.001,3000,yes,x\n",
		"zero":      thHead + "2025,0,3000,yes,x\n",
		"confirmed": thHead + "2025,2410,3000,perhaps,x\n",
		"dup":       thHead + "2025,2410,3000,yes,x\n2025,2410,3000,yes,x\n",
	}
	for name, in := range ths {
		if _, err := ParseThresholds(strings.NewReader(in)); err == nil {
			t.Errorf("ParseThresholds %s: no error", name)
		}
	}
}
