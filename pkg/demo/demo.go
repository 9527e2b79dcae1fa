// Package demo runs the whole claimgate product on one machine for a
// first look (claimgate demo, make run): an embedded NATS with JetStream
// on disk, the payer simulator serving SFTP on a loopback port with a
// fresh host key pinned in the gateway's payer configuration, the gateway
// runtime, and (when the binary has one) the HTTP API on loopback with a
// generated token. It posts the sample charge batches, shows the claims
// moving through their states until every claim is settled or the time
// limit passes, and prints a summary read from the claim store.
package demo

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/claimgate/claimgate/pkg/api"
	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/config"
	"github.com/claimgate/claimgate/pkg/gateway"
	"github.com/claimgate/claimgate/pkg/ingest"
	"github.com/claimgate/claimgate/pkg/metrics"
	"github.com/claimgate/claimgate/pkg/payersim"
	"github.com/claimgate/claimgate/pkg/sftpconn"
)

// APIFunc builds the HTTP API on the running bus: api serves every route
// (POST /v1/batches, GET /v1/claims/{id}, ...) and checks the bearer
// tokens; ops serves /healthz, /readyz and /metrics without a token (nil:
// none).
// The gateway's metrics m feed /metrics.
type APIFunc func(ctx context.Context, b *bus.Bus, tokens []string, m *metrics.Metrics) (api, ops http.Handler, err error)

// DefaultAPI is claimgate's HTTP API (pkg/api) with m on /metrics.
func DefaultAPI(ctx context.Context, b *bus.Bus, tokens []string, m *metrics.Metrics) (http.Handler, http.Handler, error) {
	s, err := api.New(api.Config{Bus: b, Tokens: tokens, Metrics: m.Handler()})
	if err != nil {
		return nil, nil, err
	}
	return s.Handler(), s.OpsHandler(), nil
}

// Config configures a demo run.
type Config struct {
	// DataDir holds everything the run writes (JetStream store, the
	// simulator's folders, configuration, keys, logs). Empty: a new
	// temporary directory, removed at the end. A given one must be new or
	// empty (the demo's claims would be duplicates of an earlier run's).
	DataDir string
	// Batches are the charge batch files (JSON or CSV) to post, in order.
	Batches []string
	// Timeout bounds the wait for every claim to settle (default 60s).
	Timeout time.Duration
	// Keep leaves everything running after the summary until ctx ends.
	Keep bool
	// HTTP is where the API listens (default 127.0.0.1:0: a free port);
	// Ops where /healthz, /readyz and /metrics do (default 127.0.0.1:0).
	HTTP, Ops string
	// API, when set, serves the HTTP API and the demo posts batches
	// through it; nil hands them over with gateway.Submit.
	API APIFunc
	// Out receives the progress and the summary; TTY redraws the progress
	// in place (a terminal) instead of printing a line every few seconds.
	Out io.Writer
	TTY bool
	// Log receives the gateway's and simulator's logs (no patient data);
	// nil writes them to DATA/claimgate.log.
	Log *slog.Logger
	// OnProcessed is called with the simulator's decisions on each 837P
	// it answered (tests compare them with the summary).
	OnProcessed func(payer, file string, res *payersim.Result)
	// Interval is the progress redraw interval (default 250ms on a
	// terminal, 3s otherwise).
	Interval time.Duration
}

// Result is what a run came to.
type Result struct {
	Summary *Summary
	// Settled: every claim reached a settled state within the time limit.
	Settled bool
	// Interrupted: ctx ended before every claim settled.
	Interrupted bool
	// Claims are the ids of the claims followed.
	Claims []string
	// Batches are the gateway's answers, one per batch posted.
	Batches []Posted
	// APIURL, MetricsURL and Token say where the API was (empty without
	// one).
	APIURL, MetricsURL, Token string
	DataDir                   string
}

// simUser is the SFTP login at the simulated payers.
const simUser = "claimgate"

// Run runs the demo until every claim is settled or cfg.Timeout passes
// (then, with cfg.Keep, until ctx ends), stopping everything it started
// before it returns. Ending ctx stops it at any point.
func Run(ctx context.Context, cfg Config) (res *Result, err error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 3 * time.Second
		if cfg.TTY {
			cfg.Interval = 250 * time.Millisecond
		}
	}
	if len(cfg.Batches) == 0 {
		return nil, errors.New("demo: no batches to post")
	}
	out := cfg.Out
	start := time.Now()

	// The claims to follow, counted from the batches themselves.
	var ids []string
	for _, path := range cfg.Batches {
		got, err := claimIDs(path)
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		ids = append(ids, got...)
	}

	dir, cleanup, err := dataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	res = &Result{DataDir: dir}
	log := cfg.Log
	if log == nil {
		f, err := os.OpenFile(filepath.Join(dir, "claimgate.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		log = slog.New(slog.NewTextHandler(f, nil))
	}

	// The simulated payers: SFTP on loopback, a host key made on first
	// start in the fresh directory, our key the only one let in.
	simCfg, err := SimConfig()
	if err != nil {
		return nil, err
	}
	keyFile, pub, err := clientKey(filepath.Join(dir, "keys"))
	if err != nil {
		return nil, err
	}
	sim, err := payersim.New(simCfg, payersim.Options{Seed: simCfg.Seed, Now: func() time.Time { return simDay.Add(time.Since(start)) }})
	if err != nil {
		return nil, err
	}
	simLog := log.With("component", "payersim")
	srv, err := payersim.NewServer(sim, payersim.ServerOptions{DataDir: filepath.Join(dir, "payersim"), Listen: "127.0.0.1:0",
		User: simUser, AuthorizedKeys: []ssh.PublicKey{pub}, OnProcessed: cfg.OnProcessed,
		Logf: func(format string, args ...any) { simLog.Info(fmt.Sprintf(format, args...)) }})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	simAddr, known, err := srv.Start(context.WithoutCancel(ctx))
	if err != nil {
		return nil, fmt.Errorf("demo: payer simulator: %w", err)
	}
	if err := writeJSON(filepath.Join(dir, "payersim.json"), simCfg); err != nil {
		return nil, err
	}

	// The gateway's configuration, written and read back as serve reads
	// its --config.
	gcfg, err := gatewayConfig(simCfg, simAddr, known, keyFile)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "claimgate.json")
	if err := writeJSON(cfgPath, gcfg); err != nil {
		return nil, err
	}
	if gcfg, err = config.Load(cfgPath); err != nil {
		return nil, err
	}
	var payers []sftpconn.Payer
	for i := range gcfg.Payers {
		p, err := sftpconn.FromConfig(&gcfg.Payers[i])
		if err != nil {
			return nil, err
		}
		payers = append(payers, p)
	}

	// NATS with JetStream on disk, on a loopback port for claimgate
	// submit and PM systems.
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: dir, Host: "127.0.0.1", Port: 0, ServerName: "claimgate-demo"})
	if err != nil {
		return nil, err
	}
	defer emb.Shutdown() // last: after the bus has drained
	bctx := context.WithoutCancel(ctx)
	b, err := bus.Connect(bctx, bus.Options{Embedded: emb, Name: "claimgate-demo"})
	if err != nil {
		return nil, err
	}
	defer b.Close()
	m := metrics.New()
	g, err := gateway.New(bctx, gateway.Config{DataDir: dir, Bus: b, Claims: gcfg, Payers: payers, Holder: "demo", Log: log,
		InboxInterval: 500 * time.Millisecond, Metrics: m, MetricsInterval: 2 * time.Second})
	if err != nil {
		return nil, err
	}
	defer g.Close()
	store, err := b.ClaimStore(bctx)
	if err != nil {
		return nil, err
	}
	gctx, stopGateway := context.WithCancel(bctx)
	gdone := make(chan error, 1)
	go func() { gdone <- g.Run(gctx) }()
	defer func() {
		// Drain: handlers in flight finish before the bus closes.
		stopGateway()
		if gerr := <-gdone; gerr != nil && err == nil {
			err = fmt.Errorf("demo: gateway: %w", gerr)
		}
	}()
	natsURL := emb.ClientURL()
	if err := os.WriteFile(filepath.Join(dir, "nats.url"), []byte(natsURL+"\n"), 0o600); err != nil {
		return nil, err
	}

	// The HTTP API on loopback with a token made for this run.
	var poster Poster = &BusPoster{Bus: b}
	if cfg.API != nil {
		tok := make([]byte, 24)
		rand.Read(tok)
		res.Token = hex.EncodeToString(tok)
		if err := os.WriteFile(filepath.Join(dir, "api-tokens"), []byte(res.Token+"\n"), 0o600); err != nil {
			return nil, err
		}
		apiH, opsH, err := cfg.API(bctx, b, []string{res.Token}, m)
		if err != nil {
			return nil, fmt.Errorf("demo: API: %w", err)
		}
		stop, url, err := serveHTTP(orDefault(cfg.HTTP, "127.0.0.1:0"), apiH)
		if err != nil {
			return nil, fmt.Errorf("demo: API: %w", err)
		}
		defer stop()
		res.APIURL = url
		if opsH != nil {
			stop, url, err := serveHTTP(orDefault(cfg.Ops, "127.0.0.1:0"), opsH)
			if err != nil {
				return nil, fmt.Errorf("demo: ops listener: %w", err)
			}
			defer stop()
			res.MetricsURL = url + "/metrics"
		}
		poster = &HTTPPoster{BaseURL: res.APIURL, Token: res.Token, Client: &http.Client{Timeout: time.Minute}}
	}

	fmt.Fprintf(out, "claimgate demo: NATS %s, payer simulator sftp://%s (host key pinned), data in %s\n", natsURL, simAddr, dir)
	if res.APIURL != "" {
		fmt.Fprintf(out, "HTTP API %s\n", res.APIURL)
	}
	tr := newTracker(ids)
	fctx, stopFollow := context.WithCancel(bctx)
	fdone := make(chan error, 1)
	go func() { fdone <- tr.follow(fctx, b) }()
	defer func() { stopFollow(); <-fdone }()

	for _, path := range cfg.Batches {
		p, err := poster.Post(ctx, path)
		if err != nil {
			if ctx.Err() != nil {
				res.Interrupted = true
				return res, nil
			}
			return res, fmt.Errorf("demo: posting %s: %w", filepath.Base(path), err)
		}
		res.Batches = append(res.Batches, p)
		note := ""
		if p.Duplicate {
			note = " (duplicate: already posted)"
		}
		fmt.Fprintf(out, "posted %s: batch %.16s%s\n", filepath.Base(path), p.BatchID, note)
	}
	fmt.Fprintln(out)

	d := &display{w: out, tty: cfg.TTY, start: start}
	deadline := time.NewTimer(cfg.Timeout - time.Since(start))
	defer deadline.Stop()
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	// The summary is read from the claim store: the events only say
	// when to look.
	for done := false; !done; {
		counts, settled, total := tr.snapshot()
		if settled == total {
			if res.Summary, err = summarise(ctx, store, tr.ids()); err != nil {
				return res, err
			}
			if res.Summary.Settled == res.Summary.Claims {
				d.draw(counts, settled, total)
				res.Settled = true
				break
			}
		}
		select {
		case <-tick.C:
			d.draw(counts, settled, total)
		case <-deadline.C:
			d.draw(counts, settled, total)
			done = true
		case <-ctx.Done():
			d.draw(counts, settled, total)
			res.Interrupted = true
			done = true
		}
	}
	res.Claims = tr.ids()
	sctx, cancel := context.WithTimeout(bctx, 30*time.Second)
	defer cancel()
	if res.Summary, err = summarise(sctx, store, res.Claims); err != nil {
		return res, err
	}
	res.Settled = res.Summary.Settled == res.Summary.Claims && !res.Interrupted
	if res.Interrupted {
		fmt.Fprintln(out, "\ninterrupted: stopping")
	}
	keep := cfg.Keep && !res.Interrupted
	res.Summary.Write(out, time.Since(start), Where{APIURL: res.APIURL, MetricsURL: res.MetricsURL, Token: res.Token,
		DataDir: dir, NATSURL: natsURL, Keep: keep, Temporary: cfg.DataDir == ""})
	if keep {
		<-ctx.Done()
		fmt.Fprintln(out, "stopping: draining the gateway, then NATS and the payer simulator")
	}
	return res, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// serveHTTP serves h on addr and returns a function that shuts it down
// (waiting for requests in flight) and the base URL.
func serveHTTP(addr string, h http.Handler) (stop func(), url string, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); hs.Serve(ln) }()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if hs.Shutdown(ctx) != nil {
			hs.Close()
		}
		<-done
	}, "http://" + ln.Addr().String(), nil
}

// dataDir makes the run's directory: a new temporary one (removed by
// cleanup) or the given one, which must be new or empty.
func dataDir(dir string) (string, func(), error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "claimgate-demo-")
		if err != nil {
			return "", nil, err
		}
		return d, func() { os.RemoveAll(d) }, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", nil, err
	}
	if len(ents) > 0 {
		return "", nil, fmt.Errorf("demo: data directory %s is not empty (the demo's claims would be duplicates of an earlier run's): give a new one", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, err
	}
	return abs, func() {}, nil
}

// clientKey makes the gateway's SFTP key: the private key in a file the
// payer configuration refers to, the public key for the simulator.
func clientKey(dir string) (string, ssh.PublicKey, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "claimgate demo")
	if err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return "", nil, err
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		return "", nil, err
	}
	return path, sp, nil
}

// claimIDs lists the claim ids of a JSON or CSV batch: the claims the
// decoder emits and those it refuses (the gateway records both).
func claimIDs(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	format, r, err := ingest.Detect(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	d := &ingest.Decoder{MaxErrors: 1, OnError: func(e *ingest.RowError) { add(e.ClaimID) }}
	emit := func(r ingest.Result) error { add(r.Claim.ID); return nil }
	switch format {
	case ingest.FormatJSON:
		_, err = d.DecodeJSON(r, path, emit)
	case ingest.FormatCSV:
		_, err = d.DecodeCSV(r, path, emit)
	default:
		return nil, fmt.Errorf("%s: the demo posts JSON or CSV batches (%s)", filepath.Base(path), format)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return ids, nil
}
