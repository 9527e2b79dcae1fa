package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/reconcile"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Keys in the claims bucket (docs/reconcile.md): a claim's state record
// under c.<claim>, and the submission index under i. (interchanges), g.
// (groups), s. (transaction sets) and r. (claims). Ids are Tokens, so any
// id makes a valid key and distinct ids distinct keys.
func claimKey(id string) string { return "c." + Token(id) }
func refKey(id string) string   { return "r." + Token(id) }
func icKey(partner string, isa13 int64) string {
	return "i." + Token(partner) + "." + strconv.FormatInt(isa13, 10)
}
func groupKey(partner string, gs06 int64) string {
	return "g." + Token(partner) + "." + strconv.FormatInt(gs06, 10)
}
func setKey(partner string, gs06 int64, st02 string) string {
	return "s." + Token(partner) + "." + strconv.FormatInt(gs06, 10) + "." + Token(st02)
}

// ClaimStore keeps claim state records in the claims bucket and
// publishes every move on claims.events.<payer>.<state>. It implements
// reconcile.Store.
//
// Every change is a compare-and-set: read the record, decide
// (reconcile.Record.Apply), write it back at the revision read (Create for
// a new claim), and on a conflict read again and decide again. A move is
// written into the record as pending together with the new state, then
// published with the event id as message id (JetStream drops a repeat
// within the stream's duplicate window), then cleared from pending. A
// crash between the write and the publish leaves it pending: the next
// Apply to that claim (re-reconciling the file does that) or Sweep
// publishes it. So no event is lost, and none is published for a move
// that did not happen.
type ClaimStore struct {
	kv  jetstream.KeyValue
	js  jetstream.JetStream
	nc  *nats.Conn
	now func() time.Time

	// Test hooks: crash stops ApplyBatch at a step; noCAS writes
	// without the expected-revision check (to show the check matters).
	crash func(step string) error
	noCAS bool

	cache recordCache // records ApplyBatch wrote last
	swept atomic.Bool // outbox entries of crashed writers published

	// OnApplied, when set, is called with every event stored (moved or
	// recorded, as stored: Previous and Effect set) and the claim's
	// record after it, once the write succeeded; duplicates and
	// refusals are not passed. Metrics count claim transitions here.
	// Set it before the store is used.
	OnApplied func(ev reconcile.Event, rec *reconcile.Record)
}

var _ reconcile.Store = (*ClaimStore)(nil)

// ClaimStore returns the claim store on the claims bucket (Setup first).
func (b *Bus) ClaimStore(ctx context.Context) (*ClaimStore, error) {
	kv, err := b.JS.KeyValue(ctx, BucketClaims)
	if err != nil {
		return nil, fmt.Errorf("bus: %s: %w", BucketClaims, err)
	}
	return &ClaimStore{kv: kv, js: b.JS, nc: b.NC, now: time.Now}, nil
}

// Get returns the claim's record, or nil when there is none.
func (s *ClaimStore) Get(ctx context.Context, claimID string) (*reconcile.Record, error) {
	rec, _, err := s.get(ctx, claimKey(claimID))
	return rec, err
}

func (s *ClaimStore) get(ctx context.Context, key string) (*reconcile.Record, uint64, error) {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("bus: claims: %w", err)
	}
	rec, err := unmarshalRecord(e.Value())
	if err != nil {
		return nil, 0, fmt.Errorf("bus: claims: damaged record under %s: %w", key, err)
	}
	return rec, e.Revision(), nil
}

// MaxRecordBytes bounds a claim record's JSON (NATS refuses messages
// over its max_payload, 1 MiB by default). A record over it sheds, in
// order, the line results of its timeline events (the published events
// keep them), then its oldest timeline events (counted in Dropped);
// pending events are never cut.
const MaxRecordBytes = 256 << 10

// encode marshals rec (in the stored form, record.go), trimming it to
// MaxRecordBytes.
func encode(rec *reconcile.Record) ([]byte, error) {
	b, _, err := encodeAppend(nil, nil, rec)
	return b, err
}

// encodeAppend appends rec's stored bytes (encode) to dst, building the
// JSON in scratch, and returns both buffers for reuse: a chunk of records
// is encoded into one buffer with no allocation per record.
func encodeAppend(dst, scratch []byte, rec *reconcile.Record) (out, scratchOut []byte, err error) {
	b, err := appendRecord(scratch[:0], rec)
	if err != nil {
		return dst, b, err
	}
	if len(b) > MaxRecordBytes {
		for i := range rec.Timeline {
			rec.Timeline[i].Lines = nil
		}
		for {
			if b, err = appendRecord(b[:0], rec); err != nil {
				return dst, b, err
			}
			if len(b) <= MaxRecordBytes || len(rec.Timeline) == 0 {
				break
			}
			rec.Timeline = rec.Timeline[1:]
			rec.Dropped++
		}
	}
	return appendCompressed(dst, b), b, nil
}

// write stores rec at revision rev (0: create) and returns the new
// revision.
func (s *ClaimStore) write(ctx context.Context, key string, rec *reconcile.Record, rev uint64) (uint64, error) {
	b, err := encode(rec)
	if err != nil {
		return 0, err
	}
	if rev == 0 {
		return s.kv.Create(ctx, key, b)
	}
	return s.kv.Update(ctx, key, b, rev)
}

func conflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch)
}

// backoff waits a little, with jitter, after a lost compare-and-set.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// Apply implements reconcile.Store.
func (s *ClaimStore) Apply(ctx context.Context, claimID string, ev reconcile.Event) (reconcile.Result, error) {
	key := claimKey(claimID)
	for attempt := 0; ; attempt++ {
		rec, rev, err := s.get(ctx, key)
		if err != nil {
			return reconcile.Result{}, err
		}
		if rec == nil {
			rec = &reconcile.Record{ID: claimID}
		}
		work := *rec
		work.Timeline = append(make([]reconcile.Event, 0, len(rec.Timeline)+1), rec.Timeline...)
		work.Pending = slices.Clone(rec.Pending)
		ch, stored := work.Apply(ev, s.now())
		res := reconcile.Result{Change: ch, From: stored.Previous}
		if ch == reconcile.Duplicate || ch == reconcile.Refused {
			if ch == reconcile.Duplicate {
				res.From = rec.State
			}
			// A writer that crashed before publishing left events
			// pending: publish them now.
			if len(rec.Pending) > 0 {
				if err := s.flush(ctx, key, rec, rev); err != nil {
					return res, err
				}
			}
			return res, nil
		}
		if ch == reconcile.Moved {
			work.Pending = append(work.Pending, stored)
		}
		newRev, err := s.write(ctx, key, &work, rev)
		if conflict(err) {
			if err := backoff(ctx, attempt); err != nil {
				return reconcile.Result{}, err
			}
			continue
		}
		if err != nil {
			return reconcile.Result{}, fmt.Errorf("bus: claims: %w", err)
		}
		res.To = work.State
		s.applied(stored, &work)
		if len(work.Pending) > 0 {
			if err := s.flush(ctx, key, &work, newRev); err != nil {
				return res, fmt.Errorf("bus: claim %s: state stored, event publish pending: %w", claimID, err)
			}
		}
		return res, nil
	}
}

// flush publishes rec's pending events and clears them from the record.
func (s *ClaimStore) flush(ctx context.Context, key string, rec *reconcile.Record, rev uint64) error {
	done := map[string]bool{}
	for i := range rec.Pending {
		ev := &rec.Pending[i]
		if err := s.publish(ctx, ev); err != nil {
			return err
		}
		done[ev.ID] = true
	}
	for attempt := 0; ; attempt++ {
		n := len(rec.Pending)
		rec.Pending = slices.DeleteFunc(rec.Pending, func(e reconcile.Event) bool { return done[e.ID] })
		if len(rec.Pending) == n {
			return nil // someone else cleared them
		}
		_, err := s.write(ctx, key, rec, rev)
		if !conflict(err) {
			return err
		}
		// The record moved on meanwhile: clear what we published from the
		// newer version (its writer publishes its own pending events).
		if rec, rev, err = s.get(ctx, key); err != nil || rec == nil {
			return err
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// publish sends ev on claims.events.<payer>.<state>, de-duplicated by
// its id.
func (s *ClaimStore) publish(ctx context.Context, ev *reconcile.Event) error {
	b, err := ev.AppendJSON(nil)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		_, err := s.js.Publish(ctx, EventSubject(ev.PayerID, string(ev.State)), b, jetstream.WithMsgID(ev.ID))
		var ae *jetstream.APIError
		if errors.As(err, &ae) && ae.ErrorCode == errCodeDuplicateMsgID && attempt < 300 {
			// A clustered stream is still storing an earlier publish of
			// this id (one that timed out here): once it is stored, the
			// retry is acknowledged as a duplicate.
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("bus: publishing event %s: %w", ev.ID, err)
		}
		return nil
	}
}

// SweepOutbox publishes the events of outbox entries a writer left
// (one that died between storing its moves and publishing them: another
// replica may run for long without starting a store, which is when
// outboxes were swept) and removes the entries. Safe while writers run:
// publishing is de-duplicated by event id. It returns how many entries
// it published.
func (s *ClaimStore) SweepOutbox(ctx context.Context) (int, error) {
	return s.sweepOutbox(ctx)
}

// Sweep publishes the events left pending by writers that crashed
// between storing a move and publishing it, for claims no Apply touched
// since. It reads every claim record: run it at start-up, not per file.
// It returns how many records had pending events. It also publishes
// the outbox entries ApplyBatch writers left (counted too).
func (s *ClaimStore) Sweep(ctx context.Context) (int, error) {
	boxes, err := s.sweepOutbox(ctx)
	if err != nil {
		return boxes, err
	}
	keys, err := s.kv.ListKeysFiltered(ctx, "c.>")
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return boxes, nil
		}
		return boxes, fmt.Errorf("bus: claims: %w", err)
	}
	defer keys.Stop()
	n := boxes
	for key := range keys.Keys() {
		rec, rev, err := s.get(ctx, key)
		if err != nil {
			return n, err
		}
		if rec == nil || len(rec.Pending) == 0 {
			continue
		}
		if err := s.flush(ctx, key, rec, rev); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// ClaimIndex is the submission index in the claims bucket. It implements
// reconcile.Index.
type ClaimIndex struct {
	kv jetstream.KeyValue
	nc *nats.Conn
}

var _ reconcile.Index = (*ClaimIndex)(nil)

// ClaimIndex returns the submission index on the claims bucket (Setup
// first).
func (b *Bus) ClaimIndex(ctx context.Context) (*ClaimIndex, error) {
	kv, err := b.JS.KeyValue(ctx, BucketClaims)
	if err != nil {
		return nil, fmt.Errorf("bus: %s: %w", BucketClaims, err)
	}
	return &ClaimIndex{kv: kv, nc: b.NC}, nil
}

// setEntry is the value under s.: one transaction set's claims.
type setEntry struct {
	Ref    reconcile.Ref `json:"ref"` // ClaimID empty
	Claims []string      `json:"claims"`
}

// icEntry is the value under i.: the sets of one interchange; g. holds
// the same for a group.
type icEntry struct {
	Group int64    `json:"group"`
	Sets  []string `json:"sets"`
}

// Record implements reconcile.Index. It writes the set, group and claim
// keys, then the interchange key last: an interchange key present means
// the file was recorded whole, so recording it again is a no-op, and a
// crash midway is repaired by recording it again.
func (x *ClaimIndex) Record(ctx context.Context, fi *assemble.FileInfo) error {
	ik := icKey(fi.Receiver, fi.Interchange)
	if _, err := x.kv.Get(ctx, ik); err == nil {
		return nil
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("bus: index: %w", err)
	}
	ic := icEntry{Group: fi.Group}
	for _, s := range fi.Sets {
		ic.Sets = append(ic.Sets, s.Control)
		ref := reconcile.Ref{PayerID: fi.PayerID, Receiver: fi.Receiver, Interchange: fi.Interchange, Group: fi.Group, Set: s.Control, Batch: s.Reference}
		if err := x.put(ctx, setKey(fi.Receiver, fi.Group, s.Control), setEntry{Ref: ref, Claims: s.ClaimIDs}); err != nil {
			return err
		}
		if err := x.addRefs(ctx, ref, s.ClaimIDs); err != nil {
			return err
		}
	}
	if err := x.put(ctx, groupKey(fi.Receiver, fi.Group), ic); err != nil {
		return err
	}
	return x.put(ctx, ik, ic)
}

// recordWorkers is how many claim keys Record reads at once (a read is
// a round trip; they overlap).
const recordWorkers = 16

// addRefs adds ref (with each claim id) to the claims' lists, up to
// MaxAtomicBatch claims per atomic batch on the bucket's stream, each
// list written with Nats-Expected-Last-Subject-Sequence = the revision
// read (compare-and-set per claim, all or nothing per batch). A claim
// submitted for the first time has no list yet: the first attempt
// writes without reading, expecting none (the compare-and-set checks
// that guess too), and a batch refused for it is read and decided
// again.
func (x *ClaimIndex) addRefs(ctx context.Context, ref reconcile.Ref, ids []string) error {
	for chunk := range slices.Chunk(ids, MaxAtomicBatch) {
		if err := x.addRefsBatch(ctx, ref, chunk); err != nil {
			return err
		}
	}
	return nil
}

func (x *ClaimIndex) addRefsBatch(ctx context.Context, ref reconcile.Ref, ids []string) error {
	type list struct {
		id   string
		refs []reconcile.Ref
		rev  uint64
	}
	seen := map[string]bool{}
	var lists []*list
	for _, id := range ids {
		if !seen[id] { // a claim id twice in a set: one list write
			seen[id] = true
			lists = append(lists, &list{id: id})
		}
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := inParallel(ctx, lists, recordWorkers, func(ctx context.Context, l *list) (err error) {
				l.refs, l.rev, err = x.refs(ctx, refKey(l.id))
				return err
			}); err != nil {
				return err
			}
		}
		var msgs []batchMsg
		for _, l := range lists {
			r := ref
			r.ClaimID = l.id
			if slices.Contains(l.refs, r) {
				continue
			}
			b, err := json.Marshal(append(slices.Clip(l.refs), r))
			if err != nil {
				return err
			}
			msgs = append(msgs, batchMsg{subject: claimSubject(refKey(l.id)), data: b, expect: l.rev, cas: true})
		}
		if len(msgs) == 0 {
			return nil
		}
		_, err := publishAtomic(ctx, x.nc, msgs)
		switch apiCode(err) {
		case errCodeWrongLastSeq, errCodeTooManyInflight, errCodeIncomplete:
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("bus: index: %w", err)
		}
		return nil
	}
}

func (x *ClaimIndex) put(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := x.kv.Put(ctx, key, b); err != nil {
		return fmt.Errorf("bus: index: %w", err)
	}
	return nil
}

func (x *ClaimIndex) refs(ctx context.Context, key string) ([]reconcile.Ref, uint64, error) {
	e, err := x.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("bus: index: %w", err)
	}
	var refs []reconcile.Ref
	if err := json.Unmarshal(e.Value(), &refs); err != nil {
		return nil, 0, fmt.Errorf("bus: index: damaged value under %s: %w", key, err)
	}
	return refs, e.Revision(), nil
}

func (x *ClaimIndex) getJSON(ctx context.Context, key string, v any) (bool, error) {
	e, err := x.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("bus: index: %w", err)
	}
	if err := json.Unmarshal(e.Value(), v); err != nil {
		return false, fmt.Errorf("bus: index: damaged value under %s: %w", key, err)
	}
	return true, nil
}

func (x *ClaimIndex) sets(ctx context.Context, partner string, gs06 int64, sets []string) ([]reconcile.Ref, error) {
	var out []reconcile.Ref
	for _, st := range sets {
		refs, err := x.BySet(ctx, partner, gs06, st)
		if err != nil {
			return nil, err
		}
		out = append(out, refs...)
	}
	return out, nil
}

// ByInterchange implements reconcile.Index.
func (x *ClaimIndex) ByInterchange(ctx context.Context, partner string, isa13 int64) ([]reconcile.Ref, error) {
	var ic icEntry
	if ok, err := x.getJSON(ctx, icKey(partner, isa13), &ic); !ok || err != nil {
		return nil, err
	}
	return x.sets(ctx, partner, ic.Group, ic.Sets)
}

// BySet implements reconcile.Index.
func (x *ClaimIndex) BySet(ctx context.Context, partner string, gs06 int64, st02 string) ([]reconcile.Ref, error) {
	if st02 == "" {
		var g icEntry
		if ok, err := x.getJSON(ctx, groupKey(partner, gs06), &g); !ok || err != nil {
			return nil, err
		}
		return x.sets(ctx, partner, gs06, g.Sets)
	}
	var se setEntry
	if ok, err := x.getJSON(ctx, setKey(partner, gs06, st02), &se); !ok || err != nil {
		return nil, err
	}
	out := make([]reconcile.Ref, len(se.Claims))
	for i, id := range se.Claims {
		out[i] = se.Ref
		out[i].ClaimID = id
	}
	return out, nil
}

// ByClaim implements reconcile.Index.
func (x *ClaimIndex) ByClaim(ctx context.Context, claimID string) ([]reconcile.Ref, error) {
	refs, _, err := x.refs(ctx, refKey(claimID))
	return refs, err
}
