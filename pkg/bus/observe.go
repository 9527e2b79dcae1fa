package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

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

// scanBatch is how many records ScanRecords asks for at a time: the
// most it holds. A KV watcher is pushed the whole bucket at once and
// buffered 130 MB of records at 100,000 claims while fn decoded them.
const scanBatch = 256

// kvOperationHeader marks a KV delete or purge (nats.go's own name for
// it is unexported).
const kvOperationHeader = "KV-Operation"

// ScanRecords calls fn with the JSON of every claim record (a
// reconcile.Record), streaming the bucket's latest values through one
// ephemeral pull consumer (last value per key) rather than one request
// per key, scanBatch records at a time so memory stays flat however many
// claims there are (the metrics' AR scan, docs/metrics.md). The scan
// covers the bucket as of its start: a claim written meanwhile may be
// seen with its value at the start or not at all until the next scan.
// fn must not keep the slice. An error from fn stops the scan and is
// returned.
//
// Not an ordered consumer: its Fetch re-creates the consumer from the
// last sequence seen, which turns "last value per key" into "every
// value since", and it leaves the consumer behind for 5 minutes.
func (s *ClaimStore) ScanRecords(ctx context.Context, fn func(record []byte) error) error {
	stream := "KV_" + BucketClaims
	st, err := s.js.Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("bus: claims: %w", err)
	}
	last := st.CachedInfo().State.LastSeq
	cons, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{
		FilterSubject:     claimSubject("c.>"),
		DeliverPolicy:     jetstream.DeliverLastPerSubjectPolicy,
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: 30 * time.Second, // if this process dies mid-scan
		MemoryStorage:     true,
		Replicas:          1,
	})
	if err != nil {
		return fmt.Errorf("bus: claims: %w", err)
	}
	defer st.DeleteConsumer(context.WithoutCancel(ctx), cons.CachedInfo().Name)
	if cons.CachedInfo().NumPending == 0 {
		return nil // an empty bucket
	}
	for {
		batch, err := cons.Fetch(scanBatch, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return fmt.Errorf("bus: claims: %w", err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			md, err := m.Metadata()
			if err != nil {
				return fmt.Errorf("bus: claims: %w", err)
			}
			if md.Sequence.Stream > last {
				return nil // written after the scan began
			}
			// A deleted or purged key's marker is its latest value.
			if op := m.Headers().Get(kvOperationHeader); op == "" {
				js, err := RecordJSON(m.Data())
				if err != nil {
					return fmt.Errorf("bus: claims: a damaged record: %w", err)
				}
				if err := fn(js); err != nil {
					return err
				}
			}
			if md.NumPending == 0 || md.Sequence.Stream == last {
				return nil // every record as of the start was seen
			}
		}
		if err := batch.Error(); err != nil {
			return fmt.Errorf("bus: claims: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if got == 0 {
			return errors.New("bus: claims: the scan stalled (no records within 5 s)")
		}
	}
}
