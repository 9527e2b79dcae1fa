package x12

// FastSpec is a SegSpec compiled for Clean: the element rules in a compact
// form and the position of the last required element.
type FastSpec struct {
	elems   []fastElem
	lastReq int // 1-based position of the last required element, 0 if none
}

type fastElem struct {
	usage    Usage
	typ      Type
	repeat   bool
	min, max int32
	codes    []string
	// packed holds the codes as packCode keys when every code is 1 to 7
	// bytes long: one integer comparison per code instead of a string
	// comparison.
	packed []uint64
	// scanSep: the value must be searched for the component separator
	// (an ID without a code list, or with a code that is not letters and
	// digits); other types reject it by their own checks.
	scanSep bool
	comp    []fastElem
	lastReq int // for composites: last required component
}

// Fast compiles s for Clean. The result shares s's code lists; compile
// once and keep it.
func (s *SegSpec) Fast() *FastSpec {
	es, last := compileFast(s.Elems)
	return &FastSpec{elems: es, lastReq: last}
}

func compileFast(es []Elem) ([]fastElem, int) {
	out := make([]fastElem, len(es))
	last := 0
	for i, e := range es {
		out[i] = fastElem{usage: e.Usage, typ: e.Type, repeat: e.Repeat > 1, min: int32(e.Min), max: int32(e.Max), codes: e.Codes}
		out[i].scanSep = e.Type == ID && (len(e.Codes) == 0 || !allAlnum(e.Codes))
		if len(e.Codes) > 0 {
			out[i].packed = make([]uint64, 0, len(e.Codes))
			for _, c := range e.Codes {
				k, ok := packCode([]byte(c))
				if !ok {
					out[i].packed = nil
					break
				}
				out[i].packed = append(out[i].packed, k)
			}
		}
		if len(e.Comp) > 0 {
			out[i].comp, out[i].lastReq = compileFast(e.Comp)
		}
		if e.Usage == Required {
			last = i + 1
		}
	}
	return out, last
}

// Clean reports whether seg passes every check SegSpec.Check makes, in
// one pass over its elements and without allocating, so a validator can
// call Check (which builds element names and messages) only when Clean
// says something is wrong. It never says true where Check would report
// something (a finding or a warning); when unsure (repeated elements) it
// says false and Check decides. TestFastAgreesWithCheck in edi/x835 holds
// it to that.
//
// It takes the elements from Segment.ElementEnds, which a Reader with
// SplitElements has found already while reading the segment.
func (f *FastSpec) Clean(seg *Segment) bool {
	ends := seg.ElementEnds()
	n := len(ends) - 1
	if n > len(f.elems) || n < f.lastReq {
		return false // more elements than the guide defines, or a required one missing
	}
	raw := seg.raw
	d := seg.delim
	// Numbers, dates, times and code values reject a component separator
	// by their own checks, unless it is a character they allow.
	oddSep := sepAllowed[d.Component]
	elems := f.elems[:n]
	prev := ends[0]
	for i := range elems {
		e := &elems[i]
		end := ends[i+1]
		v := raw[prev+1 : end]
		prev = end
		switch {
		case len(v) == 0:
			if i == n-1 || e.usage == Required {
				return false // trailing separator, or a required element missing
			}
		case e.usage == NotUsed:
			return false
		case e.repeat && d.Repetition != 0:
			return false
		case len(e.comp) == 0:
			if (e.scanSep || oddSep && e.typ != AN) && bytesHasByte(v, d.Component) || !fastValueClean(e, v) {
				return false
			}
		default:
			if !fastCompositeClean(e, v, d.Component) {
				return false
			}
		}
	}
	return true
}

// sepAllowed marks the bytes some number, date, time or code value may
// hold: letters, digits, '.' and '-'.
var sepAllowed = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c], t[c+'a'-'A'] = true, true
	}
	t['.'], t['-'] = true, true
	return t
}()

func allAlnum(codes []string) bool {
	for _, c := range codes {
		for i := 0; i < len(c); i++ {
			if !sepAllowed[c[i]] || c[i] == '.' || c[i] == '-' {
				return false
			}
		}
	}
	return true
}

func fastCompositeClean(e *fastElem, v []byte, sep byte) bool {
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
			if ce.usage == Required {
				return false
			}
		} else if ce.usage == NotUsed || !fastValueClean(ce, part) {
			return false
		}
		if j >= len(v) {
			return n >= e.lastReq
		}
		start = j + 1
	}
}

// fastValueClean mirrors specCheck.value: type, length, trailing space
// and code list.
func fastValueClean(e *fastElem, v []byte) bool {
	n := int32(len(v))
	switch e.typ {
	case N0, N2:
		if !ValidNumeric(v) {
			return false
		}
		n = int32(DecimalLen(v))
	case R:
		if !ValidDecimal(v) {
			return false
		}
		n = int32(DecimalLen(v))
	case DT:
		switch len(v) {
		case 8:
			if !ValidDate8(v) {
				return false
			}
		case 6:
			if !ValidDate6(v) {
				return false
			}
		default:
			return false
		}
	case TM:
		if !ValidTime(v) {
			return false
		}
	case AN:
		if v[n-1] == ' ' {
			return false
		}
	}
	if e.max > 0 && n > e.max || n < e.min {
		return false
	}
	if e.packed != nil {
		k, ok := packCode(v)
		if !ok {
			return false
		}
		for _, c := range e.packed {
			if c == k {
				return true
			}
		}
		return false
	}
	if len(e.codes) > 0 {
		return fastIn(v, e.codes)
	}
	return true
}

// packCode packs a value of 1 to 7 bytes into an integer that identifies
// it: the bytes, and the length in the top byte (so "A" and "A\x00"
// differ).
func packCode(v []byte) (uint64, bool) {
	if len(v) == 0 || len(v) > 7 {
		return 0, false
	}
	k := uint64(len(v)) << 56
	for i, b := range v {
		k |= uint64(b) << (8 * i)
	}
	return k, true
}

// fastIn reports whether v is one of codes. Codes are a few bytes long,
// so comparing inline beats calling memequal.
func fastIn(v []byte, codes []string) bool {
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
