package bus

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/pipeline"
	"github.com/nats-io/nats.go/jetstream"
)

// FileOut is the message on claimgate.files.out.<payer> announcing an
// 837P file in the claimgate_edi object store, waiting for upload. Its
// message id is the digest, so announcing a file twice gives one message.
type FileOut struct {
	Name   string `json:"name"`   // object name (the file name at the payer)
	Payer  string `json:"payer"`  // payer id
	Digest string `json:"sha256"` // lower-case hex SHA-256
	Size   int64  `json:"size"`
	// Info holds the claim references: ISA13, GS06, ST02s and claim ids.
	Info assemble.FileInfo `json:"info"`
}

// metaFileOut is the object metadata key holding the FileOut message, so
// recovery can announce a stored file whose message was lost.
const metaFileOut = "claimgate-file-out"

// Output is a pipeline.Output on the claimgate_edi object store. A file
// is written to a temporary file in a local directory of the worker's
// own (Dir), then Publish stores it under its final name (refusing a
// name that is taken) and only then announces it on
// claimgate.files.out.<payer>; a crash between the two is repaired by
// the pipeline's journal replay, whose Published call announces the file
// again (the message id drops a repeat).
type Output struct {
	// Dir holds this worker's temporary files (they hold patient data:
	// mode 0700). Clean empties it.
	Dir string
	// BeforeAnnounce, when set, is called before every announcement of
	// a stored file (by Publish, and by Published when the journal
	// replay, of this worker or another, announces it again); an error
	// keeps the file unannounced (Publish returns it with the path, so
	// the journal record stays for the replay). The gateway applies the
	// claims' received and queued moves here, so they always precede the
	// file on claimgate.files.out. It must be idempotent.
	BeforeAnnounce func(ctx context.Context, fo *FileOut) error
	obs            jetstream.ObjectStore
	js             jetstream.JetStream
	names          jetstream.KeyValue // name claims, n.<name> in claimgate_journal

	crash func(step string) error // test hook
}

var _ pipeline.Output = (*Output)(nil)

// Output returns the worker's file output (Setup first). Temporary files
// go under the OS temp directory in claimgate-out-<worker>; set Dir to
// move them (before the first Create).
func (b *Bus) Output(ctx context.Context, worker string) (*Output, error) {
	obs, err := b.JS.ObjectStore(ctx, ObjectEDI)
	if err != nil {
		return nil, fmt.Errorf("bus: %s: %w", ObjectEDI, err)
	}
	names, err := b.JS.KeyValue(ctx, BucketJournal)
	if err != nil {
		return nil, fmt.Errorf("bus: %s: %w", BucketJournal, err)
	}
	return &Output{Dir: filepath.Join(os.TempDir(), "claimgate-out-"+Token(worker)), obs: obs, js: b.JS, names: names}, nil
}

// Create implements pipeline.Output.
func (o *Output) Create(context.Context) (pipeline.TempFile, error) {
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("bus: output: %w", err)
	}
	f, err := os.CreateTemp(o.Dir, pipeline.TempPrefix+"*.837")
	if err != nil {
		return nil, fmt.Errorf("bus: output: %w", err)
	}
	t := &objTemp{o: o, f: f, h: sha256.New()}
	t.w = bufio.NewWriterSize(io.MultiWriter(f, t.h), 256<<10)
	return t, nil
}

// objectName accepts a name or the path Publish returned.
func objectName(name string) string { return strings.TrimPrefix(name, ObjectEDI+"/") }

// Published implements pipeline.Output: the object exists with digest.
// It also announces the file again (a crash may have come between the
// store and the announcement; the message id drops a repeat).
func (o *Output) Published(ctx context.Context, name, digest string) (bool, error) {
	info, err := o.obs.GetInfo(ctx, objectName(name))
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("bus: output: %w", err)
	}
	if hexDigest(info.Digest) != digest {
		return false, nil
	}
	if m := info.Metadata[metaFileOut]; m != "" {
		var fo FileOut
		if err := json.Unmarshal([]byte(m), &fo); err != nil {
			return true, fmt.Errorf("bus: output: %s: damaged metadata: %w", info.Name, err)
		}
		if err := o.announce(ctx, &fo, []byte(m)); err != nil {
			return true, err
		}
	}
	return true, nil
}

// Clean implements pipeline.Output: it empties this worker's temporary
// directory (the object store holds no partial objects: an object is
// visible only once its last chunk and its metadata are stored).
func (o *Output) Clean(context.Context) error {
	m, err := filepath.Glob(filepath.Join(o.Dir, pipeline.TempPrefix+"*"))
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range m {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (o *Output) announce(ctx context.Context, fo *FileOut, data []byte) error {
	if o.BeforeAnnounce != nil {
		if err := o.BeforeAnnounce(ctx, fo); err != nil {
			return fmt.Errorf("bus: output: before announcing %s: %w", fo.Name, err)
		}
	}
	if _, err := o.js.Publish(ctx, FilesOutSubject(fo.Payer), data, jetstream.WithMsgID(fo.Digest)); err != nil {
		return fmt.Errorf("bus: output: announcing %s: %w", fo.Name, err)
	}
	return nil
}

// hexDigest turns the object store's "SHA-256=<base64url>" into hex.
func hexDigest(d string) string {
	b, err := base64.URLEncoding.DecodeString(strings.TrimPrefix(d, "SHA-256="))
	if err != nil {
		return ""
	}
	return hex.EncodeToString(b)
}

// objTemp is a temporary file of an Output.
type objTemp struct {
	o      *Output
	f      *os.File
	w      *bufio.Writer
	h      hash.Hash
	size   int64
	digest string
	info   *assemble.FileInfo
	closed bool
}

func (t *objTemp) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	t.size += int64(n)
	return n, err
}

func (t *objTemp) Name() string   { return t.f.Name() }
func (t *objTemp) Digest() string { return t.digest }

// Describe implements pipeline.Describer.
func (t *objTemp) Describe(fi assemble.FileInfo) { t.info = &fi }

// Close flushes the file. It is not fsynced: only the object store copy
// counts, and a crash before it discards the temporary file anyway.
func (t *objTemp) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	if err := t.w.Flush(); err != nil {
		return fmt.Errorf("bus: output: %w", err)
	}
	t.digest = hex.EncodeToString(t.h.Sum(nil))
	return nil
}

// Publish implements pipeline.TempFile: claim the name, store the object
// (never over an existing one), then announce it. An error with a non-empty path means
// the object is stored but not announced: the journal replay finishes it.
func (t *objTemp) Publish(ctx context.Context, name string) (string, error) {
	if !t.closed {
		return "", errors.New("bus: output: publish before close")
	}
	if t.info == nil || t.info.PayerID == "" {
		return "", errors.New("bus: output: the file's payer is unknown (the pipeline calls Describe)")
	}
	// Claim the name first (a create: of two writers racing for one
	// name exactly one gets it), so an object is never put over another
	// writer's. A claim holding our digest is our own earlier attempt.
	claim := "n." + Token(name)
	if _, err := t.o.names.Create(ctx, claim, []byte(t.digest)); err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return "", fmt.Errorf("bus: output: %w", err)
		}
		e, gerr := t.o.names.Get(ctx, claim)
		if gerr != nil || string(e.Value()) != t.digest {
			return "", fmt.Errorf("bus: output: %s/%s: %w", ObjectEDI, name, os.ErrExist)
		}
	}
	fo := FileOut{Name: name, Payer: t.info.PayerID, Digest: t.digest, Size: t.size, Info: *t.info}
	if info, err := t.o.obs.GetInfo(ctx, name); err == nil {
		if hexDigest(info.Digest) != t.digest {
			return "", fmt.Errorf("bus: output: %s/%s: %w", ObjectEDI, name, os.ErrExist)
		}
		// Stored by our earlier attempt: only the announcement may be
		// missing.
		msg, _ := json.Marshal(fo)
		t.f.Close()
		os.Remove(t.f.Name())
		return ObjectEDI + "/" + name, t.o.announce(ctx, &fo, msg)
	} else if !errors.Is(err, jetstream.ErrObjectNotFound) {
		return "", fmt.Errorf("bus: output: %w", err)
	}
	msg, err := json.Marshal(fo)
	if err != nil {
		return "", err
	}
	if _, err := t.f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("bus: output: %w", err)
	}
	info, err := t.o.obs.Put(ctx, jetstream.ObjectMeta{Name: name, Metadata: map[string]string{metaFileOut: string(msg)}}, t.f)
	if err != nil {
		return "", fmt.Errorf("bus: output: storing %s: %w", name, err)
	}
	path := ObjectEDI + "/" + name
	if hexDigest(info.Digest) != t.digest {
		return path, fmt.Errorf("bus: output: %s stored with digest %s, written %s", name, info.Digest, t.digest)
	}
	t.f.Close()
	os.Remove(t.f.Name())
	if t.o.crash != nil {
		if err := t.o.crash("stored"); err != nil {
			return path, err
		}
	}
	return path, t.o.announce(ctx, &fo, msg)
}

// Abort implements pipeline.TempFile.
func (t *objTemp) Abort() error {
	t.f.Close()
	if err := os.Remove(t.f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
