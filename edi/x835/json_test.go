package x835

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// oracle is what encoding/json makes of the model's tags for rem (the
// shape docs/835.md documents), decoded into generic values.
func oracle(t testing.TB, rem *Remittance) any {
	head := *rem
	head.Claims = nil
	b, err := json.Marshal((*remittanceFields)(&head))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if rem.Claims != nil {
		claims := []any{}
		for _, c := range rem.Claims {
			claims = append(claims, claimOracle(t, c))
		}
		m["claims"] = claims
	}
	return m
}

// claimView is c as encoding/json sees it through the tags.
func claimView(c *ClaimPayment) claimJSON {
	v := claimJSON{claimFields: (*claimFields)(c)}
	if c.Reversal != nil {
		i := c.Reversal.Index
		v.ReversalIndex = &i
	}
	if c.Correction != nil {
		i := c.Correction.Index
		v.CorrectionIndex = &i
	}
	return v
}

func claimOracle(t testing.TB, c *ClaimPayment) any {
	b, err := json.Marshal(claimView(c))
	if err != nil {
		t.Fatal(err)
	}
	var m any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func decodeJSON(t testing.TB, b []byte) any {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("not valid JSON: %s", b)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func sameJSON(t testing.TB, what string, got []byte, want any) {
	t.Helper()
	if g := decodeJSON(t, got); !reflect.DeepEqual(g, want) {
		wb, _ := json.Marshal(want)
		t.Fatalf("%s: appended JSON differs from encoding/json's\n got %s\nwant %s", what, got, wb)
	}
}

// TestAppendJSONMatchesTags holds the hand-written appender to the json
// tags of the model (encoding/json's reading of them) on every sample and
// on generated remittances drawing every optional part, with strings
// that need escaping.
func TestAppendJSONMatchesTags(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/835/*")
	n := 0
	for _, p := range files {
		if strings.HasSuffix(p, "SOURCES.txt") {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		rems, _, err := ReadAll(f, p)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for i, rem := range rems {
			sameJSON(t, p, rem.AppendJSON(nil), oracle(t, rem))
			if b, err := json.Marshal(rem); err != nil || !bytes.Equal(b, rem.AppendJSON(nil)) {
				t.Fatalf("%s %d: json.Marshal (%v) differs from AppendJSON", p, i, err)
			}
			n++
		}
	}
	if n < 15 {
		t.Fatalf("only %d remittances in the samples", n)
	}
	odd := []string{"A\"B\\C", "tab\there\nnl", "\x00\x1f\x7f", "bad\xffutf8", "line\u2028sep\u2029", "<&>", "café"}
	for seed := int64(1); seed <= 300; seed++ {
		g := newGen(seed)
		rem := g.remittance(1 + g.r.Intn(8))
		if seed%3 == 0 {
			rem.Payer.Name = odd[int(seed)%len(odd)]
			rem.Claims[0].PatientControlNumber = odd[int(seed+1)%len(odd)]
			rem.Claims[0].Patient.Last = odd[int(seed+2)%len(odd)]
		}
		if seed%7 == 0 {
			rem.Claims[0].DRGWeight = 1e-7
			rem.Claims[0].Quantities = append(rem.Claims[0].Quantities, SupplementalQuantity{"CA", 1e22})
		}
		sameJSON(t, "generated", rem.AppendJSON(nil), oracle(t, rem))
	}
}

// TestJSONWriterMatchesReadAll: claims streamed one at a time through a
// JSONWriter (with ReuseClaims, so each claim's memory is reused) make the
// same remittances, reversal links included, as ReadAll and AppendJSON.
func TestJSONWriterMatchesReadAll(t *testing.T) {
	var inputs [][]byte
	for seed := int64(1); seed <= 3; seed++ {
		var b bytes.Buffer
		if _, _, err := ptRemittanceFile(&b, seed, 400, seed == 2); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b.Bytes())
	}
	files, _ := filepath.Glob("../../testdata/835/*")
	for _, p := range files {
		if !strings.HasSuffix(p, "SOURCES.txt") {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, b)
		}
	}
	reversals := 0
	for k, in := range inputs {
		rems, _, err := ReadAll(bytes.NewReader(in), "x")
		if err != nil {
			t.Fatal(err)
		}
		want := []any{}
		for _, rem := range rems {
			if rem.Claims == nil {
				rem.Claims = []*ClaimPayment{} // a stream writes []
			}
			want = append(want, oracle(t, rem))
			for _, c := range rem.Claims {
				if c.Correction != nil {
					reversals++
				}
			}
		}
		var out bytes.Buffer
		out.WriteByte('[')
		jw := NewJSONWriter(&out)
		rd := NewReader(bytes.NewReader(in))
		rd.ReuseClaims = true
		rd.EndRemittance = func(rem *Remittance) {
			if err := jw.EndRemittance(rem); err != nil {
				t.Fatal(err)
			}
		}
		for {
			c, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := jw.WriteClaim(c); err != nil {
				t.Fatal(err)
			}
		}
		if err := jw.Close(); err != nil {
			t.Fatal(err)
		}
		out.WriteByte(']')
		sameJSON(t, "input "+string(rune('0'+k)), out.Bytes(), any(want))
	}
	if reversals < 5 {
		t.Fatalf("only %d reversals linked: the links are not tested", reversals)
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestJSONWriterReportsWriteError(t *testing.T) {
	var in bytes.Buffer
	if _, _, err := ptRemittanceFile(&in, 1, 2000, false); err != nil {
		t.Fatal(err)
	}
	jw := NewJSONWriter(errWriter{})
	rd := NewReader(&in)
	rd.ReuseClaims = true
	var werr error
	for {
		c, err := rd.Next()
		if err != nil {
			break
		}
		if werr = jw.WriteClaim(c); werr != nil {
			break
		}
	}
	if werr == nil {
		werr = jw.Close()
	}
	if werr != io.ErrClosedPipe {
		t.Fatalf("write error %v, want %v", werr, io.ErrClosedPipe)
	}
}

// FuzzAppendJSON holds AppendJSON to encoding/json's reading of the tags
// on whatever the readers make of arbitrary input (the samples are the
// seeds).
func FuzzAppendJSON(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/835/*")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && !strings.HasSuffix(p, "SOURCES.txt") {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rems, _, err := ReadAll(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		for _, rem := range rems {
			sameJSON(t, "fuzz", rem.AppendJSON(nil), oracle(t, rem))
		}
	})
}

// stdJSON is encoding/json's encoding of v with HTML escaping off: the
// bytes the appenders promise, not only the values.
func stdJSON(t testing.TB, v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// sameBytes holds rem's appended JSON, header and each claim, to
// encoding/json's bytes for the tags.
func sameBytes(t testing.TB, what string, rem *Remittance) {
	t.Helper()
	head := *rem
	head.Claims = nil
	if got, want := head.AppendJSON(nil), stdJSON(t, (*remittanceFields)(&head)); !bytes.Equal(got, want) {
		t.Fatalf("%s: remittance\n got %s\nwant %s", what, got, want)
	}
	for _, c := range rem.Claims {
		if got, want := c.AppendJSON(nil), stdJSON(t, claimView(c)); !bytes.Equal(got, want) {
			t.Fatalf("%s: claim %d\n got %s\nwant %s", what, c.Index, got, want)
		}
	}
}

// TestAppendJSONBytes: the appended JSON is encoding/json's, byte for byte
// (member order, number and date formats, escaping), on every sample, on
// damaged copies of them and on generated remittances with strings that
// need escaping and numbers of every shape.
func TestAppendJSONBytes(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/835/*")
	r := rand.New(rand.NewSource(5))
	n := 0
	for _, p := range files {
		if strings.HasSuffix(p, "SOURCES.txt") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 10; k++ {
			in := bytes.Clone(data)
			if k > 0 { // junk bytes where they do not belong
				for j := 0; j < 1+r.Intn(4); j++ {
					const junk = "*~:^A9 .-\x00\xff\"\\\xc3\x01"
					in[r.Intn(len(in))] = junk[r.Intn(len(junk))]
				}
			}
			rems, _, err := ReadAll(bytes.NewReader(in), p)
			if err != nil {
				t.Fatal(err)
			}
			for _, rem := range rems {
				sameBytes(t, fmt.Sprintf("%s copy %d", p, k), rem)
				n++
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d remittances", n)
	}
	odd := []string{"A\"B\\C", "tab\there\nnl", "\x00\x1f\x7f", "bad\xffutf8", "line\u2028sep\u2029", "<&>", "café", "12345678\"", "1234567\x01", "x", "\"", "\\", "\n"}
	for seed := int64(1); seed <= 300; seed++ {
		g := newGen(seed)
		rem := g.remittance(1 + g.r.Intn(8))
		c := rem.Claims[0]
		if seed%2 == 0 {
			rem.Payer.Name = odd[int(seed)%len(odd)]
			c.PatientControlNumber = odd[int(seed+1)%len(odd)]
			c.Patient.Last = odd[int(seed+2)%len(odd)]
		}
		if seed%5 == 0 {
			c.DRGWeight = []float64{1e-7, 0.5, -3, 1e15, 123456789012345, 2.25}[seed/5%6]
			c.Quantities = append(c.Quantities, SupplementalQuantity{"CA", []float64{1e22, -1, 7, 1e21}[seed/5%4]})
			c.Charge, c.Paid = -Amount(seed*12345), Amount(seed)
		}
		sameBytes(t, fmt.Sprintf("generated %d", seed), rem)
	}
}
