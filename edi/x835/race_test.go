//go:build race

package x835

// raceEnabled shrinks the largest tests under the race detector, which
// slows them tenfold.
const raceEnabled = true
