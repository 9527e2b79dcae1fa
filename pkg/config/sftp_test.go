package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSFTPExampleAndCheck(t *testing.T) {
	c, err := Load("../../deploy/claimgate.example.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.SFTPPayer("MCR01")
	if err != nil {
		t.Fatal(err)
	}
	tm, err := p.SFTP.Times()
	if err != nil || tm.PollInterval.Minutes() != 15 || tm.SettleTime.Seconds() != 5 {
		t.Fatalf("times %+v %v", tm, err)
	}
	if _, err := c.SFTPPayer("SMI03"); err == nil || !strings.Contains(err.Error(), "no sftp settings") {
		t.Fatalf("payer without sftp: %v", err)
	}
	for _, tc := range []struct {
		edit func(*SFTP)
		want string
	}{
		{func(s *SFTP) { s.Password = "hunter2" }, "never the secret itself"},
		{func(s *SFTP) { s.KnownHosts, s.HostKey = "", "" }, "known_hosts or host_key"},
		{func(s *SFTP) { s.PollInterval = "soon" }, "poll_interval"},
		{func(s *SFTP) { s.AfterDownload = "keep" }, "after_download"},
		{func(s *SFTP) { s.ArchiveDir = "" }, "needs archive_dir"},
		{func(s *SFTP) { s.Collect = "[" }, "collect"},
		{func(s *SFTP) { s.MaxPacket = 1 << 20 }, "max_packet"},
		{func(s *SFTP) { s.InboundDir = "" }, "inbound_dir"},
	} {
		s := *p.SFTP
		tc.edit(&s)
		if err := s.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want error about %q, got %v", tc.want, err)
		}
	}
	// Unknown keys in an sftp block are errors like anywhere else.
	b, _ := os.ReadFile("../../deploy/claimgate.example.json")
	bad := strings.Replace(string(b), `"collect": "*.x12"`, `"colect": "*.x12"`, 1)
	path := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(path, []byte(bad), 0o600)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "colect") {
		t.Fatalf("misspelt key: %v", err)
	}
}
