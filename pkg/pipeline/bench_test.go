package pipeline

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/config"
	"github.com/claimgate/claimgate/pkg/control"
	"github.com/claimgate/claimgate/pkg/scrub"
)

// newFilePipeline builds a pipeline as convert does without --config:
// files in out, state in state.
func newFilePipeline(t testing.TB, out, state string, ev Events) (*Pipeline, func()) {
	t.Helper()
	cfg := &config.Config{
		Submitter: config.Submitter{Name: "CLAIMGATE", ID: "CLAIMGATE", ContactName: "CLAIMGATE", Email: "edi@claimgate.invalid"},
		Usage:     "T",
	}
	sc, err := cfg.Scrub()
	if err != nil {
		t.Fatal(err)
	}
	st, err := LockState(state, false)
	if err != nil {
		t.Fatal(err)
	}
	seen, err := scrub.OpenFileSeen(st.Path(SeenFile))
	if err != nil {
		t.Fatal(err)
	}
	j, err := OpenFileJournal(st.Path(JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(context.Background(), Config{
		Scrub: sc, Assemble: cfg.Assemble(), AutoPayers: true, BatchSubmitter: true,
		Numbers: &control.File{Path: st.Path(NumbersFile)},
		Seen:    seen, Output: &DirOutput{Dir: out}, Journal: j, Events: ev,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, func() { seen.Close(); j.Close(); st.Unlock() }
}

// BenchmarkConvert100k converts a generated 100,000-claim CSV batch (five
// payers) into 837P files on disk, as claimgate convert does, and reports
// claims/s and the peak heap (runtime metrics, after a GC before the run).
//
//	go test -run XXX -bench Convert100k -benchtime 1x ./pkg/pipeline
func BenchmarkConvert100k(b *testing.B) {
	const n = 100000
	path := filepath.Join(b.TempDir(), "batch.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	writeBatch(b, f, n, []string{"ACME.1", "ACME 1", "BHX77", "SMI03", "MCR01"})
	f.Close()
	var peak uint64
	var cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		p, done := newFilePipeline(b, filepath.Join(dir), filepath.Join(dir, "state"), Events{})
		runtime.GC()
		stop := watchHeap(&peak)
		cpu0 := processCPU()
		b.StartTimer()
		in, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		sum, err := p.Run(context.Background(), in, "bench.csv")
		in.Close()
		b.StopTimer()
		cpu += processCPU() - cpu0
		stop()
		done()
		if err != nil || sum.Written != n {
			b.Fatalf("run: %v, %+v", err, sum)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "claims/s")
	// CPU time is what a shared machine does not distort much: wall time
	// there depends on the load.
	b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "claims/CPU-s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// processCPU is the user and system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// watchHeap samples the heap in use (runtime/metrics) until stop is
// called, keeping the peak in *peak.
func watchHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(finished)
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > *peak {
				*peak = v
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return func() { close(done); <-finished }
}

// BenchmarkConvertCommand100k runs the whole claimgate convert command on
// a generated 100,000-claim CSV batch file (five payers), fresh output and
// state directories each time, and reports claims/s by the wall clock,
// claims per CPU-second of the command, and its peak RSS (from the
// rusage; an upper bound: Go starts a child with vfork, so it counts this
// process's own peak too).
//
//	go test -run XXX -bench ConvertCommand100k -benchtime 5x ./pkg/pipeline
func BenchmarkConvertCommand100k(b *testing.B) {
	const n = 100000
	batch := filepath.Join(b.TempDir(), "batch.csv")
	f, err := os.Create(batch)
	if err != nil {
		b.Fatal(err)
	}
	writeBatch(b, f, n, []string{"ACME.1", "ACME 1", "BHX77", "SMI03", "MCR01"})
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	bin := claimgateBin(b)
	want := fmt.Sprintf("%d claims read, %d written, 0 rejected", n, n)
	var cpu time.Duration
	var rss int64
	for b.Loop() {
		b.StopTimer()
		cmd := exec.Command(bin, "convert", batch, "-o", b.TempDir(), "--state", b.TempDir())
		cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+b.TempDir())
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		b.StartTimer()
		err := cmd.Run()
		b.StopTimer()
		if err != nil || !strings.Contains(out.String(), want) {
			b.Fatalf("convert: %v\n%s", err, tail(out.String()))
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		rss = max(rss, ru.Maxrss<<10) // KiB on Linux
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "claims/s")
	b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "claims/CPU-s")
	b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
}
