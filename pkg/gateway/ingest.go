package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/config"
	"github.com/claimgate/claimgate/pkg/pipeline"
	"github.com/claimgate/claimgate/pkg/reconcile"
)

// Event kinds of the runtime's own claim events (responses have theirs:
// 999, 277ca, 835...).
const (
	KindIngest     reconcile.Kind = "ingest"
	KindSubmission reconcile.Kind = "submission"
)

// eventID is a deterministic event id: the same step redone after a
// crash gives the same id, which the claim store takes as a duplicate.
func eventID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// maxReasons bounds the reasons kept on one scrub_rejected event.
const maxReasons = 16

// ingester runs batches through one pipeline (one batch at a time per
// replica; replicas share the batch stream).
type ingester struct {
	g     *Gateway
	p     *pipeline.Pipeline
	state *pipeline.State
	jr    *pipeline.FileJournal

	// per batch
	batch    BatchMsg
	runErr   error
	cancel   context.CancelFunc
	handed   []string // outbox files handed on, removed once the run settled
	rejClaim string
	rejItem  *reconcile.Item
	rejected []reconcile.Item
	nRej     int
}

func newIngester(ctx context.Context, g *Gateway) (*ingester, error) {
	st, err := pipeline.LockState(filepath.Join(g.cfg.DataDir, "state"), false)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	in := &ingester{g: g, state: st}
	ok := false
	defer func() {
		if !ok {
			in.close()
		}
	}()
	cfg := g.cfg.Claims
	quick := cfg == nil
	if quick {
		cfg = &config.Config{
			Submitter: config.Submitter{Name: "CLAIMGATE", ID: "CLAIMGATE", ContactName: "CLAIMGATE", Email: "edi@claimgate.invalid"},
			Usage:     "T",
		}
	}
	scfg, err := cfg.Scrub()
	if err != nil {
		return nil, err
	}
	numbers, err := g.b.ControlNumbers(ctx)
	if err != nil {
		return nil, err
	}
	seen, err := g.b.Seen(ctx)
	if err != nil {
		return nil, err
	}
	if in.jr, err = pipeline.OpenFileJournal(st.Path(pipeline.JournalFile)); err != nil {
		return nil, err
	}
	perFile := cfg.MaxClaimsPerInterchange
	if g.cfg.MaxClaimsPerFile > 0 {
		perFile = g.cfg.MaxClaimsPerFile
	}
	in.p, err = pipeline.New(ctx, pipeline.Config{
		Scrub:            scfg,
		Assemble:         cfg.Assemble(),
		AutoPayers:       quick,
		BatchSubmitter:   quick,
		MaxClaimsPerFile: perFile,
		Numbers:          numbers,
		Seen:             seen,
		Output:           &pipeline.DirOutput{Dir: g.outbox},
		Journal:          in.jr,
		Events: pipeline.Events{
			Rejected: in.rejectedClaim,
			File:     in.file,
			Failed: func(f pipeline.Failure) {
				// f.Err can name claims: the count and payer only.
				g.log.Error("837P file not written", "payer", f.PayerID, "claims", f.Claims)
			},
		},
	})
	if err != nil {
		return nil, err
	}
	// Files published before a crash (the journal recovery above made
	// their claims' keys durable) are handed on now.
	if err := in.sweepOutbox(ctx); err != nil {
		return nil, err
	}
	ok = true
	return in, nil
}

func (in *ingester) close() {
	if in.jr != nil {
		in.jr.Close()
	}
	in.state.Unlock()
}

// run takes batches from the batch stream, one at a time.
func (in *ingester) run(ctx context.Context) error {
	cons, err := in.g.b.JS.Consumer(ctx, bus.StreamBatches, ConsumerIngest)
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			in.g.log.Warn("ingest fetch", "err", err)
			time.Sleep(time.Second)
			continue
		}
		for msg := range batch.Messages() {
			in.handle(ctx, msg)
		}
	}
	return nil
}

// keepAlive calls InProgress every third of the ack wait until stop.
func keepAlive(msg jetstream.Msg, every time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				msg.InProgress()
			}
		}
	}()
	return func() { close(done) }
}

func (in *ingester) handle(ctx context.Context, msg jetstream.Msg) {
	g := in.g
	stop := keepAlive(msg, g.cfg.AckWait/3)
	defer stop()
	var bm BatchMsg
	if err := json.Unmarshal(msg.Data(), &bm); err != nil || bm.Digest == "" {
		g.log.Error("batch message not understood; dropped", "err", err)
		msg.Term()
		return
	}
	start := time.Now()
	sum, err := in.runBatch(ctx, bm)
	switch {
	case err != nil && errors.Is(err, pipeline.ErrNotABatch):
		g.log.Error("not a claims batch; dropped", "batch", short(bm.Digest))
		msg.Term()
	case err != nil:
		g.log.Error("batch failed; will be retried", "batch", short(bm.Digest), "err", err)
		// A failed run may have left a journal record and files in the
		// outbox: they are recovered (in.recover, as a restart would)
		// before the batch is given back, while the message is kept in
		// progress. Given back first, the batch could run on another
		// replica before this one records its published files' claims
		// as sent, and those claims would be written twice.
		for ctx.Err() == nil {
			rerr := in.recover(ctx)
			if rerr == nil {
				break
			}
			g.log.Warn("ingest recovery after a failed batch; will retry", "batch", short(bm.Digest), "err", rerr)
			time.Sleep(time.Second)
		}
		// Stopped before that: the next start recovers (newIngester).
		if ctx.Err() == nil {
			msg.NakWithDelay(5 * time.Second)
		}
	default:
		crash("ingest-before-ack")
		if err := msg.DoubleAck(ctx); err != nil {
			g.log.Warn("batch ack", "batch", short(bm.Digest), "err", err)
		}
		if len(sum.BatchErrors) > 0 || sum.Unread > 0 {
			g.log.Warn("batch has errors; claims after them were not read", "batch", short(bm.Digest), "errors", len(sum.BatchErrors), "unread", sum.Unread)
		}
		g.log.Info("batch ingested", "batch", short(bm.Digest), "read", sum.Read, "written", sum.Written,
			"rejected", sum.Rejected, "not_written", sum.NotWritten, "files", sum.Files, "took", time.Since(start).Round(time.Millisecond))
	}
}

// runBatch runs one batch: claims' events and files are durable when it
// returns nil.
func (in *ingester) runBatch(ctx context.Context, bm BatchMsg) (pipeline.Summary, error) {
	g := in.g
	res, err := fetchObject(ctx, g.obj, bm.Digest, g.tmp)
	if err != nil {
		return pipeline.Summary{}, err
	}
	defer res.Close()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in.batch, in.runErr, in.cancel = bm, nil, cancel
	in.handed = in.handed[:0]
	in.rejClaim, in.rejItem, in.rejected, in.nRej = "", nil, in.rejected[:0], 0
	sum, err := in.p.Run(rctx, res, "batch "+short(bm.Digest))
	if in.runErr != nil {
		return sum, in.runErr
	}
	if err != nil {
		return sum, err
	}
	in.endRejected()
	if err := in.flushRejected(ctx); err != nil {
		return sum, err
	}
	if sum.NotWritten > 0 {
		// Files that could not be written (the journal, control numbers
		// or outbox failing, e.g. while a NATS node is lost): the batch
		// is run again, which writes these claims and refuses the
		// written ones as duplicates. Acknowledged, they would be lost.
		return sum, fmt.Errorf("%d claims not written", sum.NotWritten)
	}
	for _, p := range in.handed {
		os.Remove(p) // in the object store and on files-out now
	}
	return sum, nil
}

func (in *ingester) fail(err error) {
	if in.runErr == nil {
		in.runErr = err
		in.cancel()
	}
}

// rejectedClaim gathers a rejected claim's reasons (they arrive one after
// another) into one scrub_rejected event.
func (in *ingester) rejectedClaim(pr pipeline.Problem) {
	if pr.ClaimID == "" {
		return // a finding outside any claim: in the summary
	}
	if pr.ClaimID != in.rejClaim {
		in.endRejected()
		in.rejClaim = pr.ClaimID
		now := time.Now().UTC()
		src := reconcile.Source{File: "batch", Digest: in.batch.Digest}
		in.rejected = append(in.rejected, reconcile.Item{ClaimID: pr.ClaimID, Event: reconcile.Event{
			ID: eventID("received", in.batch.Digest, pr.ClaimID), ClaimID: pr.ClaimID,
			Kind: KindIngest, State: claim.Received, Time: now, Source: src}})
		in.rejected = append(in.rejected, reconcile.Item{ClaimID: pr.ClaimID, Event: reconcile.Event{
			ID: eventID("scrub_rejected", in.batch.Digest, pr.ClaimID), ClaimID: pr.ClaimID,
			Kind: KindIngest, State: claim.ScrubRejected, Time: now, Source: src}})
		in.rejItem = &in.rejected[len(in.rejected)-1]
	}
	if len(in.rejItem.Event.Reasons) < maxReasons {
		in.rejItem.Event.Reasons = append(in.rejItem.Event.Reasons, reconcile.Reason{Source: "scrub", Code: pr.Rule, Text: pr.Message})
	}
}

func (in *ingester) endRejected() {
	if in.rejItem == nil {
		return
	}
	in.rejItem, in.rejClaim = nil, ""
	in.nRej++
	if len(in.rejected) >= 1000 {
		if err := in.flushRejected(context.Background()); err != nil {
			in.fail(err)
		}
	}
}

func (in *ingester) flushRejected(ctx context.Context) error {
	if len(in.rejected) == 0 {
		return nil
	}
	if err := in.g.applyAll(ctx, in.rejected); err != nil {
		return fmt.Errorf("claim store: %w", err)
	}
	in.rejected = in.rejected[:0]
	return nil
}

// file hands a published 837P file on (called by the pipeline before it
// records the claims' keys as sent, so a crash here is recovered by the
// journal and the outbox sweep).
func (in *ingester) file(f pipeline.File) {
	if in.runErr != nil {
		return
	}
	if err := in.g.handOff(context.Background(), f.Path, &f.Info); err != nil {
		in.fail(err)
		return
	}
	in.handed = append(in.handed, f.Path)
}

// handOff makes an 837P file in the outbox submission's business: its
// claims become received and queued, the file goes into the object store
// and onto claimgate.files.out.<payer>. Every step is idempotent.
func (g *Gateway) handOff(ctx context.Context, path string, fi *assemble.FileInfo) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	digest, size, err := hashFile(f)
	if err != nil {
		return err
	}
	name := filepath.Base(path)
	now := time.Now().UTC()
	src := reconcile.Source{File: name, Digest: digest}
	items := make([]reconcile.Item, 0, 2*fi.Claims)
	for _, ref := range reconcile.RefsOf(fi) {
		r := ref
		items = append(items,
			reconcile.Item{ClaimID: r.ClaimID, Event: reconcile.Event{ID: eventID("received", digest, r.ClaimID),
				ClaimID: r.ClaimID, PayerID: r.PayerID, Kind: KindIngest, State: claim.Received, Time: now, Source: src}},
			reconcile.Item{ClaimID: r.ClaimID, Event: reconcile.Event{ID: eventID("queued", digest, r.ClaimID),
				ClaimID: r.ClaimID, PayerID: r.PayerID, Kind: KindIngest, State: claim.Queued, Time: now, Source: src, Submission: &r}})
	}
	if err := g.applyAll(ctx, items); err != nil {
		return fmt.Errorf("claim store: %w", err)
	}
	crash("queued")
	if err := putObject(ctx, g.obj, digest, f); err != nil {
		return err
	}
	dup, err := publishOnce(ctx, g.b.JS, bus.FilesOutSubject(fi.PayerID), "file/"+digest,
		FileOutMsg{Digest: digest, Name: name, Size: size, Info: *fi})
	if err != nil {
		return err
	}
	g.log.Info("837P queued for upload", "payer", fi.PayerID, "file", short(digest), "claims", fi.Claims, "again", dup)
	crash("handed-off")
	return nil
}

// recover settles what a failed batch left, as a restart does: the
// journal's published files get their claims' keys recorded and the
// outbox is swept. Without it the redelivered batch rejects those claims
// as duplicates while their file waits in the outbox for the next start
// (a NATS node lost mid-batch showed it).
func (in *ingester) recover(ctx context.Context) error {
	if err := in.p.Recover(ctx); err != nil {
		return err
	}
	return in.sweepOutbox(ctx)
}

// sweepOutbox hands on every published file left in the outbox (a crash
// between publishing and handing on, or before the removal), then
// removes it.
func (in *ingester) sweepOutbox(ctx context.Context) error {
	ents, err := os.ReadDir(in.g.outbox)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(in.g.outbox, e.Name())
		fi, err := fileInfoOf(path)
		if err != nil {
			return fmt.Errorf("gateway: outbox file: %w", err)
		}
		if err := in.g.handOff(ctx, path, fi); err != nil {
			return err
		}
		os.Remove(path)
	}
	return nil
}
