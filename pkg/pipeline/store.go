package pipeline

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/control"
)

// Output is where the 837P files go. A file is first written whole under
// a temporary name (Create), then published under its final name without
// ever replacing an existing file (TempFile.Publish). The gateway can back
// it with an object store; DirOutput is the directory implementation.
type Output interface {
	// Create starts a new temporary file.
	Create(ctx context.Context) (TempFile, error)
	// Published reports whether name holds a file with the given digest
	// (hex SHA-256), for the recovery of a journal record.
	Published(ctx context.Context, name, digest string) (bool, error)
	// Clean removes temporary files left by earlier runs: they may hold
	// patient data.
	Clean(ctx context.Context) error
}

// TempFile is a file being written. Close makes its content durable (it
// is called by the assembler once the file is complete); Abort discards it.
type TempFile interface {
	io.WriteCloser
	// Name identifies the temporary file (for the journal).
	Name() string
	// Digest is the hex SHA-256 of what was written; valid after Close.
	Digest() string
	// Publish gives the closed file its final name, durably, and removes
	// the temporary name. It returns an error wrapping os.ErrExist, and
	// changes nothing, when name is taken.
	Publish(ctx context.Context, name string) (path string, err error)
	// Abort discards the file.
	Abort() error
}

// Describer is an optional TempFile method: the pipeline calls Describe
// with the file's payer, envelope numbers and claims before Publish, so
// an Output that routes files by payer (the gateway's object store,
// pkg/bus) knows where the file goes.
type Describer interface {
	Describe(fi assemble.FileInfo)
}

// Record is one write-ahead journal record: a file about to be
// published and the duplicate keys of its claims, made durable before the
// file gets its final name so that a crash between the two is recovered
// (file present: its keys are recorded as sent; absent: the record is
// dropped).
type Record struct {
	ID     string   `json:"id"`
	Temp   string   `json:"temp"`
	Name   string   `json:"name"`
	Digest string   `json:"digest"`
	Keys   []string `json:"keys,omitempty"`
	Claims int      `json:"claims"`
}

// Journal keeps Records durably. FileJournal is the file implementation;
// the gateway can keep them in a JetStream stream.
type Journal interface {
	// Begin durably records r (a later Begin with the same ID replaces it).
	Begin(ctx context.Context, r Record) error
	// Done durably marks record id complete.
	Done(ctx context.Context, id string) error
	// Pending returns the records begun and not done.
	Pending(ctx context.Context) ([]Record, error)
	// Compact drops completed records (call when none is pending).
	Compact(ctx context.Context) error
}

// Crash, when set, is called at each step of publishing a file with the
// step's name; tests make it kill the process to check recovery (see
// crashpoint.go, built with -tags crashpoints).
var Crash func(step string)

func crash(step string) {
	if Crash != nil {
		Crash(step)
	}
}

// DirOutput writes files into a directory. Temporary files are named
// ".partial-*.837" in the same directory; publishing links them to their
// final name (link fails when the name exists: no file is ever replaced),
// removes the temporary name and fsyncs the directory.
type DirOutput struct {
	Dir string
}

// TempPrefix starts the names of temporary files.
const TempPrefix = ".partial-"

// Create starts a temporary file in the directory.
func (d *DirOutput) Create(context.Context) (TempFile, error) {
	f, err := os.CreateTemp(d.Dir, TempPrefix+"*.837")
	if err != nil {
		return nil, err
	}
	// The lock, held until the file is published or discarded, tells
	// Clean in another process sharing the directory to leave it alone.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
	}
	t := &dirTemp{f: f, h: sha256.New(), dir: d.Dir}
	t.w = tempBuffers.Get().(*bufio.Writer)
	t.w.Reset(io.MultiWriter(f, t.h))
	return t, nil
}

// Published reports whether name exists in the directory with digest.
func (d *DirOutput) Published(_ context.Context, name, digest string) (bool, error) {
	f, err := os.Open(filepath.Join(d.Dir, filepath.Base(name)))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == digest, nil
}

// Clean removes ".partial-*" files.
func (d *DirOutput) Clean(context.Context) error {
	matches, err := filepath.Glob(filepath.Join(d.Dir, TempPrefix+"*"))
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range matches {
		// A file still locked is being written by a live process (another
		// conversion into the same directory): not stale.
		f, err := os.Open(m)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close()
			continue
		}
		if err := os.Remove(m); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		f.Close()
	}
	if len(matches) > 0 {
		errs = append(errs, control.SyncDir(d.Dir))
	}
	return errors.Join(errs...)
}

// tempBuffers are the write buffers of temporary files, reused: a
// conversion writes a file every few thousand claims.
var tempBuffers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 256<<10) }}

// dirTemp is a temporary file. Close makes it durable but keeps it open
// (and locked) until Publish or Abort.
type dirTemp struct {
	f      *os.File
	w      *bufio.Writer
	h      hash.Hash
	dir    string
	digest string
	closed bool // Close was called
	done   bool // the descriptor is closed
}

// putBuffer returns the write buffer once nothing more is written.
func (t *dirTemp) putBuffer() {
	if t.w != nil {
		t.w.Reset(nil)
		tempBuffers.Put(t.w)
		t.w = nil
	}
}

func (t *dirTemp) release() {
	if !t.done {
		t.done = true
		t.f.Close()
	}
}

func (t *dirTemp) Write(p []byte) (int, error) { return t.w.Write(p) }
func (t *dirTemp) Name() string                { return t.f.Name() }
func (t *dirTemp) Digest() string              { return t.digest }

// Close flushes, fsyncs and closes the temporary file.
func (t *dirTemp) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	err := t.w.Flush()
	t.putBuffer()
	if err == nil {
		err = t.f.Sync()
	}
	if err != nil {
		os.Remove(t.f.Name())
		t.release()
		return err
	}
	t.digest = hex.EncodeToString(t.h.Sum(nil))
	crash("temp-written")
	return nil
}

func (t *dirTemp) Abort() error {
	t.closed = true
	t.putBuffer()
	err := os.Remove(t.f.Name())
	t.release()
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func (t *dirTemp) Publish(_ context.Context, name string) (string, error) {
	final := filepath.Join(t.dir, filepath.Base(name))
	// link(2) never replaces an existing name (EEXIST).
	if err := os.Link(t.f.Name(), final); err != nil {
		return "", err
	}
	crash("linked")
	err := os.Remove(t.f.Name())
	t.release()
	if err != nil {
		return final, err
	}
	if err := control.SyncDir(t.dir); err != nil {
		return final, err
	}
	crash("dir-synced")
	return final, nil
}

// FileJournal is a Journal in an append-only file of JSON lines, fsynced
// after each record.
type FileJournal struct {
	path string
	f    *os.File
}

type journalLine struct {
	Op string `json:"op"` // begin, done
	Record
}

// OpenFileJournal opens (creating) the journal at path.
func OpenFileJournal(path string) (*FileJournal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &FileJournal{path: path, f: f}, nil
}

func (j *FileJournal) append(l journalLine) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	return nil
}

// Begin appends r and fsyncs.
func (j *FileJournal) Begin(_ context.Context, r Record) error {
	return j.append(journalLine{Op: "begin", Record: r})
}

// Done appends a completion mark and fsyncs.
func (j *FileJournal) Done(_ context.Context, id string) error {
	return j.append(journalLine{Op: "done", Record: Record{ID: id}})
}

// Pending reads the journal and returns the records not done. A torn last
// line (a crash while appending) is ignored: its Begin never completed, so
// its file was never published.
func (j *FileJournal) Pending(context.Context) ([]Record, error) {
	f, err := os.Open(j.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	open := map[string]Record{}
	var order []string
	br := bufio.NewReader(f)
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			break // a line without newline is torn
		}
		if err != nil {
			return nil, err
		}
		var l journalLine
		if err := json.Unmarshal(line, &l); err != nil {
			return nil, fmt.Errorf("journal %s is damaged: %w", j.path, err)
		}
		switch l.Op {
		case "begin":
			if _, ok := open[l.ID]; !ok {
				order = append(order, l.ID)
			}
			open[l.ID] = l.Record
		case "done":
			delete(open, l.ID)
		}
	}
	var out []Record
	for _, id := range order {
		if r, ok := open[id]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// Compact empties the journal.
func (j *FileJournal) Compact(context.Context) error {
	if err := j.f.Truncate(0); err != nil {
		return err
	}
	return j.f.Sync()
}

// Close closes the journal file.
func (j *FileJournal) Close() error { return j.f.Close() }

// DefaultStateDir is where convert keeps control numbers, duplicate keys
// and its journal: $XDG_STATE_HOME/claimgate, else
// ~/.local/state/claimgate.
func DefaultStateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "claimgate"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no state directory: set --state, XDG_STATE_HOME or HOME: %w", err)
	}
	return filepath.Join(home, ".local", "state", "claimgate"), nil
}

// State is a state directory held by this process: an exclusive flock on
// its lock file keeps a second conversion from allocating the same
// control numbers or queuing the same claims.
type State struct {
	Dir  string
	lock *os.File
}

// Names of the files in a state directory.
const (
	LockFile     = ".claimgate-lock"
	NumbersFile  = ".claimgate-control-numbers.json"
	SeenFile     = ".claimgate-seen-claims"
	JournalFile  = ".claimgate-journal"
	stateDirMode = 0o700
)

// ErrStateBusy is returned by LockState when another process holds the
// state directory.
var ErrStateBusy = errors.New("state directory is in use by another claimgate process")

// LockState creates dir if needed and locks it. With wait false a held
// lock fails at once with ErrStateBusy; with wait true it waits.
func LockState(dir string, wait bool) (*State, error) {
	if err := os.MkdirAll(dir, stateDirMode); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", dir, ErrStateBusy)
		}
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	return &State{Dir: dir, lock: f}, nil
}

// Path returns the path of a file in the state directory.
func (s *State) Path(name string) string { return filepath.Join(s.Dir, name) }

// Unlock releases the state directory.
func (s *State) Unlock() error { return s.lock.Close() }

// FileName is the name of an 837P file: the payer id made safe for file
// names, 8 hex digits of a SHA-256 of the raw payer id, sender and
// receiver (payer ids "ACME.1" and "ACME 1" both sanitise to ACME_1 but
// differ here), and ISA13. attempt > 0 (the name was taken, e.g. by a run
// with another state directory) adds "-attempt+1".
func FileName(payerID, sender, receiver string, isa13 int64, attempt int) string {
	sum := sha256.Sum256([]byte(payerID + "\x00" + sender + "\x00" + receiver))
	name := fmt.Sprintf("%s-%s-%09d", safeName(payerID), hex.EncodeToString(sum[:4]), isa13)
	if attempt > 0 {
		name += fmt.Sprintf("-%d", attempt+1)
	}
	return name + ".837"
}

func safeName(s string) string {
	out := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
	if len(out) > 40 {
		out = out[:40]
	}
	if out == "" {
		out = "payer"
	}
	return out
}

func randomID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
