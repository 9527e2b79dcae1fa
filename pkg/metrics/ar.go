package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/reconcile"
	"github.com/prometheus/client_golang/prometheus"
)

// RecordSource streams every claim record of the claim store as its
// JSON (a reconcile.Record); pkg/bus's ClaimStore implements it.
type RecordSource interface {
	ScanRecords(ctx context.Context, fn func(record []byte) error) error
}

// OpenStates are the states claimgate_open_claims reports: claims not
// settled. AR (dollars, age) counts the submitted ones among them.
var OpenStates = []claim.State{claim.Queued, claim.Submitted, claim.AckAccepted, claim.PayerAccepted}

// AwaitTypes are the response types claimgate_oldest_submission_awaiting_seconds
// reports.
var AwaitTypes = []reconcile.Kind{reconcile.Kind999, reconcile.Kind277CA, reconcile.Kind835}

// ARSnapshot is the accounts-receivable picture of one scan of the claim
// store.
type ARSnapshot struct {
	At     time.Time
	Claims int // records read
	Payers map[string]*PayerAR
}

// PayerAR is one payer's open claims.
type PayerAR struct {
	Open        map[claim.State]int
	BilledCents int64   // billed amount of submitted, unsettled claims
	AgeSeconds  float64 // sum of their ages
	Aged        int     // claims in AgeSeconds
	// Oldest is the submission time of the oldest claim still waiting
	// for each response type.
	Oldest map[reconcile.Kind]time.Time
}

// arRecord is the part of a claim record the scan reads (decoding the
// rest, reasons and line results, would cost most of the scan).
type arRecord struct {
	Payer   string      `json:"payer"`
	State   claim.State `json:"state"`
	Amounts *struct {
		Billed claim.Money `json:"billed"`
	} `json:"amounts"`
	Timeline []struct {
		Kind   reconcile.Kind   `json:"kind"`
		State  claim.State      `json:"state"`
		Effect reconcile.Change `json:"effect"`
		Time   time.Time        `json:"time"`
	} `json:"timeline"`
}

// ScanAR reads every claim record of src once and sums the open claims
// per payer as of now.
func ScanAR(ctx context.Context, src RecordSource, now time.Time) (*ARSnapshot, error) {
	s := &ARSnapshot{At: now, Payers: map[string]*PayerAR{}}
	err := src.ScanRecords(ctx, func(b []byte) error {
		s.Claims++
		if settled(b) {
			return nil
		}
		var r arRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("metrics: a damaged claim record: %w", err)
		}
		s.add(&r)
		return nil
	})
	return s, err
}

// stateKey is how a record's state starts in its JSON. A record is
// written id, payer, state, ... (reconcile.Record's field order): the
// first match is the claim's own state, since a quote inside the id or
// payer string is escaped and cannot close it.
var stateKey = []byte(`"state":"`)

// settled reports, from the record's first bytes, that the claim is in
// none of the OpenStates, so the scan need not decode it: most records
// are settled claims, and decoding is nearly all of the scan's cost.
// False when unsure (the record is then decoded).
func settled(b []byte) bool {
	i := bytes.Index(b[:min(len(b), 512)], stateKey)
	if i < 0 {
		return false
	}
	v := b[i+len(stateKey):]
	j := bytes.IndexByte(v, '"')
	if j < 0 {
		return false
	}
	return slices.Contains(notOpen, claim.State(v[:j]))
}

// notOpen are the states add skips (every state but OpenStates).
var notOpen = []claim.State{claim.Received, claim.ScrubRejected, claim.AckRejected, claim.PayerRejected,
	claim.Paid, claim.PartiallyPaid, claim.Denied, claim.Reversed}

func (s *ARSnapshot) add(r *arRecord) {
	var waiting []reconcile.Kind
	switch r.State {
	case claim.Queued:
	case claim.Submitted:
		waiting = AwaitTypes
	case claim.AckAccepted:
		waiting = AwaitTypes[1:]
	case claim.PayerAccepted:
		waiting = AwaitTypes[2:]
	default:
		return
	}
	p := s.Payers[r.Payer]
	if p == nil {
		p = &PayerAR{Open: map[claim.State]int{}, Oldest: map[reconcile.Kind]time.Time{}}
		s.Payers[r.Payer] = p
	}
	p.Open[r.State]++
	if r.State == claim.Queued {
		return
	}
	if r.Amounts != nil {
		p.BilledCents += int64(r.Amounts.Billed)
	}
	var sub time.Time
	got := map[reconcile.Kind]bool{}
	for _, e := range r.Timeline {
		got[e.Kind] = true
		if e.State == claim.Submitted && e.Effect == reconcile.Moved {
			sub = e.Time
		}
	}
	if sub.IsZero() {
		return // timeline cut (MaxTimeline): age unknown
	}
	p.AgeSeconds += max(s.At.Sub(sub).Seconds(), 0)
	p.Aged++
	for _, k := range waiting {
		// A response recorded without a move (a 277CA "pending") was
		// received all the same: the claim is not lost.
		if got[k] {
			continue
		}
		if o, ok := p.Oldest[k]; !ok || sub.Before(o) {
			p.Oldest[k] = sub
		}
	}
}

// SetAR exports a scan's gauges. Every payer seen so far (KnownPayers,
// claim events, scans) gets a value, 0 when it has no open claim, so a
// payer's last claim settling shows as 0, not as a stale value.
func (m *Metrics) SetAR(s *ARSnapshot) {
	if m == nil || s == nil {
		return
	}
	type agg struct {
		open    map[claim.State]int
		cents   int64
		age     float64
		aged    int
		oldests map[reconcile.Kind]time.Time
	}
	by := map[string]*agg{}
	get := func(label string) *agg {
		a := by[label]
		if a == nil {
			a = &agg{open: map[claim.State]int{}, oldests: map[reconcile.Kind]time.Time{}}
			by[label] = a
		}
		return a
	}
	for id, p := range s.Payers {
		a := get(m.payer(id))
		for st, n := range p.Open {
			a.open[st] += n
		}
		a.cents += p.BilledCents
		a.age += p.AgeSeconds
		a.aged += p.Aged
		for k, t := range p.Oldest {
			if o, ok := a.oldests[k]; !ok || t.Before(o) {
				a.oldests[k] = t
			}
		}
	}
	for _, label := range m.payers.values() {
		get(label)
	}
	ages := map[string]ageSum{}
	for label, a := range by {
		for _, st := range OpenStates {
			m.openClaims.WithLabelValues(label, string(st)).Set(float64(a.open[st]))
		}
		m.openAR.WithLabelValues(label).Set(float64(a.cents) / 100)
		ages[label] = ageSum{a.age, a.aged}
		for _, k := range AwaitTypes {
			age := 0.0
			if t, ok := a.oldests[k]; ok {
				age = max(s.At.Sub(t).Seconds(), 0)
			}
			m.oldestAwait.WithLabelValues(label, string(k)).Set(age)
		}
	}
	m.openAge.set(ages)
}

// ClearAR removes the AR gauges: a replica that lost the metrics lease
// exports none, so only the holder's values are seen.
func (m *Metrics) ClearAR() {
	if m == nil {
		return
	}
	m.openClaims.Reset()
	m.openAR.Reset()
	m.openAge.set(nil)
	m.oldestAwait.Reset()
}

// descAge is claimgate_open_ar_age_seconds: a summary without quantiles,
// so its _sum (the sum of the open claims' ages, the catalogue's
// claimgate_open_ar_age_seconds_sum) comes with its _count (the claims
// summed) and mean age is _sum / _count. A gauge named ..._sum would
// fail the exposition linters (promtool check metrics).
var descAge = prometheus.NewDesc(ns+"_open_ar_age_seconds", "Ages (time since submission) of submitted, unsettled claims: _sum is their sum, _count how many; lease holder only.", []string{"payer"}, nil)

type ageSum struct {
	sum   float64
	count int
}

// ageCollector exports the last scan's ages.
type ageCollector struct {
	mu   sync.Mutex
	ages map[string]ageSum
}

func (c *ageCollector) set(ages map[string]ageSum) {
	c.mu.Lock()
	c.ages = ages
	c.mu.Unlock()
}

func (c *ageCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descAge }

func (c *ageCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for label, a := range c.ages {
		ch <- prometheus.MustNewConstSummary(descAge, uint64(a.count), a.sum, nil, label)
	}
}
