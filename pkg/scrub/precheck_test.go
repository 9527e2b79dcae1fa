package scrub

import (
	"errors"
	"reflect"
	"testing"

	"github.com/claimgate/claimgate/pkg/claim"
)

// TestPrecheckFinishIsScrub: a Precheck made before the claim's duplicate
// is remembered, finished after, gives what Scrub gives then (the
// duplicate rejection sorted among the other edits), and the key is
// DuplicateKey's; a failing store gives Scrub's warning.
func TestPrecheckFinishIsScrub(t *testing.T) {
	cfg := testConfig()
	seen := NewMemorySeen()
	cfg.Seen = seen
	s := newScrubber(t, cfg)
	c := cleanClaim(t)
	line(c, 2).Units = 3 // a line edit, to sort the duplicate among
	pc := s.Precheck(c)
	if key, ok := s.DuplicateKey(c); !ok || !pc.HasKey || pc.Key != key {
		t.Fatalf("Precheck key %q %v, DuplicateKey %q %v", pc.Key, pc.HasKey, key, ok)
	}
	rejects := false
	for _, e := range s.Scrub(c) { // not remembered yet: no duplicate
		rejects = rejects || e.Severity == Reject
	}
	if pc.Rejected() != rejects {
		t.Errorf("Rejected = %v, want %v", pc.Rejected(), rejects)
	}
	if err := s.Remember(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	want := s.Scrub(c)
	wantIDs(t, want, IDDuplicateClaim, IDUnitsOver)
	if got := s.FinishScrub(c, pc); !reflect.DeepEqual(got, want) {
		t.Errorf("FinishScrub = %v, want %v", got, want)
	}

	repl := cleanClaim(t)
	repl.Frequency = claim.FrequencyReplacement
	if pc := s.Precheck(repl); pc.HasKey {
		t.Error("a replacement has a duplicate key")
	}

	boom := errors.New("kv unavailable")
	cfg.Seen = failingSeen{boom}
	s2 := newScrubber(t, cfg)
	if got, want := s2.FinishScrub(c, s2.Precheck(c)), s2.Scrub(c); !reflect.DeepEqual(got, want) {
		t.Errorf("failing store: FinishScrub = %v, want %v", got, want)
	}
}
