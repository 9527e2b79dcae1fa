package control

import (
	"context"
	"path/filepath"
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
	// A restart continues where the file left off.
	c := &File{Path: path}
	if n, _ := c.Next(context.Background(), x12.InterchangeControl, "CLAIMGATE", "PAYER"); n != 201 {
		t.Fatalf("after restart got %d, want 201", n)
	}
	if n, _ := c.Next(context.Background(), x12.GroupControl, "CLAIMGATE", "PAYER"); n != 1 {
		t.Fatalf("group numbers are separate, got %d", n)
	}
}
