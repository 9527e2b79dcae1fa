package scrub

import "testing"

func TestValidNPI(t *testing.T) {
	valid := []string{
		"1234567893", // the CMS check-digit example
		"1245319599",
		"1679576722",
		"1003000126",
		"1932102084",
		"2008063606",
	}
	invalid := []string{
		"1234567890", // check digit should be 3
		"1234567894",
		"1245319598",
		"",
		"123456789",   // 9 digits
		"12345678933", // 11 digits
		"3234567893",  // must start with 1 or 2 (check digit aside)
		"0234567893",
		"12345678a3",
		" 234567893",
		"1234567893\n",
	}
	for _, s := range valid {
		if !ValidNPI(s) {
			t.Errorf("ValidNPI(%q) = false, want true", s)
		}
	}
	for _, s := range invalid {
		if ValidNPI(s) {
			t.Errorf("ValidNPI(%q) = true, want false", s)
		}
	}
}

// TestValidNPIExactlyOneCheckDigit: for any 9-digit prefix starting with 1
// exactly one of the ten possible last digits is valid.
func TestValidNPIExactlyOneCheckDigit(t *testing.T) {
	for _, prefix := range []string{"100000000", "123456789", "199999999", "287654321", "200000000"} {
		n := 0
		for d := byte('0'); d <= '9'; d++ {
			if ValidNPI(prefix + string(d)) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("prefix %s: %d valid check digits", prefix, n)
		}
	}
}

func BenchmarkValidNPI(b *testing.B) {
	for b.Loop() {
		ValidNPI("1234567893")
	}
}
