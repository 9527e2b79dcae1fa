package x12

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// checkScan compares scanSegment with the plain Go reference on b, read
// with its capacity as given (the fast version reads up to it).
func checkScan(t *testing.T, b []byte, sep, term byte) {
	t.Helper()
	var want, got [maxScanEnds]int32
	we, wn := scanSegmentGo(b, sep, term, &want)
	ge, gn := scanSegment(b, sep, term, &got)
	if ge != we || gn != wn {
		t.Fatalf("scanSegment(%q, %q, %q) = end %d, %d separators; want %d, %d", b, sep, term, ge, gn, we, wn)
	}
	if k := min(wn, maxScanEnds); !slices.Equal(want[:k], got[:k]) {
		t.Fatalf("scanSegment(%q) separators at %v, want %v", b, got[:k], want[:k])
	}
}

func TestScanSegment(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("AB1*~:^\n")
	for i := 0; i < 200000; i++ {
		n := rng.IntN(80)
		if i%100 == 0 {
			n = 64 + rng.IntN(400) // many separators: more than maxScanEnds
		}
		// memory past the slice: garbage with terminators and separators,
		// which must not be seen
		mem := make([]byte, n+rng.IntN(40))
		for j := range mem {
			mem[j] = alphabet[rng.IntN(len(alphabet))]
			if j < n && rng.IntN(8) > 0 {
				mem[j] = 'A' + byte(rng.IntN(26))
				if rng.IntN(5) == 0 {
					mem[j] = '*'
				}
			}
		}
		if rng.IntN(3) == 0 && n > 0 {
			mem[rng.IntN(n)] = '~'
		}
		checkScan(t, mem[:n], '*', '~')
		checkScan(t, mem[:n:n], '*', '~')
		checkScan(t, mem[:n], '~', '*')
	}
	checkScan(t, nil, '*', '~')
	checkScan(t, []byte{}, '*', '~')
}

func FuzzScanSegment(f *testing.F) {
	f.Add([]byte("CLP*PCN1*1*100*80~NM1*QC"), byte('*'), byte('~'), 3)
	f.Add([]byte("****************************************************************~"), byte('*'), byte('~'), 0)
	f.Fuzz(func(t *testing.T, b []byte, sep, term byte, cut int) {
		if sep == term {
			return
		}
		if cut < 0 {
			cut = -cut
		}
		n := len(b) - cut%(len(b)+1)
		checkScan(t, b[:n], sep, term)
		checkScan(t, b[:n:n], sep, term)
	})
}
