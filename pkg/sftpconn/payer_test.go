package sftpconn

import (
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
