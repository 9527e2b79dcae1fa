package x999

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/claimgate/claimgate/edi/internal/testkit"
)

var (
	benchOnce sync.Once
	benchData []byte
)

// benchInput is a generated 999 of about 15 MB: 350,000 acknowledged
// sets, one in ten rejected with IK3, CTX and IK4.
func benchInput(b *testing.B) []byte {
	benchOnce.Do(func() {
		var err error
		benchData, err = io.ReadAll(newGen999(350000, 10))
		if err != nil {
			b.Fatal(err)
		}
	})
	return benchData
}

func BenchmarkRead999(b *testing.B) {
	data := benchInput(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ack, fs, err := Read(bytes.NewReader(data), "bench")
		if err != nil || len(fs) != 0 || len(ack.Groups[0].Sets) != 350000 {
			b.Fatal(err, fs)
		}
	}
}

func BenchmarkReader999Stream(b *testing.B) {
	data := benchInput(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := NewReader(bytes.NewReader(data), "bench")
		n := 0
		for {
			_, s, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if s != nil {
				n++
			}
		}
		if n != 350000 {
			b.Fatal(n)
		}
	}
}

func BenchmarkValidate999(b *testing.B) {
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
	testkit.X12ReaderBaseline(b, benchInput(b), "IK5", 350000)
}

// BenchmarkX12CheckBaseline is the envelope check alone over the same
// bytes, to show what the set checker adds to Validate.
func BenchmarkX12CheckBaseline(b *testing.B) {
	testkit.X12CheckBaseline(b, benchInput(b))
}
