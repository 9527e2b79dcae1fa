// Package gateway is claimgate's runtime (`claimgate serve`): durable
// JetStream pull consumers that ingest charge batches into 837P files,
// upload the files to payers over SFTP, poll payers for responses and
// reconcile them into claim state. Every handler is idempotent and
// acknowledges its message only once its effects are durable, so any
// number of replicas can share one NATS and a crash at any point is
// recovered from JetStream (plus this replica's data directory).
// docs/gateway.md describes the flow.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/config"
	"github.com/claimgate/claimgate/pkg/ledger"
	"github.com/claimgate/claimgate/pkg/metrics"
	"github.com/claimgate/claimgate/pkg/pipeline"
	"github.com/claimgate/claimgate/pkg/reconcile"
	"github.com/claimgate/claimgate/pkg/sftpconn"
)

// Durable consumer names; every replica binds to the same ones, so they
// share the work.
const (
	ConsumerIngest    = "claimgate-ingest"
	ConsumerUpload    = "claimgate-upload"
	ConsumerReconcile = "claimgate-reconcile"
	// BucketUnmatched keeps response outcomes that matched no claim
	// (and files that could not be reconciled), with the reason.
	BucketUnmatched = "claimgate_unmatched"
	// BucketBatches holds the digests of batches submitted (Submit).
	BucketBatches = "claimgate_batches"
)

// Config configures a Gateway.
type Config struct {
	// DataDir holds this replica's local state: the inbox folder, the
	// pipeline's worker id and temporary files (outbox), the SFTP
	// download inbox.
	DataDir string
	// Bus is the connection to NATS (Setup already called or not: New
	// calls it).
	Bus *bus.Bus
	// Claims is the configuration (submitter, payers, scrub policy). Nil:
	// every payer gets a test receiver of its own id (as convert without
	// --config).
	Claims *config.Config
	// Payers are the SFTP peers by payer id. A payer without one keeps
	// its files queued on the files-out stream.
	Payers []sftpconn.Payer
	// Ledger is the SFTP file ledger; nil uses the JetStream one
	// (bus.Ledger), shared by every replica.
	// Replicas sharing a NATS must share a ledger (the JetStream one).
	Ledger ledger.Ledger
	// Holder names this replica (leases, consumer client names);
	// default host name and pid.
	Holder string
	Log    *slog.Logger
	// InboxInterval is how often DATA/inbox is looked at (default 2s).
	InboxInterval time.Duration
	// UploadWorkers and ReconcileWorkers are the messages handled at once
	// (default 4 each).
	UploadWorkers    int
	ReconcileWorkers int
	// AckWait is the consumers' ack wait (default 60s); handlers call
	// InProgress well within it.
	AckWait time.Duration
	// MaxClaimsPerFile overrides the configuration's interchange size.
	MaxClaimsPerFile int
	// FlushInterval lets a batch's claims wait, up to this long after the
	// first batch held, for the next batches' claims to share their 837P
	// files (files are still cut at MaxClaimsPerFile). The batches held
	// are acknowledged only once their claims are written. 0: every batch
	// is written when it ends.
	FlushInterval time.Duration
	// Metrics, when set, is fed by every stage (docs/metrics.md); this
	// replica also computes the AR gauges while it holds the lease
	// "metrics" (every MetricsInterval, default 5 minutes, and at least
	// 20 times the last scan's duration).
	Metrics         *metrics.Metrics
	MetricsInterval time.Duration
	// SweepInterval is how often the replica holding the lease "sweep"
	// publishes the claim events other writers left in their outbox when
	// they died (default DefaultSweepInterval); a redelivered message
	// makes its replica sweep at once.
	SweepInterval time.Duration
}

// Gateway is a running runtime. New prepares it; Run runs it.
type Gateway struct {
	cfg       Config
	log       *slog.Logger
	b         *bus.Bus
	store     *bus.ClaimStore
	index     *bus.ClaimIndex
	obj       jetstream.ObjectStore
	unmatched jetstream.KeyValue
	ledger    ledger.Ledger
	clients   map[string]*sftpconn.Client
	inbox     string
	outbox    string
	tmp       string        // local copies of objects being worked on
	sweepNow  chan struct{} // requestSweep
}

// New connects the runtime's stores, sets up the streams and consumers
// and sweeps claim events a crashed writer left pending.
func New(ctx context.Context, cfg Config) (*Gateway, error) {
	if cfg.Bus == nil || cfg.DataDir == "" {
		return nil, errors.New("gateway: Bus and DataDir are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Holder == "" {
		h, _ := os.Hostname()
		cfg.Holder = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	if cfg.InboxInterval <= 0 {
		cfg.InboxInterval = 2 * time.Second
	}
	if cfg.UploadWorkers <= 0 {
		cfg.UploadWorkers = 4
	}
	if cfg.ReconcileWorkers <= 0 {
		// 4, not 2: with 2 the responses of 100,000 claims settled
		// ~27 s after the last upload, with 4 ~1 s (docs/gateway.md).
		cfg.ReconcileWorkers = 4
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 60 * time.Second
	}
	g := &Gateway{cfg: cfg, log: cfg.Log, b: cfg.Bus, sweepNow: make(chan struct{}, 1),
		inbox:  filepath.Join(cfg.DataDir, "inbox"),
		outbox: filepath.Join(cfg.DataDir, "outbox"),
		tmp:    filepath.Join(cfg.DataDir, "tmp")}
	for _, d := range []string{g.tmp, g.inbox, filepath.Join(g.inbox, "done"), filepath.Join(g.inbox, "failed"), g.outbox, filepath.Join(cfg.DataDir, "state")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
	}
	b := cfg.Bus
	// A cluster that just lost or restarted a node answers slowly or not
	// at all for a while (the cluster test restarts a replica while a
	// serve restarts): every step of the start is idempotent, so each is
	// retried for a minute before the start is given up.
	if err := g.startStep(ctx, "streams", func() error { return b.Setup(ctx) }); err != nil {
		return nil, err
	}
	if err := g.startStep(ctx, "claim store", func() (err error) { g.store, err = b.ClaimStore(ctx); return err }); err != nil {
		return nil, err
	}
	g.watchMetrics()
	if err := g.startStep(ctx, "claim index", func() (err error) { g.index, err = b.ClaimIndex(ctx); return err }); err != nil {
		return nil, err
	}
	if err := g.startStep(ctx, "object store", func() (err error) {
		if g.obj, err = b.JS.ObjectStore(ctx, bus.ObjectEDI); err != nil {
			return fmt.Errorf("gateway: object store: %w", err)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := g.startStep(ctx, "buckets", func() error {
		// The unmatched bucket takes the replica count Setup gave the streams.
		st, err := b.JS.Stream(ctx, bus.StreamEvents)
		if err != nil {
			return fmt.Errorf("gateway: %w", err)
		}
		if g.unmatched, err = b.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: BucketUnmatched, History: 1, Storage: jetstream.FileStorage, Replicas: st.CachedInfo().Config.Replicas,
		}); err != nil {
			return fmt.Errorf("gateway: bucket %s: %w", BucketUnmatched, err)
		}
		if _, err = b.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: BucketBatches, History: 1, Storage: jetstream.FileStorage, Replicas: st.CachedInfo().Config.Replicas,
		}); err != nil {
			return fmt.Errorf("gateway: bucket %s: %w", BucketBatches, err)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := g.startStep(ctx, "consumers", func() error { return g.consumers(ctx) }); err != nil {
		return nil, err
	}
	// Moves stored but not yet published on claims.events by a writer
	// that crashed are published now.
	var n int
	if err := g.startStep(ctx, "sweeping claim events", func() (err error) { n, err = g.store.Sweep(ctx); return err }); err != nil {
		return nil, fmt.Errorf("gateway: sweeping claim events: %w", err)
	} else if n > 0 {
		g.log.Info("claim events published after a restart", "claims", n)
	}
	g.ledger = cfg.Ledger
	if g.ledger == nil {
		// The ledger lives in JetStream, shared by every replica: an
		// upload retried on another replica is recognised as sent.
		l, err := cfg.Bus.Ledger(ctx)
		if err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
		g.ledger = l
	}
	g.clients = map[string]*sftpconn.Client{}
	for _, p := range cfg.Payers {
		c, err := sftpconn.New(p, g.ledger, g.log.With("payer", p.ID))
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("gateway: payer %s: %w", p.ID, err)
		}
		c.Inbox = filepath.Join(cfg.DataDir, "sftp-inbox", bus.Token(p.ID))
		c.Hook = func(stage string) { crash("sftp-" + stage) }
		c.Observe = cfg.Metrics.SFTPObserver(p.ID)
		g.clients[p.ID] = c
	}
	return g, nil
}

// shutdownGrace is how long work in flight at shutdown (a message's
// handler, the claims an ingester holds) may go on after the gateway is
// told to stop. Past it, its JetStream and SFTP calls fail: what it did
// not finish is redelivered (handlers are idempotent), and a stop never
// hangs on a request a sick cluster does not answer.
var shutdownGrace = 20 * time.Second

// graceful returns a context that ends shutdownGrace after ctx does.
func graceful(ctx context.Context) (context.Context, context.CancelFunc) {
	g, cancel := context.WithCancel(context.WithoutCancel(ctx))
	// cancel may run again when the timer fires after the work is done:
	// that is harmless.
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(shutdownGrace, cancel) })
	return g, func() { stop(); cancel() }
}

// startRetry is how long a step of the start is retried.
var startRetry = time.Minute

// startFinal wraps a start error that no retry can cure.
type startFinal struct{ error }

// startStep runs one idempotent step of the start, retrying it every 2
// seconds for startRetry while it fails (and ctx lasts), unless it fails
// with a startFinal.
func (g *Gateway) startStep(ctx context.Context, what string, step func() error) error {
	for try := time.Now(); ; {
		err := step()
		if final, ok := err.(startFinal); ok {
			return final.error
		}
		if err == nil || ctx.Err() != nil || time.Since(try) > startRetry {
			return err
		}
		g.log.Warn("gateway start: "+what+" failed; will retry", "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(2 * time.Second):
		}
	}
}

// consumers creates the durable consumers up front (work-queue streams
// take only consumers with non-overlapping filters).
func (g *Gateway) consumers(ctx context.Context) error {
	for _, c := range []struct{ stream, name string }{
		{bus.StreamBatches, ConsumerIngest},
		{bus.StreamFilesOut, ConsumerUpload},
		{bus.StreamFilesIn, ConsumerReconcile},
	} {
		_, err := g.b.JS.CreateOrUpdateConsumer(ctx, c.stream, jetstream.ConsumerConfig{
			Durable:       c.name,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       g.cfg.AckWait,
			MaxAckPending: 256,
			MaxDeliver:    -1,
		})
		if err != nil {
			return fmt.Errorf("gateway: consumer %s: %w", c.name, err)
		}
	}
	return nil
}

// Close closes the SFTP connections. The Bus is the caller's.
func (g *Gateway) Close() error {
	for _, c := range g.clients {
		c.Close()
	}
	return nil
}

// Run runs every worker until ctx ends, then lets the handlers in
// flight finish (their messages are acknowledged or left for
// redelivery) and returns.
func (g *Gateway) Run(ctx context.Context) error {
	// The ingester's buckets and journal replay are JetStream calls like
	// the start's, retried the same way: a serve started during a node
	// failover exited 1 on "claimgate_journal: context deadline exceeded"
	// in the cluster test. A data directory held by another process is
	// not retried.
	var ing *ingester
	if err := g.startStep(ctx, "ingester", func() (err error) {
		ing, err = newIngester(ctx, g)
		if errors.Is(err, pipeline.ErrStateBusy) {
			return startFinal{err}
		}
		return err
	}); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	run := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && ctx.Err() == nil {
				g.log.Error("worker stopped", "worker", name, "err", err)
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	run("ingest", ing.run)
	run("inbox", ing.watchInbox)
	run("upload", g.runUpload)
	run("reconcile", g.runReconcile)
	if g.cfg.Metrics != nil {
		run("metrics", g.runMetrics)
	}
	run("sweep", g.runSweep)
	for _, c := range g.clients {
		run("poll "+c.Payer().ID, func(ctx context.Context) error { return g.poll(ctx, c) })
	}
	g.log.Info("gateway running", "payers", len(g.clients), "holder", g.cfg.Holder)
	wg.Wait()
	ing.close()
	close(errc)
	var errs []error
	for e := range errc {
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

// short is the digest prefix logs carry instead of file names (which can
// hold claim ids).
func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12]
	}
	return digest
}

// applyAll routes claim transitions through reconcile.ApplyAll. A
// batching store (reconcile.BatchStore) takes them all at once: it cuts
// them into chunks of whole claims and writes several chunks at once,
// each in a few durable writes. A store applying one claim at a time
// gets them in chunks, the claims of a chunk spread over applyWorkers
// goroutines (each claim's items in order, by one goroutine), so their
// round trips overlap.
func (g *Gateway) applyAll(ctx context.Context, items []reconcile.Item) error {
	if _, batching := any(g.store).(reconcile.BatchStore); batching {
		_, err := reconcile.ApplyAll(ctx, g.store, items)
		return err
	}
	const chunk = 1000
	for len(items) > 0 {
		n := min(chunk, len(items))
		if err := applySpread(ctx, g.store, items[:n]); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

const applyWorkers = 16

func applySpread(ctx context.Context, st reconcile.Store, items []reconcile.Item) error {
	// Group by claim, keeping each claim's order.
	var order []string
	by := map[string][]reconcile.Item{}
	for _, it := range items {
		if _, ok := by[it.ClaimID]; !ok {
			order = append(order, it.ClaimID)
		}
		by[it.ClaimID] = append(by[it.ClaimID], it)
	}
	work := make(chan []reconcile.Item)
	errc := make(chan error, applyWorkers)
	var wg sync.WaitGroup
	for range min(applyWorkers, len(order)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for its := range work {
				if _, err := reconcile.ApplyAll(ctx, st, its); err != nil {
					errc <- err
					for range work {
					}
					return
				}
			}
		}()
	}
	for _, id := range order {
		work <- by[id]
	}
	close(work)
	wg.Wait()
	close(errc)
	return <-errc // nil when no worker failed
}

// LeaseSweep is the lease of the replica sweeping outboxes on a
// schedule.
const LeaseSweep = "sweep"

// DefaultSweepInterval is the backstop sweep's period: redeliveries
// trigger a sweep at once (requestSweep), and listing the outbox keys
// reads the whole claims stream (its purge markers are spread over
// it), which cost a third of the load benchmark's time every minute.
const DefaultSweepInterval = 15 * time.Minute

// requestSweep asks for an outbox sweep on this replica soon: a message
// delivered again means a replica may have died in its handler, between
// storing claim moves and publishing their events.
func (g *Gateway) requestSweep() {
	select {
	case g.sweepNow <- struct{}{}:
	default:
	}
}

// sweep publishes the claim events writers that died left in their
// outbox (ClaimStore.SweepOutbox).
func (g *Gateway) sweep(ctx context.Context, why string) {
	start := time.Now()
	n, err := g.store.SweepOutbox(ctx)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		g.log.Warn("outbox sweep failed", "why", why, "err", err)
	case n > 0:
		g.log.Info("claim events published from a stopped writer's outbox", "why", why, "entries", n, "took", time.Since(start).Round(time.Millisecond))
	}
}

// runSweep sweeps outboxes: at once when a redelivery asks for it (at
// most every sweepGap), and every SweepInterval while this replica holds
// the lease "sweep" as a backstop. Before, a dead writer's events waited
// until some replica started again (a process killed and not restarted
// held a claim's final event back for good).
func (g *Gateway) runSweep(ctx context.Context) error {
	leases, err := g.b.Leases(ctx, g.cfg.Holder)
	if err != nil {
		return err
	}
	interval := g.cfg.SweepInterval
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	go func() {
		const sweepGap = 5 * time.Second
		for {
			select {
			case <-ctx.Done():
				return
			case <-g.sweepNow:
			}
			g.sweep(ctx, "redelivery")
			select {
			case <-ctx.Done():
				return
			case <-time.After(sweepGap):
			}
		}
	}()
	var lease *bus.Lease
	defer func() {
		if lease != nil {
			lease.Release(context.WithoutCancel(ctx))
		}
	}()
	next := time.Now().Add(interval) // a new store swept at its start
	for {
		if lease == nil {
			if l, err := leases.Acquire(ctx, LeaseSweep); err == nil {
				lease = l
			}
		} else if err := lease.Renew(ctx); err != nil {
			lease = nil
		}
		if lease != nil && !time.Now().Before(next) {
			g.sweep(ctx, "schedule")
			next = time.Now().Add(interval)
		}
		if !g.holdWhile(ctx, lease, min(interval, 5*time.Second)) {
			lease = nil
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}
