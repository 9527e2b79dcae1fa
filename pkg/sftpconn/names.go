package sftpconn

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// MaxNameLen is the longest remote file name accepted, in bytes.
const MaxNameLen = 255

// tempPrefix starts the temporary names of uploads in progress; such
// files are never collected.
const tempPrefix = ".claimgate-"

// Reasons a remote file name is refused.
var (
	ErrNameEmpty     = errors.New("empty file name")
	ErrNameDot       = errors.New(`file name is "." or ".."`)
	ErrNameLong      = errors.New("file name longer than 255 bytes")
	ErrNameSeparator = errors.New("file name contains a path separator")
	ErrNameControl   = errors.New("file name contains a NUL or control byte")
	ErrNameEncoding  = errors.New("file name is not valid UTF-8")
)

// CheckName reports whether a file name is safe to use as one path
// element, locally and remotely. Remote names are untrusted input: a name
// that could climb out of a folder (a separator, "..", an absolute path),
// hide in a terminal (control bytes), or overflow a file system is refused
// rather than cleaned, so two different remote files never map to one
// local name. The error never quotes the name.
func CheckName(name string) error {
	switch {
	case name == "":
		return ErrNameEmpty
	case name == "." || name == "..":
		return ErrNameDot
	case len(name) > MaxNameLen:
		return ErrNameLong
	case strings.ContainsAny(name, `/\`):
		return ErrNameSeparator
	case !utf8.ValidString(name):
		return ErrNameEncoding
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return ErrNameControl
		}
	}
	return nil
}
