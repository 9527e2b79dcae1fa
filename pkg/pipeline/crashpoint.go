//go:build crashpoints

package pipeline

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/claimgate/claimgate/pkg/control"
)

// In a binary built with -tags crashpoints, CLAIMGATE_CRASH_AT=STEP[:N]
// kills the process with SIGKILL at the N-th (default first) time it
// reaches STEP: temp-written, journaled, linked, dir-synced,
// keys-recorded, done, control-saved. Only tests build it.
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
	hit := func(s string) {
		if s != step {
			return
		}
		n--
		if n == 0 {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	Crash = hit
	control.AfterSave = func() { hit("control-saved") }
}
