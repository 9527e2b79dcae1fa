package claim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Money is an amount in cents. X12 monetary amounts carry at most two
// decimals, so an integer keeps sums exact.
type Money int64

// ParseMoney parses a decimal amount such as "123", "123.4" or "-0.50".
// It rejects more than two decimals, exponents and thousands separators.
func ParseMoney(s string) (Money, error) {
	orig := s
	if s == "" {
		return 0, errors.New("empty amount")
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && (!hasDot || frac == "") {
		return 0, fmt.Errorf("amount %q has no digits", orig)
	}
	if len(frac) > 2 {
		return 0, fmt.Errorf("amount %q has more than two decimals", orig)
	}
	var cents int64
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, fmt.Errorf("amount %q is not a decimal number", orig)
			}
		}
	}
	if len(whole) > 15 {
		return 0, fmt.Errorf("amount %q is too large", orig)
	}
	for i := 0; i < len(whole); i++ {
		cents = cents*10 + int64(whole[i]-'0')
	}
	cents *= 100
	switch len(frac) {
	case 1:
		cents += int64(frac[0]-'0') * 10
	case 2:
		cents += int64(frac[0]-'0')*10 + int64(frac[1]-'0')
	}
	if neg {
		cents = -cents
	}
	return Money(cents), nil
}

// String formats m the X12 way: no trailing zeros after the decimal point
// and no decimal point for whole amounts ("100", "100.5", "-0.25").
func (m Money) String() string {
	return string(m.AppendX12(nil))
}

// AppendX12 appends m formatted as String does, without allocating when dst
// has room.
func (m Money) AppendX12(dst []byte) []byte {
	v := int64(m)
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	dst = strconv.AppendInt(dst, v/100, 10)
	c := v % 100
	switch {
	case c == 0:
	case c%10 == 0:
		dst = append(dst, '.', byte('0'+c/10))
	default:
		dst = append(dst, '.', byte('0'+c/10), byte('0'+c%10))
	}
	return dst
}

// MarshalJSON writes m as a JSON number with two decimals.
func (m Money) MarshalJSON() ([]byte, error) {
	v := int64(m)
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return []byte(fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)), nil
}

// UnmarshalJSON accepts a JSON number or a string holding one.
func (m *Money) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := ParseMoney(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Date is a calendar date with no time of day or zone, as X12 D8 dates
// are. The zero Date means "not given".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses YYYY-MM-DD (the JSON and CSV form) or CCYYMMDD (X12 D8)
// and rejects impossible dates such as 2023-02-29.
func ParseDate(s string) (Date, error) {
	layout := "2006-01-02"
	if len(s) == 8 {
		layout = "20060102"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q is not a valid YYYY-MM-DD date", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// IsZero reports whether d was not given.
func (d Date) IsZero() bool { return d == Date{} }

// Time returns midnight UTC of d.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Time().Before(e.Time()) }

// String formats d as YYYY-MM-DD, or "" for the zero date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// D8 formats d as CCYYMMDD, the X12 date format.
func (d Date) D8() string {
	return fmt.Sprintf("%04d%02d%02d", d.Year, int(d.Month), d.Day)
}

// MarshalJSON writes d as "YYYY-MM-DD" (or null when zero).
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads "YYYY-MM-DD"; null or "" leave d zero.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date must be a string: %w", err)
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
