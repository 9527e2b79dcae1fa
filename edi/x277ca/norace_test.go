//go:build !race

package x277ca

const raceEnabled = false
