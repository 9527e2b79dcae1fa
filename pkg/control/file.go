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

// File keeps the last number per kind and sender/receiver pair in a JSON
// file, under an exclusive lock, written atomically (temp file, fsync,
// rename) before a number is returned. Several processes may share the
// file. It suits one-shot conversions; the gateway keeps its numbers in
// JetStream.
type File struct {
	Path string
	mu   sync.Mutex
}

// Next returns the next number for the pair, wrapping after 999999999.
func (f *File) Next(_ context.Context, kind x12.ControlKind, sender, receiver string) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	lock, err := os.OpenFile(f.Path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return 0, fmt.Errorf("control numbers: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return 0, fmt.Errorf("control numbers: lock %s: %w", f.Path, err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	last := map[string]int64{}
	b, err := os.ReadFile(f.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return 0, fmt.Errorf("control numbers: %w", err)
	default:
		if err := json.Unmarshal(b, &last); err != nil {
			return 0, fmt.Errorf("control numbers: %s is damaged: %w", f.Path, err)
		}
	}
	key := string(kind) + " " + sender + " " + receiver
	n := last[key] + 1
	if n > 999999999 {
		n = 1
	}
	last[key] = n
	out, _ := json.MarshalIndent(last, "", "  ")
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), ".control-*")
	if err != nil {
		return 0, fmt.Errorf("control numbers: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("control numbers: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("control numbers: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("control numbers: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return 0, fmt.Errorf("control numbers: %w", err)
	}
	// The rename is durable only once the directory is: without this a
	// crash could bring back the old file and hand out n again.
	if err := SyncDir(filepath.Dir(f.Path)); err != nil {
		return 0, fmt.Errorf("control numbers: %w", err)
	}
	if AfterSave != nil {
		AfterSave()
	}
	return n, nil
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
