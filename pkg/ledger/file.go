package ledger

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Dir is a Ledger in a directory: one append-only journal per payer
// (PAYER.journal, a JSON record a line), each held under an exclusive
// lock so two processes never share it, appended and fsynced before Put
// returns. Puts from concurrent goroutines share fsyncs (group commit). A
// torn last line from a crash is dropped on open; a journal with many
// superseded lines is rewritten atomically (temp file, fsync, rename,
// directory fsync) on open.
type Dir struct {
	Path string
	mu   sync.Mutex
	js   map[string]*journal
}

// OpenDir returns a ledger in dir, creating the directory if needed.
// Journals are opened (and locked) when a payer is first used.
func OpenDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return &Dir{Path: dir, js: map[string]*journal{}}, nil
}

// ErrLocked is returned when another process holds a payer's journal.
var ErrLocked = errors.New("ledger is in use by another claimgate process")

// Close releases every journal and its lock.
func (d *Dir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for k, j := range d.js {
		errs = append(errs, j.close())
		delete(d.js, k)
	}
	return errors.Join(errs...)
}

// Get implements Ledger.
func (d *Dir) Get(_ context.Context, r Record) (Record, bool, error) {
	j, err := d.journal(r.Payer)
	if err != nil {
		return Record{}, false, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	got, ok := j.recs[r.Key()]
	return got, ok, nil
}

// Put implements Ledger.
func (d *Dir) Put(_ context.Context, r Record) error {
	if r.Time.IsZero() {
		r.Time = time.Now().UTC()
	}
	j, err := d.journal(r.Payer)
	if err != nil {
		return err
	}
	return j.put(r)
}

// Note implements Ledger: the line is appended (visible to Get at once,
// and to other processes after a crash of this one) but not fsynced.
func (d *Dir) Note(_ context.Context, r Record) error {
	if r.Time.IsZero() {
		r.Time = time.Now().UTC()
	}
	j, err := d.journal(r.Payer)
	if err != nil {
		return err
	}
	_, err = j.append(r, true)
	return err
}

// Pending implements Ledger.
func (d *Dir) Pending(_ context.Context, payer string) ([]Record, error) {
	j, err := d.journal(payer)
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Record
	for _, r := range j.recs {
		if r.Dir == In && r.State == Downloaded {
			out = append(out, r)
		}
	}
	return out, nil
}

func (d *Dir) journal(payer string) (*journal, error) {
	if payer == "" {
		return nil, errors.New("ledger: empty payer id")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if j := d.js[payer]; j != nil {
		return j, nil
	}
	j, err := openJournal(filepath.Join(d.Path, fileName(payer)+".journal"))
	if err != nil {
		return nil, err
	}
	d.js[payer] = j
	return j, nil
}

// fileName maps a payer id to a safe file name: letters, digits, '-' and
// '_' stay, anything else is escaped as %XX.
func fileName(payer string) string {
	var b strings.Builder
	for i := 0; i < len(payer); i++ {
		c := payer[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

type journal struct {
	path string
	f    *os.File

	mu      sync.Mutex // guards recs, written, err and appends to f
	recs    map[string]Record
	written int64 // appends made
	err     error // a failed write or sync poisons the journal

	syncMu sync.Mutex // one fsync at a time; waiters share the next one
	synced int64      // appends known durable (guarded by syncMu)
}

func openJournal(path string) (*journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("ledger: lock %s: %w", path, err)
	}
	j := &journal{path: path, f: f, recs: map[string]Record{}}
	lines, err := j.load()
	if err != nil {
		f.Close()
		return nil, err
	}
	// A new journal's directory entry must survive a crash too.
	if err := syncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return nil, err
	}
	if lines > 1000 && lines > 2*len(j.recs) {
		if err := j.compact(); err != nil {
			f.Close()
			return nil, err
		}
	}
	if _, err := j.f.Seek(0, io.SeekEnd); err != nil {
		j.f.Close()
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return j, nil
}

// load reads the journal; a damaged or unterminated last line (a crash
// mid-append) is cut off, a damaged line before it is an error.
func (j *journal) load() (int, error) {
	if _, err := j.f.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("ledger: %w", err)
	}
	br := bufio.NewReaderSize(j.f, 64<<10)
	var good int64
	lines := 0
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			if len(line) > 0 {
				return lines, j.truncate(good)
			}
			return lines, nil
		}
		if err != nil {
			return 0, fmt.Errorf("ledger: read %s: %w", j.path, err)
		}
		var r Record
		if jerr := json.Unmarshal(bytes.TrimSpace(line), &r); jerr != nil || r.Payer == "" {
			if _, perr := br.Peek(1); perr == io.EOF {
				return lines, j.truncate(good)
			}
			return 0, fmt.Errorf("ledger: %s is damaged at byte %d (not a record, and not the last line)", j.path, good)
		}
		good += int64(len(line))
		lines++
		j.apply(r)
	}
}

func (j *journal) truncate(n int64) error {
	if err := j.f.Truncate(n); err != nil {
		return fmt.Errorf("ledger: cut torn last line of %s: %w", j.path, err)
	}
	return j.f.Sync()
}

// apply merges r unless it would move the record backwards.
func (j *journal) apply(r Record) bool {
	k := r.Key()
	if old, ok := j.recs[k]; ok && old.State.rank() >= r.State.rank() {
		return false
	}
	j.recs[k] = r
	return true
}

func (j *journal) put(r Record) error {
	seq, err := j.append(r, false)
	if err != nil || seq == 0 {
		return err
	}
	if err := j.syncTo(seq); err != nil {
		return err
	}
	// Visible to Get only once durable.
	j.mu.Lock()
	j.apply(r)
	j.mu.Unlock()
	return nil
}

// append writes r's line (applying it at once when visible) and returns
// its sequence number, 0 when r would not move its record forward.
func (j *journal) append(r Record, visible bool) (int64, error) {
	line, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("ledger: %w", err)
	}
	line = append(line, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return 0, j.err
	}
	if old, ok := j.recs[r.Key()]; ok && old.State.rank() >= r.State.rank() {
		return 0, nil
	}
	if _, err := j.f.Write(line); err != nil {
		j.err = fmt.Errorf("ledger: append to %s: %w", j.path, err)
		return 0, j.err
	}
	j.written++
	if visible {
		j.apply(r)
	}
	return j.written, nil
}

// syncTo returns once append seq is durable. Goroutines that queue behind
// a running fsync are covered by the next one together.
func (j *journal) syncTo(seq int64) error {
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	if j.synced >= seq {
		return nil
	}
	j.mu.Lock()
	target := j.written
	j.mu.Unlock()
	if err := j.f.Sync(); err != nil {
		j.mu.Lock()
		j.err = fmt.Errorf("ledger: fsync %s: %w", j.path, err)
		j.mu.Unlock()
		return j.err
	}
	j.synced = target
	return nil
}

// compact rewrites the journal with one line per record.
func (j *journal) compact() error {
	tmp, err := os.CreateTemp(filepath.Dir(j.path), ".ledger-*")
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	for _, r := range j.recs {
		b, _ := json.Marshal(r)
		w.Write(append(b, '\n'))
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("ledger: compact: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("ledger: compact: %w", err)
	}
	// The lock moves with the new file: lock it before it replaces the old.
	if err := syscall.Flock(int(tmp.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		tmp.Close()
		return fmt.Errorf("ledger: compact: %w", err)
	}
	if err := os.Rename(tmp.Name(), j.path); err != nil {
		tmp.Close()
		return fmt.Errorf("ledger: compact: %w", err)
	}
	if err := syncDir(filepath.Dir(j.path)); err != nil {
		tmp.Close()
		return err
	}
	j.f.Close()
	j.f = tmp
	return nil
}

func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("ledger: fsync %s: %w", dir, err)
	}
	return nil
}
