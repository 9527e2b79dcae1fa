package scrub

import (
	"math/rand/v2"
	"testing"
)

// TestDigestSetIsASet: over 300,000 random additions, removals and
// lookups (several merges of the recent map into the sorted keys), the
// set answers as a map does.
func TestDigestSetIsASet(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var d digestSet
	model := map[digestPrefix]bool{}
	var keys []digestPrefix
	draw := func() digestPrefix {
		if len(keys) > 0 && r.IntN(3) == 0 {
			return keys[r.IntN(len(keys))]
		}
		var p digestPrefix
		for i := range p {
			p[i] = byte(r.UintN(256))
		}
		return p
	}
	merges := 0
	for i := range 300000 {
		p := draw()
		switch r.IntN(10) {
		case 0:
			d.remove(p)
			delete(model, p)
		case 1, 2, 3:
			if got := d.has(p); got != model[p] {
				t.Fatalf("op %d: has %v, want %v", i, got, model[p])
			}
		default:
			if model[p] {
				continue // add takes a key not in the set
			}
			before := len(d.sorted)
			d.add(p)
			model[p] = true
			keys = append(keys, p)
			if len(d.sorted) != before {
				merges++
			}
		}
		if i%50000 == 0 && d.len() != len(model) {
			t.Fatalf("op %d: %d keys, want %d", i, d.len(), len(model))
		}
	}
	if merges < 3 {
		t.Fatalf("%d merges: the sorted keys were hardly tested", merges)
	}
	for p, in := range model {
		if d.has(p) != in {
			t.Fatalf("key %x: has %v, want %v", p, !in, in)
		}
	}
	if d.len() != len(model) {
		t.Fatalf("%d keys, want %d", d.len(), len(model))
	}
}
