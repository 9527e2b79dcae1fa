package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
)

// TestSubmitReader: a batch from a reader, with its digest computed
// (spooled) or given (streamed and checked); a wrong digest stores
// nothing; the same bytes again are a duplicate under the same id, and
// BucketBatches records when each was received.
func TestSubmitReader(t *testing.T) {
	dir := t.TempDir()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: filepath.Join(dir, "nats"), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Shutdown()
	ctx := context.Background()
	b, err := bus.Connect(ctx, bus.Options{Embedded: emb})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	g, err := New(ctx, Config{DataDir: filepath.Join(dir, "data"), Bus: b})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	digestOf := func(s string) string {
		h := sha256.Sum256([]byte(s))
		return hex.EncodeToString(h[:])
	}
	a, c := "claim_id,payer_id\nA1,P\n", "claim_id,payer_id\nC1,P\n"

	id, dup, err := SubmitReader(ctx, b, strings.NewReader(a), "a.csv", "")
	if err != nil || dup || id != digestOf(a) {
		t.Fatalf("spooled: %s %v %v", id, dup, err)
	}
	// A wrong digest: refused, no object left under it.
	wrong := digestOf("something else")
	if _, _, err := SubmitReader(ctx, b, strings.NewReader(c), "c.csv", wrong); err == nil {
		t.Fatal("a wrong digest was taken")
	}
	if _, err := g.obj.GetInfo(ctx, wrong); !errors.Is(err, jetstream.ErrObjectNotFound) {
		t.Fatalf("object under the wrong digest: %v", err)
	}
	// The right one streams in.
	id, dup, err = SubmitReader(ctx, b, strings.NewReader(c), "c.csv", digestOf(c))
	if err != nil || dup || id != digestOf(c) {
		t.Fatalf("streamed: %s %v %v", id, dup, err)
	}
	got, err := g.obj.GetBytes(ctx, id)
	if err != nil || !bytes.Equal(got, []byte(c)) {
		t.Fatalf("object: %q %v", got, err)
	}
	// Again, either way: a duplicate, nothing new on the stream.
	for _, d := range []string{"", digestOf(a)} {
		id, dup, err := SubmitReader(ctx, b, strings.NewReader(a), "a.csv", d)
		if err != nil || !dup || id != digestOf(a) {
			t.Fatalf("again (%q): %s %v %v", d, id, dup, err)
		}
	}
	st, err := b.JS.Stream(ctx, bus.StreamBatches)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil || info.State.Msgs != 2 {
		t.Fatalf("batch stream: %+v %v", info.State, err)
	}
	kv, err := b.JS.KeyValue(ctx, BucketBatches)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{digestOf(a), digestOf(c)} {
		taken, ok, err := GetBatchTaken(ctx, kv, d)
		if err != nil || !ok || taken.ReceivedAt.IsZero() {
			t.Fatalf("taken %s: %+v %v %v", d[:12], taken, ok, err)
		}
	}
}
