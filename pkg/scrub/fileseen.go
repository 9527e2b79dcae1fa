package scrub

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
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
	digests digestSet
	other   map[string]struct{}
}

// digestSet is a set of digest prefixes kept as a sorted slice (16
// bytes a key) with a small map of recent additions merged into it now
// and then: a map of every key cost ~80 bytes a key, and the set grows
// with every claim ever sent from the state directory (300,000 claims
// took convert past its 64 MiB).
type digestSet struct {
	sorted []digestPrefix
	recent map[digestPrefix]struct{}
}

// recentMax is how many additions wait in the map before a merge: at
// least 4,096, and a 32nd of the sorted keys, so merges copy each key a
// bounded number of times as the set doubles. (A floor of 32,768 kept a
// 2 MB map alive for a convert's whole run.)
func (d *digestSet) recentMax() int { return max(4096, len(d.sorted)/32) }

func (d *digestSet) find(p digestPrefix) (int, bool) {
	return slices.BinarySearchFunc(d.sorted, p, func(a, b digestPrefix) int { return bytes.Compare(a[:], b[:]) })
}

func (d *digestSet) has(p digestPrefix) bool {
	if _, ok := d.recent[p]; ok {
		return true
	}
	_, ok := d.find(p)
	return ok
}

// add adds p, which the set does not hold.
func (d *digestSet) add(p digestPrefix) {
	if d.recent == nil {
		d.recent = map[digestPrefix]struct{}{}
	}
	d.recent[p] = struct{}{}
	if len(d.recent) >= d.recentMax() {
		d.merge()
	}
}

// merge moves the recent additions into sorted, merging from the back
// so that no second copy of sorted is made (it is the one thing here
// that grows with the keys).
func (d *digestSet) merge() {
	add := make([]digestPrefix, 0, len(d.recent))
	for p := range d.recent {
		add = append(add, p)
	}
	cmp := func(a, b digestPrefix) int { return bytes.Compare(a[:], b[:]) }
	slices.SortFunc(add, cmp)
	n, m := len(d.sorted), len(add)
	d.sorted = slices.Grow(d.sorted, m)[:n+m]
	i, j := n-1, m-1
	for k := n + m - 1; j >= 0; k-- {
		if i >= 0 && cmp(add[j], d.sorted[i]) < 0 {
			d.sorted[k] = d.sorted[i]
			i--
		} else {
			d.sorted[k] = add[j]
			j--
		}
	}
	clear(d.recent)
}

func (d *digestSet) remove(p digestPrefix) {
	if _, ok := d.recent[p]; ok {
		delete(d.recent, p)
		return
	}
	if i, ok := d.find(p); ok {
		d.sorted = slices.Delete(d.sorted, i, i+1)
	}
}

func (d *digestSet) len() int { return len(d.sorted) + len(d.recent) }

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
		return k.digests.has(d), nil
	}
	_, seen := k.other[key]
	return seen, nil
}

// Remember adds key, or returns ErrDuplicate.
func (k *keySet) Remember(_ context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if d, ok := digestOf(key); ok {
		if k.digests.has(d) {
			return ErrDuplicate
		}
		k.digests.add(d)
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
		k.digests.remove(d)
	} else {
		delete(k.other, key)
	}
	return nil
}

// Len returns the number of keys.
func (k *keySet) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.digests.len() + len(k.other)
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
