package x835

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

// FuzzRead835 feeds arbitrary bytes to every reading path: the streaming
// Reader (default, validating, reusing), ReadAll, Validate, and the JSON
// and CSV output of what was read. None may panic or hang; every claim
// must carry its remittance.
func FuzzRead835(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(sampleDir, "*"))
	for _, name := range files {
		if filepath.Base(name) == "SOURCES.txt" {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	g := newGen(3)
	f.Add(writeFile(f, x12.DefaultDelimiters, false, g.remittance(4)))
	f.Add([]byte("ISA*00*          *00*          *ZZ*A              *ZZ*B              *200101*1253*^*00501*000000905*0*T*:~ST*835*1~CLP*1*22*5*5~SE*3*1~"))

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, mode := range []struct{ validate, reuse bool }{{false, false}, {true, false}, {false, true}} {
			rd := NewReader(bytes.NewReader(data))
			rd.Validate, rd.ReuseClaims = mode.validate, mode.reuse
			rd.MaxSegment = 1 << 16
			for n := 0; ; n++ {
				c, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("Next: %v", err)
				}
				if c.Remittance == nil {
					t.Fatal("claim without remittance")
				}
				_ = c.Imbalance()
				if n > len(data) {
					t.Fatal("more claims than bytes: reader is looping")
				}
			}
		}
		// ReuseClaims, which reuses the claim and the input's buffers,
		// hands out the same claims and findings as the default Reader.
		plain, reuse := NewReader(bytes.NewReader(data)), NewReader(bytes.NewReader(data))
		plain.MaxSegment, reuse.MaxSegment, reuse.ReuseClaims = 1<<16, 1<<16, true
		for k := 0; ; k++ {
			w, errW := plain.Next()
			c, err := reuse.Next()
			if err != errW {
				t.Fatalf("claim %d: reuse error %v, default %v", k, err, errW)
			}
			if err != nil {
				break
			}
			if g, w := bare(c), bare(w); !reflect.DeepEqual(g, w) {
				t.Fatalf("claim %d differs with ReuseClaims", k)
			}
		}
		if !reflect.DeepEqual(plain.Findings(), reuse.Findings()) {
			t.Fatalf("findings differ with ReuseClaims:\n%v\n%v", reuse.Findings(), plain.Findings())
		}
		rems, _, err := ReadAll(bytes.NewReader(data), "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := Validate(bytes.NewReader(data), "fuzz"); err != nil {
			t.Fatal(err)
		}
		for _, r := range rems {
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatalf("JSON: %v", err)
			}
			var back Remittance
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("JSON does not read back: %v\n%s", err, b)
			}
		}
		if err := WriteCSV(io.Discard, rems...); err != nil {
			t.Fatal(err)
		}
		// Writing what was read either works or refuses cleanly.
		var out bytes.Buffer
		w := x12.NewWriter(&out, x12.WriterOptions{})
		ctx := context.Background()
		w.BeginInterchange(ctx, x12.InterchangeHeader{Sender: "S", Receiver: "R"})
		w.BeginGroup(ctx, x12.GroupHeader{FunctionalID: "HP", Sender: "S", Receiver: "R", Version: Version})
		for _, r := range rems {
			if WriteRemittance(w, r) != nil {
				break
			}
		}
	})
}
