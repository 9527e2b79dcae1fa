package gateway

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/pipeline"
)

// TestGraceful: work in flight keeps its context for shutdownGrace after
// the stop, and no longer; the cancel function ends it at once.
func TestGraceful(t *testing.T) {
	defer func(d time.Duration) { shutdownGrace = d }(shutdownGrace)
	shutdownGrace = 200 * time.Millisecond
	ctx, stop := context.WithCancel(context.Background())
	g, cancel := graceful(ctx)
	defer cancel()
	stop()
	stopped := time.Now()
	select {
	case <-g.Done():
		t.Fatal("ended with the stop, not after the grace")
	case <-time.After(50 * time.Millisecond):
	}
	select {
	case <-g.Done():
		if d := time.Since(stopped); d < shutdownGrace {
			t.Fatalf("ended %v after the stop, before the grace", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still going 10 s after the stop")
	}

	g2, cancel2 := graceful(context.Background())
	cancel2()
	select {
	case <-g2.Done():
	case <-time.After(time.Second):
		t.Fatal("cancel did not end it")
	}
}

// TestRunBusyDataDir: a second gateway on a data directory another one
// holds stops at once with ErrStateBusy; the ingester's start is retried
// only for what a cluster's failover can cure.
func TestRunBusyDataDir(t *testing.T) {
	dir := t.TempDir()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: filepath.Join(dir, "nats"), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Shutdown()
	b, err := bus.Connect(context.Background(), bus.Options{Embedded: emb})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s := startSim(t, dir)
	data := filepath.Join(dir, "data")
	runGateway(t, b, s, data, "r1")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g, err := New(ctx, Config{DataDir: data, Bus: b, Claims: claimsConfig(), Payers: s.payers(), Holder: "r2", Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	start := time.Now()
	err = g.Run(ctx)
	if !errors.Is(err, pipeline.ErrStateBusy) {
		t.Fatalf("second gateway on the same data directory: %v, want ErrStateBusy", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("refused after %v, want at once", d)
	}
}
