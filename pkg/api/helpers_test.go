package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/claimgate/claimgate/pkg/api"
	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/config"
	"github.com/claimgate/claimgate/pkg/gateway"
	"github.com/claimgate/claimgate/pkg/payersim"
	"github.com/claimgate/claimgate/pkg/sftpconn"
)

// The harness: an embedded NATS server, a running gateway whose payers
// are the payer simulator's SFTP server (in-process), and the API on a
// real loopback listener. Adapted from pkg/gateway's helpers_test.go.

var testPayers = []string{"04412", "60054"}

var simNow = time.Date(2025, 4, 1, 12, 0, 0, 0, time.UTC)

type sim struct {
	srv      *payersim.Server
	addr     string
	hostKey  ssh.PublicKey
	signer   ssh.Signer
	mu       sync.Mutex
	outcomes map[string]payersim.ClaimOutcome
}

func simConfig() *payersim.Config {
	cfg := payersim.ExampleConfig()
	cfg.PollInterval = payersim.Duration(20 * time.Millisecond)
	for i := range cfg.Payers {
		cfg.Payers[i].Delays = payersim.Delays{}
		cfg.Payers[i].ReversalRate = 0
	}
	return cfg
}

func startSim(t testing.TB, dir string) *sim {
	t.Helper()
	s := &sim{outcomes: map[string]payersim.ClaimOutcome{}}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if s.signer, err = ssh.NewSignerFromKey(priv); err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	sm, err := payersim.New(simConfig(), payersim.Options{Seed: 7, Now: func() time.Time { return simNow }})
	if err != nil {
		t.Fatal(err)
	}
	s.srv, err = payersim.NewServer(sm, payersim.ServerOptions{DataDir: filepath.Join(dir, "payersim"), Listen: "127.0.0.1:0",
		User: "claimgate", AuthorizedKeys: []ssh.PublicKey{sshPub},
		OnProcessed: func(_, _ string, res *payersim.Result) {
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, c := range res.Claims {
				s.outcomes[c.ClaimID] = c
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if s.addr, _, err = s.srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.hostKey = s.srv.HostKey()
	t.Cleanup(func() { s.srv.Close() })
	return s
}

func (s *sim) outcome(id string) (payersim.ClaimOutcome, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.outcomes[id]
	return o, ok
}

func (s *sim) payers() []sftpconn.Payer {
	var out []sftpconn.Payer
	cfg := simConfig()
	for _, id := range testPayers {
		p, _ := cfg.Payer(id)
		in, outDir := orStr(p.Inbound, cfg.Inbound), orStr(p.Outbound, cfg.Outbound)
		folder := orStr(p.Folder, id)
		out = append(out, sftpconn.Payer{ID: id, Addr: s.addr, User: "claimgate",
			Auth: []ssh.AuthMethod{ssh.PublicKeys(s.signer)}, HostKeys: []ssh.PublicKey{s.hostKey},
			OutboundDir: "/" + folder + "/" + in, InboundDir: "/" + folder + "/" + outDir,
			PollInterval: 100 * time.Millisecond, SettleTime: 30 * time.Millisecond,
			RetryMin: 100 * time.Millisecond, RetryMax: time.Second})
	}
	return out
}

func orStr(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func claimsConfig() *config.Config {
	cfg := &config.Config{
		Submitter: config.Submitter{Name: "RIVERBEND BILLING", ID: "RBBS001", ContactName: "EDI DESK", Phone: "5035550142", ISAQualifier: "ZZ", ISAID: "RBBS001"},
		Usage:     "T",
	}
	for _, p := range simConfig().Payers {
		cp := config.Payer{ID: p.ID, Name: p.Name, FilingCode: p.FilingCode}
		cp.Receiver.ISAQualifier = "ZZ"
		cp.Receiver.ISAID = p.ISAID
		cp.Receiver.GSID = p.GSID
		if cp.Receiver.GSID == "" {
			cp.Receiver.GSID = p.ID
		}
		cfg.Payers = append(cfg.Payers, cp)
	}
	return cfg
}

const sampleBatch = "../../testdata/batches/pt_batch.csv"

// csvBatch makes a CSV batch of n claims (ids PREFIX000000...) from the
// sample batch's two clean claims, alternating payers; every
// badEvery-th claim gets an invalid billing NPI (scrub-rejected). It
// returns the bytes, the ids and which are bad.
func csvBatch(t testing.TB, prefix string, base, n, badEvery int) ([]byte, []string, map[string]bool) {
	t.Helper()
	f, err := os.Open(sampleBatch)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	var tmpl [2][][]string
	for _, r := range recs[1:] {
		switch r[col["claim_id"]] {
		case "RB-25-0002":
			tmpl[0] = append(tmpl[0], r)
		case "RB-25-0003":
			tmpl[1] = append(tmpl[1], r)
		}
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(recs[0])
	var ids []string
	bad := map[string]bool{}
	for i := range n {
		id := fmt.Sprintf("%s%06d", prefix, i)
		ids = append(ids, id)
		payer := testPayers[i%len(testPayers)]
		isBad := badEvery > 0 && i%badEvery == badEvery-1
		if isBad {
			bad[id] = true
		}
		for _, r := range tmpl[i%2] {
			row := append([]string(nil), r...)
			row[col["claim_id"]] = id
			row[col["payer_id"]] = payer
			row[col["payer_name"]] = "PAYER " + payer
			row[col["subscriber_member_id"]] = fmt.Sprintf("M%06d", (base+i)%1000000)
			if i%3 == 0 {
				row[col["subscriber_member_id"]] = fmt.Sprintf("X%08d", base+i) // rejected by 60054's 277CA
			}
			if payer == "04412" {
				row[col["subscriber_filing_code"]] = "MB"
			} else {
				row[col["subscriber_filing_code"]] = "CI"
			}
			if isBad {
				row[col["billing_npi"]] = "1234567890"
			}
			w.Write(row)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), ids, bad
}

// env is a running gateway with the API in front of it.
type env struct {
	srv   *api.Server
	t     testing.TB
	b     *bus.Bus
	sim   *sim
	store *bus.ClaimStore
	url   string // http://127.0.0.1:port
	ops   string // the ops listener's URL
	logs  *syncBuffer
	rec   *recorder
}

// syncBuffer is a log sink the test reads (PHI checks).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const (
	tokenOld = "old-token-5b0c1e"
	tokenNew = "new-token-9f27aa"
)

func startEnv(t *testing.T, maxBody int64) *env {
	t.Helper()
	dir := t.TempDir()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: filepath.Join(dir, "nats"), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Shutdown)
	ctx := context.Background()
	b, err := bus.Connect(ctx, bus.Options{Embedded: emb})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	s := startSim(t, dir)
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	gctx, cancel := context.WithCancel(ctx)
	g, err := gateway.New(gctx, gateway.Config{DataDir: filepath.Join(dir, "data"), Bus: b, Claims: claimsConfig(), Payers: s.payers(),
		Log: log, InboxInterval: 100 * time.Millisecond, MaxClaimsPerFile: 25})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- g.Run(gctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway: %v", err)
		}
		g.Close()
	})
	store, err := b.ClaimStore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "# HELP claimgate_up 1\nclaimgate_up 1\n")
	})
	srv, err := api.New(api.Config{Bus: b, Tokens: []string{tokenOld, tokenNew}, MaxBodyBytes: maxBody, Metrics: metrics,
		Log: log, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, b: b, sim: s, store: store, logs: logs, rec: &recorder{}, srv: srv}
	e.url = serve(t, srv.Handler())
	e.ops = serve(t, srv.OpsHandler())
	return e
}

func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := api.NewHTTPServer(ln.Addr().String(), h)
	go hs.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String()
}

// response is one answer, kept for the OpenAPI check.
type response struct {
	Method, Path, Route string
	Status              int
	ContentType         string
	Body                []byte
}

type recorder struct {
	mu  sync.Mutex
	all []response
}

func (r *recorder) add(x response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, x)
}

// do sends a request (token "" sends none) and returns the answer; route
// is the OpenAPI path the request is checked against.
func (e *env) do(method, base, route, path, token, ctype string, body []byte, hdr ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := response{Method: method, Path: path, Route: route, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: data}
	if resp.StatusCode == http.StatusAccepted {
		if loc := resp.Header.Get("Location"); loc == "" {
			e.t.Errorf("%s %s: 202 without Location", method, path)
		}
	}
	e.rec.add(r)
	return r
}

func (e *env) get(route, path string, v any) int {
	e.t.Helper()
	r := e.do("GET", e.url, route, path, tokenNew, "", nil)
	if v != nil && r.Status == http.StatusOK {
		if err := json.Unmarshal(r.Body, v); err != nil {
			e.t.Fatalf("GET %s: %v: %s", path, err, r.Body)
		}
	}
	return r.Status
}

// errCode is the error code of an error answer.
func errCode(t testing.TB, r response) string {
	t.Helper()
	var e api.Error
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("%s %s: error body %q: %v", r.Method, r.Path, r.Body, err)
	}
	return e.Error.Code
}

// waitFor polls cond until it holds or limit passes.
func waitFor(t testing.TB, limit time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v: %s", what, limit, why)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

var errStop = errors.New("stop")
