package payersim

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/ledger"
	"github.com/claimgate/claimgate/pkg/sftpconn"
	"golang.org/x/crypto/ssh"
)

// connector returns claimgate's SFTP connector pointed at the simulator,
// with the simulator's host key pinned and a ledger in dir.
func connector(t *testing.T, ts *testServer, dir string) (*sftpconn.Client, *ledger.Dir) {
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
	c, err := sftpconn.New(sftpconn.Payer{
		ID: medicare, Addr: ts.addr, User: "biller",
		Auth:        []ssh.AuthMethod{ssh.PublicKeys(ts.key)},
		HostKeys:    []ssh.PublicKey{hk},
		OutboundDir: "/" + medicare + "/inbound", InboundDir: "/" + medicare + "/outbound",
		SettleTime: 20 * time.Millisecond, RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond,
	}, led, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
	deadline := time.Now().Add(30 * time.Second)
	for len(files) < 3 && time.Now().Before(deadline) {
		_, err := c.Fetch(ctx, func(_ context.Context, d sftpconn.Delivery) error {
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
