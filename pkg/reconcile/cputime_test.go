//go:build unix

package reconcile

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) the process has used so far:
// a benchmark's MB per CPU second is far less disturbed by other load on
// a shared machine than its MB per wall second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
