package x837p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
)

// Limits of the TR3 that the writer enforces because the data could not be
// written otherwise (wrOr would be misread by every receiver).
const (
	MaxDiagnoses        = 12 // HI01..HI12
	MaxLines            = 50 // 2400 repeats
	MaxOtherSubscribers = 10 // 2320 repeats
	MaxPointer          = 12 // SV107 values
)

// ClaimError says why one claim could not be written. Err is often an
// *x12.Finding from the x12.Writer (data containing a delimiter).
type ClaimError struct {
	ClaimID string
	Err     error
}

func (e *ClaimError) Error() string {
	return "x837p: claim " + strconv.Quote(e.ClaimID) + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *ClaimError) Unwrap() error { return e.Err }

// wrPointerText are the SV107 pointer values, so writing them needs no
// formatting.
var wrPointerText = [MaxPointer + 1]string{"", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}

// SetTime fills BHT04 and BHT05 from t.
func (h *Header) SetTime(t time.Time) {
	h.Date = t.Format("20060102")
	h.Time = t.Format("1504")
}

func wrCheckHeader(h *Header) error {
	if n := len(h.Control); n < 4 || n > 9 {
		return fmt.Errorf("x837p: ST02 control number %q must be 4 to 9 characters", h.Control)
	}
	if h.Reference == "" || h.Date == "" || h.Time == "" {
		return errors.New("x837p: BHT needs a reference (BHT03), date (BHT04) and time (BHT05)")
	}
	if err := wrCheckContact(&h.Submitter.Contact); err != nil {
		return fmt.Errorf("x837p: submitter contact: %w", err)
	}
	return nil
}

func wrCheckContact(c *Contact) error {
	n := 0
	for _, s := range [...]string{c.Phone, c.Ext, c.Email, c.Fax} {
		if s != "" {
			n++
		}
	}
	if n > 3 {
		return errors.New("PER holds at most three communication numbers (phone, extension, email, fax)")
	}
	return nil
}

// wrCheckItem refuses what cannot be written as a well-formed claim.
func wrCheckItem(it *Item) error {
	if it.Claim == nil {
		return &ClaimError{Err: errors.New("item has no claim")}
	}
	c := it.Claim
	fail := func(format string, args ...any) error {
		return &ClaimError{ClaimID: c.ID, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case it.Billing == nil:
		return fail("no billing provider")
	case it.Subscriber == nil:
		return fail("no subscriber")
	case c.compact:
		// Its lines and the rest were checked when it was encoded.
		return wrCheckContact(&it.Billing.Contact)
	case c.ID == "":
		return fail("CLM01 patient control number is empty")
	case len(c.Lines) == 0:
		return fail("no service lines")
	case len(c.Lines) > MaxLines:
		return fail("%d service lines, at most %d fit in one claim", len(c.Lines), MaxLines)
	case len(c.Diagnoses) > MaxDiagnoses:
		return fail("%d diagnoses, at most %d fit in HI", len(c.Diagnoses), MaxDiagnoses)
	case len(c.OtherSubscribers) > MaxOtherSubscribers:
		return fail("%d other subscribers, at most %d", len(c.OtherSubscribers), MaxOtherSubscribers)
	}
	if err := wrCheckContact(&it.Billing.Contact); err != nil {
		return fail("billing provider contact: %v", err)
	}
	for i := range c.Lines {
		for _, p := range c.Lines[i].Pointers {
			if p > MaxPointer {
				return fail("line %d: diagnosis pointer %d is above %d", i+1, p, MaxPointer)
			}
		}
	}
	return nil
}

// WriteSet writes one 837P transaction set, ST through SE, with the items
// in order. Consecutive items with equal billing providers share a 2000A,
// equal subscribers a 2000B and equal patients a 2000C; a subscriber's own
// claims after a dependent's start a new 2000B, as the TR3 puts them
// before the 2000C loops. w must have an open functional group.
//
// A claim the writer refuses (see ClaimError) leaves the set unfinished
// and the x12.Writer failed: check items with a Scratch first when one bad
// claim must not spoil the others.
func WriteSet(w *x12.Writer, h *Header, items []Item) error {
	if err := wrCheckHeader(h); err != nil {
		return err
	}
	if len(items) == 0 {
		return errors.New("x837p: a transaction set needs at least one claim")
	}
	if err := w.BeginSet(TransactionID, h.Control, wrVersion); err != nil {
		return err
	}
	writeHeader(w, h)
	if err := w.Err(); err != nil {
		return fmt.Errorf("x837p: set header: %w", err)
	}
	s := wrSet{w: w}
	for i := range items {
		if err := s.item(items, i); err != nil {
			return err
		}
	}
	return w.EndSet()
}

// WriteFile writes one interchange holding one functional group with the
// transaction sets, and returns the ISA13 and GS06 it used: those of the
// headers, wrOr allocated from the Writer's ControlNumbers when zero. The
// group's functional id defaults to HC and its version to 005010X222A1.
func WriteFile(ctx context.Context, w *x12.Writer, ic x12.InterchangeHeader, g x12.GroupHeader, sets []Transaction) (isa, gs int64, err error) {
	if g.FunctionalID == "" {
		g.FunctionalID = "HC"
	}
	if g.Version == "" {
		g.Version = wrVersion
	}
	if isa, err = w.BeginInterchange(ctx, ic); err != nil {
		return 0, 0, err
	}
	if gs, err = w.BeginGroup(ctx, g); err != nil {
		return isa, 0, err
	}
	for i := range sets {
		if err = ctx.Err(); err != nil {
			return isa, gs, err
		}
		if err = WriteSet(w, &sets[i].Header, sets[i].Items); err != nil {
			return isa, gs, err
		}
	}
	if err = w.EndGroup(); err != nil {
		return isa, gs, err
	}
	return isa, gs, w.EndInterchange()
}

// Scratch finds the claims the writer would refuse by encoding each one
// alone into a discarded buffer, so that a real file is only written from
// claims known to encode. It is not safe for concurrent use; Try on
// Scratches of their own lets several goroutines encode, and Apply then
// accounts the results on one Scratch in order, as Encode would have.
type Scratch struct {
	opts x12.WriterOptions
	w    *x12.Writer
	buf  bytes.Buffer // what TryKeep encodes
	// bill is the billing provider of the last item encoded whole, and
	// billSegs its segments: the next item of an equal provider (most
	// often the case) counts them instead of encoding it again.
	bill     BillingProvider
	billSegs int
	// segs counts the segments encoded since the last refusal: a refusal
	// names its segment by this count, as a writer that encoded every
	// claim in turn would.
	segs int
}

// NewScratch returns a Scratch encoding with delimiters d (the zero value
// means x12.DefaultDelimiters), which must be those of the real file.
func NewScratch(d x12.Delimiters) *Scratch {
	return &Scratch{opts: x12.WriterOptions{Delimiters: d}}
}

// NewScratchFor returns a Scratch for files written with opts: its
// Delimiters and Newline (which TryKeep's encodings must match to be
// reused).
func NewScratchFor(opts x12.WriterOptions) *Scratch {
	return &Scratch{opts: x12.WriterOptions{Delimiters: opts.Delimiters, Newline: opts.Newline}}
}

// Encode writes it (its 2000A, 2000B, 2000C and 2300 loops) into the
// scratch buffer and returns the error the writer met, wrOr nil.
func (s *Scratch) Encode(it *Item) error {
	return s.Apply(s.Try(it))
}

// Trial is the outcome of encoding one item alone (Scratch.Try).
type Trial struct {
	segs int
	err  error
}

// Try encodes it alone, counting its segments from 1; Apply turns the
// outcome into what Encode returns.
func (s *Scratch) Try(it *Item) Trial {
	return s.try(it, false)
}

// TryKeep is Try that also keeps the claim's encoded 2300 loop on
// it.Claim, for a writer with the same delimiters and newline setting to
// copy instead of encoding the claim again. it.Claim must not change
// afterwards.
func (s *Scratch) TryKeep(it *Item) Trial {
	return s.try(it, true)
}

func (s *Scratch) try(it *Item, keep bool) Trial {
	var dst io.Writer = io.Discard
	if keep {
		s.buf.Reset()
		dst = &s.buf
	}
	if s.w == nil {
		s.w = x12.NewWriter(dst, s.opts)
	} else {
		s.w.Reset(dst)
	}
	one := [1]Item{*it}
	sw := wrSet{w: s.w}
	if keep {
		sw.keep = &s.buf
	}
	if s.billSegs > 0 && it.Billing != nil && *it.Billing == s.bill {
		// As if writeBilling had written them: HL 1, then its segments.
		sw.hl, sw.billHL, sw.bill = 1, 1, it.Billing
		s.w.Raw(nil, s.billSegs)
	}
	err := sw.item(one[:], 0)
	if err == nil && sw.billSegs > 0 {
		s.bill, s.billSegs = *it.Billing, sw.billSegs
	}
	return Trial{segs: s.w.Segments(), err: err}
}

// Apply accounts a Trial (made on this or another Scratch) as if its item
// had been encoded here after the ones before, and returns its error with
// the segment numbered as Encode numbers it.
func (s *Scratch) Apply(t Trial) error {
	if t.err == nil {
		s.segs += t.segs
		return nil
	}
	err := t.err
	var ce *ClaimError
	if errors.As(err, &ce) {
		if f, ok := ce.Err.(*x12.Finding); ok && f.Segment > 0 {
			g := *f
			g.Segment += s.segs
			err = &ClaimError{ClaimID: ce.ClaimID, Err: &g}
		}
	}
	s.segs = 0
	return err
}

// encodedClaim is a claim's 2300 loop encoded by a Scratch.
type encodedClaim struct {
	d    x12.Delimiters
	nl   bool
	b    []byte
	segs int
}

// wrSet tracks the open hierarchical levels of a set.
type wrSet struct {
	w    *x12.Writer
	keep *bytes.Buffer // the Writer's destination, when keeping claims' encodings
	// billSegs is the number of segments the last billing provider
	// written took.
	billSegs int
	hl       int64
	billHL   int64
	subHL    int64
	bill     *BillingProvider
	sub      *Subscriber
	pat      *Patient
}

func wrSameBilling(a, b *BillingProvider) bool { return a == b || (a != nil && b != nil && *a == *b) }

// wrSameSubscriber compares the member id first: it is what usually
// differs, and the whole struct is long.
func wrSameSubscriber(a, b *Subscriber) bool {
	return a == b || (a != nil && b != nil && a.ID == b.ID && *a == *b)
}
func wrSamePatient(a, b *Patient) bool { return a == b || (a != nil && b != nil && *a == *b) }

// wrHasPatients reports whether the 2000B opened for items[i] will have
// 2000C children: whether a dependent's claim follows under the same
// billing provider and subscriber.
func wrHasPatients(items []Item, i int) bool {
	first := &items[i]
	for j := i; j < len(items); j++ {
		it := &items[j]
		if j > i && (!wrSameBilling(it.Billing, first.Billing) || !wrSameSubscriber(it.Subscriber, first.Subscriber)) {
			return false
		}
		if it.Patient != nil {
			return true
		}
	}
	return false
}

func (s *wrSet) item(items []Item, i int) error {
	it := &items[i]
	if err := wrCheckItem(it); err != nil {
		return err
	}
	w := s.w
	if s.bill == nil || !wrSameBilling(it.Billing, s.bill) {
		s.hl++
		s.billHL = s.hl
		n := w.Segments()
		writeBilling(w, s.hl, it.Billing)
		s.billSegs = w.Segments() - n
		s.bill, s.sub, s.pat = it.Billing, nil, nil
	}
	if s.sub == nil || !wrSameSubscriber(it.Subscriber, s.sub) || (it.Patient == nil && s.pat != nil) {
		s.hl++
		s.subHL = s.hl
		writeSubscriber(w, s.hl, s.billHL, wrHasPatients(items, i), it.Subscriber)
		s.sub, s.pat = it.Subscriber, nil
	}
	if it.Patient != nil && (s.pat == nil || !wrSamePatient(it.Patient, s.pat)) {
		s.hl++
		writePatient(w, s.hl, s.subHL, it.Patient)
		s.pat = it.Patient
	}
	if err := s.claim(it.Claim); err != nil {
		return &ClaimError{ClaimID: it.Claim.ID, Err: err}
	}
	if err := w.Err(); err != nil {
		return &ClaimError{ClaimID: it.Claim.ID, Err: err}
	}
	return nil
}

// errCompacted refuses to write a compacted claim other than by copying
// its kept encoding.
var errCompacted = errors.New("claim compacted after encoding: it can only be copied into a file with the delimiters and newline setting it was encoded with")

// claim writes the 2300 loop: a copy of its encoding when a Scratch kept
// one for these delimiters, else encoded (and kept when s.keep is set).
func (s *wrSet) claim(c *Claim) error {
	w := s.w
	if e := c.enc; e != nil && s.keep == nil && e.d == w.Delimiters() && e.nl == w.Newline() {
		w.Raw(e.b, e.segs)
		return nil
	}
	if c.compact {
		return errCompacted
	}
	if s.keep == nil {
		writeClaim(w, c)
		return nil
	}
	if w.Flush() != nil {
		return nil
	}
	mark, n := s.keep.Len(), w.Segments()
	writeClaim(w, c)
	if w.Flush() == nil {
		c.enc = &encodedClaim{d: w.Delimiters(), nl: w.Newline(), b: bytes.Clone(s.keep.Bytes()[mark:]), segs: w.Segments() - n}
	}
	return nil
}

// wrK appends a constant element of this package (letters and digits,
// which no valid delimiter set uses) without the per-byte delimiter check
// that data gets: the writer's hot path is mostly qualifiers.
func wrK(w *x12.Writer, k string) {
	w.Append(func(dst []byte) []byte { return append(dst, k...) })
}

// wrElOr appends data s, or the constant def when s is empty.
func wrElOr(w *x12.Writer, s, def string) {
	if s == "" {
		wrK(w, def)
		return
	}
	w.Element(s)
}

func wrOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func writeHeader(w *x12.Writer, h *Header) {
	w.Begin("BHT")
	wrK(w, "0019")
	wrElOr(w, h.Purpose, "00")
	w.Element(h.Reference)
	w.Element(h.Date)
	w.Element(h.Time)
	wrElOr(w, h.ClaimType, "CH")
	w.End()
	writeName(w, "41", &h.Submitter.Name, "", "46", h.Submitter.ID)
	writeContact(w, &h.Submitter.Contact)
	writeOrg(w, "40", h.Receiver.Name, "", "46", h.Receiver.ID)
}

// writeName writes an NM1 for a person or organisation. code and defQual
// are constants; the id and its qualifier (idQual, or defQual when empty)
// are written only when the id is given.
func writeName(w *x12.Writer, code string, n *Name, idQual, defQual, id string) {
	w.Begin("NM1")
	wrK(w, code)
	w.Element(n.Entity)
	w.Element(n.Last)
	w.Element(n.First)
	w.Element(n.Middle)
	w.Empty(1)
	w.Element(n.Suffix)
	if id != "" {
		wrElOr(w, idQual, defQual)
		w.Element(id)
	}
	w.End()
}

// writeOrg writes an NM1 for an organisation (entity 2); code and
// defQual are constants.
func writeOrg(w *x12.Writer, code, name, idQual, defQual, id string) {
	w.Begin("NM1")
	wrK(w, code)
	wrK(w, "2")
	w.Element(name)
	if id != "" {
		w.Empty(4)
		wrElOr(w, idQual, defQual)
		w.Element(id)
	}
	w.End()
}

func writeAddress(w *x12.Writer, a *Address) {
	if a.Line1 != "" || a.Line2 != "" {
		w.Begin("N3")
		w.Element(a.Line1)
		w.Element(a.Line2)
		w.End()
	}
	if a.City != "" || a.State != "" || a.Zip != "" || a.Country != "" {
		w.Begin("N4")
		w.Element(a.City)
		w.Element(a.State)
		w.Element(a.Zip)
		w.Element(a.Country)
		w.End()
	}
}

func writeContact(w *x12.Writer, c *Contact) {
	if c.IsZero() {
		return
	}
	w.Begin("PER")
	wrK(w, "IC")
	w.Element(c.Name)
	if c.Phone != "" {
		wrK(w, "TE")
		w.Element(c.Phone)
	}
	if c.Ext != "" {
		wrK(w, "EX")
		w.Element(c.Ext)
	}
	if c.Email != "" {
		wrK(w, "EM")
		w.Element(c.Email)
	}
	if c.Fax != "" {
		wrK(w, "FX")
		w.Element(c.Fax)
	}
	w.End()
}

func writeDemographics(w *x12.Writer, birth, gender string) {
	if birth == "" && gender == "" {
		return
	}
	w.Begin("DMG")
	if birth != "" {
		wrK(w, "D8")
		w.Element(birth)
	} else {
		w.Empty(2)
	}
	w.Element(gender)
	w.End()
}

// writeRef writes REF*qual*v when v is given; qual is a constant.
func writeRef(w *x12.Writer, qual, v string) {
	if v == "" {
		return
	}
	w.Begin("REF")
	wrK(w, qual)
	w.Element(v)
	w.End()
}

// writeRefData is writeRef with a qualifier that is data.
func writeRefData(w *x12.Writer, qual, v string) {
	if v == "" {
		return
	}
	w.Begin("REF")
	w.Element(qual)
	w.Element(v)
	w.End()
}

func writeDate(w *x12.Writer, qual, d string) {
	if d == "" {
		return
	}
	w.Begin("DTP")
	wrK(w, qual)
	wrK(w, "D8")
	w.Element(d)
	w.End()
}

func writeNote(w *x12.Writer, code, text string) {
	if text == "" {
		return
	}
	w.Begin("NTE")
	wrElOr(w, code, "ADD")
	w.Element(text)
	w.End()
}

func writeHL(w *x12.Writer, id, parent int64, level string, child bool) {
	w.Begin("HL")
	w.Int(id)
	if parent > 0 {
		w.Int(parent)
	} else {
		w.Empty(1)
	}
	wrK(w, level)
	if child {
		wrK(w, "1")
	} else {
		wrK(w, "0")
	}
	w.End()
}

func writeAmount(w *x12.Writer, cents int64) {
	w.Append(func(dst []byte) []byte { return AppendAmount(dst, cents) })
}

func writeBilling(w *x12.Writer, hl int64, b *BillingProvider) {
	writeHL(w, hl, 0, "20", true)
	if b.Taxonomy != "" {
		w.Begin("PRV")
		wrK(w, "BI")
		wrK(w, "PXC")
		w.Element(b.Taxonomy)
		w.End()
	}
	writeName(w, "85", &b.Name, "", "XX", b.NPI)
	writeAddress(w, &b.Address)
	if b.TaxID != "" {
		w.Begin("REF")
		wrElOr(w, b.TaxIDQualifier, "EI")
		w.Element(b.TaxID)
		w.End()
	}
	writeContact(w, &b.Contact)
	if !b.PayTo.IsZero() {
		w.Begin("NM1")
		wrK(w, "87")
		wrElOr(w, b.PayToEntity, "2")
		w.End()
		writeAddress(w, &b.PayTo)
	}
}

func writeSBR(w *x12.Writer, seq, rel, group, groupName, insType, filing string) {
	w.Begin("SBR")
	w.Element(seq)
	w.Element(rel)
	w.Element(group)
	w.Element(groupName)
	w.Element(insType)
	w.Empty(3)
	w.Element(filing)
	w.End()
}

func writePayer(w *x12.Writer, p *Payer) {
	writeOrg(w, "PR", p.Name, p.IDQualifier, "PI", p.ID)
	writeAddress(w, &p.Address)
}

func writeSubscriber(w *x12.Writer, hl, parent int64, child bool, s *Subscriber) {
	writeHL(w, hl, parent, "22", child)
	writeSBR(w, s.Sequence, s.Relationship, s.GroupNumber, s.GroupName, s.InsuranceType, s.FilingCode)
	writeName(w, "IL", &s.Name, s.IDQualifier, "MI", s.ID)
	writeAddress(w, &s.Address)
	writeDemographics(w, s.Birth, s.Gender)
	writePayer(w, &s.Payer)
}

func writePatient(w *x12.Writer, hl, parent int64, p *Patient) {
	writeHL(w, hl, parent, "23", false)
	w.Begin("PAT")
	w.Element(p.Relationship)
	w.End()
	writeName(w, "QC", &p.Name, "", "", "")
	writeAddress(w, &p.Address)
	writeDemographics(w, p.Birth, p.Gender)
}

func writeClaim(w *x12.Writer, c *Claim) {
	w.Begin("CLM")
	w.Element(c.ID)
	writeAmount(w, c.Charge)
	w.Empty(2)
	w.Composite(c.PlaceOfService, "B", c.Frequency)
	w.Element(c.ProviderSignature)
	w.Element(c.Assignment)
	w.Element(c.BenefitsAssigned)
	w.Element(c.ReleaseOfInfo)
	w.Element(c.PatientSignatureSource)
	w.Composite(c.RelatedCauses[0], c.RelatedCauses[1], "", c.AccidentState, c.AccidentCountry)
	if c.DelayReason != "" {
		w.Empty(8)
		w.Element(c.DelayReason)
	}
	w.End()

	writeDate(w, "431", c.OnsetDate)
	writeDate(w, "454", c.InitialTreatmentDate)
	writeDate(w, "304", c.LastSeenDate)
	writeDate(w, "439", c.AccidentDate)
	writeRef(w, "9F", c.Referral)
	writeRef(w, "G1", c.PriorAuth)
	writeRef(w, "F8", c.OriginalRef)
	writeRef(w, "D9", c.ClearinghouseTrace)
	writeRef(w, "EA", c.MedicalRecord)
	writeNote(w, c.NoteCode, c.Note)
	if len(c.Diagnoses) > 0 {
		w.Begin("HI")
		for k := range c.Diagnoses {
			d := &c.Diagnoses[k]
			q := d.Qualifier
			if q == "" {
				q = "ABF"
				if k == 0 {
					q = "ABK"
				}
			}
			w.Composite(q, d.Code)
		}
		w.End()
	}
	if p := c.Referring; p != nil {
		writeName(w, "DN", &p.Name, "", "XX", p.NPI)
		writeRefData(w, p.SecondaryQualifier, p.SecondaryID)
	}
	if p := c.Rendering; p != nil {
		writeName(w, "82", &p.Name, "", "XX", p.NPI)
		if p.Taxonomy != "" {
			w.Begin("PRV")
			wrK(w, "PE")
			wrK(w, "PXC")
			w.Element(p.Taxonomy)
			w.End()
		}
		writeRefData(w, p.SecondaryQualifier, p.SecondaryID)
	}
	if f := c.Facility; f != nil {
		writeOrg(w, "77", f.Name, "", "XX", f.NPI)
		writeAddress(w, &f.Address)
	}
	for k := range c.OtherSubscribers {
		writeOther(w, &c.OtherSubscribers[k])
	}
	for k := range c.Lines {
		writeLine(w, k+1, &c.Lines[k])
	}
}

func writeOther(w *x12.Writer, o *OtherSubscriber) {
	writeSBR(w, o.Sequence, o.Relationship, o.GroupNumber, o.GroupName, o.InsuranceType, o.FilingCode)
	adj := o.Adjustments
	for len(adj) > 0 {
		// One CAS per run of the same group code, six triplets at most.
		n := 1
		for n < len(adj) && n < 6 && adj[n].Group == adj[0].Group {
			n++
		}
		w.Begin("CAS")
		w.Element(adj[0].Group)
		for k := 0; k < n; k++ {
			a := &adj[k]
			w.Element(a.Reason)
			writeAmount(w, a.Amount)
			if a.Quantity != 0 {
				q := a.Quantity
				w.Append(func(dst []byte) []byte { return AppendQuantity(dst, q) })
			} else {
				w.Empty(1)
			}
		}
		w.End()
		adj = adj[n:]
	}
	if o.HasPaid {
		w.Begin("AMT")
		wrK(w, "D")
		writeAmount(w, o.Paid)
		w.End()
	}
	if o.HasRemaining {
		w.Begin("AMT")
		wrK(w, "EAF")
		writeAmount(w, o.Remaining)
		w.End()
	}
	if o.BenefitsAssigned != "" || o.PatientSignatureSource != "" || o.ReleaseOfInfo != "" {
		w.Begin("OI")
		w.Empty(2)
		w.Element(o.BenefitsAssigned)
		w.Element(o.PatientSignatureSource)
		w.Empty(1)
		w.Element(o.ReleaseOfInfo)
		w.End()
	}
	writeName(w, "IL", &o.Name, o.IDQualifier, "MI", o.ID)
	writeAddress(w, &o.Address)
	writePayer(w, &o.Payer)
	writeDate(w, "573", o.AdjudicationDate)
}

func writeLine(w *x12.Writer, n int, l *Line) {
	w.Begin("LX")
	w.Int(int64(n))
	w.End()

	w.Begin("SV1")
	m := &l.Modifiers
	w.Composite(wrOr(l.Qualifier, "HC"), l.Procedure, m[0], m[1], m[2], m[3], l.Description)
	writeAmount(w, l.Charge)
	wrElOr(w, l.Unit, "UN")
	units := l.Units
	w.Append(func(dst []byte) []byte { return AppendQuantity(dst, units) })
	w.Element(l.PlaceOfService)
	w.Empty(1)
	p := &l.Pointers
	w.Composite(wrPointerText[p[0]], wrPointerText[p[1]], wrPointerText[p[2]], wrPointerText[p[3]])
	if l.Emergency != "" {
		w.Empty(1)
		w.Element(l.Emergency)
	}
	w.End()

	if l.ServiceDate != "" {
		w.Begin("DTP")
		wrK(w, "472")
		if l.ServiceDateEnd == "" {
			wrK(w, "D8")
			w.Element(l.ServiceDate)
		} else {
			wrK(w, "RD8")
			// The range is one element, date-date; the hyphen is data.
			w.Element(l.ServiceDate + "-" + l.ServiceDateEnd)
		}
		w.End()
	}
	writeRef(w, "G1", l.PriorAuth)
	writeRef(w, "6R", l.ControlNumber)
	writeRef(w, "9F", l.Referral)
	writeNote(w, l.NoteCode, l.Note)
}
