package main

import (
	"github.com/claimgate/claimgate/edi/x12"
)

// setChecker returns the transaction validator for a set, or nil to check
// its envelope only.
func setChecker(h x12.SetHeader) x12.SetChecker {
	return nil
}
