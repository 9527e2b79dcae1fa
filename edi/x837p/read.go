package x837p

import (
	"bytes"
	"fmt"
	"io"

	"github.com/claimgate/claimgate/edi/x12"
)

// Finding rules the Reader reports. The Reader maps; it does not validate
// the TR3 (the validator does), so its findings are about what it could
// not put into the model.
const (
	// RuleUnmapped: a segment or element the model has no place for; its
	// data is not in the items. Warning.
	RuleUnmapped = "x837p.read.unmapped"
	// RuleStructure: a segment out of the place the reader expects, e.g.
	// a claim with no subscriber loop before it. Error.
	RuleStructure = "x837p.read.structure"
	// RuleValue: a value the model cannot hold, e.g. an amount that is
	// not a number. Error.
	RuleValue = "x837p.read.value"
	// RuleSkippedSet: a transaction set that is not an 837. Warning.
	RuleSkippedSet = "x837p.read.skipped-set"
	// RuleTruncated: the input ends inside a transaction set. Error.
	RuleTruncated = "x837p.read.truncated"
	// RuleTooMany: more repetitions than the reader keeps (see the
	// limits below); the rest are dropped. Error.
	RuleTooMany = "x837p.read.too-many"
	// RuleFindingsDropped: the finding limit was reached; later findings
	// are only counted. Warning.
	RuleFindingsDropped = "x837p.read.findings-dropped"
)

// Reading limits that keep memory bounded on hostile input: a claim holds
// at most this many lines, diagnoses, other subscribers and adjustments.
const (
	rdMaxLines       = 999
	rdMaxDiagnoses   = 99
	rdMaxOthers      = 99
	rdMaxAdjustments = 99
)

// ReadMaxFindings is how many findings a Reader keeps unless told
// otherwise.
const ReadMaxFindings = 10000

// Envelope is what the interchange and group around the current set say.
type Envelope struct {
	SenderQual, Sender     string // ISA05, ISA06 (trailing spaces trimmed)
	ReceiverQual, Receiver string // ISA07, ISA08
	Control                string // ISA13
	Usage                  string // ISA15
	GroupSender            string // GS02
	GroupReceiver          string // GS03
	GroupControl           string // GS06
	Version                string // GS08
}

// loop is where the reader is in the 837P hierarchy.
type rdLoop uint8

const (
	rdNone rdLoop = iota
	rdHeader
	rd1000A
	rd1000B
	rd2000A
	rd2010AA
	rd2010AB
	rd2010AC
	rd2000B
	rd2010BA
	rd2010BB
	rd2000C
	rd2010CA
	rd2300
	rd2310A
	rd2310B
	rd2310C
	rd2310X // 2310D-F, not mapped
	rd2320
	rd2330A
	rd2330B
	rd2330X // 2330C-G, not mapped
	rd2400
	rd2400X // 2410, 2420A-H, 2430, 2440: not mapped
	rdUnknownHL
)

var rdLoopNames = [...]string{
	rdNone: "", rdHeader: "header", rd1000A: "1000A", rd1000B: "1000B",
	rd2000A: "2000A", rd2010AA: "2010AA", rd2010AB: "2010AB", rd2010AC: "2010AC",
	rd2000B: "2000B", rd2010BA: "2010BA", rd2010BB: "2010BB", rd2000C: "2000C", rd2010CA: "2010CA",
	rd2300: "2300", rd2310A: "2310A", rd2310B: "2310B", rd2310C: "2310C", rd2310X: "2310",
	rd2320: "2320", rd2330A: "2330A", rd2330B: "2330B", rd2330X: "2330",
	rd2400: "2400", rd2400X: "2400", rdUnknownHL: "HL",
}

func (l rdLoop) String() string { return rdLoopNames[l] }

func (l rdLoop) claimLevel() bool { return l >= rd2300 && l <= rd2310X }
func (l rdLoop) otherLevel() bool { return l >= rd2320 && l <= rd2330X }
func (l rdLoop) lineLevel() bool  { return l == rd2400 || l == rd2400X }
func (l rdLoop) inClaim() bool    { return l >= rd2300 && l <= rd2400X }

// Reader reads 837P files into Items, one claim at a time, holding only
// the current claim and its context in memory. It accepts files that are
// not TR3-clean: what it cannot map it reports as findings and goes on.
//
//	r := x837p.NewReader(f)
//	for {
//		it, err := r.Next()
//		if err == io.EOF { break }
//		if err != nil { return err } // I/O error
//		... it, r.Header(), r.Envelope() ...
//	}
//	findings := r.Findings()
type Reader struct {
	// Name is the file name used in findings.
	Name string
	// MaxFindings caps the findings kept; zero means ReadMaxFindings.
	MaxFindings int
	// OnSegment, when set, sees every segment as it is read, before the
	// Reader handles it and before Next returns the claim it ends: a
	// validator run on the same read (x12.Checker) has then seen all of
	// that claim. The segment is valid only during the call.
	OnSegment func(seg *x12.Segment)

	src      *x12.Reader
	findings x12.Findings
	dropped  int

	seg     *x12.Segment // the x12.Reader's, valid until its next Next
	pending bool         // seg was read but not yet handled
	err     error

	env     Envelope
	hdr     *Header
	inSet   bool
	skipSet bool
	loop    rdLoop

	bill   *BillingProvider
	billHL string
	sub    *Subscriber
	subHL  string
	pat    *Patient

	claim *Claim
	line  *Line
	other *OtherSubscriber
	prov  *Provider // the 2310A/B provider whose REF/PRV may follow
	fac   *Facility
	// flags for "at most once" findings per claim
	tooMany bool
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{src: x12.NewReader(r)}
}

// Findings returns what the Reader has found so far: the x12 syntax
// findings of the input and what it could not map.
func (r *Reader) Findings() x12.Findings { return r.findings }

// Header returns the header of the transaction set the last item came
// from (nil before the first set). The value is shared by the set's items.
func (r *Reader) Header() *Header { return r.hdr }

// Envelope returns the interchange and group of the last item.
func (r *Reader) Envelope() Envelope { return r.env }

func (r *Reader) add(f x12.Finding) {
	max := r.MaxFindings
	if max <= 0 {
		max = ReadMaxFindings
	}
	if len(r.findings) >= max {
		if r.dropped == 0 {
			r.findings = append(r.findings, x12.Finding{File: r.Name, Severity: x12.Warning, Rule: RuleFindingsDropped,
				Offset: f.Offset, Segment: f.Segment, Message: fmt.Sprintf("more than %d findings: later ones are not kept", max)})
		}
		r.dropped++
		return
	}
	if f.File == "" {
		f.File = r.Name
	}
	r.findings = append(r.findings, f)
}

func (r *Reader) at(seg *x12.Segment, sev x12.Severity, rule string, elem, comp int, format string, args ...any) {
	f := x12.At(seg, sev, rule, elem, comp, format, args...)
	f.Loop = r.loop.String()
	r.add(f)
}

func (r *Reader) unmapped(seg *x12.Segment, format string, args ...any) {
	r.at(seg, x12.Warning, RuleUnmapped, 0, 0, format, args...)
}

// Next returns the next claim with its context. It returns io.EOF at the
// end of input and any other error only for failure to read. Claims from
// transaction sets other than 837 are skipped.
func (r *Reader) Next() (*Item, error) {
	if r.err != nil {
		return nil, r.err
	}
	for {
		if !r.pending {
			next, err := r.src.Next()
			if err != nil {
				if f, ok := err.(*x12.Finding); ok {
					if f.File == "" {
						f.File = r.Name
					}
					r.add(*f)
					continue
				}
				if err == io.EOF && r.inSet {
					end := x12.Segment{Offset: r.src.Offset()}
					r.at(&end, x12.Error, RuleTruncated, 0, 0, "input ends inside transaction set %s: SE missing, the last claim may be incomplete", r.hdr.Control)
					r.inSet = false
				}
				r.err = err
				if it := r.finish(); it != nil {
					return it, nil
				}
				return nil, err
			}
			r.seg = next
			r.pending = true
			if r.OnSegment != nil {
				r.OnSegment(next)
			}
		}
		seg := r.seg
		if r.claim != nil && rdEndsClaim(seg.ID()) {
			// Hand out the claim before the segment that ends it; the
			// segment is handled on the next call.
			return r.finish(), nil
		}
		r.pending = false
		r.segment(seg)
	}
}

func rdEndsClaim(id string) bool {
	switch id {
	case "CLM", "HL", "SE", "ST", "GE", "GS", "IEA", "ISA":
		return true
	}
	return false
}

// finish returns the claim in progress, if any, as an item.
func (r *Reader) finish() *Item {
	if r.claim == nil {
		return nil
	}
	it := &Item{Billing: r.bill, Subscriber: r.sub, Patient: r.pat, Claim: r.claim}
	r.claim, r.line, r.other, r.prov, r.fac = nil, nil, nil, nil, nil
	// The segment that ended the claim sets the next loop.
	r.loop = rdNone
	return it
}

// rdText returns element i as a string, or "" (without allocating) when it
// is empty.
func rdText(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return string(b)
}

func (r *Reader) segment(seg *x12.Segment) {
	id := seg.ID()
	switch id {
	case "ISA":
		r.env = Envelope{
			SenderQual: seg.Text(5), Sender: string(bytes.TrimRight(seg.Element(6), " ")),
			ReceiverQual: seg.Text(7), Receiver: string(bytes.TrimRight(seg.Element(8), " ")),
			Control: seg.Text(13), Usage: seg.Text(15),
		}
		r.endSet()
		return
	case "GS":
		r.env.GroupSender, r.env.GroupReceiver = seg.Text(2), seg.Text(3)
		r.env.GroupControl, r.env.Version = seg.Text(6), seg.Text(8)
		r.endSet()
		return
	case "GE", "IEA":
		r.endSet()
		return
	case "ST":
		r.endSet()
		r.inSet = true
		r.hdr = &Header{Control: seg.Text(2)}
		r.loop = rdHeader
		if string(seg.Element(1)) != TransactionID {
			r.skipSet = true
			r.at(seg, x12.Warning, RuleSkippedSet, 1, 0, "transaction set %s is a %s, not an 837: skipped", seg.Text(2), seg.Text(1))
			return
		}
		v := seg.Element(3)
		if len(v) == 0 {
			v = []byte(r.env.Version)
		}
		if !bytes.HasPrefix(v, []byte("005010X222")) {
			r.at(seg, x12.Warning, RuleUnmapped, 3, 0, "version %q is not 005010X222 (837 professional): read as 837P anyway", v)
		}
		return
	case "SE":
		r.endSet()
		return
	}
	if r.skipSet {
		return
	}
	if !r.inSet {
		r.at(seg, x12.Error, RuleStructure, 0, 0, "%s segment outside a transaction set", id)
		return
	}
	switch id {
	case "BHT":
		if r.loop != rdHeader {
			r.at(seg, x12.Error, RuleStructure, 0, 0, "BHT after the start of the set")
		}
		h := r.hdr
		h.Purpose, h.Reference, h.Date, h.Time, h.ClaimType = seg.Text(2), seg.Text(3), seg.Text(4), seg.Text(5), seg.Text(6)
	case "HL":
		r.hl(seg)
	case "NM1":
		r.nm1(seg)
	case "N3", "N4":
		r.address(seg)
	case "PER":
		r.per(seg)
	case "REF":
		r.ref(seg)
	case "PRV":
		r.prv(seg)
	case "DMG":
		r.dmg(seg)
	case "SBR":
		r.sbr(seg)
	case "PAT":
		if r.loop == rd2000C && r.pat != nil {
			r.pat.Relationship = seg.Text(1)
			if seg.Len() > 1 {
				r.unmapped(seg, "PAT02 and later (patient death/weight/pregnancy) are not mapped")
			}
		} else {
			r.unmapped(seg, "PAT segment in loop %s is not mapped", r.loop)
		}
	case "CLM":
		r.clm(seg)
	case "DTP":
		r.dtp(seg)
	case "HI":
		r.hi(seg)
	case "NTE":
		r.nte(seg)
	case "CAS":
		r.cas(seg)
	case "AMT":
		r.amt(seg)
	case "OI":
		if r.loop == rd2320 && r.other != nil {
			r.other.BenefitsAssigned, r.other.PatientSignatureSource, r.other.ReleaseOfInfo = seg.Text(3), seg.Text(4), seg.Text(6)
		} else {
			r.unmapped(seg, "OI segment outside loop 2320")
		}
	case "LX":
		r.lx(seg)
	case "SV1":
		r.sv1(seg)
	case "LIN", "SVD", "LQ":
		if r.claim != nil && r.line != nil {
			r.loop = rd2400X
		}
		r.unmapped(seg, "%s segment (loop 2410/2430/2440) is not mapped", id)
	default:
		r.unmapped(seg, "%s segment is not mapped", id)
	}
}

// endSet closes the current set (and any claim, already handed out).
func (r *Reader) endSet() {
	r.inSet, r.skipSet = false, false
	r.loop = rdNone
	r.bill, r.sub, r.pat = nil, nil, nil
	r.billHL, r.subHL = "", ""
}

func (r *Reader) hl(seg *x12.Segment) {
	id, parent, level := seg.Element(1), seg.Element(2), seg.Element(3)
	switch string(level) {
	case "20":
		r.bill = &BillingProvider{}
		r.billHL = string(id)
		r.sub, r.pat, r.subHL = nil, nil, ""
		r.loop = rd2000A
		if len(parent) > 0 {
			r.at(seg, x12.Error, RuleStructure, 2, 0, "billing provider HL has a parent %q", parent)
		}
	case "22":
		if r.bill == nil {
			r.at(seg, x12.Error, RuleStructure, 3, 0, "subscriber HL without a billing provider HL before it")
			r.bill = &BillingProvider{}
		} else if string(parent) != r.billHL {
			r.at(seg, x12.Error, RuleStructure, 2, 0, "subscriber HL parent %q is not the billing provider HL %q", parent, r.billHL)
		}
		r.sub = &Subscriber{}
		r.subHL = string(id)
		r.pat = nil
		r.loop = rd2000B
	case "23":
		if r.sub == nil {
			r.at(seg, x12.Error, RuleStructure, 3, 0, "patient HL without a subscriber HL before it")
			if r.bill == nil {
				r.bill = &BillingProvider{}
			}
			r.sub = &Subscriber{}
		} else if string(parent) != r.subHL {
			r.at(seg, x12.Error, RuleStructure, 2, 0, "patient HL parent %q is not the subscriber HL %q", parent, r.subHL)
		}
		r.pat = &Patient{}
		r.loop = rd2000C
	default:
		r.at(seg, x12.Error, RuleStructure, 3, 0, "HL level code %q is not 20, 22 or 23: segments up to the next HL are not mapped", level)
		r.loop = rdUnknownHL
	}
}

func (r *Reader) nm1(seg *x12.Segment) {
	code := string(seg.Element(1))
	l := r.loop
	switch {
	case code == "41" && (l == rdHeader || l == rd1000A || l == rd1000B):
		r.loop = rd1000A
		rdName(seg, &r.hdr.Submitter.Name)
		r.hdr.Submitter.ID = r.id(seg, "46")
	case code == "40" && (l == rdHeader || l == rd1000A || l == rd1000B):
		r.loop = rd1000B
		r.hdr.Receiver.Name = seg.Text(3)
		r.hdr.Receiver.ID = r.id(seg, "46")
	case code == "85" && (l >= rd2000A && l <= rd2010AC):
		r.loop = rd2010AA
		rdName(seg, &r.bill.Name)
		r.bill.NPI = r.id(seg, "XX")
	case code == "87" && (l >= rd2000A && l <= rd2010AC):
		r.loop = rd2010AB
		r.bill.PayToEntity = seg.Text(2)
		if seg.Len() > 2 {
			r.unmapped(seg, "pay-to address NM103 and later are not used in 5010")
		}
	case code == "PE" && (l >= rd2000A && l <= rd2010AC):
		r.loop = rd2010AC
		r.unmapped(seg, "pay-to plan (2010AC) is not mapped")
	case code == "IL" && (l == rd2000B || l == rd2010BA || l == rd2010BB):
		r.loop = rd2010BA
		rdName(seg, &r.sub.Name)
		r.sub.IDQualifier, r.sub.ID = seg.Text(8), seg.Text(9)
	case code == "PR" && (l == rd2000B || l == rd2010BA || l == rd2010BB):
		r.loop = rd2010BB
		r.sub.Payer.Name = seg.Text(3)
		r.sub.Payer.IDQualifier, r.sub.Payer.ID = seg.Text(8), seg.Text(9)
	case code == "QC" && (l == rd2000C || l == rd2010CA):
		r.loop = rd2010CA
		rdName(seg, &r.pat.Name)
		if len(seg.Element(9)) > 0 {
			r.unmapped(seg, "patient id in NM109 is not used in 5010")
		}
	case r.claim != nil && l.otherLevel():
		if r.other == nil {
			r.unmapped(seg, "NM1*%s after dropped other subscribers is not mapped", code)
			return
		}
		switch code {
		case "IL":
			r.loop = rd2330A
			rdName(seg, &r.other.Name)
			r.other.IDQualifier, r.other.ID = seg.Text(8), seg.Text(9)
		case "PR":
			r.loop = rd2330B
			r.other.Payer.Name = seg.Text(3)
			r.other.Payer.IDQualifier, r.other.Payer.ID = seg.Text(8), seg.Text(9)
		default:
			r.loop = rd2330X
			r.unmapped(seg, "other payer provider NM1*%s (loop 2330C-G) is not mapped", code)
		}
	case r.claim != nil && l.lineLevel():
		r.loop = rd2400X
		r.unmapped(seg, "line-level NM1*%s (loop 2420) is not mapped", code)
	case r.claim != nil && l.claimLevel():
		r.prov, r.fac = nil, nil
		switch code {
		case "DN":
			if r.claim.Referring != nil {
				r.loop = rd2310X
				r.unmapped(seg, "second referring provider is not mapped")
				return
			}
			r.loop = rd2310A
			r.prov = &Provider{}
			r.claim.Referring = r.prov
		case "82":
			if r.claim.Rendering != nil {
				r.loop = rd2310X
				r.unmapped(seg, "second rendering provider is not mapped")
				return
			}
			r.loop = rd2310B
			r.prov = &Provider{}
			r.claim.Rendering = r.prov
		case "77":
			if r.claim.Facility != nil {
				r.loop = rd2310X
				r.unmapped(seg, "second service facility is not mapped")
				return
			}
			r.loop = rd2310C
			r.fac = &Facility{Name: seg.Text(3)}
			r.fac.NPI = r.id(seg, "XX")
			r.claim.Facility = r.fac
			return
		default:
			r.loop = rd2310X
			r.unmapped(seg, "NM1*%s (loop 2310) is not mapped", code)
			return
		}
		rdName(seg, &r.prov.Name)
		r.prov.NPI = r.id(seg, "XX")
	default:
		r.at(seg, x12.Error, RuleStructure, 1, 0, "NM1*%s does not belong in loop %s: not mapped", code, l)
	}
}

// id returns NM109 when NM108 is qual; another qualifier is reported.
func (r *Reader) id(seg *x12.Segment, qual string) string {
	q, v := seg.Element(8), seg.Element(9)
	if len(v) == 0 {
		return ""
	}
	if string(q) != qual {
		r.at(seg, x12.Warning, RuleUnmapped, 8, 0, "NM108 id qualifier %q is not %s: NM109 %q not mapped", q, qual, v)
		return ""
	}
	return string(v)
}

func rdName(seg *x12.Segment, n *Name) {
	n.Entity, n.Last, n.First, n.Middle, n.Suffix = rdText(seg.Element(2)), rdText(seg.Element(3)), rdText(seg.Element(4)), rdText(seg.Element(5)), rdText(seg.Element(7))
}

// addressFor returns the address N3/N4 fill in the current loop.
func (r *Reader) addressFor() *Address {
	switch r.loop {
	case rd2010AA:
		return &r.bill.Address
	case rd2010AB:
		return &r.bill.PayTo
	case rd2010BA:
		return &r.sub.Address
	case rd2010BB:
		return &r.sub.Payer.Address
	case rd2010CA:
		return &r.pat.Address
	case rd2310C:
		return &r.fac.Address
	case rd2330A:
		return &r.other.Address
	case rd2330B:
		return &r.other.Payer.Address
	}
	return nil
}

func (r *Reader) address(seg *x12.Segment) {
	a := r.addressFor()
	if a == nil {
		r.unmapped(seg, "%s segment in loop %s is not mapped", seg.ID(), r.loop)
		return
	}
	if seg.Is("N3") {
		a.Line1, a.Line2 = seg.Text(1), seg.Text(2)
		return
	}
	a.City, a.State, a.Zip, a.Country = seg.Text(1), seg.Text(2), seg.Text(3), seg.Text(4)
	if seg.Len() > 4 {
		r.unmapped(seg, "N405 and later (location qualifier, country subdivision) are not mapped")
	}
}

func (r *Reader) per(seg *x12.Segment) {
	var c *Contact
	switch r.loop {
	case rd1000A:
		c = &r.hdr.Submitter.Contact
	case rd2010AA:
		c = &r.bill.Contact
	}
	if c == nil || !c.IsZero() {
		r.unmapped(seg, "PER segment in loop %s is not mapped", r.loop)
		return
	}
	c.Name = seg.Text(2)
	for i := 3; i+1 <= seg.Len(); i += 2 {
		q, v := seg.Element(i), seg.Element(i+1)
		switch string(q) {
		case "TE":
			c.Phone = string(v)
		case "EX":
			c.Ext = string(v)
		case "EM":
			c.Email = string(v)
		case "FX":
			c.Fax = string(v)
		case "":
		default:
			r.at(seg, x12.Warning, RuleUnmapped, i, 0, "communication number qualifier %q is not mapped", q)
		}
	}
}

func (r *Reader) ref(seg *x12.Segment) {
	q, v := string(seg.Element(1)), rdText(seg.Element(2))
	switch r.loop {
	case rd2010AA:
		if (q == "EI" || q == "SY") && r.bill.TaxID == "" {
			r.bill.TaxIDQualifier, r.bill.TaxID = q, v
			return
		}
	case rd2300:
		c := r.claim
		var dst *string
		switch q {
		case "9F":
			dst = &c.Referral
		case "G1":
			dst = &c.PriorAuth
		case "F8":
			dst = &c.OriginalRef
		case "D9":
			dst = &c.ClearinghouseTrace
		case "EA":
			dst = &c.MedicalRecord
		}
		if dst != nil && *dst == "" {
			*dst = v
			return
		}
	case rd2310A, rd2310B:
		if r.prov.SecondaryID == "" {
			r.prov.SecondaryQualifier, r.prov.SecondaryID = q, v
			return
		}
	case rd2400:
		l := r.line
		var dst *string
		switch q {
		case "G1":
			dst = &l.PriorAuth
		case "6R":
			dst = &l.ControlNumber
		case "9F":
			dst = &l.Referral
		}
		if dst != nil && *dst == "" {
			*dst = v
			return
		}
	}
	r.unmapped(seg, "REF*%s in loop %s is not mapped", q, r.loop)
}

func (r *Reader) prv(seg *x12.Segment) {
	code := string(seg.Element(1))
	switch {
	case code == "BI" && r.loop == rd2000A && r.bill.Taxonomy == "":
		r.bill.Taxonomy = seg.Text(3)
	case code == "PE" && r.loop == rd2310B && r.prov.Taxonomy == "":
		r.prov.Taxonomy = seg.Text(3)
	default:
		r.unmapped(seg, "PRV*%s in loop %s is not mapped", code, r.loop)
		return
	}
	if string(seg.Element(2)) != "PXC" {
		r.at(seg, x12.Warning, RuleUnmapped, 2, 0, "PRV02 %q is not PXC: PRV03 read as a taxonomy code anyway", seg.Element(2))
	}
}

func (r *Reader) dmg(seg *x12.Segment) {
	var birth, gender *string
	switch r.loop {
	case rd2010BA:
		birth, gender = &r.sub.Birth, &r.sub.Gender
	case rd2010CA:
		birth, gender = &r.pat.Birth, &r.pat.Gender
	default:
		r.unmapped(seg, "DMG in loop %s is not mapped", r.loop)
		return
	}
	if q := seg.Element(1); len(q) > 0 && string(q) != "D8" {
		r.at(seg, x12.Warning, RuleUnmapped, 1, 0, "DMG01 date format %q is not D8: birth date not mapped", q)
	} else {
		*birth = seg.Text(2)
	}
	*gender = seg.Text(3)
}

func (r *Reader) sbr(seg *x12.Segment) {
	if r.loop == rd2000B && r.sub != nil {
		s := r.sub
		s.Sequence, s.Relationship, s.GroupNumber, s.GroupName, s.InsuranceType, s.FilingCode =
			seg.Text(1), seg.Text(2), seg.Text(3), seg.Text(4), seg.Text(5), seg.Text(9)
		return
	}
	if r.claim == nil || !r.loop.inClaim() {
		r.at(seg, x12.Error, RuleStructure, 0, 0, "SBR in loop %s: not mapped", r.loop)
		return
	}
	if r.loop.lineLevel() {
		r.at(seg, x12.Error, RuleStructure, 0, 0, "other subscriber SBR (2320) after the service lines: read as 2320 anyway")
	}
	c := r.claim
	if len(c.OtherSubscribers) >= rdMaxOthers {
		r.tooManyOnce(seg, "other subscribers")
		r.loop = rd2330X // ignore until the next known loop
		r.other = nil
		return
	}
	c.OtherSubscribers = append(c.OtherSubscribers, OtherSubscriber{
		Sequence: seg.Text(1), Relationship: seg.Text(2), GroupNumber: seg.Text(3),
		GroupName: seg.Text(4), InsuranceType: seg.Text(5), FilingCode: seg.Text(9),
	})
	r.other = &c.OtherSubscribers[len(c.OtherSubscribers)-1]
	r.line = nil
	r.loop = rd2320
}

func (r *Reader) tooManyOnce(seg *x12.Segment, what string) {
	if !r.tooMany {
		r.at(seg, x12.Error, RuleTooMany, 0, 0, "claim has more %s than the reader keeps: the rest are dropped", what)
		r.tooMany = true
	}
}

func (r *Reader) amount(seg *x12.Segment, elem int) int64 {
	b := seg.Element(elem)
	if len(b) == 0 {
		return 0
	}
	v, ok := ParseAmount(b)
	if !ok {
		r.at(seg, x12.Error, RuleValue, elem, 0, "amount %q is not a decimal with at most two places", b)
	}
	return v
}

func (r *Reader) quantity(seg *x12.Segment, elem int) Quantity {
	b := seg.Element(elem)
	if len(b) == 0 {
		return 0
	}
	v, ok := ParseQuantity(b)
	if !ok {
		r.at(seg, x12.Error, RuleValue, elem, 0, "quantity %q is not a decimal with at most three places", b)
	}
	return v
}

func (r *Reader) clm(seg *x12.Segment) {
	if r.sub == nil {
		r.at(seg, x12.Error, RuleStructure, 0, 0, "CLM without a subscriber loop (HL*22) before it")
		if r.bill == nil {
			r.bill = &BillingProvider{}
		}
		r.sub = &Subscriber{}
	}
	r.tooMany = false
	c := &Claim{ID: seg.Text(1), Charge: r.amount(seg, 2)}
	r.claim = c
	r.loop = rd2300
	if len(seg.Element(3)) > 0 || len(seg.Element(4)) > 0 {
		r.unmapped(seg, "CLM03/CLM04 are not used in 5010")
	}
	pos := seg.Composite(5)
	c.PlaceOfService, c.Frequency = rdText(pos.Part(1)), rdText(pos.Part(3))
	if q := pos.Part(2); string(q) != "B" {
		r.at(seg, x12.Warning, RuleUnmapped, 5, 2, "CLM05-2 facility code qualifier %q is not B", q)
	}
	c.ProviderSignature, c.Assignment, c.BenefitsAssigned, c.ReleaseOfInfo, c.PatientSignatureSource =
		seg.Text(6), seg.Text(7), seg.Text(8), seg.Text(9), seg.Text(10)
	rc := seg.Composite(11)
	c.RelatedCauses[0], c.RelatedCauses[1] = rdText(rc.Part(1)), rdText(rc.Part(2))
	c.AccidentState, c.AccidentCountry = rdText(rc.Part(4)), rdText(rc.Part(5))
	if len(rc.Part(3)) > 0 {
		r.at(seg, x12.Warning, RuleUnmapped, 11, 3, "CLM11-3 is not used in 5010")
	}
	for i := 12; i <= 19; i++ {
		if len(seg.Element(i)) > 0 {
			r.at(seg, x12.Warning, RuleUnmapped, i, 0, "CLM%02d is not mapped", i)
		}
	}
	c.DelayReason = seg.Text(20)
}

func (r *Reader) dtp(seg *x12.Segment) {
	q, f, d := string(seg.Element(1)), seg.Element(2), seg.Element(3)
	switch r.loop {
	case rd2300:
		c := r.claim
		var dst *string
		switch q {
		case "431":
			dst = &c.OnsetDate
		case "454":
			dst = &c.InitialTreatmentDate
		case "304":
			dst = &c.LastSeenDate
		case "439":
			dst = &c.AccidentDate
		}
		if dst != nil && *dst == "" && string(f) == "D8" {
			*dst = string(d)
			return
		}
	case rd2330B:
		if q == "573" && string(f) == "D8" && r.other.AdjudicationDate == "" {
			r.other.AdjudicationDate = string(d)
			return
		}
	case rd2400:
		l := r.line
		if q == "472" && l.ServiceDate == "" {
			switch string(f) {
			case "D8":
				l.ServiceDate = string(d)
				return
			case "RD8":
				if i := bytes.IndexByte(d, '-'); i >= 0 {
					l.ServiceDate, l.ServiceDateEnd = string(d[:i]), string(d[i+1:])
				} else {
					r.at(seg, x12.Error, RuleValue, 3, 0, "RD8 date range %q has no hyphen", d)
					l.ServiceDate = string(d)
				}
				return
			}
		}
	}
	r.unmapped(seg, "DTP*%s*%s in loop %s is not mapped", q, f, r.loop)
}

func (r *Reader) hi(seg *x12.Segment) {
	if r.loop != rd2300 {
		r.unmapped(seg, "HI in loop %s is not mapped", r.loop)
		return
	}
	c := r.claim
	for i := 1; i <= seg.Len(); i++ {
		comp := seg.Composite(i)
		q := comp.Part(1)
		switch string(q) {
		case "ABK", "ABF", "BK", "BF":
		case "":
			if len(comp.Bytes()) == 0 {
				continue
			}
			fallthrough
		default:
			r.at(seg, x12.Warning, RuleUnmapped, i, 1, "HI code list qualifier %q is not a diagnosis (ABK/ABF/BK/BF): not mapped", q)
			continue
		}
		if len(c.Diagnoses) >= rdMaxDiagnoses {
			r.tooManyOnce(seg, "diagnoses")
			return
		}
		if comp.Len() > 2 {
			r.at(seg, x12.Warning, RuleUnmapped, i, 3, "HI%02d-3 and later are not mapped", i)
		}
		c.Diagnoses = append(c.Diagnoses, Diagnosis{Qualifier: string(q), Code: rdText(comp.Part(2))})
	}
}

func (r *Reader) nte(seg *x12.Segment) {
	switch {
	case r.loop == rd2300 && r.claim.Note == "":
		r.claim.NoteCode, r.claim.Note = seg.Text(1), seg.Text(2)
	case r.loop == rd2400 && r.line.Note == "":
		r.line.NoteCode, r.line.Note = seg.Text(1), seg.Text(2)
	default:
		r.unmapped(seg, "NTE in loop %s is not mapped", r.loop)
	}
}

func (r *Reader) cas(seg *x12.Segment) {
	if r.loop != rd2320 {
		r.unmapped(seg, "CAS in loop %s is not mapped", r.loop)
		return
	}
	o := r.other
	group := seg.Text(1)
	for i := 2; i <= seg.Len(); i += 3 {
		if len(seg.Element(i)) == 0 && len(seg.Element(i+1)) == 0 && len(seg.Element(i+2)) == 0 {
			continue
		}
		if len(o.Adjustments) >= rdMaxAdjustments {
			r.tooManyOnce(seg, "adjustments")
			return
		}
		o.Adjustments = append(o.Adjustments, Adjustment{
			Group: group, Reason: seg.Text(i), Amount: r.amount(seg, i+1), Quantity: r.quantity(seg, i+2),
		})
	}
}

func (r *Reader) amt(seg *x12.Segment) {
	if r.loop == rd2320 {
		switch string(seg.Element(1)) {
		case "D":
			if !r.other.HasPaid {
				r.other.Paid, r.other.HasPaid = r.amount(seg, 2), true
				return
			}
		case "EAF":
			if !r.other.HasRemaining {
				r.other.Remaining, r.other.HasRemaining = r.amount(seg, 2), true
				return
			}
		}
	}
	r.unmapped(seg, "AMT*%s in loop %s is not mapped", seg.Element(1), r.loop)
}

func (r *Reader) lx(seg *x12.Segment) {
	c := r.claim
	if c == nil {
		r.at(seg, x12.Error, RuleStructure, 0, 0, "LX outside a claim")
		r.loop = rdUnknownHL
		return
	}
	if len(c.Lines) >= rdMaxLines {
		r.tooManyOnce(seg, "service lines")
		r.line = nil
		r.loop = rd2400X
		return
	}
	c.Lines = append(c.Lines, Line{})
	r.line = &c.Lines[len(c.Lines)-1]
	r.other = nil
	r.loop = rd2400
}

func (r *Reader) sv1(seg *x12.Segment) {
	if r.loop != rd2400 || r.line == nil {
		r.at(seg, x12.Error, RuleStructure, 0, 0, "SV1 not after an LX: not mapped")
		return
	}
	l := r.line
	if l.Procedure != "" || l.Charge != 0 {
		r.unmapped(seg, "second SV1 in one service line is not mapped")
		return
	}
	p := seg.Composite(1)
	l.Qualifier, l.Procedure = rdText(p.Part(1)), rdText(p.Part(2))
	for k := 0; k < 4; k++ {
		l.Modifiers[k] = rdText(p.Part(3 + k))
	}
	l.Description = rdText(p.Part(7))
	if p.Len() > 7 {
		r.at(seg, x12.Warning, RuleUnmapped, 1, 8, "SV101-8 is not used in 5010")
	}
	l.Charge = r.amount(seg, 2)
	l.Unit = seg.Text(3)
	l.Units = r.quantity(seg, 4)
	l.PlaceOfService = seg.Text(5)
	if len(seg.Element(6)) > 0 {
		r.at(seg, x12.Warning, RuleUnmapped, 6, 0, "SV106 is not used in 5010")
	}
	ptr := seg.Composite(7)
	for k := 1; k <= ptr.Len(); k++ {
		b := ptr.Part(k)
		if len(b) == 0 {
			continue
		}
		n, ok := ParseQuantity(b)
		if !ok || n%1000 != 0 || n < 1000 || n > MaxPointer*1000 || k > 4 {
			r.at(seg, x12.Error, RuleValue, 7, k, "diagnosis pointer %q is not a number from 1 to %d in the first four components", b, MaxPointer)
			continue
		}
		l.Pointers[k-1] = uint8(n / 1000)
	}
	l.Emergency = seg.Text(9)
	for i := 8; i <= seg.Len(); i++ {
		if i != 9 && len(seg.Element(i)) > 0 {
			r.at(seg, x12.Warning, RuleUnmapped, i, 0, "SV1%02d is not mapped", i)
		}
	}
}

// Read reads a whole input into transactions, for callers that want the
// file in memory; streaming callers use Reader. The error is only for
// failure to read.
func Read(in io.Reader, name string) ([]Transaction, x12.Findings, error) {
	r := NewReader(in)
	r.Name = name
	var out []Transaction
	var last *Header
	for {
		it, err := r.Next()
		if err == io.EOF {
			return out, r.Findings(), nil
		}
		if err != nil {
			return out, r.Findings(), err
		}
		if h := r.Header(); h != last || len(out) == 0 {
			last = h
			out = append(out, Transaction{Header: *h})
		}
		t := &out[len(out)-1]
		t.Items = append(t.Items, *it)
	}
}
