package x835

import (
	"github.com/claimgate/claimgate/edi/codes"
)

// Code lookups go through these few functions so the code source (the
// versioned data of edi/codes) stays in one place.

// validStatus reports whether b is a 005010X221A1 CLP02 code.
func validStatus(b []byte) bool {
	switch string(b) {
	case "1", "2", "3", "4", "19", "20", "21", "22", "23", "25":
		return true
	}
	return false
}

// validMethod reports whether b is a BPR04 payment method.
func validMethod(b []byte) bool {
	switch string(b) {
	case "ACH", "BOP", "CHK", "FWT", "NON":
		return true
	}
	return false
}

// knownCARC reports whether b is in the CARC list (X12 list 139).
func knownCARC(b []byte) (codes.Code, bool) { return codes.CARC().LookupBytes(b) }

// knownRARC reports whether b is in the RARC list (X12 list 411).
func knownRARC(b []byte) (codes.Code, bool) { return codes.RARC().LookupBytes(b) }

// knownPLBReason reports whether b is a PLB adjustment reason code.
func knownPLBReason(b []byte) bool {
	_, ok := codes.PLBReason().LookupBytes(b)
	return ok
}

// classify returns the denial category name of one adjustment.
func classify(group, carc string, rarcs []string) string {
	return codes.Classify(group, carc, rarcs).String()
}

// Category returns the denial category name edi/codes gives an
// adjustment with group code group and reason code carc, refined by the
// remark codes reported with it: "contractual", "patient_responsibility"
// (not denials), or "authorization", "coding", "missing_info",
// "eligibility", "timely_filing", "duplicate", "medical_necessity",
// "benefit_limit", "non_covered", "other".
func Category(group, carc string, rarcs []string) string { return classify(group, carc, rarcs) }

// IsDenial reports whether an adjustment category counts as a denial
// (everything but contractual and patient_responsibility).
func IsDenial(category string) bool {
	c, ok := codes.ParseCategory(category)
	return ok && c.IsDenial()
}
