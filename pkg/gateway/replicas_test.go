package gateway

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/bus/natstest"
)

// TestTwoReplicas runs two `claimgate serve` processes against one
// external nats-server. A first load finishes with every claim
// submitted once, no interchange control number used twice and no claim
// lost; then one replica is killed in the middle of reconciling the
// second load's responses and the other finishes the work.
func TestTwoReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	claimgateBin(t)
	srv := natstest.Start(t)
	dir := t.TempDir()
	s := startSim(t, dir)
	cfgPath := filepath.Join(dir, "claimgate.json")
	writeServeConfig(t, s, cfgPath)
	// No scheduled sweep in the test's time (15 minutes): what A, killed
	// below, leaves in its outbox B publishes on the redelivery.
	ext := []string{"--nats-url", srv.URL()}
	a := startServe(t, filepath.Join(dir, "a"), cfgPath, nil, append(ext, "--name", "A")...)
	bproc := startServe(t, filepath.Join(dir, "b"), cfgPath, nil, append(ext, "--name", "B")...)
	b, err := bus.Connect(context.Background(), bus.Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.NC.Close()
	st, err := waitStore(t, b)
	if err != nil {
		t.Fatal(err)
	}

	submit := func(path string) {
		out, err := runCLI(t, "submit", "--nats-url", srv.URL(), path)
		if err != nil || !strings.Contains(out, "batch ") {
			t.Fatalf("submit: %v %s", err, out)
		}
	}
	var ids []string
	bad := map[string]bool{}
	for i, n := range []int{150, 150} {
		path := filepath.Join(dir, fmt.Sprintf("load%d.csv", i))
		got, gotBad := writeBatch(t, path, fmt.Sprintf("R%c", 'A'+i), i*1000, n, 20)
		ids = append(ids, got...)
		for k := range gotBad {
			bad[k] = true
		}
		submit(path)
	}
	waitFinal(t, st, s, ids, bad, 90*time.Second)
	checkEvents(t, b, ids, bad)
	checkInterchanges(t, s)

	// Second load: replica A, restarted with a crash point, dies
	// (SIGKILL) in the middle of reconciling, at the 60th response event
	// it applies (counted before each batch: in its second response
	// file); B finishes. (A crash point counted from the start, in both
	// loads, depended on how the files happened to split between A and
	// B.)
	a.stop(t)
	a = startServe(t, filepath.Join(dir, "a"), cfgPath, []string{"CLAIMGATE_CRASH_AT=reconcile-apply:60"}, append(ext, "--name", "A")...)
	waitLog(t, a, "gateway running", 60*time.Second)
	path := filepath.Join(dir, "load2.csv")
	more, moreBad := writeBatch(t, path, "RZ", 5000, 300, 20)
	submit(path)
	a.waitKilled(t, 90*time.Second)
	ids = append(ids, more...)
	for k := range moreBad {
		bad[k] = true
	}
	waitFinal(t, st, s, ids, bad, 90*time.Second)
	waitFinalEvents(t, b, ids, bad, 60*time.Second)
	checkInterchanges(t, s)
	bproc.stop(t)
}

// waitLog waits until the process's log holds want.
func waitLog(t testing.TB, p *serveProc, want string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if b, _ := os.ReadFile(p.log); strings.Contains(string(b), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q not in %s within %v", want, p.log, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitStore(t testing.TB, b *bus.Bus) (*bus.ClaimStore, error) {
	// The gateway creates its consumers last in its setup.
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := b.JS.Consumer(ctx, bus.StreamFilesIn, ConsumerReconcile)
		if err == nil {
			return b.ClaimStore(ctx)
		}
		if time.Now().After(deadline) {
			return nil, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitFinal(t testing.TB, st *bus.ClaimStore, s *sim, ids []string, bad map[string]bool, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, why := checkFinal(t, context.Background(), st, s, ids, bad, false)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not final after %v: %s", limit, why)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// checkInterchanges reads every 837P the simulated payers received and
// checks no ISA13 was used twice for one sender/receiver pair and no
// claim id appears in two files.
func checkInterchanges(t testing.TB, s *sim) {
	t.Helper()
	seenISA := map[string]string{}
	seenClaim := map[string]string{}
	root := filepath.Join(s.srv.Root(), "..", "processed")
	err := filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		fi, err := fileInfoOf(path)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		k := fmt.Sprintf("%s/%s/%d", fi.Sender, fi.Receiver, fi.Interchange)
		if other, ok := seenISA[k]; ok {
			t.Fatalf("ISA13 %s in %s and %s", k, other, path)
		}
		seenISA[k] = path
		for _, set := range fi.Sets {
			for _, id := range set.ClaimIDs {
				if other, ok := seenClaim[id]; ok {
					t.Fatalf("claim %s in %s and %s", id, other, path)
				}
				seenClaim[id] = path
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seenISA) == 0 {
		t.Fatal("no 837P at the payer")
	}
}

// TestReplicaDiesMidBatch: replica A is SIGKILLed after publishing an
// 837P (stored in the object store, and at the second point also
// announced with its claims queued) but before recording its claims'
// keys and acknowledging the batch. Replica B gets the batch redelivered
// and settles A's journal first, so A's claims are refused as duplicates
// instead of being written again; then A restarts on its own data and
// recovers nothing twice. Every claim reaches the payer in exactly one
// 837P, and gets each event once.
func TestReplicaDiesMidBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	claimgateBin(t)
	for i, point := range []string{"stored:1", "handed-off:1"} {
		t.Run(strings.ReplaceAll(point, ":", "_"), func(t *testing.T) {
			srv := natstest.Start(t)
			dir := t.TempDir()
			s := startSim(t, dir)
			cfgPath := filepath.Join(dir, "claimgate.json")
			writeServeConfig(t, s, cfgPath)
			ext := []string{"--nats-url", srv.URL()}
			a := startServe(t, filepath.Join(dir, "a"), cfgPath, []string{"CLAIMGATE_CRASH_AT=" + point}, append(ext, "--name", "A")...)
			b, err := bus.Connect(context.Background(), bus.Options{URL: srv.URL()})
			if err != nil {
				t.Fatal(err)
			}
			defer b.NC.Close()
			st, err := waitStore(t, b)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "batch.csv")
			ids, bad := writeBatch(t, path, fmt.Sprintf("D%c", 'A'+i), 0, 150, 20)
			if out, err := runCLI(t, "submit", "--nats-url", srv.URL(), path); err != nil || !strings.Contains(out, "batch ") {
				t.Fatalf("submit: %v %s", err, out)
			}
			a.waitKilled(t, 90*time.Second)
			// Only B runs while the batch is redelivered.
			bproc := startServe(t, filepath.Join(dir, "b"), cfgPath, nil, append(ext, "--name", "B")...)
			waitFinal(t, st, s, ids, bad, 120*time.Second)
			// A comes back on its own data directory: its journal holds
			// nothing B has not settled.
			a = startServe(t, filepath.Join(dir, "a"), cfgPath, nil, append(ext, "--name", "A")...)
			waitFinal(t, st, s, ids, bad, 60*time.Second)
			checkEvents(t, b, ids, bad)
			checkInterchanges(t, s)
			kv, err := b.JS.KeyValue(context.Background(), bus.BucketJournal)
			if err != nil {
				t.Fatal(err)
			}
			// A settles its own journal at start-up; wait for it to be
			// up (its consumers bound) before looking.
			deadline := time.Now().Add(60 * time.Second)
			for {
				keys, _ := kv.ListKeysFiltered(context.Background(), "w.>")
				n := 0
				if keys != nil {
					for range keys.Keys() {
						n++
					}
				}
				if n == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d journal records left pending", n)
				}
				time.Sleep(250 * time.Millisecond)
			}
			a.stop(t)
			bproc.stop(t)
		})
	}
}
