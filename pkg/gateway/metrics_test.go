package gateway

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/metrics"
)

// TestMetricsLease: of two replicas, only the holder of the lease
// "metrics" exports the AR gauges (every configured payer); when it
// stops, it drops them and the other replica takes over.
func TestMetricsLease(t *testing.T) {
	dir := t.TempDir()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: filepath.Join(dir, "nats"), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Shutdown()
	b, err := bus.Connect(context.Background(), bus.Options{Embedded: emb, LeaseTTL: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	type replica struct {
		m    *metrics.Metrics
		stop func()
	}
	start := func(name string) replica {
		m := metrics.New()
		ctx, cancel := context.WithCancel(context.Background())
		g, err := New(ctx, Config{DataDir: filepath.Join(dir, name), Bus: b, Claims: claimsConfig(), Holder: name,
			Log: testLog(t), Metrics: m, MetricsInterval: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- g.Run(ctx) }()
		stopped := false
		stop := func() {
			if !stopped {
				stopped = true
				cancel()
				if err := <-done; err != nil {
					t.Errorf("%s: %v", name, err)
				}
				g.Close()
			}
		}
		t.Cleanup(stop)
		return replica{m, stop}
	}
	series := func(r replica) int {
		n, err := testutil.GatherAndCount(r.m.Registry(), "claimgate_open_ar_dollars")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// waitFor waits until the replicas export want series each.
	waitFor := func(rs []replica, want ...int) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			ok := true
			var got []int
			for i, r := range rs {
				n := series(r)
				got = append(got, n)
				ok = ok && n == want[i]
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("AR series per replica %v, want %v", got, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	a := start("ra")
	waitFor([]replica{a}, len(testPayers))
	bb := start("rb")
	// Several scan intervals: rb never gets the lease while ra holds it.
	time.Sleep(time.Second)
	waitFor([]replica{a, bb}, len(testPayers), 0)
	a.stop() // releases the lease
	waitFor([]replica{a, bb}, 0, len(testPayers))
}

// TestHoldWhile: waiting between polls longer than the lease TTL keeps
// the lease (renewed every third of the TTL), where a plain wait lets it
// lapse and another replica take it; a lease another replica holds is
// reported lost.
func TestHoldWhile(t *testing.T) {
	dir := t.TempDir()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: filepath.Join(dir, "nats"), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Shutdown()
	ttl := time.Second
	b, err := bus.Connect(context.Background(), bus.Options{Embedded: emb, LeaseTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	if err := b.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	g := &Gateway{b: b}
	mine, _ := b.Leases(ctx, "replica-1")
	other, _ := b.Leases(ctx, "replica-2")
	l, err := mine.Acquire(ctx, "poll/P1")
	if err != nil {
		t.Fatal(err)
	}
	if !g.holdWhile(ctx, l, 3*ttl) {
		t.Fatal("lease lost while held")
	}
	if _, err := other.Acquire(ctx, "poll/P1"); err == nil {
		t.Fatal("another replica took a lease held through the wait")
	}
	// Without renewal it lapses (the wait above mattered).
	l2, err := mine.Acquire(ctx, "poll/P2")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var taken *bus.Lease
	for taken == nil && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		taken, _ = other.Acquire(ctx, "poll/P2")
	}
	if taken == nil {
		t.Fatal("an unrenewed lease never lapsed")
	}
	if g.holdWhile(ctx, l2, 2*ttl) {
		t.Fatal("a lease another replica holds was not reported lost")
	}
}
