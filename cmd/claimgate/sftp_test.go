package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/claimgate/claimgate/pkg/config"
	"github.com/claimgate/claimgate/pkg/ledger"
	"github.com/claimgate/claimgate/pkg/sftpconn/sshdtest"
	"golang.org/x/crypto/ssh"
)

// TestMain lets a test run the command in a child process that kills
// itself (SIGKILL) at a named point of the connector: a real crash.
func TestMain(m *testing.M) {
	if args := os.Getenv("CLAIMGATE_TEST_CHILD_ARGS"); args != "" {
		crashAt := os.Getenv("CLAIMGATE_TEST_CRASH_AT")
		sftpHook = func(stage string) {
			if stage == crashAt {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
		os.Exit(run(strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

type sftpEnv struct {
	srv                 *sshdtest.Server
	cfg, state, out, in string
	local               string
}

func newSFTPEnv(t *testing.T, hostKey string) *sftpEnv {
	srv := sshdtest.Start(t)
	root := t.TempDir()
	e := &sftpEnv{srv: srv, cfg: filepath.Join(root, "claimgate.json"), state: filepath.Join(root, "state"),
		out: filepath.Join(root, "remote-out"), in: filepath.Join(root, "remote-in"), local: filepath.Join(root, "local")}
	for _, d := range []string{e.out, e.in, e.local} {
		os.MkdirAll(d, 0o755)
	}
	s := &config.SFTP{Host: "127.0.0.1", Port: srv.Port, User: "root", PrivateKey: "file:" + srv.UserKeyFile,
		KnownHosts: srv.KnownHostsFile, HostKey: hostKey, OutboundDir: e.out, InboundDir: e.in, SettleTime: "50ms",
		RetryMax: "100ms", Attempts: 3}
	if hostKey != "" {
		s.KnownHosts = ""
	}
	cfg := config.Config{Submitter: config.Submitter{Name: "B", ID: "B1", ContactName: "D", Email: "d@example.invalid"}, Usage: "T",
		Payers: []config.Payer{{ID: "MCR01", Name: "MEDICARE", SFTP: s}}}
	b, _ := json.Marshal(cfg)
	os.WriteFile(e.cfg, b, 0o600)
	return e
}

func (e *sftpEnv) args(sub string, more ...string) []string {
	return append([]string{"sftp", sub, "--payer", "MCR01", "--config", e.cfg, "--state", e.state}, more...)
}

func TestSFTPSendAndFetch(t *testing.T) {
	e := newSFTPEnv(t, "")
	a := filepath.Join(e.local, "A.837")
	b := filepath.Join(e.local, "B.837")
	os.WriteFile(a, []byte("ISA*A~"), 0o644)
	os.WriteFile(b, bytes.Repeat([]byte("ISA*B~"), 50000), 0o644)
	code, out, errs := runCLI(e.args("send", a, b)...)
	if code != 0 || strings.Count(out, "sent ") != 2 {
		t.Fatalf("send: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = runCLI(e.args("send", a, b)...)
	if code != 0 || strings.Count(out, "already sent ") != 2 {
		t.Fatalf("send again: exit %d\n%s", code, out)
	}
	for _, n := range []string{"A.837", "B.837"} {
		if _, err := os.Stat(filepath.Join(e.out, n)); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, errs := runCLI(e.args("send", filepath.Join(e.local, "missing.837"))...); code != 1 || !strings.Contains(errs, "missing.837") {
		t.Fatalf("missing file: exit %d %s", code, errs)
	}

	os.WriteFile(filepath.Join(e.in, "999.x12"), []byte("ISA*999~"), 0o644)
	os.WriteFile(filepath.Join(e.in, "835.x12"), []byte("ISA*835~"), 0o644)
	dst := t.TempDir()
	os.WriteFile(filepath.Join(dst, "835.x12"), []byte("another file"), 0o644)
	code, out, errs = runCLI(e.args("fetch", "-o", dst)...)
	if code != 0 || strings.Count(out, "fetched ") != 2 {
		t.Fatalf("fetch: exit %d\n%s\n%s", code, out, errs)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "999.x12")); string(b) != "ISA*999~" {
		t.Fatalf("999.x12 holds %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "835.x12")); string(b) != "another file" {
		t.Fatal("an existing local file was replaced")
	}
	if m, _ := filepath.Glob(filepath.Join(dst, "835.x12.*")); len(m) != 1 {
		t.Fatalf("digest-suffixed copy: %v", m)
	}
	if ents, _ := os.ReadDir(e.in); len(ents) != 0 {
		t.Fatalf("remote inbound still holds %d files", len(ents))
	}
	for _, sub := range []string{"fetch", "send"} {
		if code, out, _ := runCLI("sftp", sub, "--help"); code != 0 || !strings.Contains(out, "Usage: claimgate sftp "+sub) || !strings.Contains(out, "Exit status") {
			t.Fatalf("%s --help: exit %d %s", sub, code, out)
		}
	}
	if code, out, _ := runCLI("sftp", "--help"); code != 0 || !strings.Contains(out, "claimgate sftp send") {
		t.Fatalf("sftp --help: exit %d %s", code, out)
	}
	if code, _, _ := runCLI("sftp", "send", "--payer", "MCR01"); code != 2 {
		t.Fatalf("send without FILE: exit %d", code)
	}
	if code, _, _ := runCLI("sftp", "fetch", "--payer", "MCR01"); code != 2 {
		t.Fatalf("no -o: exit %d", code)
	}
	// A second run for the same payer while one holds the ledger.
	led, err := ledger.OpenDir(filepath.Join(e.state, "sftp-ledger"))
	if err != nil {
		t.Fatal(err)
	}
	led.Pending(context.Background(), "MCR01")
	code, _, errs = runCLI(e.args("send", a)...)
	led.Close()
	if code != 2 || !strings.Contains(errs, "in use by another claimgate process") {
		t.Fatalf("locked ledger: exit %d %s", code, errs)
	}
	if code, _, errs := runCLI("sftp", "send", "--payer", "NOPE", "--config", e.cfg, "--state", e.state, a); code != 2 || !strings.Contains(errs, `no payer "NOPE"`) {
		t.Fatalf("unknown payer: exit %d %s", code, errs)
	}
}

func TestSFTPHostKeyChangedCLI(t *testing.T) {
	other := sshdtest.Start(t) // its key is pinned; e's server offers another
	e := newSFTPEnv(t, strings.SplitN(other.HostKeyLine, " ", 2)[1])
	a := filepath.Join(e.local, "A.837")
	os.WriteFile(a, []byte("ISA*A~"), 0o644)
	code, _, errs := runCLI(e.args("send", a)...)
	if code != 2 || !strings.Contains(errs, "SHA256:") || !strings.Contains(errs, "host key changed") || !strings.Contains(errs, "payer MCR01") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// known_hosts holds no key for this host: refused the same way,
	// naming the key the server offers, so it can be checked and pinned.
	u := newSFTPEnv(t, "")
	os.WriteFile(u.srv.KnownHostsFile, []byte("[127.0.0.1]:1 "+strings.SplitN(u.srv.HostKeyLine, " ", 2)[1]+"\n"), 0o600)
	code, _, errs = runCLI(u.args("send", a)...)
	if code != 2 || !strings.Contains(errs, ssh.FingerprintSHA256(u.srv.HostKey)) || !strings.Contains(errs, "unknown host key") || !strings.Contains(errs, "payer MCR01") {
		t.Fatalf("unknown host key: exit %d: %s", code, errs)
	}
	if ents, _ := os.ReadDir(u.out); len(ents) != 0 {
		t.Fatalf("sent to a server whose key is not pinned: %v", ents)
	}
}

// A real claimgate sftp fetch process is killed (SIGKILL) right after a
// ledger record; a second run hands the file on exactly once.
func TestSFTPFetchKilled(t *testing.T) {
	for _, stage := range []string{"downloaded", "handed-on"} {
		t.Run(stage, func(t *testing.T) {
			e := newSFTPEnv(t, "")
			os.WriteFile(filepath.Join(e.in, "277CA.x12"), []byte("ISA*277~"), 0o644)
			dst := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "CLAIMGATE_TEST_CHILD_ARGS="+strings.Join(e.args("fetch", "-o", dst), "\x1f"),
				"CLAIMGATE_TEST_CRASH_AT="+stage)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child was not killed: %v\n%s", err, out)
			}
			if _, err := os.Stat(filepath.Join(e.in, "277CA.x12")); err != nil {
				t.Fatal("remote file removed before the crash point")
			}
			code, stdout, errs := runCLI(e.args("fetch", "-o", dst)...)
			if code != 0 {
				t.Fatalf("restart: exit %d %s %s", code, stdout, errs)
			}
			ents, _ := os.ReadDir(dst)
			if len(ents) != 1 || ents[0].Name() != "277CA.x12" {
				t.Fatalf("output holds %v", ents)
			}
			if ents, _ := os.ReadDir(e.in); len(ents) != 0 {
				t.Fatal("remote file not removed after restart")
			}
			wantFetched := 1
			if stage == "handed-on" {
				wantFetched = 0 // handed on before the crash: not again
			}
			if n := strings.Count(stdout, "fetched "+dst); n != wantFetched {
				t.Fatalf("restart fetched %d, want %d:\n%s", n, wantFetched, stdout)
			}
		})
	}
}

// A real claimgate sftp send process is killed (SIGKILL) right after each
// ledger record of an upload; the next run leaves exactly one complete
// file under its final name at the payer and no temporary file.
func TestSFTPSendKilled(t *testing.T) {
	for _, stage := range []string{"uploading", "renaming", "uploaded"} {
		t.Run(stage, func(t *testing.T) {
			e := newSFTPEnv(t, "")
			a := filepath.Join(e.local, "A.837")
			want := bytes.Repeat([]byte("ISA*KILL~"), 30000)
			os.WriteFile(a, want, 0o644)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "CLAIMGATE_TEST_CHILD_ARGS="+strings.Join(e.args("send", a), "\x1f"),
				"CLAIMGATE_TEST_CRASH_AT="+stage)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child was not killed: %v\n%s", err, out)
			}
			code, stdout, errs := runCLI(e.args("send", a)...)
			if code != 0 || !strings.Contains(stdout, "sent "+a) {
				t.Fatalf("restart: exit %d %s %s", code, stdout, errs)
			}
			if stage == "uploaded" && !strings.Contains(stdout, "already sent") {
				t.Fatalf("sent again after the uploaded record: %s", stdout)
			}
			ents, _ := os.ReadDir(e.out)
			if len(ents) != 1 || ents[0].Name() != "A.837" {
				t.Fatalf("payer folder holds %v, want A.837 only", ents)
			}
			if got, _ := os.ReadFile(filepath.Join(e.out, "A.837")); !bytes.Equal(got, want) {
				t.Fatal("the file at the payer differs")
			}
			if code, stdout, _ := runCLI(e.args("send", a)...); code != 0 || !strings.Contains(stdout, "already sent") {
				t.Fatalf("third run: exit %d %s", code, stdout)
			}
		})
	}
}
