package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// labelValues are the values the synthetic series take per label.
var labelValues = map[string][]string{
	"payer":     {"04412", "60054"},
	"edit":      {"NCCI-PTP-MODIFIER", "GP-MISSING"},
	"consumer":  {"claimgate-ingest", "claimgate-upload", "claimgate-reconcile", "claimgate-webhook-pm"},
	"webhook":   {"pm"},
	"stream":    {"CLAIMGATE_EVENTS", "KV_claimgate_claims"},
	"version":   {"v0.1.0"},
	"goversion": {"go1.26.8"},
}

// seriesLabels lists every label set of a catalogue metric: the product
// of its labels' values.
func seriesLabels(m metric) []map[string]string {
	sets := []map[string]string{{}}
	for _, l := range m.labels {
		vals := labelValues[l]
		switch {
		case l == "type" && m.types != nil:
			vals = m.types
		case l == "state" && m.states != nil:
			vals = m.states
		case vals == nil:
			vals = closedValues[l]
		}
		var next []map[string]string
		for _, s := range sets {
			for _, v := range vals {
				c := map[string]string{l: v}
				for k, x := range s {
					c[k] = x
				}
				next = append(next, c)
			}
		}
		sets = next
	}
	return sets
}

func labelString(ls map[string]string, extra ...string) string {
	var parts []string
	for k, v := range ls {
		parts = append(parts, fmt.Sprintf("%s=%q", k, v))
	}
	slices.Sort(parts)
	parts = append([]string{`job="claimgate"`, `instance="gw-1:9091"`}, parts...)
	parts = append(parts, extra...)
	return "{" + strings.Join(parts, ",") + "}"
}

// sampleTimes: every 6 hours over 32 days, hourly over the last 2 days,
// every 30 s over the last 30 minutes (rate over 5m needs two samples).
func sampleTimes(end time.Time) []time.Time {
	var ts []time.Time
	for t := end.Add(-32 * 24 * time.Hour); t.Before(end.Add(-48 * time.Hour)); t = t.Add(6 * time.Hour) {
		ts = append(ts, t)
	}
	for t := end.Add(-48 * time.Hour); t.Before(end.Add(-30 * time.Minute)); t = t.Add(time.Hour) {
		ts = append(ts, t)
	}
	for t := end.Add(-30 * time.Minute); !t.After(end); t = t.Add(30 * time.Second) {
		ts = append(ts, t)
	}
	return ts
}

// writeOpenMetrics writes series shaped like the catalogue (every metric,
// every label value) for the times given: counters growing, histograms
// filling their buckets, gauges steady.
func writeOpenMetrics(t *testing.T, path string, times []time.Time) {
	t.Helper()
	var b strings.Builder
	start := times[0]
	names := make([]string, 0, len(catalogue))
	for n := range catalogue {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		m := catalogue[name]
		switch m.kind {
		case counter:
			family := strings.TrimSuffix(name, "_total")
			fmt.Fprintf(&b, "# TYPE %s counter\n", family)
			for i, ls := range seriesLabels(m) {
				rate := float64(i%5+1) / 60 // per second
				for _, ts := range times {
					fmt.Fprintf(&b, "%s%s %g %d\n", name, labelString(ls), rate*ts.Sub(start).Seconds(), ts.Unix())
				}
			}
		case gauge:
			fmt.Fprintf(&b, "# TYPE %s gauge\n", name)
			for i, ls := range seriesLabels(m) {
				for _, ts := range times {
					fmt.Fprintf(&b, "%s%s %d %d\n", name, labelString(ls), 1000*(i%7+1), ts.Unix())
				}
			}
		case histogram:
			fmt.Fprintf(&b, "# TYPE %s histogram\n", name)
			bounds := []float64{0.005, 0.05, 0.5, 5, 60, 3600, 86400, 604800, 2592000}
			for _, ls := range seriesLabels(m) {
				for _, le := range bounds {
					for _, ts := range times {
						// Observations spread over the buckets: 1/s in all,
						// a share below each bound.
						frac := math.Min(1, (math.Log10(le)+3)/10)
						fmt.Fprintf(&b, "%s_bucket%s %g %d\n", name, labelString(ls, fmt.Sprintf(`le="%g"`, le)), frac*ts.Sub(start).Seconds(), ts.Unix())
					}
				}
				for _, ts := range times {
					fmt.Fprintf(&b, "%s_bucket%s %g %d\n", name, labelString(ls, `le="+Inf"`), ts.Sub(start).Seconds(), ts.Unix())
				}
				for _, ts := range times {
					fmt.Fprintf(&b, "%s_sum%s %g %d\n", name, labelString(ls), 100*ts.Sub(start).Seconds(), ts.Unix())
				}
				for _, ts := range times {
					fmt.Fprintf(&b, "%s_count%s %g %d\n", name, labelString(ls), ts.Sub(start).Seconds(), ts.Unix())
				}
			}
		}
	}
	// The scrape's own series and the Go and process collectors'.
	for _, g := range []string{"up", "process_resident_memory_bytes", "go_goroutines"} {
		fmt.Fprintf(&b, "# TYPE %s gauge\n", g)
		for _, ts := range times {
			fmt.Fprintf(&b, "%s%s 1 %d\n", g, labelString(nil), ts.Unix())
		}
	}
	b.WriteString("# EOF\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

type promResult struct {
	Status    string `json:"status"`
	Error     string `json:"error"`
	ErrorType string `json:"errorType"`
	Data      struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	} `json:"data"`
}

// startPrometheus serves the TSDB in dir from Debian's prometheus binary
// on a loopback port; it is stopped when the test ends.
func startPrometheus(t *testing.T, dir string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus not installed (Debian package prometheus; .ci/run installs it)")
	}
	cfg := filepath.Join(t.TempDir(), "prometheus.yml")
	os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1h\n"), 0o600)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	logf, _ := os.Create(filepath.Join(t.TempDir(), "prometheus.log"))
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+dir,
		"--storage.tsdb.retention.time=400d", "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	base := "http://" + addr
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("prometheus not ready after 2 minutes: %v\n%s", err, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func query(t *testing.T, base, expr string, at time.Time) (*promResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u := base + "/api/v1/query?" + url.Values{"query": {expr}, "time": {strconv.FormatInt(at.Unix(), 10)}}.Encode()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r promResult
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Every dashboard query and every alert expression runs in a real
// Prometheus on series shaped like the catalogue (every metric and label
// value, a month of history): no evaluation error (a vector match with
// many-to-many sides, a bad grouping), and each dashboard query returns
// at least one finite value, so no panel reads "No data" or NaN for want
// of a label or a series the catalogue provides.
func TestQueriesOnCatalogueSeries(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus; .ci/run installs it)")
	}
	if _, err := exec.LookPath("prometheus"); err != nil {
		t.Skip("prometheus not installed (Debian package prometheus; .ci/run installs it)")
	}
	// Whole minutes in the past, so the blocks lie before the head.
	end := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
	dir := t.TempDir()
	om := filepath.Join(dir, "series.om")
	writeOpenMetrics(t, om, sampleTimes(end))
	tsdb := filepath.Join(dir, "tsdb")
	if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "-q", om, tsdb).CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
	base := startPrometheus(t, tsdb)

	// The data is there: one series of each catalogue metric.
	for name, m := range catalogue {
		sel := name
		if m.kind == histogram {
			sel += "_count"
		}
		r, err := query(t, base, "count("+sel+")", end)
		if err != nil || r.Status != "success" || len(r.Data.Result) == 0 {
			t.Fatalf("%s not loaded: %v %+v", sel, err, r)
		}
	}

	exprs, err := DashboardExprs(Dashboard)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exprs {
		r, err := query(t, base, e.Expr, end)
		if err != nil {
			t.Fatalf("panel %d %q: %v", e.PanelID, e.Title, err)
		}
		if r.Status != "success" {
			t.Errorf("panel %d %q %s: %s: %s\n%s", e.PanelID, e.Title, e.RefID, r.ErrorType, r.Error, e.Expr)
			continue
		}
		finite := false
		for _, s := range r.Data.Result {
			v, _ := s.Value[1].(string)
			f, err := strconv.ParseFloat(v, 64)
			finite = finite || (err == nil && !math.IsNaN(f) && !math.IsInf(f, 0))
		}
		if !finite {
			t.Errorf("panel %d %q %s: no finite value (%d series)\n%s", e.PanelID, e.Title, e.RefID, len(r.Data.Result), e.Expr)
		}
	}
	for name, e := range alertExprs(t) {
		r, err := query(t, base, e, end)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.Status != "success" {
			t.Errorf("%s: %s: %s\n%s", name, r.ErrorType, r.Error, e)
		}
	}
	// An evaluation error is reported (the check can fail): two sides
	// that match many-to-many.
	r, err := query(t, base, `claimgate_claim_transitions_total / ignoring (state) claimgate_claim_transitions_total`, end)
	if err != nil || r.Status == "success" {
		t.Errorf("a many-to-many match was not refused: %v %+v", err, r)
	}
}
