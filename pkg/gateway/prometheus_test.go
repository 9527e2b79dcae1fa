package gateway

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/metrics"
	"github.com/claimgate/claimgate/pkg/payersim"
	"github.com/claimgate/claimgate/pkg/reconcile"
	"github.com/claimgate/claimgate/pkg/webhook"
)

// TestPrometheus runs a real Prometheus (Debian's binary) scraping a
// running gateway every second (embedded NATS, the payer simulator over
// SFTP, metrics on a loopback listener), pushes 210 claims (20
// scrub-rejected, 10 rejected by the 999, the simulator's 277CA
// rejections and denials, a batch dropped again as a duplicate), waits until Prometheus has
// the final values, and asserts with PromQL through its HTTP API that
// they equal what was pushed: claims received, scrub rejections by edit,
// transitions per payer and state (against the event stream), denials by
// category (against the claim store), rejections by response type,
// billed, paid and patient dollars (against the simulator), files sent.
// It also runs `promtool check metrics` on a live scrape, and evaluates
// the deploy engineer's alert rules and dashboard queries when they
// exist.
func TestPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	promBin, promtool := tool(t, "prometheus"), tool(t, "promtool")
	dir := t.TempDir()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: filepath.Join(dir, "nats"), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Shutdown()
	// The payer answers in order, the 999 1 s after the upload, the 277CA
	// 3 s later and the 835 3 s after that, so claims pass through
	// ack_accepted and payer_accepted (every state the dashboards chart
	// has data). A response that comes before the uploader has marked its
	// claims submitted is retried every 500 ms, and once CI's load held
	// the marking back past the 835 (answered 4 s after the upload then):
	// every 835 was applied before its 277CA, and payer_accepted had no
	// data.
	cfg := simConfig()
	for i := range cfg.Payers {
		cfg.Payers[i].Delays = payersim.Delays{Ack: payersim.Duration(time.Second), ClaimAck: payersim.Duration(4 * time.Second), Payment: payersim.Duration(7 * time.Second)}
	}
	s := startSimConfig(t, dir, cfg)
	ctx := context.Background()
	b, err := bus.Connect(ctx, bus.Options{Embedded: emb})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	m := metrics.New()
	target := serveMetricsT(t, m)
	data := filepath.Join(dir, "data")
	// A webhook whose receiver refuses every third request, so its
	// panel and alert have deliveries and failures to show.
	if err := b.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	secret := []byte("prometheus-secret")
	rcv := newHookReceiver(t, secret, 3)
	hooks := []webhook.Hook{{Name: "pm", URL: rcv.srv.URL, Secret: secret, Lanes: 4,
		RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond}}
	hctx, stopHooks := context.WithCancel(ctx)
	disp, err := webhook.New(hctx, b, hooks, webhook.Options{Holder: "r1", Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	hdone := make(chan error, 1)
	go func() { hdone <- disp.Run(hctx) }()
	defer func() { stopHooks(); <-hdone }()
	WatchWebhookMetrics(m, disp, hooks)
	g := runWithMetrics(t, b, s, data, m)

	rules := filepath.Join("..", "..", "deploy", "prometheus", "alerts.yml")
	if _, err := os.Stat(rules); err != nil {
		t.Logf("no %s: alert rules not checked (they land with the deploy work)", rules)
		rules = ""
	}
	prom := startPrometheus(t, promBin, filepath.Join(dir, "prometheus"), target, rules)

	// The load: 200 claims, every 10th with a bad billing NPI.
	ids, bad := writeBatch(t, filepath.Join(dir, "b1.csv"), "PM", 0, 200, 10)
	if _, dup, err := Submit(ctx, b, filepath.Join(dir, "b1.csv"), "b1.csv"); err != nil || dup {
		t.Fatalf("submit: %v (duplicate %v)", err, dup)
	}
	// And 10 claims served after the simulator's today: valid for the
	// gateway (its clock is later), but the payer's TR3 check rejects
	// their sets in its 999.
	future, _ := writeBatch(t, filepath.Join(dir, "b2.csv"), "PF", 200000, 10, 0)
	setColumn(t, filepath.Join(dir, "b2.csv"), "service_date", simNow.AddDate(0, 2, 0).Format("2006-01-02"))
	if _, dup, err := Submit(ctx, b, filepath.Join(dir, "b2.csv"), "b2.csv"); err != nil || dup {
		t.Fatalf("submit: %v (duplicate %v)", err, dup)
	}
	ids = append(ids, future...)
	raw, err := os.ReadFile(filepath.Join(dir, "b1.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// The same batch into the inbox: a duplicate.
	if err := os.WriteFile(filepath.Join(data, "inbox", "again.csv"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	waitAll(t, g, s, ids, bad, 3*time.Minute)
	checkEvents(t, b, ids, bad)
	if _, err := os.Stat(filepath.Join(data, "inbox", "done", "again.csv.report.json")); err != nil {
		t.Fatalf("the duplicate batch was not taken from the inbox: %v", err)
	}

	// Every claim event delivered to the webhook, in order.
	rcv.check(t, b, ids, time.Minute)
	hookAnswers := rcv.settled()
	want := expectedMetrics(t, g, b, s, ids, bad, filepath.Join(dir, "b1.csv"), filepath.Join(dir, "b2.csv"))
	// Prometheus has the final values once its last scrape saw every
	// transition (the AR gauges every second, after the last move).
	total := 0.0
	for _, v := range want.transitions {
		total += v
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, _ := prom.scalar(t, `sum(claimgate_claim_transitions_total)`)
		open, ok := prom.scalar(t, `sum(claimgate_open_claims) + sum(claimgate_oldest_submission_awaiting_seconds)`)
		delivered, _ := prom.scalar(t, `sum(claimgate_webhook_deliveries_total)`)
		if got == total && ok && open == 0 && delivered == float64(hookAnswers[0]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus has %v transitions (want %v) and open claims/ages %v (present %v) after 2 minutes", got, total, open, ok)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// One more scrape, so every series written with the last transition
	// is in too; then every query is evaluated at the time of a scrape
	// that succeeded (a scrape that fails, on a loaded machine, marks the
	// target's series stale until the next one).
	time.Sleep(2 * time.Second)
	prom.pinGoodScrape(t)

	prom.expectVector(t, `sum by (payer, state) (claimgate_claim_transitions_total)`, want.transitions)
	prom.expectVector(t, `sum by (payer) (claimgate_claims_received_total)`, want.received)
	prom.expectVector(t, `sum by (payer, edit) (claimgate_claims_scrub_rejected_total)`, want.scrubRejected)
	prom.expectVector(t, `sum by (payer, category) (claimgate_claims_denied_total)`, want.denied)
	prom.expectVector(t, `sum by (payer, type) (claimgate_response_rejections_total)`, want.rejections)
	prom.expectVector(t, `sum by (payer) (claimgate_billed_dollars_total)`, want.billed)
	prom.expectVector(t, `sum by (payer) (claimgate_paid_dollars_total)`, want.paid)
	prom.expectVector(t, `sum by (payer) (claimgate_patient_responsibility_dollars_total)`, want.patient)
	prom.expectVector(t, `sum by (payer) (claimgate_files_sent_total)`, want.filesSent)
	prom.expectVector(t, `sum by (payer, type) (claimgate_response_time_seconds_count)`, want.responses)
	prom.expectVector(t, `sum by (result) (claimgate_batches_total)`, map[string]float64{"ingested": 2, "duplicate": 1})
	prom.expectVector(t, `sum by (stage) (claimgate_stage_duration_seconds_count{stage="ingest"})`, map[string]float64{"ingest": 2})
	// The AR gauges of a settled load: every configured payer reported,
	// nothing open.
	prom.expectVector(t, `sum by (payer) (claimgate_open_ar_dollars)`, map[string]float64{"04412": 0, "60054": 0})
	prom.expectVector(t, `sum by (payer) (claimgate_open_ar_age_seconds_count)`, map[string]float64{"04412": 0, "60054": 0})
	prom.expectVector(t, `count by (type) (claimgate_oldest_submission_awaiting_seconds == 0)`, map[string]float64{"999": 2, "277ca": 2, "835": 2})
	// The bus.
	prom.expectVector(t, `sum(claimgate_nats_connected)`, map[string]float64{"": 1})
	prom.expectVector(t, `max by (consumer) (claimgate_consumer_pending_messages)`,
		map[string]float64{ConsumerIngest: 0, ConsumerUpload: 0, ConsumerReconcile: 0, webhook.ConsumerPrefix + "pm": 0})
	// The webhook: what the receiver answered, nothing dead or held.
	prom.expectVector(t, `sum by (webhook) (claimgate_webhook_deliveries_total)`, map[string]float64{"pm": float64(hookAnswers[0])})
	prom.expectVector(t, `sum by (webhook) (claimgate_webhook_failed_attempts_total)`, map[string]float64{"pm": float64(hookAnswers[1])})
	prom.expectVector(t, `sum by (webhook) (claimgate_webhook_dead_letters_total)`, map[string]float64{"pm": 0})
	prom.expectVector(t, `sum by (webhook) (claimgate_webhook_in_flight_events)`, map[string]float64{"pm": 0})
	prom.expectVector(t, `sum by (webhook) (claimgate_webhook_lease_held)`, map[string]float64{"pm": 1})
	prom.expectVector(t, `sum(claimgate_jetstream_stream_replicas_offline)`, map[string]float64{"": 0})
	if v, ok := prom.scalar(t, `claimgate_jetstream_stream_messages{stream="`+bus.StreamEvents+`"}`); !ok || v != want.events {
		t.Errorf("stream messages of %s: %v (present %v), want %v", bus.StreamEvents, v, ok, want.events)
	}
	// Lower bounds: these go on while the gateway polls.
	files := 0.0
	for _, v := range want.filesSent {
		files += v
	}
	for q, min := range map[string]float64{
		`sum(claimgate_sftp_operation_duration_seconds_count{op="upload"})`:   files,
		`sum(claimgate_sftp_operation_duration_seconds_count{op="connect"})`:  2,
		`sum(claimgate_sftp_operation_duration_seconds_count{op="list"})`:     2,
		`sum(claimgate_sftp_operation_duration_seconds_count{op="download"})`: 3 * 2,
		`sum(claimgate_sftp_operation_duration_seconds_count{op="remove"})`:   3 * 2,
		`count(claimgate_files_received_total)`:                               3 * 2, // 999, 277ca, 835 per payer
		`sum(claimgate_stage_duration_seconds_count{stage="upload"})`:         files,
		`sum(claimgate_stage_duration_seconds_count{stage="reconcile"})`:      3 * 2,
		`sum(claimgate_stage_duration_seconds_count{stage="poll"})`:           2,
		`claimgate_control_numbers_allocated_total`:                           2 * files, // ISA13 and GS06 per file
		`claimgate_build_info`: 1,
		`go_goroutines`:        1,
	} {
		if v, ok := prom.scalar(t, q); !ok || v < min {
			t.Errorf("%s = %v (present %v), want at least %v", q, v, ok, min)
		}
	}
	if v, ok := prom.scalar(t, `sum(claimgate_sftp_errors_total) + sum(claimgate_control_number_failures_total)`); ok && v != 0 {
		t.Errorf("%v SFTP or control number errors", v)
	}

	// promtool on a live scrape.
	body := get(t, "http://"+target+"/metrics")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	if bytes.Contains(body, []byte("PM0000")) {
		t.Error("a claim id in the metrics")
	}

	prom.checkRules(t, rules)
	prom.checkDashboards(t, filepath.Join("..", "..", "deploy", "grafana", "dashboards"))
}

// tool finds a Debian Prometheus binary; without one the test is
// skipped, except in CI, where .ci/run installs the package.
func tool(t *testing.T, name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (.ci/run installs the prometheus package)", name)
		}
		t.Skipf("%s not installed (apt-get install prometheus)", name)
	}
	return p
}

func serveMetricsT(t *testing.T, m *metrics.Metrics) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func runWithMetrics(t *testing.T, b *bus.Bus, s *sim, data string, m *metrics.Metrics) *Gateway {
	ctx, cancel := context.WithCancel(context.Background())
	g, err := New(ctx, Config{DataDir: data, Bus: b, Claims: claimsConfig(), Payers: s.payers(), Holder: "r1",
		Log: testLog(t), InboxInterval: 100 * time.Millisecond, MaxClaimsPerFile: 50,
		Metrics: m, MetricsInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway run: %v", err)
		}
		g.Close()
	})
	return g
}

// want is what the metrics must say, from the test's own records.
type want struct {
	transitions, received, scrubRejected, denied, rejections map[string]float64
	billed, paid, patient, filesSent, responses              map[string]float64
	events                                                   float64
}

func expectedMetrics(t *testing.T, g *Gateway, b *bus.Bus, s *sim, ids []string, bad map[string]bool, batches ...string) want {
	ctx := context.Background()
	w := want{transitions: map[string]float64{}, received: map[string]float64{}, scrubRejected: map[string]float64{},
		denied: map[string]float64{}, rejections: map[string]float64{}, billed: map[string]float64{}, paid: map[string]float64{},
		patient: map[string]float64{}, filesSent: map[string]float64{}, responses: map[string]float64{}}
	charges, payerOf := csvClaims(t, batches...)
	// Transitions: every move published on the event stream.
	for id, states := range eventCounts(t, b) {
		for st, n := range states {
			w.transitions[key(payerOf[id], string(st))] += float64(n)
			w.events += float64(n)
		}
	}
	files := map[string]map[int64]bool{}
	s.mu.Lock()
	defer s.mu.Unlock()
	npi := 0
	for _, id := range ids {
		p := payerOf[id]
		w.received[p]++
		rec, err := g.store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if bad[id] {
			edits := map[string]bool{}
			for _, r := range rec.Timeline[len(rec.Timeline)-1].Reasons {
				edits[r.Code] = true
			}
			for e := range edits {
				w.scrubRejected[key(e, p)]++ // labels edit, payer
			}
			if edits["NPI-INVALID"] {
				npi++
			}
			continue
		}
		if files[p] == nil {
			files[p] = map[int64]bool{}
		}
		files[p][rec.Submission.Interchange] = true
		o := s.outcomes[id]
		w.billed[p] += float64(charges[id]) / 100
		w.responses[key(p, "999")]++ // every submitted claim's set got a 999
		switch expected(o)[0] {
		case claim.AckRejected:
			w.rejections[key(p, "999")]++
			continue
		case claim.PayerRejected:
			w.rejections[key(p, "277ca")]++
			w.responses[key(p, "277ca")]++
			continue
		case claim.Denied:
			cat := ""
			for _, e := range rec.Timeline {
				if e.State == claim.Denied && e.Effect == reconcile.Moved {
					cat = e.DenialCategory
				}
			}
			w.denied[key(orStr(cat, metrics.Unknown), p)]++ // labels category, payer
		}
		w.responses[key(p, "277ca")]++
		w.responses[key(p, "835")]++
		w.paid[p] += float64(o.Paid) / 100
		w.patient[p] += float64(o.Patient) / 100
	}
	if npi != len(bad) {
		t.Fatalf("%d of %d bad claims rejected by NPI-INVALID", npi, len(bad))
	}
	for p, f := range files {
		w.filesSent[p] = float64(len(f))
	}
	// Money counters only exist once something was added.
	for _, m := range []map[string]float64{w.paid, w.patient} {
		for k, v := range m {
			if v == 0 {
				delete(m, k)
			}
		}
	}
	if len(w.denied) == 0 || w.rejections[key("60054", "277ca")] == 0 || w.rejections[key("04412", "999")]+w.rejections[key("60054", "999")] != 10 {
		t.Fatalf("the load lacks denials (%v), 277CA rejections or 10 999 rejections (%v): the simulator's decisions changed", w.denied, w.rejections)
	}
	t.Logf("pushed: transitions %v; scrub %v; denied %v; rejections %v; billed %v; paid %v; files %v",
		w.transitions, w.scrubRejected, w.denied, w.rejections, w.billed, w.paid, w.filesSent)
	return w
}

// readCSV reads a CSV batch and its column indexes.
func readCSV(t *testing.T, path string) ([][]string, map[string]int) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	return recs, col
}

// setColumn sets one column of every row of a CSV batch.
func setColumn(t *testing.T, path, name, value string) {
	recs, col := readCSV(t, path)
	for _, r := range recs[1:] {
		r[col[name]] = value
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.WriteAll(recs)
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// csvClaims sums the batches' line charges per claim (the simulator
// reports a charge only for the claims it adjudicated) and gives each
// claim's payer.
func csvClaims(t *testing.T, paths ...string) (map[string]claim.Money, map[string]string) {
	charges, payers := map[string]claim.Money{}, map[string]string{}
	for _, path := range paths {
		recs, col := readCSV(t, path)
		for _, r := range recs[1:] {
			m, err := claim.ParseMoney(r[col["charge"]])
			if err != nil {
				t.Fatal(err)
			}
			charges[r[col["claim_id"]]] += m
			payers[r[col["claim_id"]]] = r[col["payer_id"]]
		}
	}
	return charges, payers
}

// key joins label values (in the order of a query's "by" labels as
// Prometheus sorts them: alphabetically by label name).
func key(vals ...string) string { return strings.Join(vals, "|") }

// prometheus is a running Prometheus server.
type prometheus struct {
	url string
	at  string // evaluation time of queries (Unix seconds); empty: now
}

// pinGoodScrape makes later queries evaluate at the time of the latest
// successful scrape, waiting for one if the latest failed.
func (p *prometheus) pinGoodScrape(t *testing.T) {
	p.at = ""
	deadline := time.Now().Add(time.Minute)
	for {
		_, vec, err := p.query(`timestamp(up == 1)`)
		if err != nil {
			t.Fatal(err)
		}
		if len(vec) == 1 {
			at := vec[0].Value[1].(string)
			failed, _ := p.scalar(t, `sum(count_over_time(up[10m])) - sum(sum_over_time(up[10m]))`)
			slowest, _ := p.scalar(t, `max(max_over_time(scrape_duration_seconds[10m]))`)
			t.Logf("queries evaluated at %s (the latest good scrape); %v scrapes failed, the slowest took %.3fs", at, failed, slowest)
			p.at = at
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no successful scrape for a minute")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// startPrometheus runs Prometheus on a loopback port, scraping target
// every second, with the rule file when not empty; the cleanup stops it
// by its PID.
func startPrometheus(t *testing.T, bin, dir, target, rules string) *prometheus {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: claimgate
    static_configs:
      - targets: ['%s']
`, target)
	if rules != "" {
		abs, err := filepath.Abs(rules)
		if err != nil {
			t.Fatal(err)
		}
		cfg += fmt.Sprintf("rule_files:\n  - '%s'\n", abs)
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + freePort(t)
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		logf.Close()
		if t.Failed() {
			log, _ := os.ReadFile(logf.Name())
			t.Logf("prometheus log:\n%s", log)
		}
	})
	p := &prometheus{url: "http://" + addr}
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(p.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("prometheus exited: %v\n%s", err, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after a minute: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs an instant PromQL query; the error is Prometheus's when it
// refused the query.
func (p *prometheus) query(q string) (resultType string, vec []promSample, err error) {
	u := p.url + "/api/v1/query?query=" + url.QueryEscape(q)
	if p.at != "" {
		u += "&time=" + p.at
	}
	resp, err := http.Get(u)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return "", nil, err
	}
	if r.Status != "success" {
		return "", nil, fmt.Errorf("%s: %s", r.ErrorType, r.Error)
	}
	switch r.Data.ResultType {
	case "vector":
		err = json.Unmarshal(r.Data.Result, &vec)
	case "scalar":
		var v [2]any
		err = json.Unmarshal(r.Data.Result, &v)
		vec = []promSample{{Metric: map[string]string{}, Value: v}}
	}
	return r.Data.ResultType, vec, err
}

func sampleValue(s promSample) float64 {
	str, _ := s.Value[1].(string)
	v, _ := strconv.ParseFloat(str, 64)
	return v
}

// scalar is the value of a query returning at most one sample.
func (p *prometheus) scalar(t *testing.T, q string) (float64, bool) {
	_, vec, err := p.query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if len(vec) == 0 {
		return 0, false
	}
	if len(vec) > 1 {
		t.Fatalf("%s: %d samples", q, len(vec))
	}
	return sampleValue(vec[0]), true
}

// expectVector checks a query's samples, keyed by their label values
// (sorted by label name), against want.
func (p *prometheus) expectVector(t *testing.T, q string, want map[string]float64) {
	t.Helper()
	_, vec, err := p.query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	got := map[string]float64{}
	for _, s := range vec {
		names := make([]string, 0, len(s.Metric))
		for n := range s.Metric {
			if n != "__name__" {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		vals := make([]string, len(names))
		for i, n := range names {
			vals[i] = s.Metric[n]
		}
		got[key(vals...)] = sampleValue(s)
	}
	bad := len(got) != len(want)
	for k, v := range want {
		if g, ok := got[k]; !ok || math.Abs(g-v) > 0.005 {
			bad = true
		}
	}
	if bad {
		t.Errorf("%s:\n got %v\nwant %v", q, got, want)
	}
}

func get(t *testing.T, u string) []byte {
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	return b
}

// checkRules: Prometheus loaded the alert rules (a rule it could not
// parse stops it from starting), evaluated each without error, and each
// rule's expression runs through the query API.
func (p *prometheus) checkRules(t *testing.T, rules string) {
	if rules == "" {
		return
	}
	var r struct {
		Data struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Name      string `json:"name"`
					Query     string `json:"query"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := json.Unmarshal(get(t, p.url+"/api/v1/rules"), &r); err != nil {
			t.Fatal(err)
		}
		pending := false
		for _, g := range r.Data.Groups {
			for _, rl := range g.Rules {
				pending = pending || rl.Health == "unknown"
			}
		}
		if !pending || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	n := 0
	for _, g := range r.Data.Groups {
		for _, rl := range g.Rules {
			n++
			if rl.Health != "ok" {
				t.Errorf("rule %s/%s: health %s: %s", g.Name, rl.Name, rl.Health, rl.LastError)
			}
			if _, _, err := p.query(rl.Query); err != nil {
				t.Errorf("rule %s/%s: %s: %v", g.Name, rl.Name, rl.Query, err)
			}
		}
	}
	if n == 0 {
		t.Errorf("%s: no rules loaded", rules)
	}
	t.Logf("%d alert rules evaluated", n)
}

// grafanaVars replaces Grafana's variables in a panel query with values
// PromQL takes: intervals with durations, anything else (template
// variables, used in label matchers) with a pattern matching all.
var grafanaVar = regexp.MustCompile(`\$\{?(__rate_interval|__interval|__range|[A-Za-z_][A-Za-z0-9_]*)(:[a-z]+)?\}?`)

func grafanaExpr(e string) string {
	return grafanaVar.ReplaceAllStringFunc(e, func(v string) string {
		name := strings.Trim(v, "${}")
		name, _, _ = strings.Cut(name, ":")
		switch name {
		case "__rate_interval", "__interval":
			return "1m"
		case "__range":
			return "1h"
		}
		return ".*"
	})
}

// checkDashboards: every "expr" in the dashboards parses and returns
// data on the load above.
func (p *prometheus) checkDashboards(t *testing.T, dir string) {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(paths) == 0 {
		t.Logf("no dashboards in %s: not checked (they land with the deploy work)", dir)
		return
	}
	n := 0
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		for _, e := range exprs(doc) {
			n++
			q := grafanaExpr(e)
			typ, vec, err := p.query(q)
			switch {
			case err != nil:
				t.Errorf("%s: %s: %v", filepath.Base(path), e, err)
			case typ == "vector" && len(vec) == 0:
				t.Errorf("%s: %s: no data", filepath.Base(path), e)
			}
		}
	}
	if n == 0 {
		t.Errorf("%s: no panel expressions found", dir)
	}
	t.Logf("%d dashboard expressions evaluated", n)
}

// exprs lists the string values under "expr" keys anywhere in doc.
func exprs(doc any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if s, ok := c.(string); ok && k == "expr" && strings.TrimSpace(s) != "" {
					out = append(out, s)
					continue
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	return out
}
