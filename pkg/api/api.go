// Package api is claimgate's HTTP API: submit charge batches, follow a
// batch's ingest, read claims' state and timelines, page through claims,
// and send replacements and voids of claims a payer has numbered. It is
// served by `claimgate serve` (flags --http, --ops-http) on top of the
// gateway's JetStream stores; docs/api.md and api/openapi.json describe
// it.
//
// Every route but /healthz and /readyz takes a bearer token (compared in
// constant time with every configured one, so a token can be rotated by
// configuring the new one beside the old). Errors are JSON with a stable
// code. Logs name the method, route pattern, status, duration and batch
// id, and a claim only by a SHA-256 prefix of its id: never a body.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/gateway"
	"github.com/claimgate/claimgate/pkg/ingest"
)

// DefaultMaxBodyBytes bounds a request body unless Config says otherwise.
const DefaultMaxBodyBytes = 64 << 20

// Config configures a Server.
type Config struct {
	// Bus is the gateway's NATS connection (its streams set up by
	// gateway.New).
	Bus *bus.Bus
	// Tokens are the bearer tokens accepted. None: every request is
	// accepted (CheckListen refuses that on a non-loopback address).
	Tokens []string
	// MaxBodyBytes bounds a request body (default DefaultMaxBodyBytes);
	// a larger one is refused with 413.
	MaxBodyBytes int64
	// Metrics serves /metrics; nil answers 404 there.
	Metrics http.Handler
	// Log receives one line per request; nil discards.
	Log *slog.Logger
	// TempDir holds request bodies while they are checked (default the
	// system's); they are unlinked at once.
	TempDir string
	// Submitter is the submitter of correction batches (replace, void)
	// when the original batch does not name one (CSV, 837P). Default
	// CLAIMGATE.
	Submitter ingest.Submitter
	// MaxCount bounds the claims whose state one batch status request
	// reads (default 10,000); a larger batch's counts cover its first
	// MaxCount claims and say so.
	MaxCount int
}

// Server serves the API. Its handlers are safe for concurrent use.
type Server struct {
	cfg    Config
	log    *slog.Logger
	tokens atomic.Pointer[[][sha256.Size]byte] // SetTokens swaps them

	mu      sync.Mutex
	handles *handles
}

// handles are the JetStream stores, found on first use (the API may be
// built before the gateway has set the streams up).
type handles struct {
	store   *bus.ClaimStore
	batches jetstream.KeyValue
	obj     jetstream.ObjectStore
	claims  jetstream.Stream // the claims bucket's stream, for paging
	// claimsKV is the claims bucket, read directly where only a
	// record's state is needed.
	claimsKV jetstream.KeyValue
}

// New makes a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Bus == nil {
		return nil, errors.New("api: Bus is required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxCount <= 0 {
		cfg.MaxCount = 10000
	}
	if cfg.Submitter.ID == "" {
		cfg.Submitter = ingest.Submitter{Name: "CLAIMGATE", ID: "CLAIMGATE"}
	}
	s := &Server{cfg: cfg, log: cfg.Log}
	digests := hashTokens(cfg.Tokens)
	s.tokens.Store(&digests)
	return s, nil
}

func hashTokens(tokens []string) [][sha256.Size]byte {
	var out [][sha256.Size]byte
	for _, t := range tokens {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, sha256.Sum256([]byte(t)))
		}
	}
	return out
}

// ErrNoTokens refuses to turn token checks off by a reload.
var ErrNoTokens = errors.New("api: the new token list is empty: the tokens in use are kept (an API started with tokens never turns their check off)")

// SetTokens replaces the accepted bearer tokens, for rotation without a
// restart (serve reloads them on SIGHUP): requests from then on are
// checked against the new list. It returns how many tokens are now
// accepted. An empty list is refused when tokens were in use, since it
// would open the API to every caller.
func (s *Server) SetTokens(tokens []string) (int, error) {
	digests := hashTokens(tokens)
	if len(digests) == 0 && len(*s.tokens.Load()) > 0 {
		return len(*s.tokens.Load()), ErrNoTokens
	}
	s.tokens.Store(&digests)
	return len(digests), nil
}

func (s *Server) stores(ctx context.Context) (*handles, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handles != nil {
		return s.handles, nil
	}
	b := s.cfg.Bus
	h := &handles{}
	var err error
	if h.store, err = b.ClaimStore(ctx); err != nil {
		return nil, err
	}
	if h.batches, err = b.JS.KeyValue(ctx, gateway.BucketBatches); err != nil {
		return nil, fmt.Errorf("bucket %s: %w", gateway.BucketBatches, err)
	}
	if h.obj, err = b.JS.ObjectStore(ctx, bus.ObjectEDI); err != nil {
		return nil, fmt.Errorf("object store: %w", err)
	}
	if h.claimsKV, err = b.JS.KeyValue(ctx, bus.BucketClaims); err != nil {
		return nil, fmt.Errorf("claims bucket: %w", err)
	}
	if h.claims, err = b.JS.Stream(ctx, "KV_"+bus.BucketClaims); err != nil {
		return nil, fmt.Errorf("claims bucket: %w", err)
	}
	s.handles = h
	return h, nil
}

// Handler serves every route: the API under /v1/ (token required),
// /healthz and /readyz (no token), /metrics (token required).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.auth(http.HandlerFunc(s.metrics)))
	mux.Handle("POST /v1/batches", s.auth(http.HandlerFunc(s.postBatch)))
	mux.Handle("GET /v1/batches/{id}", s.auth(http.HandlerFunc(s.getBatch)))
	mux.Handle("GET /v1/claims", s.auth(http.HandlerFunc(s.listClaims)))
	mux.Handle("GET /v1/claims/{id}", s.auth(http.HandlerFunc(s.getClaim)))
	mux.Handle("POST /v1/claims/{id}/replace", s.auth(http.HandlerFunc(s.replace)))
	mux.Handle("POST /v1/claims/{id}/void", s.auth(http.HandlerFunc(s.void)))
	return s.logged(jsonMuxErrors(mux))
}

// jsonMuxErrors turns the mux's own plain-text answers, 404 (no such
// route) and 405 (a route asked with the wrong method), into the API's
// JSON errors.
func jsonMuxErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&methodWriter{ResponseWriter: w}, r)
	})
}

type methodWriter struct {
	http.ResponseWriter
	swallow bool
}

func (w *methodWriter) WriteHeader(code int) {
	if strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		switch code {
		case http.StatusMethodNotAllowed:
			w.swallow = true
			writeError(w.ResponseWriter, code, "method_not_allowed", "this route does not take that method (see Allow)", "")
			return
		case http.StatusNotFound:
			w.swallow = true
			writeError(w.ResponseWriter, code, "not_found", "no such route", "")
			return
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *methodWriter) Write(p []byte) (int, error) {
	if w.swallow {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// OpsHandler serves /healthz, /readyz and /metrics without a token, for
// a separate operations listener.
func (s *Server) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /metrics", s.metrics)
	return s.logged(jsonMuxErrors(mux))
}

// NewHTTPServer is the http.Server for a handler, with the timeouts a
// server facing PM systems needs: a slow client cannot hold a connection
// open for ever, while a 64 MiB batch still has minutes to arrive.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// CheckListen refuses to serve the API without a token anywhere but on
// a loopback address.
func CheckListen(addr string, tokens []string) error {
	for _, t := range tokens {
		if strings.TrimSpace(t) != "" {
			return nil
		}
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("api: no token configured (--api-tokens-file or CLAIMGATE_API_TOKENS): refusing to serve on %s, which is not a loopback address", addr)
}

// LoadTokens reads bearer tokens: one per line of file ("" for none;
// blank lines and lines starting with # are skipped) and the
// comma-separated env value. Tokens are never logged.
func LoadTokens(file, env string) ([]string, error) {
	var out []string
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("api tokens: %w", err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			out = append(out, l)
		}
	}
	for _, t := range strings.Split(env, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out, nil
}

// auth refuses a request without a configured bearer token. Every token
// is compared (in constant time, as SHA-256 digests so lengths do not
// show), whichever matches.
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tokens := *s.tokens.Load(); len(tokens) > 0 {
			h := r.Header.Get("Authorization")
			tok, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				tok, ok = strings.CutPrefix(h, "bearer ")
			}
			got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
			match := 0
			for i := range tokens {
				match |= subtle.ConstantTimeCompare(got[:], tokens[i][:])
			}
			if !ok || match != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="claimgate"`)
				writeError(w, http.StatusUnauthorized, "unauthorized", "a valid bearer token is required", "")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// reqInfo carries what the log line may say about a request.
type reqInfo struct {
	batch string // batch id (a digest)
	claim string // SHA-256 prefix of a claim id
	id    string // the claim id itself: never logged, only redacted from errors
}

type infoKey struct{}

func info(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(infoKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

// ClaimRef is what logs carry for a claim id (which may hold patient
// data): the first 12 hex digits of its SHA-256.
func ClaimRef(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:6])
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// logged logs one line per request: no path (it holds claim ids), no
// query, no body.
func (s *Server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &reqInfo{}
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, ri))
		next.ServeHTTP(sw, r)
		attrs := []any{"method", r.Method, "route", r.Pattern, "status", sw.status, "took", time.Since(start).Round(time.Microsecond)}
		if ri.batch != "" {
			attrs = append(attrs, "batch", short(ri.batch))
		}
		if ri.claim != "" {
			attrs = append(attrs, "claim", ri.claim)
		}
		s.log.Info("http", attrs...)
	})
}

func short(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

// Error is the body of every error answer.
type Error struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is an error's stable code, a message for people and, when
// one is to blame, the field.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func writeError(w http.ResponseWriter, status int, code, msg, field string) {
	writeJSON(w, status, Error{ErrorBody{Code: code, Message: msg, Field: field}})
}

// internal answers 500 without the error's text (it may name stores or
// claims), which goes to the log.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	msg := err.Error()
	if id := info(r).id; id != "" {
		// Store errors can name a record's key (c.<claim id token>).
		msg = strings.ReplaceAll(strings.ReplaceAll(msg, bus.Token(id), "<claim>"), id, "<claim>")
	}
	s.log.Error("http internal error", "route", r.Pattern, "err", msg)
	writeError(w, http.StatusInternalServerError, "internal", "internal error; see the server's log", "")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.Encode(v)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 once NATS is connected and the gateway's streams
// exist.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if !s.cfg.Bus.NC.IsConnected() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "NATS not connected"})
		return
	}
	for _, st := range []string{bus.StreamBatches, bus.StreamFilesOut, bus.StreamFilesIn, bus.StreamEvents} {
		if _, err := s.cfg.Bus.JS.Stream(ctx, st); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "stream " + st + " not available"})
			return
		}
	}
	if _, err := s.stores(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "stores not available"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Metrics == nil {
		writeError(w, http.StatusNotFound, "not_found", "metrics are not configured", "")
		return
	}
	s.cfg.Metrics.ServeHTTP(w, r)
}
