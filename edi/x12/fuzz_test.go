package x12

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the Reader and the envelope checker:
// they must never panic or hang, every finding must be located inside the
// input, and the Reader must end with io.EOF.
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/*/*")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 && filepath.Base(p) != "SOURCES.txt" {
			f.Add(b)
		}
	}
	f.Add([]byte(envelope('|', '^', '>', '\n', "000000001", "BHT*0019*00*1*20240101*1200*CH")))
	f.Add([]byte("ISA*"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		r.MaxSegment = 512
		for n := 0; ; n++ {
			if n > len(data)+10 {
				t.Fatalf("more results than input bytes: the reader is not making progress")
			}
			seg, err := r.Next()
			if err == io.EOF {
				break
			}
			if f, ok := err.(*Finding); ok {
				if f.Offset < 0 || f.Offset > int64(len(data)) {
					t.Fatalf("finding offset %d outside input of %d bytes", f.Offset, len(data))
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i <= seg.Len()+1; i++ {
				_ = seg.Composite(i).Part(2)
				_ = seg.Repeat(i, 2)
			}
		}
		if _, _, err := Check(bytes.NewReader(data), CheckOptions{MaxSegment: 512}); err != nil {
			t.Fatal(err)
		}
	})
}
