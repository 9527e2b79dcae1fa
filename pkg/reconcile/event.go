package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"time"

	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/claim"
)

// Event is one claim status event: an Outcome applied to one claim. It is
// the payload published on claims.events.<payer>.<state> and the entry of
// a claim's timeline; schema/claim-event.schema.json describes its JSON.
type Event struct {
	// ID is EventID(digest, position, claim id): the same response file
	// applied twice gives the same ids, so the second changes nothing.
	ID      string `json:"id"`
	ClaimID string `json:"claim_id"`
	PayerID string `json:"payer_id"`
	Kind    Kind   `json:"kind"`
	// State is the state the outcome calls for (empty: none).
	State claim.State `json:"state,omitempty"`
	// Previous is the claim's state before the event and Effect what the
	// store did with it; both are set by the store.
	Previous claim.State `json:"previous_state,omitempty"`
	Effect   Change      `json:"effect,omitempty"`
	// Time is when the event was made (reconciliation time).
	Time             time.Time     `json:"time"`
	Source           Source        `json:"source"`
	Status           string        `json:"status,omitempty"`
	Reasons          []Reason      `json:"reasons,omitempty"`
	Amounts          *Amounts      `json:"amounts,omitempty"`
	PayerClaimNumber string        `json:"payer_claim_number,omitempty"`
	Trace            string        `json:"trace,omitempty"`
	PaymentDate      string        `json:"payment_date,omitempty"`
	DenialCategory   string        `json:"denial_category,omitempty"`
	Lines            []LineOutcome `json:"lines,omitempty"`
	// Submission is where the claim was sent (the matched Ref).
	Submission *Ref `json:"submission,omitempty"`
}

// Source locates an event's origin in a response file.
type Source struct {
	File     string `json:"file"`
	Digest   string `json:"digest"`
	Position int    `json:"position"`
	Locator  string `json:"locator,omitempty"`
}

// Change is what a store did with an event.
type Change string

// Changes.
const (
	// Moved: the claim moved to the event's state.
	Moved Change = "moved"
	// Recorded: the event joined the timeline without a state change
	// (informational, the same state again, or a late response for a
	// claim already further on).
	Recorded Change = "recorded"
	// Duplicate: the event was applied before; nothing changed.
	Duplicate Change = "duplicate"
	// Refused: the transition is illegal (claim.State.CanMove); nothing
	// changed.
	Refused Change = "refused"
)

// EventID derives an event id from the response file's digest, the
// outcome's position in it and the claim id.
func EventID(digest string, position int, claimID string) string {
	h := sha256.New()
	h.Write([]byte(digest))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(nil, int64(position), 10))
	h.Write([]byte{0})
	h.Write([]byte(claimID))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// NewEvent makes the event of outcome o for the submitted claim ref.
func NewEvent(o *Outcome, ref Ref, now time.Time) Event {
	r := ref
	return Event{
		ID: EventID(o.Digest, o.Position, ref.ClaimID), ClaimID: ref.ClaimID, PayerID: ref.PayerID,
		Kind: o.Kind, State: o.State, Time: now.UTC(),
		Source: Source{File: o.File, Digest: o.Digest, Position: o.Position, Locator: o.Locator},
		Status: o.Status, Reasons: o.Reasons, Amounts: o.Amounts, PayerClaimNumber: o.PayerClaimNumber,
		Trace: o.Trace, PaymentDate: o.PaymentDate, DenialCategory: o.DenialCategory, Lines: o.Lines,
		Submission: &r,
	}
}

// Ref is where a claim was submitted: what the runtime records (Index)
// when it sends an 837P file.
type Ref struct {
	ClaimID     string `json:"claim_id"`
	PayerID     string `json:"payer_id"`
	Receiver    string `json:"receiver"`    // ISA08
	Interchange int64  `json:"interchange"` // ISA13
	Group       int64  `json:"group"`       // GS06
	Set         string `json:"set"`         // ST02
	Batch       string `json:"batch"`       // BHT03
}

// RefsOf lists the claims of a written 837P file.
func RefsOf(fi *assemble.FileInfo) []Ref {
	var out []Ref
	for _, s := range fi.Sets {
		for _, id := range s.ClaimIDs {
			out = append(out, Ref{ClaimID: id, PayerID: fi.PayerID, Receiver: fi.Receiver, Interchange: fi.Interchange,
				Group: fi.Group, Set: s.Control, Batch: s.Reference})
		}
	}
	return out
}

// Record is a claim's state record: what a Store keeps per claim.
type Record struct {
	ID               string      `json:"id"`
	Payer            string      `json:"payer"`
	State            claim.State `json:"state"`
	Submission       *Ref        `json:"submission,omitempty"`
	PayerClaimNumber string      `json:"payer_claim_number,omitempty"`
	Amounts          *Amounts    `json:"amounts,omitempty"`
	// Timeline holds the last MaxTimeline events applied or recorded,
	// oldest first; Dropped counts older ones let go.
	Timeline []Event `json:"timeline"`
	Dropped  int     `json:"dropped,omitempty"`
	// Pending are moves not yet published (see pkg/bus ClaimStore).
	Pending []Event   `json:"pending,omitempty"`
	Updated time.Time `json:"updated"`
}

// MaxTimeline bounds a claim's timeline: a claim gets a handful of
// responses in its life; a hostile stream of them must not grow the
// record without bound.
const MaxTimeline = 32

// rank orders states along the lifecycle: a response calling for a state
// of lower rank than the claim's arrived late and is recorded only.
func rank(s claim.State) int {
	switch s {
	case claim.AckAccepted, claim.AckRejected:
		return 1
	case claim.PayerAccepted, claim.PayerRejected:
		return 2
	case claim.Paid, claim.PartiallyPaid, claim.Denied, claim.Reversed:
		return 3
	}
	return 0
}

// Has reports whether the event id is in the timeline.
func (rec *Record) Has(id string) bool {
	return slices.ContainsFunc(rec.Timeline, func(e Event) bool { return e.ID == id })
}

// isIngestState reports whether s is a state ingest gives a claim before
// any response: a claim's record may start with one of them.
func isIngestState(s claim.State) bool {
	switch s {
	case claim.Received, claim.ScrubRejected, claim.Queued, claim.Submitted:
		return true
	}
	return false
}

// Apply decides what ev does to the record and applies it: Duplicate
// when ev.ID is in the timeline; Recorded for an event without a state,
// for the claim's own state again, and for a state earlier in the
// lifecycle than the claim's (a late 999 or 277CA); Moved when
// claim.State.CanMove allows it; otherwise Refused. A record without a
// state starts at the ingest state an event names (received, queued...),
// else it is a submitted claim. Recorded and moved events join the timeline
// (ev.Previous and ev.Effect set); a refused one changes nothing. It
// returns the change and the event as stored.
func (rec *Record) Apply(ev Event, now time.Time) (Change, Event) {
	if rec.Has(ev.ID) {
		return Duplicate, ev
	}
	cur := rec.State
	first := cur == "" && isIngestState(ev.State)
	if cur == "" && !first {
		// A response for a claim the store has not seen: it was sent.
		cur = claim.Submitted
	}
	ev.Previous = cur
	switch {
	case first:
		// The claim's first event, from ingest.
		ev.Effect = Moved
	case ev.State == "" || ev.State == cur:
		ev.Effect = Recorded
	case cur.CanMove(ev.State):
		ev.Effect = Moved
	case rank(ev.State) < rank(cur):
		ev.Effect = Recorded
	default:
		ev.Effect = Refused
		return Refused, ev
	}
	if rec.ID == "" {
		rec.ID = ev.ClaimID
	}
	if rec.Payer == "" || ev.Effect == Moved && cur == claim.ScrubRejected && ev.PayerID != "" {
		// A rejected claim sent again (corrected) may go to another
		// payer: the new submission's counts.
		rec.Payer = ev.PayerID
	}
	if rec.Submission == nil && ev.Submission != nil {
		r := *ev.Submission
		rec.Submission = &r
	}
	if ev.Effect == Moved {
		rec.State = ev.State
	} else if rec.State == "" {
		rec.State = cur
	}
	if ev.PayerClaimNumber != "" && (ev.Effect == Moved || rec.PayerClaimNumber == "") {
		rec.PayerClaimNumber = ev.PayerClaimNumber
	}
	if ev.Amounts != nil && ev.Effect == Moved {
		a := *ev.Amounts
		rec.Amounts = &a
	}
	rec.Timeline = append(rec.Timeline, ev)
	if n := len(rec.Timeline) - MaxTimeline; n > 0 {
		rec.Timeline = slices.Delete(rec.Timeline, 0, n)
		rec.Dropped += n
	}
	rec.Updated = now.UTC()
	return ev.Effect, ev
}
