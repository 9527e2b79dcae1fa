package x12

import "strings"

// Usage is an element's or segment's usage in an implementation guide.
type Usage uint8

// Usages: required, situational (may appear), not used (must not appear).
const (
	Situational Usage = iota
	Required
	NotUsed
)

// Type is an X12 simple data type.
type Type uint8

// Data types. N2 is an implied-decimal number (two places).
const (
	AN Type = iota // string
	ID             // identifier from a code list
	N0             // integer
	N2             // number with two implied decimals
	R              // decimal
	DT             // date, CCYYMMDD (D8) or YYMMDD by length
	TM             // time
)

// Elem is the rule for one element, or one component of a composite.
type Elem struct {
	Usage    Usage
	Type     Type
	Min, Max int
	// Codes, when not empty, are the values allowed.
	Codes []string
	// Comp, when not empty, makes the element a composite with these
	// components.
	Comp []Elem
	// Repeat is the most repetitions allowed (0 or 1: no repetition).
	Repeat int
	Name   string
	// PHI marks an element whose value may be protected health
	// information (a patient's name, id, birth date, address, free
	// text): findings about it withhold the value (see Withheld).
	PHI bool
}

// SegSpec is the rule for one segment in one place of an implementation
// guide. Elems[0] is element 01.
type SegSpec struct {
	ID    string
	Name  string
	Elems []Elem
}

// Req, Sit and NU build common element rules.
func Req(t Type, min, max int, codes ...string) Elem {
	return Elem{Usage: Required, Type: t, Min: min, Max: max, Codes: codes}
}

// Sit builds a situational element rule.
func Sit(t Type, min, max int, codes ...string) Elem {
	return Elem{Usage: Situational, Type: t, Min: min, Max: max, Codes: codes}
}

// NU is a not-used element.
var NU = Elem{Usage: NotUsed}

// Check validates seg against the spec and reports each problem: too many
// elements, required elements missing, not-used elements present, lengths,
// data types and code values, for elements and composites alike. A clean
// segment costs no allocation: names and messages are built only for
// findings.
func (s *SegSpec) Check(seg *Segment, loop string, report func(Finding)) {
	c := specCheck{seg: seg, loop: loop, report: report, spec: s}
	if seg.Len() > len(s.Elems) {
		c.rep(len(s.Elems)+1, 0, "tr3.too-many-elements", "%s has %d elements, the guide defines %d", s.ID, seg.Len(), len(s.Elems))
	}
	if seg.Len() > 0 && len(seg.Element(seg.Len())) == 0 {
		f := At(seg, Warning, "segment.trailing-separator", seg.Len(), 0, "%s ends with empty elements (trailing separators)", s.ID)
		f.Loop = loop
		report(f)
	}
	for i := range s.Elems {
		e := &s.Elems[i]
		pos := i + 1
		v := seg.Element(pos)
		if len(v) == 0 {
			if e.Usage == Required {
				c.rep(pos, 0, "tr3.required", "%s is required", c.name(pos, 0))
			}
			continue
		}
		if e.Usage == NotUsed {
			// An element the guide does not use holds whatever the sender
			// put there: in a segment with PHI it may be PHI too.
			phi := s.HasPHI()
			c.repV(pos, 0, v, phi, "tr3.not-used", "%s is not used in this guide but has %s", c.name(pos, 0), c.show(v, phi))
			continue
		}
		reps := 1
		if seg.delim.Repetition != 0 && e.Repeat > 1 {
			reps = seg.Repeats(pos)
			if reps > e.Repeat {
				c.rep(pos, 0, "tr3.repeat", "%s repeats %d times, at most %d allowed", c.name(pos, 0), reps, e.Repeat)
			}
		}
		for k := 1; k <= reps; k++ {
			val := v
			if reps > 1 {
				val = seg.Repeat(pos, k).Bytes()
			}
			if len(e.Comp) == 0 {
				if e.Type != AN && bytesHasByte(val, seg.delim.Component) {
					c.repV(pos, 0, val, e.PHI, "tr3.composite", "%s is a simple element but has components: %s", c.name(pos, 0), c.show(val, e.PHI))
					continue
				}
				c.value(e, val, pos, 0, e.PHI)
				continue
			}
			comp := Composite{b: val, sep: seg.delim.Component}
			if comp.Len() > len(e.Comp) {
				c.rep(pos, len(e.Comp)+1, "tr3.too-many-components", "%s has %d components, the guide defines %d", c.name(pos, 0), comp.Len(), len(e.Comp))
			}
			for j := range e.Comp {
				ce := &e.Comp[j]
				cv := comp.Part(j + 1)
				if len(cv) == 0 {
					if ce.Usage == Required {
						c.rep(pos, j+1, "tr3.required", "%s is required", c.name(pos, j+1))
					}
					continue
				}
				phi := e.PHI || ce.PHI
				if ce.Usage == NotUsed {
					phi = phi || s.HasPHI()
					c.repV(pos, j+1, cv, phi, "tr3.not-used", "%s is not used in this guide but has %s", c.name(pos, j+1), c.show(cv, phi))
					continue
				}
				c.value(ce, cv, pos, j+1, phi)
			}
		}
	}
}

// specCheck carries one segment's check so helpers need no closures.
type specCheck struct {
	seg    *Segment
	loop   string
	report func(Finding)
	spec   *SegSpec
}

func (c *specCheck) rep(elem, comp int, rule, format string, args ...any) {
	f := At(c.seg, Error, rule, elem, comp, format, args...)
	f.Loop = c.loop
	c.report(f)
}

// repV reports a finding whose message shows the value v (through
// c.show): when phi is set the message reads Withheld and the finding
// keeps v in Value.
func (c *specCheck) repV(elem, comp int, v []byte, phi bool, rule, format string, args ...any) {
	f := At(c.seg, Error, rule, elem, comp, format, args...)
	f.Loop = c.loop
	if phi {
		f.Value = string(v)
	}
	c.report(f)
}

// show is how a message names the value v: quoted and escaped, or
// Withheld when it may be PHI.
func (c *specCheck) show(v []byte, phi bool) string {
	if phi {
		return Withheld
	}
	return ShowValue(string(v))
}

// HasPHI reports whether some element or component of s is marked PHI.
func (s *SegSpec) HasPHI() bool {
	for i := range s.Elems {
		if s.Elems[i].PHI {
			return true
		}
		for j := range s.Elems[i].Comp {
			if s.Elems[i].Comp[j].PHI {
				return true
			}
		}
	}
	return false
}

// name is the element's (or component's) reference for messages, e.g.
// "CLP02 (Claim Status Code)" or "SV101-02".
func (c *specCheck) name(pos, comp int) string {
	e := &c.spec.Elems[pos-1]
	n := elemName(c.spec.ID, pos, e)
	if comp > 0 {
		n = c.spec.ID + twoDigits(pos) + "-" + twoDigits(comp)
		if ce := &e.Comp[comp-1]; ce.Name != "" {
			n += " (" + ce.Name + ")"
		}
	}
	return n
}

// value checks one simple value against its rule.
func (c *specCheck) value(e *Elem, v []byte, pos, comp int, phi bool) {
	// A value too long for its code list is no code: in a segment that
	// carries patient data it is likely a name or id shifted out of place.
	phi = phi || len(e.Codes) > 0 && len(v) > e.Max && c.spec.HasPHI()
	n := len(v)
	switch e.Type {
	case N0, N2:
		if !ValidNumeric(v) {
			c.repV(pos, comp, v, phi, "tr3.type", "%s %s is not a whole number", c.name(pos, comp), c.show(v, phi))
			return
		}
		n = DecimalLen(v)
	case R:
		if !ValidDecimal(v) {
			c.repV(pos, comp, v, phi, "tr3.type", "%s %s is not a decimal number", c.name(pos, comp), c.show(v, phi))
			return
		}
		n = DecimalLen(v)
	case DT:
		ok := false
		switch len(v) {
		case 8:
			ok = ValidDate8(v)
		case 6:
			ok = ValidDate6(v)
		}
		if !ok {
			c.repV(pos, comp, v, phi, "tr3.date", "%s %s is not a valid date", c.name(pos, comp), c.show(v, phi))
			return
		}
	case TM:
		if !ValidTime(v) {
			c.repV(pos, comp, v, phi, "tr3.time", "%s %s is not a valid time", c.name(pos, comp), c.show(v, phi))
			return
		}
	}
	if e.Max > 0 && n > e.Max {
		c.repV(pos, comp, v, phi, "tr3.length", "%s %s is %d characters, at most %d allowed", c.name(pos, comp), c.show(v, phi), n, e.Max)
		return
	}
	if n < e.Min {
		c.repV(pos, comp, v, phi, "tr3.length", "%s %s is %d characters, at least %d required", c.name(pos, comp), c.show(v, phi), n, e.Min)
		return
	}
	if e.Type == AN && n > 0 && v[n-1] == ' ' {
		c.repV(pos, comp, v, phi, "tr3.trailing-space", "%s %s has trailing spaces", c.name(pos, comp), c.show(v, phi))
	}
	if len(e.Codes) > 0 {
		for _, code := range e.Codes {
			if len(code) == len(v) && code == string(v) {
				return
			}
		}
		c.repV(pos, comp, v, phi, "tr3.code", "%s %s is not one of %s", c.name(pos, comp), c.show(v, phi), strings.Join(e.Codes, ", "))
	}
}

func bytesHasByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

func twoDigits(n int) string {
	return string([]byte{byte('0' + n/10), byte('0' + n%10)})
}

func elemName(seg string, pos int, e *Elem) string {
	n := seg + twoDigits(pos)
	if e.Name != "" {
		n += " (" + e.Name + ")"
	}
	return n
}
