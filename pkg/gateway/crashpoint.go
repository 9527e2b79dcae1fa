//go:build crashpoints

package gateway

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// In a binary built with -tags crashpoints, CLAIMGATE_CRASH_AT=STEP[:N]
// kills the process with SIGKILL the N-th time (default first) it reaches
// STEP. Only tests build it.
func init() {
	spec := os.Getenv("CLAIMGATE_CRASH_AT")
	if spec == "" {
		return
	}
	step, nth, _ := strings.Cut(spec, ":")
	n, _ := strconv.Atoi(nth)
	if n <= 0 {
		n = 1
	}
	var mu sync.Mutex
	crashAt = func(s string) {
		if s != step {
			return
		}
		mu.Lock()
		n--
		hit := n == 0
		mu.Unlock()
		if hit {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
}
