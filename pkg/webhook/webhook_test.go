package webhook

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/bus/natstest"
	"github.com/claimgate/claimgate/pkg/claim"
)

// TestDeliverSignedInOrder: 40 claims × 6 events, interleaved in the
// stream, through 4 lanes: every event arrives once, signed (the
// receiver verifies each request), carrying the event byte for byte,
// and each claim's events in stream order.
func TestDeliverSignedInOrder(t *testing.T) {
	b := connect(t, embedded(t, 0))
	rcv := newReceiver(t, nil)
	ids := publishClaims(t, b, "C", 40, path)
	d, _ := runDispatcher(t, b, []Hook{hook("pm", rcv.srv.URL+"/hook?token=abc")}, Options{Holder: "r1"})
	got := rcv.waitAccepted(t, 240, time.Minute)
	checkOrder(t, got, ids, nil)
	// Each event is the published message, byte for byte.
	ctx := context.Background()
	st, err := b.JS.Stream(ctx, bus.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range got[:20] {
		m, err := st.GetMsg(ctx, a.d.Sequence)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.Data, a.d.Event) {
			t.Fatalf("sequence %d: delivered event differs from the stream's:\n%s\n%s", a.d.Sequence, a.d.Event, m.Data)
		}
		if a.d.Webhook != "pm" || a.attempt != "1" {
			t.Fatalf("delivery %+v", a)
		}
	}
	if n := len(rcv.arrivals()); n != 240 {
		t.Fatalf("%d requests for 240 events with a receiver that never fails", n)
	}
	waitFor(t, time.Minute, func() bool { st := d.Stats()[0]; return st.Delivered == 240 && st.Held == 0 })
	if st := d.Stats()[0]; !st.Holding || st.FailedAttempts != 0 || st.DeadLettered != 0 || st.Webhook != "pm" {
		t.Fatalf("stats %+v", st)
	}
}

// TestRetrySameDeliveryID: a receiver answers 500, then drops the
// connection, then accepts: the event comes three times under one
// delivery id, and the claim's next event only after it was accepted.
func TestRetrySameDeliveryID(t *testing.T) {
	b := connect(t, embedded(t, 0))
	first := eventID("R0000", claim.Received)
	rcv := newReceiver(t, func(a arrival, n int) int {
		if a.ev.ID != first {
			return 0
		}
		switch n {
		case 0:
			return 500
		case 1:
			return -1
		}
		return 0
	})
	ids := publishClaims(t, b, "R", 3, path[:3])
	runDispatcher(t, b, []Hook{hook("pm", rcv.srv.URL)}, Options{Holder: "r1"})
	got := rcv.waitAccepted(t, 9, time.Minute)
	checkOrder(t, got, ids, path[:3])
	var tries []arrival
	for _, a := range rcv.arrivals() {
		if a.ev.ID == first {
			tries = append(tries, a)
		}
	}
	if len(tries) != 3 {
		t.Fatalf("%d attempts of the failing event, want 3", len(tries))
	}
	for i, a := range tries {
		if a.delivery != DeliveryID("pm", first) || a.attempt != string(rune('1'+i)) {
			t.Fatalf("attempt %d: delivery %s attempt header %s", i+1, a.delivery, a.attempt)
		}
	}
}

// TestOrderUnderFailures: a receiver failing 40% of requests in every
// way (5xx, 429, 400, dropped connections): every event is accepted,
// each claim's in order.
func TestOrderUnderFailures(t *testing.T) {
	b := connect(t, embedded(t, 0))
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	answers := []int{500, 503, 429, 400, -1}
	rcv := newReceiver(t, func(arrival, int) int {
		mu.Lock()
		defer mu.Unlock()
		if rng.IntN(10) < 4 {
			return answers[rng.IntN(len(answers))]
		}
		return 0
	})
	h := hook("pm", rcv.srv.URL)
	h.Lanes = 3
	runDispatcher(t, b, []Hook{h}, Options{Holder: "r1", LaneDepth: 4})
	ids := publishClaims(t, b, "F", 30, path)
	got := rcv.waitAccepted(t, 180, 2*time.Minute)
	checkOrder(t, got, ids, nil)
	if len(rcv.arrivals()) <= 180 {
		t.Fatalf("the receiver failed no request")
	}
}

// TestStateFilter: a webhook for paid and denied gets only those events
// (its consumer filters by subject); one without states gets all.
func TestStateFilter(t *testing.T) {
	b := connect(t, embedded(t, 0))
	all := newReceiver(t, nil)
	final := newReceiver(t, nil)
	fh := hook("final", final.srv.URL)
	fh.States = []claim.State{claim.Paid, claim.Denied}
	runDispatcher(t, b, []Hook{hook("all", all.srv.URL), fh}, Options{Holder: "r1"})
	denied := []claim.State{claim.Received, claim.Queued, claim.Submitted, claim.Denied}
	paidIDs := publishClaims(t, b, "P", 10, path)
	deniedIDs := publishClaims(t, b, "D", 10, denied)
	got := all.waitAccepted(t, 100, time.Minute)
	checkOrder(t, got, paidIDs, nil)
	checkOrder(t, got, deniedIDs, denied)
	gotFinal := final.waitAccepted(t, 20, time.Minute)
	checkOrder(t, gotFinal, paidIDs, []claim.State{claim.Paid})
	checkOrder(t, gotFinal, deniedIDs, []claim.State{claim.Denied})
	// Nothing else is on its way: the filtered consumer has nothing pending.
	ctx := context.Background()
	c, err := b.JS.Consumer(ctx, bus.StreamEvents, ConsumerPrefix+"final")
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != 0 || len(final.arrivals()) != 20 {
		t.Fatalf("filtered webhook: %d pending, %d requests", info.NumPending, len(final.arrivals()))
	}
	if !slices.Equal(info.Config.FilterSubjects, []string{"claims.events.*.paid", "claims.events.*.denied"}) {
		t.Fatalf("filter subjects %v", info.Config.FilterSubjects)
	}
}

// TestGiveUp: an event the receiver always refuses is tried
// max_attempts times, recorded as a dead letter with the reason, and
// terminated; the claim's later events are delivered after it.
func TestGiveUp(t *testing.T) {
	b := connect(t, embedded(t, 0))
	bad := eventID("G0001", claim.Queued)
	rcv := newReceiver(t, func(a arrival, _ int) int {
		if a.ev.ID == bad {
			return 400
		}
		return 0
	})
	h := hook("pm", rcv.srv.URL)
	h.MaxAttempts = 3
	d, _ := runDispatcher(t, b, []Hook{h}, Options{Holder: "r1"})
	ids := publishClaims(t, b, "G", 3, path[:4])
	got := rcv.waitAccepted(t, 11, time.Minute)
	checkOrder(t, got, ids[:1], path[:4])
	checkOrder(t, got, ids[1:2], []claim.State{claim.Received, claim.Submitted, claim.AckAccepted})
	ctx := context.Background()
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := b.JS.Consumer(ctx, bus.StreamEvents, ConsumerPrefix+"pm")
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending == 0 && info.NumPending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer still has %d unacknowledged", info.NumAckPending)
		}
		time.Sleep(20 * time.Millisecond)
	}
	dls, err := d.DeadLetters(ctx, "pm")
	if err != nil {
		t.Fatal(err)
	}
	if len(dls) != 1 {
		t.Fatalf("%d dead letters: %+v", len(dls), dls)
	}
	dl := dls[0]
	if dl.EventID != bad || dl.ClaimID != "G0001" || dl.Attempts != 3 || dl.LastStatus != 400 || dl.Reason != "HTTP status 400" || dl.DeliveryID != DeliveryID("pm", bad) {
		t.Fatalf("dead letter %+v", dl)
	}
	n := 0
	for _, a := range rcv.arrivals() {
		if a.ev.ID == bad {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("refused event tried %d times, want 3", n)
	}
	if st := d.Stats()[0]; st.DeadLettered != 1 || st.FailedAttempts != 3 || st.Delivered != 11 {
		t.Fatalf("stats %+v", st)
	}
}

// TestCrashResumesInOrder: the holder of a webhook dies (its NATS
// connection cut, nothing released) while it retries a claim's first
// event with the second waiting behind it; a third event is published
// meanwhile. The replica taking over delivers 1, 2, 3 in order: without
// the reset to the ack floor it would get 3 at once and 1 and 2 only
// after the ack wait (60 s here, beyond the test's limit).
func TestCrashResumesInOrder(t *testing.T) {
	opts := embedded(t, time.Second)
	b := connect(t, opts)
	var mu sync.Mutex
	down := true
	rcv := newReceiver(t, func(a arrival, _ int) int {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return 503
		}
		return 0
	})
	h := hook("pm", rcv.srv.URL)
	h.RetryMin, h.RetryMax = 20*time.Millisecond, 20*time.Millisecond
	h.DeliverAll = false // a consumer at "new" resets to its ack floor too
	ba := connect(t, opts)
	_, stopA := runDispatcher(t, ba, []Hook{h}, Options{Holder: "a", LeaseTTL: time.Second})
	publish(t, b, "K1", "", claim.Received)
	publish(t, b, "K1", claim.Received, claim.Queued)
	// Wait until A holds both (retrying the first).
	waitFor(t, time.Minute, func() bool {
		c, err := b.JS.Consumer(context.Background(), bus.StreamEvents, ConsumerPrefix+"pm")
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && info.NumAckPending == 2 && len(rcv.arrivals()) >= 2
	})
	ba.NC.Close() // the crash: no ack, no lease release
	stopA()
	publish(t, b, "K1", claim.Queued, claim.Submitted)
	mu.Lock()
	down = false
	mu.Unlock()
	bb := connect(t, opts)
	runDispatcher(t, bb, []Hook{h}, Options{Holder: "b", LeaseTTL: time.Second})
	got := rcv.waitAccepted(t, 3, 30*time.Second)
	checkOrder(t, got, []string{"K1"}, path[:3])
}

// TestReplicasRestartNoLoss: two dispatchers (replicas) on a real
// nats-server process share a webhook; events are published while the
// holder is killed (connection cut) and later the other is stopped
// cleanly and a third started, with a receiver failing a fifth of the
// requests: every event is accepted, each claim's in order.
func TestReplicasRestartNoLoss(t *testing.T) {
	srv := natstest.Start(t)
	opts := bus.Options{URL: srv.URL(), LeaseTTL: time.Second}
	b := connect(t, opts)
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(3, 4))
	rcv := newReceiver(t, func(arrival, int) int {
		mu.Lock()
		defer mu.Unlock()
		if rng.IntN(5) == 0 {
			return 502
		}
		return 0
	})
	h := hook("pm", rcv.srv.URL)
	conns := map[string]*bus.Bus{}
	stops := map[string]func(){}
	start := func(name string) {
		conns[name] = connect(t, opts)
		_, stops[name] = runDispatcher(t, conns[name], []Hook{h}, Options{Holder: name, LeaseTTL: time.Second, LaneDepth: 4})
	}
	holder := func() string {
		kv, err := b.JS.KeyValue(context.Background(), bus.BucketLeases)
		if err != nil {
			t.Fatal(err)
		}
		e, err := kv.Get(context.Background(), bus.Token("webhook/pm"))
		if err != nil {
			return ""
		}
		return string(e.Value())
	}
	start("a")
	start("b")
	var ids []string
	var pub sync.WaitGroup
	pub.Add(1)
	go func() {
		defer pub.Done()
		ids = publishClaims(t, b, "X", 60, path)
	}()
	rcv.waitAccepted(t, 60, time.Minute)
	// Kill the holder while it holds unacknowledged events.
	var victim string
	waitFor(t, time.Minute, func() bool {
		c, err := b.JS.Consumer(context.Background(), bus.StreamEvents, ConsumerPrefix+"pm")
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		victim = holder()
		return err == nil && info.NumAckPending > 0 && victim != ""
	})
	t.Logf("killing %s after %d accepted", victim, len(rcv.accepted()))
	conns[victim].NC.Close() // killed: its lease lapses after the TTL
	stops[victim]()
	rcv.waitAccepted(t, 200, 2*time.Minute)
	pub.Wait()
	// A clean stop of the other: it releases the lease, the new one
	// takes over at once.
	start("c")
	for _, n := range []string{"a", "b"} {
		if n != victim {
			stops[n]()
		}
	}
	got := rcv.waitAccepted(t, 360, 2*time.Minute)
	checkOrder(t, got, ids, nil)
}

func waitFor(t testing.TB, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met in %v", limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConsumerKeepsDeliverPolicy: a consumer created with "all" keeps
// its deliver policy when a later configuration says "new" (JetStream
// refuses the change), and the filter follows the configuration.
func TestConsumerKeepsDeliverPolicy(t *testing.T) {
	b := connect(t, embedded(t, 0))
	ctx := context.Background()
	h := hook("pm", "http://127.0.0.1:9/")
	if _, err := New(ctx, b, []Hook{h}, Options{}); err != nil {
		t.Fatal(err)
	}
	h.DeliverAll = false
	h.States = []claim.State{claim.Paid}
	if _, err := New(ctx, b, []Hook{h}, Options{}); err != nil {
		t.Fatal(err)
	}
	c, err := b.JS.Consumer(ctx, bus.StreamEvents, ConsumerPrefix+"pm")
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.CachedInfo().Config
	if cfg.DeliverPolicy != jetstream.DeliverAllPolicy || !slices.Equal(cfg.FilterSubjects, []string{"claims.events.*.paid"}) {
		t.Fatalf("consumer config %+v", cfg)
	}
}

// TestNoURLInLogs: a failing attempt is logged with the webhook name,
// status and delivery id prefix, never the URL (its query holds a
// token) or the body.
func TestNoURLInLogs(t *testing.T) {
	b := connect(t, embedded(t, 0))
	rcv := newReceiver(t, func(_ arrival, n int) int {
		if n == 0 {
			return 500
		}
		return 0
	})
	var buf safeBuffer
	h := hook("pm", rcv.srv.URL+"/in?token=SECRETTOKEN")
	runDispatcher(t, b, []Hook{h}, Options{Holder: "r1", Log: slogTo(&buf)})
	publish(t, b, "L0001", "", claim.Received)
	rcv.waitAccepted(t, 1, time.Minute)
	out := buf.String()
	if !strings.Contains(out, "webhook=pm") || !strings.Contains(out, "status=500") || !strings.Contains(out, "delivery="+DeliveryID("pm", eventID("L0001", claim.Received))[:12]) {
		t.Fatalf("log lacks name, status or delivery prefix:\n%s", out)
	}
	for _, s := range []string{"SECRETTOKEN", "127.0.0.1", "L0001", "f.835"} {
		if strings.Contains(out, s) {
			t.Fatalf("log shows %q:\n%s", s, out)
		}
	}
}

// TestConsumerRemovedByHand: the webhook's consumer deleted while it
// runs is made again (from the start of the stream, "all"), and events
// published after go on being delivered.
func TestConsumerRemovedByHand(t *testing.T) {
	b := connect(t, embedded(t, 0))
	rcv := newReceiver(t, nil)
	runDispatcher(t, b, []Hook{hook("pm", rcv.srv.URL)}, Options{Holder: "r1", LeaseTTL: time.Second})
	ids := publishClaims(t, b, "H", 2, path[:3])
	rcv.waitAccepted(t, 6, time.Minute)
	if err := b.JS.DeleteConsumer(context.Background(), bus.StreamEvents, ConsumerPrefix+"pm"); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, publishClaims(t, b, "I", 2, path[:3])...)
	// Within 20 s (about 2 s here); without making the consumer again the
	// dispatcher stays stuck for most of a minute.
	got := rcv.waitAccepted(t, 12, 20*time.Second)
	checkOrder(t, got, ids, path[:3])
}
