// Package deploy holds claimgate's deployment files (Prometheus alert
// rules, the Grafana dashboard, the compose stack, Kubernetes manifests)
// and gives tests access to the monitoring ones: the metrics tests
// evaluate every expression against a real Prometheus.
package deploy

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// AlertRules is deploy/prometheus/alerts.yml, the Prometheus rule file.
//
//go:embed prometheus/alerts.yml
var AlertRules []byte

// Dashboard is deploy/grafana/dashboards/claimgate.json, the Grafana
// dashboard.
//
//go:embed grafana/dashboards/claimgate.json
var Dashboard []byte

// PanelExpr is one PromQL query of a dashboard panel.
type PanelExpr struct {
	PanelID int    // the panel's id
	Title   string // the panel's title
	RefID   string // the target's refId (A, B, ...)
	Expr    string // the PromQL expression, with no Grafana variables
}

// DashboardExprs returns every query (targets[].expr) of the dashboard
// JSON b, panels nested in collapsed rows included, in panel order.
func DashboardExprs(b []byte) ([]PanelExpr, error) {
	var d struct {
		Panels []Panel `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	var out []PanelExpr
	for _, p := range flatten(d.Panels) {
		for _, t := range p.Targets {
			out = append(out, PanelExpr{PanelID: p.ID, Title: p.Title, RefID: t.RefID, Expr: t.Expr})
		}
	}
	return out, nil
}

// Panel is the part of a Grafana panel the checks read.
type Panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *Datasource `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []Target `json:"targets"`
	Panels  []Panel  `json:"panels"` // a collapsed row's panels
}

// Datasource names a Grafana datasource by type and uid.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Target is one query of a panel.
type Target struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	Datasource *Datasource `json:"datasource"`
}

// flatten lists the panels with the panels of collapsed rows after their
// row.
func flatten(ps []Panel) []Panel {
	var out []Panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flatten(p.Panels)...)
	}
	return out
}
