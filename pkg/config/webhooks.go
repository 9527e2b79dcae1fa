package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/claimgate/claimgate/pkg/claim"
)

// Webhook is one URL a practice-management system registered for claim
// events (the top-level "webhooks" list). The secret is a reference
// ("env:NAME" or "file:/path"), never the secret itself. Durations are Go
// duration strings. docs/webhooks.md describes every key.
type Webhook struct {
	// Name identifies the webhook: its durable consumer, lease and
	// dead-letter keys, and its log lines. Letters, digits, '-' and '_'.
	Name string `json:"name"`
	// URL receives a POST per event: http or https.
	URL string `json:"url"`
	// Secret is a reference to the HMAC-SHA256 signing secret.
	Secret string `json:"secret"`
	// States limits deliveries to events moving a claim into one of these
	// states; empty means every state.
	States []string `json:"states,omitempty"`
	// Timeout bounds one delivery attempt (default 10s).
	Timeout string `json:"timeout,omitempty"`
	// MaxAttempts gives up on an event after this many failed attempts
	// (default 0: no limit, MaxAge decides).
	MaxAttempts int `json:"max_attempts,omitempty"`
	// MaxAge gives up on an event this long after its first attempt
	// (default 24h).
	MaxAge string `json:"max_age,omitempty"`
	// RetryMin and RetryMax bound the exponential backoff between
	// attempts (defaults 1s and 5m).
	RetryMin string `json:"retry_min,omitempty"`
	RetryMax string `json:"retry_max,omitempty"`
	// Lanes is how many claims are delivered at once (default 16); the
	// events of one claim always go through one lane, one at a time.
	Lanes int `json:"lanes,omitempty"`
	// Deliver is where a new webhook starts: "new" (default, events
	// published from now on) or "all" (every event the stream holds).
	Deliver string `json:"deliver,omitempty"`
}

// WebhookTimes are the durations of a webhook, defaults applied.
type WebhookTimes struct {
	Timeout, MaxAge, RetryMin, RetryMax time.Duration
}

// Times parses the durations, applying the defaults.
func (w *Webhook) Times() (WebhookTimes, error) {
	var t WebhookTimes
	var errs []error
	parse := func(key, v string, def time.Duration, dst *time.Duration) {
		*dst = def
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive duration such as \"30s\" or \"5m\"", key, v))
			return
		}
		*dst = d
	}
	parse("timeout", w.Timeout, 10*time.Second, &t.Timeout)
	parse("max_age", w.MaxAge, 24*time.Hour, &t.MaxAge)
	parse("retry_min", w.RetryMin, time.Second, &t.RetryMin)
	parse("retry_max", w.RetryMax, 5*time.Minute, &t.RetryMax)
	if len(errs) == 0 && t.RetryMin > t.RetryMax {
		errs = append(errs, fmt.Errorf("retry_min %v is above retry_max %v", t.RetryMin, t.RetryMax))
	}
	return t, errors.Join(errs...)
}

// Check reports every problem in the webhook. Messages never quote the
// URL: its query string may hold a token.
func (w *Webhook) Check() error {
	var errs []error
	if !validHookName(w.Name) {
		errs = append(errs, fmt.Errorf("name %q: use 1 to 64 letters, digits, '-' or '_'", w.Name))
	}
	if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, errors.New("url must be an absolute http:// or https:// URL"))
	} else if u.User != nil {
		errs = append(errs, errors.New("url must not carry a user or password (the signature authenticates the gateway)"))
	}
	if w.Secret == "" {
		errs = append(errs, errors.New(`secret is required ("env:NAME" or "file:/path")`))
	} else if !strings.HasPrefix(w.Secret, "env:") && !strings.HasPrefix(w.Secret, "file:") {
		errs = append(errs, errors.New(`secret must be "env:NAME" or "file:/path", never the secret itself`))
	}
	seen := map[string]bool{}
	for _, s := range w.States {
		if !knownState(claim.State(s)) {
			errs = append(errs, fmt.Errorf("states: unknown claim state %q", s))
		}
		if seen[s] {
			errs = append(errs, fmt.Errorf("states: %q appears twice", s))
		}
		seen[s] = true
	}
	if w.MaxAttempts < 0 || w.Lanes < 0 || w.Lanes > 1024 {
		errs = append(errs, errors.New("max_attempts must not be negative; lanes must be 0 (default) to 1024"))
	}
	switch w.Deliver {
	case "", "new", "all":
	default:
		errs = append(errs, fmt.Errorf(`deliver must be "new" or "all", got %q`, w.Deliver))
	}
	if _, err := w.Times(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func validHookName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// checkWebhooks checks every webhook and that names are unique.
func checkWebhooks(hooks []Webhook) error {
	var errs []error
	names := map[string]bool{}
	for i := range hooks {
		w := &hooks[i]
		if err := w.Check(); err != nil {
			errs = append(errs, fmt.Errorf("webhooks[%d] (%s): %w", i, w.Name, err))
		}
		if names[w.Name] {
			errs = append(errs, fmt.Errorf("webhooks[%d]: name %q appears twice", i, w.Name))
		}
		names[w.Name] = true
	}
	return errors.Join(errs...)
}

// knownState reports whether s is a claim state events are published for.
func knownState(s claim.State) bool {
	switch s {
	case claim.Received, claim.ScrubRejected, claim.Queued, claim.Submitted, claim.AckAccepted, claim.AckRejected,
		claim.PayerAccepted, claim.PayerRejected, claim.Paid, claim.PartiallyPaid, claim.Denied, claim.Reversed:
		return true
	}
	return false
}
