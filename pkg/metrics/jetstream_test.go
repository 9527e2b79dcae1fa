package metrics_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/bus/natstest"
	"github.com/claimgate/claimgate/pkg/metrics"
)

// TestJetStreamCluster: on a real 3-node cluster with every stream
// replicated three times, the scrape reports a consumer's pending and
// ack-pending messages as the server has them, every stream's messages,
// no replica offline; once a node is killed, the streams report its
// replica offline (the "NATS node down" signal), and the connection
// gauge follows the client's connection.
func TestJetStreamCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	nodes := natstest.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var b *bus.Bus
	deadline := time.Now().Add(time.Minute)
	for {
		var err error
		b, err = bus.Connect(ctx, bus.Options{URL: nodes[0].URL(), Replicas: 3})
		if err == nil {
			sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
			err = b.Setup(sctx)
			scancel()
			if err == nil {
				break
			}
			b.NC.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster never ready: %v\n%s", err, nodes[0].Log())
		}
		time.Sleep(250 * time.Millisecond)
	}
	defer b.NC.Close()

	// A consumer with 5 messages waiting and 2 delivered, not acked.
	cons, err := b.JS.CreateOrUpdateConsumer(ctx, bus.StreamEvents, jetstream.ConsumerConfig{Durable: "test-lag", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		if _, err := b.JS.Publish(ctx, bus.EventSubject("04412", "queued"), []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	batch, err := cons.Fetch(2, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for range batch.Messages() {
		got++
	}
	if got != 2 {
		t.Fatalf("fetched %d messages", got)
	}

	m := metrics.New()
	m.WatchJetStream(b.NC, b.JS, metrics.ConsumerRef{Stream: bus.StreamEvents, Durable: "test-lag"},
		metrics.ConsumerRef{Stream: bus.StreamEvents, Durable: "no-such-consumer"})
	// waitFor waits until the scrape holds every line of want.
	waitFor := func(what string, want ...string) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			body := scrape(t, m)
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(body, w)
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the scrape lacks %q:\n%s", what, want, body)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	waitFor("healthy cluster",
		`claimgate_consumer_pending_messages{consumer="test-lag"} 5`,
		`claimgate_consumer_ack_pending_messages{consumer="test-lag"} 2`,
		`claimgate_jetstream_stream_messages{stream="CLAIMGATE_EVENTS"} 7`,
		`claimgate_jetstream_stream_replicas_offline{stream="CLAIMGATE_EVENTS"} 0`,
		`claimgate_jetstream_stream_replicas_offline{stream="KV_claimgate_claims"} 0`,
		`claimgate_nats_connected 1`)
	if body := scrape(t, m); strings.Contains(body, "no-such-consumer") {
		t.Error("a consumer that does not exist was reported")
	}

	nodes[2].Kill()
	waitFor("a node down",
		`claimgate_jetstream_stream_replicas_offline{stream="CLAIMGATE_EVENTS"} 1`,
		`claimgate_jetstream_stream_replicas_offline{stream="KV_claimgate_claims"} 1`,
		`claimgate_nats_connected 1`)

	b.NC.Close()
	waitFor("connection closed", `claimgate_nats_connected 0`)
	if n, err := testutil.GatherAndCount(m.Registry(), "claimgate_jetstream_stream_messages"); err != nil || n != 0 {
		t.Errorf("stream figures while disconnected: %d series (%v)", n, err)
	}
}

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, mf := range mfs {
		for _, mt := range mf.Metric {
			sb.WriteString(mf.GetName())
			if len(mt.Label) > 0 {
				var l []string
				for _, lp := range mt.Label {
					l = append(l, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
				}
				sb.WriteString("{" + strings.Join(l, ",") + "}")
			}
			if mt.Gauge != nil {
				fmt.Fprintf(&sb, " %v\n", mt.Gauge.GetValue())
			} else {
				sb.WriteString(" -\n")
			}
		}
	}
	return sb.String()
}
