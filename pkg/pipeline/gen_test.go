package pipeline

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sampleBatch is the project's sample CSV batch; its claims RB-25-0002
// and RB-25-0003 pass every edit and serve as templates.
const sampleBatch = "../../testdata/batches/pt_batch.csv"

// writeBatch writes a CSV batch of n original claims, alternating the two
// clean templates, each with its own claim id and member id (so none is a
// duplicate of another), spread over payers in turn.
func writeBatch(t testing.TB, w io.Writer, n int, payers []string) {
	t.Helper()
	f, err := os.Open(sampleBatch)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	var tmpl [2][][]string
	for _, r := range recs[1:] {
		switch r[col["claim_id"]] {
		case "RB-25-0002":
			tmpl[0] = append(tmpl[0], r)
		case "RB-25-0003":
			tmpl[1] = append(tmpl[1], r)
		}
	}
	// Each template row is written once through encoding/csv with tokens
	// in the columns that vary, and split around them: a claim is then
	// a few appends (fast even under -race, for 300,000 claims).
	vary := []string{"claim_id", "subscriber_member_id", "payer_id", "payer_name"}
	type piece struct {
		text string
		col  int // index into vary of the value after text; -1 at the end
	}
	var rows [2][][]piece
	for k := range tmpl {
		for _, r := range tmpl[k] {
			row := append([]string(nil), r...)
			for i, name := range vary {
				row[col[name]] = fmt.Sprintf("\x01%d\x01", i)
			}
			var sb strings.Builder
			cw := csv.NewWriter(&sb)
			cw.Write(row)
			cw.Flush()
			var ps []piece
			line := sb.String()
			for {
				i := strings.IndexByte(line, 1)
				if i < 0 {
					ps = append(ps, piece{text: line, col: -1})
					break
				}
				n := int(line[i+1] - '0')
				ps = append(ps, piece{text: line[:i], col: n})
				line = line[i+3:]
			}
			rows[k] = append(rows[k], ps)
		}
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := csv.NewWriter(bw)
	cw.Write(recs[0])
	cw.Flush()
	var buf []byte
	vals := make([]string, len(vary))
	for i := range n {
		payer := payers[i%len(payers)]
		vals[0] = fmt.Sprintf("G%08d", i)
		vals[1] = fmt.Sprintf("M%010d", i)
		vals[2] = payer
		vals[3] = "Payer " + payer
		for _, ps := range rows[i%2] {
			buf = buf[:0]
			for _, p := range ps {
				buf = append(buf, p.text...)
				if p.col >= 0 {
					buf = append(buf, vals[p.col]...)
				}
			}
			if _, err := bw.Write(buf); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestMain lets a test write a batch file for manual runs:
// CLAIMGATE_WRITE_BATCH=path:N go test -run XXX ./pkg/pipeline
func TestMain(m *testing.M) {
	if spec := os.Getenv("CLAIMGATE_WRITE_BATCH"); spec != "" {
		var path string
		var n int
		for i := len(spec) - 1; i >= 0; i-- {
			if spec[i] == ':' {
				path = spec[:i]
				fmt.Sscan(spec[i+1:], &n)
				break
			}
		}
		f, err := os.Create(path)
		if err != nil {
			panic(err)
		}
		writeBatch(&testing.B{}, f, n, []string{"ACME.1", "ACME 1", "BHX77", "SMI03", "MCR01"})
		f.Close()
	}
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath)) // the binary claimgateBin built
	}
	os.Exit(code)
}
