package scrub

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFileSeenPersistsAcrossRuns(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seen")
	s, err := OpenFileSeen(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remember(ctx, "aa11"); err != nil {
		t.Fatal(err)
	}
	s.Remember(ctx, "bb22")
	s.Forget(ctx, "bb22")
	if err := s.Remember(ctx, "aa11"); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second Remember: %v", err)
	}
	// A second run while the first holds the file is refused.
	if _, err := OpenFileSeen(path); err == nil {
		t.Fatal("opened a store another run holds")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenFileSeen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if ok, _ := s2.SeenBefore(ctx, "aa11"); !ok {
		t.Fatal("key lost across runs")
	}
	if ok, _ := s2.SeenBefore(ctx, "bb22"); ok {
		t.Fatal("forgotten key came back")
	}
	if s2.Len() != 1 {
		t.Fatalf("len %d", s2.Len())
	}
}

func TestFileSeenRejectsDamagedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seen")
	os.WriteFile(path, []byte("+aa\nJohn Smith 1980-01-01\n"), 0o600)
	if _, err := OpenFileSeen(path); err == nil {
		t.Fatal("damaged store accepted")
	}
}

func TestFileSeenCutsTornLastRecord(t *testing.T) {
	// A crash while appending leaves "+" and half a key without a line
	// end: the store still opens, without it, and appends cleanly after.
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seen")
	os.WriteFile(path, []byte("+aa11\n+"), 0o600)
	s, err := OpenFileSeen(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1 {
		t.Fatalf("len %d", s.Len())
	}
	s.Remember(ctx, "bb22")
	s.Close()
	b, _ := os.ReadFile(path)
	if string(b) != "+aa11\n+bb22\n" {
		t.Fatalf("store %q", b)
	}
}
