package demo

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/claimgate/claimgate/edi/codes"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/reconcile"
)

// Summary is what the demo's claims came to, read from the claim store.
type Summary struct {
	Claims  int                 `json:"claims"`
	Settled int                 `json:"settled"`
	ByState map[claim.State]int `json:"by_state"`
	// Submitted counts the claims sent to a payer (not held back by the
	// scrubber); FirstPass those of them accepted by both the 999 and
	// the 277CA on their first submission.
	Submitted int `json:"submitted"`
	FirstPass int `json:"first_pass"`
	// Rejections group rejected claims by stage and code.
	Rejections []Rejection `json:"rejections"`
	// Denials group 835 denials (claim or line) by denial category.
	Denials []Denial `json:"denials"`
	// Billed, Paid and Patient are the 835 amounts (CLP03, CLP04,
	// CLP05) summed over the adjudicated claims.
	Billed  claim.Money `json:"billed"`
	Paid    claim.Money `json:"paid"`
	Patient claim.Money `json:"patient_responsibility"`
	// Adjudicated counts the claims with an 835.
	Adjudicated int `json:"adjudicated"`
	// To999, To277CA and To835 are the times from submission to each
	// response (in the demo: the simulator's delays plus polling).
	To999, To277CA, To835 Latency `json:"-"`
	// Example is a claim worth looking at (a partially paid or denied
	// one if any): the curl in "where to look next" names it.
	Example string `json:"example"`
}

// Rejection is a group of claims rejected at one stage for one reason.
type Rejection struct {
	Stage  string   `json:"stage"` // scrubber, 999, 277CA
	Code   string   `json:"code"`  // edit id, IK3/IK4/IK5 codes, STC code
	Text   string   `json:"text"`
	Claims []string `json:"claims"`
}

// Denial is one denial category and the adjustments in it.
type Denial struct {
	Category string       `json:"category"`
	Claims   int          `json:"claims"` // claims with at least one adjustment in it
	Amount   claim.Money  `json:"amount"`
	Codes    []DenialCode `json:"codes"`
}

// DenialCode is one group code and CARC within a category.
type DenialCode struct {
	Code   string      `json:"code"` // e.g. CO-197
	Text   string      `json:"text"` // the CARC's description
	Claims int         `json:"claims"`
	Amount claim.Money `json:"amount"`
}

// Latency summarises durations.
type Latency struct {
	N         int
	Mean, Max time.Duration
}

func (l *Latency) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	l.Mean = (l.Mean*time.Duration(l.N) + d) / time.Duration(l.N+1)
	l.N++
	l.Max = max(l.Max, d)
}

// getter is the claim store's read side.
type getter interface {
	Get(ctx context.Context, id string) (*reconcile.Record, error)
}

// summarise reads every claim's record and sums them up.
func summarise(ctx context.Context, st getter, ids []string) (*Summary, error) {
	ids = slices.Clone(ids)
	sort.Strings(ids)
	s := &Summary{Claims: len(ids), ByState: map[claim.State]int{}}
	rej := map[string]*Rejection{}
	den := map[string]*Denial{}
	denCode := map[string]map[string]*DenialCode{}
	var partial, denied string
	for _, id := range ids {
		rec, err := st.Get(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("claim store: %w", err)
		}
		if rec == nil {
			s.ByState[""]++
			continue
		}
		s.ByState[rec.State]++
		if Settled(rec.State) {
			s.Settled++
		}
		if rec.State == claim.PartiallyPaid && partial == "" {
			partial = id
		}
		if rec.State == claim.Denied && denied == "" {
			denied = id
		}
		var submitted time.Time
		first999, first277, first835 := time.Time{}, time.Time{}, time.Time{}
		rejectedAt := ""
		for _, ev := range rec.Timeline {
			switch {
			case ev.State == claim.Submitted:
				submitted = ev.Time
			case ev.Kind == reconcile.Kind999 && first999.IsZero():
				first999 = ev.Time
			case ev.Kind == reconcile.Kind277CA && first277.IsZero():
				first277 = ev.Time
			case ev.Kind == reconcile.Kind835 && first835.IsZero():
				first835 = ev.Time
			}
			if ev.State == claim.AckRejected || ev.State == claim.PayerRejected {
				rejectedAt = string(ev.Kind)
			}
			if ev.State == rec.State {
				switch ev.State {
				case claim.ScrubRejected, claim.AckRejected, claim.PayerRejected:
					addRejection(rej, ev, id)
				case claim.Paid, claim.PartiallyPaid, claim.Denied:
					addDenials(den, denCode, ev)
				}
			}
		}
		if !submitted.IsZero() {
			s.Submitted++
			if rejectedAt == "" && rec.State != claim.Submitted && rec.State != claim.Queued {
				s.FirstPass++
			}
			if !first999.IsZero() {
				s.To999.add(first999.Sub(submitted))
			}
			if !first277.IsZero() {
				s.To277CA.add(first277.Sub(submitted))
			}
			if !first835.IsZero() {
				s.To835.add(first835.Sub(submitted))
			}
		}
		if rec.Amounts != nil && (rec.State == claim.Paid || rec.State == claim.PartiallyPaid || rec.State == claim.Denied) {
			s.Adjudicated++
			s.Billed += rec.Amounts.Billed
			s.Paid += rec.Amounts.Paid
			s.Patient += rec.Amounts.PatientResponsibility
		}
	}
	s.Example = partial
	if s.Example == "" {
		s.Example = denied
	}
	if s.Example == "" && len(ids) > 0 {
		s.Example = ids[0]
	}
	for _, r := range rej {
		s.Rejections = append(s.Rejections, *r)
	}
	stageOrder := map[string]int{"scrubber": 0, "999": 1, "277CA": 2}
	sort.Slice(s.Rejections, func(i, j int) bool {
		a, b := s.Rejections[i], s.Rejections[j]
		if a.Stage != b.Stage {
			return stageOrder[a.Stage] < stageOrder[b.Stage]
		}
		if len(a.Claims) != len(b.Claims) {
			return len(a.Claims) > len(b.Claims)
		}
		return a.Code < b.Code
	})
	for cat, d := range den {
		for _, c := range denCode[cat] {
			d.Codes = append(d.Codes, *c)
		}
		sort.Slice(d.Codes, func(i, j int) bool {
			if d.Codes[i].Claims != d.Codes[j].Claims {
				return d.Codes[i].Claims > d.Codes[j].Claims
			}
			return d.Codes[i].Code < d.Codes[j].Code
		})
		s.Denials = append(s.Denials, *d)
	}
	sort.Slice(s.Denials, func(i, j int) bool {
		if s.Denials[i].Claims != s.Denials[j].Claims {
			return s.Denials[i].Claims > s.Denials[j].Claims
		}
		return s.Denials[i].Category < s.Denials[j].Category
	})
	return s, nil
}

// addRejection files a rejected claim under its stage and reason codes.
// Reasons carry codes and code-set texts, never patient data.
func addRejection(rej map[string]*Rejection, ev reconcile.Event, id string) {
	var stage string
	var codesSeen, texts []string
	switch ev.State {
	case claim.ScrubRejected:
		stage = "scrubber"
		// One group per edit: the first reason names it.
		if len(ev.Reasons) > 0 {
			codesSeen = append(codesSeen, ev.Reasons[0].Code)
			texts = append(texts, ev.Reasons[0].Text)
		}
	case claim.AckRejected:
		stage = "999"
		for _, r := range ev.Reasons {
			if r.Source == "IK5" || r.Source == "AK9" {
				continue // "rejected": the IK3/IK4 say why
			}
			if c := r.Source + " " + r.Code + where(r); !slices.Contains(codesSeen, c) {
				codesSeen = append(codesSeen, c)
			}
			if !slices.Contains(texts, r.Text) {
				texts = append(texts, r.Text)
			}
		}
		if len(codesSeen) == 0 {
			codesSeen = append(codesSeen, "IK5 "+ev.Status)
			texts = append(texts, "transaction set rejected")
		}
	case claim.PayerRejected:
		stage = "277CA"
		for _, r := range ev.Reasons {
			c := r.Category + ":" + r.Code
			if r.Entity != "" {
				c += ":" + r.Entity
			}
			if !slices.Contains(codesSeen, c) {
				codesSeen = append(codesSeen, c)
			}
			if !slices.Contains(texts, r.Text) {
				texts = append(texts, r.Text)
			}
		}
	}
	code := strings.Join(codesSeen, ", ")
	key := stage + "\x00" + code
	r := rej[key]
	if r == nil {
		r = &Rejection{Stage: stage, Code: code, Text: strings.Join(texts, "; ")}
		rej[key] = r
	}
	r.Claims = append(r.Claims, id)
}

// where locates a 999 error in our 837P (segment id and position,
// element).
func where(r reconcile.Reason) string {
	switch {
	case r.Source == "IK3" && r.Segment != "":
		return " (" + r.Segment + ")"
	case r.Source == "IK4" && r.Element > 0:
		return fmt.Sprintf(" (element %d)", r.Element)
	}
	return ""
}

// addDenials adds an 835's adjustments that are denials (claim and line
// level) to their categories.
func addDenials(den map[string]*Denial, denCode map[string]map[string]*DenialCode, ev reconcile.Event) {
	seenCat := map[string]bool{}
	seenCode := map[string]bool{}
	add := func(r reconcile.Reason) {
		if r.Source != "CAS" || r.DenialCategory == "" {
			return
		}
		cat, ok := codes.ParseCategory(r.DenialCategory)
		if !ok || !cat.IsDenial() {
			return
		}
		d := den[r.DenialCategory]
		if d == nil {
			d = &Denial{Category: r.DenialCategory}
			den[r.DenialCategory] = d
			denCode[r.DenialCategory] = map[string]*DenialCode{}
		}
		code := r.Group + "-" + r.Code
		c := denCode[r.DenialCategory][code]
		if c == nil {
			text := r.Text
			if text == "" {
				if cc, ok := codes.CARC().Lookup(r.Code); ok {
					text = cc.Description
				}
			}
			c = &DenialCode{Code: code, Text: text}
			denCode[r.DenialCategory][code] = c
		}
		d.Amount += r.Amount
		c.Amount += r.Amount
		if !seenCat[r.DenialCategory] {
			seenCat[r.DenialCategory] = true
			d.Claims++
		}
		if !seenCode[code] {
			seenCode[code] = true
			c.Claims++
		}
	}
	for _, r := range ev.Reasons {
		add(r)
	}
	for _, l := range ev.Lines {
		for _, r := range l.Reasons {
			add(r)
		}
	}
}

// money formats an amount as $1,234.56.
func money(m claim.Money) string {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign, v = "-", -v
	}
	whole := fmt.Sprint(v / 100)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return fmt.Sprintf("%s$%s.%02d", sign, whole, v%100)
}

func pct(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}

// Where is what "where to look next" names.
type Where struct {
	APIURL     string // "" when the binary has no HTTP API
	MetricsURL string
	Token      string
	DataDir    string
	NATSURL    string
	Keep       bool
	Temporary  bool // DataDir is removed at the end
}

// finalOrder lists the final states first in the summary.
var finalOrder = []claim.State{claim.Paid, claim.PartiallyPaid, claim.Denied, claim.ScrubRejected, claim.AckRejected,
	claim.PayerRejected, claim.Reversed, claim.PayerAccepted, claim.AckAccepted, claim.Submitted, claim.Queued, claim.Received, ""}

// Write prints the summary for a person.
func (s *Summary) Write(w io.Writer, took time.Duration, wh Where) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("")
	if s.Settled == s.Claims {
		p("== every claim settled: %d of %d in %.1fs", s.Settled, s.Claims, took.Seconds())
	} else {
		p("== NOT every claim settled: %d of %d in %.1fs", s.Settled, s.Claims, took.Seconds())
	}
	p("")
	p("Claims by final state")
	for _, st := range finalOrder {
		if n := s.ByState[st]; n > 0 {
			name := string(st)
			if st == "" {
				name = "(never received)"
			}
			p("  %-16s %4d  %6s", name, n, pct(n, s.Claims))
		}
	}
	p("")
	p("First-pass acceptance: %s (%d of %d claims sent to payers accepted by the 999 and the 277CA)",
		pct(s.FirstPass, s.Submitted), s.FirstPass, s.Submitted)
	p("Clean-claim rate:      %s (%d of %d claims passed the scrubber and both acknowledgments)",
		pct(s.FirstPass, s.Claims), s.FirstPass, s.Claims)
	if len(s.Rejections) > 0 {
		p("")
		p("Rejections")
		for _, r := range s.Rejections {
			ex := r.Claims[0]
			if len(r.Claims) > 1 {
				ex += ", ..."
			}
			p("  %-8s %3d  %s: %s  (e.g. %s)", r.Stage, len(r.Claims), r.Code, r.Text, ex)
		}
	}
	if len(s.Denials) > 0 {
		p("")
		p("Denials by category (835 adjustments, claim or line)")
		for _, d := range s.Denials {
			p("  %-18s %3d claim(s)  %s", d.Category, d.Claims, money(d.Amount))
			for _, c := range d.Codes {
				p("      %-7s %3d  %s  %s", c.Code, c.Claims, money(c.Amount), c.Text)
			}
		}
	}
	p("")
	p("Amounts (%d claims adjudicated)", s.Adjudicated)
	p("  billed                  %12s", money(s.Billed))
	p("  paid                    %12s", money(s.Paid))
	p("  patient responsibility  %12s", money(s.Patient))
	p("")
	p("Time from submission to response (simulated: the demo payers answer in seconds, real ones in hours to weeks)")
	for _, l := range []struct {
		name string
		l    Latency
	}{{"999", s.To999}, {"277CA", s.To277CA}, {"835", s.To835}} {
		if l.l.N == 0 {
			p("  %-6s none", l.name)
			continue
		}
		p("  %-6s mean %5.1fs  max %5.1fs  (%d claims)", l.name, l.l.Mean.Seconds(), l.l.Max.Seconds(), l.l.N)
	}
	p("")
	p("Where to look next")
	if wh.APIURL != "" {
		p("  API:      %s   (bearer token %s)", wh.APIURL, wh.Token)
		if wh.MetricsURL != "" {
			p("  metrics:  %s", wh.MetricsURL)
		}
		p("  a claim's timeline:")
		p("    curl -s -H 'Authorization: Bearer %s' %s/v1/claims/%s", wh.Token, wh.APIURL, s.Example)
		p("  claims denied: curl -s -H 'Authorization: Bearer %s' '%s/v1/claims?state=denied'", wh.Token, wh.APIURL)
	} else {
		p("  HTTP API: not in this build (pkg/api); batches were handed over with gateway.Submit")
	}
	if wh.Keep {
		p("  NATS:     %s  (claimgate submit --data %s BATCH posts more)", wh.NATSURL, wh.DataDir)
		gone := ""
		if wh.Temporary {
			gone = "; removed when the demo stops"
		}
		p("  data:     %s  (configuration, logs, JetStream store%s)", wh.DataDir, gone)
		p("  the gateway keeps running: Ctrl-C stops it")
	} else {
		p("  make run KEEP=1 (claimgate demo --keep) leaves the gateway running to explore")
	}
}
