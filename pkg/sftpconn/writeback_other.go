//go:build !linux

package sftpconn

import "os"

// writeBehind is a plain writer where sync_file_range does not exist.
type writeBehind struct{ f *os.File }

func (w *writeBehind) Write(b []byte) (int, error) { return w.f.Write(b) }

// inboxFile opens a named temporary file for a download in dir.
func inboxFile(dir string) (*os.File, func(dst string) error, func(), error) {
	return namedInboxFile(dir)
}
