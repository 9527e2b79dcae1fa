package x999

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

const testdataDir = "../../testdata/999"

// sampleFiles lists the 999 samples (every file but SOURCES.txt).
func sampleFiles(t testing.TB) []string {
	t.Helper()
	ents, err := os.ReadDir(testdataDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() || e.Name() == "SOURCES.txt" {
			continue
		}
		out = append(out, filepath.Join(testdataDir, e.Name()))
	}
	if len(out) < 6 {
		t.Fatalf("expected the 6 sample 999 files in %s, found %d", testdataDir, len(out))
	}
	return out
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawSegments splits a file into segments the simplest way: the terminator
// is the byte after ISA16 (byte 105 of a standard ISA) and the element
// separator byte 3. Independent of the x12 package on purpose.
func rawSegments(t testing.TB, data []byte) (segs [][][]byte) {
	t.Helper()
	data = bytes.TrimLeft(data, "\xef\xbb\xbf \r\n")
	if len(data) < 106 || !bytes.HasPrefix(data, []byte("ISA")) {
		t.Fatalf("not an ISA-first file")
	}
	el, term := data[3], data[105]
	for _, s := range bytes.Split(data, []byte{term}) {
		s = bytes.TrimSpace(s)
		if len(s) == 0 {
			continue
		}
		segs = append(segs, bytes.Split(s, []byte{el}))
	}
	return segs
}

// rules lists the distinct rules of the findings, sorted.
func rules(fs x12.Findings) []string {
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

// manifestStats returns the "stats:" line of each file in SOURCES.txt,
// keyed by base name.
func manifestStats(t testing.TB, dir string) map[string]map[string]string {
	t.Helper()
	b := readFile(t, filepath.Join(dir, "SOURCES.txt"))
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
