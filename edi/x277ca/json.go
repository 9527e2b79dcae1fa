package x277ca

import (
	"encoding/json"

	"github.com/claimgate/claimgate/edi/internal/jsonw"
)

// The JSON of a 277CA follows the style of the 835 and 999 (docs/835.md,
// "JSON style"): snake_case keys, dates as "2019-08-16", times as
// "12:30" or "12:30:45", amounts as numbers with two decimals, quantities
// as numbers, codes and identifiers as strings as sent. The model keeps
// the text as sent; these methods only format it. A value of the wrong
// shape is written as a string, as sent (the validator reports it).

// MarshalJSON writes the ack in the JSON style.
func (a Ack) MarshalJSON() ([]byte, error) {
	ta1s := make([]jsonw.TA1, len(a.InterchangeAcks))
	for i, t := range a.InterchangeAcks {
		ta1s[i] = jsonw.TA1{Control: t.Control, Date: jsonw.Date(t.Date), Time: jsonw.Time(t.Time), Ack: t.Ack, Note: t.Note}
	}
	return json.Marshal(struct {
		InterchangeAcks []jsonw.TA1    `json:"interchange_acks,omitempty"`
		Transactions    []*Transaction `json:"transactions"`
	}{ta1s, a.Transactions})
}

// MarshalJSON writes the transaction in the JSON style.
func (t Transaction) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Interchange string     `json:"interchange,omitempty"`
		Group       string     `json:"group,omitempty"`
		Control     string     `json:"control"`
		Version     string     `json:"version"`
		Reference   string     `json:"reference"`
		Date        jsonw.Date `json:"date,omitempty"`
		Time        jsonw.Time `json:"time,omitempty"`
		Sources     []*Source  `json:"sources"`
	}{t.Interchange, t.Group, t.Control, t.Version, t.Reference, jsonw.Date(t.Date), jsonw.Time(t.Time), t.Sources})
}

// MarshalJSON writes the source in the JSON style.
func (s Source) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		HL        string      `json:"hl"`
		Name      Entity      `json:"name"`
		Trace     string      `json:"trace"`
		Received  jsonw.Date  `json:"received,omitempty"`
		Processed jsonw.Date  `json:"processed,omitempty"`
		Receivers []*Receiver `json:"receivers"`
	}{s.HL, s.Name, s.Trace, jsonw.Date(s.Received), jsonw.Date(s.Processed), s.Receivers})
}

// MarshalJSON writes the totals in the JSON style.
func (t Totals) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		AcceptedQuantity jsonw.Number `json:"accepted_quantity,omitempty"`
		RejectedQuantity jsonw.Number `json:"rejected_quantity,omitempty"`
		AcceptedAmount   jsonw.Amount `json:"accepted_amount,omitempty"`
		RejectedAmount   jsonw.Amount `json:"rejected_amount,omitempty"`
	}{jsonw.Number(t.AcceptedQuantity), jsonw.Number(t.RejectedQuantity), jsonw.Amount(t.AcceptedAmount), jsonw.Amount(t.RejectedAmount)})
}

// MarshalJSON writes the claim in the JSON style.
func (c Claim) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		PatientControl     string     `json:"patient_control"`
		Statuses           []Status   `json:"statuses"`
		PayerClaimControl  string     `json:"payer_claim_control,omitempty"`
		ClearinghouseTrace string     `json:"clearinghouse_trace,omitempty"`
		BillType           string     `json:"bill_type,omitempty"`
		MedicalRecord      string     `json:"medical_record,omitempty"`
		ServiceFrom        jsonw.Date `json:"service_from,omitempty"`
		ServiceTo          jsonw.Date `json:"service_to,omitempty"`
		Lines              []Line     `json:"lines,omitempty"`
		Outcome            Outcome    `json:"outcome"`
	}{c.PatientControl, c.Statuses, c.PayerClaimControl, c.ClearinghouseTrace, c.BillType, c.MedicalRecord,
		jsonw.Date(c.ServiceFrom), jsonw.Date(c.ServiceTo), c.Lines, c.Outcome})
}

// MarshalJSON writes the service line in the JSON style.
func (l Line) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Qualifier    string       `json:"qualifier"`
		Procedure    string       `json:"procedure"`
		Modifiers    []string     `json:"modifiers,omitempty"`
		Charge       jsonw.Amount `json:"charge"`
		Revenue      string       `json:"revenue,omitempty"`
		Units        jsonw.Number `json:"units,omitempty"`
		Statuses     []Status     `json:"statuses"`
		LineControl  string       `json:"line_control,omitempty"`
		Prescription string       `json:"prescription,omitempty"`
		ServiceFrom  jsonw.Date   `json:"service_from,omitempty"`
		ServiceTo    jsonw.Date   `json:"service_to,omitempty"`
		Outcome      Outcome      `json:"outcome"`
	}{l.Qualifier, l.Procedure, l.Modifiers, jsonw.Amount(l.Charge), l.Revenue, jsonw.Number(l.Units), l.Statuses,
		l.LineControl, l.Prescription, jsonw.Date(l.ServiceFrom), jsonw.Date(l.ServiceTo), l.Outcome})
}

// MarshalJSON writes the status in the JSON style.
func (s Status) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		StatusCode
		Date    jsonw.Date   `json:"date,omitempty"`
		Action  string       `json:"action,omitempty"`
		Amount  jsonw.Amount `json:"amount,omitempty"`
		More    []StatusCode `json:"more,omitempty"`
		Message string       `json:"message,omitempty"`
	}{s.StatusCode, jsonw.Date(s.Date), s.Action, jsonw.Amount(s.Amount), s.More, s.Message})
}
