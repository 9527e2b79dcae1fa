package x835

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

func TestParseAmount(t *testing.T) {
	good := map[string]Amount{
		"0": 0, "100": 10000, "100.5": 10050, "100.05": 10005, "-.06": -6, ".5": 50, "1481.99": 148199,
		"-7151.17": -715117, "100.": 10000, "007": 700, "999999999999999.99": 99999999999999999,
	}
	for in, want := range good {
		got, err := ParseAmount([]byte(in))
		if err != nil || got != want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := map[string]error{
		"": errAmountEmpty, "1.234": errAmountDecimals, "150.001": errAmountDecimals, "+5": errAmountSyntax,
		"1e5": errAmountSyntax, "1,000": errAmountSyntax, "-": errAmountSyntax, ".": errAmountSyntax,
		"1.2.3": errAmountSyntax, "1.2x": errAmountSyntax, "1234567890123456": errAmountLarge, " 1": errAmountSyntax,
	}
	for in, want := range bad {
		if _, err := ParseAmount([]byte(in)); err != want {
			t.Errorf("ParseAmount(%q) error %v, want %v", in, err, want)
		}
	}
}

func TestAmountFormat(t *testing.T) {
	cases := []struct {
		a          Amount
		x12, fixed string
	}{
		{0, "0", "0.00"}, {10000, "100", "100.00"}, {10050, "100.5", "100.50"}, {10005, "100.05", "100.05"},
		{-6, "-0.06", "-0.06"}, {-715117, "-7151.17", "-7151.17"}, {math.MinInt64 + 1, "-92233720368547758.07", "-92233720368547758.07"},
	}
	for _, c := range cases {
		if got := c.a.String(); got != c.x12 {
			t.Errorf("%d.String() = %q, want %q", int64(c.a), got, c.x12)
		}
		if got := c.a.Fixed(); got != c.fixed {
			t.Errorf("%d.Fixed() = %q, want %q", int64(c.a), got, c.fixed)
		}
		if c.a > -1e15 {
			back, err := ParseAmount([]byte(c.x12))
			if err != nil || back != c.a {
				t.Errorf("ParseAmount(%q) = %d, %v", c.x12, back, err)
			}
		}
	}
	b, _ := json.Marshal(struct{ A Amount }{-6})
	if string(b) != `{"A":-0.06}` {
		t.Errorf("JSON %s", b)
	}
	var v struct{ A, B Amount }
	if err := json.Unmarshal([]byte(`{"A":12.5,"B":"-3"}`), &v); err != nil || v.A != 1250 || v.B != -300 {
		t.Errorf("unmarshal %v %v", v, err)
	}
	if err := json.Unmarshal([]byte(`{"A":1.005}`), &v); err == nil {
		t.Error("three decimals accepted from JSON")
	}
}

// parseQuantity agrees with strconv.ParseFloat on what X12 R values look
// like, and appendQuantity writes what it reads back.
func TestQuantity(t *testing.T) {
	for _, s := range []string{"0", "1", "8.00", "0.5", "-2.25", "30", "1.1919", "0.05", "123456.789", "999999999999999", "12345678901234567", ".5", "5."} {
		got, ok := parseQuantity([]byte(s))
		want, err := strconv.ParseFloat(s, 64)
		if !ok || err != nil || got != want {
			t.Errorf("parseQuantity(%q) = %v %v, ParseFloat %v %v", s, got, ok, want, err)
		}
		back, _ := parseQuantity(appendQuantity(nil, got))
		if back != got {
			t.Errorf("%q: wrote %s, read back %v", s, appendQuantity(nil, got), back)
		}
	}
	for _, s := range []string{"", "-", ".", "1e3", "1.2.3", "x"} {
		if _, ok := parseQuantity([]byte(s)); ok {
			t.Errorf("parseQuantity(%q) accepted", s)
		}
	}
	for i := 0; i < 10000; i++ {
		q := float64(i) / 100
		if back, _ := parseQuantity(appendQuantity(nil, q)); back != q {
			t.Fatalf("%v round trips to %v", q, back)
		}
	}
}

func TestDate(t *testing.T) {
	d, ok := parseDate8([]byte("20190816"))
	if !ok || d != 20190816 || d.String() != "2019-08-16" || d.D8() != "20190816" || d.Year() != 2019 || d.Month() != 8 || d.Day() != 16 {
		t.Fatalf("date %v %v", d, ok)
	}
	if DateOf(d.Time()) != d {
		t.Error("Time/DateOf do not round trip")
	}
	for _, bad := range []string{"2019081", "2019-08-1", "abcdefgh"} {
		if _, ok := parseDate8([]byte(bad)); ok {
			t.Errorf("parseDate8(%q) accepted", bad)
		}
	}
	var v struct{ A, B, C Date }
	if err := json.Unmarshal([]byte(`{"A":"2019-08-16","B":"20200101","C":null}`), &v); err != nil || v.A != 20190816 || v.B != 20200101 || v.C != 0 {
		t.Errorf("%v %v", v, err)
	}
	b, _ := json.Marshal(struct {
		A Date
		B Date `json:",omitzero"`
	}{A: 20190816})
	if string(b) != `{"A":"2019-08-16"}` {
		t.Errorf("JSON %s", b)
	}
	if err := json.Unmarshal([]byte(`{"A":"16/08/2019"}`), &v); err == nil {
		t.Error("bad date accepted")
	}
}
