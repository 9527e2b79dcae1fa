package assemble

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/claimgate/claimgate/edi/x837p"
	"github.com/claimgate/claimgate/pkg/claim"
)

// ToItem maps a domain claim to the 837P model. It fills the TR3's usual
// defaults for what the claim leaves empty (subscriber sequence P, claim
// frequency 1, CLM06-09 Y/A/Y/Y, ID qualifiers MI/PI/XX, diagnosis
// qualifiers ABK/ABF) and leaves out the rendering provider when it is
// the billing provider (the TR3 sends 2310B only when the NPIs differ).
//
// It refuses only what the 837P cannot express: more than four modifiers
// or diagnosis pointers on a line, or a pointer outside 1..12. Everything
// else (missing NPIs, bad codes) is the validator's to report.
func ToItem(c *claim.Claim) (x837p.Item, error) {
	return toItem(c, nil)
}

// toItem is ToItem sharing same, when not nil and equal, as the item's
// billing provider instead of a new one: a batch's claims mostly share
// theirs, and each copy is some 600 bytes held until the file is written.
func toItem(c *claim.Claim, same *x837p.BillingProvider) (x837p.Item, error) {
	// Room for every date (two births, three claim dates, one per line)
	// and the diagnosis codes: one allocation of just what is needed.
	need := 8 * (5 + len(c.Lines))
	for _, d := range c.Diagnoses {
		need += len(d)
	}
	ar := texts{buf: make([]byte, 0, need)}
	it := x837p.Item{Subscriber: subscriber(c, &ar)}
	if b := billingValue(c); same != nil && *same == b {
		it.Billing = same
	} else {
		// a copy on the heap only here: &b would move every claim's b
		// there, shared or not
		it.Billing = new(b)
	}
	if c.Patient != nil {
		it.Patient = &x837p.Patient{
			Relationship: c.Patient.Relationship,
			Name:         name(claim.Person, c.Patient.Name),
			Address:      address(c.Patient.Address),
			Birth:        ar.d8(c.Patient.Birth),
			Gender:       c.Patient.Gender,
		}
	}
	cl, err := claimLoop(c, &ar)
	if err != nil {
		return x837p.Item{}, err
	}
	it.Claim = cl
	return it, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func name(e claim.EntityType, n claim.Name) x837p.Name {
	return x837p.Name{Entity: string(e), Last: n.Last, First: n.First, Middle: n.Middle, Suffix: n.Suffix}
}

func address(a claim.Address) x837p.Address {
	return x837p.Address{Line1: a.Line1, Line2: a.Line2, City: a.City, State: a.State, Zip: a.Zip}
}

// d8 formats a date as CCYYMMDD without fmt (this runs once per date on
// every claim), or "" for the zero date.
func d8(d claim.Date) string {
	if d.IsZero() {
		return ""
	}
	var b [8]byte
	y, m, day := d.Year, int(d.Month), d.Day
	if y < 0 || y > 9999 || m < 0 || m > 99 || day < 0 || day > 99 {
		// Out of any calendar: keep it visible for the validator
		// rather than writing a plausible wrong date.
		return fmt.Sprintf("%04d%02d%02d", y, m, day)
	}
	for i := 3; i >= 0; i-- {
		b[i] = byte('0' + y%10)
		y /= 10
	}
	b[4], b[5] = byte('0'+m/10), byte('0'+m%10)
	b[6], b[7] = byte('0'+day/10), byte('0'+day%10)
	return string(b[:])
}

// texts holds the short strings ToItem makes for one claim (dates,
// diagnosis codes without their point) in one allocation or a few
// instead of one each: bytes once written are never changed, so the
// strings stay valid when a new block is started.
type texts struct{ buf []byte }

// grab returns n bytes of room at the end of t.buf.
func (t *texts) grab(n int) {
	if cap(t.buf)-len(t.buf) < n {
		t.buf = make([]byte, 0, max(64, n))
	}
}

// last returns the last n bytes of t.buf as a string.
func (t *texts) last(n int) string {
	return unsafe.String(&t.buf[len(t.buf)-n], n)
}

// d8 is d8(d) in t.
func (t *texts) d8(d claim.Date) string {
	if d.IsZero() {
		return ""
	}
	y, m, day := d.Year, int(d.Month), d.Day
	if y < 0 || y > 9999 || m < 0 || m > 99 || day < 0 || day > 99 {
		return d8(d)
	}
	t.grab(8)
	t.buf = append(t.buf, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10),
		byte('0'+m/10), byte('0'+m%10), byte('0'+day/10), byte('0'+day%10))
	return t.last(8)
}

// noDots is strings.ReplaceAll(s, ".", "") in t.
func (t *texts) noDots(s string) string {
	if strings.IndexByte(s, '.') < 0 {
		return s
	}
	t.grab(len(s))
	n := len(t.buf)
	for i := 0; i < len(s); i++ {
		if s[i] != '.' {
			t.buf = append(t.buf, s[i])
		}
	}
	if len(t.buf) == n {
		return ""
	}
	return t.last(len(t.buf) - n)
}

func billingValue(c *claim.Claim) x837p.BillingProvider {
	p := &c.Billing
	b := x837p.BillingProvider{
		Taxonomy: p.Taxonomy,
		Name:     name(p.Entity, p.Name),
		NPI:      p.NPI,
		Address:  address(p.Address),
		TaxID:    p.TaxID,
		Contact:  x837p.Contact{Name: p.Contact.Name, Phone: p.Contact.Phone, Email: p.Contact.Email},
	}
	if b.TaxID != "" {
		b.TaxIDQualifier = or(p.TaxIDType, "EI")
	}
	if c.PayTo != nil && c.PayTo.Address != (claim.Address{}) {
		b.PayToEntity = or(string(c.PayTo.Entity), "2")
		b.PayTo = address(c.PayTo.Address)
	}
	return b
}

func payer(p claim.Payer) x837p.Payer {
	out := x837p.Payer{Name: p.Name, ID: p.ID, Address: address(p.Address)}
	if p.ID != "" {
		out.IDQualifier = "PI"
	}
	return out
}

func subscriber(c *claim.Claim, ar *texts) *x837p.Subscriber {
	s := &c.Subscriber
	out := &x837p.Subscriber{
		Sequence:    or(s.Sequence, "P"),
		GroupNumber: s.Group,
		FilingCode:  s.FilingCode,
		Name:        name(claim.Person, s.Name),
		ID:          s.MemberID,
		Address:     address(s.Address),
		Birth:       ar.d8(s.Birth),
		Gender:      s.Gender,
		Payer:       payer(c.Payer),
	}
	if s.MemberID != "" {
		out.IDQualifier = "MI"
	}
	if c.Patient == nil {
		out.Relationship = "18" // the subscriber is the patient
	}
	return out
}

func provider(p *claim.Provider, taxonomy bool) *x837p.Provider {
	out := &x837p.Provider{Name: name(p.Entity, p.Name), NPI: p.NPI}
	if taxonomy {
		out.Taxonomy = p.Taxonomy
	}
	return out
}

// errLine builds the error for a line the 837P cannot express.
func errLine(c *claim.Claim, i int, format string, args ...any) error {
	return fmt.Errorf("claim %q line %d: %s", c.ID, i+1, fmt.Sprintf(format, args...))
}

func claimLoop(c *claim.Claim, ar *texts) (*x837p.Claim, error) {
	out := &x837p.Claim{
		ID:                   c.ID,
		Charge:               int64(c.Total()),
		PlaceOfService:       c.PlaceOfService,
		Frequency:            or(string(c.Frequency), string(claim.FrequencyOriginal)),
		ProviderSignature:    or(c.ProviderSignature, "Y"),
		Assignment:           or(c.Assignment, "A"),
		BenefitsAssigned:     or(c.BenefitsAssigned, "Y"),
		ReleaseOfInfo:        or(c.ReleaseOfInfo, "Y"),
		OnsetDate:            ar.d8(c.OnsetDate),
		InitialTreatmentDate: ar.d8(c.InitialTreatmentDate),
		LastSeenDate:         ar.d8(c.LastSeenDate),
		Referral:             c.Referral,
		PriorAuth:            c.PriorAuth,
		OriginalRef:          c.OriginalRef,
		Note:                 c.Note,
	}
	if c.Note != "" {
		out.NoteCode = "ADD"
	}
	if len(c.Diagnoses) > 0 {
		out.Diagnoses = make([]x837p.Diagnosis, len(c.Diagnoses))
		for i, d := range c.Diagnoses {
			q := "ABF"
			if i == 0 {
				q = "ABK"
			}
			// ICD-10-CM is transmitted without its decimal point.
			out.Diagnoses[i] = x837p.Diagnosis{Qualifier: q, Code: ar.noDots(d)}
		}
	}
	if c.Referring != nil {
		out.Referring = provider(c.Referring, false)
	}
	if r := c.Rendering; r != nil && !(r.NPI != "" && r.NPI == c.Billing.NPI) {
		out.Rendering = provider(r, true)
	}
	if f := c.Facility; f != nil {
		out.Facility = &x837p.Facility{Name: f.Name, NPI: f.NPI, Address: address(f.Address)}
	}
	for i := range c.OtherPayers {
		out.OtherSubscribers = append(out.OtherSubscribers, otherSubscriber(c, &c.OtherPayers[i]))
	}
	out.Lines = make([]x837p.Line, len(c.Lines))
	for i := range c.Lines {
		l := &c.Lines[i]
		if len(l.Modifiers) > 4 {
			return nil, errLine(c, i, "%d modifiers, SV101 holds 4", len(l.Modifiers))
		}
		if len(l.DiagnosisPointers) > 4 {
			return nil, errLine(c, i, "%d diagnosis pointers, SV107 holds 4", len(l.DiagnosisPointers))
		}
		ol := &out.Lines[i]
		*ol = x837p.Line{
			Qualifier:     "HC",
			Procedure:     l.Procedure,
			Charge:        int64(l.Charge),
			Unit:          "UN",
			Units:         x837p.Units(int64(l.Units)),
			ServiceDate:   ar.d8(l.ServiceDate),
			PriorAuth:     l.PriorAuth,
			ControlNumber: l.ControlNumber,
			Note:          l.Note,
		}
		if l.Note != "" {
			ol.NoteCode = "ADD"
		}
		if l.PlaceOfService != c.PlaceOfService {
			ol.PlaceOfService = l.PlaceOfService
		}
		copy(ol.Modifiers[:], l.Modifiers)
		for k, p := range l.DiagnosisPointers {
			if p < 1 || p > x837p.MaxPointer {
				return nil, errLine(c, i, "diagnosis pointer %d is not 1 to %d", p, x837p.MaxPointer)
			}
			ol.Pointers[k] = uint8(p)
		}
	}
	return out, nil
}

func otherSubscriber(c *claim.Claim, op *claim.OtherPayer) x837p.OtherSubscriber {
	s := &op.Subscriber
	o := x837p.OtherSubscriber{
		Sequence:         op.Sequence,
		Relationship:     op.Relation,
		GroupNumber:      s.Group,
		FilingCode:       op.FilingCode,
		BenefitsAssigned: or(c.BenefitsAssigned, "Y"),
		ReleaseOfInfo:    or(c.ReleaseOfInfo, "Y"),
		Name:             name(claim.Person, s.Name),
		ID:               s.MemberID,
		Address:          address(s.Address),
		Payer:            payer(op.Payer),
	}
	if s.MemberID != "" {
		o.IDQualifier = "MI"
	}
	// AMT*D says what the other payer paid once it adjudicated; a claim
	// with neither payment nor adjustments from it has not been.
	if op.Paid != 0 || len(op.Adjustment) > 0 {
		o.Paid, o.HasPaid = int64(op.Paid), true
	}
	// One CAS per group code: gather each group's adjustments together,
	// groups in order of first appearance.
	for i, a := range op.Adjustment {
		seen := false
		for _, b := range op.Adjustment[:i] {
			if b.Group == a.Group {
				seen = true
				break
			}
		}
		if seen {
			continue
		}
		for _, b := range op.Adjustment[i:] {
			if b.Group == a.Group {
				o.Adjustments = append(o.Adjustments, x837p.Adjustment{Group: b.Group, Reason: b.Reason, Amount: int64(b.Amount)})
			}
		}
	}
	return o
}

// Errors a rejected claim's RejectError wraps.
var (
	// ErrUnknownPayer: no receiver is configured for the claim's payer.
	ErrUnknownPayer = errors.New("no receiver configured for the payer")
	// ErrDuplicate: a claim with the same CLM01 is already waiting for
	// the same payer; acknowledgments could not tell them apart.
	ErrDuplicate = errors.New("a claim with this id is already pending for the payer")
)

// RejectError says why Add refused a claim. The other claims are not
// affected.
type RejectError struct {
	ClaimID string
	PayerID string
	Err     error
}

func (e *RejectError) Error() string {
	return fmt.Sprintf("assemble: claim %q for payer %q rejected: %v", e.ClaimID, e.PayerID, e.Err)
}

// Unwrap returns the reason.
func (e *RejectError) Unwrap() error { return e.Err }
