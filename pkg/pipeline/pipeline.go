// Package pipeline is claimgate's submission pipeline: decode a charge
// batch (JSON, CSV or a practice-management system's 837P), scrub each
// claim, assemble the accepted claims per payer and publish 837P files.
// `claimgate convert` and the gateway's ingest workers both run it.
//
// It streams: the input is read once, problems are reported through
// callbacks as they are found, and a payer's claims are written as an
// interchange as soon as it reaches MaxClaimsPerFile (or when the claims
// held for all payers reach MaxClaimsHeld), so memory does not grow with
// the batch or the number of payers.
//
// Every claim is written at most once and no file is ever replaced: each
// file is journaled (name, digest, duplicate keys) before it gets its
// final name, published with a no-replace link, and its keys are recorded
// as sent; New replays the journal after a crash. See docs/pipeline.md.
package pipeline

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/ingest"
	"github.com/claimgate/claimgate/pkg/scrub"
)

// Defaults for Config limits. 2,500 claims held keep convert under 64 MiB
// on a 300,000-claim batch; 5,000 did not (docs/pipeline.md).
const (
	// DefaultMaxClaimsPerFile closes a payer's interchange at this many
	// claims.
	DefaultMaxClaimsPerFile = 2500
	// DefaultMaxClaimsHeld caps the claims waiting for all payers
	// together; reaching it writes the fullest payer's file. It is raised
	// to MaxClaimsPerFile when that is larger, so one payer's files can
	// reach the size asked for (memory then grows with it).
	DefaultMaxClaimsHeld = 2500
	// LinesPerClaimHeld times MaxClaimsHeld caps the service lines held
	// (unless MaxLinesHeld is set), so that claims of many lines (up to
	// 50) do not hold more memory than typical ones.
	LinesPerClaimHeld = 4
)

// Problem is one reason a claim was rejected or warned about, or (with
// ClaimID empty) a finding outside any claim. It names claims by id and
// position only: no patient data.
type Problem struct {
	ClaimID string `json:"claim_id"`
	// PayerID is the claim's payer id, when the claim was read far
	// enough to have one ("" otherwise, and outside any claim).
	PayerID string `json:"payer_id,omitempty"`
	Where   string `json:"where,omitempty"` // row 7, claims[3] line 2, segment 41
	Rule    string `json:"rule"`
	Message string `json:"message"`
	// Field is the claim or line field concerned (the batch's column or
	// JSON path), when known.
	Field string `json:"field,omitempty"`
	// Claims is, for a finding outside any claim, how many claims it
	// rejected.
	Claims int `json:"claims,omitempty"`
}

// File is one published 837P file.
type File struct {
	Path        string `json:"path"`
	PayerID     string `json:"payer_id"`
	Interchange string `json:"isa13"`
	Sets        int    `json:"sets"`
	Claims      int    `json:"claims"`
	// Info locates each claim in the file (for 999/277CA matching).
	Info assemble.FileInfo `json:"-"`
}

// Failure is a file that could not be written: its claims were not
// written.
type Failure struct {
	PayerID string `json:"payer_id"`
	Claims  int    `json:"claims"`
	Err     string `json:"error"`
}

// PayerPolicy says which scrub policy the claims of a payer got.
type PayerPolicy struct {
	PayerID string `json:"payer_id"`
	Policy  string `json:"policy"` // medicare, commercial, none, custom
	Source  string `json:"source"` // payer ID, filing code MB, default
}

// Events receive what the pipeline finds as it finds it; nil fields are
// skipped.
type Events struct {
	Rejected func(Problem)
	Warning  func(Problem)
	File     func(File)
	Failed   func(Failure)
	Policy   func(PayerPolicy)
	// Claim is called after each claim read (for progress).
	Claim func(read int)
}

// Summary counts a run: Read = Written + Rejected + NotWritten.
type Summary struct {
	Batch      string `json:"batch"`
	Format     string `json:"format"`
	Read       int    `json:"claims_read"`
	Written    int    `json:"claims_written"`
	Rejected   int    `json:"claims_rejected"`
	NotWritten int    `json:"claims_not_written"`
	// Unread counts the claims after a batch syntax error that could
	// not be decoded at all (ingest.Summary.Unread): named in
	// BatchErrors, never silently dropped. They are not in Read.
	Unread int `json:"claims_unread,omitempty"`
	Files  int `json:"files"`
	// Held counts, after RunHold, the claims (of this batch or earlier
	// ones) held for the next run or Flush; Written then counts the
	// claims written during the run, whichever batch they came from.
	Held int `json:"claims_held,omitempty"`
	// BatchErrors are problems with the batch as a whole (a truncated
	// batch, a bad header): claims after it were not read.
	BatchErrors []string `json:"batch_errors,omitempty"`
}

// Config configures a Pipeline.
type Config struct {
	// Scrub configures the scrubber; its Seen is replaced by the
	// pipeline's (Seen below, layered with this run's claims).
	Scrub scrub.Config
	// Assemble configures the 837P files.
	Assemble assemble.Config
	// AutoPayers gives a payer without a receiver in Assemble a
	// test-usage receiver of its own id and name, instead of rejecting
	// its claims (for conversions without a configuration).
	AutoPayers bool
	// BatchSubmitter uses the submitter a batch names (a JSON batch's
	// envelope, an 837P's 1000A) for the files, when no configuration
	// names one.
	BatchSubmitter bool
	// MaxClaimsPerFile and MaxClaimsHeld: see the defaults.
	MaxClaimsPerFile int
	MaxClaimsHeld    int
	MaxLinesHeld     int
	// ShowValues puts patient data back into findings and decoding
	// errors (convert --show-values, for a person at their terminal).
	// The gateway never sets it.
	ShowValues bool

	// Numbers allocates ISA13/GS06; durable (control.File, JetStream).
	Numbers x12.ControlNumbers
	// Seen is the durable duplicate-claim store: keys of claims whose
	// file was published. If it has a Sync() error method, it is called
	// after each file's keys.
	Seen scrub.Seen
	// Output receives the files; Journal makes publishing recoverable.
	Output  Output
	Journal Journal

	Events Events
}

// Pipeline runs batches. It is not safe for concurrent Runs.
type Pipeline struct {
	cfg      Config
	scrubber *scrub.Scrubber
	asm      *assemble.Assembler
	run      *scrub.MemorySeen
	seen     layeredSeen // durable, then this run's

	// durableGen counts the files whose keys went durable; the prepare
	// goroutine reads it before its duplicate lookups. While prefetching,
	// keys made durable stay in run too (moved) until every claim looked
	// up before they went durable has been finished.
	durableGen  atomic.Uint64
	prefetching bool
	moved       []movedKeys

	// per run
	sum       Summary
	keys      map[heldKey]string     // payer and claim id → duplicate key, for held claims
	held      int                    // claims held for all payers
	heldLines int                    // their service lines
	linesBy   map[string]int         // service lines held per payer
	unsettled int                    // journal records begun and not done
	policies  map[[2]string]struct{} // payer id, filing code
}

// New checks cfg, recovers what a crashed run left (journal replay, temp
// files) and returns a Pipeline.
func New(ctx context.Context, cfg Config) (*Pipeline, error) {
	if cfg.Numbers == nil || cfg.Output == nil || cfg.Journal == nil || cfg.Seen == nil {
		return nil, errors.New("pipeline: Numbers, Seen, Output and Journal are required")
	}
	if cfg.MaxClaimsPerFile <= 0 {
		cfg.MaxClaimsPerFile = DefaultMaxClaimsPerFile
	}
	if cfg.MaxClaimsHeld <= 0 {
		cfg.MaxClaimsHeld = DefaultMaxClaimsHeld
	}
	cfg.MaxClaimsHeld = max(cfg.MaxClaimsHeld, cfg.MaxClaimsPerFile)
	if cfg.MaxLinesHeld <= 0 {
		cfg.MaxLinesHeld = LinesPerClaimHeld * cfg.MaxClaimsHeld
	}
	p := &Pipeline{cfg: cfg, run: scrub.NewMemorySeen()}
	if err := p.Recover(ctx); err != nil {
		return nil, err
	}
	sc := cfg.Scrub
	p.seen = layeredSeen{durable: cfg.Seen, run: p.run}
	sc.Seen = p.seen
	var err error
	if p.scrubber, err = scrub.New(sc); err != nil {
		return nil, err
	}
	if p.asm, err = assemble.New(cfg.Assemble, cfg.Numbers); err != nil {
		return nil, err
	}
	return p, nil
}

// Recover replays the journal: a file that was published has its claims'
// keys recorded as sent; a record whose file is absent is dropped. Then
// temporary files are removed.
func (p *Pipeline) Recover(ctx context.Context) error {
	recs, err := p.cfg.Journal.Pending(ctx)
	if err != nil {
		return fmt.Errorf("pipeline: recovery: %w", err)
	}
	for _, r := range recs {
		ok, err := p.cfg.Output.Published(ctx, r.Name, r.Digest)
		if err != nil {
			return fmt.Errorf("pipeline: recovery of %s: %w", r.Name, err)
		}
		if ok {
			if err := p.recordKeys(ctx, r.Keys); err != nil {
				return fmt.Errorf("pipeline: recovery of %s: %w", r.Name, err)
			}
		}
		if err := p.cfg.Journal.Done(ctx, r.ID); err != nil {
			return err
		}
	}
	if err := p.cfg.Output.Clean(ctx); err != nil {
		return fmt.Errorf("pipeline: removing temporary files: %w", err)
	}
	return p.cfg.Journal.Compact(ctx)
}

// Settle replays another worker's journal j (a replica that may have
// died in the middle of a batch now redelivered to this one): a record
// whose file was published has its claims' keys recorded as sent (so
// the batch run next rejects them as duplicates instead of writing them
// again) and is marked done. A record whose file is not published is
// left alone: its worker may be alive and about to publish it, and
// recovers it itself when it restarts.
func (p *Pipeline) Settle(ctx context.Context, j Journal) error {
	recs, err := j.Pending(ctx)
	if err != nil {
		return fmt.Errorf("pipeline: settling another journal: %w", err)
	}
	for _, r := range recs {
		ok, err := p.cfg.Output.Published(ctx, r.Name, r.Digest)
		if err != nil {
			return fmt.Errorf("pipeline: settling %s: %w", r.Name, err)
		}
		if !ok {
			continue
		}
		if err := p.recordKeys(ctx, r.Keys); err != nil {
			return fmt.Errorf("pipeline: settling %s: %w", r.Name, err)
		}
		if err := j.Done(ctx, r.ID); err != nil {
			return err
		}
	}
	return nil
}

func (p *Pipeline) recordKeys(ctx context.Context, keys []string) error {
	// A store that records many keys per write (bus.Seen) takes them
	// all at once.
	if s, ok := p.cfg.Seen.(interface {
		RememberAll(context.Context, []string) error
	}); ok {
		if err := s.RememberAll(ctx, keys); err != nil {
			return err
		}
		keys = nil
	}
	for _, k := range keys {
		if err := p.cfg.Seen.Remember(ctx, k); err != nil && !errors.Is(err, scrub.ErrDuplicate) {
			return err
		}
	}
	if s, ok := p.cfg.Seen.(interface{ Sync() error }); ok {
		return s.Sync()
	}
	return nil
}

// ErrNotABatch is wrapped by Run's error when the input is no batch it
// can read (not JSON, CSV or X12; an X12 file without 837P sets).
var ErrNotABatch = errors.New("not a claims batch")

// Run reads one batch from r (once, front to back: a pipe will do) and
// writes its claims. name names the batch in messages. The error is for
// input that is no batch at all and for failures that stop the run
// (reading the input, the journal); rejected claims and files that could
// not be written are in the Summary and the events. After a Run that
// returned an error other than ErrNotABatch, claims may be left held:
// make a new Pipeline (New) rather than run another batch.
func (p *Pipeline) Run(ctx context.Context, r io.Reader, name string) (Summary, error) {
	return p.runBatch(ctx, r, name, false)
}

// RunHold is Run, except that the claims not written when the batch ends
// (files are still cut at MaxClaimsPerFile and MaxClaimsHeld) stay held,
// to share files with the next batches' claims; Flush writes them. Held
// claims are only in memory: the caller must be able to run their
// batches again (the gateway acknowledges a batch only after a Flush).
// With BatchSubmitter set nothing is held across batches (each batch may
// name its own submitter): RunHold is Run.
func (p *Pipeline) RunHold(ctx context.Context, r io.Reader, name string) (Summary, error) {
	return p.runBatch(ctx, r, name, !p.cfg.BatchSubmitter)
}

// Held returns how many claims are held, not yet written.
func (p *Pipeline) Held() int { return p.held }

// Flush writes every held claim (after RunHold). Its Summary counts the
// claims written and not written, and the files.
func (p *Pipeline) Flush(ctx context.Context) (Summary, error) {
	p.sum = Summary{Batch: "held claims"}
	defer p.cfg.Output.Clean(ctx)
	err := p.flushAll(ctx)
	if p.unsettled == 0 {
		if cerr := p.cfg.Journal.Compact(ctx); cerr != nil && err == nil {
			err = fmt.Errorf("pipeline: journal: %w", cerr)
		}
	}
	return p.sum, err
}

func (p *Pipeline) runBatch(ctx context.Context, r io.Reader, name string, hold bool) (Summary, error) {
	p.sum = Summary{Batch: name}
	if p.held == 0 || !hold {
		p.keys = map[heldKey]string{}
		p.held, p.heldLines = 0, 0
		p.linesBy = map[string]int{}
	}
	p.policies = map[[2]string]struct{}{}
	p.unsettled = 0
	// Whatever happens, no temporary file is left behind.
	defer p.cfg.Output.Clean(ctx)

	// A buffer large enough to peek at a JSON batch's envelope.
	format, br, err := ingest.Detect(bufio.NewReaderSize(r, headerPeek))
	if err != nil {
		return p.sum, fmt.Errorf("%s: %w", name, err)
	}
	p.sum.Format = format.String()
	if format == ingest.FormatJSON && p.cfg.BatchSubmitter {
		if b, ok := br.(*bufio.Reader); ok {
			if sub, ok := peekSubmitter(b); ok {
				p.asm.SetSubmitter(sub)
			}
		}
	}
	var runErr error
	switch format {
	case ingest.FormatJSON, ingest.FormatCSV:
		runErr = p.runClaims(ctx, format, br, name)
	case ingest.FormatX12:
		runErr = p.run837(ctx, br, name)
	default:
		return p.sum, fmt.Errorf("%s: %w: not JSON, CSV or X12", name, ErrNotABatch)
	}
	if runErr != nil && errors.Is(runErr, ErrNotABatch) {
		return p.sum, runErr
	}
	if ctx.Err() != nil {
		// Stopped: what was published stands; what is held is not
		// written (the deferred Clean removes nothing published).
		p.sum.NotWritten += p.held
		return p.sum, fmt.Errorf("%s: stopped: %w", name, ctx.Err())
	}
	if hold {
		p.sum.Held = p.held
	} else if ferr := p.flushAll(ctx); runErr == nil {
		runErr = ferr
	}
	// Every record settled: the journal need not keep them (it would grow
	// by the keys of every claim written).
	if p.unsettled == 0 {
		if err := p.cfg.Journal.Compact(ctx); err != nil && runErr == nil {
			runErr = fmt.Errorf("pipeline: journal: %w", err)
		}
	}
	return p.sum, runErr
}

// decoded is one claim or one decoding problem, in batch order.
type decoded struct {
	res    ingest.Result
	rowErr *ingest.RowError
	// Work done ahead on the prepare goroutine: the scrub edits short of
	// the duplicate check, and (unless those reject it) the claim mapped
	// and trial-encoded.
	pre      scrub.Prechecked
	prep     assemble.Prepared
	prepared bool
	// The durable store's answer for pre.Key, looked up ahead (looked)
	// when durableGen was gen; lookErr leaves the check to Finish.
	looked  bool
	durSeen bool
	lookErr error
	gen     uint64
}

// movedKeys are the run keys of a file whose keys went durable at gen.
type movedKeys struct {
	gen  uint64
	keys []string
}

// lookupWorkers bounds the duplicate lookups in flight for one chunk:
// one KV get each, so they wait on the store, not on the cores.
const lookupWorkers = 16

// decodeChunk is how many decoded claims travel together from the decoder
// to the rest of the pipeline; chunks in flight are capped by decodeAhead
// on each of the two hand-overs, so at most decodeChunk*(2*decodeAhead+3)
// claims wait (what is held counts against the 64 MiB: about 5 KiB a
// claim). While the consumer publishes a file (fsyncs, milliseconds of
// waiting) the decoder and the preparer go on filling them: with 2 they
// stalled after some 450 claims; 8 made the whole command ~4% faster
// (15 alternating pairs, 100,000 claims) at the same peak RSS.
const (
	decodeChunk = 64
	decodeAhead = 8
)

var errStopped = errors.New("pipeline: stopped")

// runClaims decodes a JSON or CSV batch in one goroutine, does the
// per-claim work that depends on nothing before the claim (scrub edits but
// the duplicate check, mapping to the 837P model, trial encoding) in a
// second, and checks duplicates, assembles and writes in this one, so the
// stages share the cores. Claims and decoding problems keep their batch
// order through both hand-overs; every event is raised here.
func (p *Pipeline) runClaims(ctx context.Context, format ingest.Format, r io.Reader, name string) error {
	raw := make(chan []decoded, decodeAhead)
	chunks := make(chan []decoded, decodeAhead)
	// free recycles chunks from the consumer to the decoder.
	free := make(chan []decoded, 2*decodeAhead+3)
	stop := make(chan struct{})
	var (
		sum    ingest.Summary
		decErr error
	)
	go func() {
		defer close(chunks)
		prep := p.asm.NewPreparer()
		for chunk := range raw {
			for i := range chunk {
				if d := &chunk[i]; d.rowErr == nil {
					d.pre = p.scrubber.Precheck(d.res.Claim)
				}
			}
			// The durable duplicate lookups wait on the store: make
			// them at once, while this goroutine maps the claims.
			looked := p.lookAhead(ctx, chunk)
			for i := range chunk {
				d := &chunk[i]
				if d.rowErr != nil {
					continue
				}
				if !d.pre.Rejected() {
					d.prep = prep.Prepare(d.res.Claim)
					d.prepared = true
				}
			}
			looked()
			// Stopped: drop the chunk, so the decoder can finish.
			select {
			case chunks <- chunk:
			case <-stop:
			}
		}
	}()
	go func() {
		defer close(raw)
		buf := make([]decoded, 0, decodeChunk)
		stopped := false
		send := func() {
			if stopped {
				buf = buf[:0]
				return
			}
			select {
			case raw <- buf:
				select {
				case buf = <-free: // a chunk the consumer is done with
				default:
					buf = make([]decoded, 0, decodeChunk)
				}
			case <-stop:
				stopped = true
				buf = buf[:0]
			}
		}
		dec := ingest.Decoder{MaxErrors: 1, ShowValues: p.cfg.ShowValues, OnError: func(e *ingest.RowError) {
			buf = append(buf, decoded{rowErr: e})
			if len(buf) == decodeChunk {
				send()
			}
		}}
		emit := func(res ingest.Result) error {
			buf = append(buf, decoded{res: res})
			if len(buf) == decodeChunk {
				send()
			}
			if stopped {
				return errStopped
			}
			return nil
		}
		if format == ingest.FormatJSON {
			sum, decErr = dec.DecodeJSON(r, name, emit)
		} else {
			sum, decErr = dec.DecodeCSV(r, name, emit)
		}
		if len(buf) > 0 {
			send()
		}
	}()
	var fatal error
	p.prefetching = true
	defer func() {
		p.prefetching = false
		p.pruneMoved(math.MaxUint64)
	}()
	for chunk := range chunks {
		if fatal != nil {
			continue // drain, so the decoder can finish
		}
		for i := range chunk {
			d := &chunk[i]
			if d.rowErr != nil {
				p.rowError(d.rowErr)
				continue
			}
			if err := p.addClaim(ctx, d.res, d); err != nil {
				fatal = err
				close(stop)
				break
			}
		}
		clear(chunk) // hold no claim
		select {
		case free <- chunk[:0]:
		default:
		}
	}
	// chunks is closed: the preparer is done, after the decoder, so sum
	// is set.
	// Claims refused while decoding were read and rejected.
	p.sum.Read += sum.Rejected
	p.sum.Rejected += sum.Rejected
	p.sum.Unread += sum.Unread
	if fatal != nil {
		return fatal
	}
	if decErr != nil {
		p.sum.BatchErrors = append(p.sum.BatchErrors, decErr.Error())
	}
	return nil
}

func (p *Pipeline) rowError(e *ingest.RowError) {
	where := "row " + strconv.Itoa(e.Row)
	if e.Row == 0 {
		where = "claims[" + strconv.Itoa(e.Index) + "]"
	}
	field := e.Field
	if field == "" {
		field = "claim"
	}
	p.reject(Problem{ClaimID: e.ClaimID, PayerID: e.PayerID, Where: where, Rule: "batch." + field, Message: e.Reason, Field: e.Field})
}

func (p *Pipeline) reject(pr Problem) {
	// A claim id is input: escape control bytes before anyone prints it.
	pr.ClaimID = x12.Printable(pr.ClaimID)
	pr.PayerID = x12.Printable(pr.PayerID)
	if p.cfg.Events.Rejected != nil {
		p.cfg.Events.Rejected(pr)
	}
}

func (p *Pipeline) warn(pr Problem) {
	pr.ClaimID = x12.Printable(pr.ClaimID)
	pr.PayerID = x12.Printable(pr.PayerID)
	if p.cfg.Events.Warning != nil {
		p.cfg.Events.Warning(pr)
	}
}

// where names the row (CSV) or array index (JSON) of a claim, or of its
// service line line (1-based; 0 for the claim).
func where(src ingest.Source, line int) string {
	if len(src.Rows) > 0 {
		if line > 0 && line <= len(src.Rows) {
			return "row " + strconv.Itoa(src.Rows[line-1])
		}
		return "row " + strconv.Itoa(src.Rows[0])
	}
	w := "claims[" + strconv.Itoa(src.Index) + "]"
	if line > 0 {
		w += " line " + strconv.Itoa(line)
	}
	return w
}

func (p *Pipeline) notePolicy(c *claim.Claim) {
	k := [2]string{c.Payer.ID, c.Subscriber.FilingCode}
	if _, ok := p.policies[k]; ok || len(p.policies) > 10000 {
		return
	}
	p.policies[k] = struct{}{}
	if p.cfg.Events.Policy != nil {
		p.cfg.Events.Policy(PayerPolicy{PayerID: c.Payer.ID, Policy: PolicyName(p.scrubber.PolicyFor(c)), Source: p.scrubber.PolicySource(c)})
	}
}

// PolicyName names a policy by the preset it equals: medicare,
// commercial, none, or custom.
func PolicyName(pol scrub.Policy) string {
	switch {
	case reflect.DeepEqual(pol, scrub.MedicarePolicy()):
		return "medicare"
	case reflect.DeepEqual(pol, scrub.CommercialPolicy()):
		return "commercial"
	case reflect.DeepEqual(pol, scrub.Policy{}):
		return "none"
	}
	return "custom"
}

// addClaim scrubs, assembles and holds one claim; ahead, when not nil,
// carries the work done for it on the prepare goroutine.
func (p *Pipeline) addClaim(ctx context.Context, res ingest.Result, ahead *decoded) error {
	if err := ctx.Err(); err != nil {
		return err // stop between claims; Run counts what is held
	}
	c := res.Claim
	p.sum.Read++
	if p.cfg.Events.Claim != nil {
		p.cfg.Events.Claim(p.sum.Read)
	}
	p.notePolicy(c)
	rejected := false
	var edits []scrub.Edit
	if ahead != nil {
		if ahead.looked {
			p.pruneMoved(ahead.gen)
			if ahead.pre.HasKey && ahead.lookErr == nil {
				// Durable before the lookup, or accepted in this run
				// (moved keys are still in run).
				seen := ahead.durSeen
				if !seen {
					seen, _ = p.run.SeenBefore(ctx, ahead.pre.Key)
				}
				ahead.pre.Checked, ahead.pre.Seen = true, seen
			}
		}
		edits = p.scrubber.FinishScrub(c, ahead.pre)
	} else {
		edits = p.scrubber.Scrub(c)
	}
	for _, e := range edits {
		pr := Problem{ClaimID: c.ID, PayerID: c.Payer.ID, Where: where(res.Source, e.Line), Rule: e.ID, Message: e.Message, Field: e.Field}
		if e.Severity == scrub.Reject {
			rejected = true
			p.reject(pr)
		} else {
			p.warn(pr)
		}
	}
	if rejected {
		p.sum.Rejected++
		return nil
	}
	if err := p.ensureReceiver(c.Payer.ID, c.Payer.Name); err != nil {
		p.sum.Rejected++
		p.reject(Problem{ClaimID: c.ID, PayerID: c.Payer.ID, Where: where(res.Source, 0), Rule: "assemble", Message: err.Error()})
		return nil
	}
	var err error
	if ahead != nil && ahead.prepared {
		err = p.asm.AddPrepared(&ahead.prep)
	} else {
		err = p.asm.Add(c)
	}
	if err != nil {
		p.sum.Rejected++
		p.reject(Problem{ClaimID: c.ID, PayerID: c.Payer.ID, Where: where(res.Source, 0), Rule: "assemble", Message: err.Error()})
		return nil
	}
	key, ok := "", false
	if ahead != nil && ahead.pre.HasKey {
		key, ok = ahead.pre.Key, true
	} else {
		key, ok = p.scrubber.DuplicateKey(c)
	}
	if ok {
		p.run.Remember(ctx, key)
		p.keys[heldKey{c.Payer.ID, c.ID}] = key
	}
	return p.held1(ctx, c.Payer.ID, len(c.Lines))
}

func (p *Pipeline) ensureReceiver(payerID, payerName string) error {
	if !p.cfg.AutoPayers || p.asm.HasReceiver(payerID) || payerID == "" {
		return nil
	}
	if payerName == "" {
		payerName = payerID
	}
	return p.asm.AddReceiver(payerID, assemble.Receiver{Name: payerName, ID: payerID})
}

// held1 counts one more claim (of lines service lines) held for payerID
// and writes files when a limit is reached.
func (p *Pipeline) held1(ctx context.Context, payerID string, lines int) error {
	p.held++
	p.heldLines += lines
	p.linesBy[payerID] += lines
	if p.asm.PendingFor(payerID) >= p.cfg.MaxClaimsPerFile {
		if err := p.flush(ctx, payerID); err != nil {
			return err
		}
	}
	for p.held >= p.cfg.MaxClaimsHeld || p.heldLines >= p.cfg.MaxLinesHeld {
		id, n := p.asm.Fullest()
		if n == 0 {
			p.held, p.heldLines = 0, 0
			break
		}
		if err := p.flush(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// flushAll writes every payer's held claims; a payer whose file fails
// does not keep the others from being written.
func (p *Pipeline) flushAll(ctx context.Context) error {
	var first error
	for _, id := range p.asm.PendingPayers() {
		if err := p.flush(ctx, id); err != nil && first == nil {
			first = err
		}
	}
	p.held, p.heldLines = 0, 0
	return first
}

// flush writes and publishes the file of one payer's held claims. A file
// that cannot be written counts its claims as not written; only a journal
// or duplicate-store failure (which would risk doubles) stops the run.
func (p *Pipeline) flush(ctx context.Context, payerID string) error {
	var tf TempFile
	open := func(string) (io.WriteCloser, error) {
		t, err := p.cfg.Output.Create(ctx)
		if err != nil {
			return nil, err
		}
		tf = t
		return t, nil // the assembler calls its Abort when writing fails
	}
	fi, ok, err := p.asm.FlushPayer(ctx, payerID, open)
	if !ok && err == nil {
		return nil
	}
	p.heldLines -= p.linesBy[payerID]
	delete(p.linesBy, payerID)
	if err != nil {
		var fe *assemble.FlushError
		n := 0
		if errors.As(err, &fe) {
			n = len(fe.ClaimIDs)
			p.forget(ctx, payerID, fe.ClaimIDs)
		}
		p.held -= n
		p.fail(payerID, n, err)
		if tf != nil {
			tf.Abort()
		}
		return nil
	}
	p.held -= fi.Claims
	return p.publish(ctx, fi, tf)
}

func (p *Pipeline) fail(payerID string, n int, err error) {
	p.sum.NotWritten += n
	if p.cfg.Events.Failed != nil {
		p.cfg.Events.Failed(Failure{PayerID: payerID, Claims: n, Err: err.Error()})
	}
}

// heldKey names a held claim: a struct rather than a joined string, so
// the two to three look-ups per claim build nothing.
type heldKey struct{ payer, id string }

// forget drops the run keys of claims that were not written, so a later
// claim equal to one of them is not taken for a duplicate.
func (p *Pipeline) forget(ctx context.Context, payerID string, ids []string) {
	for _, id := range ids {
		k := heldKey{payerID, id}
		if key, ok := p.keys[k]; ok {
			p.run.Forget(ctx, key)
			delete(p.keys, k)
		}
	}
}

func (p *Pipeline) publish(ctx context.Context, fi assemble.FileInfo, tf TempFile) error {
	ids := make([]string, 0, fi.Claims)
	for _, s := range fi.Sets {
		ids = append(ids, s.ClaimIDs...)
	}
	if d, ok := tf.(Describer); ok {
		d.Describe(fi)
	}
	rec := Record{ID: randomID(), Temp: tf.Name(), Digest: tf.Digest(), Claims: fi.Claims}
	for _, id := range ids {
		if key, ok := p.keys[heldKey{fi.PayerID, id}]; ok {
			rec.Keys = append(rec.Keys, key)
		}
	}
	var path string
	var pubErr error
	p.unsettled++
	for attempt := 0; ; attempt++ {
		rec.Name = FileName(fi.PayerID, fi.Sender, fi.Receiver, fi.Interchange, attempt)
		if err := p.cfg.Journal.Begin(ctx, rec); err != nil {
			tf.Abort()
			p.forget(ctx, fi.PayerID, ids)
			p.fail(fi.PayerID, fi.Claims, err)
			return fmt.Errorf("pipeline: journal: %w", err)
		}
		crash("journaled")
		var err error
		path, err = tf.Publish(ctx, rec.Name)
		if err == nil {
			break
		}
		if errors.Is(err, os.ErrExist) && attempt < 100 {
			continue
		}
		if path == "" {
			// Not published: the record is void.
			tf.Abort()
			if p.cfg.Journal.Done(ctx, rec.ID) == nil {
				p.unsettled--
			}
			p.forget(ctx, fi.PayerID, ids)
			p.fail(fi.PayerID, fi.Claims, err)
			return nil
		}
		// Linked but not made durable: the file is out there; the journal
		// keeps the record for the next run to settle.
		pubErr = fmt.Errorf("pipeline: publishing %s: %w", path, err)
		break
	}
	// The file is in place: it is written, whatever happens next.
	p.sum.Written += fi.Claims
	p.sum.Files++
	if p.cfg.Events.File != nil {
		p.cfg.Events.File(File{Path: path, PayerID: fi.PayerID, Interchange: fmt.Sprintf("%09d", fi.Interchange), Sets: len(fi.Sets), Claims: fi.Claims, Info: fi})
	}
	if pubErr != nil {
		return pubErr
	}
	if err := p.recordKeys(ctx, rec.Keys); err != nil {
		return fmt.Errorf("pipeline: recording the claims of %s as sent (the next run will): %w", path, err)
	}
	crash("keys-recorded")
	if err := p.cfg.Journal.Done(ctx, rec.ID); err != nil {
		return fmt.Errorf("pipeline: journal: %w", err)
	}
	p.unsettled--
	crash("done")
	gen := p.durableGen.Add(1)
	var moved []string
	for _, id := range ids {
		k := heldKey{fi.PayerID, id}
		if key, ok := p.keys[k]; ok {
			// The durable store answers for it now: keep memory flat
			// (once no claim looked up before now is in flight).
			if p.prefetching {
				moved = append(moved, key)
			} else {
				p.run.Forget(ctx, key)
			}
			delete(p.keys, k)
		}
	}
	if len(moved) > 0 {
		p.moved = append(p.moved, movedKeys{gen: gen, keys: moved})
	}
	return nil
}

// pruneMoved forgets the run keys made durable at or before gen: every
// claim still to be finished was looked up after that and so saw them.
func (p *Pipeline) pruneMoved(gen uint64) {
	n := 0
	for n < len(p.moved) && p.moved[n].gen <= gen {
		for _, k := range p.moved[n].keys {
			p.run.Forget(context.Background(), k)
		}
		p.moved[n] = movedKeys{}
		n++
	}
	if n > 0 {
		p.moved = p.moved[n:]
	}
}

// lookAhead starts the durable duplicate lookups of chunk's prechecked
// claims, up to lookupWorkers at a time, and returns a wait for them. The
// answers are only as new as durableGen when they started; addClaim adds
// the keys made durable since (kept in run until then).
func (p *Pipeline) lookAhead(ctx context.Context, chunk []decoded) (wait func()) {
	gen := p.durableGen.Load()
	var todo []int
	for i := range chunk {
		d := &chunk[i]
		if d.rowErr != nil {
			continue
		}
		d.looked, d.gen, d.durSeen, d.lookErr = true, gen, false, nil
		if d.pre.HasKey {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return func() {}
	}
	var (
		wg   sync.WaitGroup
		next atomic.Int64
	)
	for range min(lookupWorkers, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j := int(next.Add(1)) - 1
				if j >= len(todo) {
					return
				}
				d := &chunk[todo[j]]
				d.durSeen, d.lookErr = p.cfg.Seen.SeenBefore(ctx, d.pre.Key)
			}
		}()
	}
	return wg.Wait
}

// layeredSeen answers for claims written by earlier runs (durable) and
// claims accepted earlier in this run (run); only the pipeline makes a
// key durable, once its claim's file is published.
type layeredSeen struct{ durable, run scrub.Seen }

func (l layeredSeen) SeenBefore(ctx context.Context, key string) (bool, error) {
	if ok, err := l.durable.SeenBefore(ctx, key); ok || err != nil {
		return ok, err
	}
	return l.run.SeenBefore(ctx, key)
}

func (l layeredSeen) Remember(ctx context.Context, key string) error {
	return l.run.Remember(ctx, key)
}

func (l layeredSeen) Forget(ctx context.Context, key string) error {
	l.run.Forget(ctx, key)
	return l.durable.Forget(ctx, key)
}
