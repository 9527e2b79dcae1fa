package gateway

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/reconcile"
)

// BenchmarkEndToEnd (make bench-e2e) runs CLAIMGATE_BENCH_CLAIMS claims
// (default 100,000) from one CSV batch through a real `claimgate serve`
// (embedded JetStream, file storage, fsync on every write) to the payer
// simulator over SFTP (delays zero) and back, until every claim is in
// its final state. It reports claims/s, the time at which every claim
// was queued, submitted and settled, and the serve process's peak RSS.
func BenchmarkEndToEnd(b *testing.B) {
	n := 100000
	if v := os.Getenv("CLAIMGATE_BENCH_CLAIMS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	for range b.N {
		benchOnce(b, n)
	}
}

func benchOnce(b *testing.B, n int) {
	dir := b.TempDir()
	s := startSim(b, dir)
	cfgPath := filepath.Join(dir, "claimgate.json")
	writeServeConfig(b, s, cfgPath)
	// Bigger files than the tests' 50 claims: the default 2,500.
	raw, _ := os.ReadFile(cfgPath)
	var m map[string]any
	json.Unmarshal(raw, &m)
	delete(m, "max_claims_per_interchange")
	raw, _ = json.Marshal(m)
	os.WriteFile(cfgPath, raw, 0o600)

	batch := filepath.Join(dir, "batch.csv")
	_, bad := writeBatch(b, batch, "B", 0, n, 0)
	data := filepath.Join(dir, "data")
	p := startServe(b, data, cfgPath, nil, "--ack-wait", "60s")
	bs := connect(b, data)

	// Count moves per state from the event stream (core subscription:
	// every event is published there once per move).
	var mu sync.Mutex
	counts := map[claim.State]int{}
	reached := map[string]time.Duration{}
	start := time.Now()
	finals := 0
	done := make(chan struct{})
	sub, err := bs.NC.Subscribe("claims.events.>", func(msg *nats.Msg) {
		var ev reconcile.Event
		if json.Unmarshal(msg.Data, &ev) != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		counts[ev.State]++
		switch ev.State {
		case claim.Queued, claim.Submitted:
			if counts[ev.State] == n-len(bad) {
				reached[string(ev.State)] = time.Since(start)
			}
		case claim.AckRejected, claim.PayerRejected, claim.Paid, claim.PartiallyPaid, claim.Denied:
			finals++
			if finals == n-len(bad) {
				reached["settled"] = time.Since(start)
				close(done)
			}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	sub.SetPendingLimits(-1, -1)
	defer sub.Unsubscribe()
	b.ResetTimer()
	start = time.Now()
	if out, err := runCLI(b, "submit", "--data", data, batch); err != nil {
		b.Fatalf("submit: %v %s", err, out)
	}
	limit := time.Now().Add(30 * time.Minute)
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-time.After(10 * time.Second):
			mu.Lock()
			fmt.Fprintf(os.Stderr, "%v: %v\n", time.Since(start).Round(time.Second), counts)
			mu.Unlock()
			if time.Now().After(limit) {
				b.Fatalf("not settled in 30 minutes")
			}
		}
	}
	total := time.Since(start)
	b.StopTimer()
	p.stop(b)
	if keep := os.Getenv("CLAIMGATE_BENCH_LOG"); keep != "" {
		// serve's log, for the stages' timing (no claim data in it).
		if l, err := os.ReadFile(p.log); err == nil {
			os.WriteFile(keep, l, 0o600)
		}
	}
	ru := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	rss := ru.Maxrss // KiB on Linux
	// serve's CPU time (user+sys): steadier than wall time on a shared
	// machine.
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	mu.Lock()
	defer mu.Unlock()
	b.ReportMetric(float64(n)/total.Seconds(), "claims/s")
	b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
	b.ReportMetric(reached["queued"].Seconds(), "s-queued")
	b.ReportMetric(reached["submitted"].Seconds(), "s-submitted")
	b.ReportMetric(total.Seconds(), "s-settled")
	b.ReportMetric(cpu.Seconds(), "serve-CPU-s")
	fmt.Fprintf(os.Stderr, "%d claims: all queued %v, all submitted %v, all settled %v; %.0f claims/s; serve CPU %.1f s, peak RSS %.1f MiB\n",
		n, reached["queued"].Round(time.Millisecond), reached["submitted"].Round(time.Millisecond), total.Round(time.Millisecond),
		float64(n)/total.Seconds(), cpu.Seconds(), float64(rss)/1024)
}
