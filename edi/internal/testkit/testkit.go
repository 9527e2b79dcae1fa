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
