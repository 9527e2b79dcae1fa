package codes

import "testing"

func TestCategoryOutcome(t *testing.T) {
	tests := map[string]Outcome{
		"A0": Received, "A1": Received,
		"A2": Accepted, "A5": Accepted,
		"A3": Rejected, "A4": Rejected, "A6": Rejected, "A7": Rejected, "A8": Rejected,
		"P0": Pending, "P1": Pending, "P2": Pending, "P3": Pending, "P4": Pending, "P5": Pending,
		"R0": InfoRequested, "R1": InfoRequested, "R17": InfoRequested, "RQ": InfoRequested,
		"F0": Finalized, "F1": Finalized, "F3": Finalized, "F3F": Finalized, "F3N": Finalized, "F4": Finalized, "F5": Finalized,
		"F2": Denied,
		"E0": ResponseError, "E1": ResponseError, "E2": ResponseError, "E3": ResponseError, "E4": ResponseError,
		"D0": ResponseError,
		"X0": OutcomeUnknown,
		// not in list 507
		"": OutcomeUnknown, "A9": OutcomeUnknown, "R2": OutcomeUnknown, "a2": OutcomeUnknown, "Z": OutcomeUnknown, "P": OutcomeUnknown,
	}
	for cat, want := range tests {
		if got := CategoryOutcome(cat); got != want {
			t.Errorf("CategoryOutcome(%q) = %v, want %v", cat, got, want)
		}
	}
	// Every code in the set maps to something other than unknown, except X0.
	for _, c := range ClaimStatusCategory().Codes() {
		if CategoryOutcome(c.Code) == OutcomeUnknown && c.Code != "X0" {
			t.Errorf("%s maps to unknown", c.Code)
		}
	}
}

func TestOutcomeString(t *testing.T) {
	want := map[Outcome]string{
		OutcomeUnknown: "unknown", Received: "received", Accepted: "accepted", Rejected: "rejected",
		Pending: "pending", InfoRequested: "info_requested", Finalized: "finalized", Denied: "denied",
		ResponseError: "response_error", Outcome(99): "unknown",
	}
	for o, s := range want {
		if o.String() != s {
			t.Errorf("%d.String() = %q, want %q", o, o.String(), s)
		}
	}
}
