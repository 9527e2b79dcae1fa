package x835

import "sync"

// Small direct-mapped caches keep the reader's steady state free of map
// lookups and allocations for the values that repeat on every claim:
// codes and qualifiers, adjustment reason codes, remark codes and denial
// categories. A collision only costs a lookup or an allocation.

const cacheBits = 9

// caches are the memo tables of one parser. They are large (tens of KB)
// and their contents hold for any file, so parsers borrow them from a
// pool instead of allocating them per reader or per transaction set.
type caches struct {
	strs, carcs, rarcs strCache
	cats               categoryCache
}

var cachePool = sync.Pool{New: func() any { return new(caches) }}

// packKey packs up to 8 bytes into a key; ok is false for longer values.
func packKey(b []byte) (uint64, bool) {
	if len(b) > 8 {
		return 0, false
	}
	var k uint64
	for _, c := range b {
		k = k<<8 | uint64(c)
	}
	return k, true
}

func slotOf(k uint64, n int) uint64 {
	return ((k ^ uint64(n)<<59) * 0x9E3779B97F4A7C15) >> (64 - cacheBits)
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
	e := &c[slotOf(k, len(b))]
	if e.n == uint8(len(b)) && e.key == k && e.n != 0 {
		return e, true
	}
	e.key, e.n, e.s, e.flag = k, uint8(len(b)), "", 0
	return e, false
}

const (
	codeKnown uint8 = 1 << iota
	codeDeactivated
)

// lookupCode resolves a CARC or RARC through the cache: its string (the
// code list's own when known) and flags.
func lookupCode(c *strCache, b []byte, carc bool) (string, uint8) {
	e, hit := c.entry(b)
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
// at most one remark code, which covers nearly all of them.
type categoryCache [1 << catBits]struct {
	k1, k2 uint64 // group+reason packed, remark packed
	cat    string
}

func (c *categoryCache) classify(group, reason string, rarcs []string) string {
	var r string
	if len(rarcs) == 1 {
		r = rarcs[0]
	}
	if len(rarcs) > 1 || len(group) > 2 || len(reason) > 5 || len(r) > 7 {
		return classify(group, reason, rarcs)
	}
	// group (2) + reason (5) + their lengths; remark (7) + its length
	k1 := uint64(len(group))<<60 | uint64(len(reason))<<56
	for i := 0; i < len(group); i++ {
		k1 |= uint64(group[i]) << (48 - 8*i)
	}
	for i := 0; i < len(reason); i++ {
		k1 |= uint64(reason[i]) << (32 - 8*i)
	}
	k2 := uint64(len(r)) << 56
	for i := 0; i < len(r); i++ {
		k2 |= uint64(r[i]) << (48 - 8*i)
	}
	e := &c[((k1^k2*0x2545F4914F6CDD1D)*0x9E3779B97F4A7C15)>>(64-catBits)]
	if e.cat != "" && e.k1 == k1 && e.k2 == k2 {
		return e.cat
	}
	e.k1, e.k2, e.cat = k1, k2, classify(group, reason, rarcs)
	return e.cat
}
