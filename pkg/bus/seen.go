package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/claimgate/claimgate/pkg/scrub"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Seen keeps duplicate-claim keys in a KV bucket. Remember is a KV Create,
// atomic across replicas: of two batches racing with the same claim, one
// gets scrub.ErrDuplicate.
type Seen struct {
	kv jetstream.KeyValue
	nc *nats.Conn
}

var _ scrub.Seen = (*Seen)(nil)

// Seen returns the duplicate-key store on the seen bucket (Setup first).
func (b *Bus) Seen(ctx context.Context) (*Seen, error) {
	kv, err := b.JS.KeyValue(ctx, BucketSeen)
	if err != nil {
		return nil, fmt.Errorf("bus: %s: %w", BucketSeen, err)
	}
	return &Seen{kv: kv, nc: b.NC}, nil
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

// RememberAll records every key, as Remember would but without telling
// which were there already (a key remembered again stays remembered),
// in atomic batches of up to MaxAtomicBatch keys: one synced write per
// batch instead of one per key. The pipeline records a file's claims'
// keys with it (thousands at a time); one at a time, they were most of
// the ingest's time.
func (s *Seen) RememberAll(ctx context.Context, keys []string) error {
	for chunk := range slices.Chunk(keys, MaxAtomicBatch) {
		msgs := make([]batchMsg, 0, len(chunk))
		for _, k := range chunk {
			if !plainKey(k) {
				// Let the KV client check (and refuse) it.
				if err := s.Remember(ctx, k); err != nil && !errors.Is(err, scrub.ErrDuplicate) {
					return err
				}
				continue
			}
			msgs = append(msgs, batchMsg{subject: "$KV." + BucketSeen + "." + k, data: []byte{'1'}})
		}
		if len(msgs) == 0 {
			continue
		}
		for attempt := 0; ; attempt++ {
			_, err := publishAtomic(ctx, s.nc, msgs)
			if c := apiCode(err); c == errCodeTooManyInflight || c == errCodeIncomplete {
				if err := backoff(ctx, attempt); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("bus: seen: %w", err)
			}
			break
		}
	}
	return nil
}

// plainKey reports whether k is a KV key that is one subject token of
// letters, digits, '-', '_' and '=' (the hex digests the pipeline uses).
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '=') {
			return false
		}
	}
	return true
}

// Forget removes key; an unknown key is not an error.
func (s *Seen) Forget(ctx context.Context, key string) error {
	if err := s.kv.Delete(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("bus: seen: %w", err)
	}
	return nil
}
