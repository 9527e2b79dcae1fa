package x12

// Checks for the X12 simple data types, shared by the transaction
// validators. They take byte slices so a view from the Reader can be
// checked without allocating.

// IsDigits reports whether b is non-empty and all ASCII digits.
func IsDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func num(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// ValidDate8 reports whether b is a real CCYYMMDD date (X12 DT, D8).
func ValidDate8(b []byte) bool {
	if len(b) != 8 || !IsDigits(b) {
		return false
	}
	y, m, d := num(b[:4]), num(b[4:6]), num(b[6:])
	return y >= 1800 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)
}

// ValidDate6 reports whether b is a real YYMMDD date (ISA09, TA102).
func ValidDate6(b []byte) bool {
	if len(b) != 6 || !IsDigits(b) {
		return false
	}
	y, m, d := 2000+num(b[:2]), num(b[2:4]), num(b[4:])
	return m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)
}

// ValidTime reports whether b is an X12 TM time: HHMM, HHMMSS, or HHMMSS
// followed by 1 or 2 decimal seconds digits.
func ValidTime(b []byte) bool {
	if !IsDigits(b) {
		return false
	}
	switch len(b) {
	case 4, 6, 7, 8:
	default:
		return false
	}
	if num(b[:2]) > 23 || num(b[2:4]) > 59 {
		return false
	}
	return len(b) == 4 || num(b[4:6]) <= 59
}

// ValidDecimal reports whether b is an X12 R (decimal) value: an optional
// minus sign, digits and at most one decimal point, with at least one digit.
func ValidDecimal(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	digits, dots := 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// ValidNumeric reports whether b is an X12 N0 (integer) value: an optional
// minus sign and digits.
func ValidNumeric(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	return IsDigits(b)
}

// DecimalLen is the length of an R value as X12 counts it: digits only,
// without sign or decimal point.
func DecimalLen(b []byte) int {
	n := 0
	for _, c := range b {
		if c >= '0' && c <= '9' {
			n++
		}
	}
	return n
}

// charClass marks the bytes of the X12 basic and extended character sets.
var charClass = func() (t [256]bool) {
	for c := 0x20; c < 0x7F; c++ {
		t[c] = true
	}
	return t
}()

// BadChar returns the index of the first byte of b outside the X12 basic
// and extended character sets (printable ASCII), or -1.
func BadChar(b []byte) int {
	for i, c := range b {
		if !charClass[c] {
			return i
		}
	}
	return -1
}
