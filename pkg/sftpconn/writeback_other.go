//go:build !linux

package sftpconn

import "os"

// writeBehind is a plain writer where sync_file_range does not exist.
type writeBehind struct{ f *os.File }

func (w *writeBehind) Write(b []byte) (int, error) { return w.f.Write(b) }
