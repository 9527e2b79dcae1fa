// Package assemble turns claimgate claims into 837P files: one file (one
// interchange) per payer, claims grouped under shared billing provider,
// subscriber and patient loops, at most MaxClaimsPerSet claims per
// transaction set, control numbers from the gateway's allocator. It
// encodes every claim into a scratch buffer when it is added, so a claim
// the writer would refuse is rejected alone and never spoils a file.
//
// See docs/837p-output.md.
package assemble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x837p"
	"github.com/claimgate/claimgate/pkg/claim"
)

// DefaultMaxClaimsPerSet is the claims per transaction set unless
// configured: the TR3 recommends at most 5,000.
const DefaultMaxClaimsPerSet = 5000

// Submitter is who sends the files: loop 1000A and the ISA/GS sender.
type Submitter struct {
	Name    string        // 1000A NM103 (an organisation)
	ID      string        // 1000A NM109, the submitter's ETIN at the receiver
	Contact x837p.Contact // 1000A PER
	// ISAQualifier and ISAID are ISA05/ISA06 (defaults ZZ and ID).
	ISAQualifier string
	ISAID        string
	// GSID is GS02 (default ISAID).
	GSID string
}

// Receiver is the trading partner files for one payer go to: loop 1000B
// and the ISA/GS receiver.
type Receiver struct {
	Name string // 1000B NM103
	ID   string // 1000B NM109
	// ISAQualifier and ISAID are ISA07/ISA08 (defaults ZZ and ID).
	ISAQualifier string
	ISAID        string
	// GSID is GS03 (default ISAID).
	GSID string
	// FilingCode is SBR09 for claims that carry none (e.g. MB for a
	// Medicare contractor, CI for a commercial payer).
	FilingCode string
}

// Config configures an Assembler.
type Config struct {
	Submitter Submitter
	// Receivers maps a payer id (claim.Payer.ID) to its trading partner.
	// Several payers may share one receiver; each still gets its own file.
	Receivers map[string]Receiver
	// Usage is ISA15: 'P' production or 'T' test. Required: a test file
	// sent as production (or the reverse) fails silently at the payer.
	Usage byte
	// MaxClaimsPerSet caps the claims per ST..SE; 0 means
	// DefaultMaxClaimsPerSet.
	MaxClaimsPerSet int
	// Delimiters of the files; the zero value means * : ^ ~.
	Delimiters x12.Delimiters
	// Newline writes a line feed after each segment.
	Newline bool
	// AckRequested sets ISA14 (TA1 requested).
	AckRequested bool
	// Now is the clock for ISA09/10, GS04/05 and BHT04/05; nil means
	// time.Now.
	Now func() time.Time
}

// FileInfo describes one written file: where each claim went, so that
// 999 and 277CA acknowledgments can be matched to claims.
type FileInfo struct {
	PayerID string
	// Sender and Receiver are ISA06 and ISA08.
	Sender      string
	Receiver    string
	Interchange int64 // ISA13
	Group       int64 // GS06
	Sets        []SetInfo
	Claims      int
}

// SetInfo lists the claims of one transaction set, in file order.
type SetInfo struct {
	Control   string   // ST02
	Reference string   // BHT03
	ClaimIDs  []string // CLM01
	// Charges are the claims' totals (CLM02), in ClaimIDs' order (nil
	// in a FileInfo read back from a file).
	Charges []claim.Money `json:",omitempty"`
}

// ClaimRef locates one claim in the files.
type ClaimRef struct {
	ClaimID     string
	PayerID     string
	Receiver    string // ISA08
	Interchange int64  // ISA13
	Group       int64  // GS06
	Set         string // ST02
}

// Refs lists where each claim of the file is.
func (f *FileInfo) Refs() []ClaimRef {
	var out []ClaimRef
	for _, s := range f.Sets {
		for _, id := range s.ClaimIDs {
			out = append(out, ClaimRef{ClaimID: id, PayerID: f.PayerID, Receiver: f.Receiver, Interchange: f.Interchange, Group: f.Group, Set: s.Control})
		}
	}
	return out
}

// Aborter is implemented by writers that can discard what was written.
// When writing a file fails, Flush calls Abort instead of Close, so a
// half-written file is not committed.
type Aborter interface {
	Abort() error
}

// Assembler collects claims per payer and writes them as 837P files. It
// is safe for concurrent use.
type Assembler struct {
	cfg  Config
	nums x12.ControlNumbers

	mu      sync.Mutex
	scratch *x837p.Scratch
	pending map[string]*batch
}

// batch is the claims waiting for one payer.
type batch struct {
	payerID string
	items   []x837p.Item
	ids     map[string]struct{}
}

// New returns an Assembler. numbers allocates ISA13 and GS06; it must be
// durable in the gateway (ISA13 must be unique per sender/receiver pair).
func New(cfg Config, numbers x12.ControlNumbers) (*Assembler, error) {
	if numbers == nil {
		return nil, errors.New("assemble: no control number allocator")
	}
	if cfg.Usage != 'P' && cfg.Usage != 'T' {
		return nil, fmt.Errorf("assemble: usage indicator %q must be P or T", cfg.Usage)
	}
	if cfg.MaxClaimsPerSet <= 0 {
		cfg.MaxClaimsPerSet = DefaultMaxClaimsPerSet
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Submitter.ISAID == "" {
		cfg.Submitter.ISAID = cfg.Submitter.ID
	}
	if cfg.Submitter.GSID == "" {
		cfg.Submitter.GSID = cfg.Submitter.ISAID
	}
	recv := make(map[string]Receiver, len(cfg.Receivers))
	for id, r := range cfg.Receivers {
		if r.ISAID == "" {
			r.ISAID = r.ID
		}
		if r.GSID == "" {
			r.GSID = r.ISAID
		}
		recv[id] = r
	}
	cfg.Receivers = recv
	a := &Assembler{cfg: cfg, nums: numbers, scratch: x837p.NewScratch(cfg.Delimiters), pending: map[string]*batch{}}
	// Write a file for each receiver into a scratch buffer now, so that a
	// bad configuration fails here and not at the first Flush.
	for id := range cfg.Receivers {
		if err := a.tryConfig(id); err != nil {
			return nil, fmt.Errorf("assemble: configuration for payer %q: %w", id, err)
		}
	}
	return a, nil
}

func (a *Assembler) tryConfig(payerID string) error {
	it := x837p.Item{
		Billing:    &x837p.BillingProvider{},
		Subscriber: &x837p.Subscriber{},
		Claim:      &x837p.Claim{ID: "CHECK", Lines: []x837p.Line{{}}},
	}
	w := x12.NewWriter(io.Discard, x12.WriterOptions{Delimiters: a.cfg.Delimiters})
	ic, g := a.envelope(payerID)
	ic.Control, g.Control = 1, 1 // don't spend real control numbers
	h := a.header(payerID, 1, 1, a.cfg.Now())
	_, _, err := x837p.WriteFile(context.Background(), w, ic, g, []x837p.Transaction{{Header: h, Items: []x837p.Item{it}}})
	return err
}

func (a *Assembler) envelope(payerID string) (x12.InterchangeHeader, x12.GroupHeader) {
	a.mu.Lock()
	s, r := a.cfg.Submitter, a.cfg.Receivers[payerID]
	a.mu.Unlock()
	now := a.cfg.Now()
	ic := x12.InterchangeHeader{
		SenderQual: s.ISAQualifier, Sender: s.ISAID,
		ReceiverQual: r.ISAQualifier, Receiver: r.ISAID,
		Time: now, AckRequested: a.cfg.AckRequested, Usage: a.cfg.Usage,
	}
	g := x12.GroupHeader{FunctionalID: "HC", Sender: s.GSID, Receiver: r.GSID, Time: now}
	return ic, g
}

// header builds the set header; BHT03 is ISA13 and ST02 together, unique
// per submitter as long as ISA13 is.
func (a *Assembler) header(payerID string, isa int64, set int, now time.Time) x837p.Header {
	a.mu.Lock()
	s, r := a.cfg.Submitter, a.cfg.Receivers[payerID]
	a.mu.Unlock()
	ctl := stControl(set)
	h := x837p.Header{
		Control:   ctl,
		Reference: fmt.Sprintf("%09d%s", isa, ctl),
		Submitter: x837p.Submitter{Name: x837p.Name{Entity: "2", Last: s.Name}, ID: s.ID, Contact: s.Contact},
		Receiver:  x837p.Receiver{Name: r.Name, ID: r.ID},
	}
	h.SetTime(now)
	return h
}

// stControl is ST02 for the n-th set of a file: 0001, 0002, ...
func stControl(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

// Add maps c and queues it for its payer's next file. It returns a
// *RejectError, and queues nothing, when the claim cannot be written: no
// receiver for its payer, a duplicate CLM01, a delimiter or control
// character in its data, or a shape the 837P cannot express.
func (a *Assembler) Add(c *claim.Claim) error {
	if !a.HasReceiver(c.Payer.ID) {
		return &RejectError{ClaimID: c.ID, PayerID: c.Payer.ID, Err: ErrUnknownPayer}
	}
	it, err := ToItem(c)
	if err != nil {
		return &RejectError{ClaimID: c.ID, PayerID: c.Payer.ID, Err: err}
	}
	return a.add(c.Payer.ID, it)
}

// AddItem queues a claim already in the 837P model, e.g. one read from a
// practice-management system's 837P with x837p.Reader, for re-enveloping
// to its payer: the payer is the item's 2010BB payer id
// (Subscriber.Payer.ID). It rejects as Add does. The item is not
// modified; its context may be shared with other items.
func (a *Assembler) AddItem(it x837p.Item) error {
	if it.Claim == nil || it.Subscriber == nil || it.Billing == nil {
		return &RejectError{Err: errors.New("item without claim, subscriber or billing provider")}
	}
	payerID := it.Subscriber.Payer.ID
	if !a.HasReceiver(payerID) {
		return &RejectError{ClaimID: it.Claim.ID, PayerID: payerID, Err: ErrUnknownPayer}
	}
	return a.add(payerID, it)
}

func (a *Assembler) add(payerID string, it x837p.Item) error {
	return a.addTried(payerID, it, nil, false)
}

// addTried queues it; trial, when not nil, is its encoding tried ahead
// (Preparer) and stands in for encoding it here. owned says that it.Claim
// is the assembler's own (mapped by a Preparer), so it may be compacted.
func (a *Assembler) addTried(payerID string, it x837p.Item, trial *x837p.Trial, owned bool) error {
	reject := func(err error) error { return &RejectError{ClaimID: it.Claim.ID, PayerID: payerID, Err: err} }
	a.mu.Lock()
	r := a.cfg.Receivers[payerID]
	a.mu.Unlock()
	if it.Subscriber.FilingCode == "" && r.FilingCode != "" {
		s := *it.Subscriber // a copy: the subscriber may be shared
		s.FilingCode = r.FilingCode
		it.Subscriber = &s
		trial = nil // what was tried is not what is written
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.pending[payerID]
	if b != nil {
		if _, dup := b.ids[it.Claim.ID]; dup {
			return reject(ErrDuplicate)
		}
	}
	var err error
	if trial != nil {
		err = a.scratch.Apply(*trial)
	} else {
		err = a.scratch.Encode(&it)
	}
	if err != nil {
		return reject(err)
	}
	if b == nil {
		b = &batch{payerID: payerID, ids: map[string]struct{}{}}
		a.pending[payerID] = b
	}
	if owned {
		// A prepared claim waits for its file as its kept encoding: the
		// file copies that, and the lines and texts are most of what a
		// held claim costs (docs/pipeline.md, Memory).
		it.Claim.Compact()
	}
	b.items = append(b.items, it)
	b.ids[it.Claim.ID] = struct{}{}
	return nil
}

// Prepared is a claim mapped and trial-encoded by a Preparer, for
// AddPrepared.
type Prepared struct {
	claimID, payerID string
	it               x837p.Item
	err              error // from ToItem
	trial            x837p.Trial
}

// Preparer does the per-claim work of Add (mapping, encoding into a
// scratch buffer) ahead of it, on a goroutine of its own: a Preparer is
// not safe for concurrent use, but each goroutine may have one.
type Preparer struct {
	scratch *x837p.Scratch
	bill    *x837p.BillingProvider // the last claim's, shared by equal ones
}

// NewPreparer returns a Preparer for a's claims.
func (a *Assembler) NewPreparer() *Preparer {
	return &Preparer{scratch: x837p.NewScratchFor(x12.WriterOptions{Delimiters: a.cfg.Delimiters, Newline: a.cfg.Newline})}
}

// Prepare maps c and encodes it alone. It does not touch the Assembler.
func (p *Preparer) Prepare(c *claim.Claim) Prepared {
	pr := Prepared{claimID: c.ID, payerID: c.Payer.ID}
	pr.it, pr.err = toItem(c, p.bill)
	if pr.err == nil {
		p.bill = pr.it.Billing
		// The claim's encoding is kept: the file copies it.
		pr.trial = p.scratch.TryKeep(&pr.it)
	}
	return pr
}

// AddPrepared is Add for a claim prepared by a Preparer: it queues the
// claim, or rejects it with the error Add would have returned, had the
// claims been added with Add in the order they are given here.
func (a *Assembler) AddPrepared(pr *Prepared) error {
	if !a.HasReceiver(pr.payerID) {
		return &RejectError{ClaimID: pr.claimID, PayerID: pr.payerID, Err: ErrUnknownPayer}
	}
	if pr.err != nil {
		return &RejectError{ClaimID: pr.claimID, PayerID: pr.payerID, Err: pr.err}
	}
	return a.addTried(pr.payerID, pr.it, &pr.trial, true)
}

// AddReceiver adds the trading partner of a payer not in Config.Receivers,
// for conversions that learn their payers from the claims. It fails when
// the payer already has one or when a file for it could not be written.
func (a *Assembler) AddReceiver(payerID string, r Receiver) error {
	if r.ISAID == "" {
		r.ISAID = r.ID
	}
	if r.GSID == "" {
		r.GSID = r.ISAID
	}
	a.mu.Lock()
	if _, ok := a.cfg.Receivers[payerID]; ok {
		a.mu.Unlock()
		return fmt.Errorf("assemble: payer %q already has a receiver", payerID)
	}
	// Receivers is read without the lock by Add: copy on write.
	recv := make(map[string]Receiver, len(a.cfg.Receivers)+1)
	for id, v := range a.cfg.Receivers {
		recv[id] = v
	}
	recv[payerID] = r
	old := a.cfg.Receivers
	a.cfg.Receivers = recv
	a.mu.Unlock()
	if err := a.tryConfig(payerID); err != nil {
		a.mu.Lock()
		a.cfg.Receivers = old
		a.mu.Unlock()
		return fmt.Errorf("assemble: receiver for payer %q: %w", payerID, err)
	}
	return nil
}

// HasReceiver reports whether payerID has a trading partner.
func (a *Assembler) HasReceiver(payerID string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.cfg.Receivers[payerID]
	return ok
}

// SetSubmitter replaces the submitter of files not yet written (e.g.
// with the one named in a batch's header).
func (a *Assembler) SetSubmitter(s Submitter) {
	if s.ISAID == "" {
		s.ISAID = s.ID
	}
	if s.GSID == "" {
		s.GSID = s.ISAID
	}
	a.mu.Lock()
	a.cfg.Submitter = s
	a.mu.Unlock()
}

// PendingFor is the number of claims waiting for payerID.
func (a *Assembler) PendingFor(payerID string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if b := a.pending[payerID]; b != nil {
		return len(b.items)
	}
	return 0
}

// Fullest returns the payer with the most claims waiting and their count
// ("" and 0 when none wait).
func (a *Assembler) Fullest() (payerID string, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, b := range a.pending {
		if len(b.items) > n || len(b.items) == n && n > 0 && id < payerID {
			payerID, n = id, len(b.items)
		}
	}
	return payerID, n
}

// PendingPayers lists the payers with claims waiting, in id order.
func (a *Assembler) PendingPayers() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([]string, 0, len(a.pending))
	for id := range a.pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// FlushError is returned by FlushPayer when a payer's file could not be
// written: its claims were dropped, not requeued, and are listed.
type FlushError struct {
	PayerID  string
	ClaimIDs []string
	Err      error
}

func (e *FlushError) Error() string {
	return fmt.Sprintf("assemble: payer %q: %d claim(s) not written: %v", e.PayerID, len(e.ClaimIDs), e.Err)
}

// Unwrap returns the underlying error.
func (e *FlushError) Unwrap() error { return e.Err }

// FlushPayer writes the claims waiting for one payer as one file (see
// Flush for open). Unlike Flush, a failed file does not keep its claims
// pending: they are returned in a *FlushError, for a caller that streams
// and reports them as not written instead of retrying forever. ok is false
// when nothing was waiting.
func (a *Assembler) FlushPayer(ctx context.Context, payerID string, open func(payerID string) (io.WriteCloser, error)) (fi FileInfo, ok bool, err error) {
	a.mu.Lock()
	b := a.pending[payerID]
	delete(a.pending, payerID)
	a.mu.Unlock()
	if b == nil || len(b.items) == 0 {
		return FileInfo{}, false, nil
	}
	fi, err = a.writeFile(ctx, b, open)
	if err != nil {
		ids := make([]string, len(b.items))
		for i := range b.items {
			ids[i] = b.items[i].Claim.ID
		}
		return FileInfo{}, false, &FlushError{PayerID: payerID, ClaimIDs: ids, Err: err}
	}
	return fi, true, nil
}

// Pending is the number of claims waiting for Flush.
func (a *Assembler) Pending() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, b := range a.pending {
		n += len(b.items)
	}
	return n
}

// Flush writes one file per payer with pending claims, in payer id
// order: open(payerID) gives the file to write, which Flush closes (or
// aborts, see Aborter, when writing fails). It returns the files written.
// A payer whose file could not be opened or written keeps its claims
// pending for the next Flush, and its error is in the joined error.
func (a *Assembler) Flush(ctx context.Context, open func(payerID string) (io.WriteCloser, error)) ([]FileInfo, error) {
	a.mu.Lock()
	batches := a.pending
	a.pending = map[string]*batch{}
	a.mu.Unlock()

	ids := make([]string, 0, len(batches))
	for id := range batches {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var files []FileInfo
	var errs []error
	for _, id := range ids {
		b := batches[id]
		fi, err := a.writeFile(ctx, b, open)
		if err != nil {
			errs = append(errs, fmt.Errorf("assemble: payer %q: %w", id, err))
			a.requeue(b)
			continue
		}
		files = append(files, fi)
	}
	return files, errors.Join(errs...)
}

// requeue puts a batch whose file failed back in front of claims added
// since.
func (a *Assembler) requeue(b *batch) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if cur := a.pending[b.payerID]; cur != nil {
		for _, it := range cur.items {
			if _, dup := b.ids[it.Claim.ID]; !dup {
				b.items = append(b.items, it)
				b.ids[it.Claim.ID] = struct{}{}
			}
		}
	}
	a.pending[b.payerID] = b
}

func (a *Assembler) writeFile(ctx context.Context, b *batch, open func(string) (io.WriteCloser, error)) (FileInfo, error) {
	ic, g := a.envelope(b.payerID)
	isa, err := a.nums.Next(ctx, x12.InterchangeControl, ic.Sender, ic.Receiver)
	if err != nil {
		return FileInfo{}, fmt.Errorf("allocating ISA13: %w", err)
	}
	gs, err := a.nums.Next(ctx, x12.GroupControl, g.Sender, g.Receiver)
	if err != nil {
		return FileInfo{}, fmt.Errorf("allocating GS06: %w", err)
	}
	ic.Control, g.Control = isa, gs
	items := group(b.items)
	fi := FileInfo{PayerID: b.payerID, Sender: ic.Sender, Receiver: ic.Receiver, Interchange: isa, Group: gs, Claims: len(items)}
	var sets []x837p.Transaction
	max := a.cfg.MaxClaimsPerSet
	for n := 0; len(items) > 0; n++ {
		k := min(max, len(items))
		h := a.header(b.payerID, isa, n+1, ic.Time)
		set := SetInfo{Control: h.Control, Reference: h.Reference, ClaimIDs: make([]string, k), Charges: make([]claim.Money, k)}
		for i := range k {
			set.ClaimIDs[i] = items[i].Claim.ID
			set.Charges[i] = claim.Money(items[i].Claim.Charge)
		}
		fi.Sets = append(fi.Sets, set)
		sets = append(sets, x837p.Transaction{Header: h, Items: items[:k]})
		items = items[k:]
	}

	wc, err := open(b.payerID)
	if err != nil {
		return FileInfo{}, fmt.Errorf("opening the file: %w", err)
	}
	w := x12.NewWriter(wc, x12.WriterOptions{Delimiters: a.cfg.Delimiters, Newline: a.cfg.Newline, Numbers: a.nums})
	if _, _, err := x837p.WriteFile(ctx, w, ic, g, sets); err != nil {
		if ab, ok := wc.(Aborter); ok {
			_ = ab.Abort()
		} else {
			_ = wc.Close()
		}
		return FileInfo{}, fmt.Errorf("writing the file (it is incomplete): %w", err)
	}
	if err := wc.Close(); err != nil {
		return FileInfo{}, fmt.Errorf("closing the file: %w", err)
	}
	return fi, nil
}

// patKey indexes a subscriber's patients.
type patKey struct{ last, first, birth string }

// group orders a payer's claims so that claims of one billing provider
// are together, within it those of one subscriber (the subscriber's own
// claims first, as the TR3 puts them before the patient loops), within
// it those of one patient; groups keep the order in which they were
// first seen. Equal contexts share one pointer, so the writer opens each
// loop once.
func group(items []x837p.Item) []x837p.Item {
	type patGroup struct {
		pat    *x837p.Patient
		claims []*x837p.Claim
		one    [1]*x837p.Claim // claims' first storage: most have one
		next   *patGroup       // another with the same patKey
	}
	type subGroup struct {
		sub  *x837p.Subscriber
		own  []*x837p.Claim
		one  [1]*x837p.Claim
		pats []*patGroup
		next *subGroup // another with the same member id
	}
	type billGroup struct {
		bill *x837p.BillingProvider
		subs []*subGroup
		next *billGroup // another with the same NPI
	}
	type subKey struct {
		bill *billGroup
		id   string
	}
	type patIdxKey struct {
		sub *subGroup
		patKey
	}
	// The indexes are keyed by a few fields and the candidates compared
	// whole: hashing whole structs of thirty strings per claim cost more
	// than the rest of grouping. Groups come from slabs of len(items),
	// which no more groups than items can outgrow.
	var (
		billSlab = make([]billGroup, 0, 1)
		subSlab  = make([]subGroup, 0, len(items))
		patSlab  []patGroup
		bills    []*billGroup
		billIdx  = map[string]*billGroup{} // by NPI
		subIdx   = make(map[subKey]*subGroup, len(items))
		patIdx   map[patIdxKey]*patGroup
		lastBill *billGroup
	)
	for i := range items {
		it := &items[i]
		bg := lastBill // claims of one provider usually come together
		if bg == nil || (bg.bill != it.Billing && *bg.bill != *it.Billing) {
			bg = billIdx[it.Billing.NPI]
			for bg != nil && *bg.bill != *it.Billing {
				bg = bg.next
			}
			if bg == nil {
				if len(billSlab) == cap(billSlab) {
					billSlab = make([]billGroup, 0, min(2*cap(billSlab), len(items)))
				}
				billSlab = append(billSlab, billGroup{bill: it.Billing, next: billIdx[it.Billing.NPI]})
				bg = &billSlab[len(billSlab)-1]
				billIdx[it.Billing.NPI] = bg
				bills = append(bills, bg)
			}
			lastBill = bg
		}
		sk := subKey{bg, it.Subscriber.ID}
		sg := subIdx[sk]
		for sg != nil && sg.sub != it.Subscriber && *sg.sub != *it.Subscriber {
			sg = sg.next
		}
		if sg == nil {
			subSlab = append(subSlab, subGroup{sub: it.Subscriber, next: subIdx[sk]})
			sg = &subSlab[len(subSlab)-1]
			sg.own = sg.one[:0]
			subIdx[sk] = sg
			bg.subs = append(bg.subs, sg)
		}
		if it.Patient == nil {
			sg.own = append(sg.own, it.Claim)
			continue
		}
		if patIdx == nil {
			patSlab = make([]patGroup, 0, len(items))
			patIdx = map[patIdxKey]*patGroup{}
		}
		pk := patIdxKey{sg, patKey{it.Patient.Name.Last, it.Patient.Name.First, it.Patient.Birth}}
		pg := patIdx[pk]
		for pg != nil && *pg.pat != *it.Patient {
			pg = pg.next
		}
		if pg == nil {
			patSlab = append(patSlab, patGroup{pat: it.Patient, next: patIdx[pk]})
			pg = &patSlab[len(patSlab)-1]
			pg.claims = pg.one[:0]
			patIdx[pk] = pg
			sg.pats = append(sg.pats, pg)
		}
		pg.claims = append(pg.claims, it.Claim)
	}
	out := make([]x837p.Item, 0, len(items))
	for _, bg := range bills {
		for _, sg := range bg.subs {
			for _, c := range sg.own {
				out = append(out, x837p.Item{Billing: bg.bill, Subscriber: sg.sub, Claim: c})
			}
			for _, pg := range sg.pats {
				for _, c := range pg.claims {
					out = append(out, x837p.Item{Billing: bg.bill, Subscriber: sg.sub, Patient: pg.pat, Claim: c})
				}
			}
		}
	}
	return out
}
