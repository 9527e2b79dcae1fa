// Package bus is claimgate's spine on NATS JetStream: an embedded NATS
// server for a one-machine install, connections to an external server or
// cluster, the streams, key-value buckets and object store the gateway
// uses (see docs/bus.md), and JetStream-backed implementations of the
// stores the pipeline keeps behind interfaces (control numbers, duplicate
// claim keys, per-payer leases).
package bus

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// EmbeddedConfig configures the in-process NATS server.
type EmbeddedConfig struct {
	// DataDir holds JetStream's file store (DataDir/jetstream). Required:
	// the server's default is under the OS temp directory.
	DataDir string
	// Host and Port are where other processes (claimgate submit, a PM
	// system's NATS client) reach the server. Port 0 picks a free port;
	// -1 does not listen at all (in-process connections only).
	Host string
	Port int
	// SyncInterval, when not zero, replaces fsync on every write with a
	// periodic one. Zero (the default) syncs every write: an acknowledged
	// claim survives a power cut.
	SyncInterval time.Duration
	// ServerName names the server in logs and monitoring.
	ServerName string
}

// Embedded is a running in-process NATS server with JetStream.
type Embedded struct {
	srv *server.Server
}

// StartEmbedded starts a single-node NATS server with JetStream on disk
// and waits until it accepts connections.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("bus: embedded server needs a data directory")
	}
	store, err := filepath.Abs(filepath.Join(cfg.DataDir, "jetstream"))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(store, 0o700); err != nil {
		return nil, fmt.Errorf("bus: %w", err)
	}
	opts := &server.Options{
		ServerName: cfg.ServerName,
		Host:       cfg.Host,
		Port:       cfg.Port,
		JetStream:  true,
		StoreDir:   store,
		NoSigs:     true,
		NoLog:      true,
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	switch {
	case cfg.Port == 0:
		opts.Port = server.RANDOM_PORT
	case cfg.Port < 0:
		// In-process only. DontListen also rules out clustering, which an
		// embedded single node never does.
		opts.DontListen = true
	}
	if cfg.SyncInterval > 0 {
		opts.SyncInterval = cfg.SyncInterval
	} else {
		opts.SyncAlways = true
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("bus: embedded server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("bus: embedded server did not become ready in 30s")
	}
	return &Embedded{srv: srv}, nil
}

// Server is the running server, for in-process connections
// (nats.InProcessServer).
func (e *Embedded) Server() *server.Server { return e.srv }

// ClientURL is where another process connects, or "" when the server
// does not listen.
func (e *Embedded) ClientURL() string {
	if e.srv.Addr() == nil {
		return ""
	}
	return e.srv.ClientURL()
}

// Shutdown stops the server and waits until its store is closed; callers
// drain their connections first (exiting before the store closes has
// corrupted stores elsewhere).
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}
