package payersim

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// DefaultListen is the address the SFTP server listens on unless told:
// loopback only.
const DefaultListen = "127.0.0.1:2022"

// ServerOptions configure an SFTP Server.
type ServerOptions struct {
	// DataDir holds the host key, the SFTP root (root/PAYER/inbound and
	// outbound), responses waiting for their delay (pending/) and the
	// 837P files already answered (processed/).
	DataDir string
	// Listen is host:port (default DefaultListen; port 0 picks one).
	Listen string
	// User is the login name (default "claimgate"). It logs in with a
	// key from AuthorizedKeys or with Password; at least one is needed.
	User           string
	AuthorizedKeys []ssh.PublicKey
	Password       string
	// Logf receives one line per event (file names, counts, errors; no
	// claim data). Nil discards.
	Logf func(format string, args ...any)
	// OnProcessed, when set, is called (from the watcher goroutine) after
	// an 837P was answered and its responses queued: tests use it to see
	// the decisions without parsing the responses.
	OnProcessed func(payerID, file string, res *Result)
}

// Server is the simulator's SFTP front: per-payer inbound and outbound
// folders; every 837P renamed into an inbound folder is answered in the
// outbound folder after the payer's delays.
type Server struct {
	sim  *Simulator
	opts ServerOptions
	fs   *rootFS

	root, pending, processed string
	hostKey                  ssh.Signer
	sshCfg                   *ssh.ServerConfig

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	cancel context.CancelFunc
	closed bool
	wg     sync.WaitGroup
	nudge  chan struct{}

	// stateDirty: paid claims not yet in state.json (saved at most every
	// stateSaveEvery by the watcher, and on Close); watcher-only.
	stateDirty bool
	stateSaved time.Time
}

// stateSaveEvery bounds how often the whole state (up to 1,000 paid
// claims per payer and 200,000 duplicate keys, megabytes of JSON) is
// written: once per answered file made a busy simulator's cost grow with
// everything it had paid.
const stateSaveEvery = time.Second

// NewServer prepares a server for a simulator: it creates the data
// directory tree and loads the host key (generating an ed25519 key on
// first start).
func NewServer(sim *Simulator, opts ServerOptions) (*Server, error) {
	if opts.DataDir == "" {
		return nil, errors.New("payersim: no data directory")
	}
	if opts.Listen == "" {
		opts.Listen = DefaultListen
	}
	if opts.User == "" {
		opts.User = "claimgate"
	}
	if len(opts.AuthorizedKeys) == 0 && opts.Password == "" {
		return nil, errors.New("payersim: no authorized keys and no password: nobody could log in")
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	s := &Server{sim: sim, opts: opts, conns: map[net.Conn]struct{}{}, nudge: make(chan struct{}, 1),
		root:      filepath.Join(opts.DataDir, "root"),
		pending:   filepath.Join(opts.DataDir, "pending"),
		processed: filepath.Join(opts.DataDir, "processed")}
	for _, p := range sim.cfg.Payers {
		for _, d := range []string{filepath.Join(s.root, p.Folder, p.Inbound), filepath.Join(s.root, p.Folder, p.Outbound),
			filepath.Join(s.pending, p.Folder), filepath.Join(s.processed, p.Folder)} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, fmt.Errorf("payersim: %w", err)
			}
		}
	}
	// counters.json is newer than state.json's counters (saved with
	// every file, the whole state at most once a second).
	var st State
	if ok, err := readJSON(s.statePath(), &st); err != nil {
		return nil, err
	} else if ok {
		sim.Restore(st)
	}
	var c Counters
	if ok, err := readJSON(s.countersPath(), &c); err != nil {
		return nil, err
	} else if ok {
		sim.RestoreCounters(c)
	}
	key, err := loadHostKey(filepath.Join(opts.DataDir, "ssh_host_ed25519_key"))
	if err != nil {
		return nil, err
	}
	s.hostKey = key
	s.fs = newRootFS(s.root, s.poke)
	cfg := &ssh.ServerConfig{}
	if len(opts.AuthorizedKeys) > 0 {
		cfg.PublicKeyCallback = func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if c.User() == opts.User {
				k := key.Marshal()
				for _, a := range opts.AuthorizedKeys {
					if bytes.Equal(a.Marshal(), k) {
						return &ssh.Permissions{}, nil
					}
				}
			}
			return nil, errors.New("payersim: key not authorized")
		}
	}
	if opts.Password != "" {
		cfg.PasswordCallback = func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			okUser := subtle.ConstantTimeCompare([]byte(c.User()), []byte(opts.User))
			okPass := subtle.ConstantTimeCompare(pw, []byte(opts.Password))
			if okUser&okPass == 1 {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("payersim: wrong user or password")
		}
	}
	cfg.AddHostKey(key)
	s.sshCfg = cfg
	return s, nil
}

// loadHostKey reads the host key, or generates and stores an ed25519 key
// (mode 0600) when there is none.
func loadHostKey(path string) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := ssh.ParsePrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("payersim: host key %s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("payersim: host key: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	blk, err := ssh.MarshalPrivateKey(priv, "claimgate payer-sim host key")
	if err != nil {
		return nil, err
	}
	if err := writeNew(path, pem.EncodeToMemory(blk), 0o600); err != nil {
		return nil, fmt.Errorf("payersim: storing host key: %w", err)
	}
	return ssh.NewSignerFromKey(priv)
}

// writeNew writes a file under a temporary name, syncs it and links it
// into place; it never replaces an existing file.
func writeNew(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Link(tmp.Name(), path)
}

func (s *Server) statePath() string { return filepath.Join(s.opts.DataDir, "state.json") }

func (s *Server) countersPath() string { return filepath.Join(s.opts.DataDir, "counters.json") }

// saveState writes the simulator's whole state durably (state.json), and
// its counters after it, so counters.json is never the older of the two.
func (s *Server) saveState() error {
	if err := writeReplace(s.statePath(), s.sim.State()); err != nil {
		return err
	}
	if err := s.saveCounters(); err != nil {
		return err
	}
	s.stateDirty, s.stateSaved = false, time.Now()
	return nil
}

// saveCounters writes the control numbers and sequences durably
// (counters.json, a few hundred bytes), as every answered file must
// before its responses are queued.
func (s *Server) saveCounters() error {
	return writeReplace(s.countersPath(), s.sim.Counters())
}

// readJSON decodes the JSON file at path into v; a missing file is
// reported as false, not as an error.
func readJSON(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("payersim: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("payersim: %s: %w", path, err)
	}
	return true, nil
}

// writeReplace writes v's JSON to path durably: temporary file, sync,
// rename over the previous one.
func writeReplace(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".state-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// HostKey returns the server's public host key.
func (s *Server) HostKey() ssh.PublicKey { return s.hostKey.PublicKey() }

// Root is the local directory served as the SFTP root.
func (s *Server) Root() string { return s.root }

// Start listens and serves until ctx ends or Close is called. It returns
// the address listened on and the known_hosts line that pins the host
// key for it.
func (s *Server) Start(ctx context.Context) (addr, hostKeyLine string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil || s.closed {
		return "", "", errors.New("payersim: server already started or closed")
	}
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return "", "", fmt.Errorf("payersim: %w", err)
	}
	s.ln = ln
	ctx, s.cancel = context.WithCancel(ctx)
	addr = ln.Addr().String()
	hostKeyLine = knownhosts.Line([]string{knownhosts.Normalize(addr)}, s.hostKey.PublicKey())
	s.wg.Add(3)
	go s.accept(ln)
	go s.watch(ctx)
	go func() {
		defer s.wg.Done()
		<-ctx.Done()
		s.shutdown()
	}()
	return addr, hostKeyLine, nil
}

// Close stops the server: the listener, every connection and the
// watcher. Responses still waiting for their delay stay in the data
// directory and are delivered after the next Start.
func (s *Server) Close() error {
	s.mu.Lock()
	cancel := s.cancel
	s.closed = true
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	s.shutdown()
	s.wg.Wait()
	if s.stateDirty {
		if err := s.saveState(); err != nil {
			return fmt.Errorf("payersim: saving state: %w", err)
		}
	}
	return nil
}

func (s *Server) shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		s.ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
}

func (s *Server) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

func (s *Server) serveConn(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second)) // for the handshake
	sc, chans, reqs, err := ssh.NewServerConn(c, s.sshCfg)
	if err != nil {
		s.opts.Logf("payer-sim: %s: login refused: %v", c.RemoteAddr(), err)
		return
	}
	c.SetDeadline(time.Time{})
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(ch, creqs)
		}()
	}
}

// session serves the sftp subsystem and nothing else (no shell, no exec).
func (s *Server) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		ok := req.Type == "subsystem" && len(req.Payload) >= 4 && string(req.Payload[4:]) == "sftp"
		req.Reply(ok, nil)
		if !ok {
			continue
		}
		go ssh.DiscardRequests(reqs)
		rs := sftp.NewRequestServer(ch, s.fs.handlers())
		if err := rs.Serve(); err != nil && !errors.Is(err, io.EOF) {
			s.opts.Logf("payer-sim: sftp session ended: %v", err)
		}
		rs.Close()
		return
	}
}

// poke wakes the watcher (an upload was closed or a file renamed).
func (s *Server) poke() {
	select {
	case s.nudge <- struct{}{}:
	default:
	}
}

// watch answers new inbound files and delivers due responses.
func (s *Server) watch(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(time.Duration(s.sim.cfg.PollInterval))
	defer t.Stop()
	for {
		s.scan(ctx)
		s.deliver()
		if s.stateDirty && time.Since(s.stateSaved) >= stateSaveEvery {
			if err := s.saveState(); err != nil {
				s.opts.Logf("payer-sim: saving state: %v", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.nudge:
		}
	}
}

// ignored reports names a careful client uses while uploading.
func ignored(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".part") || strings.HasSuffix(n, ".tmp") ||
		strings.HasSuffix(n, ".filepart") || strings.HasSuffix(n, "~")
}

// scan processes every finished file in the inbound folders: responses go
// to pending/ first (durably), then the 837P moves to processed/. A crash
// in between answers the file again after the restart, never loses it.
func (s *Server) scan(ctx context.Context) {
	for i := range s.sim.cfg.Payers {
		p := &s.sim.cfg.Payers[i]
		dir := filepath.Join(s.root, p.Folder, p.Inbound)
		entries, err := os.ReadDir(dir)
		if err != nil {
			s.opts.Logf("payer-sim: %s: %v", p.Folder, err)
			continue
		}
		for _, e := range entries {
			if ctx.Err() != nil {
				return
			}
			local := filepath.Join(dir, e.Name())
			if !e.Type().IsRegular() || ignored(e.Name()) || s.fs.busy(local) {
				continue
			}
			s.processFile(ctx, p, local)
			// Due responses go out file by file, not after the whole scan.
			s.deliver()
		}
	}
}

func (s *Server) processFile(ctx context.Context, p *PayerConfig, local string) {
	name := filepath.Base(local)
	f, err := os.Open(local)
	if err != nil {
		s.opts.Logf("payer-sim: %s/%s: %v", p.Folder, name, err)
		return
	}
	res, err := s.sim.Process(ctx, p.ID, f, name)
	f.Close()
	if err != nil {
		s.opts.Logf("payer-sim: %s/%s: %v", p.Folder, name, err)
		return
	}
	// The counters are saved before the responses are queued: a crash in
	// between skips numbers but never repeats an ISA13. The paid claims
	// follow within stateSaveEvery: a crash forgets at most that long's
	// payments (a duplicate of one of them is then paid, not denied).
	s.stateDirty = true
	if err := s.saveCounters(); err != nil {
		s.opts.Logf("payer-sim: saving counters: %v", err)
		return
	}
	now := time.Now()
	for _, rf := range res.Files {
		due := now.Add(rf.Delay).UnixNano()
		pend := filepath.Join(s.pending, p.Folder, fmt.Sprintf("%020d_%s", due, rf.Name))
		if err := writeNew(pend, rf.Data, 0o644); err != nil {
			s.opts.Logf("payer-sim: %s/%s: queueing %s: %v", p.Folder, name, rf.Type, err)
			return
		}
	}
	if err := moveNoReplace(local, filepath.Join(s.processed, p.Folder, name)); err != nil {
		s.opts.Logf("payer-sim: %s/%s: %v", p.Folder, name, err)
		return
	}
	s.opts.Logf("payer-sim: %s/%s: %d claims, %d responses queued", p.Folder, name, len(res.Claims), len(res.Files))
	if s.opts.OnProcessed != nil {
		s.opts.OnProcessed(p.ID, name, res)
	}
}

// moveNoReplace renames from to to, or to to.1, to.2 ... when taken.
func moveNoReplace(from, to string) error {
	for i := 0; i < 1000; i++ {
		target := to
		if i > 0 {
			target = to + "." + strconv.Itoa(i)
		}
		err := os.Link(from, target)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		return os.Remove(from)
	}
	return fmt.Errorf("payersim: no free name for %s", filepath.Base(to))
}

// deliver moves due responses from pending/ into the outbound folders:
// a link, so the file appears whole under its final name at once.
func (s *Server) deliver() {
	now := time.Now().UnixNano()
	for i := range s.sim.cfg.Payers {
		p := &s.sim.cfg.Payers[i]
		dir := filepath.Join(s.pending, p.Folder)
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names) // due time first
		for _, n := range names {
			dueText, final, ok := strings.Cut(n, "_")
			due, err := strconv.ParseInt(dueText, 10, 64)
			if !ok || err != nil {
				continue
			}
			if due > now {
				break
			}
			if err := moveNoReplace(filepath.Join(dir, n), filepath.Join(s.root, p.Folder, p.Outbound, final)); err != nil {
				s.opts.Logf("payer-sim: %s: delivering %s: %v", p.Folder, final, err)
				continue
			}
			s.opts.Logf("payer-sim: %s: delivered %s", p.Folder, final)
		}
	}
}
