package sftpconn

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/sftpconn/sshdtest"
	"golang.org/x/crypto/ssh"
)

func otherKey(t *testing.T) ssh.PublicKey {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestHostKeyChangedRefused(t *testing.T) {
	e := newEnv(t)
	e.payer.HostKeys = []ssh.PublicKey{otherKey(t)}
	c := e.client(t)
	file, _ := randomFile(t, t.TempDir(), "A.837", 100)
	start := time.Now()
	_, err := c.SendFile(bg, file)
	var he *HostKeyError
	if !errors.As(err, &he) || !he.Changed {
		t.Fatalf("err %v, want a changed-host-key error", err)
	}
	fp := ssh.FingerprintSHA256(e.srv.HostKey)
	for _, want := range []string{"payer PAYER1", e.srv.Addr, fp, "host key changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not name %q", err, want)
		}
	}
	if time.Since(start) > 5*time.Second || strings.Contains(e.logText(), "retrying") {
		t.Fatalf("a refused host key was retried:\n%s", e.logText())
	}
	assertOnlyFiles(t, e.out)
}

func TestHostKeyUnknownFromKnownHosts(t *testing.T) {
	e := newEnv(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	// A key for another host only: nothing pinned for this one.
	os.WriteFile(kh, []byte("[127.0.0.1]:1 "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(e.srv.HostKey)))+"\n"), 0o600)
	e.payer.HostKeys, e.payer.KnownHostsFile = nil, kh
	// Unknown: refused at once, naming the payer, the host and the key
	// the server offered (ED25519 asked for first), so the operator can
	// check it with the payer.
	c := e.client(t)
	file, _ := randomFile(t, t.TempDir(), "A.837", 100)
	start := time.Now()
	_, err := c.SendFile(bg, file)
	var he *HostKeyError
	if !errors.As(err, &he) || he.Changed || !Refused(err) {
		t.Fatalf("err %v, want an unknown-host-key error", err)
	}
	for _, want := range []string{"payer PAYER1", e.srv.Addr, ssh.FingerprintSHA256(e.srv.HostKey), "ssh-ed25519", "unknown host key"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not name %q", err, want)
		}
	}
	if time.Since(start) > 5*time.Second || strings.Contains(e.logText(), "retrying") {
		t.Fatalf("an unknown host key was retried:\n%s", e.logText())
	}
	assertOnlyFiles(t, e.out)
	// The server's own known_hosts line works, although the server
	// offers ECDSA too (host key algorithms follow the pinned key).
	e.payer.KnownHostsFile = e.srv.KnownHostsFile
	c = e.client(t)
	if _, err := c.SendFile(bg, file); err != nil {
		t.Fatalf("send with known_hosts: %v", err)
	}
	// known_hosts pins another ED25519 key for this host (and the
	// server's key for another port only): changed.
	line := "[127.0.0.1]:" + "1 " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(e.srv.HostKey))) + "\n"
	line += e.srv.HostKeyLine[:strings.IndexByte(e.srv.HostKeyLine, ' ')] + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(otherKey(t)))) + "\n"
	os.WriteFile(kh, []byte(line), 0o600)
	e.payer.KnownHostsFile = kh
	c = e.client(t)
	file2, _ := randomFile(t, t.TempDir(), "B.837", 100)
	_, err = c.SendFile(bg, file2)
	if !errors.As(err, &he) || !he.Changed || he.Fingerprint != ssh.FingerprintSHA256(e.srv.HostKey) {
		t.Fatalf("err %v", err)
	}
}

func TestWrongUserKeyNotRetried(t *testing.T) {
	e := newEnv(t)
	signer, err := sshdtest.WriteKey(filepath.Join(t.TempDir(), "k"))
	if err != nil {
		t.Fatal(err)
	}
	e.payer.Auth = []ssh.AuthMethod{ssh.PublicKeys(signer)}
	c := e.client(t)
	os.WriteFile(filepath.Join(e.in, "x.x12"), []byte("x"), 0o644)
	start := time.Now()
	_, err = c.Fetch(bg, func(context.Context, Delivery) error { return nil })
	if !errors.Is(err, ErrAuth) || !Permanent(err) || !strings.Contains(err.Error(), "payer PAYER1") {
		t.Fatalf("err %v, want ErrAuth", err)
	}
	if time.Since(start) > 5*time.Second || strings.Contains(e.logText(), "retrying") {
		t.Fatalf("refused login was retried:\n%s", e.logText())
	}
	// Poll stops the payer instead of trying forever.
	done := make(chan error, 1)
	go func() { done <- c.Poll(bg, func(context.Context, Delivery) error { return nil }) }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrAuth) {
			t.Fatalf("poll: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Poll kept retrying a refused login")
	}
}

// Payer A's server accepts TCP connections and never answers (or is not
// there at all); payer B's exchange is not delayed by it.
func TestBrokenPayerDoesNotDelayAnother(t *testing.T) {
	b := newEnv(t)
	b.payer.ID, b.payer.PollInterval = "B", 50*time.Millisecond
	cb := b.client(t)

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	down, _ := net.Listen("tcp", "127.0.0.1:0")
	downAddr := down.Addr().String()
	down.Close()
	var clients []*Client
	for i, addr := range []string{silent.Addr().String(), downAddr} {
		a := newEnvNoServer(t, b)
		a.payer.ID, a.payer.Addr = []string{"A-silent", "A-down"}[i], addr
		a.payer.ConnectTimeout, a.payer.Attempts = 30*time.Second, 0
		clients = append(clients, a.client(t))
	}
	_, want := randomFile(t, b.in, "835.x12", 50<<10)
	got := make(chan time.Duration, 1)
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	start := time.Now()
	go Run(ctx, append(clients, cb), func(_ context.Context, d Delivery) error {
		if d.Payer == "B" && d.Digest == hexDigest(want) {
			got <- time.Since(start)
		}
		return nil
	})
	select {
	case d := <-got:
		// A's connect timeout is 30s: B was not waiting for it.
		t.Logf("payer B served after %s", d)
	case <-time.After(15 * time.Second):
		t.Fatal("payer B was not served while payer A was broken")
	}
	// A meanwhile sends a file: B's upload is not held up either.
	file, _ := randomFile(t, t.TempDir(), "B.837", 1000)
	s := time.Now()
	if _, err := cb.SendFile(bg, file); err != nil || time.Since(s) > 15*time.Second {
		t.Fatalf("B upload: %v after %s", err, time.Since(s))
	}
}

// newEnvNoServer is a payer with its own ledger and inbox but b's keys.
func newEnvNoServer(t *testing.T, b *env) *env {
	e := *b
	e.state = t.TempDir()
	e.inbox = filepath.Join(e.state, "inbox")
	e.ledgerDir = filepath.Join(e.state, "ledger")
	e.ledger = nil
	ep := &e
	t.Cleanup(func() {
		if ep.ledger != nil {
			ep.ledger.Close()
		}
	})
	return ep
}

func TestCheckName(t *testing.T) {
	long := strings.Repeat("a", 256)
	for _, tc := range []struct {
		name string
		want error
	}{
		{"835_20261206.x12", nil},
		{"ERA 2026-12-06 (1).edi", nil},
		{"résumé.x12", nil},
		{strings.Repeat("a", 255), nil},
		{"", ErrNameEmpty},
		{".", ErrNameDot},
		{"..", ErrNameDot},
		{"../etc/passwd", ErrNameSeparator},
		{"/etc/passwd", ErrNameSeparator},
		{`..\..\boot.ini`, ErrNameSeparator},
		{"a/b", ErrNameSeparator},
		{"a\x00b", ErrNameControl},
		{"a\nb", ErrNameControl},
		{"\x1b[31mred", ErrNameControl},
		{"a\x7fb", ErrNameControl},
		{"a\u0085b", ErrNameControl},
		{"a\u2028b", ErrNameControl},
		{"\xff\xfe", ErrNameEncoding},
		{long, ErrNameLong},
	} {
		if got := CheckName(tc.name); got != tc.want {
			t.Errorf("CheckName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"a.x12", "..", "../x", "a\x00", "\xff", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := CheckName(name)
		if err != nil {
			if strings.Contains(err.Error(), name) && name != "" && len(name) > 2 {
				t.Fatalf("error quotes the name: %v", err)
			}
			return
		}
		// An accepted name is one path element that stays inside the
		// folder, locally and remotely.
		dir := "/inbox"
		if j := filepath.Join(dir, name); filepath.Dir(j) != dir || filepath.Base(j) != name {
			t.Fatalf("accepted %q escapes or changes: %q", name, j)
		}
		if len(name) > MaxNameLen || strings.ContainsAny(name, "\x00\n\r/") {
			t.Fatalf("accepted %q", name)
		}
	})
}

// A file removed between the listing and the download is skipped
// quietly; the others are collected.
func TestFetchFileVanishes(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	_, keep := randomFile(t, e.in, "keep.x12", 1000)
	randomFile(t, e.in, "gone.x12", 1000)
	c.Hook = func(stage string) {
		if stage == "listed" {
			os.Remove(filepath.Join(e.in, "gone.x12"))
		}
	}
	var col collector
	res, err := c.Fetch(bg, col.handle)
	if err != nil || res.Vanished != 1 || res.HandedOn != 1 || col.got[hexDigest(keep)] != 1 {
		t.Fatalf("%+v %v %v", res, err, col.got)
	}
}

// Permission denied (an immutable folder: even root cannot write) is
// retried with backoff, then reported with the reason; nothing is left.
func TestUploadPermissionDenied(t *testing.T) {
	e := newEnv(t)
	if out, err := exec.Command("chattr", "+i", e.out).CombinedOutput(); err != nil {
		t.Skipf("chattr +i not possible here: %v %s", err, out)
	}
	defer exec.Command("chattr", "-i", e.out).Run()
	e.payer.Attempts = 3
	c := e.client(t)
	file, _ := randomFile(t, t.TempDir(), "P.837", 1000)
	_, err := c.SendFile(bg, file)
	if !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Fatalf("err %v", err)
	}
	if n := strings.Count(e.logText(), "retrying"); n != 2 {
		t.Fatalf("%d retries logged, want 2:\n%s", n, e.logText())
	}
	exec.Command("chattr", "-i", e.out).Run()
	// Fixed on the server: the next send goes through.
	if _, err := c.SendFile(bg, file); err != nil {
		t.Fatal(err)
	}
	assertOnlyFiles(t, e.out, "P.837")
}

// The payer's disk is full (a 1 MiB tmpfs): the upload fails with the
// server's reason after its attempts, no partial or temporary file is
// left, and a file that fits still goes through.
func TestUploadDiskFull(t *testing.T) {
	e := newEnv(t)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", e.out).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", e.out).Run() })
	e.payer.Attempts = 2
	c := e.client(t)
	big, _ := randomFile(t, t.TempDir(), "BIG.837", 3<<20)
	_, err := c.SendFile(bg, big)
	if err == nil || !strings.Contains(err.Error(), "gave up after 2 attempts") {
		t.Fatalf("err %v", err)
	}
	t.Logf("disk full: %v", err)
	assertOnlyFiles(t, e.out)
	small, want := randomFile(t, t.TempDir(), "SMALL.837", 100<<10)
	if _, err := c.SendFile(bg, small); err != nil {
		t.Fatal(err)
	}
	assertOnlyFiles(t, e.out, "SMALL.837")
	if got, _ := os.ReadFile(filepath.Join(e.out, "SMALL.837")); !bytes.Equal(got, want) {
		t.Fatal("content differs")
	}
}

// The payer's server is down when a send starts and comes up a few
// retries later: the send is retried with backoff and goes through,
// once.
func TestServerDownThenUp(t *testing.T) {
	e := newEnv(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connection refused
	e.payer.Addr, e.payer.Attempts = addr, 100
	c := e.client(t)
	var mu sync.Mutex
	fails := 0
	up := make(chan struct{})
	c.Observe = func(op string, _ time.Duration, err error) {
		if op != "connect" || err == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if fails++; fails == 3 {
			close(up) // the server comes back after three refused connects
		}
	}
	go func() {
		<-up
		// A TCP relay on the payer's address to the real sshd.
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("relay: %v", err)
			return
		}
		t.Cleanup(func() { l.Close() })
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				out, err := net.Dial("tcp", e.srv.Addr)
				if err != nil {
					return
				}
				defer out.Close()
				go io.Copy(out, in)
				io.Copy(in, out)
			}()
		}
	}()
	file, want := randomFile(t, t.TempDir(), "DOWN.837", 70<<10)
	s, err := c.SendFile(bg, file)
	if err != nil || s.Already {
		t.Fatalf("send: %+v %v\n%s", s, err, e.logText())
	}
	mu.Lock()
	n := fails
	mu.Unlock()
	if n < 3 || strings.Count(e.logText(), "sftp upload failed; retrying") < 3 {
		t.Fatalf("%d refused connects; log:\n%s", n, e.logText())
	}
	assertOnlyFiles(t, e.out, "DOWN.837")
	if got, _ := os.ReadFile(filepath.Join(e.out, "DOWN.837")); !bytes.Equal(got, want) {
		t.Fatal("content differs")
	}
}

// backoff doubles from RetryMin up to RetryMax, each wait between half
// and all of that, and random within it, so many payers' retries spread.
func TestBackoff(t *testing.T) {
	c := &Client{p: Payer{RetryMin: time.Second, RetryMax: 40 * time.Second}}
	for n, full := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, 40 * time.Second, 40 * time.Second} {
		distinct := map[time.Duration]bool{}
		for range 50 {
			d := c.backoff(n + 1)
			if d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %s, want %s to %s", n+1, d, full/2, full)
			}
			distinct[d] = true
		}
		if len(distinct) < 10 {
			t.Errorf("backoff(%d): %d distinct waits of 50: no jitter", n+1, len(distinct))
		}
	}
}

// The server hangs (its connection processes frozen, the TCP connection
// open) in the middle of an upload and while a listing waits for its
// answer: past transfer_timeout and operation_timeout the connection is
// closed and the work retried on a new one, which goes through.
func TestServerHangs(t *testing.T) {
	e := newEnv(t)
	e.payer.TransferTimeout, e.payer.OperationTimeout = 500*time.Millisecond, 500*time.Millisecond
	c := e.client(t)
	file, want := randomFile(t, t.TempDir(), "HANG.837", 32<<20)
	froze := make(chan func(), 1)
	go func() {
		tmp := filepath.Join(e.out, tempName("HANG.837", hexDigest(want)))
		for range 5000 {
			if st, err := os.Stat(tmp); err == nil && st.Size() > 1<<20 {
				if n, thaw := e.srv.FreezeSessions(); n > 0 {
					froze <- thaw
				}
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	s, err := c.SendFile(bg, file)
	var thaw func()
	select {
	case thaw = <-froze:
		t.Cleanup(thaw)
	default:
		t.Skip("the upload finished before the server could be frozen")
	}
	if err != nil || s.Already {
		t.Fatalf("send: %+v %v\n%s", s, err, e.logText())
	}
	if !strings.Contains(e.logText(), "no progress for 500ms") {
		t.Fatalf("no transfer timeout logged:\n%s", e.logText())
	}
	thaw()
	if got, _ := os.ReadFile(filepath.Join(e.out, "HANG.837")); !bytes.Equal(got, want) {
		t.Fatal("content differs")
	}
	assertOnlyFiles(t, e.out, "HANG.837")

	// A listing: the connection is up, then the server stops answering.
	randomFile(t, e.in, "999.x12", 100)
	if _, err := c.Fetch(bg, func(context.Context, Delivery) error { return nil }); err != nil {
		t.Fatal(err)
	}
	_, b := randomFile(t, e.in, "835.x12", 100)
	n, thaw2 := e.srv.FreezeSessions()
	t.Cleanup(thaw2)
	if n == 0 {
		t.Fatal("no connection to freeze")
	}
	var col collector
	res, err := c.Fetch(bg, col.handle)
	if err != nil || res.HandedOn != 1 || col.got[hexDigest(b)] != 1 {
		t.Fatalf("fetch after the hang: %+v %v\n%s", res, err, e.logText())
	}
	if !strings.Contains(e.logText(), "sftp list failed; retrying") {
		t.Fatalf("no operation timeout logged:\n%s", e.logText())
	}
}
