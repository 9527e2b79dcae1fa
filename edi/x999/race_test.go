//go:build race

package x999

// raceEnabled: the race detector changes allocation counts.
const raceEnabled = true
