package sftpconn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/claimgate/claimgate/pkg/ledger"
)

// Sent is the outcome of one upload.
type Sent struct {
	Name   string
	Digest string // SHA-256, hex
	Size   int64
	// Already: the ledger (or, after a crash mid-rename, the server)
	// showed the file was sent before; nothing was sent this time.
	Already bool
}

var (
	errSizeMismatch = errors.New("remote size differs from the bytes sent")
	errNotRegular   = errors.New("not a regular file")
	// errChanged is a local file whose bytes changed between the digest and
	// the upload: what the payer got would not be what the ledger names.
	errChanged = errors.New("the local file changed while it was being sent; send it again once it is complete")
	// ErrExists is a final remote name taken by a file claimgate did not
	// put there: it is never replaced.
	ErrExists = errors.New("a different file already has this name at the payer; not replaced")
)

// smallFile is the size up to which SendFile reads a file into memory
// once, so the bytes hashed are the bytes sent.
const smallFile = 1 << 20

// SendFile uploads a local file under its base name. A small file is read
// once; a larger one is read twice (digest, then upload), and the upload's
// bytes are hashed again on the way and the file's end checked: a file
// that changed or grew in between (a practice-management system still
// writing it) is not renamed into place.
func (c *Client) SendFile(ctx context.Context, file string) (Sent, error) {
	f, err := os.Open(file)
	if err != nil {
		return Sent{}, permanent(noPath(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Sent{}, permanent(noPath(err))
	}
	if !st.Mode().IsRegular() {
		return Sent{}, permanent(errNotRegular)
	}
	name := filepath.Base(file)
	if st.Size() <= smallFile {
		// One byte more than the stat said: a file that grew shows.
		data := make([]byte, st.Size()+1)
		n, err := io.ReadFull(f, data)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return Sent{}, permanent(fmt.Errorf("read: %w", noPath(err)))
		}
		if n <= int(st.Size()) {
			return c.send(ctx, name, bytes.NewReader(data[:n]), int64(n), false)
		}
		// It grew since the stat: sent by the checked path below.
		if st, err = f.Stat(); err != nil {
			return Sent{}, permanent(noPath(err))
		}
	}
	return c.send(ctx, name, f, st.Size(), true)
}

// Send uploads size bytes of content to OutboundDir/name, at most once
// per (payer, name, SHA-256) whatever crashes and retries happen. The
// bytes go to a temporary name, are synced (fsync@openssh.com where
// offered) and their remote size checked before a rename gives them the
// final name, so the payer never sees a partial file. The server's digest
// cannot be checked: OpenSSH offers no hash extension, so the size is the
// check. Transient failures are retried with backoff up to Attempts
// times; a refused host key or login is returned at once.
func (c *Client) Send(ctx context.Context, name string, content io.ReaderAt, size int64) (Sent, error) {
	return c.send(ctx, name, content, size, false)
}

// send is Send; verify hashes the bytes as they are uploaded and refuses
// the rename when they differ from the digest (content that may change).
func (c *Client) send(ctx context.Context, name string, content io.ReaderAt, size int64, verify bool) (Sent, error) {
	if err := CheckName(name); err != nil {
		return Sent{}, permanent(err)
	}
	h := sha256.New()
	if n, err := io.Copy(h, io.NewSectionReader(content, 0, size)); err != nil {
		return Sent{}, permanent(fmt.Errorf("read: %w", noPath(err)))
	} else if n != size {
		// Cut short since its size was taken.
		return Sent{}, permanent(errChanged)
	}
	digest := hex.EncodeToString(h.Sum(nil))
	s := Sent{Name: name, Digest: digest, Size: size}
	rec := ledger.Record{Payer: c.p.ID, Dir: ledger.Out, Name: name, Digest: digest, Size: size}
	got, ok, err := c.ledger.Get(ctx, rec)
	if err != nil {
		return s, err
	}
	if ok && got.State == ledger.Uploaded {
		s.Already = true
		return s, nil
	}
	c.sem <- struct{}{}
	defer func() { <-c.sem }()
	err = c.retry(ctx, c.p.Attempts, "upload", digest, func() error {
		already, err := c.upload(ctx, rec, content, ok && got.State == ledger.Renaming, verify)
		if already {
			s.Already = true
		}
		if err == nil {
			ok, got.State = true, ledger.Uploaded
		} else if errors.Is(err, errRenaming) {
			ok, got.State = true, ledger.Renaming
		}
		return err
	})
	if err != nil {
		return s, fmt.Errorf("payer %s: upload %s: %w", c.p.ID, short(digest), err)
	}
	c.log.Info("sftp uploaded", "sha256", short(digest), "size", size, "already", s.Already)
	return s, nil
}

// errRenaming marks a failure after the Renaming record was made.
var errRenaming = errors.New("rename pending")

// tempName is the upload's temporary name: hidden, per content and name.
func tempName(name, digest string) string {
	n := sha256.Sum256([]byte(name))
	return tempPrefix + digest[:16] + "-" + hex.EncodeToString(n[:4]) + ".part"
}

// upload makes one attempt. renaming says the ledger holds Renaming: an
// earlier attempt or process may have renamed already.
func (c *Client) upload(ctx context.Context, rec ledger.Record, content io.ReaderAt, renaming, verify bool) (already bool, err error) {
	cn, err := c.session(ctx)
	if err != nil {
		return false, err
	}
	defer c.observe("upload", time.Now(), &err)
	defer func() { c.drop(cn, err) }()
	final := path.Join(c.p.OutboundDir, rec.Name)
	tmp := path.Join(c.p.OutboundDir, tempName(rec.Name, rec.Digest))

	if renaming {
		finalSize, finalErr := c.statSize(ctx, cn, final)
		if finalErr != nil && !answered(finalErr) {
			return false, finalErr
		}
		// After a crash between the Renaming record and the Uploaded one,
		// the server tells whether the rename happened.
		tmpSize, tmpErr := c.statSize(ctx, cn, tmp)
		if tmpErr != nil && !answered(tmpErr) {
			return false, tmpErr
		}
		switch {
		case tmpErr == nil && finalErr == nil:
			// A rename moves the temporary file away: both there means
			// the final name was taken by someone else (a link rename
			// refused it). The temporary file stays: it is what tells a
			// later attempt that the rename never happened.
			return false, permanent(ErrExists)
		case finalErr == nil && finalSize == rec.Size:
			return true, c.record(ctx, rec, ledger.Uploaded)
		case tmpErr == nil && tmpSize == rec.Size && errors.Is(finalErr, os.ErrNotExist):
			return false, c.rename(ctx, cn, rec, tmp, final)
		case errors.Is(tmpErr, os.ErrNotExist) && errors.Is(finalErr, os.ErrNotExist):
			// Renamed, and the payer already took the file away.
			c.log.Info("sftp upload was renamed before a restart and has been collected by the payer", "sha256", short(rec.Digest))
			return true, c.record(ctx, rec, ledger.Uploaded)
		case finalErr == nil:
			return false, permanent(ErrExists)
		}
		// Anything else: send again under the temporary name.
	}
	// The final name must be free (a posix rename would replace a file):
	// asked on another session while the bytes travel. OpenSSH's rename
	// refuses a taken name itself (linkRename), so it is not asked there.
	finalCheck := make(chan error, 1)
	if cn.linkRename {
		finalCheck <- os.ErrNotExist
	} else {
		go func() {
			_, err := c.statSize(ctx, cn, final)
			finalCheck <- err
		}()
	}
	if err := c.record(ctx, rec, ledger.Uploading); err != nil {
		<-finalCheck
		return false, err
	}
	var progress atomic.Int64
	err = c.guard(ctx, cn, c.p.TransferTimeout, &progress, func() error {
		f, err := cn.sftp().OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
		if err != nil {
			return noPath(err)
		}
		var n int64
		if rec.Size <= int64(cn.packet) {
			// One write request: no worker goroutines, no packet buffer.
			buf := make([]byte, rec.Size)
			if _, err := content.ReadAt(buf, 0); err != nil && !(errors.Is(err, io.EOF) && rec.Size == 0) {
				f.Close()
				if verify && errors.Is(err, io.EOF) {
					return permanent(errChanged) // cut short meanwhile
				}
				return permanent(fmt.Errorf("read: %w", noPath(err)))
			}
			if sum := sha256.Sum256(buf); verify && changed(rec, sum[:], content) {
				f.Close()
				return permanent(errChanged)
			}
			var w int
			w, err = f.Write(buf)
			n = int64(w)
		} else {
			var src io.Reader = io.NewSectionReader(content, 0, rec.Size)
			h := sha256.New()
			if verify {
				src = io.TeeReader(src, h)
			}
			r := progressReader{src, &progress}
			chunks := int((rec.Size + int64(cn.packet) - 1) / int64(cn.packet))
			n, err = f.ReadFromWithConcurrency(r, chunks) // capped by the window
			if err == nil && verify && (n != rec.Size || changed(rec, h.Sum(nil), content)) {
				err = permanent(errChanged)
			}
		}
		if err == nil && n != rec.Size {
			err = errSizeMismatch
		}
		if err == nil && cn.fsync {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return noPath(err)
	})
	ferr := <-finalCheck
	if err == nil && ferr == nil {
		err = permanent(ErrExists)
	} else if err == nil && !answered(ferr) {
		err = ferr
	}
	if err != nil {
		c.cleanup(ctx, cn, tmp)
		return false, err
	}
	// Best effort: a write-only drop folder may refuse the stat.
	if sz, err := c.statSize(ctx, cn, tmp); err == nil && sz != rec.Size {
		c.cleanup(ctx, cn, tmp)
		return false, errSizeMismatch
	} else if err != nil && !answered(err) {
		return false, err
	}
	if err := c.record(ctx, rec, ledger.Renaming); err != nil {
		return false, err
	}
	return false, c.rename(ctx, cn, rec, tmp, final)
}

// changed reports whether the bytes sent (their SHA-256, sum) are not
// the ones rec names, or content holds more than rec.Size bytes by now:
// a file rewritten or appended to since its digest was taken.
func changed(rec ledger.Record, sum []byte, content io.ReaderAt) bool {
	if hex.EncodeToString(sum) != rec.Digest {
		return true
	}
	var one [1]byte
	n, _ := content.ReadAt(one[:], rec.Size)
	return n > 0
}

// rename gives the temporary file its final name and records Uploaded.
func (c *Client) rename(ctx context.Context, cn *conn, rec ledger.Record, tmp, final string) error {
	err := c.op(ctx, cn, func() error {
		if cn.posixRename && !cn.linkRename {
			return noPath(cn.sftp().PosixRename(tmp, final))
		}
		return noPath(cn.sftp().Rename(tmp, final))
	})
	if err != nil && cn.linkRename && answered(err) {
		// Refused: most likely the final name is taken. Asked only now,
		// after the fact, so an upload costs no check in the usual case.
		// The ledger already says Renaming (states never move back), so
		// the complete temporary file is left where it is: a later
		// attempt finds it beside the other file (ErrExists again), or
		// alone once that file is gone (renamed then), and never takes
		// the other file, or their absence, for this upload's.
		if _, ferr := c.statSize(ctx, cn, final); ferr == nil || errors.Is(ferr, errNotRegular) {
			return permanent(ErrExists)
		}
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errRenaming, err)
	}
	return c.record(ctx, rec, ledger.Uploaded)
}

func (c *Client) statSize(ctx context.Context, cn *conn, p string) (int64, error) {
	var size int64
	err := c.op(ctx, cn, func() error {
		st, err := cn.sftp().Stat(p)
		if err != nil {
			return noPath(err)
		}
		if !st.Mode().IsRegular() {
			return errNotRegular
		}
		size = st.Size()
		return nil
	})
	return size, err
}

// cleanup removes a failed upload's temporary file when the connection
// still works; otherwise the next attempt truncates it.
func (c *Client) cleanup(ctx context.Context, cn *conn, tmp string) {
	if cn.closed.Load() {
		return
	}
	c.op(ctx, cn, func() error { return cn.sftp().Remove(tmp) })
}

// durable reports the states that must be on disk before the next step:
// the rename waits for Renaming, the remote delete for HandedOn. Every
// other state is noted without waiting for an fsync, because a run after
// a crash that lost it recovers: Uploading decides nothing; a lost
// Uploaded leaves Renaming, whose recovery asks the server; a lost
// Downloaded means the remote file (removed only after HandedOn) is
// downloaded again; a lost RemoteRemoved leaves nothing to remove.
func durable(s ledger.State) bool { return s == ledger.Renaming || s == ledger.HandedOn }

// record puts a state in the ledger and calls the hook.
func (c *Client) record(ctx context.Context, rec ledger.Record, s ledger.State) error {
	rec.State = s
	put := c.ledger.Note
	if durable(s) {
		put = c.ledger.Put
	}
	if err := put(ctx, rec); err != nil {
		return permanent(err)
	}
	if c.Hook != nil {
		c.Hook(string(s))
	}
	return nil
}
