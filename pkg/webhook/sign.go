package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of every delivery.
const (
	// HeaderDelivery is the delivery id: the same for every attempt and
	// redelivery of one event to one webhook, so a receiver drops repeats.
	HeaderDelivery = "Claimgate-Delivery"
	// HeaderTimestamp is when the attempt was signed, in Unix seconds.
	HeaderTimestamp = "Claimgate-Timestamp"
	// HeaderSignature is "v1=" and the hex HMAC-SHA256 of
	// timestamp + "." + body under the webhook's secret.
	HeaderSignature = "Claimgate-Signature"
	// HeaderAttempt is the attempt number within this dispatcher (1, 2,
	// ...); informational only, not signed.
	HeaderAttempt = "Claimgate-Attempt"
)

// DefaultTolerance is how old (or how far in the future) a signed
// timestamp a receiver should accept.
const DefaultTolerance = 5 * time.Minute

// Errors Verify returns.
var (
	ErrNoTimestamp  = errors.New("webhook: no or malformed " + HeaderTimestamp + " header")
	ErrTimestamp    = errors.New("webhook: timestamp outside the tolerance (replayed or clock skew)")
	ErrNoSignature  = errors.New("webhook: no v1 signature in the " + HeaderSignature + " header")
	ErrBadSignature = errors.New("webhook: signature does not match")
)

// Signature returns the value of the signature header for body signed at
// ts (Unix seconds): "v1=" + hex(HMAC-SHA256(secret, ts + "." + body)).
func Signature(secret []byte, ts int64, body []byte) string {
	return "v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a delivery as a receiver should: the timestamp header is
// within tolerance of now (either way), and one of the header's v1
// signatures (comma-separated) is the HMAC-SHA256 of timestamp + "." +
// body under secret, compared in constant time. body must be the raw
// request body, before any JSON decoding. A zero tolerance means
// DefaultTolerance.
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	raw := strings.TrimSpace(h.Get(HeaderTimestamp))
	ts, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || raw == "" || raw[0] == '+' {
		return ErrNoTimestamp
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrTimestamp
	}
	want := mac(secret, ts, body)
	found := false
	for _, part := range strings.Split(h.Get(HeaderSignature), ",") {
		v, ok := strings.CutPrefix(strings.TrimSpace(part), "v1=")
		if !ok {
			continue
		}
		found = true
		got, err := hex.DecodeString(v)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	if !found {
		return ErrNoSignature
	}
	return ErrBadSignature
}

// DeliveryID is the delivery id of an event (its id in the event stream)
// for a webhook: stable across attempts, redeliveries and replicas, and
// different per webhook.
func DeliveryID(webhook, eventID string) string {
	h := sha256.New()
	h.Write([]byte("claimgate-webhook\x00"))
	h.Write([]byte(webhook))
	h.Write([]byte{0})
	h.Write([]byte(eventID))
	return hex.EncodeToString(h.Sum(nil)[:16])
}
