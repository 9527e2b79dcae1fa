package pipeline

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x837p"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// claimgateBin builds the real claimgate binary once, with the crash
// points compiled in (-tags crashpoints).
func claimgateBin(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "claimgate-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "claimgate")
		out, err := exec.Command("go", "build", "-tags", "crashpoints", "-o", binPath, "github.com/claimgate/claimgate/cmd/claimgate").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// convertRun runs claimgate convert; crashAt sets CLAIMGATE_CRASH_AT.
// It returns the process state and the combined output.
func convertRun(t *testing.T, batch, out, state, crashAt string, extra ...string) (*os.ProcessState, string) {
	t.Helper()
	args := append([]string{"convert", batch, "-o", out, "--state", state}, extra...)
	cmd := exec.Command(claimgateBin(t), args...)
	cmd.Env = append(os.Environ(), "CLAIMGATE_CRASH_AT="+crashAt, "XDG_STATE_HOME="+t.TempDir())
	b, _ := cmd.CombinedOutput()
	return cmd.ProcessState, string(b)
}

// filesIn reads every .837 file in dir with the x837p reader: claim id →
// times seen, and every ISA13 per sender/receiver with its count.
func filesIn(t *testing.T, dir string) (claims map[string]int, isa map[string]int, payers map[string]map[string]bool) {
	t.Helper()
	claims, isa, payers = map[string]int{}, map[string]int{}, map[string]map[string]bool{}
	names, err := filepath.Glob(filepath.Join(dir, "*.837"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if strings.HasPrefix(filepath.Base(name), TempPrefix) {
			continue // not published
		}
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		rd := x837p.NewReader(f)
		first := true
		for {
			it, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			claims[it.Claim.ID]++
			if first {
				env := rd.Envelope()
				isa[env.Sender+"/"+env.Receiver+"/"+env.Control]++
				first = false
			}
			pid := it.Subscriber.Payer.ID
			if payers[pid] == nil {
				payers[pid] = map[string]bool{}
			}
			payers[pid][filepath.Base(name)] = true
		}
		f.Close()
	}
	return claims, isa, payers
}

func noPartials(t *testing.T, dir string) {
	t.Helper()
	if m, _ := filepath.Glob(filepath.Join(dir, TempPrefix+"*")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

var crashPayers = []string{"ACME.1", "ACME 1", "BHX77", "SMI03"}

func writeBatchFile(t *testing.T, n int, payers []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "batch.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	writeBatch(t, f, n, payers)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCrashAtEveryStepWritesEachClaimOnce kills convert (SIGKILL) at each
// step of publishing a file, at the first and at a later file, reruns it
// without the crash, and checks that every claim is in exactly one file,
// no temporary file is left and no ISA13 is used twice.
func TestCrashAtEveryStepWritesEachClaimOnce(t *testing.T) {
	const n = 40
	batch := writeBatchFile(t, n, crashPayers)
	steps := []string{"control-saved", "temp-written", "journaled", "linked", "dir-synced", "keys-recorded", "done"}
	for _, step := range steps {
		for _, nth := range []int{1, 4} {
			t.Run(fmt.Sprintf("%s:%d", step, nth), func(t *testing.T) {
				out, state := t.TempDir(), t.TempDir()
				ps, msg := convertRun(t, batch, out, state, fmt.Sprintf("%s:%d", step, nth), "--claims-per-file", "4")
				ws, ok := ps.Sys().(syscall.WaitStatus)
				if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
					t.Fatalf("first run was not killed at %s: %v\n%s", step, ps, msg)
				}
				before, _, _ := filesIn(t, out)
				ps, msg = convertRun(t, batch, out, state, "", "--claims-per-file", "4")
				if c := ps.ExitCode(); c != 0 && c != 1 {
					t.Fatalf("rerun: exit %d\n%s", c, msg)
				}
				claims, isa, _ := filesIn(t, out)
				for i := range n {
					id := fmt.Sprintf("G%08d", i)
					if claims[id] != 1 {
						t.Errorf("claim %s is in %d files (%d before the rerun)", id, claims[id], before[id])
					}
				}
				if len(claims) != n {
					t.Errorf("%d distinct claims in the files, want %d", len(claims), n)
				}
				for k, c := range isa {
					if c > 1 {
						t.Errorf("ISA13 %s used by %d files", k, c)
					}
				}
				noPartials(t, out)
				// Claims the killed run wrote are duplicates to the rerun,
				// never written again; the rest are written now.
				dups := strings.Count(msg, "[DUP-CLAIM]")
				if want := fmt.Sprintf("%d claims read, %d written, %d rejected", n, n-len(before), dups); !strings.Contains(msg, want) || dups != len(before) {
					t.Errorf("rerun report lacks %q (%d in files before):\n%s", want, len(before), msg)
				}
			})
		}
	}
}

func digests(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	names, _ := filepath.Glob(filepath.Join(dir, "*.837"))
	for _, n := range names {
		if strings.HasPrefix(filepath.Base(n), TempPrefix) {
			continue
		}
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(n)] = sha256.Sum256(b)
	}
	return out
}

// TestTwoStatesOneOutputReplaceNothing runs the same batch twice into one
// directory with two state directories (so the control numbers restart at
// 1): the second run's files get other names and the first run's files
// are untouched. Payer ids ACME.1 and ACME 1 sanitise alike and still get
// files of their own.
func TestTwoStatesOneOutputReplaceNothing(t *testing.T) {
	const n = 24
	batch := writeBatchFile(t, n, crashPayers)
	out := t.TempDir()
	ps, msg := convertRun(t, batch, out, t.TempDir(), "", "--claims-per-file", "5")
	if ps.ExitCode() != 0 {
		t.Fatalf("first run: exit %d\n%s", ps.ExitCode(), msg)
	}
	first := digests(t, out)
	_, _, payers := filesIn(t, out)
	for name := range payers["ACME.1"] {
		if payers["ACME 1"][name] {
			t.Errorf("payers ACME.1 and ACME 1 share file %s", name)
		}
	}
	if len(payers["ACME.1"]) == 0 || len(payers["ACME 1"]) == 0 {
		t.Fatalf("files per payer: %v", payers)
	}
	ps, msg = convertRun(t, batch, out, t.TempDir(), "", "--claims-per-file", "5")
	if ps.ExitCode() != 0 {
		t.Fatalf("second run: exit %d\n%s", ps.ExitCode(), msg)
	}
	second := digests(t, out)
	if len(second) != 2*len(first) {
		t.Fatalf("%d files after two runs, %d after one", len(second), len(first))
	}
	for name, d := range first {
		if second[name] != d {
			t.Errorf("file %s was replaced", name)
		}
	}
	claims, _, _ := filesIn(t, out)
	for i := range n {
		if id := fmt.Sprintf("G%08d", i); claims[id] != 2 {
			t.Errorf("claim %s in %d files, want 2 (one per run)", id, claims[id])
		}
	}
	noPartials(t, out)
}

// TestStateDirLocked: a second convert on a state directory in use fails
// at once, clearly, with exit status 2.
func TestStateDirLocked(t *testing.T) {
	state := t.TempDir()
	st, err := LockState(state, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Unlock()
	if _, err := LockState(state, false); !errors.Is(err, ErrStateBusy) {
		t.Fatalf("second lock in-process: %v", err)
	}
	batch := writeBatchFile(t, 2, crashPayers)
	ps, msg := convertRun(t, batch, t.TempDir(), state, "")
	if ps.ExitCode() != 2 || !strings.Contains(msg, "in use by another claimgate process") {
		t.Fatalf("exit %d: %s", ps.ExitCode(), msg)
	}
}

// convertStats streams a generated n-claim CSV batch into claimgate
// convert through a pipe (standard input: read once, never reopened) and
// returns the child's peak resident set size, its CPU time (user and
// system) and its output.
func convertStats(t testing.TB, n int) (rss int64, cpu time.Duration, report string) {
	t.Helper()
	cmd := exec.Command(claimgateBin(t), "convert", "-", "-o", t.TempDir(), "--state", t.TempDir())
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+t.TempDir())
	pr, pw := io.Pipe()
	cmd.Stdin = pr
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		writeBatch(t, pw, n, []string{"ACME.1", "ACME 1", "BHX77", "SMI03", "MCR01", "P6", "P7", "P8"})
		pw.Close()
	}()
	err := cmd.Wait()
	pr.Close()
	if err != nil {
		t.Fatalf("convert: %v\n%s", err, tail(out.String()))
	}
	want := fmt.Sprintf("%d claims read, %d written, 0 rejected", n, n)
	if !strings.Contains(out.String(), want) {
		t.Fatalf("report lacks %q:\n%s", want, tail(out.String()))
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return ru.Maxrss * 1024, cpu, out.String() // Linux: Maxrss in KiB
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

const maxRSS = 64 << 20

// TestConvertMemory100k: converting 100,000 claims (eight payers) keeps
// the process's peak RSS at or under 64 MiB.
func TestConvertMemory100k(t *testing.T) {
	rss, cpu, _ := convertStats(t, 100000)
	t.Logf("100,000 claims: peak RSS %.1f MiB, %.2f CPU-s", float64(rss)/(1<<20), cpu.Seconds())
	if rss > maxRSS {
		t.Fatalf("peak RSS %.1f MiB > 64 MiB", float64(rss)/(1<<20))
	}
}

// BenchmarkConvertMemory300k is the same with 300,000 claims, as a
// benchmark because it takes about half a minute; it fails above 64 MiB.
//
//	go test -run XXX -bench ConvertMemory300k -benchtime 1x ./pkg/pipeline
func BenchmarkConvertMemory300k(b *testing.B) {
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		rss, c, _ := convertStats(b, 300000)
		cpu += c
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
		if rss > maxRSS {
			b.Fatalf("peak RSS %.1f MiB > 64 MiB", float64(rss)/(1<<20))
		}
	}
	// Wall time includes generating the batch into the pipe (this
	// process); CPU is the convert process's own.
	b.ReportMetric(300000*float64(b.N)/b.Elapsed().Seconds(), "claims/s")
	b.ReportMetric(300000*float64(b.N)/cpu.Seconds(), "claims/CPU-s")
}

// TestCrash837PInput: an 837P batch (re-enveloped, not scrubbed) is as
// safe: killed after a file is linked, the rerun writes the rest and
// never a claim twice.
func TestCrash837PInput(t *testing.T) {
	const n = 30
	// An 837P of n claims for one payer, made by converting a CSV batch.
	src := t.TempDir()
	ps, msg := convertRun(t, writeBatchFile(t, n, []string{"BHX77"}), src, t.TempDir(), "")
	if ps.ExitCode() != 0 {
		t.Fatalf("making the 837P: %s", msg)
	}
	names, _ := filepath.Glob(filepath.Join(src, "*.837"))
	if len(names) != 1 {
		t.Fatalf("files %v", names)
	}
	for _, step := range []string{"linked", "keys-recorded"} {
		t.Run(step, func(t *testing.T) {
			out, state := t.TempDir(), t.TempDir()
			ps, msg := convertRun(t, names[0], out, state, step+":2", "--claims-per-file", "4")
			if ws, ok := ps.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
				t.Fatalf("not killed: %v\n%s", ps, msg)
			}
			_, msg = convertRun(t, names[0], out, state, "", "--claims-per-file", "4")
			claims, isa, _ := filesIn(t, out)
			if len(claims) != n {
				t.Errorf("%d claims in the files, want %d\n%s", len(claims), n, msg)
			}
			for id, c := range claims {
				if c != 1 {
					t.Errorf("claim %s in %d files", id, c)
				}
			}
			for k, c := range isa {
				if c > 1 {
					t.Errorf("ISA13 %s used %d times", k, c)
				}
			}
			if strings.Count(msg, "[DUP-CLAIM]") != 8 {
				t.Errorf("rerun should reject the 8 claims already written:\n%s", msg)
			}
			noPartials(t, out)
		})
	}
}
