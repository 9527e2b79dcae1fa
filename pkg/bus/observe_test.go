package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/metrics"
	"github.com/claimgate/claimgate/pkg/reconcile"
)

type appliedCall struct {
	id     string
	effect reconcile.Change
	state  claim.State // the record's, after the event
	prev   claim.State
}

// recorder is an OnApplied hook keeping its calls.
type recorder struct {
	mu    sync.Mutex
	calls []appliedCall
}

func (r *recorder) hook(ev reconcile.Event, rec *reconcile.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, appliedCall{ev.ID, ev.Effect, rec.State, ev.Previous})
}

func (r *recorder) take() []appliedCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

func item(claimID, id string, kind reconcile.Kind, st claim.State) reconcile.Item {
	return reconcile.Item{ClaimID: claimID, Event: reconcile.Event{ID: id + "/" + claimID, ClaimID: claimID, PayerID: "04412",
		Kind: kind, State: st, Time: time.Now().UTC()}}
}

// TestOnApplied: both Apply and ApplyBatch report every event they
// stored, once, with its effect and the record after it; duplicates and
// refusals are not reported, so applying again reports nothing.
func TestOnApplied(t *testing.T) {
	e, b := embedded(t, t.TempDir())
	defer e.Shutdown()
	defer b.Close()
	ctx := ctxT(t)
	st, err := b.ClaimStore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var r recorder
	st.OnApplied = r.hook

	// One at a time: K1 accepted, then a 999 again (same state:
	// recorded) and a late ingest state (recorded); K2 rejected by the
	// 999, then an 835 paid (refused: ack_rejected is final).
	seq := []reconcile.Item{
		item("K1", "r", "ingest", claim.Received),
		item("K1", "q", "ingest", claim.Queued),
		item("K1", "s", "submission", claim.Submitted),
		item("K1", "999", reconcile.Kind999, claim.AckAccepted),
		item("K1", "999b", reconcile.Kind999, claim.AckAccepted),
		item("K1", "late", "ingest", claim.Queued),
		item("K2", "s", "submission", claim.Submitted),
		item("K2", "999", reconcile.Kind999, claim.AckRejected),
		item("K2", "835", reconcile.Kind835, claim.Paid),
	}
	for _, it := range seq {
		if _, err := st.Apply(ctx, it.ClaimID, it.Event); err != nil {
			t.Fatal(err)
		}
	}
	got := r.take()
	want := []appliedCall{
		{"r/K1", reconcile.Moved, claim.Received, ""},
		{"q/K1", reconcile.Moved, claim.Queued, claim.Received},
		{"s/K1", reconcile.Moved, claim.Submitted, claim.Queued},
		{"999/K1", reconcile.Moved, claim.AckAccepted, claim.Submitted},
		{"999b/K1", reconcile.Recorded, claim.AckAccepted, claim.AckAccepted},
		{"late/K1", reconcile.Recorded, claim.AckAccepted, claim.AckAccepted},
		{"s/K2", reconcile.Moved, claim.Submitted, ""},
		{"999/K2", reconcile.Moved, claim.AckRejected, claim.Submitted},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Apply reported\n%v\nwant\n%v", got, want)
	}
	for _, it := range seq {
		if _, err := st.Apply(ctx, it.ClaimID, it.Event); err != nil {
			t.Fatal(err)
		}
	}
	if again := r.take(); len(again) != 0 {
		t.Fatalf("applying again reported %v", again)
	}

	// In batches: 50 claims through four states to ack_rejected, then an
	// 835 each, refused.
	var items []reconcile.Item
	for i := range 50 {
		c := fmt.Sprintf("B%02d", i)
		items = append(items, item(c, "r", "ingest", claim.Received), item(c, "q", "ingest", claim.Queued),
			item(c, "s", "submission", claim.Submitted), item(c, "999", reconcile.Kind999, claim.AckRejected),
			item(c, "835", reconcile.Kind835, claim.Paid))
	}
	results, err := st.ApplyBatch(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	got = r.take()
	var stored []reconcile.Result
	for _, res := range results {
		if res.Change == reconcile.Moved || res.Change == reconcile.Recorded {
			stored = append(stored, res)
		}
	}
	if len(got) != len(stored) || len(got) != 200 {
		t.Fatalf("ApplyBatch reported %d events, stored %d, want 200", len(got), len(stored))
	}
	for _, c := range got {
		if c.effect != reconcile.Moved || c.state != claim.AckRejected {
			t.Fatalf("batch call %+v: want moved, record ack_rejected", c)
		}
	}
	if _, err := st.ApplyBatch(ctx, items); err != nil {
		t.Fatal(err)
	}
	if again := r.take(); len(again) != 0 {
		t.Fatalf("applying the batch again reported %d events", len(again))
	}
}

// TestScanRecords: the scan sees every claim record once (not index or
// outbox keys, not a deleted one), with its latest value only, in
// several fetches, leaves no consumer behind, and an error from fn stops
// it.
func TestScanRecords(t *testing.T) {
	e, b := embedded(t, t.TempDir())
	defer e.Shutdown()
	defer b.Close()
	ctx := ctxT(t)
	st, err := b.ClaimStore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := b.ClaimIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.Record(ctx, testFile(7)); err != nil { // index keys beside the records
		t.Fatal(err)
	}
	var items []reconcile.Item
	for i := range 700 {
		items = append(items, item(fmt.Sprintf("S%03d", i), "r", "ingest", claim.Received))
	}
	if _, err := st.ApplyBatch(ctx, items); err != nil {
		t.Fatal(err)
	}
	// A second revision for 400 of them: the scan sees each claim's
	// latest value only.
	items = items[:0]
	for i := range 400 {
		items = append(items, item(fmt.Sprintf("S%03d", i), "q", "ingest", claim.Queued))
	}
	if _, err := st.ApplyBatch(ctx, items); err != nil {
		t.Fatal(err)
	}
	// A deleted key's marker is not a record.
	kv, err := b.JS.KeyValue(ctx, bus.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Delete(ctx, "c."+bus.Token("S699")); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	err = st.ScanRecords(ctx, func(b []byte) error {
		var rec reconcile.Record
		if err := json.Unmarshal(b, &rec); err != nil {
			return err
		}
		seen[rec.ID]++
		if want := claim.Received; rec.ID < "S400" && rec.State != claim.Queued || rec.ID >= "S400" && rec.State != want {
			return fmt.Errorf("%s scanned in state %s", rec.ID, rec.State)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 699 || seen["S699"] != 0 {
		t.Fatalf("scanned %d claims (S699 deleted: %d), want 699", len(seen), seen["S699"])
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s scanned %d times", id, n)
		}
	}
	// The scan's consumer is gone once it returns.
	cs, err := b.JS.Stream(ctx, "KV_"+bus.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := cs.Info(ctx); err != nil || info.State.Consumers != 0 {
		t.Fatalf("consumers left on the claims bucket after a scan: %v %v", info.State.Consumers, err)
	}
	stop := errors.New("stop")
	n := 0
	if err := st.ScanRecords(ctx, func([]byte) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("scan with a failing fn: %v after %d records", err, n)
	}
}

// TestControlNumbersObserve: every allocation is reported.
func TestControlNumbersObserve(t *testing.T) {
	e, b := embedded(t, t.TempDir())
	defer e.Shutdown()
	defer b.Close()
	ctx := ctxT(t)
	cn, err := b.ControlNumbers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ok, failed int
	cn.Observe = func(err error) {
		if err != nil {
			failed++
		} else {
			ok++
		}
	}
	for range 3 {
		if _, err := cn.Next(ctx, x12.InterchangeControl, "A", "B"); err != nil {
			t.Fatal(err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := cn.Next(cctx, x12.InterchangeControl, "A", "B"); err == nil {
		t.Fatal("allocated with a cancelled context")
	}
	if ok != 3 || failed != 1 {
		t.Fatalf("observed %d allocations and %d failures, want 3 and 1", ok, failed)
	}
}

// BenchmarkARScan is the metrics' AR scan (metrics.ScanAR over
// ScanRecords) of CLAIMGATE_BENCH_CLAIMS claim records (default
// 100,000), each received, queued, submitted (with its charge) and
// acknowledged by a 999, as a claim waiting for its 277CA is. Filling the
// store takes most of the run; the figure is ns/op (one scan) and the
// heap it allocates (docs/metrics.md).
func BenchmarkARScan(b *testing.B) {
	n := 100000
	if s := os.Getenv("CLAIMGATE_BENCH_CLAIMS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	e, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: b.TempDir(), Port: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Shutdown()
	ctx := context.Background()
	bb, err := bus.Connect(ctx, bus.Options{Embedded: e})
	if err != nil {
		b.Fatal(err)
	}
	defer bb.Close()
	if err := bb.Setup(ctx); err != nil {
		b.Fatal(err)
	}
	st, err := bb.ClaimStore(ctx)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	var items []reconcile.Item
	flush := func() {
		if _, err := st.ApplyBatch(ctx, items); err != nil {
			b.Fatal(err)
		}
		items = items[:0]
	}
	for i := range n {
		c := fmt.Sprintf("CLM%07d", i)
		ref := &reconcile.Ref{ClaimID: c, PayerID: "04412", Receiver: "NORIDIAN", Interchange: int64(i/2500 + 1), Group: int64(i/2500 + 1), Set: "0001", Batch: "000000001"}
		s := item(c, "s", "submission", claim.Submitted)
		s.Event.Submission, s.Event.Amounts = ref, &reconcile.Amounts{Billed: 12345}
		s.Event.Source = reconcile.Source{File: "04412-0f615f93-000000001.837", Digest: "0f615f93d0e1a9c7b5e3f1d2c4a6b8e0f615f93d0e1a9c7b5e3f1d2c4a6b8e0"}
		ack := item(c, "999", reconcile.Kind999, claim.AckAccepted)
		ack.Event.Submission, ack.Event.Status = ref, "A"
		items = append(items, item(c, "r", "ingest", claim.Received), item(c, "q", "ingest", claim.Queued), s, ack)
		if len(items) >= 4000 {
			flush()
		}
	}
	flush()
	b.Logf("%d claims stored in %v", n, time.Since(start).Round(time.Millisecond))
	b.ReportAllocs()
	b.ResetTimer()
	var ms runtime.MemStats
	for range b.N {
		t0, cpu0 := time.Now(), cpuTime()
		snap, err := metrics.ScanAR(ctx, st, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if snap.Claims != n || snap.Payers["04412"].Open[claim.AckAccepted] != n {
			b.Fatalf("scanned %d claims (%+v), want %d ack_accepted", snap.Claims, snap.Payers["04412"], n)
		}
		runtime.ReadMemStats(&ms)
		// CPU time is the process's: the scan and the embedded server
		// sending the records.
		b.Logf("scan of %d claims: %v wall, %v CPU (heap in use %d MiB)", n, time.Since(t0).Round(time.Millisecond),
			(cpuTime() - cpu0).Round(time.Millisecond), ms.HeapInuse>>20)
	}
	b.ReportMetric(float64(n), "claims")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
