package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/reconcile"
)

// Settled reports whether a claim in state s has its answer: a final
// state, or paid, partially paid or denied (only a later reversal moves
// those).
func Settled(s claim.State) bool {
	switch s {
	case claim.Paid, claim.PartiallyPaid, claim.Denied:
		return true
	}
	return s != "" && s.Final()
}

// shown lists the states the progress display has a line for, in
// lifecycle order; step is each one's place (a claim's events may be
// published out of order across states, never backwards).
var shown = []claim.State{
	claim.Received, claim.Queued, claim.Submitted, claim.AckAccepted, claim.PayerAccepted,
	claim.Paid, claim.PartiallyPaid, claim.Denied, claim.Reversed,
	claim.ScrubRejected, claim.AckRejected, claim.PayerRejected,
}

func step(s claim.State) int {
	switch s {
	case claim.Received:
		return 1
	case claim.Queued, claim.ScrubRejected:
		return 2
	case claim.Submitted:
		return 3
	case claim.AckAccepted, claim.AckRejected:
		return 4
	case claim.PayerAccepted, claim.PayerRejected:
		return 5
	case claim.Paid, claim.PartiallyPaid, claim.Denied:
		return 6
	case claim.Reversed:
		return 7
	}
	return 0
}

// tracker follows the claim events stream (claims.events.>) and keeps
// each expected claim's latest state. Its memory is one entry per claim
// of the demo's batches.
type tracker struct {
	mu       sync.Mutex
	expected map[string]bool
	state    map[string]claim.State
	events   int
}

func newTracker(ids []string) *tracker {
	t := &tracker{expected: map[string]bool{}, state: map[string]claim.State{}}
	for _, id := range ids {
		t.expected[id] = true
	}
	return t
}

// follow reads the event stream from its start until ctx ends.
func (t *tracker) follow(ctx context.Context, b *bus.Bus) error {
	st, err := b.JS.Stream(ctx, bus.StreamEvents)
	if err != nil {
		return err
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return err
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		var ev reconcile.Event
		if json.Unmarshal(m.Data(), &ev) != nil {
			return
		}
		t.apply(ev)
	})
	if err != nil {
		return err
	}
	<-ctx.Done()
	cc.Stop()
	return nil
}

func (t *tracker) apply(ev reconcile.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events++
	if ev.State == "" || ev.Effect == reconcile.Refused || ev.Effect == reconcile.Duplicate {
		return
	}
	if !t.expected[ev.ClaimID] {
		// A claim from a batch the demo did not count (an 837P): follow it too.
		t.expected[ev.ClaimID] = true
	}
	cur := t.state[ev.ClaimID]
	if step(ev.State) >= step(cur) {
		t.state[ev.ClaimID] = ev.State
	}
}

// snapshot returns the counts per state, the claims settled and the
// claims expected.
func (t *tracker) snapshot() (counts map[claim.State]int, settled, total int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	counts = map[claim.State]int{}
	for id := range t.expected {
		s := t.state[id]
		counts[s]++
		if Settled(s) {
			settled++
		}
	}
	return counts, settled, len(t.expected)
}

// ids returns the claims followed.
func (t *tracker) ids() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.expected))
	for id := range t.expected {
		out = append(out, id)
	}
	return out
}

// display draws the progress: on a terminal one line per state, redrawn
// in place; otherwise one line of counts each time it is called.
type display struct {
	w     io.Writer
	tty   bool
	lines int // lines drawn last time (terminal)
	start time.Time
}

const barWidth = 40

func (d *display) draw(counts map[claim.State]int, settled, total int) {
	el := time.Since(d.start).Round(100 * time.Millisecond)
	if !d.tty {
		var parts []string
		for _, s := range shown {
			if n := counts[s]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", s, n))
			}
		}
		if n := counts[""]; n > 0 {
			parts = append(parts, fmt.Sprintf("not yet received %d", n))
		}
		fmt.Fprintf(d.w, "[%5.1fs] settled %d/%d: %s\n", el.Seconds(), settled, total, strings.Join(parts, ", "))
		return
	}
	var b strings.Builder
	if d.lines > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", d.lines) // back to the first line drawn
	}
	n := 0
	put := func(format string, args ...any) {
		b.WriteString("\x1b[2K")
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
		n++
	}
	put("claims settled %d/%d  (%.1fs)", settled, total, el.Seconds())
	for _, s := range shown {
		c := counts[s]
		w := 0
		if total > 0 {
			w = c * barWidth / total
		}
		if c > 0 && w == 0 {
			w = 1
		}
		mark := " "
		if Settled(s) {
			mark = "✓"
		}
		put("  %s %-15s %4d %s", mark, s, c, strings.Repeat("█", w))
	}
	put("    %-15s %4d", "not yet seen", counts[""])
	d.lines = n
	io.WriteString(d.w, b.String())
}
