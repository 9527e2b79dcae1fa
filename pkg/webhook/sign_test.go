package webhook

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func signed(secret []byte, ts int64, body []byte) http.Header {
	h := http.Header{}
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, Signature(secret, ts, body))
	return h
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_760_000_000, 0)
	body := []byte(`{"delivery_id":"x","event":{"id":"1"}}`)
	ok := signed(testSecret, now.Unix(), body)
	if err := Verify(testSecret, ok, body, now, 0); err != nil {
		t.Fatalf("valid delivery refused: %v", err)
	}
	// Within tolerance either way.
	if err := Verify(testSecret, ok, body, now.Add(4*time.Minute), 0); err != nil {
		t.Fatal(err)
	}
	if err := Verify(testSecret, ok, body, now.Add(-4*time.Minute), 0); err != nil {
		t.Fatal(err)
	}
	rotated := ok.Clone()
	rotated.Set(HeaderSignature, Signature([]byte("old"), now.Unix(), body)+", "+ok.Get(HeaderSignature))
	if err := Verify(testSecret, rotated, body, now, 0); err != nil {
		t.Fatalf("second v1 signature not tried: %v", err)
	}
	noTS := ok.Clone()
	noTS.Del(HeaderTimestamp)
	otherTS := ok.Clone()
	otherTS.Set(HeaderTimestamp, strconv.FormatInt(now.Unix()+1, 10)) // signature over another timestamp
	noSig := ok.Clone()
	noSig.Set(HeaderSignature, "v0=abcd")
	for name, c := range map[string]struct {
		secret []byte
		h      http.Header
		body   []byte
		now    time.Time
		want   error
	}{
		"body changed":     {testSecret, ok, append(bytes.Clone(body), ' '), now, ErrBadSignature},
		"wrong secret":     {[]byte("other"), ok, body, now, ErrBadSignature},
		"too old":          {testSecret, ok, body, now.Add(6 * time.Minute), ErrTimestamp},
		"from the future":  {testSecret, ok, body, now.Add(-6 * time.Minute), ErrTimestamp},
		"no timestamp":     {testSecret, noTS, body, now, ErrNoTimestamp},
		"timestamp moved":  {testSecret, otherTS, body, now, ErrBadSignature},
		"no v1 signature":  {testSecret, noSig, body, now, ErrNoSignature},
		"empty signatures": {testSecret, http.Header{HeaderTimestamp: {strconv.FormatInt(now.Unix(), 10)}}, body, now, ErrNoSignature},
	} {
		if err := Verify(c.secret, c.h, c.body, c.now, 0); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

// TestSignatureOpenSSL: the shell recipe of docs/webhooks.md (openssl)
// computes the same signature.
func TestSignatureOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	body := []byte(`{"delivery_id":"d","event":{"id":"e","claim_id":"C 1"}}`)
	ts := int64(1760000000)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "body.json"), body, 0o600); err != nil {
		t.Fatal(err)
	}
	// The command line of docs/webhooks.md, as is.
	cmd := exec.Command("sh", "-c", `printf '%s.' "$TS" | cat - body.json | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.*= /v1=/'`)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), "TS="+strconv.FormatInt(ts, 10), "SECRET="+string(testSecret))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(out)), Signature(testSecret, ts, body); got != want {
		t.Fatalf("openssl %s, Signature %s", got, want)
	}
}

// TestSignaturePython: the Python recipe of docs/webhooks.md verifies a
// delivery signed here.
func TestSignaturePython(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	body := []byte(`{"delivery_id":"d","event":{"id":"e"}}`)
	ts := time.Now().Unix()
	script := `
import hmac, hashlib, time, os, sys

def verify(secret: bytes, timestamp: str, signature_header: str, body: bytes, tolerance=300) -> bool:
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(p.strip()[3:], expected)
               for p in signature_header.split(",") if p.strip().startswith("v1="))

ok = verify(os.environb[b"SECRET"], os.environ["TS"], os.environ["SIG"], os.environb[b"BODY"])
bad = verify(os.environb[b"SECRET"], os.environ["TS"], os.environ["SIG"], os.environb[b"BODY"] + b" ")
sys.exit(0 if ok and not bad else 1)
`
	cmd := exec.Command("python3", "-c", script)
	cmd.Env = append(cmd.Environ(), "TS="+strconv.FormatInt(ts, 10), "BODY="+string(body), "SECRET="+string(testSecret),
		"SIG="+Signature(testSecret, ts, body))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python verify: %v\n%s", err, out)
	}
}

func TestDeliveryID(t *testing.T) {
	a, b := DeliveryID("pm", "e1"), DeliveryID("pm", "e1")
	if a != b || len(a) != 32 {
		t.Fatalf("delivery id not stable: %s %s", a, b)
	}
	if DeliveryID("pm", "e2") == a || DeliveryID("pm2", "e1") == a {
		t.Fatal("delivery ids collide")
	}
}

func TestBackoff(t *testing.T) {
	lo, hi := 100*time.Millisecond, time.Second
	for attempt := 1; attempt < 40; attempt++ {
		want := min(lo<<min(attempt-1, 20), hi)
		for range 20 {
			d := backoff(lo, hi, attempt)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: %v, want within [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func slogTo(w *safeBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
