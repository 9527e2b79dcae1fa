package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Leases hands out named leases (one per payer's SFTP poll) from a KV
// bucket whose entries expire after the lease TTL: only one replica holds a
// lease at a time, and a dead replica's lease lapses on its own.
type Leases struct {
	kv     jetstream.KeyValue
	holder string
}

// Lease is a held lease; Renew it well within the lease TTL.
type Lease struct {
	l   *Leases
	key string
	rev uint64
}

// ErrLeaseHeld means another holder has the lease.
var ErrLeaseHeld = errors.New("bus: lease held by another replica")

// LeaseTTL is how long a lease lives unrenewed (Options.LeaseTTL):
// holders renew well within it.
func (b *Bus) LeaseTTL() time.Duration { return b.leaseTTL }

// Leases returns the lease store for holder, a name unique to this
// replica (e.g. host and process id).
func (b *Bus) Leases(ctx context.Context, holder string) (*Leases, error) {
	kv, err := b.JS.KeyValue(ctx, BucketLeases)
	if err != nil {
		return nil, fmt.Errorf("bus: %s: %w", BucketLeases, err)
	}
	return &Leases{kv: kv, holder: holder}, nil
}

// Acquire takes the lease name, or returns ErrLeaseHeld.
func (l *Leases) Acquire(ctx context.Context, name string) (*Lease, error) {
	key := Token(name)
	rev, err := l.kv.Create(ctx, key, []byte(l.holder))
	switch {
	case err == nil:
		return &Lease{l: l, key: key, rev: rev}, nil
	case errors.Is(err, jetstream.ErrKeyExists):
		return nil, ErrLeaseHeld
	}
	return nil, fmt.Errorf("bus: lease %s: %w", name, err)
}

// Renew extends the lease by another lease TTL. It fails with ErrLeaseHeld
// when the lease lapsed and another replica took it: stop the work it
// guarded.
func (ls *Lease) Renew(ctx context.Context) error {
	rev, err := ls.l.kv.Update(ctx, ls.key, []byte(ls.l.holder), ls.rev)
	switch {
	case err == nil:
		ls.rev = rev
		return nil
	case errors.Is(err, jetstream.ErrKeyRevisionMismatch), errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyExists):
		return ErrLeaseHeld
	}
	return fmt.Errorf("bus: lease renew: %w", err)
}

// Release gives the lease up at once, if still held.
func (ls *Lease) Release(ctx context.Context) error {
	err := ls.l.kv.Delete(ctx, ls.key, jetstream.LastRevision(ls.rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("bus: lease release: %w", err)
	}
	return nil
}
