package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/reconcile"
	"github.com/claimgate/claimgate/pkg/sftpconn"
)

// poll collects one payer's responses while this replica holds the
// payer's lease (bus.Leases: renewed every round; a dead replica's lease
// lapses and another takes over).
func (g *Gateway) poll(ctx context.Context, c *sftpconn.Client) error {
	id := c.Payer().ID
	leases, err := g.b.Leases(ctx, g.cfg.Holder)
	if err != nil {
		return err
	}
	interval := c.Payer().PollInterval
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	var lease *bus.Lease
	defer func() {
		if lease != nil {
			lease.Release(context.WithoutCancel(ctx))
		}
	}()
	fails := 0
	for {
		if lease == nil {
			l, err := leases.Acquire(ctx, "poll/"+id)
			if err == nil {
				lease = l
				g.log.Info("poll lease taken", "payer", id)
			}
		} else if err := lease.Renew(ctx); err != nil {
			g.log.Warn("poll lease lost", "payer", id, "err", err)
			lease = nil
		}
		if lease != nil {
			start := time.Now()
			_, err := c.Fetch(ctx, g.deliver)
			g.cfg.Metrics.StageDone("poll", time.Since(start))
			switch {
			case ctx.Err() != nil:
				return nil
			case err != nil && sftpconn.Refused(err):
				return err
			case err != nil:
				fails++
				g.log.Warn("poll failed", "payer", id, "err", err)
			default:
				fails = 0
			}
		}
		wait := interval
		if fails > 0 {
			wait = min(interval, time.Duration(fails)*time.Second)
		}
		if !g.holdWhile(ctx, lease, wait) {
			g.log.Warn("poll lease lost", "payer", id)
			lease = nil
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// holdWhile waits d, renewing lease (when held) every third of the
// lease TTL meanwhile: a poll interval of minutes would otherwise let a
// 30 s lease lapse between polls, and another replica take the payer
// over at every round. False when the lease was lost.
func (g *Gateway) holdWhile(ctx context.Context, lease *bus.Lease, d time.Duration) bool {
	every := d
	if ttl := g.b.LeaseTTL(); ttl > 0 && lease != nil {
		every = min(d, ttl/3)
	}
	end := time.Now().Add(d)
	for {
		left := time.Until(end)
		if left <= 0 {
			return true
		}
		select {
		case <-ctx.Done():
			return true
		case <-time.After(min(every, left)):
		}
		if lease != nil && time.Until(end) > 0 {
			// A transient error is tried again at the next third.
			if err := lease.Renew(ctx); errors.Is(err, bus.ErrLeaseHeld) {
				return false
			}
		}
	}
}

// deliver stores a downloaded response in the object store and
// publishes it on claimgate.files.in.<payer> (message id = digest);
// sftpconn removes it remotely once this returns nil.
func (g *Gateway) deliver(ctx context.Context, d sftpconn.Delivery) error {
	f, err := os.Open(d.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := putObject(ctx, g.obj, d.Digest, f); err != nil {
		return err
	}
	_, err = publishOnce(ctx, g.b.JS, bus.FilesInSubject(d.Payer), "in/"+d.Payer+"/"+d.Digest,
		FileInMsg{Payer: d.Payer, Digest: d.Digest, Name: d.RemoteName, Size: d.Size})
	if err != nil {
		return err
	}
	g.log.Info("response collected", "payer", d.Payer, "file", short(d.Digest), "bytes", d.Size)
	return nil
}

func (g *Gateway) runReconcile(ctx context.Context) error {
	return g.consume(ctx, bus.StreamFilesIn, ConsumerReconcile, g.cfg.ReconcileWorkers, g.reconcileMsg)
}

// reconcileMsg applies one response file to claim state. Every event id
// derives from the file's digest, so a redelivered file changes nothing.
func (g *Gateway) reconcileMsg(ctx context.Context, msg jetstream.Msg) {
	var fm FileInMsg
	if err := json.Unmarshal(msg.Data(), &fm); err != nil || fm.Digest == "" {
		g.log.Error("files-in message not understood; dropped", "err", err)
		msg.Term()
		return
	}
	stop := keepAlive(msg, g.cfg.AckWait/3)
	defer stop()
	start := time.Now()
	rep, err := g.reconcile(ctx, fm)
	g.cfg.Metrics.StageDone("reconcile", time.Since(start))
	if err != nil {
		g.log.Warn("reconciling failed; will retry", "payer", fm.Payer, "file", short(fm.Digest), "err", err)
		delay := 5 * time.Second
		if errors.Is(err, errEarly) {
			delay = 500 * time.Millisecond
		}
		msg.NakWithDelay(delay)
		return
	}
	crash("reconciled")
	g.fileReceived(fm.Payer, rep)
	if err := msg.DoubleAck(ctx); err != nil {
		g.log.Warn("files-in ack", "payer", fm.Payer, "file", short(fm.Digest), "err", err)
	}
	g.log.Info("response reconciled", "payer", fm.Payer, "file", short(fm.Digest), "kind", rep.Summary.Kind,
		"moved", rep.Moved, "recorded", rep.Recorded, "duplicates", rep.Duplicates, "refused", rep.RefusedCount, "unmatched", rep.UnmatchedCount)
}

// errEarly: a response for claims the uploader has not marked submitted
// yet (the payer answered within the upload's last steps).
var errEarly = errors.New("claims not yet marked submitted")

func (g *Gateway) reconcile(ctx context.Context, fm FileInMsg) (*reconcile.Report, error) {
	res, err := fetchObject(ctx, g.obj, fm.Digest, g.tmp)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	var earlyMu sync.Mutex
	early := 0
	rc := reconcile.Reconciler{Index: g.index, Store: crashStore{g.store}, Workers: 4,
		OnUnmatched: func(ctx context.Context, u reconcile.Unmatched) error {
			data, err := json.Marshal(u)
			if err != nil {
				return err
			}
			_, err = g.unmatched.Put(ctx, unmatchedKey(u), data)
			return err
		},
		OnRefused: func(ctx context.Context, r reconcile.Refusal) error {
			if r.From == claim.Queued || r.From == claim.Received {
				// The payer answered before the uploader marked the
				// claim submitted: the file is reconciled again later.
				earlyMu.Lock()
				early++
				earlyMu.Unlock()
				return nil
			}
			g.log.Warn("response event refused", "payer", fm.Payer, "file", short(fm.Digest), "from", r.From, "to", r.To)
			return nil
		},
	}
	rep, err := rc.Reconcile(ctx, res, fm.Name, fm.Digest)
	if err == nil && early > 0 {
		err = fmt.Errorf("%w: %d claims", errEarly, early)
	}
	return rep, err
}

// crashStore marks each response event applied as a crash point
// ("reconcile-apply"), so tests can stop the process mid-file. It keeps
// the claim store's batch path: a response's events go in batches
// (reconcile.BatchStore), the crash point counted for each before its
// batch is applied.
type crashStore struct{ *bus.ClaimStore }

var _ reconcile.BatchStore = crashStore{}

func (s crashStore) Apply(ctx context.Context, claimID string, ev reconcile.Event) (reconcile.Result, error) {
	crash("reconcile-apply")
	return s.ClaimStore.Apply(ctx, claimID, ev)
}

func (s crashStore) ApplyBatch(ctx context.Context, items []reconcile.Item) ([]reconcile.Result, error) {
	for range items {
		crash("reconcile-apply")
	}
	return s.ClaimStore.ApplyBatch(ctx, items)
}
