package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/reconcile"
	"github.com/claimgate/claimgate/pkg/webhook"
)

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
	type got struct {
		seq   uint64
		ev    reconcile.Event
		delID string
	}
	var mu sync.Mutex
	var accepted []got
	seen := map[string]bool{}
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header, body, time.Now(), 0); err != nil {
			t.Errorf("receiver: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var d webhook.Delivery
		var ev reconcile.Event
		if err := json.Unmarshal(body, &d); err != nil {
			t.Errorf("receiver: %v", err)
			return
		}
		if err := json.Unmarshal(d.Event, &ev); err != nil {
			t.Errorf("receiver: %v", err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		requests++
		if requests%5 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if !seen[d.DeliveryID] {
			seen[d.DeliveryID] = true
			accepted = append(accepted, got{d.Sequence, ev, d.DeliveryID})
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	hctx, stopHooks := context.WithCancel(ctx)
	disp, err := webhook.New(hctx, b, []webhook.Hook{{Name: "pm", URL: srv.URL, Secret: secret, Lanes: 4,
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
	counts := eventCounts(t, b)
	total := 0
	for _, id := range ids {
		for _, n := range counts[id] {
			total += n
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		n := len(accepted)
		mu.Unlock()
		if n >= total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events delivered", n, total)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	per := map[string][]got{}
	for _, a := range accepted {
		per[a.ev.ClaimID] = append(per[a.ev.ClaimID], a)
	}
	for _, id := range ids {
		as := per[id]
		n := 0
		for _, c := range counts[id] {
			n += c
		}
		if len(as) != n {
			t.Fatalf("%s: %d events delivered, the stream holds %d", id, len(as), n)
		}
		for i := 1; i < len(as); i++ {
			if as[i].seq <= as[i-1].seq {
				t.Fatalf("%s: %s (sequence %d) delivered after %s (%d)", id, as[i].ev.State, as[i].seq, as[i-1].ev.State, as[i-1].seq)
			}
		}
		if as[0].ev.State != "received" || as[0].delID != webhook.DeliveryID("pm", as[0].ev.ID) {
			t.Fatalf("%s: first delivery %+v", id, as[0])
		}
	}
	if requests <= total {
		t.Fatalf("the receiver refused nothing (%d requests)", requests)
	}
}
