//go:build race

package main

// raceEnabled: the race detector multiplies memory and time, so the
// memory-bound test does not measure under it.
const raceEnabled = true
