package bus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/nats-io/nats.go/jetstream"
)

// What a synced write costs: one KV create per duplicate-claim key with
// JetStream syncing every write (the default) against a 2-minute interval
// (JetStream's own default). docs/bus.md records the figures.
func BenchmarkSeenRemember(b *testing.B) {
	for _, mode := range []struct {
		name     string
		interval time.Duration
	}{{"sync=always", 0}, {"sync=2m", 2 * time.Minute}} {
		b.Run(mode.name, func(b *testing.B) {
			e, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: b.TempDir(), Port: -1, SyncInterval: mode.interval})
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
			s, _ := bb.Seen(ctx)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.Remember(ctx, fmt.Sprintf("%064x", i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Synced writes with many in flight: async publishes to the event stream
// (the server still syncs each stored message). Compared with the one-at-
// a-time KV create above, this is what pipelining buys.
func BenchmarkEventPublishAsync(b *testing.B) {
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
	payload := make([]byte, 300)
	subj := bus.EventSubject("ACME", "submitted")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := bb.JS.PublishAsync(subj, payload, jetstream.WithStallWait(time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-bb.JS.PublishAsyncComplete():
	case <-time.After(time.Minute):
		b.Fatal("publishes not acknowledged in a minute")
	}
}
