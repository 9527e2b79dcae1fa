package gateway

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/metrics"
	"github.com/claimgate/claimgate/pkg/reconcile"
	"github.com/claimgate/claimgate/pkg/webhook"
)

// LeaseMetrics is the lease whose holder computes the AR gauges: one
// replica at a time scans the claim store.
const LeaseMetrics = "metrics"

// watchMetrics connects the metrics to the claim store (every applied
// event), the configured payers and JetStream's consumers and streams.
func (g *Gateway) watchMetrics() {
	m := g.cfg.Metrics
	if m == nil {
		return
	}
	g.store.OnApplied = m.ClaimApplied
	if g.cfg.Claims != nil {
		for _, p := range g.cfg.Claims.Payers {
			m.KnownPayers(p.ID)
		}
	}
	for _, p := range g.cfg.Payers {
		m.KnownPayers(p.ID)
	}
	m.WatchJetStream(g.b.NC, g.b.JS,
		metrics.ConsumerRef{Stream: bus.StreamBatches, Durable: ConsumerIngest},
		metrics.ConsumerRef{Stream: bus.StreamFilesOut, Durable: ConsumerUpload},
		metrics.ConsumerRef{Stream: bus.StreamFilesIn, Durable: ConsumerReconcile})
}

// WatchWebhookMetrics exports the dispatcher's per-webhook counters on m
// and adds the webhooks' durable consumers to its lag gauges
// (docs/metrics.md).
func WatchWebhookMetrics(m *metrics.Metrics, d *webhook.Dispatcher, hooks []webhook.Hook) {
	if m == nil || d == nil {
		return
	}
	refs := make([]metrics.ConsumerRef, 0, len(hooks))
	for _, h := range hooks {
		refs = append(refs, metrics.ConsumerRef{Stream: bus.StreamEvents, Durable: webhook.ConsumerPrefix + h.Name})
	}
	m.WatchWebhooks(func() []metrics.WebhookStats {
		var out []metrics.WebhookStats
		for _, s := range d.Stats() {
			out = append(out, metrics.WebhookStats{Webhook: s.Webhook, Holding: s.Holding, Delivered: s.Delivered,
				FailedAttempts: s.FailedAttempts, DeadLettered: s.DeadLettered, Held: s.Held})
		}
		return out
	}, refs...)
}

// batchResult is the claimgate_batches_total result of an ingest
// attempt.
func batchResult(err error) string {
	if err != nil {
		return "failed"
	}
	return "ingested"
}

// chargesOf lists a file's claim charges in reconcile.RefsOf's order
// (nil when the FileInfo has none).
func chargesOf(fi *assemble.FileInfo) []claim.Money {
	var out []claim.Money
	for _, s := range fi.Sets {
		if len(s.Charges) != len(s.ClaimIDs) {
			return nil
		}
		out = append(out, s.Charges...)
	}
	return out
}

// billed is the amounts of a submitted event: the claim's charge, which
// the claim record keeps until an 835 says more (AR reads it).
func billed(charges []claim.Money, i int) *reconcile.Amounts {
	if i >= len(charges) {
		return nil
	}
	return &reconcile.Amounts{Billed: charges[i]}
}

// fileReceived counts a reconciled response file, unless it was all
// duplicates (a redelivery of a file counted before).
func (g *Gateway) fileReceived(payer string, rep *reconcile.Report) {
	if rep == nil || (rep.Duplicates > 0 && rep.Moved == 0 && rep.Recorded == 0) {
		return
	}
	g.cfg.Metrics.FileReceived(payer, string(rep.Summary.Kind), rep.UnmatchedCount)
}

// arPace bounds the AR scan's share of the time: the next scan starts
// no sooner than arPace times the last one's duration after it began.
const arPace = 20

// runMetrics computes the AR gauges every MetricsInterval while this
// replica holds the lease "metrics"; a replica without it exports none.
func (g *Gateway) runMetrics(ctx context.Context) error {
	m := g.cfg.Metrics
	leases, err := g.b.Leases(ctx, g.cfg.Holder)
	if err != nil {
		return err
	}
	interval := g.cfg.MetricsInterval
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	// Renewed well within the lease TTL (30 s by default; serve
	// --lease-ttl): a 5 s tick lost a 2 s lease at every renewal, and
	// every lease taken again began another full scan.
	tick := min(interval, 5*time.Second)
	if ttl := g.b.LeaseTTL(); ttl > 0 {
		tick = min(tick, ttl/3)
	}
	var lease *bus.Lease
	defer func() {
		m.ClearAR()
		if lease != nil {
			lease.Release(context.WithoutCancel(ctx))
		}
	}()
	var next time.Time
	for {
		if lease == nil {
			if l, err := leases.Acquire(ctx, LeaseMetrics); err == nil {
				lease, next = l, time.Time{}
				g.log.Info("metrics lease taken")
			}
		} else if err := lease.Renew(ctx); err != nil {
			g.log.Warn("metrics lease lost", "err", err)
			lease = nil
			m.ClearAR()
		}
		if lease != nil && !time.Now().Before(next) {
			start := time.Now()
			snap, lost, err := g.scanAR(ctx, lease, tick)
			switch {
			case ctx.Err() != nil:
				return nil
			case lost:
				g.log.Warn("metrics lease lost during the AR scan")
				lease = nil
				m.ClearAR()
			case err != nil:
				g.log.Warn("AR scan failed", "err", err)
			default:
				m.SetAR(snap)
				g.log.Debug("AR scanned", "claims", snap.Claims, "took", time.Since(start).Round(time.Millisecond))
			}
			// The scan reads every claim: paced so it takes at most
			// 1/arPace of the time (at 100,000 claims a scan takes
			// seconds, and every 30 s it slowed the load benchmark by a
			// third).
			next = start.Add(max(interval, arPace*time.Since(start)))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(tick):
		}
	}
}

// scanAR scans the claim store, renewing the lease every tick meanwhile
// (a scan of many claims can outlast the lease TTL); lost reports that
// the lease was lost, which stops the scan.
func (g *Gateway) scanAR(ctx context.Context, lease *bus.Lease, tick time.Duration) (snap *metrics.ARSnapshot, lost bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var lostFlag atomic.Bool
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
				if err := lease.Renew(sctx); errors.Is(err, bus.ErrLeaseHeld) {
					lostFlag.Store(true)
					cancel()
					return
				}
			}
		}
	}()
	snap, err = metrics.ScanAR(sctx, g.store, time.Now())
	cancel()
	wg.Wait() // the lease is the caller's again
	return snap, lostFlag.Load(), err
}
