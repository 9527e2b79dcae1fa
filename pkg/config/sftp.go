package config

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

// SFTP is how claimgate exchanges files with one payer (or the
// clearinghouse in front of it) over SFTP. Secrets are references
// ("env:NAME" or "file:/path"), never the secret itself. Durations are Go
// duration strings ("30s", "5m"). docs/sftp.md describes every key.
type SFTP struct {
	Host string `json:"host"`
	Port int    `json:"port,omitempty"` // default 22
	User string `json:"user"`
	// PrivateKey is a reference to an OpenSSH or PEM private key;
	// PrivateKeyPassphrase a reference to its passphrase when encrypted.
	PrivateKey           string `json:"private_key,omitempty"`
	PrivateKeyPassphrase string `json:"private_key_passphrase,omitempty"`
	// Password is a reference to the password, for servers that want one
	// (alone or after the key).
	Password string `json:"password,omitempty"`
	// KnownHosts is a known_hosts file holding the payer's host key;
	// HostKey one pinned key, as a known_hosts line or "TYPE BASE64". At
	// least one is required: an unknown or changed host key is refused.
	KnownHosts string `json:"known_hosts,omitempty"`
	HostKey    string `json:"host_key,omitempty"`
	// OutboundDir is the remote folder 837P files are uploaded to;
	// InboundDir the remote folder responses are collected from.
	OutboundDir string `json:"outbound_dir"`
	InboundDir  string `json:"inbound_dir"`
	// Collect is the glob (path.Match) of inbound file names to collect;
	// default "*".
	Collect string `json:"collect,omitempty"`
	// AfterDownload is "delete" (the default) or "move" (to ArchiveDir)
	// once a download is verified, stored and handed on.
	AfterDownload string `json:"after_download,omitempty"`
	ArchiveDir    string `json:"archive_dir,omitempty"`
	// PollInterval is the time between polls of InboundDir (default 5m).
	PollInterval string `json:"poll_interval,omitempty"`
	// SettleTime is how long a remote file's size and modification time
	// must stay the same before it is collected (default 2s).
	SettleTime string `json:"settle_time,omitempty"`
	// MaxTransfers caps the files in flight at once on the payer's one
	// connection (default 8).
	MaxTransfers int `json:"max_transfers,omitempty"`
	// Sessions is the number of SFTP sessions (channels) on the one SSH
	// connection, so one slow request does not hold up the other files
	// (default 4).
	Sessions int `json:"sessions,omitempty"`
	// MaxPacket is the data bytes per read or write request: 0 (the
	// default) picks 128 KiB for OpenSSH 8.6+ servers and 32768 (which
	// every server accepts) otherwise.
	MaxPacket int `json:"max_packet,omitempty"`
	// ConnectTimeout bounds the TCP connect and SSH handshake (default
	// 30s); OperationTimeout each remote operation such as a listing,
	// rename or delete (default 60s); TransferTimeout how long a transfer
	// may make no progress (default 2m).
	ConnectTimeout   string `json:"connect_timeout,omitempty"`
	OperationTimeout string `json:"operation_timeout,omitempty"`
	TransferTimeout  string `json:"transfer_timeout,omitempty"`
	// RetryMax caps the backoff between retries of a failed connection or
	// transfer (default 5m); Attempts is how many tries a one-shot command
	// (claimgate sftp send/fetch) makes per file (default 5).
	RetryMax string `json:"retry_max,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
}

// SFTPTimes are the durations of an SFTP block, defaults applied.
type SFTPTimes struct {
	PollInterval, SettleTime, ConnectTimeout, OperationTimeout, TransferTimeout, RetryMax time.Duration
}

// Times parses the durations, applying the defaults.
func (s *SFTP) Times() (SFTPTimes, error) {
	var t SFTPTimes
	var errs []error
	parse := func(key, v string, def time.Duration, dst *time.Duration) {
		*dst = def
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration such as \"30s\" or \"5m\"", key, v))
			return
		}
		*dst = d
	}
	parse("poll_interval", s.PollInterval, 5*time.Minute, &t.PollInterval)
	parse("settle_time", s.SettleTime, 2*time.Second, &t.SettleTime)
	parse("connect_timeout", s.ConnectTimeout, 30*time.Second, &t.ConnectTimeout)
	parse("operation_timeout", s.OperationTimeout, time.Minute, &t.OperationTimeout)
	parse("transfer_timeout", s.TransferTimeout, 2*time.Minute, &t.TransferTimeout)
	parse("retry_max", s.RetryMax, 5*time.Minute, &t.RetryMax)
	return t, errors.Join(errs...)
}

// Check reports every problem in the block.
func (s *SFTP) Check() error {
	var errs []error
	if s.Host == "" || s.User == "" {
		errs = append(errs, errors.New("sftp needs host and user"))
	}
	if s.Port < 0 || s.Port > 65535 {
		errs = append(errs, fmt.Errorf("sftp port %d is out of range", s.Port))
	}
	if s.PrivateKey == "" && s.Password == "" {
		errs = append(errs, errors.New("sftp needs private_key or password (as \"env:NAME\" or \"file:/path\")"))
	}
	for _, r := range []struct{ key, ref string }{{"private_key", s.PrivateKey}, {"private_key_passphrase", s.PrivateKeyPassphrase}, {"password", s.Password}} {
		if r.ref != "" && !strings.HasPrefix(r.ref, "env:") && !strings.HasPrefix(r.ref, "file:") {
			errs = append(errs, fmt.Errorf(`sftp %s must be "env:NAME" or "file:/path", never the secret itself`, r.key))
		}
	}
	if s.KnownHosts == "" && s.HostKey == "" {
		errs = append(errs, errors.New("sftp needs known_hosts or host_key: the payer's host key is pinned, never trusted on first use"))
	}
	if s.OutboundDir == "" || s.InboundDir == "" {
		errs = append(errs, errors.New("sftp needs outbound_dir and inbound_dir"))
	}
	if s.Collect != "" {
		if _, err := path.Match(s.Collect, "x"); err != nil {
			errs = append(errs, fmt.Errorf("sftp collect %q: %w", s.Collect, err))
		}
	}
	switch s.AfterDownload {
	case "", "delete":
		if s.ArchiveDir != "" {
			errs = append(errs, errors.New(`sftp archive_dir is only used with after_download "move"`))
		}
	case "move":
		if s.ArchiveDir == "" {
			errs = append(errs, errors.New(`sftp after_download "move" needs archive_dir`))
		}
	default:
		errs = append(errs, fmt.Errorf(`sftp after_download must be "delete" or "move", got %q`, s.AfterDownload))
	}
	if s.MaxTransfers < 0 || s.Attempts < 0 || s.Sessions < 0 {
		errs = append(errs, errors.New("sftp max_transfers, sessions and attempts must not be negative"))
	}
	if s.MaxPacket != 0 && (s.MaxPacket < 4096 || s.MaxPacket > 261120) {
		errs = append(errs, fmt.Errorf("sftp max_packet %d: use 0 (automatic) or 4096 to 261120 bytes", s.MaxPacket))
	}
	if _, err := s.Times(); err != nil {
		errs = append(errs, fmt.Errorf("sftp %w", err))
	}
	return errors.Join(errs...)
}

// SFTPPayer returns the payer with the given id and its checked SFTP block.
func (c *Config) SFTPPayer(id string) (*Payer, error) {
	for i := range c.Payers {
		p := &c.Payers[i]
		if p.ID != id {
			continue
		}
		if p.SFTP == nil {
			return nil, fmt.Errorf("payer %s has no sftp settings", id)
		}
		if err := p.SFTP.Check(); err != nil {
			return nil, fmt.Errorf("payer %s: %w", id, err)
		}
		return p, nil
	}
	return nil, fmt.Errorf("no payer %q in the configuration", id)
}
