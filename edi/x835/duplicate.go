package x835

import (
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
	key := paymentKey{payer: string(payer), trace: string(trace)}
	if prev, ok := s.seen[key]; ok {
		p.at(seg, x12.Error, RuleDuplicatePayment, 2, 0, "TRN02 trace number %s of payer %s was already used by the payment at segment %d: the same payment twice", clip(trace), clip(payer), prev)
		return
	}
	if len(s.seen) < MaxPayments {
		// the key's strings are copies: the input is reused
		s.seen[paymentKey{payer: strings.Clone(key.payer), trace: strings.Clone(key.trace)}] = seg.Num
	}
}

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
