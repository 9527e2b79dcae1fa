package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/bus/natstest"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/reconcile"
)

// TestClusterScaleOut is the scale-out evidence (docs/scale-out.md): a
// real 3-node nats-server cluster with every stream and bucket replicated
// three times, two `claimgate serve` processes connected to it through
// different seed orders, the payer simulator over SFTP, and a load of
// CLAIMGATE_CLUSTER_CLAIMS claims (default 10,000) in several batches.
// Serve A kills itself (SIGKILL) right after an SFTP upload, before the
// claims are marked submitted and the file acknowledged, and is
// restarted; once the batches are ingested the NATS node holding a serve
// connection is killed (SIGKILL), the work must go on without it, then
// serve B is killed with SIGKILL; the node is restarted on the same store
// and ports, serve B on the same data directory. The load must end with
// every claim in the final state the simulator decided (amounts, payer
// claim number), each claim in exactly one 837P at the payer, no ISA13
// used twice per sender/receiver, each claim's moves once in the event
// stream, and the killed node's replicas caught up.
func TestClusterScaleOut(t *testing.T) {
	if os.Getenv("CLAIMGATE_CLUSTER_TEST") == "" {
		// Minutes of load on three servers and two serve processes:
		// make test-cluster runs it (CI after make test).
		t.Skip("set CLAIMGATE_CLUSTER_TEST=1 (make test-cluster)")
	}
	claims := 10000
	if v := os.Getenv("CLAIMGATE_CLUSTER_CLAIMS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2000 {
			t.Fatalf("CLAIMGATE_CLUSTER_CLAIMS=%q: want a number ≥ 2,000 (serve A must make 6 uploads)", v)
		}
		claims = n
	}
	// By default the node and serve B are killed once every batch is
	// ingested, during upload and reconciliation. CLAIMGATE_CLUSTER_KILL=ingest
	// kills them while batches are still being ingested: no claim has
	// been doubled since ingest runs on the JetStream journal and output,
	// but one run in CI saw serve A's restart exit 2 during start-up after
	// the node loss (docs/scale-out.md), so it is not the CI default yet.
	killIngest := os.Getenv("CLAIMGATE_CLUSTER_KILL") == "ingest"
	const batches = 8
	claimgateBin(t)
	nodes := natstest.StartCluster(t, 3)
	seeds := func(order ...int) string {
		var u []string
		for _, i := range order {
			u = append(u, nodes[i].URL())
		}
		return strings.Join(u, ",")
	}
	b := clusterBus(t, seeds(0, 1, 2))

	dir := t.TempDir()
	// Registered first, so they run after the processes are stopped.
	t.Cleanup(func() {
		if t.Failed() {
			// What CI keeps of a failed run: the serves' warnings and
			// errors (their logs hold digests and counts, no claim data).
			logServeProblems(t, dir)
		}
	})
	if keep := os.Getenv("CLAIMGATE_CLUSTER_KEEP"); keep != "" {
		t.Cleanup(func() {
			if t.Failed() {
				os.RemoveAll(keep)
				if err := os.CopyFS(keep, os.DirFS(dir)); err != nil {
					t.Logf("keeping %s: %v", dir, err)
				}
			}
		})
	}
	s := startSim(t, dir)
	cfgPath := filepath.Join(dir, "claimgate.json")
	writeServeConfig(t, s, cfgPath)
	serveArgs := func(name string, order ...int) []string {
		// An ack wait well beyond a node failover: a batch whose
		// keep-alives were lost with the node is not handed to the other
		// replica while its first one still works on it.
		return []string{"--nats-url", seeds(order...), "--replicas", "3", "--name", name, "--claims-per-file", "250", "--ack-wait", "15s"}
	}
	// Serve A kills itself (SIGKILL) after its 6th SFTP upload, before
	// the claims are marked submitted and the message acknowledged: the
	// file goes to a replica again, and the shared SFTP ledger must say
	// it was sent.
	aData, aArgs := filepath.Join(dir, "a"), serveArgs("A", 0, 1, 2)
	a := startServe(t, aData, cfgPath, []string{"CLAIMGATE_CRASH_AT=uploaded:6"}, aArgs...)
	st, err := waitStore(t, b)
	if err != nil {
		t.Fatal(err)
	}
	bData, bArgs := filepath.Join(dir, "b"), serveArgs("B", 2, 1, 0)
	bproc := startServe(t, bData, cfgPath, nil, bArgs...)

	var ids []string
	bad := map[string]bool{}
	var paths []string
	for i := range batches {
		path := filepath.Join(dir, fmt.Sprintf("load%d.csv", i))
		n := claims / batches
		if i == batches-1 {
			n = claims - (batches-1)*(claims/batches)
		}
		got, gotBad := writeBatch(t, path, fmt.Sprintf("C%c", 'A'+i), i*100000, n, 20)
		ids = append(ids, got...)
		for k := range gotBad {
			bad[k] = true
		}
		paths = append(paths, path)
	}
	start := time.Now()
	since := func() time.Duration { return time.Since(start).Round(100 * time.Millisecond) }
	for _, path := range paths {
		out, err := runCLI(t, "submit", "--nats-url", seeds(1, 2, 0), path)
		if err != nil || !strings.Contains(out, "batch ") {
			t.Fatalf("submit: %v %s", err, out)
		}
	}
	t.Logf("%d claims in %d batches submitted at %v", len(ids), batches, since())

	a.waitKilled(t, 5*time.Minute)
	t.Logf("serve A killed itself after its 6th upload at %v (%d events)", since(), eventTotal(t, b))
	a = startServe(t, aData, cfgPath, nil, aArgs...)

	// The node holding a serve connection (the claim bucket's stream
	// leader first) is killed once every batch is ingested, with uploads
	// and responses under way (see killIngest for mid-ingest); with it
	// down the cluster must go on, and then serve B is killed (SIGKILL,
	// wherever it is).
	if killIngest {
		waitEvents(t, b, uint64(claims), 5*time.Minute)
	} else {
		waitIngested(t, b, 5*time.Minute)
	}
	victim := pickVictim(t, b, nodes)
	before := eventTotal(t, b)
	victim.Kill()
	t.Logf("node %s killed at %v (%d events)", victim.Name, since(), before)
	more := uint64(claims / 10)
	if killIngest {
		more = uint64(claims)
	}
	waitEvents(t, b, before+more, 5*time.Minute)
	bproc.kill()
	t.Logf("serve B killed (SIGKILL) at %v (%d events)", since(), eventTotal(t, b))

	victim.Restart()
	t.Logf("node %s restarted at %v", victim.Name, since())
	bproc = startServe(t, bData, cfgPath, nil, bArgs...)
	t.Logf("serve B restarted at %v", since())

	reader := &retryGet{ClaimStore: st, t: t, url: seeds(0, 1, 2)}
	waitSettled(t, reader, s, ids, bad, 10*time.Minute)
	settled := time.Since(start)
	t.Logf("all %d claims settled at %v: %.0f claims/s", len(ids), settled.Round(100*time.Millisecond), float64(len(ids))/settled.Seconds())
	// The restarted node's replicas catch up; then the claim-by-claim
	// checks read a settled cluster.
	waitCaughtUp(t, b, victim.Name, 2*time.Minute)
	t.Logf("node %s caught up at %v", victim.Name, since())
	checkFinal(t, context.Background(), reader, s, ids, bad, true)
	checkClusterEvents(t, b, ids, bad)
	checkInterchanges(t, s)
	a.stop(t)
	bproc.stop(t)
}

// clusterBus connects to the cluster and sets up the replicated streams
// and buckets, retrying until the cluster has elected its JetStream
// meta leader (only after the routes connect).
func clusterBus(t testing.TB, url string) *bus.Bus {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b, err := bus.Connect(ctx, bus.Options{URL: url, Replicas: 3, Name: "cluster-test"})
		if err == nil {
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err = b.Setup(sctx)
			cancel()
			if err == nil {
				t.Cleanup(func() { b.NC.Close() })
				return b
			}
			b.NC.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster not ready in 2m: %v", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// eventTotal is the number of messages in the claim event stream (0 while
// the stream is unreachable, e.g. during a leader election).
func eventTotal(t testing.TB, b *bus.Bus) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := b.JS.Stream(ctx, bus.StreamEvents)
	if err != nil {
		return 0
	}
	return st.CachedInfo().State.Msgs
}

// waitEvents waits until the event stream holds at least n messages.
func waitEvents(t testing.TB, b *bus.Bus, n uint64, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for eventTotal(t, b) < n {
		if time.Now().After(deadline) {
			t.Fatalf("event stream below %d messages after %v (%d)", n, limit, eventTotal(t, b))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pickVictim chooses the node to kill: one holding a claimgate serve
// connection, the claim bucket's stream leader first.
func pickVictim(t testing.TB, b *bus.Bus, nodes []*natstest.Server) *natstest.Server {
	t.Helper()
	leader := ""
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if st, err := b.JS.Stream(ctx, "KV_"+bus.BucketClaims); err == nil && st.CachedInfo().Cluster != nil {
		leader = st.CachedInfo().Cluster.Leader
	}
	var best *natstest.Server
	bestScore := -1
	for _, n := range nodes {
		names, err := n.Clients()
		if err != nil {
			t.Fatalf("node %s: %v", n.Name, err)
		}
		score := 0
		for _, c := range names {
			if c == "claimgate-serve" {
				score += 2
			}
		}
		if score > 0 && n.Name == leader {
			score++
		}
		t.Logf("node %s: %d client connections %v, claims leader %v", n.Name, len(names), names, n.Name == leader)
		if score > bestScore {
			best, bestScore = n, score
		}
	}
	if bestScore < 2 {
		t.Fatalf("no node holds a claimgate serve connection")
	}
	return best
}

// waitCaughtUp waits until every stream has a leader and every replica,
// the restarted node's included, is current with no lag.
func waitCaughtUp(t testing.TB, b *bus.Bus, node string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		why := caughtUp(b, node)
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s not caught up after %v: %s", node, limit, why)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func caughtUp(b *bus.Bus, node string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	names := b.JS.StreamNames(ctx)
	n := 0
	for name := range names.Name() {
		n++
		st, err := b.JS.Stream(ctx, name)
		if err != nil {
			return fmt.Sprintf("%s: %v", name, err)
		}
		ci := st.CachedInfo().Cluster
		if ci == nil || ci.Leader == "" {
			return name + ": no leader"
		}
		if len(ci.Replicas) != 2 {
			return fmt.Sprintf("%s: %d followers, want 2", name, len(ci.Replicas))
		}
		seen := ci.Leader == node
		for _, r := range ci.Replicas {
			if !r.Current || r.Offline || r.Lag != 0 {
				return fmt.Sprintf("%s: replica %s current %v offline %v lag %d", name, r.Name, r.Current, r.Offline, r.Lag)
			}
			seen = seen || r.Name == node
		}
		if !seen {
			return fmt.Sprintf("%s: node %s holds no replica", name, node)
		}
	}
	if err := names.Err(); err != nil && err != jetstream.ErrEndOfData {
		return err.Error()
	}
	if n < 10 {
		return fmt.Sprintf("%d streams listed", n)
	}
	return ""
}

// waitIngested waits until the batch stream is empty: every batch
// ingested and acknowledged.
func waitIngested(t testing.TB, b *bus.Bus, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := b.JS.Stream(ctx, bus.StreamBatches)
		cancel()
		if err == nil && st.CachedInfo().State.Msgs == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("batches not all ingested after %v", limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitSettled is waitFinal failing at once when a claim reached the
// payer twice (the simulator then decides it again, often a denial as a
// duplicate, and the claim would never match).
func waitSettled(t testing.TB, st *retryGet, s *sim, ids []string, bad map[string]bool, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s.mu.Lock()
		twice, example := 0, ""
		for id, n := range s.files {
			if n > 1 {
				twice++
				example = fmt.Sprintf("%s (%d times)", id, n)
			}
		}
		s.mu.Unlock()
		if twice > 0 {
			t.Fatalf("%d claims reached the payer in more than one 837P, e.g. %s in %s", twice, example, filesWith(s, strings.Fields(example)[0]))
		}
		ok, why := checkFinal(t, context.Background(), st, s, ids, bad, false)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not final after %v: %s", limit, why)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// retryGet reads claim records as a client of a cluster must: a read
// may find no responder for a moment after a node restarts (the direct
// get answerers' interest is being propagated again), so it is retried.
// Reads that keep failing go through a new connection: in one run of 14,
// every direct get on this test's long-lived connection timed out for
// minutes after a node restart, while the serves had settled every claim
// and new connections read at once (docs/scale-out.md).
type retryGet struct {
	*bus.ClaimStore
	t   testing.TB
	url string
}

func (r *retryGet) Get(ctx context.Context, id string) (*reconcile.Record, error) {
	var err error
	for i := range 50 {
		var rec *reconcile.Record
		if rec, err = r.ClaimStore.Get(ctx, id); err == nil {
			return rec, nil
		}
		if i%5 == 4 {
			r.reconnect(ctx, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nil, err
}

// reconnect replaces the store with one on a new connection (the old
// connection is closed by clusterBus's cleanup).
func (r *retryGet) reconnect(ctx context.Context, cause error) {
	b := clusterBus(r.t, r.url)
	st, err := b.ClaimStore(ctx)
	if err != nil {
		r.t.Logf("claim reads: new connection: %v", err)
		return
	}
	r.t.Logf("claim reads failing (%v): now on a new connection to %s", cause, b.NC.ConnectedUrlRedacted())
	r.ClaimStore = st
}

// filesWith names the 837Ps at the payer holding claim id, with their
// ISA13 and claim count, for a failure message.
func filesWith(s *sim, id string) string {
	var out []string
	root := filepath.Join(s.srv.Root(), "..", "processed")
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		fi, err := fileInfoOf(path)
		if err != nil {
			return nil
		}
		for _, set := range fi.Sets {
			for _, c := range set.ClaimIDs {
				if c == id {
					out = append(out, fmt.Sprintf("%s (ISA13 %d, %d claims)", filepath.Base(path), fi.Interchange, fi.Claims))
				}
			}
		}
		return nil
	})
	return strings.Join(out, ", ")
}

// checkClusterEvents is checkEvents reading the event stream with retries:
// right after a node restart a consumer request may find no responder.
// Each claim must have each of its moves exactly once.
func checkClusterEvents(t testing.TB, b *bus.Bus, ids []string, bad map[string]bool) {
	t.Helper()
	var counts map[string]map[claim.State]int
	var err error
	for try := 0; try < 20; try++ {
		if counts, err = readEventCounts(b); err == nil {
			break
		}
		t.Logf("reading the event stream: %v; again", err)
		time.Sleep(2 * time.Second)
	}
	if err != nil {
		t.Fatalf("reading the event stream: %v", err)
	}
	for _, id := range ids {
		c := counts[id]
		if c[claim.Received] != 1 {
			t.Fatalf("%s: %d received events (%v)", id, c[claim.Received], c)
		}
		if bad[id] {
			if c[claim.ScrubRejected] != 1 || c[claim.Queued] != 0 || len(c) != 2 {
				t.Fatalf("%s: events %v", id, c)
			}
			continue
		}
		if c[claim.Queued] != 1 || c[claim.Submitted] != 1 {
			t.Fatalf("%s: events %v", id, c)
		}
		finals := 0
		for st, n := range c {
			if n != 1 {
				t.Fatalf("%s: %d %s events (%v)", id, n, st, c)
			}
			if st.Final() || st == claim.Paid || st == claim.PartiallyPaid || st == claim.Denied {
				finals++
			}
		}
		if finals != 1 {
			t.Fatalf("%s: %d final events (%v)", id, finals, c)
		}
	}
}

// readEventCounts counts the moves per claim and state in the event
// stream.
func readEventCounts(b *bus.Bus) (map[string]map[claim.State]int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := b.JS.Stream(ctx, bus.StreamEvents)
	if err != nil {
		return nil, err
	}
	total := st.CachedInfo().State.Msgs
	// A plain ephemeral pull consumer (an ordered consumer's fetches
	// found no responder after the node restart, run after run).
	cons, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{AckPolicy: jetstream.AckNonePolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy, InactiveThreshold: 5 * time.Minute})
	if err != nil {
		return nil, fmt.Errorf("consumer: %w", err)
	}
	defer st.DeleteConsumer(context.Background(), cons.CachedInfo().Name)
	out := map[string]map[claim.State]int{}
	for n := uint64(0); n < total; {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, fmt.Errorf("fetch after %d of %d: %w", n, total, err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			n++
			var ev reconcile.Event
			if err := json.Unmarshal(m.Data(), &ev); err != nil {
				return nil, err
			}
			if out[ev.ClaimID] == nil {
				out[ev.ClaimID] = map[claim.State]int{}
			}
			out[ev.ClaimID][ev.State]++
		}
		if got == 0 && batch.Error() != nil {
			return nil, fmt.Errorf("fetch after %d of %d: %w", n, total, batch.Error())
		}
	}
	return out, nil
}

// logServeProblems logs, for each serve log under dir, how often each
// warning and error message came and its last 40 of them.
func logServeProblems(t testing.TB, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "*", "serve-*.log"))
	for _, path := range logs {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		counts := map[string]int{}
		var last []string
		for line := range strings.Lines(string(b)) {
			if !strings.Contains(line, "level=WARN") && !strings.Contains(line, "level=ERROR") {
				continue
			}
			if _, msg, ok := strings.Cut(line, `msg="`); ok {
				msg, _, _ = strings.Cut(msg, `"`)
				counts[msg]++
			}
			last = append(last, strings.TrimSpace(line))
			if len(last) > 40 {
				last = last[1:]
			}
		}
		rel, _ := filepath.Rel(dir, path)
		t.Logf("%s: warnings and errors by message: %v\n%s", rel, counts, strings.Join(last, "\n"))
	}
}
