package gateway

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCrashRecovery kills a real `claimgate serve` (SIGKILL from a crash
// point) during ingest, around an upload and in the middle of
// reconciling responses, restarts it on the same data directory, and
// checks that every claim was submitted exactly once (counted in the
// 837P files the payer received), reached the state the payer decided,
// and got each event exactly once in the event stream.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	points := []string{
		"journaled:2",         // pipeline: file journaled, not yet published
		"stored:2",            // file in the object store, claims not queued, not announced
		"queued:2",            // claims queued, file not announced on files-out
		"handed-off:1",        // file on files-out, claims' keys not yet recorded
		"ingest-before-ack:1", // batch done, not acknowledged
		"sftp-renaming:2",     // upload under its temporary name, before the rename
		"sftp-uploaded:1",     // uploaded, claims not yet submitted
		"submitted:1",         // claims submitted, message not acknowledged
		"reconcile-apply:60",  // in the middle of a response file
		"reconciled:3",        // response applied, not acknowledged
	}
	claimgateBin(t)
	for i, point := range points {
		t.Run(strings.ReplaceAll(point, ":", "_"), func(t *testing.T) {
			dir := t.TempDir()
			s := startSim(t, dir)
			cfgPath := filepath.Join(dir, "claimgate.json")
			writeServeConfig(t, s, cfgPath)
			data := filepath.Join(dir, "data")
			batch := filepath.Join(dir, "batch.csv")
			ids, bad := writeBatch(t, batch, "C"+string(rune('A'+i)), 0, 120, 15)

			p := startServe(t, data, cfgPath, []string{"CLAIMGATE_CRASH_AT=" + point})
			connect(t, data) // up and serving
			if out := submitCLI(t, data, batch); !strings.Contains(out, "batch ") {
				t.Fatalf("submit printed %q", out)
			}
			p.waitKilled(t, 60*time.Second)

			p = startServe(t, data, cfgPath, nil)
			b := connect(t, data)
			if out := submitCLI(t, data, batch); !strings.Contains(out, "already submitted") {
				t.Errorf("resubmitting the batch: %q", out)
			}
			st, err := b.ClaimStore(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(90 * time.Second)
			for {
				ok, why := checkFinal(t, context.Background(), st, s, ids, bad, false)
				if ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after the restart: %s (logs in %s)", why, data)
				}
				time.Sleep(200 * time.Millisecond)
			}
			checkEvents(t, b, ids, bad)
			p.stop(t)
		})
	}
}

// TestCrashWhileHolding: `claimgate serve --flush-interval` SIGKILLed
// while two batches' claims are held (nothing written, nothing
// acknowledged), and after they were written but before the batches were
// acknowledged; restarted, every claim reaches the payer exactly once,
// settles, and gets each event once.
func TestCrashWhileHolding(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	claimgateBin(t)
	for i, point := range []string{"ingest-held:2", "ingest-before-ack:1"} {
		t.Run(strings.ReplaceAll(point, ":", "_"), func(t *testing.T) {
			dir := t.TempDir()
			s := startSim(t, dir)
			cfgPath := filepath.Join(dir, "claimgate.json")
			writeServeConfig(t, s, cfgPath)
			data := filepath.Join(dir, "data")
			var ids []string
			bad := map[string]bool{}
			var batches []string
			for k := range 2 {
				path := filepath.Join(dir, fmt.Sprintf("b%d.csv", k))
				got, gotBad := writeBatch(t, path, fmt.Sprintf("H%c%c", 'A'+i, 'A'+k), k*1000, 40, 9)
				ids = append(ids, got...)
				for id := range gotBad {
					bad[id] = true
				}
				batches = append(batches, path)
			}
			hold := []string{"--flush-interval", "4s"}
			p := startServe(t, data, cfgPath, []string{"CLAIMGATE_CRASH_AT=" + point}, hold...)
			connect(t, data)
			for _, path := range batches {
				if out := submitCLI(t, data, path); !strings.Contains(out, "batch ") {
					t.Fatalf("submit printed %q", out)
				}
			}
			p.waitKilled(t, 60*time.Second)
			s.mu.Lock()
			early := len(s.files)
			s.mu.Unlock()
			if point == "ingest-held:2" && early != 0 {
				t.Fatalf("%d claims at the payer while held", early)
			}

			p = startServe(t, data, cfgPath, nil, hold...)
			b := connect(t, data)
			st, err := b.ClaimStore(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(90 * time.Second)
			for {
				ok, why := checkFinal(t, context.Background(), st, s, ids, bad, false)
				if ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after the restart: %s (logs in %s)", why, data)
				}
				time.Sleep(200 * time.Millisecond)
			}
			checkEvents(t, b, ids, bad)
			checkInterchanges(t, s)
			p.stop(t)
		})
	}
}
