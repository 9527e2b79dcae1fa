package payersim

import (
	"io"
	"strings"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x837p"
	"github.com/claimgate/claimgate/edi/x999"
)

// maxSetFindings bounds the findings kept per transaction set (and for
// the envelopes), so a garbage file cannot grow a 999 without limit.
const maxSetFindings = 200

// checkedSet is one transaction set of a submission with its findings.
type checkedSet struct {
	id, control, version string
	findings             x12.Findings
	dropped              bool
	lastPos              int // set position of the last segment read
}

// checkedGroup is one functional group of a submission.
type checkedGroup struct {
	isa13                                            string // of the interchange holding the group
	functionalID, control, version, sender, receiver string
	sets                                             []*checkedSet
}

// submission is what the envelope and TR3 check found in an 837P file.
type submission struct {
	isa13, senderQual, sender, receiverQual, receiver, usage string
	ackRequested                                             bool // ISA14 1: the sender wants a TA1
	groups                                                   []*checkedGroup
	envelope                                                 x12.Findings // findings outside any set
}

// check validates a whole 837P file the way claimgate's validator does
// (x12 envelopes plus the x837p checker), keeping findings per set.
func check(r io.Reader, name string, now func() time.Time) (*submission, error) {
	sub := &submission{}
	var cur *checkedSet
	var grp *checkedGroup
	isa13 := ""
	report := func(f x12.Finding) {
		list, dropped := &sub.envelope, (*bool)(nil)
		if cur != nil {
			list, dropped = &cur.findings, &cur.dropped
			// A finding without a set position (a truncated or unreadable
			// segment) is put at the segment after the last one read, so
			// that its IK3 can name a position.
			if f.SetPosition <= 0 {
				f.SetPosition = cur.lastPos + 1
			}
			if !segmentID(f.SegmentID) {
				f.SegmentID = "SE"
			}
		}
		if len(*list) >= maxSetFindings {
			if dropped != nil {
				*dropped = true
			}
			return
		}
		*list = append(*list, f)
	}
	c := x12.NewChecker(name, report)
	opts := x837p.ValidateOptions{Now: now}
	c.Sets = func(h x12.SetHeader) x12.SetChecker {
		if !x837p.Is837P(h) {
			return wrongSet{h}
		}
		return opts.NewChecker(h)
	}
	rd := x12.NewReader(r)
	rd.Name = name
	rd.SplitElements = true
	for {
		seg, err := rd.Next()
		if err == io.EOF {
			break
		}
		if f, ok := err.(*x12.Finding); ok {
			report(*f)
			continue
		}
		if err != nil {
			return nil, err
		}
		switch seg.ID() {
		case "ISA":
			isa13 = strings.TrimSpace(seg.Text(13))
			if sub.isa13 == "" {
				sub.isa13 = strings.TrimSpace(seg.Text(13))
				sub.senderQual, sub.sender = seg.Text(5), strings.TrimSpace(seg.Text(6))
				sub.receiverQual, sub.receiver = seg.Text(7), strings.TrimSpace(seg.Text(8))
				sub.usage = seg.Text(15)
				sub.ackRequested = seg.Text(14) == "1"
			}
		case "GS":
			grp = &checkedGroup{isa13: isa13, functionalID: seg.Text(1), sender: seg.Text(2), receiver: seg.Text(3), control: seg.Text(6), version: seg.Text(8)}
			sub.groups = append(sub.groups, grp)
		case "ST":
			if grp == nil {
				grp = &checkedGroup{isa13: isa13}
				sub.groups = append(sub.groups, grp)
			}
			cur = &checkedSet{id: seg.Text(1), control: seg.Text(2), version: seg.Text(3)}
			if cur.version == "" {
				cur.version = grp.version
			}
			grp.sets = append(grp.sets, cur)
		}
		if cur != nil && seg.SetPos > cur.lastPos {
			cur.lastPos = seg.SetPos
		}
		c.Segment(seg)
		switch seg.ID() {
		case "SE":
			cur = nil
		case "GE":
			grp = nil
		}
	}
	c.Finish(rd.Offset())
	if c.Summary().Segments == 0 && len(sub.envelope) == 0 {
		sub.envelope = append(sub.envelope, x12.Finding{File: name, Severity: x12.Error, Rule: "envelope.empty", Message: "no X12 segments found: the input is empty"})
	}
	return sub, nil
}

// segmentID reports whether s can be an IK301 segment id: 2 or 3
// upper-case letters or digits.
func segmentID(s string) bool { return codeLike(s, 2, 3) }

// codeLike reports whether s is min to max upper-case letters or digits.
func codeLike(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// wrongSet reports a transaction set that is not an 837P.
type wrongSet struct{ h x12.SetHeader }

func (w wrongSet) Segment(seg *x12.Segment, report func(x12.Finding)) {
	if seg.Is("ST") {
		report(x12.At(seg, x12.Error, "payersim.set-type", 1, 0, "transaction set %s version %s is not an 837P (005010X222A1): this payer accepts professional claims only", w.h.ID, w.h.Version))
	}
}

func (w wrongSet) End(*x12.Segment, func(x12.Finding)) {}

// ta1Note returns the TA105 note code when the interchange envelope
// cannot be accepted, or "" when it can.
func (s *submission) ta1Note() string {
	if s.isa13 == "" {
		return "024" // invalid interchange content: no ISA at all
	}
	for _, f := range s.envelope {
		if f.Severity != x12.Error {
			continue
		}
		switch f.Rule {
		case "envelope.iea-control":
			return "001" // ISA13 and IEA02 do not match
		case "envelope.iea-count":
			return "021" // invalid number of included groups
		case "envelope.iea-missing", "envelope.isa-truncated":
			return "023" // improper (premature) end of file
		case "envelope.isa-duplicate":
			return "025" // duplicate interchange control number
		case "envelope.delimiters":
			return "026" // invalid data element separator
		case "envelope.isa-version":
			return "017" // invalid interchange version id
		case "envelope.isa-missing", "envelope.isa-width", "envelope.isa-length", "envelope.isa-elements",
			"envelope.isa-code", "envelope.outside-interchange", "envelope.outside-group", "envelope.empty":
			return "024" // invalid interchange content
		}
	}
	return ""
}

// setKey identifies a transaction set in a file: ISA13, GS06, ST02.
func setKey(isa13, gs06, st02 string) string { return isa13 + "\x00" + gs06 + "\x00" + st02 }

// ack999 turns the findings into one 999 group response per functional
// group, and lists the accepted sets by setKey.
func (s *submission) ack999() ([]*x999.GroupResponse, map[string]bool) {
	var out []*x999.GroupResponse
	accepted := map[string]bool{}
	for _, g := range s.groups {
		if len(g.control) > 9 || !x12.IsDigits([]byte(g.control)) {
			continue // no usable GS06: nothing an AK1 could name
		}
		sets := make([]x999.SetResponse, 0, len(g.sets))
		for _, st := range g.sets {
			r := x999.FromFindings(st.id, st.control, st.version, st.findings)
			// AK201 and AK202 are required: a set whose ST01 or ST02 is
			// unusable (the envelope checker reported it, so it is
			// rejected) is named 837 / 0000, and none of its claims can
			// be matched.
			if !x999.IsSetID(r.ID) {
				r.ID = "837"
			}
			if len(r.Control) < 4 || !plainID(r.Control, 9) {
				r.Control = "0000"
				r.Status, r.Errors = x999.StatusRejected, []string{"5"}
			}
			if !codeLike(r.Version, 1, 35) {
				r.Version = ""
			}
			sets = append(sets, r)
			if r.Accepted() {
				accepted[setKey(g.isa13, g.control, r.Control)] = true
			}
		}
		// AK101 and AK103 echo GS01 and GS08 when they are usable; a
		// GS01 outside AK101's code list (the envelope checker rejected
		// the group for it) is acknowledged as the claims group it
		// was sent as.
		fid, version := g.functionalID, g.version
		if !x999.IsFunctionalID(fid) {
			fid = "HC"
		}
		if !codeLike(version, 1, 12) {
			version = x837p.Version
		}
		out = append(out, x999.Build(fid, g.control, version, sets))
	}
	return out, accepted
}
