package ingest

import (
	"encoding/csv"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestPlainRecordIsEncodingCSV: for every line plainRecord takes, its
// fields and its field-count verdict are encoding/csv's (LazyQuotes, the
// header's field count); lines with quotes or stray carriage returns are
// left to encoding/csv.
func TestPlainRecordIsEncodingCSV(t *testing.T) {
	b := &csvBatch{cols: make([]*csvColumn, 3)}
	lines := []string{
		"a,b,c\n", "a,b,c\r\n", "a,b,c", " a , b ,c \n", ",,\n", "a,b\n", "a,b,c,d\r\n",
		"é,ü,\xff\n", "a,,c", "a\tb,c,d\n",
		`a,"b",c` + "\n", "a,b\rx,c\n", "a,b,c\r", `a,b"c,d` + "\n",
	}
	taken := 0
	for _, line := range lines {
		rec, err, ok := b.plainRecord([]byte(line))
		if !ok {
			continue
		}
		taken++
		cr := csv.NewReader(strings.NewReader("h1,h2,h3\n" + line))
		cr.LazyQuotes = true
		if _, err := cr.Read(); err != nil {
			t.Fatal(err)
		}
		want, werr := cr.Read()
		if !reflect.DeepEqual(rec, want) || errors.Is(err, csv.ErrFieldCount) != errors.Is(werr, csv.ErrFieldCount) || (err == nil) != (werr == nil) {
			t.Errorf("%q: plainRecord = %q, %v; encoding/csv = %q, %v", line, rec, err, want, werr)
		}
	}
	if taken != 10 {
		t.Errorf("plainRecord took %d lines, want 10", taken)
	}
}
