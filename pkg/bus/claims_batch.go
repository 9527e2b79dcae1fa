package bus

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

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
// semantics as Apply. It cuts the items into chunks of whole claims (up
// to chunkClaims claims, each claim's items in order, in one chunk) and
// applies chunkWriters chunks at once (their claims are distinct, so
// their order does not matter); each chunk is one durable write:
//
//  1. read the records of the chunk's claims (in parallel; records this
//     store wrote last come from a bounded cache);
//  2. apply each item in order to its claim's working record;
//  3. write, in one atomic batch on the bucket's stream, every changed
//     record, each with Nats-Expected-Last-Subject-Sequence = the
//     revision read (compare-and-set per claim: if any claim changed
//     meanwhile the batch stores nothing, and the chunk is read and
//     decided again), plus an outbox entry (o.<batch id>.<n>) holding
//     the chunk's new moves: moves and outbox are stored together or
//     not at all;
//  4. publish the moves in atomic batches on the events stream, each
//     with its event id as message id;
//  5. delete the outbox entries.
//
// A crash after 3 leaves the outbox: the next ApplyBatch of any store
// (a new store sweeps once before its first batch) or Sweep publishes
// it. A batch of events where some were already published is refused
// whole by JetStream, and is then published one message at a time,
// where the message id drops the repeats. So every move is published
// exactly once, and no event is published for a move that was not
// stored. Moves left pending in a record by Apply are carried over into
// the outbox the same way.
func (s *ClaimStore) ApplyBatch(ctx context.Context, items []reconcile.Item) ([]reconcile.Result, error) {
	if !s.swept.Load() {
		if _, err := s.sweepOutbox(ctx); err != nil {
			return nil, err
		}
		s.swept.Store(true)
	}
	out := make([]reconcile.Result, len(items))
	chunks := chunksOf(items)
	done := make([]bool, len(chunks))
	err := s.applyChunks(ctx, items, chunks, out, done)
	if err == nil {
		return out, nil
	}
	// A failed chunk may have left its outbox: sweep before the next
	// batch.
	s.swept.Store(false)
	// The results are those of the items before the first one whose
	// chunk was not stored (the others may or may not be: applying again
	// is safe).
	chunkOf := make([]int, len(items))
	for c, ch := range chunks {
		for _, i := range ch {
			chunkOf[i] = c
		}
	}
	n := 0
	for n < len(items) && done[chunkOf[n]] {
		n++
	}
	return out[:n], err
}

// chunksOf cuts items into chunks of whole claims (every item of a
// claim in one chunk, in the items' order), claims in order of first
// appearance, up to chunkClaims claims and about chunkItems items each.
// Chunks hold distinct claims, so they can be applied in any order, or
// at once.
func chunksOf(items []reconcile.Item) [][]int {
	byClaim := map[string][]int{}
	var claims []string
	for i, it := range items {
		if _, ok := byClaim[it.ClaimID]; !ok {
			claims = append(claims, it.ClaimID)
		}
		byClaim[it.ClaimID] = append(byClaim[it.ClaimID], i)
	}
	var chunks [][]int
	var cur []int
	n := 0
	for _, id := range claims {
		idx := byClaim[id]
		if n > 0 && (n == chunkClaims || len(cur)+len(idx) > chunkItems) {
			chunks = append(chunks, cur)
			cur, n = nil, 0
		}
		cur = append(cur, idx...)
		n++
	}
	if n > 0 {
		chunks = append(chunks, cur)
	}
	for _, c := range chunks {
		slices.Sort(c) // a chunk's items in their order in the batch
	}
	return chunks
}

// chunkWriters is how many chunks of one ApplyBatch are written at once
// (their claims are distinct): one chunk's round trips (reads, the
// atomic batch, the events) overlap another's, and the server stages
// several batches while it commits one. Measured in docs/bus.md.
const chunkWriters = 3

// applyChunks applies each chunk (chunkWriters at a time), marking it
// done once it is stored and published, and returns the first error.
func (s *ClaimStore) applyChunks(ctx context.Context, items []reconcile.Item, chunks [][]int, out []reconcile.Result, done []bool) error {
	apply := func(ctx context.Context, c int) error {
		its := make([]reconcile.Item, len(chunks[c]))
		for k, i := range chunks[c] {
			its[k] = items[i]
		}
		res := make([]reconcile.Result, len(its))
		if err := s.applyChunk(ctx, its, res); err != nil {
			return err
		}
		for k, i := range chunks[c] {
			out[i] = res[k]
		}
		done[c] = true
		return nil
	}
	if len(chunks) == 1 {
		return apply(ctx, 0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range min(chunkWriters, len(chunks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1)) - 1
				if c >= len(chunks) || ctx.Err() != nil {
					return
				}
				if err := apply(ctx, c); err != nil {
					once.Do(func() { first = err })
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// Chunk bounds: the records of chunkClaims claims plus the outbox
// entries of chunkItems events fit one atomic batch (MaxAtomicBatch).
const (
	chunkClaims    = MaxAtomicBatch - 24
	chunkItems     = 4 * MaxAtomicBatch
	outboxBytes    = 256 << 10 // one outbox entry's events, at most (about)
	outboxPrefix   = "o."
	outboxMaxParts = MaxAtomicBatch - chunkClaims
)

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
}

func (s *ClaimStore) applyChunk(ctx context.Context, items []reconcile.Item, out []reconcile.Result) error {
	// The records and outbox entries are encoded into one pooled buffer
	// (ends holds where each message ends), the events into another: a
	// chunk allocates no buffer per message, which the collector would
	// otherwise sweep by the gigabyte. They go back to the pool when the
	// chunk is done, its messages copied by the client.
	bufs := getChunkBufs()
	defer bufs.put()
	for attempt := 0; ; attempt++ {
		recs, order, err := s.readAll(ctx, items)
		if err != nil {
			return err
		}
		now := s.now()
		var moves []reconcile.Event
		// Moves a crashed Apply left pending go out with this chunk's.
		for _, r := range order {
			if len(r.work.Pending) > 0 {
				moves = append(moves, r.work.Pending...)
				r.work.Pending = nil
				r.dirty = true
			}
		}
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
					moves = append(moves, stored)
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
		bufs.reset()
		var msgs []batchMsg
		var written []*batchRec
		var ends []int
		for _, r := range order {
			if !r.dirty {
				continue
			}
			var err error
			bufs.recs, bufs.scratch, err = encodeAppend(bufs.recs, bufs.scratch, r.work)
			if err != nil {
				return err
			}
			msgs = append(msgs, batchMsg{subject: claimSubject(r.key), expect: r.rev, cas: !s.noCAS})
			ends = append(ends, len(bufs.recs))
			written = append(written, r)
		}
		evs, nboxes, err := outbox(moves, bufs)
		if err != nil {
			return err
		}
		if nboxes > outboxMaxParts {
			return fmt.Errorf("bus: claims: a chunk's %d events need %d outbox entries (at most %d)", len(moves), nboxes, outboxMaxParts)
		}
		id := rand.Text()
		var boxKeys []string
		for n := range nboxes {
			k := outboxPrefix + id + "." + strconv.Itoa(n)
			boxKeys = append(boxKeys, k)
			msgs = append(msgs, batchMsg{subject: claimSubject(k)})
		}
		ends = append(ends, bufs.boxEnds...)
		start := 0
		for i, end := range ends {
			msgs[i].data = bufs.recs[start:end]
			start = end
		}
		if len(msgs) > 0 {
			last, err := publishAtomic(ctx, s.nc, msgs)
			c := apiCode(err)
			// Setup run by a replica starting updates the bucket's stream
			// without allow_atomic, then sets it again: wait that out.
			retry := c == errCodeAtomicDisabled && attempt < 300
			if retry || c == errCodeWrongLastSeq || c == errCodeLastSeqCluster || c == errCodeTooManyInflight || c == errCodeIncomplete {
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
			first := last - uint64(len(msgs)) + 1
			for i, r := range written {
				r.rev = first + uint64(i)
				s.cache.put(r.key, r.work, r.rev)
			}
		}
		s.appliedChunk(items, out, recs)
		if err := s.crashAt("stored"); err != nil {
			return err
		}
		for chunk := range slices.Chunk(evs, MaxAtomicBatch) {
			if err := s.publishEvents(ctx, chunk); err != nil {
				return err
			}
		}
		if err := s.crashAt("published"); err != nil {
			return err
		}
		for _, k := range boxKeys {
			if err := s.kv.Purge(ctx, k); err != nil {
				return fmt.Errorf("bus: claims: clearing outbox: %w", err)
			}
		}
		return nil
	}
}

// outbox encodes moves once, into bufs: the events' JSON (bufs.events;
// evs slice it) and outbox entries, JSON arrays of the same bytes of
// about outboxBytes each before compression, appended compressed to
// bufs.recs with their ends in bufs.boxEnds. It returns the events and
// the number of entries.
func outbox(moves []reconcile.Event, bufs *chunkBufs) ([]eventMsg, int, error) {
	evs := make([]eventMsg, len(moves))
	ends := make([]int, len(moves))
	for i := range moves {
		var err error
		if bufs.events, err = moves[i].AppendJSON(bufs.events); err != nil {
			return nil, 0, err
		}
		ends[i] = len(bufs.events)
	}
	bufs.boxEnds = bufs.boxEnds[:0]
	box := bufs.scratch[:0]
	start := 0
	for i := range moves {
		b := bufs.events[start:ends[i]]
		start = ends[i]
		evs[i] = eventMsg{&moves[i], b}
		if len(box) > 0 && len(box)+len(b) > outboxBytes {
			// Compressed like records: the entry copies every event of
			// the chunk, and events of one chunk repeat most of their
			// bytes.
			bufs.recs = appendCompressed(bufs.recs, append(box, ']'))
			bufs.boxEnds = append(bufs.boxEnds, len(bufs.recs))
			box = box[:0]
		}
		if len(box) == 0 {
			box = append(box, '[')
		} else {
			box = append(box, ',')
		}
		box = append(box, b...)
	}
	if len(box) > 0 {
		bufs.recs = appendCompressed(bufs.recs, append(box, ']'))
		bufs.boxEnds = append(bufs.boxEnds, len(bufs.recs))
	}
	bufs.scratch = box
	return evs, len(bufs.boxEnds), nil
}

// chunkBufs are the buffers one chunk encodes its messages into, pooled.
type chunkBufs struct {
	recs    []byte // records, then outbox entries
	events  []byte // the events' JSON
	scratch []byte // one record's JSON, one outbox entry's
	boxEnds []int
}

var chunkBufPool = sync.Pool{New: func() any { return new(chunkBufs) }}

func getChunkBufs() *chunkBufs { return chunkBufPool.Get().(*chunkBufs) }

// maxPooledBuf keeps an unusually large chunk's buffers out of the pool.
const maxPooledBuf = 16 << 20

// reset empties the buffers for another attempt, keeping their memory.
func (b *chunkBufs) reset() {
	b.recs, b.events, b.scratch, b.boxEnds = b.recs[:0], b.events[:0], b.scratch[:0], b.boxEnds[:0]
}

// put returns the buffers to the pool; nothing may use them after.
func (b *chunkBufs) put() {
	if cap(b.recs) > maxPooledBuf || cap(b.events) > maxPooledBuf {
		return
	}
	b.reset()
	chunkBufPool.Put(b)
}

// sweepOutbox publishes the events of outbox entries left by writers
// that stopped between storing moves and clearing their outbox (or that
// are still at it: publishing is idempotent), then removes the entries.
func (s *ClaimStore) sweepOutbox(ctx context.Context) (int, error) {
	keys, err := s.kv.ListKeysFiltered(ctx, outboxPrefix+">")
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return 0, nil
		}
		return 0, fmt.Errorf("bus: claims: %w", err)
	}
	defer keys.Stop()
	n := 0
	for key := range keys.Keys() {
		e, err := s.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("bus: claims: %w", err)
		}
		var evs []reconcile.Event
		js, err := RecordJSON(e.Value())
		if err == nil {
			err = json.Unmarshal(js, &evs)
		}
		if err != nil {
			return n, fmt.Errorf("bus: claims: damaged outbox %s: %w", key, err)
		}
		for i := range evs {
			if err := s.publish(ctx, &evs[i]); err != nil {
				return n, err
			}
		}
		if err := s.kv.Purge(ctx, key); err != nil {
			return n, fmt.Errorf("bus: claims: clearing outbox: %w", err)
		}
		n++
	}
	return n, nil
}

// staleCached reports whether a cached record that no write will check
// changed since it was cached.
func (s *ClaimStore) staleCached(ctx context.Context, order []*batchRec) (bool, error) {
	var check []*batchRec
	for _, r := range order {
		if r.cached && !r.dirty {
			check = append(check, r)
		}
	}
	var stale atomic.Bool
	err := eachParallel(ctx, check, func(ctx context.Context, r *batchRec) error {
		e, err := s.kv.Get(ctx, r.key)
		if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("bus: claims: %w", err)
		}
		if err != nil || e.Revision() != r.rev {
			stale.Store(true)
		}
		return nil
	})
	return stale.Load(), err
}

// eachParallel runs fn on every record, readWorkers at a time, and
// returns the first error.
func eachParallel(ctx context.Context, rs []*batchRec, fn func(context.Context, *batchRec) error) error {
	return inParallel(ctx, rs, readWorkers, fn)
}

// inParallel runs fn on every element, workers at a time, and returns
// the first error.
func inParallel[T any](ctx context.Context, xs []T, workers int, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	next := make(chan T)
	for range min(workers, len(xs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for x := range next {
				if ctx.Err() != nil {
					continue
				}
				if err := fn(ctx, x); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					cancel()
				}
			}
		}()
	}
	for _, x := range xs {
		next <- x
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = ctx.Err() // the caller's context ended: some not run
	}
	return first
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
	var toRead []*batchRec
	for _, r := range order {
		if c, ok := s.cache.get(r.key); ok {
			r.read, r.rev, r.cached = c.rec, c.rev, true
			continue
		}
		toRead = append(toRead, r)
	}
	err := eachParallel(ctx, toRead, func(ctx context.Context, r *batchRec) error {
		rec, rev, err := s.get(ctx, r.key)
		r.read, r.rev = rec, rev
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	for id, r := range recs {
		if r.read == nil {
			r.work = &reconcile.Record{ID: id}
		} else {
			w := *r.read
			// Room for the moves this batch appends (a clone's capacity
			// is its length: the first append copied it again).
			w.Timeline = append(make([]reconcile.Event, 0, len(r.read.Timeline)+2), r.read.Timeline...)
			w.Pending = slices.Clone(r.read.Pending)
			r.work = &w
		}
	}
	return recs, order, nil
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
