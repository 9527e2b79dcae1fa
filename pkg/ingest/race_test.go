//go:build race

package ingest

// raceEnabled lets the slowest streaming test shrink under the race
// detector, which makes encoding/json about twenty times slower.
const raceEnabled = true
