package x835

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
)

var (
	benchOnce   sync.Once
	benchData   []byte
	benchClaims int
	benchPaid   Amount
)

// benchInput is a generated 835 of about 25 MB (one set, 50,000 claims
// with up to five service lines each), written by this package's writer.
func benchInput(b *testing.B) []byte {
	benchOnce.Do(func() {
		var buf bytes.Buffer
		n, paid, err := streamFile(&buf, 42, 50000)
		if err != nil {
			b.Fatal(err)
		}
		benchData, benchClaims, benchPaid = buf.Bytes(), n, paid
	})
	return benchData
}

// cpuMeter reports a benchmark's throughput per CPU second ("cpu-MB/s")
// next to the wall-clock MB/s: on a shared machine the wall clock counts
// time other processes took, the CPU time does not. With GOMAXPROCS > 1
// the garbage collector's background work is counted too.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU(b *testing.B) *cpuMeter {
	b.ResetTimer()
	t, ok := cpuTime()
	return &cpuMeter{start: t, ok: ok}
}

func (m *cpuMeter) stop(b *testing.B, bytes int) {
	b.StopTimer()
	t, ok := cpuTime()
	if !m.ok || !ok || t <= m.start {
		return
	}
	b.ReportMetric(float64(bytes)*float64(b.N)/1e6/(t-m.start).Seconds(), "cpu-MB/s")
}

// BenchmarkRead835 is the typed streaming reader with its default checks:
// loop structure, code values, CARC/RARC lookups, denial categories,
// amounts, and line, claim and payment balancing.
func BenchmarkRead835(b *testing.B) {
	data := benchInput(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		rd := NewReader(bytes.NewReader(data))
		n := 0
		var paid Amount
		for {
			c, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
			paid += c.Paid
		}
		if n != benchClaims || paid != benchPaid || len(rd.Findings()) != 0 {
			b.Fatalf("%d claims paying %s, want %d paying %s; findings %v", n, paid, benchClaims, benchPaid, rd.Findings())
		}
	}
	cpu.stop(b, len(data))
}

// BenchmarkRead835Reuse is BenchmarkRead835 with Reader.ReuseClaims.
func BenchmarkRead835Reuse(b *testing.B) {
	data := benchInput(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		rd := NewReader(bytes.NewReader(data))
		rd.ReuseClaims = true
		n := 0
		var paid Amount
		for {
			c, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
			paid += c.Paid
		}
		if n != benchClaims || paid != benchPaid || len(rd.Findings()) != 0 {
			b.Fatalf("%d claims paying %s, want %d paying %s; findings %v", n, paid, benchClaims, benchPaid, rd.Findings())
		}
	}
	cpu.stop(b, len(data))
}

// BenchmarkValidate835 is the reader with full TR3 validation (every
// element against x12.SegSpec, envelopes via x12.Checker).
func BenchmarkValidate835(b *testing.B) {
	data := benchInput(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		rd := NewReader(bytes.NewReader(data))
		rd.Validate = true
		n := 0
		for {
			if _, err := rd.Next(); err != nil {
				break
			}
			n++
		}
		if n != benchClaims || len(rd.Findings()) != 0 {
			b.Fatalf("%d claims, findings %v", n, rd.Findings())
		}
	}
	cpu.stop(b, len(data))
}

// BenchmarkX12ReaderBaseline is the x12 Reader alone over the same bytes:
// the floor the typed reader is measured against.
func BenchmarkX12ReaderBaseline(b *testing.B) {
	data := benchInput(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		rd := x12.NewReader(bytes.NewReader(data))
		clp := 0
		for {
			seg, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if seg.ID() == "CLP" {
				clp++
			}
		}
		if clp != benchClaims {
			b.Fatalf("%d CLP, want %d", clp, benchClaims)
		}
	}
	cpu.stop(b, len(data))
}
