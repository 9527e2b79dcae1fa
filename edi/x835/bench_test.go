package x835

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
)

// A benchInput is a generated 835 of about 25 MB in one transaction set,
// with the number of claims and the total paid it holds.
type benchInput struct {
	name   string
	data   []byte
	claims int
	paid   Amount
}

var (
	benchOnce   sync.Once
	benchInputs []*benchInput
)

// benchFiles returns the benchmark inputs, side by side in every
// benchmark:
//
//   - pt: a physical-therapy practice's remittance from a commercial payer
//     (ptRemittanceFile), 50,000 claims of one to four PT codes, the way
//     production files look: every claim in the payer's one layout.
//   - mixed: 50,000 claims from the property-test generator, which draws
//     every optional part of the TR3 (MIA, MOA, TS3, seven NM1s, REF
//     kinds, QTY, PER...) at random: the hardest case for the processor's
//     branch prediction, and about 4.7 model bytes per input byte.
func benchFiles(b *testing.B) []*benchInput {
	benchOnce.Do(func() {
		for _, in := range []struct {
			name string
			gen  func(io.Writer) (int, Amount, error)
		}{
			{"pt", func(w io.Writer) (int, Amount, error) { return ptRemittanceFile(w, 7, 50000, false) }},
			{"mixed", func(w io.Writer) (int, Amount, error) { return streamFile(w, 42, 50000) }},
		} {
			var buf bytes.Buffer
			n, paid, err := in.gen(&buf)
			if err != nil {
				b.Fatal(err)
			}
			benchInputs = append(benchInputs, &benchInput{in.name, buf.Bytes(), n, paid})
		}
	})
	return benchInputs
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
	for _, in := range benchFiles(b) {
		b.Run(in.name, func(b *testing.B) { benchRead(b, in, false) })
	}
}

// BenchmarkRead835Reuse is BenchmarkRead835 with Reader.ReuseClaims.
func BenchmarkRead835Reuse(b *testing.B) {
	for _, in := range benchFiles(b) {
		b.Run(in.name, func(b *testing.B) { benchRead(b, in, true) })
	}
}

func benchRead(b *testing.B, in *benchInput, reuse bool) {
	b.SetBytes(int64(len(in.data)))
	b.ReportAllocs()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		rd := NewReader(bytes.NewReader(in.data))
		rd.ReuseClaims = reuse
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
		if n != in.claims || paid != in.paid || len(rd.Findings()) != 0 {
			b.Fatalf("%d claims paying %s, want %d paying %s; findings %v", n, paid, in.claims, in.paid, rd.Findings())
		}
	}
	cpu.stop(b, len(in.data))
}

// BenchmarkValidate835 is the reader with full TR3 validation (every
// element against x12.SegSpec, envelopes via x12.Checker).
func BenchmarkValidate835(b *testing.B) {
	for _, in := range benchFiles(b) {
		b.Run(in.name, func(b *testing.B) { benchValidate(b, in) })
	}
}

func benchValidate(b *testing.B, in *benchInput) {
	b.SetBytes(int64(len(in.data)))
	b.ReportAllocs()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		rd := NewReader(bytes.NewReader(in.data))
		rd.Validate = true
		n := 0
		for {
			if _, err := rd.Next(); err != nil {
				break
			}
			n++
		}
		if n != in.claims || len(rd.Findings()) != 0 {
			b.Fatalf("%d claims, findings %v", n, rd.Findings())
		}
	}
	cpu.stop(b, len(in.data))
}

// BenchmarkX12ReaderBaseline is the x12 Reader alone over the same bytes:
// the floor the typed reader is measured against.
func BenchmarkX12ReaderBaseline(b *testing.B) {
	for _, in := range benchFiles(b) {
		b.Run(in.name, func(b *testing.B) { benchX12(b, in) })
	}
}

func benchX12(b *testing.B, in *benchInput) {
	b.SetBytes(int64(len(in.data)))
	b.ReportAllocs()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		rd := x12.NewReader(bytes.NewReader(in.data))
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
		if clp != in.claims {
			b.Fatalf("%d CLP, want %d", clp, in.claims)
		}
	}
	cpu.stop(b, len(in.data))
}

// BenchmarkCheck835 is what claimgate validate runs on an 835: x12.Check
// with this package's checkers for the file (FileSets), findings streamed
// to a callback. (BenchmarkValidate837P in edi/x837p and
// BenchmarkValidateCommand in cmd/claimgate are the 837P and whole-command
// counterparts.)
func BenchmarkCheck835(b *testing.B) {
	for _, in := range benchFiles(b) {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			cpu := startCPU(b)
			for i := 0; i < b.N; i++ {
				n := 0
				sum, _, err := x12.Check(bytes.NewReader(in.data), x12.CheckOptions{Name: "bench.835", Sets: FileSets(), Finding: func(*x12.Finding) { n++ }})
				if err != nil || n != 0 || sum.Sets() != 1 {
					b.Fatalf("err %v, %d findings, %d sets", err, n, sum.Sets())
				}
			}
			cpu.stop(b, len(in.data))
		})
	}
}

// BenchmarkAppendJSON is the JSON of the benchmark inputs' claims alone,
// read beforehand (ReadAll), appended claim by claim into one reused
// buffer as JSONWriter does: the formatting cost of parse --json without
// the reading. MB/s are of the 835 input the claims came from.
//
//	go test -run '^$' -bench AppendJSON -benchtime 20x ./edi/x835
func BenchmarkAppendJSON(b *testing.B) {
	for _, in := range benchFiles(b) {
		rems, _, err := ReadAll(bytes.NewReader(in.data), in.name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			buf := make([]byte, 0, 256<<10)
			out := 0
			m := startCPU(b)
			for i := 0; i < b.N; i++ {
				for _, rem := range rems {
					for _, c := range rem.Claims {
						buf = c.AppendJSON(buf)
						if len(buf) >= 192<<10 {
							out += len(buf)
							buf = buf[:0]
						}
					}
				}
			}
			m.stop(b, len(in.data))
			b.ReportMetric(float64(out+len(buf))/float64(b.N)/float64(len(in.data)), "out/in")
		})
	}
}
