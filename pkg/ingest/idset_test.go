package ingest

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestIDSetIsAMap: the compact id set answers as a map from id to first
// position does, across several merges, for ids added again before and
// after their merge.
func TestIDSetIsAMap(t *testing.T) {
	s := newIDSet()
	want := map[string]int{}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 40*idRecentMin + 123
	for pos := range n {
		id := "C" + strconv.Itoa(rng.IntN(3*n)) // about a sixth repeat an id
		first, dup := s.add(id, pos)
		w, wdup := want[id]
		if dup != wdup || (dup && first != w) {
			t.Fatalf("add(%q, %d) = %d, %v; want %d, %v", id, pos, first, dup, w, wdup)
		}
		if !wdup {
			want[id] = pos
		}
	}
	if len(s.sorted)+len(s.recent) != len(want) {
		t.Fatalf("set holds %d ids, want %d", len(s.sorted)+len(s.recent), len(want))
	}
	for i := 1; i < len(s.sorted); i++ {
		if !s.sorted[i-1].less(s.sorted[i]) {
			t.Fatalf("sorted[%d] >= sorted[%d]", i-1, i)
		}
	}
	for id, w := range want {
		if first, dup := s.add(id, -1); !dup || first != w {
			t.Fatalf("%q: %d, %v; want %d", id, first, dup, w)
		}
	}
	// A position beyond 32 bits is kept as unknown, not wrapped.
	if _, dup := s.add("big", 1<<40); dup {
		t.Fatal("new id reported as a repeat")
	}
	if first, dup := s.add("big", 1); !dup || first != unknownPos {
		t.Fatalf("big: %d, %v", first, dup)
	}
}

// BenchmarkIDSetAdd300k adds 300,000 distinct ids and reports the set's
// bytes per id.
func BenchmarkIDSetAdd300k(b *testing.B) {
	ids := make([]string, 300000)
	for i := range ids {
		ids[i] = "G" + strconv.Itoa(10000000+i)
	}
	b.ResetTimer()
	var s *idSet
	for range b.N {
		s = newIDSet()
		for i, id := range ids {
			s.add(id, i)
		}
	}
	b.ReportMetric(float64(cap(s.sorted)*16+cap(s.pos)*4)/float64(len(ids)), "sorted-B/id")
}
