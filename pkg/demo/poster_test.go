package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
)

// contractServer answers POST /v1/batches as the API contract says
// (bearer token, media types, 202 with the batch id, a re-post of the
// same bytes a duplicate): a stand-in for pkg/api in this unit test of
// HTTPPoster.Post only.
func contractServer(t *testing.T, token string) (*httptest.Server, *sync.Map) {
	bodies := &sync.Map{} // batch id → content type
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fail := func(status int, code string) {
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": code + " message"}})
		}
		if r.Method != http.MethodPost || r.URL.Path != "/v1/batches" {
			fail(http.StatusNotFound, "not_found")
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			fail(http.StatusUnauthorized, "unauthorized")
			return
		}
		ct := r.Header.Get("Content-Type")
		if ct != "application/json" && ct != "text/csv" && ct != "application/edi-x12" {
			fail(http.StatusUnsupportedMediaType, "unsupported_media_type")
			return
		}
		b, err := io.ReadAll(r.Body)
		if err != nil || int64(len(b)) != r.ContentLength {
			fail(http.StatusBadRequest, "invalid_batch")
			return
		}
		sum := sha256.Sum256(b)
		id := hex.EncodeToString(sum[:])
		_, dup := bodies.LoadOrStore(id, ct)
		w.Header().Set("Location", "/v1/batches/"+id)
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(map[string]any{"batch_id": id, "location": "/v1/batches/" + id, "duplicate": dup})
	}))
	t.Cleanup(srv.Close)
	return srv, bodies
}

func TestHTTPPoster(t *testing.T) {
	srv, bodies := contractServer(t, "s3cret")
	ctx := context.Background()
	p := &HTTPPoster{BaseURL: srv.URL + "/", Token: "s3cret", Client: srv.Client()}
	want := map[string]string{sampleBatches[0]: "application/json", sampleBatches[1]: "text/csv"}
	for path, ct := range want {
		got, err := p.Post(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		sum := sha256.Sum256(b)
		if got.BatchID != hex.EncodeToString(sum[:]) || got.Duplicate || got.Location != "/v1/batches/"+got.BatchID {
			t.Fatalf("%s: %+v", path, got)
		}
		if v, _ := bodies.Load(got.BatchID); v != ct {
			t.Errorf("%s posted as %v, want %s", path, v, ct)
		}
		again, err := p.Post(ctx, path)
		if err != nil || !again.Duplicate || again.BatchID != got.BatchID {
			t.Errorf("re-post: %+v %v", again, err)
		}
	}
	// A wrong token: the API's error code and message in the error.
	bad := &HTTPPoster{BaseURL: srv.URL, Token: "wrong", Client: srv.Client()}
	if _, err := bad.Post(ctx, sampleBatches[0]); err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "unauthorized") {
		t.Errorf("wrong token: %v", err)
	}
	// Not a batch: refused before anything is sent.
	junk := t.TempDir() + "/junk.txt"
	os.WriteFile(junk, []byte("hello\n"), 0o600)
	if _, err := p.Post(ctx, junk); err == nil || !strings.Contains(err.Error(), "not a JSON, CSV or 837P batch") {
		t.Errorf("junk: %v", err)
	}
}
