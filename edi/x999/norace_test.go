//go:build !race

package x999

const raceEnabled = false
