package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
)

// BatchMsg is the body of a message on claimgate.batches.in: the batch
// itself is in the object store claimgate_edi under its digest.
type BatchMsg struct {
	Digest string `json:"digest"` // SHA-256, hex; also the object name and message id
	Name   string `json:"name"`   // the submitter's file name (may hold claim ids: never logged)
	Size   int64  `json:"size"`
}

// FileOutMsg is the body of a message on claimgate.files.out.<payer>:
// bus.FileOut (the 837P file is the object named Name, with SHA-256
// Digest), or, from an earlier version, the same without "sha256" and
// with the digest (also the object's name) under "digest".
type FileOutMsg struct {
	bus.FileOut
	Legacy string `json:"digest,omitempty"`
	// Object names the object holding the file (set by parseFileOut).
	Object string `json:"-"`
}

// parseFileOut reads a files-out message of either form; ok is false for
// one that names no file.
func parseFileOut(data []byte) (m FileOutMsg, ok bool) {
	if json.Unmarshal(data, &m) != nil {
		return m, false
	}
	m.Object = m.Name
	if m.Digest == "" {
		m.Digest, m.Object = m.Legacy, m.Legacy
	}
	if m.Payer == "" {
		m.Payer = m.Info.PayerID
	}
	return m, m.Digest != "" && m.Name != "" && m.Object != ""
}

// FileInMsg is the body of a message on claimgate.files.in.<payer>: a
// response file downloaded from a payer, in the object store.
type FileInMsg struct {
	Payer  string `json:"payer"`
	Digest string `json:"digest"`
	Name   string `json:"name"` // remote name (untrusted, may hold claim ids)
	Size   int64  `json:"size"`
}

// putObject stores the content of f (size bytes, hex SHA-256 digest) in
// the object store under its digest, unless it is there already.
func putObject(ctx context.Context, obj jetstream.ObjectStore, digest string, f io.Reader) error {
	if info, err := obj.GetInfo(ctx, digest); err == nil && !info.Deleted {
		return nil
	} else if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("object store: %w", err)
	}
	if _, err := obj.Put(ctx, jetstream.ObjectMeta{Name: digest}, f); err != nil {
		return fmt.Errorf("object store: %w", err)
	}
	return nil
}

// publishOnce publishes body on subject with the message id id, so a
// repeat within the stream's duplicate window creates nothing; it
// reports whether the stream already had it.
func publishOnce(ctx context.Context, js jetstream.JetStream, subject, id string, body any) (bool, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return false, err
	}
	m := nats.NewMsg(subject)
	m.Data = data
	ack, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(id))
	if err != nil {
		return false, fmt.Errorf("publish %s: %w", subject, err)
	}
	return ack.Duplicate, nil
}

// hashFile returns the hex SHA-256 and size of an open file, leaving it
// positioned at its start.
func hashFile(f *os.File) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Submit hands a batch file to the gateway: its bytes go into the object
// store and a message referencing them onto the batch stream, with the
// digest as message id, so sending the same batch again creates nothing
// (duplicate reports it). The returned id is the batch's digest.
func Submit(ctx context.Context, b *bus.Bus, path, name string) (id string, duplicate bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	return submitFile(ctx, b.JS, f, name)
}

// SubmitReader hands the batch read from r to the gateway as Submit does
// a file. digest is the hex SHA-256 of what r yields when the caller
// knows it (the bytes then stream straight into the object store and
// are checked against it); "" spools r to an unlinked temporary file
// first to compute it. name is the submitter's name for the batch (never
// logged). The returned id is the digest; duplicate reports a batch
// submitted before.
func SubmitReader(ctx context.Context, b *bus.Bus, r io.Reader, name, digest string) (id string, duplicate bool, err error) {
	if digest == "" {
		f, err := os.CreateTemp("", ".claimgate-submit-*")
		if err != nil {
			return "", false, err
		}
		os.Remove(f.Name()) // gone when closed, even after a crash
		defer f.Close()
		if _, err := io.Copy(f, r); err != nil {
			return "", false, fmt.Errorf("reading the batch: %w", err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return "", false, err
		}
		return submitFile(ctx, b.JS, f, name)
	}
	return submitBody(ctx, b.JS, r, name, digest, -1)
}

func submitFile(ctx context.Context, js jetstream.JetStream, f *os.File, name string) (string, bool, error) {
	digest, size, err := hashFile(f)
	if err != nil {
		return "", false, fmt.Errorf("reading the batch: %w", err)
	}
	return submitBody(ctx, js, f, name, digest, size)
}

// BatchTaken is the value kept under a batch's digest in BucketBatches.
type BatchTaken struct {
	ReceivedAt time.Time `json:"received_at"`
}

// submitBody submits the batch read from r whose digest is known; size
// -1 means unknown: the bytes are then counted and hashed on the way
// into the object store, and an object whose content does not match the
// digest is removed again.
func submitBody(ctx context.Context, js jetstream.JetStream, r io.Reader, name, digest string, size int64) (string, bool, error) {
	obj, err := js.ObjectStore(ctx, bus.ObjectEDI)
	if err != nil {
		return "", false, fmt.Errorf("object store (is the gateway set up?): %w", err)
	}
	// The stream forgets the ids of messages a work queue removed once its
	// server restarts, so batches taken are also kept in a bucket.
	taken, err := js.KeyValue(ctx, BucketBatches)
	if err != nil {
		return "", false, fmt.Errorf("bucket %s (is the gateway set up?): %w", BucketBatches, err)
	}
	if _, err := taken.Get(ctx, digest); err == nil {
		return digest, true, nil
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", false, fmt.Errorf("bucket %s: %w", BucketBatches, err)
	}
	if size < 0 {
		// The object's name is its digest: one there already is this
		// batch; a new one is checked against the digest as it streams.
		if info, err := obj.GetInfo(ctx, digest); err == nil && !info.Deleted {
			size = int64(info.Size)
		} else if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			return "", false, fmt.Errorf("object store: %w", err)
		} else {
			hr := &hashReader{r: r, h: sha256.New()}
			if _, err := obj.Put(ctx, jetstream.ObjectMeta{Name: digest}, hr); err != nil {
				return "", false, fmt.Errorf("object store: %w", err)
			}
			if got := hex.EncodeToString(hr.h.Sum(nil)); got != digest {
				obj.Delete(ctx, digest)
				return "", false, fmt.Errorf("the batch's SHA-256 is %s, not the %s given", short(got), short(digest))
			}
			size = hr.n
		}
	} else if err := putObject(ctx, obj, digest, r); err != nil {
		return "", false, err
	}
	dup, err := publishOnce(ctx, js, bus.SubjectBatches, "batch/"+digest, BatchMsg{Digest: digest, Name: name, Size: size})
	if err != nil {
		return "", false, err
	}
	// A crash before this line lets a later submit send the batch again:
	// its claims are then refused as duplicates, nothing is sent twice.
	val, _ := json.Marshal(BatchTaken{ReceivedAt: time.Now().UTC()})
	if _, err := taken.Put(ctx, digest, val); err != nil {
		return digest, dup, fmt.Errorf("bucket %s: %w", BucketBatches, err)
	}
	return digest, dup, nil
}

// hashReader hashes and counts what is read through it.
type hashReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

// fetchObject copies an object into an unlinked temporary file in dir
// and returns it positioned at its start. Reading the object store
// straight into slow work (a pipeline applying claim events) lets its
// delivery overrun the client's buffer and fail mid-file; a local copy
// is read at any pace, in bounded memory.
func fetchObject(ctx context.Context, obj jetstream.ObjectStore, digest, dir string) (*os.File, error) {
	res, err := obj.Get(ctx, digest)
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", short(digest), err)
	}
	defer res.Close()
	f, err := os.CreateTemp(dir, ".object-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name()) // gone when closed, even after a crash
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), res); err != nil {
		f.Close()
		return nil, fmt.Errorf("object %s: %w", short(digest), err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != digest {
		f.Close()
		return nil, fmt.Errorf("object %s: content digest %s differs", short(digest), short(got))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
