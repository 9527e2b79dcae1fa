package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/gateway"
	"github.com/claimgate/claimgate/pkg/ingest"
	"github.com/claimgate/claimgate/pkg/reconcile"
)

// Correction links a replacement or void sent through the API to the
// claim it corrects (kept in BucketBatches under x.<claim id token>).
type Correction struct {
	ClaimID           string    `json:"claim_id"` // the original claim
	Kind              string    `json:"kind"`     // replace or void
	Frequency         string    `json:"frequency"`
	OriginalReference string    `json:"original_reference"` // the payer claim number (REF*F8)
	BatchID           string    `json:"batch_id"`
	Time              time.Time `json:"time"`
}

// CorrectionAccepted is the answer to a replace or void.
type CorrectionAccepted struct {
	ClaimID           string `json:"claim_id"` // the correction claim's id (CLM01)
	OriginalClaimID   string `json:"original_claim_id"`
	Frequency         string `json:"frequency"`
	OriginalReference string `json:"original_reference"`
	BatchID           string `json:"batch_id"`
	Location          string `json:"location"`       // the batch
	ClaimLocation     string `json:"claim_location"` // the correction claim
	Duplicate         bool   `json:"duplicate"`
}

// KindCorrection is the kind of the event recorded on an original claim
// when a correction of it is sent (no state change: the payer's answer
// to the correction moves the correction claim).
const KindCorrection reconcile.Kind = "correction"

func correctionKey(id string) string { return "x." + bus.Token(id) }

// maxClaimBody bounds a replace body (one claim).
const maxClaimBody = 1 << 20

// maxClaimID is CLM01's maximum length (the 837P's 1-38 is cut to 17
// by most payers' companion guides, and the 835 answers by it).
const maxClaimID = 17

// CorrectionID is the claim id (CLM01) of a correction: up to 9
// characters of the original id, R (replace) or V (void), and 7
// base-32 characters of a SHA-256 over the original id, the kind and the
// correction claim, so the same correction sent twice has the same id
// (its batch is then a duplicate), a different one a new id, and the id
// fits CLM01's 17 characters. A claim id is unique per record in the
// claim store, so the correction cannot reuse the original's.
func CorrectionID(original, kind string, body []byte) string {
	h := sha256.New()
	h.Write([]byte("claimgate/correction/v1\x00" + original + "\x00" + kind + "\x00"))
	h.Write(body)
	sum := base32.StdEncoding.EncodeToString(h.Sum(nil))[:7]
	prefix := []rune(original)
	if len(prefix) > 9 {
		prefix = prefix[:9]
	}
	letter := "R"
	if kind == "void" {
		letter = "V"
	}
	id := string(prefix) + letter + sum
	for len(id) > maxClaimID { // multi-byte characters in the prefix
		prefix = prefix[:len(prefix)-1]
		id = string(prefix) + letter + sum
	}
	return id
}

func (s *Server) replace(w http.ResponseWriter, r *http.Request) { s.correct(w, r, "replace") }
func (s *Server) void(w http.ResponseWriter, r *http.Request)    { s.correct(w, r, "void") }

func (s *Server) correct(w http.ResponseWriter, r *http.Request, kind string) {
	ctx := r.Context()
	id := r.PathValue("id")
	info(r).claim, info(r).id = ClaimRef(id), id
	h, err := s.stores(ctx)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	// The body first: a bad request is refused whatever the claim.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, min(s.cfg.MaxBodyBytes, maxClaimBody)))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "the body is larger than a claim may be", "")
			return
		}
		writeError(w, http.StatusBadRequest, "invalid_request", "the body could not be read", "")
		return
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "the body must be JSON (application/json)", "Content-Type")
			return
		}
		if !json.Valid(body) {
			writeError(w, http.StatusBadRequest, "invalid_json", "the body is not valid JSON", "")
			return
		}
	}
	var corrected map[string]json.RawMessage
	switch kind {
	case "replace":
		if len(body) == 0 || json.Unmarshal(body, &corrected) != nil {
			writeError(w, http.StatusBadRequest, "invalid_json", "the body must be the corrected claim, a JSON object", "")
			return
		}
	case "void":
		if len(body) > 0 && string(body) != "{}" {
			writeError(w, http.StatusBadRequest, "invalid_json", "a void takes no body (or {})", "")
			return
		}
	}
	rec, err := h.store.Get(ctx, id)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if rec == nil {
		writeError(w, http.StatusNotFound, "not_found", "no such claim", "id")
		return
	}
	if rec.PayerClaimNumber == "" {
		writeError(w, http.StatusConflict, "no_payer_claim_number",
			"the payer has not numbered this claim yet (277CA REF*1K or 835 CLP07): it cannot be corrected yet", "")
		return
	}
	if kind == "replace" {
		// A replacement goes to the payer that numbered the original.
		var p struct {
			ID string `json:"id"`
		}
		json.Unmarshal(corrected["payer"], &p)
		if p.ID != rec.Payer {
			writeError(w, http.StatusBadRequest, "invalid_claim", fmt.Sprintf("payer.id must be the original claim's payer, %s", rec.Payer), "payer.id")
			return
		}
	}
	sub := s.cfg.Submitter
	freq := claim.FrequencyReplacement
	if kind == "void" {
		freq = claim.FrequencyVoid
		orig, osub, code, msg, err := s.original(ctx, h, rec)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if code != "" {
			writeError(w, http.StatusConflict, code, msg, "")
			return
		}
		if osub != nil {
			sub = *osub
		}
		corrected = orig
	}
	// The correction: the claim with frequency 7 or 8, REF*F8 = the payer
	// claim number, and its own id.
	delete(corrected, "id")
	corrected["frequency"], _ = json.Marshal(string(freq))
	corrected["original_reference"], _ = json.Marshal(rec.PayerClaimNumber)
	canon, err := json.Marshal(corrected) // map keys sorted: canonical
	if err != nil {
		s.internal(w, r, err)
		return
	}
	newID := CorrectionID(id, kind, canon)
	corrected["id"], _ = json.Marshal(newID)
	batch, err := json.Marshal(map[string]any{"batch_id": "correction-" + newID, "submitter": sub, "claims": []any{corrected}})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if field, msg := checkClaim(batch); msg != "" {
		writeError(w, http.StatusBadRequest, "invalid_claim", msg, field)
		return
	}
	hs := sha256.Sum256(batch)
	digest := hex.EncodeToString(hs[:])
	info(r).batch = digest
	link := Correction{ClaimID: id, Kind: kind, Frequency: string(freq), OriginalReference: rec.PayerClaimNumber, BatchID: digest, Time: time.Now().UTC()}
	lv, _ := json.Marshal(link)
	// The link first, so the correction claim is never seen unlinked.
	if _, err := h.batches.Create(ctx, correctionKey(newID), lv); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		s.internal(w, r, err)
		return
	}
	bid, dup, err := gateway.SubmitReader(ctx, s.cfg.Bus, bytes.NewReader(batch), "http.correction", digest)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	// The original's timeline records the correction (no state change);
	// the event id makes a repeat a duplicate.
	code := "REPLACED_BY"
	if kind == "void" {
		code = "VOIDED_BY"
	}
	eid := sha256.Sum256([]byte("claimgate/correction-event/v1\x00" + id + "\x00" + newID))
	ev := reconcile.Event{ID: hex.EncodeToString(eid[:16]), ClaimID: id, PayerID: rec.Payer, Kind: KindCorrection,
		Time: time.Now().UTC(), Source: reconcile.Source{File: "api", Digest: digest}, Status: kind,
		PayerClaimNumber: rec.PayerClaimNumber,
		Reasons:          []reconcile.Reason{{Source: "api", Code: code, Text: newID}}}
	if _, err := h.store.Apply(ctx, id, ev); err != nil {
		s.internal(w, r, err)
		return
	}
	loc := "/v1/batches/" + bid
	w.Header().Set("Location", loc)
	writeJSON(w, http.StatusAccepted, CorrectionAccepted{ClaimID: newID, OriginalClaimID: id, Frequency: string(freq),
		OriginalReference: rec.PayerClaimNumber, BatchID: bid, Location: loc, ClaimLocation: "/v1/claims/" + newID, Duplicate: dup})
}

// checkClaim decodes a one-claim batch as ingest will, and returns the
// first problem's field and message ("" when the claim is fine).
func checkClaim(batch []byte) (field, msg string) {
	var first *ingest.RowError
	dec := ingest.Decoder{MaxErrors: 1, OnError: func(e *ingest.RowError) {
		if first == nil {
			first = e
		}
	}}
	_, err := dec.DecodeJSON(bytes.NewReader(batch), "correction", func(ingest.Result) error { return nil })
	if first != nil {
		return first.Field, first.Reason
	}
	if err != nil {
		return "", err.Error()
	}
	return "", ""
}

// correctionOf returns the link of a correction claim, nil for any
// other claim.
func (s *Server) correctionOf(ctx context.Context, h *handles, id string) (*Correction, error) {
	e, err := h.batches.Get(ctx, correctionKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var c Correction
	if err := json.Unmarshal(e.Value(), &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// errFound stops a decode once the claim sought is read.
var errFound = errors.New("found")

// original finds the claim as it was submitted: the batch its
// interchange was cut from (gateway's batch report), read again from the
// object store. It returns the claim as a JSON object and the batch's
// submitter (JSON batches), or a conflict code and message when the
// original cannot be had.
func (s *Server) original(ctx context.Context, h *handles, rec *reconcile.Record) (map[string]json.RawMessage, *ingest.Submitter, string, string, error) {
	unavailable := func(why string) (map[string]json.RawMessage, *ingest.Submitter, string, string, error) {
		return nil, nil, "original_not_available", "the claim as submitted cannot be found (" + why + "): send a replacement with the claim instead", nil
	}
	if rec.Submission == nil {
		return unavailable("no submission recorded")
	}
	digest, err := gateway.BatchOfInterchange(ctx, h.batches, rec.Submission.Receiver, rec.Submission.Interchange)
	if err != nil {
		return nil, nil, "", "", err
	}
	if digest == "" {
		return unavailable("its batch is not known")
	}
	res, err := h.obj.Get(ctx, digest)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return unavailable("its batch is no longer stored")
	}
	if err != nil {
		return nil, nil, "", "", err
	}
	defer res.Close()
	format, rd, err := ingest.Detect(bufio.NewReaderSize(res, 64<<10))
	if err != nil {
		return nil, nil, "", "", err
	}
	var found *claim.Claim
	emit := func(r ingest.Result) error {
		if r.Claim.ID == rec.ID {
			found = r.Claim
			return errFound
		}
		return nil
	}
	var sum ingest.Summary
	switch format {
	case ingest.FormatJSON:
		sum, err = ingest.DecodeJSON(rd, "original", emit)
	case ingest.FormatCSV:
		sum, err = ingest.DecodeCSV(rd, "original", emit)
	default:
		return unavailable("it came in an 837P batch")
	}
	if found == nil {
		if err != nil && !errors.Is(err, errFound) {
			return nil, nil, "", "", fmt.Errorf("reading the original batch: %w", err)
		}
		return unavailable("it is not in its batch")
	}
	data, err := json.Marshal(found)
	if err != nil {
		return nil, nil, "", "", err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, nil, "", "", err
	}
	var sub *ingest.Submitter
	if sum.Header.Submitter.ID != "" {
		sub = &sum.Header.Submitter
	}
	return obj, sub, "", "", nil
}
