//go:build !race

package x835

const raceEnabled = false
