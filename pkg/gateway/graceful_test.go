package gateway

import (
	"context"
	"testing"
	"time"
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
