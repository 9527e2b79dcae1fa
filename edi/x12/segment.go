package x12

import (
	"bytes"
	"fmt"
)

// Delimiters are the four separator characters of an interchange, read
// from its ISA segment.
type Delimiters struct {
	Element    byte // ISA character 4
	Repetition byte // ISA11 (0 when the interchange has none, as in 4010)
	Component  byte // ISA16
	Segment    byte // the character after ISA16
}

// DefaultDelimiters are the delimiters most 5010 files use: * ^ : ~.
var DefaultDelimiters = Delimiters{Element: '*', Repetition: '^', Component: ':', Segment: '~'}

// Has reports whether c is one of the delimiters.
func (d Delimiters) Has(c byte) bool {
	return c == d.Element || c == d.Segment || c == d.Component || (d.Repetition != 0 && c == d.Repetition)
}

// Validate checks that the delimiters are distinct and not letters or
// digits, which would make the data ambiguous.
func (d Delimiters) Validate() error {
	all := []struct {
		name string
		c    byte
	}{{"element", d.Element}, {"segment", d.Segment}, {"component", d.Component}, {"repetition", d.Repetition}}
	for i, a := range all {
		if a.c == 0 && a.name == "repetition" {
			continue
		}
		if isAlnum(a.c) || a.c == ' ' || a.c == 0 {
			return fmt.Errorf("%s separator %q is a letter, digit, space or NUL", a.name, a.c)
		}
		for _, b := range all[i+1:] {
			if b.c != 0 && a.c == b.c {
				return fmt.Errorf("%s and %s separators are both %q", a.name, b.name, a.c)
			}
		}
	}
	return nil
}

func (d Delimiters) String() string {
	return fmt.Sprintf("element %q component %q repetition %q segment %q", d.Element, d.Component, d.Repetition, d.Segment)
}

// Segment is a view of one segment. Its byte slices point into the
// Reader's buffer and are valid only until the next call to Reader.Next;
// Clone makes a copy that lives on. Elements are located on first use, so
// a caller that only looks at segment ids pays nothing for splitting.
type Segment struct {
	raw []byte
	// ends[i] is the index in raw just past element i (0 = the id);
	// empty until the segment is split.
	ends []int32
	// scratch, when set, is the Reader's reusable storage for ends.
	scratch *[]int32
	id      string
	delim   Delimiters

	// Offset is the byte offset of the segment's first byte in the input.
	Offset int64
	// Num is the 1-based number of the segment in the input.
	Num int
	// SetPos is the position within the current transaction set, ST = 1,
	// or 0 outside a set.
	SetPos int
}

// ID is the segment identifier, e.g. "CLM".
func (s *Segment) ID() string { return s.id }

// Is reports whether the segment's id is id.
func (s *Segment) Is(id string) bool { return s.id == id }

// Raw is the segment's bytes without its terminator.
func (s *Segment) Raw() []byte { return s.raw }

// Delimiters are the delimiters of the interchange the segment is in.
func (s *Segment) Delimiters() Delimiters { return s.delim }

// Len is the number of elements after the segment id, counting empty
// ones up to the last separator.
func (s *Segment) Len() int {
	s.ensure()
	return len(s.ends) - 1
}

// Element returns element i, 1-based as X12 counts (CLM01 is Element(1)),
// or nil when the segment has fewer elements.
func (s *Segment) Element(i int) []byte {
	s.ensure()
	if i < 1 || i >= len(s.ends) {
		return nil
	}
	return s.raw[s.ends[i-1]+1 : s.ends[i]]
}

// ElementEnds returns where the elements end: element i (0 is the id)
// ends at index ElementEnds()[i] of Raw, so element i ≥ 1 is
// Raw()[ends[i-1]+1 : ends[i]]. Typed readers index it instead of calling
// Element for each element. The slice belongs to the segment: it changes
// with the segment when the Reader moves on.
func (s *Segment) ElementEnds() []int32 {
	s.ensure()
	return s.ends
}

// Text returns element i as a string (it allocates).
func (s *Segment) Text(i int) string { return string(s.Element(i)) }

// Composite returns element i split on the component separator.
func (s *Segment) Composite(i int) Composite {
	return Composite{b: s.Element(i), sep: s.delim.Component}
}

// Component returns component j (1-based) of element i, or nil.
func (s *Segment) Component(i, j int) []byte { return s.Composite(i).Part(j) }

// Repeats is the number of repetitions in element i (1 for a plain
// non-empty element, 0 for an empty one).
func (s *Segment) Repeats(i int) int {
	e := s.Element(i)
	if len(e) == 0 {
		return 0
	}
	if s.delim.Repetition == 0 {
		return 1
	}
	return bytes.Count(e, []byte{s.delim.Repetition}) + 1
}

// Repeat returns repetition k (1-based) of element i as a composite.
func (s *Segment) Repeat(i, k int) Composite {
	e := s.Element(i)
	if s.delim.Repetition == 0 {
		if k == 1 {
			return Composite{b: e, sep: s.delim.Component}
		}
		return Composite{sep: s.delim.Component}
	}
	return Composite{b: nthPart(e, s.delim.Repetition, k), sep: s.delim.Component}
}

// Clone returns a copy of s that does not share the Reader's buffer.
func (s *Segment) Clone() Segment {
	s.ensure()
	c := *s
	c.raw = bytes.Clone(s.raw)
	c.ends = append([]int32(nil), s.ends...)
	c.scratch = nil
	return c
}

// String is the segment's text with its own element separator, for
// messages and debugging.
func (s *Segment) String() string { return string(s.raw) }

// Composite is an element viewed as components.
type Composite struct {
	b   []byte
	sep byte
}

// Bytes is the whole element.
func (c Composite) Bytes() []byte { return c.b }

// Len is the number of components (0 for an empty element).
func (c Composite) Len() int {
	if len(c.b) == 0 {
		return 0
	}
	return bytes.Count(c.b, []byte{c.sep}) + 1
}

// Part returns component j, 1-based, or nil.
func (c Composite) Part(j int) []byte { return nthPart(c.b, c.sep, j) }

// nthPart returns the k-th (1-based) sep-separated part of b.
func nthPart(b []byte, sep byte, k int) []byte {
	if k < 1 {
		return nil
	}
	for ; k > 1; k-- {
		i := bytes.IndexByte(b, sep)
		if i < 0 {
			return nil
		}
		b = b[i+1:]
	}
	if i := bytes.IndexByte(b, sep); i >= 0 {
		return b[:i]
	}
	return b
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// NewSegment builds a segment from its text, for tests and for callers
// holding a segment outside any Reader.
func NewSegment(text string, d Delimiters) Segment {
	s := Segment{raw: []byte(text), delim: d}
	s.id = string(s.raw[:idEnd(s.raw, d.Element)])
	s.ensure()
	return s
}

// idEnd is the length of the segment id at the start of raw.
func idEnd(raw []byte, sep byte) int {
	for i := 0; i < len(raw) && i < 4; i++ {
		if raw[i] == sep {
			return i
		}
	}
	if i := bytes.IndexByte(raw, sep); i >= 0 {
		return i
	}
	return len(raw)
}

// ensure locates the element separators once.
func (s *Segment) ensure() {
	if len(s.ends) > 0 {
		return
	}
	var ends []int32
	if s.scratch != nil {
		ends = (*s.scratch)[:0]
	}
	raw, sep := s.raw, s.delim.Element
	for i := range raw {
		if raw[i] == sep {
			ends = append(ends, int32(i))
		}
	}
	ends = append(ends, int32(len(raw)))
	if s.scratch != nil {
		*s.scratch = ends
	}
	s.ends = ends
}

// idCache interns segment ids so steady-state reading allocates nothing:
// a small direct-mapped table keyed by the id's bytes, which also
// remembers whether the id is well formed and whether it is an envelope
// segment that moves the set position.
type idCache [256]idEntry

type idEntry struct {
	key   uint32
	id    string
	valid bool
	pos   int8 // 1: ST starts a set; 2: SE ends one; -1: GS/GE/IEA are outside any set
}

// get returns the entry for the id at the start of raw, or nil for an id
// that is not 2 or 3 bytes long.
func (c *idCache) get(raw []byte, sep byte) *idEntry {
	var n int
	switch {
	case len(raw) == 2 || len(raw) > 2 && raw[2] == sep:
		n = 2
	case len(raw) == 3 || len(raw) > 3 && raw[3] == sep:
		n = 3
	default:
		return nil
	}
	key := uint32(n)<<24 | uint32(raw[0])<<16 | uint32(raw[1])<<8
	if n == 3 {
		key |= uint32(raw[2])
	}
	h := (key * 2654435761) >> 24
	if e := &c[h]; e.key == key {
		return e
	}
	return c.miss(raw[:n], key, h)
}

// miss finds or adds an id that is not in its first slot. Four-way
// probing lets ids whose hashes collide (AMT and SVC do) each keep a slot
// instead of evicting each other on every segment.
func (c *idCache) miss(id []byte, key, h uint32) *idEntry {
	var e *idEntry
	for i := uint32(1); i < 4; i++ {
		x := &c[(h+i)&255]
		if x.key == key {
			return x
		}
		if x.key == 0 && e == nil {
			e = x
		}
	}
	if first := &c[h]; first.key == 0 {
		e = first
	} else if e == nil {
		e = first // all four taken: evict the first
	}
	e.key, e.id = key, string(id)
	e.valid = validID(e.id)
	switch e.id {
	case "ST":
		e.pos = 1
	case "SE":
		e.pos = 2
	case "GS", "GE", "IEA":
		e.pos = -1
	default:
		e.pos = 0
	}
	return e
}
