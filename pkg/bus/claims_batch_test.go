package bus_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/bus/natstest"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/reconcile"
)

var batchStates = []claim.State{claim.Received, claim.ScrubRejected, claim.Queued, claim.Submitted, claim.AckAccepted, claim.AckRejected,
	claim.PayerAccepted, claim.PayerRejected, claim.Paid, claim.PartiallyPaid, claim.Denied, claim.Reversed}

// randomItems makes n items over the given claims: random states in
// random order, a quarter of them repeats of an earlier event (a file
// reconciled again).
func randomItems(rng *rand.Rand, claims, n int, prefix string) []reconcile.Item {
	var items []reconcile.Item
	for i := range n {
		if len(items) > 0 && rng.IntN(4) == 0 {
			items = append(items, items[rng.IntN(len(items))])
			continue
		}
		id := fmt.Sprintf("%s%d", prefix, rng.IntN(claims))
		kinds := []reconcile.Kind{reconcile.Kind999, reconcile.Kind277CA, reconcile.Kind835}
		o := &reconcile.Outcome{Kind: kinds[rng.IntN(3)], Digest: fmt.Sprintf("f%d", i/7), Position: i, State: batchStates[rng.IntN(len(batchStates))]}
		items = append(items, reconcile.Item{ClaimID: id, Event: reconcile.NewEvent(o, reconcile.Ref{ClaimID: id, PayerID: "ACME.1"}, time.Now())})
	}
	return items
}

// ApplyBatch gives exactly what applying the items one by one to the
// reference MemoryStore gives: the same result per item, the same final
// records, and the same events published, once each, in per-claim order.
func TestApplyBatchEqualsSequential(t *testing.T) {
	e, b := embedded(t, t.TempDir())
	defer e.Shutdown()
	defer b.Close()
	ctx := ctxT(t)
	store, _ := b.ClaimStore(ctx)
	mem := reconcile.NewMemoryStore()
	rng := rand.New(rand.NewPCG(1, 2))
	const claims = 1500 // more than one atomic batch's worth
	for round := range 3 {
		items := randomItems(rng, claims, 4000, "R")
		got, err := store.ApplyBatch(ctx, items)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := reconcile.ApplyAll(ctx, mem, items)
		for i := range items {
			if got[i] != want[i] {
				t.Fatalf("round %d item %d (%s → %s): batch %+v, sequential %+v", round, i, items[i].ClaimID, items[i].Event.State, got[i], want[i])
			}
		}
	}
	for c := range claims {
		id := fmt.Sprintf("R%d", c)
		g, _ := store.Get(ctx, id)
		w, _ := mem.Get(ctx, id)
		if (g == nil) != (w == nil) {
			t.Fatalf("%s: batch %v, sequential %v", id, g, w)
		}
		if g == nil {
			continue
		}
		if g.State != w.State || len(g.Pending) != 0 || !slices.Equal(eventIDs(g.Timeline), eventIDs(w.Timeline)) {
			t.Fatalf("%s: batch %s %v pending %d, sequential %s %v", id, g.State, eventIDs(g.Timeline), len(g.Pending), w.State, eventIDs(w.Timeline))
		}
	}
	events := streamEvents(t, b)
	if len(events) != len(mem.Published) {
		t.Fatalf("%d events on the stream, %d moves", len(events), len(mem.Published))
	}
	for _, ev := range mem.Published {
		if subs := events[ev.ID]; len(subs) != 1 || subs[0] != bus.EventSubject("ACME.1", string(ev.State)) {
			t.Fatalf("event %s on %v", ev.ID, subs)
		}
	}
}

func eventIDs(evs []reconcile.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID+":"+string(e.Effect))
	}
	return out
}

// Two connections to a real nats-server apply overlapping batches at
// once (the same events, in different orders): each event takes effect
// exactly once, every record holds every move published for it, and no
// event is published twice. With the compare-and-set switched off (a
// plain put) the same run loses updates: events overwritten by another
// writer apply a second time, or stay missing from the records.
func TestApplyBatchConcurrent(t *testing.T) {
	srv := natstest.Start(t)
	for _, cas := range []bool{true, false} {
		t.Run(fmt.Sprintf("cas=%v", cas), func(t *testing.T) {
			b1, b2 := connect(t, srv.URL()), connect(t, srv.URL())
			lost := concurrentBatches(t, []*bus.Bus{b1, b2}, cas, fmt.Sprintf("cas%v-", cas))
			if cas && lost != 0 {
				t.Fatalf("%d events lost from the records or applied twice", lost)
			}
			if !cas && lost == 0 {
				t.Fatal("plain puts lost no update: the test does not exercise concurrent writers")
			}
		})
	}
}

// concurrentBatches returns how many published moves the records lack
// plus how many events took effect more than once (a lost update makes
// the event apply again later).
func concurrentBatches(t *testing.T, replicas []*bus.Bus, cas bool, prefix string) int {
	ctx := ctxT(t)
	const claims = 50
	var evs []reconcile.Item
	for c := range claims {
		id := fmt.Sprintf("%sK%d", prefix, c)
		for i, s := range []claim.State{claim.Submitted, claim.AckAccepted, claim.PayerAccepted, claim.Paid, claim.Reversed, claim.Denied} {
			o := &reconcile.Outcome{Kind: reconcile.Kind835, Digest: fmt.Sprintf("file-%d", i), Position: c, State: s}
			evs = append(evs, reconcile.Item{ClaimID: id, Event: reconcile.NewEvent(o, reconcile.Ref{ClaimID: id, PayerID: "P"}, time.Now())})
		}
	}
	var mu sync.Mutex
	took := map[string]int{}
	var wg sync.WaitGroup
	for w := range 4 {
		store, err := replicas[w%2].ClaimStore(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !cas {
			bus.WithoutCAS(store)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for range 5 {
				items := slices.Clone(evs)
				rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
				for part := range slices.Chunk(items, 60) {
					res, err := store.ApplyBatch(ctx, part)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for i, r := range res {
						if r.Change == reconcile.Moved || r.Change == reconcile.Recorded {
							took[part[i].Event.ID]++
						}
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	store, _ := replicas[0].ClaimStore(ctx)
	inRecords := map[string]bool{}
	for c := range claims {
		rec, err := store.Get(ctx, fmt.Sprintf("%sK%d", prefix, c))
		if err != nil || rec == nil {
			t.Fatalf("claim %d: %v", c, err)
		}
		for _, e := range rec.Timeline {
			inRecords[e.ID] = true
		}
	}
	events := streamEvents(t, replicas[1])
	lost := 0
	for _, it := range evs {
		id := it.Event.ID
		if subs := events[id]; len(subs) > 1 {
			t.Errorf("event %s published %d times", id, len(subs))
		} else if len(subs) == 1 && !inRecords[id] {
			lost++
		}
		if took[id] > 1 {
			lost++ // applied over a record that had lost it
		}
	}
	return lost
}

// A writer that stops after storing the records and its outbox (before
// publishing) or after publishing (before clearing the outbox): a new
// store applying the batch again publishes every move exactly once and
// clears the outbox.
func TestApplyBatchCrashRetry(t *testing.T) {
	e, b := embedded(t, t.TempDir())
	defer e.Shutdown()
	defer b.Close()
	ctx := ctxT(t)
	rng := rand.New(rand.NewPCG(3, 4))
	mem := reconcile.NewMemoryStore()
	for _, step := range []string{"stored", "published"} {
		items := randomItems(rng, 300, 1200, "X"+step)
		crashing, _ := b.ClaimStore(ctx)
		bus.CrashAt(crashing, step)
		if _, err := crashing.ApplyBatch(ctx, items); err == nil {
			t.Fatalf("%s: no simulated crash", step)
		}
		if step == "stored" {
			// The outbox the fresh store must sweep is stored compressed.
			kv, _ := b.JS.KeyValue(ctx, bus.BucketClaims)
			keys, err := kv.ListKeysFiltered(ctx, "o.>")
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for k := range keys.Keys() {
				e, err := kv.Get(ctx, k)
				if err != nil {
					t.Fatal(err)
				}
				if v := e.Value(); len(v) == 0 || v[0] != 0xff {
					t.Errorf("outbox entry %s stored uncompressed", k)
				}
				n++
			}
			if n == 0 {
				t.Fatal("the crash left no outbox entry")
			}
		}
		fresh, _ := b.ClaimStore(ctx)
		if _, err := fresh.ApplyBatch(ctx, items); err != nil {
			t.Fatal(err)
		}
		// The crash came after every record was stored, so the retry
		// is a second application (refused events may now apply).
		reconcile.ApplyAll(ctx, mem, items)
		reconcile.ApplyAll(ctx, mem, items)
		for c := range 300 {
			id := fmt.Sprintf("X%s%d", step, c)
			g, _ := fresh.Get(ctx, id)
			w, _ := mem.Get(ctx, id)
			if (g == nil) != (w == nil) || g != nil && (g.State != w.State || len(g.Pending) != 0) {
				t.Fatalf("%s %s: %+v, want %+v", step, id, g, w)
			}
		}
	}
	kv, _ := b.JS.KeyValue(ctx, bus.BucketClaims)
	if keys, err := kv.ListKeysFiltered(ctx, "o.>"); err == nil {
		for k := range keys.Keys() {
			t.Errorf("outbox entry %s left", k)
		}
	}
	events := streamEvents(t, b)
	if len(events) != len(mem.Published) {
		t.Fatalf("%d events on the stream, %d moves", len(events), len(mem.Published))
	}
	for _, ev := range mem.Published {
		if len(events[ev.ID]) != 1 {
			t.Fatalf("event %s published %d times", ev.ID, len(events[ev.ID]))
		}
	}
}

// BenchmarkClaimStoreApplyBatch moves b.N claims through six states in
// batches of 1,000 (one file's worth), by one writer or four (each its
// own claims, as the gateway's workers on different files), on the
// embedded server syncing every write and on a nats-server process (also
// syncing every write); it reports moves/s and claims/s. docs/bus.md
// records the figures:
//
//	go test -run '^$' -bench ClaimStoreApplyBatch -benchtime 100000x ./pkg/bus
func BenchmarkClaimStoreApplyBatch(b *testing.B) {
	b.Run("embedded", func(b *testing.B) {
		e, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: b.TempDir(), Port: -1})
		if err != nil {
			b.Fatal(err)
		}
		defer e.Shutdown()
		bb, err := bus.Connect(context.Background(), bus.Options{Embedded: e})
		if err != nil {
			b.Fatal(err)
		}
		defer bb.Close()
		benchApplyBatch(b, bb, 1)
	})
	b.Run("embedded-writers=4", func(b *testing.B) {
		e, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: b.TempDir(), Port: -1})
		if err != nil {
			b.Fatal(err)
		}
		defer e.Shutdown()
		bb, err := bus.Connect(context.Background(), bus.Options{Embedded: e})
		if err != nil {
			b.Fatal(err)
		}
		defer bb.Close()
		benchApplyBatch(b, bb, 4)
	})
	for _, writers := range []int{1, 4} {
		b.Run(fmt.Sprintf("process-writers=%d", writers), func(b *testing.B) {
			srv := natstest.Start(b)
			bb, err := bus.Connect(context.Background(), bus.Options{URL: srv.URL()})
			if err != nil {
				b.Fatal(err)
			}
			defer bb.Close()
			benchApplyBatch(b, bb, writers)
		})
	}
}

// benchApplyBatch: b.N claims, each moved through six states, by
// writers goroutines (each its own claims and connection's store).
func benchApplyBatch(b *testing.B, bb *bus.Bus, writers int) {
	ctx := context.Background()
	if err := bb.Setup(ctx); err != nil {
		b.Fatal(err)
	}
	states := []claim.State{claim.Received, claim.Queued, claim.Submitted, claim.AckAccepted, claim.PayerAccepted, claim.Paid}
	const batch = 1000
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		store, _ := bb.ClaimStore(ctx)
		wg.Add(1)
		go func() {
			defer wg.Done()
			items := make([]reconcile.Item, 0, batch)
			for lo := w * batch; lo < b.N; lo += batch * writers {
				hi := min(lo+batch, b.N)
				for si, s := range states {
					items = items[:0]
					for c := lo; c < hi; c++ {
						id := fmt.Sprintf("B%d", c)
						o := &reconcile.Outcome{Kind: reconcile.Kind835, Digest: fmt.Sprintf("file-%d-%d", lo, si), Position: c, State: s,
							Amounts: &reconcile.Amounts{Billed: 20600, Paid: 18000}}
						items = append(items, reconcile.Item{ClaimID: id, Event: reconcile.NewEvent(o, reconcile.Ref{ClaimID: id, PayerID: "04412"}, time.Now())})
					}
					res, err := store.ApplyBatch(ctx, items)
					if err != nil {
						b.Error(err)
						return
					}
					if res[0].Change != reconcile.Moved {
						b.Errorf("%s: %+v", s, res[0])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N*len(states))/time.Since(start).Seconds(), "moves/s")
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "claims/s")
}

// A store's cached record that another replica changed since: a batch
// that writes fails its compare-and-set and is decided again; one that
// writes nothing (a duplicate) re-reads the record, so its result tells
// the claim's current state, not the cached one.
func TestApplyBatchStaleCache(t *testing.T) {
	e, b := embedded(t, t.TempDir())
	defer e.Shutdown()
	defer b.Close()
	ctx := ctxT(t)
	a, _ := b.ClaimStore(ctx)
	other, _ := b.ClaimStore(ctx)
	ev := func(s claim.State, n int) reconcile.Item {
		o := &reconcile.Outcome{Kind: reconcile.Kind999, Digest: "d", Position: n, State: s}
		return reconcile.Item{ClaimID: "S1", Event: reconcile.NewEvent(o, reconcile.Ref{ClaimID: "S1", PayerID: "P"}, time.Now())}
	}
	sub, ack, paid := ev(claim.Submitted, 1), ev(claim.AckAccepted, 2), ev(claim.Paid, 3)
	if _, err := a.ApplyBatch(ctx, []reconcile.Item{sub}); err != nil { // cached by a
		t.Fatal(err)
	}
	if _, err := other.ApplyBatch(ctx, []reconcile.Item{ack}); err != nil {
		t.Fatal(err)
	}
	res, err := a.ApplyBatch(ctx, []reconcile.Item{sub})
	if err != nil || res[0].Change != reconcile.Duplicate || res[0].From != claim.AckAccepted {
		t.Fatalf("duplicate on a stale cache: %+v, %v (want From ack_accepted)", res, err)
	}
	if _, err := other.ApplyBatch(ctx, []reconcile.Item{paid}); err != nil {
		t.Fatal(err)
	}
	// a's cache is stale again; its write of the same event must not
	// move the claim a second time.
	res, err = a.ApplyBatch(ctx, []reconcile.Item{paid})
	if err != nil || res[0].Change != reconcile.Duplicate || res[0].From != claim.Paid {
		t.Fatalf("write on a stale cache: %+v, %v", res, err)
	}
	rec, _ := a.Get(ctx, "S1")
	if rec.State != claim.Paid || len(rec.Timeline) != 3 {
		t.Fatalf("record %s with %d events, want paid with 3", rec.State, len(rec.Timeline))
	}
}

// A claim the scrubber rejected is sent again, corrected, under the same
// id and to another payer: it starts over at received (its record's
// payer now the new one), is queued and submitted; a repeat of the
// rejection (its batch redelivered) changes nothing, and a claim
// already queued never goes back to received. Both write paths agree.
func TestResubmitAfterScrubRejection(t *testing.T) {
	e, b := embedded(t, t.TempDir())
	defer e.Shutdown()
	defer b.Close()
	ctx := ctxT(t)
	store, _ := b.ClaimStore(ctx)
	ev := func(id, claimID, payer string, st claim.State) reconcile.Item {
		return reconcile.Item{ClaimID: claimID, Event: reconcile.Event{ID: id, ClaimID: claimID, PayerID: payer, State: st, Time: time.Now()}}
	}
	for _, batch := range []bool{false, true} {
		c := fmt.Sprintf("RS-%v", batch)
		items := []reconcile.Item{
			ev("r1", c, "P1", claim.Received), ev("x1", c, "P1", claim.ScrubRejected),
			ev("r2", c, "P2", claim.Received), ev("q2", c, "P2", claim.Queued),
			ev("r1", c, "P1", claim.Received), ev("x1", c, "P1", claim.ScrubRejected), // the first batch again
			ev("r3", c, "P1", claim.Received), // the same id in a third batch
			ev("s2", c, "P2", claim.Submitted),
		}
		want := []reconcile.Change{reconcile.Moved, reconcile.Moved, reconcile.Moved, reconcile.Moved,
			reconcile.Duplicate, reconcile.Duplicate, reconcile.Refused, reconcile.Moved}
		var got []reconcile.Result
		if batch {
			var err error
			if got, err = store.ApplyBatch(ctx, items); err != nil {
				t.Fatal(err)
			}
		} else {
			for _, it := range items {
				r, err := store.Apply(ctx, it.ClaimID, it.Event)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, r)
			}
		}
		for i := range want {
			if got[i].Change != want[i] {
				t.Fatalf("batch %v: item %d (%s): %s, want %s", batch, i, items[i].Event.State, got[i].Change, want[i])
			}
		}
		rec, err := store.Get(ctx, c)
		if err != nil || rec.State != claim.Submitted || rec.Payer != "P2" {
			t.Fatalf("batch %v: record %+v, %v", batch, rec, err)
		}
	}
}

// A writer that dies after storing its moves and outbox, while another
// store keeps running (it swept once at its start, before the crash):
// the moves' events are missing until SweepOutbox publishes them, each
// once; a second sweep finds nothing (the gateway's periodic sweep).
func TestSweepOutboxWhileRunning(t *testing.T) {
	e, b := embedded(t, t.TempDir())
	defer e.Shutdown()
	defer b.Close()
	ctx := ctxT(t)
	survivor, _ := b.ClaimStore(ctx)
	if _, err := survivor.ApplyBatch(ctx, []reconcile.Item{item("S0", "r", "ingest", claim.Received)}); err != nil {
		t.Fatal(err)
	}
	var items []reconcile.Item
	for c := range 50 {
		items = append(items, item(fmt.Sprintf("D%02d", c), "r", "ingest", claim.Received))
	}
	dying, _ := b.ClaimStore(ctx)
	bus.CrashAt(dying, "stored")
	if _, err := dying.ApplyBatch(ctx, items); err == nil {
		t.Fatal("no simulated crash")
	}
	if n := len(streamEvents(t, b)); n != 1 {
		t.Fatalf("%d events before the sweep, want 1 (the survivor's)", n)
	}
	n, err := survivor.SweepOutbox(ctx)
	if err != nil || n == 0 {
		t.Fatalf("sweep: %d entries, %v", n, err)
	}
	events := streamEvents(t, b)
	for _, it := range items {
		if len(events[it.Event.ID]) != 1 {
			t.Fatalf("event %s published %d times", it.Event.ID, len(events[it.Event.ID]))
		}
	}
	if n, err := survivor.SweepOutbox(ctx); err != nil || n != 0 {
		t.Fatalf("second sweep: %d entries, %v", n, err)
	}
	if got := len(streamEvents(t, b)); got != 51 {
		t.Fatalf("%d events after two sweeps, want 51", got)
	}
}
