package claim

import (
	"encoding/json"
	"testing"
)

func TestParseMoney(t *testing.T) {
	ok := map[string]Money{"0": 0, "100": 10000, "100.5": 10050, "100.05": 10005, "-0.25": -25, ".5": 50, "+3": 300, "12.": 1200}
	for in, want := range ok {
		got, err := ParseMoney(in)
		if err != nil || got != want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-", ".", "1.234", "1,000", "1e3", "12a", "1.2.3", "9999999999999999"} {
		if _, err := ParseMoney(in); err == nil {
			t.Errorf("ParseMoney(%q) accepted", in)
		}
	}
}

func TestMoneyFormat(t *testing.T) {
	for m, want := range map[Money]string{0: "0", 10000: "100", 10050: "100.5", 10005: "100.05", -25: "-0.25", 7: "0.07"} {
		if got := m.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(m), got, want)
		}
		back, err := ParseMoney(m.String())
		if err != nil || back != m {
			t.Errorf("round trip of %d gave %d, %v", int64(m), back, err)
		}
	}
	b, _ := json.Marshal(Money(-1205))
	if string(b) != "-12.05" {
		t.Errorf("JSON %s", b)
	}
	var m Money
	if err := json.Unmarshal([]byte(`"45.10"`), &m); err != nil || m != 4510 {
		t.Errorf("unmarshal string amount: %d %v", m, err)
	}
}

func TestDates(t *testing.T) {
	d, err := ParseDate("2024-02-29")
	if err != nil || d.D8() != "20240229" || d.String() != "2024-02-29" {
		t.Fatalf("leap day: %v %v", d, err)
	}
	if _, err := ParseDate("2023-02-29"); err == nil {
		t.Error("2023-02-29 accepted")
	}
	if d8, err := ParseDate("20240105"); err != nil || d8.Day != 5 {
		t.Errorf("D8 parse: %v %v", d8, err)
	}
	var z Date
	if err := json.Unmarshal([]byte(`null`), &z); err != nil || !z.IsZero() {
		t.Error("null date")
	}
	if err := json.Unmarshal([]byte(`"2024-13-01"`), &z); err == nil {
		t.Error("month 13 accepted")
	}
	a, _ := ParseDate("2024-01-31")
	b, _ := ParseDate("2024-02-01")
	if !a.Before(b) || b.Before(a) {
		t.Error("Before wrong")
	}
}

func TestStateMoves(t *testing.T) {
	if !Received.CanMove(Queued) || Received.CanMove(Paid) {
		t.Error("received moves wrong")
	}
	if _, err := ScrubRejected.Move(Queued); err == nil || !ScrubRejected.Final() {
		t.Error("scrub_rejected must be final")
	}
	// A rejected claim sent again corrected starts over; nothing else
	// goes back to received.
	if !ScrubRejected.CanMove(Received) {
		t.Error("a scrub-rejected claim cannot be resubmitted")
	}
	for _, s := range []State{Received, Queued, Submitted, AckAccepted, AckRejected, PayerAccepted, PayerRejected, Paid, PartiallyPaid, Denied, Reversed} {
		if s.CanMove(Received) {
			t.Errorf("%s can move back to received", s)
		}
	}
	// Acknowledgments can come out of order: an 835 may beat the 277CA.
	if !Submitted.CanMove(Paid) || !AckAccepted.CanMove(Denied) {
		t.Error("out-of-order acknowledgments refused")
	}
	if !Paid.CanMove(Reversed) || !Reversed.CanMove(Paid) {
		t.Error("reversal and correction refused")
	}
}

func TestClaimTotals(t *testing.T) {
	c := Claim{Lines: []Line{{Charge: 12000, Modifiers: []string{"GP"}}, {Charge: 4550}}}
	if c.Total() != 16550 || !c.Lines[0].HasModifier("GP") || c.Lines[1].HasModifier("GP") {
		t.Fatal("totals or modifiers wrong")
	}
	if !FrequencyReplacement.IsCorrection() || FrequencyOriginal.IsCorrection() {
		t.Fatal("frequency")
	}
}
