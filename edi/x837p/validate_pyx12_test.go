package x837p

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

// TestPyx12Verdicts compares our verdicts with pyx12's. It runs only where
// a developer has pyx12 (not in CI):
//
//	PYX12_VALIDATE=/work/tools/pyx12-validate go test -run TestPyx12Verdicts -v ./edi/x837p/
//
// PYX12_FILES (a space-separated list of globs) checks other files than
// the bundled samples. pyx12 "OK" must match "no structure error" here;
// our claim edits (NPI check digit, CLM02 total, pointers, dates) are
// listed but do not count, since pyx12 does not make them.
func TestPyx12Verdicts(t *testing.T) {
	tool := os.Getenv("PYX12_VALIDATE")
	if tool == "" {
		t.Skip("set PYX12_VALIDATE to the pyx12-validate script to compare with pyx12")
	}
	globs := strings.Fields(os.Getenv("PYX12_FILES"))
	if len(globs) == 0 {
		globs = []string{"../../testdata/837p/*.837", "../../testdata/837p/*.txt"}
	}
	var files []string
	for _, g := range globs {
		m, _ := filepath.Glob(g)
		for _, f := range m {
			if filepath.Base(f) != "SOURCES.txt" {
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		t.Fatal("no files to compare")
	}
	out, err := exec.Command(tool, files...).Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("%s: %v", tool, err)
	}
	verdict := map[string]string{}
	first := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	var cur string
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "    ") {
			if first[cur] == "" {
				first[cur] = strings.TrimSpace(line)
			}
			continue
		}
		if i := strings.LastIndex(line, ": "); i > 0 {
			cur = line[:i]
			verdict[cur] = line[i+2:]
		}
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fs := validate(t, f, string(raw))
		var structure, edits []string
		for _, x := range fs {
			switch {
			case x.Severity == x12.Warning:
				// warnings never decide a verdict
			case structural(x.Rule):
				structure = append(structure, x.Error())
			default:
				edits = append(edits, x.Rule)
			}
		}
		ours := "OK"
		if len(structure) > 0 {
			ours = "Failure"
		}
		theirs := verdict[f]
		t.Logf("%-55s pyx12 %-8s ours %-8s (%d structure errors, %d claim-edit errors %s)", filepath.Base(f), theirs, ours, len(structure), len(edits), summarize(edits))
		if theirs != ours {
			t.Errorf("%s: pyx12 says %s (%s), we say %s; our first: %s", f, theirs, first[f], ours, strings.Join(structure[:min(1, len(structure))], ""))
		}
	}
}

func summarize(rules []string) string {
	n := map[string]int{}
	var order []string
	for _, r := range rules {
		if n[r] == 0 {
			order = append(order, r)
		}
		n[r]++
	}
	var b strings.Builder
	for _, r := range order {
		fmt.Fprintf(&b, " %s×%d", r, n[r])
	}
	return b.String()
}
