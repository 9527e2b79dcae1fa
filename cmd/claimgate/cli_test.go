package main

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// Every subcommand answers --help and -h on standard output with its
// synopsis, flags and exit statuses, and exits 0.
func TestSubcommandHelp(t *testing.T) {
	for _, c := range []*command{&validateCmd, &convertCmd, &parseCmd, &serveCmd, &submitCmd, &demoCmd} {
		for _, flag := range []string{"--help", "-h"} {
			code, out, errs := runCLI(c.name, flag)
			if code != 0 {
				t.Fatalf("%s %s: exit %d, stderr %q", c.name, flag, code, errs)
			}
			for _, want := range []string{"Usage: " + c.synopsis, "Flags:", "Exit status:", "  2  usage"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s %s: help lacks %q:\n%s", c.name, flag, want, out)
				}
			}
		}
	}
}

// Flags may follow the file names; "--" ends the flags.
func TestFlagsAfterOperands(t *testing.T) {
	good := "../../testdata/999/herophilus__999_accepted.txt"
	code, out, errs := runCLI("validate", good, "--summary")
	if code != 0 || !strings.Contains(out, good+": OK 999") {
		t.Fatalf("validate FILE --summary: exit %d, out %q, err %q", code, out, errs)
	}
	code, _, errs = runCLI("validate", "--", "--summary")
	if code != 2 || !strings.Contains(errs, "--summary") {
		t.Fatalf("validate -- --summary must take --summary as a file name: exit %d, err %q", code, errs)
	}
	if code, _, errs := runCLI("validate", good, "--no-such-flag"); code != 2 || !strings.Contains(errs, "no-such-flag") {
		t.Fatalf("unknown flag: exit %d, err %q", code, errs)
	}
}

// "-" reads standard input.
func TestStdinOperand(t *testing.T) {
	data, err := os.ReadFile("../../testdata/999/herophilus__999_accepted.txt")
	if err != nil {
		t.Fatal(err)
	}
	old := stdin
	defer func() { stdin = old }()
	stdin = bytes.NewReader(data)
	code, out, errs := runCLI("validate", "--summary", "-")
	if code != 0 || !strings.HasPrefix(out, "(stdin): OK 999") {
		t.Fatalf("validate -: exit %d, out %q, err %q", code, out, errs)
	}
}

// failWriter fails every write, like standard output on a full disk.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// A write error on standard output is exit status 2, never 0.
func TestStdoutWriteError(t *testing.T) {
	var errb bytes.Buffer
	code := run([]string{"validate", "--summary", "../../testdata/999/herophilus__999_accepted.txt"}, failWriter{}, &errb)
	if code != 2 || !strings.Contains(errb.String(), "no space left") {
		t.Fatalf("exit %d, stderr %q; want 2 and the write error", code, errb.String())
	}
	code = run([]string{"version"}, failWriter{}, &errb)
	if code != 2 {
		t.Fatalf("version to a failing stdout: exit %d, want 2", code)
	}
}
