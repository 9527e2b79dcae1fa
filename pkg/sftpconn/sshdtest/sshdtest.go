// Package sshdtest starts a real OpenSSH server (sshd) for tests: a fresh
// host key pair (ED25519 and ECDSA) and user key in a temporary directory,
// a free loopback port, root login by key only and the internal-sftp
// subsystem. Tests of the SFTP connector, the payer simulator and the
// gateway use it as the real peer. When sshd is not installed the test is
// skipped with a message saying so; CI installs openssh-server.
package sshdtest

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Server is one running sshd.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	Port int
	Dir  string // temporary directory with keys and configuration
	// HostKey is the server's ED25519 public key; HostKeyLine its
	// known_hosts line ("[127.0.0.1]:PORT ssh-ed25519 AAAA..."), also
	// written to KnownHostsFile. The server offers an ECDSA key as well,
	// so a client that does not restrict its host key algorithms to the
	// pinned key's type sees the ECDSA key first.
	HostKey        ssh.PublicKey
	HostKeyLine    string
	KnownHostsFile string
	// ECDSAHostKey is the second host key the server offers.
	ECDSAHostKey ssh.PublicKey
	// UserKeyFile is an unencrypted OpenSSH private key authorised for
	// root; UserSigner the same key parsed.
	UserKeyFile string
	UserSigner  ssh.Signer
	User        string

	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
	once   sync.Once
}

// SSHD is the sshd binary used; sshd must be started by absolute path.
var SSHD = "/usr/sbin/sshd"

// Available reports whether sshd and ssh-keygen are installed.
func Available() bool {
	if _, err := os.Stat(SSHD); err != nil {
		return false
	}
	_, err := exec.LookPath("ssh-keygen")
	return err == nil
}

// Start starts sshd for the test and stops it (and every session process
// it forked) when the test ends. It skips the test when sshd is not
// installed.
func Start(t testing.TB) *Server {
	t.Helper()
	if !Available() {
		t.Skipf("sshdtest: %s or ssh-keygen not installed (apt-get install openssh-server openssh-client); skipping the test against a real OpenSSH server", SSHD)
	}
	s, err := start(t.TempDir())
	if err != nil {
		t.Fatalf("sshdtest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

func start(dir string) (*Server, error) {
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return nil, fmt.Errorf("privilege separation directory: %w", err)
	}
	s := &Server{Dir: dir, User: "root", stderr: &lockedBuffer{}, done: make(chan struct{})}
	for _, k := range []struct{ typ, file string }{{"ed25519", "host_ed25519"}, {"ecdsa", "host_ecdsa"}} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", k.typ, "-N", "", "-f", filepath.Join(dir, k.file)).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ssh-keygen: %v: %s", err, out)
		}
	}
	var err error
	if s.HostKey, err = readPub(filepath.Join(dir, "host_ed25519.pub")); err != nil {
		return nil, err
	}
	if s.ECDSAHostKey, err = readPub(filepath.Join(dir, "host_ecdsa.pub")); err != nil {
		return nil, err
	}
	s.UserKeyFile = filepath.Join(dir, "user_ed25519")
	if s.UserSigner, err = WriteKey(s.UserKeyFile); err != nil {
		return nil, err
	}
	auth := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(auth, ssh.MarshalAuthorizedKey(s.UserSigner.PublicKey()), 0o600); err != nil {
		return nil, err
	}
	// A free port can be taken between our probe and sshd's bind: try a
	// few times.
	var lastErr error
	for range 5 {
		if lastErr = s.launch(); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

func (s *Server) launch() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.Port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	s.HostKeyLine = fmt.Sprintf("[127.0.0.1]:%d %s", s.Port, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.HostKey))))
	s.KnownHostsFile = filepath.Join(s.Dir, "known_hosts")
	if err := os.WriteFile(s.KnownHostsFile, []byte(s.HostKeyLine+"\n"), 0o600); err != nil {
		return err
	}
	conf := filepath.Join(s.Dir, "sshd_config")
	cfg := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
HostKey %s
PidFile %s
AuthorizedKeysFile %s
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxStartups 200
MaxSessions 50
LogLevel ERROR
Subsystem sftp internal-sftp
`, s.Port, filepath.Join(s.Dir, "host_ed25519"), filepath.Join(s.Dir, "host_ecdsa"),
		filepath.Join(s.Dir, "sshd.pid"), filepath.Join(s.Dir, "authorized_keys"))
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		return err
	}
	s.stderr = &lockedBuffer{}
	s.done = make(chan struct{})
	s.once = sync.Once{}
	cmd := exec.Command(SSHD, "-D", "-e", "-f", conf)
	cmd.Stderr = s.stderr
	// If the test binary dies without cleaning up, sshd goes with it.
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	go func() { cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("sshd exited at start: %s", s.stderr.String())
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "SSH-") {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	return fmt.Errorf("sshd did not answer on %s: %s", s.Addr, s.stderr.String())
}

// PID is the listening sshd's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Log returns what sshd wrote to its standard error.
func (s *Server) Log() string { return s.stderr.String() }

// Stop kills the session processes and the listener and waits for it.
// It is safe to call more than once.
func (s *Server) Stop() {
	s.once.Do(func() {
		for _, pid := range descendants(s.cmd.Process.Pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	})
}

// KillSessions kills (SIGKILL) every process serving a connection, as a
// crash or a dropped network would end them, and returns how many
// connection processes there were. The listener keeps running, so new
// connections work.
func (s *Server) KillSessions() int {
	kids := children(s.cmd.Process.Pid)
	for _, pid := range kids {
		for _, d := range descendants(pid) {
			syscall.Kill(d, syscall.SIGKILL)
		}
		syscall.Kill(pid, syscall.SIGKILL)
	}
	return len(kids)
}

// FreezeSessions stops (SIGSTOP) every process serving a connection, as
// a hung server or a link that silently drops every packet would look to
// the client: the connection stays open and nothing answers. It returns
// how many connection processes there were and a function that resumes
// them (safe to call more than once; Stop kills them anyway). New
// connections are served as usual.
func (s *Server) FreezeSessions() (int, func()) {
	kids := children(s.cmd.Process.Pid)
	var pids []int
	for _, pid := range kids {
		pids = append(pids, pid)
		pids = append(pids, descendants(pid)...)
	}
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGSTOP)
	}
	var once sync.Once
	return len(kids), func() {
		once.Do(func() {
			for _, pid := range pids {
				syscall.Kill(pid, syscall.SIGCONT)
			}
		})
	}
}

// Sessions returns the process ids of the processes serving connections.
func (s *Server) Sessions() []int { return children(s.cmd.Process.Pid) }

// ClientConfig returns an ssh client configuration that authenticates
// with the user key and accepts only the pinned ED25519 host key.
func (s *Server) ClientConfig() *ssh.ClientConfig {
	return &ssh.ClientConfig{
		User:              s.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(s.UserSigner)},
		HostKeyCallback:   ssh.FixedHostKey(s.HostKey),
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
		Timeout:           10 * time.Second,
	}
}

// WriteKey writes a new unencrypted ED25519 private key in OpenSSH format
// to path (and its public key to path.pub) and returns it as a signer.
func WriteKey(path string) (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "sshdtest")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := pem.Encode(&buf, block); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644); err != nil {
		return nil, err
	}
	return signer, nil
}

func readPub(path string) (ssh.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(b)
	return k, err
}

// children lists the processes whose parent is pid (from /proc).
func children(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name in parentheses can hold spaces: read after ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 {
			if pp, _ := strconv.Atoi(f[1]); pp == pid {
				out = append(out, n)
			}
		}
	}
	return out
}

// descendants lists pid's children, grandchildren and so on, deepest last.
func descendants(pid int) []int {
	var out []int
	for _, c := range children(pid) {
		out = append(out, c)
		out = append(out, descendants(c)...)
	}
	return out
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
