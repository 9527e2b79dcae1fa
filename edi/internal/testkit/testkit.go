// Package testkit holds what the transaction packages' tests share: the
// public sample files in testdata and their manifest (SOURCES.txt), and a
// view of findings by rule. Only tests import it.
package testkit

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

// SampleFiles lists the sample files in dir (every file but SOURCES.txt)
// and fails the test when there are fewer than min: a sample missing
// from a checkout must not pass for a clean run.
func SampleFiles(t testing.TB, dir string, min int) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() || e.Name() == "SOURCES.txt" {
			continue
		}
		out = append(out, filepath.Join(dir, e.Name()))
	}
	if len(out) < min {
		t.Fatalf("expected at least %d sample files in %s, found %d", min, dir, len(out))
	}
	return out
}

// ReadFile reads path or fails the test.
func ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Rules lists the distinct rules of the findings, sorted.
func Rules(fs x12.Findings) []string {
	m := map[string]bool{}
	for _, f := range fs {
		m[f.Rule] = true
	}
	var out []string
	for r := range m {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

var statsRE = regexp.MustCompile(`(?m)^(\S+)\n(?:\s+\S.*\n)*?\s+stats: (.*)$`)

// ManifestStats returns the "stats:" line of each file in dir's
// SOURCES.txt as key=value pairs, keyed by the file's base name.
func ManifestStats(t testing.TB, dir string) map[string]map[string]string {
	t.Helper()
	b := ReadFile(t, filepath.Join(dir, "SOURCES.txt"))
	out := map[string]map[string]string{}
	for _, m := range statsRE.FindAllStringSubmatch(string(b), -1) {
		kv := map[string]string{}
		for _, f := range strings.Fields(m[2]) {
			if k, v, ok := strings.Cut(f, "="); ok {
				kv[k] = v
			}
		}
		out[filepath.Base(m[1])] = kv
	}
	return out
}

// X12ReaderBaseline is the body of a transaction package's
// BenchmarkX12ReaderBaseline: the bare x12 Reader over data, touching each
// segment's id, as the floor its typed reader is measured against. It
// checks that the input holds want segments with the given id.
func X12ReaderBaseline(b *testing.B, data []byte, id string, want int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := x12.NewReader(bytes.NewReader(data))
		n := 0
		for {
			seg, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if seg.ID() == id {
				n++
			}
		}
		if n != want {
			b.Fatalf("%d %s segments, want %d", n, id, want)
		}
	}
}

// X12CheckBaseline is the body of BenchmarkX12CheckBaseline: the envelope
// check alone over data, to show what a set checker adds to validation.
func X12CheckBaseline(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, fs, err := x12.Check(bytes.NewReader(data), x12.CheckOptions{Name: "bench"}); err != nil || len(fs) != 0 {
			b.Fatal(err, fs)
		}
	}
}

// Corruption is one defect put into a good sample file, and the finding
// it must cause.
type Corruption struct {
	Name, File, Old, New, Rule string
	Sev                        x12.Severity
}

// CheckCorruption puts the defect tc into a copy of its sample in dir, in
// a subtest, and checks that the good file has Old and lacks the rule,
// that validate reports the rule with its severity on the bad copy, and
// that read still reads the bad copy without an error.
func CheckCorruption(t *testing.T, dir string, tc Corruption, validate func(io.Reader, string) (*x12.Summary, x12.Findings, error), read func(io.Reader, string) error) {
	t.Run(tc.Name, func(t *testing.T) {
		orig := string(ReadFile(t, filepath.Join(dir, tc.File)))
		if !strings.Contains(orig, tc.Old) {
			t.Fatalf("%q not in %s", tc.Old, tc.File)
		}
		_, before, _ := validate(strings.NewReader(orig), tc.File)
		if before.HasRule(tc.Rule) {
			t.Fatalf("the good file already has %s", tc.Rule)
		}
		bad := strings.Replace(orig, tc.Old, tc.New, 1)
		_, fs, err := validate(strings.NewReader(bad), tc.File)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range fs {
			if f.Rule == tc.Rule {
				found = true
				if f.Severity != tc.Sev {
					t.Errorf("%s has severity %v, want %v", tc.Rule, f.Severity, tc.Sev)
				}
			}
		}
		if !found {
			t.Errorf("no %s finding; got %v", tc.Rule, fs)
		}
		// the reader still reads what it can
		if err := read(strings.NewReader(bad), tc.File); err != nil {
			t.Fatal(err)
		}
	})
}
