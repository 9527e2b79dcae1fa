package x277ca

import (
	"encoding/json"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

// TestJSONStyle: dates, times, amounts and quantities sent as text are
// written in the JSON style; text of the wrong shape as sent.
func TestJSONStyle(t *testing.T) {
	ack := Ack{
		InterchangeAcks: []x12.TA1{{Control: "000000001", Date: "230221", Time: "1025", Ack: "A", Note: "000"}},
		Transactions: []*Transaction{{Control: "0001", Version: Version, Reference: "R1", Date: "20230221", Time: "102530",
			Sources: []*Source{{HL: "1", Received: "20230220", Processed: "2023022", Receivers: []*Receiver{{HL: "2",
				Statuses: []Status{{StatusCode: StatusCode{Category: "A1", Code: "19"}, Date: "20230221", Amount: "365.5"}},
				Totals:   Totals{AcceptedQuantity: "3", AcceptedAmount: "200.5", RejectedAmount: "1.234"},
				Providers: []*Provider{{HL: "3", Patients: []*Patient{{HL: "4", Claims: []*Claim{{PatientControl: "PCN1",
					ServiceFrom: "20230201", ServiceTo: "20230201",
					Lines: []Line{{Qualifier: "HC", Procedure: "97110", Charge: "90", Units: "2"}}}}}}}}}}}}}},
	}
	b, err := json.Marshal(ack)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"interchange_acks":[{"control":"000000001","date":"2023-02-21","time":"10:25","ack":"A","note":"000"}],` +
		`"transactions":[{"control":"0001","version":"005010X214","reference":"R1","date":"2023-02-21","time":"10:25:30",` +
		`"sources":[{"hl":"1","name":{"code":"","type":"","last_name":"","id_qualifier":"","id":""},"trace":"","received":"2023-02-20","processed":"2023022",` +
		`"receivers":[{"hl":"2","name":{"code":"","type":"","last_name":"","id_qualifier":"","id":""},` +
		`"statuses":[{"category":"A1","code":"19","date":"2023-02-21","amount":365.50}],` +
		`"totals":{"accepted_quantity":3,"accepted_amount":200.50,"rejected_amount":"1.234"},"outcome":"",` +
		`"providers":[{"hl":"3","name":{"code":"","type":"","last_name":"","id_qualifier":"","id":""},"outcome":"","patients":[{"hl":"4","name":{"code":"","type":"","last_name":"","id_qualifier":"","id":""},` +
		`"claims":[{"patient_control":"PCN1","statuses":null,"service_from":"2023-02-01","service_to":"2023-02-01",` +
		`"lines":[{"qualifier":"HC","procedure":"97110","charge":90.00,"units":2,"statuses":null,"outcome":""}],"outcome":""}]}]}]}]}]}]}`
	if string(b) != want {
		t.Fatalf("got\n%s\nwant\n%s", b, want)
	}
}
