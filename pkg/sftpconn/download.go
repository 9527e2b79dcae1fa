package sftpconn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/claimgate/claimgate/pkg/ledger"
)

// Delivery is one downloaded file handed on to the caller.
type Delivery struct {
	Payer      string
	Digest     string // SHA-256, hex
	Path       string // the content-addressed local copy (Inbox/<digest>)
	RemoteName string // untrusted: passed CheckName, but may hold claim ids
	Size       int64
}

// Handler takes a delivery. Once it returns nil the file is recorded as
// handed on and never handed on again; an error leaves it to the next
// Fetch.
type Handler func(ctx context.Context, d Delivery) error

// FetchResult counts what one Fetch did.
type FetchResult struct {
	HandedOn   int // deliveries the handler accepted
	Duplicates int // files whose content was handed on before (removed remotely, not handed on)
	Unsettled  int // files still changing, left for the next poll
	BadNames   int // files whose names were refused
	Vanished   int // files gone between listing and download
	Failed     int // files that failed after their attempts
}

// Fetch runs one collection round: deliveries pending from an earlier
// round are handed on, then InboundDir is listed twice SettleTime apart;
// files matching Collect whose size and modification time did not change
// are downloaded to a temporary local file, fsynced, checked against the
// listed size, stored as Inbox/<sha256> (never replacing a file), recorded
// in the ledger, handed on, and only then deleted or moved to ArchiveDir
// remotely. The first error of a failed file is returned; the other files
// are still done.
func (c *Client) Fetch(ctx context.Context, h Handler) (FetchResult, error) {
	var res FetchResult
	if c.Inbox == "" {
		return res, errors.New("sftpconn: Client.Inbox is not set")
	}
	if err := os.MkdirAll(c.Inbox, 0o700); err != nil {
		return res, fmt.Errorf("inbox: %w", noPath(err))
	}
	var firstErr error
	pending, err := c.ledger.Pending(ctx, c.p.ID)
	if err != nil {
		return res, err
	}
	for _, r := range pending {
		d := Delivery{Payer: c.p.ID, Digest: r.Digest, Path: filepath.Join(c.Inbox, r.Digest), RemoteName: r.Name, Size: r.Size}
		if _, err := os.Stat(d.Path); err != nil {
			continue // stored in another inbox, or by another process
		}
		if err := c.handOn(ctx, h, r, d); err != nil {
			res.Failed++
			firstErr = cmp(firstErr, err)
			continue
		}
		res.HandedOn++
	}
	var files []fs.FileInfo
	err = c.retry(ctx, c.p.Attempts, "list", "", func() error {
		var err error
		files, err = c.stable(ctx, &res)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("payer %s: list inbound folder: %w", c.p.ID, err)
	}
	if c.Hook != nil && len(files) > 0 {
		c.Hook("listed")
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, fi := range files {
		c.sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-c.sem; wg.Done() }()
			outcome, err := c.fetchFile(ctx, h, fi)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				res.Failed++
				firstErr = cmp(firstErr, err)
			case outcome == outVanished:
				res.Vanished++
			case outcome == outDuplicate:
				res.Duplicates++
			default:
				res.HandedOn++
			}
		}()
	}
	wg.Wait()
	return res, firstErr
}

func cmp(first, err error) error {
	if first == nil {
		return err
	}
	return first
}

// stable lists InboundDir twice, SettleTime apart, and returns the
// collectable files whose size and modification time held still.
func (c *Client) stable(ctx context.Context, res *FetchResult) ([]fs.FileInfo, error) {
	list := func() (map[string]fs.FileInfo, error) {
		cn, err := c.session(ctx)
		if err != nil {
			return nil, err
		}
		var ents []fs.FileInfo
		defer c.observe("list", time.Now(), &err)
		err = c.op(ctx, cn, func() error {
			var err error
			ents, err = cn.sftp().ReadDirContext(ctx, c.p.InboundDir)
			return noPath(err)
		})
		c.drop(cn, err)
		if err != nil {
			return nil, err
		}
		m := make(map[string]fs.FileInfo, len(ents))
		bad := 0
		for _, fi := range ents {
			name := fi.Name()
			if strings.HasPrefix(name, tempPrefix) || !fi.Mode().IsRegular() {
				continue
			}
			if err := CheckName(name); err != nil {
				bad++
				c.log.Warn("sftp remote file skipped: unsafe name", "reason", err.Error())
				continue
			}
			if ok, _ := path.Match(c.p.Collect, name); !ok {
				continue
			}
			m[name] = fi
		}
		res.BadNames = bad
		return m, nil
	}
	first, err := list()
	if err != nil {
		return nil, err
	}
	if len(first) == 0 {
		return nil, nil
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(c.p.SettleTime):
	}
	second, err := list()
	if err != nil {
		return nil, err
	}
	var out []fs.FileInfo
	res.Unsettled = 0
	for name, b := range second {
		a, ok := first[name]
		if !ok || a.Size() != b.Size() || !a.ModTime().Equal(b.ModTime()) {
			res.Unsettled++
			continue
		}
		out = append(out, b)
	}
	return out, nil
}

type outcome int

const (
	outHandedOn outcome = iota
	outDuplicate
	outVanished
)

// fetchFile downloads, stores, records, hands on and removes one file.
func (c *Client) fetchFile(ctx context.Context, h Handler, fi fs.FileInfo) (outcome, error) {
	var out outcome
	var d Delivery
	err := c.retry(ctx, c.p.Attempts, "download", "", func() error {
		var err error
		d, err = c.download(ctx, fi)
		if errors.Is(err, os.ErrNotExist) {
			out = outVanished
			return nil
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("payer %s: download: %w", c.p.ID, err)
	}
	if out == outVanished {
		c.log.Info("sftp remote file vanished before download")
		return out, nil
	}
	rec := ledger.Record{Payer: c.p.ID, Dir: ledger.In, Name: d.RemoteName, Digest: d.Digest, Size: d.Size}
	got, seen, err := c.ledger.Get(ctx, rec)
	if err != nil {
		return 0, err
	}
	if seen && got.State != ledger.Downloaded {
		// Handed on before (maybe under another name): never again.
		out = outDuplicate
		c.log.Info("sftp download already handed on; removing the remote copy", "sha256", short(d.Digest))
	} else {
		if !seen {
			if err := c.record(ctx, rec, ledger.Downloaded); err != nil {
				return 0, err
			}
		}
		if err := c.handOn(ctx, h, rec, d); err != nil {
			return 0, err
		}
	}
	err = c.retry(ctx, c.p.Attempts, "remote remove", d.Digest, func() error { return c.removeRemote(ctx, fi.Name(), d.Digest) })
	if err != nil {
		return out, fmt.Errorf("payer %s: remove collected file %s remotely: %w", c.p.ID, short(d.Digest), err)
	}
	if err := c.record(ctx, rec, ledger.RemoteRemoved); err != nil {
		return out, err
	}
	return out, nil
}

// handOn calls the handler and records HandedOn when it accepts.
func (c *Client) handOn(ctx context.Context, h Handler, rec ledger.Record, d Delivery) error {
	if err := h(ctx, d); err != nil {
		return fmt.Errorf("payer %s: hand on %s: %w", c.p.ID, short(d.Digest), err)
	}
	if err := c.record(ctx, rec, ledger.HandedOn); err != nil {
		return err
	}
	c.log.Info("sftp download handed on", "sha256", short(d.Digest), "size", d.Size)
	return nil
}

// download makes one attempt at fetching fi into the inbox.
func (c *Client) download(ctx context.Context, fi fs.FileInfo) (d Delivery, err error) {
	cn, err := c.session(ctx)
	if err != nil {
		return d, err
	}
	defer c.observe("download", time.Now(), &err)
	defer func() { c.drop(cn, err) }()
	tmp, publish, done, err := inboxFile(c.Inbox)
	if err != nil {
		return d, permanent(fmt.Errorf("inbox: %w", noPath(err)))
	}
	defer done()
	h := sha256.New()
	var n int64
	var progress atomic.Int64
	err = c.guard(ctx, cn, c.p.TransferTimeout, &progress, func() error {
		f, err := cn.sftp().Open(path.Join(c.p.InboundDir, fi.Name()))
		if err != nil {
			return noPath(err)
		}
		defer f.Close()
		w := progressWriter{io.MultiWriter(&writeBehind{f: tmp}, h), &progress}
		if fi.Size() < int64(cn.packet) {
			// Small file: one read (and one that finds the end) instead of
			// WriteTo's fstat and read workers.
			buf := make([]byte, fi.Size()+1)
			m, err := io.ReadFull(f, buf)
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
				return noPath(err)
			}
			if _, err := w.Write(buf[:m]); err != nil {
				return permanent(fmt.Errorf("inbox: %w", noPath(err)))
			}
			n = int64(m)
			return nil
		}
		n, err = f.WriteTo(w)
		return noPath(err)
	})
	if err != nil {
		return d, err
	}
	if n != fi.Size() {
		return d, fmt.Errorf("got %d bytes of a %d-byte file: %w", n, fi.Size(), errSizeMismatch)
	}
	if err := tmp.Sync(); err != nil {
		return d, permanent(fmt.Errorf("inbox: %w", noPath(err)))
	}
	digest := hex.EncodeToString(h.Sum(nil))
	dst := filepath.Join(c.Inbox, digest)
	// Content-addressed: an existing file of that name has these bytes.
	if err := publish(dst); err != nil && !errors.Is(err, os.ErrExist) {
		return d, permanent(fmt.Errorf("inbox: %w", noPath(err)))
	}
	if err := c.inboxSync.sync(c.Inbox); err != nil {
		return d, permanent(err)
	}
	return Delivery{Payer: c.p.ID, Digest: digest, Path: dst, RemoteName: fi.Name(), Size: n}, nil
}

// removeRemote deletes a collected file, or moves it to ArchiveDir
// without replacing anything there (a taken name gets the digest
// prefix appended).
func (c *Client) removeRemote(ctx context.Context, name, digest string) (err error) {
	cn, err := c.session(ctx)
	if err != nil {
		return err
	}
	defer c.observe("remove", time.Now(), &err)
	defer func() { c.drop(cn, err) }()
	src := path.Join(c.p.InboundDir, name)
	return c.op(ctx, cn, func() error {
		if c.p.ArchiveDir == "" {
			err := cn.sftp().Remove(src)
			if errors.Is(err, os.ErrNotExist) {
				return nil // removed by an earlier attempt whose answer was lost
			}
			return noPath(err)
		}
		dst := path.Join(c.p.ArchiveDir, name)
		if _, err := cn.sftp().Lstat(dst); err == nil {
			dst += "." + short(digest)
		}
		// Plain rename: OpenSSH refuses to replace an existing file.
		err := cn.sftp().Rename(src, dst)
		if errors.Is(err, os.ErrNotExist) {
			if _, serr := cn.sftp().Lstat(src); errors.Is(serr, os.ErrNotExist) {
				return nil
			}
		}
		return noPath(err)
	})
}

// namedInboxFile is a temporary file with a name, which done closes and
// removes; publish hard-links it to its final name.
func namedInboxFile(dir string) (f *os.File, publish func(dst string) error, done func(), err error) {
	f, err = os.CreateTemp(dir, ".part-*")
	if err != nil {
		return nil, nil, nil, err
	}
	return f, func(dst string) error { return os.Link(f.Name(), dst) }, func() { f.Close(); os.Remove(f.Name()) }, nil
}

// dirSyncer fsyncs a directory for many goroutines at once: each caller
// returns once an fsync that started after its call has finished, so the
// links of concurrent downloads share one fsync (group commit).
type dirSyncer struct {
	mu      sync.Mutex // one fsync at a time
	calls   atomic.Int64
	covered int64 // calls made before the last finished fsync started
}

func (d *dirSyncer) sync(dir string) error {
	me := d.calls.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.covered >= me {
		return nil
	}
	upto := d.calls.Load()
	if err := syncDir(dir); err != nil {
		return err
	}
	d.covered = upto
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return noPath(err)
	}
	defer d.Close()
	return noPath(d.Sync())
}
