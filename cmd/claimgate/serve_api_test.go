package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeHelper is not a test: run as a child process by
// TestServeHTTP, it is `claimgate serve` with the arguments after "--".
func TestServeHelper(t *testing.T) {
	if os.Getenv("CLAIMGATE_SERVE_HELPER") != "1" {
		t.Skip("helper process")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(run(args, os.Stdout, os.Stderr))
}

func serveProc(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestServeHelper$", "--", "serve"}, args...)...)
	cmd.Env = append(os.Environ(), append(env, "CLAIMGATE_SERVE_HELPER=1")...)
	return cmd
}

// TestServeHTTP: serve with --http and --ops-http answers the API with
// the tokens of CLAIMGATE_API_TOKENS and the file, health without one,
// reloads the file on SIGHUP (a rotated-out token refused, the new one
// accepted), and stops on SIGTERM with status 0; without a token it
// refuses a non-loopback address.
func TestServeHTTP(t *testing.T) {
	dir := t.TempDir()
	// No token and a public address: refused at start.
	out, err := serveProc(t, []string{"CLAIMGATE_API_TOKENS="}, "--data", filepath.Join(dir, "d0"), "--listen", "none",
		"--http", "0.0.0.0:0").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "not a loopback address") {
		t.Fatalf("no token on 0.0.0.0: %v %s", err, out)
	}

	tokFile := filepath.Join(dir, "tokens")
	os.WriteFile(tokFile, []byte("# current\nfile-token-1\n"), 0o600)
	cmd := serveProc(t, []string{"CLAIMGATE_API_TOKENS=env-token-1,env-token-2"}, "--data", filepath.Join(dir, "d1"), "--listen", "none",
		"--http", "127.0.0.1:0", "--ops-http", "127.0.0.1:0", "--api-tokens-file", tokFile)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addrs := map[string]string{}
	var logs bytes.Buffer
	sc := bufio.NewScanner(stderr)
	re := regexp.MustCompile(`listener=(\S+) addr=(\S+)`)
	for len(addrs) < 2 && sc.Scan() {
		logs.WriteString(sc.Text() + "\n")
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			addrs[m[1]] = "http://" + m[2]
		}
	}
	if len(addrs) < 2 {
		t.Fatalf("listeners not logged:\n%s", logs.String())
	}
	rest := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(stderr)
		rest <- string(b)
	}()
	get := func(url, token string) int {
		req, _ := http.NewRequest("GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Ready once the streams exist.
	deadline := time.Now().Add(time.Minute)
	for get(addrs["ops-http"]+"/readyz", "") != 200 {
		if time.Now().After(deadline) {
			t.Fatal("never ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
	checks := []struct {
		url, token string
		want       int
	}{
		{addrs["http"] + "/healthz", "", 200},
		{addrs["http"] + "/v1/claims", "", 401},
		{addrs["http"] + "/v1/claims", "env-token-3", 401},
		{addrs["http"] + "/v1/claims", "env-token-2", 200},
		{addrs["http"] + "/v1/claims", "file-token-1", 200},
		{addrs["http"] + "/v1/claims/NONE", "env-token-1", 404},
		{addrs["ops-http"] + "/healthz", "", 200},
		{addrs["ops-http"] + "/v1/claims", "env-token-1", 404}, // the ops listener has no API
	}
	for _, c := range checks {
		if got := get(c.url, c.token); got != c.want {
			t.Errorf("%s (token %q): %d, want %d", c.url, c.token, got, c.want)
		}
	}
	// Rotation: the file's token replaced, SIGHUP, and the new one is
	// accepted and the old one refused without a restart.
	os.WriteFile(tokFile, []byte("# rotated\nfile-token-2\n"), 0o600)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); get(addrs["http"]+"/v1/claims", "file-token-2") != 200; {
		if time.Now().After(deadline) {
			t.Fatal("the rotated-in token is still refused after SIGHUP")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := get(addrs["http"]+"/v1/claims", "file-token-1"); got != 401 {
		t.Errorf("the rotated-out token after SIGHUP: %d, want 401", got)
	}
	if got := get(addrs["http"]+"/v1/claims", "env-token-1"); got != 200 {
		t.Errorf("an environment token after SIGHUP: %d, want 200", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v\n%s%s", err, logs.String(), <-rest)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("serve did not stop on SIGTERM")
	}
	all := logs.String() + <-rest
	if !strings.Contains(all, `msg="api tokens reloaded" tokens=3`) {
		t.Errorf("the reload is not logged with its count:\n%s", all)
	}
	for _, tok := range []string{"env-token-1", "env-token-2", "file-token-1", "file-token-2"} {
		if strings.Contains(all, tok) {
			t.Fatalf("token %s in the log", tok)
		}
	}
}
