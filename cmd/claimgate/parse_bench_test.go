package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/claimgate/claimgate/edi/x835"
)

// bench835 writes a generated PT 835 of about 25 MB (4 sets of 20,000
// claims) into dir.
func bench835(b *testing.B, dir string) (string, int64) {
	p := filepath.Join(dir, "bench.835")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if _, err := gen835(w, 1, 4, 20000, false); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	st, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	return p, st.Size()
}

// cpuMBs reports throughput per CPU second ("cpu-MB/s") next to the
// wall-clock MB/s, which on a shared machine counts other processes' time.
// The goroutines of one command add up: parse --json spends the CPU of
// validate plus that of the reader and JSON writer, on two cores.
func cpuMBs(b *testing.B, size int64, body func()) {
	start, ok := cpuTime()
	b.ResetTimer()
	body()
	b.StopTimer()
	if end, ok2 := cpuTime(); ok && ok2 && end > start {
		b.ReportMetric(float64(size)*float64(b.N)/1e6/(end-start).Seconds(), "cpu-MB/s")
	}
}

// BenchmarkParse835JSON measures `claimgate parse FILE --json` on a
// generated 835, the whole command as run() runs it (reading, validate's
// checks alongside, JSON to a discarded stdout), with side by side:
// --csv, validate alone, the JSON stream without the checks, the reader
// validating by itself in one pass, and the reflection encoding/json made
// per claim before (the same reader, no checks).
//
//	go test -run '^$' -bench Parse835JSON -benchtime 3x ./cmd/claimgate
func BenchmarkParse835JSON(b *testing.B) {
	p, size := bench835(b, b.TempDir())
	command := func(args ...string) func(b *testing.B) {
		return func(b *testing.B) {
			b.SetBytes(size)
			cpuMBs(b, size, func() {
				for i := 0; i < b.N; i++ {
					if code := run(args, io.Discard, io.Discard); code != 0 {
						b.Fatalf("%v: exit %d", args, code)
					}
				}
			})
		}
	}
	b.Run("command", command("parse", p, "--json"))
	b.Run("command-csv", command("parse", p, "--csv"))
	b.Run("validate", command("validate", p))
	b.Run("stream-only", func(b *testing.B) {
		b.SetBytes(size)
		cpuMBs(b, size, func() {
			for i := 0; i < b.N; i++ {
				readClaims(b, p, false, func(w io.Writer) func(*x835.ClaimPayment) error {
					jw := x835.NewJSONWriter(w)
					return jw.WriteClaim
				})
			}
		})
	})
	// One pass instead of two: the 835 reader with its own full
	// validation feeding the same JSON writer (what parse would cost
	// without the goroutine running validate's x12.Check alongside).
	b.Run("reader-validate", func(b *testing.B) {
		b.SetBytes(size)
		cpuMBs(b, size, func() {
			for i := 0; i < b.N; i++ {
				readClaims(b, p, true, func(w io.Writer) func(*x835.ClaimPayment) error {
					return x835.NewJSONWriter(w).WriteClaim
				})
			}
		})
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(size)
		cpuMBs(b, size, func() {
			for i := 0; i < b.N; i++ {
				readClaims(b, p, false, func(w io.Writer) func(*x835.ClaimPayment) error {
					enc := json.NewEncoder(w)
					return func(c *x835.ClaimPayment) error { return enc.Encode((*reflectClaim)(c)) }
				})
			}
		})
	})
}

// reflectClaim is a ClaimPayment without its JSON methods: encoding/json
// walks its tags by reflection, as the old parse --json did.
type reflectClaim x835.ClaimPayment

func readClaims(b *testing.B, p string, validate bool, writer func(io.Writer) func(*x835.ClaimPayment) error) {
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rd := x835.NewReader(f)
	rd.ReuseClaims = true
	rd.Validate = validate
	out := bufio.NewWriterSize(io.Discard, 64<<10)
	write := writer(out)
	for {
		c, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if err := write(c); err != nil {
			b.Fatal(err)
		}
	}
}
