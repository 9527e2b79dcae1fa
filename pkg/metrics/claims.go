package metrics

import (
	"time"

	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/reconcile"
)

// ClaimApplied feeds the claim counters from one event the claim store
// applied: ev as stored (Effect set: Moved or Recorded; duplicates and
// refusals are ignored, so an event applied twice counts once) and rec,
// the claim's record after it (its timeline gives the submission time).
// pkg/bus's ClaimStore.OnApplied calls it for every event it stores.
func (m *Metrics) ClaimApplied(ev reconcile.Event, rec *reconcile.Record) {
	if m == nil || (ev.Effect != reconcile.Moved && ev.Effect != reconcile.Recorded) {
		return
	}
	pid := ev.PayerID
	if pid == "" && rec != nil {
		pid = rec.Payer
	}
	payer := m.payer(pid)
	if ev.Effect == reconcile.Moved {
		m.moved(payer, ev)
	}
	switch ev.Kind {
	case reconcile.Kind999, reconcile.Kind277CA, reconcile.Kind835:
		if sub := SubmittedAt(rec); !sub.IsZero() {
			m.responseTime.WithLabelValues(payer, string(ev.Kind)).Observe(max(ev.Time.Sub(sub).Seconds(), 0))
		}
	}
}

func (m *Metrics) moved(payer string, ev reconcile.Event) {
	m.transitions.WithLabelValues(payer, string(ev.State)).Inc()
	switch ev.State {
	case claim.Received:
		m.received.WithLabelValues(payer).Inc()
	case claim.ScrubRejected:
		// One increment per edit id: a claim failing one edit on three
		// lines counts once for it.
		var done []string
		for _, r := range ev.Reasons {
			if r.Code == "" || contains(done, r.Code) {
				continue
			}
			done = append(done, r.Code)
			m.scrubRejected.WithLabelValues(payer, m.edits.value(r.Code)).Inc()
		}
		if len(done) == 0 {
			m.scrubRejected.WithLabelValues(payer, Unknown).Inc()
		}
	case claim.Submitted:
		if ev.Amounts != nil && ev.Amounts.Billed > 0 {
			m.billed.WithLabelValues(payer).Add(dollars(ev.Amounts.Billed))
		}
	case claim.AckRejected, claim.PayerRejected:
		m.responseRejections.WithLabelValues(payer, fileType(string(ev.Kind))).Inc()
	case claim.Denied:
		m.denied.WithLabelValues(payer, m.categories.value(ev.DenialCategory)).Inc()
	}
	if ev.Kind == reconcile.Kind835 && ev.Amounts != nil {
		// A reversal's negative amounts cannot lower a counter: they
		// count up claimgate_reversed_paid_dollars_total, and net
		// payments are the difference of the two.
		if ev.Amounts.Paid > 0 {
			m.paid.WithLabelValues(payer).Add(dollars(ev.Amounts.Paid))
		} else if ev.Amounts.Paid < 0 {
			m.reversedPaid.WithLabelValues(payer).Add(dollars(-ev.Amounts.Paid))
		}
		if ev.Amounts.PatientResponsibility > 0 {
			m.patientResp.WithLabelValues(payer).Add(dollars(ev.Amounts.PatientResponsibility))
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// dollars converts cents to dollars.
func dollars(m claim.Money) float64 { return float64(m) / 100 }

// SubmittedAt is when the claim was submitted: the time of the last move
// to submitted in its timeline (zero when the timeline has none).
func SubmittedAt(rec *reconcile.Record) time.Time {
	if rec == nil {
		return time.Time{}
	}
	for i := len(rec.Timeline) - 1; i >= 0; i-- {
		e := &rec.Timeline[i]
		if e.State == claim.Submitted && e.Effect == reconcile.Moved {
			return e.Time
		}
	}
	return time.Time{}
}
