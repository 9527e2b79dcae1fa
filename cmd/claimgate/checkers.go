package main

import (
	"strings"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x277ca"
	"github.com/claimgate/claimgate/edi/x835"
	"github.com/claimgate/claimgate/edi/x837p"
	"github.com/claimgate/claimgate/edi/x999"
)

// setCheckers returns the x12.CheckOptions.Sets function for one file: the
// transaction validator for each set, or nil to check its envelope only.
// The 835 validators of one file share the payments they have seen, so a
// payment sent twice is found (x835.FileSets).
func setCheckers() func(h x12.SetHeader) x12.SetChecker {
	sets835 := x835.FileSets()
	return func(h x12.SetHeader) x12.SetChecker {
		switch {
		case x837p.Is837P(h):
			return x837p.NewChecker(h)
		case h.ID == "835":
			return sets835(h)
		case h.ID == "999":
			return x999.NewChecker(h)
		case h.ID == "277" && strings.HasPrefix(h.Version, "005010X214"):
			// Only the 277CA; a 277 claim status response (X212) is
			// checked for its envelopes alone.
			return x277ca.NewChecker(h)
		}
		return nil
	}
}
