package bus_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/bus/natstest"
	"github.com/claimgate/claimgate/pkg/scrub"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func embedded(t *testing.T, dir string) (*bus.Embedded, *bus.Bus) {
	t.Helper()
	e, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: dir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bus.Connect(ctxT(t), bus.Options{Embedded: e})
	if err != nil {
		e.Shutdown()
		t.Fatal(err)
	}
	if err := b.Setup(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	return e, b
}

func connect(t *testing.T, url string, opts ...func(*bus.Options)) *bus.Bus {
	t.Helper()
	o := bus.Options{URL: url}
	for _, f := range opts {
		f(&o)
	}
	b, err := bus.Connect(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.NC.Close() })
	if err := b.Setup(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	return b
}

// The embedded server keeps its streams and numbers on disk under the
// data directory: a restart continues where it stopped, and Setup is
// idempotent.
func TestEmbeddedRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	ctx := ctxT(t)
	e, b := embedded(t, dir)
	if err := b.Setup(ctx); err != nil {
		t.Fatalf("second Setup: %v", err)
	}
	cn, err := b.ControlNumbers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for want := int64(1); want <= 3; want++ {
		n, err := cn.Next(ctx, x12.InterchangeControl, "SENDER", "ACME 1")
		if err != nil || n != want {
			t.Fatalf("Next = %d, %v; want %d", n, err, want)
		}
	}
	b.Close()
	e.Shutdown()

	e, b = embedded(t, dir)
	defer e.Shutdown()
	defer b.Close()
	cn, _ = b.ControlNumbers(ctx)
	if n, err := cn.Next(ctx, x12.InterchangeControl, "SENDER", "ACME 1"); err != nil || n != 4 {
		t.Fatalf("after restart Next = %d, %v; want 4", n, err)
	}
	// Another pair, and the same pair for group numbers, count apart.
	if n, _ := cn.Next(ctx, x12.InterchangeControl, "SENDER", "ACME.1"); n != 1 {
		t.Fatalf("pair ACME.1 starts at %d, want 1 (must not share ACME 1's counter)", n)
	}
	if n, _ := cn.Next(ctx, x12.GroupControl, "SENDER", "ACME 1"); n != 1 {
		t.Fatalf("group numbers start at %d, want 1", n)
	}
}

// Two replicas (two connections to one real nats-server process)
// allocating ISA13s for one pair at once never get the same number, and
// none is skipped.
func TestControlNumbersConcurrentReplicas(t *testing.T) {
	srv := natstest.Start(t)
	ctx := ctxT(t)
	replicas := []*bus.Bus{connect(t, srv.URL()), connect(t, srv.URL())}
	const workers, each = 6, 20
	var mu sync.Mutex
	var got []int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		cn, err := replicas[w%2].ControlNumbers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				n, err := cn.Next(ctx, x12.InterchangeControl, "CLAIMGATE", "PAYER")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got = append(got, n)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	if len(got) != workers*each {
		t.Fatalf("got %d numbers, want %d", len(got), workers*each)
	}
	for i, n := range got {
		if n != int64(i+1) {
			t.Fatalf("numbers %v: want exactly 1..%d, each once", got, workers*each)
		}
	}
}

// A number handed out survives a kill -9 of the server: after a restart
// allocation continues above every number any caller received.
func TestControlNumbersSurviveServerKill(t *testing.T) {
	srv := natstest.Start(t)
	ctx := ctxT(t)
	b := connect(t, srv.URL())
	cn, err := b.ControlNumbers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var max int64
	for i := 0; i < 20; i++ {
		n, err := cn.Next(ctx, x12.InterchangeControl, "S", "R")
		if err != nil {
			t.Fatal(err)
		}
		max = n
	}
	srv.Kill()
	srv.Restart()
	// The client reconnects on its own; the first call may still fail
	// while the stream recovers.
	var n int64
	deadline := time.Now().Add(30 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		n, err = cn.Next(cctx, x12.InterchangeControl, "S", "R")
		cancel()
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("after restart: %v\n%s", err, srv.Log())
	}
	if n != max+1 {
		t.Fatalf("after kill -9 and restart Next = %d, want %d", n, max+1)
	}
}

// Remember is create-if-absent across replicas: of many racing callers
// with one key exactly one wins; Forget lets the claim be sent again.
func TestSeen(t *testing.T) {
	srv := natstest.Start(t)
	ctx := ctxT(t)
	a, err := connect(t, srv.URL()).Seen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := connect(t, srv.URL()).Seen(ctx)
	key := strings.Repeat("ab", 32)
	if ok, err := a.SeenBefore(ctx, key); ok || err != nil {
		t.Fatalf("SeenBefore on an empty store = %v, %v", ok, err)
	}
	var wins, dups int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Remember(ctx, key)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, scrub.ErrDuplicate):
				dups++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || dups != 9 {
		t.Fatalf("racing Remember: %d won, %d duplicates; want 1 and 9", wins, dups)
	}
	if ok, _ := b.SeenBefore(ctx, key); !ok {
		t.Fatal("the other replica does not see the key")
	}
	if err := a.Forget(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := a.Forget(ctx, "unknown"); err != nil {
		t.Fatalf("forgetting an unknown key: %v", err)
	}
	if ok, _ := b.SeenBefore(ctx, key); ok {
		t.Fatal("a forgotten key is still seen")
	}
	if err := b.Remember(ctx, key); err != nil {
		t.Fatalf("Remember after Forget: %v", err)
	}
}

// One replica holds a payer's poll lease at a time; a holder that stops
// renewing loses it after the TTL, and a renewal after that fails.
func TestLeases(t *testing.T) {
	srv := natstest.Start(t)
	ctx := ctxT(t)
	ttl := func(o *bus.Options) { o.LeaseTTL = time.Second }
	one, err := connect(t, srv.URL(), ttl).Leases(ctx, "replica-1")
	if err != nil {
		t.Fatal(err)
	}
	two, _ := connect(t, srv.URL(), ttl).Leases(ctx, "replica-2")
	l1, err := one.Acquire(ctx, "poll/ACME.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := two.Acquire(ctx, "poll/ACME.1"); !errors.Is(err, bus.ErrLeaseHeld) {
		t.Fatalf("second holder: %v, want ErrLeaseHeld", err)
	}
	if _, err := two.Acquire(ctx, "poll/ACME 1"); err != nil {
		t.Fatalf("another payer's lease: %v", err)
	}
	// Renewing keeps it past the TTL.
	for i := 0; i < 3; i++ {
		time.Sleep(400 * time.Millisecond)
		if err := l1.Renew(ctx); err != nil {
			t.Fatalf("renew %d: %v", i, err)
		}
	}
	if _, err := two.Acquire(ctx, "poll/ACME.1"); !errors.Is(err, bus.ErrLeaseHeld) {
		t.Fatalf("renewed lease taken: %v", err)
	}
	// Stop renewing: it lapses and the other replica takes it.
	var l2 *bus.Lease
	deadline := time.Now().Add(10 * time.Second)
	for l2 == nil && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		l2, err = two.Acquire(ctx, "poll/ACME.1")
		if err != nil && !errors.Is(err, bus.ErrLeaseHeld) {
			t.Fatal(err)
		}
	}
	if l2 == nil {
		t.Fatal("a lease nobody renews never lapsed")
	}
	if err := l1.Renew(ctx); !errors.Is(err, bus.ErrLeaseHeld) {
		t.Fatalf("renewing a lapsed lease: %v, want ErrLeaseHeld", err)
	}
	if err := l2.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := one.Acquire(ctx, "poll/ACME.1"); err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
}

// Token makes a valid subject token of any id, and distinct ids give
// distinct tokens.
func TestToken(t *testing.T) {
	for id, want := range map[string]string{
		"ACME1": "ACME1", "ACME.1": "ACME=2E1", "ACME 1": "ACME=201", "a=b": "a=3Db",
		"*": "=2A", ">": "=3E", "": "=", "é": "=C3=A9",
	} {
		if got := bus.Token(id); got != want {
			t.Errorf("Token(%q) = %q, want %q", id, got, want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]string{}
	for i := 0; i < 20000; i++ {
		b := make([]byte, r.IntN(6))
		for j := range b {
			const alphabet = "aZ9.=_ -*>\x00\xff"
			b[j] = alphabet[r.IntN(len(alphabet))]
		}
		id := string(b)
		tok := bus.Token(id)
		for _, c := range []byte(tok) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '=') {
				t.Fatalf("Token(%q) = %q holds %q", id, tok, c)
			}
		}
		if other, ok := seen[tok]; ok && other != id {
			t.Fatalf("Token(%q) = Token(%q) = %q", id, other, tok)
		}
		seen[tok] = id
	}
	if s := bus.EventSubject("ACME.1", "paid"); s != "claims.events.ACME=2E1.paid" {
		t.Errorf("EventSubject = %q", s)
	}
}

// RememberAll records keys in atomic batches: 2,500 keys (three
// batches), some remembered before and one forgotten, are all seen by
// another replica afterwards; a key that is no plain token goes through
// the KV client, which refuses it.
func TestSeenRememberAll(t *testing.T) {
	srv := natstest.Start(t)
	ctx := ctxT(t)
	a, _ := connect(t, srv.URL()).Seen(ctx)
	b, _ := connect(t, srv.URL()).Seen(ctx)
	var keys []string
	for i := range 2500 {
		keys = append(keys, fmt.Sprintf("%064x", i))
	}
	for _, k := range keys[:10] {
		if err := b.Remember(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Forget(ctx, keys[5]); err != nil {
		t.Fatal(err)
	}
	if err := a.RememberAll(ctx, keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if ok, err := b.SeenBefore(ctx, k); !ok || err != nil {
			t.Fatalf("key %s not seen after RememberAll: %v", k, err)
		}
	}
	if err := b.Remember(ctx, keys[2000]); !errors.Is(err, scrub.ErrDuplicate) {
		t.Fatalf("Remember of a key RememberAll recorded: %v", err)
	}
	if err := a.RememberAll(ctx, []string{"a b"}); err == nil {
		t.Fatal("RememberAll took a key with a space")
	}
}
