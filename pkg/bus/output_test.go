package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/bus/natstest"
	"github.com/claimgate/claimgate/pkg/config"
	"github.com/claimgate/claimgate/pkg/pipeline"
	"github.com/nats-io/nats.go/jetstream"
)

const ptBatch = "../../testdata/batches/pt_batch.csv"

// gatewayPipeline is a pipeline on the bus: control numbers, duplicate
// keys, the worker's journal and the object-store output.
func gatewayPipeline(t *testing.T, b *bus.Bus, out *bus.Output, worker string) (*pipeline.Pipeline, error) {
	t.Helper()
	ctx := ctxT(t)
	cfg := &config.Config{
		Submitter: config.Submitter{Name: "CLAIMGATE", ID: "CLAIMGATE", ContactName: "CLAIMGATE", Email: "edi@claimgate.invalid"},
		Usage:     "T",
	}
	sc, err := cfg.Scrub()
	if err != nil {
		t.Fatal(err)
	}
	nums, _ := b.ControlNumbers(ctx)
	seen, _ := b.Seen(ctx)
	j, err := b.Journal(ctx, worker)
	if err != nil {
		t.Fatal(err)
	}
	return pipeline.New(ctx, pipeline.Config{
		Scrub: sc, Assemble: cfg.Assemble(), AutoPayers: true, BatchSubmitter: true,
		Numbers: nums, Seen: seen, Output: out, Journal: j,
	})
}

func newOutput(t *testing.T, b *bus.Bus, worker string) *bus.Output {
	o, err := b.Output(ctxT(t), worker)
	if err != nil {
		t.Fatal(err)
	}
	o.Dir = filepath.Join(t.TempDir(), worker)
	return o
}

// filesOut reads the announcements on claimgate.files.out.>.
func filesOut(t *testing.T, b *bus.Bus) []bus.FileOut {
	t.Helper()
	ctx := ctxT(t)
	st, _ := b.JS.Stream(ctx, bus.StreamFilesOut)
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []bus.FileOut
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var fo bus.FileOut
		if err := json.Unmarshal(m.Data, &fo); err != nil {
			t.Fatal(err)
		}
		if m.Subject != bus.FilesOutSubject(fo.Payer) || m.Header.Get(jetstream.MsgIDHeader) != fo.Digest {
			t.Errorf("announcement of %s on %s, id %s", fo.Name, m.Subject, m.Header.Get(jetstream.MsgIDHeader))
		}
		out = append(out, fo)
	}
	return out
}

func runBatch(t *testing.T, p *pipeline.Pipeline, name string) (pipeline.Summary, error) {
	f, err := os.Open(ptBatch)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return p.Run(ctxT(t), f, name)
}

// The pipeline on the bus: files land in the object store and are
// announced once each, with their payer and claims; a crash after the
// object is stored and before its announcement is finished by the next
// pipeline.New (journal replay), and a replay of a file already
// announced announces nothing new.
func TestOutputPipelineRecovery(t *testing.T) {
	e, b := embedded(t, t.TempDir())
	defer e.Shutdown()
	defer b.Close()
	testOutputRecovery(t, b)
}

func TestOutputPipelineRecoveryServer(t *testing.T) {
	srv := natstest.Start(t)
	testOutputRecovery(t, connect(t, srv.URL()))
}

func testOutputRecovery(t *testing.T, b *bus.Bus) {
	ctx := ctxT(t)
	out := newOutput(t, b, "w1")
	bus.CrashOutputAt(out, "stored")
	p, err := gatewayPipeline(t, b, out, "w1")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := runBatch(t, p, "batch")
	if err == nil {
		t.Fatal("no error from a publish that stopped before its announcement")
	}
	if got := filesOut(t, b); len(got) != 0 {
		t.Fatalf("announced before the crash was repaired: %+v", got)
	}
	j, _ := b.Journal(ctx, "w1")
	pend, _ := j.Pending(ctx)
	if len(pend) == 0 {
		t.Fatal("journal holds no unfinished record")
	}
	// Another worker's journal and temporary files are not ours to touch.
	other := newOutput(t, b, "w2")
	tf, _ := other.Create(ctx)
	tf.Write([]byte("ISA*PHI~"))
	tf.Close()
	// Restart: recovery announces the stored file.
	out = newOutput(t, b, "w1")
	stale := filepath.Join(out.Dir, pipeline.TempPrefix+"stale.837")
	os.MkdirAll(out.Dir, 0o700)
	os.WriteFile(stale, []byte("PHI"), 0o600)
	p, err = gatewayPipeline(t, b, out, "w1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp file kept: %v", err)
	}
	if _, err := os.Stat(tf.Name()); err != nil {
		t.Errorf("other worker's temp file removed: %v", err)
	}
	got := filesOut(t, b)
	want := map[string]string{}
	for _, r := range pend {
		want[r.Name] = r.Digest
	}
	if len(got) != len(pend) {
		t.Fatalf("after recovery announced %d files, want %d", len(got), len(pend))
	}
	for _, fo := range got {
		if want[fo.Name] != fo.Digest || fo.Info.Claims == 0 || fo.Info.PayerID != fo.Payer || fo.Size == 0 {
			t.Fatalf("announced %+v, want one of %v", fo, want)
		}
	}
	if pend, _ := j.Pending(ctx); len(pend) != 0 {
		t.Fatalf("journal still holds %+v", pend)
	}
	// The recovered files' claims count as sent: the same batch again
	// rejects each claim whose duplicate key was journaled.
	sum2, err := runBatch(t, p, "batch-again")
	if err != nil {
		t.Fatal(err)
	}
	keys := 0
	for _, r := range pend {
		keys += len(r.Keys)
	}
	if keys == 0 || sum2.Rejected-sum.Rejected != keys {
		t.Errorf("claims of the recovered file written again: first %+v, again %+v", sum, sum2)
	}
	// Message exists, journal not done (crash after the announcement):
	// the replay announces nothing new.
	first := filesOut(t, b)
	if err := j.Begin(ctx, pipeline.Record{ID: "again", Name: first[0].Name, Digest: first[0].Digest}); err != nil {
		t.Fatal(err)
	}
	if _, err := gatewayPipeline(t, b, newOutput(t, b, "w1"), "w1"); err != nil {
		t.Fatal(err)
	}
	if n := len(filesOut(t, b)); n != len(first) {
		t.Fatalf("%d announcements after replaying an announced file, want %d", n, len(first))
	}
	// A journal record whose object never got stored is dropped.
	j.Begin(ctx, pipeline.Record{ID: "lost", Name: "never.837", Digest: "00"})
	if _, err := gatewayPipeline(t, b, newOutput(t, b, "w1"), "w1"); err != nil {
		t.Fatal(err)
	}
	if pend, _ := j.Pending(ctx); len(pend) != 0 {
		t.Fatalf("journal still holds %+v", pend)
	}
	// Never over an existing object.
	o := newOutput(t, b, "w3")
	tf, _ = o.Create(ctx)
	tf.Write([]byte("other content"))
	tf.Close()
	tf.(pipeline.Describer).Describe(first[0].Info)
	if _, err := tf.Publish(ctx, first[0].Name); !errors.Is(err, os.ErrExist) {
		t.Fatalf("publish over an existing object: %v", err)
	}
	if ok, err := o.Published(ctx, first[0].Name, first[0].Digest); !ok || err != nil {
		t.Fatalf("existing object changed: %v %v", ok, err)
	}
	tf.Abort()
}

// Writers racing to publish different files under one name: exactly one
// wins, the others get os.ErrExist, and the object is the winner's.
func TestOutputNameRace(t *testing.T) {
	e, b := embedded(t, t.TempDir())
	defer e.Shutdown()
	defer b.Close()
	ctx := ctxT(t)
	const n = 4
	type result struct {
		digest string
		err    error
	}
	results := make(chan result, n)
	for w := range n {
		o := newOutput(t, b, "racer")
		tf, err := o.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tf.Write([]byte("ISA*content of writer " + string(rune('A'+w)) + "~"))
		tf.Close()
		tf.(pipeline.Describer).Describe(assemble.FileInfo{PayerID: "P", Claims: 1})
		go func() {
			_, err := tf.Publish(ctx, "same.837")
			results <- result{tf.Digest(), err}
		}()
	}
	var winner string
	for range n {
		r := <-results
		switch {
		case r.err == nil:
			if winner != "" {
				t.Fatal("two writers published one name")
			}
			winner = r.digest
		case !errors.Is(r.err, os.ErrExist):
			t.Fatalf("loser's error %v, want os.ErrExist", r.err)
		}
	}
	o := newOutput(t, b, "check")
	if ok, err := o.Published(ctx, "same.837", winner); winner == "" || !ok || err != nil {
		t.Fatalf("winner %q published: %v %v", winner, ok, err)
	}
	if got := filesOut(t, b); len(got) != 1 || got[0].Digest != winner {
		t.Fatalf("announced %+v", got)
	}
}

// BeforeAnnounce runs before each announcement; when it fails the file
// stays stored, unannounced, with its journal record pending. Another
// worker's pipeline settles that record (Journal.Others,
// Pipeline.Settle): the hook runs and the file is announced, its claims'
// keys are recorded (the batch run again rejects them) and the record
// is done; a foreign record whose file was never stored is left alone.
func TestOutputSettledByAnotherWorker(t *testing.T) {
	e, b := embedded(t, t.TempDir())
	defer e.Shutdown()
	defer b.Close()
	ctx := ctxT(t)
	var hooked []string
	hook := func(fail bool) func(context.Context, *bus.FileOut) error {
		return func(_ context.Context, fo *bus.FileOut) error {
			for _, got := range filesOut(t, b) {
				if got.Digest == fo.Digest {
					t.Errorf("%s announced before its hook ran", fo.Name)
				}
			}
			hooked = append(hooked, fo.Digest)
			if fail {
				return errors.New("claim store down")
			}
			return nil
		}
	}
	out := newOutput(t, b, "dead")
	out.BeforeAnnounce = hook(true)
	p, err := gatewayPipeline(t, b, out, "dead")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := runBatch(t, p, "batch")
	if err == nil || len(hooked) == 0 {
		t.Fatalf("run with a failing hook: %v, hook ran %d times", err, len(hooked))
	}
	if got := filesOut(t, b); len(got) != 0 {
		t.Fatalf("announced although the hook failed: %+v", got)
	}
	dead, _ := b.Journal(ctx, "dead")
	pend, _ := dead.Pending(ctx)
	stored := map[string]bool{}
	keys := 0
	for _, r := range pend {
		stored[r.Digest] = true
		keys += len(r.Keys)
	}
	// Each stored file (the pipeline goes on with other payers' files
	// after one fails) is pending, and each was offered to the hook.
	if len(pend) != len(hooked) || len(stored) != len(hooked) {
		t.Fatalf("pending %+v, hook calls %v", pend, hooked)
	}
	hooked = nil
	// A record of the dead worker whose file was never stored.
	dead.Begin(ctx, pipeline.Record{ID: "unstored", Name: "never.837", Digest: "00"})

	live := newOutput(t, b, "live")
	live.BeforeAnnounce = hook(false)
	p2, err := gatewayPipeline(t, b, live, "live")
	if err != nil {
		t.Fatal(err)
	}
	lj, _ := b.Journal(ctx, "live")
	others, err := lj.Others(ctx)
	if err != nil || len(others) != 1 {
		t.Fatalf("others: %d, %v", len(others), err)
	}
	if err := p2.Settle(ctx, others[0]); err != nil {
		t.Fatal(err)
	}
	if len(hooked) != len(stored) {
		t.Fatalf("hook calls %v, want the stored files %v", hooked, stored)
	}
	got := filesOut(t, b)
	if len(got) != len(stored) {
		t.Fatalf("announced %+v, want %v", got, stored)
	}
	for _, fo := range got {
		if !stored[fo.Digest] {
			t.Fatalf("announced %+v, want %v", fo, stored)
		}
	}
	left, _ := dead.Pending(ctx)
	if len(left) != 1 || left[0].ID != "unstored" {
		t.Fatalf("dead worker's journal after settling: %+v", left)
	}
	sum2, err := runBatch(t, p2, "batch-again")
	if err != nil {
		t.Fatal(err)
	}
	if keys == 0 || sum2.Rejected-sum.Rejected != keys {
		t.Errorf("settled file's claims written again: first %+v, again %+v", sum, sum2)
	}
}
