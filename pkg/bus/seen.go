package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/claimgate/claimgate/pkg/scrub"
	"github.com/nats-io/nats.go/jetstream"
)

// Seen keeps duplicate-claim keys in a KV bucket. Remember is a KV Create,
// atomic across replicas: of two batches racing with the same claim, one
// gets scrub.ErrDuplicate.
type Seen struct {
	kv jetstream.KeyValue
}

var _ scrub.Seen = (*Seen)(nil)

// Seen returns the duplicate-key store on the seen bucket (Setup first).
func (b *Bus) Seen(ctx context.Context) (*Seen, error) {
	kv, err := b.JS.KeyValue(ctx, BucketSeen)
	if err != nil {
		return nil, fmt.Errorf("bus: %s: %w", BucketSeen, err)
	}
	return &Seen{kv: kv}, nil
}

// SeenBefore reports whether key was remembered and not forgotten.
func (s *Seen) SeenBefore(ctx context.Context, key string) (bool, error) {
	_, err := s.kv.Get(ctx, key)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	}
	return false, fmt.Errorf("bus: seen: %w", err)
}

// Remember records key, or returns scrub.ErrDuplicate when it is there.
func (s *Seen) Remember(ctx context.Context, key string) error {
	_, err := s.kv.Create(ctx, key, []byte{'1'})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jetstream.ErrKeyExists):
		return scrub.ErrDuplicate
	}
	return fmt.Errorf("bus: seen: %w", err)
}

// Forget removes key; an unknown key is not an error.
func (s *Seen) Forget(ctx context.Context, key string) error {
	if err := s.kv.Delete(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("bus: seen: %w", err)
	}
	return nil
}
