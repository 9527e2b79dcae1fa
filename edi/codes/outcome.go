package codes

// Outcome is what a 277CA (or 277) claim status category means for the
// claim's lifecycle.
type Outcome uint8

// Outcome values. See CategoryOutcome for the mapping from list 507.
const (
	// OutcomeUnknown: the category code is not in list 507, or has no
	// mapping (for example X0).
	OutcomeUnknown Outcome = iota
	// Received: the payer (or an intermediary) has the claim but has not
	// yet accepted it into adjudication.
	Received
	// Accepted: accepted into adjudication; expect an 835.
	Accepted
	// Rejected: not accepted; fix and resubmit as a new original claim.
	Rejected
	// Pending: adjudication under way or on hold.
	Pending
	// InfoRequested: the payer asks for more information.
	InfoRequested
	// Finalized: adjudication is complete (paid, revised or no payment).
	Finalized
	// Denied: finalized as a denial.
	Denied
	// ResponseError: no status could be given (request or system error,
	// search unsuccessful).
	ResponseError
)

var outcomeNames = [...]string{
	OutcomeUnknown: "unknown",
	Received:       "received",
	Accepted:       "accepted",
	Rejected:       "rejected",
	Pending:        "pending",
	InfoRequested:  "info_requested",
	Finalized:      "finalized",
	Denied:         "denied",
	ResponseError:  "response_error",
}

// String returns the outcome's snake_case name, e.g. "accepted".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// CategoryOutcome maps a claim status category code (STC01-1, list 507) to
// an Outcome. Codes not in ClaimStatusCategory() give OutcomeUnknown.
//
// Mapping (domain brief, 277CA section, extended to the rest of list 507):
//
//	A0 forwarded to another entity       -> Received
//	A1 received                          -> Received
//	A2 accepted into adjudication        -> Accepted
//	A5 split claim                       -> Accepted
//	A3 returned as unprocessable         -> Rejected
//	A4 not found                         -> Rejected
//	A6 / A7 / A8 rejected (missing, invalid, relational field)
//	                                     -> Rejected
//	P0-P5 pending                        -> Pending
//	R0-R17, RQ requests for information  -> InfoRequested
//	F2 finalized/denial                  -> Denied
//	F0, F1, F3, F3F, F3N, F4, F5         -> Finalized
//	E0-E4 response not possible/errors   -> ResponseError
//	D0 data search unsuccessful          -> ResponseError
//	anything else (e.g. X0)              -> OutcomeUnknown
//
// It does not allocate.
func CategoryOutcome(cat string) Outcome {
	if !statusCategorySet.Has(cat) {
		return OutcomeUnknown
	}
	switch cat {
	case "A0", "A1":
		return Received
	case "A2", "A5":
		return Accepted
	case "A3", "A4", "A6", "A7", "A8":
		return Rejected
	case "F2":
		return Denied
	case "D0":
		return ResponseError
	}
	switch cat[0] {
	case 'P':
		return Pending
	case 'R':
		return InfoRequested
	case 'F':
		return Finalized
	case 'E':
		return ResponseError
	}
	return OutcomeUnknown
}
