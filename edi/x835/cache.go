package x835

import (
	"encoding/binary"
	"sync"
)

// Small direct-mapped caches keep the reader's steady state free of map
// lookups and allocations for the values that repeat on every claim:
// codes and qualifiers, adjustment reason codes, remark codes and denial
// categories. A collision only costs a lookup or an allocation.

const cacheBits = 9

// caches are the memo tables of one parser. They are large (tens of KB)
// and their contents hold for any file, so parsers borrow them from a
// pool instead of allocating them per reader or per transaction set.
type caches struct {
	short       shortCache
	strs, rarcs strCache
	carcs       carcCache
	cats        categoryCache
}

var cachePool = sync.Pool{New: func() any { return new(caches) }}

// packKey packs up to 8 bytes into a key (little-endian, zero above the
// value); ok is false for longer values.
func packKey(b []byte) (uint64, bool) {
	n := len(b)
	if n > 8 {
		return 0, false
	}
	if cap(b) >= 8 {
		// one load (b is usually a view into the reader's buffer): the
		// bytes past the value, within b's capacity, are masked off
		return binary.LittleEndian.Uint64(b[:8]) & (1<<(8*n) - 1), true
	}
	var k uint64
	for i := n - 1; i >= 0; i-- {
		k = k<<8 | uint64(b[i])
	}
	return k, true
}

// alnum36 numbers the upper-case letters and digits 0..35; other bytes
// are 255.
var alnum36 = func() (t [256]uint8) {
	for i := range t {
		t[i] = 255
	}
	for i, c := range "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" {
		t[c] = uint8(i)
	}
	return t
}()

// shortCache interns values of one or two letters or digits — most
// qualifiers and many codes — by direct index: no hashing, no collisions.
type shortCache struct {
	one [36]string
	two [36 * 36]string
}

// get returns the interned string for b (1 or 2 bytes), or ok false when
// b has another character.
func (c *shortCache) get(b []byte) (string, bool) {
	var p *string
	if len(b) == 1 {
		x := alnum36[b[0]]
		if x >= 36 {
			return "", false
		}
		p = &c.one[x]
	} else {
		x, y := alnum36[b[0]], alnum36[b[1]]
		if x >= 36 || y >= 36 {
			return "", false
		}
		p = &c.two[int(x)*36+int(y)]
	}
	if *p == "" {
		*p = string(b)
	}
	return *p, true
}

func slotOf(k uint64, n int, bits uint) uint64 {
	return ((k ^ uint64(n)<<59) * 0x9E3779B97F4A7C15) >> (64 - bits)
}

type strEntry struct {
	key  uint64
	n    uint8
	s    string
	flag uint8 // code caches: known, deactivated
}

// strCache interns short strings.
type strCache [1 << cacheBits]strEntry

// get returns b as a string, reusing the string made for the same bytes
// before.
func (c *strCache) get(b []byte) string {
	e, hit := c.entry(b)
	if hit {
		return e.s
	}
	s := string(b)
	if e != nil {
		e.s = s
	}
	return s
}

// entry returns b's slot and whether it already holds b; nil for a value
// too long to cache. On a miss the slot is claimed for b (its s and flag
// are the caller's to fill).
func (c *strCache) entry(b []byte) (*strEntry, bool) {
	k, ok := packKey(b)
	if !ok {
		return nil, false
	}
	e := &c[slotOf(k, len(b), cacheBits)]
	if e.n == uint8(len(b)) && e.key == k && e.n != 0 {
		return e, true
	}
	e.key, e.n, e.s, e.flag = k, uint8(len(b)), "", 0
	return e, false
}

// carcBits sizes the CARC cache: a file uses a few dozen reason codes.
const carcBits = 8

// carcEntry is the cache entry of an adjustment reason code, with the
// code's category under each group code when no remark code refines it
// (most lines have none), filled on first use.
type carcEntry struct {
	strEntry
	cats [4]string // by groupIndex
}

type carcCache [1 << carcBits]carcEntry

// entry is strCache.entry for reason codes.
func (c *carcCache) entry(b []byte) (*carcEntry, bool) {
	k, ok := packKey(b)
	if !ok {
		return nil, false
	}
	e := &c[slotOf(k, len(b), carcBits)]
	if e.n == uint8(len(b)) && e.key == k && e.n != 0 {
		return e, true
	}
	e.key, e.n, e.s, e.flag, e.cats = k, uint8(len(b)), "", 0, [4]string{}
	return e, false
}

// category is the category of reason code e.s with group code group (at
// groupIndex g) and no remark codes.
func (e *carcEntry) category(g int, group string) string {
	c := e.cats[g]
	if c == "" {
		c = classify(group, e.s, nil)
		e.cats[g] = c
	}
	return c
}

const (
	codeKnown uint8 = 1 << iota
	codeDeactivated
)

// lookupCode resolves a CARC or RARC for the cache entry e (nil for a
// value too long to cache) unless hit says e already holds it: its string
// (the code list's own when known) and flags.
func lookupCode(e *strEntry, hit bool, b []byte, carc bool) (string, uint8) {
	if hit {
		return e.s, e.flag
	}
	var s string
	var flag uint8
	if carc {
		if code, ok := knownCARC(b); ok {
			s, flag = code.Code, codeKnown
			if code.Deactivated() {
				flag |= codeDeactivated
			}
		}
	} else if code, ok := knownRARC(b); ok {
		s, flag = code.Code, codeKnown
		if code.Deactivated() {
			flag |= codeDeactivated
		}
	}
	if s == "" {
		s = string(b)
	}
	if e != nil {
		e.s, e.flag = s, flag
	}
	return s, flag
}

// catBits sizes the category cache: group × reason × remark combinations
// outnumber single codes.
const catBits = 11

// categoryCache remembers the category of group+reason adjustments with
// at most two remark codes, which covers nearly all of them.
type categoryCache [1 << catBits]struct {
	k1, k2, k3 uint64 // group+reason packed, remarks packed (k3 with their count)
	cat        string
}

// packCode packs a code of at most 7 bytes with its length.
func packCode(s string) uint64 {
	k := uint64(len(s)) << 56
	for i := 0; i < len(s); i++ {
		k |= uint64(s[i]) << (48 - 8*i)
	}
	return k
}

func (c *categoryCache) classify(group, reason string, rarcs []string) string {
	var r1, r2 string
	switch len(rarcs) {
	case 0:
	case 1:
		r1 = rarcs[0]
	case 2:
		r1, r2 = rarcs[0], rarcs[1]
	default:
		return classify(group, reason, rarcs)
	}
	if len(group) > 2 || len(reason) > 5 || len(r1) > 7 || len(r2) > 7 {
		return classify(group, reason, rarcs)
	}
	// group (2) + reason (5) + their lengths
	k1 := uint64(len(group))<<60 | uint64(len(reason))<<56
	for i := 0; i < len(group); i++ {
		k1 |= uint64(group[i]) << (48 - 8*i)
	}
	for i := 0; i < len(reason); i++ {
		k1 |= uint64(reason[i]) << (32 - 8*i)
	}
	k2, k3 := packCode(r1), packCode(r2)|uint64(len(rarcs))<<60
	e := &c[((k1^k2*0x2545F4914F6CDD1D^k3*0x9E3779B97F4A7C15)*0x9E3779B97F4A7C15)>>(64-catBits)]
	if e.cat != "" && e.k1 == k1 && e.k2 == k2 && e.k3 == k3 {
		return e.cat
	}
	e.k1, e.k2, e.k3, e.cat = k1, k2, k3, classify(group, reason, rarcs)
	return e.cat
}
