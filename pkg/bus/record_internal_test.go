package bus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
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
		// The appended form is encoding/json's, byte for byte.
		if ref, err := marshalRecordReflect(rec); err != nil || !bytes.Equal(slim, ref) {
			t.Errorf("%s: marshalRecord\n got %s\nwant %s (%v)", rec.ID, slim, ref, err)
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

// TestMarshalRecordIsReflect: over records drawn at random (ids and
// submissions the same as the record's or not, pending moves or none,
// dropped counts, amounts, odd strings), the appended stored form is
// the encoding/json one byte for byte, and reads back to the record
// (unless a string held invalid UTF-8, which JSON cannot carry).
func TestMarshalRecordIsReflect(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	// The last string is invalid UTF-8: drawn in every other record only,
	// so the others can be read back.
	strs := []string{"", "C1", "P1", "a\"b<&>", "\u2028\t", "97110", "x\xff"}
	valid := true
	pick := func() string {
		if valid {
			return strs[r.IntN(len(strs)-1)]
		}
		return strs[r.IntN(len(strs))]
	}
	roundTrips := 0
	ref := func() *reconcile.Ref {
		if r.IntN(3) == 0 {
			return nil
		}
		return &reconcile.Ref{ClaimID: pick(), PayerID: pick(), Receiver: pick(), Interchange: int64(r.IntN(3)), Group: 1, Set: pick(), Batch: pick()}
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, r.IntN(1e9), time.UTC)
	events := func(rec *reconcile.Record) []reconcile.Event {
		var out []reconcile.Event
		for range r.IntN(5) {
			e := reconcile.Event{ID: pick(), ClaimID: pick(), PayerID: pick(), Kind: reconcile.Kind(pick()), State: claim.State(pick()),
				Time: at.Add(time.Duration(r.IntN(1e6)) * time.Second), Source: reconcile.Source{File: pick(), Digest: pick(), Position: r.IntN(9)},
				Status: pick(), PayerClaimNumber: pick()}
			switch r.IntN(3) {
			case 0:
				e.ClaimID, e.PayerID = rec.ID, rec.Payer
			case 1:
				e.Submission = rec.Submission
			}
			if e.Submission == nil {
				e.Submission = ref()
			}
			if r.IntN(2) == 0 {
				e.Amounts = &reconcile.Amounts{Billed: claim.Money(r.IntN(99999)), Paid: -claim.Money(r.IntN(99))}
			}
			out = append(out, e)
		}
		return out
	}
	for i := range 5000 {
		valid = i%2 == 0
		rec := &reconcile.Record{ID: pick(), Payer: pick(), State: claim.State(pick()), Submission: ref(), PayerClaimNumber: pick(),
			Dropped: r.IntN(2) * r.IntN(40), Updated: at}
		if r.IntN(2) == 0 {
			rec.Amounts = &reconcile.Amounts{Billed: claim.Money(r.IntN(1e6)), Paid: claim.Money(r.IntN(1e6))}
		}
		rec.Timeline, rec.Pending = events(rec), events(rec)
		got, err := marshalRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		want, err := marshalRecordReflect(rec)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("record %d:\n got %s\nwant %s", i, got, want)
		}
		if bytes.Contains(got, []byte(`\ufffd`)) {
			continue // invalid UTF-8 does not survive JSON (either way)
		}
		back, err := unmarshalRecord(got)
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Timeline) == 0 {
			rec.Timeline = nil // stored as [], read back as none
			back.Timeline = nil
		}
		if len(rec.Pending) == 0 {
			rec.Pending = nil
		}
		if !reflect.DeepEqual(back, rec) {
			t.Fatalf("record %d read back\n got %+v\nwant %+v", i, back, rec)
		}
		roundTrips++
	}
	if roundTrips < 2500 {
		t.Fatalf("only %d records read back", roundTrips)
	}
}

// BenchmarkMarshalRecord: a claim's record after its 835 (six moves in
// its timeline), encoded the reflective way and appended, side by side.
func BenchmarkMarshalRecord(b *testing.B) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
	sub := &reconcile.Ref{ClaimID: "CLM0000001", PayerID: "04412", Receiver: "NORIDIAN", Interchange: 7, Group: 7, Set: "0001", Batch: "000000001"}
	rec := &reconcile.Record{ID: sub.ClaimID, Payer: sub.PayerID, State: claim.Paid, Submission: sub, PayerClaimNumber: "2026123456789",
		Amounts: &reconcile.Amounts{Billed: 24000, Paid: 15512, PatientResponsibility: 3000}, Updated: at}
	for i, st := range []claim.State{claim.Received, claim.Queued, claim.Submitted, claim.AckAccepted, claim.PayerAccepted, claim.Paid} {
		ev := reconcile.Event{ID: fmt.Sprintf("%064x", i), ClaimID: rec.ID, PayerID: rec.Payer, Kind: reconcile.Kind835, State: st,
			Previous: claim.Queued, Effect: reconcile.Moved, Time: at, Submission: sub,
			Source: reconcile.Source{File: "04412-0f615f93-000000001.835", Digest: fmt.Sprintf("%064x", 99+i), Position: 40 + i}}
		if st == claim.Paid {
			ev.Amounts = rec.Amounts
			ev.Reasons = []reconcile.Reason{{Source: "CAS", Code: "45", Group: "CO", Amount: 5488, DenialCategory: "contractual"}}
			ev.Lines = []reconcile.LineOutcome{{Control: "1", Procedure: "97110", State: claim.Paid, Billed: 12000, Paid: 7756},
				{Control: "2", Procedure: "97140", State: claim.Paid, Billed: 12000, Paid: 7756}}
		}
		rec.Timeline = append(rec.Timeline, ev)
	}
	for _, c := range []struct {
		name string
		f    func(*reconcile.Record) ([]byte, error)
	}{{"reflect", marshalRecordReflect}, {"append", marshalRecord}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.f(rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A record is stored S2-compressed behind compressedRecord once its
// JSON is compressMin bytes or more, reads back equal, and a record
// stored as plain JSON (written before compression) still reads.
func TestCompressedRecord(t *testing.T) {
	rec := &reconcile.Record{ID: "C1", Payer: "P1", State: "paid"}
	for i := 0; i < 5; i++ {
		rec.Timeline = append(rec.Timeline, reconcile.Event{ID: strings.Repeat("a", 31) + string(rune('0'+i)), ClaimID: "C1", PayerID: "P1", Kind: "835",
			State: "paid", Effect: reconcile.Moved, Source: reconcile.Source{File: "f.835", Digest: strings.Repeat("d", 64)}})
	}
	js, err := marshalRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	if stored[0] != compressedRecord || len(stored) >= len(js) {
		t.Fatalf("stored %d bytes (first %#x) for %d bytes of JSON: not compressed", len(stored), stored[0], len(js))
	}
	for _, in := range [][]byte{stored, js} {
		got, err := unmarshalRecord(in)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := marshalRecord(got)
		if string(again) != string(js) {
			t.Errorf("read back differs:\n%s\n%s", again, js)
		}
	}
	if small, _ := encode(&reconcile.Record{ID: "C2"}); small[0] != '{' {
		t.Errorf("a small record is stored compressed: %q", small)
	}
	if _, err := unmarshalRecord([]byte{compressedRecord, 0xff, 0xff, 0xff, 0xff, 0x0f}); err == nil {
		t.Error("a damaged compressed record was read")
	}
}
