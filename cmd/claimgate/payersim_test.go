package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/pkg/config"
)

func TestPayerSimHelp(t *testing.T) {
	code, out, _ := runCLI("payer-sim", "--help")
	if code != 0 || !strings.Contains(out, "/PAYER/inbound") || !strings.Contains(out, "--authorized-keys") || !strings.Contains(out, "known_hosts") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	// How to point claimgate at it: an sftp block whose keys are real
	// configuration keys (a misspelt one would be refused).
	i := strings.Index(out, `"sftp": {`)
	j := strings.Index(out[max(i, 0):], "}")
	if i < 0 || j < 0 {
		t.Fatalf("no claimgate sftp block in the help:\n%s", out)
	}
	block := strings.NewReplacer(`"port": PORT`, `"port": 2022`).Replace(out[i+len(`"sftp": `) : i+j+1])
	dec := json.NewDecoder(strings.NewReader(block))
	dec.DisallowUnknownFields()
	var s config.SFTP
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("the help's sftp block %s: %v", block, err)
	}
	if s.OutboundDir != "/PAYER/inbound" || s.InboundDir != "/PAYER/outbound" || s.HostKey == "" {
		t.Fatalf("the help's sftp block points the wrong way: %+v", s)
	}
}

func TestPayerSimUsage(t *testing.T) {
	for _, args := range [][]string{
		{"payer-sim", "--data", t.TempDir()},                     // nobody could log in
		{"payer-sim", "--password-file", "/nonexistent"},         // no data dir
		{"payer-sim", "--config", "/nonexistent", "--data", "x"}, // no config
		{"payer-sim", "--payer", "04412", "x.837"},               // no -o
	} {
		if code, _, errs := runCLI(args...); code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", args, code, errs)
		}
	}
}

// TestPayerSimOnce: claimgate's own 837P files, answered without SFTP,
// give responses that claimgate validate accepts.
func TestPayerSimOnce(t *testing.T) {
	rep, _, _ := convertTo(t, "../../testdata/batches/pt_batch.json", "--config", "../../deploy/claimgate.example.json")
	if len(rep.Files) == 0 {
		t.Fatal("convert wrote no file")
	}
	var payers []string
	for _, f := range rep.Files {
		payers = append(payers, fmt.Sprintf(`{"id":%q,"default_fee":"30"}`, f.PayerID))
	}
	cfg := filepath.Join(t.TempDir(), "sim.json")
	if err := os.WriteFile(cfg, []byte(`{"seed":9,"payers":[`+strings.Join(payers, ",")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	for _, f := range rep.Files {
		code, stdout, errs := runCLI("payer-sim", "--config", cfg, "--payer", f.PayerID, "-o", out, f.Path)
		if code != 0 || !strings.Contains(stdout, " 999 ") || !strings.Contains(stdout, " 835 ") {
			t.Fatalf("exit %d:\n%s\n%s", code, stdout, errs)
		}
	}
	entries, _ := os.ReadDir(out)
	if len(entries) < 3*len(rep.Files) {
		t.Fatalf("%d responses for %d files", len(entries), len(rep.Files))
	}
	for _, e := range entries {
		if code, vout, _ := runCLI("validate", filepath.Join(out, e.Name())); code != 0 {
			t.Errorf("%s fails claimgate validate:\n%s", e.Name(), vout)
		}
	}
}
