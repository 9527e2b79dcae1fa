//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestParseReadsOnce: "-" (standard input) and a FIFO are read once,
// sniffed from the buffer: the output is the same as for the file.
func TestParseReadsOnce(t *testing.T) {
	for _, p := range []string{
		"../../testdata/835/x12org__X221-multiple-claims-single-check.edi",
		"../../testdata/999/mjpete3__999_partial_CTX_IK4.txt",
		"../../testdata/277ca/x12org__X214-payer-response.edi",
	} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		wantCode, want, wantErr := runCLI("parse", p, "--json")
		norm := func(s, name string) string { return strings.ReplaceAll(s, name, "FILE") }
		want, wantErr = norm(want, p), norm(wantErr, p)

		old := stdin
		stdin = bytes.NewReader(data)
		code, out, errs := runCLI("parse", "-", "--json")
		stdin = old
		if code != wantCode || norm(out, "(stdin)") != want || norm(errs, "(stdin)") != wantErr {
			t.Errorf("%s from stdin: exit %d\n%s\n%s\nwant exit %d\n%s", p, code, out, errs, wantCode, want)
		}

		fifo := filepath.Join(t.TempDir(), "in.fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skip("no FIFOs here:", err)
		}
		wrote := make(chan error, 1)
		go func() {
			f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				wrote <- err
				return
			}
			_, err = f.Write(data)
			f.Close()
			wrote <- err
		}()
		type result struct {
			code      int
			out, errs string
		}
		done := make(chan result, 1)
		go func() {
			c, o, e := runCLI("parse", fifo, "--json")
			done <- result{c, o, e}
		}()
		select {
		case r := <-done:
			if r.code != wantCode || norm(r.out, fifo) != want || norm(r.errs, fifo) != wantErr {
				t.Errorf("%s through a FIFO: exit %d\n%s\n%s", p, r.code, r.out, r.errs)
			}
		case <-time.After(30 * time.Second):
			// parse opened the FIFO twice: the second open waits for a
			// writer that has gone
			os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0) //nolint: unblock it
			t.Fatalf("%s: parse of a FIFO never ended", p)
		}
		if err := <-wrote; err != nil {
			t.Errorf("%s: writing the FIFO: %v", p, err)
		}
	}
}
