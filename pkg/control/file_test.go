package control

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

func TestFileUniqueAcrossInstancesAndGoroutines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "numbers.json")
	// Two File values on one path stand for two processes.
	a, b := &File{Path: path}, &File{Path: path}
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(f *File) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				n, err := f.Next(context.Background(), x12.InterchangeControl, "CLAIMGATE", "PAYER")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[n] {
					t.Errorf("number %d handed out twice", n)
				}
				seen[n] = true
				mu.Unlock()
			}
		}(map[bool]*File{true: a, false: b}[g%2 == 0])
	}
	wg.Wait()
	if len(seen) != 200 {
		t.Fatalf("%d numbers, want 200", len(seen))
	}
	// A restart continues after every number reserved: none handed out
	// again, at most one block per File skipped.
	c := &File{Path: path}
	n, _ := c.Next(context.Background(), x12.InterchangeControl, "CLAIMGATE", "PAYER")
	if n <= 200 || n > 201+2*DefaultMaxBlock {
		t.Fatalf("after restart got %d, want 201 to %d", n, 201+2*DefaultMaxBlock)
	}
	for m := range seen {
		if m >= n {
			t.Fatalf("after restart got %d, but %d was handed out before", n, m)
		}
	}
	if n, _ := c.Next(context.Background(), x12.GroupControl, "CLAIMGATE", "PAYER"); n != 1 {
		t.Fatalf("group numbers are separate, got %d", n)
	}
}

// TestFileReservesGrowingBlocks: the saved number runs ahead of the ones
// handed out by blocks of 1, 2, 4, ... up to MaxBlock, so a run of 100
// interchanges saves the file 8 times (MaxBlock 32) instead of 100; with
// MaxBlock 1 every number is saved before it is returned.
func TestFileReservesGrowingBlocks(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		max         int64
		saves       int
		savedAt100  int64
		firstSaved4 int64 // the file after 4 numbers
	}{
		{max: 32, saves: 8, savedAt100: 127, firstSaved4: 7},
		{max: 1, saves: 100, savedAt100: 100, firstSaved4: 4},
	} {
		path := filepath.Join(t.TempDir(), "numbers.json")
		f := &File{Path: path, MaxBlock: tc.max}
		saves := 0
		AfterSave = func() { saves++ }
		for i := int64(1); i <= 100; i++ {
			n, err := f.Next(ctx, x12.InterchangeControl, "S", "R")
			if err != nil || n != i {
				t.Fatalf("max %d: number %d: got %d, %v", tc.max, i, n, err)
			}
			if i == 4 {
				if got := saved(t, path); got != tc.firstSaved4 {
					t.Fatalf("max %d: after 4 numbers the file says %d, want %d", tc.max, got, tc.firstSaved4)
				}
			}
		}
		AfterSave = nil
		if saves != tc.saves || saved(t, path) != tc.savedAt100 {
			t.Fatalf("max %d: %d saves, file says %d; want %d saves, %d", tc.max, saves, saved(t, path), tc.saves, tc.savedAt100)
		}
	}
}

// TestFileWraps: after 999999999 the numbers start again at 1, and a block
// never runs past 999999999.
func TestFileWraps(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "numbers.json")
	if err := os.WriteFile(path, []byte(`{"isa S R": 999999996}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f := &File{Path: path, MaxBlock: 8}
	var got []int64
	for range 6 {
		n, err := f.Next(ctx, x12.InterchangeControl, "S", "R")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	if want := []int64{999999997, 999999998, 999999999, 1, 2, 3}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// saved is the number the file holds for isa S R.
func saved(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]int64
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m["isa S R"]
}
