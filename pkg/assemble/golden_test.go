package assemble_test

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x837p"
	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/config"
	"github.com/claimgate/claimgate/pkg/ingest"
)

var update = flag.Bool("update", false, "rewrite the golden 837P files")

type nopCloser struct{ *bytes.Buffer }

func (nopCloser) Close() error { return nil }

// TestGolden837P assembles the sample PT batch (testdata/batches) with the
// example configuration and a fixed clock, and compares every file with
// testdata/golden/837p. The golden files were checked with pyx12's
// x12valid (see docs/837p-validation.md); regenerate them with
// go test ./pkg/assemble -run Golden -update and check them again.
func TestGolden837P(t *testing.T) {
	cfg, err := config.Load("../../deploy/claimgate.example.json")
	if err != nil {
		t.Fatal(err)
	}
	ac := cfg.Assemble()
	ac.Now = func() time.Time { return time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC) }
	a, err := assemble.New(ac, &x12.MemoryControlNumbers{Start: 1000})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../../testdata/batches/pt_batch.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := ingest.DecodeJSON(f, "pt_batch", func(r ingest.Result) error { return a.Add(r.Claim) })
	if err != nil || sum.Rejected != 0 {
		t.Fatalf("decode: %v %+v", err, sum)
	}
	out := map[string]*bytes.Buffer{}
	files, err := a.Flush(context.Background(), func(payer string) (io.WriteCloser, error) {
		out[payer] = &bytes.Buffer{}
		return nopCloser{out[payer]}, nil
	})
	if err != nil || len(files) != 3 {
		t.Fatalf("flush: %v, %d files", err, len(files))
	}
	for payer, got := range out {
		path := filepath.Join("../../testdata/golden/837p", payer+".837")
		if *update {
			os.WriteFile(path, got.Bytes(), 0o644)
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s differs from the golden file:\n got %s\nwant %s", payer, got, want)
		}
		fs, err := x837p.Validate(bytes.NewReader(got.Bytes()), path)
		if err != nil || fs.Errors() != 0 {
			t.Errorf("%s: golden file has TR3 errors: %v %v", payer, err, fs)
		}
	}
}
