package reconcile

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/claimgate/claimgate/pkg/assemble"
)

// MemoryIndex is an Index in memory, for tests and one-shot tools.
type MemoryIndex struct {
	mu     sync.Mutex
	ic     map[icKey][]Ref
	sets   map[setKey][]Ref
	groups map[setKey][]string // ST02s of a group, in order
	claims map[string][]Ref
}

type icKey struct {
	partner string
	isa13   int64
}

type setKey struct {
	partner string
	gs06    int64
	st02    string
}

// NewMemoryIndex returns an empty MemoryIndex.
func NewMemoryIndex() *MemoryIndex {
	return &MemoryIndex{ic: map[icKey][]Ref{}, sets: map[setKey][]Ref{}, groups: map[setKey][]string{}, claims: map[string][]Ref{}}
}

// Record implements Index.
func (m *MemoryIndex) Record(_ context.Context, fi *assemble.FileInfo) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ik := icKey{fi.Receiver, fi.Interchange}
	if _, done := m.ic[ik]; done {
		return nil
	}
	refs := RefsOf(fi)
	m.ic[ik] = refs
	gk := setKey{fi.Receiver, fi.Group, ""}
	for _, r := range refs {
		sk := setKey{fi.Receiver, fi.Group, r.Set}
		if len(m.sets[sk]) == 0 {
			m.groups[gk] = append(m.groups[gk], r.Set)
		}
		m.sets[sk] = append(m.sets[sk], r)
		m.claims[r.ClaimID] = append(m.claims[r.ClaimID], r)
	}
	return nil
}

// ByInterchange implements Index.
func (m *MemoryIndex) ByInterchange(_ context.Context, partner string, isa13 int64) ([]Ref, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.ic[icKey{partner, isa13}]), nil
}

// BySet implements Index.
func (m *MemoryIndex) BySet(_ context.Context, partner string, gs06 int64, st02 string) ([]Ref, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st02 != "" {
		return slices.Clone(m.sets[setKey{partner, gs06, st02}]), nil
	}
	var out []Ref
	for _, s := range m.groups[setKey{partner, gs06, ""}] {
		out = append(out, m.sets[setKey{partner, gs06, s}]...)
	}
	return out, nil
}

// ByClaim implements Index.
func (m *MemoryIndex) ByClaim(_ context.Context, claimID string) ([]Ref, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.claims[claimID]), nil
}

// MemoryStore is a Store in memory, for tests. Published lists every
// moved event in order, as a bus subscriber would see them.
type MemoryStore struct {
	mu        sync.Mutex
	recs      map[string]*Record
	Published []Event
	Now       func() time.Time
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{recs: map[string]*Record{}} }

// Apply implements Store.
func (m *MemoryStore) Apply(_ context.Context, claimID string, ev Event) (Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := m.recs[claimID]
	if rec == nil {
		rec = &Record{ID: claimID}
	}
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	work := cloneRecord(rec)
	ch, stored := work.Apply(ev, now)
	res := Result{Change: ch, From: stored.Previous}
	if ch == Moved || ch == Recorded {
		m.recs[claimID] = work
		res.To = work.State
	}
	if ch == Duplicate {
		res.From = rec.State
	}
	if ch == Moved {
		m.Published = append(m.Published, stored)
	}
	return res, nil
}

// Get implements Store.
func (m *MemoryStore) Get(_ context.Context, claimID string) (*Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.recs[claimID]; r != nil {
		return cloneRecord(r), nil
	}
	return nil, nil
}

func cloneRecord(r *Record) *Record {
	c := *r
	c.Timeline = slices.Clone(r.Timeline)
	c.Pending = slices.Clone(r.Pending)
	return &c
}
