package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options says how to reach NATS. Secrets come from files: a credentials
// file, an nkey seed file, TLS key files.
type Options struct {
	// URL of an external server or cluster (comma-separated seeds). Empty
	// with Embedded set means connect in-process.
	URL string
	// Embedded is the in-process server to connect to when URL is empty.
	Embedded *Embedded
	// CredsFile is a NATS credentials file (JWT and nkey seed).
	CredsFile string
	// NKeySeedFile is a file holding an nkey seed (user authentication).
	NKeySeedFile string
	// TLSCAFile, TLSCertFile and TLSKeyFile configure TLS: the CA to trust
	// and a client certificate when the server asks for one.
	TLSCAFile, TLSCertFile, TLSKeyFile string
	// Name identifies this connection in the server's monitoring.
	Name string
	// Replicas is the replica count of every stream and bucket this
	// process creates: 1 on a single node, 3 on a 3-node cluster.
	Replicas int
	// LeaseTTL is the lifetime of an unrenewed poll lease (default
	// DefaultLeaseTTL). Every replica must use the same value.
	LeaseTTL time.Duration
}

// Bus is a connection to NATS with JetStream.
type Bus struct {
	NC       *nats.Conn
	JS       jetstream.JetStream
	replicas int
	leaseTTL time.Duration
	closed   chan struct{}
}

// Connect connects to NATS (an external URL or the embedded server) and
// returns a Bus. It does not create streams: call Setup.
func Connect(ctx context.Context, o Options) (*Bus, error) {
	closed := make(chan struct{})
	opts := []nats.Option{
		nats.Name(orDefault(o.Name, "claimgate")),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
	}
	if o.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(o.CredsFile))
	}
	if o.NKeySeedFile != "" {
		opt, err := nats.NkeyOptionFromSeed(o.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("bus: nkey seed: %w", err)
		}
		opts = append(opts, opt)
	}
	if o.TLSCAFile != "" {
		opts = append(opts, nats.RootCAs(o.TLSCAFile))
	}
	if o.TLSCertFile != "" || o.TLSKeyFile != "" {
		opts = append(opts, nats.ClientCert(o.TLSCertFile, o.TLSKeyFile))
	}
	url := o.URL
	switch {
	case url != "":
	case o.Embedded != nil:
		opts = append(opts, nats.InProcessServer(o.Embedded.Server()))
	default:
		return nil, errors.New("bus: no NATS URL and no embedded server")
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("bus: connect: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	r := o.Replicas
	if r <= 0 {
		r = 1
	}
	ttl := o.LeaseTTL
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	return &Bus{NC: nc, JS: js, replicas: r, leaseTTL: ttl, closed: closed}, nil
}

// Close drains the connection (pending publishes and acks are flushed)
// and waits until it is closed, so an embedded server can be shut down
// next without cutting a write in half.
func (b *Bus) Close() error {
	if !b.NC.IsClosed() {
		if err := b.NC.Drain(); err != nil {
			b.NC.Close()
		}
	}
	select {
	case <-b.closed:
	case <-time.After(30 * time.Second):
		b.NC.Close()
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
