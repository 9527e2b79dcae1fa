package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// claimgateBinary builds the claimgate command into the test's
// temporary directory.
func claimgateBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "claimgate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building claimgate: %v\n%s", err, out)
	}
	return bin
}

// lineReader collects a process's output and lets a test wait for a
// line matching a pattern.
type lineReader struct {
	mu    sync.Mutex
	text  strings.Builder
	lines chan string
}

func readLines(r io.Reader) *lineReader {
	lr := &lineReader{lines: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lr.mu.Lock()
			lr.text.WriteString(sc.Text() + "\n")
			lr.mu.Unlock()
			select {
			case lr.lines <- sc.Text():
			default:
			}
		}
		close(lr.lines)
	}()
	return lr
}

func (lr *lineReader) String() string {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.text.String()
}

// waitFor returns the first submatches of re in a line, waiting up to d.
func (lr *lineReader) waitFor(t *testing.T, re *regexp.Regexp, d time.Duration) []string {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case l, ok := <-lr.lines:
			if !ok {
				t.Fatalf("output ended without %v:\n%s", re, lr.String())
			}
			if m := re.FindStringSubmatch(l); m != nil {
				return m
			}
		case <-timeout:
			t.Fatalf("no %v within %v:\n%s", re, d, lr.String())
		}
	}
}

func startDemo(t *testing.T, args ...string) (*exec.Cmd, *lineReader, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(claimgateBinary(t), append([]string{"demo"}, args...)...)
	cmd.Dir = "../.." // the repository root, as make run
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, readLines(stdout), &stderr
}

var (
	reStarted = regexp.MustCompile(`NATS nats://(127\.0\.0\.1:\d+), payer simulator sftp://(127\.0\.0\.1:\d+) .*data in (\S+)$`)
	reSettled = regexp.MustCompile(`^== every claim settled: (\d+) of (\d+)`)
)

// The demo as a process, as make run runs it: it exits 0 and its summary
// says every claim settled; without a terminal it prints progress lines.
func TestDemoProcess(t *testing.T) {
	cmd, out, stderr := startDemo(t, "--timeout", "3m")
	m := out.waitFor(t, reStarted, 2*time.Minute)
	dir := m[3]
	s := out.waitFor(t, reSettled, 4*time.Minute)
	if s[1] != s[2] || s[1] != "124" {
		t.Fatalf("settled %s of %s", s[1], s[2])
	}
	for range out.lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s\n%s", err, out.String(), stderr.String())
	}
	text := out.String()
	for _, want := range []string{"] settled ", "First-pass acceptance:", "Denials by category", "patient responsibility", "Where to look next"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "\x1b[") {
		t.Error("terminal escapes written to a pipe")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary data directory %s left behind (%v)", dir, err)
	}
}

// Ctrl-C (SIGINT) while the demo keeps running after its summary: exit 0
// promptly, NATS and the simulator no longer listening, the temporary
// data directory removed.
func TestDemoProcessInterrupt(t *testing.T) {
	cmd, out, stderr := startDemo(t, "--keep", "--timeout", "3m")
	m := out.waitFor(t, reStarted, 2*time.Minute)
	natsAddr, simAddr, dir := m[1], m[2], m[3]
	out.waitFor(t, regexp.MustCompile(`Ctrl-C stops it`), 4*time.Minute)
	for _, a := range []string{natsAddr, simAddr} {
		c, err := net.DialTimeout("tcp", a, 5*time.Second)
		if err != nil {
			t.Fatalf("%s not listening while kept: %v", a, err)
		}
		c.Close()
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for range out.lines {
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGINT: %v\n%s\n%s", err, out.String(), stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("still running a minute after SIGINT:\n%s", out.String())
	}
	for _, a := range []string{natsAddr, simAddr} {
		if c, err := net.DialTimeout("tcp", a, 2*time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the demo exited", a)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary data directory %s left behind (%v)", dir, err)
	}
}

// A time limit too short for the claims to settle: exit 1, and the
// summary says not every claim settled.
func TestDemoTimeoutExit1(t *testing.T) {
	code, out, errs := runCLI("demo", "--timeout", "1s", "--plain", "../../testdata/batches/pt_batch.json")
	if code != 1 || !strings.Contains(errs, "claims settled within 1s") || !strings.Contains(out, "== NOT every claim settled") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

// Usage errors: exit 2.
func TestDemoUsage(t *testing.T) {
	if code, _, errs := runCLI("demo", "--timeout", "soon"); code != 2 || !strings.Contains(errs, "timeout") {
		t.Fatalf("bad flag: exit %d, %s", code, errs)
	}
	if code, _, errs := runCLI("demo", "no-such-batch.csv"); code != 2 || !strings.Contains(errs, "no-such-batch.csv") {
		t.Fatalf("missing batch: exit %d, %s", code, errs)
	}
}
