package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/claimgate/claimgate/pkg/reconcile"
	"github.com/nats-io/nats.go/jetstream"
)

// applied passes a stored event to OnApplied.
func (s *ClaimStore) applied(ev reconcile.Event, rec *reconcile.Record) {
	if s.OnApplied != nil {
		s.OnApplied(ev, rec)
	}
}

// appliedChunk passes the events a stored ApplyBatch chunk moved or
// recorded to OnApplied, each with its claim's record as written.
func (s *ClaimStore) appliedChunk(items []reconcile.Item, out []reconcile.Result, recs map[string]*batchRec) {
	if s.OnApplied == nil {
		return
	}
	for i, it := range items {
		if ch := out[i].Change; ch == reconcile.Moved || ch == reconcile.Recorded {
			ev := it.Event
			ev.Previous, ev.Effect = out[i].From, ch
			s.OnApplied(ev, recs[it.ClaimID].work)
		}
	}
}

func (c *ControlNumbers) observe(err *error) {
	if c.Observe != nil {
		c.Observe(*err)
	}
}

// ScanRecords calls fn with the JSON of every claim record (a
// reconcile.Record), streaming the bucket's latest values in one ordered
// consumer rather than one request per key: the metrics' AR scan reads
// 100,000 records this way (docs/metrics.md). fn must not keep the
// slice. An error from fn stops the scan and is returned.
func (s *ClaimStore) ScanRecords(ctx context.Context, fn func(record []byte) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.kv.WatchFiltered(ctx, []string{"c.>"}, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("bus: claims: %w", err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("bus: claims: scan ended early")
			}
			if e == nil {
				return nil // every record as of the start was seen
			}
			if err := fn(e.Value()); err != nil {
				return err
			}
		}
	}
}
