// Package x277ca reads, validates and writes the X12 277CA health care
// claim acknowledgment (005010X214): the payer's (or clearinghouse's)
// front-end verdict on each claim of an 837 we sent, before adjudication.
//
// The 277CA is a hierarchy: information source (HL 20, the payer), the
// information receiver (HL 21, us, with the batch verdict), billing
// providers (HL 19) and patients (HL PT) with their claims (2200D) and
// service lines (2220D). Each level may carry STC statuses.
//
// Reading: Read returns the whole file; Reader streams it claim by claim
// with bounded memory. Validation: NewChecker returns an x12.SetChecker for
// x12.Check (Validate wraps both). Writing: Build makes a 277CA model from
// per-claim results and WriteTransaction/WriteFile write it.
//
// A 277 claim status response (005010X212) is a different transaction with
// the same ST01; this package refuses it with a 277ca.version finding.
package x277ca

import "github.com/claimgate/claimgate/edi/x12"

// Version is the 277CA implementation guide this package reads and writes.
const Version = "005010X214"

// Outcome is what a status (or a claim's statuses together) means for the
// claim: the domain's mapping of the STC category code (list 507).
type Outcome string

// Outcomes. A0/A1 received; A2/A5 accepted into adjudication; A3, A4, A6,
// A7, A8 rejected (fix and resubmit as a new original claim). Other known
// categories (pending P*, requests R*, finalized F*, errors E*, D0) map to
// OutcomeOther; codes not in list 507 to OutcomeUnknown.
const (
	OutcomeUnknown  Outcome = "unknown"
	OutcomeReceived Outcome = "received"
	OutcomeAccepted Outcome = "accepted"
	OutcomeRejected Outcome = "rejected"
	OutcomeOther    Outcome = "other"
)

// rank orders outcomes by how decisive they are: a claim (or provider)
// with several statuses takes the most decisive one. Rejected beats
// accepted beats other beats received beats unknown.
func (o Outcome) rank() int {
	switch o {
	case OutcomeRejected:
		return 4
	case OutcomeAccepted:
		return 3
	case OutcomeOther:
		return 2
	case OutcomeReceived:
		return 1
	}
	return 0
}

// Worst returns the more decisive of two outcomes (see Outcome).
func Worst(a, b Outcome) Outcome {
	if b.rank() > a.rank() {
		return b
	}
	if a == "" {
		return OutcomeUnknown
	}
	return a
}

// Ack is everything read from one 277CA file.
type Ack struct {
	// InterchangeAcks are the TA1 segments found in the file.
	InterchangeAcks []x12.TA1 `json:"interchange_acks,omitempty"`
	// Transactions holds one entry per 277CA transaction set (ST..SE).
	Transactions []*Transaction `json:"transactions"`
}

// Transaction is one 277CA transaction set.
type Transaction struct {
	// Interchange is ISA13 and Group GS06 of the envelope carrying it.
	Interchange string `json:"interchange,omitempty"`
	Group       string `json:"group,omitempty"`
	Control     string `json:"control"` // ST02
	Version     string `json:"version"` // ST03 (or GS08)
	// BHT
	Reference string `json:"reference"` // BHT03 originator's transaction id
	Date      string `json:"date"`      // BHT04 CCYYMMDD
	Time      string `json:"time"`      // BHT05

	// Sources are the 2000A information source loops. A streaming Reader
	// leaves the child lists empty.
	Sources []*Source `json:"sources"`
}

// Entity is an NM1 segment: a payer, receiver, provider or patient.
type Entity struct {
	Code       string `json:"code"`                  // NM101: PR, 41, 85, QC
	Type       string `json:"type"`                  // NM102: 1 person, 2 organization
	LastName   string `json:"last_name"`             // NM103, or organization name
	FirstName  string `json:"first_name,omitempty"`  // NM104
	MiddleName string `json:"middle_name,omitempty"` // NM105
	Prefix     string `json:"prefix,omitempty"`      // NM106
	Suffix     string `json:"suffix,omitempty"`      // NM107
	IDQual     string `json:"id_qualifier"`          // NM108: XX NPI, FI tax id, PI payer id, MI member id, 46 ETIN
	ID         string `json:"id"`                    // NM109
}

// Source is a 2000A information source: the payer (or clearinghouse)
// sending the acknowledgment.
type Source struct {
	HL        string      `json:"hl"`
	Name      Entity      `json:"name"`      // 2100A NM1*PR
	Trace     string      `json:"trace"`     // 2200A TRN02
	Received  string      `json:"received"`  // DTP*050 receipt date, CCYYMMDD
	Processed string      `json:"processed"` // DTP*009 process date
	Receivers []*Receiver `json:"receivers"`
}

// Receiver is a 2000B information receiver: the submitter of the 837 (us),
// with the verdict on the whole batch.
type Receiver struct {
	HL   string `json:"hl"`
	Name Entity `json:"name"` // 2100B NM1*41
	// Trace is 2200B TRN02, the claim transaction batch number: the BHT03
	// of the 837 being acknowledged.
	Trace    string   `json:"trace,omitempty"`
	Statuses []Status `json:"statuses,omitempty"`
	// Totals are QTY*90 / QTY*AA and AMT*YU / AMT*YY.
	Totals    Totals      `json:"totals,omitzero"`
	Outcome   Outcome     `json:"outcome"` // of Statuses; see Outcome
	Providers []*Provider `json:"providers"`
}

// Totals are the accepted and rejected counts and amounts a 2200B or 2200C
// loop reports, as transmitted (decimal text).
type Totals struct {
	AcceptedQuantity string `json:"accepted_quantity,omitempty"` // QTY*90 (2200B), QTY*QA (2200C)
	RejectedQuantity string `json:"rejected_quantity,omitempty"` // QTY*AA (2200B), QTY*QC (2200C)
	AcceptedAmount   string `json:"accepted_amount,omitempty"`   // AMT*YU
	RejectedAmount   string `json:"rejected_amount,omitempty"`   // AMT*YY
}

// Provider is a 2000C billing provider of service.
//
// A provider whose Outcome is rejected (a 2200C STC with a rejecting
// category, typically with HL04 0 and no patient loops) is rejected as a
// whole: every claim of that billing provider in the acknowledged 837
// batch (Receiver.Trace) is rejected, listed here or not. Match them by
// Name.IDQual/Name.ID (the billing provider's NPI or tax id).
type Provider struct {
	HL   string `json:"hl"`
	Name Entity `json:"name"` // 2100C NM1*85
	// Trace is 2200C TRN02, the payer's provider of service trace id.
	Trace        string      `json:"trace,omitempty"`
	Statuses     []Status    `json:"statuses,omitempty"`
	SecondaryIDs []Reference `json:"secondary_ids,omitempty"` // REF 0B, 1G, G2, LU, SY, TJ
	Totals       Totals      `json:"totals,omitzero"`
	Outcome      Outcome     `json:"outcome"` // of Statuses; see Outcome
	Patients     []*Patient  `json:"patients"`
}

// Rejected reports whether the provider is rejected as a whole, which
// rejects all its claims in the batch (see Provider).
func (p *Provider) Rejected() bool { return p.Outcome == OutcomeRejected }

// Reference is a REF segment.
type Reference struct {
	Qualifier string `json:"qualifier"` // REF01
	Value     string `json:"value"`     // REF02
}

// Patient is a 2000D patient loop with its claims.
type Patient struct {
	HL     string   `json:"hl"`
	Name   Entity   `json:"name"` // 2100D NM1*QC
	Claims []*Claim `json:"claims"`
}

// Claim is a 2200D claim status tracking loop: the verdict on one claim.
type Claim struct {
	// PatientControl is TRN02: our patient control number (837 CLM01).
	PatientControl string   `json:"patient_control"`
	Statuses       []Status `json:"statuses"`
	// PayerClaimControl is REF*1K, the payer's claim number: keep it,
	// corrections and voids (CLM05-3 7/8, REF*F8) need it.
	PayerClaimControl  string `json:"payer_claim_control,omitempty"`
	ClearinghouseTrace string `json:"clearinghouse_trace,omitempty"` // REF*D9
	BillType           string `json:"bill_type,omitempty"`           // REF*BLT
	MedicalRecord      string `json:"medical_record,omitempty"`      // REF*EA
	// ServiceFrom and ServiceTo are DTP*472 (equal for a D8 date).
	ServiceFrom string `json:"service_from,omitempty"`
	ServiceTo   string `json:"service_to,omitempty"`
	Lines       []Line `json:"lines,omitempty"`
	// Outcome is the most decisive outcome of Statuses (all their
	// composites): rejected > accepted > other > received > unknown.
	Outcome Outcome `json:"outcome"`
}

// Line is a 2220D service line status loop.
type Line struct {
	Qualifier string   `json:"qualifier"`           // SVC01-1, e.g. HC
	Procedure string   `json:"procedure"`           // SVC01-2
	Modifiers []string `json:"modifiers,omitempty"` // SVC01-3..6
	Charge    string   `json:"charge"`              // SVC02
	Revenue   string   `json:"revenue,omitempty"`   // SVC04
	Units     string   `json:"units,omitempty"`     // SVC07
	Statuses  []Status `json:"statuses"`
	// LineControl is REF*FJ: our line item control number (837 REF*6R).
	LineControl  string  `json:"line_control,omitempty"`
	Prescription string  `json:"prescription,omitempty"` // REF*XZ
	ServiceFrom  string  `json:"service_from,omitempty"` // DTP*472
	ServiceTo    string  `json:"service_to,omitempty"`
	Outcome      Outcome `json:"outcome"`
}

// Status is an STC segment.
type Status struct {
	StatusCode
	Date   string `json:"date,omitempty"`   // STC02 CCYYMMDD
	Action string `json:"action,omitempty"` // STC03: WQ accept, U reject
	Amount string `json:"amount,omitempty"` // STC04 submitted charges
	// More are STC10 and STC11, further status composites.
	More    []StatusCode `json:"more,omitempty"`
	Message string       `json:"message,omitempty"` // STC12 free text
}

// StatusCode is an STC01, STC10 or STC11 composite.
type StatusCode struct {
	Category string `json:"category"`         // -1 category (list 507), e.g. A2
	Code     string `json:"code"`             // -2 status (list 508), e.g. 20
	Entity   string `json:"entity,omitempty"` // -3 entity identifier, e.g. 85
}

// Outcome maps the category code.
func (c StatusCode) Outcome() Outcome { return categoryOutcome(c.Category) }

// Outcome is the most decisive outcome of the status's composites.
func (s *Status) Outcome() Outcome {
	o := s.StatusCode.Outcome()
	for _, m := range s.More {
		o = Worst(o, m.Outcome())
	}
	return o
}

// OutcomeOf is the most decisive outcome of a list of statuses, unknown
// for none.
func OutcomeOf(ss []Status) Outcome {
	o := OutcomeUnknown
	for i := range ss {
		o = Worst(o, ss[i].Outcome())
	}
	return o
}
