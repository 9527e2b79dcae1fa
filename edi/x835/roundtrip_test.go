package x835

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

// TestRoundTrip is the writer/reader property test: random remittances
// (fixed seeds) are written, read back with full validation, and must come
// back deep-equal with no finding at all — so the writer's output is
// TR3-valid and balanced, and the reader loses nothing.
func TestRoundTrip(t *testing.T) {
	delims := []x12.Delimiters{
		x12.DefaultDelimiters,
		{Element: '|', Repetition: '^', Component: '>', Segment: '\n'},
		{Element: '~', Repetition: 0, Component: '^', Segment: '_'},
	}
	n := 400
	if testing.Short() {
		n = 60
	}
	for seed := int64(1); seed <= int64(n); seed++ {
		g := newGen(seed)
		var rems []*Remittance
		for k := 1 + g.r.Intn(3); k > 0; k-- {
			rems = append(rems, g.remittance(g.r.Intn(12)))
		}
		d := delims[seed%int64(len(delims))]
		data := writeFile(t, d, seed%2 == 0, rems...)
		got, fs, err := ReadAll(bytes.NewReader(data), fmt.Sprintf("seed%d", seed))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for _, f := range fs {
			t.Errorf("seed %d: %s\n%s", seed, f.Error(), data)
		}
		if !reflect.DeepEqual(got, rems) {
			t.Fatalf("seed %d: read back differs from what was written\n%s\n%s", seed, diff(rems, got), data)
		}

		// The streaming reader (default checks) sees the same claims.
		rd := NewReader(bytes.NewReader(data))
		i, k := 0, 0
		for {
			c, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			for k < len(rems) && i == len(rems[k].Claims) {
				k, i = k+1, 0
			}
			if k == len(rems) {
				t.Fatalf("seed %d: streaming reader returned an extra claim %s", seed, c.PatientControlNumber)
			}
			want := rems[k].Claims[i]
			if c.PatientControlNumber != want.PatientControlNumber || c.Paid != want.Paid || len(c.Lines) != len(want.Lines) ||
				(c.Reversal == nil) != (want.Reversal == nil) || c.Remittance.Payment != want.Remittance.Payment {
				t.Fatalf("seed %d: streamed claim %d.%d differs", seed, k, i)
			}
			i++
		}
		if len(rd.Findings()) != 0 {
			t.Fatalf("seed %d: streaming findings %v", seed, rd.Findings())
		}

		// JSON round trip keeps every field, links included.
		for _, rem := range rems {
			b, err := json.Marshal(rem)
			if err != nil {
				t.Fatal(err)
			}
			var back Remittance
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("seed %d: %v\n%s", seed, err, b)
			}
			if !reflect.DeepEqual(&back, rem) {
				t.Fatalf("seed %d: JSON round trip differs\n%s\n%s", seed, diff([]*Remittance{rem}, []*Remittance{&back}), b)
			}
		}
	}
}

// diff names the first differing claim field, to make failures readable.
func diff(want, got []*Remittance) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d sets, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := *want[i], *got[i]
		wc, gc := w.Claims, g.Claims
		w.Claims, g.Claims = nil, nil
		if !reflect.DeepEqual(w, g) {
			wj, _ := json.Marshal(w)
			gj, _ := json.Marshal(g)
			return fmt.Sprintf("set %d header:\nwant %s\ngot  %s", i, wj, gj)
		}
		if len(wc) != len(gc) {
			return fmt.Sprintf("set %d: %d claims, want %d", i, len(gc), len(wc))
		}
		for j := range wc {
			if !reflect.DeepEqual(wc[j], gc[j]) {
				wj, _ := json.Marshal(wc[j])
				gj, _ := json.Marshal(gc[j])
				return fmt.Sprintf("set %d claim %d:\nwant %s\ngot  %s", i, j, wj, gj)
			}
		}
	}
	return "no difference found"
}
