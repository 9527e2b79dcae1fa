package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
)

// runner delivers one webhook's events.
type runner struct {
	d        *Dispatcher
	h        Hook
	consumer string
	log      *slog.Logger
	client   *http.Client

	// Counters for Stats.
	holding                           atomic.Bool
	delivered, failed, dead, inFlight atomic.Int64
}

// item is one fetched event on its way to the receiver.
type item struct {
	msg      jetstream.Msg
	seq      uint64
	eventID  string
	claimID  string
	delivery string
	body     []byte // the delivery's JSON body
	bad      string // why the message is not a deliverable claim event
}

// Delivery is the JSON body POSTed for each event.
type Delivery struct {
	// DeliveryID is DeliveryID(webhook, event id): the same on every
	// attempt and redelivery.
	DeliveryID string `json:"delivery_id"`
	Webhook    string `json:"webhook"`
	// Sequence is the event's sequence in the claim event stream: a later
	// event of a claim always has a higher one.
	Sequence uint64 `json:"sequence"`
	// Event is the claim event (pkg/reconcile/schema/claim-event.schema.json),
	// byte for byte as published.
	Event json.RawMessage `json:"event"`
}

// run holds the webhook's lease whenever it can and delivers while held.
func (r *runner) run(ctx context.Context, leases *bus.Leases) {
	retry := max(r.d.o.LeaseTTL/3, 100*time.Millisecond)
	for ctx.Err() == nil {
		lease, err := leases.Acquire(ctx, "webhook/"+r.h.Name)
		if err == nil {
			r.log.Info("webhook lease taken; delivering")
			if err := r.session(ctx, lease); err != nil && ctx.Err() == nil {
				r.log.Warn("webhook delivery paused", "err", err)
			}
			// Released only after every lane stopped: the next holder
			// starts from what is acknowledged.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			lease.Release(rctx)
			cancel()
		} else if !errors.Is(err, bus.ErrLeaseHeld) {
			r.log.Warn("webhook lease", "err", err)
		}
		sleep(ctx, retry)
	}
}

// session delivers while the lease is held. A new holder first resets
// the consumer to its ack floor when anything is left unacknowledged (a
// crashed or stopped holder's events): otherwise those events would be
// redelivered only after the ack wait, behind later events of the same
// claims. Events above the floor that were already acknowledged are
// delivered again (same delivery id).
func (r *runner) session(ctx context.Context, lease *bus.Lease) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cons, err := r.d.stream.Consumer(sctx, r.consumer)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		// Removed by hand while the webhook is configured: made again.
		if err = r.d.consumer(sctx, r); err == nil {
			cons, err = r.d.stream.Consumer(sctx, r.consumer)
		}
	}
	if err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	info, err := cons.Info(sctx)
	if err != nil {
		return fmt.Errorf("consumer info: %w", err)
	}
	if info.NumAckPending > 0 || info.NumRedelivered > 0 {
		res, err := r.d.stream.ResetConsumer(sctx, r.consumer)
		if err != nil {
			return fmt.Errorf("consumer reset to its ack floor (needs a nats-server with the consumer reset API): %w", err)
		}
		r.log.Info("webhook resumes from its acknowledged floor", "pending", info.NumAckPending, "from_sequence", res.ResetSeq)
	}

	var wg sync.WaitGroup
	// Renew the lease; losing it (or failing to renew for half its TTL)
	// stops this session before another replica can take over.
	wg.Add(1)
	go func() {
		defer wg.Done()
		ttl := r.d.o.LeaseTTL
		last := time.Now()
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
			}
			rctx, rcancel := context.WithTimeout(sctx, ttl/3)
			err := lease.Renew(rctx)
			rcancel()
			switch {
			case err == nil:
				last = time.Now()
			case errors.Is(err, bus.ErrLeaseHeld) || time.Since(last) > ttl/2:
				r.log.Warn("webhook lease lost; stopping", "err", err)
				cancel()
				return
			}
		}
	}()

	r.holding.Store(true)
	defer r.holding.Store(false)
	h := newHeld(&r.inFlight)
	// Keep every held event alive while it waits or is retried.
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(r.d.o.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
			}
			for _, m := range h.snapshot() {
				m.InProgress()
			}
		}
	}()

	lanes := make([]chan *item, r.h.Lanes)
	var lwg sync.WaitGroup
	for i := range lanes {
		lanes[i] = make(chan *item, r.d.o.LaneDepth)
		lwg.Add(1)
		go func() {
			defer lwg.Done()
			for it := range lanes[i] {
				if sctx.Err() == nil {
					r.deliver(sctx, it)
				}
				h.remove(it.msg)
			}
		}()
	}

	err = r.fetch(sctx, cons, lanes, h)
	cancel()
	for _, l := range lanes {
		close(l)
	}
	lwg.Wait()
	wg.Wait()
	return err
}

// fetch reads the consumer in stream order and hands each event to the
// lane of its claim, until ctx ends.
func (r *runner) fetch(ctx context.Context, cons jetstream.Consumer, lanes []chan *item, h *held) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		batch, err := cons.Fetch(64, jetstream.FetchMaxWait(time.Second))
		if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted) {
			return err // the session ends; the next one makes the consumer again
		}
		if err != nil {
			if backoff >= 5*time.Second {
				r.log.Warn("webhook fetch failing", "err", err)
			}
			sleep(ctx, backoff)
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		for m := range batch.Messages() {
			if ctx.Err() != nil {
				continue // left unacknowledged for the next holder
			}
			h.add(m)
			it := r.prepare(m)
			lane := 0
			if it.claimID != "" {
				f := fnv.New32a()
				f.Write([]byte(it.claimID))
				lane = int(f.Sum32() % uint32(len(lanes)))
			}
			select {
			case lanes[lane] <- it:
			case <-ctx.Done():
				h.remove(m)
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && ctx.Err() == nil {
			if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted) {
				return err
			}
			r.log.Debug("webhook fetch", "err", err)
		}
	}
	return nil
}

// prepare builds the delivery of a message.
func (r *runner) prepare(m jetstream.Msg) *item {
	it := &item{msg: m}
	if md, err := m.Metadata(); err == nil {
		it.seq = md.Sequence.Stream
	}
	var ev struct {
		ID      string `json:"id"`
		ClaimID string `json:"claim_id"`
	}
	if err := json.Unmarshal(m.Data(), &ev); err != nil || ev.ID == "" || ev.ClaimID == "" {
		it.bad = "not a claim event (no JSON with id and claim_id)"
		it.eventID = "seq-" + strconv.FormatUint(it.seq, 10)
		it.delivery = DeliveryID(r.h.Name, it.eventID)
		return it
	}
	it.eventID, it.claimID = ev.ID, ev.ClaimID
	it.delivery = DeliveryID(r.h.Name, ev.ID)
	it.body, _ = json.Marshal(Delivery{DeliveryID: it.delivery, Webhook: r.h.Name, Sequence: it.seq, Event: m.Data()})
	return it
}

// deliver POSTs the event until the receiver answers 2xx (then
// acknowledges it), the webhook gives up on it (then records it and
// terminates it), or ctx ends (then leaves it unacknowledged).
func (r *runner) deliver(ctx context.Context, it *item) {
	log := r.log.With("delivery", it.delivery[:12])
	first := time.Now()
	dl := DeadLetter{Webhook: r.h.Name, DeliveryID: it.delivery, EventID: it.eventID, ClaimID: it.claimID, Sequence: it.seq, First: first}
	if it.bad != "" {
		dl.Reason = it.bad
		r.giveUp(ctx, it, dl, log)
		return
	}
	for attempt := 1; ; attempt++ {
		status, err := r.post(ctx, it, attempt)
		if err == nil {
			// A plain ack, not waiting for the server's confirmation (about
			// twice the throughput): an ack lost on the way only means the
			// event is sent again later under the same delivery id, after
			// the claim's later events were delivered for the first time.
			if err := it.msg.Ack(); err != nil && ctx.Err() == nil {
				log.Warn("webhook delivered; ack failed", "status", status, "err", err)
			}
			r.delivered.Add(1)
			log.Debug("webhook delivered", "status", status, "attempt", attempt)
			return
		}
		if ctx.Err() != nil {
			return
		}
		r.failed.Add(1)
		dl.Attempts, dl.LastStatus, dl.Reason = attempt, status, err.Error()
		if (r.h.MaxAttempts > 0 && attempt >= r.h.MaxAttempts) || time.Since(first) >= r.h.MaxAge {
			r.giveUp(ctx, it, dl, log)
			return
		}
		wait := backoff(r.h.RetryMin, r.h.RetryMax, attempt)
		log.Warn("webhook attempt failed; retrying", "attempt", attempt, "status", status, "err", err, "retry_in", wait.Round(time.Millisecond))
		if !sleep(ctx, wait) {
			return
		}
	}
}

// giveUp records the event in the dead-letter bucket, then terminates
// it, so later events of its claim go on.
func (r *runner) giveUp(ctx context.Context, it *item, dl DeadLetter, log *slog.Logger) {
	dl.GaveUp = time.Now()
	b, _ := json.Marshal(dl)
	if _, err := r.d.dead.Put(ctx, deadKey(r.h.Name, it.eventID), b); err != nil {
		// Not terminated unrecorded: left for the next holder.
		log.Error("webhook dead letter not recorded; event left unacknowledged", "err", err)
		return
	}
	r.dead.Add(1)
	if err := it.msg.Term(); err != nil {
		log.Warn("webhook terminate", "err", err)
	}
	log.Error("webhook gave up on an event", "attempts", dl.Attempts, "status", dl.LastStatus, "reason", dl.Reason, "sequence", dl.Sequence)
}

// errStatus is a non-2xx answer.
type errStatus int

func (e errStatus) Error() string { return "HTTP status " + strconv.Itoa(int(e)) }

// post makes one attempt. Errors never quote the URL (its query may hold
// a token).
func (r *runner) post(ctx context.Context, it *item, attempt int) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.h.URL, bytes.NewReader(it.body))
	if err != nil {
		return 0, errors.New("bad request URL")
	}
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "claimgate-webhook/1")
	req.Header.Set(HeaderDelivery, it.delivery)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Signature(r.h.Secret, ts, it.body))
	req.Header.Set(HeaderAttempt, strconv.Itoa(attempt))
	resp, err := r.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, err
	}
	// Drain a little so the connection is reused; never logged.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, errStatus(resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// backoff is the wait after the attempt-th failure: RetryMin doubled per
// failure up to RetryMax, with "equal jitter" (between half and all of
// it) so many failing lanes do not retry in step.
func backoff(lo, hi time.Duration, attempt int) time.Duration {
	d := lo
	for i := 1; i < attempt && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	half := d / 2
	return half + rand.N(half+1)
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// held is the set of fetched, unacknowledged messages.
type held struct {
	mu sync.Mutex
	m  map[jetstream.Msg]struct{}
	n  *atomic.Int64
}

func newHeld(n *atomic.Int64) *held { return &held{m: map[jetstream.Msg]struct{}{}, n: n} }

func (h *held) add(m jetstream.Msg) {
	h.mu.Lock()
	h.m[m] = struct{}{}
	h.n.Store(int64(len(h.m)))
	h.mu.Unlock()
}

func (h *held) remove(m jetstream.Msg) {
	h.mu.Lock()
	delete(h.m, m)
	h.n.Store(int64(len(h.m)))
	h.mu.Unlock()
}

func (h *held) snapshot() []jetstream.Msg {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]jetstream.Msg, 0, len(h.m))
	for m := range h.m {
		out = append(out, m)
	}
	return out
}
