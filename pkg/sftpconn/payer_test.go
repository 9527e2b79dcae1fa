package sftpconn

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/config"
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
