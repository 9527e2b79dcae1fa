package x277ca

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/claimgate/claimgate/edi/x12"
)

// maxFindings bounds the findings a Reader keeps (x12.MaxTA1 the TA1s).
const maxFindings = 1000

// EventKind says what an Event reports.
type EventKind uint8

// Event kinds, in the order a Reader emits them for nested loops: a
// claim, then (when its loop closes) its provider, then the transaction.
const (
	// ClaimDone: a 2200D claim loop is complete, lines included.
	ClaimDone EventKind = iota + 1
	// ProviderDone: a 2000C billing provider loop is complete; its claims
	// were reported before. A provider rejected as a whole has no claims:
	// check Provider.Rejected here.
	ProviderDone
	// TransactionDone: a 277CA transaction set ended (SE).
	TransactionDone
)

// Event is one step of a streaming read. The pointers give the claim's (or
// provider's) context; with a streaming Reader the parents' child lists
// stay empty, so memory does not grow with the file.
//
// Patient and Claim (with their slices and strings) are reused by the
// Reader: they are valid until the next call to Next. The claim's strings
// are views of input the Reader then reads over: Clone the Claim, and
// copy the Patient with strings.Clone of its strings, to keep them. The
// Transaction, Source, Receiver and Provider stay valid.
type Event struct {
	Kind        EventKind
	Transaction *Transaction
	Source      *Source
	Receiver    *Receiver
	Provider    *Provider
	Patient     *Patient // ClaimDone only
	Claim       *Claim   // ClaimDone only
}

// loops the Reader can be in
const (
	inNone = iota
	inSource
	inReceiver
	inProvider
	inPatient
	inClaim
	inLine
	inSkipHL   // an HL level this guide does not have: skipped to the next HL
	inSkipLine // a service line beyond maxLines: skipped to the next SVC, TRN or HL
)

// Limits that keep one hostile claim from growing without bound; real
// claims have at most 50 (professional) or 999 (institutional) lines.
const (
	maxLines    = 1000
	maxStatuses = 100
)

// Reader reads 277CA files one claim at a time.
//
// Data problems that make the Reader skip or guess (a transaction set that
// is not a 277CA, an HL level the guide does not have, a loop missing its
// parent level) are collected as findings; full validation is NewChecker's
// job.
//
// A streaming Reader reads a file of any size in a few 64 KiB buffers of
// input, which it fills again as claims are returned: the claim's
// identifiers are views of them (see Event). Read, which keeps every
// claim, makes names, identifiers and trace numbers views of the input
// too, not copies: a value kept after reading keeps its 64 KiB block of
// input alive.
type Reader struct {
	name     string
	rd       *x12.Reader
	findings x12.CappedFindings
	keep     bool

	env             x12.Envelopes
	inSet, skipping bool

	tx *Transaction
	// patBuf and claimBuf are reused by a streaming Reader.
	patBuf   [2]Patient
	claimBuf [2]Claim
	patN     int
	// patText holds a streamed patient's strings (patStr), by patBuf slot.
	patText [2][]byte
	claimN  int
	src     *Source
	rcv     *Receiver
	prov    *Provider
	pat     *Patient
	claim   *Claim
	loop    int

	queue  [4]Event
	qh, nq int
	eof    bool
	cache  *x12.Interner

	outcomes    [4]catOutcome
	nextOutcome int

	// raw and ends are the current segment and where its elements end
	// (x12.Segment.ElementEnds, found while reading: SplitElements); nf
	// is how many elements it has, the id included.
	raw  []byte
	ends []int32
	nf   int
}

// NewReader returns a Reader reading a 277CA from r; name is used as the
// file name in findings.
func NewReader(r io.Reader, name string) *Reader {
	rd := x12.NewReader(r)
	rd.Name = name
	rd.SplitElements = true // the reader looks at most elements
	// names and identifiers are views of the input, which then stays put
	rd.KeepBuffers = true
	return &Reader{name: name, rd: rd, cache: x12.NewInterner(10), findings: x12.CappedFindings{File: name, Max: maxFindings}}
}

// Findings returns the data problems met so far.
func (r *Reader) Findings() x12.Findings { return r.findings.List }

// InterchangeAcks returns the TA1 segments read so far.
func (r *Reader) InterchangeAcks() []x12.TA1 { return r.env.TA1s }

// Next returns the next event. At the end of input it returns io.EOF; any
// other error is an I/O error from the underlying reader.
func (r *Reader) Next() (Event, error) {
	if !r.keep {
		// The claim returned last is the caller's no more: the input it
		// lies in may be filled again.
		r.rd.Release()
	}
	for {
		if r.nq > 0 {
			e := r.queue[r.qh]
			r.queue[r.qh] = Event{}
			r.qh = (r.qh + 1) % len(r.queue)
			r.nq--
			return e, nil
		}
		if r.eof {
			return Event{}, io.EOF
		}
		seg, err := r.rd.Next()
		if err == io.EOF {
			r.eof = true
			if r.inSet {
				r.add(x12.Finding{File: r.name, Severity: x12.Error, Rule: "envelope.se-missing", Offset: r.rd.Offset(),
					Message: fmt.Sprintf("input ends inside 277CA transaction set %s: SE missing, the file may be truncated", r.tx.Control)})
				r.endSet()
			}
			continue
		}
		if err != nil {
			if f, ok := err.(*x12.Finding); ok {
				r.add(*f)
				continue
			}
			return Event{}, err
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

func (r *Reader) push(e Event) {
	r.queue[(r.qh+r.nq)%len(r.queue)] = e
	r.nq++
}

// long makes a string of a value that outlives the claim (transaction,
// source, receiver, provider): a view of the input when the Reader keeps
// everything, else a copy, as a streaming Reader fills its input buffers
// again.
func (r *Reader) long(b []byte) string {
	if r.keep {
		return x12.StableString(b)
	}
	return string(b)
}

// patStr makes a string of a patient value, which lives through the
// patient's claims: a view of the input when the Reader keeps everything,
// else a view of the patient's own text buffer, reused two patients on.
func (r *Reader) patStr(b []byte) string {
	if r.keep {
		return x12.StableString(b)
	}
	t := &r.patText[r.patN%2]
	n := len(*t)
	*t = append(*t, b...)
	// A buffer that grows leaves the earlier strings in its old array,
	// which they keep alive.
	return x12.StableString((*t)[n:])
}

// str returns b as a string, sharing one copy of short repeated values
// (codes, dates, qualifiers).
func (r *Reader) str(b []byte) string { return r.cache.String(b) }

func (r *Reader) segment(seg *x12.Segment) {
	switch seg.ID() {
	case "ISA", "GS", "GE", "IEA":
		r.closeSet(seg)
		r.env.Take(seg)
		return
	case "TA1":
		r.env.Take(seg)
		return
	case "ST":
		r.closeSet(seg)
		r.startSet(seg)
		return
	}
	if r.skipping {
		if seg.Is("SE") {
			r.skipping = false
		}
		return
	}
	if !r.inSet {
		r.at(seg, x12.Error, "277ca.structure", 0, "%s segment outside any 277CA transaction set: ignored", seg.ID())
		return
	}
	// The x12 Reader found the element ends while reading the segment.
	r.raw, r.ends = seg.Raw(), seg.ElementEnds()
	r.nf = len(r.ends)
	switch seg.ID() {
	case "BHT":
		r.tx.Reference, r.tx.Date, r.tx.Time = seg.Text(3), r.str(seg.Element(4)), r.str(seg.Element(5))
		return
	case "HL":
		r.hl(seg)
		return
	case "SE":
		r.endSet()
		return
	}
	switch r.loop {
	case inSource:
		r.source(seg)
	case inReceiver:
		r.receiver(seg)
	case inProvider:
		r.provider(seg)
	case inPatient, inClaim, inLine, inSkipLine:
		r.patient(seg)
	case inNone:
		r.at(seg, x12.Error, "277ca.structure", 0, "%s before the first HL: ignored", seg.ID())
	}
}

func (r *Reader) startSet(seg *x12.Segment) {
	if id := seg.Text(1); id != "277" {
		r.at(seg, x12.Error, "277ca.not-277", 1, "transaction set %s (ST01 %q) is not a 277CA: skipped", seg.Text(2), id)
		r.skipping = true
		return
	}
	v := r.env.Version(seg)
	if v != Version {
		r.at(seg, x12.Error, "277ca.version", 3, "%s", versionMessage(seg.Text(2), v))
		r.skipping = true
		return
	}
	r.tx = &Transaction{Interchange: r.env.Interchange, Group: r.env.Group, Control: seg.Text(2), Version: v, Sources: []*Source{}}
	r.inSet = true
	r.loop = inNone
	r.src, r.rcv, r.prov, r.pat, r.claim = nil, nil, nil, nil, nil
}

// versionMessage explains why a 277 of another version is not read.
func versionMessage(control, v string) string {
	if len(v) >= 10 && v[6:10] == "X212" {
		return fmt.Sprintf("transaction set %s is a 277 claim status response (%s, the answer to a 276 inquiry), not a 277CA claim acknowledgment (%s): skipped", control, v, Version)
	}
	return fmt.Sprintf("transaction set %s has version %q, not the 277CA's %s: skipped", control, v, Version)
}

// closeSet ends a transaction set left open by a missing SE.
func (r *Reader) closeSet(seg *x12.Segment) {
	r.skipping = false
	if !r.inSet {
		return
	}
	r.at(seg, x12.Error, "envelope.se-missing", 0, "%s arrives inside 277CA transaction set %s: SE missing", seg.ID(), r.tx.Control)
	r.endSet()
}

func (r *Reader) endSet() {
	r.closeTo(0)
	r.push(Event{Kind: TransactionDone, Transaction: r.tx})
	r.inSet = false
}

// closeTo closes the open loops deeper than level (1 source .. 4 patient),
// emitting the claim and provider events.
func (r *Reader) closeTo(level int) {
	r.endClaim()
	if level < 4 {
		r.pat = nil
	}
	if level < 3 && r.prov != nil {
		r.push(Event{Kind: ProviderDone, Transaction: r.tx, Source: r.src, Receiver: r.rcv, Provider: r.prov})
		r.prov = nil
	}
	if level < 2 {
		r.rcv = nil
	}
	if level < 1 {
		r.src = nil
	}
}

func (r *Reader) endClaim() {
	if r.claim == nil {
		return
	}
	r.push(Event{Kind: ClaimDone, Transaction: r.tx, Source: r.src, Receiver: r.rcv, Provider: r.prov, Patient: r.pat, Claim: r.claim})
	r.claim = nil
}

func (r *Reader) hl(seg *x12.Segment) {
	level := r.el(3)
	var id string
	if string(level) != "PT" {
		id = string(r.el(1))
	}
	switch string(level) {
	case "20":
		r.closeTo(0)
		r.src = &Source{HL: id, Receivers: []*Receiver{}}
		if r.keep {
			r.tx.Sources = append(r.tx.Sources, r.src)
		}
		r.loop = inSource
	case "21":
		r.closeTo(1)
		r.needParent(seg, 1)
		r.rcv = &Receiver{HL: id, Outcome: OutcomeUnknown, Providers: []*Provider{}}
		if r.keep {
			r.src.Receivers = append(r.src.Receivers, r.rcv)
		}
		r.loop = inReceiver
	case "19":
		r.closeTo(2)
		r.needParent(seg, 2)
		r.prov = &Provider{HL: id, Outcome: OutcomeUnknown, Patients: []*Patient{}}
		if r.keep {
			r.rcv.Providers = append(r.rcv.Providers, r.prov)
		}
		r.loop = inProvider
	case "PT":
		r.closeTo(3)
		r.needParent(seg, 3)
		if r.keep {
			r.pat = &Patient{Claims: []*Claim{}}
		} else {
			// Two buffers: the claim event of the previous patient is
			// still queued when this HL arrives.
			r.patN++
			r.pat = &r.patBuf[r.patN%2]
			*r.pat = Patient{Claims: []*Claim{}}
			r.patText[r.patN%2] = r.patText[r.patN%2][:0]
		}
		r.pat.HL = r.patStr(r.el(1))
		if r.keep {
			r.prov.Patients = append(r.prov.Patients, r.pat)
		}
		r.loop = inPatient
	default:
		r.closeTo(3)
		r.at(seg, x12.Error, "277ca.hl-level", 3, "HL03 level %q is not a 277CA level (20, 21, 19, PT): loop skipped", level)
		r.loop = inSkipHL
	}
}

// needParent makes sure the levels above level exist, creating empty ones
// (with a finding) so that what follows stays reachable.
func (r *Reader) needParent(seg *x12.Segment, level int) {
	if r.src == nil {
		r.at(seg, x12.Error, "277ca.hl-parent", 3, "HL level %s has no information source (HL 20) above it", r.el(3))
		r.src = &Source{Receivers: []*Receiver{}}
		if r.keep {
			r.tx.Sources = append(r.tx.Sources, r.src)
		}
	}
	if level >= 2 && r.rcv == nil {
		r.at(seg, x12.Error, "277ca.hl-parent", 3, "HL level %s has no information receiver (HL 21) above it", r.el(3))
		r.rcv = &Receiver{Outcome: OutcomeUnknown, Providers: []*Provider{}}
		if r.keep {
			r.src.Receivers = append(r.src.Receivers, r.rcv)
		}
	}
	if level >= 3 && r.prov == nil {
		r.at(seg, x12.Error, "277ca.hl-parent", 3, "HL level %s has no billing provider (HL 19) above it", r.el(3))
		r.prov = &Provider{Outcome: OutcomeUnknown, Patients: []*Patient{}}
		if r.keep {
			r.rcv.Providers = append(r.rcv.Providers, r.prov)
		}
	}
}

func (r *Reader) entity(seg *x12.Segment) Entity {
	return Entity{
		Code: r.str(r.el(1)), Type: r.str(r.el(2)), LastName: r.long(r.el(3)),
		FirstName: r.long(r.el(4)), MiddleName: r.str(r.el(5)), Prefix: r.str(r.el(6)),
		Suffix: r.str(r.el(7)), IDQual: r.str(r.el(8)), ID: r.long(r.el(9)),
	}
}

func (r *Reader) source(seg *x12.Segment) {
	s := r.src
	switch seg.ID() {
	case "NM1":
		s.Name = r.entity(seg)
	case "TRN":
		s.Trace = r.long(r.el(2))
	case "DTP":
		switch string(r.el(1)) {
		case "050":
			s.Received = r.str(r.el(3))
		case "009":
			s.Processed = r.str(r.el(3))
		}
	}
}

// status reads an STC segment and returns it with its outcome.
func (r *Reader) status(seg *x12.Segment) (Status, Outcome) {
	sep := seg.Delimiters().Component
	s := Status{
		StatusCode: r.statusCode(r.el(1), sep),
		Date:       r.str(r.el(2)), Action: r.str(r.el(3)), Amount: r.str(r.el(4)),
	}
	o := r.outcome(s.Category)
	if r.nf < 11 {
		return s, o
	}
	for i := 10; i <= 11; i++ {
		if e := r.el(i); len(e) > 0 {
			sc := r.statusCode(e, sep)
			o = Worst(o, r.outcome(sc.Category))
			s.More = append(s.More, sc)
		}
	}
	if m := r.el(12); len(m) > 0 {
		s.Message = string(m)
	}
	return s, o
}

// statusCode splits an STC01/10/11 composite.
func (r *Reader) statusCode(b []byte, sep byte) StatusCode {
	var part [3][]byte
	for k := 0; k < 3; k++ {
		i := bytes.IndexByte(b, sep)
		if i < 0 {
			part[k] = b
			break
		}
		part[k], b = b[:i], b[i+1:]
	}
	return StatusCode{Category: r.str(part[0]), Code: r.str(part[1]), Entity: r.str(part[2])}
}

// outcome maps a category, remembering the last few: files repeat them.
func (r *Reader) outcome(cat string) Outcome {
	for i := range r.outcomes {
		if r.outcomes[i].cat == cat && cat != "" {
			return r.outcomes[i].o
		}
	}
	o := categoryOutcome(cat)
	r.outcomes[r.nextOutcome] = catOutcome{cat, o}
	r.nextOutcome = (r.nextOutcome + 1) % len(r.outcomes)
	return o
}

type catOutcome struct {
	cat string
	o   Outcome
}

func (r *Reader) totals(seg *x12.Segment, t *Totals, acceptedQty, rejectedQty string) {
	q, v := r.el(1), r.el(2)
	switch {
	case seg.Is("QTY") && string(q) == acceptedQty:
		t.AcceptedQuantity = r.str(v)
	case seg.Is("QTY") && string(q) == rejectedQty:
		t.RejectedQuantity = r.str(v)
	case seg.Is("AMT") && string(q) == "YU":
		t.AcceptedAmount = r.str(v)
	case seg.Is("AMT") && string(q) == "YY":
		t.RejectedAmount = r.str(v)
	}
}

func (r *Reader) receiver(seg *x12.Segment) {
	v := r.rcv
	switch seg.ID() {
	case "NM1":
		v.Name = r.entity(seg)
	case "TRN":
		v.Trace = r.long(r.el(2))
	case "STC":
		st, o := r.status(seg)
		v.Outcome = Worst(v.Outcome, o)
		if len(v.Statuses) < maxStatuses {
			v.Statuses = append(v.Statuses, st)
		}
	case "QTY", "AMT":
		r.totals(seg, &v.Totals, "90", "AA")
	}
}

func (r *Reader) provider(seg *x12.Segment) {
	p := r.prov
	switch seg.ID() {
	case "NM1":
		p.Name = r.entity(seg)
	case "TRN":
		p.Trace = r.long(r.el(2))
	case "STC":
		st, o := r.status(seg)
		p.Outcome = Worst(p.Outcome, o)
		if len(p.Statuses) < maxStatuses {
			p.Statuses = append(p.Statuses, st)
		}
	case "REF":
		if len(p.SecondaryIDs) < maxStatuses {
			p.SecondaryIDs = append(p.SecondaryIDs, Reference{Qualifier: r.str(r.el(1)), Value: r.long(r.el(2))})
		}
	case "QTY", "AMT":
		r.totals(seg, &p.Totals, "QA", "QC")
	}
}

// dates reads a DTP date or RD8 range.
func (r *Reader) dates(seg *x12.Segment) (from, to string) {
	v := r.el(3)
	if string(r.el(2)) == "RD8" {
		if i := bytes.IndexByte(v, '-'); i >= 0 {
			return r.str(v[:i]), r.str(v[i+1:])
		}
	}
	s := r.str(v)
	return s, s
}

func (r *Reader) patient(seg *x12.Segment) {
	switch seg.ID() {
	case "NM1":
		if r.loop == inPatient {
			r.pat.Name = Entity{
				Code: r.str(r.el(1)), Type: r.str(r.el(2)), MiddleName: r.str(r.el(5)),
				Prefix: r.str(r.el(6)), Suffix: r.str(r.el(7)), IDQual: r.str(r.el(8)),
			}
			r.pat.Name.LastName = r.patStr(r.el(3))
			r.pat.Name.FirstName = r.patStr(r.el(4))
			r.pat.Name.ID = r.patStr(r.el(9))
		}
		return
	case "TRN":
		r.endClaim()
		if r.keep {
			r.claim = &Claim{Outcome: OutcomeUnknown}
		} else {
			// Streaming: reuse the claim and its slices (see Event).
			// Two buffers, as for patients: the previous claim's event
			// is queued when this TRN arrives.
			r.claimN++
			c := &r.claimBuf[r.claimN%2]
			*c = Claim{Statuses: c.Statuses[:0], Lines: c.Lines[:0], Outcome: OutcomeUnknown}
			r.claim = c
		}
		r.claim.PatientControl = x12.StableString(r.el(2))
		if r.keep {
			r.pat.Claims = append(r.pat.Claims, r.claim)
		}
		r.loop = inClaim
		return
	}
	c := r.claim
	if c == nil {
		r.at(seg, x12.Error, "277ca.structure", 0, "%s in a patient loop before the claim's TRN: ignored", seg.ID())
		return
	}
	if seg.Is("SVC") {
		if len(c.Lines) >= maxLines {
			if r.loop != inSkipLine {
				r.at(seg, x12.Error, "277ca.limit", 0, "claim has more than %d service lines: the rest are not read", maxLines)
			}
			r.loop = inSkipLine
			return
		}
		var c1 [7][]byte
		x12.Split(r.el(1), seg.Delimiters().Component, c1[:])
		ln := Line{Qualifier: r.str(c1[0]), Procedure: r.str(c1[1]), Charge: r.str(r.el(2)),
			Revenue: r.str(r.el(4)), Units: r.str(r.el(7)), Outcome: OutcomeUnknown}
		if !r.keep && len(c.Lines) < cap(c.Lines) {
			// Streaming: reuse the slices of the line slot being overwritten.
			old := c.Lines[: len(c.Lines)+1 : len(c.Lines)+1][len(c.Lines)]
			ln.Statuses, ln.Modifiers = old.Statuses[:0], old.Modifiers[:0]
		}
		for j := 2; j <= 5; j++ {
			if m := c1[j]; len(m) > 0 {
				ln.Modifiers = append(ln.Modifiers, r.str(m))
			}
		}
		c.Lines = append(c.Lines, ln)
		r.loop = inLine
		return
	}
	if r.loop == inSkipLine {
		return
	}
	if r.loop == inLine {
		ln := &c.Lines[len(c.Lines)-1]
		switch seg.ID() {
		case "STC":
			st, o := r.status(seg)
			ln.Outcome = Worst(ln.Outcome, o)
			if len(ln.Statuses) < maxStatuses {
				ln.Statuses = append(ln.Statuses, st)
			}
		case "REF":
			switch string(r.el(1)) {
			case "FJ":
				ln.LineControl = x12.StableString(r.el(2))
			case "XZ":
				ln.Prescription = x12.StableString(r.el(2))
			}
		case "DTP":
			ln.ServiceFrom, ln.ServiceTo = r.dates(seg)
		}
		return
	}
	switch seg.ID() {
	case "STC":
		st, o := r.status(seg)
		c.Outcome = Worst(c.Outcome, o)
		if len(c.Statuses) < maxStatuses {
			c.Statuses = append(c.Statuses, st)
		}
	case "REF":
		v := r.el(2)
		switch string(r.el(1)) {
		case "1K":
			c.PayerClaimControl = x12.StableString(v)
		case "D9":
			c.ClearinghouseTrace = x12.StableString(v)
		case "BLT":
			c.BillType = x12.StableString(v)
		case "EA":
			c.MedicalRecord = x12.StableString(v)
		}
	case "DTP":
		c.ServiceFrom, c.ServiceTo = r.dates(seg)
	}
}

// el returns element i of the current segment, nil when absent.
func (r *Reader) el(i int) []byte {
	if i < 1 || i >= r.nf {
		if i == 0 && r.nf > 0 {
			return r.raw[:r.ends[0]]
		}
		return nil
	}
	return r.raw[r.ends[i-1]+1 : r.ends[i]]
}

// Read reads a whole 277CA file. The findings are reading problems (see
// Reader); use Validate or NewChecker for a full check. The error is only
// for failure to read r.
func Read(r io.Reader, name string) (*Ack, x12.Findings, error) {
	rd := NewReader(r, name)
	rd.keep = true
	ack := &Ack{Transactions: []*Transaction{}}
	for {
		e, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			ack.InterchangeAcks = rd.env.TA1s
			return ack, rd.findings.List, err
		}
		if e.Kind == TransactionDone {
			ack.Transactions = append(ack.Transactions, e.Transaction)
		}
	}
	ack.InterchangeAcks = rd.env.TA1s
	return ack, rd.findings.List, nil
}

// RejectedProviders lists the billing providers rejected as a whole in
// the transaction: all their claims in the batch are rejected (see
// Provider).
func (t *Transaction) RejectedProviders() []*Provider {
	var out []*Provider
	for _, s := range t.Sources {
		for _, v := range s.Receivers {
			for _, p := range v.Providers {
				if p.Rejected() {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// Claims calls fn for every claim of the transaction with its provider;
// it stops at the first error fn returns.
func (t *Transaction) Claims(fn func(p *Provider, c *Claim) error) error {
	for _, s := range t.Sources {
		for _, v := range s.Receivers {
			for _, p := range v.Providers {
				for _, pt := range p.Patients {
					for _, c := range pt.Claims {
						if err := fn(p, c); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	return nil
}

// Clone returns a deep copy of the claim, e.g. to keep a claim a streaming
// Reader handed out.
func (c *Claim) Clone() *Claim {
	d := *c
	// the identifiers may be views of a streaming Reader's input
	d.PatientControl, d.PayerClaimControl = strings.Clone(c.PatientControl), strings.Clone(c.PayerClaimControl)
	d.ClearinghouseTrace, d.BillType, d.MedicalRecord = strings.Clone(c.ClearinghouseTrace), strings.Clone(c.BillType), strings.Clone(c.MedicalRecord)
	d.Statuses = cloneStatuses(c.Statuses)
	if c.Lines != nil {
		d.Lines = make([]Line, len(c.Lines))
		for i, ln := range c.Lines {
			ln.Statuses = cloneStatuses(ln.Statuses)
			ln.LineControl, ln.Prescription = strings.Clone(ln.LineControl), strings.Clone(ln.Prescription)
			ln.Modifiers = append([]string(nil), ln.Modifiers...)
			if len(ln.Modifiers) == 0 {
				ln.Modifiers = nil
			}
			d.Lines[i] = ln
		}
	}
	return &d
}

func cloneStatuses(ss []Status) []Status {
	if ss == nil {
		return nil
	}
	out := make([]Status, len(ss))
	for i, s := range ss {
		if s.More != nil {
			s.More = append([]StatusCode(nil), s.More...)
		}
		out[i] = s
	}
	return out
}
