package x835

import (
	"fmt"
	"strings"

	"github.com/claimgate/claimgate/edi/x12"
)

// MaxPayments bounds the payments a file's checks remember to find
// duplicates; a payment repeated after that many others is not reported.
const MaxPayments = 1 << 16

// payments remembers the payments of one file, by payer and trace
// number, with the segment number of their TRN.
type payments struct {
	seen map[paymentKey]int
}

type paymentKey struct{ payer, trace string }

func newPayments() *payments { return &payments{seen: map[paymentKey]int{}} }

// check reports seg, a TRN whose payment was met before, and remembers it
// otherwise.
func (s *payments) check(p *parser, seg *x12.Segment) {
	trace, payer := p.el.at(2), p.el.at(3)
	if len(trace) == 0 {
		return // 835.trn-missing or tr3.required says so
	}
	if p.deferred != nil {
		// checked in parallel: decided in file order (x12.Deferred)
		f := x12.At(seg, x12.Error, RuleDuplicatePayment, 2, 0, duplicateFormat, clip(trace), clip(payer), 0)
		f.Loop = loopNames[p.loop]
		if f.File == "" {
			f.File = p.file
		}
		p.deferred(&paymentCheck{s: s, key: paymentKey{payer: string(payer), trace: string(trace)},
			num: seg.Num, f: f, trace: clip(trace), payer: clip(payer)})
		return
	}
	key := paymentKey{payer: string(payer), trace: string(trace)}
	if prev, ok := s.seen[key]; ok {
		p.at(seg, x12.Error, RuleDuplicatePayment, 2, 0, duplicateFormat, clip(trace), clip(payer), prev)
		return
	}
	s.remember(key, seg.Num)
}

const duplicateFormat = "TRN02 trace number %s of payer %s was already used by the payment at segment %d: the same payment twice"

func (s *payments) remember(key paymentKey, num int) {
	if len(s.seen) < MaxPayments {
		// the key's strings are copies: the input is reused
		s.seen[paymentKey{payer: strings.Clone(key.payer), trace: strings.Clone(key.trace)}] = num
	}
}

// paymentCheck is payments.check for a set checked in parallel with
// others: the finding it makes if the payment was met before.
type paymentCheck struct {
	s            *payments
	key          paymentKey // its own strings
	num          int
	f            x12.Finding
	trace, payer string
}

// Resolve reports the payment when an earlier set had it, and remembers
// it otherwise.
func (c *paymentCheck) Resolve(report func(x12.Finding)) {
	if prev, ok := c.s.seen[c.key]; ok {
		c.f.Message = x12.Printable(fmt.Sprintf(duplicateFormat, c.trace, c.payer, prev))
		report(c.f)
		return
	}
	c.s.remember(c.key, c.num)
}

// Defer makes the checker hand its check for a payment sent twice, which
// depends on the file's earlier sets, to do (x12.DeferringSetChecker).
func (c *Checker) Defer(do func(x12.Deferred)) { c.p.deferred = do }

// FileSets returns an x12.CheckOptions.Sets function for one file, like
// Sets, whose checkers also share what the file's payments were, so the
// same payment (TRN03 and TRN02) twice is an error (RuleDuplicatePayment).
// Use a new one for each file.
func FileSets() func(h x12.SetHeader) x12.SetChecker {
	seen := newPayments()
	return func(h x12.SetHeader) x12.SetChecker {
		if h.ID != "835" {
			return nil
		}
		c := NewChecker(h)
		c.p.payments = seen
		return c
	}
}
