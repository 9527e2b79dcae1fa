package reconcile

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/claim"
)

// Index finds submitted claims by what responses echo. The runtime calls
// Record for every 837P file it sends; the lookups return refs in the
// order they were recorded.
type Index interface {
	// Record remembers where the claims of a sent file went. Recording
	// the same file again changes nothing.
	Record(ctx context.Context, fi *assemble.FileInfo) error
	// ByInterchange returns the claims of the interchange (our ISA13) we
	// sent to partner (our ISA08).
	ByInterchange(ctx context.Context, partner string, isa13 int64) ([]Ref, error)
	// BySet returns the claims of transaction set st02 of group gs06 sent
	// to partner; st02 "" means every set of the group.
	BySet(ctx context.Context, partner string, gs06 int64, st02 string) ([]Ref, error)
	// ByClaim returns every submission of a claim id (CLM01).
	ByClaim(ctx context.Context, claimID string) ([]Ref, error)
}

// Store keeps claim state. Apply is a compare-and-set: two replicas
// applying events to one claim at once never lose one, and an event id
// applied before is a Duplicate (see Record.Apply for the rules).
type Store interface {
	Apply(ctx context.Context, claimID string, ev Event) (Result, error)
	// Get returns the claim's record, or nil when there is none.
	Get(ctx context.Context, claimID string) (*Record, error)
}

// Result is what Store.Apply did.
type Result struct {
	Change Change      `json:"change"`
	From   claim.State `json:"from"`
	To     claim.State `json:"to,omitempty"`
}

// Unmatched is an outcome that matched no submitted claim (or a file that
// could not be reconciled at all): kept and reported, never dropped.
type Unmatched struct {
	Kind     Kind        `json:"kind"`
	File     string      `json:"file"`
	Digest   string      `json:"digest"`
	Position int         `json:"position,omitempty"`
	Locator  string      `json:"locator,omitempty"`
	Keys     Keys        `json:"keys"`
	State    claim.State `json:"state,omitempty"`
	Status   string      `json:"status,omitempty"`
	Reason   string      `json:"reason"`
}

// Refusal is an event refused as an illegal transition.
type Refusal struct {
	ClaimID string      `json:"claim_id"`
	EventID string      `json:"event_id"`
	From    claim.State `json:"from"`
	To      claim.State `json:"to"`
	Locator string      `json:"locator"`
}

// Report is what reconciling one file did.
type Report struct {
	Summary    Summary `json:"summary"`
	Moved      int     `json:"moved"`
	Recorded   int     `json:"recorded"`
	Duplicates int     `json:"duplicates"`
	// Refused and Unmatched are kept here unless the Reconciler has a
	// sink for them (OnRefused, OnUnmatched); RefusedCount and
	// UnmatchedCount count them either way.
	Refused        []Refusal   `json:"refused,omitempty"`
	Unmatched      []Unmatched `json:"unmatched,omitempty"`
	RefusedCount   int         `json:"refused_count"`
	UnmatchedCount int         `json:"unmatched_count"`
}

// Reconciler applies response files to claim state.
type Reconciler struct {
	Index Index
	Store Store
	// Now is the clock for event times; nil means time.Now.
	Now func() time.Time
	// OnUnmatched and OnRefused, when set, receive each unmatched outcome
	// and refused event instead of the Report keeping them: a runtime
	// reconciling huge files stores them durably there, so memory stays
	// bounded.
	OnUnmatched func(context.Context, Unmatched) error
	OnRefused   func(context.Context, Refusal) error
	// Workers is how many events are applied at once (one claim's always
	// in order); 0 or 1 applies them one by one. With a BatchStore,
	// events are applied in batches and Workers is how many outcomes
	// are matched in the index at once.
	Workers int
}

// Reconcile reads the response file r (Read) and applies every outcome.
// name and digest identify the file. Applying the same file again changes
// nothing (every event is a Duplicate). The error is an I/O, index or
// store error; the report says what was applied up to it, and since every
// event is idempotent the file can simply be reconciled again.
//
// With Workers > 1, events are applied by that many goroutines, each
// claim always by the same one, so one claim's events keep their file
// order (a reversal before its correction) while different claims'
// round trips to the index and store overlap.
func (rc *Reconciler) Reconcile(ctx context.Context, r io.Reader, name, digest string) (*Report, error) {
	rep := &Report{}
	tl := &tally{rep: rep}
	var p *pool
	if _, ok := rc.Store.(BatchStore); ok {
		// Batches carry many claims per durable write: the pool's
		// overlapping round trips are not needed.
		tl.batching = true
	} else if rc.Workers > 1 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		p = newPool(ctx, cancel, rc.Workers)
	}
	sum, err := Read(r, name, digest, func(o *Outcome) error { return rc.apply(ctx, o, tl, p) })
	if err == nil {
		err = rc.flushBatch(ctx, tl)
	}
	if p != nil {
		if perr := p.wait(); perr != nil {
			err = perr // the pool's error is the cause; Read's is then ctx's
		}
	}
	rep.Summary = sum
	if err != nil {
		return rep, err
	}
	if sum.Kind == KindUnknown {
		err = rc.unmatched(ctx, tl, Unmatched{Kind: KindUnknown, File: name, Digest: digest, Reason: "file not reconciled: " + sum.Note})
	}
	return rep, err
}

// Apply matches one outcome to submitted claims and applies it to each,
// adding to rep.
func (rc *Reconciler) Apply(ctx context.Context, o *Outcome, rep *Report) error {
	_, batching := rc.Store.(BatchStore)
	tl := &tally{rep: rep, batching: batching}
	if err := rc.apply(ctx, o, tl, nil); err != nil {
		return err
	}
	return rc.flushBatch(ctx, tl)
}

// tally guards a Report shared by workers. With a BatchStore it also
// gathers the outcomes to apply, in file order, up to batchItems at a
// time.
type tally struct {
	mu       sync.Mutex
	rep      *Report
	batching bool
	pend     []pendingOutcome
}

// pendingOutcome is an outcome read and waiting for its batch, with the
// time its events carry.
type pendingOutcome struct {
	o *Outcome
	t time.Time
}

// batchItems is how many outcomes go to one ApplyAll: a file's claims
// (a 999 answers up to thousands at once) in one or a few durable
// writes, with memory bounded.
const batchItems = 1000

func (rc *Reconciler) apply(ctx context.Context, o *Outcome, tl *tally, p *pool) error {
	now := time.Now
	if rc.Now != nil {
		now = rc.Now
	}
	t := now()
	if tl.batching {
		tl.pend = append(tl.pend, pendingOutcome{o, t})
		if len(tl.pend) >= batchItems {
			return rc.flushBatch(ctx, tl)
		}
		return nil
	}
	if p != nil && (o.Kind == Kind277CA || o.Kind == Kind835) && o.Keys.ClaimID != "" {
		// One claim: match it in its worker too.
		return p.submit(o.Keys.ClaimID, func() error { return rc.matchApply(ctx, o, tl, t, nil) })
	}
	return rc.matchApply(ctx, o, tl, t, p)
}

// matchApply matches o and applies it to every claim matched, through
// the pool when there is one.
func (rc *Reconciler) matchApply(ctx context.Context, o *Outcome, tl *tally, t time.Time, p *pool) error {
	refs, why, err := rc.match(ctx, o)
	if err != nil {
		return err
	}
	if len(refs) == 0 {
		return rc.unmatched(ctx, tl, unmatchedOf(o, why))
	}
	for _, ref := range refs {
		if p == nil {
			if err := rc.applyRef(ctx, o, ref, t, tl); err != nil {
				return err
			}
			continue
		}
		if err := p.submit(ref.ClaimID, func() error { return rc.applyRef(ctx, o, ref, t, tl) }); err != nil {
			return err
		}
	}
	return nil
}

func unmatchedOf(o *Outcome, why string) Unmatched {
	return Unmatched{Kind: o.Kind, File: o.File, Digest: o.Digest, Position: o.Position, Locator: o.Locator,
		Keys: o.Keys, State: o.State, Status: o.Status, Reason: why}
}

func (rc *Reconciler) applyRef(ctx context.Context, o *Outcome, ref Ref, t time.Time, tl *tally) error {
	ev := NewEvent(o, ref, t)
	res, err := rc.Store.Apply(ctx, ref.ClaimID, ev)
	if err != nil {
		return fmt.Errorf("reconcile: %s: claim %s: %w", o.Locator, ref.ClaimID, err)
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return rc.tallyResult(ctx, tl, o, ref.ClaimID, ev.ID, res)
}

// matched is one pending outcome's match.
type matched struct {
	refs []Ref
	why  string
}

// flushBatch matches the gathered outcomes (Workers lookups at once),
// applies their events through one ApplyAll in file order (so each
// claim's events keep their file order), and tallies the results.
func (rc *Reconciler) flushBatch(ctx context.Context, tl *tally) error {
	if len(tl.pend) == 0 {
		return nil
	}
	pend := tl.pend
	defer func() { clear(pend); tl.pend = pend[:0] }()
	ms, err := rc.matchAll(ctx, pend)
	if err != nil {
		return err
	}
	var items []Item
	var outs []*Outcome
	for i, p := range pend {
		if len(ms[i].refs) == 0 {
			if err := rc.unmatched(ctx, tl, unmatchedOf(p.o, ms[i].why)); err != nil {
				return err
			}
			continue
		}
		for _, ref := range ms[i].refs {
			items = append(items, Item{ClaimID: ref.ClaimID, Event: NewEvent(p.o, ref, p.t)})
			outs = append(outs, p.o)
		}
	}
	if len(items) == 0 {
		return nil
	}
	res, err := ApplyAll(ctx, rc.Store, items)
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for i := range min(len(res), len(items)) {
		if terr := rc.tallyResult(ctx, tl, outs[i], items[i].ClaimID, items[i].Event.ID, res[i]); terr != nil && err == nil {
			return terr
		}
	}
	if err != nil {
		if n := len(res); n < len(items) {
			// ApplyAll's results are the items applied before the error.
			return fmt.Errorf("reconcile: %s: claim %s: %w", outs[n].Locator, items[n].ClaimID, err)
		}
		return fmt.Errorf("reconcile: applying %d events: %w", len(items), err)
	}
	return nil
}

// matchAll matches every pending outcome, Workers at a time (an index
// lookup is a round trip; they overlap), keeping each result at its
// outcome's position.
func (rc *Reconciler) matchAll(ctx context.Context, pend []pendingOutcome) ([]matched, error) {
	ms := make([]matched, len(pend))
	workers := min(max(rc.Workers, 1), len(pend))
	if workers == 1 {
		for i, p := range pend {
			refs, why, err := rc.match(ctx, p.o)
			if err != nil {
				return nil, err
			}
			ms[i] = matched{refs, why}
		}
		return ms, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(pend) || ctx.Err() != nil {
					return
				}
				refs, why, err := rc.match(ctx, pend[i].o)
				if err != nil {
					once.Do(func() { first = err })
					cancel()
					return
				}
				ms[i] = matched{refs, why}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return ms, nil
}

// tallyResult counts one applied event (tl.mu held).
func (rc *Reconciler) tallyResult(ctx context.Context, tl *tally, o *Outcome, claimID, eventID string, res Result) error {
	rep := tl.rep
	switch res.Change {
	case Moved:
		rep.Moved++
	case Recorded:
		rep.Recorded++
	case Duplicate:
		rep.Duplicates++
	case Refused:
		rep.RefusedCount++
		rf := Refusal{ClaimID: claimID, EventID: eventID, From: res.From, To: o.State, Locator: o.Locator}
		if rc.OnRefused != nil {
			return rc.OnRefused(ctx, rf)
		}
		rep.Refused = append(rep.Refused, rf)
	}
	return nil
}

// unmatched reports u. The sinks are called under the tally's lock, one
// at a time.
func (rc *Reconciler) unmatched(ctx context.Context, tl *tally, u Unmatched) error {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.rep.UnmatchedCount++
	if rc.OnUnmatched != nil {
		return rc.OnUnmatched(ctx, u)
	}
	tl.rep.Unmatched = append(tl.rep.Unmatched, u)
	return nil
}

// pool runs jobs on workers chosen by claim id, so the jobs of one claim
// run one after another in submission order.
type pool struct {
	ctx    context.Context
	cancel context.CancelFunc
	queues []chan func() error
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

func newPool(ctx context.Context, cancel context.CancelFunc, n int) *pool {
	p := &pool{ctx: ctx, cancel: cancel, queues: make([]chan func() error, n)}
	for i := range p.queues {
		q := make(chan func() error, 16)
		p.queues[i] = q
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for job := range q {
				if p.ctx.Err() != nil {
					continue // failed: drain without running
				}
				if err := job(); err != nil {
					p.once.Do(func() { p.err = err })
					p.cancel()
				}
			}
		}()
	}
	return p
}

// submit queues job on the claim's worker.
func (p *pool) submit(claimID string, job func() error) error {
	h := fnv.New32a()
	h.Write([]byte(claimID))
	select {
	case p.queues[h.Sum32()%uint32(len(p.queues))] <- job:
		return nil
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
}

// wait closes the queues, waits for the workers and returns the first
// job error.
func (p *pool) wait() error {
	for _, q := range p.queues {
		close(q)
	}
	p.wg.Wait()
	return p.err
}

// match finds the claims an outcome speaks for, or says why none.
func (rc *Reconciler) match(ctx context.Context, o *Outcome) ([]Ref, string, error) {
	k := o.Keys
	switch o.Kind {
	case KindTA1:
		n, err := strconv.ParseInt(strings.TrimSpace(k.Interchange), 10, 64)
		if err != nil {
			return nil, fmt.Sprintf("TA101 %q is not an interchange control number", k.Interchange), nil
		}
		refs, err := rc.Index.ByInterchange(ctx, k.Partner, n)
		return refs, fmt.Sprintf("no interchange %d was sent to %q", n, k.Partner), err
	case Kind999:
		n, err := strconv.ParseInt(strings.TrimSpace(k.Group), 10, 64)
		if err != nil {
			return nil, fmt.Sprintf("AK102 %q is not a group control number", k.Group), nil
		}
		refs, err := rc.Index.BySet(ctx, k.Partner, n, k.Set)
		if k.Set == "" {
			return refs, fmt.Sprintf("no group %d was sent to %q", n, k.Partner), err
		}
		return refs, fmt.Sprintf("no transaction set %s of group %d was sent to %q", k.Set, n, k.Partner), err
	case Kind277CA, Kind835:
		if k.ClaimID == "" {
			if o.Kind == Kind277CA && k.Batch != "" {
				return nil, fmt.Sprintf("billing provider rejected as a whole in batch %s: its claims are not listed and the index does not record billing providers", k.Batch), nil
			}
			return nil, "no claim id (CLM01) in the response", nil
		}
		all, err := rc.Index.ByClaim(ctx, k.ClaimID)
		if err != nil {
			return nil, "", err
		}
		if len(all) == 0 {
			return nil, fmt.Sprintf("no claim %q was submitted", k.ClaimID), nil
		}
		// The latest submission to this payer (or partner) wins; a
		// 277CA prefers the one whose batch it echoes.
		var best *Ref
		for i := range all {
			r := &all[i]
			if (k.Payer == "" || r.PayerID != k.Payer) && (k.Partner == "" || r.Receiver != k.Partner) {
				continue
			}
			if best == nil || k.Batch == "" || best.Batch != k.Batch || r.Batch == k.Batch {
				best = r
			}
		}
		if best == nil {
			return nil, fmt.Sprintf("claim %q was submitted, but not to payer %q or partner %q", k.ClaimID, k.Payer, k.Partner), nil
		}
		return []Ref{*best}, "", nil
	}
	return nil, "", errors.New("reconcile: outcome of unknown kind " + string(o.Kind))
}
