package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/reconcile"
	"github.com/claimgate/claimgate/pkg/sftpconn"
)

// maxUploadBytes bounds a file read from the object store into memory
// for upload (files are a few MiB: 2,500 claims).
const maxUploadBytes = 256 << 20

// consume runs handle for the messages of a durable consumer, workers at
// a time, until ctx ends; messages in flight are finished first. Each
// worker fetches one message when it is free, so no message waits
// unattended (its ack wait running) behind busy workers, to be
// redelivered to another replica meanwhile.
func (g *Gateway) consume(ctx context.Context, stream, durable string, workers int, handle func(context.Context, jetstream.Msg)) error {
	cons, err := g.b.JS.Consumer(ctx, stream, durable)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hctx, cancel := graceful(ctx)
			defer cancel()
			for ctx.Err() == nil {
				batch, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
				if err != nil {
					if ctx.Err() == nil {
						g.log.Warn("fetch", "consumer", durable, "err", err)
						time.Sleep(time.Second)
					}
					continue
				}
				for m := range batch.Messages() {
					// Finished even when shutdown has begun (acknowledged
					// or left for redelivery), within shutdownGrace.
					handle(hctx, m)
					if md, err := m.Metadata(); err == nil && md.NumDelivered > 1 {
						g.requestSweep()
					}
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

func (g *Gateway) runUpload(ctx context.Context) error {
	return g.consume(ctx, bus.StreamFilesOut, ConsumerUpload, g.cfg.UploadWorkers, g.upload)
}

// upload sends one 837P file to its payer: the claim index learns the
// file first (a response may come back before this handler ends), then
// sftpconn uploads it at most once (its ledger), the claims become
// submitted, and only then is the message acknowledged.
func (g *Gateway) upload(ctx context.Context, msg jetstream.Msg) {
	fm, ok := parseFileOut(msg.Data())
	if !ok {
		g.log.Error("files-out message not understood; dropped")
		msg.Term()
		return
	}
	c := g.clients[fm.Info.PayerID]
	if c == nil {
		// No SFTP peer for this payer here: leave it for a replica (or
		// a configuration) that has one.
		g.log.Warn("no SFTP settings for payer; file kept queued", "payer", fm.Info.PayerID, "file", short(fm.Digest))
		msg.NakWithDelay(time.Minute)
		return
	}
	stop := keepAlive(msg, g.cfg.AckWait/3)
	defer stop()
	start := time.Now()
	err := g.send(ctx, c, fm)
	g.cfg.Metrics.StageDone("upload", time.Since(start))
	switch {
	case err == nil:
		crash("submitted")
		if err := msg.DoubleAck(ctx); err != nil {
			g.log.Warn("files-out ack", "payer", fm.Info.PayerID, "file", short(fm.Digest), "err", err)
		}
	case sftpconn.Refused(err) || errors.Is(err, sftpconn.ErrExists):
		g.log.Error("upload refused; file kept queued", "payer", fm.Info.PayerID, "file", short(fm.Digest), "err", err)
		msg.NakWithDelay(5 * time.Minute)
	default:
		g.log.Warn("upload failed; will retry", "payer", fm.Info.PayerID, "file", short(fm.Digest), "err", err)
		msg.NakWithDelay(10 * time.Second)
	}
}

func (g *Gateway) send(ctx context.Context, c *sftpconn.Client, fm FileOutMsg) error {
	if err := g.index.Record(ctx, &fm.Info); err != nil {
		return fmt.Errorf("claim index: %w", err)
	}
	res, err := g.obj.Get(ctx, fm.Object)
	if err != nil {
		return fmt.Errorf("object store: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(res, maxUploadBytes+1))
	res.Close()
	if err != nil {
		return fmt.Errorf("object store: %w", err)
	}
	if len(data) > maxUploadBytes {
		return fmt.Errorf("file larger than %d bytes", maxUploadBytes)
	}
	sent, err := c.Send(ctx, fm.Name, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	crash("uploaded")
	if !sent.Already {
		g.cfg.Metrics.FileSent(fm.Info.PayerID)
	}
	now := time.Now().UTC()
	src := reconcile.Source{File: fm.Name, Digest: fm.Digest}
	items := make([]reconcile.Item, 0, fm.Info.Claims)
	charges := chargesOf(&fm.Info)
	for i, ref := range reconcile.RefsOf(&fm.Info) {
		r := ref
		items = append(items, reconcile.Item{ClaimID: r.ClaimID, Event: reconcile.Event{
			ID: eventID("submitted", fm.Digest, r.ClaimID), ClaimID: r.ClaimID, PayerID: r.PayerID,
			Kind: KindSubmission, State: claim.Submitted, Time: now, Source: src, Submission: &r,
			Amounts: billed(charges, i)}})
	}
	if err := g.applyAll(ctx, items); err != nil {
		return fmt.Errorf("claim store: %w", err)
	}
	g.log.Info("837P uploaded", "payer", fm.Info.PayerID, "file", short(fm.Digest), "claims", fm.Info.Claims, "already", sent.Already)
	return nil
}

// unmatchedKey names an unmatched outcome in BucketUnmatched.
func unmatchedKey(u reconcile.Unmatched) string {
	return strings.Join([]string{bus.Token(short(u.Digest)), fmt.Sprint(u.Position)}, ".")
}
