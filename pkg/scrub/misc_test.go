package scrub

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestCatalogDocumented checks every edit ID is unique and has a row in
// docs/scrubber.md.
func TestCatalogDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/scrubber.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range Catalog() {
		if seen[r.ID] {
			t.Errorf("ID %s listed twice", r.ID)
		}
		seen[r.ID] = true
		if !strings.Contains(string(doc), "| `"+r.ID+"` |") {
			t.Errorf("docs/scrubber.md has no table row for %s", r.ID)
		}
		if r.Severity != Reject && r.Severity != Warn || r.Summary == "" {
			t.Errorf("catalog row %+v", r)
		}
	}
	if len(seen) != 37 {
		t.Errorf("catalog has %d IDs", len(seen))
	}
}

func TestSeverityJSON(t *testing.T) {
	b, err := json.Marshal(Edit{ID: IDGPMissing, Severity: Reject, Line: 2, Field: "modifiers", Message: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"id":"PT-GP-MISSING","severity":"reject","message":"m","line":2,"field":"modifiers"}` {
		t.Errorf("json %s", b)
	}
	var e Edit
	if err := json.Unmarshal([]byte(`{"id":"X","severity":"warn"}`), &e); err != nil || e.Severity != Warn {
		t.Errorf("unmarshal %+v %v", e, err)
	}
	if err := json.Unmarshal([]byte(`{"severity":"fatal"}`), &e); err == nil {
		t.Error("unknown severity accepted")
	}
	if _, err := json.Marshal(Edit{}); err == nil {
		t.Error("zero severity marshalled")
	}
}

func TestPolicyJSON(t *testing.T) {
	var cfg Config
	err := json.Unmarshal([]byte(`{
		"payers": {"60054": {"timed_units": "per_code", "require_gp": true, "prior_auth": {"required": true, "codes": ["97140"]}}},
		"filing_codes": {"MB": {"timed_units": "medicare", "kx": true}},
		"default": {"timed_units": "medicare", "ncci": true}
	}`), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Payers["60054"].TimedUnits != TimedPerCode || !cfg.FilingCodes["MB"].KX || !cfg.Default.NCCI {
		t.Errorf("%+v", cfg)
	}
	if _, err := New(cfg); err != nil {
		t.Fatal(err)
	}
}
