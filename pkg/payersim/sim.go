package payersim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x277ca"
	"github.com/claimgate/claimgate/edi/x835"
	"github.com/claimgate/claimgate/edi/x837p"
	"github.com/claimgate/claimgate/edi/x999"
	"github.com/claimgate/claimgate/pkg/scrub"
)

// Response file types.
const (
	TypeTA1   = "TA1"
	Type999   = "999"
	Type277CA = "277CA"
	Type835   = "835"
)

// File is one response file.
type File struct {
	Type string // TA1, 999, 277CA or 835
	Name string // per the payer's name pattern
	// Delay is how long after receipt the payer delivers it (its
	// configured delay for the type).
	Delay time.Duration
	Data  []byte
}

// ClaimOutcome is what the simulator decided for one claim; it holds no
// patient data, so it can be logged.
type ClaimOutcome struct {
	ClaimID string // CLM01
	Set     string // ST02 of the 837 set
	// Accepted999 is false when the claim's set was rejected by the 999
	// (the claim gets no 277CA or 835).
	Accepted999 bool
	// Status277 is the 277CA STC01 (category:status[:entity]); empty
	// when the set was rejected.
	Status277 string
	// PayerClaimNumber is REF*1K and CLP07 (accepted claims only).
	PayerClaimNumber string
	// CLP02 is the 835 claim status (1/2/3 paid, 4 denied); empty when
	// the 277CA rejected the claim.
	CLP02                 string
	Charge, Paid, Patient x835.Amount
	Rules                 []string // rules that fired, e.g. timed_units, gp_missing
	Adjustments           []string // CAS group-CARC of denials and reductions, e.g. CO-151
}

// Result is everything one submission produced.
type Result struct {
	Files []File
	// Claims lists every claim read from the file, in file order.
	Claims []ClaimOutcome
	// Reversals lists the payer claim numbers reversed in this cycle's
	// 835: by replacement and void claims (frequency 7, 8) and at random
	// (reversal_rate, with a correction).
	Reversals []string
}

// FilesOf returns the result's files of one type.
func (r *Result) FilesOf(typ string) []File {
	var out []File
	for _, f := range r.Files {
		if f.Type == typ {
			out = append(out, f)
		}
	}
	return out
}

// Options configure a Simulator.
type Options struct {
	// Seed for random decisions; it is hashed with each claim's id, so a
	// decision does not depend on the order claims arrive in.
	Seed int64
	// Now is the clock (receipt, response and payment dates); nil means
	// time.Now in UTC.
	Now func() time.Time
}

// Simulator adjudicates 837P files like a payer. Process is safe for
// concurrent use; submissions are handled one at a time, so the output
// is the same for the same seed, clock and sequence of files.
type Simulator struct {
	cfg   *Config
	seed  int64
	now   func() time.Time
	codes *scrub.CodeTable
	ncci  *scrub.NCCITable

	mu       sync.Mutex
	nums     counters
	claimSeq int64
	checkSeq int64
	cycle    int
	paidKeys map[string]bool          // duplicate keys of claims paid
	paidFIFO []string                 // the same keys, oldest first
	balances map[string]x835.Amount   // payer/payee NPI: owed by the provider, recovered from later payments
	history  map[string][]*paidRecord // per payer, claims paid (for reversals)
}

// maxHistory bounds the paid claims remembered per payer for reversals;
// maxPaidKeys the duplicate keys kept.
const (
	maxHistory  = 1000
	maxPaidKeys = 200000
)

// counters allocates response control numbers (ISA13, GS06) per kind and
// sender/receiver pair; State saves them so a restarted simulator never
// repeats an ISA13.
type counters struct {
	mu   sync.Mutex
	next map[string]int64
}

// Next returns the next number for the pair, from 1, wrapping after
// 999999999.
func (c *counters) Next(_ context.Context, kind x12.ControlKind, sender, receiver string) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next == nil {
		c.next = map[string]int64{}
	}
	k := string(kind) + "/" + sender + "/" + receiver
	n := c.next[k] + 1
	if n > 999999999 {
		n = 1
	}
	c.next[k] = n
	return n, nil
}

// State is what a simulator must remember across restarts: its counters,
// the duplicate keys (hashes) of the claims it paid, balances carried
// forward and the recent paid claims.
type State struct {
	Counters          // the same JSON keys at the top level
	PaidKeys []string `json:"paid_keys,omitempty"`
	// Balances are amounts providers owe (payer/NPI), recovered from
	// later payments.
	Balances map[string]x835.Amount `json:"balances,omitempty"`
	// Paid are the claims paid (the last 1,000 per payer), so that later
	// replacements, voids and reversals can reach them. They hold the
	// claims' patient data, as the 837P files themselves do.
	Paid []PaidClaim `json:"paid,omitempty"`
}

// PaidClaim is a paid claim as State keeps it: the payment, and the
// claim and line decisions a correction reprices.
type PaidClaim struct {
	Payer      string             `json:"payer"`
	Cycle      int                `json:"cycle"`
	PayeeNPI   string             `json:"payee_npi"`
	PayeeName  string             `json:"payee_name"`
	Reversed   bool               `json:"reversed,omitempty"`
	Payment    *x835.ClaimPayment `json:"payment"`
	Item       x837p.Item         `json:"item"`
	Received   time.Time          `json:"received"`
	DupKey     string             `json:"duplicate_key"`
	Deductible x835.Amount        `json:"deductible,omitempty"`
	Lines      []PaidLine         `json:"lines"`
}

// PaidLine is one line decision of a PaidClaim.
type PaidLine struct {
	BilledUnits int64   `json:"billed_units"`
	Units       int64   `json:"units"`
	UnitsReason *Reason `json:"units_reason,omitempty"`
	Deny        *Reason `json:"deny,omitempty"`
	DenyRule    string  `json:"deny_rule,omitempty"`
}

func (r *paidRecord) save(payer string) PaidClaim {
	d := r.claim
	pc := PaidClaim{Payer: payer, Cycle: r.cycle, PayeeNPI: r.payee.npi, PayeeName: r.payee.name, Reversed: r.reversed,
		Payment: r.pay, Item: *d.item, Received: d.received, DupKey: d.dupKey, Deductible: d.deductible}
	for _, l := range d.lines {
		pc.Lines = append(pc.Lines, PaidLine{BilledUnits: l.billedUnits, Units: l.units, UnitsReason: l.unitsReason, Deny: l.deny, DenyRule: l.denyRule})
	}
	return pc
}

func (pc *PaidClaim) record() (*paidRecord, bool) {
	it := pc.Item
	if it.Claim == nil || it.Billing == nil || it.Subscriber == nil || pc.Payment == nil || len(pc.Lines) != len(it.Claim.Lines) {
		return nil, false
	}
	d := &claimDecision{item: &it, payee: payee{npi: pc.PayeeNPI, name: pc.PayeeName}, received: pc.Received,
		icn: pc.Payment.PayerClaimControlNumber, dupKey: pc.DupKey, deductible: pc.Deductible}
	for i, l := range pc.Lines {
		d.lines = append(d.lines, lineDecision{line: &it.Claim.Lines[i], billedUnits: l.BilledUnits, units: l.Units,
			unitsReason: l.UnitsReason, deny: l.Deny, denyRule: l.DenyRule})
	}
	return &paidRecord{cycle: pc.Cycle, payee: d.payee, claim: d, pay: pc.Payment, reversed: pc.Reversed}, true
}

// State returns a snapshot of the simulator's state.
func (s *Simulator) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nums.mu.Lock()
	defer s.nums.mu.Unlock()
	st := State{Counters: s.countersLocked(), PaidKeys: append([]string(nil), s.paidFIFO...), Balances: map[string]x835.Amount{}}
	for k, v := range s.balances {
		st.Balances[k] = v
	}
	payers := make([]string, 0, len(s.history))
	for p := range s.history {
		payers = append(payers, p)
	}
	sort.Strings(payers)
	for _, p := range payers {
		for _, r := range s.history[p] {
			st.Paid = append(st.Paid, r.save(p))
		}
	}
	return st
}

// Counters are the numbers a simulator must never hand out twice: the
// response control numbers (ISA13/GS06 per kind and pair), the payer
// claim and check sequences and the payment cycle.
type Counters struct {
	ControlNumbers map[string]int64 `json:"control_numbers"`
	ClaimSeq       int64            `json:"claim_seq"`
	CheckSeq       int64            `json:"check_seq"`
	Cycle          int              `json:"cycle"`
}

// Counters returns a snapshot of the simulator's counters.
func (s *Simulator) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nums.mu.Lock()
	defer s.nums.mu.Unlock()
	return s.countersLocked()
}

// RestoreCounters replaces the simulator's counters with saved ones
// (newer than the State restored before them).
func (s *Simulator) RestoreCounters(c Counters) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nums.mu.Lock()
	defer s.nums.mu.Unlock()
	s.restoreCountersLocked(c)
}

// countersLocked and restoreCountersLocked need s.mu and s.nums.mu.
func (s *Simulator) countersLocked() Counters {
	c := Counters{ControlNumbers: make(map[string]int64, len(s.nums.next)), ClaimSeq: s.claimSeq, CheckSeq: s.checkSeq, Cycle: s.cycle}
	for k, v := range s.nums.next {
		c.ControlNumbers[k] = v
	}
	return c
}

func (s *Simulator) restoreCountersLocked(c Counters) {
	s.nums.next = make(map[string]int64, len(c.ControlNumbers))
	for k, v := range c.ControlNumbers {
		s.nums.next[k] = v
	}
	s.claimSeq, s.checkSeq, s.cycle = c.ClaimSeq, c.CheckSeq, c.Cycle
}

// Restore replaces the simulator's state with a saved one.
func (s *Simulator) Restore(st State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nums.mu.Lock()
	s.restoreCountersLocked(st.Counters)
	s.nums.mu.Unlock()
	s.paidKeys, s.paidFIFO, s.balances = map[string]bool{}, nil, map[string]x835.Amount{}
	for k, v := range st.Balances {
		s.balances[k] = v
	}
	s.history = map[string][]*paidRecord{}
	for i := range st.Paid {
		if r, ok := st.Paid[i].record(); ok {
			s.history[st.Paid[i].Payer] = append(s.history[st.Paid[i].Payer], r)
		}
	}
	for _, k := range st.PaidKeys {
		s.rememberKey(k)
	}
}

func (s *Simulator) rememberKey(k string) {
	if s.paidKeys[k] {
		return
	}
	s.paidKeys[k] = true
	s.paidFIFO = append(s.paidFIFO, k)
	if len(s.paidFIFO) > maxPaidKeys {
		delete(s.paidKeys, s.paidFIFO[0])
		s.paidFIFO = s.paidFIFO[1:]
	}
}

// paidRecord is a claim paid in an earlier cycle, kept to reverse it.
type paidRecord struct {
	cycle    int
	payee    payee
	claim    *claimDecision
	pay      *x835.ClaimPayment
	reversed bool
}

// New returns a Simulator for a configuration (see ReadConfig; a Config
// built in Go is checked and completed here).
func New(cfg *Config, opts Options) (*Simulator, error) {
	if cfg == nil {
		return nil, errors.New("payersim: nil config")
	}
	if err := cfg.prepare(); err != nil {
		return nil, err
	}
	codes, err := scrub.EmbeddedCodes()
	if err != nil {
		return nil, err
	}
	ncci, err := scrub.EmbeddedNCCI()
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = func() time.Time { return time.Now().UTC() }
	}
	return &Simulator{cfg: cfg, seed: opts.Seed, now: now, codes: codes, ncci: ncci,
		paidKeys: map[string]bool{}, history: map[string][]*paidRecord{}, balances: map[string]x835.Amount{}}, nil
}

// Config returns the simulator's configuration.
func (s *Simulator) Config() *Config { return s.cfg }

// chance returns a number in [0,1) fixed by the seed and the parts.
func (s *Simulator) chance(parts ...string) float64 {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(s.seed))
	h.Write(b[:])
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	sum := h.Sum(nil)
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}

// Process reads one 837P submission sent to payer payerID and returns
// the payer's responses: a TA1 when the interchange envelope cannot be
// read, else a 999, a 277CA per accepted transaction set and an 835 for
// the payment cycle (the accepted claims, plus reversal and correction
// pairs of claims paid in earlier cycles). name is the file name used in
// findings and response names. The file is read twice (validation, then
// claims): an io.ReadSeeker (a file, a bytes.Reader) is rewound, any other
// reader is first copied to a temporary file.
func (s *Simulator) Process(ctx context.Context, payerID string, in io.Reader, name string) (*Result, error) {
	p, ok := s.cfg.Payer(payerID)
	if !ok {
		return nil, fmt.Errorf("payersim: unknown payer %q", payerID)
	}
	r, ok := in.(io.ReadSeeker)
	if !ok {
		tmp, err := os.CreateTemp("", "payersim-*.837")
		if err != nil {
			return nil, fmt.Errorf("payersim: spooling %s: %w", name, err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if _, err := io.Copy(tmp, in); err != nil {
			return nil, fmt.Errorf("payersim: spooling %s: %w", name, err)
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		r = tmp
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	sub, err := check(r, name, func() time.Time { return now })
	if err != nil {
		return nil, fmt.Errorf("payersim: reading %s: %w", name, err)
	}
	res := &Result{}
	stem := stemOf(name)
	if note := sub.ta1Note(); note != "" {
		f, err := s.writeTA1(ctx, p, sub, "R", note, now, stem)
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, f)
		return res, nil
	}

	if sub.ackRequested {
		// ISA14 asked for an interchange acknowledgment: accepted, no error.
		f, err := s.writeTA1(ctx, p, sub, "A", "000", now, stem)
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, f)
	}
	groups, accepted := sub.ack999()
	if len(groups) > 0 {
		var buf bytes.Buffer
		ih, gh := s.headers(p, sub, now)
		ctl, err := s.nums.Next(ctx, x12.InterchangeControl, ih.Sender, ih.Receiver)
		if err != nil {
			return nil, err
		}
		ih.Control = ctl
		if err := x999.WriteFile(ctx, &buf, s.writerOptions(), ih, gh, groups...); err != nil {
			return nil, fmt.Errorf("payersim: writing 999: %w", err)
		}
		res.Files = append(res.Files, File{Type: Type999, Name: p.fileName(Type999, now, sub.isa13, "", stem, ctl),
			Delay: time.Duration(p.Delays.Ack), Data: buf.Bytes()})
	}

	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("payersim: rereading %s: %w", name, err)
	}
	s.cycle++
	cyc := &cycle{}
	acks := map[string]*x277ca.Submission{}
	var ackOrder []string
	rd := x837p.NewReader(r)
	rd.Name = name
	for {
		it, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("payersim: reading %s: %w", name, err)
		}
		env, hdr := rd.Envelope(), rd.Header()
		out := ClaimOutcome{ClaimID: it.Claim.ID, Set: hdr.Control}
		key := setKey(env.Control, env.GroupControl, hdr.Control)
		if !accepted[key] {
			res.Claims = append(res.Claims, out)
			continue
		}
		out.Accepted999 = true
		ack := acks[key]
		if ack == nil {
			ack = &x277ca.Submission{
				Payer:    x277ca.Entity{LastName: p.Name, IDQual: "PI", ID: p.ID},
				Receiver: x277ca.Entity{LastName: orDefault(hdr.Submitter.Name.Last, "SUBMITTER"), IDQual: "46", ID: orDefault(hdr.Submitter.ID, sub.sender)},
				Batch:    hdr.Reference,
				Time:     now,
			}
			acks[key] = ack
			ackOrder = append(ackOrder, key)
		}
		incomplete := it.Billing == nil || it.Subscriber == nil
		if incomplete {
			// Unreachable for a set the validator accepted; rejected
			// rather than trusted.
			if it.Billing == nil {
				it.Billing = &x837p.BillingProvider{Name: x837p.Name{Last: "UNKNOWN"}, NPI: "0000000000"}
			}
			if it.Subscriber == nil {
				it.Subscriber = &x837p.Subscriber{Name: x837p.Name{Last: "UNKNOWN"}, ID: "UNKNOWN"}
			}
		}
		d := s.decide(p, it, now)
		if incomplete {
			d.reject = &x277ca.StatusCode{Category: "A3", Code: "21"}
		}
		cr := x277ca.ClaimResult{
			Provider:       x277ca.Entity{LastName: it.Billing.Name.Last, FirstName: it.Billing.Name.First, Type: orDefault(it.Billing.Name.Entity, "2"), IDQual: "XX", ID: it.Billing.NPI},
			Patient:        d.patientEntity277(),
			PatientControl: it.Claim.ID,
			Charge:         x835.Amount(it.Claim.Charge).String(),
			ServiceFrom:    d.from, ServiceTo: d.to,
		}
		if d.reject != nil {
			cr.Outcome, cr.Status = x277ca.OutcomeRejected, *d.reject
			out.Status277 = statusText(*d.reject)
			ack.Claims = append(ack.Claims, cr)
			res.Claims = append(res.Claims, out)
			continue
		}
		d.icn = s.nextClaimNumber(p, now)
		cr.Outcome, cr.PayerClaimControl = x277ca.OutcomeAccepted, d.icn
		out.Status277, out.PayerClaimNumber = "A2:20", d.icn
		ack.Claims = append(ack.Claims, cr)

		if rec := d.corrects; rec != nil {
			// A replacement or void reverses the claim it names first.
			s.reverse(rec, cyc)
			res.Reversals = append(res.Reversals, rec.pay.PayerClaimControlNumber)
			if it.Claim.Frequency == "8" {
				out.CLP02, out.Charge, out.Paid, out.Patient = "22", -rec.pay.Charge, -rec.pay.Paid, -rec.pay.PatientResponsibility
				out.Rules = []string{"void"}
				res.Claims = append(res.Claims, out)
				continue
			}
			d.fire("replacement")
		}
		pay := s.price(p, d, 1)
		cyc.add(d.payee, pay)
		out.CLP02, out.Charge, out.Paid, out.Patient = pay.Status, pay.Charge, pay.Paid, pay.PatientResponsibility
		out.Rules, out.Adjustments = d.rulesFired(), adjustmentsOf(pay)
		if pay.Paid > 0 && (pay.Status == "1" || pay.Status == "2" || pay.Status == "3") {
			s.remember(p, d, pay)
		}
		res.Claims = append(res.Claims, out)
	}
	for _, key := range ackOrder {
		ack := acks[key]
		tx, err := x277ca.Build(*ack)
		if err != nil {
			return nil, fmt.Errorf("payersim: building 277CA: %w", err)
		}
		var buf bytes.Buffer
		ih, gh := s.headers(p, sub, now)
		gh.FunctionalID, gh.Version = "HN", x277ca.Version
		ctl, err := s.nums.Next(ctx, x12.InterchangeControl, ih.Sender, ih.Receiver)
		if err != nil {
			return nil, err
		}
		ih.Control = ctl
		if err := x277ca.WriteFile(ctx, &buf, s.writerOptions(), ih, gh, tx); err != nil {
			return nil, fmt.Errorf("payersim: writing 277CA: %w", err)
		}
		st := key[strings.LastIndexByte(key, 0)+1:]
		res.Files = append(res.Files, File{Type: Type277CA, Name: p.fileName(Type277CA, now, sub.isa13, st, stem, ctl),
			Delay: time.Duration(p.Delays.ClaimAck), Data: buf.Bytes()})
	}

	res.Reversals = append(res.Reversals, s.reversals(p, cyc)...)
	if len(cyc.order) > 0 {
		f, err := s.write835(ctx, p, sub, cyc, now, stem)
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, f)
	}
	return res, nil
}

func statusText(sc x277ca.StatusCode) string {
	s := sc.Category + ":" + sc.Code
	if sc.Entity != "" {
		s += ":" + sc.Entity
	}
	return s
}

func adjustmentsOf(c *x835.ClaimPayment) []string {
	var out []string
	seen := map[string]bool{}
	add := func(a x835.Adjustment) {
		k := a.Group + "-" + a.Reason
		if a.Group == "PR" && (a.Reason == "1" || a.Reason == "2" || a.Reason == "3") || a.Group == "CO" && a.Reason == "45" {
			return // contractual and cost sharing: not denials
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, a := range c.Adjustments {
		add(a)
	}
	for i := range c.Lines {
		for _, a := range c.Lines[i].Adjustments {
			add(a)
		}
	}
	return out
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// stemOf is a file name without directory and extension.
func stemOf(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	return name
}

// fileName applies the payer's name pattern.
func (p *PayerConfig) fileName(typ string, now time.Time, icn, set, stem string, seq int64) string {
	r := strings.NewReplacer(
		"{payer}", p.Folder, "{type}", typ, "{date}", now.Format("20060102"), "{time}", now.Format("150405"),
		"{icn}", orDefault(icn, "000000000"), "{set}", set, "{stem}", stem, "{seq}", fmt.Sprintf("%09d", seq))
	return safeName(r.Replace(p.NamePattern))
}

// safeName keeps a response name to one plain path element.
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	for len(b) > 0 && b[0] == '.' {
		b[0] = '_'
	}
	return string(b)
}

func (s *Simulator) writerOptions() x12.WriterOptions {
	return x12.WriterOptions{Newline: true, Numbers: &s.nums}
}

// headers are the envelopes of a response: from the payer back to the
// submitter, in the submission's usage (test or production).
func (s *Simulator) headers(p *PayerConfig, sub *submission, now time.Time) (x12.InterchangeHeader, x12.GroupHeader) {
	usage := byte('P')
	if sub.usage == "T" {
		usage = 'T'
	}
	rq := sub.senderQual
	switch rq {
	case "01", "14", "20", "27", "28", "29", "30", "33", "ZZ":
	default:
		rq = "ZZ"
	}
	rcv := sub.sender
	if !plainID(rcv, 15) {
		rcv = "UNKNOWN"
	}
	gsRcv := rcv
	if len(sub.groups) > 0 && plainID(sub.groups[0].sender, 15) {
		gsRcv = sub.groups[0].sender
	}
	ih := x12.InterchangeHeader{SenderQual: "ZZ", Sender: p.ISAID, ReceiverQual: rq, Receiver: rcv, Time: now, Usage: usage}
	gh := x12.GroupHeader{Sender: p.GSID, Receiver: gsRcv, Time: now}
	return ih, gh
}

// plainID reports whether s is a usable sender or receiver id: 1 to max
// letters, digits or spaces.
func plainID(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ' ') {
			return false
		}
	}
	return true
}

// writeTA1 writes an interchange acknowledgment: TA104 ack (A or R) and
// TA105 note.
func (s *Simulator) writeTA1(ctx context.Context, p *PayerConfig, sub *submission, ack, note string, now time.Time, stem string) (File, error) {
	ih, _ := s.headers(p, sub, now)
	ctl, err := s.nums.Next(ctx, x12.InterchangeControl, ih.Sender, ih.Receiver)
	if err != nil {
		return File{}, err
	}
	ih.Control = ctl
	isa13 := sub.isa13
	if len(isa13) != 9 || !x12.IsDigits([]byte(isa13)) {
		isa13 = "000000000"
	}
	var buf bytes.Buffer
	w := x12.NewWriter(&buf, s.writerOptions())
	if _, err := w.BeginInterchange(ctx, ih); err != nil {
		return File{}, err
	}
	w.Segment("TA1", isa13, now.Format("060102"), now.Format("1504"), ack, note)
	if err := w.EndInterchange(); err != nil {
		return File{}, fmt.Errorf("payersim: writing TA1: %w", err)
	}
	return File{Type: TypeTA1, Name: p.fileName(TypeTA1, now, sub.isa13, "", stem, ctl), Delay: time.Duration(p.Delays.Ack), Data: buf.Bytes()}, nil
}

// nextClaimNumber allocates a payer claim number: the prefix, the
// receipt date as YYDDD (as Medicare ICNs carry it) and a sequence.
func (s *Simulator) nextClaimNumber(p *PayerConfig, now time.Time) string {
	s.claimSeq++
	return fmt.Sprintf("%s%02d%03d%07d", p.ClaimNumberPrefix, now.Year()%100, now.YearDay(), s.claimSeq%10000000)
}
