// Package ledger records what became of each file exchanged with a payer,
// so that nothing is sent or handed on twice, even across crashes and
// retries. Outbound files are keyed by payer, file name and SHA-256;
// inbound files by payer and SHA-256 alone, so the same content seen again
// under another name is recognised. The Ledger interface has a file-backed
// implementation here (Dir); the gateway backs it with JetStream.
package ledger

import (
	"context"
	"time"
)

// Direction is which way a file went.
type Direction string

// Directions.
const (
	Out Direction = "out" // uploaded to the payer
	In  Direction = "in"  // downloaded from the payer
)

// State is how far a file got. States only move forward.
type State string

// Outbound states.
const (
	// Uploading: the transfer to a temporary remote name started.
	Uploading State = "uploading"
	// Renaming: the temporary file is complete and verified and is about
	// to be renamed to its final name; after a crash the remote side
	// decides whether the rename happened.
	Renaming State = "renaming"
	// Uploaded: the file is under its final name at the payer.
	Uploaded State = "uploaded"
)

// Inbound states.
const (
	// Downloaded: stored durably under its digest in the local inbox.
	Downloaded State = "downloaded"
	// HandedOn: the consumer accepted it; it is never handed on again.
	HandedOn State = "handed-on"
	// RemoteRemoved: deleted or archived on the payer's server.
	RemoteRemoved State = "remote-removed"
)

// rank orders states so a record never moves backwards.
func (s State) rank() int {
	switch s {
	case Uploading, Downloaded:
		return 1
	case Renaming, HandedOn:
		return 2
	case Uploaded, RemoteRemoved:
		return 3
	}
	return 0
}

// Record is the state of one file.
type Record struct {
	Payer  string    `json:"payer"`
	Dir    Direction `json:"dir"`
	Name   string    `json:"name"`   // the remote file name
	Digest string    `json:"sha256"` // lower-case hex SHA-256 of the content
	Size   int64     `json:"size"`
	State  State     `json:"state"`
	Time   time.Time `json:"time"`
}

// Key is what identifies a file: payer, direction and digest, plus the
// name for outbound files (an inbound file is the same file whatever the
// payer named it).
func (r *Record) Key() string {
	if r.Dir == In {
		return r.Payer + "\x00in\x00" + r.Digest
	}
	return r.Payer + "\x00out\x00" + r.Name + "\x00" + r.Digest
}

// Ledger is the durable record of exchanged files. Implementations are
// safe for concurrent use.
type Ledger interface {
	// Get returns the record with r's key (payer, direction, digest and,
	// outbound, name), and whether there is one.
	Get(ctx context.Context, r Record) (Record, bool, error)
	// Put stores r; it returns only once r (and every record noted
	// before it) is durable. A state that would move a record backwards
	// is ignored.
	Put(ctx context.Context, r Record) error
	// Note stores r like Put without waiting for it to be durable: a
	// crash may lose it until a later Put returns. For states whose loss
	// the next run recovers from (see pkg/sftpconn).
	Note(ctx context.Context, r Record) error
	// Pending returns the payer's inbound records that were downloaded but
	// not yet handed on.
	Pending(ctx context.Context, payer string) ([]Record, error)
}
