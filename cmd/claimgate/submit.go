package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/gateway"
)

var submitCmd = command{
	name:     "submit",
	synopsis: "claimgate submit [--data DIR | --nats-url URL ...] BATCH...",
	about: `Hand charge batches (JSON, CSV or 837P) to a running gateway: each file's
bytes go into the object store and a message referencing them onto the batch
stream, keyed by its SHA-256, so submitting the same batch again creates
nothing. Prints each batch id (its SHA-256). Without --nats-url it connects to
the embedded server of "claimgate serve --data DIR" (DATA/nats.url), else to
nats://127.0.0.1:4222.`,
	exits: `  0  every batch was submitted (or had been)
  2  usage, connection or I/O error`,
}

func cmdSubmit(args []string, stdout, stderr io.Writer) error {
	c := &submitCmd
	fs := c.flags(stderr)
	dataDir := fs.String("data", ".data", "data directory of the serve whose embedded NATS to use")
	nf := addNATSFlags(fs)
	ops, err := c.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(ops) == 0 {
		return usageErr("submit needs at least one batch file")
	}
	opts := nf.options("claimgate-submit")
	if opts.URL == "" {
		opts.URL = "nats://127.0.0.1:4222"
		if b, err := os.ReadFile(filepath.Join(*dataDir, natsURLFile)); err == nil {
			opts.URL = strings.TrimSpace(string(b))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b, err := bus.Connect(ctx, opts)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer b.Close()
	for _, path := range ops {
		id, dup, err := gateway.Submit(ctx, b, path, filepath.Base(path))
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("%s: %w", path, err)}
		}
		note := ""
		if dup {
			note = " (already submitted)"
		}
		fmt.Fprintf(stdout, "%s\tbatch %s%s\n", path, id, note)
	}
	return nil
}
