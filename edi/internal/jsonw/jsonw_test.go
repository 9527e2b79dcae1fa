package jsonw

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// stdString is what encoding/json writes for s with HTML escaping off,
// the escaping String promises to match byte for byte.
func stdString(t testing.TB, s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func checkString(t *testing.T, s string) {
	t.Helper()
	got := String([]byte("x"), s)[1:]
	if want := stdString(t, s); !bytes.Equal(got, want) {
		t.Fatalf("String(%q) = %s, encoding/json writes %s", s, got, want)
	}
	if !json.Valid(got) {
		t.Fatalf("String(%q) = %s is not valid JSON", s, got)
	}
	var back string
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if utf8.ValidString(s) && back != s {
		t.Fatalf("String(%q) reads back as %q", s, back)
	}
}

func TestString(t *testing.T) {
	for _, s := range []string{
		"", "PLAIN TEXT 123", `quote " backslash \ slash /`, "tab\tnew\nline\rcr",
		"\b\f\x00\x01\x1f\x7f", "<html> & </html>", "caf\u00e9 \u4e2d\u6587 \U0001F600",
		"line\u2028para\u2029end", "bad \xff utf8 \xc3", "\xed\xa0\x80 surrogate", "\xe2\x80", "~*:^",
	} {
		checkString(t, s)
	}
}

// FuzzString holds String to encoding/json for any string.
func FuzzString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00\u2028\xff", "é\t<"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkString(t, s) })
}

func TestFloat(t *testing.T) {
	for _, v := range []float64{0, 1, -1, 1.5, 0.1, 123456789, 1e20, 1e21, 1e-6, 1e-7, -2.5e-9, 3.14159, 1e300, math.SmallestNonzeroFloat64} {
		want, _ := json.Marshal(v)
		if got := Float(nil, v); !bytes.Equal(got, want) {
			t.Errorf("Float(%v) = %s, encoding/json writes %s", v, got, want)
		}
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := string(Float(nil, v)); got != "null" {
			t.Errorf("Float(%v) = %s", v, got)
		}
	}
}

func TestCentsAndDates(t *testing.T) {
	for v, want := range map[int64]string{0: "0.00", 5: "0.05", -6: "-0.06", 148199: "1481.99", 1200: "12.00", -100000: "-1000.00"} {
		if got := string(Cents(nil, v)); got != want {
			t.Errorf("Cents(%d) = %s, want %s", v, got, want)
		}
	}
	if got := string(Date8(nil, 20190816)); got != `"2019-08-16"` {
		t.Errorf("Date8 = %s", got)
	}
	for in, want := range map[string]string{
		"20190816": `"2019-08-16"`, "190816": `"2019-08-16"`, "2019081": `"2019081"`, "2019-08-16": `"2019-08-16"`, "": `""`, "ABCDEFGH": `"ABCDEFGH"`,
	} {
		if got := string(DateText(nil, in)); got != want {
			t.Errorf("DateText(%q) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"1230": `"12:30"`, "123045": `"12:30:45"`, "12304599": `"12:30:45.99"`, "12304": `"12304"`, "12:3": `"12:3"`, "": `""`,
	} {
		if got := string(TimeText(nil, in)); got != want {
			t.Errorf("TimeText(%q) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"100": "100.00", "100.5": "100.50", "-.06": "-0.06", "1481.99": "1481.99", "0": "0.00",
		"1.234": `"1.234"`, "12A": `"12A"`, "": `""`, "-": `"-"`, ".": `"."`, "1234567890123456": `"1234567890123456"`,
	} {
		got := AmountText(nil, in)
		if string(got) != want || !json.Valid(got) {
			t.Errorf("AmountText(%q) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"3": "3", "1.5": "1.5", "-.5": "-0.5", "007": "7", "0.25": "0.25", "5.": "5", "0": "0", "x": `"x"`, "": `""`, "1.2.3": `"1.2.3"`,
	} {
		got := NumberText(nil, in)
		if string(got) != want || !json.Valid(got) {
			t.Errorf("NumberText(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestKey(t *testing.T) {
	b := append([]byte(nil), '{')
	b = Key(b, "a")
	b = Int(b, 1)
	b = Key(b, "b")
	b = append(b, '{')
	b = Key(b, "c")
	b = Bool(b, true)
	b = append(b, '}', '}')
	if string(b) != `{"a":1,"b":{"c":true}}` {
		t.Fatalf("%s", b)
	}
	if string(Comma([]byte("["))) != "[" || string(Comma([]byte("[1"))) != "[1," {
		t.Fatal("Comma")
	}
}

func TestMember(t *testing.T) {
	b := Member([]byte("{"), `,"a":`)
	b = Int(b, 1)
	b = Member(b, `,"b":`)
	b = append(b, '[', '{')
	b = Member(b, `,"c":`)
	b = Bool(b, false)
	b = append(b, '}', ']', '}')
	if string(b) != `{"a":1,"b":[{"c":false}]}` {
		t.Fatalf("%s", b)
	}
}

// TestStringRuns puts each byte that needs escaping at every position of
// strings of 1 to 24 bytes, so the eight-byte scan meets it in every
// lane, in the tail and across a lane boundary.
func TestStringRuns(t *testing.T) {
	specials := []string{"\"", "\\", "\x00", "\x1f", "\x7f", "\x80", "\xff", "\u00e9", "\u2028", "\xe2\x80"}
	for n := 0; n <= 24; n++ {
		base := strings.Repeat("A", n)
		checkString(t, base)
		for i := 0; i <= n; i++ {
			for _, sp := range specials {
				checkString(t, base[:i]+sp+base[i:])
			}
		}
	}
	for c := 0; c < 256; c++ {
		for lane := 0; lane < 8; lane++ {
			b := []byte("ABCDEFGHIJKLMNOP")
			b[lane] = byte(c)
			checkString(t, string(b))
		}
	}
}

// TestNumbers holds the digit-pair formatting to strconv and encoding/json.
func TestNumbers(t *testing.T) {
	var vals []int64
	for _, v := range []int64{0, 1, 9, 10, 99, 100, 101, 999, 1000, 12345, 99999, 100000, 1e9, 1e15 - 1, 1e15, 1e18, math.MaxInt64, math.MinInt64, math.MinInt64 + 1} {
		vals = append(vals, v, -v, v+1, v-1)
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		vals = append(vals, r.Int63n(1<<uint(1+r.Intn(62)))*int64(1-2*r.Intn(2)))
	}
	for _, v := range vals {
		if got, want := string(Int(nil, v)), strconv.FormatInt(v, 10); got != want {
			t.Fatalf("Int(%d) = %s", v, got)
		}
		u := uint64(v)
		sign := ""
		if v < 0 {
			sign, u = "-", -uint64(v)
		}
		if got, want := string(Cents(nil, v)), fmt.Sprintf("%s%d.%02d", sign, u/100, u%100); got != want {
			t.Fatalf("Cents(%d) = %s, want %s", v, got, want)
		}
		for _, f := range []float64{float64(v), float64(v) / 100, float64(v%1000) / 4} {
			want, _ := json.Marshal(f)
			if got := Float(nil, f); !bytes.Equal(got, want) {
				t.Fatalf("Float(%v) = %s, encoding/json writes %s", f, got, want)
			}
		}
		d := int32(r.Intn(100000000))
		if got, want := string(Date8(nil, d)), fmt.Sprintf(`"%04d-%02d-%02d"`, d/10000, d/100%100, d%100); got != want {
			t.Fatalf("Date8(%d) = %s, want %s", d, got, want)
		}
	}
	for _, f := range []float64{math.Copysign(0, -1), 0.5, -0.5, 1e15, -1e15, 1e15 + 2, 999999999999999, -999999999999999, 1 << 53, math.Nextafter(1, 2)} {
		want, _ := json.Marshal(f)
		if got := Float(nil, f); !bytes.Equal(got, want) {
			t.Errorf("Float(%v) = %s, encoding/json writes %s", f, got, want)
		}
	}
}
