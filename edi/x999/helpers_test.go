package x999

import (
	"bytes"
	"testing"

	"github.com/claimgate/claimgate/edi/internal/testkit"
)

const testdataDir = "../../testdata/999"

// sampleFiles lists the 999 samples (every file but SOURCES.txt).
func sampleFiles(t testing.TB) []string { return testkit.SampleFiles(t, testdataDir, 6) }

var (
	readFile      = testkit.ReadFile
	rules         = testkit.Rules
	manifestStats = testkit.ManifestStats
)

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
