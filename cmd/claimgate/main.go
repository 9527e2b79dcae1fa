// Command claimgate is the claimgate X12 claims gateway: it validates,
// converts and parses X12 files, exchanges them with payers over SFTP,
// simulates a payer, and (in later releases) runs the whole gateway.
//
// Usage:
//
//	claimgate validate [flags] FILE...
//	claimgate convert [flags] --to 837p BATCH -o DIR
//	claimgate parse [flags] FILE (--json | --csv)
//	claimgate sftp send|fetch --payer ID [flags] ...
//	claimgate payer-sim [flags]
//	claimgate serve [flags]
//	claimgate submit [flags] BATCH...
//	claimgate demo [flags] [BATCH...]
//	claimgate version
//
// Every subcommand answers --help.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// exitError carries a process exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

// usageErr is a usage or I/O problem: exit status 2.
func usageErr(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

const usage = `claimgate: an X12 EDI claims gateway for physical-therapy billing

Usage:
  claimgate validate [flags] FILE...                check X12 files (envelopes and transaction rules)
  claimgate convert [flags] --to 837p BATCH -o DIR  decode, scrub and write 837P files per payer
                                                    (BATCH: JSON or CSV charge batch, or a PM system's 837P)
  claimgate parse [flags] FILE (--json | --csv)     print a 999, 277CA or 835 as JSON (835 also as
                                                    posting CSV, one row per service line)
  claimgate sftp send --payer ID FILE...            upload 837P files to a payer's SFTP drop folder, once
  claimgate sftp fetch --payer ID -o DIR            collect a payer's responses, each handed on once
  claimgate payer-sim [flags]                       run a simulated payer (SFTP server answering 837P
                                                    files with 999, 277CA and 835)
  claimgate serve [--config FILE] [--data DIR]      run the gateway (embedded NATS, or --nats-url)
  claimgate submit [--data DIR] BATCH...             hand batches to a running gateway; prints batch ids
  claimgate demo [--keep] [BATCH...]               run the whole product on this machine (embedded NATS,
                                                    payer simulator, gateway) on sample batches; summary
  claimgate version                                 print the version

Every subcommand answers --help with its flags and exit statuses. Exit status: 0 success,
1 the input has errors or some claims or files were not processed, 2 usage or I/O error.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	out := newOutWriter(stdout)
	err := dispatch(args, out, stderr)
	if ferr := out.Flush(); ferr != nil {
		fmt.Fprintln(stderr, "claimgate: writing standard output:", ferr)
		return 2
	}
	if err == nil || errors.Is(err, errHelpShown) {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "claimgate:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "claimgate:", err)
	return 1
}

// dispatch runs one subcommand.
func dispatch(args []string, stdout, stderr io.Writer) error {
	var err error
	switch args[0] {
	case "validate":
		err = cmdValidate(args[1:], stdout, stderr)
	case "convert":
		err = cmdConvert(args[1:], stdout, stderr)
	case "parse":
		err = cmdParse(args[1:], stdout, stderr)
	case "payer-sim":
		err = cmdPayerSim(args[1:], stdout, stderr)
	case "sftp":
		err = cmdSFTP(args[1:], stdout, stderr)
	case "serve":
		err = cmdServe(args[1:], stdout, stderr)
	case "submit":
		err = cmdSubmit(args[1:], stdout, stderr)
	case "demo":
		err = cmdDemo(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "claimgate", version())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		err = usageErr("unknown command %q (see claimgate help)", args[0])
	}
	return err
}

// version is the module version stamped by the Go toolchain, or the VCS
// revision for a development build.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	return v
}
