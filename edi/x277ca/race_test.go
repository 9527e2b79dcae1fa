//go:build race

package x277ca

// raceEnabled: the race detector changes allocation counts.
const raceEnabled = true
