package bus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x277ca"
	"github.com/claimgate/claimgate/edi/x999"
	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/bus/natstest"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/reconcile"
	"github.com/nats-io/nats.go/jetstream"
)

// testFile is a submitted 837P file of payer 04412 (receiver NORIDIAN):
// set 0001 holds C1..C3, set 0002 holds C4..C6.
func testFile(isa13 int64) *assemble.FileInfo {
	return &assemble.FileInfo{PayerID: "04412", Receiver: "NORIDIAN", Interchange: isa13, Group: isa13 + 100, Claims: 6,
		Sets: []assemble.SetInfo{
			{Control: "0001", Reference: fmt.Sprintf("%09d0001", isa13), ClaimIDs: []string{"C1", "C2", "C3"}},
			{Control: "0002", Reference: fmt.Sprintf("%09d0002", isa13), ClaimIDs: []string{"C4", "C5", "C6"}},
		}}
}

// streamEvents reads every message of the event stream: event id →
// subjects it was published on.
func streamEvents(t *testing.T, b *bus.Bus) map[string][]string {
	t.Helper()
	ctx := ctxT(t)
	cons, err := b.JS.OrderedConsumer(ctx, bus.StreamEvents, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"claims.events.>"}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.JS.Stream(ctx, bus.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for n := uint64(0); n < info.State.Msgs; {
		batch, err := cons.Fetch(int(info.State.Msgs-n), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range batch.Messages() {
			var ev reconcile.Event
			if err := json.Unmarshal(m.Data(), &ev); err != nil {
				t.Fatalf("event payload: %v", err)
			}
			if id := m.Headers().Get(jetstream.MsgIDHeader); id != ev.ID {
				t.Errorf("message id %q, event id %q", id, ev.ID)
			}
			out[ev.ID] = append(out[ev.ID], m.Subject())
			got++
		}
		if got == 0 {
			t.Fatalf("read %d of %d event messages", n, info.State.Msgs)
		}
		n += uint64(got)
	}
	return out
}

func testIndexAndReconcile(t *testing.T, b *bus.Bus) {
	ctx := ctxT(t)
	idx, err := b.ClaimIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	store, err := b.ClaimStore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fi := testFile(7)
	for range 2 { // recording twice is a no-op
		if err := idx.Record(ctx, fi); err != nil {
			t.Fatal(err)
		}
	}
	refs, err := idx.ByInterchange(ctx, "NORIDIAN", 7)
	if err != nil || len(refs) != 6 || refs[3].ClaimID != "C4" || refs[3].Set != "0002" || refs[3].Batch != "0000000070002" {
		t.Fatalf("ByInterchange = %+v, %v", refs, err)
	}
	if refs, _ := idx.BySet(ctx, "NORIDIAN", 107, "0002"); len(refs) != 3 || refs[0].ClaimID != "C4" {
		t.Errorf("BySet = %+v", refs)
	}
	if refs, _ := idx.BySet(ctx, "NORIDIAN", 107, ""); len(refs) != 6 {
		t.Errorf("BySet(group) = %+v", refs)
	}
	if refs, _ := idx.ByClaim(ctx, "C5"); len(refs) != 1 || refs[0].Interchange != 7 || refs[0].PayerID != "04412" {
		t.Errorf("ByClaim = %+v", refs)
	}
	if refs, _ := idx.ByInterchange(ctx, "NORIDIAN.", 7); len(refs) != 0 {
		t.Errorf("another partner's interchange matched: %+v", refs)
	}

	// A 999 accepting set 0001 and rejecting 0002, reconciled twice.
	var file bytes.Buffer
	g := x999.Build("HC", "107", "005010X222A1", []x999.SetResponse{{ID: "837", Control: "0001"},
		{ID: "837", Control: "0002", SegmentErrors: []x999.SegmentError{{SegmentID: "CLM", Position: 20, Loop: "2300", Code: "8"}}}})
	err = x999.WriteFile(ctx, &file, x12.WriterOptions{}, x12.InterchangeHeader{Sender: "NORIDIAN", Receiver: "CLAIMGATE", Time: time.Now()},
		x12.GroupHeader{Sender: "04412", Receiver: "CLAIMGATE", Time: time.Now()}, g)
	if err != nil {
		t.Fatal(err)
	}
	rc := &reconcile.Reconciler{Index: idx, Store: store}
	rep, err := rc.Reconcile(ctx, bytes.NewReader(file.Bytes()), "r.999", "digest-999")
	if err != nil || rep.Moved != 6 {
		t.Fatalf("reconcile: %+v, %v", rep, err)
	}
	rep, err = rc.Reconcile(ctx, bytes.NewReader(file.Bytes()), "r.999", "digest-999")
	if err != nil || rep.Duplicates != 6 || rep.Moved != 0 {
		t.Fatalf("reconcile again: %+v, %v", rep, err)
	}
	rec, err := store.Get(ctx, "C5")
	if err != nil || rec.State != claim.AckRejected || len(rec.Timeline) != 1 || len(rec.Pending) != 0 || rec.Submission.Set != "0002" {
		t.Fatalf("C5 record %+v, %v", rec, err)
	}
	// A 277CA accepting C1 matches it through the claim key; REF*1K is
	// kept in the record.
	tx, err := x277ca.Build(x277ca.Submission{Payer: x277ca.Entity{LastName: "NORIDIAN", IDQual: "PI", ID: "04412"},
		Receiver: x277ca.Entity{LastName: "CLAIMGATE", ID: "CG0001"}, Batch: "0000000070001",
		Claims: []x277ca.ClaimResult{{Provider: x277ca.Entity{LastName: "SEAWAY", IDQual: "XX", ID: "1245319599"},
			Patient: x277ca.Entity{LastName: "SMITH", ID: "M1"}, PatientControl: "C1", Outcome: x277ca.OutcomeAccepted,
			Charge: "100", PayerClaimControl: "PCN-C1", ServiceFrom: "20250310"}}})
	if err != nil {
		t.Fatal(err)
	}
	file.Reset()
	if err := x277ca.WriteFile(ctx, &file, x12.WriterOptions{}, x12.InterchangeHeader{Sender: "NORIDIAN", Receiver: "CLAIMGATE", Time: time.Now()},
		x12.GroupHeader{Sender: "04412", Receiver: "CLAIMGATE", Time: time.Now()}, tx); err != nil {
		t.Fatal(err)
	}
	if rep, err := rc.Reconcile(ctx, bytes.NewReader(file.Bytes()), "r.277", "digest-277"); err != nil || rep.Moved != 1 {
		t.Fatalf("reconcile 277CA: %+v, %v", rep, err)
	}
	if rec, err := store.Get(ctx, "C1"); err != nil || rec.State != claim.PayerAccepted || rec.PayerClaimNumber != "PCN-C1" || len(rec.Timeline) != 2 {
		t.Fatalf("C1 record %+v, %v", rec, err)
	}

	events := streamEvents(t, b)
	if len(events) != 7 {
		t.Fatalf("%d events on the stream, want 7: %v", len(events), events)
	}
	for _, id := range []string{"C1", "C2", "C3", "C4", "C5", "C6"} {
		rec, _ := store.Get(ctx, id)
		for _, ev := range rec.Timeline {
			want := bus.EventSubject("04412", string(ev.State))
			if subs := events[ev.ID]; len(subs) != 1 || subs[0] != want {
				t.Errorf("claim %s: event %s published on %v, want once on %s", id, ev.ID, subs, want)
			}
		}
	}
}

func TestClaimStoreEmbedded(t *testing.T) {
	e, b := embedded(t, t.TempDir())
	defer e.Shutdown()
	defer b.Close()
	testIndexAndReconcile(t, b)

	// A larger file (claim keys written by several workers at once).
	ctx := ctxT(t)
	idx, _ := b.ClaimIndex(ctx)
	fi := &assemble.FileInfo{PayerID: "60054", Receiver: "AETNA CH", Interchange: 9, Group: 9, Sets: []assemble.SetInfo{{Control: "0001", Reference: "B9"}}}
	for i := range 300 {
		fi.Sets[0].ClaimIDs = append(fi.Sets[0].ClaimIDs, fmt.Sprintf("L%03d", i))
	}
	if err := idx.Record(ctx, fi); err != nil {
		t.Fatal(err)
	}
	refs, err := idx.ByInterchange(ctx, "AETNA CH", 9)
	if err != nil || len(refs) != 300 || refs[299].ClaimID != "L299" {
		t.Fatalf("ByInterchange: %d refs, %v", len(refs), err)
	}
	for _, id := range fi.Sets[0].ClaimIDs {
		if refs, err := idx.ByClaim(ctx, id); err != nil || len(refs) != 1 || refs[0].Batch != "B9" || refs[0].ClaimID != id {
			t.Fatalf("ByClaim(%s) = %+v, %v", id, refs, err)
		}
	}
}

func TestClaimStoreServer(t *testing.T) {
	srv := natstest.Start(t)
	testIndexAndReconcile(t, connect(t, srv.URL()))
}

// Two replicas (two connections to a real nats-server) apply conflicting
// events to the same claims at once, each event by both: every event
// takes effect at most once, the record's state is the last move of its
// timeline, and exactly the moves appear on the stream, once each.
func TestClaimStoreConcurrent(t *testing.T) {
	srv := natstest.Start(t)
	replicas := []*bus.Bus{connect(t, srv.URL()), connect(t, srv.URL())}
	testConcurrent(t, replicas)
}

func TestClaimStoreConcurrentEmbedded(t *testing.T) {
	e, b := embedded(t, t.TempDir())
	defer e.Shutdown()
	defer b.Close()
	b2, err := bus.Connect(ctxT(t), bus.Options{Embedded: e})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	testConcurrent(t, []*bus.Bus{b, b2})
}

func testConcurrent(t *testing.T, replicas []*bus.Bus) {
	ctx := ctxT(t)
	const claims = 8
	states := []claim.State{claim.AckAccepted, claim.PayerAccepted, claim.Paid, claim.Denied, claim.Reversed, claim.PayerRejected}
	var evs [][]reconcile.Event
	for c := range claims {
		id := fmt.Sprintf("K%d", c)
		var list []reconcile.Event
		for i, s := range states {
			o := &reconcile.Outcome{Kind: reconcile.Kind835, File: "f", Digest: fmt.Sprintf("file-%d", i), Position: 1, State: s}
			list = append(list, reconcile.NewEvent(o, reconcile.Ref{ClaimID: id, PayerID: "ACME.1"}, time.Now()))
		}
		evs = append(evs, list)
	}
	var mu sync.Mutex
	results := map[string][]reconcile.Change{}
	var wg sync.WaitGroup
	for w := range 4 {
		store, err := replicas[w%2].ClaimStore(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for c := range claims {
				order := rng.Perm(len(states))
				for _, i := range order {
					ev := evs[c][i]
					res, err := store.Apply(ctx, ev.ClaimID, ev)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					results[ev.ID] = append(results[ev.ID], res.Change)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	store, _ := replicas[0].ClaimStore(ctx)
	moves := 0
	for c := range claims {
		rec, err := store.Get(ctx, fmt.Sprintf("K%d", c))
		if err != nil || rec == nil {
			t.Fatalf("claim K%d: %v", c, err)
		}
		if len(rec.Pending) != 0 {
			t.Errorf("K%d: events left pending %+v", c, rec.Pending)
		}
		last := claim.State("")
		ids := map[string]bool{}
		for _, e := range rec.Timeline {
			if ids[e.ID] {
				t.Errorf("K%d: event %s twice in the timeline", c, e.ID)
			}
			ids[e.ID] = true
			if e.Effect == reconcile.Moved {
				last = e.State
			}
		}
		if rec.State != last {
			t.Errorf("K%d: state %s, but the last move of the timeline is to %s", c, rec.State, last)
		}
		for _, ev := range evs[c] {
			var took, dup int
			for _, ch := range results[ev.ID] {
				switch ch {
				case reconcile.Moved, reconcile.Recorded:
					took++
				case reconcile.Duplicate:
					dup++
				}
				if ch == reconcile.Moved {
					moves++
				}
			}
			if took > 1 || (took == 1) != ids[ev.ID] || len(results[ev.ID]) != 4 {
				t.Errorf("K%d event to %s: results %v, in timeline %v", c, ev.State, results[ev.ID], ids[ev.ID])
			}
		}
	}
	events := streamEvents(t, replicas[1])
	if len(events) != moves {
		t.Errorf("%d events on the stream, %d moves applied", len(events), moves)
	}
	for id, subs := range events {
		if len(subs) != 1 {
			t.Errorf("event %s published %d times", id, len(subs))
		}
	}
}

// A move stored but not published (the writer crashed in between) is
// published by the next Apply to the claim, or by Sweep; publishing it
// twice gives one message.
func TestClaimStorePendingRecovered(t *testing.T) {
	e, b := embedded(t, t.TempDir())
	defer e.Shutdown()
	defer b.Close()
	ctx := ctxT(t)
	kv, err := b.JS.KeyValue(ctx, bus.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	store, _ := b.ClaimStore(ctx)
	crashed := func(id string, s claim.State) reconcile.Event {
		var rec reconcile.Record
		ev := reconcile.NewEvent(&reconcile.Outcome{Kind: reconcile.Kind999, Digest: "d-" + id, Position: 1, State: s}, reconcile.Ref{ClaimID: id, PayerID: "P"}, time.Now())
		if ch, stored := rec.Apply(ev, time.Now()); ch != reconcile.Moved {
			t.Fatal(ch)
		} else {
			rec.Pending = []reconcile.Event{stored}
		}
		v, _ := json.Marshal(rec)
		if _, err := kv.Create(ctx, "c."+bus.Token(id), v); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	ev1 := crashed("X1", claim.AckAccepted)
	crashed("X2", claim.AckRejected)
	// Re-reconciling the file applies X1's event again: a duplicate that
	// publishes what was pending.
	if res, err := store.Apply(ctx, "X1", ev1); err != nil || res.Change != reconcile.Duplicate {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
	if n, err := store.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 (X2)", n, err)
	}
	if n, err := store.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("second Sweep = %d, %v; want 0", n, err)
	}
	// X1's event published again (as after a crash before the pending
	// flag was cleared): JetStream drops the repeat.
	rec, _ := store.Get(ctx, "X1")
	data, _ := json.Marshal(rec.Timeline[0])
	if ack, err := b.JS.Publish(ctx, bus.EventSubject("P", "ack_accepted"), data, jetstream.WithMsgID(ev1.ID)); err != nil || !ack.Duplicate {
		t.Fatalf("republish: %+v, %v", ack, err)
	}
	events := streamEvents(t, b)
	want := map[string][]string{
		ev1.ID:                             {bus.EventSubject("P", "ack_accepted")},
		reconcile.EventID("d-X2", 1, "X2"): {bus.EventSubject("P", "ack_rejected")},
	}
	if !reflect.DeepEqual(events, want) {
		t.Errorf("events %v, want %v", events, want)
	}
	for _, id := range []string{"X1", "X2"} {
		if rec, _ := store.Get(ctx, id); len(rec.Pending) != 0 {
			t.Errorf("%s still pending", id)
		}
	}
}

// What one claim transition costs on the embedded server syncing every
// write: read, create the record with the move pending, publish the
// event, clear the pending mark (docs/reconcile.md records the figure).
func BenchmarkClaimStoreApply(b *testing.B) {
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
	store, _ := bb.ClaimStore(ctx)
	i := 0
	for b.Loop() {
		i++
		o := &reconcile.Outcome{Kind: reconcile.Kind835, Digest: "bench", Position: i, State: claim.Paid,
			Amounts: &reconcile.Amounts{Billed: 20600, Paid: 18000}}
		id := fmt.Sprintf("B%d", i)
		if res, err := store.Apply(ctx, id, reconcile.NewEvent(o, reconcile.Ref{ClaimID: id, PayerID: "04412"}, time.Now())); err != nil || res.Change != reconcile.Moved {
			b.Fatal(res, err)
		}
	}
}

// A claim whose events are huge (a thousand lines with reasons each)
// still gets stored: the record sheds timeline line results, then old
// timeline events, to stay under MaxRecordBytes; every event is still
// published whole.
func TestClaimStoreBoundsRecord(t *testing.T) {
	e, b := embedded(t, t.TempDir())
	defer e.Shutdown()
	defer b.Close()
	ctx := ctxT(t)
	store, _ := b.ClaimStore(ctx)
	kv, _ := b.JS.KeyValue(ctx, bus.BucketClaims)
	var lines []reconcile.LineOutcome
	for i := range 1000 {
		lines = append(lines, reconcile.LineOutcome{Control: fmt.Sprintf("L%04d", i), Procedure: "97110", State: claim.Denied, Billed: 5000,
			Reasons: []reconcile.Reason{{Source: "CAS", Group: "CO", Code: "50", Amount: 5000, Text: "Not medically necessary in the payer's judgement", DenialCategory: "medical_necessity"}}})
	}
	states := []claim.State{claim.Denied, claim.Reversed, claim.Denied, claim.Reversed, claim.Denied, claim.Reversed}
	for i, s := range states {
		o := &reconcile.Outcome{Kind: reconcile.Kind835, Digest: fmt.Sprintf("big-%d", i), Position: 1, State: s, Lines: lines}
		if res, err := store.Apply(ctx, "BIG", reconcile.NewEvent(o, reconcile.Ref{ClaimID: "BIG", PayerID: "P"}, time.Now())); err != nil || res.Change != reconcile.Moved {
			t.Fatalf("apply %d: %+v, %v", i, res, err)
		}
	}
	entry, err := kv.Get(ctx, "c.BIG")
	if err != nil || len(entry.Value()) > bus.MaxRecordBytes {
		t.Fatalf("record of %d bytes, %v", len(entry.Value()), err)
	}
	rec, _ := store.Get(ctx, "BIG")
	if rec.State != claim.Reversed || len(rec.Timeline)+rec.Dropped != len(states) || len(rec.Pending) != 0 {
		t.Errorf("record: state %s, %d in timeline + %d dropped, %d pending", rec.State, len(rec.Timeline), rec.Dropped, len(rec.Pending))
	}
	events := streamEvents(t, b)
	if len(events) != len(states) {
		t.Errorf("%d events published, want %d", len(events), len(states))
	}
}

// The index writes a file's claim lists in atomic batches, guessing
// that a claim has no list yet: a claim submitted again (in another
// file) keeps both submissions, also when two replicas record files
// naming the same claims at once (the guess and every write are
// compare-and-sets). The second replica's Setup runs while the first
// writes: it must not turn the bucket's atomic batches off meanwhile.
func TestIndexResubmittedClaims(t *testing.T) {
	srv := natstest.Start(t)
	ctx := ctxT(t)
	file := func(isa13 int64, from, to int) *assemble.FileInfo {
		fi := &assemble.FileInfo{PayerID: "60054", Receiver: "AETNA CH", Interchange: isa13, Group: isa13,
			Sets: []assemble.SetInfo{{Control: "0001", Reference: fmt.Sprintf("B%d", isa13)}}}
		for i := from; i < to; i++ {
			fi.Sets[0].ClaimIDs = append(fi.Sets[0].ClaimIDs, fmt.Sprintf("R%04d", i))
		}
		return fi
	}
	idx, _ := connect(t, srv.URL()).ClaimIndex(ctx)
	// 1,200 claims: two atomic batches.
	if err := idx.Record(ctx, file(1, 0, 1200)); err != nil {
		t.Fatal(err)
	}
	// Claims 1000..1299 again, with 100 new ones, from two replicas at
	// once (two files each).
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for r := range 2 {
		other, _ := connect(t, srv.URL()).ClaimIndex(ctx)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range 2 {
				errs <- other.Record(ctx, file(int64(2+2*r+f), 1000, 1300))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 1300 {
		id := fmt.Sprintf("R%04d", i)
		refs, err := idx.ByClaim(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var batches []string
		for _, r := range refs {
			if r.ClaimID != id {
				t.Fatalf("%s: a ref of %s", id, r.ClaimID)
			}
			batches = append(batches, r.Batch)
		}
		slices.Sort(batches)
		var want []string
		if i < 1200 {
			want = append(want, "B1")
		}
		if i >= 1000 {
			want = append(want, "B2", "B3", "B4", "B5")
		}
		if !slices.Equal(batches, want) {
			t.Fatalf("%s: submissions %v, want %v", id, batches, want)
		}
	}
}
