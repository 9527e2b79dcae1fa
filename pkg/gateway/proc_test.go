package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/bus"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// claimgateBin builds claimgate with -tags crashpoints once.
func claimgateBin(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "claimgate-gw-bin")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "claimgate")
		out, err := exec.Command("go", "build", "-tags", "crashpoints", "-o", binPath, "../../cmd/claimgate").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// writeServeConfig writes the configuration file `claimgate serve`
// reads: the simulated payers, their SFTP blocks (key file, pinned host
// key, folders, fast polling) and 50 claims per file.
func writeServeConfig(t testing.TB, s *sim, path string) {
	t.Helper()
	cfg := claimsConfig()
	cfg.MaxClaimsPerInterchange = 50
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	byID := map[string]map[string]any{}
	for _, p := range s.payers() {
		byID[p.ID] = map[string]any{
			"host": "127.0.0.1", "port": portOf(s.addr), "user": p.User,
			"private_key": "file:" + s.keyFile, "host_key": s.known,
			"outbound_dir": p.OutboundDir, "inbound_dir": p.InboundDir,
			"poll_interval": "100ms", "settle_time": "30ms", "retry_max": "1s",
		}
	}
	for _, p := range m["payers"].([]any) {
		pm := p.(map[string]any)
		delete(pm, "sftp")
		if sb, ok := byID[pm["id"].(string)]; ok {
			pm["sftp"] = sb
		}
	}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

func portOf(addr string) int {
	var p int
	fmt.Sscan(addr[strings.LastIndexByte(addr, ':')+1:], &p)
	return p
}

// serveProc is a `claimgate serve` child process.
type serveProc struct {
	cmd  *exec.Cmd
	done chan error
	log  string
}

// startServe runs `claimgate serve` with extra environment (crash
// points) and arguments; its log goes to DATA/serve-N.log.
func startServe(t testing.TB, data, cfgPath string, env []string, args ...string) *serveProc {
	t.Helper()
	os.Remove(filepath.Join(data, "nats.url"))
	os.MkdirAll(data, 0o700)
	logs, _ := filepath.Glob(filepath.Join(data, "serve-*.log"))
	logPath := filepath.Join(data, fmt.Sprintf("serve-%d.log", len(logs)))
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	all := append([]string{"serve", "--config", cfgPath, "--data", data, "--listen", "127.0.0.1:0",
		"--ack-wait", "3s", "--lease-ttl", "2s", "--http", "none"}, args...)
	cmd := exec.Command(claimgateBin(t), all...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, done: make(chan error, 1), log: logPath}
	go func() { p.done <- cmd.Wait(); lf.Close() }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() && os.Getenv("CLAIMGATE_SHOW_LOGS") != "" {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s:\n%s", logPath, b)
		}
	})
	return p
}

func (p *serveProc) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Kill()
		<-p.done
		p.done <- nil
	}
}

// stop sends SIGTERM and expects a clean exit (drained).
func (p *serveProc) stop(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- nil
		if err != nil {
			t.Errorf("serve after SIGTERM: %v (log %s); its last lines:\n%s", err, p.log, logTail(p.log, 20))
		}
	case <-time.After(60 * time.Second):
		// A goroutine dump (SIGQUIT) says where it hangs.
		p.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-p.done:
			p.done <- nil
		case <-time.After(5 * time.Second):
		}
		t.Fatalf("serve did not stop within 60s of SIGTERM (log %s); its last lines:\n%s", p.log, logTail(p.log, 400))
	}
}

// waitKilled waits until the process died of SIGKILL (a crash point).
func (p *serveProc) waitKilled(t testing.TB, limit time.Duration) {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- nil
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			b, _ := os.ReadFile(p.log)
			t.Fatalf("serve ended with %v, not at its crash point\n%s", err, b)
		}
	case <-time.After(limit):
		t.Fatalf("crash point not reached within %v (log %s)", limit, p.log)
	}
}

// connect connects to the embedded server of the serve using data.
func connect(t testing.TB, data string) *bus.Bus {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		u, err := os.ReadFile(filepath.Join(data, "nats.url"))
		if err == nil && len(u) > 0 {
			b, err := bus.Connect(context.Background(), bus.Options{URL: strings.TrimSpace(string(u))})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.NC.Close() })
			return b
		}
		if time.Now().After(deadline) {
			t.Fatal("serve wrote no nats.url in 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// submitCLI runs `claimgate submit --data DATA FILE` and returns its output.
func submitCLI(t testing.TB, data, file string) string {
	t.Helper()
	out, err := exec.Command(claimgateBin(t), "submit", "--data", data, file).CombinedOutput()
	if err != nil {
		t.Fatalf("submit: %v\n%s", err, out)
	}
	return string(out)
}

func runCLI(t testing.TB, args ...string) (string, error) {
	out, err := exec.Command(claimgateBin(t), args...).CombinedOutput()
	return string(out), err
}

// logTail returns the last n lines of a log file (the log is removed
// with the test's directory: a failure must show why).
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
