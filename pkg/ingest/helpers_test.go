package ingest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const batchDir = "../../testdata/batches"

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(batchDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decoded is what one decoder call produced.
type decoded struct {
	results []Result
	sum     Summary
	err     error
}

func decodeBytes(t testing.TB, f Format, data []byte) decoded {
	t.Helper()
	var d decoded
	emit := func(r Result) error { d.results = append(d.results, r); return nil }
	switch f {
	case FormatJSON:
		d.sum, d.err = DecodeJSON(bytes.NewReader(data), "B1", emit)
	case FormatCSV:
		d.sum, d.err = DecodeCSV(bytes.NewReader(data), "B1", emit)
	default:
		t.Fatalf("format %v", f)
	}
	// Invariants of every decode.
	if d.sum.Claims != len(d.results) {
		t.Errorf("Summary.Claims = %d, emitted %d", d.sum.Claims, len(d.results))
	}
	for _, e := range d.sum.Errors {
		if e.Batch != "B1" || e.Reason == "" {
			t.Errorf("malformed RowError %+v", e)
		}
	}
	return d
}

func (d decoded) ids() []string {
	var ids []string
	for _, r := range d.results {
		ids = append(ids, r.Claim.ID)
	}
	return ids
}

// errorsFor returns the errors about claim id.
func (d decoded) errorsFor(id string) []*RowError {
	var out []*RowError
	for _, e := range d.sum.Errors {
		if e.ClaimID == id {
			out = append(out, e)
		}
	}
	return out
}

// find returns the first error about claim id and field whose reason
// contains reason, or nil.
func (d decoded) find(id, field, reason string) *RowError {
	for _, e := range d.sum.Errors {
		if e.ClaimID == id && e.Field == field && strings.Contains(e.Reason, reason) {
			return e
		}
	}
	return nil
}

func (d decoded) dump() string {
	var b strings.Builder
	for _, e := range d.sum.Errors {
		b.WriteString("\n  ")
		b.WriteString(e.Error())
	}
	if d.err != nil {
		b.WriteString("\n  fatal: " + d.err.Error())
	}
	return b.String()
}

// goodJSON returns the sample batch as a generic tree to mutate.
func goodJSON(t testing.TB) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(readTestdata(t, "pt_batch.json")))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pathSteps splits "claims[1].lines[0].charge" into keys and indices.
func pathSteps(path string) []any {
	var steps []any
	for _, part := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			steps = append(steps, name)
		}
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			n, _ := strconv.Atoi(idx)
			steps = append(steps, n)
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return steps
}

// setPath sets (or, with del, deletes) the value at path in a tree from
// encoding/json.
func setPath(t testing.TB, root any, path string, val any, del bool) {
	t.Helper()
	steps := pathSteps(path)
	cur := root
	for i, s := range steps {
		last := i == len(steps)-1
		switch k := s.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				t.Fatalf("setPath %s: %v is not an object", path, cur)
			}
			if last {
				if del {
					delete(m, k)
				} else {
					m[k] = val
				}
				return
			}
			if _, ok := m[k]; !ok {
				m[k] = map[string]any{}
			}
			cur = m[k]
		case int:
			a, ok := cur.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("setPath %s: no element %d", path, k)
			}
			if last {
				a[k] = val
				return
			}
			cur = a[k]
		}
	}
}

// csvTable is a CSV batch as header and rows, to mutate by column name.
type csvTable struct {
	header []string
	rows   [][]string
}

func goodCSV(t testing.TB) *csvTable {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(readTestdata(t, "pt_batch.csv"))), "\n")
	tb := &csvTable{header: splitCSV(lines[0])}
	for _, l := range lines[1:] {
		tb.rows = append(tb.rows, splitCSV(l))
	}
	return tb
}

// splitCSV splits a line of the sample, which quotes nothing.
func splitCSV(l string) []string { return strings.Split(l, ",") }

func (tb *csvTable) col(t testing.TB, name string) int {
	t.Helper()
	for i, h := range tb.header {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %s", name)
	return -1
}

// set sets column name of data row i (0-based, so CSV line i+2).
func (tb *csvTable) set(t testing.TB, i int, name, v string) {
	tb.rows[i][tb.col(t, name)] = v
}

func (tb *csvTable) bytes() []byte {
	var b bytes.Buffer
	write := func(rec []string) {
		for i, f := range rec {
			if i > 0 {
				b.WriteByte(',')
			}
			if strings.ContainsAny(f, ",\"\n\r") {
				f = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
			}
			b.WriteString(f)
		}
		b.WriteByte('\n')
	}
	write(tb.header)
	for _, r := range tb.rows {
		write(r)
	}
	return b.Bytes()
}

// rowsOf returns the indices of the data rows of claim id.
func (tb *csvTable) rowsOf(t testing.TB, id string) []int {
	var out []int
	c := tb.col(t, "claim_id")
	for i, r := range tb.rows {
		if r[c] == id {
			out = append(out, i)
		}
	}
	return out
}
