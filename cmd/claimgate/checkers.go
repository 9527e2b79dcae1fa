package main

import (
	"strings"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x277ca"
	"github.com/claimgate/claimgate/edi/x835"
	"github.com/claimgate/claimgate/edi/x837p"
	"github.com/claimgate/claimgate/edi/x999"
)

// setChecker returns the transaction validator for a set, or nil to check
// its envelope only.
func setChecker(h x12.SetHeader) x12.SetChecker {
	switch {
	case x837p.Is837P(h):
		return x837p.NewChecker(h)
	case h.ID == "835":
		return x835.Sets(h)
	case h.ID == "999":
		return x999.NewChecker(h)
	case h.ID == "277" && strings.HasPrefix(h.Version, "005010X214"):
		// Only the 277CA; a 277 claim status response (X212) is checked
		// for its envelopes alone.
		return x277ca.NewChecker(h)
	}
	return nil
}
