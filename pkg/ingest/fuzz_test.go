package ingest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"github.com/claimgate/claimgate/edi/x12"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzMarker is fake patient data put in the seeds' PHI fields: an error
// about a PHI field must never show it.
const fuzzMarker = "ZZPHI"

// phiSeed returns the sample batch with its patients' names, member ids
// and notes replaced by marker values.
func phiSeed(t testing.TB, name string) []byte {
	b := readTestdata(t, name)
	for _, old := range []string{"Lindqvist", "Harold", "4TK9AA2MN56", "Vasquez-Ruiz", "Elena", "Mateo", "XKP448812301", "Corrected units on 97140"} {
		b = bytes.ReplaceAll(b, []byte(old), []byte(fuzzMarker+"~"+old[:2]))
	}
	return b
}

// checkErrors holds what every decode must give: errors that show no
// marker in the reason of a PHI field, and no raw control character or
// invalid UTF-8 anywhere.
func checkErrors(t *testing.T, sum Summary, err error) {
	t.Helper()
	var texts []string
	for _, e := range sum.Errors {
		if isPHIField(e.Field) && strings.Contains(e.Reason, fuzzMarker) {
			t.Errorf("PHI in error: %s", e.Error())
		}
		texts = append(texts, e.Error())
	}
	if err != nil {
		texts = append(texts, err.Error())
	}
	for _, s := range texts {
		if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r >= 0x7f && r < 0xa0 }) {
			t.Errorf("unescaped error text %q", s)
		}
	}
}

// FuzzDecodeCSV: no panic; every row that is a sound record names a
// claim that is emitted or named by an error; errors show no PHI.
func FuzzDecodeCSV(f *testing.F) {
	good := phiSeed(f, "pt_batch.csv")
	f.Add(good)
	f.Add(bytes.Replace(good, []byte(","+fuzzMarker), []byte(`,"`+fuzzMarker), 2))
	f.Add(bytes.Replace(good, []byte("\n"), []byte("\r\n"), -1))
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		emitted := map[string]bool{}
		d := Decoder{MaxErrors: -1, MaxRecordBytes: 4096}
		sum, err := d.DecodeCSV(bytes.NewReader(data), "fuzz", func(r Result) error {
			emitted[r.Claim.ID] = true
			return nil
		})
		checkErrors(t, sum, err)
		if sum.Claims != len(emitted) && err == nil {
			// Ids are unique among emitted claims: a repeated id is refused.
			t.Errorf("Summary.Claims %d, emitted %d", sum.Claims, len(emitted))
		}
		if err != nil {
			return // a bad header: nothing was read
		}
		named := map[string]bool{}
		for _, e := range sum.Errors {
			named[e.ClaimID] = true
		}
		lines := bytes.Split(data, []byte("\n"))
		var header []string
		idCol := -1
		for _, l := range lines {
			if len(bytes.TrimRight(l, "\r")) == 0 {
				continue
			}
			cr := csv.NewReader(bytes.NewReader(l))
			cr.LazyQuotes = true
			rec, rerr := cr.Read()
			if header == nil {
				header = rec
				for i, h := range rec {
					if strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))) == "claim_id" {
						idCol = i
					}
				}
				if idCol < 0 {
					t.Fatalf("header without claim_id accepted: %q", l)
				}
				continue
			}
			if rerr != nil || len(rec) != len(header) || len(l) > 4000 || brokenField(rec) >= 0 {
				continue
			}
			id := strings.TrimSpace(rec[idCol])
			// Errors name a claim by its escaped id (x12.Printable).
			if id != "" && !emitted[id] && !named[id] && !named[x12.Printable(id)] {
				t.Errorf("claim %q of row %q neither emitted nor reported", id, l)
			}
		}
	})
}

// FuzzDecodeJSON: no panic; every claim before the point where reading
// stopped is emitted or rejected, the claims from there on are counted as
// unread; errors show no PHI.
func FuzzDecodeJSON(f *testing.F) {
	good := phiSeed(f, "pt_batch.json")
	f.Add(good)
	f.Add(good[:len(good)*2/3])
	f.Add(bytes.Replace(good, []byte(`"`+fuzzMarker), []byte(fuzzMarker), 1))
	f.Add(bytes.Replace(good, []byte(`"member_id": "`+fuzzMarker+`~4T"`), []byte(`"member_id": 19510203`), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		d := Decoder{MaxErrors: -1, MaxRecordBytes: 8192}
		sum, err := d.DecodeJSON(bytes.NewReader(data), "fuzz", func(Result) error { n++; return nil })
		checkErrors(t, sum, err)
		if sum.Claims != n {
			t.Errorf("Summary.Claims %d, emitted %d", sum.Claims, n)
		}
		var be *BatchError
		switch {
		case err == nil:
			if sum.Unread != 0 {
				t.Errorf("unread %d without an error", sum.Unread)
			}
			if want := countClaims(data); want >= 0 && sum.Claims+sum.Rejected != want {
				t.Errorf("claims %d + rejected %d, the batch has %d", sum.Claims, sum.Rejected, want)
			}
		case !errors.As(err, &be):
			t.Fatalf("error %T %v", err, err)
		case be.Index >= 0:
			if sum.Claims+sum.Rejected != be.Index {
				t.Errorf("claims %d + rejected %d before claims[%d]", sum.Claims, sum.Rejected, be.Index)
			}
		}
	})
}

// countClaims counts the elements of the first "claims" array of a
// valid batch, or returns -1.
func countClaims(data []byte) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return -1
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return -1
		}
		if key != "claims" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return -1
			}
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			return -1
		}
		n := 0
		for dec.More() {
			var raw json.RawMessage
			if dec.Decode(&raw) != nil {
				return -1
			}
			n++
		}
		return n
	}
	return -1
}
