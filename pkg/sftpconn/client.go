// Package sftpconn exchanges files with payers over SFTP: uploads that a
// payer never sees half-written, downloads that are verified, stored under
// their SHA-256 and handed on exactly once, a ledger that keeps both true
// across crashes and retries, pinned host keys, and per-payer isolation
// (one connection and one worker per payer). It wraps github.com/pkg/sftp
// and golang.org/x/crypto/ssh. Log lines carry the payer and a digest
// prefix, never a file name (names can hold claim ids).
package sftpconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/claimgate/claimgate/pkg/ledger"
	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// ErrAuth is a refused login: wrong key, user or password. It is never
// retried.
var ErrAuth = errors.New("authentication refused")

// ErrTimeout is an operation or transfer that passed its time limit.
var ErrTimeout = errors.New("timed out")

// Client exchanges files with one payer over one SSH connection, made on
// first use and made again after it breaks. It is safe for concurrent use.
type Client struct {
	p      Payer
	ledger ledger.Ledger
	log    *slog.Logger
	// Inbox is the local directory downloads are stored in, each under
	// its SHA-256 (hex). Fetch needs it.
	Inbox string
	// Hook, when set, is called at named points: after the ledger
	// recorded a state ("uploading", "renaming", "uploaded",
	// "downloaded", "handed-on", "remote-removed") and after Fetch chose
	// the files to collect ("listed"). It exists so tests can crash the
	// process, or change the remote folder, exactly there.
	Hook func(stage string)
	// Observe, when set, is called after each SFTP operation: op is
	// connect, upload (one attempt: write, sync, rename), list,
	// download or remove; err is the operation's error. Metrics time
	// operations here. Set it before the client is used.
	Observe func(op string, d time.Duration, err error)

	inboxSync dirSyncer

	hostKeyCB ssh.HostKeyCallback
	algos     []string
	sem       chan struct{}

	mu  sync.Mutex
	cur *conn
}

// conn is one SSH connection and its SFTP sessions. Several sessions
// (channels) share the connection because an SFTP server answers one
// session's requests in order: an fsync or a slow open in one session
// would hold up every other file in flight.
type conn struct {
	ssh         *ssh.Client
	sessions    []*sftp.Client
	next        atomic.Uint32
	packet      int  // data bytes per read or write request
	fsync       bool // fsync@openssh.com offered
	posixRename bool // posix-rename@openssh.com offered
	// linkRename: the server is OpenSSH, whose sftp-server makes
	// SSH_FXP_RENAME of a regular file a link(2) and an unlink(2): it
	// fails when the target exists, so it never replaces a file, and no
	// check of the final name is needed before it.
	linkRename bool
	closed     atomic.Bool
}

// sftp returns the next session, round robin.
func (cn *conn) sftp() *sftp.Client {
	return cn.sessions[int(cn.next.Add(1))%len(cn.sessions)]
}

// close closes the SSH connection first, then the sessions: an SFTP
// session's Close waits until its reader sees the channel end, which a
// hung server never answers, so closing the sessions first would block
// forever (and with it the timeout meant to end a stuck transfer).
// Without the TCP connection every channel read ends at once.
func (cn *conn) close() {
	if cn.closed.CompareAndSwap(false, true) {
		cn.ssh.Close()
		for _, s := range cn.sessions {
			s.Close()
		}
	}
}

// New returns a client for payer p recording into led. log may be nil.
func New(p Payer, led ledger.Ledger, log *slog.Logger) (*Client, error) {
	p.defaults()
	if p.ID == "" || p.Addr == "" {
		return nil, errors.New("sftpconn: payer needs ID and Addr")
	}
	if len(p.Auth) == 0 {
		return nil, fmt.Errorf("payer %s: no authentication method (private key or password)", p.ID)
	}
	cb, algos, err := hostKeyCheck(p.ID, p.Addr, p.HostKeys, p.KnownHostsFile)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{p: p, ledger: led, log: log.With("payer", p.ID), hostKeyCB: cb, algos: algos,
		sem: make(chan struct{}, p.MaxTransfers)}, nil
}

// Payer returns the client's settings, defaults applied.
func (c *Client) Payer() Payer { return c.p }

// Close closes the connection, if any.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil {
		c.cur.close()
		c.cur = nil
	}
	return nil
}

// session returns the live connection, dialling one if needed.
func (c *Client) session(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && !c.cur.closed.Load() {
		return c.cur, nil
	}
	t0 := time.Now()
	cn, err := c.dial(ctx)
	c.observe("connect", t0, &err)
	if err != nil {
		return nil, err
	}
	c.cur = cn
	return cn, nil
}

// drop closes cn if the server did not answer: the next operation dials
// again.
func (c *Client) drop(cn *conn, err error) {
	if err == nil || answered(err) {
		return
	}
	cn.close()
}

// answered reports whether err is the server's reply to a request (the
// connection works) rather than a broken connection.
func answered(err error) bool {
	var se *sftp.StatusError
	return errors.As(err, &se) || errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) ||
		errors.Is(err, errNotRegular) || errors.Is(err, errSizeMismatch)
}

func (c *Client) dial(ctx context.Context) (*conn, error) {
	dctx, cancel := context.WithTimeout(ctx, c.p.ConnectTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(dctx, "tcp", c.p.Addr)
	if err != nil {
		return nil, fmt.Errorf("payer %s: connect %s: %w", c.p.ID, c.p.Addr, err)
	}
	// The handshake and the SFTP start share the connect deadline, and a
	// cancelled ctx ends them too.
	nc.SetDeadline(time.Now().Add(c.p.ConnectTimeout))
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	var hkErr atomic.Pointer[HostKeyError]
	cfg := &ssh.ClientConfig{
		User: c.p.User,
		Auth: c.p.Auth,
		HostKeyCallback: func(h string, r net.Addr, k ssh.PublicKey) error {
			err := c.hostKeyCB(h, r, k)
			var he *HostKeyError
			if errors.As(err, &he) {
				hkErr.Store(he)
			}
			return err
		},
		HostKeyAlgorithms: c.algos,
		Timeout:           c.p.ConnectTimeout,
	}
	sc, chans, reqs, err := ssh.NewClientConn(nc, c.p.Addr, cfg)
	if err != nil {
		nc.Close()
		if he := hkErr.Load(); he != nil {
			return nil, he
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, fmt.Errorf("payer %s: %s as %s: %w (%v)", c.p.ID, c.p.Addr, c.p.User, ErrAuth, err)
		}
		return nil, fmt.Errorf("payer %s: ssh handshake with %s: %w", c.p.ID, c.p.Addr, err)
	}
	client := ssh.NewClient(sc, chans, reqs)
	cn := &conn{ssh: client}
	packet := c.p.MaxPacket
	for i := 0; i < c.p.Sessions; i++ {
		pk := packet
		if pk == 0 {
			pk = 32768 // every server takes this much
		}
		s, err := sftp.NewClient(client,
			sftp.UseConcurrentWrites(true),
			sftp.UseConcurrentReads(true),
			sftp.UseFstat(true),
			sftp.MaxPacketUnchecked(pk),
			sftp.MaxConcurrentRequestsPerFile(max(1, c.p.WindowBytes/pk)),
		)
		if err != nil && i > 0 {
			break // the server limits sessions: use those it gave
		}
		if err != nil {
			client.Close()
			return nil, fmt.Errorf("payer %s: start sftp on %s: %w", c.p.ID, c.p.Addr, err)
		}
		if packet == 0 {
			// Automatic: a server offering limits@openssh.com is OpenSSH
			// 8.6 or later, whose sftp-server takes reads and writes of
			// up to 261120 bytes; larger requests halve the round trips.
			packet = 32768
			if _, ok := s.HasExtension("limits@openssh.com"); ok {
				packet = 128 << 10
				s.Close()
				i--
				continue
			}
		}
		cn.sessions = append(cn.sessions, s)
	}
	nc.SetDeadline(time.Time{})
	cn.packet = packet
	_, cn.fsync = cn.sessions[0].HasExtension("fsync@openssh.com")
	_, cn.posixRename = cn.sessions[0].HasExtension("posix-rename@openssh.com")
	_, hardlink := cn.sessions[0].HasExtension("hardlink@openssh.com")
	cn.linkRename = hardlink && strings.HasPrefix(string(client.ServerVersion()), "SSH-2.0-OpenSSH_")
	c.log.Debug("sftp connected", "sessions", len(cn.sessions), "fsync", cn.fsync, "posix_rename", cn.posixRename, "link_rename", cn.linkRename)
	return cn, nil
}

// op runs one remote operation with the operation timeout: past it the
// connection is closed, which ends the operation.
func (c *Client) op(ctx context.Context, cn *conn, f func() error) error {
	return c.guard(ctx, cn, c.p.OperationTimeout, nil, f)
}

// guard runs f and closes cn when ctx ends or when no progress was made
// for limit (progress, when not nil, is kicked by f's reads and writes).
func (c *Client) guard(ctx context.Context, cn *conn, limit time.Duration, progress *atomic.Int64, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if progress == nil {
		progress = new(atomic.Int64)
	}
	progress.Store(time.Now().UnixNano())
	var timedOut atomic.Bool
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(max(limit/8, 10*time.Millisecond))
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				cn.close()
				return
			case now := <-tick.C:
				if now.UnixNano()-progress.Load() > int64(limit) {
					timedOut.Store(true)
					cn.close()
					return
				}
			}
		}
	}()
	err := f()
	close(done)
	if err != nil && timedOut.Load() {
		return fmt.Errorf("payer %s: no progress for %s: %w", c.p.ID, limit, ErrTimeout)
	}
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// progressReader and progressWriter kick a guard on every call.
type progressReader struct {
	r io.Reader
	p *atomic.Int64
}

func (r progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.p.Store(time.Now().UnixNano())
	return n, err
}

type progressWriter struct {
	w io.Writer
	p *atomic.Int64
}

func (w progressWriter) Write(b []byte) (int, error) {
	n, err := w.w.Write(b)
	w.p.Store(time.Now().UnixNano())
	return n, err
}

// Permanent reports whether err cannot be helped by retrying: a refused
// host key or login, a bad name, a local file that cannot be read.
func Permanent(err error) bool {
	var he *HostKeyError
	var pe *permanentError
	return errors.As(err, &he) || errors.Is(err, ErrAuth) || errors.As(err, &pe) || errors.Is(err, context.Canceled)
}

// Refused reports whether the server refused us (host key or login):
// nothing for this payer can succeed until the configuration changes.
func Refused(err error) bool {
	var he *HostKeyError
	return errors.As(err, &he) || errors.Is(err, ErrAuth)
}

// permanentError wraps a per-file problem that no retry fixes.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err} }

// retry runs f until it succeeds, fails permanently, runs out of
// attempts or ctx ends, sleeping an exponential backoff with jitter
// between tries.
func (c *Client) retry(ctx context.Context, attempts int, what string, digest string, f func() error) error {
	var err error
	for i := 1; ; i++ {
		err = f()
		if err == nil || Permanent(err) || ctx.Err() != nil {
			return err
		}
		if attempts > 0 && i >= attempts {
			return fmt.Errorf("%w (gave up after %d attempts)", err, i)
		}
		d := c.backoff(i)
		c.log.Warn("sftp "+what+" failed; retrying", "sha256", short(digest), "attempt", i, "retry_in", d.Round(time.Millisecond), "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
}

// backoff is RetryMin·2^(n-1) capped at RetryMax, with "equal jitter":
// half fixed, half random, so retries of many payers spread out.
func (c *Client) backoff(n int) time.Duration {
	d := c.p.RetryMin
	for i := 1; i < n && d < c.p.RetryMax; i++ {
		d *= 2
	}
	d = min(d, c.p.RetryMax)
	return d/2 + rand.N(d/2+1)
}

// short is a digest prefix for log lines.
func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12]
	}
	return digest
}

// noPath strips file names from errors of os and sftp calls, so an error
// can be logged without leaking a name: os path errors lose the path, and
// an SFTP status keeps its code but not the server's message, which some
// servers fill with the path.
func noPath(err error) error {
	var se *sftp.StatusError
	if errors.As(err, &se) {
		return &serverStatus{se}
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %w", le.Op, le.Err)
	}
	return err
}

// serverStatus is an SFTP status answer without the server's text.
type serverStatus struct{ se *sftp.StatusError }

func (e *serverStatus) Error() string {
	names := map[uint32]string{1: "SSH_FX_EOF", 2: "SSH_FX_NO_SUCH_FILE", 3: "SSH_FX_PERMISSION_DENIED",
		4: "SSH_FX_FAILURE", 5: "SSH_FX_BAD_MESSAGE", 6: "SSH_FX_NO_CONNECTION", 7: "SSH_FX_CONNECTION_LOST",
		8: "SSH_FX_OP_UNSUPPORTED"}
	if n, ok := names[e.se.Code]; ok {
		return "sftp server answered " + n
	}
	return fmt.Sprintf("sftp server answered status %d", e.se.Code)
}

func (e *serverStatus) Unwrap() error { return e.se }

// observe reports an operation begun at t0 to Observe.
func (c *Client) observe(op string, t0 time.Time, err *error) {
	if c.Observe != nil {
		c.Observe(op, time.Since(t0), *err)
	}
}
