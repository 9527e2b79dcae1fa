package x12

import (
	"strings"
	"testing"
)

func TestInterner(t *testing.T) {
	c := NewInterner(8)
	for _, s := range []string{"", "A", "CO", "45", "20240105", "HC:97110:GP", strings.Repeat("X", 17)} {
		if got := c.String([]byte(s)); got != s {
			t.Fatalf("String(%q) = %q", s, got)
		}
	}
	b := []byte("97110")
	c.String(b)
	if a := testing.AllocsPerRun(100, func() { _ = c.String(b) }); a != 0 {
		t.Fatalf("%v allocations for a cached value", a)
	}
}

func TestSplit(t *testing.T) {
	out := make([][]byte, 4)
	n := Split([]byte("CLP*A*1**4*5*6"), '*', out)
	if n != 4 || string(out[0]) != "CLP" || string(out[2]) != "1" || string(out[3]) != "*4*5*6" {
		t.Fatalf("%d parts: %q", n, out[:n])
	}
	if n := Split(nil, '*', out); n != 1 || len(out[0]) != 0 {
		t.Fatalf("empty input: %d", n)
	}
}
