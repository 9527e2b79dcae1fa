package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/config"
	"github.com/claimgate/claimgate/pkg/control"
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
// replica; replicas share the batch stream). Its files go into the
// object store (bus.Output) and its publishing journal into JetStream
// (bus.Journal), so what a replica that died mid-batch had published is
// settled by whichever replica runs the batch again.
type ingester struct {
	g     *Gateway
	p     *pipeline.Pipeline // nil after a failed run: New makes the next
	pcfg  pipeline.Config
	state *pipeline.State
	out   *bus.Output
	jr    *bus.Journal

	// Batches whose claims the pipeline holds (FlushInterval), kept
	// alive and acknowledged once the claims are written (flushHeld).
	held    []heldBatch
	flushAt time.Time

	// per batch
	ran      bool // the pipeline ran it (a failure before leaves it whole)
	batch    BatchMsg
	runErr   error
	cancel   context.CancelFunc
	rejClaim string
	rejItem  *reconcile.Item
	rejected []reconcile.Item
	nRej     int
	rep      *batchReport // for the HTTP API (batchreport.go)
}

// workerFile holds this data directory's worker id: the name of its
// publishing journal and temporary directory in JetStream terms, stable
// across restarts so that a restarted replica recovers its own records.
const workerFile = "worker-id"

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
	worker, err := workerID(st)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
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
	numbers.Observe = g.cfg.Metrics.ControlNumber
	seen, err := g.b.Seen(ctx)
	if err != nil {
		return nil, err
	}
	if in.out, err = g.b.Output(ctx, worker); err != nil {
		return nil, err
	}
	in.out.Dir = g.outbox
	in.out.BeforeAnnounce = g.beforeAnnounce
	if in.jr, err = g.b.Journal(ctx, worker); err != nil {
		return nil, err
	}
	perFile := cfg.MaxClaimsPerInterchange
	if g.cfg.MaxClaimsPerFile > 0 {
		perFile = g.cfg.MaxClaimsPerFile
	}
	pcfg := pipeline.Config{
		Scrub:            scfg,
		Assemble:         cfg.Assemble(),
		AutoPayers:       quick,
		BatchSubmitter:   quick,
		MaxClaimsPerFile: perFile,
		Numbers:          numbers,
		Seen:             seen,
		Output:           in.out,
		Journal:          in.jr,
		Events: pipeline.Events{
			Rejected: in.rejectedClaim,
			File:     in.file,
			Failed: func(f pipeline.Failure) {
				// f.Err can name claims: the count and payer only.
				g.log.Error("837P file not written", "payer", f.PayerID, "claims", f.Claims)
			},
		},
	}
	in.pcfg = pcfg
	// A data directory of an earlier version may hold a file journal
	// and published files in DATA/outbox: settle and hand those on first.
	if err := in.legacy(ctx, pcfg); err != nil {
		return nil, err
	}
	// New replays this worker's journal: files stored before a crash get
	// their claims' moves and announcement (BeforeAnnounce) and their
	// keys recorded.
	if in.p, err = pipeline.New(ctx, pcfg); err != nil {
		return nil, err
	}
	ok = true
	return in, nil
}

// workerID reads (or makes, once) the data directory's worker id.
func workerID(st *pipeline.State) (string, error) {
	path := st.Path(workerFile)
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	id := hex.EncodeToString(r[:])
	// Written whole before it is used (the state directory is locked:
	// nobody else writes it).
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o600); err != nil {
		return "", err
	}
	f, err := os.Open(tmp)
	if err != nil {
		return "", err
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", err
	}
	return id, control.SyncDir(st.Dir)
}

// legacy settles what an earlier version (a file journal in the state
// directory, published files in DATA/outbox) left: the journal replay
// records the published files' keys, then each file goes into the object
// store through the Output (claims' moves, announcement) and is removed.
func (in *ingester) legacy(ctx context.Context, pcfg pipeline.Config) error {
	jpath := in.state.Path(pipeline.JournalFile)
	if _, err := os.Stat(jpath); err == nil {
		jr, err := pipeline.OpenFileJournal(jpath)
		if err != nil {
			return err
		}
		old := pcfg
		old.Output = &pipeline.DirOutput{Dir: in.g.outbox}
		old.Journal = jr
		old.Events = pipeline.Events{}
		_, err = pipeline.New(ctx, old)
		jr.Close()
		if err != nil {
			return fmt.Errorf("gateway: replaying the file journal: %w", err)
		}
		if err := os.Remove(jpath); err != nil {
			return err
		}
	}
	ents, err := os.ReadDir(in.g.outbox)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(in.g.outbox, e.Name())
		if err := in.adopt(ctx, path); err != nil {
			return fmt.Errorf("gateway: outbox file: %w", err)
		}
		if err := os.Remove(path); err != nil {
			return err
		}
	}
	return nil
}

// adopt publishes an 837P file of an earlier version's outbox through
// the Output, under its own name.
func (in *ingester) adopt(ctx context.Context, path string) error {
	fi, err := fileInfoOf(path)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tf, err := in.out.Create(ctx)
	if err != nil {
		return err
	}
	if _, err := io.Copy(tf, f); err != nil {
		tf.Abort()
		return err
	}
	if err := tf.Close(); err != nil {
		tf.Abort()
		return err
	}
	tf.(pipeline.Describer).Describe(*fi)
	if _, err := tf.Publish(ctx, filepath.Base(path)); err != nil {
		tf.Abort()
		return err
	}
	return nil
}

func (in *ingester) close() {
	in.state.Unlock()
}

// run takes batches from the batch stream, one at a time.
func (in *ingester) run(ctx context.Context) error {
	cons, err := in.g.b.JS.Consumer(ctx, bus.StreamBatches, ConsumerIngest)
	if err != nil {
		return err
	}
	// Claims still held at shutdown are written (their batches then
	// acknowledged), as a handler in flight finishes.
	hctx, cancel := graceful(ctx)
	defer cancel()
	defer in.flushHeld(hctx)
	for ctx.Err() == nil {
		if len(in.held) > 0 && !time.Now().Before(in.flushAt) {
			in.flushHeld(ctx)
		}
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

// heldBatch is a batch run whose claims (some of them) are held.
type heldBatch struct {
	msg    jetstream.Msg
	stop   func() // its keep-alive
	digest string
}

// maxHeldBatches bounds the batches held at once (their messages stay
// unacknowledged, counting against the consumer's MaxAckPending).
const maxHeldBatches = 64

// flushHeld writes the claims held and acknowledges their batches; when
// the pipeline fails the batches are left for redelivery.
func (in *ingester) flushHeld(ctx context.Context) {
	if len(in.held) == 0 {
		return
	}
	g := in.g
	held := in.held
	in.held = nil
	sum, err := in.p.Flush(ctx)
	if err != nil {
		g.log.Error("held claims not written; their batches will be retried", "batches", len(held), "err", err)
		in.p = nil
		for _, h := range held {
			h.stop()
			if ctx.Err() == nil {
				h.msg.NakWithDelay(5 * time.Second)
			}
		}
		return
	}
	crash("ingest-before-ack")
	for _, h := range held {
		if err := h.msg.DoubleAck(ctx); err != nil {
			g.log.Warn("batch ack", "batch", short(h.digest), "err", err)
		}
		h.stop()
	}
	g.log.Info("held claims written", "batches", len(held), "written", sum.Written, "not_written", sum.NotWritten, "files", sum.Files)
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
	kept := false // held: its keep-alive goes on
	defer func() {
		if !kept {
			stop()
		}
	}()
	var bm BatchMsg
	if err := json.Unmarshal(msg.Data(), &bm); err != nil || bm.Digest == "" {
		g.log.Error("batch message not understood; dropped", "err", err)
		msg.Term()
		return
	}
	start := time.Now()
	redelivered := false
	if md, err := msg.Metadata(); err == nil && md.NumDelivered > 1 {
		redelivered = true
	}
	sum, err := in.runBatch(ctx, bm, redelivered)
	if redelivered {
		g.requestSweep()
	}
	g.cfg.Metrics.StageDone("ingest", time.Since(start))
	g.cfg.Metrics.BatchDone(batchResult(err))
	switch {
	case err != nil && errors.Is(err, pipeline.ErrNotABatch):
		g.log.Error("not a claims batch; dropped", "batch", short(bm.Digest))
		in.failReport(ctx)
		msg.Term()
	case err != nil:
		g.log.Error("batch failed; will be retried", "batch", short(bm.Digest), "err", err)
		if in.ran {
			// A failed run may have left journal records: a new pipeline
			// replays them (as a restart would) before the batch is given
			// back. Given back first, the batch could run on another
			// replica before this one records its published files'
			// claims as sent, and those claims would be written twice
			// (the cluster test showed it while a NATS node was lost).
			in.p = nil
			for ctx.Err() == nil {
				rerr := in.settle(ctx, false)
				if rerr == nil {
					break
				}
				g.log.Warn("ingest recovery after a failed batch; will retry", "batch", short(bm.Digest), "err", rerr)
				time.Sleep(time.Second)
			}
			// Stopped before that: the next start recovers (newIngester).
		}
		if ctx.Err() == nil {
			msg.NakWithDelay(5 * time.Second)
		}
		if !in.ran {
			break // the batch could not be read: the pipeline (and what it holds) is whole
		}
		// The claims held for earlier batches went with the failed
		// pipeline: those batches are run again too.
		for _, h := range in.held {
			h.stop()
			if ctx.Err() == nil {
				h.msg.NakWithDelay(5 * time.Second)
			}
		}
		in.held = nil
	case in.p.Held() > 0 || len(in.held) > 0:
		// Claims held for the next batches (FlushInterval): acknowledged
		// once written.
		kept = true
		in.held = append(in.held, heldBatch{msg: msg, stop: stop, digest: bm.Digest})
		if len(in.held) == 1 {
			in.flushAt = time.Now().Add(g.cfg.FlushInterval)
		}
		g.log.Info("batch ingested, claims held", "batch", short(bm.Digest), "read", sum.Read, "written", sum.Written,
			"rejected", sum.Rejected, "held", sum.Held, "files", sum.Files, "took", time.Since(start).Round(time.Millisecond))
		crash("ingest-held")
		if in.p.Held() == 0 || len(in.held) >= maxHeldBatches {
			in.flushHeld(ctx)
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
func (in *ingester) runBatch(ctx context.Context, bm BatchMsg, redelivered bool) (pipeline.Summary, error) {
	g := in.g
	in.ran = false
	if err := in.settle(ctx, redelivered); err != nil {
		// Settling touches other workers' records only (or failed to
		// make the pipeline): what this one holds is whole.
		return pipeline.Summary{}, err
	}
	res, err := fetchObject(ctx, g.obj, bm.Digest, g.tmp)
	if err != nil {
		return pipeline.Summary{}, err
	}
	defer res.Close()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in.batch, in.runErr, in.cancel = bm, nil, cancel
	in.rejClaim, in.rejItem, in.rejected, in.nRej = "", nil, in.rejected[:0], 0
	in.rep = in.startReport(ctx, bm)
	run := in.p.Run
	if g.cfg.FlushInterval > 0 {
		run = in.p.RunHold
	}
	in.ran = true
	sum, err := run(rctx, res, "batch "+short(bm.Digest))
	if in.runErr == nil && err == nil {
		in.endRejected()
		err = in.flushRejected(ctx)
	}
	if err == nil && sum.NotWritten > 0 {
		// Files that could not be written (the journal, control numbers
		// or output failing, e.g. while a NATS node is lost): the batch
		// is run again, which writes these claims and refuses the
		// written ones as duplicates. Acknowledged, they would be lost.
		err = fmt.Errorf("%d claims not written", sum.NotWritten)
	}
	if err == nil {
		err = in.finishReport(ctx, sum)
	}
	if in.runErr != nil {
		err = in.runErr
	}
	return sum, err
}

// settle readies the pipeline for a batch: after a failed run a new one
// is made (New replays this worker's journal); before a redelivered
// batch (its last runner may have died mid-batch) the other workers'
// published files are settled, so their claims are rejected as
// duplicates rather than written again.
func (in *ingester) settle(ctx context.Context, redelivered bool) error {
	if in.p == nil {
		p, err := pipeline.New(ctx, in.pcfg)
		if err != nil {
			return err
		}
		in.p = p
	}
	if !redelivered {
		return nil
	}
	others, err := in.jr.Others(ctx)
	if err != nil {
		return err
	}
	for _, j := range others {
		if err := in.p.Settle(ctx, j); err != nil {
			return err
		}
	}
	return nil
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
	in.rep.rejected(pr)
	if pr.ClaimID != in.rejClaim {
		in.endRejected()
		in.rejClaim = pr.ClaimID
		now := time.Now().UTC()
		src := reconcile.Source{File: "batch", Digest: in.batch.Digest}
		in.rejected = append(in.rejected, reconcile.Item{ClaimID: pr.ClaimID, Event: reconcile.Event{
			ID: eventID("received", in.batch.Digest, pr.ClaimID), ClaimID: pr.ClaimID, PayerID: pr.PayerID,
			Kind: KindIngest, State: claim.Received, Time: now, Source: src}})
		in.rejected = append(in.rejected, reconcile.Item{ClaimID: pr.ClaimID, Event: reconcile.Event{
			ID: eventID("scrub_rejected", in.batch.Digest, pr.ClaimID), ClaimID: pr.ClaimID, PayerID: pr.PayerID,
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

// file is the pipeline's File event: the file is stored, its claims
// queued and the file announced (beforeAnnounce), its claims' keys not
// yet recorded (the journal covers a crash here).
func (in *ingester) file(f pipeline.File) {
	in.reportFile(&f.Info)
	in.g.log.Info("837P queued for upload", "payer", f.PayerID, "isa13", f.Interchange, "claims", f.Claims)
	crash("handed-off")
}

// beforeAnnounce makes a stored 837P file submission's business before
// it is announced on claimgate.files.out.<payer>: its claims become
// received and queued. Event ids derive from the file's digest, so a
// repeat (journal replay, another replica settling it) changes nothing.
func (g *Gateway) beforeAnnounce(ctx context.Context, fo *bus.FileOut) error {
	crash("stored")
	fi := &fo.Info
	now := time.Now().UTC()
	src := reconcile.Source{File: fo.Name, Digest: fo.Digest}
	items := make([]reconcile.Item, 0, 2*fi.Claims)
	for _, ref := range reconcile.RefsOf(fi) {
		r := ref
		items = append(items,
			reconcile.Item{ClaimID: r.ClaimID, Event: reconcile.Event{ID: eventID("received", fo.Digest, r.ClaimID),
				ClaimID: r.ClaimID, PayerID: r.PayerID, Kind: KindIngest, State: claim.Received, Time: now, Source: src}},
			reconcile.Item{ClaimID: r.ClaimID, Event: reconcile.Event{ID: eventID("queued", fo.Digest, r.ClaimID),
				ClaimID: r.ClaimID, PayerID: r.PayerID, Kind: KindIngest, State: claim.Queued, Time: now, Source: src, Submission: &r}})
	}
	if err := g.applyAll(ctx, items); err != nil {
		return fmt.Errorf("claim store: %w", err)
	}
	crash("queued")
	return nil
}
