package api

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/gateway"
	"github.com/claimgate/claimgate/pkg/ingest"
)

// BatchAccepted is the answer to POST /v1/batches.
type BatchAccepted struct {
	BatchID   string `json:"batch_id"`
	Location  string `json:"location"`
	Duplicate bool   `json:"duplicate"`
}

// mediaFormats maps the accepted Content-Types to batch formats.
var mediaFormats = map[string]ingest.Format{
	"application/json":    ingest.FormatJSON,
	"text/csv":            ingest.FormatCSV,
	"application/edi-x12": ingest.FormatX12,
}

// maxIdempotencyKey bounds an Idempotency-Key header.
const maxIdempotencyKey = 255

// idemKey is the BucketBatches key of an Idempotency-Key (hashed: the
// key is the client's and may be anything).
func idemKey(k string) string {
	h := sha256.Sum256([]byte("claimgate/idempotency/v1\x00" + k))
	return "idem." + hex.EncodeToString(h[:])
}

func (s *Server) postBatch(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	want, ok := mediaFormats[mt]
	if err != nil || !ok {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type",
			"Content-Type must be application/json, text/csv or application/edi-x12", "Content-Type")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		writeError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("Idempotency-Key is longer than %d bytes", maxIdempotencyKey), "Idempotency-Key")
		return
	}
	h, err := s.stores(ctx)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	f, digest, err := s.spool(w, r)
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the body is larger than %d bytes", s.cfg.MaxBodyBytes), "")
			return
		}
		writeError(w, http.StatusBadRequest, "invalid_request", "the body could not be read", "")
		return
	}
	defer f.Close()
	info(r).batch = digest
	if key != "" {
		if e, err := h.batches.Get(ctx, idemKey(key)); err == nil {
			if string(e.Value()) != digest {
				writeError(w, http.StatusConflict, "idempotency_key_reused", "this Idempotency-Key was used for a different body", "Idempotency-Key")
				return
			}
			s.accepted(w, digest, true)
			return
		} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
			s.internal(w, r, err)
			return
		}
	}
	if code, msg := checkBatch(f, want); code != "" {
		writeError(w, http.StatusBadRequest, code, msg, "")
		return
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		s.internal(w, r, err)
		return
	}
	id, dup, err := gateway.SubmitReader(ctx, s.cfg.Bus, f, "http."+want.String(), digest)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if key != "" {
		// A crash before this leaves a re-post with the key a duplicate
		// by content: the same id.
		if _, err := h.batches.Create(ctx, idemKey(key), []byte(id)); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			s.internal(w, r, err)
			return
		}
	}
	s.accepted(w, id, dup)
}

func (s *Server) accepted(w http.ResponseWriter, id string, dup bool) {
	loc := "/v1/batches/" + id
	w.Header().Set("Location", loc)
	writeJSON(w, http.StatusAccepted, BatchAccepted{BatchID: id, Location: loc, Duplicate: dup})
}

// spool copies the body (at most MaxBodyBytes) into an unlinked
// temporary file and returns it with its SHA-256.
func (s *Server) spool(w http.ResponseWriter, r *http.Request) (*os.File, string, error) {
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	f, err := os.CreateTemp(s.cfg.TempDir, ".claimgate-http-*")
	if err != nil {
		return nil, "", err
	}
	os.Remove(f.Name()) // gone when closed, even after a crash
	hs := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, hs), body); err != nil {
		f.Close()
		return nil, "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, "", err
	}
	return f, hex.EncodeToString(hs.Sum(nil)), nil
}

// checkBatch checks the body is of the format its Content-Type says
// and, for JSON and CSV, readable as a batch from start to end (claims
// with bad fields are the batch report's business, not a refusal). It
// returns an error code and message, or "".
func checkBatch(f *os.File, want ingest.Format) (code, msg string) {
	got, rd, err := ingest.Detect(f)
	if err != nil {
		return "invalid_request", "the body could not be read"
	}
	bad := "invalid_batch"
	if want == ingest.FormatJSON {
		bad = "invalid_json"
	}
	if got != want {
		if got == ingest.FormatUnknown {
			return bad, fmt.Sprintf("the body is not %s (Content-Type) nor any batch format", want)
		}
		return bad, fmt.Sprintf("the body is %s, not the %s its Content-Type says", got, want)
	}
	dec := ingest.Decoder{MaxErrors: 1}
	none := func(ingest.Result) error { return nil }
	switch want {
	case ingest.FormatJSON:
		_, err = dec.DecodeJSON(bufio.NewReaderSize(rd, 64<<10), "body", none)
	case ingest.FormatCSV:
		_, err = dec.DecodeCSV(bufio.NewReaderSize(rd, 64<<10), "body", none)
	}
	if err != nil {
		// Decoder errors withhold patient data and escape input bytes.
		return bad, err.Error()
	}
	return "", ""
}

// BatchStatus is the answer to GET /v1/batches/{id}.
type BatchStatus struct {
	BatchID    string                  `json:"batch_id"`
	Status     string                  `json:"status"`
	ReceivedAt *time.Time              `json:"received_at"`
	FinishedAt *time.Time              `json:"finished_at,omitempty"`
	Format     string                  `json:"format,omitempty"`
	Claims     int                     `json:"claims"`
	Written    int                     `json:"written"`
	Counts     map[string]int          `json:"counts"`
	Counted    int                     `json:"counted"`
	Partial    bool                    `json:"counts_partial,omitempty"`
	Rejected   []gateway.RejectedClaim `json:"rejected"`
	// RejectedDropped counts problems beyond the list.
	RejectedDropped int      `json:"rejected_dropped,omitempty"`
	BatchErrors     []string `json:"batch_errors,omitempty"`
}

var digestRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (s *Server) getBatch(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	if !digestRE.MatchString(id) {
		writeError(w, http.StatusNotFound, "not_found", "no such batch", "id")
		return
	}
	info(r).batch = id
	h, err := s.stores(ctx)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	taken, ok, err := gateway.GetBatchTaken(ctx, h.batches, id)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	rep, err := gateway.GetBatchReport(ctx, h.batches, id)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if !ok && rep == nil {
		writeError(w, http.StatusNotFound, "not_found", "no such batch", "id")
		return
	}
	out := BatchStatus{BatchID: id, Status: gateway.BatchPending, Counts: map[string]int{}, Rejected: []gateway.RejectedClaim{}}
	if !taken.ReceivedAt.IsZero() {
		t := taken.ReceivedAt
		out.ReceivedAt = &t
	}
	if rep != nil {
		out.Status, out.Format, out.Claims, out.Written = rep.Status, rep.Format, rep.Claims, rep.Written
		out.Rejected, out.RejectedDropped, out.BatchErrors = rep.Rejected, rep.RejectedDropped, rep.BatchErrors
		if out.Rejected == nil {
			out.Rejected = []gateway.RejectedClaim{}
		}
		if !rep.FinishedAt.IsZero() {
			t := rep.FinishedAt
			out.FinishedAt = &t
		}
		if out.ReceivedAt == nil {
			t := rep.StartedAt
			out.ReceivedAt = &t
		}
		if rep.Status == gateway.BatchDone && rep.ClaimIDs > 0 {
			if err := s.count(ctx, h, id, &out); err != nil {
				s.internal(w, r, err)
				return
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// count reads the current state of the batch's claims (at most
// MaxCount of them, 16 at a time) into out.Counts.
func (s *Server) count(ctx context.Context, h *handles, digest string, out *BatchStatus) error {
	res, err := h.obj.Get(ctx, gateway.BatchClaimsObject(digest))
	if err != nil {
		return err
	}
	defer res.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ids := make(chan string)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range countWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				state, err := claimState(ctx, h.claimsKV, id)
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
						cancel()
					}
				} else {
					out.Counts[state]++
				}
				mu.Unlock()
			}
		}()
	}
	sc := bufio.NewScanner(res)
	sc.Buffer(make([]byte, 4096), 1<<20)
	n := 0
	for sc.Scan() && ctx.Err() == nil {
		if n == s.cfg.MaxCount {
			out.Partial = true
			break
		}
		n++
		ids <- sc.Text()
	}
	close(ids)
	wg.Wait()
	out.Counted = n
	if firstErr != nil {
		return firstErr
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return ctx.Err()
}

// countWorkers are the claim reads of a batch status request in flight.
const countWorkers = 64

// claimState reads only the state of a claim's record (key c.<token>,
// docs/bus.md), "unknown" when it has none: a record's timeline is most
// of its bytes.
func claimState(ctx context.Context, kv jetstream.KeyValue, id string) (string, error) {
	e, err := kv.Get(ctx, "c."+bus.Token(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "unknown", nil
	}
	if err != nil {
		return "", err
	}
	var rec listRecord
	js, err := bus.RecordJSON(e.Value())
	if err != nil {
		return "", fmt.Errorf("claim record: %w", err)
	}
	if err := json.Unmarshal(js, &rec); err != nil {
		return "", fmt.Errorf("claim record: %w", err)
	}
	return rec.State, nil
}
