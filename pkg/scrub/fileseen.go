package scrub

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// FileSeen is a Seen kept in an append-only file of duplicate keys (hex
// digests, never PHI), for one-shot conversions that must still catch a
// claim sent in an earlier run. The file is locked for as long as the
// FileSeen is open, so two runs sharing it cannot both queue one claim.
// Additions are written at once and synced by Sync and Close.
type FileSeen struct {
	mem  keySet
	f    *os.File
	w    *bufio.Writer
	path string
}

// OpenFileSeen opens (creating if needed) the key file at path and loads
// it. It fails when another process holds the file.
func OpenFileSeen(path string) (*FileSeen, error) {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	if errors.Is(statErr, os.ErrNotExist) {
		// A new file's name is durable only once its directory is.
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("duplicate-claim store %s is in use by another run: %w", path, err)
	}
	s := &FileSeen{f: f, path: path}
	br := bufio.NewReader(f)
	var off int64
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if err == io.EOF {
			if line != "" {
				// A crash while appending left a torn last record: it was
				// never synced, so never relied on. Cut it off, or the
				// next record would be glued to it.
				if err := f.Truncate(off); err != nil {
					f.Close()
					return nil, err
				}
			}
			break
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		off += int64(len(line))
		line = line[:len(line)-1]
		if len(line) < 2 || (line[0] != '+' && line[0] != '-') {
			f.Close()
			return nil, fmt.Errorf("%s line %d: not a key record", path, n)
		}
		if line[0] == '+' {
			s.mem.Remember(context.Background(), line[1:])
		} else {
			s.mem.Forget(context.Background(), line[1:])
		}
	}
	s.w = bufio.NewWriter(f)
	return s, nil
}

func syncDir(dir string) error {
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

// keySet holds keys in memory: hex SHA-256 digests (what DuplicateKey
// makes) by their first 16 bytes, a quarter of the memory of the string
// (two different claims share a 128-bit prefix with odds of about
// n²/2¹²⁹: never in practice), other keys as strings. The store is loaded
// whole, so its size matters.
type keySet struct {
	mu      sync.Mutex
	digests map[digestPrefix]struct{}
	other   map[string]struct{}
}

type digestPrefix [16]byte

func digestOf(key string) (digestPrefix, bool) {
	var p digestPrefix
	if len(key) != 2*sha256.Size {
		return p, false
	}
	// Only lower-case hex maps back to the same string. One pass, no
	// ToLower and no []byte copy: this runs for every claim in the
	// consumer goroutine.
	for i := 0; i < len(key); i += 2 {
		hi, ok1 := lowerHex(key[i])
		lo, ok2 := lowerHex(key[i+1])
		if !ok1 || !ok2 {
			return digestPrefix{}, false
		}
		if i/2 < len(p) {
			p[i/2] = hi<<4 | lo
		}
	}
	return p, true
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// SeenBefore reports whether key is in the set.
func (k *keySet) SeenBefore(_ context.Context, key string) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if d, ok := digestOf(key); ok {
		_, seen := k.digests[d]
		return seen, nil
	}
	_, seen := k.other[key]
	return seen, nil
}

// Remember adds key, or returns ErrDuplicate.
func (k *keySet) Remember(_ context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if d, ok := digestOf(key); ok {
		if _, seen := k.digests[d]; seen {
			return ErrDuplicate
		}
		if k.digests == nil {
			k.digests = map[digestPrefix]struct{}{}
		}
		k.digests[d] = struct{}{}
		return nil
	}
	if _, seen := k.other[key]; seen {
		return ErrDuplicate
	}
	if k.other == nil {
		k.other = map[string]struct{}{}
	}
	k.other[key] = struct{}{}
	return nil
}

// Forget removes key.
func (k *keySet) Forget(_ context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if d, ok := digestOf(key); ok {
		delete(k.digests, d)
	} else {
		delete(k.other, key)
	}
	return nil
}

// Len returns the number of keys.
func (k *keySet) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.digests) + len(k.other)
}

// SeenBefore reports whether key was remembered, in this run or before.
func (s *FileSeen) SeenBefore(ctx context.Context, key string) (bool, error) {
	return s.mem.SeenBefore(ctx, key)
}

// Remember records key, or returns ErrDuplicate when it is already there.
func (s *FileSeen) Remember(ctx context.Context, key string) error {
	if strings.ContainsAny(key, "\r\n") {
		return errors.New("scrub: duplicate key contains a line break")
	}
	if err := s.mem.Remember(ctx, key); err != nil {
		return err
	}
	_, err := s.w.WriteString("+" + key + "\n")
	return err
}

// Forget removes key.
func (s *FileSeen) Forget(ctx context.Context, key string) error {
	s.mem.Forget(ctx, key)
	_, err := s.w.WriteString("-" + key + "\n")
	return err
}

// Len returns the number of keys remembered.
func (s *FileSeen) Len() int { return s.mem.Len() }

// Sync makes every addition durable.
func (s *FileSeen) Sync() error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	return s.f.Sync()
}

// Close syncs and releases the file.
func (s *FileSeen) Close() error {
	err := s.Sync()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}
