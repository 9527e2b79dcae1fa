package x835

import (
	"io"
	"runtime"
	"testing"
)

// TestBoundedMemory streams a generated 835 of 200,000 claims (about 100
// MB) through an io.Pipe, so the file never exists whole, and checks the
// heap stays under 64 MiB while every claim is read and balanced.
func TestBoundedMemory(t *testing.T) {
	n := 200000
	if testing.Short() || raceEnabled {
		n = 30000
	}
	pr, pw := io.Pipe()
	type result struct {
		paid Amount
		err  error
	}
	done := make(chan result, 1)
	go func() {
		_, paid, err := streamFile(pw, 99, n)
		pw.CloseWithError(err)
		done <- result{paid, err}
	}()

	rd := NewReader(pr)
	var ms runtime.MemStats
	var maxHeap uint64
	claims, lines := 0, 0
	var paid Amount
	for {
		c, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		claims++
		lines += len(c.Lines)
		paid += c.Paid
		if claims%5000 == 0 {
			runtime.ReadMemStats(&ms)
			maxHeap = max(maxHeap, ms.HeapAlloc)
		}
	}
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if claims != n || paid != res.paid {
		t.Fatalf("read %d claims paying %s, wrote %d paying %s", claims, paid, n, res.paid)
	}
	if len(rd.Findings()) != 0 {
		t.Fatalf("findings: %v", rd.Findings()[:min(5, len(rd.Findings()))])
	}
	t.Logf("%d claims, %d lines, max heap %.1f MiB", claims, lines, float64(maxHeap)/(1<<20))
	if maxHeap > 64<<20 {
		t.Fatalf("heap reached %.1f MiB, want < 64 MiB", float64(maxHeap)/(1<<20))
	}
}
