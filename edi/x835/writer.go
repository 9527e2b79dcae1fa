package x835

import (
	"fmt"

	"github.com/claimgate/claimgate/edi/x12"
)

// Version is the implementation guide this package reads and writes.
const Version = "005010X221A1"

// WriteRemittance writes rem as one 835 transaction set, ST through SE,
// with its Claims and ProviderAdjustments. The caller opens and closes the
// interchange and the functional group (GS01 HP, GS08 005010X221A1):
//
//	w := x12.NewWriter(out, x12.WriterOptions{})
//	w.BeginInterchange(ctx, x12.InterchangeHeader{...})
//	w.BeginGroup(ctx, x12.GroupHeader{FunctionalID: "HP", Version: x835.Version, ...})
//	x835.WriteRemittance(w, rem)
//	w.EndGroup()
//	w.EndInterchange()
//
// Amounts are written the X12 way (no trailing zeros, no decimal point for
// whole amounts); adjustments of one group go into CAS segments of up to
// six triplets, provider adjustments into PLB segments of up to six pairs.
// Derived fields (Payee.NPI/TaxID, Adjustment.Category, Index, links) are
// not written. Data containing a delimiter is refused (x12.Writer).
func WriteRemittance(w *x12.Writer, rem *Remittance) error {
	sw, err := NewSetWriter(w, rem)
	if err != nil {
		return err
	}
	for _, c := range rem.Claims {
		if err := sw.WriteClaim(c); err != nil {
			return err
		}
	}
	return sw.Close()
}

// SetWriter writes one 835 transaction set claim by claim, so a set with
// millions of claims can be written without holding them: NewSetWriter
// writes ST and the header, WriteClaim each claim, Close the provider
// adjustments and SE. Remittance.Claims is ignored.
type SetWriter struct {
	err     error // first model error (the x12.Writer keeps its own)
	w       *x12.Writer
	rem     *Remittance
	started bool
	lx      int
	summary *ProviderSummary
	buf     []byte
	parts   []string
}

// NewSetWriter writes ST and the header of rem (BPR, TRN, CUR, REF, DTM,
// payer and payee loops).
func NewSetWriter(w *x12.Writer, rem *Remittance) (*SetWriter, error) {
	s := &SetWriter{w: w, rem: rem, buf: make([]byte, 0, 32)}
	control := rem.Control
	if control == "" {
		control = "0001"
	}
	version := rem.Version
	if version == "" {
		version = Version
	}
	if err := w.BeginSet("835", control, version); err != nil {
		return nil, err
	}
	pm := &rem.Payment
	w.Begin("BPR")
	w.Element(pm.Handling)
	s.amount(pm.Amount)
	w.Element(pm.CreditDebit)
	w.Element(pm.Method)
	w.Element(pm.Format)
	s.bank(pm.SenderBank)
	w.Element(pm.OriginatorID)
	w.Element(pm.OriginatorSupplemental)
	s.bank(pm.ReceiverBank)
	s.date(pm.Date)
	w.End()

	trace := pm.TraceType
	if trace == "" {
		trace = "1"
	}
	w.Segment("TRN", trace, pm.TraceNumber, pm.PayerID, pm.TraceSupplemental)
	if pm.Currency != "" {
		w.Segment("CUR", "PR", pm.Currency)
	}
	if rem.ReceiverID != "" {
		w.Segment("REF", "EV", rem.ReceiverID)
	}
	if rem.VersionID != "" {
		w.Segment("REF", "F2", rem.VersionID)
	}
	if rem.ProductionDate != 0 {
		s.dtm("405", rem.ProductionDate)
	}

	py := &rem.Payer
	w.Segment("N1", "PR", py.Name, py.IDQualifier, py.ID)
	s.address(&py.Address)
	s.refs(py.References)
	for i := range py.Contacts {
		s.contact(&py.Contacts[i])
	}

	pe := &rem.Payee
	w.Segment("N1", "PE", pe.Name, pe.IDQualifier, pe.ID)
	s.address(&pe.Address)
	s.refs(pe.References)
	if pe.Delivery.Method != "" {
		w.Segment("RDM", pe.Delivery.Method, pe.Delivery.Name, pe.Delivery.Number)
	}
	if s.err != nil {
		return nil, s.err
	}
	if err := w.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *SetWriter) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

func (s *SetWriter) amount(a Amount) {
	s.buf = a.AppendX12(s.buf[:0])
	s.w.Bytes(s.buf)
}

func (s *SetWriter) optAmount(a Amount) {
	if a == 0 {
		s.w.Empty(1)
		return
	}
	s.amount(a)
}

func (s *SetWriter) quantity(q float64) {
	s.buf = appendQuantity(s.buf[:0], q)
	s.w.Bytes(s.buf)
}

func (s *SetWriter) optQuantity(q float64) {
	if q == 0 {
		s.w.Empty(1)
		return
	}
	s.quantity(q)
}

func (s *SetWriter) date(d Date) {
	if d == 0 {
		s.w.Empty(1)
		return
	}
	s.buf = d.appendD8(s.buf[:0])
	s.w.Bytes(s.buf)
}

func (s *SetWriter) dtm(qual string, d Date) {
	s.w.Begin("DTM")
	s.w.Element(qual)
	s.date(d)
	s.w.End()
}

func (s *SetWriter) bank(b BankAccount) {
	s.w.Element(b.DFIQualifier)
	s.w.Element(b.DFI)
	s.w.Element(b.AccountQualifier)
	s.w.Element(b.Account)
}

func (s *SetWriter) address(a *Address) {
	if a.Line1 != "" || a.Line2 != "" {
		s.w.Segment("N3", a.Line1, a.Line2)
	}
	if a.City != "" || a.State != "" || a.Zip != "" || a.Country != "" || a.Subdivision != "" {
		s.w.Segment("N4", a.City, a.State, a.Zip, a.Country, "", "", a.Subdivision)
	}
}

func (s *SetWriter) refs(rs []Reference) {
	for _, r := range rs {
		s.w.Segment("REF", r.Qualifier, r.Value)
	}
}

func (s *SetWriter) contact(c *Contact) {
	if len(c.Numbers) > 3 {
		s.fail(fmt.Errorf("x835: contact %q has %d numbers, a PER segment carries at most 3", c.Name, len(c.Numbers)))
		return
	}
	s.w.Begin("PER")
	s.w.Element(c.Function)
	s.w.Element(c.Name)
	for _, n := range c.Numbers {
		s.w.Element(n.Qualifier)
		s.w.Element(n.Number)
	}
	s.w.End()
}

// wide writes element positions from..last of a segment whose numeric
// elements are listed in fs and whose remark codes go to remarkPos, in
// order.
func (s *SetWriter) wide(from int, fs []numField, remarkPos []int, remarks []string) error {
	if len(remarks) > len(remarkPos) {
		return fmt.Errorf("x835: %d remark codes, the segment carries at most %d", len(remarks), len(remarkPos))
	}
	last := 0
	for _, f := range fs {
		last = max(last, f.elem)
	}
	if len(remarks) > 0 {
		last = max(last, remarkPos[len(remarks)-1])
	}
	fi, ri := 0, 0
	for pos := from; pos <= last; pos++ {
		switch {
		case fi < len(fs) && fs[fi].elem == pos:
			f := fs[fi]
			fi++
			switch v := f.ptr.(type) {
			case *Amount:
				if f.req {
					s.amount(*v)
				} else {
					s.optAmount(*v)
				}
			case *float64:
				if f.req {
					s.quantity(*v)
				} else {
					s.optQuantity(*v)
				}
			}
		case ri < len(remarks) && remarkPos[ri] == pos:
			s.w.Element(remarks[ri])
			ri++
		default:
			s.w.Empty(1)
		}
	}
	return nil
}

var (
	miaRemarkPos = []int{5, 20, 21, 22, 23}
	moaRemarkPos = []int{3, 4, 5, 6, 7}
)

// WriteClaim writes one claim payment (loop 2100 and its 2110 loops),
// preceded by an LX (and TS3/TS2) when its HeaderNumber or
// ProviderSummary differs from the previous claim's.
func (s *SetWriter) WriteClaim(c *ClaimPayment) error {
	w := s.w
	hn := c.HeaderNumber
	if hn == 0 {
		hn = 1
	}
	if !s.started || hn != s.lx || c.ProviderSummary != s.summary {
		s.started, s.lx, s.summary = true, hn, c.ProviderSummary
		w.Begin("LX")
		w.Int(int64(hn))
		w.End()
		if t := c.ProviderSummary; t != nil {
			if t.ProviderID != "" || t.FacilityCode != "" || t.FiscalPeriod != 0 || t.TotalCharge != 0 || t.ClaimCount != 0 {
				w.Begin("TS3")
				w.Element(t.ProviderID)
				w.Element(t.FacilityCode)
				s.date(t.FiscalPeriod)
				s.wide(4, t.fields(nil), nil, nil)
				w.End()
			}
			if t.Supplemental != nil {
				w.Begin("TS2")
				s.wide(1, t.Supplemental.fields(nil), nil, nil)
				w.End()
			}
		}
	}

	w.Begin("CLP")
	w.Element(c.PatientControlNumber)
	w.Element(c.Status)
	s.amount(c.Charge)
	s.amount(c.Paid)
	s.optAmount(c.PatientResponsibility)
	w.Element(c.FilingIndicator)
	w.Element(c.PayerClaimControlNumber)
	w.Element(c.FacilityCode)
	w.Element(c.Frequency)
	w.Empty(1)
	w.Element(c.DRG)
	s.optQuantity(c.DRGWeight)
	s.optQuantity(c.DischargeFraction)
	w.End()

	s.cas(c.Adjustments)

	patient := c.Patient
	if patient.Type == "" {
		patient.Type = "1"
	}
	s.nm1("QC", &patient)
	for _, e := range [...]struct {
		code string
		e    *Entity
	}{{"IL", c.Insured}, {"74", c.CorrectedPatient}, {"82", c.RenderingProvider}, {"TT", c.CrossoverCarrier}, {"PR", c.CorrectedPriorityPayer}, {"GB", c.OtherSubscriber}} {
		if e.e != nil {
			s.nm1(e.code, e.e)
		}
	}
	if m := c.Inpatient; m != nil {
		w.Begin("MIA")
		if err := s.wide(1, m.fields(nil), miaRemarkPos, m.Remarks); err != nil {
			return err
		}
		w.End()
	}
	if m := c.Outpatient; m != nil {
		w.Begin("MOA")
		if err := s.wide(1, m.fields(nil), moaRemarkPos, m.Remarks); err != nil {
			return err
		}
		w.End()
	}
	s.refs(c.References)
	for _, d := range [...]struct {
		q string
		d Date
	}{{"232", c.StatementFrom}, {"233", c.StatementTo}, {"036", c.CoverageExpiration}, {"050", c.Received}} {
		if d.d != 0 {
			s.dtm(d.q, d.d)
		}
	}
	for i := range c.Contacts {
		s.contact(&c.Contacts[i])
	}
	s.amts(c.Amounts)
	s.qtys(c.Quantities)

	for i := range c.Lines {
		if err := s.line(&c.Lines[i]); err != nil {
			return err
		}
	}
	if s.err != nil {
		return s.err
	}
	return w.Err()
}

func (s *SetWriter) nm1(code string, e *Entity) {
	s.w.Segment("NM1", code, e.Type, e.Last, e.First, e.Middle, "", e.Suffix, e.IDQualifier, e.ID)
}

func (s *SetWriter) cas(adj []Adjustment) {
	w := s.w
	for i := 0; i < len(adj); {
		g := adj[i].Group
		w.Begin("CAS")
		w.Element(g)
		n := 0
		for ; i < len(adj) && adj[i].Group == g && n < 6; i, n = i+1, n+1 {
			w.Element(adj[i].Reason)
			s.amount(adj[i].Amount)
			s.optQuantity(adj[i].Quantity)
		}
		w.End()
	}
}

func (s *SetWriter) amts(as []SupplementalAmount) {
	for _, a := range as {
		s.w.Begin("AMT")
		s.w.Element(a.Qualifier)
		s.amount(a.Amount)
		s.w.End()
	}
}

func (s *SetWriter) qtys(qs []SupplementalQuantity) {
	for _, q := range qs {
		s.w.Begin("QTY")
		s.w.Element(q.Qualifier)
		s.quantity(q.Quantity)
		s.w.End()
	}
}

func (s *SetWriter) procedure(p *Procedure, desc bool) error {
	if len(p.Modifiers) > 4 {
		return fmt.Errorf("x835: procedure %s has %d modifiers, an 835 carries at most 4", p.Code, len(p.Modifiers))
	}
	parts := append(s.parts[:0], p.Qualifier, p.Code)
	parts = append(parts, p.Modifiers...)
	if desc && p.Description != "" {
		for len(parts) < 6 {
			parts = append(parts, "")
		}
		parts = append(parts, p.Description)
	}
	s.parts = parts
	s.w.Composite(parts...)
	return nil
}

func (s *SetWriter) line(l *ServiceLine) error {
	w := s.w
	w.Begin("SVC")
	if err := s.procedure(&l.Procedure, false); err != nil {
		return err
	}
	s.amount(l.Charge)
	s.amount(l.Paid)
	w.Element(l.RevenueCode)
	if l.UnitsPaid != 1 {
		s.quantity(l.UnitsPaid)
	} else {
		w.Empty(1)
	}
	if l.OriginalProcedure != nil {
		if err := s.procedure(l.OriginalProcedure, true); err != nil {
			return err
		}
	} else {
		w.Empty(1)
	}
	s.optQuantity(l.OriginalUnits)
	w.End()
	for _, d := range [...]struct {
		q string
		d Date
	}{{"472", l.ServiceDate}, {"150", l.ServiceFrom}, {"151", l.ServiceTo}} {
		if d.d != 0 {
			s.dtm(d.q, d.d)
		}
	}
	s.cas(l.Adjustments)
	if l.ControlNumber != "" {
		w.Segment("REF", "6R", l.ControlNumber)
	}
	s.refs(l.References)
	s.amts(l.Amounts)
	s.qtys(l.Quantities)
	for _, r := range l.Remarks {
		w.Segment("LQ", r.Qualifier, r.Code)
	}
	return w.Err()
}

// Close writes the provider adjustments (PLB) and SE.
func (s *SetWriter) Close() error {
	w := s.w
	adj := s.rem.ProviderAdjustments
	for i := 0; i < len(adj); {
		id, d := adj[i].ProviderID, adj[i].FiscalPeriod
		w.Begin("PLB")
		w.Element(id)
		s.date(d)
		n := 0
		for ; i < len(adj) && adj[i].ProviderID == id && adj[i].FiscalPeriod == d && n < 6; i, n = i+1, n+1 {
			w.Composite(adj[i].Reason, adj[i].Reference)
			s.amount(adj[i].Amount)
		}
		w.End()
	}
	return w.EndSet()
}
