package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestValidateExitCodes(t *testing.T) {
	good := "../../testdata/999/herophilus__999_accepted.txt"
	bad := "../../testdata/837p/dwai__Molina_Mock_UP_837P_File.NEGATIVE.txt"
	if code, out, _ := runCLI("validate", good); code != 0 || out != "" {
		t.Fatalf("good file: exit %d, output %q", code, out)
	}
	code, out, _ := runCLI("validate", good, bad)
	if code != 1 {
		t.Fatalf("bad file: exit %d, want 1", code)
	}
	first := strings.SplitN(out, "\n", 2)[0]
	want := bad + ": segment 1 (ISA): ISA segment is 103 characters long"
	if !strings.HasPrefix(first, want) || !strings.HasSuffix(first, "[envelope.isa-length]") {
		t.Fatalf("finding line %q, want prefix %q", first, want)
	}
	if code, _, errs := runCLI("validate", good, "no/such/file"); code != 2 || !strings.Contains(errs, "no/such/file") {
		t.Fatalf("missing file: exit %d, stderr %q", code, errs)
	}
	if code, _, _ := runCLI("validate"); code != 2 {
		t.Fatalf("no files: exit %d, want 2", code)
	}
	if code, _, _ := runCLI("frobnicate"); code != 2 {
		t.Fatalf("unknown command: exit %d, want 2", code)
	}
}

func TestValidateWarningsDoNotFail(t *testing.T) {
	// ISA12 00502 instead of 00501: a warning only.
	b, err := os.ReadFile("../../testdata/999/herophilus__999_accepted.txt")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "isa12.x12")
	os.WriteFile(p, bytes.Replace(b, []byte("*00501*"), []byte("*00502*"), 1), 0o600)
	code, out, _ := runCLI("validate", p)
	if code != 0 || !strings.Contains(out, `warning: ISA12 version "00502" is not 00501`) {
		t.Fatalf("exit %d output %q", code, out)
	}
}

func TestValidateJSON(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cut.x12")
	b, _ := os.ReadFile("../../testdata/999/herophilus__999_accepted.txt")
	os.WriteFile(p, b[:len(b)-30], 0o644) // truncated: IEA lost
	code, out, _ := runCLI("validate", "--json", p)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var res []fileResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(res) != 1 || res[0].Errors == 0 || !res[0].Findings.HasRule("envelope.iea-missing") || res[0].Kind != "999" {
		t.Fatalf("unexpected result %+v", res)
	}
}

func TestValidateUsesTransactionCheckers(t *testing.T) {
	// One TR3 defect per transaction type, each caught by its checker
	// through claimgate validate.
	cases := []struct{ file, from, to, rule string }{
		{"../../testdata/837p/lfh__demo.example1.x222a1.837", "SBR*P*", "SBR*Q*", "tr3.code"},
		{"../../testdata/835/x12org__X221-claim-adjustment-reason-code-45.edi", "CAS*CO*", "CAS*CR*", "835.cas-group"},
		{"../../testdata/999/herophilus__999_rejected.txt", "AK9*R", "AK9*A", "999.ak9-status"},
		{"../../testdata/277ca/herophilus__277CA_accepted.txt", "STC*A2", "STC*Z9", "277ca.stc-category"},
	}
	for _, c := range cases {
		b, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), c.from) {
			t.Fatalf("%s has no %q", c.file, c.from)
		}
		p := filepath.Join(t.TempDir(), filepath.Base(c.file))
		os.WriteFile(p, []byte(strings.Replace(string(b), c.from, c.to, 1)), 0o600)
		code, out, _ := runCLI("validate", "--json", p)
		var res []fileResult
		json.Unmarshal([]byte(out), &res)
		if code != 1 || len(res) != 1 || !res[0].Findings.HasRule(c.rule) {
			t.Errorf("%s with %q: exit %d, want rule %s in %s", c.file, c.to, code, c.rule, out)
		}
	}
}
