// Package webhook delivers claim events to the URLs a practice-management
// system registered: one durable JetStream pull consumer per webhook on
// the claim event stream, filtered by state; each event POSTed as JSON,
// signed with HMAC-SHA256 over a timestamp and the body, retried with
// backoff until the receiver answers 2xx, at least once and in order per
// claim. docs/webhooks.md states the guarantees and how a receiver
// verifies a delivery (Verify).
package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/config"
)

// BucketDead is the KV bucket of events a webhook gave up on (key
// "<webhook>.<event id>", value a DeadLetter).
const BucketDead = "claimgate_webhook_dead"

// ConsumerPrefix starts the name of each webhook's durable consumer on
// the claim event stream: "claimgate-webhook-<name>".
const ConsumerPrefix = "claimgate-webhook-"

// Hook is one webhook with its settings resolved (secret read, defaults
// applied).
type Hook struct {
	Name   string
	URL    string
	Secret []byte
	// States filters the events (empty: all).
	States []claim.State
	// Timeout bounds one attempt; MaxAge and MaxAttempts (0: no limit)
	// when to give up on an event; RetryMin and RetryMax bound the
	// backoff.
	Timeout, MaxAge, RetryMin, RetryMax time.Duration
	MaxAttempts                         int
	// Lanes is how many claims are delivered at once.
	Lanes int
	// DeliverAll starts a new webhook's consumer at the start of the
	// stream instead of at new events.
	DeliverAll bool
}

// FromConfig resolves a configured webhook: its secret is read from the
// environment or a file, its durations parsed.
func FromConfig(w config.Webhook) (Hook, error) {
	if err := w.Check(); err != nil {
		return Hook{}, fmt.Errorf("webhook %s: %w", w.Name, err)
	}
	t, _ := w.Times()
	secret, err := config.Secret(w.Secret)
	if err != nil {
		return Hook{}, fmt.Errorf("webhook %s: secret: %w", w.Name, err)
	}
	h := Hook{Name: w.Name, URL: w.URL, Secret: secret, Timeout: t.Timeout, MaxAge: t.MaxAge,
		RetryMin: t.RetryMin, RetryMax: t.RetryMax, MaxAttempts: w.MaxAttempts, Lanes: w.Lanes, DeliverAll: w.Deliver == "all"}
	for _, s := range w.States {
		h.States = append(h.States, claim.State(s))
	}
	return h, nil
}

func (h *Hook) defaults() {
	if h.Lanes <= 0 {
		h.Lanes = 16
	}
	if h.Timeout <= 0 {
		h.Timeout = 10 * time.Second
	}
	if h.MaxAge <= 0 {
		h.MaxAge = 24 * time.Hour
	}
	if h.RetryMin <= 0 {
		h.RetryMin = time.Second
	}
	if h.RetryMax < h.RetryMin {
		h.RetryMax = max(h.RetryMin, 5*time.Minute)
	}
}

// Options are a Dispatcher's runtime settings.
type Options struct {
	// Holder names this replica in the webhook leases (default host name
	// and process id).
	Holder string
	// LeaseTTL must be the lease bucket's TTL (bus.Options.LeaseTTL;
	// default bus.DefaultLeaseTTL).
	LeaseTTL time.Duration
	// AckWait is the consumers' ack wait (default 60s); held events are
	// kept alive every third of it.
	AckWait time.Duration
	// LaneDepth is how many fetched events each lane may hold (default
	// 16); a webhook holds at most Lanes × LaneDepth unacknowledged.
	LaneDepth int
	// Replicas is the replica count of the dead-letter bucket (default 1).
	Replicas int
	// Log gets one line per failed attempt, give-up and lease change:
	// webhook name, status, delivery id prefix; never a URL or a body.
	Log *slog.Logger
	// Transport is the HTTP transport (default a clone of
	// http.DefaultTransport).
	Transport http.RoundTripper
}

// Dispatcher delivers claim events to webhooks. Several replicas may run
// one on the same NATS: for each webhook one replica at a time holds its
// lease and delivers; the others take over when it stops or dies.
type Dispatcher struct {
	b      *bus.Bus
	hooks  []*runner
	o      Options
	log    *slog.Logger
	dead   jetstream.KeyValue
	stream jetstream.Stream
}

// New creates (or updates) the durable consumer of each hook and the
// dead-letter bucket. The event stream must exist (bus.Setup).
func New(ctx context.Context, b *bus.Bus, hooks []Hook, o Options) (*Dispatcher, error) {
	if o.Holder == "" {
		h, _ := os.Hostname()
		o.Holder = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = bus.DefaultLeaseTTL
	}
	if o.AckWait <= 0 {
		o.AckWait = 60 * time.Second
	}
	if o.LaneDepth <= 0 {
		o.LaneDepth = 16
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	d := &Dispatcher{b: b, o: o, log: o.Log}
	var err error
	if d.stream, err = b.JS.Stream(ctx, bus.StreamEvents); err != nil {
		return nil, fmt.Errorf("webhook: stream %s: %w", bus.StreamEvents, err)
	}
	if d.dead, err = b.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: BucketDead, History: 1,
		Storage: jetstream.FileStorage, Replicas: o.Replicas}); err != nil {
		return nil, fmt.Errorf("webhook: bucket %s: %w", BucketDead, err)
	}
	names := map[string]bool{}
	for _, h := range hooks {
		h.defaults()
		if names[h.Name] {
			return nil, fmt.Errorf("webhook: %s appears twice", h.Name)
		}
		names[h.Name] = true
		tr := o.Transport
		if t, ok := tr.(*http.Transport); ok {
			// One kept-alive connection per lane: the default two per
			// host would make most lanes reconnect for every event.
			t = t.Clone()
			t.MaxIdleConnsPerHost = h.Lanes
			tr = t
		}
		r := &runner{d: d, h: h, consumer: ConsumerPrefix + h.Name, log: d.log.With("webhook", h.Name),
			client: &http.Client{Transport: tr, Timeout: h.Timeout,
				// A redirect is an answer we do not follow: a POST turned
				// into a GET, or re-sent elsewhere, is not a delivery.
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		if err := d.consumer(ctx, r); err != nil {
			return nil, err
		}
		d.hooks = append(d.hooks, r)
	}
	return d, nil
}

// consumer creates or updates a hook's durable consumer. Its deliver
// policy is kept once created (JetStream does not let it change).
func (d *Dispatcher) consumer(ctx context.Context, r *runner) error {
	cfg := jetstream.ConsumerConfig{
		Durable:       r.consumer,
		Description:   "claimgate webhook " + r.h.Name,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       d.o.AckWait,
		MaxAckPending: r.h.Lanes * d.o.LaneDepth,
		MaxDeliver:    -1,
		DeliverPolicy: jetstream.DeliverNewPolicy,
	}
	if r.h.DeliverAll {
		cfg.DeliverPolicy = jetstream.DeliverAllPolicy
	}
	for _, s := range r.h.States {
		cfg.FilterSubjects = append(cfg.FilterSubjects, bus.SubjectEvents+".*."+bus.Token(string(s)))
	}
	if c, err := d.stream.Consumer(ctx, r.consumer); err == nil {
		old := c.CachedInfo().Config
		cfg.DeliverPolicy, cfg.OptStartSeq, cfg.OptStartTime = old.DeliverPolicy, old.OptStartSeq, old.OptStartTime
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("webhook %s: consumer: %w", r.h.Name, err)
	}
	if _, err := d.stream.CreateOrUpdateConsumer(ctx, cfg); err != nil {
		return fmt.Errorf("webhook %s: consumer: %w", r.h.Name, err)
	}
	return nil
}

// Run delivers until ctx ends, then stops fetching, abandons attempts in
// flight (their events stay unacknowledged and are delivered again by
// whoever holds the webhook next), releases the leases and returns.
// Failures talking to NATS or to receivers are retried, not returned.
func (d *Dispatcher) Run(ctx context.Context) error {
	leases, err := d.b.Leases(ctx, d.o.Holder)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	var wg sync.WaitGroup
	for _, r := range d.hooks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.run(ctx, leases)
		}()
	}
	wg.Wait()
	return nil
}

// Stats are one webhook's counters in this process (for metrics: label
// by Webhook only; never by URL or claim).
type Stats struct {
	Webhook string
	// Holding reports whether this replica holds the webhook's lease.
	Holding bool
	// Delivered counts events accepted by the receiver (2xx),
	// FailedAttempts failed attempts, DeadLettered events given up on,
	// all since the process started; Held is the events fetched and not
	// yet acknowledged now.
	Delivered, FailedAttempts, DeadLettered, Held int64
}

// Stats returns every webhook's counters, in configuration order.
func (d *Dispatcher) Stats() []Stats {
	out := make([]Stats, 0, len(d.hooks))
	for _, r := range d.hooks {
		out = append(out, Stats{Webhook: r.h.Name, Holding: r.holding.Load(), Delivered: r.delivered.Load(),
			FailedAttempts: r.failed.Load(), DeadLettered: r.dead.Load(), Held: r.inFlight.Load()})
	}
	return out
}

// DeadLetters lists the events given up on for a webhook (in no
// particular order).
func (d *Dispatcher) DeadLetters(ctx context.Context, webhook string) ([]DeadLetter, error) {
	return ReadDeadLetters(ctx, d.dead, webhook)
}
