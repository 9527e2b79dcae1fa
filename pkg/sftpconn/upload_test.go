package sftpconn

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/ledger"
)

// watchFinal polls the outbound folder over its own connection and
// reports any final-named file whose content is not the whole file.
func watchFinal(t *testing.T, e *env, name string, want []byte) (stop func() (looks int, seen bool)) {
	obs := e.observer(t)
	var looks atomic.Int64
	var seen atomic.Bool
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if obs == nil {
				time.Sleep(10 * time.Millisecond)
				obs = e.observer(t)
				continue
			}
			ents, err := obs.ReadDir(e.out)
			if err != nil {
				// Killed with the sessions in TestUploadConnectionKilled.
				obs = e.observer(t)
				continue
			}
			looks.Add(1)
			for _, fi := range ents {
				if fi.Name() != name {
					continue
				}
				seen.Store(true)
				if fi.Size() != int64(len(want)) {
					t.Errorf("payer saw %s with %d of %d bytes", name, fi.Size(), len(want))
				}
			}
		}
	}()
	return func() (int, bool) { close(done); wg.Wait(); return int(looks.Load()), seen.Load() }
}

func TestUploadAtomicAndOnce(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	local := t.TempDir()
	file, want := randomFile(t, local, "CLM-0001.837", 8<<20)
	stop := watchFinal(t, e, "CLM-0001.837", want)
	s, err := c.SendFile(bg, file)
	looks, seen := stop()
	if err != nil {
		t.Fatalf("send: %v\n%s", err, e.logText())
	}
	if looks < 3 {
		t.Fatalf("observer looked only %d times", looks)
	}
	if !seen {
		// The observer must have looked after the rename at least once.
		t.Log("observer did not catch the final name before the send returned")
	}
	got, err := os.ReadFile(filepath.Join(e.out, "CLM-0001.837"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("remote content differs (err %v)", err)
	}
	if s.Digest != hexDigest(want) || s.Already {
		t.Fatalf("sent %+v", s)
	}
	assertOnlyFiles(t, e.out, "CLM-0001.837")
	// Sent again: nothing moves.
	os.Remove(filepath.Join(e.out, "CLM-0001.837"))
	s, err = c.SendFile(bg, file)
	if err != nil || !s.Already {
		t.Fatalf("second send: %+v %v", s, err)
	}
	assertOnlyFiles(t, e.out)
	// No file name in the logs, only digest prefixes.
	if strings.Contains(e.logText(), "CLM-0001") {
		t.Fatalf("file name logged:\n%s", e.logText())
	}
	if !strings.Contains(e.logText(), s.Digest[:12]) {
		t.Fatalf("digest prefix not logged:\n%s", e.logText())
	}
}

func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("%s holds %v, want %v", dir, got, names)
	}
}

// A crash after the Renaming record: the server tells what happened.
func TestUploadRecoversAfterCrashAtRename(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		finalThere, tmpThere bool
		wantAlready          bool
	}{
		{"renamed", true, false, true},
		{"not renamed", false, true, false},
		{"renamed and collected", false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.client(t)
			file, want := randomFile(t, t.TempDir(), "B.837", 100<<10)
			d := hexDigest(want)
			rec := ledger.Record{Payer: "PAYER1", Dir: ledger.Out, Name: "B.837", Digest: d, Size: int64(len(want)), State: ledger.Renaming}
			if err := e.ledger.Put(bg, rec); err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-time.Hour)
			if tc.finalThere {
				os.WriteFile(filepath.Join(e.out, "B.837"), want, 0o644)
				os.Chtimes(filepath.Join(e.out, "B.837"), old, old)
			}
			if tc.tmpThere {
				os.WriteFile(filepath.Join(e.out, tempName("B.837", d)), want, 0o644)
			}
			s, err := c.SendFile(bg, file)
			if err != nil || s.Already != tc.wantAlready {
				t.Fatalf("send: %+v %v", s, err)
			}
			got, _, _ := e.ledger.Get(bg, rec)
			if got.State != ledger.Uploaded {
				t.Fatalf("ledger state %s", got.State)
			}
			if tc.finalThere {
				st, _ := os.Stat(filepath.Join(e.out, "B.837"))
				if !st.ModTime().Equal(old) {
					t.Fatal("the renamed file was sent again")
				}
			}
			if tc.finalThere || tc.tmpThere {
				assertOnlyFiles(t, e.out, "B.837")
				b, _ := os.ReadFile(filepath.Join(e.out, "B.837"))
				if !bytes.Equal(b, want) {
					t.Fatal("content differs")
				}
			} else {
				assertOnlyFiles(t, e.out)
			}
		})
	}
}

func TestUploadNeverReplaces(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	os.WriteFile(filepath.Join(e.out, "C.837"), []byte("someone else's"), 0o644)
	file, _ := randomFile(t, t.TempDir(), "C.837", 1000)
	start := time.Now()
	_, err := c.SendFile(bg, file)
	if !errors.Is(err, ErrExists) || !Permanent(err) {
		t.Fatalf("err %v, want ErrExists", err)
	}
	if time.Since(start) > 5*time.Second || strings.Contains(e.logText(), "retrying") {
		t.Fatalf("an existing name was retried:\n%s", e.logText())
	}
	if b, _ := os.ReadFile(filepath.Join(e.out, "C.837")); string(b) != "someone else's" {
		t.Fatal("existing file replaced")
	}
}

// The session serving an upload is killed mid-transfer: the upload is
// retried on a new connection; the payer never sees a partial file, and
// no temporary file or duplicate is left.
func TestUploadConnectionKilled(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	file, want := randomFile(t, t.TempDir(), "BIG.837", 32<<20)
	stop := watchFinal(t, e, "BIG.837", want)
	var killed atomic.Int64
	go func() {
		d := hexDigest(want)
		tmp := filepath.Join(e.out, tempName("BIG.837", d))
		for range 2000 {
			if st, err := os.Stat(tmp); err == nil && st.Size() > 1<<20 {
				killed.Store(int64(e.srv.KillSessions()))
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	s, err := c.SendFile(bg, file)
	stop()
	if err != nil {
		t.Fatalf("send: %v\n%s", err, e.logText())
	}
	if killed.Load() == 0 {
		t.Skip("the upload finished before the session could be killed")
	}
	if !strings.Contains(e.logText(), "retrying") {
		t.Fatalf("no retry logged:\n%s", e.logText())
	}
	got, _ := os.ReadFile(filepath.Join(e.out, "BIG.837"))
	if !bytes.Equal(got, want) || s.Already {
		t.Fatalf("content differs or %+v", s)
	}
	assertOnlyFiles(t, e.out, "BIG.837")
}

// A file put under the final name while the upload is under way (after
// any check could have looked) is still not replaced: OpenSSH's rename
// refuses a taken name (linkRename), and the upload fails as ErrExists.
// The ledger says Renaming by then, so the temporary file stays as the
// evidence that nothing was renamed: sent again while the other file is
// there, the upload is refused again; sent once it is gone, the upload
// lands (not taken for one the payer already collected).
func TestUploadNeverReplacesAFileThatAppearsMeanwhile(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	c.Hook = func(stage string) {
		if stage == "renaming" {
			os.WriteFile(filepath.Join(e.out, "D.837"), []byte("arrived meanwhile"), 0o644)
		}
	}
	file, want := randomFile(t, t.TempDir(), "D.837", 1000)
	_, err := c.SendFile(bg, file)
	if !errors.Is(err, ErrExists) || !Permanent(err) {
		t.Fatalf("err %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(filepath.Join(e.out, "D.837")); string(b) != "arrived meanwhile" {
		t.Fatal("a file that arrived during the upload was replaced")
	}
	tmp := tempName("D.837", hexDigest(want))
	assertOnlyFiles(t, e.out, tmp, "D.837")
	c.Hook = nil
	if _, err := c.SendFile(bg, file); !errors.Is(err, ErrExists) {
		t.Fatalf("second send: %v, want ErrExists", err)
	}
	os.Remove(filepath.Join(e.out, "D.837"))
	s, err := c.SendFile(bg, file)
	if err != nil || s.Already {
		t.Fatalf("send after the other file went: %+v %v", s, err)
	}
	if b, _ := os.ReadFile(filepath.Join(e.out, "D.837")); !bytes.Equal(b, want) {
		t.Fatal("the upload did not land once the name was free")
	}
	assertOnlyFiles(t, e.out, "D.837")
}

// A crash after the Renaming record, and both the temporary file and a
// file of the same size under the final name are there: a rename would
// have moved the temporary file away, so the final one is someone else's
// and the upload is refused, not taken as done.
func TestUploadRecoveryBothNamesThere(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	file, want := randomFile(t, t.TempDir(), "E.837", 4096)
	d := hexDigest(want)
	rec := ledger.Record{Payer: "PAYER1", Dir: ledger.Out, Name: "E.837", Digest: d, Size: int64(len(want)), State: ledger.Renaming}
	if err := e.ledger.Put(bg, rec); err != nil {
		t.Fatal(err)
	}
	other := bytes.Repeat([]byte("x"), len(want))
	os.WriteFile(filepath.Join(e.out, "E.837"), other, 0o644)
	os.WriteFile(filepath.Join(e.out, tempName("E.837", d)), want, 0o644)
	s, err := c.SendFile(bg, file)
	if !errors.Is(err, ErrExists) || s.Already {
		t.Fatalf("send: %+v %v, want ErrExists", s, err)
	}
	if b, _ := os.ReadFile(filepath.Join(e.out, "E.837")); !bytes.Equal(b, other) {
		t.Fatal("the other file was replaced")
	}
	// The temporary file stays, the evidence for the next attempt.
	assertOnlyFiles(t, e.out, tempName("E.837", d), "E.837")
}

// secondPass serves a's bytes to the first full pass over it (the digest)
// and b's afterwards (the upload): a file rewritten in between.
type secondPass struct {
	a, b  []byte
	mu    sync.Mutex
	first int64 // bytes served from a so far
}

func (s *secondPass) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	src := s.b
	if s.first < int64(len(s.a)) {
		src = s.a
		s.first += int64(len(p))
	}
	s.mu.Unlock()
	if off >= int64(len(src)) {
		return 0, io.EOF
	}
	n := copy(p, src[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// A file whose bytes change, that grows or that is cut short between the
// digest and the upload is never renamed into place under the digest of
// other bytes, in one write or streamed; once it is steady it is sent.
func TestUploadRefusesContentChangedMeanwhile(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	for _, size := range []int{20 << 10, 3 << 20} {
		a := make([]byte, size)
		rand.Read(a)
		b := bytes.Clone(a)
		b[size/2] ^= 0xff
		name := fmt.Sprintf("CHANGED-%d.837", size)
		_, err := c.send(bg, name, &secondPass{a: a, b: b}, int64(size), true)
		if !errors.Is(err, errChanged) || !Permanent(err) {
			t.Fatalf("%d bytes: err %v, want errChanged", size, err)
		}
		assertOnlyFiles(t, e.out)
		// Appended to: the same first size bytes, and more after them.
		_, err = c.send(bg, name, &secondPass{a: a, b: append(bytes.Clone(a), "IEA*1*000000001~"...)}, int64(size), true)
		if !errors.Is(err, errChanged) {
			t.Fatalf("%d bytes, grown: err %v, want errChanged", size, err)
		}
		assertOnlyFiles(t, e.out)
		// Cut short.
		_, err = c.send(bg, name, &secondPass{a: a, b: a[:size-100]}, int64(size), true)
		if !errors.Is(err, errChanged) || !Permanent(err) {
			t.Fatalf("%d bytes, cut short: err %v, want errChanged", size, err)
		}
		assertOnlyFiles(t, e.out)
		// Steady content goes through, checked the same way.
		if _, err := c.send(bg, name, bytes.NewReader(b), int64(size), true); err != nil {
			t.Fatalf("%d bytes, steady: %v", size, err)
		}
		if got, _ := os.ReadFile(filepath.Join(e.out, name)); !bytes.Equal(got, b) {
			t.Fatalf("%d bytes: remote content differs", size)
		}
		os.Remove(filepath.Join(e.out, name))
	}
	// SendFile of a file past smallFile takes the checked, streamed path.
	file, want := randomFile(t, t.TempDir(), "BIG.837", smallFile+12345)
	if s, err := c.SendFile(bg, file); err != nil || s.Size != int64(len(want)) {
		t.Fatalf("big file: %+v %v", s, err)
	}
	if got, _ := os.ReadFile(filepath.Join(e.out, "BIG.837")); !bytes.Equal(got, want) {
		t.Fatal("big file: remote content differs")
	}
}
