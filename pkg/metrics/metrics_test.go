package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/reconcile"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// life applies a claim's events to a record, as the claim store does,
// feeding each stored one to m; it returns the record.
func life(m *Metrics, rec *reconcile.Record, evs ...reconcile.Event) *reconcile.Record {
	if rec == nil {
		rec = &reconcile.Record{}
	}
	for _, ev := range evs {
		ch, stored := rec.Apply(ev, ev.Time)
		if ch == reconcile.Moved || ch == reconcile.Recorded {
			m.ClaimApplied(stored, rec)
		}
	}
	return rec
}

func ev(id, claimID, payer string, kind reconcile.Kind, st claim.State, at time.Duration) reconcile.Event {
	return reconcile.Event{ID: id + "/" + claimID, ClaimID: claimID, PayerID: payer, Kind: kind, State: st, Time: t0.Add(at)}
}

func amounts(billed, paid, pr claim.Money) *reconcile.Amounts {
	return &reconcile.Amounts{Billed: billed, Paid: paid, PatientResponsibility: pr}
}

// feed runs a known sequence of claims through m:
//   - A1 (payer P1, $120.00): submitted, 999 accepted after 2 min, 277CA
//     accepted after 1 h, 835 paid $80.00 (patient $20.00) after 3 days;
//   - A2 (P1, $50.00): submitted, 999 rejected after 30 s;
//   - A3 (P2, $75.50): submitted, 277CA rejected after 10 min;
//   - A4 (P2, $200.00): submitted, 835 denied (authorization) after 2 days;
//   - A5 (P2): scrub-rejected by two edits (NPI-INVALID twice, on two
//     lines, and GP-MISSING);
//   - A6 (P1, $30.00): submitted, still waiting.
//
// Every event is then applied again: duplicates count nothing.
func feed(m *Metrics) map[string]*reconcile.Record {
	recs := map[string]*reconcile.Record{}
	submitted := func(c, p string, billed claim.Money) []reconcile.Event {
		s := ev("s", c, p, "submission", claim.Submitted, 0)
		s.Amounts = amounts(billed, 0, 0)
		return []reconcile.Event{ev("r", c, p, "ingest", claim.Received, -time.Hour), ev("q", c, p, "ingest", claim.Queued, -time.Hour), s}
	}
	all := map[string][]reconcile.Event{}
	a1 := submitted("A1", "P1", 12000)
	paid := ev("835", "A1", "P1", reconcile.Kind835, claim.Paid, 72*time.Hour)
	paid.Amounts = amounts(12000, 8000, 2000)
	all["A1"] = append(a1, ev("999", "A1", "P1", reconcile.Kind999, claim.AckAccepted, 2*time.Minute),
		ev("277", "A1", "P1", reconcile.Kind277CA, claim.PayerAccepted, time.Hour), paid)
	all["A2"] = append(submitted("A2", "P1", 5000), ev("999", "A2", "P1", reconcile.Kind999, claim.AckRejected, 30*time.Second))
	all["A3"] = append(submitted("A3", "P2", 7550), ev("277", "A3", "P2", reconcile.Kind277CA, claim.PayerRejected, 10*time.Minute))
	den := ev("835", "A4", "P2", reconcile.Kind835, claim.Denied, 48*time.Hour)
	den.Amounts, den.DenialCategory = amounts(20000, 0, 0), "authorization"
	all["A4"] = append(submitted("A4", "P2", 20000), den)
	rej := ev("x", "A5", "P2", "ingest", claim.ScrubRejected, -time.Hour)
	rej.Reasons = []reconcile.Reason{{Source: "scrub", Code: "NPI-INVALID"}, {Source: "scrub", Code: "NPI-INVALID"}, {Source: "scrub", Code: "GP-MISSING"}}
	all["A5"] = []reconcile.Event{ev("r", "A5", "P2", "ingest", claim.Received, -time.Hour), rej}
	all["A6"] = submitted("A6", "P1", 3000)
	for _, c := range []string{"A1", "A2", "A3", "A4", "A5", "A6"} {
		recs[c] = life(m, nil, all[c]...)
	}
	for _, c := range []string{"A1", "A2", "A3", "A4", "A5", "A6"} {
		life(m, recs[c], all[c]...) // duplicates
	}
	return recs
}

func TestClaimCounters(t *testing.T) {
	m := New()
	feed(m)
	want := map[string]float64{
		`claimgate_claims_received_total{payer="P1"}`:                          3,
		`claimgate_claims_received_total{payer="P2"}`:                          3,
		`claimgate_claims_scrub_rejected_total{edit="NPI-INVALID",payer="P2"}`: 1,
		`claimgate_claims_scrub_rejected_total{edit="GP-MISSING",payer="P2"}`:  1,
		`claimgate_claim_transitions_total{payer="P1",state="received"}`:       3,
		`claimgate_claim_transitions_total{payer="P1",state="queued"}`:         3,
		`claimgate_claim_transitions_total{payer="P1",state="submitted"}`:      3,
		`claimgate_claim_transitions_total{payer="P1",state="ack_accepted"}`:   1,
		`claimgate_claim_transitions_total{payer="P1",state="ack_rejected"}`:   1,
		`claimgate_claim_transitions_total{payer="P1",state="payer_accepted"}`: 1,
		`claimgate_claim_transitions_total{payer="P1",state="paid"}`:           1,
		`claimgate_claim_transitions_total{payer="P2",state="received"}`:       3,
		`claimgate_claim_transitions_total{payer="P2",state="queued"}`:         2,
		`claimgate_claim_transitions_total{payer="P2",state="submitted"}`:      2,
		`claimgate_claim_transitions_total{payer="P2",state="payer_rejected"}`: 1,
		`claimgate_claim_transitions_total{payer="P2",state="denied"}`:         1,
		`claimgate_claim_transitions_total{payer="P2",state="scrub_rejected"}`: 1,
		`claimgate_response_rejections_total{payer="P1",type="999"}`:           1,
		`claimgate_response_rejections_total{payer="P2",type="277ca"}`:         1,
		`claimgate_claims_denied_total{category="authorization",payer="P2"}`:   1,
		`claimgate_billed_dollars_total{payer="P1"}`:                           200,
		`claimgate_billed_dollars_total{payer="P2"}`:                           275.5,
		`claimgate_paid_dollars_total{payer="P1"}`:                             80,
		`claimgate_patient_responsibility_dollars_total{payer="P1"}`:           20,
		`claimgate_response_time_seconds_count{payer="P1",type="999"}`:         2,
		`claimgate_response_time_seconds_sum{payer="P1",type="999"}`:           150,
		`claimgate_response_time_seconds_count{payer="P1",type="277ca"}`:       1,
		`claimgate_response_time_seconds_sum{payer="P1",type="277ca"}`:         3600,
		`claimgate_response_time_seconds_count{payer="P1",type="835"}`:         1,
		`claimgate_response_time_seconds_sum{payer="P1",type="835"}`:           72 * 3600,
		`claimgate_response_time_seconds_count{payer="P2",type="277ca"}`:       1,
		`claimgate_response_time_seconds_count{payer="P2",type="835"}`:         1,
		`claimgate_response_time_seconds_sum{payer="P2",type="835"}`:           48 * 3600,
		// 10 min = 600 s falls in the 900 s bucket, not the 300 s one.
		`claimgate_response_time_seconds_bucket{le="300",payer="P2",type="277ca"}`: 0,
		`claimgate_response_time_seconds_bucket{le="900",payer="P2",type="277ca"}`: 1,
	}
	got := samples(t, m.Registry())
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	// Nothing more than what was fed: no other transition series, no
	// paid dollars for P2 (denied: CLP04 0).
	n := 0
	for k := range got {
		if strings.HasPrefix(k, "claimgate_claim_transitions_total{") {
			n++
		}
		if strings.HasPrefix(k, `claimgate_paid_dollars_total{payer="P2"`) {
			t.Errorf("%s = %v for a denied claim", k, got[k])
		}
	}
	if n != 13 {
		t.Errorf("%d transition series, want 13", n)
	}
}

// samples gathers reg into "name{labels}" → value, labels sorted by
// name as the exposition format has them.
func samples(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	key := func(name string, lbls []string) string {
		if len(lbls) == 0 {
			return name
		}
		return name + "{" + strings.Join(lbls, ",") + "}"
	}
	for _, mf := range mfs {
		for _, mt := range mf.Metric {
			var lbls []string
			for _, lp := range mt.Label {
				lbls = append(lbls, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
			}
			switch {
			case mt.Counter != nil:
				out[key(mf.GetName(), lbls)] = mt.Counter.GetValue()
			case mt.Gauge != nil:
				out[key(mf.GetName(), lbls)] = mt.Gauge.GetValue()
			case mt.Summary != nil:
				out[key(mf.GetName()+"_count", lbls)] = float64(mt.Summary.GetSampleCount())
				out[key(mf.GetName()+"_sum", lbls)] = mt.Summary.GetSampleSum()
			case mt.Histogram != nil:
				h := mt.Histogram
				out[key(mf.GetName()+"_count", lbls)] = float64(h.GetSampleCount())
				out[key(mf.GetName()+"_sum", lbls)] = h.GetSampleSum()
				for _, b := range h.Bucket {
					l := append([]string{fmt.Sprintf("le=%q", fmt.Sprint(b.GetUpperBound()))}, lbls...)
					out[key(mf.GetName()+"_bucket", l)] = float64(b.GetCumulativeCount())
				}
			}
		}
	}
	return out
}

// TestLint: every family, once it has samples, passes client_golang's
// linter (names, units, help, counters ending _total).
func TestLint(t *testing.T) {
	m := New()
	feed(m)
	m.BatchDone("ingested")
	m.FileSent("P1")
	m.FileReceived("P1", "999", 2)
	m.SFTPOp("P1", "upload", 30*time.Millisecond, errors.New("boom"))
	m.StageDone("ingest", time.Second)
	m.ControlNumber(nil)
	m.ControlNumber(errors.New("kv down"))
	m.SetAR(&ARSnapshot{At: t0, Payers: map[string]*PayerAR{"P1": {Open: map[claim.State]int{claim.Submitted: 1}, BilledCents: 100, Oldest: map[reconcile.Kind]time.Time{}}}})
	probs, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	got := samples(t, m.Registry())
	for k, v := range map[string]float64{
		`claimgate_batches_total{result="ingested"}`:                              1,
		`claimgate_files_sent_total{payer="P1"}`:                                  1,
		`claimgate_files_received_total{payer="P1",type="999"}`:                   1,
		`claimgate_unmatched_responses_total{type="999"}`:                         2,
		`claimgate_sftp_errors_total{op="upload",payer="P1"}`:                     1,
		`claimgate_sftp_operation_duration_seconds_count{op="upload",payer="P1"}`: 1,
		`claimgate_stage_duration_seconds_count{stage="ingest"}`:                  1,
		`claimgate_control_numbers_allocated_total`:                               1,
		`claimgate_control_number_failures_total`:                                 1,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	var bi string
	for k := range got {
		if strings.HasPrefix(k, "claimgate_build_info{") {
			bi = k
		}
	}
	if !strings.Contains(bi, `goversion="go`) || got[bi] != 1 {
		t.Errorf("build info %q = %v", bi, got[bi])
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("no Go collector")
	}
}

// TestHandler: the handler serves the text format.
func TestHandler(t *testing.T) {
	m := New()
	m.FileSent("P9")
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `claimgate_files_sent_total{payer="P9"} 1`) {
		t.Fatalf("status %d, body:\n%s", resp.StatusCode, body)
	}
}

// TestNil: every method of a nil *Metrics does nothing.
func TestNil(t *testing.T) {
	var m *Metrics
	m.ClaimApplied(ev("a", "C", "P", reconcile.Kind835, claim.Paid, 0), nil)
	m.BatchDone("ingested")
	m.FileSent("P")
	m.FileReceived("P", "835", 1)
	m.SFTPOp("P", "list", time.Second, nil)
	if m.SFTPObserver("P") != nil {
		t.Error("observer of nil metrics")
	}
	m.StageDone("poll", time.Second)
	m.ControlNumber(nil)
	m.KnownPayers("P")
	m.SetAR(&ARSnapshot{})
	m.ClearAR()
	m.WatchJetStream(nil, nil)
	if m.Registry() != nil {
		t.Error("registry of nil metrics")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 404 {
		t.Errorf("nil handler: %d", rec.Code)
	}
}

// TestLabelCaps: label values past a cap become "other"; empty ones
// "unknown"; known payers always keep theirs.
func TestLabelCaps(t *testing.T) {
	m := New()
	m.KnownPayers("CONFIGURED")
	for i := range MaxPayers + 50 {
		m.FileSent(fmt.Sprintf("PAYER%d", i))
	}
	m.FileSent("CONFIGURED")
	m.FileSent("")
	got := samples(t, m.Registry())
	n := 0
	for k := range got {
		if strings.HasPrefix(k, "claimgate_files_sent_total{") {
			n++
		}
	}
	if n != MaxPayers+2 { // MaxPayers values (CONFIGURED among them), other, unknown
		t.Errorf("%d payer series, want %d", n, MaxPayers+2)
	}
	if got[`claimgate_files_sent_total{payer="other"}`] != 51 {
		t.Errorf("other = %v, want 51", got[`claimgate_files_sent_total{payer="other"}`])
	}
	if got[`claimgate_files_sent_total{payer="CONFIGURED"}`] != 1 || got[`claimgate_files_sent_total{payer="unknown"}`] != 1 {
		t.Errorf("configured %v, unknown %v", got[`claimgate_files_sent_total{payer="CONFIGURED"}`], got[`claimgate_files_sent_total{payer="unknown"}`])
	}
	m.FileReceived("CONFIGURED", "../etc/passwd", 0)
	if samples(t, m.Registry())[`claimgate_files_received_total{payer="CONFIGURED",type="unknown"}`] != 1 {
		t.Error("an unknown file type was not bounded")
	}
}

// records is a RecordSource over JSON records (a unit-test fake of the
// claim store's scan).
type records [][]byte

func (r records) ScanRecords(_ context.Context, fn func([]byte) error) error {
	for _, b := range r {
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

func TestAR(t *testing.T) {
	m := New()
	m.KnownPayers("P1", "P2", "P3")
	recs := feed(m) // A1 paid, A2 ack_rejected, A3 payer_rejected, A4 denied, A5 scrub_rejected, A6 submitted
	// More open claims: B1 (P2, $10) ack_accepted, submitted 5 h before
	// the scan; B2 (P2, $20) payer_accepted, submitted 30 h before; B3
	// (P1) queued; B4 (P1, $40) submitted, a 277CA "pending" recorded
	// (no move) but no 999 yet.
	now := t0.Add(36 * time.Hour)
	sub := func(c, p string, billed claim.Money, at time.Duration) []reconcile.Event {
		s := ev("s", c, p, "submission", claim.Submitted, at)
		s.Amounts = amounts(billed, 0, 0)
		return []reconcile.Event{ev("r", c, p, "ingest", claim.Received, at), ev("q", c, p, "ingest", claim.Queued, at), s}
	}
	recs["B1"] = life(m, nil, append(sub("B1", "P2", 1000, 31*time.Hour), ev("999", "B1", "P2", reconcile.Kind999, claim.AckAccepted, 32*time.Hour))...)
	recs["B2"] = life(m, nil, append(sub("B2", "P2", 2000, 6*time.Hour), ev("277", "B2", "P2", reconcile.Kind277CA, claim.PayerAccepted, 7*time.Hour))...)
	recs["B3"] = life(m, nil, ev("r", "B3", "P1", "ingest", claim.Received, 0), ev("q", "B3", "P1", "ingest", claim.Queued, 0))
	recs["B4"] = life(m, nil, append(sub("B4", "P1", 4000, 35*time.Hour), ev("277", "B4", "P1", reconcile.Kind277CA, "", 35*time.Hour+time.Minute))...)
	var src records
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b)
	}
	snap, err := ScanAR(context.Background(), src, now)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Claims != 10 {
		t.Fatalf("%d claims scanned, want 10", snap.Claims)
	}
	m.SetAR(snap)
	h := float64(time.Hour / time.Second)
	want := map[string]float64{
		// P1: A6 submitted at t0 (36 h ago, $30), B4 submitted 1 h ago
		// ($40), B3 queued.
		`claimgate_open_claims{payer="P1",state="submitted"}`:                   2,
		`claimgate_open_claims{payer="P1",state="queued"}`:                      1,
		`claimgate_open_claims{payer="P1",state="ack_accepted"}`:                0,
		`claimgate_open_ar_dollars{payer="P1"}`:                                 70,
		`claimgate_open_ar_age_seconds_sum{payer="P1"}`:                         37 * h,
		`claimgate_oldest_submission_awaiting_seconds{payer="P1",type="999"}`:   36 * h,
		`claimgate_oldest_submission_awaiting_seconds{payer="P1",type="277ca"}`: 36 * h, // A6; B4 got its 277CA
		`claimgate_oldest_submission_awaiting_seconds{payer="P1",type="835"}`:   36 * h,
		// P2: B1 ack_accepted (5 h, $10), B2 payer_accepted (30 h, $20).
		`claimgate_open_claims{payer="P2",state="ack_accepted"}`:                1,
		`claimgate_open_claims{payer="P2",state="payer_accepted"}`:              1,
		`claimgate_open_claims{payer="P2",state="submitted"}`:                   0,
		`claimgate_open_ar_dollars{payer="P2"}`:                                 30,
		`claimgate_open_ar_age_seconds_sum{payer="P2"}`:                         35 * h,
		`claimgate_oldest_submission_awaiting_seconds{payer="P2",type="999"}`:   0,
		`claimgate_oldest_submission_awaiting_seconds{payer="P2",type="277ca"}`: 5 * h,
		`claimgate_oldest_submission_awaiting_seconds{payer="P2",type="835"}`:   30 * h,
		// P3: configured, no claims.
		`claimgate_open_claims{payer="P3",state="submitted"}`:                 0,
		`claimgate_open_ar_dollars{payer="P3"}`:                               0,
		`claimgate_oldest_submission_awaiting_seconds{payer="P3",type="835"}`: 0,
	}
	got := samples(t, m.Registry())
	for k, v := range want {
		if w, ok := got[k]; !ok || w != v {
			t.Errorf("%s = %v (present %v), want %v", k, w, ok, v)
		}
	}
	m.ClearAR()
	for k := range samples(t, m.Registry()) {
		if strings.HasPrefix(k, "claimgate_open_") || strings.HasPrefix(k, "claimgate_oldest_") {
			t.Errorf("%s left after ClearAR", k)
		}
	}
	if _, err := ScanAR(context.Background(), records{[]byte("{")}, now); err == nil {
		t.Error("a damaged record scanned without error")
	}
}

func TestReplicasOffline(t *testing.T) {
	si := func(replicas int, cl *jetstream.ClusterInfo) *jetstream.StreamInfo {
		return &jetstream.StreamInfo{Config: jetstream.StreamConfig{Replicas: replicas}, Cluster: cl}
	}
	peer := func(current, offline bool) *jetstream.PeerInfo {
		return &jetstream.PeerInfo{Current: current, Offline: offline}
	}
	for _, c := range []struct {
		name string
		si   *jetstream.StreamInfo
		want int
	}{
		{"single server", si(1, &jetstream.ClusterInfo{Leader: "a"}), 0},
		{"not clustered", si(3, nil), 0},
		{"all current", si(3, &jetstream.ClusterInfo{Leader: "a", Replicas: []*jetstream.PeerInfo{peer(true, false), peer(true, false)}}), 0},
		{"one offline", si(3, &jetstream.ClusterInfo{Leader: "a", Replicas: []*jetstream.PeerInfo{peer(false, true), peer(true, false)}}), 1},
		{"one lagging", si(3, &jetstream.ClusterInfo{Leader: "a", Replicas: []*jetstream.PeerInfo{peer(true, false), peer(false, false)}}), 1},
		{"one missing", si(3, &jetstream.ClusterInfo{Leader: "a", Replicas: []*jetstream.PeerInfo{peer(true, false)}}), 1},
		{"no leader", si(3, &jetstream.ClusterInfo{}), 3},
	} {
		if got := ReplicasOffline(c.si); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

// BenchmarkScanARDecode is ScanAR's own share of a scan: decoding and
// summing 100,000 records already in memory (a claim acknowledged by a
// 999, as BenchmarkARScan in pkg/bus stores them), without JetStream.
func BenchmarkScanARDecode(b *testing.B) {
	m := New()
	ref := &reconcile.Ref{ClaimID: "CLM0000001", PayerID: "04412", Receiver: "NORIDIAN", Interchange: 1, Group: 1, Set: "0001", Batch: "000000001"}
	s := ev("s", "CLM0000001", "04412", "submission", claim.Submitted, 0)
	s.Submission, s.Amounts = ref, amounts(12345, 0, 0)
	s.Source = reconcile.Source{File: "04412-0f615f93-000000001.837", Digest: strings.Repeat("0f615f93", 8)}
	ack := ev("999", "CLM0000001", "04412", reconcile.Kind999, claim.AckAccepted, time.Minute)
	ack.Submission, ack.Status = ref, "A"
	rec := life(m, nil, ev("r", "CLM0000001", "04412", "ingest", claim.Received, 0), ev("q", "CLM0000001", "04412", "ingest", claim.Queued, 0), s, ack)
	one, err := json.Marshal(rec)
	if err != nil {
		b.Fatal(err)
	}
	src := make(records, 100000)
	for i := range src {
		src[i] = one
	}
	b.SetBytes(int64(len(one)) * int64(len(src)))
	b.ReportAllocs()
	for range b.N {
		snap, err := ScanAR(context.Background(), src, t0)
		if err != nil || snap.Claims != len(src) {
			b.Fatal(snap.Claims, err)
		}
	}
}

// BenchmarkClaimApplied is the cost the claim store's hook adds to each
// stored event (a 835 payment: transition, dollars, response time).
func BenchmarkClaimApplied(b *testing.B) {
	m := New()
	s := ev("s", "C1", "04412", "submission", claim.Submitted, 0)
	s.Amounts = amounts(12000, 0, 0)
	rec := life(m, nil, ev("r", "C1", "04412", "ingest", claim.Received, 0), ev("q", "C1", "04412", "ingest", claim.Queued, 0), s)
	paid := ev("835", "C1", "04412", reconcile.Kind835, claim.Paid, 48*time.Hour)
	paid.Amounts, paid.Effect, paid.Previous = amounts(12000, 8000, 2000), reconcile.Moved, claim.Submitted
	b.ReportAllocs()
	for range b.N {
		m.ClaimApplied(paid, rec)
	}
}

// TestSettledSkip: the scan's pre-check skips exactly the records whose
// claim is in no open state, reading the claim's own state even when the
// id or payer spells a state key, and decodes what it cannot tell.
func TestSettledSkip(t *testing.T) {
	all := []claim.State{claim.Received, claim.ScrubRejected, claim.Queued, claim.Submitted, claim.AckAccepted,
		claim.AckRejected, claim.PayerAccepted, claim.PayerRejected, claim.Paid, claim.PartiallyPaid, claim.Denied, claim.Reversed}
	if len(OpenStates)+len(notOpen) != len(all) {
		t.Fatalf("%d open and %d not-open states, want %d in all", len(OpenStates), len(notOpen), len(all))
	}
	for _, st := range all {
		for _, id := range []string{"C1", `x","state":"paid`, `y","state":"queued`} {
			rec := reconcile.Record{ID: id, Payer: `P","state":"denied`, State: st,
				Timeline: []reconcile.Event{{State: claim.Paid}, {State: claim.Queued}}}
			b, err := json.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			want := !slices.Contains(OpenStates, st)
			if got := settled(b); got != want {
				t.Errorf("state %s, id %q: settled %v, want %v (%s)", st, id, got, want, b)
			}
		}
	}
	for _, b := range []string{`{}`, `{"state":"paid`, `{"state":"bogus"}`, `not json`} {
		if settled([]byte(b)) {
			t.Errorf("%s: skipped, want decoded", b)
		}
	}
}

// TestReversedPaid: an 835 reversal's taken-back payment counts up
// claimgate_reversed_paid_dollars_total (a counter cannot go down), its
// correction counts as paid again, so net paid = paid - reversed.
func TestReversedPaid(t *testing.T) {
	m := New()
	s := ev("s", "R1", "P1", "submission", claim.Submitted, 0)
	s.Amounts = amounts(12000, 0, 0)
	paid := ev("835a", "R1", "P1", reconcile.Kind835, claim.Paid, 48*time.Hour)
	paid.Amounts = amounts(12000, 8000, 2000)
	rev := ev("835b", "R1", "P1", reconcile.Kind835, claim.Reversed, 96*time.Hour)
	rev.Amounts = amounts(-12000, -8000, -2000)
	corr := ev("835c", "R1", "P1", reconcile.Kind835, claim.Paid, 96*time.Hour+time.Second)
	corr.Amounts = amounts(12000, 7000, 3000)
	life(m, nil, ev("r", "R1", "P1", "ingest", claim.Received, 0), ev("q", "R1", "P1", "ingest", claim.Queued, 0), s, paid, rev, corr)
	got := samples(t, m.Registry())
	for k, v := range map[string]float64{
		`claimgate_paid_dollars_total{payer="P1"}`:                       150,
		`claimgate_reversed_paid_dollars_total{payer="P1"}`:              80,
		`claimgate_patient_responsibility_dollars_total{payer="P1"}`:     50,
		`claimgate_claim_transitions_total{payer="P1",state="reversed"}`: 1,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if net := got[`claimgate_paid_dollars_total{payer="P1"}`] - got[`claimgate_reversed_paid_dollars_total{payer="P1"}`]; net != 70 {
		t.Errorf("net paid %v, want 70 (the correction)", net)
	}
}
