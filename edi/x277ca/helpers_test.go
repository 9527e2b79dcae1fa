package x277ca

import (
	"bytes"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/internal/testkit"
)

const testdataDir = "../../testdata/277ca"

// sampleFiles lists the 277CA samples (every file but SOURCES.txt).
func sampleFiles(t testing.TB) []string { return testkit.SampleFiles(t, testdataDir, 4) }

var (
	readFile      = testkit.ReadFile
	rules         = testkit.Rules
	manifestStats = testkit.ManifestStats
)

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
