package bus

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/reconcile"
)

// The stored form of a record leaves out what its events repeat and
// gives back exactly the record written, whichever fields differ from
// the record's; a record in the full form reads the same too.
func TestStoredRecordRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
	sub := &reconcile.Ref{ClaimID: "C1", PayerID: "P1", Receiver: "RCV", Interchange: 7, Group: 8, Set: "0001", Batch: "B7"}
	other := *sub
	other.Interchange = 9
	ev := func(id, claimID, payer string, s claim.State, ref *reconcile.Ref) reconcile.Event {
		e := reconcile.Event{ID: id, ClaimID: claimID, PayerID: payer, Kind: reconcile.Kind835, State: s, Previous: claim.Queued,
			Effect: reconcile.Moved, Time: at, Source: reconcile.Source{File: "f", Digest: "d", Position: 3, Locator: "seg 4"},
			Amounts: &reconcile.Amounts{Billed: 12000, Paid: 9000}, Lines: []reconcile.LineOutcome{{Control: "1", Procedure: "97110", Billed: 12000}}}
		if ref != nil {
			r := *ref
			e.Submission = &r
		}
		return e
	}
	recs := []*reconcile.Record{
		{ID: "C1", Payer: "P1", State: claim.Paid, Submission: sub, Updated: at, Timeline: []reconcile.Event{
			ev("e1", "C1", "P1", claim.Received, nil),      // no submission, record has one
			ev("e2", "C1", "P1", claim.Queued, sub),        // the record's
			ev("e3", "C1", "P1", claim.Submitted, &other),  // another submission
			ev("e4", "", "", claim.AckAccepted, sub),       // empty ids
			ev("e5", "C9", "P9", claim.PayerAccepted, sub), // other ids
		}, Pending: []reconcile.Event{ev("e6", "C1", "P1", claim.Paid, sub)}},
		{ID: "C2", Payer: "P1", State: claim.Received, Updated: at, Timeline: []reconcile.Event{ev("e1", "C2", "P1", claim.Received, nil), ev("e2", "C2", "P1", claim.Queued, sub)}},
		{ID: "C3", Updated: at, Timeline: []reconcile.Event{}},
	}
	for _, rec := range recs {
		slim, err := marshalRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := unmarshalRecord(slim)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, rec) {
			t.Errorf("%s: stored form read back\n got %+v\nwant %+v\n%s", rec.ID, got, rec, slim)
		}
		full, _ := json.Marshal(rec)
		if got, err := unmarshalRecord(full); err != nil || !reflect.DeepEqual(got, rec) {
			t.Errorf("%s: full form read back %+v, %v", rec.ID, got, err)
		}
		if len(rec.Timeline) > 1 && len(slim) >= len(full) {
			t.Errorf("%s: stored form %d bytes, full %d", rec.ID, len(slim), len(full))
		}
	}
}
