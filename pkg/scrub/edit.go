package scrub

import (
	"fmt"
	"strings"
)

// Severity says what an edit does to a claim.
type Severity uint8

// Severities. The zero Severity is not valid.
const (
	// Reject stops the claim: it must be fixed before it is queued.
	Reject Severity = iota + 1
	// Warn lets the claim through; the edit is shown to the clinic.
	Warn
)

// String returns "reject" or "warn".
func (s Severity) String() string {
	switch s {
	case Reject:
		return "reject"
	case Warn:
		return "warn"
	}
	return fmt.Sprintf("severity(%d)", uint8(s))
}

// MarshalText writes the severity as String does.
func (s Severity) MarshalText() ([]byte, error) {
	if s != Reject && s != Warn {
		return nil, fmt.Errorf("scrub: invalid severity %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads "reject" or "warn" (any case).
func (s *Severity) UnmarshalText(b []byte) error {
	switch strings.ToLower(string(b)) {
	case "reject":
		*s = Reject
	case "warn":
		*s = Warn
	default:
		return fmt.Errorf("scrub: unknown severity %q", b)
	}
	return nil
}

// Edit is one finding of the scrubber about a claim.
type Edit struct {
	// ID names the rule; stable, documented in docs/scrubber.md.
	ID string `json:"id"`
	// Severity is Reject or Warn.
	Severity Severity `json:"severity"`
	// Message says what is wrong and what to do, without PHI.
	Message string `json:"message"`
	// Line is 0 for a claim-level edit, else the 1-based service line.
	Line int `json:"line,omitempty"`
	// Field names the claim or line field concerned, using the claim
	// model's JSON names (e.g. "units", "modifiers", "billing_provider.npi").
	Field string `json:"field,omitempty"`
}

// String formats e for logs: "reject PT-GP-MISSING line 2 modifiers: ...".
func (e Edit) String() string {
	var b strings.Builder
	b.WriteString(e.Severity.String())
	b.WriteByte(' ')
	b.WriteString(e.ID)
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	if e.Field != "" {
		b.WriteByte(' ')
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// HasReject reports whether any edit rejects the claim.
func HasReject(edits []Edit) bool {
	for i := range edits {
		if edits[i].Severity == Reject {
			return true
		}
	}
	return false
}

// Edit IDs. They are stable: clinics, dashboards and tests match on them.
// docs/scrubber.md explains each one.
const (
	IDUnitsOver         = "PT-8MIN-OVER"             // timed units above what the minutes support
	IDUnitsUnder        = "PT-8MIN-UNDER"            // timed units below what the minutes support
	IDTimedNoMinutes    = "PT-TIMED-NO-MINUTES"      // timed code without minutes
	IDUntimedUnits      = "PT-UNTIMED-UNITS"         // untimed code with more than 1 unit on a date
	IDMedicareBundled   = "PT-MCR-BUNDLED"           // Medicare never pays the code separately (97010)
	IDMedicareInvalid   = "PT-MCR-INVALID"           // code not valid for Medicare (97014 → G0283)
	IDTimedDuplicate    = "PT-TIMED-DUP-DOS"         // timed code on more than one line of a date
	IDGPMissing         = "PT-GP-MISSING"            // PT service without GP
	IDKXMissing         = "PT-KX-MISSING"            // past the KX threshold without KX
	IDKXEarly           = "PT-KX-EARLY"              // KX below the threshold
	IDKXNoThreshold     = "PT-KX-NO-THRESHOLD"       // no threshold known for the year
	IDTargetedReview    = "PT-TARGETED-REVIEW"       // claim crosses the targeted review threshold
	IDCQMissing         = "PT-CQ-MISSING"            // assistant > 10% of the minutes without CQ
	IDCQWithoutGP       = "PT-CQ-NO-GP"              // CQ without GP
	IDCQNoAssistant     = "PT-CQ-NO-ASSISTANT"       // CQ without assistant minutes
	IDModTooMany        = "MOD-TOO-MANY"             // more than 4 modifiers
	IDMod59AndX         = "MOD-59-AND-X"             // 59 together with XE/XS/XP/XU
	IDModOrder          = "MOD-ORDER"                // modifiers not in the suggested order
	IDNCCIModifier      = "NCCI-PTP-MODIFIER"        // indicator-1 pair without 59/X on the column-2 line
	IDNCCINoBypass      = "NCCI-PTP-NO-BYPASS"       // indicator-0 pair
	IDAuthMissing       = "AUTH-MISSING"             // prior authorization required, none given
	IDDuplicateClaim    = "DUP-CLAIM"                // same claim seen in an earlier batch
	IDDuplicateUnknown  = "DUP-CHECK-FAILED"         // the duplicate store could not be asked
	IDNPIInvalid        = "NPI-INVALID"              // NPI fails format or check digit
	IDTotalNotPositive  = "CLM-TOTAL-NOT-POSITIVE"   // claim total (CLM02) zero or negative
	IDChargeNotPositive = "LINE-CHARGE-NOT-POSITIVE" // line charge (SV102) zero or negative
	IDDxPointer         = "DX-POINTER-INVALID"       // SV107 pointers missing, > 4 or out of range
	IDDxDuplicate       = "DX-DUPLICATE"             // same diagnosis twice
	IDDxTooMany         = "DX-TOO-MANY"              // more than 12 diagnoses
	IDDxSequelaPrimary  = "DX-SEQUELA-PRIMARY"       // 7th character S as principal diagnosis
	IDOriginalRefExtra  = "CLM-F8-UNEXPECTED"        // REF*F8 on an original claim
	IDOriginalRefNeeded = "CLM-F8-MISSING"           // frequency 7/8 without REF*F8
	IDDateMissing       = "DOS-MISSING"              // line without a service date
	IDDateFuture        = "DOS-FUTURE"               // service date after today
	IDDateBeforeBirth   = "DOS-BEFORE-BIRTH"         // service date before the patient's birth
	IDTimelyFiling      = "TIMELY-FILING"            // past the payer's filing limit
	IDTelehealth        = "POS-TELEHEALTH"           // place of service 02/10 (informational)
)

// Rule describes one edit for catalogues and documentation.
type Rule struct {
	// ID is the edit ID, e.g. "PT-8MIN-OVER".
	ID string
	// Severity is the severity the edit is raised with. PT-UNTIMED-UNITS
	// takes its severity from the code table; Catalog lists Reject.
	Severity Severity
	// Summary says in one line what the edit catches.
	Summary string
}

var catalog = []Rule{
	{IDUnitsOver, Reject, "timed code billed with more units than its minutes support (8-minute rule or per-code rounding)"},
	{IDUnitsUnder, Warn, "timed code billed with fewer units than its minutes support"},
	{IDTimedNoMinutes, Reject, "timed code without minutes"},
	{IDUntimedUnits, Reject, "untimed code billed with more than 1 unit on a date of service (severity from pt_codes.csv)"},
	{IDMedicareBundled, Warn, "code bundled by Medicare, not paid separately (97010)"},
	{IDMedicareInvalid, Reject, "code not valid for Medicare; bill the replacement (97014 → G0283)"},
	{IDTimedDuplicate, Reject, "timed code on more than one line of a date of service"},
	{IDGPMissing, Reject, "PT service without the GP modifier"},
	{IDKXMissing, Warn, "line past the year's KX threshold without KX"},
	{IDKXEarly, Warn, "KX on a line below the year's KX threshold"},
	{IDKXNoThreshold, Warn, "no KX threshold known for the year of service"},
	{IDTargetedReview, Warn, "claim takes the year's therapy spend past the targeted review threshold"},
	{IDCQMissing, Reject, "assistant furnished more than 10% of the service without CQ"},
	{IDCQWithoutGP, Reject, "CQ without GP"},
	{IDCQNoAssistant, Warn, "CQ on a line with no assistant minutes"},
	{IDModTooMany, Reject, "more than 4 modifiers on a line"},
	{IDMod59AndX, Reject, "59 and an X modifier (XE/XS/XP/XU) on one line"},
	{IDModOrder, Warn, "modifiers not in the suggested order CQ, 59/X, GP, KX"},
	{IDNCCIModifier, Reject, "NCCI pair (indicator 1) without 59/XE/XS/XP/XU on the column-2 line"},
	{IDNCCINoBypass, Reject, "NCCI pair with indicator 0: the column-2 code is never payable with the column-1 code"},
	{IDAuthMissing, Reject, "payer requires prior authorization and neither the claim nor the line has one"},
	{IDDuplicateClaim, Reject, "original claim already sent in an earlier batch"},
	{IDDuplicateUnknown, Warn, "duplicate check could not be made (store unavailable)"},
	{IDNPIInvalid, Reject, "NPI not 10 digits starting 1 or 2, or check digit wrong"},
	{IDTotalNotPositive, Reject, "claim total not greater than zero"},
	{IDChargeNotPositive, Reject, "line charge zero or negative"},
	{IDDxPointer, Reject, "diagnosis pointers missing, more than 4, or not pointing at a diagnosis"},
	{IDDxDuplicate, Reject, "diagnosis code listed twice"},
	{IDDxTooMany, Reject, "more than 12 diagnoses"},
	{IDDxSequelaPrimary, Reject, "sequela code (7th character S) as principal diagnosis"},
	{IDOriginalRefExtra, Reject, "payer claim number (REF*F8) on an original claim"},
	{IDOriginalRefNeeded, Reject, "replacement or void without the payer claim number (REF*F8)"},
	{IDDateMissing, Reject, "line without a service date"},
	{IDDateFuture, Reject, "service date in the future"},
	{IDDateBeforeBirth, Reject, "service date before the patient's birth date"},
	{IDTimelyFiling, Warn, "service date older than the payer's timely filing limit"},
	{IDTelehealth, Warn, "telehealth place of service (02/10): informational"},
}

// Catalog lists every edit the scrubber can raise, in documentation order.
func Catalog() []Rule {
	return append([]Rule(nil), catalog...)
}

// edit builders used by the rules; fmt is only reached when an edit fires.

func newEdit(id string, sev Severity, line int, field, format string, args ...any) Edit {
	return Edit{ID: id, Severity: sev, Line: line, Field: field, Message: fmt.Sprintf(format, args...)}
}

// dollars formats cents as $1234.56 for messages.
func dollars(m int64) string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	return fmt.Sprintf("%s$%d.%02d", sign, m/100, m%100)
}
