// Package claim is claimgate's domain model: the professional claims a
// practice-management system hands in, the parties on them, and the states a
// claim passes through on its way to payment. It depends on nothing but the
// standard library; the X12 wire format, NATS and SFTP adapters all sit
// around it.
package claim

// Frequency is the claim frequency type code (CLM05-3).
type Frequency string

// Claim frequency codes used on professional claims.
const (
	FrequencyOriginal    Frequency = "1" // admit-through-discharge / original claim
	FrequencyReplacement Frequency = "7" // replacement of a prior claim
	FrequencyVoid        Frequency = "8" // void/cancel of a prior claim
)

// IsCorrection reports whether f replaces or voids an earlier claim, which
// then needs the payer's claim control number (REF*F8).
func (f Frequency) IsCorrection() bool {
	return f == FrequencyReplacement || f == FrequencyVoid
}

// EntityType tells a person from an organisation (NM102).
type EntityType string

// Entity type qualifiers.
const (
	Person       EntityType = "1"
	Organization EntityType = "2"
)

// Address is a postal address (N3/N4).
type Address struct {
	Line1 string `json:"line1"`
	Line2 string `json:"line2,omitempty"`
	City  string `json:"city"`
	State string `json:"state"`
	Zip   string `json:"zip"`
}

// Name is a person's or organisation's name (NM103..NM107). For an
// organisation only Last is used.
type Name struct {
	Last   string `json:"last"`
	First  string `json:"first,omitempty"`
	Middle string `json:"middle,omitempty"`
	Suffix string `json:"suffix,omitempty"`
}

// Contact is a submitter or billing contact (PER).
type Contact struct {
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
}

// Provider is a billing, pay-to, rendering, referring or supervising
// provider.
type Provider struct {
	Entity    EntityType `json:"entity"`
	Name      Name       `json:"name"`
	NPI       string     `json:"npi,omitempty"`
	TaxID     string     `json:"tax_id,omitempty"`      // EIN or SSN, digits only
	TaxIDType string     `json:"tax_id_type,omitempty"` // EI (EIN) or SY (SSN)
	Taxonomy  string     `json:"taxonomy,omitempty"`    // e.g. 225100000X physical therapist
	Address   Address    `json:"address,omitempty"`
	Contact   Contact    `json:"contact,omitempty"`
}

// Facility is where services were rendered when that differs from the
// billing provider's address (loop 2310C).
type Facility struct {
	Name    string  `json:"name"`
	NPI     string  `json:"npi,omitempty"`
	Address Address `json:"address"`
}

// Payer is the insurance company a claim is sent to.
type Payer struct {
	ID      string  `json:"id"` // payer identifier (NM109 of 2010BB)
	Name    string  `json:"name"`
	Address Address `json:"address,omitempty"`
}

// Subscriber is the insured person (loop 2000B/2010BA).
type Subscriber struct {
	MemberID string  `json:"member_id"`
	Name     Name    `json:"name"`
	Birth    Date    `json:"birth_date"`
	Gender   string  `json:"gender"` // M, F or U
	Address  Address `json:"address,omitempty"`
	Group    string  `json:"group_number,omitempty"` // SBR03
	// Sequence is the payer's responsibility for this claim (SBR01):
	// P primary, S secondary, T tertiary.
	Sequence string `json:"sequence,omitempty"`
	// FilingCode is the claim filing indicator (SBR09), e.g. MB Medicare
	// part B, MC Medicaid, CI commercial, BL Blue Cross.
	FilingCode string `json:"filing_code,omitempty"`
}

// Patient is the person treated when that is not the subscriber (loop
// 2000C/2010CA).
type Patient struct {
	// Relationship to the subscriber (PAT01): 01 spouse, 19 child, 20
	// employee, 21 unknown, 39 organ donor, 40 cadaver donor, 53 life
	// partner, G8 other.
	Relationship string  `json:"relationship"`
	Name         Name    `json:"name"`
	Birth        Date    `json:"birth_date"`
	Gender       string  `json:"gender"`
	Address      Address `json:"address,omitempty"`
}

// OtherPayer is another payer on a coordinated claim (loops 2320, 2330A,
// 2330B): what the other payer already paid and adjusted.
type OtherPayer struct {
	Payer      Payer        `json:"payer"`
	Sequence   string       `json:"sequence"`     // SBR01 of 2320: P, S or T
	Relation   string       `json:"relationship"` // SBR02, 18 = self
	FilingCode string       `json:"filing_code,omitempty"`
	Subscriber Subscriber   `json:"subscriber"`
	Paid       Money        `json:"paid"` // AMT*D
	Adjustment []Adjustment `json:"adjustments,omitempty"`
}

// Adjustment is one claim adjustment (CAS) made by another payer.
type Adjustment struct {
	Group  string `json:"group"`  // CO, OA, PI, PR
	Reason string `json:"reason"` // CARC
	Amount Money  `json:"amount"`
}

// Claim is one professional claim: a patient's services on one or more
// dates billed to one payer.
type Claim struct {
	// ID is the patient control number (CLM01). It comes back as TRN02 in
	// the 277CA and CLP01 in the 835, so it must be unique per submitter.
	ID    string `json:"id"`
	Payer Payer  `json:"payer"`

	Billing   Provider  `json:"billing_provider"`
	PayTo     *Provider `json:"pay_to_provider,omitempty"`
	Rendering *Provider `json:"rendering_provider,omitempty"`
	Referring *Provider `json:"referring_provider,omitempty"`
	Facility  *Facility `json:"service_facility,omitempty"`

	Subscriber Subscriber `json:"subscriber"`
	// Patient is nil when the subscriber is the patient.
	Patient *Patient `json:"patient,omitempty"`

	PlaceOfService string    `json:"place_of_service"` // CLM05-1, e.g. 11 office
	Frequency      Frequency `json:"frequency"`        // CLM05-3
	// OriginalRef is the payer claim control number of the claim a
	// frequency 7 or 8 claim corrects (REF*F8).
	OriginalRef string `json:"original_reference,omitempty"`
	PriorAuth   string `json:"prior_authorization,omitempty"` // REF*G1
	Referral    string `json:"referral_number,omitempty"`     // REF*9F

	OnsetDate            Date `json:"onset_date,omitempty"`             // DTP*431
	InitialTreatmentDate Date `json:"initial_treatment_date,omitempty"` // DTP*454
	LastSeenDate         Date `json:"last_seen_date,omitempty"`         // DTP*304

	// Diagnoses are ICD-10-CM codes without the decimal point; the first
	// is the principal diagnosis.
	Diagnoses []string `json:"diagnoses"`
	Note      string   `json:"note,omitempty"`

	// Provider signature, assignment and release of information (CLM06,
	// CLM07, CLM08, CLM09). Empty means the usual Y, A, Y, Y.
	ProviderSignature string `json:"provider_signature,omitempty"`
	Assignment        string `json:"assignment,omitempty"`
	BenefitsAssigned  string `json:"benefits_assigned,omitempty"`
	ReleaseOfInfo     string `json:"release_of_information,omitempty"`

	// TherapyYTD is what the PM system knows of this patient's PT and SLP
	// charges earlier in the same calendar year, for the KX threshold.
	TherapyYTD Money `json:"therapy_ytd,omitempty"`

	OtherPayers []OtherPayer `json:"other_payers,omitempty"`
	Lines       []Line       `json:"lines"`
}

// Total is the sum of the line charges: the claim total (CLM02).
func (c *Claim) Total() Money {
	var t Money
	for i := range c.Lines {
		t += c.Lines[i].Charge
	}
	return t
}

// PatientName returns the name of the person treated.
func (c *Claim) PatientName() Name {
	if c.Patient != nil {
		return c.Patient.Name
	}
	return c.Subscriber.Name
}

// Line is one service line (loop 2400).
type Line struct {
	// ControlNumber is the line item control number (REF*6R); it comes
	// back as REF*FJ in the 277CA and REF*6R in the 835.
	ControlNumber string   `json:"control_number,omitempty"`
	Procedure     string   `json:"procedure"` // CPT or HCPCS code
	Modifiers     []string `json:"modifiers,omitempty"`
	Charge        Money    `json:"charge"`
	Units         int      `json:"units"`
	// Minutes is the total time of the service: one-on-one minutes for a
	// timed code (the 8-minute rule counts them), and the session length
	// for an untimed one (the CQ 10% rule needs it; the 8-minute rule
	// ignores it).
	Minutes int `json:"minutes,omitempty"`
	// AssistantMinutes are the minutes of this service furnished by a
	// physical therapist assistant (for the CQ modifier rule).
	AssistantMinutes  int    `json:"assistant_minutes,omitempty"`
	DiagnosisPointers []int  `json:"diagnosis_pointers"` // 1-based into Claim.Diagnoses
	ServiceDate       Date   `json:"service_date"`
	PlaceOfService    string `json:"place_of_service,omitempty"` // when different from the claim's
	PriorAuth         string `json:"prior_authorization,omitempty"`
	Note              string `json:"note,omitempty"`
}

// HasModifier reports whether the line carries modifier m.
func (l *Line) HasModifier(m string) bool {
	for _, x := range l.Modifiers {
		if x == m {
			return true
		}
	}
	return false
}
