package reconcile

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/claim"
)

// randString draws strings that exercise every escaping rule: quotes,
// backslashes, control bytes, <>&, U+2028/2029, other non-ASCII and
// invalid UTF-8, or plain ids, or nothing.
func randString(r *rand.Rand) string {
	parts := []string{"", "CLM0001", "04412", "a\"b", `back\slash`, "tab\there", "nl\n", "\x00\x01\x1f", "\b\f\r",
		"<script>&amp;</script>", "café", "\u2028\u2029", "\xff\xfe", "日本", "x\xc3", "🙂", " spaced ", "A3:21:PR"}
	n := r.IntN(3)
	s := ""
	for range n {
		s += parts[r.IntN(len(parts))]
	}
	return s
}

func randMoney(r *rand.Rand) claim.Money {
	switch r.IntN(4) {
	case 0:
		return 0
	case 1:
		return claim.Money(-r.Int64N(1_000_000))
	}
	return claim.Money(r.Int64N(100_000_000))
}

func randReasons(r *rand.Rand) []Reason {
	if r.IntN(3) == 0 {
		if r.IntN(2) == 0 {
			return nil
		}
		return []Reason{}
	}
	var out []Reason
	for range 1 + r.IntN(3) {
		out = append(out, Reason{Source: randString(r), Code: randString(r), Text: randString(r), Category: randString(r),
			Entity: randString(r), Group: randString(r), Amount: randMoney(r), DenialCategory: randString(r),
			Segment: randString(r), SegmentPosition: r.IntN(3) * r.IntN(1000), Loop: randString(r),
			Element: r.IntN(3) - 1, Component: r.IntN(2) * 7, ElementRef: randString(r)})
	}
	return out
}

func randEvent(r *rand.Rand) Event {
	zones := []*time.Location{time.UTC, time.FixedZone("EST", -5*3600), time.FixedZone("X", 5*3600+1800), time.FixedZone("Y", 23*3600+59*60)}
	ev := Event{ID: randString(r), ClaimID: randString(r), PayerID: randString(r), Kind: Kind(randString(r)),
		State: claim.State(randString(r)), Previous: claim.State(randString(r)), Effect: Change(randString(r)),
		Time:   time.Date(1+r.IntN(9998), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(3)*r.IntN(1e9), zones[r.IntN(len(zones))]),
		Source: Source{File: randString(r), Digest: randString(r), Position: r.IntN(5000) - 10, Locator: randString(r)},
		Status: randString(r), Reasons: randReasons(r), PayerClaimNumber: randString(r), Trace: randString(r),
		PaymentDate: randString(r), DenialCategory: randString(r)}
	if r.IntN(2) == 0 {
		ev.Amounts = &Amounts{Billed: randMoney(r), Paid: randMoney(r), PatientResponsibility: randMoney(r)}
	}
	if r.IntN(2) == 0 {
		for range r.IntN(3) {
			ev.Lines = append(ev.Lines, LineOutcome{Control: randString(r), Procedure: randString(r), State: claim.State(randString(r)),
				Billed: randMoney(r), Paid: randMoney(r), DenialCategory: randString(r), Reasons: randReasons(r)})
		}
	}
	if r.IntN(2) == 0 {
		ev.Submission = &Ref{ClaimID: randString(r), PayerID: randString(r), Receiver: randString(r), Interchange: r.Int64N(1e9) - 5,
			Group: r.Int64N(1e9), Set: randString(r), Batch: randString(r)}
	}
	return ev
}

// TestEventJSONIsMarshal: the appender writes exactly what json.Marshal
// writes, for events drawn at random over every optional member and
// every escaping rule.
func TestEventJSONIsMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		ev := randEvent(r)
		want, err := json.Marshal(&ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ev.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("event %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestEventJSONTimeRange: what time.Time's MarshalJSON refuses, the
// appender refuses too.
func TestEventJSONTimeRange(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("Z24", 24*3600)),
	} {
		ev := Event{Time: tm}
		_, merr := json.Marshal(&ev)
		_, aerr := ev.AppendJSON(nil)
		if (merr == nil) != (aerr == nil) {
			t.Errorf("%v: Marshal %v, AppendJSON %v", tm, merr, aerr)
		}
	}
}

// FuzzEventJSON: any strings and numbers give Marshal's bytes.
func FuzzEventJSON(f *testing.F) {
	f.Add("id", "CLM1", "<a&b>", int64(12345), int64(-7), 3, "\u2028x\xff")
	f.Fuzz(func(t *testing.T, id, claimID, text string, billed, paid int64, pos int, other string) {
		if billed == math.MinInt64 || paid == math.MinInt64 {
			return // Money's MarshalJSON writes no number for it (see appendMoney)
		}
		ev := Event{ID: id, ClaimID: claimID, PayerID: other, Kind: Kind(text), State: claim.State(other), Time: time.Unix(billed%1e10, paid%1e9).UTC(),
			Source:  Source{File: text, Digest: id, Position: pos, Locator: other},
			Reasons: []Reason{{Source: text, Code: other, Amount: claim.Money(paid), SegmentPosition: pos}},
			Amounts: &Amounts{Billed: claim.Money(billed), Paid: claim.Money(paid)},
			Lines:   []LineOutcome{{Procedure: other, Billed: claim.Money(paid)}, {}},
		}
		want, merr := json.Marshal(&ev)
		got, aerr := ev.AppendJSON(nil)
		if (merr == nil) != (aerr == nil) {
			t.Fatalf("Marshal %v, AppendJSON %v", merr, aerr)
		}
		if merr == nil && !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}
