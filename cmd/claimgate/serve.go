package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/claimgate/claimgate/pkg/api"
	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/config"
	"github.com/claimgate/claimgate/pkg/gateway"
	"github.com/claimgate/claimgate/pkg/metrics"
	"github.com/claimgate/claimgate/pkg/sftpconn"
	"github.com/claimgate/claimgate/pkg/webhook"
)

var serveCmd = command{
	name:     "serve",
	synopsis: "claimgate serve [--config FILE] [--data DIR] [--listen HOST:PORT | --nats-url URL ...] [--http HOST:PORT] [--ops-http HOST:PORT] [--api-tokens-file FILE]",
	about: `Run the gateway: batches submitted with "claimgate submit" or dropped into
DATA/inbox/ are decoded, scrubbed and written as 837P files per payer, uploaded
to each payer over SFTP, responses (999, 277CA, 835) are collected and
reconciled into claim state; every claim transition is published on
claims.events.<payer>.<state>. By default NATS with JetStream runs inside the
process, its store under DATA/jetstream, listening on --listen for submit and
PM systems; --nats-url uses an external server or cluster instead, which
several serve processes may share. The HTTP API (--http, default
127.0.0.1:8080; bearer tokens from --api-tokens-file and CLAIMGATE_API_TOKENS,
required on any address but loopback) submits batches and reads claims
(docs/api.md). Webhooks in the configuration receive the claim events as
signed HTTP POSTs (docs/webhooks.md). SIGHUP reloads --api-tokens-file;
Ctrl-C or SIGTERM drains and stops.
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
	httpAddr := fs.String("http", "127.0.0.1:8080", `where the HTTP API listens ("none": no API; docs/api.md)`)
	opsAddr := fs.String("ops-http", "", "a separate listener for /healthz, /readyz and /metrics, without a token (default none)")
	maxBody := fs.Int64("http-max-body", api.DefaultMaxBodyBytes, "largest request body the HTTP API takes, in bytes (a 10,000-claim CSV batch is about 11 MB)")
	tokensFile := fs.String("api-tokens-file", "", "file of API bearer tokens, one per line (# comments); also env "+apiTokensEnv+" (comma-separated)")
	flushEvery := fs.Duration("flush-interval", 0, "let small batches' claims wait up to this long to share 837P files with the next batches' (0: write each batch's files when it ends)")
	metricsListen := fs.String("metrics-listen", "", "serve Prometheus metrics on GET http://HOST:PORT/metrics (default: off)")
	sweepInterval := fs.Duration("sweep-interval", gateway.DefaultSweepInterval, "how often one replica publishes the claim events a replica that died left unpublished (a redelivered message also starts a sweep at once)")
	metricsInterval := fs.Duration("metrics-interval", 5*time.Minute, "how often the replica holding the metrics lease scans the claim store for the AR gauges (at least 20 times the last scan's duration)")
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
	var hooks []webhook.Hook
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
		for _, w := range cfg.Webhooks {
			h, err := webhook.FromConfig(w) // reads the secret now: a missing one stops serve at once
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			hooks = append(hooks, h)
		}
	}
	// A soft memory limit (GOMEMLIMIT overrides it) keeps the collector
	// near the live heap (pipeline, embedded JetStream's caches) instead
	// of letting it double between collections.
	tokens, err := api.LoadTokens(*tokensFile, os.Getenv(apiTokensEnv))
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if *httpAddr != "none" {
		if err := api.CheckListen(*httpAddr, tokens); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
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
	// Webhooks (docs/webhooks.md): their consumers are created before the
	// gateway starts (its start-up may publish events), so a new webhook
	// starting at "new" misses none.
	var hookDisp *webhook.Dispatcher
	if len(hooks) > 0 {
		if err := b.Setup(ctx); err != nil {
			return &exitError{code: 2, err: err}
		}
		hookDisp, err = webhook.New(ctx, b, hooks, webhook.Options{Holder: *name, LeaseTTL: *leaseTTL, AckWait: *ackWait,
			Replicas: *replicas, Log: log})
		if err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	m := metrics.New()
	gateway.WatchWebhookMetrics(m, hookDisp, hooks)
	g, err := gateway.New(ctx, gateway.Config{DataDir: *dataDir, Bus: b, Claims: cfg, Payers: payers, Holder: *name, Log: log,
		AckWait: *ackWait, MaxClaimsPerFile: *perFile, FlushInterval: *flushEvery,
		Metrics: m, MetricsInterval: *metricsInterval, SweepInterval: *sweepInterval})
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer g.Close()
	if *metricsListen != "" {
		_, stopMetrics, err := serveMetrics(*metricsListen, m, log)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--metrics-listen: %w", err)}
		}
		defer stopMetrics()
	}
	if emb != nil {
		// Written once the streams exist, so a submit finding it works.
		if u := emb.ClientURL(); u != "" {
			if err := os.WriteFile(filepath.Join(*dataDir, natsURLFile), []byte(u+"\n"), 0o600); err != nil {
				return &exitError{code: 2, err: err}
			}
			log.Info("embedded NATS listening", "url", u)
		}
	}
	apiSrv, stopHTTP, err := serveHTTP(ctx, api.Config{Bus: b, Tokens: tokens, Log: log, TempDir: filepath.Join(*dataDir, "tmp"), MaxBodyBytes: *maxBody, Metrics: m.Handler()}, *httpAddr, *opsAddr, log)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if apiSrv != nil && *tokensFile != "" {
		// SIGHUP reads the tokens file again: rotate a token by adding
		// the new one, reloading, moving clients, removing the old one
		// and reloading again (docs/api.md).
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-hup:
				}
				tokens, err := api.LoadTokens(*tokensFile, os.Getenv(apiTokensEnv))
				if err == nil {
					var n int
					n, err = apiSrv.SetTokens(tokens)
					if err == nil {
						log.Info("api tokens reloaded", "tokens", n)
						continue
					}
				}
				log.Error("api tokens not reloaded; the ones in use are kept", "err", err)
			}
		}()
	}
	fmt.Fprintln(stderr, "claimgate serve: running; Ctrl-C stops")
	runCtx, stopHooks := context.WithCancel(ctx)
	hooksDone := make(chan struct{})
	go func() {
		defer close(hooksDone)
		if hookDisp != nil {
			if err := hookDisp.Run(runCtx); err != nil {
				log.Error("webhooks stopped", "err", err)
			}
		}
	}()
	err = g.Run(ctx)
	stopHTTP() // requests in flight finish before the bus drains
	stopHooks()
	<-hooksDone
	log.Info("gateway stopped; draining")
	if err != nil && !errors.Is(err, context.Canceled) {
		return &exitError{code: 1, err: err}
	}
	return nil
}

// apiTokensEnv holds API bearer tokens (comma-separated).
const apiTokensEnv = "CLAIMGATE_API_TOKENS"

// serveHTTP starts the API listener (unless addr is "none") and the ops
// listener (if ops is set); the returned stop shuts both down, letting
// requests in flight finish (at most 10 s). It is called after ctx ends.
func serveHTTP(ctx context.Context, cfg api.Config, addr, ops string, log *slog.Logger) (srv *api.Server, stop func(), err error) {
	if addr == "none" && ops == "" {
		return nil, func() {}, nil
	}
	srv, err = api.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	var servers []*http.Server
	listen := func(a string, h http.Handler, what string) error {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("--%s: %w", what, err)
		}
		hs := api.NewHTTPServer(ln.Addr().String(), h)
		servers = append(servers, hs)
		go func() {
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("http server stopped", "listener", what, "err", err)
			}
		}()
		log.Info("listening", "listener", what, "addr", ln.Addr().String())
		return nil
	}
	stop = func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, hs := range servers {
			hs.Shutdown(sctx)
		}
	}
	if addr != "none" {
		if err := listen(addr, srv.Handler(), "http"); err != nil {
			return nil, nil, err
		}
	}
	if ops != "" {
		if err := listen(ops, srv.OpsHandler(), "ops-http"); err != nil {
			stop()
			return nil, nil, err
		}
	}
	return srv, stop, nil
}

// serveMetrics serves m on GET /metrics at addr until stop is called;
// it returns the address listened on.
func serveMetrics(addr string, m *metrics.Metrics, log *slog.Logger) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := api.NewHTTPServer(ln.Addr().String(), mux) // the API's timeouts: a slow client cannot hold it
	go srv.Serve(ln)
	log.Info("metrics listening", "url", "http://"+ln.Addr().String()+"/metrics")
	return ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}
