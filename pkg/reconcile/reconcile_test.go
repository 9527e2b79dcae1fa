package reconcile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x277ca"
	"github.com/claimgate/claimgate/edi/x835"
	"github.com/claimgate/claimgate/edi/x999"
	"github.com/claimgate/claimgate/pkg/claim"
)

// lifecycle is the submission most tests use: payer 04412 gets P1..P6
// (set 0001) and R1, R2 (set 0002) in one file; 60054 gets A1, A2;
// 87726 gets U1, U2 (a second interchange to the shared receiver).
func lifecycle(t testing.TB) *submission {
	return submit(t, map[string][]string{
		payerNoridian: {"P1", "P2", "P3", "P4", "P5", "P6", "R1", "R2"},
		payerAetna:    {"A1", "A2"},
		payerUHC:      {"U1", "U2"},
	})
}

type harness struct {
	t     *testing.T
	sub   *submission
	store *MemoryStore
	rc    *Reconciler
}

func newHarness(t *testing.T) *harness {
	sub := lifecycle(t)
	store := NewMemoryStore()
	return &harness{t: t, sub: sub, store: store, rc: &Reconciler{Index: sub.idx, Store: store, Now: func() time.Time { return testNow }}}
}

func (h *harness) apply(name string, file []byte) *Report {
	h.t.Helper()
	rep, err := h.rc.Reconcile(context.Background(), bytes.NewReader(file), name, digest(file))
	if err != nil {
		h.t.Fatalf("%s: %v", name, err)
	}
	if rep.Summary.Findings != 0 {
		h.t.Errorf("%s: the edi reader found %d problems in a file written by the project's own writer", name, rep.Summary.Findings)
	}
	return rep
}

func (h *harness) record(id string) *Record {
	h.t.Helper()
	r, err := h.store.Get(context.Background(), id)
	if err != nil || r == nil {
		h.t.Fatalf("claim %s: record %v, %v", id, r, err)
	}
	return r
}

func (h *harness) wantState(id string, want claim.State) *Record {
	h.t.Helper()
	r := h.record(id)
	if r.State != want {
		h.t.Errorf("claim %s is %s, want %s (timeline %+v)", id, r.State, want, r.Timeline)
	}
	return r
}

func (h *harness) published(id string) []claim.State {
	var out []claim.State
	for _, e := range h.store.Published {
		if e.ClaimID == id {
			out = append(out, e.State)
		}
	}
	return out
}

func (h *harness) group(payer string) string {
	return strconv.FormatInt(h.sub.files[payer].Group, 10)
}

func hasReason(rs []Reason, source, code string) *Reason {
	for i := range rs {
		if rs[i].Source == source && rs[i].Code == code {
			return &rs[i]
		}
	}
	return nil
}

// The whole lifecycle: 999, TA1, 277CA and 835 responses move the
// submitted claims, out of order too, with reasons, payer claim numbers
// and amounts kept, illegal moves refused and unmatched responses kept.
func TestLifecycle(t *testing.T) {
	for _, w := range []int{1, 8, batched, 8 * batched} {
		t.Run(fmt.Sprintf("workers=%d", w), func(t *testing.T) { testLifecycle(t, w) })
	}
}

// batched, as a worker count, runs the harness on a BatchStore; n *
// batched runs it there with n workers (matching outcomes at once).
const batched = -1

// batchStore makes a store a BatchStore whose ApplyBatch applies the
// items one by one (pkg/bus tests the real one against MemoryStore), and
// counts the batches and the largest.
type batchStore struct {
	Store
	batches, largest *int
}

func (b batchStore) ApplyBatch(ctx context.Context, items []Item) ([]Result, error) {
	*b.batches++
	*b.largest = max(*b.largest, len(items))
	out := make([]Result, 0, len(items))
	for _, it := range items {
		r, err := b.Apply(ctx, it.ClaimID, it.Event)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func useBatches(h *harness, st Store) *int {
	var n, largest int
	h.rc.Store = batchStore{st, &n, &largest}
	return &largest
}

func testLifecycle(t *testing.T, workers int) {
	h := newHarness(t)
	h.rc.Workers = workers
	if workers < 0 {
		h.rc.Workers = workers / batched
		largest := useBatches(h, h.store)
		defer func() {
			if *largest < 2 {
				t.Errorf("largest batch %d: the reconciler did not batch", *largest)
			}
		}()
	}
	fiN := h.sub.files[payerNoridian]
	if len(fiN.Sets) != 2 || !reflect.DeepEqual(fiN.Sets[1].ClaimIDs, []string{"R1", "R2"}) {
		t.Fatalf("unexpected submission layout %+v", fiN.Sets)
	}

	// 1. A 999 accepts set 0001 and rejects set 0002 with IK3/IK4 errors.
	rejected := x999.SetResponse{ID: "837", Control: "0002", SegmentErrors: []x999.SegmentError{{
		SegmentID: "NM1", Position: 12, Loop: "2010BA", Code: "8",
		Elements: []x999.ElementError{{Position: x999.ElementPosition{Element: 9}, Reference: "67", Code: "7", BadValue: "M000007"}},
	}}}
	ack := file999(t, isaNoridian, x999.Build("HC", h.group(payerNoridian), "005010X222A1", []x999.SetResponse{
		{ID: "837", Control: "0001"}, rejected,
	}))
	rep := h.apply("noridian.999", ack)
	if rep.Summary.Kind != Kind999 || rep.Moved != 8 || rep.UnmatchedCount != 0 {
		t.Fatalf("999: %+v", rep)
	}
	for _, id := range []string{"P1", "P2", "P3", "P4", "P5", "P6"} {
		h.wantState(id, claim.AckAccepted)
	}
	for _, id := range []string{"R1", "R2"} {
		r := h.wantState(id, claim.AckRejected)
		ev := r.Timeline[len(r.Timeline)-1]
		ik3, ik4 := hasReason(ev.Reasons, "IK3", "8"), hasReason(ev.Reasons, "IK4", "7")
		if ik3 == nil || ik3.Segment != "NM1" || ik3.SegmentPosition != 12 || ik3.Loop != "2010BA" || ik3.Text == "" {
			t.Errorf("%s: IK3 reason %+v in %+v", id, ik3, ev.Reasons)
		}
		if ik4 == nil || ik4.Element != 9 || ik4.ElementRef != "67" || ik4.Text == "" {
			t.Errorf("%s: IK4 reason %+v", id, ik4)
		}
		if hasReason(ev.Reasons, "IK5", "5") == nil {
			t.Errorf("%s: no IK5 5 reason in %+v", id, ev.Reasons)
		}
		if strings.Contains(ev.Source.Locator+ik4.Text, "M000007") {
			t.Errorf("the IK404 bad value (patient data) leaked into the event")
		}
		if ev.Submission == nil || ev.Submission.Set != "0002" || ev.Submission.Interchange != fiN.Interchange {
			t.Errorf("%s: submission %+v", id, ev.Submission)
		}
	}

	// 2. A TA1 rejects 87726's interchange: every claim in it.
	fiU := h.sub.files[payerUHC]
	rep = h.apply("aetnach.ta1", fileTA1(t, isaAetna, fiU.Interchange, "R", "024"))
	if rep.Summary.Kind != KindTA1 || rep.Moved != 2 {
		t.Fatalf("TA1: %+v", rep)
	}
	for _, id := range []string{"U1", "U2"} {
		ev := h.wantState(id, claim.AckRejected).Timeline[0]
		if r := hasReason(ev.Reasons, "TA1", "024"); r == nil || !strings.Contains(r.Text, "GS") {
			t.Errorf("%s: TA1 reason %+v", id, ev.Reasons)
		}
	}
	h.wantStateAbsent("A1") // the other interchange to the same receiver is untouched

	// 3. A 277CA accepts P1..P5 (REF*1K kept), rejects P6 (A7); it also
	// "accepts" R1, whose set the 999 rejected: an illegal move, refused.
	var verdicts []x277ca.ClaimResult
	for _, id := range []string{"P1", "P2", "P3", "P4", "P5"} {
		verdicts = append(verdicts, verdict277(id, x277ca.OutcomeAccepted, "", "", "PCN-"+id))
	}
	verdicts = append(verdicts, verdict277("P6", x277ca.OutcomeRejected, "A7", "21", ""), verdict277("R1", x277ca.OutcomeAccepted, "", "", "PCN-R1"))
	rep = h.apply("noridian.277", file277(t, isaNoridian, payerNoridian, fiN.Sets[0].Reference, verdicts...))
	if rep.Summary.Kind != Kind277CA || rep.Moved != 6 || rep.RefusedCount != 1 {
		t.Fatalf("277CA: %+v", rep)
	}
	if rf := rep.Refused[0]; rf.ClaimID != "R1" || rf.From != claim.AckRejected || rf.To != claim.PayerAccepted {
		t.Errorf("refusal %+v", rf)
	}
	h.wantState("R1", claim.AckRejected)
	for _, id := range []string{"P1", "P2", "P3", "P4", "P5"} {
		if r := h.wantState(id, claim.PayerAccepted); r.PayerClaimNumber != "PCN-"+id {
			t.Errorf("%s: payer claim number %q", id, r.PayerClaimNumber)
		}
	}
	p6 := h.wantState("P6", claim.PayerRejected).Timeline
	if r := hasReason(p6[len(p6)-1].Reasons, "STC", "21"); r == nil || r.Category != "A7" || r.Text == "" {
		t.Errorf("P6 STC reason %+v", p6[len(p6)-1].Reasons)
	}
	// A later "received" (A1) 277CA for P1 is recorded without a move.
	rep = h.apply("noridian-a1.277", file277(t, isaNoridian, payerNoridian, fiN.Sets[0].Reference, verdict277("P1", x277ca.OutcomeReceived, "A1", "19", "")))
	if rep.Recorded != 1 || rep.Moved != 0 {
		t.Fatalf("A1 277CA: %+v", rep)
	}
	if r := h.wantState("P1", claim.PayerAccepted); r.Timeline[len(r.Timeline)-1].Effect != Recorded || r.PayerClaimNumber != "PCN-P1" {
		t.Errorf("P1 after A1: %+v", r)
	}

	// 4. An 835: paid, partially paid, denied, deductible only, paid; a
	// claim nobody sent; and A1 of 60054 paid before any 999 (out of
	// order), in a second transaction set from the other partner.
	none := [4][]x835.Adjustment{}
	era1 := file835(t, isaNoridian, remittance(payerNoridian, "EFT0001",
		payment("P1", "1", "PCN-P1", [4][]x835.Adjustment{{adj("CO", "45", 1000)}, {adj("PR", "2", 1020)}}),
		payment("P2", "1", "PCN-P2", [4][]x835.Adjustment{1: {adj("CO", "50", 5100)}}),
		payment("P3", "1", "PCN-P3", [4][]x835.Adjustment{{adj("CO", "50", 5000)}, {adj("CO", "50", 5100)}, {adj("CO", "50", 5200)}, {adj("CO", "50", 5300)}}),
		payment("P4", "1", "PCN-P4", [4][]x835.Adjustment{{adj("PR", "1", 5000)}, {adj("PR", "1", 5100)}, {adj("PR", "1", 5200)}, {adj("PR", "1", 5300)}}),
		payment("P5", "1", "PCN-P5", none),
		payment("NOPE", "1", "X", none),
	))
	rep = h.apply("noridian.835", era1)
	if rep.Summary.Kind != Kind835 || rep.Moved != 5 || rep.UnmatchedCount != 1 {
		t.Fatalf("835: %+v", rep)
	}
	if u := rep.Unmatched[0]; u.Keys.ClaimID != "NOPE" || !strings.Contains(u.Reason, "no claim") || u.State != claim.Paid {
		t.Errorf("unmatched %+v", u)
	}
	p1 := h.wantState("P1", claim.Paid)
	if a := p1.Amounts; a == nil || a.Billed != 20600 || a.Paid != 20600-1000-1020 || a.PatientResponsibility != 1020 {
		t.Errorf("P1 amounts %+v", p1.Amounts)
	}
	if ev := p1.Timeline[len(p1.Timeline)-1]; ev.Trace != "EFT0001" || ev.PaymentDate != "2025-04-15" || ev.DenialCategory != "" {
		t.Errorf("P1 event %+v", ev)
	}
	p2 := h.wantState("P2", claim.PartiallyPaid)
	ev := p2.Timeline[len(p2.Timeline)-1]
	if len(ev.Lines) != 4 || ev.Lines[1].State != claim.Denied || ev.Lines[1].Control != "P2-2" || ev.Lines[0].State != claim.Paid ||
		ev.DenialCategory != "medical_necessity" || ev.Lines[1].DenialCategory != "medical_necessity" {
		t.Errorf("P2 event %+v", ev)
	}
	if r := hasReason(ev.Lines[1].Reasons, "CAS", "50"); r == nil || r.Group != "CO" || r.Amount != 5100 || r.Text == "" {
		t.Errorf("P2 line 2 reasons %+v", ev.Lines[1].Reasons)
	}
	p3 := h.wantState("P3", claim.Denied)
	if p3.Timeline[len(p3.Timeline)-1].DenialCategory != "medical_necessity" || p3.Amounts.Paid != 0 {
		t.Errorf("P3 %+v", p3)
	}
	if p4 := h.wantState("P4", claim.Paid); p4.Amounts.Paid != 0 || p4.Amounts.PatientResponsibility != 20600 {
		t.Errorf("P4 (deductible only) %+v", p4.Amounts)
	}
	h.wantState("P5", claim.Paid)

	era2 := file835(t, isaAetna, remittance(payerAetna, "CHK777", payment("A1", "1", "AET-A1", [4][]x835.Adjustment{{adj("CO", "45", 500)}})))
	if rep = h.apply("aetna.835", era2); rep.Moved != 1 {
		t.Fatalf("aetna 835: %+v", rep)
	}
	h.wantState("A1", claim.Paid) // submitted → paid: the 999 and 277CA are late

	// 5. The late 999 for 60054 records A1 (already paid) and moves A2.
	rep = h.apply("aetna.999", file999(t, isaAetna, x999.Build("HC", h.group(payerAetna), "005010X222A1", []x999.SetResponse{{ID: "837", Control: "0001"}})))
	if rep.Moved != 1 || rep.Recorded != 1 {
		t.Fatalf("late 999: %+v", rep)
	}
	h.wantState("A1", claim.Paid)
	h.wantState("A2", claim.AckAccepted)

	// 6. A reversal and its correction: P5 reversed, then paid anew.
	orig := payment("P5", "1", "PCN-P5", none)
	corr := payment("P5", "1", "PCN-P5", [4][]x835.Adjustment{{adj("CO", "45", 700)}})
	rep = h.apply("noridian-2.835", file835(t, isaNoridian, remittance(payerNoridian, "EFT0002", negate(orig), corr)))
	if rep.Moved != 2 {
		t.Fatalf("reversal + correction: %+v", rep)
	}
	p5 := h.wantState("P5", claim.Paid)
	if p5.Amounts.Paid != 20600-700 {
		t.Errorf("P5 after correction %+v", p5.Amounts)
	}
	if got, want := h.published("P5"), []claim.State{claim.AckAccepted, claim.PayerAccepted, claim.Paid, claim.Reversed, claim.Paid}; !reflect.DeepEqual(got, want) {
		t.Errorf("P5 events %v, want %v", got, want)
	}

	// 7. The same 835 again: nothing changes, no event, the unmatched
	// claim is reported again.
	before := map[string]*Record{}
	for _, id := range []string{"P1", "P2", "P3", "P4", "P5"} {
		before[id] = h.record(id)
	}
	events := len(h.store.Published)
	rep = h.apply("noridian.835 again", era1)
	if rep.Moved != 0 || rep.Recorded != 0 || rep.Duplicates != 5 || rep.UnmatchedCount != 1 || len(h.store.Published) != events {
		t.Fatalf("second apply: %+v, %d events (had %d)", rep, len(h.store.Published), events)
	}
	for id, r := range before {
		if got := h.record(id); !reflect.DeepEqual(got, r) {
			t.Errorf("%s changed on the second apply:\n%+v\n%+v", id, r, got)
		}
	}

	// Every event published is a move, once: the number of distinct ids
	// equals the number of events.
	seen := map[string]bool{}
	for _, e := range h.store.Published {
		if seen[e.ID] || e.Effect != Moved {
			t.Errorf("event %s published twice or not a move (%s)", e.ID, e.Effect)
		}
		seen[e.ID] = true
	}
}

func (h *harness) wantStateAbsent(id string) {
	h.t.Helper()
	if r, _ := h.store.Get(context.Background(), id); r != nil {
		h.t.Errorf("claim %s has a record %+v, want none", id, r)
	}
}

// Responses that match nothing are reported with the reason; a file of
// another type is reported as unknown.
func TestUnmatched(t *testing.T) {
	h := newHarness(t)
	rep := h.apply("wrong-set.999", file999(t, isaNoridian, x999.Build("HC", h.group(payerNoridian), "005010X222A1", []x999.SetResponse{{ID: "837", Control: "0009"}})))
	if rep.UnmatchedCount != 1 || !strings.Contains(rep.Unmatched[0].Reason, "no transaction set 0009") {
		t.Errorf("999 of an unknown set: %+v", rep)
	}
	rep = h.apply("other-partner.999", file999(t, "STRANGER", x999.Build("HC", h.group(payerNoridian), "005010X222A1", []x999.SetResponse{{ID: "837", Control: "0001"}})))
	if rep.UnmatchedCount != 1 || rep.Moved != 0 {
		t.Errorf("999 from another partner: %+v", rep)
	}
	rep = h.apply("ta1", fileTA1(t, isaNoridian, 424242, "R", "025"))
	if rep.UnmatchedCount != 1 || !strings.Contains(rep.Unmatched[0].Reason, "424242") {
		t.Errorf("TA1 of an unknown interchange: %+v", rep)
	}
	// A 277CA for a claim sent to another payer does not touch it.
	rep = h.apply("wrong-payer.277", file277(t, "ELSEWHERE", "99999", "B1", verdict277("A1", x277ca.OutcomeAccepted, "", "", "Z")))
	if rep.UnmatchedCount != 1 || !strings.Contains(rep.Unmatched[0].Reason, "not to payer") {
		t.Errorf("277CA for another payer's claim: %+v", rep)
	}
	// A billing provider rejected as a whole lists no claims: reported.
	tx, err := x277ca.Build(x277ca.Submission{
		Payer:    x277ca.Entity{LastName: "NORIDIAN", IDQual: "PI", ID: payerNoridian},
		Receiver: x277ca.Entity{LastName: "CLAIMGATE", ID: "CG0001"}, Batch: "B7", Time: testNow,
		RejectedProviders: []x277ca.ProviderRejection{{Provider: x277ca.Entity{LastName: "SEAWAY", IDQual: "XX", ID: "1245319599"}, Claims: 2, Charge: "412"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var pr bytes.Buffer
	ih, gh := payerEnvelope(isaNoridian, "HN", "")
	if err := x277ca.WriteFile(context.Background(), &pr, x12.WriterOptions{}, ih, gh, tx); err != nil {
		t.Fatal(err)
	}
	rep = h.apply("provider.277", pr.Bytes())
	if rep.UnmatchedCount != 1 || rep.Unmatched[0].State != claim.PayerRejected || !strings.Contains(rep.Unmatched[0].Reason, "billing provider rejected as a whole in batch B7") {
		t.Errorf("provider rejection: %+v", rep)
	}
	for _, f := range []struct{ name, data string }{
		{"notes.txt", "hello"},
		{"empty", ""},
	} {
		rep, err := h.rc.Reconcile(context.Background(), strings.NewReader(f.data), f.name, "d")
		if err != nil || rep.Summary.Kind != KindUnknown || rep.UnmatchedCount != 1 || rep.Unmatched[0].Kind != KindUnknown {
			t.Errorf("%s: %+v, %v", f.name, rep, err)
		}
	}
	if len(h.store.Published) != 0 {
		t.Errorf("unmatched responses published %d events", len(h.store.Published))
	}
}

// A 999 whose AK9 rejects the group rejects every set in it, even one
// whose IK5 accepted it.
func TestGroupRejected(t *testing.T) {
	h := newHarness(t)
	g := x999.Build("HC", h.group(payerNoridian), "005010X222A1", []x999.SetResponse{{ID: "837", Control: "0001"}, {ID: "837", Control: "0002"}})
	g.Status, g.Accepted, g.Errors = "R", 2, []string{"4"} // a group-level syntax error
	var buf bytes.Buffer
	var outs []*Outcome
	file := file999(t, isaNoridian, g)
	buf.Write(file)
	sum, err := Read(&buf, "g.999", "d", func(o *Outcome) error { outs = append(outs, o); return nil })
	if err != nil || sum.Outcomes != 2 {
		t.Fatalf("%+v %v", sum, err)
	}
	for _, o := range outs {
		if o.State != claim.AckRejected || hasReason(o.Reasons, "AK9", "4") == nil || hasReason(o.Reasons, "AK9", "R") == nil {
			t.Errorf("set %s: %+v", o.Keys.Set, o)
		}
	}
}

// An AK9 rejecting a group that lists no AK2 loop rejects every set of the
// group sent.
func TestGroupRejectedWithoutSets(t *testing.T) {
	h := newHarness(t)
	g := &x999.GroupResponse{FunctionalID: "HC", GroupControl: h.group(payerNoridian), GroupVersion: "005010X222A1",
		Status: "R", Included: 2, Received: 2, Accepted: 0, Errors: []string{"5"}}
	var buf bytes.Buffer
	ih, gh := payerEnvelope(isaNoridian, "FA", "")
	w := x12.NewWriter(&buf, x12.WriterOptions{})
	ctx := context.Background()
	w.BeginInterchange(ctx, ih)
	w.BeginGroup(ctx, gh)
	// WriteGroup refuses an AK9 whose counts disagree with its (absent)
	// sets, so the set is written by hand, as a payer would send it.
	w.BeginSet("999", "0001", x999.Version)
	w.Segment("AK1", g.FunctionalID, g.GroupControl, g.GroupVersion)
	w.Segment("AK9", "R", "2", "2", "0", "5")
	w.EndSet()
	w.EndGroup()
	if err := w.EndInterchange(); err != nil {
		t.Fatal(err)
	}
	rep, err := h.rc.Reconcile(ctx, bytes.NewReader(buf.Bytes()), "group.999", digest(buf.Bytes()))
	if err != nil || rep.Moved != 8 {
		t.Fatalf("%+v, %v", rep, err)
	}
	for _, id := range []string{"P1", "P6", "R2"} {
		ev := h.wantState(id, claim.AckRejected).Timeline[0]
		if hasReason(ev.Reasons, "AK9", "5") == nil {
			t.Errorf("%s: reasons %+v", id, ev.Reasons)
		}
	}
	h.wantStateAbsent("A1")
}

// failingStore fails every Apply to one claim (a store outage).
type failingStore struct {
	*MemoryStore
	bad string
}

var errOutage = errors.New("store outage")

func (f failingStore) Apply(ctx context.Context, id string, ev Event) (Result, error) {
	if id == f.bad {
		return Result{}, errOutage
	}
	return f.MemoryStore.Apply(ctx, id, ev)
}

// A store error stops reconciling and is returned, with or without
// workers; reconciling again once the store is back finishes the file
// without applying anything twice.
func TestStoreErrorStops(t *testing.T) {
	for _, w := range []int{1, 4, batched, 4 * batched} {
		h := newHarness(t)
		h.rc.Workers = w
		h.rc.Store = failingStore{h.store, "P3"}
		if w < 0 {
			h.rc.Workers = w / batched
			useBatches(h, failingStore{h.store, "P3"})
		}
		era := file835(t, isaNoridian, remittance(payerNoridian, "E", genClaimFor("P1", 0), genClaimFor("P2", 1), genClaimFor("P3", 2), genClaimFor("P4", 3)))
		_, err := h.rc.Reconcile(context.Background(), bytes.NewReader(era), "e.835", "d")
		if !errors.Is(err, errOutage) || !strings.Contains(err.Error(), "P3") {
			t.Fatalf("workers=%d: error %v", w, err)
		}
		h.rc.Store = h.store
		rep, err := h.rc.Reconcile(context.Background(), bytes.NewReader(era), "e.835", "d")
		if err != nil || rep.Moved+rep.Duplicates != 4 || rep.Moved < 1 {
			t.Fatalf("workers=%d: again %+v, %v", w, rep, err)
		}
		for id, want := range map[string]claim.State{"P1": claim.Paid, "P2": claim.PartiallyPaid, "P3": claim.Denied, "P4": claim.Paid} {
			h.wantState(id, want)
		}
		if len(h.store.Published) != 4 {
			t.Errorf("workers=%d: %d events, want 4", w, len(h.store.Published))
		}
	}
}

// ApplyAll on a plain Store applies every item in order and stops at the
// first error.
func TestApplyAllFallsBackToApply(t *testing.T) {
	st := NewMemoryStore()
	ctx := context.Background()
	mk := func(id string, state claim.State, n int) Item {
		return Item{ClaimID: id, Event: Event{ID: fmt.Sprintf("%s-%d", id, n), ClaimID: id, PayerID: "P", State: state}}
	}
	res, err := ApplyAll(ctx, st, []Item{mk("A", claim.Received, 1), mk("A", claim.Queued, 2), mk("B", claim.Received, 1), mk("A", claim.Queued, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 || res[3].Change != Duplicate {
		t.Fatalf("results %+v: want 4, the last a duplicate", res)
	}
	rec, _ := st.Get(ctx, "A")
	if rec == nil || rec.State != claim.Queued {
		t.Fatalf("claim A: %+v, want queued", rec)
	}
}
