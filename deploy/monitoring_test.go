package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dashboardPanels decodes the dashboard and returns its panels, rows'
// panels included.
func dashboardPanels(t *testing.T) []Panel {
	t.Helper()
	var d struct {
		UID           string  `json:"uid"`
		Title         string  `json:"title"`
		SchemaVersion int     `json:"schemaVersion"`
		Panels        []Panel `json:"panels"`
	}
	dec := json.NewDecoder(bytes.NewReader(Dashboard))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	if d.UID == "" || d.Title == "" || d.SchemaVersion == 0 {
		t.Fatalf("dashboard: uid %q, title %q, schemaVersion %d: all three are required", d.UID, d.Title, d.SchemaVersion)
	}
	return flatten(d.Panels)
}

// provisionedDatasourceUID reads the uid of the datasource the compose
// stack provisions (a line "uid: X").
func provisionedDatasourceUID(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("grafana/provisioning/datasources/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*uid:\s*(\S+)\s*$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("grafana/provisioning/datasources/prometheus.yml: no uid")
	}
	return string(m[1])
}

func TestDashboardStructure(t *testing.T) {
	uid := provisionedDatasourceUID(t)
	panels := dashboardPanels(t)
	ids := map[int]string{}
	type cell struct{ x, y int }
	taken := map[cell]string{}
	queries := 0
	for _, p := range panels {
		name := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if p.ID <= 0 {
			t.Errorf("%s: id must be positive", name)
		}
		if prev, dup := ids[p.ID]; dup {
			t.Errorf("%s: id already used by %q", name, prev)
		}
		ids[p.ID] = p.Title
		if p.Title == "" {
			t.Errorf("%s: no title", name)
		}
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("%s: gridPos %+v outside the 24-column grid", name, g)
		}
		// Overlapping panels are drawn on top of each other.
	grid:
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := taken[cell{x, y}]; ok {
					t.Errorf("%s overlaps %s at (%d,%d)", name, other, x, y)
					break grid
				}
				taken[cell{x, y}] = name
			}
		}
		if p.Type == "row" {
			if len(p.Targets) > 0 {
				t.Errorf("%s: a row has no queries", name)
			}
			continue
		}
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != uid {
			t.Errorf("%s: datasource %+v, want the provisioned prometheus datasource %q", name, p.Datasource, uid)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no targets", name)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			queries++
			if tg.RefID == "" || refs[tg.RefID] {
				t.Errorf("%s: refId %q missing or repeated", name, tg.RefID)
			}
			refs[tg.RefID] = true
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("%s %s: empty expr", name, tg.RefID)
			}
			// The metrics tests run every expr against Prometheus as is:
			// no Grafana variables.
			if strings.Contains(tg.Expr, "$") {
				t.Errorf("%s %s: expr uses a Grafana variable: %s", name, tg.RefID, tg.Expr)
			}
			if tg.Datasource != nil && tg.Datasource.UID != uid {
				t.Errorf("%s %s: target datasource %+v", name, tg.RefID, tg.Datasource)
			}
		}
	}
	if queries < 20 {
		t.Errorf("dashboard has %d queries; it lost panels", queries)
	}
	exprs, err := DashboardExprs(Dashboard)
	if err != nil || len(exprs) != queries {
		t.Errorf("DashboardExprs: %d exprs, %v; want %d", len(exprs), err, queries)
	}
}

// The revenue-cycle and machine views each show what the operations
// brief asks for; a panel that disappears in an edit fails here.
func TestDashboardCoversTheViews(t *testing.T) {
	exprs, err := DashboardExprs(Dashboard)
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, e := range exprs {
		all.WriteString(e.Expr + "\n")
	}
	for _, want := range []string{
		"claimgate_open_claims", `state="payer_accepted"`, "claimgate_response_rejections_total",
		"claimgate_claims_denied_total", `claimgate_response_time_seconds_bucket{type="277ca"}`,
		`claimgate_response_time_seconds_bucket{type="835"}`, "claimgate_open_ar_dollars", "claimgate_billed_dollars_total[30d]",
		"claimgate_claims_received_total", "claimgate_stage_duration_seconds_bucket", "claimgate_consumer_pending_messages",
		"claimgate_sftp_operation_duration_seconds_bucket", "claimgate_sftp_errors_total", "claimgate_jetstream_stream_replicas_offline",
		"claimgate_nats_connected",
	} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("no dashboard query reads %s", want)
		}
	}
}

var (
	// a metric name with an optional selector
	selectorRE = regexp.MustCompile(`\b(claimgate_[a-zA-Z0-9_]+)(\{([^}]*)\})?`)
	matcherRE  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
	groupingRE = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
)

// checkNames checks the metric names, selector labels and values, and
// grouping labels of one PromQL expression against the catalogue.
func checkNames(expr string) []string {
	var errs []string
	allLabels := slices.Clone(targetLabels)
	for _, m := range catalogue {
		allLabels = append(allLabels, m.labels...)
	}
	for _, s := range selectorRE.FindAllStringSubmatch(expr, -1) {
		name := s[1]
		m, ok := catalogue[name]
		if !ok {
			base, suffix := name, ""
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if b, found := strings.CutSuffix(name, suf); found {
					base, suffix = b, suf
				}
			}
			if hm, found := catalogue[base]; found && hm.kind == histogram && suffix != "" {
				m, ok = hm, true
			}
		}
		if !ok {
			errs = append(errs, fmt.Sprintf("%s is not in the metric catalogue", name))
			continue
		}
		for _, mm := range matcherRE.FindAllStringSubmatch(s[3], -1) {
			label, op, value := mm[1], mm[2], mm[3]
			if !slices.Contains(m.labels, label) && !slices.Contains(targetLabels, label) {
				errs = append(errs, fmt.Sprintf("%s has no label %s", name, label))
				continue
			}
			allowed := closedValues[label]
			switch {
			case label == "type" && m.types != nil:
				allowed = m.types
			case label == "state" && m.states != nil:
				allowed = m.states
			}
			if allowed == nil {
				continue
			}
			values := []string{value}
			if op == "=~" || op == "!~" {
				values = strings.Split(value, "|")
			}
			for _, v := range values {
				if !slices.Contains(allowed, v) {
					errs = append(errs, fmt.Sprintf("%s{%s%s%q}: %q is not a value of %s (%s)", name, label, op, value, v, label, strings.Join(allowed, ", ")))
				}
			}
		}
	}
	for _, g := range groupingRE.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(g[1], ",") {
			if l = strings.TrimSpace(l); l != "" && !slices.Contains(allLabels, l) {
				errs = append(errs, fmt.Sprintf("grouping label %s is not a catalogue label", l))
			}
		}
	}
	return errs
}

func TestDashboardNamesInCatalogue(t *testing.T) {
	exprs, err := DashboardExprs(Dashboard)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exprs {
		for _, msg := range checkNames(e.Expr) {
			t.Errorf("panel %d %q %s: %s", e.PanelID, e.Title, e.RefID, msg)
		}
	}
}

// alertExprs returns the expr of every rule in alerts.yml: a block scalar
// ("expr: |" and its indented lines) or a one-line expr. A YAML parser
// would be a new dependency; promtool checks the file's syntax.
func alertExprs(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(string(AlertRules), "\n")
	name := ""
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if v, ok := strings.CutPrefix(l, "- alert:"); ok {
			name = strings.TrimSpace(v)
		} else if v, ok := strings.CutPrefix(l, "- record:"); ok {
			name = strings.TrimSpace(v)
		}
		v, ok := strings.CutPrefix(l, "expr:")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if v == "|" {
			indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
			var b strings.Builder
			for i+1 < len(lines) {
				next := lines[i+1]
				if strings.TrimSpace(next) != "" && len(next)-len(strings.TrimLeft(next, " ")) <= indent {
					break
				}
				b.WriteString(next + "\n")
				i++
			}
			v = b.String()
		}
		if name == "" {
			t.Fatalf("alerts.yml line %d: expr before any alert or record", i+1)
		}
		out[name] = v
	}
	return out
}

func TestAlertNamesInCatalogue(t *testing.T) {
	exprs := alertExprs(t)
	if len(exprs) < 14 {
		t.Fatalf("alerts.yml: %d rules read; the reader or the file is broken", len(exprs))
	}
	for name, e := range exprs {
		if strings.TrimSpace(e) == "" {
			t.Errorf("%s: empty expr", name)
		}
		for _, msg := range checkNames(e) {
			t.Errorf("%s: %s", name, msg)
		}
	}
}

// The name checks must catch what they are for.
func TestCheckNamesFindsMistakes(t *testing.T) {
	for _, bad := range []string{
		`claimgate_claim_transition_total`,
		`claimgate_claim_transitions_total{state="payer_acepted"}`,
		`claimgate_claim_transitions_total{state=~"paid|partialy_paid"}`,
		`claimgate_open_claims{state="paid"}`,
		`claimgate_response_time_seconds_bucket{type="ta1"}`,
		`claimgate_sftp_errors_total{operation="list"}`,
		`sum by (payer_id) (claimgate_files_sent_total)`,
		`claimgate_open_ar_dollars_bucket`,
	} {
		if len(checkNames(bad)) == 0 {
			t.Errorf("checkNames(%s) found nothing wrong", bad)
		}
	}
	if errs := checkNames(`histogram_quantile(0.9, sum by (le, payer) (rate(claimgate_response_time_seconds_bucket{type="835",job="claimgate"}[7d])))`); len(errs) > 0 {
		t.Errorf("a good expression was refused: %v", errs)
	}
}

// Every dashboard query parses: promtool (no server needed) checks a rule
// file holding each one as a recording rule.
func TestDashboardExprsParse(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus; .ci/run installs it)")
	}
	exprs, err := DashboardExprs(Dashboard)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for _, e := range exprs {
		q, _ := json.Marshal(e.Expr) // a JSON string is a YAML string
		fmt.Fprintf(&b, "      - record: panel_%d_%s\n        expr: %s\n", e.PanelID, e.RefID, q)
	}
	path := filepath.Join(t.TempDir(), "dashboard_rules.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules on the dashboard's queries: %v\n%s", err, out)
	}
	// The check really parses: a broken query must fail it.
	bad := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(bad, []byte("groups:\n  - name: x\n    rules:\n      - record: x\n        expr: \"sum by (payer (x)\"\n"), 0o600)
	if exec.Command(promtool, "check", "rules", bad).Run() == nil {
		t.Fatal("promtool accepted a broken query: the check proves nothing")
	}
}

// Every alert has a summary, a description, a runbook_url whose anchor is
// a section of docs/runbook.md, and a promtool test.
func TestAlertsHaveRunbookAndTests(t *testing.T) {
	runbook, err := os.ReadFile("../docs/runbook.md")
	if err != nil {
		t.Fatal(err)
	}
	tests := ""
	for _, f := range []string{"prometheus/alerts_test.yml", "prometheus/alerts_baseline_test.yml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tests += string(b)
	}
	blocks := strings.Split(string(AlertRules), "- alert:")[1:]
	if len(blocks) < 12 {
		t.Fatalf("alerts.yml: %d alerts", len(blocks))
	}
	for _, blk := range blocks {
		// The block ends where the next rule or group starts.
		if i := strings.Index(blk, "- record:"); i >= 0 {
			blk = blk[:i]
		}
		name := strings.TrimSpace(strings.SplitN(blk, "\n", 2)[0])
		for _, key := range []string{"summary:", "description:", "runbook_url:", "severity:", "for:"} {
			if !strings.Contains(blk, key) {
				t.Errorf("%s: no %s", name, key)
			}
		}
		m := regexp.MustCompile(`runbook_url: '[^']*/docs/runbook\.md#([a-z0-9-]+)'`).FindStringSubmatch(blk)
		if m == nil || m[1] != strings.ToLower(name) {
			t.Errorf("%s: runbook_url %v, want the anchor #%s", name, m, strings.ToLower(name))
		}
		if !regexp.MustCompile(`(?m)^## ` + name + `$`).Match(runbook) {
			t.Errorf("%s: no section \"## %s\" in docs/runbook.md", name, name)
		}
		// Each alert is tested firing (a non-empty exp_alerts) and not.
		firing := regexp.MustCompile(`alertname: ` + name + `\n\s+exp_alerts:\n\s+- exp_labels:`)
		silent := regexp.MustCompile(`alertname: ` + name + `\n\s+exp_alerts: \[\]`)
		if !firing.MatchString(tests) || !silent.MatchString(tests) {
			t.Errorf("%s: the promtool tests must check it both firing and not firing", name)
		}
	}
}
