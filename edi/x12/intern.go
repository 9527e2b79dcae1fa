package x12

import "encoding/binary"

// Interner hands out short byte strings as shared strings: a direct-mapped
// table, so a repeated code, qualifier or date costs a hash and a compare
// instead of an allocation, and memory stays fixed however many distinct
// values a file holds. The zero value is not usable; see NewInterner.
type Interner struct {
	tab   []string
	shift uint
}

// NewInterner returns an Interner with 2^bits slots (bits from 4 to 16).
func NewInterner(bits uint) *Interner {
	bits = min(max(bits, 4), 16)
	return &Interner{tab: make([]string, 1<<bits), shift: 64 - bits}
}

// String returns b as a string, shared with earlier calls for the same
// bytes while they keep their slot. Values longer than 16 bytes are not
// interned.
func (c *Interner) String(b []byte) string {
	n := len(b)
	if n == 0 {
		return ""
	}
	if n > 16 {
		return string(b)
	}
	// Hash the first and last bytes (overlapping for short values).
	var x uint64
	switch {
	case n >= 8:
		x = binary.LittleEndian.Uint64(b) ^ binary.LittleEndian.Uint64(b[n-8:])<<7
	case n >= 4:
		x = uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32
	default:
		x = uint64(b[0]) | uint64(b[n/2])<<8 | uint64(b[n-1])<<16
	}
	e := &c.tab[((x^uint64(n))*0x9E3779B97F4A7C15)>>c.shift]
	if *e == string(b) {
		return *e
	}
	*e = string(b)
	return *e
}

// Split splits b on sep into out, at most len(out) parts (the last part
// keeps the rest), and returns the number of parts. A typed reader that
// reads most elements of a segment splits it once this way.
func Split(b []byte, sep byte, out [][]byte) int {
	n, start, last := 0, 0, len(out)-1
	for i := 0; i < len(b) && n < last; i++ {
		if b[i] == sep {
			out[n] = b[start:i]
			n++
			start = i + 1
		}
	}
	out[n] = b[start:]
	return n + 1
}
