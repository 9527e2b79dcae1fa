package bus_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/bus/natstest"
	"github.com/claimgate/claimgate/pkg/ledger"
	"github.com/claimgate/claimgate/pkg/pipeline"
)

// ledgerConformance checks what pkg/sftpconn relies on from any
// ledger.Ledger: forward-only states, identities (inbound by digest,
// outbound by name and digest), Pending, Note, concurrent writers, and
// that what was put survives reopening (reopen returns a fresh Ledger on
// the same storage, after a server restart where the backend has one).
func ledgerConformance(t *testing.T, l ledger.Ledger, reopen func() ledger.Ledger) {
	ctx := context.Background()
	out := ledger.Record{Payer: "P/1.x", Dir: ledger.Out, Name: "a.837", Digest: "ab", Size: 3, State: ledger.Renaming}
	in := ledger.Record{Payer: "P/1.x", Dir: ledger.In, Name: "r.999", Digest: "cd", Size: 5, State: ledger.Downloaded}
	for _, r := range []ledger.Record{out, in} {
		if err := l.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	back := out
	back.State = ledger.Uploading
	if err := l.Put(ctx, back); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := l.Get(ctx, out); err != nil || !ok || got.State != ledger.Renaming || got.Size != 3 {
		t.Fatalf("backwards move applied: %+v %v %v", got, ok, err)
	}
	if got, ok, _ := l.Get(ctx, ledger.Record{Payer: "P/1.x", Dir: ledger.In, Name: "other", Digest: "cd"}); !ok || got.Name != "r.999" {
		t.Fatalf("inbound by digest: %+v %v", got, ok)
	}
	if _, ok, _ := l.Get(ctx, ledger.Record{Payer: "P/1.x", Dir: ledger.Out, Name: "b.837", Digest: "ab"}); ok {
		t.Fatal("outbound record found under another name")
	}
	// Payers that only differ in characters a subject or file name
	// cannot hold stay apart.
	if _, ok, _ := l.Get(ctx, ledger.Record{Payer: "P 1.x", Dir: ledger.In, Digest: "cd"}); ok {
		t.Fatal("payer P 1.x sees P/1.x's record")
	}
	if p, err := l.Pending(ctx, "P/1.x"); err != nil || len(p) != 1 || p[0].Digest != "cd" {
		t.Fatalf("pending %+v %v", p, err)
	}
	if _, _, err := l.Get(ctx, ledger.Record{Dir: ledger.In, Digest: "cd"}); err == nil {
		t.Fatal("empty payer accepted")
	}
	// Note, then Put moves it on.
	n := ledger.Record{Payer: "Q", Dir: ledger.In, Name: "x", Digest: "d1", State: ledger.Downloaded}
	if err := l.Note(ctx, n); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := l.Get(ctx, n); !ok || got.State != ledger.Downloaded {
		t.Fatal("noted record not visible")
	}
	n.State = ledger.HandedOn
	if err := l.Put(ctx, n); err != nil {
		t.Fatal(err)
	}
	if p, _ := l.Pending(ctx, "Q"); len(p) != 0 {
		t.Fatalf("handed-on record still pending: %+v", p)
	}
	// Concurrent writers each move their own records, and race on shared
	// ones: every record ends Uploaded.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				name := fmt.Sprintf("f%d", i%10) // shared by all writers
				if i >= 10 {
					name = fmt.Sprintf("g%d-%d", g, i)
				}
				r := ledger.Record{Payer: "C", Dir: ledger.Out, Name: name, Digest: "d"}
				for _, s := range []ledger.State{ledger.Uploading, ledger.Renaming, ledger.Uploaded} {
					r.State = s
					if err := l.Put(ctx, r); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	l = reopen()
	var names []string
	for g := range 4 {
		for i := range 20 {
			name := fmt.Sprintf("f%d", i%10)
			if i >= 10 {
				name = fmt.Sprintf("g%d-%d", g, i)
			}
			got, ok, err := l.Get(ctx, ledger.Record{Payer: "C", Dir: ledger.Out, Name: name, Digest: "d"})
			if err != nil || !ok || got.State != ledger.Uploaded {
				t.Fatalf("%s: %+v %v %v", name, got, ok, err)
			}
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if got, ok, _ := l.Get(ctx, out); !ok || got.State != ledger.Renaming {
		t.Fatalf("after reopen: %+v %v", got, ok)
	}
	if p, _ := l.Pending(ctx, "P/1.x"); len(p) != 1 {
		t.Fatalf("pending after reopen: %+v", p)
	}
}

func TestLedgerConformanceDir(t *testing.T) {
	dir := t.TempDir()
	d, err := ledger.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ledgerConformance(t, d, func() ledger.Ledger {
		d.Close()
		d2, err := ledger.OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d2.Close() })
		return d2
	})
}

func TestLedgerConformanceEmbedded(t *testing.T) {
	dir := t.TempDir()
	e, b := embedded(t, dir)
	l, err := b.Ledger(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	ledgerConformance(t, l, func() ledger.Ledger {
		b.Close()
		e.Shutdown()
		e, b = embedded(t, dir)
		t.Cleanup(func() { b.Close(); e.Shutdown() })
		l, err := b.Ledger(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

// Against a nats-server process killed (SIGKILL) after the writes: every
// acknowledged Put is there after the restart.
func TestLedgerConformanceServerKill(t *testing.T) {
	srv := natstest.Start(t)
	b := connect(t, srv.URL())
	l, err := b.Ledger(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	ledgerConformance(t, l, func() ledger.Ledger {
		srv.Kill()
		srv.Restart()
		b2 := connect(t, srv.URL())
		l, err := b2.Ledger(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

var _ ledger.Ledger = (*bus.Ledger)(nil)

// Each worker's journal holds its own records only, and what Begin
// stored survives a restart until Done.
func TestJournalPerWorker(t *testing.T) {
	dir := t.TempDir()
	e, b := embedded(t, dir)
	ctx := ctxT(t)
	j1, _ := b.Journal(ctx, "gw-1.a")
	j2, _ := b.Journal(ctx, "gw-1 a")
	for _, id := range []string{"r1", "r2"} {
		if err := j1.Begin(ctx, pipeline.Record{ID: id, Name: id + ".837", Digest: "d", Keys: []string{"k"}}); err != nil {
			t.Fatal(err)
		}
	}
	j2.Begin(ctx, pipeline.Record{ID: "x", Name: "x.837"})
	if err := j1.Done(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	b.Close()
	e.Shutdown()
	e, b = embedded(t, dir)
	defer e.Shutdown()
	defer b.Close()
	j1, _ = b.Journal(ctx, "gw-1.a")
	got, err := j1.Pending(ctx)
	if err != nil || len(got) != 1 || got[0].ID != "r2" || got[0].Name != "r2.837" || len(got[0].Keys) != 1 {
		t.Fatalf("pending %+v, %v; want r2 only", got, err)
	}
	j2, _ = b.Journal(ctx, "gw-1 a")
	if got, _ := j2.Pending(ctx); len(got) != 1 || got[0].ID != "x" {
		t.Fatalf("other worker's pending %+v", got)
	}
	if err := j1.Compact(ctx); err != nil {
		t.Fatal(err)
	}
}
