package x12

import (
	"math/rand"
	"strings"
	"testing"
)

// FastSpec.Clean agrees with SegSpec.Check on random segments built from
// values near every rule's edges: clean only when Check reports nothing.
func TestFastSpecAgreesWithCheck(t *testing.T) {
	comp := Elem{Usage: Required, Comp: []Elem{Req(ID, 2, 2, "HC", "WK"), Req(AN, 1, 48), Sit(AN, 2, 2), NU}}
	rep := Sit(AN, 1, 30)
	rep.Repeat = 3
	spec := &SegSpec{ID: "ZZZ", Elems: []Elem{
		Req(ID, 1, 2, "A", "BB", "C9"), Req(R, 1, 18), Sit(N0, 1, 9), Sit(DT, 8, 8), Sit(TM, 4, 8),
		Sit(AN, 2, 10), comp, NU, rep, Sit(ID, 3, 3), Sit(N2, 1, 5), Sit(ID, 1, 2, "X.1"),
	}}
	fast := spec.Fast()
	values := []string{"", "A", "BB", "C9", "D", "1", "12.5", "-3", "1.234", "12-", "1e5", "20240229", "20230229", "240101",
		"1230", "2460", "123456", "AB ", " ", "HELLO", "HC:99213", "HC:99213:25", "WK:1::X", "HC", ":", "HC:", "A^B", "X.1", "X-1",
		"USD", "US", "123", strings.Repeat("9", 20), "A:B", "1:2"}
	// a good value per element, mostly drawn, so that clean segments occur
	good := []string{"BB", "12.5", "7", "20240229", "1230", "HELLO", "HC:99213", "", "A^B", "USD", "123", "X.1"}
	rng := rand.New(rand.NewSource(1))
	clean := 0
	for i := 0; i < 30000; i++ {
		d := DefaultDelimiters
		switch rng.Intn(4) {
		case 0:
			d.Repetition = 0
		case 1:
			d.Component = '-' // a character numbers may hold
		}
		n := rng.Intn(len(spec.Elems) + 2)
		parts := []string{"ZZZ"}
		for j := 0; j < n; j++ {
			v := values[rng.Intn(len(values))]
			if j < len(good) && rng.Intn(10) < 8 {
				v = good[j]
			}
			v = strings.NewReplacer(":", string(d.Component), "^", string(d.Repetition)).Replace(v)
			parts = append(parts, v)
		}
		seg := NewSegment(strings.Join(parts, string(d.Element)), d)
		var fs Findings
		spec.Check(&seg, "", func(f Finding) { fs = append(fs, f) })
		ok := fast.Clean(&seg)
		if ok && len(fs) > 0 {
			t.Fatalf("%q: Clean says clean, Check says %v", seg.Raw(), fs[0].Error())
		}
		// A repeatable element (the ninth) with a repetition separator
		// defined is left to Check: dirty without findings is allowed.
		unsure := d.Repetition != 0 && len(parts) > 9 && parts[9] != ""
		if !ok && len(fs) == 0 && !unsure {
			t.Fatalf("%q: Clean says dirty, Check finds nothing", seg.Raw())
		}
		if ok {
			clean++
		}
	}
	if clean < 100 {
		t.Fatalf("only %d clean segments: the test does not reach the clean path", clean)
	}
}
