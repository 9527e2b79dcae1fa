package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/reconcile"
	"github.com/claimgate/claimgate/pkg/webhook"
)

// hookReceiver is a webhook receiver on loopback: it verifies every
// request's signature, refuses every refuseEvery-th request with 503,
// and keeps the deliveries it accepted, each delivery id once.
type hookReceiver struct {
	t        testing.TB
	secret   []byte
	srv      *httptest.Server
	mu       sync.Mutex
	requests int
	refuse   int
	answered [2]int // 2xx answers, refusals (503)
	seen     map[string]bool
	accepted []hookGot
}

type hookGot struct {
	seq   uint64
	ev    reconcile.Event
	delID string
}

func newHookReceiver(t testing.TB, secret []byte, refuseEvery int) *hookReceiver {
	r := &hookReceiver{t: t, secret: secret, refuse: refuseEvery, seen: map[string]bool{}}
	r.srv = httptest.NewServer(r)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if err := webhook.Verify(r.secret, req.Header, body, time.Now(), 0); err != nil {
		r.t.Errorf("receiver: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var d webhook.Delivery
	var ev reconcile.Event
	if err := json.Unmarshal(body, &d); err != nil {
		r.t.Errorf("receiver: %v", err)
		return
	}
	if err := json.Unmarshal(d.Event, &ev); err != nil {
		r.t.Errorf("receiver: %v", err)
		return
	}
	if d.DeliveryID != req.Header.Get(webhook.HeaderDelivery) || d.DeliveryID != webhook.DeliveryID(d.Webhook, ev.ID) {
		r.t.Errorf("receiver: delivery id %s, header %s", d.DeliveryID, req.Header.Get(webhook.HeaderDelivery))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if r.refuse > 0 && r.requests%r.refuse == 0 {
		r.answered[1]++
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	r.answered[0]++
	if !r.seen[d.DeliveryID] {
		r.seen[d.DeliveryID] = true
		r.accepted = append(r.accepted, hookGot{d.Sequence, ev, d.DeliveryID})
	}
	w.WriteHeader(http.StatusNoContent)
}

// settled returns the 2xx answers and refusals once no request has
// come for 300 ms (a killed sender's last request may still be in its
// handler).
func (r *hookReceiver) settled() [2]int {
	last := -1
	for {
		r.mu.Lock()
		n, a := r.requests, r.answered
		r.mu.Unlock()
		if n == last {
			return a
		}
		last = n
		time.Sleep(300 * time.Millisecond)
	}
}

func (r *hookReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.accepted)
}

// check waits until the receiver accepted every event of the claims the
// stream holds, then checks each claim's arrived in stream order.
func (r *hookReceiver) check(t testing.TB, b *bus.Bus, ids []string, limit time.Duration) {
	t.Helper()
	counts := eventCounts(t, b)
	want := map[string]int{}
	total := 0
	for _, id := range ids {
		for _, n := range counts[id] {
			want[id] += n
			total += n
		}
	}
	deadline := time.Now().Add(limit)
	for r.count() < total {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events delivered in %v", r.count(), total, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	per := map[string][]hookGot{}
	for _, a := range r.accepted {
		per[a.ev.ClaimID] = append(per[a.ev.ClaimID], a)
	}
	for _, id := range ids {
		as := per[id]
		if len(as) != want[id] {
			t.Fatalf("%s: %d events delivered, the stream holds %d", id, len(as), want[id])
		}
		for i := 1; i < len(as); i++ {
			if as[i].seq <= as[i-1].seq {
				t.Fatalf("%s: %s (sequence %d) delivered after %s (%d)", id, as[i].ev.State, as[i].seq, as[i-1].ev.State, as[i-1].seq)
			}
		}
		if as[0].ev.State != "received" {
			t.Fatalf("%s: first delivery %+v", id, as[0])
		}
	}
	if r.refuse > 0 && r.requests <= total {
		t.Fatalf("the receiver refused nothing (%d requests)", r.requests)
	}
}

// TestWebhooksEndToEnd: a batch through the gateway and the payer
// simulator with a webhook registered for every state and a receiver
// refusing every fifth request: each claim's events all arrive, signed
// (the receiver verifies every request), in the order of the event
// stream.
func TestWebhooksEndToEnd(t *testing.T) {
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
	secret := []byte("e2e-secret")
	rcv := newHookReceiver(t, secret, 5)
	hctx, stopHooks := context.WithCancel(ctx)
	disp, err := webhook.New(hctx, b, []webhook.Hook{{Name: "pm", URL: rcv.srv.URL, Secret: secret, Lanes: 4,
		RetryMin: 10 * time.Millisecond, RetryMax: 200 * time.Millisecond}}, webhook.Options{Holder: "r1", Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	hdone := make(chan error, 1)
	go func() { hdone <- disp.Run(hctx) }()
	defer func() { stopHooks(); <-hdone }()

	g, stop := runGateway(t, b, s, filepath.Join(dir, "data"), "r1")
	defer stop()
	ids, bad := writeBatch(t, filepath.Join(dir, "b.csv"), "WH", 0, 60, 10)
	if _, _, err := Submit(ctx, b, filepath.Join(dir, "b.csv"), "b.csv"); err != nil {
		t.Fatal(err)
	}
	waitAll(t, g, s, ids, bad, 90*time.Second)
	rcv.check(t, b, ids, time.Minute)
}

// TestWebhooksServeKilled: `claimgate serve` with a webhook in its
// configuration file (secret from a file) is SIGKILLed while it
// delivers, and started again on the same data: every claim event is
// delivered, signed, each claim's in stream order.
func TestWebhooksServeKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	s := startSim(t, dir)
	secret := []byte("serve-secret")
	secretFile := filepath.Join(dir, "hook.secret")
	if err := os.WriteFile(secretFile, append(secret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	rcv := newHookReceiver(t, secret, 4)
	cfgPath := filepath.Join(dir, "claimgate.json")
	writeServeConfig(t, s, cfgPath)
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["webhooks"] = []any{map[string]any{"name": "pm", "url": rcv.srv.URL + "/hook?token=abc", "secret": "file:" + secretFile,
		"retry_min": "10ms", "retry_max": "200ms", "lanes": 4}}
	raw, _ = json.Marshal(m)
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	batch := filepath.Join(dir, "batch.csv")
	ids, bad := writeBatch(t, batch, "WK", 0, 120, 15)

	p := startServe(t, data, cfgPath, nil)
	connect(t, data)
	submitCLI(t, data, batch)
	deadline := time.Now().Add(90 * time.Second)
	for rcv.count() < 150 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d deliveries before the kill", rcv.count())
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.kill()
	t.Logf("killed after %d deliveries", rcv.count())

	before := rcv.settled()
	p = startServe(t, data, cfgPath, nil, "--metrics-listen", "127.0.0.1:0")
	b := connect(t, data)
	st, err := b.ClaimStore(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(90 * time.Second)
	for {
		ok, why := checkFinal(t, context.Background(), st, s, ids, bad, false)
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart: %s", why)
		}
		time.Sleep(200 * time.Millisecond)
	}
	rcv.check(t, b, ids, time.Minute)
	// The restarted replica's webhook metrics match what the receiver
	// answered it, and nothing is left pending or in flight.
	after := rcv.settled()
	want := map[string]float64{
		`claimgate_webhook_deliveries_total{webhook="pm"}`:                     float64(after[0] - before[0]),
		`claimgate_webhook_failed_attempts_total{webhook="pm"}`:                float64(after[1] - before[1]),
		`claimgate_webhook_dead_letters_total{webhook="pm"}`:                   0,
		`claimgate_webhook_in_flight_events{webhook="pm"}`:                     0,
		`claimgate_webhook_lease_held{webhook="pm"}`:                           1,
		`claimgate_consumer_pending_messages{consumer="claimgate-webhook-pm"}`: 0,
	}
	if want[`claimgate_webhook_deliveries_total{webhook="pm"}`] == 0 {
		t.Fatal("the restarted replica delivered nothing: the metrics check would prove nothing")
	}
	url := metricsURL(t, p.log)
	var got map[string]float64
	for deadline := time.Now().Add(30 * time.Second); ; {
		got = scrapeSamples(t, url)
		if got[`claimgate_webhook_in_flight_events{webhook="pm"}`] == 0 && got[`claimgate_consumer_pending_messages{consumer="claimgate-webhook-pm"}`] == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	p.stop(t)
	if log, err := os.ReadFile(p.log); err == nil {
		t.Logf("restarted serve reset the webhook to its ack floor: %v", bytes.Contains(log, []byte("resumes from its acknowledged floor")))
	}
}

// metricsURL reads the /metrics address serve logged for
// --metrics-listen.
func metricsURL(t testing.TB, logPath string) string {
	t.Helper()
	re := regexp.MustCompile(`msg="metrics listening" url=(\S+)`)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		b, _ := os.ReadFile(logPath)
		if m := re.FindSubmatch(b); m != nil {
			return string(m[1])
		}
	}
	t.Fatal("serve never logged its metrics address")
	return ""
}

// scrapeSamples GETs a Prometheus text exposition and returns
// "name{labels}" → value, labels as exposed.
func scrapeSamples(t testing.TB, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
