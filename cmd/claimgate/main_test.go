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
	// Two interchanges with the same ISA13: a warning only.
	code, out, _ := runCLI("validate", "../../testdata/835/tasty__oneLine-2-ISA.edi")
	if code != 0 || !strings.Contains(out, "warning: ISA13 control number 006000600") {
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
