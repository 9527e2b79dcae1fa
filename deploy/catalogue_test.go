package deploy

// catalogue is the metric catalogue of docs/metrics.md (the contract
// pkg/metrics implements): each metric's labels and, for labels with a
// closed set of values, the values. The dashboard and the alert rules may
// use only these names, labels and values.
var catalogue = map[string]metric{
	"claimgate_batches_total":                        {kind: counter, labels: []string{"result"}},
	"claimgate_claims_received_total":                {kind: counter, labels: []string{"payer"}},
	"claimgate_claims_scrub_rejected_total":          {kind: counter, labels: []string{"payer", "edit"}},
	"claimgate_claim_transitions_total":              {kind: counter, labels: []string{"payer", "state"}},
	"claimgate_response_rejections_total":            {kind: counter, labels: []string{"payer", "type"}, types: []string{"999", "ta1", "277ca"}},
	"claimgate_claims_denied_total":                  {kind: counter, labels: []string{"payer", "category"}},
	"claimgate_billed_dollars_total":                 {kind: counter, labels: []string{"payer"}},
	"claimgate_paid_dollars_total":                   {kind: counter, labels: []string{"payer"}},
	"claimgate_reversed_paid_dollars_total":          {kind: counter, labels: []string{"payer"}},
	"claimgate_patient_responsibility_dollars_total": {kind: counter, labels: []string{"payer"}},
	"claimgate_files_sent_total":                     {kind: counter, labels: []string{"payer"}},
	"claimgate_files_received_total":                 {kind: counter, labels: []string{"payer", "type"}},
	"claimgate_unmatched_responses_total":            {kind: counter, labels: []string{"type"}},
	"claimgate_sftp_errors_total":                    {kind: counter, labels: []string{"payer", "op"}},
	"claimgate_control_numbers_allocated_total":      {kind: counter},
	"claimgate_control_number_failures_total":        {kind: counter},
	"claimgate_response_time_seconds":                {kind: histogram, labels: []string{"payer", "type"}, types: []string{"999", "277ca", "835"}},
	"claimgate_sftp_operation_duration_seconds":      {kind: histogram, labels: []string{"payer", "op"}},
	"claimgate_stage_duration_seconds":               {kind: histogram, labels: []string{"stage"}},
	"claimgate_open_claims":                          {kind: gauge, labels: []string{"payer", "state"}, states: []string{"queued", "submitted", "ack_accepted", "payer_accepted"}},
	"claimgate_open_ar_dollars":                      {kind: gauge, labels: []string{"payer"}},
	"claimgate_open_ar_age_seconds_sum":              {kind: gauge, labels: []string{"payer"}},
	"claimgate_oldest_submission_awaiting_seconds":   {kind: gauge, labels: []string{"payer", "type"}, types: []string{"999", "277ca", "835"}},
	"claimgate_webhook_deliveries_total":             {kind: counter, labels: []string{"webhook"}},
	"claimgate_webhook_failed_attempts_total":        {kind: counter, labels: []string{"webhook"}},
	"claimgate_webhook_dead_letters_total":           {kind: counter, labels: []string{"webhook"}},
	"claimgate_webhook_in_flight_events":             {kind: gauge, labels: []string{"webhook"}},
	"claimgate_webhook_lease_held":                   {kind: gauge, labels: []string{"webhook"}},
	"claimgate_consumer_pending_messages":            {kind: gauge, labels: []string{"consumer"}},
	"claimgate_consumer_ack_pending_messages":        {kind: gauge, labels: []string{"consumer"}},
	"claimgate_consumer_redelivered_messages":        {kind: gauge, labels: []string{"consumer"}},
	"claimgate_nats_connected":                       {kind: gauge},
	"claimgate_jetstream_stream_replicas_offline":    {kind: gauge, labels: []string{"stream"}},
	"claimgate_jetstream_stream_messages":            {kind: gauge, labels: []string{"stream"}},
	"claimgate_build_info":                           {kind: gauge, labels: []string{"version", "goversion"}},
}

type kind int

const (
	counter kind = iota
	gauge
	histogram
)

type metric struct {
	kind   kind
	labels []string
	// types and states restrict the values of the labels type and state
	// where the catalogue names a narrower set than the global one.
	types, states []string
}

// closedValues are the values of the catalogue's labels with a closed set.
var closedValues = map[string][]string{
	"state": {"queued", "submitted", "ack_accepted", "ack_rejected", "payer_accepted", "payer_rejected",
		"paid", "partially_paid", "denied", "reversed", "scrub_rejected", "received"},
	"type":   {"837p", "999", "ta1", "277ca", "835", "unknown"},
	"op":     {"connect", "upload", "list", "download", "remove"},
	"stage":  {"ingest", "upload", "poll", "reconcile"},
	"result": {"ingested", "failed", "duplicate"},
	"category": {"other", "authorization", "coding", "missing_info", "eligibility", "timely_filing", "duplicate",
		"medical_necessity", "benefit_limit", "non_covered"},
}

// targetLabels are added by Prometheus to every scraped series; le is a
// histogram bucket's bound.
var targetLabels = []string{"job", "instance", "le"}
