package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/claim"
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
	p := startServe(b, data, cfgPath, nil, append([]string{"--ack-wait", "60s"}, strings.Fields(os.Getenv("CLAIMGATE_BENCH_SERVE_ARGS"))...)...)
	bs := connect(b, data)

	// Count moves per state from the event stream's per-subject counts
	// (claims.events.<payer>.<state>; every move is stored there once),
	// polled: a subscriber receiving every event would load the 2 cores
	// it measures (the server delivering 600,000 messages, this process
	// decoding them).
	ctx := context.Background()
	events, err := bs.JS.Stream(ctx, bus.StreamEvents)
	if err != nil {
		b.Fatal(err)
	}
	countStates := func() map[claim.State]int {
		info, err := events.Info(ctx, jetstream.WithSubjectFilter(bus.SubjectEvents+".>"))
		if err != nil {
			b.Fatal(err)
		}
		counts := map[claim.State]int{}
		for subj, k := range info.State.Subjects {
			counts[claim.State(subj[strings.LastIndexByte(subj, '.')+1:])] += int(k)
		}
		return counts
	}
	want := n - len(bad)
	reached := map[string]time.Duration{}
	var counts map[claim.State]int
	b.ResetTimer()
	start := time.Now()
	// This process runs the payer simulator (and the polling below):
	// its CPU shares the 2 cores with serve's.
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	if out, err := runCLI(b, "submit", "--data", data, batch); err != nil {
		b.Fatalf("submit: %v %s", err, out)
	}
	limit := time.Now().Add(30 * time.Minute)
	lastReport := time.Now()
	for {
		counts = countStates()
		el := time.Since(start)
		for _, st := range []claim.State{claim.Queued, claim.Submitted} {
			if _, ok := reached[string(st)]; !ok && counts[st] >= want {
				reached[string(st)] = el
			}
		}
		finals := 0
		for _, st := range []claim.State{claim.AckRejected, claim.PayerRejected, claim.Paid, claim.PartiallyPaid, claim.Denied} {
			finals += counts[st]
		}
		if finals >= want {
			break
		}
		if time.Since(lastReport) >= 10*time.Second {
			lastReport = time.Now()
			fmt.Fprintf(os.Stderr, "%v: %v\n", el.Round(time.Second), counts)
		}
		if time.Now().After(limit) {
			b.Fatalf("not settled in 30 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	total := time.Since(start)
	b.StopTimer()
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	simCPU := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	// What the run stored, stream by stream (messages and bytes): the
	// write volume per claim behind the figures.
	for st := range bs.JS.ListStreams(ctx).Info() {
		fmt.Fprintf(os.Stderr, "stream %-28s %9d msgs %8.1f MiB %6.1f msgs/claim, %9d stored in all\n", st.Config.Name, st.State.Msgs, float64(st.State.Bytes)/(1<<20), float64(st.State.Msgs)/float64(n), st.State.LastSeq)
		if os.Getenv("CLAIMGATE_BENCH_CONSUMERS") != "" {
			if js, err := bs.JS.Stream(ctx, st.Config.Name); err == nil {
				for ci := range js.ListConsumers(ctx).Info() {
					fmt.Fprintf(os.Stderr, "  consumer %s filter %v %v delivered %d pending %d\n", ci.Name, ci.Config.FilterSubject, ci.Config.FilterSubjects, ci.Delivered.Stream, ci.NumPending)
				}
			}
		}
	}
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
	b.ReportMetric(float64(n)/total.Seconds(), "claims/s")
	b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
	b.ReportMetric(reached["queued"].Seconds(), "s-queued")
	b.ReportMetric(reached["submitted"].Seconds(), "s-submitted")
	b.ReportMetric(total.Seconds(), "s-settled")
	b.ReportMetric(cpu.Seconds(), "serve-CPU-s")
	b.ReportMetric(simCPU.Seconds(), "sim-CPU-s")
	fmt.Fprintf(os.Stderr, "%d claims: all queued %v, all submitted %v, all settled %v; %.0f claims/s; serve CPU %.1f s, simulator CPU %.1f s, peak RSS %.1f MiB\n",
		n, reached["queued"].Round(time.Millisecond), reached["submitted"].Round(time.Millisecond), total.Round(time.Millisecond),
		float64(n)/total.Seconds(), cpu.Seconds(), simCPU.Seconds(), float64(rss)/1024)
}
