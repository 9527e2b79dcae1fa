// Package metrics is claimgate's Prometheus instrumentation: the metric
// catalogue of docs/metrics.md on a registry of its own, typed methods
// the gateway calls where things happen (a claim event applied, a file
// sent, an SFTP operation, a stage done), the accounts-receivable gauges
// computed from the claim store (AR) and a collector that asks JetStream
// for consumer and stream state at scrape time (WatchJetStream).
//
// Every method is safe on a nil *Metrics (it does nothing), so code paths
// without metrics need no checks. Labels are of bounded cardinality only:
// payer ids, states, scrub edit ids, denial categories and file types,
// each capped (values past the cap are reported as "other"); never a
// claim id, control number, file name or patient datum.
package metrics

import (
	"net/http"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const ns = "claimgate"

// Histogram buckets (seconds).
var (
	// ResponseBuckets span a 999 in a minute to an 835 in two months.
	ResponseBuckets = []float64{60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 345600, 604800, 1209600, 2592000, 5184000}
	// SFTPBuckets span a round trip on a LAN to a slow 100 MB upload.
	SFTPBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
	// StageBuckets span a small response file to a 100,000-claim batch.
	StageBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}
)

// Label value caps: a hostile batch naming a million payers must not
// make a million series.
const (
	MaxPayers     = 200
	MaxEdits      = 300
	MaxCategories = 50
	// Other is the label value of anything past a cap; Unknown of an
	// empty value.
	Other   = "other"
	Unknown = "unknown"
)

// Metrics holds claimgate's metrics and their registry.
type Metrics struct {
	reg *prometheus.Registry

	batches            *prometheus.CounterVec
	received           *prometheus.CounterVec
	scrubRejected      *prometheus.CounterVec
	transitions        *prometheus.CounterVec
	responseRejections *prometheus.CounterVec
	denied             *prometheus.CounterVec
	billed             *prometheus.CounterVec
	paid               *prometheus.CounterVec
	reversedPaid       *prometheus.CounterVec
	patientResp        *prometheus.CounterVec
	filesSent          *prometheus.CounterVec
	filesReceived      *prometheus.CounterVec
	unmatched          *prometheus.CounterVec
	sftpErrors         *prometheus.CounterVec
	ctlAllocated       prometheus.Counter
	ctlFailures        prometheus.Counter

	responseTime *prometheus.HistogramVec
	sftpDuration *prometheus.HistogramVec
	stageDur     *prometheus.HistogramVec

	openClaims  *prometheus.GaugeVec
	openAR      *prometheus.GaugeVec
	openAge     *ageCollector
	oldestAwait *prometheus.GaugeVec

	payers, edits, categories *limiter

	jsMu           sync.Mutex
	js             *jsCollector
	extraConsumers []ConsumerRef // the webhooks' (WatchWebhooks)
}

// New returns the metrics on a registry of their own, with the Go and
// process collectors and claimgate_build_info.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(),
		payers: newLimiter(MaxPayers), edits: newLimiter(MaxEdits), categories: newLimiter(MaxCategories)}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help}, labels)
		m.reg.MustRegister(g)
		return g
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: name, Help: help, Buckets: buckets}, labels)
		m.reg.MustRegister(h)
		return h
	}
	m.batches = counter("batches_total", "Charge batches handled, by result (ingested, failed, duplicate).", "result")
	m.received = counter("claims_received_total", "Claims received from charge batches.", "payer")
	m.scrubRejected = counter("claims_scrub_rejected_total", "Claims rejected by the scrubber, one increment per edit id per rejected claim.", "payer", "edit")
	m.transitions = counter("claim_transitions_total", "Claim moves into a state, as applied to the claim store.", "payer", "state")
	m.responseRejections = counter("response_rejections_total", "Claims rejected by an acknowledgment (999, TA1, 277CA).", "payer", "type")
	m.denied = counter("claims_denied_total", "Claims denied by an 835, by denial category.", "payer", "category")
	m.billed = counter("billed_dollars_total", "Claim charges (CLM02) of claims moved to submitted, in dollars.", "payer")
	m.paid = counter("paid_dollars_total", "Amounts paid (835 CLP04) on claims the 835 moved, in dollars.", "payer")
	m.reversedPaid = counter("reversed_paid_dollars_total", "Payments taken back by 835 reversals (negative CLP04), in dollars: net paid is paid_dollars_total minus this.", "payer")
	m.patientResp = counter("patient_responsibility_dollars_total", "Patient responsibility (835 CLP05) on claims the 835 moved, in dollars.", "payer")
	m.filesSent = counter("files_sent_total", "837P files uploaded to payers.", "payer")
	m.filesReceived = counter("files_received_total", "Response files reconciled, by type.", "payer", "type")
	m.unmatched = counter("unmatched_responses_total", "Response outcomes that matched no submitted claim, by file type.", "type")
	m.sftpErrors = counter("sftp_errors_total", "SFTP operations that failed.", "payer", "op")
	m.ctlAllocated = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "control_numbers_allocated_total", Help: "X12 control numbers (ISA13, GS06) allocated."})
	m.ctlFailures = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "control_number_failures_total", Help: "X12 control number allocations that failed."})
	m.reg.MustRegister(m.ctlAllocated, m.ctlFailures)

	m.responseTime = histogram("response_time_seconds", "Time from a claim's submission to a response (999, 277CA, 835) about it being applied.", ResponseBuckets, "payer", "type")
	m.sftpDuration = histogram("sftp_operation_duration_seconds", "SFTP operation durations (connect, upload, list, download, remove).", SFTPBuckets, "payer", "op")
	m.stageDur = histogram("stage_duration_seconds", "Time to handle one message of a stage (a batch ingested, a file uploaded, a payer polled, a response file reconciled).", StageBuckets, "stage")

	m.openClaims = gauge("open_claims", "Claims not settled (queued, submitted, ack_accepted, payer_accepted), from the last claim store scan; only the replica holding the metrics lease exports it.", "payer", "state")
	m.openAR = gauge("open_ar_dollars", "Billed dollars of claims submitted and not yet settled; lease holder only.", "payer")
	m.openAge = &ageCollector{}
	m.reg.MustRegister(m.openAge)
	m.oldestAwait = gauge("oldest_submission_awaiting_seconds", "Age of the oldest submitted claim still waiting for that response type (0: none); lease holder only.", "payer", "type")

	bi := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "build_info", Help: "Always 1; labels name the build.",
		ConstLabels: prometheus.Labels{"version": buildVersion(), "goversion": runtime.Version()}})
	bi.Set(1)
	m.reg.MustRegister(bi,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" {
		return Unknown
	}
	return bi.Main.Version
}

// Registry returns the registry (for tests and for registering more).
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the metrics in the Prometheus exposition formats (GET
// /metrics). A nil *Metrics serves 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Timeout: 10 * time.Second})
}

// KnownPayers declares the configured payer ids: they always get their
// own label value, and the AR gauges report them (0) even with no claims.
func (m *Metrics) KnownPayers(ids ...string) {
	if m == nil {
		return
	}
	for _, id := range ids {
		m.payers.add(id)
	}
}

// payer is the label value of a payer id.
func (m *Metrics) payer(id string) string { return m.payers.value(id) }

// BatchDone counts a charge batch: result is ingested, failed or
// duplicate.
func (m *Metrics) BatchDone(result string) {
	if m == nil {
		return
	}
	m.batches.WithLabelValues(result).Inc()
}

// FileSent counts an 837P file uploaded to payer.
func (m *Metrics) FileSent(payer string) {
	if m == nil {
		return
	}
	m.filesSent.WithLabelValues(m.payer(payer)).Inc()
}

// FileReceived counts a response file of type typ (999, ta1, 277ca, 835,
// unknown) reconciled for payer, and the outcomes in it that matched no
// claim.
func (m *Metrics) FileReceived(payer, typ string, unmatched int) {
	if m == nil {
		return
	}
	typ = fileType(typ)
	m.filesReceived.WithLabelValues(m.payer(payer), typ).Inc()
	if unmatched > 0 {
		m.unmatched.WithLabelValues(typ).Add(float64(unmatched))
	}
}

// fileType bounds a response file type label.
func fileType(t string) string {
	switch t {
	case "837p", "999", "ta1", "277ca", "835", Unknown:
		return t
	}
	return Unknown
}

// SFTPOp records one SFTP operation (connect, upload, list, download,
// remove) with payer: its duration, and an error when err is not nil.
func (m *Metrics) SFTPOp(payer, op string, d time.Duration, err error) {
	if m == nil {
		return
	}
	p := m.payer(payer)
	m.sftpDuration.WithLabelValues(p, op).Observe(d.Seconds())
	if err != nil {
		m.sftpErrors.WithLabelValues(p, op).Inc()
	}
}

// SFTPObserver returns SFTPOp bound to payer, in the shape of
// sftpconn.Client.Observe (nil for a nil *Metrics).
func (m *Metrics) SFTPObserver(payer string) func(op string, d time.Duration, err error) {
	if m == nil {
		return nil
	}
	return func(op string, d time.Duration, err error) { m.SFTPOp(payer, op, d, err) }
}

// StageDone records the time one message of a stage (ingest, upload,
// poll, reconcile) took.
func (m *Metrics) StageDone(stage string, d time.Duration) {
	if m == nil {
		return
	}
	m.stageDur.WithLabelValues(stage).Observe(d.Seconds())
}

// ControlNumber counts a control number allocation: err nil is one
// allocated, else one failure.
func (m *Metrics) ControlNumber(err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.ctlFailures.Inc()
		return
	}
	m.ctlAllocated.Inc()
}

// limiter hands out label values: the first max distinct values as they
// are, the rest as Other; "" is Unknown.
type limiter struct {
	max  int
	mu   sync.RWMutex
	seen map[string]struct{}
}

func newLimiter(max int) *limiter { return &limiter{max: max, seen: map[string]struct{}{}} }

func (l *limiter) add(v string) {
	l.mu.Lock()
	l.seen[v] = struct{}{}
	l.mu.Unlock()
}

func (l *limiter) value(v string) string {
	if v == "" {
		return Unknown
	}
	l.mu.RLock()
	_, ok := l.seen[v]
	n := len(l.seen)
	l.mu.RUnlock()
	if ok {
		return v
	}
	if n >= l.max {
		return Other
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.seen) >= l.max {
		if _, ok := l.seen[v]; !ok {
			return Other
		}
	}
	l.seen[v] = struct{}{}
	return v
}

// values lists the values handed out so far.
func (l *limiter) values() []string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]string, 0, len(l.seen))
	for v := range l.seen {
		out = append(out, v)
	}
	return out
}
