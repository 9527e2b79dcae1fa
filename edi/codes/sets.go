package codes

import (
	"embed"
	"errors"
)

//go:embed data/*.csv
var dataFS embed.FS

var (
	carcSet           = &Set{file: "data/carc.csv"}
	rarcSet           = &Set{file: "data/rarc.csv"}
	statusCategorySet = &Set{file: "data/claim_status_category.csv"}
	statusSet         = &Set{file: "data/claim_status.csv"}
	clp02Set          = &Set{file: "data/clp02_claim_status.csv"}
	plbSet            = &Set{file: "data/plb_reason.csv"}
	groupSet          = &Set{file: "data/group_code.csv"}
	ik501Set          = &Set{file: "data/ack_ik501.csv"}
	ak901Set          = &Set{file: "data/ack_ak901.csv"}
	ik304Set          = &Set{file: "data/ack_ik304.csv"}
	ik403Set          = &Set{file: "data/ack_ik403.csv"}
	ik502Set          = &Set{file: "data/ack_ik502.csv"}
	ak905Set          = &Set{file: "data/ack_ak905.csv"}
)

// CARC returns the claim adjustment reason codes (X12 external code list
// 139), used in CAS02/05/08/... of the 835 and 837 COB loops.
func CARC() *Set { return carcSet }

// RARC returns the remittance advice remark codes (X12 external code list
// 411), used in 835 LQ02, MOA and MIA.
func RARC() *Set { return rarcSet }

// ClaimStatusCategory returns the claim status category codes (X12 external
// code list 507), used in 277CA STC01-1. See CategoryOutcome.
func ClaimStatusCategory() *Set { return statusCategorySet }

// ClaimStatus returns the claim status codes (X12 external code list 508),
// used in 277CA STC01-2.
func ClaimStatus() *Set { return statusSet }

// ClaimPaymentStatus returns the 835 CLP02 claim status codes
// (1, 2, 3, 4, 19, 20, 21, 22, 23, 25).
func ClaimPaymentStatus() *Set { return clp02Set }

// PLBReason returns the 835 provider-level adjustment reason codes
// (PLB03-1, PLB05-1, ...).
func PLBReason() *Set { return plbSet }

// GroupCode returns the claim adjustment group codes (CAS01). CO, OA, PI and
// PR are active; CR is present with a 2012-01-01 stop date because it is not
// valid in 005010, so GroupCode().ValidOn("CR", d) is false for any current
// d while Lookup still identifies it for a helpful error message.
func GroupCode() *Set { return groupSet }

// TransactionSetAck returns the 999 IK501 transaction set acknowledgment
// codes (A, E, M, R, W, X).
func TransactionSetAck() *Set { return ik501Set }

// FunctionalGroupAck returns the 999 AK901 functional group acknowledge
// codes (A, E, M, P, R, W, X).
func FunctionalGroupAck() *Set { return ak901Set }

// SegmentSyntaxError returns the 999 IK304 segment syntax error codes.
func SegmentSyntaxError() *Set { return ik304Set }

// ElementSyntaxError returns the 999 IK403 implementation data element
// syntax error codes.
func ElementSyntaxError() *Set { return ik403Set }

// TransactionSetSyntaxError returns the 999 IK502-IK506 implementation
// transaction set syntax error codes.
func TransactionSetSyntaxError() *Set { return ik502Set }

// FunctionalGroupSyntaxError returns the 999 AK905-AK909 functional group
// syntax error codes.
func FunctionalGroupSyntaxError() *Set { return ak905Set }

// All returns every built-in code set.
func All() []*Set {
	return []*Set{
		carcSet, rarcSet, statusCategorySet, statusSet, clp02Set, plbSet, groupSet,
		ik501Set, ak901Set, ik304Set, ik403Set, ik502Set, ak905Set,
	}
}

// Check loads every built-in code set and the default denial classifier and
// returns their load errors joined, or nil. Call it at start-up to fail fast
// instead of discovering an empty set later.
func Check() error {
	var errs []error
	for _, s := range All() {
		if err := s.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := DefaultClassifier().Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
