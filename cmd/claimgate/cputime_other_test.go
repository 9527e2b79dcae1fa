//go:build !unix

package main

func cpuSeconds() (float64, bool) { return 0, false }
