package x12

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
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
		// Set checkers in parallel find what they find alone, in order.
		_, alone, err := Check(bytes.NewReader(data), CheckOptions{MaxSegment: 512, Sets: echoSets()})
		if err != nil {
			t.Fatal(err)
		}
		_, par, err := Check(bytes.NewReader(data), CheckOptions{MaxSegment: 512, Sets: echoSets(), Workers: 3, BatchSize: 64})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(par, alone) {
			t.Fatalf("in parallel: %d findings\n%v\nalone: %d\n%v", len(par), par, len(alone), alone)
		}
		// ... and so do workers that read the segments from the input
		// themselves (a file), through small reads.
		_, fromSource, err := Check(iotest.HalfReader(bytes.NewReader(data)), CheckOptions{MaxSegment: 512, Sets: echoSets(), Workers: 2, BatchSize: 128,
			Source: bytes.NewReader(data)})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fromSource, alone) {
			t.Fatalf("in parallel from the source: %d findings\n%v\nalone: %d\n%v", len(fromSource), fromSource, len(alone), alone)
		}
		// The options change how the Reader works, never what it reads:
		// with SplitElements and KeepBuffers, through small reads, the
		// segments, their elements and the findings are the same.
		plain := readAll(t, NewReader(bytes.NewReader(data)))
		r = NewReader(iotest.HalfReader(bytes.NewReader(data)))
		r.SplitElements, r.KeepBuffers = true, true
		if typed := readAll(t, r); typed != plain {
			t.Fatalf("with SplitElements and KeepBuffers:\n%s\nwithout:\n%s", typed, plain)
		}
	})
}

// readAll renders everything r reads: each segment's offset, number,
// set position, id and elements, and each finding.
func readAll(t *testing.T, r *Reader) string {
	var b strings.Builder
	for {
		seg, err := r.Next()
		if err == io.EOF {
			return b.String()
		}
		if f, ok := err.(*Finding); ok {
			fmt.Fprintf(&b, "finding %s\n", f.Error())
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%d %d %d %s", seg.Offset, seg.Num, seg.SetPos, seg.ID())
		for i := 1; i <= seg.Len(); i++ {
			fmt.Fprintf(&b, " |%s", seg.Element(i))
		}
		b.WriteByte('\n')
	}
}
