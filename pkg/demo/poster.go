package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/gateway"
	"github.com/claimgate/claimgate/pkg/ingest"
)

// Posted is the gateway's answer to a batch handed to it.
type Posted struct {
	// BatchID identifies the batch (its SHA-256 for gateway.Submit; the
	// API's id over HTTP).
	BatchID string `json:"batch_id"`
	// Location is the batch's status URL path (HTTP only).
	Location string `json:"location,omitempty"`
	// Duplicate: the gateway had the batch already and created nothing.
	Duplicate bool `json:"duplicate"`
}

// Poster hands one batch file to the gateway.
type Poster interface {
	Post(ctx context.Context, path string) (Posted, error)
}

// ContentType is the media type of a batch file for POST /v1/batches:
// JSON, CSV or an 837P, told from its first bytes.
func ContentType(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	format, _, err := ingest.Detect(io.LimitReader(f, 64<<10))
	if err != nil {
		return "", err
	}
	switch format {
	case ingest.FormatJSON:
		return "application/json", nil
	case ingest.FormatCSV:
		return "text/csv", nil
	case ingest.FormatX12:
		return "application/edi-x12", nil
	}
	return "", fmt.Errorf("%s: not a JSON, CSV or 837P batch", filepath.Base(path))
}

// HTTPPoster posts batches to the HTTP API: POST BaseURL/v1/batches with
// the bearer Token, the body streamed from the file.
type HTTPPoster struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	Token   string
	Client  *http.Client // nil: http.DefaultClient
}

// apiError is the API's error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// Post sends the batch file at path. The API recognises a re-post of the
// same bytes: it answers with the same batch id and duplicate true.
func (p *HTTPPoster) Post(ctx context.Context, path string) (Posted, error) {
	ct, err := ContentType(path)
	if err != nil {
		return Posted{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Posted{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Posted{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(p.BaseURL, "/")+"/v1/batches", f)
	if err != nil {
		return Posted{}, err
	}
	req.ContentLength = st.Size()
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+p.Token)
	req.Header.Set("Accept", "application/json")
	c := p.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return Posted{}, fmt.Errorf("POST /v1/batches: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Posted{}, fmt.Errorf("POST /v1/batches: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		var ae apiError
		if json.Unmarshal(body, &ae) == nil && ae.Error.Code != "" {
			return Posted{}, fmt.Errorf("POST /v1/batches: %s: %s (%s)", resp.Status, ae.Error.Message, ae.Error.Code)
		}
		return Posted{}, fmt.Errorf("POST /v1/batches: %s", resp.Status)
	}
	var out Posted
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&out); err != nil {
		return Posted{}, fmt.Errorf("POST /v1/batches: answer: %w", err)
	}
	if out.BatchID == "" {
		return Posted{}, errors.New("POST /v1/batches: answer without batch_id")
	}
	if out.Location == "" {
		out.Location = resp.Header.Get("Location")
	}
	return out, nil
}

// BusPoster hands batches straight to the batch stream with
// gateway.Submit, as "claimgate submit" does: the fallback while the
// binary has no HTTP API.
type BusPoster struct {
	Bus *bus.Bus
}

// Post submits the batch file at path.
func (p *BusPoster) Post(ctx context.Context, path string) (Posted, error) {
	if _, err := ContentType(path); err != nil {
		return Posted{}, err
	}
	id, dup, err := gateway.Submit(ctx, p.Bus, path, filepath.Base(path))
	if err != nil {
		return Posted{}, err
	}
	return Posted{BatchID: id, Duplicate: dup}, nil
}
