package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/x835"
)

// TestParse835JSONMatchesReadAll: the streamed JSON is the same document as
// marshalling what x835.ReadAll builds, for every 835 sample.
func TestParse835JSONMatchesReadAll(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/835/*")
	n := 0
	for _, p := range files {
		if strings.HasSuffix(p, "SOURCES.txt") || strings.Contains(p, "NEGATIVE") {
			continue
		}
		n++
		_, out, _ := runCLI("parse", p, "--json")
		var got struct {
			Type        string            `json:"type"`
			Remittances []json.RawMessage `json:"remittances"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%s: not JSON: %v\n%s", p, err, out)
		}
		f, _ := os.Open(p)
		rems, _, err := x835.ReadAll(f, p)
		f.Close()
		if err != nil || len(rems) != len(got.Remittances) || got.Type != "835" {
			t.Fatalf("%s: %d remittances streamed, %d read (%v)", p, len(got.Remittances), len(rems), err)
		}
		for i, rem := range rems {
			want, _ := json.Marshal(rem)
			var a, b any
			json.Unmarshal(want, &a)
			json.Unmarshal(got.Remittances[i], &b)
			aj, _ := json.Marshal(a)
			bj, _ := json.Marshal(b)
			if !bytes.Equal(aj, bj) {
				t.Errorf("%s remittance %d differs:\n got %s\nwant %s", p, i, bj, aj)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d samples", n)
	}
}

func TestParse835CSVOneRowPerLine(t *testing.T) {
	p := "../../testdata/835/x12org__X221-multiple-claims-single-check.edi"
	code, out, _ := runCLI("parse", p, "--csv")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(p)
	// The MANIFEST says 33 SVC: one row per service line plus the header.
	if svc := strings.Count(string(raw), "~SVC*"); len(rows) != svc+1 || svc != 33 {
		t.Fatalf("%d rows for %d SVC segments", len(rows), svc)
	}
	if rows[0][0] != "trace_number" || rows[1][4] != "7722337" {
		t.Fatalf("unexpected rows %v", rows[:2])
	}
}

func TestParseAcks(t *testing.T) {
	_, out, _ := runCLI("parse", "../../testdata/277ca/herophilus__277CA_rejected.txt", "--json")
	if !strings.Contains(out, `"type": "277CA"`) || !strings.Contains(out, `"A7`) {
		t.Fatalf("277CA JSON: %s", out)
	}
	code, out, _ := runCLI("parse", "../../testdata/999/herophilus__999_rejected.txt", "--json")
	var doc struct {
		Ack struct {
			Groups []struct {
				Sets []struct{ Status string } `json:"sets"`
			} `json:"groups"`
		} `json:"ack"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 || doc.Ack.Groups[0].Sets[0].Status != "R" {
		t.Fatalf("999 JSON (exit %d, %v): %s", code, err, out)
	}
	if code, _, _ := runCLI("parse", "../../testdata/999/herophilus__999_rejected.txt", "--csv"); code != 2 {
		t.Fatalf("--csv on a 999: exit %d, want 2", code)
	}
	if code, _, _ := runCLI("parse", "../../testdata/batches/pt_batch.json", "--json"); code != 2 {
		t.Fatalf("non-X12 file: exit %d, want 2", code)
	}
}
