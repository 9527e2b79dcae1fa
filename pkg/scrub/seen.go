package scrub

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"

	"github.com/claimgate/claimgate/pkg/claim"
)

// ErrDuplicate is returned by Seen.Remember when the key is already
// remembered.
var ErrDuplicate = errors.New("scrub: claim already submitted")

// Seen remembers the duplicate keys of original claims that were queued, so
// the same claim sent again in a later batch is caught (DUP-CLAIM). Keys are
// hex SHA-256 (or HMAC-SHA256) digests: they never contain PHI.
// Implementations must be safe for concurrent use.
type Seen interface {
	// SeenBefore reports whether key was remembered.
	SeenBefore(ctx context.Context, key string) (bool, error)
	// Remember records key. It returns ErrDuplicate when key is already
	// recorded; implementations should make that atomic (create-if-absent,
	// e.g. a KV Create) so two batches racing with the same claim cannot
	// both be queued.
	Remember(ctx context.Context, key string) error
	// Forget removes key, for a claim that never reached adjudication
	// (999 rejection, 277CA A3/A4/A6/A7/A8) and will be sent again as a
	// new original. Forgetting an unknown key is not an error.
	Forget(ctx context.Context, key string) error
}

// MemorySeen is an in-memory Seen for tests and single-process use. The zero
// MemorySeen is ready to use.
type MemorySeen struct {
	mu   sync.Mutex
	keys map[string]struct{}
}

// NewMemorySeen returns an empty MemorySeen.
func NewMemorySeen() *MemorySeen { return &MemorySeen{} }

// SeenBefore reports whether key was remembered.
func (m *MemorySeen) SeenBefore(_ context.Context, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.keys[key]
	return ok, nil
}

// Remember records key, or returns ErrDuplicate when it is already there.
func (m *MemorySeen) Remember(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.keys[key]; ok {
		return ErrDuplicate
	}
	if m.keys == nil {
		m.keys = make(map[string]struct{})
	}
	m.keys[key] = struct{}{}
	return nil
}

// Forget removes key.
func (m *MemorySeen) Forget(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, key)
	return nil
}

// Len returns the number of keys remembered.
func (m *MemorySeen) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}

// DuplicateKey returns the key under which an original claim is remembered:
// the hex SHA-256 (HMAC-SHA256 when Config.DuplicateKeySecret is set) of
// the payer id, member id, the patient's birth date and name, and the
// sorted (service date, procedure code) pairs of its lines. Units, charges,
// modifiers and the patient control number are not part of it: a payer
// treats a resubmission with other units as a duplicate too. ok is false
// for corrections (frequency 7 or 8), which are never duplicates.
func (s *Scrubber) DuplicateKey(c *claim.Claim) (key string, ok bool) {
	if c.Frequency.IsCorrection() {
		return "", false
	}
	w := s.getWork(len(c.Lines))
	defer s.putWork(w)
	return s.duplicateKey(c, w), true
}

func (s *Scrubber) duplicateKey(c *claim.Claim, w *work) string {
	b := w.keyBuf[:0]
	b = append(b, "claimgate/dup/v1"...)
	sep := func() { b = append(b, 0x1f) }
	sep()
	b = appendNorm(b, c.Payer.ID)
	sep()
	b = appendNorm(b, c.Subscriber.MemberID)
	sep()
	birth := c.Subscriber.Birth
	if c.Patient != nil {
		birth = c.Patient.Birth
	}
	b = appendDate(b, birth)
	n := c.PatientName()
	sep()
	b = appendNorm(b, n.Last)
	sep()
	b = appendNorm(b, n.First)
	// lines by (service date, procedure)
	idx := w.idx[:0]
	for i := range c.Lines {
		idx = append(idx, i)
	}
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && lineKeyLess(&c.Lines[idx[j]], &c.Lines[idx[j-1]]); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	for _, i := range idx {
		sep()
		b = appendDate(b, c.Lines[i].ServiceDate)
		b = append(b, ':')
		b = appendNorm(b, c.Lines[i].Procedure)
	}
	w.idx = idx
	w.keyBuf = b
	var out [2 * sha256.Size]byte
	if len(s.secret) > 0 {
		h := hmac.New(sha256.New, s.secret)
		h.Write(b)
		hex.Encode(out[:], h.Sum(nil))
	} else {
		sum := sha256.Sum256(b)
		hex.Encode(out[:], sum[:])
	}
	return string(out[:])
}

func lineKeyLess(a, b *claim.Line) bool {
	if a.ServiceDate != b.ServiceDate {
		return dateLess(a.ServiceDate, b.ServiceDate)
	}
	return a.Procedure < b.Procedure
}

// appendNorm appends s trimmed of spaces and upper-cased (ASCII).
func appendNorm(b []byte, s string) []byte {
	i, j := 0, len(s)
	for i < j && s[i] == ' ' {
		i++
	}
	for j > i && s[j-1] == ' ' {
		j--
	}
	for ; i < j; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// appendDate appends d as CCYYMMDD without allocating.
func appendDate(b []byte, d claim.Date) []byte {
	y, m, day := d.Year, int(d.Month), d.Day
	return append(b,
		byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10),
		byte('0'+m/10%10), byte('0'+m%10),
		byte('0'+day/10%10), byte('0'+day%10))
}
