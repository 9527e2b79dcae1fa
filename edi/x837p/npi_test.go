package x837p

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// luhnValid is the textbook Luhn check over the whole digit string,
// written independently of npiCheckDigit's precomputed prefix.
func luhnValid(digits string) bool {
	sum := 0
	for i := 0; i < len(digits); i++ {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func TestValidNPI(t *testing.T) {
	for _, tc := range []struct {
		npi  string
		want bool
	}{
		{"1234567893", true}, // the example in the CMS NPI check digit paper
		{"1234567890", false},
		{"1234567891", false},
		{"123456789", false},   // nine digits
		{"12345678930", false}, // eleven
		{"3234567893", false},  // must start with 1 or 2
		{"12345678A3", false},
		{"", false},
		{"1912301953", true},
		{"1912301954", false},
	} {
		if got := ValidNPI(tc.npi); got != tc.want {
			t.Errorf("ValidNPI(%q) = %v, want %v", tc.npi, got, tc.want)
		}
	}
}

func TestValidNPIMatchesLuhn(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		body := fmt.Sprintf("%d%08d", 1+r.IntN(2), r.IntN(100000000))
		valid := 0
		for d := '0'; d <= '9'; d++ {
			npi := body + string(d)
			want := luhnValid("80840" + npi)
			if got := ValidNPI(npi); got != want {
				t.Fatalf("ValidNPI(%q) = %v, textbook Luhn says %v", npi, got, want)
			}
			if want {
				valid++
			}
		}
		if valid != 1 {
			t.Fatalf("%s: %d valid check digits, want exactly 1", body, valid)
		}
	}
}
