package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// serve stops at once (exit 2, before starting NATS) when a webhook's
// secret cannot be read, naming the webhook and the variable, never the
// URL's token.
func TestServeWebhookSecretMissing(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "claimgate.json")
	const body = `{"submitter":{"name":"A","id":"B","contact_name":"C","phone":"1"},"usage":"T","payers":[],
  "webhooks":[{"name":"pm","url":"https://pm.example/hook?token=TOPSECRET","secret":"env:CLAIMGATE_TEST_UNSET_HOOK_SECRET"}]}`
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Unsetenv("CLAIMGATE_TEST_UNSET_HOOK_SECRET")
	code, _, errs := runCLI("serve", "--config", cfg, "--data", filepath.Join(dir, "data"), "--listen", "none")
	if code != 2 || !strings.Contains(errs, "webhook pm") || !strings.Contains(errs, "CLAIMGATE_TEST_UNSET_HOOK_SECRET is not set") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if strings.Contains(errs, "TOPSECRET") {
		t.Fatalf("stderr shows the URL's token: %q", errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "jetstream")); err == nil {
		t.Fatal("serve started NATS before checking the webhook secret")
	}
}
