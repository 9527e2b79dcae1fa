package gateway

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/bus/natstest"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/pipeline"
	"github.com/claimgate/claimgate/pkg/scrub"
)

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.DiscardHandler)
}

// runGateway starts a Gateway on b with the simulator's payers and
// returns a function stopping it (drained) and the gateway.
func runGateway(t testing.TB, b *bus.Bus, s *sim, data, holder string, tune ...func(*Config)) (*Gateway, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := Config{DataDir: data, Bus: b, Claims: claimsConfig(), Payers: s.payers(), Holder: holder,
		Log: testLog(t).With("holder", holder), InboxInterval: 100 * time.Millisecond, MaxClaimsPerFile: 50}
	for _, f := range tune {
		f(&cfg)
	}
	g, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway run: %v", err)
		}
		g.Close()
	}
	t.Cleanup(stop)
	return g, stop
}

// waitAll waits until every claim is in the final state the simulator's
// decision calls for, then checks them claim by claim.
func waitAll(t testing.TB, g *Gateway, s *sim, ids []string, bad map[string]bool, limit time.Duration) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(limit)
	for {
		ok, why := checkFinal(t, ctx, g.store, s, ids, bad, false)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every claim reached its final state in %v; first: %s", limit, why)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestEndToEndEmbedded: batches in (claimgate submit's path and the
// inbox folder) → 837P files at the simulated payers over SFTP → 999,
// 277CA and 835 back → every claim in the final state the simulator
// decided, with its amounts and reasons; scrub-rejected claims never
// reach the payer, and every other claim reaches it exactly once.
func TestEndToEndEmbedded(t *testing.T) {
	dir := t.TempDir()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: filepath.Join(dir, "nats"), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Shutdown()
	endToEnd(t, dir, bus.Options{Embedded: emb})
}

// TestEndToEndExternal is the same against a real nats-server process.
func TestEndToEndExternal(t *testing.T) {
	srv := natstest.Start(t)
	endToEnd(t, t.TempDir(), bus.Options{URL: srv.URL()})
}

func endToEnd(t *testing.T, dir string, opts bus.Options) {
	s := startSim(t, dir)
	ctx := context.Background()
	b, err := bus.Connect(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	data := filepath.Join(dir, "data")
	g, stop := runGateway(t, b, s, data, "r1")
	defer stop()

	ids1, bad1 := writeBatch(t, filepath.Join(dir, "b1.csv"), "GA", 0, 200, 10)
	id, dup, err := Submit(ctx, b, filepath.Join(dir, "b1.csv"), "b1.csv")
	if err != nil || dup {
		t.Fatalf("submit: %v (duplicate %v)", err, dup)
	}
	if id2, dup, err := Submit(ctx, b, filepath.Join(dir, "b1.csv"), "again.csv"); err != nil || !dup || id2 != id {
		t.Fatalf("second submit of the same batch: id %s dup %v err %v", id2, dup, err)
	}
	ids2, bad2 := writeBatch(t, filepath.Join(dir, "b2.csv"), "GB", 100000, 100, 0)
	if err := os.Rename(filepath.Join(dir, "b2.csv"), filepath.Join(data, "inbox", "b2.csv")); err != nil {
		t.Fatal(err)
	}
	for k := range bad2 {
		bad1[k] = true
	}
	ids := append(ids1, ids2...)
	waitAll(t, g, s, ids, bad1, 90*time.Second)
	if _, err := os.Stat(filepath.Join(data, "inbox", "done", "b2.csv.report.json")); err != nil {
		t.Errorf("inbox report: %v", err)
	}
	// Every state the claims went through was published as an event.
	checkEvents(t, b, ids, bad1)
}

// TestResubmitCorrected: a batch whose bad claims the scrubber rejects,
// then the whole batch sent again with those claims corrected (same
// claim ids). The corrected claims start over (scrub_rejected →
// received), reach the payer once and settle as it decided; the claims
// sent the first time are refused as duplicates and change nothing.
func TestResubmitCorrected(t *testing.T) {
	dir := t.TempDir()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: filepath.Join(dir, "nats"), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Shutdown()
	s := startSim(t, dir)
	ctx := context.Background()
	b, err := bus.Connect(ctx, bus.Options{Embedded: emb})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	g, stop := runGateway(t, b, s, filepath.Join(dir, "data"), "r1")
	defer stop()

	ids, bad := writeBatch(t, filepath.Join(dir, "first.csv"), "RS", 0, 60, 4)
	if _, _, err := Submit(ctx, b, filepath.Join(dir, "first.csv"), "first.csv"); err != nil {
		t.Fatal(err)
	}
	waitAll(t, g, s, ids, bad, 90*time.Second)
	if len(bad) == 0 {
		t.Fatal("no bad claim in the first batch")
	}
	// The same claims, every one clean now.
	writeBatch(t, filepath.Join(dir, "corrected.csv"), "RS", 0, 60, 0)
	if _, dup, err := Submit(ctx, b, filepath.Join(dir, "corrected.csv"), "corrected.csv"); err != nil || dup {
		t.Fatalf("submit: %v (duplicate %v)", err, dup)
	}
	waitAll(t, g, s, ids, nil, 90*time.Second)

	counts := eventCounts(t, b)
	for _, id := range ids {
		c := counts[id]
		rec, err := g.store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		received, rejected := 1, 0
		if bad[id] {
			received, rejected = 2, 1
		}
		if c[claim.Received] != received || c[claim.ScrubRejected] != rejected || c[claim.Queued] != 1 || c[claim.Submitted] != 1 {
			t.Fatalf("%s (bad the first time: %v): events %v", id, bad[id], c)
		}
		if rec.Submission == nil || rec.Payer != rec.Submission.PayerID {
			t.Fatalf("%s: record payer %q, submission %+v", id, rec.Payer, rec.Submission)
		}
	}
}

// TestLegacyOutbox: a data directory of the version before the
// JetStream output (published 837Ps in DATA/outbox, a file journal in
// DATA/state) is taken over at start-up: the journal is replayed and
// removed, every outbox file goes into the object store and on to the
// payer (claims queued first), once, and leaves the outbox.
func TestLegacyOutbox(t *testing.T) {
	dir := t.TempDir()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: filepath.Join(dir, "nats"), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Shutdown()
	s := startSim(t, dir)
	ctx := context.Background()
	b, err := bus.Connect(ctx, bus.Options{Embedded: emb})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	outbox, state := filepath.Join(data, "outbox"), filepath.Join(data, "state")
	for _, d := range []string{outbox, state} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// The old ingest's pipeline: files in the outbox, not handed on.
	cfg := claimsConfig()
	sc, err := cfg.Scrub()
	if err != nil {
		t.Fatal(err)
	}
	nums, _ := b.ControlNumbers(ctx)
	jr, err := pipeline.OpenFileJournal(filepath.Join(state, pipeline.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(ctx, pipeline.Config{Scrub: sc, Assemble: cfg.Assemble(), MaxClaimsPerFile: 50,
		Numbers: nums, Seen: scrub.NewMemorySeen(), Output: &pipeline.DirOutput{Dir: outbox}, Journal: jr})
	if err != nil {
		t.Fatal(err)
	}
	ids, bad := writeBatch(t, filepath.Join(dir, "old.csv"), "LG", 0, 120, 0)
	f, err := os.Open(filepath.Join(dir, "old.csv"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.Run(ctx, f, "old")
	f.Close()
	if err != nil || sum.Written != len(ids) || sum.Files < 2 {
		t.Fatalf("old pipeline: %+v %v", sum, err)
	}
	// A record left by a crash before its file was published.
	if err := jr.Begin(ctx, pipeline.Record{ID: "torn", Name: "never.837", Digest: "00"}); err != nil {
		t.Fatal(err)
	}
	jr.Close()

	g, stop := runGateway(t, b, s, data, "r1")
	defer stop()
	waitAll(t, g, s, ids, bad, 90*time.Second)
	checkEvents(t, b, ids, bad)
	if _, err := os.Stat(filepath.Join(state, pipeline.JournalFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file journal kept: %v", err)
	}
	ents, _ := os.ReadDir(outbox)
	if len(ents) != 0 {
		t.Errorf("outbox still holds %d entries", len(ents))
	}
}

// TestFlushInterval: with a flush interval, three small batches submitted
// together share their 837P files (one per payer), and their messages
// stay unacknowledged (kept alive) while their claims are held; once
// written, every claim reaches the payer once and settles, and the
// batches are acknowledged.
func TestFlushInterval(t *testing.T) {
	dir := t.TempDir()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: filepath.Join(dir, "nats"), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Shutdown()
	s := startSim(t, dir)
	ctx := context.Background()
	b, err := bus.Connect(ctx, bus.Options{Embedded: emb})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const interval = 15 * time.Second
	g, stop := runGateway(t, b, s, filepath.Join(dir, "data"), "r1", func(c *Config) {
		c.FlushInterval = interval
		c.AckWait = 3 * time.Second // held longer than this: kept alive
	})
	defer stop()
	var ids []string
	bad := map[string]bool{}
	start := time.Now()
	for i, prefix := range []string{"FA", "FB", "FC"} {
		path := filepath.Join(dir, prefix+".csv")
		got, gotBad := writeBatch(t, path, prefix, i*1000, 20, 7)
		ids = append(ids, got...)
		for k := range gotBad {
			bad[k] = true
		}
		if _, _, err := Submit(ctx, b, path, prefix+".csv"); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := b.JS.Consumer(ctx, bus.StreamBatches, ConsumerIngest)
	if err != nil {
		t.Fatal(err)
	}
	// All three run and held, none acknowledged, nothing at the payer.
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending == 3 && info.NumPending == 0 {
			break
		}
		if time.Since(start) > interval/2 {
			t.Fatalf("batches not all held in %v: %+v", interval/2, info)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * 3 * time.Second) // past the ack wait: kept alive
	if info, _ := cons.Info(ctx); info.NumAckPending != 3 || info.NumRedelivered != 0 {
		t.Fatalf("held batches not kept: %+v", info)
	}
	s.mu.Lock()
	early := len(s.files)
	s.mu.Unlock()
	if early != 0 || time.Since(start) > interval {
		t.Fatalf("%d claims at the payer before the interval ended (%v)", early, time.Since(start))
	}
	waitAll(t, g, s, ids, bad, 90*time.Second)
	checkEvents(t, b, ids, bad)
	checkInterchanges(t, s)
	// One file per payer, each holding claims of all three batches.
	files := 0
	root := filepath.Join(s.srv.Root(), "..", "processed")
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		fi, err := fileInfoOf(path)
		if err != nil {
			t.Fatal(err)
		}
		files++
		batches := map[string]bool{}
		for _, set := range fi.Sets {
			for _, id := range set.ClaimIDs {
				batches[id[:2]] = true
			}
		}
		if len(batches) != 3 {
			t.Errorf("%s holds claims of %v", filepath.Base(path), batches)
		}
		return nil
	})
	if files != len(testPayers) {
		t.Fatalf("%d files at the payers, want %d", files, len(testPayers))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending == 0 && info.NumPending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("batches not acknowledged: %+v", info)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
