package claim

import "fmt"

// State is where a claim is in its lifecycle.
type State string

// Claim lifecycle states, in the order a claim usually passes them.
const (
	Received      State = "received"
	ScrubRejected State = "scrub_rejected"
	Queued        State = "queued"
	Submitted     State = "submitted"
	AckAccepted   State = "ack_accepted"   // 999 accepted the transaction set
	AckRejected   State = "ack_rejected"   // 999 rejected the transaction set
	PayerAccepted State = "payer_accepted" // 277CA A2/A5
	PayerRejected State = "payer_rejected" // 277CA A3/A4/A6/A7/A8
	Paid          State = "paid"
	PartiallyPaid State = "partially_paid"
	Denied        State = "denied"
	Reversed      State = "reversed"
)

// next lists the states each state may move to. Acknowledgments can arrive
// out of order (a 277CA before its 999, an 835 before both), so later
// states are reachable from every earlier submitted state. A claim the
// scrubber rejected never left the gateway, so the same claim id may be
// sent again corrected: scrub_rejected moves back to received.
var next = map[State][]State{
	Received:      {ScrubRejected, Queued},
	ScrubRejected: {Received},
	Queued:        {Submitted},
	Submitted:     {AckAccepted, AckRejected, PayerAccepted, PayerRejected, Paid, PartiallyPaid, Denied},
	AckAccepted:   {PayerAccepted, PayerRejected, Paid, PartiallyPaid, Denied},
	AckRejected:   {},
	PayerAccepted: {Paid, PartiallyPaid, Denied},
	PayerRejected: {},
	Paid:          {Reversed},
	PartiallyPaid: {Reversed},
	Denied:        {Reversed, Paid, PartiallyPaid},
	Reversed:      {Paid, PartiallyPaid, Denied},
}

// CanMove reports whether a claim in state s may move to state t.
func (s State) CanMove(t State) bool {
	for _, x := range next[s] {
		if x == t {
			return true
		}
	}
	return false
}

// Move returns t when s may move to t, and an error naming both otherwise.
func (s State) Move(t State) (State, error) {
	if !s.CanMove(t) {
		return s, fmt.Errorf("claim state %s cannot move to %s", s, t)
	}
	return t, nil
}

// Final reports whether no further event is expected for a claim in s.
// scrub_rejected is final: only a new submission of the claim (corrected)
// moves it on.
func (s State) Final() bool { return s == ScrubRejected || len(next[s]) == 0 }
