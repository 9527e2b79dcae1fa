package ingest

import (
	"hash/maphash"
	"math"
	"slices"
)

// idSet is the set of claim ids of one batch, each with the row (CSV) or
// index (JSON) of its first use. It is the one thing a decoder keeps that
// grows with the batch, so it keeps 20 bytes an id: a 128-bit hash (two
// 64-bit hashes with random seeds, so two ids of a batch collide with
// odds of about n²/2¹²⁹, far below any hardware fault) and the position,
// in slices sorted by hash, plus a small map of the latest additions that
// is merged into them in place. A map of strings cost ~56 bytes an id:
// 16 MiB of a 300,000-claim batch's 36 MiB live heap.
type idSet struct {
	s0, s1 maphash.Seed
	sorted []idHash // ascending
	pos    []uint32 // pos[i] is sorted[i]'s position
	recent map[idHash]uint32
}

type idHash struct{ a, b uint64 }

func (h idHash) less(o idHash) bool { return h.a < o.a || (h.a == o.a && h.b < o.b) }

func (h idHash) cmp(o idHash) int {
	switch {
	case h.less(o):
		return -1
	case o.less(h):
		return 1
	}
	return 0
}

// idRecentMin and a 32nd of the sorted ids are how many additions wait
// in the map before a merge: few enough to keep the map small (a map
// entry costs about twice a sorted one), many enough that merges copy
// each id a bounded number of times as the set doubles.
const idRecentMin = 4096

// unknownPos stands for a position past what 32 bits hold.
const unknownPos = math.MaxUint32

func newIDSet() *idSet {
	return &idSet{s0: maphash.MakeSeed(), s1: maphash.MakeSeed(), recent: make(map[idHash]uint32)}
}

func (s *idSet) hash(id string) idHash {
	return idHash{maphash.String(s.s0, id), maphash.String(s.s1, id)}
}

// add records id at pos unless the set has it; it returns the position
// of its first use and true when it does (unknownPos when that did not
// fit in 32 bits).
func (s *idSet) add(id string, pos int) (first int, dup bool) {
	h := s.hash(id)
	if p, ok := s.recent[h]; ok {
		return int(p), true
	}
	if i, ok := s.find(h); ok {
		return int(s.pos[i]), true
	}
	p := uint32(unknownPos)
	if pos >= 0 && pos < unknownPos {
		p = uint32(pos)
	}
	s.recent[h] = p
	if len(s.recent) >= max(idRecentMin, len(s.sorted)/32) {
		s.merge()
	}
	return 0, false
}

// find is a binary search on the first half of the hash (the second
// matters only among equal first halves): the generic search with a
// comparison function took a third of the time of add.
func (s *idSet) find(h idHash) (int, bool) {
	lo, hi := 0, len(s.sorted)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.sorted[m].a < h.a {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for i := lo; i < len(s.sorted) && s.sorted[i].a == h.a; i++ {
		if s.sorted[i].b == h.b {
			return i, true
		}
	}
	return 0, false
}

// merge moves the recent additions into the sorted slices, merging from
// the back so that no second copy of the slices is made.
func (s *idSet) merge() {
	type entry struct {
		h   idHash
		pos uint32
	}
	add := make([]entry, 0, len(s.recent))
	for h, p := range s.recent {
		add = append(add, entry{h, p})
	}
	slices.SortFunc(add, func(x, y entry) int { return x.h.cmp(y.h) })
	n, m := len(s.sorted), len(add)
	s.sorted = slices.Grow(s.sorted, m)[:n+m]
	s.pos = slices.Grow(s.pos, m)[:n+m]
	i, j := n-1, m-1
	for k := n + m - 1; j >= 0; k-- {
		if i >= 0 && add[j].h.less(s.sorted[i]) {
			s.sorted[k], s.pos[k] = s.sorted[i], s.pos[i]
			i--
		} else {
			s.sorted[k], s.pos[k] = add[j].h, add[j].pos
			j--
		}
	}
	clear(s.recent)
}
