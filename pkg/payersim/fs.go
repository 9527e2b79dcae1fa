package payersim

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
)

// rootFS serves one directory tree over SFTP (pkg/sftp request server
// handlers). Every path is cleaned against "/" and joined to the root, and
// no component may be a symbolic link, so nothing outside the root can be
// reached. Clients may write only below a payer's folders (depth 2 and
// deeper: /PAYER/inbound/FILE); the root and the payer folders themselves
// are read-only, and the inbound and outbound folders cannot be removed or
// renamed.
type rootFS struct {
	root    string
	written func() // called when an upload handle is closed

	mu      sync.Mutex
	writing map[string]int // local paths with open write handles
}

func newRootFS(root string, written func()) *rootFS {
	return &rootFS{root: root, written: written, writing: map[string]int{}}
}

// handlers returns the pkg/sftp handlers.
func (f *rootFS) handlers() sftp.Handlers {
	return sftp.Handlers{FileGet: f, FilePut: f, FileCmd: f, FileList: f}
}

// busy reports whether a local path has an open upload handle.
func (f *rootFS) busy(local string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writing[local] > 0
}

// resolve maps a client path to a local one and its depth below the root
// (0 for the root, 1 for /PAYER, 2 for /PAYER/inbound ...).
func (f *rootFS) resolve(p string) (string, int, error) {
	clean := path.Clean("/" + p)
	if strings.ContainsRune(clean, 0) {
		return "", 0, sftp.ErrSSHFxBadMessage
	}
	rel := strings.TrimPrefix(clean, "/")
	local := f.root
	depth := 0
	if rel != "" {
		parts := strings.Split(rel, "/")
		depth = len(parts)
		for _, part := range parts {
			local = filepath.Join(local, part)
			fi, err := os.Lstat(local)
			if errors.Is(err, fs.ErrNotExist) {
				break // the rest does not exist: nothing to follow
			}
			if err != nil {
				return "", 0, mapErr(err)
			}
			if fi.Mode()&fs.ModeSymlink != 0 {
				return "", 0, sftp.ErrSSHFxPermissionDenied
			}
		}
		local = filepath.Join(f.root, filepath.FromSlash(rel))
	}
	return local, depth, nil
}

// writable resolves a path a client wants to create, change or remove.
func (f *rootFS) writable(p string, minDepth int) (string, error) {
	local, depth, err := f.resolve(p)
	if err != nil {
		return "", err
	}
	if depth < minDepth {
		return "", sftp.ErrSSHFxPermissionDenied
	}
	return local, nil
}

// mapErr turns a local error into an SFTP status without the server's
// own paths in the message.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return sftp.ErrSSHFxNoSuchFile
	case errors.Is(err, fs.ErrPermission):
		return sftp.ErrSSHFxPermissionDenied
	case errors.Is(err, io.EOF):
		return io.EOF
	}
	var se *sftp.StatusError
	if errors.As(err, &se) {
		return err
	}
	if errors.Is(err, sftp.ErrSSHFxPermissionDenied) || errors.Is(err, sftp.ErrSSHFxNoSuchFile) ||
		errors.Is(err, sftp.ErrSSHFxOpUnsupported) || errors.Is(err, sftp.ErrSSHFxFailure) || errors.Is(err, sftp.ErrSSHFxBadMessage) {
		return err
	}
	return sftp.ErrSSHFxFailure
}

// Fileread opens a file for reading.
func (f *rootFS) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	local, _, err := f.resolve(r.Filepath)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(local)
	if err != nil {
		return nil, mapErr(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, sftp.ErrSSHFxFailure
	}
	file, err := os.Open(local)
	if err != nil {
		return nil, mapErr(err)
	}
	return file, nil
}

// upload is an open write handle; closing it tells the watcher.
type upload struct {
	*os.File
	fs     *rootFS
	local  string
	once   sync.Once
	failed bool // the connection dropped with the handle open
}

// TransferError is called by the request server when the session ends
// with the handle still open (a dropped connection).
func (u *upload) TransferError(error) { u.failed = true }

func (u *upload) Close() error {
	err := u.File.Close()
	u.once.Do(func() {
		if u.failed && !ignored(filepath.Base(u.local)) {
			// A broken upload under a final name is hidden rather than
			// answered: the client will upload it again.
			os.Rename(u.local, filepath.Join(filepath.Dir(u.local), "."+filepath.Base(u.local)+".aborted"))
		}
		u.fs.mu.Lock()
		if u.fs.writing[u.local]--; u.fs.writing[u.local] <= 0 {
			delete(u.fs.writing, u.local)
		}
		u.fs.mu.Unlock()
		if u.fs.written != nil {
			u.fs.written()
		}
	})
	return mapErr(err)
}

func (f *rootFS) open(r *sftp.Request) (*upload, error) {
	local, err := f.writable(r.Filepath, 3)
	if err != nil {
		return nil, err
	}
	pf := r.Pflags()
	flags := os.O_WRONLY
	if pf.Read {
		flags = os.O_RDWR
	}
	if pf.Creat {
		flags |= os.O_CREATE
	}
	if pf.Trunc {
		flags |= os.O_TRUNC
	}
	if pf.Excl {
		flags |= os.O_EXCL
	}
	// O_APPEND is not used: the request server writes with WriteAt.
	f.mu.Lock()
	defer f.mu.Unlock()
	file, err := os.OpenFile(local, flags, 0o644)
	if err != nil {
		return nil, mapErr(err)
	}
	if fi, err := file.Stat(); err != nil || !fi.Mode().IsRegular() {
		file.Close()
		return nil, sftp.ErrSSHFxFailure
	}
	f.writing[local]++
	return &upload{File: file, fs: f, local: local}, nil
}

// Filewrite opens a file for writing with the client's flags (a careful
// client sends O_WRONLY|O_CREATE|O_TRUNC).
func (f *rootFS) Filewrite(r *sftp.Request) (io.WriterAt, error) { return f.open(r) }

// OpenFile opens a file for reading and writing.
func (f *rootFS) OpenFile(r *sftp.Request) (sftp.WriterAtReaderAt, error) { return f.open(r) }

// Filecmd runs Setstat, Rename, Rmdir, Mkdir and Remove; links are not
// supported.
func (f *rootFS) Filecmd(r *sftp.Request) error {
	switch r.Method {
	case "Setstat":
		local, err := f.writable(r.Filepath, 3)
		if err != nil {
			return err
		}
		return f.setstat(r, local)
	case "Rename":
		return f.rename(r, false)
	case "Mkdir":
		local, err := f.writable(r.Filepath, 3)
		if err != nil {
			return err
		}
		return mapErr(os.Mkdir(local, 0o755))
	case "Rmdir":
		local, err := f.writable(r.Filepath, 3)
		if err != nil {
			return err
		}
		fi, err := os.Lstat(local)
		if err != nil {
			return mapErr(err)
		}
		if !fi.IsDir() {
			return sftp.ErrSSHFxFailure
		}
		return mapErr(os.Remove(local))
	case "Remove":
		local, err := f.writable(r.Filepath, 3)
		if err != nil {
			return err
		}
		fi, err := os.Lstat(local)
		if err != nil {
			return mapErr(err)
		}
		if fi.IsDir() {
			return sftp.ErrSSHFxFailure
		}
		return mapErr(os.Remove(local))
	}
	return sftp.ErrSSHFxOpUnsupported
}

// PosixRename is posix-rename@openssh.com: replace the target atomically.
func (f *rootFS) PosixRename(r *sftp.Request) error { return f.rename(r, true) }

func (f *rootFS) rename(r *sftp.Request, replace bool) error {
	from, err := f.writable(r.Filepath, 3)
	if err != nil {
		return err
	}
	to, err := f.writable(r.Target, 3)
	if err != nil {
		return err
	}
	fi, err := os.Lstat(from)
	if err != nil {
		return mapErr(err)
	}
	defer func() {
		if f.written != nil {
			f.written()
		}
	}()
	if replace {
		if tfi, err := os.Lstat(to); err == nil && tfi.IsDir() != fi.IsDir() {
			return sftp.ErrSSHFxFailure
		}
		return mapErr(os.Rename(from, to))
	}
	// Plain SFTP rename never replaces an existing file: link then
	// unlink is atomic and fails when the target exists.
	if fi.Mode().IsRegular() {
		if err := os.Link(from, to); err != nil {
			return mapErr(err)
		}
		return mapErr(os.Remove(from))
	}
	if _, err := os.Lstat(to); err == nil {
		return sftp.ErrSSHFxFailure
	}
	return mapErr(os.Rename(from, to))
}

func (f *rootFS) setstat(r *sftp.Request, local string) error {
	af, attrs := r.AttrFlags(), r.Attributes()
	if af.Size {
		if err := os.Truncate(local, int64(attrs.Size)); err != nil {
			return mapErr(err)
		}
	}
	if af.Permissions {
		if err := os.Chmod(local, fs.FileMode(attrs.Mode)&0o755|0o600); err != nil {
			return mapErr(err)
		}
	}
	if af.Acmodtime {
		if err := os.Chtimes(local, time.Unix(int64(attrs.Atime), 0), time.Unix(int64(attrs.Mtime), 0)); err != nil {
			return mapErr(err)
		}
	}
	return nil // owner changes are ignored
}

type listing []fs.FileInfo

func (l listing) ListAt(out []fs.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(out, l[off:])
	if n < len(out) {
		return n, io.EOF
	}
	return n, nil
}

// Filelist answers List and Stat (following nothing: no symbolic links
// are served); Readlink is not supported.
func (f *rootFS) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	local, _, err := f.resolve(r.Filepath)
	if err != nil {
		return nil, err
	}
	switch r.Method {
	case "List":
		entries, err := os.ReadDir(local)
		if err != nil {
			return nil, mapErr(err)
		}
		out := make(listing, 0, len(entries))
		for _, e := range entries {
			if e.Type()&fs.ModeSymlink != 0 {
				continue
			}
			if fi, err := e.Info(); err == nil {
				out = append(out, fi)
			}
		}
		return out, nil
	case "Stat":
		fi, err := os.Lstat(local)
		if err != nil {
			return nil, mapErr(err)
		}
		return listing{fi}, nil
	}
	return nil, sftp.ErrSSHFxOpUnsupported
}

// Lstat is Stat: no symbolic links are served.
func (f *rootFS) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	r.Method = "Stat"
	return f.Filelist(r)
}
