package x277ca

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

const testdataDir = "../../testdata/277ca"

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
	if len(out) < 4 {
		t.Fatalf("expected the 4 sample 277CA files in %s, found %d", testdataDir, len(out))
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

type rawSeg [][]byte

// rawSegments splits a file on the terminator after ISA16 and the element
// separator; comp is ISA16. Independent of the x12 package on purpose.
func rawSegments(t testing.TB, data []byte) (segs []rawSeg, comp byte) {
	t.Helper()
	if len(data) < 106 || !bytes.HasPrefix(data, []byte("ISA")) {
		t.Fatalf("not an ISA-first file")
	}
	el, comp, term := data[3], data[104], data[105]
	for _, s := range bytes.Split(data, []byte{term}) {
		s = bytes.TrimSpace(s)
		if len(s) > 0 {
			segs = append(segs, bytes.Split(s, []byte{el}))
		}
	}
	return segs, comp
}

func (s rawSeg) el(i int) string {
	if i < len(s) {
		return string(s[i])
	}
	return ""
}

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

// countList parses "A1:1,A2:3" into a map.
func countList(s string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(kv, ":"); ok {
			m[k] = v
		}
	}
	return m
}
