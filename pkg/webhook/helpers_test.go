package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/reconcile"
)

var testSecret = []byte("whsec-test-0123456789")

// path is the order of states a test claim moves through.
var path = []claim.State{claim.Received, claim.Queued, claim.Submitted, claim.AckAccepted, claim.PayerAccepted, claim.Paid}

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.DiscardHandler)
}

// embedded starts an embedded JetStream server and returns its options.
func embedded(t testing.TB, leaseTTL time.Duration) bus.Options {
	t.Helper()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: filepath.Join(t.TempDir(), "nats"), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Shutdown)
	return bus.Options{Embedded: emb, LeaseTTL: leaseTTL}
}

// connect opens a Bus and sets the streams up.
func connect(t testing.TB, o bus.Options) *bus.Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := bus.Connect(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	return b
}

func eventID(claimID string, st claim.State) string {
	s := sha256.Sum256([]byte(claimID + "/" + string(st)))
	return hex.EncodeToString(s[:16])
}

// publish publishes the event moving claimID into st, as the claim store
// does (subject claims.events.<payer>.<state>, event id as message id),
// and returns its stream sequence.
func publish(t testing.TB, b *bus.Bus, claimID string, prev, st claim.State) uint64 {
	t.Helper()
	ev := reconcile.Event{ID: eventID(claimID, st), ClaimID: claimID, PayerID: "04412", Kind: reconcile.Kind835,
		State: st, Previous: prev, Effect: reconcile.Moved, Time: time.Now().UTC(),
		Source: reconcile.Source{File: "f.835", Digest: "abc", Position: 1}}
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ack, err := b.JS.Publish(ctx, bus.EventSubject(ev.PayerID, string(st)), data, jetstream.WithMsgID(ev.ID))
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

// publishClaims publishes n claims' events along path, state by state
// (all claims' received, then all queued, ...), and returns the claim ids.
func publishClaims(t testing.TB, b *bus.Bus, prefix string, n int, states []claim.State) []string {
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("%s%04d", prefix, i))
	}
	for k, st := range states {
		prev := claim.State("")
		if k > 0 {
			prev = states[k-1]
		}
		for _, id := range ids {
			publish(t, b, id, prev, st)
		}
	}
	return ids
}

// arrival is one request the receiver answered.
type arrival struct {
	delivery string
	attempt  string
	status   int
	d        Delivery
	ev       reconcile.Event
}

// receiver is a real HTTP server (loopback) that verifies every request
// and answers what answer says (0: 200).
type receiver struct {
	t      testing.TB
	srv    *httptest.Server
	mu     sync.Mutex
	log    []arrival
	answer func(a arrival, n int) int // n: how many times this delivery id came before
	seen   map[string]int
	delay  time.Duration // how long each answer takes
}

func newReceiver(t testing.TB, answer func(a arrival, n int) int) *receiver {
	r := &receiver{t: t, answer: answer, seen: map[string]int{}}
	r.srv = httptest.NewServer(r)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	if err := Verify(testSecret, req.Header, body, time.Now(), 0); err != nil {
		r.t.Errorf("receiver: %v", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		r.t.Errorf("receiver: %s with content type %q", req.Method, req.Header.Get("Content-Type"))
	}
	a := arrival{delivery: req.Header.Get(HeaderDelivery), attempt: req.Header.Get(HeaderAttempt)}
	if err := json.Unmarshal(body, &a.d); err != nil {
		r.t.Errorf("receiver: body: %v", err)
		return
	}
	if err := json.Unmarshal(a.d.Event, &a.ev); err != nil {
		r.t.Errorf("receiver: event: %v", err)
		return
	}
	if a.delivery != a.d.DeliveryID || a.delivery != DeliveryID(a.d.Webhook, a.ev.ID) {
		r.t.Errorf("receiver: delivery id header %q, body %q, want %q", a.delivery, a.d.DeliveryID, DeliveryID(a.d.Webhook, a.ev.ID))
	}
	r.mu.Lock()
	n := r.seen[a.delivery]
	r.seen[a.delivery]++
	a.status = 200
	if r.answer != nil {
		if s := r.answer(a, n); s != 0 {
			a.status = s
		}
	}
	r.log = append(r.log, a)
	r.mu.Unlock()
	if a.status == -1 { // a dropped connection
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		a.status = 500
	}
	w.WriteHeader(a.status)
}

// accepted returns the deliveries answered 2xx, the first time each
// delivery id was accepted only, in arrival order: what a receiver
// dropping repeats by delivery id processes.
func (r *receiver) accepted() []arrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []arrival
	done := map[string]bool{}
	for _, a := range r.log {
		if a.status/100 != 2 || done[a.delivery] {
			continue
		}
		done[a.delivery] = true
		out = append(out, a)
	}
	return out
}

func (r *receiver) arrivals() []arrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log)
}

// waitAccepted waits until n distinct deliveries were accepted.
func (r *receiver) waitAccepted(t testing.TB, n int, limit time.Duration) []arrival {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got := r.accepted()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries accepted in %v", len(got), n, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkOrder checks that every claim's accepted deliveries came in stream
// order and in the order of states, and that each claim got exactly
// want (nil: every state of path).
func checkOrder(t testing.TB, got []arrival, ids []string, want []claim.State) {
	t.Helper()
	if want == nil {
		want = path
	}
	per := map[string][]arrival{}
	for _, a := range got {
		per[a.ev.ClaimID] = append(per[a.ev.ClaimID], a)
	}
	for _, id := range ids {
		as := per[id]
		var states []claim.State
		for i, a := range as {
			states = append(states, a.ev.State)
			if i > 0 && a.d.Sequence <= as[i-1].d.Sequence {
				t.Fatalf("%s: delivery of sequence %d (%s) after %d (%s)", id, a.d.Sequence, a.ev.State, as[i-1].d.Sequence, as[i-1].ev.State)
			}
		}
		if !slices.Equal(states, want) {
			t.Fatalf("%s: states delivered %v, want %v", id, states, want)
		}
	}
}

// runDispatcher runs a Dispatcher for hooks on b until the returned stop
// is called (stop waits until Run returned).
func runDispatcher(t testing.TB, b *bus.Bus, hooks []Hook, o Options) (*Dispatcher, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if o.Log == nil {
		o.Log = testLog(t).With("holder", o.Holder)
	}
	d, err := New(ctx, b, hooks, o)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("dispatcher: %v", err)
			}
		case <-time.After(time.Minute):
			t.Errorf("dispatcher did not stop in a minute")
		}
	}
	t.Cleanup(stop)
	return d, stop
}

func hook(name, url string) Hook {
	return Hook{Name: name, URL: url, Secret: testSecret, Lanes: 4, RetryMin: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond, DeliverAll: true}
}
