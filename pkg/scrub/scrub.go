package scrub

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/claimgate/claimgate/pkg/claim"
)

// Scrubber runs the edits on claims. Build it with New; it is read-only
// afterwards and safe for concurrent use. To load new reference data, build
// a new Scrubber and swap it in.
type Scrubber struct {
	codes      *CodeTable
	ncci       *NCCITable
	thresholds *ThresholdTable
	payers     map[string]*policy
	filing     map[string]*policy
	def        *policy
	seen       Seen
	secret     []byte
	now        func() time.Time
	loc        *time.Location
	pool       sync.Pool // *work
}

// New checks cfg and builds a Scrubber. Maps and slices in cfg are copied:
// changing cfg afterwards does not change the Scrubber.
func New(cfg Config) (*Scrubber, error) {
	s := &Scrubber{
		codes:      cfg.Codes,
		ncci:       cfg.NCCI,
		thresholds: cfg.Thresholds,
		seen:       cfg.Seen,
		secret:     slices.Clone(cfg.DuplicateKeySecret),
		now:        cfg.Now,
		loc:        cfg.Location,
	}
	var err error
	if s.codes == nil {
		if s.codes, err = EmbeddedCodes(); err != nil {
			return nil, fmt.Errorf("scrub: embedded pt_codes.csv: %w", err)
		}
	}
	if s.ncci == nil {
		if s.ncci, err = EmbeddedNCCI(); err != nil {
			return nil, fmt.Errorf("scrub: embedded ncci_ptp.csv: %w", err)
		}
	}
	if s.thresholds == nil {
		if s.thresholds, err = EmbeddedThresholds(); err != nil {
			return nil, fmt.Errorf("scrub: embedded therapy_thresholds.csv: %w", err)
		}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.def, err = compilePolicy("default", cfg.Default); err != nil {
		return nil, err
	}
	s.payers = make(map[string]*policy, len(cfg.Payers))
	for id, p := range cfg.Payers {
		if s.payers[id], err = compilePolicy("payer "+id, p); err != nil {
			return nil, err
		}
	}
	s.filing = make(map[string]*policy, len(cfg.FilingCodes))
	for fc, p := range cfg.FilingCodes {
		if s.filing[fc], err = compilePolicy("filing code "+fc, p); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// PolicyFor returns the policy applied to c: by payer id, else by filing
// code, else the default.
func (s *Scrubber) PolicyFor(c *claim.Claim) Policy {
	p := s.policyFor(c)
	out := p.Policy
	for code := range p.authCodes {
		out.PriorAuth.Codes = append(out.PriorAuth.Codes, code)
	}
	slices.Sort(out.PriorAuth.Codes)
	return out
}

// PolicySource says where PolicyFor found c's policy: "payer ID",
// "filing code CODE" or "default".
func (s *Scrubber) PolicySource(c *claim.Claim) string {
	if _, ok := s.payers[c.Payer.ID]; ok {
		return "payer " + c.Payer.ID
	}
	if _, ok := s.filing[c.Subscriber.FilingCode]; ok {
		return "filing code " + c.Subscriber.FilingCode
	}
	return "default"
}

func (s *Scrubber) policyFor(c *claim.Claim) *policy {
	if p, ok := s.payers[c.Payer.ID]; ok {
		return p
	}
	if p, ok := s.filing[c.Subscriber.FilingCode]; ok {
		return p
	}
	return s.def
}

// Scrub runs every edit on c and returns what it found, sorted by line
// (claim-level first) then edit ID; nil when the claim is clean. If the
// duplicate store fails, Scrub reports DUP-CHECK-FAILED (Warn) instead of
// an error; use ScrubContext to get the error and retry. Scrub does not
// modify c.
func (s *Scrubber) Scrub(c *claim.Claim) []Edit {
	edits, err := s.ScrubContext(context.Background(), c)
	if err != nil {
		edits = append(edits, Edit{ID: IDDuplicateUnknown, Severity: Warn, Field: "id",
			Message: "duplicate check could not be made: the duplicate store is unavailable; the claim may have been sent before"})
		sortEdits(edits)
	}
	return edits
}

// ScrubContext is Scrub with a context for the duplicate store. When the
// store fails it returns the other edits and the error, so the caller can
// retry rather than queue a possible duplicate.
func (s *Scrubber) ScrubContext(ctx context.Context, c *claim.Claim) ([]Edit, error) {
	if c == nil {
		return nil, nil
	}
	return s.Finish(ctx, c, s.Precheck(c))
}

// Prechecked is a claim's scrub result short of the duplicate check:
// what depends on the claim and the configuration alone, so it can be
// computed for many claims at once (in any order, on several goroutines)
// while the duplicate check, which depends on the claims accepted before,
// is made in batch order by Finish.
type Prechecked struct {
	edits []Edit
	// Key is the claim's duplicate key (DuplicateKey), "" with HasKey
	// false for a replacement or void, or when the Scrubber has no Seen.
	Key    string
	HasKey bool
	// Checked and Seen carry a duplicate lookup the caller made itself
	// (many keys at once, say): with Checked, Finish takes Seen as the
	// answer instead of asking the store.
	Checked, Seen bool
}

// Rejected reports whether an edit found so far rejects the claim.
func (pc *Prechecked) Rejected() bool {
	for _, e := range pc.edits {
		if e.Severity == Reject {
			return true
		}
	}
	return false
}

// Precheck runs every edit but the duplicate check on c (not nil). It is
// safe for concurrent use.
func (s *Scrubber) Precheck(c *claim.Claim) Prechecked {
	w := s.getWork(len(c.Lines))
	defer s.putWork(w)
	r := run{s: s, c: c, p: s.policyFor(c), w: w, today: claim.DateOf(s.now().In(s.loc))}
	r.sortLines()
	r.claimChecks()
	r.lineChecks()
	r.dateGroups()
	if r.p.KX {
		r.kx()
	}
	pc := Prechecked{edits: r.edits}
	if s.seen != nil && !c.Frequency.IsCorrection() {
		pc.Key, pc.HasKey = s.duplicateKey(c, w), true
	}
	return pc
}

// Finish completes a Precheck of c with the duplicate check and returns
// what ScrubContext returns.
func (s *Scrubber) Finish(ctx context.Context, c *claim.Claim, pc Prechecked) ([]Edit, error) {
	edits := pc.edits
	var err error
	if pc.HasKey {
		seen := pc.Seen
		if !pc.Checked {
			seen, err = s.seen.SeenBefore(ctx, pc.Key)
		}
		if err == nil && seen {
			edits = append(edits, Edit{ID: IDDuplicateClaim, Severity: Reject, Field: "id",
				Message: "an original claim for the same patient, payer, service dates and procedures was already sent in an earlier batch; send a replacement (frequency 7) with the payer's claim number instead"})
		}
	}
	sortEdits(edits)
	return edits, err
}

// FinishScrub is Scrub for a Precheck of c: a failing duplicate store
// gives a warning.
func (s *Scrubber) FinishScrub(c *claim.Claim, pc Prechecked) []Edit {
	edits, err := s.Finish(context.Background(), c, pc)
	if err != nil {
		edits = append(edits, Edit{ID: IDDuplicateUnknown, Severity: Warn, Field: "id",
			Message: "duplicate check could not be made: the duplicate store is unavailable; the claim may have been sent before"})
		sortEdits(edits)
	}
	return edits
}

// Remember records c as queued, for the duplicate check of later batches.
// Call it when the claim is queued. It returns ErrDuplicate when the same
// claim was remembered meanwhile (treat the claim as DUP-CLAIM), and nil
// without doing anything for corrections or when no Seen is configured.
func (s *Scrubber) Remember(ctx context.Context, c *claim.Claim) error {
	if s.seen == nil {
		return nil
	}
	key, ok := s.DuplicateKey(c)
	if !ok {
		return nil
	}
	return s.seen.Remember(ctx, key)
}

// Forget removes c from the duplicate store, for a claim that never reached
// adjudication (999 rejection, 277CA rejection) and will be sent again as a
// new original.
func (s *Scrubber) Forget(ctx context.Context, c *claim.Claim) error {
	if s.seen == nil {
		return nil
	}
	key, ok := s.DuplicateKey(c)
	if !ok {
		return nil
	}
	return s.seen.Forget(ctx, key)
}

func sortEdits(e []Edit) {
	slices.SortStableFunc(e, func(a, b Edit) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
}

// work is per-call scratch space, pooled so a Scrub allocates little.
type work struct {
	order  []int // line indices sorted by (service date, index)
	idx    []int
	aggs   []timedAgg
	keyBuf []byte
}

func (s *Scrubber) getWork(n int) *work {
	w, _ := s.pool.Get().(*work)
	if w == nil {
		w = &work{}
	}
	if cap(w.order) < n {
		w.order = make([]int, 0, max(n, 8))
		w.idx = make([]int, 0, max(n, 8))
		w.aggs = make([]timedAgg, 0, max(n, 8))
	}
	if cap(w.keyBuf) < 256 {
		w.keyBuf = make([]byte, 0, 512)
	}
	return w
}

func (s *Scrubber) putWork(w *work) {
	if cap(w.order) > 1024 || cap(w.keyBuf) > 1<<16 {
		return // do not keep huge buffers from an odd claim
	}
	w.aggs = w.aggs[:0]
	s.pool.Put(w)
}

// run is the state of one Scrub call.
type run struct {
	s     *Scrubber
	c     *claim.Claim
	p     *policy
	w     *work
	today claim.Date
	edits []Edit
}

func (r *run) add(e Edit) { r.edits = append(r.edits, e) }

func (r *run) addf(id string, sev Severity, line int, field, format string, args ...any) {
	r.edits = append(r.edits, newEdit(id, sev, line, field, format, args...))
}

// sortLines fills w.order with the line indices sorted by service date,
// keeping line order within a date (insertion sort: claims have at most 50
// lines, and it does not allocate).
func (r *run) sortLines() {
	o := r.w.order[:0]
	for i := range r.c.Lines {
		o = append(o, i)
	}
	ls := r.c.Lines
	for i := 1; i < len(o); i++ {
		for j := i; j > 0 && dateLess(ls[o[j]].ServiceDate, ls[o[j-1]].ServiceDate); j-- {
			o[j], o[j-1] = o[j-1], o[j]
		}
	}
	r.w.order = o
}

// dateGroups runs the checks that look at all lines of one date of
// service together.
func (r *run) dateGroups() {
	o := r.w.order
	for start := 0; start < len(o); {
		end := start + 1
		d := r.c.Lines[o[start]].ServiceDate
		for end < len(o) && r.c.Lines[o[end]].ServiceDate == d {
			end++
		}
		g := o[start:end]
		r.timed(g)
		r.untimed(g)
		if r.p.NCCI {
			r.ncci(g, d)
		}
		start = end
	}
}
