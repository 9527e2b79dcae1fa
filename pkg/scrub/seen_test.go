package scrub

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/claim"
)

func TestDuplicateClaim(t *testing.T) {
	ctx := t.Context()
	cfg := testConfig()
	seen := NewMemorySeen()
	cfg.Seen = seen
	s := newScrubber(t, cfg)

	first := cleanClaim(t)
	wantIDs(t, s.Scrub(first))
	if err := s.Remember(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := s.Remember(ctx, first); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second Remember: %v, want ErrDuplicate", err)
	}

	runCases(t, s, []scrubCase{
		{name: "same claim again", want: []string{IDDuplicateClaim}, check: expectEdit(IDDuplicateClaim, 0, Reject)},
		{name: "new patient control number, other charges and units", mutate: func(c *claim.Claim) {
			c.ID = "PCN-2002"
			line(c, 2).Charge = 9100
			line(c, 2).Units, line(c, 2).Minutes = 1, 15
			line(c, 3).Minutes = 8
		}, want: []string{IDDuplicateClaim}},
		{name: "lines in another order, name in other case", mutate: func(c *claim.Claim) {
			c.Lines[0], c.Lines[2] = c.Lines[2], c.Lines[0]
			c.Subscriber.Name.Last = " " + strings.ToUpper(phiLast) + " "
		}, want: []string{IDDuplicateClaim}},
		{name: "replacement is no duplicate", mutate: func(c *claim.Claim) {
			c.Frequency, c.OriginalRef = claim.FrequencyReplacement, "2225001234567"
		}},
		{name: "void is no duplicate", mutate: func(c *claim.Claim) {
			c.Frequency, c.OriginalRef = claim.FrequencyVoid, "2225001234567"
		}},
		{name: "other date", mutate: func(c *claim.Claim) {
			for i := range c.Lines {
				c.Lines[i].ServiceDate = claim.Date{Year: 2025, Month: time.March, Day: 12}
			}
		}},
		{name: "other procedure", mutate: func(c *claim.Claim) { line(c, 3).Procedure = "97112"; line(c, 3).Modifiers = []string{"GP"} }},
		{name: "extra line", mutate: func(c *claim.Claim) { addLine(c, claim.Line{Procedure: "97012", Modifiers: []string{"GP"}, Units: 1}) }},
		{name: "other payer", mutate: func(c *claim.Claim) { c.Payer.ID = "MCR02" }},
		{name: "other member id", mutate: func(c *claim.Claim) { c.Subscriber.MemberID = "9ZZ9ZZ9ZZ99" }},
		{name: "other birth date", mutate: func(c *claim.Claim) { c.Subscriber.Birth = claim.Date{Year: 1950, Month: time.April, Day: 18} }},
		{name: "other patient (dependant)", mutate: func(c *claim.Claim) {
			c.Patient = &claim.Patient{Relationship: "01", Name: claim.Name{Last: phiLast, First: "Other"}, Birth: phiBirth}
		}},
	})

	// A claim rejected by the payer before adjudication is forgotten and
	// may be sent again as a new original.
	if err := s.Forget(ctx, first); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, s.Scrub(first))
	if seen.Len() != 0 {
		t.Errorf("store has %d keys", seen.Len())
	}

	// Corrections are never remembered.
	corr := cleanClaim(t)
	corr.Frequency, corr.OriginalRef = claim.FrequencyReplacement, "2225001234567"
	if err := s.Remember(ctx, corr); err != nil || seen.Len() != 0 {
		t.Errorf("Remember(correction): %v, %d keys", err, seen.Len())
	}
}

func TestDuplicateKey(t *testing.T) {
	s := newScrubber(t, testConfig())
	c := cleanClaim(t)
	key, ok := s.DuplicateKey(c)
	if !ok || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(key) {
		t.Fatalf("key %q ok %v", key, ok)
	}
	again, _ := s.DuplicateKey(cleanClaim(t))
	if again != key {
		t.Error("key is not deterministic")
	}
	cfg := testConfig()
	cfg.DuplicateKeySecret = []byte("operator secret")
	salted, _ := newScrubber(t, cfg).DuplicateKey(c)
	if salted == key || len(salted) != 64 {
		t.Errorf("secret does not change the key: %q", salted)
	}
	c.Frequency = claim.FrequencyVoid
	if _, ok := s.DuplicateKey(c); ok {
		t.Error("void claim has a duplicate key")
	}
}

type failingSeen struct{ err error }

func (f failingSeen) SeenBefore(context.Context, string) (bool, error) { return false, f.err }
func (f failingSeen) Remember(context.Context, string) error           { return f.err }
func (f failingSeen) Forget(context.Context, string) error             { return f.err }

func TestDuplicateStoreFailure(t *testing.T) {
	boom := errors.New("kv unavailable")
	cfg := testConfig()
	cfg.Seen = failingSeen{boom}
	s := newScrubber(t, cfg)
	c := cleanClaim(t)
	line(c, 2).Units = 3

	edits, err := s.ScrubContext(t.Context(), c)
	if !errors.Is(err, boom) {
		t.Errorf("ScrubContext error %v", err)
	}
	wantIDs(t, edits, IDUnitsOver)

	wantIDs(t, s.Scrub(c), IDUnitsOver, IDDuplicateUnknown)
	if err := s.Remember(t.Context(), c); !errors.Is(err, boom) {
		t.Errorf("Remember error %v", err)
	}

	// No store: no duplicate check, Remember and Forget do nothing.
	s2 := newScrubber(t, testConfig())
	if err := s2.Remember(t.Context(), c); err != nil {
		t.Error(err)
	}
	if err := s2.Forget(t.Context(), c); err != nil {
		t.Error(err)
	}
}

func TestMemorySeenZeroValue(t *testing.T) {
	var m MemorySeen
	ctx := context.Background()
	if ok, _ := m.SeenBefore(ctx, "k"); ok {
		t.Fatal("empty store saw k")
	}
	if err := m.Forget(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := m.Remember(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := m.SeenBefore(ctx, "k"); !ok {
		t.Fatal("k not remembered")
	}
}
