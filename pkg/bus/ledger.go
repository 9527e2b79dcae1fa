package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/claimgate/claimgate/pkg/ledger"
	"github.com/nats-io/nats.go/jetstream"
)

// Ledger is a ledger.Ledger in the claimgate_ledger bucket: one key per
// file, p.<payer>.out.<name>.<digest> or p.<payer>.in.<digest> (every part
// a Token). Every state change is a compare-and-set at the revision read,
// so two replicas never move one record backwards; JetStream stores
// (and, syncing every write, fsyncs) a put before acknowledging it, so
// Put returns only once the record is durable.
type Ledger struct {
	kv jetstream.KeyValue
}

var _ ledger.Ledger = (*Ledger)(nil)

// Ledger returns the file ledger on the claimgate_ledger bucket (Setup
// first).
func (b *Bus) Ledger(ctx context.Context) (*Ledger, error) {
	kv, err := b.JS.KeyValue(ctx, BucketLedger)
	if err != nil {
		return nil, fmt.Errorf("bus: %s: %w", BucketLedger, err)
	}
	return &Ledger{kv: kv}, nil
}

func ledgerKey(r *ledger.Record) string {
	if r.Dir == ledger.In {
		return "p." + Token(r.Payer) + ".in." + Token(r.Digest)
	}
	return "p." + Token(r.Payer) + ".out." + Token(r.Name) + "." + Token(r.Digest)
}

// ledgerRank orders states as pkg/ledger does: a record only moves forward.
func ledgerRank(s ledger.State) int {
	switch s {
	case ledger.Uploading, ledger.Downloaded:
		return 1
	case ledger.Renaming, ledger.HandedOn:
		return 2
	case ledger.Uploaded, ledger.RemoteRemoved:
		return 3
	}
	return 0
}

func (l *Ledger) get(ctx context.Context, key string) (ledger.Record, uint64, error) {
	e, err := l.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return ledger.Record{}, 0, nil
	}
	if err != nil {
		return ledger.Record{}, 0, fmt.Errorf("bus: ledger: %w", err)
	}
	var r ledger.Record
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return ledger.Record{}, 0, fmt.Errorf("bus: ledger: damaged record under %s: %w", key, err)
	}
	return r, e.Revision(), nil
}

// Get implements ledger.Ledger.
func (l *Ledger) Get(ctx context.Context, r ledger.Record) (ledger.Record, bool, error) {
	if r.Payer == "" {
		return ledger.Record{}, false, errors.New("bus: ledger: empty payer id")
	}
	got, rev, err := l.get(ctx, ledgerKey(&r))
	return got, rev != 0, err
}

// Put implements ledger.Ledger: a compare-and-set, retried on a
// conflict; a state that would move the record backwards is ignored.
func (l *Ledger) Put(ctx context.Context, r ledger.Record) error {
	if r.Payer == "" {
		return errors.New("bus: ledger: empty payer id")
	}
	if r.Time.IsZero() {
		r.Time = time.Now().UTC()
	}
	key := ledgerKey(&r)
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("bus: ledger: %w", err)
	}
	for attempt := 0; ; attempt++ {
		old, rev, err := l.get(ctx, key)
		if err != nil {
			return err
		}
		if rev != 0 && ledgerRank(old.State) >= ledgerRank(r.State) {
			return nil
		}
		if rev == 0 {
			_, err = l.kv.Create(ctx, key, b)
		} else {
			_, err = l.kv.Update(ctx, key, b, rev)
		}
		if err == nil {
			return nil
		}
		if !conflict(err) {
			return fmt.Errorf("bus: ledger: %w", err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// Note implements ledger.Ledger. A JetStream put is acknowledged only once
// stored, so a Note is as durable as a Put here.
func (l *Ledger) Note(ctx context.Context, r ledger.Record) error { return l.Put(ctx, r) }

// Pending implements ledger.Ledger.
func (l *Ledger) Pending(ctx context.Context, payer string) ([]ledger.Record, error) {
	if payer == "" {
		return nil, errors.New("bus: ledger: empty payer id")
	}
	keys, err := l.kv.ListKeysFiltered(ctx, "p."+Token(payer)+".in.>")
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("bus: ledger: %w", err)
	}
	defer keys.Stop()
	var out []ledger.Record
	for key := range keys.Keys() {
		r, rev, err := l.get(ctx, key)
		if err != nil {
			return nil, err
		}
		if rev != 0 && r.Dir == ledger.In && r.State == ledger.Downloaded {
			out = append(out, r)
		}
	}
	return out, nil
}
