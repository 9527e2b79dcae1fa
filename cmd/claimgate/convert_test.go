package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/pkg/pipeline"
)

// convertTo runs claimgate convert on batch into a new directory and
// returns the JSON report and the exit code.
func convertTo(t *testing.T, batch string, extra ...string) (convertReport, int, string) {
	t.Helper()
	// Keep the default state directory out of the real home.
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir := t.TempDir()
	args := append([]string{"convert", "--to", "837p", batch, "-o", dir, "--json"}, extra...)
	code, out, errs := runCLI(args...)
	var rep convertReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("exit %d, report not JSON: %v\n%s\n%s", code, err, out, errs)
	}
	return rep, code, dir
}

// validateAll checks every written file with claimgate validate.
func validateAll(t *testing.T, rep convertReport) {
	t.Helper()
	for _, f := range rep.Files {
		if code, out, _ := runCLI("validate", f.Path); code != 0 {
			t.Errorf("written file %s fails validation:\n%s", f.Path, out)
		}
	}
}

func TestConvertJSONAndCSVBatches(t *testing.T) {
	for _, batch := range []string{"../../testdata/batches/pt_batch.json", "../../testdata/batches/pt_batch.csv"} {
		rep, code, _ := convertTo(t, batch, "--config", "../../deploy/claimgate.example.json")
		// The sample batch has one claim with 97161 + 97140 and no 59: the
		// NCCI edit rejects it, the others are written.
		if code != 1 || rep.Read != 4 || rep.Written != 3 || rep.Summary.Rejected != 1 || countClaims(rep.Rejections) != 1 || rep.Rejections[0].Rule != "NCCI-PTP-MODIFIER" {
			t.Fatalf("%s: exit %d, report %+v", batch, code, rep)
		}
		total := 0
		for _, f := range rep.Files {
			total += f.Claims
			if !strings.Contains(filepath.Base(f.Path), f.Interchange) {
				t.Errorf("file name %s does not carry ISA13 %s", f.Path, f.Interchange)
			}
		}
		if total != 3 {
			t.Fatalf("files hold %d claims", total)
		}
		validateAll(t, rep)
	}
}

func TestConvertRejectsBadClaimsKeepsOthers(t *testing.T) {
	b, _ := os.ReadFile("../../testdata/batches/pt_batch.json")
	var doc map[string]any
	json.Unmarshal(b, &doc)
	claims := doc["claims"].([]any)
	// A bad date in one claim and a delimiter in another's name.
	claims[1].(map[string]any)["lines"].([]any)[0].(map[string]any)["service_date"] = "2024-02-30"
	claims[2].(map[string]any)["subscriber"].(map[string]any)["name"].(map[string]any)["last"] = "O*BRIEN"
	p := filepath.Join(t.TempDir(), "bad.json")
	out, _ := json.Marshal(doc)
	os.WriteFile(p, out, 0o600)
	rep, code, _ := convertTo(t, p)
	if code != 1 || rep.Read != 4 || rep.Written != 1 || rep.Summary.Rejected != 3 || countClaims(rep.Rejections) != 3 {
		t.Fatalf("exit %d report %+v", code, rep)
	}
	var fields []string
	for _, r := range rep.Rejections {
		fields = append(fields, r.Rule)
	}
	joined := strings.Join(fields, " ")
	if !strings.Contains(joined, "service_date") || !strings.Contains(joined, "subscriber.name.last") {
		t.Fatalf("rejections %v", fields)
	}
	validateAll(t, rep)
}

func TestConvertReenvelopes837P(t *testing.T) {
	// A PM system's 837P: the claims are validated and re-enveloped per
	// payer; a claim with a TR3 error inside it is rejected alone.
	rep, code, _ := convertTo(t, "../../testdata/837p/lfh__demo.example1.x222a1.837")
	if code != 0 || rep.Read != 1 || rep.Written != 1 || len(rep.Files) != 1 {
		t.Fatalf("exit %d report %+v", code, rep)
	}
	validateAll(t, rep)
	rep, code, _ = convertTo(t, "../../testdata/837p/lfh__demo.example6.NEGATIVE.x222a1.837")
	rules := map[string]bool{}
	claims := map[string]bool{}
	loopErrors := 0
	for _, r := range rep.Rejections {
		rules[r.Rule] = true
		if r.ClaimID != "" {
			claims[r.ClaimID] = true
		} else if r.Rule == "837p.npi-check-digit" && r.Claims == 1 && r.Where == "segment 9" {
			// The billing provider's NPI (2010AA): reported once, with
			// the one claim under that provider it rejected.
			loopErrors++
		}
	}
	if code != 1 || rep.Written != 0 || rep.Summary.Rejected != 1 || len(claims) != 1 || loopErrors != 1 || !rules["tr3.length"] {
		t.Fatalf("NEGATIVE 837P: exit %d report %+v", code, rep)
	}
}

func TestConvertUsage(t *testing.T) {
	if code, _, _ := runCLI("convert", "--to", "837p", "../../testdata/batches/pt_batch.json"); code != 2 {
		t.Fatalf("missing -o: exit %d", code)
	}
	if code, _, _ := runCLI("convert", "--to", "835", "x", "-o", t.TempDir()); code != 2 {
		t.Fatalf("bad --to: exit %d", code)
	}
	if code, _, _ := runCLI("convert", "--to", "837p", "no/such/batch.json", "-o", t.TempDir()); code != 2 {
		t.Fatalf("missing batch: exit %d", code)
	}
}

func TestConvertCatchesDuplicatesAcrossRuns(t *testing.T) {
	out, state := t.TempDir(), t.TempDir()
	args := []string{"convert", "--to", "837p", "../../testdata/batches/pt_batch.csv", "-o", out, "--state", state,
		"--config", "../../deploy/claimgate.example.json", "--json"}
	_, first, _ := runCLI(args...)
	var rep convertReport
	json.Unmarshal([]byte(first), &rep)
	if rep.Written != 3 {
		t.Fatalf("first run wrote %d claims", rep.Written)
	}
	// The same batch again: both originals already sent are duplicates;
	// the replacement claim (frequency 7) is a correction, never a
	// duplicate, and is written again.
	code, second, _ := runCLI(args...)
	rep = convertReport{}
	json.Unmarshal([]byte(second), &rep)
	dups := 0
	for _, r := range rep.Rejections {
		if r.Rule == "DUP-CLAIM" {
			dups++
		}
	}
	if code != 1 || rep.Written != 1 || dups != 2 {
		t.Fatalf("second run: exit %d, written %d, %d duplicates: %+v", code, rep.Written, dups, rep.Rejections)
	}
	// The keys on disk are digests: no names, member ids or birth dates.
	b, _ := os.ReadFile(filepath.Join(state, ".claimgate-seen-claims"))
	if strings.Contains(string(b), "Lindqvist") || strings.Contains(string(b), "1948") || len(strings.Split(strings.TrimSpace(string(b)), "\n")) != 2 {
		t.Fatalf("seen-claims store: %q", b)
	}
}

// countClaims counts distinct claims among problems.
func countClaims(ps []pipeline.Problem) int {
	seen := map[string]bool{}
	for _, p := range ps {
		key := p.ClaimID
		if key == "" {
			key = "\x00" + p.Where
		}
		seen[key] = true
	}
	return len(seen)
}

func TestConvertCapsPrintedRejections(t *testing.T) {
	// Three rejected claims (a bad date, a delimiter in a name, the NCCI
	// pair), one printed: the other two are announced with their rules.
	b, _ := os.ReadFile("../../testdata/batches/pt_batch.json")
	var doc map[string]any
	json.Unmarshal(b, &doc)
	claims := doc["claims"].([]any)
	claims[1].(map[string]any)["lines"].([]any)[0].(map[string]any)["service_date"] = "2024-02-30"
	claims[2].(map[string]any)["subscriber"].(map[string]any)["name"].(map[string]any)["last"] = "O*BRIEN"
	p := filepath.Join(t.TempDir(), "bad.json")
	out, _ := json.Marshal(doc)
	os.WriteFile(p, out, 0o600)
	code, text, errs := runCLI("convert", p, "-o", t.TempDir(), "--state", t.TempDir(), "--max-rejections", "1")
	if code != 1 || strings.Count(text, "rejected claim ") != 1 || !strings.Contains(text, "2 more rejections and 0 more warnings not shown: ") ||
		!strings.Contains(text, "4 claims read, 1 written, 3 rejected") {
		t.Fatalf("exit %d\n%s%s", code, text, errs)
	}
}

func TestConvertReadsStandardInputOnce(t *testing.T) {
	// An 837P on standard input (not seekable, not reopenable) is
	// validated and re-enveloped in one read.
	f, err := os.Open("../../testdata/837p/lfh__demo.example1.x222a1.837")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := stdin
	stdin = struct{ io.Reader }{f}
	defer func() { stdin = old }()
	code, text, errs := runCLI("convert", "-", "-o", t.TempDir(), "--state", t.TempDir())
	if code != 0 || !strings.Contains(text, "(stdin) (x12): 1 claims read, 1 written, 0 rejected") {
		t.Fatalf("exit %d\n%s%s", code, text, errs)
	}
}

func TestConvertRefusesOtherX12(t *testing.T) {
	for path, want := range map[string]string{
		"../../testdata/835/herophilus__835_Inpatient_DRG_Retro.txt": "835 health care claim payment/advice",
		"../../testdata/999/herophilus__999_accepted.txt":            "999 implementation acknowledgment",
	} {
		code, text, errs := runCLI("convert", path, "-o", t.TempDir(), "--state", t.TempDir())
		if code != 1 || !strings.Contains(errs, want) || !strings.Contains(errs, "not an 837P") {
			t.Errorf("%s: exit %d\n%s%s", path, code, text, errs)
		}
	}
}

func TestConvertDefaultStateAndOldStateInOutput(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_STATE_HOME", home)
	out := t.TempDir()
	if code, text, errs := runCLI("convert", "../../testdata/batches/pt_batch.csv", "-o", out); code != 1 || !strings.Contains(text, "3 written") {
		t.Fatalf("exit %d\n%s%s", code, text, errs)
	}
	// The state went to $XDG_STATE_HOME/claimgate, not into -o.
	if _, err := os.Stat(filepath.Join(home, "claimgate", pipeline.SeenFile)); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(out, ".claimgate-*")); len(m) != 0 {
		t.Fatalf("state in the output directory: %v", m)
	}
	// A new output directory does not restart anything: the claims are
	// duplicates.
	code, text, _ := runCLI("convert", "../../testdata/batches/pt_batch.csv", "-o", t.TempDir())
	if code != 1 || strings.Count(text, "[DUP-CLAIM]") != 2 {
		t.Fatalf("second output directory: exit %d\n%s", code, text)
	}
	// An output directory holding an older version's state is refused
	// without --state.
	old := t.TempDir()
	os.WriteFile(filepath.Join(old, pipeline.SeenFile), nil, 0o600)
	if code, _, errs := runCLI("convert", "../../testdata/batches/pt_batch.csv", "-o", old); code != 2 || !strings.Contains(errs, "--state "+old) {
		t.Fatalf("old state: exit %d: %s", code, errs)
	}
}
