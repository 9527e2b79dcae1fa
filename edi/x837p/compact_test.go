package x837p

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

// writeItems writes items as one set of one interchange with opts.
func writeItems(t *testing.T, opts x12.WriterOptions, items []Item) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	w := x12.NewWriter(&buf, opts)
	h := ptHeader()
	ih := x12.InterchangeHeader{Sender: "S", Receiver: "R", Time: testTime}
	_, _, err := WriteFile(context.Background(), w, ih, x12.GroupHeader{Sender: "S", Receiver: "R"}, []Transaction{{Header: h, Items: items}})
	return buf.Bytes(), err
}

// TestCompactWritesTheSame: claims kept by TryKeep and then compacted
// (lines, diagnoses and providers dropped) are written byte for byte as
// the full claims are; a compacted claim cannot be written with other
// delimiters or encoded again, and one without a kept encoding is not
// compacted.
func TestCompactWritesTheSame(t *testing.T) {
	for _, opts := range []x12.WriterOptions{{}, {Newline: true}} {
		full := benchItems(6)
		kept := benchItems(6)
		sc := NewScratchFor(opts)
		for i := range kept {
			if tr := sc.TryKeep(&kept[i]); sc.Apply(tr) != nil {
				t.Fatalf("claim %d refused", i)
			}
			if !kept[i].Claim.Compact() {
				t.Fatalf("claim %d: not compacted after TryKeep", i)
			}
			if c := kept[i].Claim; c.Lines != nil || c.Diagnoses != nil || c.Rendering != nil || c.ID == "" || c.Charge == 0 {
				t.Fatalf("claim %d after Compact: %+v", i, c)
			}
		}
		want, err := writeItems(t, opts, full)
		if err != nil {
			t.Fatal(err)
		}
		got, err := writeItems(t, opts, kept)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("newline %v: compacted claims written differently:\n%s\nwant\n%s", opts.Newline, got, want)
		}
		other := x12.WriterOptions{Delimiters: x12.Delimiters{Element: '|', Component: '>', Repetition: '!', Segment: '\n'}, Newline: opts.Newline}
		var ce *ClaimError
		if _, err := writeItems(t, other, kept[:1]); !errors.As(err, &ce) || !errors.Is(err, errCompacted) {
			t.Errorf("compacted claim with other delimiters: %v", err)
		}
		if err := NewScratchFor(opts).Apply(NewScratchFor(opts).TryKeep(&kept[0])); !errors.Is(err, errCompacted) {
			t.Errorf("TryKeep of a compacted claim: %v", err)
		}
	}
	c := ptClaim("NOTKEPT")
	if c.Compact() || c.Lines == nil {
		t.Error("a claim without a kept encoding was compacted")
	}
}
