package pipeline

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
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
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := csv.NewWriter(bw)
	cw.Write(recs[0])
	row := make([]string, len(recs[0]))
	for i := range n {
		payer := payers[i%len(payers)]
		for _, r := range tmpl[i%2] {
			copy(row, r)
			row[col["claim_id"]] = fmt.Sprintf("G%08d", i)
			row[col["subscriber_member_id"]] = fmt.Sprintf("M%010d", i)
			row[col["payer_id"]] = payer
			row[col["payer_name"]] = "Payer " + payer
			cw.Write(row)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		t.Fatal(err)
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
	os.Exit(m.Run())
}
