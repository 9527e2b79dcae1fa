package bus

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/nats-io/nats.go/jetstream"
)

// ControlNumbers allocates X12 control numbers from a KV bucket with
// compare-and-set: every replica reads the last number, writes last+1 at
// the revision it read, and retries on a conflict, so no number is handed
// out twice for a sender/receiver pair however many replicas allocate at
// once. A number is returned only after the server stored it.
type ControlNumbers struct {
	kv jetstream.KeyValue
	// Observe, when set, is called after each Next with its error (nil:
	// a number was allocated). Metrics count allocations here.
	Observe func(err error)
}

var _ x12.ControlNumbers = (*ControlNumbers)(nil)

// ControlNumbers returns the allocator on the control bucket (Setup first).
func (b *Bus) ControlNumbers(ctx context.Context) (*ControlNumbers, error) {
	kv, err := b.JS.KeyValue(ctx, BucketControl)
	if err != nil {
		return nil, fmt.Errorf("bus: %s: %w", BucketControl, err)
	}
	return &ControlNumbers{kv: kv}, nil
}

// Next returns the next number for the pair, wrapping after 999999999.
func (c *ControlNumbers) Next(ctx context.Context, kind x12.ControlKind, sender, receiver string) (_ int64, err error) {
	defer c.observe(&err)
	key := controlKey(kind, sender, receiver)
	for attempt := 0; ; attempt++ {
		n, err := c.try(ctx, key)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return 0, fmt.Errorf("bus: control number %s: %w", kind, err)
		}
		// Another replica won the race: back off a little, with jitter so
		// the losers do not collide again.
		d := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(d):
		}
	}
}

func (c *ControlNumbers) try(ctx context.Context, key string) (int64, error) {
	e, err := c.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		_, err := c.kv.Create(ctx, key, []byte("1"))
		return 1, err
	}
	if err != nil {
		return 0, err
	}
	last, err := strconv.ParseInt(string(e.Value()), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("damaged value %q under %s", e.Value(), key)
	}
	n := last + 1
	if n > 999999999 {
		n = 1
	}
	_, err = c.kv.Update(ctx, key, strconv.AppendInt(nil, n, 10), e.Revision())
	return n, err
}

// controlKey makes a KV key of the kind and pair. Ids may hold any byte,
// so they are Tokens (KV keys allow '=' too).
func controlKey(kind x12.ControlKind, sender, receiver string) string {
	return string(kind) + "." + Token(sender) + "." + Token(receiver)
}
