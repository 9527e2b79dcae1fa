package ingest

import (
	"os"
	"strings"
	"testing"
)

// TestErrorsWithholdPHI: errors about subscriber and patient fields name the
// field and the rule, never the value (errors end up in logs).
func TestErrorsWithholdPHI(t *testing.T) {
	b, err := os.ReadFile("../../testdata/batches/pt_batch.json")
	if err != nil {
		t.Fatal(err)
	}
	for from, to := range map[string]string{
		`"birth_date": "1948-03-14"`: `"birth_date": "1948-02-30"`,
		`"member_id": "4TK9AA2MN56"`: `"member_id": "4TK9~AA2MN56"`,
		`"last": "Lindqvist"`:        `"last": "Lind*qvist"`,
	} {
		if !strings.Contains(string(b), from) {
			t.Fatalf("sample batch has no %s", from)
		}
		sum, err := DecodeJSON(strings.NewReader(strings.Replace(string(b), from, to, 1)), "phi", func(Result) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if len(sum.Errors) == 0 || !strings.HasPrefix(sum.Errors[0].Field, "subscriber.") {
			t.Fatalf("%s: no subscriber error: %v", to, sum.Errors)
		}
		for _, e := range sum.Errors {
			for _, v := range []string{"1948-02-30", "4TK9", "Lind"} {
				if strings.Contains(e.Error(), v) {
					t.Errorf("error shows PHI %q: %s", v, e.Error())
				}
			}
		}
	}
	csv, err := os.ReadFile("../../testdata/batches/pt_batch.csv")
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := DecodeCSV(strings.NewReader(strings.Replace(string(csv), "1948-03-14", "1948-02-30", 1)), "phi", func(Result) error { return nil })
	if len(sum.Errors) == 0 || strings.Contains(sum.Errors[0].Error(), "1948-02-30") {
		t.Errorf("CSV birth date error: %v", sum.Errors)
	}
	// Provider data is not PHI: its values stay in the message.
	if isPHIField("billing_provider.npi") || !isPHIField("other_payers[0].subscriber.member_id") || isPHIField("patient.relationship") || !isPHIField("patient_zip") || !isPHIField("claim_note") || !isPHIField("lines[1].note") {
		t.Error("isPHIField is wrong")
	}
}
