package sftpconn

import (
	"os"

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
