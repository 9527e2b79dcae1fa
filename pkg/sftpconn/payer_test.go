package sftpconn

import (
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/config"
	"golang.org/x/crypto/ssh"
)

func TestFromConfigExample(t *testing.T) {
	c, err := config.Load("../../deploy/claimgate.example.json")
	if err != nil {
		t.Fatal(err)
	}
	// BHX77: password from the environment, pinned host_key line.
	t.Setenv("BHX77_SFTP_PASSWORD", "s3cret")
	cp, err := c.SFTPPayer("BHX77")
	if err != nil {
		t.Fatal(err)
	}
	p, err := FromConfig(cp)
	if err != nil {
		t.Fatal(err)
	}
	if p.Addr != "edi.bluehorizon.example:22" || len(p.Auth) != 1 || len(p.HostKeys) != 1 || p.HostKeys[0].Type() != "ssh-ed25519" ||
		p.PollInterval != 5*time.Minute || p.ArchiveDir != "" {
		t.Fatalf("payer %+v", p)
	}
	t.Setenv("BHX77_SFTP_PASSWORD", "")
	if _, err := FromConfig(cp); err == nil || !strings.Contains(err.Error(), "BHX77_SFTP_PASSWORD") {
		t.Fatalf("unset password: %v", err)
	}
	// MCR01: the key file does not exist here; the error names the key,
	// not its content.
	cp, _ = c.SFTPPayer("MCR01")
	if _, err := FromConfig(cp); err == nil || !strings.Contains(err.Error(), "private_key") {
		t.Fatalf("missing key file: %v", err)
	}
}

// TestConfigKeysDocumented: every key of a payer's sftp block is in
// docs/sftp.md's key table and used in deploy/claimgate.example.json,
// so an operator finds each one described and shown.
func TestConfigKeysDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/sftp.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../../deploy/claimgate.example.json")
	if err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeFor[config.SFTP]()
	if typ.NumField() < 20 {
		t.Fatalf("config.SFTP has %d fields: the reflection is wrong", typ.NumField())
	}
	for f := range typ.Fields() {
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if key == "" || key == "-" {
			t.Errorf("field %s has no json key", f.Name)
			continue
		}
		if !strings.Contains(string(doc), "| `"+key+"` |") {
			t.Errorf("sftp key %q is not in docs/sftp.md's configuration table", key)
		}
		if !strings.Contains(string(example), `"`+key+`":`) {
			t.Errorf("sftp key %q is not used in deploy/claimgate.example.json", key)
		}
	}
}

// TestFromConfigEncryptedKey: a passphrase-protected private key from a
// file, its passphrase from the environment, logs in to a real sshd; a
// missing or wrong passphrase is a clear error that quotes neither.
func TestFromConfigEncryptedKey(t *testing.T) {
	e := newEnv(t)
	raw, err := os.ReadFile(e.srv.UserKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ssh.ParseRawPrivateKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "test", []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "id_enc")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(e.srv.Addr)
	portN, _ := strconv.Atoi(port)
	cp := &config.Payer{ID: "ENC01", SFTP: &config.SFTP{Host: host, Port: portN, User: "root",
		PrivateKey: "file:" + keyFile, PrivateKeyPassphrase: "env:ENC01_PASSPHRASE", Password: "env:ENC01_PASSWORD",
		KnownHosts: e.srv.KnownHostsFile, OutboundDir: e.out, InboundDir: e.in}}
	t.Setenv("ENC01_PASSWORD", "unused by a key login")
	t.Setenv("ENC01_PASSPHRASE", "wrong")
	if _, err := FromConfig(cp); err == nil || strings.Contains(err.Error(), "wrong") || !strings.Contains(err.Error(), "payer ENC01: sftp private_key") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	cp.SFTP.PrivateKeyPassphrase = ""
	if _, err := FromConfig(cp); err == nil || !strings.Contains(err.Error(), "set private_key_passphrase") {
		t.Fatalf("no passphrase: %v", err)
	}
	cp.SFTP.PrivateKeyPassphrase = "env:ENC01_PASSPHRASE"
	t.Setenv("ENC01_PASSPHRASE", "correct horse")
	p, err := FromConfig(cp)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Auth) != 2 || p.Addr != e.srv.Addr {
		t.Fatalf("payer %+v: want key then password", p)
	}
	e.payer = p
	c := e.client(t)
	file, _ := randomFile(t, t.TempDir(), "ENC.837", 1000)
	if _, err := c.SendFile(bg, file); err != nil {
		t.Fatalf("send with the decrypted key: %v", err)
	}
	assertOnlyFiles(t, e.out, "ENC.837")
}
