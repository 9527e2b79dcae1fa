package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/config"
	"github.com/claimgate/claimgate/pkg/gateway"
	"github.com/claimgate/claimgate/pkg/sftpconn"
)

var serveCmd = command{
	name:     "serve",
	synopsis: "claimgate serve [--config FILE] [--data DIR] [--listen HOST:PORT | --nats-url URL ...]",
	about: `Run the gateway: batches submitted with "claimgate submit" or dropped into
DATA/inbox/ are decoded, scrubbed and written as 837P files per payer, uploaded
to each payer over SFTP, responses (999, 277CA, 835) are collected and
reconciled into claim state; every claim transition is published on
claims.events.<payer>.<state>. By default NATS with JetStream runs inside the
process, its store under DATA/jetstream, listening on --listen for submit and
PM systems; --nats-url uses an external server or cluster instead, which
several serve processes may share. Ctrl-C or SIGTERM drains and stops.
See docs/gateway.md.`,
	exits: `  0  stopped by a signal after draining
  1  a worker failed
  2  usage, configuration or startup error`,
}

// natsFlags are the connection flags serve and submit share.
type natsFlags struct {
	url, creds, nkey, ca, cert, key *string
}

func addNATSFlags(fs *flag.FlagSet) *natsFlags {
	return &natsFlags{
		url:   fs.String("nats-url", "", "external NATS server or cluster (comma-separated URLs)"),
		creds: fs.String("nats-creds", "", "NATS credentials file"),
		nkey:  fs.String("nats-nkey", "", "file holding an nkey seed"),
		ca:    fs.String("nats-ca", "", "CA certificate file to trust for TLS"),
		cert:  fs.String("nats-cert", "", "client certificate file for TLS"),
		key:   fs.String("nats-key", "", "client key file for TLS"),
	}
}

func (n *natsFlags) options(name string) bus.Options {
	return bus.Options{URL: *n.url, CredsFile: *n.creds, NKeySeedFile: *n.nkey,
		TLSCAFile: *n.ca, TLSCertFile: *n.cert, TLSKeyFile: *n.key, Name: name}
}

// natsURLFile is where serve writes the embedded server's URL, for
// "claimgate submit --data DIR".
const natsURLFile = "nats.url"

// serveMemoryLimit is serve's soft memory limit (runtime/debug).
const serveMemoryLimit = 448 << 20

func cmdServe(args []string, stdout, stderr io.Writer) error {
	c := &serveCmd
	fs := c.flags(stderr)
	cfgPath := fs.String("config", "", "claimgate configuration (submitter, payers and their sftp blocks); without it payers get test receivers and no SFTP")
	dataDir := fs.String("data", ".data", "data directory: JetStream store (embedded), inbox/, SFTP ledger and downloads")
	listen := fs.String("listen", "127.0.0.1:4222", `where the embedded NATS server listens ("none": in-process only; port 0 picks one)`)
	nf := addNATSFlags(fs)
	replicas := fs.Int("replicas", 1, "replica count of the streams and buckets created (external cluster: 3)")
	name := fs.String("name", "", "this replica's name (poll leases); default host name and pid")
	verbose := fs.Bool("v", false, "debug logging")
	ackWait := fs.Duration("ack-wait", 60*time.Second, "how long a message may be worked on before redelivery (handlers keep long work alive)")
	leaseTTL := fs.Duration("lease-ttl", bus.DefaultLeaseTTL, "lifetime of an unrenewed poll lease (every replica must agree)")
	perFile := fs.Int("claims-per-file", 0, "claims per 837P interchange (default: the configuration's, else 2500)")
	ops, err := c.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(ops) > 0 {
		return usageErr("serve takes no operands")
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	var cfg *config.Config
	var payers []sftpconn.Payer
	if *cfgPath != "" {
		if cfg, err = config.Load(*cfgPath); err != nil {
			return &exitError{code: 2, err: err}
		}
		for i := range cfg.Payers {
			if cfg.Payers[i].SFTP == nil {
				continue
			}
			p, err := sftpconn.FromConfig(&cfg.Payers[i])
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			payers = append(payers, p)
		}
	}
	// A soft memory limit (GOMEMLIMIT overrides it) keeps the collector
	// near the live heap (pipeline, embedded JetStream's caches) instead
	// of letting it double between collections.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return &exitError{code: 2, err: err}
	}
	// CLAIMGATE_CPUPROFILE names a file for a CPU profile of the whole
	// run (the load benchmark's profiling aid), written at exit.
	if path := os.Getenv("CLAIMGATE_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return &exitError{code: 2, err: err}
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	// CLAIMGATE_MEMPROFILE: a heap profile written at exit (what is
	// still live then: the embedded server's state, caches).
	if path := os.Getenv("CLAIMGATE_MEMPROFILE"); path != "" {
		defer func() {
			if f, err := os.Create(path); err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts := nf.options("claimgate-serve")
	opts.Replicas = *replicas
	opts.LeaseTTL = *leaseTTL
	var emb *bus.Embedded
	if opts.URL == "" {
		ec := bus.EmbeddedConfig{DataDir: *dataDir, ServerName: "claimgate"}
		if *listen == "none" {
			ec.Port = -1
		} else {
			host, port, err := net.SplitHostPort(*listen)
			if err != nil {
				return usageErr("--listen: %v", err)
			}
			ec.Host = host
			if ec.Port, err = strconv.Atoi(port); err != nil {
				return usageErr("--listen: bad port %q", port)
			}
		}
		if emb, err = bus.StartEmbedded(ec); err != nil {
			return &exitError{code: 2, err: err}
		}
		defer emb.Shutdown() // last: after the bus has drained
		opts.Embedded = emb
	}
	b, err := bus.Connect(ctx, opts)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer b.Close() // drains before the embedded server shuts down
	g, err := gateway.New(ctx, gateway.Config{DataDir: *dataDir, Bus: b, Claims: cfg, Payers: payers, Holder: *name, Log: log,
		AckWait: *ackWait, MaxClaimsPerFile: *perFile})
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer g.Close()
	if emb != nil {
		// Written once the streams exist, so a submit finding it works.
		if u := emb.ClientURL(); u != "" {
			if err := os.WriteFile(filepath.Join(*dataDir, natsURLFile), []byte(u+"\n"), 0o600); err != nil {
				return &exitError{code: 2, err: err}
			}
			log.Info("embedded NATS listening", "url", u)
		}
	}
	fmt.Fprintln(stderr, "claimgate serve: running; Ctrl-C stops")
	err = g.Run(ctx)
	log.Info("gateway stopped; draining")
	if err != nil && !errors.Is(err, context.Canceled) {
		return &exitError{code: 1, err: err}
	}
	return nil
}
