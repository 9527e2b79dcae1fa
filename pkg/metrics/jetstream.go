package metrics

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// ConsumerRef names a durable consumer of a stream.
type ConsumerRef struct{ Stream, Durable string }

// JetStream collector timing: a scrape never waits more than jsTimeout
// for the server, and scrapes within jsCacheFor of the last refresh
// reuse it (several Prometheus servers, or a fast scrape interval, do not
// multiply the server's work).
const (
	jsTimeout  = 2 * time.Second
	jsCacheFor = 2 * time.Second
)

var (
	descPending     = prometheus.NewDesc(ns+"_consumer_pending_messages", "Messages of the stream not yet delivered to the consumer (its lag).", []string{"consumer"}, nil)
	descAckPending  = prometheus.NewDesc(ns+"_consumer_ack_pending_messages", "Messages delivered to the consumer and not yet acknowledged.", []string{"consumer"}, nil)
	descRedelivered = prometheus.NewDesc(ns+"_consumer_redelivered_messages", "Messages delivered to the consumer more than once and not yet acknowledged.", []string{"consumer"}, nil)
	descConnected   = prometheus.NewDesc(ns+"_nats_connected", "1 when this replica's NATS connection is up, else 0.", nil, nil)
	descOffline     = prometheus.NewDesc(ns+"_jetstream_stream_replicas_offline", "Replicas of the stream's cluster group that are offline or not current (0 when not clustered).", []string{"stream"}, nil)
	descMessages    = prometheus.NewDesc(ns+"_jetstream_stream_messages", "Messages stored in the stream.", []string{"stream"}, nil)
)

// jsCollector asks JetStream for consumer and stream state when scraped.
type jsCollector struct {
	nc        *nats.Conn
	js        jetstream.JetStream
	consumers []ConsumerRef

	mu     sync.Mutex
	at     time.Time
	cached []prometheus.Metric
}

// WatchJetStream makes every scrape report the connection's state, each
// stream's messages and offline replicas, and the consumers' pending,
// ack-pending and redelivered counts, asked of the server at scrape time
// (at most jsTimeout; a stream or consumer that did not answer is left
// out of that scrape). Calling it again replaces the previous watch.
func (m *Metrics) WatchJetStream(nc *nats.Conn, js jetstream.JetStream, consumers ...ConsumerRef) {
	if m == nil {
		return
	}
	m.jsMu.Lock()
	defer m.jsMu.Unlock()
	if m.js != nil {
		m.reg.Unregister(m.js)
	}
	m.js = &jsCollector{nc: nc, js: js, consumers: append(slices.Clone(consumers), m.extraConsumers...)}
	m.reg.MustRegister(m.js)
}

func (c *jsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPending, descAckPending, descRedelivered, descConnected, descOffline, descMessages} {
		ch <- d
	}
}

func (c *jsCollector) Collect(ch chan<- prometheus.Metric) {
	up := 0.0
	if c.nc != nil && c.nc.IsConnected() {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(descConnected, prometheus.GaugeValue, up)
	c.mu.Lock()
	defer c.mu.Unlock()
	if up == 1 && time.Since(c.at) >= jsCacheFor {
		c.cached = c.query()
		c.at = time.Now()
	} else if up == 0 {
		c.cached = nil // stale figures would hide the outage
	}
	for _, mt := range c.cached {
		ch <- mt
	}
}

func (c *jsCollector) query() []prometheus.Metric {
	ctx, cancel := context.WithTimeout(context.Background(), jsTimeout)
	defer cancel()
	var out []prometheus.Metric
	for _, r := range c.consumers {
		cons, err := c.js.Consumer(ctx, r.Stream, r.Durable)
		if err != nil {
			continue
		}
		ci := cons.CachedInfo()
		out = append(out,
			prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(ci.NumPending), r.Durable),
			prometheus.MustNewConstMetric(descAckPending, prometheus.GaugeValue, float64(ci.NumAckPending), r.Durable),
			prometheus.MustNewConstMetric(descRedelivered, prometheus.GaugeValue, float64(ci.NumRedelivered), r.Durable))
	}
	lister := c.js.ListStreams(ctx)
	for si := range lister.Info() {
		out = append(out,
			prometheus.MustNewConstMetric(descMessages, prometheus.GaugeValue, float64(si.State.Msgs), si.Config.Name),
			prometheus.MustNewConstMetric(descOffline, prometheus.GaugeValue, float64(ReplicasOffline(si)), si.Config.Name))
	}
	return out
}

// ReplicasOffline counts the replicas of a stream's group that cannot
// serve: every one when the group has no leader, else the followers that
// are offline, not current, or missing from the group.
func ReplicasOffline(si *jetstream.StreamInfo) int {
	want := si.Config.Replicas
	if si.Cluster == nil || want <= 1 {
		return 0
	}
	if si.Cluster.Leader == "" {
		return want
	}
	n := max(want-1-len(si.Cluster.Replicas), 0)
	for _, p := range si.Cluster.Replicas {
		if p.Offline || !p.Current {
			n++
		}
	}
	return n
}
