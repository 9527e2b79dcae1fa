//go:build linux || darwin

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// validate reads a FIFO once, like any file: findings, cap and summary
// come out as for the same bytes on disk.
func TestValidateFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "in.fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip("no FIFO:", err)
	}
	errc := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			errc <- err
			return
		}
		err = writeStray(f, 1500)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		errc <- err
	}()
	code, out, errs := runCLI("validate", "--max-findings", "10", p)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	ls := lines(out)
	if code != 1 || len(ls) != 11 || ls[10] != p+": 1490 more finding(s) not shown (--max-findings 10): envelope.outside-set 1490" {
		t.Fatalf("exit %d, stderr %q, output:\n%s", code, errs, out)
	}
	if !strings.HasPrefix(ls[0], p+": segment 3 (REF)") {
		t.Fatalf("first finding %q", ls[0])
	}
}
