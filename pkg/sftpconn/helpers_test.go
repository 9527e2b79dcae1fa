package sftpconn

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/ledger"
	"github.com/claimgate/claimgate/pkg/sftpconn/sshdtest"
	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// env is one sshd with a payer's remote folders and a local state dir.
type env struct {
	srv           *sshdtest.Server
	out, in, arch string // remote folders (the same file system)
	state, inbox  string
	ledgerDir     string
	ledger        *ledger.Dir
	payer         Payer
	logs          *bytes.Buffer
	logMu         *sync.Mutex
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := sshdtest.Start(t)
	root := t.TempDir()
	e := &env{srv: srv, out: filepath.Join(root, "out"), in: filepath.Join(root, "in"), arch: filepath.Join(root, "archive"),
		state: t.TempDir(), logs: &bytes.Buffer{}, logMu: &sync.Mutex{}}
	for _, d := range []string{e.out, e.in, e.arch} {
		os.MkdirAll(d, 0o755)
	}
	e.inbox = filepath.Join(e.state, "inbox")
	e.ledgerDir = filepath.Join(e.state, "ledger")
	e.payer = Payer{
		ID: "PAYER1", Addr: srv.Addr, User: "root",
		Auth:        []ssh.AuthMethod{ssh.PublicKeys(srv.UserSigner)},
		HostKeys:    []ssh.PublicKey{srv.HostKey},
		OutboundDir: e.out, InboundDir: e.in,
		SettleTime: 50 * time.Millisecond, RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		ConnectTimeout: 5 * time.Second, OperationTimeout: 10 * time.Second, TransferTimeout: 10 * time.Second,
		Attempts: 5,
	}
	t.Cleanup(func() {
		if e.ledger != nil {
			e.ledger.Close()
		}
	})
	return e
}

// client opens (or reopens, as a restarted process would) the ledger and
// returns a client.
func (e *env) client(t *testing.T) *Client {
	t.Helper()
	if e.ledger != nil {
		e.ledger.Close()
	}
	var err error
	if e.ledger, err = ledger.OpenDir(e.ledgerDir); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(lockedWriter{e.logs, e.logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(e.payer, e.ledger, log)
	if err != nil {
		t.Fatal(err)
	}
	c.Inbox = e.inbox
	t.Cleanup(func() { c.Close() })
	return c
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (e *env) logText() string {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	return e.logs.String()
}

// observer is a second, independent SFTP connection.
func (e *env) observer(t *testing.T) *sftp.Client {
	t.Helper()
	c, err := ssh.Dial("tcp", e.srv.Addr, e.srv.ClientConfig())
	if err != nil {
		t.Error(err)
		return nil
	}
	s, err := sftp.NewClient(c)
	if err != nil {
		t.Error(err)
		return nil
	}
	t.Cleanup(func() { s.Close(); c.Close() })
	return s
}

func randomFile(t testing.TB, dir, name string, size int) (string, []byte) {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b
}

func hexDigest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var bg = context.Background()
