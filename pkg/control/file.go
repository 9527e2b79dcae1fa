// Package control allocates X12 control numbers durably. ISA13 must be
// unique per sender/receiver pair for as long as a payer remembers
// interchanges, including across restarts; a number handed out is never
// handed out again.
package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/claimgate/claimgate/edi/x12"
)

// File keeps the last number reserved per kind and sender/receiver pair
// in a JSON file, under an exclusive lock, written atomically (temp file,
// fsync, rename, directory fsync) before a number is returned. Several
// processes may share the file. It suits one-shot conversions; the
// gateway keeps its numbers in JetStream.
//
// Numbers are reserved in blocks that double from 1 to MaxBlock as one
// File hands them out, so a conversion writing many interchanges saves
// the file a few times instead of twice per interchange, and one writing
// a single interchange reserves just its number. Numbers a process
// reserved and did not use (it ended or crashed) are never handed out:
// control numbers must be unique, and gaps are allowed.
type File struct {
	Path string
	// MaxBlock caps a reservation (0: DefaultMaxBlock; 1: every number
	// is saved before it is returned and none is ever skipped).
	MaxBlock int64
	mu       sync.Mutex
	blocks   map[string]*block
}

// DefaultMaxBlock is the largest reservation by default: at most that
// many numbers are skipped when a process ends.
const DefaultMaxBlock = 64

// maxControl is the largest control number (nine digits); after it the
// numbers start again at 1.
const maxControl = 999999999

// block is a reserved range: next is the last number handed out, limit
// the last reserved, size the range's length.
type block struct{ next, limit, size int64 }

// Next returns the next number for the pair, wrapping after 999999999.
func (f *File) Next(_ context.Context, kind x12.ControlKind, sender, receiver string) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := string(kind) + " " + sender + " " + receiver
	b := f.blocks[key]
	if b != nil && b.next < b.limit {
		b.next++
		return b.next, nil
	}
	size := int64(1)
	if b != nil {
		size = min(2*b.size, f.maxBlock())
	}
	start, limit, err := f.reserve(key, size)
	if err != nil {
		return 0, err
	}
	if f.blocks == nil {
		f.blocks = map[string]*block{}
	}
	f.blocks[key] = &block{next: start, limit: limit, size: size}
	return start, nil
}

func (f *File) maxBlock() int64 {
	if f.MaxBlock > 0 {
		return f.MaxBlock
	}
	return DefaultMaxBlock
}

// reserve saves the pair's last number as size further on (or at
// 999999999, the range never wraps) and returns the reserved range.
func (f *File) reserve(key string, size int64) (start, limit int64, err error) {
	lock, err := os.OpenFile(f.Path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return 0, 0, fmt.Errorf("control numbers: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return 0, 0, fmt.Errorf("control numbers: lock %s: %w", f.Path, err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	last := map[string]int64{}
	b, err := os.ReadFile(f.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return 0, 0, fmt.Errorf("control numbers: %w", err)
	default:
		if err := json.Unmarshal(b, &last); err != nil {
			return 0, 0, fmt.Errorf("control numbers: %s is damaged: %w", f.Path, err)
		}
	}
	start = last[key] + 1
	if start > maxControl || start < 1 {
		start = 1
	}
	limit = min(start+size-1, maxControl)
	last[key] = limit
	out, _ := json.MarshalIndent(last, "", "  ")
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), ".control-*")
	if err != nil {
		return 0, 0, fmt.Errorf("control numbers: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return 0, 0, fmt.Errorf("control numbers: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, 0, fmt.Errorf("control numbers: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, 0, fmt.Errorf("control numbers: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return 0, 0, fmt.Errorf("control numbers: %w", err)
	}
	// The rename is durable only once the directory is: without this a
	// crash could bring back the old file and hand out the numbers again.
	if err := SyncDir(filepath.Dir(f.Path)); err != nil {
		return 0, 0, fmt.Errorf("control numbers: %w", err)
	}
	if AfterSave != nil {
		AfterSave()
	}
	return start, limit, nil
}

// AfterSave, when set, is called after each number is durable; tests use
// it as a crash point.
var AfterSave func()

// SyncDir fsyncs a directory, making the names created, renamed or
// removed in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
