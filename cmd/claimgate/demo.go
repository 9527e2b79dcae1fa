package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/claimgate/claimgate/pkg/demo"
)

var demoCmd = command{
	name:     "demo",
	synopsis: "claimgate demo [--timeout 60s] [--keep] [--data DIR] [--http HOST:PORT] [BATCH...]",
	about: `Run the whole product on this machine: NATS with JetStream (embedded, on
disk), the payer simulator serving SFTP on a loopback port with a fresh host
key pinned in the gateway's payer configuration, the gateway, and the HTTP API
on loopback with a generated token (a binary without the API hands the batches
to the gateway as claimgate submit does). It posts the charge batches (default: the
sample batches testdata/batches/pt_batch.json and pt_clinic_week.csv, read
from the repository root), shows the claims moving through their states, and
when every claim is settled (or --timeout passes) prints a summary: claims by
final state, first-pass acceptance, rejections with reasons, denials by
category with the CARC text, amounts billed, paid and owed by patients, time to
999/277CA/835 (simulated), and where to look next. --keep leaves everything
running until Ctrl-C; Ctrl-C at any point stops everything cleanly. Everything
is written under a temporary directory removed at the end (--data keeps it).`,
	exits: `  0  every claim settled within --timeout
  1  some claim did not settle in time, or Ctrl-C came before they did
  2  usage, configuration or startup error`,
}

// demoBatches are the batches the demo posts by default (paths from the
// repository root, where make run runs it).
var demoBatches = []string{"testdata/batches/pt_batch.json", "testdata/batches/pt_clinic_week.csv"}

// demoAPI serves the HTTP API in the demo (pkg/api); the demo posts its
// batches through it.
var demoAPI demo.APIFunc = demo.DefaultAPI

func cmdDemo(args []string, stdout, stderr io.Writer) error {
	c := &demoCmd
	fs := c.flags(stderr)
	timeout := fs.Duration("timeout", 60*time.Second, "how long to wait for every claim to settle")
	keep := fs.Bool("keep", false, "keep everything running after the summary, until Ctrl-C")
	data := fs.String("data", "", "data directory (new or empty; kept afterwards); default a temporary one, removed")
	httpAddr := fs.String("http", "127.0.0.1:0", "where the HTTP API listens (port 0: a free one)")
	plain := fs.Bool("plain", false, "print a progress line every few seconds instead of redrawing (the default when standard output is not a terminal)")
	verbose := fs.Bool("v", false, "gateway and simulator logs on standard error (default: DATA/claimgate.log)")
	ops, err := c.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	batches := ops
	if len(batches) == 0 {
		for _, b := range demoBatches {
			if _, err := os.Stat(b); err != nil {
				return usageErr("%s not found: run claimgate demo from the repository root, or name the batch files", b)
			}
		}
		batches = demoBatches
	}
	for i, b := range batches {
		if batches[i], err = filepath.Abs(b); err != nil {
			return usageErr("%v", err)
		}
	}
	cfg := demo.Config{DataDir: *data, Batches: batches, Timeout: *timeout, Keep: *keep, HTTP: *httpAddr,
		API: demoAPI, Out: flushEach{stdout}, TTY: !*plain && isTerminal(os.Stdout)}
	if *verbose {
		cfg.Log = slog.New(slog.NewTextHandler(stderr, nil))
	}
	// SIGPIPE too: output piped into a command that ended (| head) stops
	// the demo cleanly instead of killing it with its temporary directory
	// left behind.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
	defer stop()
	// After the first Ctrl-C the demo drains; a second one ends the
	// process at once (the default handling, restored).
	go func() { <-ctx.Done(); stop() }()
	res, err := demo.Run(ctx, cfg)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	switch {
	case res.Settled:
		return nil
	case res.Interrupted:
		return &exitError{code: 1, err: fmt.Errorf("demo: interrupted before every claim settled")}
	}
	return &exitError{code: 1, err: fmt.Errorf("demo: %d of %d claims settled within %v", res.Summary.Settled, res.Summary.Claims, *timeout)}
}

// flushEach writes through a buffered standard output at once, so the
// progress shows as it is drawn.
type flushEach struct{ w io.Writer }

func (f flushEach) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if fl, ok := f.w.(interface{ Flush() error }); ok && err == nil {
		err = fl.Flush()
	}
	return n, err
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
