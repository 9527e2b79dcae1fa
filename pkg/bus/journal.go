package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/claimgate/claimgate/pkg/pipeline"
	"github.com/nats-io/nats.go/jetstream"
)

// Journal is a pipeline.Journal in the claimgate_journal bucket, one key
// per record under w.<worker>.<record id>: Begin puts it, Done deletes
// it, so what is left under a worker's prefix is what it has pending.
// Each worker (a pipeline run never shares its journal) has its own
// prefix, so a replica recovers only its own records.
type Journal struct {
	kv     jetstream.KeyValue
	prefix string
}

var _ pipeline.Journal = (*Journal)(nil)

// Journal returns the worker's publishing journal (Setup first).
func (b *Bus) Journal(ctx context.Context, worker string) (*Journal, error) {
	kv, err := b.JS.KeyValue(ctx, BucketJournal)
	if err != nil {
		return nil, fmt.Errorf("bus: %s: %w", BucketJournal, err)
	}
	return &Journal{kv: kv, prefix: "w." + Token(worker) + "."}, nil
}

// Begin implements pipeline.Journal.
func (j *Journal) Begin(ctx context.Context, r pipeline.Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := j.kv.Put(ctx, j.prefix+Token(r.ID), b); err != nil {
		return fmt.Errorf("bus: journal: %w", err)
	}
	return nil
}

// Done implements pipeline.Journal.
func (j *Journal) Done(ctx context.Context, id string) error {
	if err := j.kv.Delete(ctx, j.prefix+Token(id)); err != nil {
		return fmt.Errorf("bus: journal: %w", err)
	}
	return nil
}

// Pending implements pipeline.Journal.
func (j *Journal) Pending(ctx context.Context) ([]pipeline.Record, error) {
	keys, err := j.kv.ListKeysFiltered(ctx, j.prefix+">")
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("bus: journal: %w", err)
	}
	defer keys.Stop()
	var out []pipeline.Record
	for key := range keys.Keys() {
		e, err := j.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // done meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("bus: journal: %w", err)
		}
		var r pipeline.Record
		if err := json.Unmarshal(e.Value(), &r); err != nil {
			return nil, fmt.Errorf("bus: journal: damaged record under %s: %w", key, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Others returns the journals of the other workers that have records
// pending (a worker that died mid-batch leaves its records until it
// restarts): a pipeline settles the ones whose file is published
// (pipeline.Pipeline.Settle) before running a batch that worker may have
// been running.
func (j *Journal) Others(ctx context.Context) ([]*Journal, error) {
	keys, err := j.kv.ListKeysFiltered(ctx, "w.>")
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("bus: journal: %w", err)
	}
	defer keys.Stop()
	seen := map[string]bool{j.prefix: true}
	var out []*Journal
	for key := range keys.Keys() {
		// w.<worker token>.<record token>: tokens hold no dots.
		rest, ok := strings.CutPrefix(key, "w.")
		worker, _, ok2 := strings.Cut(rest, ".")
		if !ok || !ok2 {
			continue
		}
		prefix := "w." + worker + "."
		if !seen[prefix] {
			seen[prefix] = true
			out = append(out, &Journal{kv: j.kv, prefix: prefix})
		}
	}
	return out, nil
}

// Compact implements pipeline.Journal: Done already removed the value;
// the delete markers stay (history 1) and cost one small message each,
// the bucket's own compaction drops them.
func (j *Journal) Compact(context.Context) error { return nil }
