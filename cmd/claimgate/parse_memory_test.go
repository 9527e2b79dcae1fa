//go:build !race

package main

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// peakHeap runs fn and returns the largest live heap seen while it ran,
// sampled every few milliseconds.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak.Load()
}

// TestParseMemoryBounded: parse --json and --csv of an 835 streamed from
// a generator through standard input keep the same live heap for an input
// four times larger: memory does not grow with the file.
func TestParseMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 17 MB")
	}
	old := stdin
	defer func() { stdin = old }()
	measure := func(mode string, claims int) (uint64, int64) {
		pr, pw := io.Pipe()
		go func() {
			_, err := gen835(pw, 3, 2, claims/2, false)
			pw.CloseWithError(err)
		}()
		cr := &byteCounter{r: pr}
		stdin = cr
		peak := peakHeap(func() {
			if code, _, errs := runCLIDiscard("parse", "-", mode); code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
		})
		return peak, cr.n
	}
	for _, mode := range []string{"--json", "--csv"} {
		small, nSmall := measure(mode, 12000)
		large, nLarge := measure(mode, 48000)
		t.Logf("%s: %d MB → peak heap %.1f MiB; %d MB → %.1f MiB", mode, nSmall>>20, float64(small)/(1<<20), nLarge>>20, float64(large)/(1<<20))
		if nLarge < 3*nSmall {
			t.Fatalf("inputs of %d and %d bytes", nSmall, nLarge)
		}
		if large > small+8<<20 || large > 48<<20 {
			t.Errorf("%s: peak heap %d bytes for %d input bytes, %d for %d: it grows with the input", mode, large, nLarge, small, nSmall)
		}
	}
}

type byteCounter struct {
	r io.Reader
	n int64
}

func (c *byteCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// runCLIDiscard runs the CLI with standard output discarded.
func runCLIDiscard(args ...string) (int, string, string) {
	var errb strings.Builder
	code := run(args, io.Discard, &errb)
	return code, "", errb.String()
}

// TestParse835JSONAllocs: parse --json writes each claim by appending to
// a buffer, without encoding/json and its per-value allocations: the
// whole command (reader, validate's checks, JSON) allocates less than two
// objects per additional claim.
func TestParse835JSONAllocs(t *testing.T) {
	dir := t.TempDir()
	mallocs := func(claims int) uint64 {
		p := filepath.Join(dir, "in.835")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gen835(f, 4, 1, claims, false); err != nil {
			t.Fatal(err)
		}
		f.Close()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if code, _, errs := runCLIDiscard("parse", p, "--json"); code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		runtime.ReadMemStats(&after)
		return after.Mallocs - before.Mallocs
	}
	mallocs(100) // code tables and caches load once
	small, large := mallocs(2000), mallocs(8000)
	perClaim := (float64(large) - float64(small)) / 6000
	t.Logf("%d allocations for 2,000 claims, %d for 8,000: %.2f per claim", small, large, perClaim)
	if perClaim >= 2 {
		t.Fatalf("%.2f allocations per claim", perClaim)
	}
}
