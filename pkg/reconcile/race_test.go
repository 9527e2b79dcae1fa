//go:build race

package reconcile

// raceEnabled shrinks the largest tests under the race detector, which
// slows them tenfold.
const raceEnabled = true
