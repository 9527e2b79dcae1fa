package ledger

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var ctx = context.Background()

func TestDirPutGetReopen(t *testing.T) {
	dir := t.TempDir()
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := Record{Payer: "P/1", Dir: Out, Name: "a.837", Digest: "ab", Size: 3, State: Renaming}
	in := Record{Payer: "P/1", Dir: In, Name: "r.999", Digest: "cd", Size: 5, State: Downloaded}
	for _, r := range []Record{out, in} {
		if err := d.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// Backwards moves are ignored.
	back := out
	back.State = Uploading
	if err := d.Put(ctx, back); err != nil {
		t.Fatal(err)
	}
	// Inbound identity is the digest: another name finds the same record.
	other := Record{Payer: "P/1", Dir: In, Name: "other", Digest: "cd"}
	if got, ok, _ := d.Get(ctx, other); !ok || got.State != Downloaded || got.Name != "r.999" {
		t.Fatalf("inbound by digest: %+v %v", got, ok)
	}
	// Outbound identity includes the name.
	if _, ok, _ := d.Get(ctx, Record{Payer: "P/1", Dir: Out, Name: "b.837", Digest: "ab"}); ok {
		t.Fatal("outbound record found under another name")
	}
	// A second holder of the same journal is refused.
	d2, _ := OpenDir(dir)
	if _, _, err := d2.Get(ctx, out); !errors.Is(err, ErrLocked) {
		t.Fatalf("second opener: %v, want ErrLocked", err)
	}
	if p, _ := d.Pending(ctx, "P/1"); len(p) != 1 || p[0].Digest != "cd" {
		t.Fatalf("pending %+v", p)
	}
	d.Close()
	if _, err := os.Stat(filepath.Join(dir, "P%2F1.journal")); err != nil {
		t.Fatalf("journal file name: %v", err)
	}
	// Reopened, with a torn last line from a crash mid-append.
	f, _ := os.OpenFile(filepath.Join(dir, "P%2F1.journal"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"payer":"P/1","dir":"out","name":"a.837","sha256":"ab","state":"uploa`)
	f.Close()
	d3, _ := OpenDir(dir)
	defer d3.Close()
	if got, ok, err := d3.Get(ctx, out); err != nil || !ok || got.State != Renaming {
		t.Fatalf("after reopen: %+v %v %v", got, ok, err)
	}
	done := out
	done.State = Uploaded
	if err := d3.Put(ctx, done); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := d3.Get(ctx, out); got.State != Uploaded {
		t.Fatalf("state %s", got.State)
	}
}

func TestDirDamagedMiddle(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "P.journal"), []byte("garbage\n{\"payer\":\"P\",\"dir\":\"in\",\"sha256\":\"x\",\"state\":\"downloaded\"}\n"), 0o600)
	d, _ := OpenDir(dir)
	defer d.Close()
	if _, _, err := d.Get(ctx, Record{Payer: "P", Dir: In, Digest: "x"}); err == nil {
		t.Fatal("damaged journal accepted")
	}
}

func TestDirConcurrentPutsAndCompaction(t *testing.T) {
	dir := t.TempDir()
	d, _ := OpenDir(dir)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				r := Record{Payer: "P", Dir: Out, Name: fmt.Sprintf("f%d-%d", g, i), Digest: "d"}
				for _, s := range []State{Uploading, Renaming, Uploaded} {
					r.State = s
					if err := d.Put(ctx, r); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	d.Close()
	d, _ = OpenDir(dir) // 1200 lines for 400 records: compacted
	defer d.Close()
	for g := range 8 {
		for i := range 50 {
			got, ok, err := d.Get(ctx, Record{Payer: "P", Dir: Out, Name: fmt.Sprintf("f%d-%d", g, i), Digest: "d"})
			if err != nil || !ok || got.State != Uploaded {
				t.Fatalf("f%d-%d: %+v %v %v", g, i, got, ok, err)
			}
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "P.journal"))
	if n := len(splitLines(b)); n != 400 {
		t.Fatalf("compacted journal has %d lines, want 400", n)
	}
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		out = append(out, b[:i])
		if i < len(b) {
			i++
		}
		b = b[i:]
	}
	return out
}

func TestDirNote(t *testing.T) {
	dir := t.TempDir()
	d, _ := OpenDir(dir)
	r := Record{Payer: "P", Dir: In, Name: "x", Digest: "d1", State: Downloaded}
	if err := d.Note(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := d.Get(ctx, r); !ok || got.State != Downloaded {
		t.Fatal("noted record not visible")
	}
	// A later Put moves it on; both lines are in the journal.
	r.State = HandedOn
	if err := d.Put(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.State = RemoteRemoved
	d.Note(ctx, r)
	d.Close()
	d, _ = OpenDir(dir)
	defer d.Close()
	if got, _, _ := d.Get(ctx, r); got.State != RemoteRemoved {
		t.Fatalf("after reopen: %s", got.State)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "P.journal"))
	if n := len(splitLines(b)); n != 3 {
		t.Fatalf("%d lines, want 3", n)
	}
}
