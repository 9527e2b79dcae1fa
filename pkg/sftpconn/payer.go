package sftpconn

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/claimgate/claimgate/pkg/config"
	"golang.org/x/crypto/ssh"
)

// Payer is how to reach one payer's SFTP server and what to do there. A
// test can point it at any SFTP server address and host key.
type Payer struct {
	ID   string
	Addr string // host:port
	User string
	// Auth are the SSH authentication methods, tried in order.
	Auth []ssh.AuthMethod
	// HostKeys are pinned keys; KnownHostsFile a known_hosts file. A host
	// key matching neither is refused (HostKeyError).
	HostKeys       []ssh.PublicKey
	KnownHostsFile string

	OutboundDir string // remote folder uploads go to
	InboundDir  string // remote folder responses are collected from
	Collect     string // path.Match glob of inbound names; "" is "*"
	// ArchiveDir, when set, receives collected files (a rename);
	// otherwise they are deleted.
	ArchiveDir string

	PollInterval     time.Duration // between polls (Run)
	SettleTime       time.Duration // a file must keep its size and mtime this long
	MaxTransfers     int           // files in flight at once (default 8)
	ConnectTimeout   time.Duration // TCP connect + SSH handshake (default 30s)
	OperationTimeout time.Duration // one remote operation (default 60s)
	TransferTimeout  time.Duration // a transfer without progress (default 2m)
	RetryMin         time.Duration // first backoff (default 1s)
	RetryMax         time.Duration // backoff cap (default 5m)
	// Attempts bounds the tries per file in Send and Fetch (0: 5).
	Attempts int
	// Sessions is the number of SFTP sessions on the one SSH connection
	// (default 4); MaxPacket the data bytes per read or write request
	// (0: 128 KiB where the server offers limits@openssh.com, as OpenSSH
	// 8.6+ does, else 32768, which every server must accept);
	// WindowBytes the bytes in flight per file (default 2 MiB).
	Sessions    int
	MaxPacket   int
	WindowBytes int
}

func (p *Payer) defaults() {
	if p.MaxTransfers <= 0 {
		p.MaxTransfers = 8
	}
	if p.ConnectTimeout <= 0 {
		p.ConnectTimeout = 30 * time.Second
	}
	if p.OperationTimeout <= 0 {
		p.OperationTimeout = time.Minute
	}
	if p.TransferTimeout <= 0 {
		p.TransferTimeout = 2 * time.Minute
	}
	if p.RetryMin <= 0 {
		p.RetryMin = time.Second
	}
	if p.RetryMax <= 0 {
		p.RetryMax = 5 * time.Minute
	}
	if p.RetryMax < p.RetryMin {
		p.RetryMax = p.RetryMin
	}
	if p.Attempts <= 0 {
		p.Attempts = 5
	}
	if p.PollInterval <= 0 {
		p.PollInterval = 5 * time.Minute
	}
	if p.Sessions <= 0 {
		p.Sessions = 4
	}
	if p.MaxPacket < 0 {
		p.MaxPacket = 0
	}
	if p.WindowBytes <= 0 {
		p.WindowBytes = 2 << 20
	}
	if p.Collect == "" {
		p.Collect = "*"
	}
}

// FromConfig resolves a payer's configuration: secrets are read, the
// private key parsed, host keys loaded, durations applied.
func FromConfig(cp *config.Payer) (Payer, error) {
	s := cp.SFTP
	if s == nil {
		return Payer{}, fmt.Errorf("payer %s has no sftp settings", cp.ID)
	}
	if err := s.Check(); err != nil {
		return Payer{}, fmt.Errorf("payer %s: %w", cp.ID, err)
	}
	t, _ := s.Times()
	port := s.Port
	if port == 0 {
		port = 22
	}
	p := Payer{
		ID: cp.ID, Addr: net.JoinHostPort(s.Host, strconv.Itoa(port)), User: s.User,
		KnownHostsFile: s.KnownHosts,
		OutboundDir:    s.OutboundDir, InboundDir: s.InboundDir, Collect: s.Collect,
		PollInterval: t.PollInterval, SettleTime: t.SettleTime, MaxTransfers: s.MaxTransfers,
		ConnectTimeout: t.ConnectTimeout, OperationTimeout: t.OperationTimeout, TransferTimeout: t.TransferTimeout,
		RetryMax: t.RetryMax, Attempts: s.Attempts, Sessions: s.Sessions, MaxPacket: s.MaxPacket,
	}
	if s.AfterDownload == "move" {
		p.ArchiveDir = s.ArchiveDir
	}
	if s.HostKey != "" {
		k, err := ParseHostKey(s.HostKey)
		if err != nil {
			return Payer{}, fmt.Errorf("payer %s: sftp host_key: %w", cp.ID, err)
		}
		p.HostKeys = append(p.HostKeys, k)
	}
	if s.PrivateKey != "" {
		pem, err := config.Secret(s.PrivateKey)
		if err != nil {
			return Payer{}, fmt.Errorf("payer %s: sftp private_key: %w", cp.ID, err)
		}
		var signer ssh.Signer
		if s.PrivateKeyPassphrase != "" {
			pass, err := config.Secret(s.PrivateKeyPassphrase)
			if err != nil {
				return Payer{}, fmt.Errorf("payer %s: sftp private_key_passphrase: %w", cp.ID, err)
			}
			signer, err = ssh.ParsePrivateKeyWithPassphrase(pem, pass)
			if err != nil {
				return Payer{}, fmt.Errorf("payer %s: sftp private_key: %w", cp.ID, err)
			}
		} else {
			signer, err = ssh.ParsePrivateKey(pem)
			var missing *ssh.PassphraseMissingError
			if errors.As(err, &missing) {
				return Payer{}, fmt.Errorf("payer %s: sftp private_key is encrypted: set private_key_passphrase", cp.ID)
			}
			if err != nil {
				return Payer{}, fmt.Errorf("payer %s: sftp private_key: %w", cp.ID, err)
			}
		}
		p.Auth = append(p.Auth, ssh.PublicKeys(signer))
	}
	if s.Password != "" {
		pw, err := config.Secret(s.Password)
		if err != nil {
			return Payer{}, fmt.Errorf("payer %s: sftp password: %w", cp.ID, err)
		}
		p.Auth = append(p.Auth, ssh.Password(string(pw)))
	}
	return p, nil
}
