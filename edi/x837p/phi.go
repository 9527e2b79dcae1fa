package x837p

import "github.com/claimgate/claimgate/edi/x12"

// Which element values may be protected health information (PHI). The
// element rules carry the mark (x12.Elem.PHI), so every finding about such
// an element withholds its value, whatever the rule broken; the tables
// below say where the TR3 puts a person's data.

// phiPersonLoops are the loops that describe a person: the subscriber
// (2010BA), the patient (2010CA) and the subscriber of another payer
// (2330A).
var phiPersonLoops = []*vdLoop{vdLoop2010BA, vdLoop2010CA, vdLoop2330A}

// phiPersonElems are, per segment id, the elements that hold the
// person's name, ids, address, birth date, gender and contact in those
// loops (the qualifiers around them stay visible).
var phiPersonElems = map[string][]int{
	"NM1": {3, 4, 5, 6, 7, 9, 10, 11, 12}, // names and the member id
	"N3":  {1, 2},                         // street address
	"N4":  {1, 2, 3, 4, 5, 6, 7},          // city, state, ZIP
	"DMG": {2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
	"REF": {2, 3, 4}, // SSN, patient id, property and casualty ids
	"PER": {2, 4, 6, 8},
}

// phiEverywhere are the elements that carry free text or a patient's
// own dates wherever their segment appears.
var phiEverywhere = map[string][]int{
	"NTE": {2},       // claim and line notes
	"K3":  {1, 2, 3}, // file information
	"PWK": {7},       // attachment description (not used by the guide, so any value is suspect)
	"CR1": {9, 10},   // transport reason descriptions
	"CR2": {10, 11},  // patient condition descriptions
	"FRM": {3},       // answers on supporting documentation
	"PAT": {6, 8},    // death date, weight
	"MEA": {3},       // test results
	"SBR": {3, 4},    // the subscriber's group or policy number and group name
}

// phiREF are REF qualifiers whose REF02 identifies a patient anywhere.
var phiREF = map[string]bool{"EA": true} // medical record number

func init() { markPHI() }

// markPHI sets x12.Elem.PHI on the element rules of the loop tree. The
// rules are built once per place in the guide, so marking the patient's
// NM1 does not mark the billing provider's.
func markPHI() {
	person := map[*vdLoop]bool{}
	for _, l := range phiPersonLoops {
		person[l] = true
	}
	seen := map[*vdLoop]bool{}
	var walk func(l *vdLoop)
	walk = func(l *vdLoop) {
		if seen[l] {
			return
		}
		seen[l] = true
		for i := range l.items {
			it := &l.items[i]
			if it.loop != nil {
				walk(it.loop)
				continue
			}
			sp := it.seg.spec
			if person[l] {
				phiMark(sp, phiPersonElems[sp.ID])
			}
			phiMark(sp, phiEverywhere[sp.ID])
			if sp.ID == "REF" {
				for _, q := range it.seg.codes {
					if phiREF[q] {
						phiMark(sp, []int{2})
					}
				}
			}
		}
	}
	walk(vdLoopRoot)
}

func phiMark(sp *x12.SegSpec, pos []int) {
	for _, p := range pos {
		if p <= len(sp.Elems) {
			e := &sp.Elems[p-1]
			e.PHI = true
			for j := range e.Comp {
				e.Comp[j].PHI = true
			}
		}
	}
}

// atPHI reports a finding about value v, which may be PHI: the message
// reads x12.Withheld where the value would be, and the finding keeps v
// for --show-values.
func (c *vdChecker) atPHI(seg *x12.Segment, loop, rule string, elem int, v string, format string, args ...any) {
	f := x12.At(seg, x12.Error, rule, elem, 0, format, args...)
	f.Loop = loop
	f.Value = v
	c.emit(f)
}

// vdMisplaced reports whether qualifier value v of a segment like d is
// longer than any code of its element, in a segment that carries patient
// data: then it is no code but likely a name or id shifted out of place,
// and a finding must not show it.
func vdMisplaced(d *vdSegDef, v []byte) bool {
	if !d.spec.HasPHI() {
		return false
	}
	e := d.spec.Elems[d.qual-1]
	if d.qcomp > 0 && d.qcomp <= len(e.Comp) {
		e = e.Comp[d.qcomp-1]
	}
	return len(v) > e.Max
}
