package x12

import (
	"math/rand"
	"testing"
)

// printable agrees with BadChar on every byte value at every position of
// strings of every length up to 24, and on random mixes.
func TestPrintableAgreesWithBadChar(t *testing.T) {
	base := []byte("CLP*PAT0001*1*400*80**MC")
	for n := 0; n <= len(base); n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				b := append([]byte(nil), base[:n]...)
				b[pos] = byte(c)
				if got, want := printable(b), BadChar(b) < 0; got != want {
					t.Fatalf("%q: printable %v, BadChar says %v", b, got, want)
				}
			}
		}
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 100000; i++ {
		b := make([]byte, rng.Intn(40))
		for j := range b {
			b[j] = byte(0x1E + rng.Intn(0x64)) // 0x1E..0x81: around both edges
		}
		if got, want := printable(b), BadChar(b) < 0; got != want {
			t.Fatalf("%q: printable %v, BadChar says %v", b, got, want)
		}
	}
}
