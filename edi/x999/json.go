package x999

import (
	"encoding/json"

	"github.com/claimgate/claimgate/edi/internal/jsonw"
)

// The JSON of a 999 follows the style of the 835 and 277CA (docs/835.md,
// "JSON style"): snake_case keys, dates as "2019-08-16", times as "12:30",
// codes and control numbers as strings as sent, positions and counts as
// numbers. Only the TA1 dates and times need formatting.

// MarshalJSON writes the ack in the JSON style.
func (a Ack) MarshalJSON() ([]byte, error) {
	ta1s := make([]jsonw.TA1, len(a.InterchangeAcks))
	for i, t := range a.InterchangeAcks {
		ta1s[i] = jsonw.TA1{Control: t.Control, Date: jsonw.Date(t.Date), Time: jsonw.Time(t.Time), Ack: t.Ack, Note: t.Note}
	}
	return json.Marshal(struct {
		InterchangeAcks []jsonw.TA1      `json:"interchange_acks,omitempty"`
		Groups          []*GroupResponse `json:"groups"`
	}{ta1s, a.Groups})
}
