package ingest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/claimgate/claimgate/pkg/claim"
)

// issue is one problem found in one claim, located by the JSON path of the
// field: relative to the claim when line < 0, else relative to
// Claim.Lines[line]. The CSV decoder maps the path back to its column.
type issue struct {
	line   int
	field  string
	reason string
	row    int // CSV only: the row to blame when it is not the line's own
}

// payerOf is the payer id of a claim refused for issues, when it has
// one the checks passed (an id failing them may be anything, even
// patient data in the wrong column): "" otherwise.
func payerOf(c *claim.Claim, issues []issue) string {
	if c == nil {
		return ""
	}
	for _, is := range issues {
		if is.line < 0 && (is.field == "payer.id" || is.field == "payer") {
			return ""
		}
	}
	id := strings.TrimSpace(c.Payer.ID)
	if id == "" || len(id) > 80 || checkASCII(id) != nil {
		return ""
	}
	return id
}

// jsonField is the issue's path from the claim object.
func (is issue) jsonField() string {
	if is.line < 0 {
		return is.field
	}
	p := "lines[" + strconv.Itoa(is.line) + "]"
	if is.field != "" {
		p += "." + is.field
	}
	return p
}

// checker collects the issues of one claim. Field names are passed as a
// prefix and a name and joined only when an issue is reported, so that a
// clean claim costs no string building.
type checker struct {
	issues []issue
	line   int
	show   bool // Decoder.ShowValues: PHI values are not withheld
}

func (k *checker) add(prefix, field, format string, args ...any) {
	phiArgs(isPHIField(prefix+field) && !k.show, args)
	k.issues = append(k.issues, issue{line: k.line, field: prefix + field, reason: fmt.Sprintf(format, args...)})
}

// isPHIField reports whether a field holds protected health information:
// the subscriber's or patient's name, member id, birth date, gender,
// group number or address, their own or on another payer's record, and
// free text (claim and line notes) anywhere. Field is a claim JSON path
// ("subscriber.name.last", "lines[2].note") or a CSV column
// ("subscriber_last", "claim_note").
func isPHIField(field string) bool {
	if strings.HasSuffix(field, "note") {
		return true
	}
	person := false
	for _, part := range strings.FieldsFunc(field, func(r rune) bool { return r == '.' || r == '_' || r == '[' }) {
		if part == "subscriber" || part == "patient" {
			person = true
		}
	}
	if !person {
		return false
	}
	for _, leaf := range []string{"last", "first", "middle", "suffix", "member_id", "birth_date", "gender", "group_number",
		"line1", "line2", "address1", "address2", "city", "state", "zip"} {
		if strings.HasSuffix(field, leaf) {
			return true
		}
	}
	return false
}

// check normalises c in place (trims spaces, transliterates names and
// addresses, upper-cases codes, strips the decimal point from diagnoses
// and hyphens from ZIP codes and tax ids) and returns what is wrong with
// it. It checks shapes, not payer rules.
func check(c *claim.Claim, show bool) []issue {
	k := &checker{line: -1, show: show}
	k.ascii(&c.ID, "", "id", 38, true)

	k.ascii(&c.Payer.ID, "payer.", "id", 80, true)
	k.text(&c.Payer.Name, "payer.", "name", 60, true)
	k.address(&c.Payer.Address, "payer.address.", false)

	k.provider(&c.Billing, "billing_provider.", roleBilling)
	if c.PayTo != nil {
		k.provider(c.PayTo, "pay_to_provider.", rolePayTo)
	}
	if c.Rendering != nil {
		k.provider(c.Rendering, "rendering_provider.", roleRendering)
	}
	if c.Referring != nil {
		k.provider(c.Referring, "referring_provider.", roleReferring)
	}
	if f := c.Facility; f != nil {
		k.text(&f.Name, "service_facility.", "name", 60, true)
		k.npi(&f.NPI, "service_facility.", false)
		k.address(&f.Address, "service_facility.address.", true)
	}

	// The subscriber's demographics are required in 2010BA only when the
	// subscriber is the patient; otherwise the patient loop has them.
	s := &c.Subscriber
	self := c.Patient == nil
	k.ascii(&s.MemberID, "subscriber.", "member_id", 80, true)
	k.name(&s.Name, "subscriber.name.", true)
	if self && s.Birth.IsZero() {
		k.add("subscriber.", "birth_date", "is required when the subscriber is the patient (no patient given)")
	}
	k.gender(&s.Gender, "subscriber.", self)
	k.address(&s.Address, "subscriber.address.", self)
	k.ascii(&s.Group, "subscriber.", "group_number", 50, false)
	k.enum(&s.Sequence, "subscriber.", "sequence", payerSequences, false)
	k.enum(&s.FilingCode, "subscriber.", "filing_code", filingCodes, false)

	if p := c.Patient; p != nil {
		k.upper(&p.Relationship)
		switch {
		case p.Relationship == "18":
			k.add("patient.", "relationship", "is 18 (self): leave the patient out when the subscriber is the patient")
		default:
			k.enum(&p.Relationship, "patient.", "relationship", patientRelationships, true)
		}
		k.name(&p.Name, "patient.name.", true)
		if p.Birth.IsZero() {
			k.add("patient.", "birth_date", "is required")
		}
		k.gender(&p.Gender, "patient.", true)
		k.address(&p.Address, "patient.address.", true)
	}

	k.digits(&c.PlaceOfService, "", "place_of_service", 2, true)
	f := string(c.Frequency)
	k.enum(&f, "", "frequency", frequencies, true)
	c.Frequency = claim.Frequency(f)
	k.ascii(&c.OriginalRef, "", "original_reference", 50, false)
	switch {
	case c.Frequency.IsCorrection() && c.OriginalRef == "":
		k.add("", "original_reference", "is required for frequency %s: give the payer claim number of the claim being corrected", c.Frequency)
	case c.Frequency == claim.FrequencyOriginal && c.OriginalRef != "":
		k.add("", "original_reference", "must be empty for an original claim (frequency 1); use frequency 7 or 8 to correct a claim")
	}
	k.ascii(&c.PriorAuth, "", "prior_authorization", 50, false)
	k.ascii(&c.Referral, "", "referral_number", 50, false)

	k.diagnoses(c)
	k.text(&c.Note, "", "note", 80, false)
	k.enum(&c.ProviderSignature, "", "provider_signature", yesNo, false)
	k.enum(&c.Assignment, "", "assignment", assignments, false)
	k.enum(&c.BenefitsAssigned, "", "benefits_assigned", benefitsAssigned, false)
	k.enum(&c.ReleaseOfInfo, "", "release_of_information", releaseOfInfo, false)
	if c.TherapyYTD < 0 {
		k.add("", "therapy_ytd", "must not be negative, got %s", c.TherapyYTD)
	}
	for i := range c.OtherPayers {
		k.otherPayer(&c.OtherPayers[i], "other_payers["+strconv.Itoa(i)+"].")
	}

	switch n := len(c.Lines); {
	case n == 0:
		k.add("", "lines", "a claim needs at least one service line")
	case n > MaxLines:
		k.add("", "lines", "has %d service lines; an 837P claim allows at most %d", n, MaxLines)
	}
	for i := range c.Lines {
		k.line = i
		k.serviceLine(&c.Lines[i], len(c.Diagnoses))
		if cn := c.Lines[i].ControlNumber; cn != "" {
			for j := 0; j < i; j++ {
				if c.Lines[j].ControlNumber == cn {
					k.add("", "control_number", "%s is also the control number of line %d: line control numbers must be unique within a claim", value(cn), j+1)
					break
				}
			}
		}
	}
	k.line = -1
	return k.issues
}

func (k *checker) serviceLine(l *claim.Line, ndiag int) {
	k.ascii(&l.ControlNumber, "", "control_number", 50, false)
	k.procedure(&l.Procedure)
	k.modifiers(l)
	if l.Charge < 0 {
		k.add("", "charge", "must not be negative, got %s", l.Charge)
	}
	if l.Units <= 0 {
		k.add("", "units", "must be a positive whole number, got %d", l.Units)
	}
	if l.Minutes < 0 {
		k.add("", "minutes", "must not be negative, got %d", l.Minutes)
	}
	switch {
	case l.AssistantMinutes < 0:
		k.add("", "assistant_minutes", "must not be negative, got %d", l.AssistantMinutes)
	case l.Minutes > 0 && l.AssistantMinutes > l.Minutes:
		k.add("", "assistant_minutes", "%d exceeds the line's %d minutes", l.AssistantMinutes, l.Minutes)
	}
	k.pointers(l.DiagnosisPointers, ndiag)
	if l.ServiceDate.IsZero() {
		k.add("", "service_date", "is required")
	}
	k.digits(&l.PlaceOfService, "", "place_of_service", 2, false)
	k.ascii(&l.PriorAuth, "", "prior_authorization", 50, false)
	k.text(&l.Note, "", "note", 80, false)
}

// providerRole says which parts of a provider an 837P loop requires.
type providerRole int

const (
	roleBilling   providerRole = iota // 2010AA: NPI, tax id and address
	rolePayTo                         // 2010AB: address
	roleRendering                     // 2310B: NPI
	roleReferring                     // 2310A: name
)

// providerPaths are the field-path prefixes of a provider's parts, as
// constants for the providers check knows so that a clean claim costs no
// string concatenation.
func providerPaths(prefix string) (name, address, contact string) {
	switch prefix {
	case "billing_provider.":
		return "billing_provider.name.", "billing_provider.address.", "billing_provider.contact."
	case "pay_to_provider.":
		return "pay_to_provider.name.", "pay_to_provider.address.", "pay_to_provider.contact."
	case "rendering_provider.":
		return "rendering_provider.name.", "rendering_provider.address.", "rendering_provider.contact."
	case "referring_provider.":
		return "referring_provider.name.", "referring_provider.address.", "referring_provider.contact."
	}
	return prefix + "name.", prefix + "address.", prefix + "contact."
}

func (k *checker) provider(p *claim.Provider, prefix string, role providerRole) {
	namePath, addressPath, contactPath := providerPaths(prefix)
	e := string(p.Entity)
	k.enum(&e, prefix, "entity", entityTypes, true)
	p.Entity = claim.EntityType(e)
	if p.Entity == claim.Organization {
		k.text(&p.Name.Last, namePath, "last", 60, true)
		for _, f := range []struct {
			v    string
			name string
		}{{p.Name.First, "first"}, {p.Name.Middle, "middle"}, {p.Name.Suffix, "suffix"}} {
			if strings.TrimSpace(f.v) != "" {
				k.add(namePath, f.name, "must be empty for an organization (entity 2): put the whole name in name.last")
			}
		}
	} else {
		k.name(&p.Name, namePath, true)
	}
	k.npi(&p.NPI, prefix, role == roleBilling || role == roleRendering)
	k.taxID(&p.TaxID, prefix, role == roleBilling)
	k.enum(&p.TaxIDType, prefix, "tax_id_type", taxIDTypes, false)
	k.taxonomy(&p.Taxonomy, prefix)
	k.address(&p.Address, addressPath, role == roleBilling || role == rolePayTo)
	k.text(&p.Contact.Name, contactPath, "name", 60, false)
	k.ascii(&p.Contact.Phone, contactPath, "phone", 256, false)
	k.ascii(&p.Contact.Email, contactPath, "email", 256, false)
}

func (k *checker) otherPayer(o *claim.OtherPayer, prefix string) {
	k.ascii(&o.Payer.ID, prefix+"payer.", "id", 80, true)
	k.text(&o.Payer.Name, prefix+"payer.", "name", 60, true)
	k.address(&o.Payer.Address, prefix+"payer.address.", false)
	k.enum(&o.Sequence, prefix, "sequence", payerSequences, true)
	k.enum(&o.Relation, prefix, "relationship", subscriberRelationships, true)
	k.enum(&o.FilingCode, prefix, "filing_code", filingCodes, false)
	k.ascii(&o.Subscriber.MemberID, prefix+"subscriber.", "member_id", 80, true)
	k.name(&o.Subscriber.Name, prefix+"subscriber.name.", true)
	k.gender(&o.Subscriber.Gender, prefix+"subscriber.", false)
	k.address(&o.Subscriber.Address, prefix+"subscriber.address.", false)
	k.ascii(&o.Subscriber.Group, prefix+"subscriber.", "group_number", 50, false)
	k.enum(&o.Subscriber.Sequence, prefix+"subscriber.", "sequence", payerSequences, false)
	k.enum(&o.Subscriber.FilingCode, prefix+"subscriber.", "filing_code", filingCodes, false)
	if o.Paid < 0 {
		k.add(prefix, "paid", "must not be negative, got %s", o.Paid)
	}
	for i := range o.Adjustment {
		a := &o.Adjustment[i]
		p := prefix + "adjustments[" + strconv.Itoa(i) + "]."
		k.enum(&a.Group, p, "group", adjustmentGroups, true)
		k.upper(&a.Reason)
		if a.Reason == "" {
			k.add(p, "reason", "is required")
		} else if len(a.Reason) > 5 || !isAlnum(a.Reason) {
			k.add(p, "reason", "%s is not a claim adjustment reason code (1-5 letters or digits)", value(a.Reason))
		}
	}
}

// text checks a free-text value (names, addresses, notes): it is trimmed
// and transliterated to the X12 character set by CleanText.
func (k *checker) text(p *string, prefix, field string, max int, required bool) {
	s := strings.TrimSpace(*p)
	if s == "" {
		*p = ""
		if required {
			k.add(prefix, field, "is required")
		}
		return
	}
	c, err := CleanText(s)
	if err != nil {
		k.add(prefix, field, "%s: %v", value(s), err)
		return
	}
	*p = c
	if len(c) > max {
		k.add(prefix, field, "is %d characters long; X12 allows at most %d", len(c), max)
	}
}

// ascii checks an identifier: trimmed, and only X12 characters, because
// transliterating an id would make it a different id.
func (k *checker) ascii(p *string, prefix, field string, max int, required bool) {
	s := strings.TrimSpace(*p)
	*p = s
	if s == "" {
		if required {
			k.add(prefix, field, "is required")
		}
		return
	}
	if err := checkASCII(s); err != nil {
		k.add(prefix, field, "%s: %v", value(s), err)
		return
	}
	if len(s) > max {
		k.add(prefix, field, "is %d characters long; X12 allows at most %d", len(s), max)
	}
}

// code trims and upper-cases a code and rejects X12-unsafe characters
// before its format is checked, so that the reason names the real
// problem. It returns false when the value is empty or unusable.
func (k *checker) code(p *string, prefix, field string, required bool) bool {
	k.upper(p)
	if *p == "" {
		if required {
			k.add(prefix, field, "is required")
		}
		return false
	}
	if err := checkASCII(*p); err != nil {
		k.add(prefix, field, "%s: %v", value(*p), err)
		return false
	}
	return true
}

func (k *checker) upper(p *string) {
	s := strings.TrimSpace(*p)
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			s = strings.ToUpper(s)
			break
		}
	}
	*p = s
}

func (k *checker) enum(p *string, prefix, field string, allowed codeSet, required bool) {
	if !k.code(p, prefix, field, required) {
		return
	}
	if !allowed.has(*p) {
		k.add(prefix, field, "%s is not one of %s", value(*p), allowed)
	}
}

func (k *checker) digits(p *string, prefix, field string, n int, required bool) {
	if !k.code(p, prefix, field, required) {
		return
	}
	if len(*p) != n || !isDigits(*p) {
		k.add(prefix, field, "%s must be %d digits", value(*p), n)
	}
}

func (k *checker) name(n *claim.Name, prefix string, lastRequired bool) {
	k.text(&n.Last, prefix, "last", 60, lastRequired)
	k.text(&n.First, prefix, "first", 35, false)
	k.text(&n.Middle, prefix, "middle", 25, false)
	k.text(&n.Suffix, prefix, "suffix", 10, false)
}

// address checks a postal address. An optional address may be left
// entirely empty; once any part is given, the N3/N4 parts are required.
func (k *checker) address(a *claim.Address, prefix string, required bool) {
	if !required && isBlank(a.Line1) && isBlank(a.Line2) && isBlank(a.City) && isBlank(a.State) && isBlank(a.Zip) {
		*a = claim.Address{}
		return
	}
	k.text(&a.Line1, prefix, "line1", 55, true)
	k.text(&a.Line2, prefix, "line2", 55, false)
	k.text(&a.City, prefix, "city", 30, true)
	if k.code(&a.State, prefix, "state", true) && (len(a.State) != 2 || !isLetters(a.State)) {
		k.add(prefix, "state", "%s must be a 2-letter state code", value(a.State))
	}
	if k.code(&a.Zip, prefix, "zip", true) {
		z := a.Zip
		if len(z) == 10 && z[5] == '-' {
			z = z[:5] + z[6:]
		}
		if (len(z) != 5 && len(z) != 9) || !isDigits(z) {
			k.add(prefix, "zip", "%s must be a 5- or 9-digit ZIP code (12345, 123456789 or 12345-6789)", value(a.Zip))
		} else {
			a.Zip = z
		}
	}
}

func (k *checker) gender(p *string, prefix string, required bool) {
	k.enum(p, prefix, "gender", genders, required)
}

// npi checks the shape only; the check digit is the scrubber's.
func (k *checker) npi(p *string, prefix string, required bool) {
	if k.code(p, prefix, "npi", required) && (len(*p) != 10 || !isDigits(*p)) {
		k.add(prefix, "npi", "%s must be 10 digits", value(*p))
	}
}

func (k *checker) taxID(p *string, prefix string, required bool) {
	if !k.code(p, prefix, "tax_id", required) {
		return
	}
	t := strings.ReplaceAll(*p, "-", "")
	if len(t) != 9 || !isDigits(t) {
		k.add(prefix, "tax_id", "%s must be a 9-digit EIN or SSN (hyphens allowed)", value(*p))
		return
	}
	*p = t
}

func (k *checker) taxonomy(p *string, prefix string) {
	if k.code(p, prefix, "taxonomy", false) && (len(*p) != 10 || !isAlnum(*p) || (*p)[9] != 'X') {
		k.add(prefix, "taxonomy", "%s is not a provider taxonomy code (10 characters ending in X, e.g. 225100000X)", value(*p))
	}
}

// procedure accepts CPT (5 digits), HCPCS Level II (a letter and 4
// digits) and CPT category II/III and PLA codes (4 digits and F, T or
// U); PT bills 0552T-style category III codes and reports F codes for
// quality programs.
func (k *checker) procedure(p *string) {
	if !k.code(p, "", "procedure", true) {
		return
	}
	s := *p
	ok := len(s) == 5 && isDigits(s[1:4]) &&
		((isDigits(s[:1]) && (isDigits(s[4:]) || strings.ContainsAny(s[4:], "FTU"))) ||
			(isLetters(s[:1]) && isDigits(s[4:])))
	if !ok {
		k.add("", "procedure", "%s is not a procedure code (5 digits such as 97110, a letter and 4 digits such as G0283, or 4 digits and F/T/U)", value(s))
	}
}

func (k *checker) modifiers(l *claim.Line) {
	if len(l.Modifiers) > 4 {
		k.add("", "modifiers", "has %d modifiers; a service line allows at most 4", len(l.Modifiers))
	}
	for i := range l.Modifiers {
		m := &l.Modifiers[i]
		if !k.code(m, "", "modifiers", true) {
			continue
		}
		if len(*m) != 2 || !isAlnum(*m) {
			k.add("", "modifiers", "modifier %s must be 2 letters or digits", value(*m))
			continue
		}
		for j := 0; j < i; j++ {
			if l.Modifiers[j] == *m {
				k.add("", "modifiers", "modifier %s is given twice", *m)
				break
			}
		}
	}
}

// diagnoses checks the ICD-10-CM shape (a letter, a digit, a letter or
// digit, then up to 4 more) after removing the decimal point, which X12
// does not carry. A duplicate is refused rather than dropped because
// dropping it would shift the line pointers.
func (k *checker) diagnoses(c *claim.Claim) {
	switch n := len(c.Diagnoses); {
	case n == 0:
		k.add("", "diagnoses", "at least one diagnosis is required")
		return
	case n > 12:
		k.add("", "diagnoses", "has %d diagnoses; an 837P claim allows at most 12", n)
	}
	for i := range c.Diagnoses {
		d := &c.Diagnoses[i]
		if !k.code(d, "", "diagnoses", true) {
			continue
		}
		s := *d
		if len(s) > 3 && s[3] == '.' {
			s = s[:3] + s[4:]
		}
		if len(s) < 3 || len(s) > 7 || !isLetters(s[:1]) || !isDigits(s[1:2]) || !isAlnum(s) {
			k.add("", "diagnoses", "%s is not an ICD-10-CM code (3-7 characters, a letter then a digit, e.g. M54.50)", value(*d))
			continue
		}
		*d = s
		for j := 0; j < i; j++ {
			if c.Diagnoses[j] == s {
				k.add("", "diagnoses", "%s is listed twice (diagnoses %d and %d)", s, j+1, i+1)
				break
			}
		}
	}
}

func (k *checker) pointers(ps []int, ndiag int) {
	switch {
	case len(ps) == 0:
		k.add("", "diagnosis_pointers", "at least one diagnosis pointer is required")
		return
	case len(ps) > 4:
		k.add("", "diagnosis_pointers", "has %d pointers; a service line allows at most 4", len(ps))
	}
	for i, p := range ps {
		if p < 1 || p > ndiag || p > 12 {
			k.add("", "diagnosis_pointers", "pointer %d does not point at one of the claim's %d diagnoses", p, ndiag)
			continue
		}
		for j := 0; j < i; j++ {
			if ps[j] == p {
				k.add("", "diagnosis_pointers", "pointer %d is given twice", p)
				break
			}
		}
	}
}

// isBlank is strings.TrimSpace(s) == "" without building anything: the
// parts of an address are blank together exactly when each one is.
func isBlank(s string) bool {
	return strings.TrimSpace(s) == ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return s != ""
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return s != ""
}

// codeSet is a small set of allowed codes, kept in a slice so that its
// error message lists them in a stable order.
type codeSet []string

func (cs codeSet) has(s string) bool {
	for _, c := range cs {
		if c == s {
			return true
		}
	}
	return false
}

func (cs codeSet) String() string { return strings.Join(cs, ", ") }

// Code lists from the 837P TR3 (005010X222A1).
var (
	entityTypes          = codeSet{"1", "2"}
	frequencies          = codeSet{"1", "7", "8"}
	genders              = codeSet{"M", "F", "U"}
	taxIDTypes           = codeSet{"EI", "SY"}
	yesNo                = codeSet{"Y", "N"}
	assignments          = codeSet{"A", "B", "C"}          // CLM07
	benefitsAssigned     = codeSet{"Y", "N", "W"}          // CLM08
	releaseOfInfo        = codeSet{"I", "Y"}               // CLM09
	adjustmentGroups     = codeSet{"CO", "OA", "PI", "PR"} // CR is not valid in 5010
	payerSequences       = codeSet{"P", "S", "T", "A", "B", "C", "D", "E", "F", "G", "H", "U"}
	patientRelationships = codeSet{"01", "19", "20", "21", "39", "40", "53", "G8"}
	// SBR02 of loop 2320 also allows 18 (self).
	subscriberRelationships = codeSet{"01", "18", "19", "20", "21", "39", "40", "53", "G8"}
	// SBR09 claim filing indicator codes.
	filingCodes = codeSet{"11", "12", "13", "14", "15", "16", "17", "AM", "BL", "CH", "CI", "DS", "FI", "HM", "LM", "MA", "MB", "MC", "OF", "TV", "VA", "WC", "ZZ"}
)
