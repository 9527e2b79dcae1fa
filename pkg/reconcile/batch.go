package reconcile

import "context"

// Item is one claim's event in a batch.
type Item struct {
	ClaimID string
	Event   Event
}

// BatchStore is a Store that applies many claims' events in few durable
// writes. A store syncing every write to disk does one claim's move in a
// few milliseconds; a gateway moving 100,000 claims through six states
// needs the writes of many claims carried together.
type BatchStore interface {
	Store
	// ApplyBatch applies each item as Apply would, in order for any one
	// claim, and returns a Result per item. An error means some items
	// may not have been applied: the results returned with it are those
	// of the items known applied (a prefix), and applying the whole
	// batch again is safe (event ids make repeats Duplicates).
	ApplyBatch(ctx context.Context, items []Item) ([]Result, error)
}

// ApplyAll applies items through st.ApplyBatch when st is a BatchStore,
// else one Apply at a time. Every caller that moves many claims at once
// (ingest, submission, reconciliation) goes through it, so a faster store
// speeds them all.
func ApplyAll(ctx context.Context, st Store, items []Item) ([]Result, error) {
	if bs, ok := st.(BatchStore); ok {
		return bs.ApplyBatch(ctx, items)
	}
	out := make([]Result, 0, len(items))
	for _, it := range items {
		r, err := st.Apply(ctx, it.ClaimID, it.Event)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}
