package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
)

// DeadLetter is an event a webhook gave up on (max_attempts or max_age
// reached, or a message that is not a claim event). It holds no body and
// no URL; claim events carry no patient data, so the claim id is kept.
type DeadLetter struct {
	Webhook    string    `json:"webhook"`
	DeliveryID string    `json:"delivery_id"`
	EventID    string    `json:"event_id"`
	ClaimID    string    `json:"claim_id,omitempty"`
	Sequence   uint64    `json:"sequence"` // stream sequence in CLAIMGATE_EVENTS
	Attempts   int       `json:"attempts"`
	LastStatus int       `json:"last_status,omitempty"` // HTTP status of the last attempt (0: no answer)
	Reason     string    `json:"reason"`
	First      time.Time `json:"first_attempt"`
	GaveUp     time.Time `json:"gave_up"`
}

func deadKey(webhook, eventID string) string {
	return bus.Token(webhook) + "." + bus.Token(eventID)
}

// ReadDeadLetters lists the dead letters of one webhook in the bucket kv
// (BucketDead).
func ReadDeadLetters(ctx context.Context, kv jetstream.KeyValue, webhook string) ([]DeadLetter, error) {
	lister, err := kv.ListKeysFiltered(ctx, bus.Token(webhook)+".>")
	if err != nil {
		return nil, fmt.Errorf("webhook: dead letters: %w", err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	var out []DeadLetter
	for _, k := range keys {
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("webhook: dead letter: %w", err)
		}
		var dl DeadLetter
		if err := json.Unmarshal(e.Value(), &dl); err != nil {
			return nil, fmt.Errorf("webhook: dead letter %s: %w", strings.TrimPrefix(k, bus.Token(webhook)+"."), err)
		}
		out = append(out, dl)
	}
	return out, nil
}
