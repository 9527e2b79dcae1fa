package bus

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/klauspost/compress/s2"

	"github.com/claimgate/claimgate/pkg/reconcile"
)

// A claim record as the claims bucket keeps it. Every event in a
// record's timeline (and pending list) repeats the claim id, the payer
// and usually the submission the record holds already: about a third of
// each entry. Records are rewritten at every move, so those bytes were
// encoded, sent, parsed, stored and decoded again each time. The stored
// form leaves out an event's claim id, payer id and submission when they
// equal the record's, and restores them on reading: lossless. Form 1
// marks it; a record in the full form (written before) reads as it is.
type storedRecord struct {
	*reconcile.Record
	Timeline []storedEvent `json:"timeline"`
	Pending  []storedEvent `json:"pending,omitempty"`
	Form     int           `json:"form,omitempty"`
}

// slimForm is the Form of records whose events leave out what the
// record holds.
const slimForm = 1

// storedEvent shadows the fields of reconcile.Event that it may leave
// out (the outer fields win in encoding/json): nil means "the
// record's".
type storedEvent struct {
	*reconcile.Event
	ClaimID    *string        `json:"claim_id,omitempty"`
	PayerID    *string        `json:"payer_id,omitempty"`
	Submission *reconcile.Ref `json:"submission,omitempty"`
	// NoSubmission: the event has none while the record has one.
	NoSubmission bool `json:"no_submission,omitempty"`
}

func storedEvents(rec *reconcile.Record, evs []reconcile.Event) []storedEvent {
	if len(evs) == 0 {
		return nil
	}
	out := make([]storedEvent, len(evs))
	for i := range evs {
		ev := &evs[i]
		se := storedEvent{Event: ev}
		if ev.ClaimID != rec.ID {
			se.ClaimID = &ev.ClaimID
		}
		if ev.PayerID != rec.Payer {
			se.PayerID = &ev.PayerID
		}
		switch {
		case ev.Submission == nil:
			se.NoSubmission = rec.Submission != nil
		case rec.Submission == nil || *ev.Submission != *rec.Submission:
			se.Submission = ev.Submission
		}
		out[i] = se
	}
	return out
}

// marshalRecordReflect is the stored form as encoding/json writes it:
// the reference marshalRecord is tested against.
func marshalRecordReflect(rec *reconcile.Record) ([]byte, error) {
	sr := storedRecord{Record: rec, Timeline: storedEvents(rec, rec.Timeline), Pending: storedEvents(rec, rec.Pending), Form: slimForm}
	if sr.Timeline == nil {
		sr.Timeline = []storedEvent{} // "timeline": [] as before
	}
	return json.Marshal(&sr)
}

// marshalRecord encodes rec in the stored form, the bytes
// marshalRecordReflect gives (TestMarshalRecordIsReflect), appended
// without reflection: every claim move writes its record.
func marshalRecord(rec *reconcile.Record) ([]byte, error) {
	return appendRecord(make([]byte, 0, 512+400*(len(rec.Timeline)+len(rec.Pending))), rec)
}

// appendRecord appends rec's stored-form JSON (marshalRecord) to b.
func appendRecord(b []byte, rec *reconcile.Record) ([]byte, error) {
	// The storedRecord's members: the embedded Record's first (its
	// timeline and pending shadowed), then the outer ones.
	b = append(b, `{"id":`...)
	b = reconcile.AppendJSONString(b, rec.ID)
	b = append(b, `,"payer":`...)
	b = reconcile.AppendJSONString(b, rec.Payer)
	b = append(b, `,"state":`...)
	b = reconcile.AppendJSONString(b, string(rec.State))
	if rec.Submission != nil {
		b = append(b, `,"submission":`...)
		b = rec.Submission.AppendJSON(b)
	}
	if rec.PayerClaimNumber != "" {
		b = append(b, `,"payer_claim_number":`...)
		b = reconcile.AppendJSONString(b, rec.PayerClaimNumber)
	}
	if rec.Amounts != nil {
		b = append(b, `,"amounts":`...)
		b = rec.Amounts.AppendJSON(b)
	}
	if rec.Dropped != 0 {
		b = append(b, `,"dropped":`...)
		b = strconv.AppendInt(b, int64(rec.Dropped), 10)
	}
	b = append(b, `,"updated":`...)
	b, err := reconcile.AppendJSONTime(b, rec.Updated)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"timeline":`...)
	if b, err = appendStoredEvents(b, rec, rec.Timeline); err != nil {
		return nil, err
	}
	if len(rec.Pending) > 0 {
		b = append(b, `,"pending":`...)
		if b, err = appendStoredEvents(b, rec, rec.Pending); err != nil {
			return nil, err
		}
	}
	b = append(b, `,"form":`...)
	b = strconv.AppendInt(b, slimForm, 10)
	return append(b, '}'), nil
}

// appendStoredEvents appends evs as storedEvents: each event's members
// without its identity, then claim_id, payer_id and submission where
// they differ from the record's, and no_submission.
func appendStoredEvents(b []byte, rec *reconcile.Record, evs []reconcile.Event) ([]byte, error) {
	b = append(b, '[')
	for i := range evs {
		ev := &evs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		var err error
		if b, err = ev.AppendMembers(b, false); err != nil {
			return nil, err
		}
		if ev.ClaimID != rec.ID {
			b = append(b, `,"claim_id":`...)
			b = reconcile.AppendJSONString(b, ev.ClaimID)
		}
		if ev.PayerID != rec.Payer {
			b = append(b, `,"payer_id":`...)
			b = reconcile.AppendJSONString(b, ev.PayerID)
		}
		switch {
		case ev.Submission == nil:
			if rec.Submission != nil {
				b = append(b, `,"no_submission":true`...)
			}
		case rec.Submission == nil || *ev.Submission != *rec.Submission:
			b = append(b, `,"submission":`...)
			b = ev.Submission.AppendJSON(b)
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// compressedRecord marks a stored record compressed: the byte before
// an S2 block (github.com/klauspost/compress/s2) of the record's JSON.
// JSON never starts with it, so records written before read as they
// are.
const compressedRecord = 0xff

// compressMin is the smallest JSON worth compressing.
const compressMin = 256

// appendCompressed appends the stored bytes of a record's JSON to dst:
// S2 block compressed behind compressedRecord when it is compressMin
// bytes or more, else the JSON itself; many records can share one
// buffer. A record is rewritten at every move of its claim and its
// timeline repeats keys, digests and code texts: compressed, about half
// the bytes go through the server, its file store, caches and compaction
// of superseded revisions.
func appendCompressed(dst, js []byte) []byte {
	if len(js) < compressMin {
		return append(dst, js...)
	}
	n := len(dst)
	dst = slices.Grow(dst, 1+s2.MaxEncodedLen(len(js)))[:n+1]
	dst[n] = compressedRecord
	enc := s2.Encode(dst[n+1:cap(dst)], js)
	return dst[:n+1+len(enc)]
}

// RecordJSON returns the JSON of a value stored in the claims bucket (a
// reconcile.Record, or an outbox entry): decompressed when it was stored
// compressed, else as it is. A compressed value claiming more than
// maxRecordJSON bytes is refused before decompressing. The API's listings
// read records through it too.
func RecordJSON(data []byte) ([]byte, error) {
	if len(data) == 0 || data[0] != compressedRecord {
		return data, nil
	}
	n, err := s2.DecodedLen(data[1:])
	if err != nil {
		return nil, err
	}
	if n > maxRecordJSON {
		return nil, fmt.Errorf("record of %d bytes (at most %d)", n, maxRecordJSON)
	}
	return s2.Decode(make([]byte, n), data[1:])
}

// maxRecordJSON bounds a record's JSON when read: what encode writes,
// with room for records trimmed under an older, larger bound.
const maxRecordJSON = 4 * MaxRecordBytes

// unmarshalRecord decodes a stored record in any form.
func unmarshalRecord(data []byte) (*reconcile.Record, error) {
	data, err := RecordJSON(data)
	if err != nil {
		return nil, err
	}
	rec := &reconcile.Record{}
	sr := storedRecord{Record: rec}
	if err := json.Unmarshal(data, &sr); err != nil {
		return nil, err
	}
	rec.Timeline = restoreEvents(rec, sr.Timeline, sr.Form == slimForm)
	rec.Pending = restoreEvents(rec, sr.Pending, sr.Form == slimForm)
	return rec, nil
}

// restoreEvents turns stored events back into events; slim: the fields
// left out are the record's.
func restoreEvents(rec *reconcile.Record, ses []storedEvent, slim bool) []reconcile.Event {
	if ses == nil {
		return nil
	}
	out := make([]reconcile.Event, len(ses))
	for i, se := range ses {
		if se.Event != nil {
			out[i] = *se.Event
		}
		ev := &out[i]
		ev.ClaimID, ev.PayerID, ev.Submission = "", "", se.Submission
		if slim {
			ev.ClaimID, ev.PayerID = rec.ID, rec.Payer
			if se.Submission == nil && !se.NoSubmission && rec.Submission != nil {
				r := *rec.Submission
				ev.Submission = &r
			}
		}
		if se.ClaimID != nil {
			ev.ClaimID = *se.ClaimID
		}
		if se.PayerID != nil {
			ev.PayerID = *se.PayerID
		}
	}
	return out
}
