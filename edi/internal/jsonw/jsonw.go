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
	dst = append(dst, '"')
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
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Int appends n.
func Int(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }

// Float appends f as the shortest decimal that reads back as f, as
// encoding/json does; NaN and infinities, which JSON cannot hold, as
// null.
func Float(dst []byte, f float64) []byte {
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
		u = uint64(-v)
	} else {
		u = uint64(v)
	}
	dst = strconv.AppendUint(dst, u/100, 10)
	c := u % 100
	return append(dst, '.', byte('0'+c/10), byte('0'+c%10))
}

// Date8 appends a CCYYMMDD date held as the number 20190816 as the JSON
// string "2019-08-16".
func Date8(dst []byte, d int32) []byte {
	v := int(d)
	var b [10]byte
	for i := 9; i >= 0; i-- {
		if i == 4 || i == 7 {
			b[i] = '-'
			continue
		}
		b[i] = byte('0' + v%10)
		v /= 10
	}
	dst = append(dst, '"')
	dst = append(dst, b[:]...)
	return append(dst, '"')
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
