//go:build linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"
)

// memChildEnv names the generated input a child process validates.
const memChildEnv = "CLAIMGATE_VALIDATE_MEMCHILD"

// TestValidateMemoryBound runs the whole validate command in a child
// process on generated input — millions of stray segments outside any
// set, an 837P and an 835 with an error in every claim — streamed through a pipe
// as standard input, and reads the child's peak resident memory. It must
// stay under 64 MiB, and the same at four times the input: memory does
// not grow with the file or its findings. (Before findings were streamed,
// 10 million stray segments took 5 GB and a 1.2 GB 837P 2.4 GB.)
func TestValidateMemoryBound(t *testing.T) {
	if spec := os.Getenv(memChildEnv); spec != "" {
		memChild(spec)
		return
	}
	if raceEnabled {
		t.Skip("the race detector multiplies memory")
	}
	// about 15, 16 and 17 MB of input, then four times that
	stray, claims, payments := 1_000_000, 50_000, 25_000
	if testing.Short() {
		stray, claims, payments = stray/4, claims/4, payments/4
	}
	for _, c := range []struct {
		kind string
		n    int
		rule string
	}{
		{"stray", stray, "envelope.outside-set"},
		{"837p", claims, "837p.date"},
		{"835", payments, "835.cas-group"},
		// from a file, which the workers read again themselves
		// (x12.CheckOptions.Source) and read further ahead
		{"837p-file", claims, "837p.date"},
		{"835-file", payments, "835.cas-group"},
	} {
		var rss [2]int64
		for i, n := range []int{c.n, 4 * c.n} {
			peakFile := filepath.Join(t.TempDir(), "peak")
			cmd := exec.Command(os.Args[0], "-test.run=^TestValidateMemoryBound$", "-test.count=1")
			name := "(stdin)"
			spec := fmt.Sprintf("%s:%d", c.kind, n)
			if kind, ok := strings.CutSuffix(c.kind, "-file"); ok {
				name = filepath.Join(t.TempDir(), "in.x12")
				spec = fmt.Sprintf("%s:%d:%s", kind, n, name)
			}
			cmd.Env = append(os.Environ(), memChildEnv+"="+spec, memPeakEnv+"="+peakFile)
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Fatalf("%s %d: %v (want exit status 1)", c.kind, n, err)
			}
			rss[i] = readPeak(t, peakFile)
			ls := lines(string(out))
			want := fmt.Sprintf("%s: %d more finding(s) not shown (--max-findings 1000): %s %d", name, n-1000, c.rule, n-1000)
			if len(ls) != 1001 || ls[1000] != want {
				t.Fatalf("%s %d: %d lines ending %q, want 1,000 findings and %q", c.kind, n, len(ls), ls[len(ls)-1], want)
			}
			t.Logf("%s: %d findings, peak RSS %.1f MiB", c.kind, n, float64(rss[i])/(1<<20))
			if rss[i] > 64<<20 {
				t.Errorf("%s %d: peak RSS %.1f MiB, want under 64 MiB", c.kind, n, float64(rss[i])/(1<<20))
			}
		}
		// Garbage the collector has not yet reclaimed varies with the
		// machine's load (up to ~15 MiB seen on a saturated machine with
		// millions of findings); memory kept per finding or per segment
		// would grow with the input: 100 bytes per finding is 300 MB
		// more for the stray segments.
		if rss[1] > rss[0]+24<<20 {
			t.Errorf("%s: peak RSS grew from %.1f to %.1f MiB with four times the input", c.kind, float64(rss[0])/(1<<20), float64(rss[1])/(1<<20))
		}
	}
}

// memChild validates the input spec names ("stray:N", "837p:N" or
// "835:N"), generated into a pipe (or into the file PATH, for
// "837p:N:PATH"), writing validate's output to standard output,
// and exits with validate's status. A guard ends it (exit 3) should its
// memory pass 512 MiB, so that a regression fails the test instead of
// exhausting the machine.
func memChild(spec string) {
	kind, count, _ := strings.Cut(spec, ":")
	count, path, _ := strings.Cut(count, ":")
	n, err := strconv.Atoi(count)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad", memChildEnv, spec)
		os.Exit(4)
	}
	gen := writeStray
	switch kind {
	case "837p":
		gen = write837P
	case "835": // one set of n claims, each with a CAS*CR
		gen = func(w io.Writer, n int) error { return write835Group(w, n, "CR") }
	}
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
		for range time.Tick(20 * time.Millisecond) {
			metrics.Read(s)
			if s[0].Value.Uint64() > 512<<20 {
				fmt.Fprintln(os.Stderr, "memory guard: validate passed 512 MiB")
				os.Exit(3)
			}
		}
	}()
	input := "-"
	if path != "" {
		f, err := os.Create(path)
		if err == nil {
			bw := bufio.NewWriter(f)
			if err = gen(bw, n); err == nil {
				err = bw.Flush()
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		input = path
	} else {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(gen(pw, n)) }()
		stdin = pr
	}
	code := run([]string{"validate", input}, os.Stdout, os.Stderr)
	// The child reports its own peak: the rusage a parent gets counts the
	// parent's memory too (Go starts a child with vfork, and exec folds
	// the shared address space's high-water mark into the child's).
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(4)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			os.WriteFile(os.Getenv(memPeakEnv), []byte(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))), 0o600)
		}
	}
	os.Exit(code)
}

// memPeakEnv names the file the child writes its peak RSS (KiB) to.
const memPeakEnv = "CLAIMGATE_VALIDATE_MEMPEAK"

// readPeak reads the child's peak RSS in bytes.
func readPeak(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the child reported no peak: %v", err)
	}
	kib, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("peak %q: %v", b, err)
	}
	return kib << 10
}
