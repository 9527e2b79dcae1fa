package payersim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/claim"

	"github.com/claimgate/claimgate/pkg/ledger"
	"github.com/claimgate/claimgate/pkg/sftpconn"
	"golang.org/x/crypto/ssh"
)

// connector returns claimgate's SFTP connector pointed at the simulator,
// with the simulator's host key pinned and a ledger in dir.
func connector(t *testing.T, ts *testServer, dir string, edit ...func(*sftpconn.Payer)) (*sftpconn.Client, *ledger.Dir) {
	t.Helper()
	hk, err := sftpconn.ParseHostKey(ts.hostKeyLine)
	if err != nil {
		t.Fatal(err)
	}
	led, err := ledger.OpenDir(dir + "/ledger")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	p := sftpconn.Payer{
		ID: medicare, Addr: ts.addr, User: "biller",
		Auth:        []ssh.AuthMethod{ssh.PublicKeys(ts.key)},
		HostKeys:    []ssh.PublicKey{hk},
		OutboundDir: "/" + medicare + "/inbound", InboundDir: "/" + medicare + "/outbound",
		SettleTime: 20 * time.Millisecond, RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond,
	}
	for _, e := range edit {
		e(&p)
	}
	c, err := sftpconn.New(p, led, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	c.Inbox = dir + "/inbox"
	return c, led
}

// The exchange a gateway runs, against the payer simulator: claimgate's
// connector uploads an 837P once (a second send is recognised), the
// simulator answers, the connector collects the 999, 277CA and 835, each
// handed on exactly once and valid by claimgate's own validators, and a
// new connector process over the same ledger hands on nothing again.
func TestConnectorExchangeWithSimulator(t *testing.T) {
	ts := startServer(t)
	dir := t.TempDir()
	c, led := connector(t, ts, dir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := build837(t, roundTripClaims()[:6])[medicare]
	sent, err := c.Send(ctx, "claims-0001.837", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if sent.Already {
		t.Fatal("first send reported as already sent")
	}
	again, err := c.Send(ctx, "claims-0001.837", bytes.NewReader(data), int64(len(data)))
	if err != nil || !again.Already {
		t.Fatalf("second send of the same file: %+v, %v; want Already", again, err)
	}

	var files []File
	handed := map[string]int{}
	var mu sync.Mutex // Fetch hands files on from several goroutines
	deadline := time.Now().Add(30 * time.Second)
	for len(files) < 3 && time.Now().Before(deadline) {
		_, err := c.Fetch(ctx, func(_ context.Context, d sftpconn.Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			handed[d.Digest]++
			b, err := os.ReadFile(d.Path)
			if err != nil {
				return err
			}
			typ := ""
			for _, ty := range []string{Type999, Type277CA, Type835} {
				if strings.Contains(d.RemoteName, "_"+ty+"_") {
					typ = ty
				}
			}
			files = append(files, File{Type: typ, Name: d.RemoteName, Data: b})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(files) != 3 {
		t.Fatalf("collected %d responses, want a 999, a 277CA and an 835: %v", len(files), names(files))
	}
	for d, n := range handed {
		if n != 1 {
			t.Errorf("response %s handed on %d times", d[:12], n)
		}
	}
	checkAll(t, files, segments(data, "GS")[0][6])
	select {
	case res := <-ts.processed:
		if len(res.Claims) != 6 {
			t.Errorf("the simulator answered %d claims, want 6", len(res.Claims))
		}
	default:
		t.Error("the simulator never processed the upload")
	}

	// A fresh connector over the same ledger (as after a restart): nothing
	// is handed on again, and the 837P is not sent again.
	c.Close()
	led.Close()
	c2, _ := connector(t, ts, dir)
	res, err := c2.Fetch(ctx, func(context.Context, sftpconn.Delivery) error {
		t.Error("a response was handed on twice")
		return nil
	})
	if err != nil || res.HandedOn != 0 {
		t.Fatalf("second fetch: %+v, %v", res, err)
	}
	if s, err := c2.Send(ctx, "claims-0001.837", bytes.NewReader(data), int64(len(data))); err != nil || !s.Already {
		t.Fatalf("send after restart: %+v, %v; want Already", s, err)
	}
}

func names(fs []File) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

// relay forwards TCP connections to addr; cut closes the live ones once
// more than limit bytes went upstream (0: never), as a dropped link does.
type relay struct {
	l     net.Listener
	limit int64
	mu    sync.Mutex
	conns []net.Conn
	cuts  int
}

func newRelay(t *testing.T, addr string, limit int64) *relay {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{l: l, limit: limit}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", addr)
			if err != nil {
				in.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, in, out)
			cut := r.limit > 0 && r.cuts == 0 // only the first connection is cut
			r.mu.Unlock()
			go func() { io.Copy(in, out); in.Close() }()
			go func() {
				defer out.Close()
				if !cut {
					io.Copy(out, in)
					return
				}
				io.CopyN(out, in, r.limit)
				r.mu.Lock()
				r.cuts++
				r.mu.Unlock()
				in.Close()
			}()
		}
	}()
	return r
}

// The connection to the simulator drops in the middle of an upload: the
// connector retries on a new connection, and the simulator sees the
// file once, whole (it answers every claim once), never a partial one.
func TestConnectorUploadCutAtSimulator(t *testing.T) {
	ts := startServer(t)
	r := newRelay(t, ts.addr, 96<<10)
	dir := t.TempDir()
	c, _ := connector(t, ts, dir, func(p *sftpconn.Payer) { p.Addr = r.l.Addr().String() })
	var cs []*claim.Claim
	for i := range 600 {
		cs = append(cs, ptClaim(fmt.Sprintf("CUT-%03d", i), medicare, 3000+i))
	}
	data := build837(t, cs)[medicare]
	if len(data) < 200<<10 {
		t.Fatalf("the 837P is only %d bytes: the cut would miss the upload", len(data))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Send(ctx, "big.837", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	cuts := r.cuts
	r.mu.Unlock()
	if cuts != 1 {
		t.Fatalf("%d connections cut, want 1", cuts)
	}
	var res *Result
	select {
	case res = <-ts.processed:
	case <-ctx.Done():
		t.Fatal("the simulator never processed the upload")
	}
	if len(res.Claims) != len(cs) {
		t.Fatalf("the simulator answered %d claims of %d", len(res.Claims), len(cs))
	}
	// Processed once: one 837P answered, nothing left in the inbound
	// folder (no temporary file either), one 999.
	proc, _ := os.ReadDir(filepath.Join(ts.data, "processed", medicare))
	inbound, _ := os.ReadDir(filepath.Join(ts.srv.Root(), medicare, "inbound"))
	if len(proc) != 1 || len(inbound) != 0 {
		t.Fatalf("processed %v, inbound %v; want one file processed and nothing left", proc, inbound)
	}
	if b, _ := os.ReadFile(filepath.Join(ts.data, "processed", medicare, proc[0].Name())); !bytes.Equal(b, data) {
		t.Fatal("the processed 837P differs from the one sent")
	}
}

// The simulator with another host key than the pinned one, and a user
// key it does not know: the connector refuses (host key, naming the
// offered fingerprint) or is refused (login), at once, without retrying.
func TestConnectorRefusedBySimulator(t *testing.T) {
	ts := startServer(t)
	dir := t.TempDir()
	other, _ := newKey(t)
	c, _ := connector(t, ts, dir, func(p *sftpconn.Payer) { p.HostKeys = []ssh.PublicKey{other.PublicKey()} })
	data := build837(t, roundTripClaims()[:1])[medicare]
	_, err := c.Send(context.Background(), "a.837", bytes.NewReader(data), int64(len(data)))
	var he *sftpconn.HostKeyError
	if !errors.As(err, &he) || !he.Changed || he.Fingerprint != ssh.FingerprintSHA256(ts.srv.HostKey()) || !strings.Contains(err.Error(), "payer "+medicare) {
		t.Fatalf("pinned another host key: %v", err)
	}
	c.Close()
	c2, _ := connector(t, ts, t.TempDir(), func(p *sftpconn.Payer) { p.Auth = []ssh.AuthMethod{ssh.PublicKeys(other)} })
	start := time.Now()
	_, err = c2.Fetch(context.Background(), func(context.Context, sftpconn.Delivery) error { return nil })
	if !errors.Is(err, sftpconn.ErrAuth) || time.Since(start) > 10*time.Second {
		t.Fatalf("unknown user key: %v after %s", err, time.Since(start))
	}
}
