package gateway

import (
	"encoding/json"
	"testing"

	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/bus"
)

// parseFileOut reads bus.Output's announcements (object named by the
// file name) and an earlier version's messages still on the stream
// (object named by the digest); a message naming no file is refused.
func TestParseFileOut(t *testing.T) {
	info := assemble.FileInfo{PayerID: "04412", Interchange: 7, Claims: 1}
	cur, _ := json.Marshal(bus.FileOut{Name: "04412-ab-000000007.837", Payer: "04412", Digest: "d1", Size: 10, Info: info})
	m, ok := parseFileOut(cur)
	if !ok || m.Object != "04412-ab-000000007.837" || m.Digest != "d1" || m.Payer != "04412" || m.Info.Interchange != 7 {
		t.Fatalf("current form: %+v %v", m, ok)
	}
	old, _ := json.Marshal(map[string]any{"digest": "d2", "name": "04412-ab-000000008.837", "size": 10, "info": info})
	m, ok = parseFileOut(old)
	if !ok || m.Object != "d2" || m.Digest != "d2" || m.Name != "04412-ab-000000008.837" || m.Payer != "04412" {
		t.Fatalf("earlier form: %+v %v", m, ok)
	}
	for _, bad := range []string{`{}`, `{"name":"x.837"}`, `{"sha256":"d3"}`, `not json`} {
		if m, ok := parseFileOut([]byte(bad)); ok {
			t.Errorf("%s accepted: %+v", bad, m)
		}
	}
}
