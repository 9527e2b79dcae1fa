package x277ca

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/claimgate/claimgate/edi/internal/testkit"
)

const benchClaims = 75000

var (
	benchOnce sync.Once
	benchData []byte
)

// benchInput is a generated 277CA of about 16 MB: 75,000 claims under 75
// providers, one in five rejected with two service lines.
func benchInput(b *testing.B) []byte {
	benchOnce.Do(func() {
		var err error
		benchData, err = io.ReadAll(newGen277(benchClaims))
		if err != nil {
			b.Fatal(err)
		}
	})
	return benchData
}

func BenchmarkRead277CA(b *testing.B) {
	data := benchInput(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ack, fs, err := Read(bytes.NewReader(data), "bench")
		if err != nil || len(fs) != 0 || len(ack.Transactions) != 1 {
			b.Fatal(err, fs)
		}
	}
}

func BenchmarkReader277CAStream(b *testing.B) {
	data := benchInput(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := NewReader(bytes.NewReader(data), "bench")
		n := 0
		for {
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if e.Kind == ClaimDone {
				n++
			}
		}
		if n != benchClaims {
			b.Fatal(n)
		}
	}
}

func BenchmarkValidate277CA(b *testing.B) {
	data := benchInput(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, fs, err := Validate(bytes.NewReader(data), "bench"); err != nil || len(fs) != 0 {
			b.Fatal(err, fs)
		}
	}
}

// BenchmarkX12ReaderBaseline reads the same bytes with the bare x12
// Reader, touching each segment's id: the floor for the typed readers.
func BenchmarkX12ReaderBaseline(b *testing.B) {
	// a TRN per claim, per provider, for the source and the receiver
	testkit.X12ReaderBaseline(b, benchInput(b), "TRN", benchClaims+benchClaims/genPerProvider+2)
}

// BenchmarkX12CheckBaseline is the envelope check alone over the same
// bytes, to show what the set checker adds to Validate.
func BenchmarkX12CheckBaseline(b *testing.B) {
	testkit.X12CheckBaseline(b, benchInput(b))
}
