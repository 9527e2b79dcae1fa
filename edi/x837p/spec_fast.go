package x837p

import (
	"github.com/claimgate/claimgate/edi/x12"
)

// vdFast is a segment rule compiled for vdClean: the element rules in a
// compact form and the position of the last required element.
type vdFast struct {
	elems   []vdFastElem
	lastReq int // 1-based position of the last required element, 0 if none
}

type vdFastElem struct {
	usage    x12.Usage
	typ      x12.Type
	repeat   bool
	min, max int32
	codes    []string
	comp     []vdFastElem
	lastReq  int // for composites: last required component
}

func compileElems(es []x12.Elem) ([]vdFastElem, int) {
	out := make([]vdFastElem, len(es))
	last := 0
	for i, e := range es {
		out[i] = vdFastElem{usage: e.Usage, typ: e.Type, repeat: e.Repeat > 1, min: int32(e.Min), max: int32(e.Max), codes: e.Codes}
		if len(e.Comp) > 0 {
			out[i].comp, out[i].lastReq = compileElems(e.Comp)
		}
		if e.Usage == x12.Required {
			last = i + 1
		}
	}
	return out, last
}

func compileSpec(s *x12.SegSpec) vdFast {
	es, last := compileElems(s.Elems)
	return vdFast{elems: es, lastReq: last}
}

// vdClean reports whether seg passes every check x12.SegSpec.Check makes,
// in one pass over the raw bytes and without allocating. The validator
// calls Check (which builds element names and messages) only when this
// says something is wrong, so a clean segment costs no allocation. It
// must never say true where Check would report something; when unsure
// (repeated elements) it says false and Check decides.
// TestCleanAgreesWithCheck and FuzzValidate837P hold it to that.
//
// Elements are short, so a byte loop beats bytes.IndexByte here.
func vdClean(f *vdFast, seg *x12.Segment) bool {
	raw := seg.Raw()
	d := seg.Delimiters()
	es, cs := d.Element, d.Component
	i := 0
	for i < len(raw) && raw[i] != es {
		i++
	}
	if i == len(raw) {
		return f.lastReq == 0
	}
	pos := 0
	start := i + 1
	comp := false // the element holds a component separator
	for j := start; ; j++ {
		if j < len(raw) {
			switch raw[j] {
			case es:
			case cs:
				comp = true
				continue
			default:
				continue
			}
		}
		v := raw[start:j]
		last := j >= len(raw)
		if pos >= len(f.elems) {
			return false // more elements than the guide defines
		}
		e := &f.elems[pos]
		pos++
		switch {
		case len(v) == 0:
			if last || e.usage == x12.Required {
				return false // trailing separator, or a required element missing
			}
		case e.usage == x12.NotUsed:
			return false
		case e.repeat && d.Repetition != 0:
			return false
		case len(e.comp) == 0:
			if comp && e.typ != x12.AN || !vdValueClean(e, v) {
				return false
			}
		default:
			if !compositeClean(e, v, cs) {
				return false
			}
		}
		if last {
			break
		}
		start, comp = j+1, false
	}
	return pos >= f.lastReq
}

func compositeClean(e *vdFastElem, v []byte, sep byte) bool {
	n := 0
	start := 0
	for j := 0; ; j++ {
		if j < len(v) && v[j] != sep {
			continue
		}
		part := v[start:j]
		if n >= len(e.comp) {
			return false // too many components
		}
		ce := &e.comp[n]
		n++
		if len(part) == 0 {
			if ce.usage == x12.Required {
				return false
			}
		} else if ce.usage == x12.NotUsed || !vdValueClean(ce, part) {
			return false
		}
		if j >= len(v) {
			return n >= e.lastReq
		}
		start = j + 1
	}
}

// vdValueClean mirrors the value checks of x12.SegSpec.Check: type,
// length, trailing space and code list.
func vdValueClean(e *vdFastElem, v []byte) bool {
	n := int32(len(v))
	switch e.typ {
	case x12.N0, x12.N2:
		if !x12.ValidNumeric(v) {
			return false
		}
		n = int32(x12.DecimalLen(v))
	case x12.R:
		if !x12.ValidDecimal(v) {
			return false
		}
		n = int32(x12.DecimalLen(v))
	case x12.DT:
		switch len(v) {
		case 8:
			if !x12.ValidDate8(v) {
				return false
			}
		case 6:
			if !x12.ValidDate6(v) {
				return false
			}
		default:
			return false
		}
	case x12.TM:
		if !x12.ValidTime(v) {
			return false
		}
	case x12.AN:
		if v[n-1] == ' ' {
			return false
		}
	}
	if e.max > 0 && n > e.max || n < e.min {
		return false
	}
	if len(e.codes) > 0 {
		return vdIn(v, e.codes)
	}
	return true
}

// vdIn reports whether v is one of codes. Codes are a few bytes long,
// so comparing inline beats calling memequal.
func vdIn(v []byte, codes []string) bool {
	for _, c := range codes {
		if len(c) != len(v) {
			continue
		}
		k := 0
		for k < len(v) && c[k] == v[k] {
			k++
		}
		if k == len(v) {
			return true
		}
	}
	return false
}
