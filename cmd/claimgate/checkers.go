package main

import (
	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x835"
	"github.com/claimgate/claimgate/edi/x837p"
)

// setChecker returns the transaction validator for a set, or nil to check
// its envelope only.
func setChecker(h x12.SetHeader) x12.SetChecker {
	switch {
	case x837p.Is837P(h):
		return x837p.NewChecker(h)
	case h.ID == "835":
		return x835.Sets(h)
	}
	return nil
}
