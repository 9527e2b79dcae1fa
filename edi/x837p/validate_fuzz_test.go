package x837p

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

// FuzzValidate837P: no panic and no hang on any input, and the fast
// element pre-check never calls a segment clean that x12.SegSpec.Check
// would fault.
func FuzzValidate837P(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/837p/*.*")
	for _, fn := range files {
		if strings.HasSuffix(fn, "SOURCES.txt") {
			continue
		}
		b, err := os.ReadFile(fn)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 8<<10 {
			b = b[:8<<10] // the large sample's head is enough of a seed
		}
		f.Add(b)
	}
	defs := allSegDefs()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 256<<10 {
			return
		}
		if _, err := (ValidateOptions{Now: testClock}).Validate(bytes.NewReader(data), "fuzz"); err != nil {
			t.Fatal(err)
		}
		rd := x12.NewReader(bytes.NewReader(data))
		for n := 0; n < 300; n++ { // enough segments for the agreement check; Validate saw them all
			seg, err := rd.Next()
			if err != nil {
				if x12.IsFinding(err) {
					continue
				}
				return
			}
			for _, d := range defs[seg.ID()] {
				assertCleanAgrees(t, d, seg)
			}
		}
	})
}
