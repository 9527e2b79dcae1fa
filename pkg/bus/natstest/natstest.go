// Package natstest starts real nats-server processes for tests: the binary
// is built from the github.com/nats-io/nats-server/v2 module this project
// requires (the same version as the embedded server), never a system
// package (Debian's 2.9.10 has a clustered compare-and-set race).
package natstest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary returns the path of a nats-server binary: $CLAIMGATE_NATS_SERVER
// when set (make test builds bin/nats-server), otherwise one built into
// the user cache directory under a lock, once per version.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if p := os.Getenv("CLAIMGATE_NATS_SERVER"); p != "" {
			binPath = p
			return
		}
		binPath, buildErr = build()
	})
	if buildErr != nil {
		t.Fatalf("natstest: building nats-server: %v", buildErr)
	}
	return binPath
}

func build() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/nats-io/nats-server/v2").Output()
	if err != nil {
		return "", fmt.Errorf("go list: %w", err)
	}
	version := strings.TrimSpace(string(out))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "claimgate")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "nats-server-"+version)
	lock, err := os.OpenFile(bin+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	// Test binaries of several packages run at once: one builds, the
	// others wait for it.
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	tmp := bin + ".tmp"
	cmd := exec.Command("go", "build", "-o", tmp, "github.com/nats-io/nats-server/v2")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v: %s", err, out)
	}
	return bin, os.Rename(tmp, bin)
}

// Server is a nats-server process started by a test.
type Server struct {
	t       testing.TB
	Dir     string // its store and config live here
	Port    int
	Cluster int // cluster port, 0 when not clustered
	Monitor int // HTTP monitoring port (/connz, /jsz), 0 when off
	Name    string
	routes  []string
	cmd     *exec.Cmd
	logPath string
}

// URL is the client URL.
func (s *Server) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.Port) }

// Start starts one JetStream server (syncing every write) on free
// loopback ports with its store under a temporary directory; it is
// killed when the test ends.
func Start(t testing.TB) *Server {
	s := &Server{t: t, Dir: t.TempDir(), Port: FreePort(t), Name: "n1"}
	s.Restart()
	t.Cleanup(s.Kill)
	return s
}

// StartCluster starts n JetStream servers forming one cluster. When the
// test fails, the end of each server's log is logged.
func StartCluster(t testing.TB, n int) []*Server {
	servers := make([]*Server, n)
	var routes []string
	// Each free port is closed before its server binds it, so the kernel
	// may hand the same one out twice: the 3n ports are kept distinct.
	taken := map[int]bool{}
	port := func() int {
		for {
			if p := FreePort(t); !taken[p] {
				taken[p] = true
				return p
			}
		}
	}
	for i := range servers {
		servers[i] = &Server{t: t, Dir: t.TempDir(), Port: port(), Cluster: port(), Monitor: port(), Name: "n" + strconv.Itoa(i+1)}
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", servers[i].Cluster))
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, s := range servers {
			log := s.Log()
			if i := len(log) - 4000; i > 0 {
				log = "..." + log[i:]
			}
			t.Logf("natstest: %s (client port %d, cluster %d) log, last lines:\n%s", s.Name, s.Port, s.Cluster, log)
		}
	})
	for _, s := range servers {
		s.routes = routes
		s.Restart()
		t.Cleanup(s.Kill)
	}
	return servers
}

// Restart starts the server again on the same ports and store (after
// Kill), and waits until it accepts connections.
func (s *Server) Restart() {
	t := s.t
	t.Helper()
	conf := fmt.Sprintf("server_name: %s\nlisten: 127.0.0.1:%d\njetstream {\n  store_dir: %q\n  sync_interval: always\n}\n", s.Name, s.Port, filepath.Join(s.Dir, "js"))
	if s.Monitor != 0 {
		conf += fmt.Sprintf("http: 127.0.0.1:%d\n", s.Monitor)
	}
	if s.Cluster != 0 {
		conf += fmt.Sprintf("cluster {\n  name: claimgate\n  listen: 127.0.0.1:%d\n  routes: [%s]\n}\n", s.Cluster, strings.Join(s.routes, ", "))
	}
	path := filepath.Join(s.Dir, "nats.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	s.logPath = filepath.Join(s.Dir, "nats.log")
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	s.cmd = exec.Command(Binary(t), "-c", path)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("natstest: start nats-server: %v", err)
	}
	go s.cmd.Wait() // reap it whenever it exits
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("natstest: nats-server on port %d not up in 30s; log:\n%s", s.Port, s.Log())
}

// Kill ends the server with SIGKILL (no clean shutdown), as a crash or a
// power cut would, and waits until its port is free.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd = nil
	for i := 0; i < 100; i++ {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), 100*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
}

// Clients returns the names of the client connections the server holds
// now (its monitoring endpoint /connz), e.g. to find the node a process
// is connected to. It needs the monitoring port (StartCluster sets it).
func (s *Server) Clients() ([]string, error) {
	if s.Monitor == 0 {
		return nil, fmt.Errorf("natstest: %s has no monitoring port", s.Name)
	}
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/connz?limit=1024", s.Monitor))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var connz struct {
		Connections []struct {
			Name string `json:"name"`
		} `json:"connections"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&connz); err != nil {
		return nil, fmt.Errorf("natstest: connz: %w", err)
	}
	var names []string
	for _, c := range connz.Connections {
		names = append(names, c.Name)
	}
	return names, nil
}

// Log is what the server printed, for failure messages.
func (s *Server) Log() string {
	f, err := os.Open(s.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

// FreePort returns a loopback TCP port nobody listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
