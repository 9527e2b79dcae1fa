package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkValidateCommand runs the whole claimgate validate command (run,
// its buffered output, x12.Check with every transaction checker) on a
// clean generated 835 and a clean generated 837P of about 50 MB each,
// side by side: the 835 should validate as fast as the 837P.
//
//	go test -run '^$' -bench ValidateCommand -benchtime 5x ./cmd/claimgate
func BenchmarkValidateCommand(b *testing.B) {
	for _, c := range []struct {
		name string
		gen  func(io.Writer) error
	}{
		{"835", func(w io.Writer) error { return write835(w, 50<<20/700) }},
		{"837P", func(w io.Writer) error { return write837PDated(w, 50<<20/420, "20241003") }},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := filepath.Join(b.TempDir(), "in.x12")
			f, err := os.Create(p)
			if err != nil {
				b.Fatal(err)
			}
			if err := c.gen(f); err != nil {
				b.Fatal(err)
			}
			f.Close()
			st, _ := os.Stat(p)
			b.SetBytes(st.Size())
			b.ResetTimer()
			cpu0, ok0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if code := run([]string{"validate", p}, io.Discard, os.Stderr); code != 0 {
					b.Fatalf("exit %d on clean input", code)
				}
			}
			b.StopTimer()
			// Throughput per CPU second: other load on a shared machine
			// disturbs it far less than the wall clock.
			if cpu1, ok1 := cpuTime(); ok0 && ok1 && cpu1 > cpu0 {
				b.ReportMetric(float64(st.Size())*float64(b.N)/1e6/(cpu1-cpu0).Seconds(), "cpu-MB/s")
			}
		})
	}
}
