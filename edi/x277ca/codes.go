package x277ca

import "github.com/claimgate/claimgate/edi/codes"

// Code lookups go through edi/codes (versioned data); this file is the only
// place that knows it, so the source can be switched.

// categoryKnown reports whether b is a claim status category (list 507).
func categoryKnown(b []byte) bool {
	_, ok := codes.ClaimStatusCategory().LookupBytes(b)
	return ok
}

// statusKnown reports whether b is a claim status code (list 508).
func statusKnown(b []byte) bool {
	_, ok := codes.ClaimStatus().LookupBytes(b)
	return ok
}

func categoryOutcome(cat string) Outcome {
	switch codes.CategoryOutcome(cat) {
	case codes.Received:
		return OutcomeReceived
	case codes.Accepted:
		return OutcomeAccepted
	case codes.Rejected:
		return OutcomeRejected
	case codes.OutcomeUnknown:
		return OutcomeUnknown
	}
	return OutcomeOther
}
