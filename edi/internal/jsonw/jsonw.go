// Package jsonw appends JSON values to a byte slice: the writer behind the
// JSON of the 835, 999 and 277CA models. Appending straight into one
// buffer, rather than nesting json.Marshaler results, keeps encoding/json
// from scanning every nested value again (which made it eight times
// slower than reading the file).
package jsonw

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// Key appends the key of the next member of the object dst is writing,
// with the comma before it unless it is the first member. key is written
// as is: it must need no escaping.
func Key(dst []byte, key string) []byte {
	if n := len(dst); n > 0 && dst[n-1] != '{' {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

// Member appends m, the opening of an object member written as a
// constant with its comma, `,"key":`, leaving the comma out when dst is
// just after the object's opening brace. One append instead of Key's
// five: the members of the 835's claims are most of what parse --json
// writes.
func Member(dst []byte, m string) []byte {
	if n := len(dst); n > 0 && dst[n-1] == '{' {
		m = m[1:]
	}
	return append(dst, m...)
}

// Comma appends a comma unless dst is just after the opening bracket of
// an array or object.
func Comma(dst []byte) []byte {
	if n := len(dst); n > 0 && dst[n-1] != '[' && dst[n-1] != '{' {
		dst = append(dst, ',')
	}
	return dst
}

// safe marks the ASCII bytes a JSON string holds as they are.
var safe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hex = "0123456789abcdef"

// String appends s as a JSON string. It escapes what encoding/json
// escapes, except that <, > and & are written as they are: quote,
// backslash, control bytes (\b \f \n \r \t, else \u00XX), U+2028 and
// U+2029 (which break JavaScript string literals); each byte of invalid
// UTF-8 becomes \ufffd.
func String(dst []byte, s string) []byte {
	// Most values (codes, ids, names) need no escaping: find the first
	// byte that may, and copy the run before it in one append.
	i := plainRun(s)
	dst = append(dst, '"')
	dst = append(dst, s[:i]...)
	if i < len(s) {
		dst = escape(dst, s[i:])
	}
	return append(dst, '"')
}

// plainRun returns the length of the run at the start of s that String
// writes as it is. Values are mostly a few bytes long, so the bytes are
// tested eight at a time, a short string in one go (two overlapping
// loads, the spare lanes filled with a safe 'A'); the exact place of a
// byte that needs escaping is then found byte by byte.
func plainRun(s string) int {
	n := len(s)
	var x uint64
	switch {
	case n >= 8:
		i := 0
		for ; i+8 <= n; i += 8 {
			if needsEscape(load64(s, i)) {
				return slowRun(s, i)
			}
		}
		// the last bytes, overlapping those already seen to be safe
		if i == n || !needsEscape(load64(s, n-8)) {
			return n
		}
		return slowRun(s, i)
	case n >= 4:
		x = load32(s, 0) | load32(s, n-4)<<32
	case n >= 2:
		x = load16(s, 0) | load16(s, n-2)<<16 | 0x4141414100000000
	case n == 1:
		x = uint64(s[0]) | 0x4141414141414100
	default:
		return 0
	}
	if !needsEscape(x) {
		return n
	}
	return slowRun(s, 0)
}

func slowRun(s string, i int) int {
	for i < len(s) && safe[s[i]] {
		i++
	}
	return i
}

func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func load32(s string, i int) uint64 {
	s = s[i : i+4]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24
}

func load16(s string, i int) uint64 {
	s = s[i : i+2]
	return uint64(s[0]) | uint64(s[1])<<8
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// needsEscape reports whether one of the eight bytes of x is not safe: a
// control byte (below 0x20: subtracting 0x20 borrows), a quote or
// backslash (a zero byte once xored with it), or not ASCII (high bit).
// Without such a byte no borrow crosses bytes, so there is no false
// alarm.
func needsEscape(x uint64) bool {
	q := x ^ (ones * '"')
	b := x ^ (ones * '\\')
	return ((x-ones*0x20)|(q-ones)&^q|(b-ones)&^b|x)&highs != 0
}

// escape appends s, whose first byte is not safe, escaped as String
// does, without the quotes.
func escape(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if safe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// Int appends n.
func Int(dst []byte, n int64) []byte {
	if n >= 0 && n < 100 { // claim and line counts, indices of small files
		return appendSmall(dst, uint64(n))
	}
	return strconv.AppendInt(dst, n, 10)
}

// pairs holds "00" to "99": two digits per lookup.
const pairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// appendSmall appends u < 100.
func appendSmall(dst []byte, u uint64) []byte {
	if u < 10 {
		return append(dst, byte('0'+u))
	}
	return append(dst, pairs[2*u], pairs[2*u+1])
}

// appendUint appends u in decimal, two digits at a time.
func appendUint(dst []byte, u uint64) []byte {
	if u < 100 {
		return appendSmall(dst, u)
	}
	var b [20]byte
	i := len(b)
	for u >= 100 {
		q := u / 100
		r := u - q*100
		i -= 2
		b[i], b[i+1] = pairs[2*r], pairs[2*r+1]
		u = q
	}
	if u >= 10 {
		i -= 2
		b[i], b[i+1] = pairs[2*u], pairs[2*u+1]
	} else {
		i--
		b[i] = byte('0' + u)
	}
	return append(dst, b[i:]...)
}

// Float appends f as the shortest decimal that reads back as f, as
// encoding/json does; NaN and infinities, which JSON cannot hold, as
// null.
func Float(dst []byte, f float64) []byte {
	// Whole numbers (units, days, counts) are most of what the 835
	// sends: their shortest decimal is their digits. -0 is "-0" to
	// strconv, so it takes the general path.
	if f >= 1 && f < 1e15 || f <= -1 && f > -1e15 {
		if i := int64(f); float64(i) == f {
			if i < 0 {
				return appendUint(append(dst, '-'), uint64(-i))
			}
			return appendUint(dst, uint64(i))
		}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		dst = strconv.AppendFloat(dst, f, 'e', -1, 64)
		// 1e-07 as encoding/json writes it: 1e-7
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
		return dst
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

// Bool appends true or false.
func Bool(dst []byte, v bool) []byte { return strconv.AppendBool(dst, v) }

// Cents appends an amount in cents as a JSON number with exactly two
// decimals: 1481.99, -0.06, 12.00.
func Cents(dst []byte, v int64) []byte {
	var u uint64
	if v < 0 {
		dst = append(dst, '-')
		u = -uint64(v) // math.MinInt64 too
	} else {
		u = uint64(v)
	}
	dst = appendUint(dst, u/100)
	c := u % 100
	return append(dst, '.', pairs[2*c], pairs[2*c+1])
}

// Date8 appends a CCYYMMDD date held as the number 20190816 as the JSON
// string "2019-08-16". Only the last eight digits are written (the
// model's dates are valid CCYYMMDD; a negative one is written as zeros).
func Date8(dst []byte, d int32) []byte {
	v := uint32(d)
	if d < 0 {
		v = 0
	}
	ymd := v % 100000000
	y, md := ymd/10000, ymd%10000
	m, dd := md/100, md%100
	c, yy := y/100, y%100
	return append(dst, '"', pairs[2*c], pairs[2*c+1], pairs[2*yy], pairs[2*yy+1], '-',
		pairs[2*m], pairs[2*m+1], '-', pairs[2*dd], pairs[2*dd+1], '"')
}

// DateText appends a date sent as CCYYMMDD text as "2019-08-16", and a
// YYMMDD one (ISA, TA1) as "20YY-MM-DD". Text of any other shape is
// written as sent, so nothing is lost (the validator reports it).
func DateText(dst []byte, s string) []byte {
	if len(s) == 6 && digits(s) {
		dst = append(dst, '"', '2', '0')
		dst = append(dst, s[0:2]...)
		dst = append(dst, '-')
		dst = append(dst, s[2:4]...)
		dst = append(dst, '-')
		dst = append(dst, s[4:6]...)
		return append(dst, '"')
	}
	if len(s) != 8 || !digits(s) {
		return String(dst, s)
	}
	dst = append(dst, '"')
	dst = append(dst, s[0:4]...)
	dst = append(dst, '-')
	dst = append(dst, s[4:6]...)
	dst = append(dst, '-')
	dst = append(dst, s[6:8]...)
	return append(dst, '"')
}

// TimeText appends an X12 time, HHMM[SS[d..]], as "HH:MM" or
// "HH:MM:SS[.d..]"; text of any other shape as sent.
func TimeText(dst []byte, s string) []byte {
	if len(s) < 4 || len(s) == 5 || !digits(s) {
		return String(dst, s)
	}
	dst = append(dst, '"')
	dst = append(dst, s[0:2]...)
	dst = append(dst, ':')
	dst = append(dst, s[2:4]...)
	if len(s) >= 6 {
		dst = append(dst, ':')
		dst = append(dst, s[4:6]...)
		if len(s) > 6 {
			dst = append(dst, '.')
			dst = append(dst, s[6:]...)
		}
	}
	return append(dst, '"')
}

// AmountText appends a monetary amount sent as X12 decimal text ("100",
// "-.5", "12.25") as a JSON number with two decimals (100.00); text that
// is not such an amount is written as a string, as sent.
func AmountText(dst []byte, s string) []byte {
	cents, ok := parseCents(s)
	if !ok {
		return String(dst, s)
	}
	return Cents(dst, cents)
}

// NumberText appends a quantity sent as X12 decimal text as a JSON
// number, its digits as sent ("3", "1.5"); text that is not a decimal
// number is written as a string.
func NumberText(dst []byte, s string) []byte {
	if !decimal(s) {
		return String(dst, s)
	}
	neg := s[0] == '-'
	if neg {
		dst = append(dst, '-')
		s = s[1:]
	}
	// JSON wants a digit before the point and no leading zeros.
	for len(s) > 1 && s[0] == '0' && s[1] != '.' {
		s = s[1:]
	}
	if s[0] == '.' {
		dst = append(dst, '0')
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return append(dst, s...)
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// decimal reports whether s is [-]digits[.digits] with at least one digit
// and at most 18 of them.
func decimal(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	n, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			n++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return n > 0 && n <= 18
}

func parseCents(s string) (int64, bool) {
	if !decimal(s) {
		return 0, false
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var v int64
	i := 0
	for ; i < len(s) && s[i] != '.'; i++ {
		v = v*10 + int64(s[i]-'0')
	}
	if i > 15 {
		return 0, false
	}
	v *= 100
	if i < len(s) {
		frac := s[i+1:]
		if len(frac) > 2 {
			return 0, false
		}
		if len(frac) > 0 {
			v += int64(frac[0]-'0') * 10
		}
		if len(frac) > 1 {
			v += int64(frac[1] - '0')
		}
	}
	if neg {
		v = -v
	}
	return v, true
}

// Date, Time, Amount and Number are text fields as X12 sends them that
// marshal in the JSON style of the 835, 999 and 277CA (docs/835.md):
// "2019-08-16", "12:30", 123.40 and 3. Text of another shape is written
// as a string, as sent; the empty string as "" (use omitempty to leave it
// out).
type (
	Date   string
	Time   string
	Amount string
	Number string
)

// MarshalJSON writes the date as DateText does.
func (d Date) MarshalJSON() ([]byte, error) { return DateText(nil, string(d)), nil }

// MarshalJSON writes the time as TimeText does.
func (t Time) MarshalJSON() ([]byte, error) { return TimeText(nil, string(t)), nil }

// MarshalJSON writes the amount as AmountText does.
func (a Amount) MarshalJSON() ([]byte, error) { return AmountText(nil, string(a)), nil }

// MarshalJSON writes the number as NumberText does.
func (n Number) MarshalJSON() ([]byte, error) { return NumberText(nil, string(n)), nil }

// TA1 is an interchange acknowledgment (x12.TA1) in that style.
type TA1 struct {
	Control string `json:"control"`
	Date    Date   `json:"date"`
	Time    Time   `json:"time"`
	Ack     string `json:"ack"`
	Note    string `json:"note"`
}
