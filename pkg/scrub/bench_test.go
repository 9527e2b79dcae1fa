package scrub

import (
	"testing"

	"github.com/claimgate/claimgate/pkg/claim"
)

// benchClaim is the clean claim plus 15 minutes of 97112: 4 lines, 60 timed
// minutes = 4 units.
func benchClaim(b *testing.B) *claim.Claim {
	c := cleanClaim(b)
	c.Lines = append(c.Lines, claim.Line{Procedure: "97112", Modifiers: []string{"GP"}, Charge: 4500, Units: 1, Minutes: 15,
		DiagnosisPointers: []int{2}, ServiceDate: dos})
	return c
}

func BenchmarkScrub(b *testing.B) {
	s := newScrubber(b, testConfig())
	c := benchClaim(b)
	if edits := s.Scrub(c); len(edits) != 0 {
		b.Fatalf("bench claim not clean: %v", edits)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Scrub(c)
	}
}

// BenchmarkScrubWithSeen adds the duplicate check (key hashing and the
// in-memory store).
func BenchmarkScrubWithSeen(b *testing.B) {
	cfg := testConfig()
	cfg.Seen = NewMemorySeen()
	s := newScrubber(b, cfg)
	c := benchClaim(b)
	b.ReportAllocs()
	for b.Loop() {
		s.Scrub(c)
	}
}

// BenchmarkScrubWithEdits scrubs a 4-line claim that raises edits, so the
// message formatting cost shows.
func BenchmarkScrubWithEdits(b *testing.B) {
	s := newScrubber(b, testConfig())
	c := benchClaim(b)
	c.Lines[1].Units = 3
	c.Lines[2].Modifiers = nil
	c.TherapyYTD = 300000
	b.ReportAllocs()
	for b.Loop() {
		s.Scrub(c)
	}
}
