package x999

import (
	"fmt"
	"io"

	"github.com/claimgate/claimgate/edi/x12"
)

// maxFindings bounds the findings a Reader keeps, so a hostile file cannot
// grow them without limit; one more finding says how many were dropped.
const maxFindings = 1000

// Limits that keep one hostile AK2 loop from growing without bound (the
// guide allows 9 + 1 contexts per IK3 and 10 per IK4).
const (
	maxSegmentErrors = 10000
	maxElementErrors = 1000
	maxContexts      = 100
)

type event struct {
	g   *GroupResponse
	set *SetResponse
}

// Reader reads 999 files one acknowledged transaction set at a time, so
// memory stays bounded however many AK2 loops a 999 holds.
//
// Data problems that make the Reader skip or guess (a segment outside any
// 999, an IK3 outside an AK2 loop, a transaction set that is not a 999)
// are collected as findings; full validation is NewChecker's job.
type Reader struct {
	name     string
	rd       *x12.Reader
	findings x12.CappedFindings
	keep     bool

	env             x12.Envelopes
	in999, skipping bool

	g *GroupResponse
	// The open AK2 loop is bufs[cur]; the last one handed out is the
	// other buffer, so a set is not copied to be returned.
	bufs [2]SetResponse
	cur  int
	// When streaming, the IK3 arrays of the two buffers' sets and the
	// array of IK5 codes are reused.
	spareIK3    [2][]SegmentError
	spareErrors []string
	set         *SetResponse
	setOpen     bool
	limited     bool // a limit was reported for the open AK2 loop
	ik3         int  // index of the open IK3 in set.SegmentErrors, -1 when none
	ik4         int  // index of the open IK4 in that IK3's Elements, -1 when none
	queue       [2]event
	nq          int
	eof         bool
	cache       *x12.Interner
	// last values of repetitive fields: most AK2 loops repeat them
	lastID, lastVersion string
}

// NewReader returns a Reader reading a 999 from r; name is used as the file
// name in findings.
func NewReader(r io.Reader, name string) *Reader {
	rd := x12.NewReader(r)
	rd.Name = name
	rd.SplitElements = true // the reader looks at most elements
	// control numbers and bad values are views of the input, which then
	// stays put
	rd.KeepBuffers = true
	x := &Reader{name: name, rd: rd, ik3: -1, ik4: -1, cache: x12.NewInterner(9), findings: x12.CappedFindings{File: name, Max: maxFindings}}
	x.set = &x.bufs[0]
	return x
}

// Findings returns the data problems met so far.
func (r *Reader) Findings() x12.Findings { return r.findings.List }

// InterchangeAcks returns the TA1 segments read so far.
func (r *Reader) InterchangeAcks() []x12.TA1 { return r.env.TA1s }

// Next returns the next acknowledged transaction set (a complete AK2 loop)
// with the group response it belongs to. When a 999 transaction set ends it
// returns that group with a nil set: the group's AK9 fields are then
// filled. At the end of input it returns io.EOF; any other error is an I/O
// error from the underlying reader.
//
// The SetResponse is owned by the Reader and valid until the next call,
// its strings included: its control number, bad values and context
// references are views of the input, whose 64 KiB buffers the Reader
// fills again once the set is returned. Clone it to keep it. The
// GroupResponse is new for each 999 set and may be kept.
func (r *Reader) Next() (*GroupResponse, *SetResponse, error) {
	if !r.keep {
		// The set returned last is the caller's no more: the input it
		// lies in may be filled again.
		r.rd.Release()
	}
	for {
		if r.nq > 0 {
			e := r.queue[0]
			r.queue[0] = r.queue[1]
			r.nq--
			return e.g, e.set, nil
		}
		if r.eof {
			return nil, nil, io.EOF
		}
		seg, err := r.rd.Next()
		if err == io.EOF {
			r.eof = true
			if r.in999 {
				r.add(x12.Finding{File: r.name, Severity: x12.Error, Rule: "envelope.se-missing", Offset: r.rd.Offset(),
					Message: fmt.Sprintf("input ends inside 999 transaction set %s: SE missing, the file may be truncated", r.g.Control)})
				r.endGroup()
			}
			continue
		}
		if err != nil {
			if f, ok := err.(*x12.Finding); ok {
				r.add(*f)
				continue
			}
			return nil, nil, err
		}
		r.segment(seg)
	}
}

func (r *Reader) add(f x12.Finding) { r.findings.Add(f) }

func (r *Reader) at(seg *x12.Segment, sev x12.Severity, rule string, elem int, format string, args ...any) {
	f := x12.At(seg, sev, rule, elem, 0, format, args...)
	f.File = r.name
	r.add(f)
}

func (r *Reader) push(g *GroupResponse, set *SetResponse) {
	r.queue[r.nq] = event{g: g, set: set}
	r.nq++
}

// str returns b as a string, sharing one copy of short repeated values.
func (r *Reader) str(b []byte) string { return r.cache.String(b) }

// same returns b as a string, reusing *last when it is equal: cheaper
// than the string cache for fields that repeat set after set.
func (r *Reader) same(last *string, b []byte) string {
	if string(b) == *last {
		return *last
	}
	*last = r.str(b)
	return *last
}

// status returns an IK501/AK901 code without the string cache for the
// usual one-letter codes.
func status(r *Reader, b []byte) string {
	if len(b) == 1 {
		switch b[0] {
		case 'A':
			return StatusAccepted
		case 'E':
			return StatusAcceptedWithErrors
		case 'R':
			return StatusRejected
		case 'P':
			return StatusPartial
		}
	}
	return r.str(b)
}

// num parses an unsigned count or position; anything else gives 0 (the
// checker reports the bad value).
func num(b []byte) int {
	if len(b) == 0 || len(b) > 9 {
		return 0
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func (r *Reader) segment(seg *x12.Segment) {
	switch seg.ID() {
	case "ISA", "GS", "GE", "IEA":
		r.closeSet999(seg)
		r.env.Take(seg)
		return
	case "TA1":
		r.env.Take(seg)
		return
	case "ST":
		r.closeSet999(seg)
		r.startSet(seg)
		return
	}
	if r.skipping {
		if seg.Is("SE") {
			r.skipping = false
		}
		return
	}
	if !r.in999 {
		r.at(seg, x12.Error, "999.structure", 0, "%s segment outside any 999 transaction set: ignored", seg.ID())
		return
	}
	g := r.g
	switch seg.ID() {
	case "AK1":
		if g.FunctionalID != "" || g.GroupControl != "" {
			r.at(seg, x12.Error, "999.structure", 0, "second AK1 in one 999: ignored (a 999 acknowledges one functional group)")
			return
		}
		g.FunctionalID = r.str(seg.Element(1))
		g.GroupControl = r.str(seg.Element(2))
		g.GroupVersion = r.str(seg.Element(3))
	case "AK2":
		r.closeAK2(seg, "AK2")
		// AK2 and IK5 are most of a 999: split them here in one pass
		// rather than element by element.
		var f [4][]byte // AK2 has 3 elements; any excess stays in f[3]
		x12.Split(seg.Raw(), seg.Delimiters().Element, f[:])
		if !r.keep && r.set.SegmentErrors != nil {
			// streaming: this buffer's set was handed out two sets ago
			// and is the caller's no more; its IK3 array is filled again
			r.spareIK3[r.cur] = r.set.SegmentErrors
		}
		*r.set = SetResponse{ID: r.same(&r.lastID, f[1]), Control: x12.StableString(f[2]), Version: r.same(&r.lastVersion, f[3])}
		r.setOpen, r.ik3, r.ik4, r.limited = true, -1, -1, false
	case "IK3":
		if !r.setOpen {
			r.at(seg, x12.Error, "999.structure", 0, "IK3 outside an AK2 loop: ignored")
			return
		}
		if len(r.set.SegmentErrors) >= maxSegmentErrors {
			r.limit(seg, "IK3 loops", maxSegmentErrors)
			r.ik3, r.ik4 = dropped, -1 // its IK4 and CTX are dropped too
			return
		}
		ses := r.set.SegmentErrors
		if ses == nil && !r.keep {
			ses = r.spareIK3[r.cur][:0]
		}
		se := SegmentError{
			SegmentID: r.str(seg.Element(1)), Position: num(seg.Element(2)), Loop: r.str(seg.Element(3)), Code: r.str(seg.Element(4)),
		}
		if !r.keep && len(ses) < cap(ses) {
			old := ses[: len(ses)+1 : len(ses)+1][len(ses)]
			se.Contexts, se.Elements = old.Contexts[:0], old.Elements[:0]
		}
		r.set.SegmentErrors = append(ses, se)
		r.ik3, r.ik4 = len(r.set.SegmentErrors)-1, -1
	case "IK4":
		if r.setOpen && r.ik3 == dropped {
			return
		}
		if !r.setOpen || r.ik3 < 0 {
			r.at(seg, x12.Error, "999.structure", 0, "IK4 outside an IK3 loop: ignored")
			return
		}
		se := &r.set.SegmentErrors[r.ik3]
		if len(se.Elements) >= maxElementErrors {
			r.limit(seg, "IK4 loops in one IK3", maxElementErrors)
			return
		}
		c := seg.Composite(1)
		ee := ElementError{
			Position:  ElementPosition{Element: num(c.Part(1)), Component: num(c.Part(2)), Repeat: num(c.Part(3))},
			Reference: r.str(seg.Element(2)), Code: r.str(seg.Element(3)), BadValue: x12.StableString(seg.Element(4)),
		}
		if n := len(se.Elements); !r.keep && n < cap(se.Elements) {
			ee.Contexts = se.Elements[: n+1 : n+1][n].Contexts[:0]
		}
		se.Elements = append(se.Elements, ee)
		r.ik4 = len(se.Elements) - 1
	case "CTX":
		if r.setOpen && r.ik3 == dropped {
			return
		}
		if !r.setOpen || r.ik3 < 0 {
			r.at(seg, x12.Error, "999.structure", 0, "CTX outside an IK3 or IK4 loop: ignored")
			return
		}
		se := &r.set.SegmentErrors[r.ik3]
		if len(se.Contexts) >= maxContexts || r.ik4 >= 0 && len(se.Elements[r.ik4].Contexts) >= maxContexts {
			r.limit(seg, "CTX segments in one loop", maxContexts)
			return
		}
		ctx := readContext(r, seg)
		if r.ik4 >= 0 {
			se.Elements[r.ik4].Contexts = append(se.Elements[r.ik4].Contexts, ctx)
		} else {
			se.Contexts = append(se.Contexts, ctx)
		}
	case "IK5":
		if !r.setOpen {
			r.at(seg, x12.Error, "999.structure", 0, "IK5 outside an AK2 loop: ignored")
			return
		}
		var f [3][]byte
		if x12.Split(seg.Raw(), seg.Delimiters().Element, f[:]) > 2 {
			var dst []string
			if !r.keep {
				dst = r.spareErrors[:0]
			}
			if errs := r.codes(dst, seg, 2, 6); len(errs) > 0 {
				r.set.Errors = errs
				if !r.keep {
					r.spareErrors = errs
				}
			}
		}
		r.set.Status = status(r, f[1])
		r.emitSet()
	case "AK9":
		r.closeAK2(seg, "AK9")
		g.Status = status(r, seg.Element(1))
		g.Included, g.Received, g.Accepted = num(seg.Element(2)), num(seg.Element(3)), num(seg.Element(4))
		g.Errors = r.codes(nil, seg, 5, 9)
	case "SE":
		r.closeAK2(seg, "SE")
		r.endGroup()
	default:
		// Unknown segments are the checker's business; nothing to read.
	}
}

func readContext(r *Reader, seg *x12.Segment) Context {
	c1 := seg.Composite(1)
	c5 := seg.Composite(5)
	c6 := seg.Composite(6)
	return Context{
		Name: r.str(c1.Part(1)), Reference: x12.StableString(c1.Part(2)),
		SegmentID: r.str(seg.Element(2)), Position: num(seg.Element(3)), Loop: r.str(seg.Element(4)),
		Element:    ElementPosition{Element: num(c5.Part(1)), Component: num(c5.Part(2)), Repeat: num(c5.Part(3))},
		ElementRef: r.str(c6.Part(1)), ComponentRef: r.str(c6.Part(2)),
	}
}

// dropped marks an IK3 loop not read because of maxSegmentErrors.
const dropped = -2

// limit reports, once per AK2 loop, that part of it is not read.
func (r *Reader) limit(seg *x12.Segment, what string, n int) {
	if r.limited {
		return
	}
	r.limited = true
	r.at(seg, x12.Error, "999.limit", 0, "AK2 loop for set %s has more than %d %s: the rest are not read", r.set.Control, n, what)
}

// codes reads the non-empty elements from..to as a code list.
func (r *Reader) codes(out []string, seg *x12.Segment, from, to int) []string {
	for i := from; i <= to && i <= seg.Len(); i++ {
		if e := seg.Element(i); len(e) > 0 {
			out = append(out, r.str(e))
		}
	}
	return out
}

func (r *Reader) startSet(seg *x12.Segment) {
	if id := seg.Text(1); id != "999" {
		r.at(seg, x12.Error, "999.not-999", 1, "transaction set %s (ST01 %q) is not a 999 acknowledgment: skipped", seg.Text(2), id)
		r.skipping = true
		return
	}
	v := r.env.Version(seg)
	if v != Version && v != VersionBase {
		r.at(seg, x12.Warning, "999.version", 3, "999 version %q is neither %s nor %s: read as %s", v, Version, VersionBase, Version)
	}
	r.g = &GroupResponse{Interchange: r.env.Interchange, Group: r.env.Group, Control: seg.Text(2), Version: v}
	r.in999 = true
}

// closeAK2 ends an AK2 loop that has no IK5 when seg (AK2, AK9 or SE)
// arrives, handing it out as it is.
func (r *Reader) closeAK2(seg *x12.Segment, by string) {
	if !r.setOpen {
		return
	}
	r.at(seg, x12.Error, "999.required", 0, "AK2 loop for set %s has no IK5 before %s: its status is unknown", r.set.Control, by)
	r.emitSet()
}

func (r *Reader) emitSet() {
	out := r.set
	if !r.keep {
		// Reused arrays left empty read as nil, as Read gives them.
		for i := range out.SegmentErrors {
			se := &out.SegmentErrors[i]
			if len(se.Contexts) == 0 {
				se.Contexts = nil
			}
			if len(se.Elements) == 0 {
				se.Elements = nil
			}
			for j := range se.Elements {
				if len(se.Elements[j].Contexts) == 0 {
					se.Elements[j].Contexts = nil
				}
			}
		}
	}
	r.cur ^= 1
	r.set = &r.bufs[r.cur] // filled afresh by the next AK2
	r.setOpen, r.ik3, r.ik4 = false, -1, -1
	if r.keep {
		sets := r.g.Sets
		if len(sets) == cap(sets) {
			// Double rather than let append grow large slices by a
			// quarter: a big 999 would be copied many times over.
			ns := make([]SetResponse, len(sets), 2*cap(sets)+8)
			copy(ns, sets)
			sets = ns
		}
		r.g.Sets = append(sets, *out)
	}
	r.push(r.g, out)
}

// closeSet999 ends a 999 set left open by a missing SE.
func (r *Reader) closeSet999(seg *x12.Segment) {
	r.skipping = false
	if !r.in999 {
		return
	}
	r.at(seg, x12.Error, "envelope.se-missing", 0, "%s arrives inside 999 transaction set %s: SE missing", seg.ID(), r.g.Control)
	r.closeAK2(seg, seg.ID())
	r.endGroup()
}

func (r *Reader) endGroup() {
	if r.setOpen {
		r.emitSet()
	}
	r.push(r.g, nil)
	r.in999 = false
}

// Read reads a whole 999 file. The findings are reading problems (see
// Reader); use Validate or NewChecker for a full check. The error is only
// for failure to read r.
func Read(r io.Reader, name string) (*Ack, x12.Findings, error) {
	rd := NewReader(r, name)
	rd.keep = true
	ack := &Ack{Groups: []*GroupResponse{}}
	for {
		g, s, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			ack.InterchangeAcks = rd.env.TA1s
			return ack, rd.findings.List, err
		}
		if s == nil {
			if g.Sets == nil {
				g.Sets = []SetResponse{}
			}
			ack.Groups = append(ack.Groups, g)
		}
	}
	ack.InterchangeAcks = rd.env.TA1s
	return ack, rd.findings.List, nil
}
