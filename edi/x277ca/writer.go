package x277ca

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
)

// WriteTransaction writes t as one 277CA transaction set, ST02 = control,
// inside the functional group open on w (GS01 HN, GS08 005010X214).
//
// HL numbers are assigned in order (1, 2, ...) and HL04 child codes follow
// the model; the model's HL and Outcome fields are not read. A 2200B or
// 2200C loop is written when the receiver or provider has a Trace (its
// TRN02): statuses or totals without one are refused, as are a claim
// without a patient control number, status or service date, and a source
// without receivers. A ServiceTo equal to ServiceFrom (or empty) writes a
// D8 date, else an RD8 range. Nothing is written for a refused model.
func WriteTransaction(w *x12.Writer, control string, t *Transaction) error {
	if err := verify(t); err != nil {
		return err
	}
	if err := w.BeginSet("277", control, Version); err != nil {
		return err
	}
	w.Segment("BHT", "0085", "08", t.Reference, t.Date, t.Time, "TH")
	hl := 0
	next := func(parent int, level, child string) int {
		hl++
		w.Begin("HL")
		w.Int(int64(hl))
		if parent > 0 {
			w.Int(int64(parent))
		} else {
			w.Empty(1)
		}
		w.Element(level)
		w.Element(child)
		w.End()
		return hl
	}
	for _, s := range t.Sources {
		sh := next(0, "20", "1")
		writeEntity(w, &s.Name)
		w.Segment("TRN", "1", s.Trace)
		w.Segment("DTP", "050", "D8", s.Received)
		w.Segment("DTP", "009", "D8", s.Processed)
		for _, v := range s.Receivers {
			vh := next(sh, "21", childCode(len(v.Providers)))
			writeEntity(w, &v.Name)
			if v.Trace != "" {
				w.Segment("TRN", "2", v.Trace)
				writeStatuses(w, v.Statuses)
				writeTotals(w, &v.Totals, "90", "AA")
			}
			for _, p := range v.Providers {
				ph := next(vh, "19", childCode(len(p.Patients)))
				writeEntity(w, &p.Name)
				if p.Trace != "" {
					w.Segment("TRN", "1", p.Trace)
					writeStatuses(w, p.Statuses)
					for _, r := range p.SecondaryIDs {
						w.Segment("REF", r.Qualifier, r.Value)
					}
					writeTotals(w, &p.Totals, "QA", "QC")
				}
				for _, pt := range p.Patients {
					next(ph, "PT", "")
					writeEntity(w, &pt.Name)
					for _, c := range pt.Claims {
						writeClaim(w, c)
					}
				}
			}
		}
	}
	return w.EndSet()
}

func childCode(n int) string {
	if n > 0 {
		return "1"
	}
	return "0"
}

// verify refuses a model the writer cannot turn into a valid 277CA.
func verify(t *Transaction) error {
	if len(t.Sources) == 0 {
		return fmt.Errorf("x277ca: transaction has no information source")
	}
	checkStatuses := func(where string, ss []Status) error {
		for i := range ss {
			if len(ss[i].More) > 2 {
				return fmt.Errorf("x277ca: %s: an STC holds at most 2 further status composites (STC10, STC11), got %d", where, len(ss[i].More))
			}
			if ss[i].Category == "" {
				return fmt.Errorf("x277ca: %s: STC01-1 status category is empty", where)
			}
		}
		return nil
	}
	for _, s := range t.Sources {
		if len(s.Receivers) == 0 {
			return fmt.Errorf("x277ca: information source %q has no receiver (HL04 must be 1)", s.Name.LastName)
		}
		for _, v := range s.Receivers {
			if v.Trace == "" && (len(v.Statuses) > 0 || v.Totals != (Totals{})) {
				return fmt.Errorf("x277ca: receiver %q has statuses or totals but no Trace to start loop 2200B", v.Name.LastName)
			}
			if err := checkStatuses("receiver "+v.Name.LastName, v.Statuses); err != nil {
				return err
			}
			for _, p := range v.Providers {
				if p.Trace == "" && (len(p.Statuses) > 0 || len(p.SecondaryIDs) > 0 || p.Totals != (Totals{})) {
					return fmt.Errorf("x277ca: provider %q has statuses, ids or totals but no Trace to start loop 2200C", p.Name.ID)
				}
				if err := checkStatuses("provider "+p.Name.ID, p.Statuses); err != nil {
					return err
				}
				for _, pt := range p.Patients {
					for _, c := range pt.Claims {
						if c.PatientControl == "" {
							return fmt.Errorf("x277ca: claim without a patient control number (TRN02)")
						}
						if len(c.Statuses) == 0 {
							return fmt.Errorf("x277ca: claim %s has no status (STC)", c.PatientControl)
						}
						if c.ServiceFrom == "" {
							return fmt.Errorf("x277ca: claim %s has no service date (DTP*472)", c.PatientControl)
						}
						if err := checkStatuses("claim "+c.PatientControl, c.Statuses); err != nil {
							return err
						}
						for i := range c.Lines {
							if len(c.Lines[i].Statuses) == 0 {
								return fmt.Errorf("x277ca: claim %s line %d has no status (STC)", c.PatientControl, i+1)
							}
							if err := checkStatuses("claim "+c.PatientControl+" line", c.Lines[i].Statuses); err != nil {
								return err
							}
						}
					}
				}
			}
		}
	}
	return nil
}

func writeEntity(w *x12.Writer, e *Entity) {
	w.Segment("NM1", e.Code, e.Type, e.LastName, e.FirstName, e.MiddleName, e.Prefix, e.Suffix, e.IDQual, e.ID)
}

func writeStatuses(w *x12.Writer, ss []Status) {
	for i := range ss {
		s := &ss[i]
		w.Begin("STC")
		w.Composite(s.Category, s.Code, s.Entity)
		w.Element(s.Date)
		w.Element(s.Action)
		w.Element(s.Amount)
		w.Empty(5)
		for j := 0; j < 2; j++ {
			if j < len(s.More) {
				w.Composite(s.More[j].Category, s.More[j].Code, s.More[j].Entity)
			} else {
				w.Empty(1)
			}
		}
		w.Element(s.Message)
		w.End()
	}
}

func writeTotals(w *x12.Writer, t *Totals, accepted, rejected string) {
	if t.AcceptedQuantity != "" {
		w.Segment("QTY", accepted, t.AcceptedQuantity)
	}
	if t.RejectedQuantity != "" {
		w.Segment("QTY", rejected, t.RejectedQuantity)
	}
	if t.AcceptedAmount != "" {
		w.Segment("AMT", "YU", t.AcceptedAmount)
	}
	if t.RejectedAmount != "" {
		w.Segment("AMT", "YY", t.RejectedAmount)
	}
}

func writeRef(w *x12.Writer, qual, v string) {
	if v != "" {
		w.Segment("REF", qual, v)
	}
}

func writeDates(w *x12.Writer, from, to string) {
	if to == "" || to == from {
		w.Segment("DTP", "472", "D8", from)
		return
	}
	w.Segment("DTP", "472", "RD8", from+"-"+to)
}

func writeClaim(w *x12.Writer, c *Claim) {
	w.Segment("TRN", "2", c.PatientControl)
	writeStatuses(w, c.Statuses)
	writeRef(w, "1K", c.PayerClaimControl)
	writeRef(w, "D9", c.ClearinghouseTrace)
	writeRef(w, "BLT", c.BillType)
	writeRef(w, "EA", c.MedicalRecord)
	writeDates(w, c.ServiceFrom, c.ServiceTo)
	for i := range c.Lines {
		ln := &c.Lines[i]
		w.Begin("SVC")
		parts := append([]string{ln.Qualifier, ln.Procedure}, ln.Modifiers...)
		w.Composite(parts...)
		w.Element(ln.Charge)
		w.Empty(1)
		w.Element(ln.Revenue)
		w.Empty(2)
		w.Element(ln.Units)
		w.End()
		writeStatuses(w, ln.Statuses)
		writeRef(w, "FJ", ln.LineControl)
		writeRef(w, "XZ", ln.Prescription)
		if ln.ServiceFrom != "" {
			writeDates(w, ln.ServiceFrom, ln.ServiceTo)
		}
	}
}

// WriteFile writes a complete 277CA interchange: ISA, one GS (GS01 HN,
// GS08 005010X214 unless gh says otherwise), one set per transaction
// (ST02 0001, 0002, ...), GE and IEA.
func WriteFile(ctx context.Context, out io.Writer, opts x12.WriterOptions, ih x12.InterchangeHeader, gh x12.GroupHeader, txs ...*Transaction) error {
	if gh.FunctionalID == "" {
		gh.FunctionalID = "HN"
	}
	if gh.Version == "" {
		gh.Version = Version
	}
	return x12.WriteFile(ctx, out, opts, ih, gh, len(txs), func(w *x12.Writer, control string, i int) error {
		return WriteTransaction(w, control, txs[i])
	})
}

// Submission is what Build needs: the 837 batch being acknowledged and
// the verdict on each of its claims.
type Submission struct {
	Payer    Entity // NM1*PR; Code and Type default to PR and 2
	Receiver Entity // NM1*41, the submitter; Code defaults to 41, IDQual to 46
	// Batch is the acknowledged 837's BHT03, written as 2200B TRN02.
	Batch string
	// Reference is BHT03 of the 277CA and Trace the 2200A TRN02; both
	// default to Batch.
	Reference, Trace string
	// Time is the 277CA's creation, receipt and process time (default now).
	Time time.Time
	// Claims are the verdicts, grouped by billing provider in the order
	// providers first appear.
	Claims []ClaimResult
	// RejectedProviders are billing providers rejected as a whole: each
	// gets a 2000C loop with a rejecting STC and no patients.
	RejectedProviders []ProviderRejection
}

// ClaimResult is the verdict on one claim.
type ClaimResult struct {
	Provider       Entity // billing provider NM1*85 (Code defaults to 85)
	Patient        Entity // NM1*QC (Code defaults to QC, Type to 1, IDQual to MI)
	PatientControl string // our CLM01, written as TRN02
	// Outcome picks the default status: received A1:19, accepted A2:20,
	// rejected A3:21. Status overrides it when its Category is set.
	Outcome Outcome
	Status  StatusCode
	Charge  string // claim total charge, STC04 (decimal text, at most 2 decimals)
	// PayerClaimControl is written as REF*1K (payers assign it when they
	// accept a claim), ClearinghouseTrace as REF*D9.
	PayerClaimControl  string
	ClearinghouseTrace string
	ServiceFrom        string // CCYYMMDD, DTP*472
	ServiceTo          string // empty or equal to ServiceFrom for one date
	Message            string // STC12
	Lines              []LineResult
}

// LineResult is the verdict on one service line; a 277CA lists lines only
// when it has something to say about them.
type LineResult struct {
	LineControl string // our REF*6R, written as REF*FJ
	Qualifier   string // SVC01-1, default HC
	Procedure   string // SVC01-2
	Modifiers   []string
	Charge      string // SVC02
	Units       string // SVC07
	Outcome     Outcome
	Status      StatusCode
	ServiceFrom string
	ServiceTo   string
}

// ProviderRejection rejects a billing provider as a whole.
type ProviderRejection struct {
	Provider Entity
	Status   StatusCode // default A3:21:85
	Claims   int        // claims of the provider in the batch (QTY*QC)
	Charge   string     // their total charge (STC04, AMT*YY)
}

func defaultStatus(o Outcome, s StatusCode) StatusCode {
	if s.Category != "" {
		return s
	}
	switch o {
	case OutcomeAccepted:
		return StatusCode{Category: "A2", Code: "20"}
	case OutcomeRejected:
		return StatusCode{Category: "A3", Code: "21"}
	}
	return StatusCode{Category: "A1", Code: "19"}
}

func action(o Outcome) string {
	if o == OutcomeRejected {
		return "U"
	}
	return "WQ"
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// Build makes a 277CA from a submission's verdicts: one source (the
// payer), one receiver (the submitter) with an A1:19 batch status and the
// accepted/rejected counts and amounts, one provider per billing provider
// with its own status and totals, and one patient loop per claim. Its
// output is a complete model (HL numbers and outcomes filled, as Read would
// return it) for WriteTransaction. It fails on a charge that is not a
// decimal amount with at most two decimals.
func Build(s Submission) (*Transaction, error) {
	now := s.Time
	if now.IsZero() {
		now = time.Now().UTC()
	}
	day := now.Format("20060102")
	payer := s.Payer
	payer.Code, payer.Type = orDefault(payer.Code, "PR"), orDefault(payer.Type, "2")
	rcvName := s.Receiver
	rcvName.Code, rcvName.IDQual = orDefault(rcvName.Code, "41"), orDefault(rcvName.IDQual, "46")
	rcvName.Type = orDefault(rcvName.Type, "2")
	t := &Transaction{Control: "", Version: Version, Reference: orDefault(s.Reference, s.Batch), Date: day, Time: now.Format("1504")}
	src := &Source{Name: payer, Trace: orDefault(orDefault(s.Trace, s.Reference), s.Batch), Received: day, Processed: day}
	rcv := &Receiver{Name: rcvName, Trace: s.Batch}
	t.Sources = []*Source{src}
	src.Receivers = []*Receiver{rcv}

	var batch counter
	providers := map[string]*Provider{}
	counts := map[*Provider]*counter{}
	for i := range s.Claims {
		cr := &s.Claims[i]
		key := cr.Provider.IDQual + "\x00" + cr.Provider.ID
		p := providers[key]
		if p == nil {
			name := cr.Provider
			name.Code, name.Type = orDefault(name.Code, "85"), orDefault(name.Type, "2")
			p = &Provider{Name: name, Trace: fmt.Sprintf("%s-%d", orDefault(s.Batch, "P"), len(rcv.Providers)+1)}
			providers[key] = p
			counts[p] = &counter{}
			rcv.Providers = append(rcv.Providers, p)
		}
		pat := cr.Patient
		pat.Code, pat.Type, pat.IDQual = orDefault(pat.Code, "QC"), orDefault(pat.Type, "1"), orDefault(pat.IDQual, "MI")
		sc := defaultStatus(cr.Outcome, cr.Status)
		o := sc.Outcome()
		c := &Claim{
			PatientControl:    cr.PatientControl,
			Statuses:          []Status{{StatusCode: sc, Date: day, Action: action(o), Amount: cr.Charge, Message: cr.Message}},
			PayerClaimControl: cr.PayerClaimControl, ClearinghouseTrace: cr.ClearinghouseTrace,
			ServiceFrom: cr.ServiceFrom, ServiceTo: orDefault(cr.ServiceTo, cr.ServiceFrom),
		}
		for _, lr := range cr.Lines {
			lsc := defaultStatus(lr.Outcome, lr.Status)
			c.Lines = append(c.Lines, Line{
				Qualifier: orDefault(lr.Qualifier, "HC"), Procedure: lr.Procedure, Modifiers: lr.Modifiers,
				Charge: lr.Charge, Units: lr.Units, LineControl: lr.LineControl,
				Statuses:    []Status{{StatusCode: lsc, Date: day, Action: action(lsc.Outcome())}},
				ServiceFrom: lr.ServiceFrom, ServiceTo: orDefault(lr.ServiceTo, lr.ServiceFrom),
			})
		}
		p.Patients = append(p.Patients, &Patient{Name: pat, Claims: []*Claim{c}})
		for _, cnt := range []*counter{&batch, counts[p]} {
			if err := cnt.add(o != OutcomeRejected, 1, cr.Charge); err != nil {
				return nil, fmt.Errorf("x277ca: claim %s: %w", cr.PatientControl, err)
			}
		}
	}
	for _, p := range rcv.Providers {
		cnt := counts[p]
		p.Statuses = []Status{{StatusCode: StatusCode{Category: "A1", Code: "19", Entity: "PR"}, Date: day, Action: "WQ", Amount: cents(cnt.total())}}
		p.Totals = cnt.totals()
	}
	for i, pr := range s.RejectedProviders {
		name := pr.Provider
		name.Code, name.Type = orDefault(name.Code, "85"), orDefault(name.Type, "2")
		sc := pr.Status
		if sc.Category == "" {
			sc = StatusCode{Category: "A3", Code: "21", Entity: "85"}
		}
		var cnt counter
		for _, c := range []*counter{&cnt, &batch} {
			if err := c.add(false, pr.Claims, pr.Charge); err != nil {
				return nil, fmt.Errorf("x277ca: rejected provider %s: %w", name.ID, err)
			}
		}
		p := &Provider{Name: name, Trace: fmt.Sprintf("%s-R%d", orDefault(s.Batch, "P"), i+1),
			Statuses: []Status{{StatusCode: sc, Date: day, Action: "U", Amount: cents(cnt.total())}}, Totals: cnt.totals()}
		rcv.Providers = append(rcv.Providers, p)
	}
	rcv.Statuses = []Status{{StatusCode: StatusCode{Category: "A1", Code: "19", Entity: "PR"}, Date: day, Action: "WQ", Amount: cents(batch.total())}}
	rcv.Totals = batch.totals()
	finish(t)
	return t, nil
}

// counter sums accepted and rejected claims and charges (in cents).
type counter struct {
	accepted, rejected int
	acceptedAmt        int64
	rejectedAmt        int64
}

// add counts n claims charging charge in total.
func (c *counter) add(accepted bool, n int, charge string) error {
	v, err := parseCents(charge)
	if err != nil {
		return err
	}
	if accepted {
		c.accepted += n
		c.acceptedAmt += v
	} else {
		c.rejected += n
		c.rejectedAmt += v
	}
	return nil
}

func (c *counter) total() int64 { return c.acceptedAmt + c.rejectedAmt }

func (c *counter) totals() Totals {
	var t Totals
	if c.accepted > 0 {
		t.AcceptedQuantity, t.AcceptedAmount = strconv.Itoa(c.accepted), cents(c.acceptedAmt)
	}
	if c.rejected > 0 {
		t.RejectedQuantity, t.RejectedAmount = strconv.Itoa(c.rejected), cents(c.rejectedAmt)
	}
	return t
}

// parseCents reads a decimal amount with at most two decimals; "" is 0.
func parseCents(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	bad := fmt.Errorf("amount %q is not a decimal with at most 2 decimals", s)
	body, neg := strings.CutPrefix(s, "-")
	whole, frac, _ := strings.Cut(body, ".")
	if len(whole)+len(frac) == 0 || len(frac) > 2 || len(whole) > 15 {
		return 0, bad
	}
	var v int64
	for _, part := range []string{whole, frac + strings.Repeat("0", 2-len(frac))} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, bad
			}
			v = v*10 + int64(part[i]-'0')
		}
	}
	if neg {
		v = -v
	}
	return v, nil
}

// cents formats an amount in X12 style: no trailing zero decimals.
func cents(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	s := sign + strconv.FormatInt(v/100, 10)
	switch f := v % 100; {
	case f == 0:
	case f%10 == 0:
		s += "." + strconv.FormatInt(f/10, 10)
	default:
		s += fmt.Sprintf(".%02d", f)
	}
	return s
}

// finish fills what the writer and reader derive: HL numbers in writing
// order and the outcomes of receivers, providers, claims and lines.
func finish(t *Transaction) {
	hl := 0
	next := func() string { hl++; return strconv.Itoa(hl) }
	// Lists are empty rather than nil, as Read returns them (JSON []).
	if t.Sources == nil {
		t.Sources = []*Source{}
	}
	for _, s := range t.Sources {
		s.HL = next()
		if s.Receivers == nil {
			s.Receivers = []*Receiver{}
		}
		for _, v := range s.Receivers {
			v.HL = next()
			v.Outcome = OutcomeOf(v.Statuses)
			if v.Providers == nil {
				v.Providers = []*Provider{}
			}
			for _, p := range v.Providers {
				p.HL = next()
				p.Outcome = OutcomeOf(p.Statuses)
				if p.Patients == nil {
					p.Patients = []*Patient{}
				}
				for _, pt := range p.Patients {
					pt.HL = next()
					if pt.Claims == nil {
						pt.Claims = []*Claim{}
					}
					for _, c := range pt.Claims {
						c.Outcome = OutcomeOf(c.Statuses)
						for i := range c.Lines {
							c.Lines[i].Outcome = OutcomeOf(c.Lines[i].Statuses)
						}
					}
				}
			}
		}
	}
}
