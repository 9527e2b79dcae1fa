package x835

import (
	"bytes"
	"io"

	"github.com/claimgate/claimgate/edi/x12"
)

// DefaultMaxFindings is how many findings a Reader keeps when no Report
// function is set.
const DefaultMaxFindings = 10000

// A Reader reads 835 files one claim payment at a time, in memory bounded
// by the largest claim rather than the file. It takes any input the x12
// Reader takes: several interchanges and transaction sets, any delimiters.
//
// Next returns each claim as soon as its 2100 loop ends, with its
// Remittance (the set's header: payment, trace, payer, payee) attached.
// The claims are the caller's to keep. To allocate little, consecutive
// claims are carved out of shared memory chunks of a few kilobytes
// (their parts never overlap, and appending to a claim's slice copies
// it), so a claim kept long after reading also keeps its chunks, and the
// parts of its neighbours in them, alive: a few tens of kilobytes more
// than the claim itself. Its strings are views of the input rather than
// copies, so it also keeps the 64 KiB blocks of input they lie in alive.
//
// Problems in the data are findings, never errors: they go to Report (or
// are kept for Findings) while reading goes on. By default the Reader
// checks what reading needs, quickly: loop structure, segment order and
// repeats, code values of CLP02, CAS01, BPR04 and PLB reasons, CARC and
// RARC lists, amounts, and line, claim and payment balancing. With
// Validate set it also checks every element against the TR3 and the
// envelopes (as Validate does), at a lower speed.
type Reader struct {
	// Name is the file name used in findings.
	Name string
	// Validate turns on the full TR3 element and envelope checks.
	Validate bool
	// MaxSegment is the longest segment accepted (x12.Reader.MaxSegment);
	// zero means x12.DefaultMaxSegment.
	MaxSegment int
	// Report, when set, receives every finding as it is made. When nil
	// the Reader keeps the first MaxFindings (Findings).
	Report func(x12.Finding)
	// MaxFindings bounds the findings kept when Report is nil; 0 means
	// DefaultMaxFindings, negative means no bound.
	MaxFindings int
	// ReuseClaims makes Next return the same ClaimPayment every time,
	// overwritten by the following call together with its slices and
	// strings (like bufio.Scanner's Bytes): the strings are views of the
	// input, whose buffers are filled again once the claim is done with,
	// so a caller copies what it keeps (strings.Clone). Reading then
	// allocates nothing per claim or per buffer of input: a file of any
	// size is read in a few 64 KiB buffers and one claim's memory, which
	// is also the fastest way to read. The Remittance and its strings
	// stay valid. Reversal and Correction links are not set in this mode,
	// as they would point at overwritten claims.
	ReuseClaims bool
	// EndRemittance, when set, is called at the end of each transaction
	// set with its Remittance, complete with provider adjustments (PLB)
	// — after the set's last claim has been returned by Next.
	EndRemittance func(*Remittance)

	src     io.Reader
	x       *x12.Reader
	p       *parser
	chk     *x12.Checker
	cur     *Remittance
	ended   []*Remittance // sets ended but not yet reported
	started bool
	eof     bool
	err     error

	findings x12.Findings
	dropped  int
	segs     int

	// light envelope tracking (Validate off)
	env       Envelope
	gsVersion string
	inSet     bool
	skipSet   bool
	setSegs   int
	stControl string
}

// NewReader returns a Reader reading r.
func NewReader(r io.Reader) *Reader { return &Reader{src: r} }

func (r *Reader) init() {
	r.started = true
	r.x = x12.NewReader(r.src)
	r.x.Name = r.Name
	r.x.MaxSegment = r.MaxSegment
	// The claims' strings are views of the input, which the x12 Reader
	// then never overwrites: no copies (about 15% of the reading time).
	r.x.KeepBuffers = true
	r.x.SplitElements = true
	r.p = newParser()
	r.p.stableInput = true
	r.p.claimViews = r.ReuseClaims
	r.p.file = r.Name
	r.p.full = r.Validate
	r.p.recycle = r.ReuseClaims
	r.p.out = r.emit
	r.p.onEnd = func(rem *Remittance) { r.ended = append(r.ended, rem) }
	if r.Validate {
		r.p.payments = newPayments()
		r.chk = x12.NewChecker(r.Name, r.emit)
		r.chk.Sets = func(h x12.SetHeader) x12.SetChecker {
			if h.ID != "835" {
				return nil
			}
			r.p.begin(envelopeOf(h), h.Version)
			return &Checker{p: r.p, keepOut: true}
		}
	}
}

func (r *Reader) emit(f x12.Finding) {
	if f.File == "" {
		f.File = r.Name
	}
	if r.Report != nil {
		r.Report(f)
		return
	}
	max := r.MaxFindings
	if max == 0 {
		max = DefaultMaxFindings
	}
	if max > 0 && len(r.findings) >= max {
		r.dropped++
		return
	}
	r.findings = append(r.findings, f)
}

// Findings returns the findings kept so far (none when Report is set).
func (r *Reader) Findings() x12.Findings { return r.findings }

// Dropped is the number of findings not kept because MaxFindings was
// reached.
func (r *Reader) Dropped() int { return r.dropped }

// Remittance returns the transaction set of the claim Next returned last
// (nil before the first claim).
func (r *Reader) Remittance() *Remittance { return r.cur }

// Next returns the next claim payment, or io.EOF after the last one. Any
// other error comes from the underlying reader and is final.
func (r *Reader) Next() (*ClaimPayment, error) {
	if !r.started {
		r.init()
	}
	if r.ReuseClaims {
		// The claim returned last is the caller's no more: its input
		// buffers may be filled again.
		r.x.Release()
	}
	for {
		if c := r.p.ready; c != nil {
			r.p.ready = nil
			r.cur = c.Remittance
			return c, nil
		}
		r.flushEnded()
		if r.err != nil {
			return nil, r.err
		}
		if r.eof {
			r.err = io.EOF
			continue
		}
		seg, err := r.x.Next()
		if err != nil {
			if f, ok := err.(*x12.Finding); ok {
				r.emit(*f)
				continue
			}
			r.finish()
			if err != io.EOF {
				r.err = err
			}
			r.eof = true
			continue
		}
		r.segs++
		if r.chk != nil {
			r.chk.Segment(seg)
		} else {
			r.light(seg)
		}
	}
}

// flushEnded reports finished sets once their claims have all been
// returned.
func (r *Reader) flushEnded() {
	for len(r.ended) > 0 {
		rem := r.ended[0]
		r.ended[0] = nil
		r.ended = r.ended[1:]
		if r.EndRemittance != nil {
			r.EndRemittance(rem)
		}
	}
}

func (r *Reader) finish() {
	if r.chk != nil {
		r.chk.Finish(r.x.Offset())
	} else if r.inSet {
		r.seMissing(x12.Segment{Offset: r.x.Offset(), Num: r.segs + 1}, "input ends inside transaction set %s (ST02): SE missing, the file may be truncated")
	}
	r.p.release()
	if r.segs == 0 && len(r.findings) == 0 && r.dropped == 0 {
		r.emit(x12.Finding{File: r.Name, Severity: x12.Error, Rule: "envelope.empty", Message: "no X12 segments found: the input is empty"})
	}
}

func (r *Reader) seMissing(at x12.Segment, format string) {
	f := x12.At(&at, x12.Error, "envelope.se-missing", 0, 0, format, r.stControl)
	r.emit(f)
	if !r.skipSet {
		r.p.end(nil)
	}
	r.inSet = false
}

// light tracks envelopes without checking them: enough to know the sets
// and where each comes from.
func (r *Reader) light(seg *x12.Segment) {
	// Inside a set (the x12 Reader counts from ST) anything but SE goes
	// straight to the parser: one test instead of the envelope switch.
	if seg.SetPos > 1 && r.inSet && seg.ID() != "SE" {
		r.setSegs++
		if !r.skipSet {
			r.p.segment(seg)
		}
		return
	}
	switch seg.ID() {
	case "ISA", "GS", "GE", "IEA", "TA1", "ST", "SE":
		r.envelope(seg)
		return
	}
	if !r.inSet {
		r.emit(x12.At(seg, x12.Error, "envelope.outside-set", 0, 0, "%s segment is outside any ST..SE transaction set", seg.ID()))
		return
	}
	r.setSegs++
	if !r.skipSet {
		r.p.segment(seg)
	}
}

// envelope is light for the envelope segments.
func (r *Reader) envelope(seg *x12.Segment) {
	switch seg.ID() {
	case "ISA":
		if r.inSet {
			r.seMissing(*seg, "ISA starts a new interchange but transaction set %s has no SE")
		}
		r.env = Envelope{
			InterchangeControl:  seg.Text(13),
			InterchangeSender:   string(bytes.TrimRight(seg.Element(6), " ")),
			InterchangeReceiver: string(bytes.TrimRight(seg.Element(8), " ")),
			Usage:               seg.Text(15),
		}
	case "GS":
		if r.inSet {
			r.seMissing(*seg, "GS starts a new group but transaction set %s has no SE")
		}
		r.env.GroupControl = seg.Text(6)
		r.env.GroupSender = seg.Text(2)
		r.env.GroupReceiver = seg.Text(3)
		r.env.GroupDate = seg.Text(4)
		r.gsVersion = seg.Text(8)
	case "GE", "IEA":
		if r.inSet {
			r.seMissing(*seg, "the envelope closes but transaction set %s has no SE")
		}
	case "TA1":
	case "ST":
		if r.inSet {
			r.seMissing(*seg, "ST starts a new transaction set but set %s has no SE")
		}
		r.inSet, r.setSegs, r.stControl = true, 1, seg.Text(2)
		r.skipSet = seg.Text(1) != "835"
		if r.skipSet {
			r.emit(x12.At(seg, x12.Warning, RuleUnexpected, 1, 0, "transaction set %s is not an 835: skipped", seg.Text(1)))
			return
		}
		v := seg.Text(3)
		if v == "" {
			v = r.gsVersion
		}
		r.p.begin(r.env, v)
		r.p.segment(seg)
	case "SE":
		if !r.inSet {
			r.emit(x12.At(seg, x12.Error, "envelope.st-missing", 0, 0, "SE without a matching ST"))
			return
		}
		r.setSegs++
		r.inSet = false
		if r.skipSet {
			return
		}
		r.p.segment(seg)
		if n, ok := atoi(seg.Element(1)); !ok || n != r.setSegs {
			r.emit(x12.At(seg, x12.Error, "envelope.se-count", 1, 0, "SE01 says %s segments, counted %d", seg.Text(1), r.setSegs))
		}
		if c := seg.Element(2); string(c) != r.stControl {
			r.emit(x12.At(seg, x12.Error, "envelope.se-control", 2, 0, "SE02 %q does not match ST02 %q", c, r.stControl))
		}
		r.p.end(seg)
	}
}

func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func envelopeOf(h x12.SetHeader) Envelope {
	var e Envelope
	if ic := h.Interchange; ic != nil {
		e.InterchangeControl, e.InterchangeSender, e.InterchangeReceiver, e.Usage = ic.Control, ic.Sender, ic.Receiver, ic.Usage
	}
	if g := h.Group; g != nil {
		e.GroupControl, e.GroupSender, e.GroupReceiver, e.GroupDate = g.Control, g.Sender, g.Receiver, g.Date
	}
	return e
}

// ReadAll reads a whole 835 file into memory with full validation: every
// transaction set with its claims (Remittance.Claims) and every finding.
// Use the streaming Reader for large files.
func ReadAll(r io.Reader, name string) ([]*Remittance, x12.Findings, error) {
	rd := NewReader(r)
	rd.Name = name
	rd.Validate = true
	rd.MaxFindings = -1
	var rems []*Remittance
	rd.EndRemittance = func(rem *Remittance) { rems = append(rems, rem) }
	rd.init()
	rd.p.collect = true
	for {
		_, err := rd.Next()
		if err == io.EOF {
			return rems, rd.findings, nil
		}
		if err != nil {
			return rems, rd.findings, err
		}
	}
}

// Checker validates one 835 transaction set; it is an x12.SetChecker.
// It checks loop structure, every element against the TR3, code values
// and balancing, and keeps no claim (memory stays flat).
type Checker struct {
	p       *parser
	keepOut bool // the Reader's own parser: findings already routed
}

// NewChecker returns a Checker for the set h describes.
func NewChecker(h x12.SetHeader) *Checker {
	p := newParser()
	p.full = true
	p.recycle = true
	p.begin(envelopeOf(h), h.Version)
	return &Checker{p: p}
}

// Sets is an x12.CheckOptions.Sets function: it returns a Checker for 835
// transaction sets and nil for any other, so x12.Check validates an 835
// file completely:
//
//	x12.Check(r, x12.CheckOptions{Name: name, Sets: x835.Sets})
func Sets(h x12.SetHeader) x12.SetChecker {
	if h.ID != "835" {
		return nil
	}
	return NewChecker(h)
}

// Segment checks one segment of the set (ST..SE).
func (c *Checker) Segment(seg *x12.Segment, report func(x12.Finding)) {
	if !c.keepOut {
		c.p.out = report
	}
	c.p.segment(seg)
}

// End finishes the set: required loops, claim and payment balancing.
func (c *Checker) End(se *x12.Segment, report func(x12.Finding)) {
	if !c.keepOut {
		c.p.out = report
	}
	c.p.end(se)
	if !c.keepOut {
		c.p.release()
	}
}

// Validate checks a whole 835 file: envelopes (x12.Check), TR3 structure
// and elements, code values, balancing and payments sent twice. The error
// is only for failing to read r.
func Validate(r io.Reader, name string) (*x12.Summary, x12.Findings, error) {
	return x12.Check(r, x12.CheckOptions{Name: name, Sets: FileSets()})
}
