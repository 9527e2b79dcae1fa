package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/reconcile"
)

// Claim is the answer to GET /v1/claims/{id}.
type Claim struct {
	ClaimID          string             `json:"claim_id"`
	Payer            string             `json:"payer"`
	State            string             `json:"state"`
	PayerClaimNumber string             `json:"payer_claim_number"`
	Amounts          *reconcile.Amounts `json:"amounts"`
	Submission       *reconcile.Ref     `json:"submission"`
	Updated          time.Time          `json:"updated"`
	Timeline         []reconcile.Event  `json:"timeline"`
	// Dropped counts timeline events older than those kept.
	Dropped int `json:"timeline_dropped,omitempty"`
	// Corrects is set on a replacement or void sent through this API:
	// the claim it corrects.
	Corrects *Correction `json:"corrects,omitempty"`
}

func (s *Server) getClaim(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	info(r).claim, info(r).id = ClaimRef(id), id
	h, err := s.stores(ctx)
	if err != nil {
		s.internal(w, r, err)
		return
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
	out := Claim{ClaimID: rec.ID, Payer: rec.Payer, State: string(rec.State), PayerClaimNumber: rec.PayerClaimNumber,
		Amounts: rec.Amounts, Submission: rec.Submission, Updated: rec.Updated, Timeline: rec.Timeline, Dropped: rec.Dropped}
	if out.Timeline == nil {
		out.Timeline = []reconcile.Event{}
	}
	if out.Corrects, err = s.correctionOf(ctx, h, id); err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// ClaimSummary is one claim of a listing.
type ClaimSummary struct {
	ClaimID string    `json:"claim_id"`
	Payer   string    `json:"payer"`
	State   string    `json:"state"`
	Updated time.Time `json:"updated"`
}

// ClaimList is the answer to GET /v1/claims.
type ClaimList struct {
	Claims     []ClaimSummary `json:"claims"`
	NextCursor string         `json:"next_cursor"`
}

// Listing limits: claims per page, and records looked at per request
// (a filter that matches few claims returns short pages, even empty
// ones, with a cursor to go on). A fetch holds at most fetchBatch
// records of at most bus.MaxRecordBytes (16 MiB at worst, typically a
// few hundred KiB).
const (
	defaultLimit = 100
	maxLimit     = 1000
	maxScan      = 5000
	fetchBatch   = 64
)

// listRecord is the part of a reconcile.Record a listing reads (its
// timeline is skipped, not decoded).
type listRecord struct {
	ID      string    `json:"id"`
	Payer   string    `json:"payer"`
	State   string    `json:"state"`
	Updated time.Time `json:"updated"`
}

// claimsFilter selects the claim records of the claims bucket's stream.
const claimsFilter = "$KV." + bus.BucketClaims + ".c.>"

func encodeCursor(seq uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + strconv.FormatUint(seq, 10)))
}

func decodeCursor(c string) (uint64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, ok := strings.CutPrefix(string(b), "v1:")
	if !ok {
		return 0, false
	}
	seq, err := strconv.ParseUint(n, 10, 64)
	return seq, err == nil && seq > 0
}

// listClaims pages through the claim records in the order of their
// last change (the claims bucket's stream sequence, which a cursor
// holds): each page is one short-lived consumer reading from the cursor
// on, looking at no more than maxScan records, so a page costs the same
// whatever the number of claims. since starts the first page at that
// time. A claim changed while a client pages through comes again later
// with its new state; none is skipped.
func (s *Server) listClaims(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	limit := defaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			writeError(w, http.StatusBadRequest, "invalid_request", "limit must be a whole number from 1 to 1000", "limit")
			return
		}
		limit = n
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request", "since must be an RFC 3339 time, e.g. 2025-04-01T00:00:00Z", "since")
			return
		}
		since = t
	}
	var start uint64
	if v := q.Get("cursor"); v != "" {
		var ok bool
		if start, ok = decodeCursor(v); !ok {
			writeError(w, http.StatusBadRequest, "invalid_request", "cursor is not one this API gave", "cursor")
			return
		}
	}
	state, payer := q.Get("state"), q.Get("payer")
	h, err := s.stores(ctx)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	cc := jetstream.ConsumerConfig{FilterSubject: claimsFilter, AckPolicy: jetstream.AckNonePolicy,
		MemoryStorage: true, InactiveThreshold: time.Minute}
	switch {
	case start > 0:
		cc.DeliverPolicy, cc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
	case !since.IsZero():
		cc.DeliverPolicy, cc.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	cons, err := h.claims.CreateConsumer(ctx, cc)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer h.claims.DeleteConsumer(ctx, cons.CachedInfo().Name)
	pending := cons.CachedInfo().NumPending
	out := ClaimList{Claims: []ClaimSummary{}}
	var last uint64
	scanned := 0
	for pending > 0 && scanned < maxScan && len(out.Claims) < limit {
		n := min(uint64(fetchBatch), pending, uint64(maxScan-scanned))
		batch, err := cons.Fetch(int(n), jetstream.FetchMaxWait(10*time.Second))
		if err != nil {
			s.internal(w, r, err)
			return
		}
		got := 0
		for m := range batch.Messages() {
			got++
			if len(out.Claims) == limit {
				continue // drained; the cursor stays at the last one taken
			}
			scanned++
			pending--
			md, err := m.Metadata()
			if err != nil {
				s.internal(w, r, err)
				return
			}
			last = md.Sequence.Stream
			if op := m.Headers().Get("KV-Operation"); op != "" {
				continue // a deleted or purged key
			}
			var rec listRecord
			js, err := bus.RecordJSON(m.Data())
			if err != nil {
				continue // a damaged record: GET /v1/claims/{id} reports it
			}
			if err := json.Unmarshal(js, &rec); err != nil {
				continue // a damaged record: GET /v1/claims/{id} reports it
			}
			if state != "" && rec.State != state || payer != "" && rec.Payer != payer || !since.IsZero() && rec.Updated.Before(since) {
				continue
			}
			out.Claims = append(out.Claims, ClaimSummary{ClaimID: rec.ID, Payer: rec.Payer, State: rec.State, Updated: rec.Updated})
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && got == 0 {
			s.internal(w, r, err)
			return
		}
		if got == 0 {
			break
		}
	}
	if pending > 0 && last > 0 {
		out.NextCursor = encodeCursor(last + 1)
	}
	writeJSON(w, http.StatusOK, out)
}
