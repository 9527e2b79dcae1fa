package reconcile

import _ "embed"

//go:embed schema/claim-event.schema.json
var eventSchema []byte

// EventSchema returns the JSON Schema (draft 2020-12) of the Event
// payload published on claims.events.<payer>.<state>.
func EventSchema() []byte { return append([]byte(nil), eventSchema...) }
