package sftpconn

import (
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// writeBehind writes to f and asks the kernel to start writing each
// completed 8 MiB to disk at once, so the fsync at the end of a large
// download waits for the last stretch only, not for the whole file.
type writeBehind struct {
	f       *os.File
	off     int64 // bytes written
	flushed int64 // bytes handed to writeback
}

const writeBehindStep = 8 << 20

func (w *writeBehind) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	w.off += int64(n)
	if w.off-w.flushed >= writeBehindStep {
		// Best effort: an error here only loses the head start.
		unix.SyncFileRange(int(w.f.Fd()), w.flushed, w.off-w.flushed, unix.SYNC_FILE_RANGE_WRITE)
		w.flushed = w.off
	}
	return n, err
}

// inboxFile opens a file for a download in dir: an unnamed one
// (O_TMPFILE) where the file system supports it, so a crash leaves no
// temporary name behind and no name is created and removed per file;
// otherwise a named temporary file. publish links it to dst, failing with
// os.ErrExist rather than replace; done closes (and removes) it.
func inboxFile(dir string) (f *os.File, publish func(dst string) error, done func(), err error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return namedInboxFile(dir)
	}
	f = os.NewFile(uintptr(fd), filepath.Join(dir, "(download)"))
	return f, func(dst string) error {
		err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), unix.AT_FDCWD, dst, unix.AT_SYMLINK_FOLLOW)
		if err != nil {
			return &os.LinkError{Op: "link", Old: f.Name(), New: dst, Err: err}
		}
		return nil
	}, func() { f.Close() }, nil
}
