package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// WebhookStats are one webhook's counters in this replica (pkg/webhook's
// Dispatcher.Stats, converted by the caller so this package does not
// depend on it).
type WebhookStats struct {
	Webhook string // the configured name: chosen by the operator, never a URL or claim
	// Holding reports whether this replica holds the webhook's lease
	// (only the holder delivers).
	Holding bool
	// Delivered, FailedAttempts and DeadLettered count since the process
	// started; Held is what is fetched and not yet acknowledged now.
	Delivered, FailedAttempts, DeadLettered, Held int64
}

var (
	descHookDelivered = prometheus.NewDesc(ns+"_webhook_deliveries_total", "Claim events the webhook's receiver accepted (2xx), by this replica.", []string{"webhook"}, nil)
	descHookFailed    = prometheus.NewDesc(ns+"_webhook_failed_attempts_total", "Delivery attempts that failed (no answer, or not 2xx) and were retried or given up, by this replica.", []string{"webhook"}, nil)
	descHookDead      = prometheus.NewDesc(ns+"_webhook_dead_letters_total", "Claim events given up on and kept in the dead-letter bucket, by this replica.", []string{"webhook"}, nil)
	descHookHeld      = prometheus.NewDesc(ns+"_webhook_in_flight_events", "Claim events fetched for the webhook and not yet acknowledged.", []string{"webhook"}, nil)
	descHookLease     = prometheus.NewDesc(ns+"_webhook_lease_held", "1 when this replica holds the webhook's lease (delivers its events), else 0.", []string{"webhook"}, nil)
)

// hookCollector reads the webhook counters at scrape time.
type hookCollector struct{ src func() []WebhookStats }

func (c hookCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHookDelivered, descHookFailed, descHookDead, descHookHeld, descHookLease} {
		ch <- d
	}
}

func (c hookCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.src() {
		lease := 0.0
		if s.Holding {
			lease = 1
		}
		ch <- prometheus.MustNewConstMetric(descHookDelivered, prometheus.CounterValue, float64(s.Delivered), s.Webhook)
		ch <- prometheus.MustNewConstMetric(descHookFailed, prometheus.CounterValue, float64(s.FailedAttempts), s.Webhook)
		ch <- prometheus.MustNewConstMetric(descHookDead, prometheus.CounterValue, float64(s.DeadLettered), s.Webhook)
		ch <- prometheus.MustNewConstMetric(descHookHeld, prometheus.GaugeValue, float64(s.Held), s.Webhook)
		ch <- prometheus.MustNewConstMetric(descHookLease, prometheus.GaugeValue, lease, s.Webhook)
	}
}

// WatchWebhooks makes every scrape report the webhooks' delivery
// counters from src, and adds their durable consumers to the consumer
// lag gauges (claimgate_consumer_pending_messages and the others,
// WatchJetStream), whether that watch starts before or after this. Call
// it once.
func (m *Metrics) WatchWebhooks(src func() []WebhookStats, consumers ...ConsumerRef) {
	if m == nil || src == nil {
		return
	}
	m.reg.MustRegister(hookCollector{src: src})
	m.jsMu.Lock()
	defer m.jsMu.Unlock()
	m.extraConsumers = append(m.extraConsumers, consumers...)
	if m.js != nil {
		m.js.mu.Lock()
		m.js.consumers = append(m.js.consumers, consumers...)
		m.js.mu.Unlock()
	}
}
