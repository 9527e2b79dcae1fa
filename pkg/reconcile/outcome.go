// Package reconcile turns payer responses (TA1, 999, 277CA, 835) into
// claim status events: Read detects a response file's type and reads it
// once, streaming, emitting one Outcome per thing that speaks for
// submitted claims; a Reconciler matches each Outcome to the submitted
// claims (Index) and applies it to their state (Store) with
// compare-and-set, idempotently. Nothing here knows NATS: pkg/bus
// implements Index and Store on JetStream. See docs/reconcile.md.
package reconcile

import (
	"github.com/claimgate/claimgate/pkg/claim"
)

// Kind is the type of a response file.
type Kind string

// Response file kinds. KindUnknown is any file Read cannot reconcile (not
// X12, an 837, a 277 that is not a 277CA, ...): it is reported, never
// silently dropped.
const (
	KindTA1     Kind = "ta1"
	Kind999     Kind = "999"
	Kind277CA   Kind = "277ca"
	Kind835     Kind = "835"
	KindUnknown Kind = "unknown"
)

// Outcome is what one part of a response file says about submitted
// claims: a TA1 about an interchange, a 999 AK2 loop about a transaction
// set, a 277CA 2200D loop or an 835 CLP loop about one claim. Every string
// is a copy (never a view of a reader's buffer), so an Outcome may be
// kept.
type Outcome struct {
	Kind Kind `json:"kind"`
	// File and Digest name the response file (the caller's name and
	// content digest).
	File   string `json:"file"`
	Digest string `json:"digest"`
	// Position is the 1-based ordinal of this outcome in the file: the
	// same bytes always give the same positions, so (Digest, Position,
	// claim id) identifies an event (EventID). The edi readers do not
	// expose segment numbers; Locator says where in the file it is.
	Position int    `json:"position"`
	Locator  string `json:"locator"`
	// Keys are the values that match the outcome to submitted claims.
	Keys Keys `json:"keys"`
	// State is where the matched claims move; empty for an outcome that
	// is recorded without a state change (TA1 accepted, 277CA received or
	// pending, 835 not our claim).
	State claim.State `json:"state,omitempty"`
	// Status is the raw verdict: TA104, IK501 (or AK901), STC01-1, CLP02.
	Status string `json:"status"`
	// Reasons are the codes behind the verdict.
	Reasons []Reason `json:"reasons,omitempty"`
	// Amounts are the 835 claim amounts (nil otherwise).
	Amounts *Amounts `json:"amounts,omitempty"`
	// PayerClaimNumber is 277CA REF*1K or 835 CLP07.
	PayerClaimNumber string `json:"payer_claim_number,omitempty"`
	// Trace is the 835 TRN02 (check/EFT trace) or the 277CA 2200D
	// REF*D9 clearinghouse trace.
	Trace string `json:"trace,omitempty"`
	// PaymentDate is the 835 BPR16 as YYYY-MM-DD.
	PaymentDate string `json:"payment_date,omitempty"`
	// DenialCategory is the 835 claim's main denial category (the
	// largest adjustment in a denial category), e.g. medical_necessity.
	DenialCategory string `json:"denial_category,omitempty"`
	// Lines are service line results (277CA 2220D, 835 2110).
	Lines []LineOutcome `json:"lines,omitempty"`
}

// Keys are an Outcome's match keys. Which are set depends on the kind:
// TA1 Partner + Interchange; 999 Partner + Group + Set; 277CA and 835
// Partner, Payer and ClaimID (277CA also Batch).
type Keys struct {
	// Partner is the response's ISA06: the payer's (or clearinghouse's)
	// interchange id, which is our 837's ISA08.
	Partner string `json:"partner,omitempty"`
	// Payer is the payer id the response names (277CA NM1*PR NM109, 835
	// REF*2U or N1*PR N104), when it names one.
	Payer string `json:"payer,omitempty"`
	// Interchange is TA101, our ISA13.
	Interchange string `json:"interchange,omitempty"`
	// Group is AK102 (our GS06) and Set AK202 (our ST02).
	Group string `json:"group,omitempty"`
	Set   string `json:"set,omitempty"`
	// Batch is the 277CA 2200B TRN02, our 837's BHT03.
	Batch string `json:"batch,omitempty"`
	// ClaimID is 277CA TRN02 or 835 CLP01: our CLM01.
	ClaimID string `json:"claim_id,omitempty"`
}

// Reason is one code behind a verdict. Source says which segment it came
// from; only the fields that segment has are set. Reasons never carry
// patient data: IK404 bad values and STC12 messages are not copied.
type Reason struct {
	// Source is TA1, IK3, IK4, IK5, AK9, STC, CAS or RARC.
	Source string `json:"source"`
	Code   string `json:"code"`
	// Text is the code's meaning from edi/codes (or the TA105 list).
	Text string `json:"text,omitempty"`
	// Category is the STC01-1 claim status category (277CA) and Entity
	// STC01-3.
	Category string `json:"category,omitempty"`
	Entity   string `json:"entity,omitempty"`
	// Group is the CAS group code (CO, OA, PI, PR), Amount the CAS
	// amount and DenialCategory edi/codes' classification of it.
	Group          string      `json:"group,omitempty"`
	Amount         claim.Money `json:"amount,omitempty"`
	DenialCategory string      `json:"denial_category,omitempty"`
	// Segment (IK301), SegmentPosition (IK302, ST = 1), Loop (IK303),
	// Element (IK401-1), Component (IK401-2) and ElementRef (IK402)
	// locate a 999 error in our 837.
	Segment         string `json:"segment,omitempty"`
	SegmentPosition int    `json:"segment_position,omitempty"`
	Loop            string `json:"loop,omitempty"`
	Element         int    `json:"element,omitempty"`
	Component       int    `json:"component,omitempty"`
	ElementRef      string `json:"element_ref,omitempty"`
}

// Amounts are an 835 claim's amounts.
type Amounts struct {
	Billed                claim.Money `json:"billed"`                 // CLP03
	Paid                  claim.Money `json:"paid"`                   // CLP04
	PatientResponsibility claim.Money `json:"patient_responsibility"` // CLP05
}

// LineOutcome is the result for one service line.
type LineOutcome struct {
	// Control is our line item control number (837 REF*6R; 835 REF*6R,
	// 277CA REF*FJ).
	Control   string      `json:"control,omitempty"`
	Procedure string      `json:"procedure,omitempty"`
	State     claim.State `json:"state,omitempty"`
	// Billed and Paid are SVC02 and SVC03 (835) or SVC02 (277CA).
	Billed         claim.Money `json:"billed"`
	Paid           claim.Money `json:"paid"`
	DenialCategory string      `json:"denial_category,omitempty"`
	Reasons        []Reason    `json:"reasons,omitempty"`
}

// Summary describes one read file.
type Summary struct {
	Kind Kind `json:"kind"`
	// Partner is the first ISA06 of the file.
	Partner string `json:"partner,omitempty"`
	// Outcomes counts the outcomes emitted.
	Outcomes int `json:"outcomes"`
	// Note says why a file is KindUnknown, or what else a reader met.
	Note string `json:"note,omitempty"`
	// Findings counts the data problems the edi reader reported (they
	// are in the reader's findings, not repeated here).
	Findings int `json:"findings"`
}
