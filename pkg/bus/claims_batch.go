package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/claimgate/claimgate/pkg/reconcile"
	"github.com/nats-io/nats.go/jetstream"
)

var _ reconcile.BatchStore = (*ClaimStore)(nil)

// claimSubject is the claims bucket's stream subject for a claim key.
func claimSubject(key string) string { return "$KV." + BucketClaims + "." + key }

// readWorkers is how many record reads ApplyBatch keeps in flight: reads
// are not synced, so a few in parallel hide the round trips.
const readWorkers = 32

// ApplyBatch implements reconcile.BatchStore with the same per-claim
// semantics as Apply, carrying up to MaxAtomicBatch claims per durable
// write:
//
//  1. read the records of the chunk's claims (in parallel);
//  2. apply each item in order to its claim's working record, noting
//     moves as pending;
//  3. write every changed record in one atomic batch on the bucket's
//     stream, each message with Nats-Expected-Last-Subject-Sequence =
//     the revision read (compare-and-set per claim: if any claim
//     changed meanwhile the batch stores nothing, and the chunk is read
//     and decided again);
//  4. publish the pending events (the new moves, and any left by a
//     writer that crashed) in atomic batches on the events stream, each
//     with its event id as message id;
//  5. clear the pending marks in one more atomic batch at the revisions
//     step 3 produced.
//
// A crash after 3 leaves the moves pending in the records: applying the
// batch again finds the items Duplicate and publishes what is pending
// (as Apply does). A batch of events where some were already published
// is refused whole by JetStream, and then published one message at a
// time, where the message id de-duplicates the repeats. So every move is
// published exactly once and no event is published for a move that was
// not stored.
func (s *ClaimStore) ApplyBatch(ctx context.Context, items []reconcile.Item) ([]reconcile.Result, error) {
	out := make([]reconcile.Result, len(items))
	start := 0
	claims := map[string]bool{}
	for i := 0; i <= len(items); i++ {
		if i < len(items) {
			id := items[i].ClaimID
			if claims[id] || len(claims) < MaxAtomicBatch {
				claims[id] = true
				continue
			}
		}
		if i > start {
			if err := s.applyChunk(ctx, items[start:i], out[start:i]); err != nil {
				// Results for the chunks stored before; this chunk's
				// items may or may not be (applying again is safe).
				return out[:start], err
			}
		}
		start = i
		clear(claims)
		if i < len(items) {
			claims[items[i].ClaimID] = true
		}
	}
	return out, nil
}

// batchRec is one claim's record during a chunk.
type batchRec struct {
	key   string
	read  *reconcile.Record // as read; nil: none
	rev   uint64
	work  *reconcile.Record
	dirty bool
	// cached: read from this store's cache of its own writes, which
	// another writer may have made stale.
	cached bool
	// base is the record's JSON without its pending events, evJSON
	// those events': encoded once, they make the record written (base
	// with the events spliced in), the event messages and the record
	// written when the marks are cleared (base).
	base   []byte
	evJSON [][]byte
}

// encodeSplit fills r.base and r.evJSON and returns the JSON of the
// record with its pending events. Only the timeline is trimmed to keep a
// record under MaxRecordBytes: pending events are never cut.
func (r *batchRec) encodeSplit() ([]byte, error) {
	pending := r.work.Pending
	r.work.Pending = nil
	base, err := encode(r.work)
	r.work.Pending = pending
	if err != nil {
		return nil, err
	}
	r.base = base
	r.evJSON = r.evJSON[:0]
	if len(pending) == 0 {
		return base, nil
	}
	full := append(make([]byte, 0, len(base)+len(pending)*512), base[:len(base)-1]...)
	full = append(full, `,"pending":[`...)
	for i := range pending {
		b, err := json.Marshal(&pending[i])
		if err != nil {
			return nil, err
		}
		r.evJSON = append(r.evJSON, b)
		if i > 0 {
			full = append(full, ',')
		}
		full = append(full, b...)
	}
	return append(full, "]}"...), nil
}

func (s *ClaimStore) applyChunk(ctx context.Context, items []reconcile.Item, out []reconcile.Result) error {
	for attempt := 0; ; attempt++ {
		recs, order, err := s.readAll(ctx, items)
		if err != nil {
			return err
		}
		now := s.now()
		for i, it := range items {
			r := recs[it.ClaimID]
			before := r.work.State
			ch, stored := r.work.Apply(it.Event, now)
			res := reconcile.Result{Change: ch, From: stored.Previous}
			switch ch {
			case reconcile.Duplicate:
				res.From = before
			case reconcile.Refused:
			default:
				if ch == reconcile.Moved {
					r.work.Pending = append(r.work.Pending, stored)
				}
				r.dirty = true
				res.To = r.work.State
			}
			out[i] = res
		}
		// A decision that writes is checked by the compare-and-set; one
		// that does not (a duplicate, a refusal) is only as good as the
		// record it read, so a cached record it used is read again.
		if stale, err := s.staleCached(ctx, order); err != nil {
			return err
		} else if stale {
			for _, r := range order {
				s.cache.drop(r.key)
			}
			continue
		}
		var msgs []batchMsg
		var written []*batchRec
		for _, r := range order {
			if !r.dirty {
				continue
			}
			b, err := r.encodeSplit()
			if err != nil {
				return err
			}
			msgs = append(msgs, batchMsg{subject: claimSubject(r.key), data: b, expect: r.rev, cas: !s.noCAS})
			written = append(written, r)
		}
		if len(msgs) > 0 {
			last, err := publishAtomic(ctx, s.nc, msgs)
			if c := apiCode(err); c == errCodeWrongLastSeq || c == errCodeTooManyInflight || c == errCodeIncomplete {
				// Another writer moved one of these claims (or the
				// server is busy): read and decide again.
				for _, r := range order {
					s.cache.drop(r.key)
				}
				if err := backoff(ctx, attempt); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("bus: claims: %w", err)
			}
			first := last - uint64(len(written)) + 1
			for i, r := range written {
				r.rev = first + uint64(i)
			}
		}
		if err := s.crashAt("stored"); err != nil {
			return err
		}
		if err := s.flushAll(ctx, order); err != nil {
			for _, r := range order {
				s.cache.drop(r.key)
			}
			return err
		}
		for _, r := range order {
			if r.dirty && r.rev != 0 && len(r.work.Pending) == 0 {
				s.cache.put(r.key, r.work, r.rev)
			}
		}
		return nil
	}
}

// staleCached reports whether a cached record that no write will check
// changed since it was cached.
func (s *ClaimStore) staleCached(ctx context.Context, order []*batchRec) (bool, error) {
	for _, r := range order {
		if !r.cached || r.dirty {
			continue
		}
		e, err := s.kv.Get(ctx, r.key)
		if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return false, fmt.Errorf("bus: claims: %w", err)
		}
		if err != nil || e.Revision() != r.rev {
			return true, nil
		}
	}
	return false, nil
}

// readAll reads the chunk's records, in parallel, and returns them by
// claim id and in first-use order.
func (s *ClaimStore) readAll(ctx context.Context, items []reconcile.Item) (map[string]*batchRec, []*batchRec, error) {
	recs := map[string]*batchRec{}
	var order []*batchRec
	for _, it := range items {
		if recs[it.ClaimID] == nil {
			r := &batchRec{key: claimKey(it.ClaimID)}
			recs[it.ClaimID] = r
			order = append(order, r)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	next := make(chan *batchRec)
	var toRead []*batchRec
	for _, r := range order {
		if c, ok := s.cache.get(r.key); ok {
			r.read, r.rev, r.cached = c.rec, c.rev, true
			continue
		}
		toRead = append(toRead, r)
	}
	for range min(readWorkers, len(toRead)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range next {
				rec, rev, err := s.get(ctx, r.key)
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					cancel()
					continue
				}
				r.read, r.rev = rec, rev
			}
		}()
	}
	for _, r := range toRead {
		next <- r
	}
	close(next)
	wg.Wait()
	if first != nil {
		return nil, nil, first
	}
	for id, r := range recs {
		if r.read == nil {
			r.work = &reconcile.Record{ID: id}
		} else {
			w := *r.read
			w.Timeline = slices.Clone(r.read.Timeline)
			w.Pending = slices.Clone(r.read.Pending)
			r.work = &w
		}
	}
	return recs, order, nil
}

// flushAll publishes the pending events of recs (new moves and leftovers
// of crashed writers) and clears them from the records.
func (s *ClaimStore) flushAll(ctx context.Context, recs []*batchRec) error {
	var evs []eventMsg
	var owners []*batchRec
	for _, r := range recs {
		if !r.dirty {
			// Unchanged: its leftovers (if any) are as read.
			if r.read == nil || len(r.read.Pending) == 0 {
				continue
			}
			r.work = r.read
			if _, err := r.encodeSplit(); err != nil {
				return err
			}
		}
		if len(r.work.Pending) == 0 {
			continue
		}
		owners = append(owners, r)
		for i := range r.work.Pending {
			evs = append(evs, eventMsg{&r.work.Pending[i], r.evJSON[i]})
		}
	}
	if len(evs) == 0 {
		return nil
	}
	for chunk := range slices.Chunk(evs, MaxAtomicBatch) {
		if err := s.publishEvents(ctx, chunk); err != nil {
			return err
		}
	}
	if err := s.crashAt("published"); err != nil {
		return err
	}
	// Clear the marks at the revisions written (or read): one batch.
	msgs := make([]batchMsg, 0, len(owners))
	for _, r := range owners {
		msgs = append(msgs, batchMsg{subject: claimSubject(r.key), data: r.base, expect: r.rev, cas: true})
	}
	last, err := publishAtomic(ctx, s.nc, msgs)
	if err == nil {
		first := last - uint64(len(owners)) + 1
		for i, r := range owners {
			if r.dirty {
				r.work.Pending = nil
				r.rev = first + uint64(i)
			}
		}
		return nil
	}
	for _, r := range owners {
		r.rev = 0 // unknown now: not cached
	}
	if c := apiCode(err); c != errCodeWrongLastSeq && c != errCodeTooManyInflight && c != errCodeIncomplete {
		return fmt.Errorf("bus: claims: clearing published events: %w", err)
	}
	// Some record moved on meanwhile: clear claim by claim, re-reading
	// the ones that changed (their new writers publish their own moves).
	for _, r := range owners {
		done := map[string]bool{}
		for _, ev := range r.work.Pending {
			done[ev.ID] = true
		}
		r.rev = 0 // not cached: re-read next time
		if err := s.clearPending(ctx, r.key, done); err != nil {
			return err
		}
	}
	return nil
}

// eventMsg is a pending event and its JSON.
type eventMsg struct {
	ev   *reconcile.Event
	data []byte
}

// publishEvents publishes evs as one atomic batch on the events stream;
// if JetStream refuses it because some were published before (a retry
// after a crash), each is published alone and the repeats are dropped
// by their message ids.
func (s *ClaimStore) publishEvents(ctx context.Context, evs []eventMsg) error {
	msgs := make([]batchMsg, len(evs))
	for i, ev := range evs {
		msgs[i] = batchMsg{subject: EventSubject(ev.ev.PayerID, string(ev.ev.State)), data: ev.data, msgID: ev.ev.ID}
	}
	for attempt := 0; ; attempt++ {
		_, err := publishAtomic(ctx, s.nc, msgs)
		switch apiCode(err) {
		case 0:
			if err != nil {
				return fmt.Errorf("bus: publishing events: %w", err)
			}
			return nil
		case errCodeBatchDuplicateID, errCodeDuplicateMsgID:
			for _, ev := range evs {
				if err := s.publish(ctx, ev.ev); err != nil {
					return err
				}
			}
			return nil
		case errCodeTooManyInflight, errCodeIncomplete:
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		default:
			return fmt.Errorf("bus: publishing events: %w", err)
		}
	}
}

// clearPending removes the events in done from the record's pending list.
func (s *ClaimStore) clearPending(ctx context.Context, key string, done map[string]bool) error {
	for attempt := 0; ; attempt++ {
		rec, rev, err := s.get(ctx, key)
		if err != nil || rec == nil {
			return err
		}
		n := len(rec.Pending)
		rec.Pending = slices.DeleteFunc(rec.Pending, func(e reconcile.Event) bool { return done[e.ID] })
		if len(rec.Pending) == n {
			return nil
		}
		if _, err = s.write(ctx, key, rec, rev); !conflict(err) {
			return err
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// recordCache holds the records this store wrote last, so the next
// batch moving the same claims (the next state of a file's claims) need
// not read them back. Bounded; safe because every write is a
// compare-and-set at the cached revision.
type recordCache struct {
	mu sync.Mutex
	m  map[string]cachedRec
}

type cachedRec struct {
	rec *reconcile.Record
	rev uint64
}

// cacheRecords bounds the cache (a record is a few KiB).
const cacheRecords = 8192

func (c *recordCache) get(key string) (cachedRec, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	return e, ok
}

func (c *recordCache) put(key string, rec *reconcile.Record, rev uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cachedRec{}
	}
	for k := range c.m {
		if len(c.m) < cacheRecords {
			break
		}
		delete(c.m, k) // an arbitrary one
	}
	c.m[key] = cachedRec{rec, rev}
}

func (c *recordCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// crashAt lets tests stop ApplyBatch between its durable steps, as a
// crash would.
func (s *ClaimStore) crashAt(step string) error {
	if s.crash != nil {
		return s.crash(step)
	}
	return nil
}

// errSimulatedCrash is what the test hook returns.
var errSimulatedCrash = errors.New("bus: simulated crash")
