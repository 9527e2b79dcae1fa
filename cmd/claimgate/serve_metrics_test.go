package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/pkg/metrics"
)

// TestServeMetrics: --metrics-listen serves GET /metrics in the text
// format, and nothing else.
func TestServeMetrics(t *testing.T) {
	m := metrics.New()
	m.FileSent("04412")
	addr, stop, err := serveMetrics("127.0.0.1:0", m, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `claimgate_files_sent_total{payer="04412"} 1`) ||
		!strings.Contains(string(body), "claimgate_build_info{") {
		t.Fatalf("GET /metrics: %d\n%s", resp.StatusCode, body)
	}
	resp, err = http.Post("http://"+addr+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d", resp.StatusCode)
	}
	if _, _, err := serveMetrics(addr, m, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("a second listener on the same address")
	}
}
