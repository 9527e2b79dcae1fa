package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x835"
)

// sampleFiles lists the 999, 277CA and 835 samples, NEGATIVE ones too.
func sampleFiles(t *testing.T) []string {
	var files []string
	for _, dir := range []string{"999", "277ca", "835"} {
		fs, _ := filepath.Glob("../../testdata/" + dir + "/*")
		for _, p := range fs {
			if !strings.HasSuffix(p, "SOURCES.txt") {
				files = append(files, p)
			}
		}
	}
	if len(files) < 25 {
		t.Fatalf("only %d samples", len(files))
	}
	return files
}

// errorKeys are the rule and segment of each error finding line.
func errorKeys(lines string, skipRule string) []string {
	var keys []string
	for _, l := range strings.Split(lines, "\n") {
		if !strings.Contains(l, ": error: ") && !strings.Contains(l, "error:") {
			continue
		}
		if strings.Contains(l, ": warning: ") {
			continue
		}
		if skipRule != "" && strings.HasSuffix(l, "["+skipRule+"]") {
			continue
		}
		keys = append(keys, l)
	}
	sort.Strings(keys)
	return keys
}

// TestParseVerdictMatchesValidate: parse runs validate's checks in its one
// read, so on every sample it reports the same findings and exits as
// validate does, with --json and with --csv. The one finding parse adds is
// 835.duplicate-payment (a payment sent twice), which validate gains in
// its own branch: the test allows it, and only it, on top.
func TestParseVerdictMatchesValidate(t *testing.T) {
	failing := 0
	for _, p := range sampleFiles(t) {
		vcode, vout, _ := runCLI("validate", p)
		if vcode == 2 {
			t.Fatalf("%s: validate exit 2", p)
		}
		modes := []string{"--json"}
		if strings.Contains(p, "/835/") {
			modes = append(modes, "--csv")
		}
		for _, mode := range modes {
			pcode, out, perr := runCLI("parse", p, mode)
			dups := strings.Count(perr, "["+RuleDuplicatePayment+"]")
			if pcode != vcode && !(vcode == 0 && pcode == 1 && dups > 0) {
				t.Errorf("%s %s: parse exits %d, validate %d\nparse: %s\nvalidate: %s", p, mode, pcode, vcode, perr, vout)
			}
			if got, want := errorKeys(perr, RuleDuplicatePayment), errorKeys(vout, RuleDuplicatePayment); !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: parse reports errors\n%s\nvalidate\n%s", p, mode, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// validate's warnings too: the same findings, in the same words
			if got, want := dropRule(perr, RuleDuplicatePayment), dropRule(vout, RuleDuplicatePayment); got != want {
				t.Errorf("%s %s: parse's findings differ from validate's:\n%s\nvalidate:\n%s", p, mode, got, want)
			}
			// and every repeated payment validate finds, parse finds at
			// the same place (once)
			if got, want := ruleSegments(perr, RuleDuplicatePayment), ruleSegments(vout, RuleDuplicatePayment); len(want) > 0 && !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: repeated payments at %v, validate finds them at %v", p, mode, got, want)
			}
			if mode == "--json" {
				var doc struct {
					Findings []x12.Finding `json:"findings"`
				}
				if err := json.Unmarshal([]byte(out), &doc); err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				if len(doc.Findings) != strings.Count(perr, "\n") {
					t.Errorf("%s: %d findings in the JSON, %d lines on stderr", p, len(doc.Findings), strings.Count(perr, "\n"))
				}
			}
		}
		if vcode == 1 {
			failing++
		}
	}
	if failing < 5 {
		t.Fatalf("only %d samples fail validation: the verdict is hardly tested", failing)
	}
}

// ruleSegments lists the "segment N (ID)" places of the findings of a rule.
func ruleSegments(lines, rule string) []string {
	var out []string
	for _, l := range strings.Split(lines, "\n") {
		if strings.HasSuffix(l, "["+rule+"]") {
			if i := strings.Index(l, "segment "); i >= 0 {
				if j := strings.Index(l[i:], ")"); j >= 0 {
					out = append(out, l[i:i+j+1])
				}
			}
		}
	}
	return out
}

func dropRule(lines, rule string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(lines, "\n") {
		if !strings.Contains(l, "["+rule+"]") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// TestParseJSONValid: parse --json prints one valid JSON document for
// every sample, and for generated 835s its remittances are what ReadAll
// reads (reversal links included) in the shape of the model's tags.
func TestParseJSONValid(t *testing.T) {
	for _, p := range sampleFiles(t) {
		_, out, _ := runCLI("parse", p, "--json")
		if !json.Valid([]byte(out)) {
			t.Fatalf("%s: not valid JSON:\n%s", p, out)
		}
	}
	dir := t.TempDir()
	for seed := int64(1); seed <= 3; seed++ {
		p := filepath.Join(dir, fmt.Sprintf("gen%d.835", seed))
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gen835(f, seed, int(seed), 300, false); err != nil {
			t.Fatal(err)
		}
		f.Close()
		code, out, errs := runCLI("parse", p, "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", p, code, errs)
		}
		var got struct {
			Remittances []any `json:"remittances"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		f, _ = os.Open(p)
		rems, _, err := x835.ReadAll(f, p)
		f.Close()
		if err != nil || len(rems) != int(seed) || len(got.Remittances) != len(rems) {
			t.Fatalf("%d remittances streamed, %d read (%v)", len(got.Remittances), len(rems), err)
		}
		links := 0
		for i, rem := range rems {
			var want any
			if err := json.Unmarshal(rem.AppendJSON(nil), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Remittances[i], want) {
				t.Fatalf("%s remittance %d differs from ReadAll", p, i)
			}
			for _, c := range rem.Claims {
				if c.Correction != nil {
					links++
				}
			}
		}
		if links == 0 {
			t.Fatalf("%s: no reversal to link", p)
		}
	}
}

// TestParseCSVPostsPaymentOnce: a payment the file holds twice (the same
// interchange sent twice, or the same payer and TRN02 again) is posted
// once; the repeat is an error finding naming the TRN segment and rule.
func TestParseCSVPostsPaymentOnce(t *testing.T) {
	p := "../../testdata/835/tasty__oneLine-2-ISA.edi"
	code, out, errs := runCLI("parse", p, "--csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(p)
	clp := strings.Count(string(raw), "CLP*")
	if clp != 4 || len(rows) != 1+clp/2 || code != 1 {
		t.Fatalf("exit %d, %d rows for %d CLP in two copies:\n%s", code, len(rows), clp, out)
	}
	if !strings.Contains(errs, "segment 40 (TRN) element 2: ") || strings.Count(errs, "["+RuleDuplicatePayment+"]") != 1 ||
		!strings.HasSuffix(strings.TrimSpace(errs), "["+RuleDuplicatePayment+"]") {
		t.Fatalf("finding: %s", errs)
	}

	// one interchange, three sets paying under the same trace number
	var b bytes.Buffer
	if _, err := gen835(&b, 5, 3, 40, true); err != nil {
		t.Fatal(err)
	}
	var once bytes.Buffer
	if _, err := gen835(&once, 5, 1, 40, false); err != nil {
		t.Fatal(err)
	}
	old := stdin
	defer func() { stdin = old }()
	stdin = bytes.NewReader(b.Bytes())
	code, out, errs = runCLI("parse", "-", "--csv")
	stdin = bytes.NewReader(once.Bytes())
	_, outOnce, _ := runCLI("parse", "-", "--csv")
	if code != 1 || out != outOnce || strings.Count(errs, RuleDuplicatePayment) != 2 {
		t.Fatalf("exit %d, %d bytes of rows (one set's: %d), findings:\n%s", code, len(out), len(outOnce), errs)
	}
	// --json shows what the file holds, every set, with the same findings
	stdin = bytes.NewReader(b.Bytes())
	code, out, jerrs := runCLI("parse", "-", "--json")
	var doc struct {
		Remittances []json.RawMessage `json:"remittances"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 1 || len(doc.Remittances) != 3 || jerrs != errs {
		t.Fatalf("--json: exit %d, %d remittances (%v), findings:\n%s", code, len(doc.Remittances), err, jerrs)
	}
}

// TestParseWriteErrorIsExit2: a write error on standard output ends the
// command with status 2 and the checks goroutine does not hang.
func TestParseWriteErrorIsExit2(t *testing.T) {
	var b bytes.Buffer
	if _, err := gen835(&b, 9, 1, 3000, false); err != nil {
		t.Fatal(err)
	}
	old := stdin
	defer func() { stdin = old }()
	for _, mode := range []string{"--json", "--csv"} {
		stdin = bytes.NewReader(b.Bytes())
		var errb bytes.Buffer
		if code := run([]string{"parse", "-", mode}, failWriter{}, &errb); code != 2 {
			t.Fatalf("%s: exit %d on a failing stdout: %s", mode, code, errb.String())
		}
	}
}

// TestParseCSVHeaderAlways: an 835 with nothing to post still prints the
// header row.
func TestParseCSVHeaderAlways(t *testing.T) {
	var b bytes.Buffer
	if _, err := gen835(&b, 1, 1, 0, false); err != nil {
		t.Fatal(err)
	}
	old := stdin
	defer func() { stdin = old }()
	stdin = bytes.NewReader(b.Bytes())
	code, out, errs := runCLI("parse", "-", "--csv")
	if code == 2 || out != strings.Join(x835.CSVHeader, ",")+"\n" {
		t.Fatalf("exit %d, output %q: %s", code, out, errs)
	}
}
