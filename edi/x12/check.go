package x12

import (
	"bytes"
	"encoding/binary"
	"io"
	"strconv"
)

// SetChecker validates the segments of one transaction set. The envelope
// checker hands it every segment from ST to SE inclusive.
type SetChecker interface {
	Segment(seg *Segment, report func(Finding))
	// End is called after SE, or with nil when the set ends without one.
	End(se *Segment, report func(Finding))
}

// SetHeader is what the envelopes say about a transaction set.
type SetHeader struct {
	Interchange *Interchange
	Group       *Group
	ID          string // ST01, e.g. "837"
	Control     string // ST02
	// Version is ST03, or GS08 when ST03 is empty.
	Version string
}

// Interchange is the summary of one ISA..IEA envelope.
type Interchange struct {
	Control      string     `json:"control"`
	SenderQual   string     `json:"sender_qualifier"`
	Sender       string     `json:"sender"`
	ReceiverQual string     `json:"receiver_qualifier"`
	Receiver     string     `json:"receiver"`
	Date         string     `json:"date"`
	Time         string     `json:"time"`
	Version      string     `json:"version"`
	Usage        string     `json:"usage"` // P production, T test
	Delimiters   Delimiters `json:"-"`
	Groups       []*Group   `json:"groups"`
	Acks         []TA1      `json:"interchange_acks,omitempty"`
	Segments     int        `json:"segments"`
}

// Group is the summary of one GS..GE functional group.
type Group struct {
	FunctionalID string `json:"functional_id"`
	Sender       string `json:"sender"`
	Receiver     string `json:"receiver"`
	Date         string `json:"date"`
	Time         string `json:"time"`
	Control      string `json:"control"`
	Version      string `json:"version"`
	Sets         []Set  `json:"sets"`
}

// Set is the summary of one ST..SE transaction set.
type Set struct {
	ID       string `json:"id"`
	Control  string `json:"control"`
	Version  string `json:"version"`
	Segments int    `json:"segments"` // counted ST..SE inclusive
}

// TA1 is an interchange acknowledgment.
type TA1 struct {
	Control string `json:"control"` // the acknowledged ISA13
	Date    string `json:"date"`
	Time    string `json:"time"`
	Ack     string `json:"ack"` // A accepted, E accepted with errors, R rejected
	Note    string `json:"note"`
}

// TA1Of reads a TA1 segment.
func TA1Of(seg *Segment) TA1 {
	return TA1{Control: keep(seg, 1), Date: keep(seg, 2), Time: keep(seg, 3), Ack: keep(seg, 4), Note: keep(seg, 5)}
}

// MaxTA1 bounds the TA1 segments Envelopes keeps, so a hostile file
// cannot grow memory with them.
const MaxTA1 = 1000

// Envelopes follows the envelopes around the transaction sets a typed
// reader reads, without checking them (Checker does): the interchange and
// group a set is in, and the TA1 interchange acknowledgments met.
type Envelopes struct {
	Interchange  string // ISA13 of the current interchange
	Group        string // GS06 of the current group
	GroupVersion string // GS08
	TA1s         []TA1  // the first MaxTA1
}

// Take reads seg when it is an envelope segment outside the sets (ISA,
// GS, GE, IEA or TA1) and reports whether it was one.
func (e *Envelopes) Take(seg *Segment) bool {
	switch seg.ID() {
	case "ISA":
		e.Interchange = seg.Text(13)
	case "GS":
		e.Group, e.GroupVersion = seg.Text(6), seg.Text(8)
	case "GE", "IEA":
	case "TA1":
		if len(e.TA1s) < MaxTA1 {
			e.TA1s = append(e.TA1s, TA1Of(seg))
		}
	default:
		return false
	}
	return true
}

// Version is the version of the set st starts: ST03, or GS08 when ST03
// is empty.
func (e *Envelopes) Version(st *Segment) string {
	if v := st.Text(3); v != "" {
		return v
	}
	return e.GroupVersion
}

// MaxSummaryEntries bounds what a Summary lists: its interchanges, groups,
// sets and TA1s together. Past it the counts go on (InterchangeCount,
// GroupCount, SetCount) but the lists stop, so a file of millions of
// small sets cannot grow memory with them.
const MaxSummaryEntries = 10000

// MaxControlNumbers bounds the control numbers a Checker remembers to find
// duplicates: per file for ISA13, per interchange for GS06 and per group
// for ST02. A number used again after that many others is not reported.
const MaxControlNumbers = 1 << 16

// Summary describes the envelopes of a whole input.
type Summary struct {
	// Interchanges lists the first interchanges with their groups and
	// sets, up to MaxSummaryEntries entries in all (see Truncated).
	Interchanges []*Interchange `json:"interchanges"`
	Segments     int            `json:"segments"`
	// Counts of everything seen, including what the lists leave out.
	InterchangeCount int `json:"interchange_count"`
	GroupCount       int `json:"group_count"`
	SetCount         int `json:"set_count"`
	// Truncated says the lists stopped at MaxSummaryEntries.
	Truncated bool `json:"truncated,omitempty"`
}

// Sets counts the transaction sets in the input, listed or not.
func (s *Summary) Sets() int { return s.SetCount }

// CheckOptions configure Check.
type CheckOptions struct {
	Name       string // file name used in findings
	MaxSegment int    // see Reader.MaxSegment
	// Sets picks a checker for each transaction set; nil, or a nil
	// result, checks the envelope only.
	Sets func(h SetHeader) SetChecker
	// Segment, when set, sees every segment after the checkers.
	Segment func(seg *Segment)
	// ShowValues puts withheld PHI values back into the findings'
	// messages (Checker.ShowValues).
	ShowValues bool
	// Finding, when set, receives every finding as it is made, and Check
	// keeps none (it returns nil Findings): memory then stays flat
	// however many findings the input has. *f is valid during the call
	// only.
	Finding func(f *Finding)
	// Workers, when 2 or more, checks that many
	// transaction sets at a time (see parallel.go); the findings, their
	// order and the summary are those of one worker. Sets is then called
	// on Check's goroutine, but the checkers it returns run on others:
	// they must not share state, but through Deferred. Segment set
	// turns it off.
	Workers int
	// FullFindings, with Workers and Finding, says Finding reads only
	// the Severity, Rule and File of the findings past the first
	// FullFindings (negative: of every finding), so Check may keep less
	// of them while they wait for their turn. 0 passes every finding
	// whole.
	FullFindings int
	// BatchSize is how many bytes of input Workers are handed at a time
	// (0: 512 KiB); parBuffers (16) batches are read ahead at most.
	BatchSize int
	// Source, with Workers, holds the bytes Check reads from r, input
	// offset 0 at SourceBase (an *os.File of a regular file, read from
	// its current offset): the workers then read the segments they check
	// from it instead of being handed copies, and large sets are checked
	// side by side (see parallel.go). The input must not change while it
	// is checked; if it does, the findings say so (rule input.changed).
	Source     io.ReaderAt
	SourceBase int64
}

// Check reads all of r and returns its envelope summary and every finding:
// syntax, envelopes and whatever the set checkers report (or passes the
// findings to opts.Finding as they are made, keeping none). The error is
// only for failure to read r.
func Check(r io.Reader, opts CheckOptions) (*Summary, Findings, error) {
	var fs Findings
	n := 0
	out := func(f Finding) { n++; fs = append(fs, f) }
	if opts.Finding != nil {
		out = func(f Finding) { n++; opts.Finding(&f) }
	}
	c := NewChecker(opts.Name, out)
	c.Sets = opts.Sets
	c.ShowValues = opts.ShowValues
	var par *parCheck
	if w := workersFor(&opts); w > 0 {
		if opts.Finding == nil {
			opts.FullFindings = 0
		}
		par = newParCheck(&opts, w, out)
		c.out = par.finding
		c.Sets = par.sets(opts.Sets)
	}
	rd := NewReader(r)
	rd.Name = opts.Name
	rd.MaxSegment = opts.MaxSegment
	// set checkers look at most elements of every segment (the workers
	// split them again, with the same scan, when they run in parallel)
	rd.SplitElements = opts.Sets != nil && par == nil
	for {
		seg, err := rd.Next()
		if err == io.EOF {
			break
		}
		if f, ok := err.(*Finding); ok {
			c.report(*f)
			continue
		}
		if err != nil {
			c.Finish(rd.Offset())
			if par != nil {
				par.close()
			}
			return c.Summary(), fs, err
		}
		c.Segment(seg)
		if opts.Segment != nil {
			opts.Segment(seg)
		}
	}
	c.Finish(rd.Offset())
	if par != nil {
		par.close()
		c.out = out
	}
	if c.sum.Segments == 0 && n == 0 {
		c.report(Finding{File: opts.Name, Severity: Error, Rule: "envelope.empty", Message: "no X12 segments found: the input is empty"})
	}
	return c.Summary(), fs, nil
}

// Checker checks envelopes segment by segment: ISA/IEA, GS/GE, ST/SE,
// their counts and control numbers, and the fixed-width ISA fields.
type Checker struct {
	// Sets picks a checker per transaction set (see CheckOptions.Sets).
	Sets func(h SetHeader) SetChecker
	// ShowValues reveals the values findings withhold as possible PHI
	// (Finding.Reveal): only for a person at their own terminal.
	ShowValues bool

	name   string
	out    func(Finding)
	rep    func(Finding) // c.report bound once: a method value allocates each time it is made
	sum    Summary
	ic     *Interchange
	grp    *Group
	set    *Set
	setChk SetChecker

	isaSeg, gsSeg, stSeg Segment // kept for end-of-envelope messages
	setSegs              int
	groupSets            int
	icGroups             int
	// listed counts the Summary's list entries (MaxSummaryEntries);
	// icListed and grpListed say whether the current interchange and
	// group are in the lists.
	listed              int
	icListed, grpListed bool
	// control numbers seen, for duplicates (at most MaxControlNumbers
	// each): ISA13 with its sender, and the segment number of its ISA
	isaSeen map[isaKey]int
	gsSeen  map[string]bool
	stSeen  map[string]bool
}

// isaKey identifies an interchange: its sender and control number.
type isaKey struct{ qual, sender, control string }

// list reports whether one more entry fits in the Summary's lists.
func (c *Checker) list() bool {
	if c.listed >= MaxSummaryEntries {
		c.sum.Truncated = true
		return false
	}
	c.listed++
	return true
}

// remember adds key to seen unless it holds MaxControlNumbers already.
func remember[K comparable, V any](seen map[K]V, key K, v V) {
	if len(seen) < MaxControlNumbers {
		seen[key] = v
	}
}

// NewChecker returns a Checker that reports findings to out.
func NewChecker(name string, out func(Finding)) *Checker {
	c := &Checker{name: name, out: out, isaSeen: map[isaKey]int{}}
	c.rep = c.report
	return c
}

// Summary returns what has been seen so far.
func (c *Checker) Summary() *Summary { return &c.sum }

func (c *Checker) report(f Finding) {
	if f.File == "" {
		f.File = c.name
	}
	f.Message = Printable(f.Message) // input text in findings must not reach a terminal raw
	if c.ShowValues {
		f.Reveal()
	}
	c.out(f)
}

func (c *Checker) at(seg *Segment, sev Severity, rule string, elem int, format string, args ...any) {
	c.report(At(seg, sev, rule, elem, 0, format, args...))
}

// Segment checks one segment.
func (c *Checker) Segment(seg *Segment) {
	c.sum.Segments++
	if c.ic != nil {
		c.ic.Segments++
	}
	if raw := seg.Raw(); !printable(raw) {
		i := BadChar(raw)
		elem := bytes.Count(seg.Raw()[:i], []byte{seg.Delimiters().Element})
		c.at(seg, Error, "segment.character", elem, "byte 0x%02X at offset %d is outside the X12 character set", seg.Raw()[i], seg.Offset+int64(i))
	}
	switch seg.ID() {
	case "ISA":
		c.isa(seg)
		return
	case "IEA":
		c.iea(seg)
		return
	case "TA1":
		c.ta1(seg)
		return
	case "GS":
		c.gs(seg)
		return
	case "GE":
		c.ge(seg)
		return
	case "ST":
		c.st(seg)
		return
	case "SE":
		c.se(seg)
		return
	}
	if c.set == nil {
		c.at(seg, Error, "envelope.outside-set", 0, "%s segment is outside any ST..SE transaction set", seg.ID())
		return
	}
	c.setSegs++
	if c.setChk != nil {
		c.setChk.Segment(seg, c.rep)
	}
}

// Finish reports envelopes left open at the end of input.
func (c *Checker) Finish(offset int64) {
	end := Segment{Offset: offset, Num: c.sum.Segments + 1}
	if c.set != nil {
		c.at(&end, Error, "envelope.se-missing", 0, "input ends inside transaction set %s (ST02): SE missing, the file may be truncated", c.set.Control)
		c.endSet(nil)
	}
	if c.grp != nil {
		c.at(&end, Error, "envelope.ge-missing", 0, "input ends inside functional group %s (GS06): GE missing", c.grp.Control)
		c.grp = nil
	}
	if c.ic != nil {
		c.at(&end, Error, "envelope.iea-missing", 0, "input ends inside interchange %s (ISA13): IEA missing", c.ic.Control)
		c.ic = nil
	}
}

// isaWidths are the fixed widths of ISA01..ISA16.
var isaWidths = [17]int{0, 2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1}

var idQualifiers = map[string]bool{"01": true, "14": true, "20": true, "27": true, "28": true, "29": true, "30": true, "33": true, "ZZ": true}

func (c *Checker) isa(seg *Segment) {
	if c.ic != nil {
		c.at(seg, Error, "envelope.iea-missing", 0, "ISA starts a new interchange but interchange %s has no IEA", c.ic.Control)
		c.Finish(seg.Offset)
	}
	ic := &Interchange{
		SenderQual: keep(seg, 5), Sender: keepBytes(bytes.TrimRight(seg.Element(6), " ")),
		ReceiverQual: keep(seg, 7), Receiver: keepBytes(bytes.TrimRight(seg.Element(8), " ")),
		Date: keep(seg, 9), Time: keep(seg, 10), Version: keep(seg, 12),
		Control: keep(seg, 13), Usage: keep(seg, 15), Delimiters: seg.Delimiters(), Segments: 1,
	}
	c.sum.InterchangeCount++
	c.icListed = c.list()
	if c.icListed {
		c.sum.Interchanges = append(c.sum.Interchanges, ic)
	}
	c.ic, c.icGroups, c.gsSeen = ic, 0, map[string]bool{}
	c.isaSeg = seg.Clone()
	if seg.Len() != 16 {
		c.at(seg, Error, "envelope.isa-elements", 0, "ISA has %d elements, want 16", seg.Len())
		return
	}
	for i := 1; i <= 16; i++ {
		if n := len(seg.Element(i)); n != isaWidths[i] {
			c.at(seg, Error, "envelope.isa-width", i, "ISA%02d is %d characters, its fixed width is %d", i, n, isaWidths[i])
		}
	}
	checkCode := func(i int, ok bool, want string) {
		if !ok {
			c.at(seg, Error, "envelope.isa-code", i, "ISA%02d %q is not %s", i, seg.Text(i), want)
		}
	}
	checkCode(1, in(seg.Text(1), "00", "03"), "00 or 03")
	checkCode(3, in(seg.Text(3), "00", "01"), "00 or 01")
	checkCode(5, idQualifiers[seg.Text(5)], "an interchange id qualifier")
	checkCode(7, idQualifiers[seg.Text(7)], "an interchange id qualifier")
	checkCode(9, ValidDate6(seg.Element(9)), "a YYMMDD date")
	checkCode(10, ValidTime(seg.Element(10)) && len(seg.Element(10)) == 4, "an HHMM time")
	checkCode(13, IsDigits(seg.Element(13)), "a 9-digit control number")
	checkCode(14, in(seg.Text(14), "0", "1"), "0 or 1")
	checkCode(15, in(seg.Text(15), "P", "T", "I"), "P, T or I")
	if v := seg.Text(12); v != "00501" && v != "00401" {
		c.at(seg, Warning, "envelope.isa-version", 12, "ISA12 version %q is not 00501 (5010)", v)
	}
	// The same sender's control number twice is the same interchange
	// sent twice (pyx12: "duplicate interchange control number").
	key := isaKey{ic.SenderQual, ic.Sender, ic.Control}
	if prev, dup := c.isaSeen[key]; dup {
		c.at(seg, Error, "envelope.isa-duplicate", 13, "ISA13 control number %s of sender %s was already used by the interchange at segment %d: the same interchange twice", ic.Control, ic.Sender, prev)
		return
	}
	remember(c.isaSeen, key, seg.Num)
}

func (c *Checker) iea(seg *Segment) {
	if c.ic == nil {
		c.at(seg, Error, "envelope.isa-missing", 0, "IEA without a matching ISA")
		return
	}
	if c.grp != nil {
		c.at(seg, Error, "envelope.ge-missing", 0, "IEA closes the interchange but functional group %s has no GE", c.grp.Control)
		if c.set != nil {
			c.endSet(nil)
		}
		c.grp = nil
	}
	c.count(seg, 1, c.icGroups, "IEA01", "functional groups", "envelope.iea-count")
	if got := keep(seg, 2); got != c.ic.Control {
		c.at(seg, Error, "envelope.iea-control", 2, "IEA02 %q does not match ISA13 %q", got, c.ic.Control)
	}
	c.ic = nil
}

func (c *Checker) ta1(seg *Segment) {
	if c.ic == nil {
		c.at(seg, Error, "envelope.outside-interchange", 0, "TA1 outside any ISA..IEA interchange")
		return
	}
	if c.grp != nil {
		c.at(seg, Error, "envelope.ta1-position", 0, "TA1 inside a functional group: it belongs between ISA and GS")
	}
	t := TA1Of(seg)
	if c.icListed && len(c.ic.Acks) < MaxTA1 && c.list() {
		c.ic.Acks = append(c.ic.Acks, t)
	}
	if len(t.Control) != 9 || !IsDigits(seg.Element(1)) {
		c.at(seg, Error, "envelope.ta1", 1, "TA101 %q is not a 9-digit interchange control number", t.Control)
	}
	if !ValidDate6(seg.Element(2)) {
		c.at(seg, Error, "envelope.ta1", 2, "TA102 %q is not a YYMMDD date", t.Date)
	}
	if !in(t.Ack, "A", "E", "R") {
		c.at(seg, Error, "envelope.ta1", 4, "TA104 %q is not A, E or R", t.Ack)
	}
	if len(t.Note) != 3 || !IsDigits(seg.Element(5)) {
		c.at(seg, Error, "envelope.ta1", 5, "TA105 %q is not a 3-digit interchange note code", t.Note)
	}
}

func (c *Checker) gs(seg *Segment) {
	if c.ic == nil {
		c.at(seg, Error, "envelope.outside-interchange", 0, "GS outside any ISA..IEA interchange")
		return
	}
	if c.grp != nil {
		c.at(seg, Error, "envelope.ge-missing", 0, "GS starts a new group but functional group %s has no GE", c.grp.Control)
		if c.set != nil {
			c.endSet(nil)
		}
	}
	g := &Group{FunctionalID: keep(seg, 1), Sender: keep(seg, 2), Receiver: keep(seg, 3), Date: keep(seg, 4), Time: keep(seg, 5), Control: keep(seg, 6), Version: keep(seg, 8)}
	c.sum.GroupCount++
	c.grpListed = c.icListed && c.list()
	if c.grpListed {
		c.ic.Groups = append(c.ic.Groups, g)
	}
	c.grp, c.groupSets, c.stSeen = g, 0, map[string]bool{}
	c.icGroups++
	c.gsSeg = seg.Clone()
	if seg.Len() < 8 {
		c.at(seg, Error, "envelope.gs-elements", 0, "GS has %d elements, want 8", seg.Len())
	}
	if !ValidDate8(seg.Element(4)) {
		c.at(seg, Error, "envelope.gs-date", 4, "GS04 %q is not a CCYYMMDD date", g.Date)
	}
	if !ValidTime(seg.Element(5)) {
		c.at(seg, Error, "envelope.gs-time", 5, "GS05 %q is not an HHMM[SS[d..]] time", g.Time)
	}
	if !IsDigits(seg.Element(6)) || len(g.Control) > 9 {
		c.at(seg, Error, "envelope.gs-control", 6, "GS06 %q is not a control number of 1 to 9 digits", g.Control)
	}
	if seg.Text(7) != "X" {
		c.at(seg, Error, "envelope.gs-agency", 7, "GS07 %q is not X", seg.Text(7))
	}
	if c.gsSeen[g.Control] {
		c.at(seg, Error, "envelope.gs-duplicate", 6, "GS06 control number %s is used twice in this interchange", g.Control)
	}
	remember(c.gsSeen, g.Control, true)
}

func (c *Checker) ge(seg *Segment) {
	if c.grp == nil {
		c.at(seg, Error, "envelope.gs-missing", 0, "GE without a matching GS")
		return
	}
	if c.set != nil {
		c.at(seg, Error, "envelope.se-missing", 0, "GE closes the group but transaction set %s has no SE", c.set.Control)
		c.endSet(nil)
	}
	c.count(seg, 1, c.groupSets, "GE01", "transaction sets", "envelope.ge-count")
	if got := keep(seg, 2); got != c.grp.Control {
		c.at(seg, Error, "envelope.ge-control", 2, "GE02 %q does not match GS06 %q", got, c.grp.Control)
	}
	c.grp = nil
}

func (c *Checker) st(seg *Segment) {
	if c.grp == nil {
		c.at(seg, Error, "envelope.outside-group", 0, "ST outside any GS..GE functional group")
	}
	if c.set != nil {
		c.at(seg, Error, "envelope.se-missing", 0, "ST starts a new transaction set but set %s has no SE", c.set.Control)
		c.endSet(nil)
	}
	s := Set{ID: keep(seg, 1), Control: keep(seg, 2), Version: keep(seg, 3)}
	if len(s.ID) != 3 || !IsDigits(seg.Element(1)) {
		c.at(seg, Error, "envelope.st-id", 1, "ST01 %q is not a 3-digit transaction set id", s.ID)
	}
	if n := len(s.Control); n < 4 || n > 9 {
		c.at(seg, Error, "envelope.st-control", 2, "ST02 %q must be 4 to 9 characters", s.Control)
	}
	if c.stSeen != nil {
		if c.stSeen[s.Control] {
			c.at(seg, Error, "envelope.st-duplicate", 2, "ST02 control number %s is used twice in this group", s.Control)
		}
		remember(c.stSeen, s.Control, true)
	}
	if c.grp != nil {
		if s.Version == "" {
			s.Version = c.grp.Version
		} else if s.Version != c.grp.Version {
			c.at(seg, Warning, "envelope.st-version", 3, "ST03 %q differs from GS08 %q", s.Version, c.grp.Version)
		}
	}
	c.set = &s
	c.setSegs = 1
	c.stSeg = seg.Clone()
	c.setChk = nil
	if c.Sets != nil {
		c.setChk = c.Sets(SetHeader{Interchange: c.ic, Group: c.grp, ID: s.ID, Control: s.Control, Version: s.Version})
	}
	if c.setChk != nil {
		c.setChk.Segment(seg, c.rep)
	}
}

func (c *Checker) se(seg *Segment) {
	if c.set == nil {
		c.at(seg, Error, "envelope.st-missing", 0, "SE without a matching ST")
		return
	}
	c.setSegs++
	if c.setChk != nil {
		c.setChk.Segment(seg, c.rep)
	}
	c.count(seg, 1, c.setSegs, "SE01", "segments", "envelope.se-count")
	if got := keep(seg, 2); got != c.set.Control {
		c.at(seg, Error, "envelope.se-control", 2, "SE02 %q does not match ST02 %q", got, c.set.Control)
	}
	c.endSet(seg)
}

func (c *Checker) endSet(se *Segment) {
	c.set.Segments = c.setSegs
	if c.setChk != nil {
		c.setChk.End(se, c.rep)
	}
	c.sum.SetCount++
	if c.grp != nil {
		if c.grpListed && c.list() {
			c.grp.Sets = append(c.grp.Sets, *c.set)
		}
		c.groupSets++
	}
	c.set, c.setChk = nil, nil
}

// count checks a count element against what was counted.
func (c *Checker) count(seg *Segment, elem, counted int, name, what, rule string) {
	got, err := strconv.Atoi(seg.Text(elem))
	switch {
	case err != nil:
		c.at(seg, Error, rule, elem, "%s %q is not a number", name, seg.Text(elem))
	case got != counted:
		c.at(seg, Error, rule, elem, "%s says %d %s, counted %d", name, got, what, counted)
	}
}

func in(s string, set ...string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

// printable reports whether every byte of b is printable ASCII (0x20 to
// 0x7E), as BadChar finds, eight bytes at a time: every segment is
// checked, and nearly all pass.
func printable(b []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		// a byte below 0x20 borrows into its high bit; a byte above
		// 0x7E has it set, or sets it when 1 is added
		if ((x-0x20*ones)&^x|(x+ones)|x)&highs != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if !charClass[c] {
			return false
		}
	}
	return true
}

// maxKept bounds the envelope values a Checker keeps (the Summary's and
// the duplicate checks'): every one is far shorter in a valid file, and a
// hostile one of a megabyte must not be kept thousands of times.
const maxKept = 64

// keep is element i of seg as a string of at most maxKept bytes.
func keep(seg *Segment, i int) string { return keepBytes(seg.Element(i)) }

func keepBytes(b []byte) string { return string(b[:min(len(b), maxKept)]) }
