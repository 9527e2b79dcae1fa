package x835

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Amount is a monetary amount in cents. X12 amounts carry at most two
// decimals, so an integer keeps every sum and balance exact.
type Amount int64

// maxWholeDigits bounds the integer part of an amount so that cents fit in
// an int64 with room for sums; X12 R elements are at most 18 digits.
const maxWholeDigits = 15

var (
	errAmountEmpty    = errors.New("empty amount")
	errAmountSyntax   = errors.New("not a decimal number")
	errAmountDecimals = errors.New("more than two decimals")
	errAmountLarge    = errors.New("too large")
)

// ParseAmount parses an X12 decimal amount such as "100", "100.5", "-.06"
// or "1481.99" into cents. It rejects more than two decimals, signs other
// than a leading minus, exponents and more than 15 integer digits. It does
// not allocate.
func ParseAmount(b []byte) (Amount, error) {
	if len(b) == 0 {
		return 0, errAmountEmpty
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	var whole int64
	i := 0
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		whole = whole*10 + int64(d)
	}
	if i > maxWholeDigits {
		return 0, errAmountLarge
	}
	cents := whole * 100
	digits := i
	if i < len(b) {
		if b[i] != '.' {
			return 0, errAmountSyntax
		}
		frac := b[i+1:]
		switch len(frac) {
		case 0:
		case 1:
			d := frac[0] - '0'
			if d > 9 {
				return 0, errAmountSyntax
			}
			cents += int64(d) * 10
		case 2:
			d1, d2 := frac[0]-'0', frac[1]-'0'
			if d1 > 9 || d2 > 9 {
				return 0, errAmountSyntax
			}
			cents += int64(d1)*10 + int64(d2)
		default:
			for _, c := range frac {
				if c < '0' || c > '9' {
					return 0, errAmountSyntax
				}
			}
			return 0, errAmountDecimals
		}
		digits += len(frac)
	}
	if digits == 0 {
		return 0, errAmountSyntax
	}
	if neg {
		cents = -cents
	}
	return Amount(cents), nil
}

// AppendX12 appends a formatted the X12 way: no trailing zeros after the
// decimal point and no point for whole amounts ("100", "100.5", "-0.06").
func (a Amount) AppendX12(dst []byte) []byte {
	v := int64(a)
	var u uint64
	if v < 0 {
		dst = append(dst, '-')
		u = uint64(-v)
	} else {
		u = uint64(v)
	}
	dst = strconv.AppendUint(dst, u/100, 10)
	switch c := u % 100; {
	case c == 0:
	case c%10 == 0:
		dst = append(dst, '.', byte('0'+c/10))
	default:
		dst = append(dst, '.', byte('0'+c/10), byte('0'+c%10))
	}
	return dst
}

// String formats a as AppendX12 does.
func (a Amount) String() string { return string(a.AppendX12(nil)) }

// Fixed formats a with exactly two decimals ("12.00", "-0.06"), as
// spreadsheets and JSON consumers expect.
func (a Amount) Fixed() string { return string(a.appendFixed(nil)) }

func (a Amount) appendFixed(dst []byte) []byte {
	v := int64(a)
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

// MarshalJSON writes a as a JSON number with two decimals, e.g. 1481.99.
func (a Amount) MarshalJSON() ([]byte, error) { return a.appendFixed(nil), nil }

// UnmarshalJSON accepts a JSON number or a string holding one.
func (a *Amount) UnmarshalJSON(b []byte) error {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	v, err := ParseAmount(b)
	if err != nil {
		return fmt.Errorf("x835: amount %q: %w", b, err)
	}
	*a = v
	return nil
}

// parseQuantity parses an X12 R value (units, days, counts) without
// allocating. Values of at most 15 significant digits parse exactly as
// strconv.ParseFloat would: the mantissa and the power of ten are both
// exact in a float64, and one IEEE division rounds correctly.
func parseQuantity(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	var m uint64
	digits, frac, dot := 0, 0, false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if m == 0 && c == '0' && !dot {
				digits = max(digits, 1)
				continue // leading zeros do not count
			}
			m = m*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 {
		return 0, false
	}
	if digits > 15 || frac > 22 {
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return 0, false
		}
		if neg {
			f = -f
		}
		return f, true
	}
	f := float64(m)
	if frac > 0 {
		f /= math.Pow10(frac)
	}
	if neg {
		f = -f
	}
	return f, true
}

// appendQuantity formats a quantity the X12 way: shortest decimal, no
// exponent, no trailing zeros.
func appendQuantity(dst []byte, q float64) []byte {
	if q == math.Trunc(q) && math.Abs(q) < 1e15 {
		return strconv.AppendInt(dst, int64(q), 10)
	}
	return strconv.AppendFloat(dst, q, 'f', -1, 64)
}

// Date is an X12 D8 date held as the number CCYYMMDD (20190816). The zero
// Date means "not given". It marshals to JSON as "2019-08-16".
type Date int32

// parseDate8 turns an 8-digit CCYYMMDD element into a Date; it checks the
// shape, not the calendar (the validator does that).
func parseDate8(b []byte) (Date, bool) {
	if len(b) != 8 {
		return 0, false
	}
	var n int32
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int32(c-'0')
	}
	return Date(n), true
}

// NewDate returns the Date for a calendar day.
func NewDate(year int, month time.Month, day int) Date {
	return Date(year*10000 + int(month)*100 + day)
}

// DateOf returns the Date of t's calendar day in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return NewDate(y, m, d)
}

// Year, Month and Day split the date.
func (d Date) Year() int         { return int(d) / 10000 }
func (d Date) Month() time.Month { return time.Month(int(d) / 100 % 100) }
func (d Date) Day() int          { return int(d) % 100 }

// Time returns the date as midnight UTC.
func (d Date) Time() time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}

// appendD8 appends the date as CCYYMMDD.
func (d Date) appendD8(dst []byte) []byte {
	v := int(d)
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, b[:]...)
}

// D8 formats the date as X12 does, "20190816"; "" for the zero Date.
func (d Date) D8() string {
	if d == 0 {
		return ""
	}
	return string(d.appendD8(nil))
}

// String formats the date as YYYY-MM-DD; "" for the zero Date.
func (d Date) String() string {
	if d == 0 {
		return ""
	}
	b := d.appendD8(make([]byte, 0, 10))
	return string(b[:4]) + "-" + string(b[4:6]) + "-" + string(b[6:])
}

// MarshalJSON writes "2019-08-16", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d == 0 {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON accepts "2019-08-16", "20190816" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*d = 0
		return nil
	}
	s, err := strconv.Unquote(s)
	if err != nil {
		return fmt.Errorf("x835: date %s is not a JSON string", b)
	}
	if len(s) == 10 && s[4] == '-' && s[7] == '-' {
		s = s[:4] + s[5:7] + s[8:]
	}
	v, ok := parseDate8([]byte(s))
	if !ok {
		return fmt.Errorf("x835: date %q is not YYYY-MM-DD", s)
	}
	*d = v
	return nil
}
