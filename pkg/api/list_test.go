package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/api"
	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/gateway"
	"github.com/claimgate/claimgate/pkg/reconcile"
	"github.com/nats-io/nats.go/jetstream"
)

// storeEnv is the API on a claim store seeded directly (no gateway):
// for listing tests and benchmarks with many claims.
type storeEnv struct {
	b     *bus.Bus
	store *bus.ClaimStore
	url   string
	env   *env
}

func startStoreEnv(tb testing.TB) *storeEnv {
	dir := tb.TempDir()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: filepath.Join(dir, "nats"), Port: -1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(emb.Shutdown)
	ctx := context.Background()
	b, err := bus.Connect(ctx, bus.Options{Embedded: emb})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	if err := b.Setup(ctx); err != nil {
		tb.Fatal(err)
	}
	if _, err := b.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: gateway.BucketBatches, History: 1}); err != nil {
		tb.Fatal(err)
	}
	store, err := b.ClaimStore(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := api.New(api.Config{Bus: b})
	if err != nil {
		tb.Fatal(err)
	}
	se := &storeEnv{b: b, store: store}
	se.url = serve(tb, srv.Handler())
	se.env = &env{t: tb, b: b, url: se.url, rec: &recorder{}}
	return se
}

// seed gives claims ids PREFIX0..n-1 a received event (payer by parity).
func (se *storeEnv) seed(tb testing.TB, prefix string, n int, state claim.State) {
	ctx := context.Background()
	var items []reconcile.Item
	for i := range n {
		id := fmt.Sprintf("%s%06d", prefix, i)
		items = append(items, reconcile.Item{ClaimID: id, Event: reconcile.Event{
			ID: fmt.Sprintf("%032x", len(prefix)*1_000_000_000+i*16+len(state)), ClaimID: id, PayerID: testPayers[i%2],
			Kind: "ingest", State: state, Time: time.Now().UTC(), Source: reconcile.Source{File: "seed"}}})
	}
	for len(items) > 0 {
		k := min(1000, len(items))
		if _, err := se.store.ApplyBatch(ctx, items[:k]); err != nil {
			tb.Fatal(err)
		}
		items = items[k:]
	}
}

func (se *storeEnv) page(tb testing.TB, q string) api.ClaimList {
	r := se.env.do("GET", se.url, routeClaims, "/v1/claims?"+q, "", "", nil)
	if r.Status != 200 {
		tb.Fatalf("%s: %d %s", q, r.Status, r.Body)
	}
	var l api.ClaimList
	if err := json.Unmarshal(r.Body, &l); err != nil {
		tb.Fatal(err)
	}
	return l
}

// TestListWhileChanging: claims that change while a client pages through
// are never skipped: those changed behind the cursor come again with
// their new state, the others once.
func TestListWhileChanging(t *testing.T) {
	se := startStoreEnv(t)
	const n = 300
	se.seed(t, "L", n, claim.Received)
	seen := map[string][]string{}
	cursor, pages := "", 0
	for {
		q := "limit=50"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		l := se.page(t, q)
		for _, c := range l.Claims {
			seen[c.ClaimID] = append(seen[c.ClaimID], c.State)
		}
		pages++
		if pages == 2 {
			// 0..99 are behind the cursor, 200..299 ahead of it.
			var items []reconcile.Item
			for _, i := range []int{10, 60, 250} {
				id := fmt.Sprintf("L%06d", i)
				items = append(items, reconcile.Item{ClaimID: id, Event: reconcile.Event{ID: fmt.Sprintf("%032x", 9_000_000+i),
					ClaimID: id, PayerID: testPayers[i%2], Kind: "ingest", State: claim.Queued, Time: time.Now().UTC(), Source: reconcile.Source{File: "seed"}}})
			}
			if _, err := se.store.ApplyBatch(context.Background(), items); err != nil {
				t.Fatal(err)
			}
		}
		if l.NextCursor == "" {
			break
		}
		cursor = l.NextCursor
	}
	if len(seen) != n {
		t.Fatalf("%d claims listed, want %d", len(seen), n)
	}
	for id, states := range seen {
		switch id {
		case "L000010", "L000060":
			if fmt.Sprint(states) != "[received queued]" {
				t.Fatalf("%s: %v", id, states)
			}
		case "L000250":
			if fmt.Sprint(states) != "[queued]" {
				t.Fatalf("%s: %v", id, states)
			}
		default:
			if len(states) != 1 {
				t.Fatalf("%s: %v", id, states)
			}
		}
	}
	// A filter that matches nothing still walks to the end in bounded
	// pages (5,000 records looked at per request).
	l := se.page(t, "state=paid")
	if len(l.Claims) != 0 || l.NextCursor != "" {
		t.Fatalf("state=paid: %+v", l)
	}
	checkOpenAPIPartial(t, se.env.rec.all)
}

// BenchmarkListClaims: one page of 100 claims from the start, the middle
// and the end of a store of 20,000 claims, and a filtered page that reads
// its 5,000-record window: the cost of a page does not grow with the
// store (run: go test -run '^$' -bench ListClaims -benchtime 50x ./pkg/api).
func BenchmarkListClaims(b *testing.B) {
	se := startStoreEnv(b)
	const n = 20000
	se.seed(b, "B", n, claim.Received)
	// The cursors of the first, middle and last pages.
	var cursors []string
	cursor := ""
	for i := 0; ; i++ {
		q := "limit=1000"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		l := se.page(b, q)
		if i == 0 || i == n/2000 || l.NextCursor == "" {
			cursors = append(cursors, cursor)
		}
		if l.NextCursor == "" {
			break
		}
		cursor = l.NextCursor
	}
	for i, name := range []string{"first", "middle", "last"} {
		q := "limit=100"
		if cursors[i] != "" {
			q += "&cursor=" + url.QueryEscape(cursors[i])
		}
		b.Run("page="+name, func(b *testing.B) {
			for b.Loop() {
				se.env.rec.all = nil
				se.page(b, q)
			}
		})
	}
	b.Run("filter-no-match", func(b *testing.B) {
		for b.Loop() {
			se.env.rec.all = nil
			se.page(b, "state=paid&limit=100")
		}
	})
}

// BenchmarkBatchStatus: GET /v1/batches/{id} of a done batch of 10,000
// claims, whose counts read every claim's state (16 reads at a time):
// the most one request reads (api.Config.MaxCount). Run: go test -run
// '^$' -bench BatchStatus -benchtime 5x ./pkg/api.
func BenchmarkBatchStatus(b *testing.B) {
	se := startStoreEnv(b)
	const n = 10000
	se.seed(b, "S", n, claim.Received)
	ctx := context.Background()
	digest := fmt.Sprintf("%064x", 42)
	var ids strings.Builder
	for i := range n {
		fmt.Fprintf(&ids, "S%06d\n", i)
	}
	obj, err := se.b.JS.ObjectStore(ctx, bus.ObjectEDI)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := obj.PutString(ctx, gateway.BatchClaimsObject(digest), ids.String()); err != nil {
		b.Fatal(err)
	}
	rep, _ := json.Marshal(gateway.BatchReport{BatchID: digest, Status: gateway.BatchDone, StartedAt: time.Now(), Claims: n, ClaimIDs: n})
	kv, err := se.b.JS.KeyValue(ctx, gateway.BucketBatches)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := kv.Put(ctx, gateway.ReportKey(digest), rep); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		se.env.rec.all = nil
		r := se.env.do("GET", se.url, routeBatch, "/v1/batches/"+digest, "", "", nil)
		var st api.BatchStatus
		json.Unmarshal(r.Body, &st)
		if r.Status != 200 || st.Counted != n || st.Counts["received"] != n {
			b.Fatalf("%d %.300s", r.Status, r.Body)
		}
	}
}

// BenchmarkPostBatch: POST /v1/batches of a 10,000-claim CSV batch
// (spooled, its format checked, decoded once end to end, stored in the
// object store and announced); each iteration posts new bytes. Run: go
// test -run '^$' -bench PostBatch -benchtime 5x ./pkg/api.
func BenchmarkPostBatch(b *testing.B) {
	se := startStoreEnv(b)
	const n = 10000
	i := 0
	var size int
	for b.Loop() {
		b.StopTimer()
		body, _, _ := csvBatch(b, fmt.Sprintf("P%03d", i), i*n, n, 0)
		size = len(body)
		i++
		se.env.rec.all = nil
		b.StartTimer()
		r := se.env.do("POST", se.url, routeBatches, "/v1/batches", "", "text/csv", body)
		if r.Status != 202 {
			b.Fatalf("%d %s", r.Status, r.Body)
		}
	}
	b.ReportMetric(float64(size)/(1<<20), "MiB/batch")
}
