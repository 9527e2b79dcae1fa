package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDirOutputNeverReplacesAndCleansOnlyStaleTemps(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	out := &DirOutput{Dir: dir}
	stale := filepath.Join(dir, TempPrefix+"crashed.837")
	os.WriteFile(stale, []byte("PHI"), 0o600)
	tf, err := out.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tf.Write([]byte("ISA~"))
	if err := tf.Close(); err != nil {
		t.Fatal(err)
	}
	// Another conversion's Clean (its own open file description): the
	// stale file goes, the one being written stays.
	if err := (&DirOutput{Dir: dir}).Clean(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp file kept: %v", err)
	}
	if _, err := os.Stat(tf.Name()); err != nil {
		t.Fatalf("live temp file removed: %v", err)
	}
	taken := filepath.Join(dir, "X.837")
	os.WriteFile(taken, []byte("first"), 0o600)
	if _, err := tf.Publish(ctx, "X.837"); !errors.Is(err, os.ErrExist) {
		t.Fatalf("publish over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(taken); string(b) != "first" {
		t.Fatalf("existing file replaced: %q", b)
	}
	path, err := tf.Publish(ctx, "Y.837")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := out.Published(ctx, path, tf.Digest()); !ok || err != nil {
		t.Fatalf("published file not recognised: %v %v", ok, err)
	}
	if ok, _ := out.Published(ctx, taken, tf.Digest()); ok {
		t.Fatal("another file with the name taken for ours")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, TempPrefix+"*")); len(m) != 0 {
		t.Fatalf("temp files left: %v", m)
	}
}

func TestFileNames(t *testing.T) {
	a := FileName("ACME.1", "CLAIMGATE", "ACME.1", 7, 0)
	b := FileName("ACME 1", "CLAIMGATE", "ACME 1", 7, 0)
	if a == b || a[:7] != "ACME_1-" || b[:7] != "ACME_1-" {
		t.Fatalf("%s %s", a, b)
	}
	if FileName("ACME.1", "CLAIMGATE", "ACME.1", 7, 1) == a || filepath.Ext(a) != ".837" {
		t.Fatal("retry name equals the first")
	}
	if n := FileName("../../etc/passwd", "S", "R", 1, 0); filepath.Base(n) != n {
		t.Fatalf("name %q leaves the directory", n)
	}
}

func TestJournalPendingIgnoresTornLine(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal")
	j, err := OpenFileJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	j.Begin(ctx, Record{ID: "a", Name: "A.837", Keys: []string{"k1"}})
	j.Begin(ctx, Record{ID: "b", Name: "B.837"})
	j.Done(ctx, "b")
	j.Begin(ctx, Record{ID: "a", Name: "A-2.837", Keys: []string{"k1"}}) // renamed after EEXIST
	j.f.WriteString(`{"op":"begin","id":"c"`)                            // torn by a crash
	recs, err := j.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].ID != "a" || recs[0].Name != "A-2.837" {
		t.Fatalf("pending %+v", recs)
	}
	if err := j.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if recs, _ := j.Pending(ctx); len(recs) != 0 {
		t.Fatalf("after compact: %+v", recs)
	}
	j.Close()
}
