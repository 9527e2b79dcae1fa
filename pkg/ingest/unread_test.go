package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// accounted checks that every claim of the sample is emitted, rejected
// with an error naming it, or counted as unread.
func accounted(t *testing.T, d decoded, n int) {
	t.Helper()
	if got := d.sum.Claims + d.sum.Rejected + d.sum.Unread; got != n {
		t.Errorf("claims %d + rejected %d + unread %d = %d, the batch has %d:%s", d.sum.Claims, d.sum.Rejected, d.sum.Unread, got, n, d.dump())
	}
}

// TestJSONSyntaxErrorCountsUnread: a syntax error ends a JSON batch; the
// claims from the broken one on are counted and the error says from
// which claim nothing was read.
func TestJSONSyntaxErrorCountsUnread(t *testing.T) {
	data := readTestdata(t, "pt_batch.json")
	for _, c := range []struct {
		name   string
		mutate func([]byte) []byte
		index  int
		unread int
		claims int // in the input
	}{
		{"comma missing between claims", func(b []byte) []byte {
			at := bytes.Index(b, []byte(`"RB250004-1"`))
			at += bytes.Index(b[at:], []byte("},")) + 1
			return append(append([]byte{}, b[:at]...), b[at+1:]...)
		}, 3, 1, 4},
		{"bare word in claims[1]", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"Oyelaran"`), []byte(`Oyelaran`), 1)
		}, 1, 3, 4},
		{"stray quote in claims[0]", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"Lindqvist"`), []byte(`"Lind"qvist"`), 1)
		}, 0, 4, 4},
		{"truncated in claims[2]", func(b []byte) []byte {
			return b[:bytes.Index(b, []byte(`"id": "RB-25-0003"`))+200]
		}, 2, 1, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := decodeBytes(t, FormatJSON, c.mutate(data))
			var be *BatchError
			if !errors.As(d.err, &be) || be.Index != c.index {
				t.Fatalf("err = %v", d.err)
			}
			if d.sum.Unread != c.unread || !strings.Contains(be.Error(), fmt.Sprintf("claims[%d] and the claims after it were not read (%d claim(s)", c.index, c.unread)) {
				t.Errorf("unread %d: %v", d.sum.Unread, be)
			}
			accounted(t, d, c.claims)
		})
	}
}

// TestCSVBrokenRowsResync: broken rows cost their own claims only; every
// claim is emitted or rejected by an error naming it, and nothing after a
// broken row is lost.
func TestCSVBrokenRowsResync(t *testing.T) {
	tb := goodCSV(t)
	r2 := tb.rowsOf(t, "RB-25-0002")
	r3 := tb.rowsOf(t, "RB-25-0003")
	tb.set(t, r3[0], "claim_id", "\x00QUOTE\x00RB-25-0003") // the claim id itself broken
	tb.set(t, r2[0], "subscriber_last", "\x00QUOTE\x00Vasquez")
	data := bytes.ReplaceAll(tb.bytes(), []byte("\x00QUOTE\x00"), []byte(`"`))
	d := decodeBytes(t, FormatCSV, data)
	if d.err != nil {
		t.Fatal(d.err)
	}
	// RB-25-0002 is refused for its broken row; the row whose claim id is
	// unreadable refuses the claim before it (already refused) and the one
	// it may belong to (RB-25-0003); RB-25-0001 and RB-25-0004 are read.
	if want := []string{"RB-25-0001", "RB-25-0004"}; !reflect.DeepEqual(d.ids(), want) {
		t.Errorf("emitted %v:%s", d.ids(), d.dump())
	}
	for _, id := range []string{"RB-25-0002", "RB-25-0003"} {
		if len(d.errorsFor(id)) == 0 {
			t.Errorf("%s not reported:%s", id, d.dump())
		}
	}
	if e := d.find("RB-25-0002", "", "field 1 has an opening quote"); e == nil || e.Row != r3[0]+2 {
		t.Errorf("unplaced broken row not reported by number:%s", d.dump())
	}
	accounted(t, d, 4)
}

// TestCSVFieldAcrossLines: a quoted note running across lines breaks its
// row; the line after it is the note's rest, reported but never taken for
// a claim (its cells are patient text, not an id), and the claims after
// are read.
func TestCSVFieldAcrossLines(t *testing.T) {
	tb := goodCSV(t)
	r2 := tb.rowsOf(t, "RB-25-0002")
	tb.set(t, r2[0], "claim_note", "ZZNOTE fell at home\nZZNOTE2 rest, of the note")
	d := decodeBytes(t, FormatCSV, tb.bytes())
	if d.err != nil {
		t.Fatal(d.err)
	}
	if want := []string{"RB-25-0001", "RB-25-0003", "RB-25-0004"}; !reflect.DeepEqual(d.ids(), want) {
		t.Errorf("emitted %v:%s", d.ids(), d.dump())
	}
	for _, e := range d.sum.Errors {
		if strings.Contains(e.Error(), "ZZNOTE") {
			t.Errorf("note text in error: %s", e.Error())
		}
	}
	if e := d.find("RB-25-0002", "", "may be the rest of row"); e == nil || e.Row != r2[0]+3 {
		t.Errorf("continuation line not reported:%s", d.dump())
	}
	accounted(t, d, 4)
}
