package ingest

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeCSVSample(t *testing.T) {
	d := decodeBytes(t, FormatCSV, readTestdata(t, "pt_batch.csv"))
	checkSample(t, d)
	wantRows := [][]int{{2, 3, 4, 5, 6}, {7, 8}, {9, 10, 11}, {12, 13}}
	for i, r := range d.results {
		if r.Source.Batch != "B1" || r.Source.Index != -1 || !reflect.DeepEqual(r.Source.Rows, wantRows[i]) {
			t.Errorf("claim %d source %+v, want rows %v", i, r.Source, wantRows[i])
		}
	}
	if d.sum.Header != (Header{}) {
		t.Errorf("CSV header %+v", d.sum.Header)
	}
}

// The two sample files hold the same batch: both decoders must agree
// on every field.
func TestCSVAndJSONAgree(t *testing.T) {
	j := decodeBytes(t, FormatJSON, readTestdata(t, "pt_batch.json"))
	c := decodeBytes(t, FormatCSV, readTestdata(t, "pt_batch.csv"))
	if len(j.results) != 4 || len(c.results) != 4 {
		t.Fatalf("json %d claims, csv %d", len(j.results), len(c.results))
	}
	for i := range j.results {
		if !reflect.DeepEqual(j.results[i].Claim, c.results[i].Claim) {
			t.Errorf("claim %d differs:\njson %+v\n csv %+v", i, j.results[i].Claim, c.results[i].Claim)
		}
	}
}

// Columns are found by name: any order, any case, a byte order mark and
// CRLF line ends make no difference.
func TestCSVColumnOrderAndDialect(t *testing.T) {
	tb := goodCSV(t)
	perm := rand.New(rand.NewPCG(1, 2)).Perm(len(tb.header))
	shuffled := &csvTable{}
	for _, p := range perm {
		shuffled.header = append(shuffled.header, strings.ToUpper(tb.header[p]))
	}
	for _, r := range tb.rows {
		var nr []string
		for _, p := range perm {
			nr = append(nr, r[p])
		}
		shuffled.rows = append(shuffled.rows, nr)
	}
	data := append([]byte("\uFEFF"), bytes.ReplaceAll(shuffled.bytes(), []byte("\n"), []byte("\r\n"))...)
	data = append(data, []byte(strings.Repeat(",", len(tb.header)-1)+"\r\n")...) // trailing empty rows
	data = append(data, []byte(",,,\r\n")...)
	checkSample(t, decodeBytes(t, FormatCSV, data))
}

// wantCSVRejected asserts that exactly claim id was rejected, with an
// error at row on column field whose reason contains reason.
func wantCSVRejected(t *testing.T, d decoded, id string, row int, field, reason string) *RowError {
	t.Helper()
	e := wantRejected(t, d, id, field, reason)
	if e != nil && e.Row != row {
		t.Errorf("error %v: row %d, want %d", e, e.Row, row)
	}
	if e != nil && e.Index != -1 {
		t.Errorf("CSV error with Index %d", e.Index)
	}
	return e
}

func TestCSVFieldErrors(t *testing.T) {
	tests := []struct {
		name       string
		row        int // data row to change (0-based; CSV line row+2)
		col, value string
		reason     string
	}{
		{"impossible date", 6, "service_date", "2024-02-30", `date "2024-02-30" is not a valid YYYY-MM-DD date`},
		{"US date", 5, "subscriber_birth_date", "11/02/1981", `(value withheld; --show-values to see it) is not a valid`}, // PHI: the value is withheld
		{"three decimals", 6, "charge", "98.001", "more than two decimals"},
		{"dollar sign", 6, "charge", "$98.00", "is not a decimal number"},
		{"negative charge", 6, "charge", "-98.00", "must not be negative"},
		{"blank charge", 6, "charge", "", "is required"},
		{"blank units", 6, "units", "", "is required"},
		{"fractional units", 6, "units", "1.5", `"1.5" is not a whole number`},
		{"zero units", 6, "units", "0", "must be a positive whole number"},
		{"minutes text", 6, "minutes", "twenty", "is not a whole number"},
		{"procedure", 6, "procedure", "9711", "is not a procedure code"},
		{"modifier", 6, "modifiers", "GPX", `modifier "GPX" must be 2`},
		{"five modifiers", 6, "modifiers", "CQ:59:GP:KX:XE", "at most 4"},
		{"empty modifier", 6, "modifiers", "GP::59", "has an empty element"},
		{"pointer", 6, "diagnosis_pointers", "1:3", "pointer 3 does not point at one of the claim's 2 diagnoses"},
		{"pointer text", 6, "diagnosis_pointers", "A", "is not a list of whole numbers"},
		{"gender", 5, "patient_gender", "Male", `(value withheld; --show-values to see it) is not one of M, F, U`},
		{"state", 5, "subscriber_state", "Ore", "2-letter state code"},
		{"zip", 5, "patient_zip", "972", "5- or 9-digit ZIP"},
		{"npi", 5, "rendering_npi", "17654321", "must be 10 digits"},
		{"delimiter", 5, "patient_first", "Mat~eo", "X12 delimiter"},
		{"delimiter in id", 5, "subscriber_member_id", "XKP*44", "X12 delimiter"},
		{"cyrillic", 5, "subscriber_last", "Васкес", "has no ASCII equivalent"},
		{"relationship", 5, "patient_relationship", "18", "leave the patient out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := goodCSV(t)
			// Claim-level columns change on every row of the claim.
			rows := []int{tc.row}
			if !columnsByName[tc.col].line {
				rows = tb.rowsOf(t, "RB-25-0002")
			}
			for _, r := range rows {
				tb.set(t, r, tc.col, tc.value)
			}
			d := decodeBytes(t, FormatCSV, tb.bytes())
			wantCSVRejected(t, d, "RB-25-0002", rows[0]+2, tc.col, tc.reason)
		})
	}
}

func TestCSVErrorMessage(t *testing.T) {
	tb := goodCSV(t)
	tb.set(t, 5, "service_date", "2024-02-30")
	d := decodeBytes(t, FormatCSV, tb.bytes())
	want := `batch B1 row 7 claim RB-25-0002 field service_date: date "2024-02-30" is not a valid YYYY-MM-DD date`
	if len(d.sum.Errors) != 1 || d.sum.Errors[0].Error() != want {
		t.Errorf("got:%s\nwant %s", d.dump(), want)
	}
}

func TestCSVCleansNames(t *testing.T) {
	tb := goodCSV(t)
	for _, r := range tb.rowsOf(t, "RB-25-0004") {
		tb.set(t, r, "subscriber_last", "Økafor")
		tb.set(t, r, "subscriber_city", "Portlánd")
	}
	d := decodeBytes(t, FormatCSV, tb.bytes())
	if len(d.results) != 4 {
		t.Fatalf("refused:%s", d.dump())
	}
	if s := d.results[3].Claim.Subscriber; s.Name.Last != "Okafor" || s.Address.City != "Portland" {
		t.Errorf("not cleaned: %+v", s)
	}
}

// Rows of a claim must repeat the same claim-level values.
func TestCSVClaimColumnsDiffer(t *testing.T) {
	tb := goodCSV(t)
	tb.set(t, 2, "payer_id", "MCR02") // third row of RB-25-0001, CSV line 4
	d := decodeBytes(t, FormatCSV, tb.bytes())
	wantCSVRejected(t, d, "RB-25-0001", 4, "payer_id", `is "MCR02" here but "MCR01" on row 2`)
}

// A claim id that comes back after another claim is refused, naming
// both rows; the claims around it go on.
func TestCSVNonConsecutiveRows(t *testing.T) {
	tb := goodCSV(t)
	// Move the last row of RB-25-0001 (line 6) after RB-25-0002.
	moved := tb.rows[4]
	tb.rows = append(tb.rows[:4], tb.rows[5:]...)
	tb.rows = append(tb.rows[:6], append([][]string{moved}, tb.rows[6:]...)...)
	d := decodeBytes(t, FormatCSV, tb.bytes())
	if d.err != nil {
		t.Fatal(d.err)
	}
	e := d.find("RB-25-0001", "claim_id", `claim id "RB-25-0001" is already used by the claim starting at row 2`)
	if e == nil || e.Row != 8 {
		t.Fatalf("got:%s", d.dump())
	}
	if !reflect.DeepEqual(d.ids(), sampleIDs) || d.sum.Rejected != 1 {
		t.Errorf("emitted %v, rejected %d", d.ids(), d.sum.Rejected)
	}
	if n := len(d.results[0].Claim.Lines); n != 4 {
		t.Errorf("first RB-25-0001 has %d lines", n)
	}
}

func TestCSVDuplicateClaimID(t *testing.T) {
	tb := goodCSV(t)
	for _, r := range tb.rowsOf(t, "RB-25-0003") {
		tb.set(t, r, "claim_id", "RB-25-0001")
	}
	d := decodeBytes(t, FormatCSV, tb.bytes())
	e := d.find("RB-25-0001", "claim_id", "already used by the claim starting at row 2")
	if e == nil || e.Row != 9 || d.sum.Rejected != 1 || len(d.errorsFor("RB-25-0001")) != 1 {
		t.Errorf("got %v:%s", e, d.dump())
	}
	if want := []string{"RB-25-0001", "RB-25-0002", "RB-25-0004"}; !reflect.DeepEqual(d.ids(), want) {
		t.Errorf("emitted %v", d.ids())
	}
}

// Two claims with one id, one after the other, read as one claim whose
// rows disagree: it is refused with one error per row, not per cell.
func TestCSVReusedIDOnConsecutiveRows(t *testing.T) {
	tb := goodCSV(t)
	for _, r := range tb.rowsOf(t, "RB-25-0003") {
		tb.set(t, r, "claim_id", "RB-25-0002")
	}
	d := decodeBytes(t, FormatCSV, tb.bytes())
	errs := d.errorsFor("RB-25-0002")
	if len(errs) != 3 || errs[0].Row != 9 || errs[0].Field != "" || !strings.Contains(errs[0].Reason, "differ from row 7") ||
		!strings.Contains(errs[0].Reason, "is the claim id used for two claims?") {
		t.Errorf("got:%s", d.dump())
	}
	if want := []string{"RB-25-0001", "RB-25-0004"}; !reflect.DeepEqual(d.ids(), want) {
		t.Errorf("emitted %v", d.ids())
	}
}

func TestCSVTooManyRows(t *testing.T) {
	tb := goodCSV(t)
	row := tb.rows[len(tb.rows)-1]
	for i := 0; i < 50; i++ {
		tb.rows = append(tb.rows, append([]string(nil), row...))
	}
	d := decodeBytes(t, FormatCSV, tb.bytes())
	// The 51st row of RB-25-0004 is CSV line 12 + 50.
	wantCSVRejected(t, d, "RB-25-0004", 62, "lines", "more than 50 rows")
}

// A row with the wrong number of fields rejects its claim only.
func TestCSVWrongFieldCount(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(tb *csvTable, r []string) []string
	}{
		{"extra field", func(_ *csvTable, r []string) []string { return append(r, "x") }},
		{"missing field", func(_ *csvTable, r []string) []string { return r[:len(r)-1] }},
		{"unquoted comma in a name", func(tb *csvTable, r []string) []string {
			i := tb.col(t, "subscriber_last")
			out := append([]string{}, r[:i]...)
			return append(append(out, "Vasquez", " Jr"), r[i+1:]...)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := goodCSV(t)
			tb.rows[5] = tc.edit(tb, tb.rows[5]) // first row of RB-25-0002
			d := decodeBytes(t, FormatCSV, tb.bytes())
			wantCSVRejected(t, d, "RB-25-0002", 7, "", "fields but the header has 68")
		})
	}
	// The first row of a claim, shifted so that claim_id is not where the
	// header says, still rejects its claim rather than a neighbour.
	tb := goodCSV(t)
	tb.rows[4] = append([]string{"x"}, tb.rows[4]...) // last row of RB-25-0001
	d := decodeBytes(t, FormatCSV, tb.bytes())
	if d.find("RB-25-0001", "", "fields but the header") == nil || !reflect.DeepEqual(d.ids(), sampleIDs[1:]) {
		t.Errorf("emitted %v:%s", d.ids(), d.dump())
	}
}

// A row with no claim id cannot be placed; the claim it follows is held
// back, as the row may well be its.
func TestCSVRowWithoutClaimID(t *testing.T) {
	tb := goodCSV(t)
	tb.set(t, 1, "claim_id", "") // second row of RB-25-0001
	d := decodeBytes(t, FormatCSV, tb.bytes())
	e := wantCSVRejected(t, d, "RB-25-0001", 3, "claim_id", "is empty: every row must repeat its claim's claim_id")
	if e != nil && !strings.Contains(e.Reason, "may be incomplete") {
		t.Errorf("reason %q", e.Reason)
	}
	// On the first data row there is no claim to hold back.
	tb = goodCSV(t)
	tb.set(t, 0, "claim_id", "")
	d = decodeBytes(t, FormatCSV, tb.bytes())
	if e := d.find("", "claim_id", "is empty"); e == nil || e.Row != 2 || len(d.results) != 4 {
		t.Errorf("got %v:%s", d.ids(), d.dump())
	}
}

// An unclosed quote used to swallow the rows after it. Every record is
// one line, so the row alone is skipped and reported, its claim refused,
// and the claims after it are read.
func TestCSVUnclosedQuote(t *testing.T) {
	tb := goodCSV(t)
	tb.set(t, 5, "patient_first", `"Mateo`) // written raw below
	data := tb.bytes()
	data = bytes.Replace(data, []byte(`"""Mateo"`), []byte(`"Mateo`), 1)
	d := decodeBytes(t, FormatCSV, data)
	if d.err != nil {
		t.Fatalf("err = %v", d.err)
	}
	want := []string{sampleIDs[0], sampleIDs[2], sampleIDs[3]}
	e := d.find("RB-25-0002", "", "not closed on its line")
	if !reflect.DeepEqual(d.ids(), want) || d.sum.Rejected != 1 || e == nil || e.Row != 7 {
		t.Errorf("emitted %v, rejected %d:%s", d.ids(), d.sum.Rejected, d.dump())
	}
}

func TestCSVStrayQuoteIsText(t *testing.T) {
	tb := goodCSV(t)
	for _, r := range tb.rowsOf(t, "RB-25-0003") {
		tb.rows[r][tb.col(t, "subscriber_first")] = `Jos"e`
	}
	var b bytes.Buffer
	b.Write(tb.bytes())
	data := bytes.ReplaceAll(b.Bytes(), []byte(`"Jos""e"`), []byte(`Jos"e`))
	d := decodeBytes(t, FormatCSV, data)
	if len(d.results) != 4 || d.results[2].Claim.Subscriber.Name.First != `Jos"e` {
		t.Errorf("got %v:%s", d.ids(), d.dump())
	}
}

func TestCSVHeaderErrors(t *testing.T) {
	good := string(readTestdata(t, "pt_batch.csv"))
	header, body, _ := strings.Cut(good, "\n")
	for _, tc := range []struct {
		name, header string
		want         string
	}{
		{"unknown column", header + ",paitent_last", "unknown column(s) paitent_last (did you mean patient_last?)"},
		{"unknown far from any", header + ",favourite_color", "unknown column(s) favourite_color"},
		{"missing required", strings.Replace(header, ",service_date", "", 1), "missing required column(s) service_date"},
		{"two missing", strings.Replace(strings.Replace(header, ",charge", "", 1), "claim_id,", "", 1), "missing required column(s) claim_id, charge"},
		{"repeated", header + ",units", "repeated column(s) units"},
		{"unnamed", header + ",", "unnamed column(s) at position [69]"},
		{"no header", strings.SplitN(body, "\n", 2)[0], "is the header line missing?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := strings.Count(tc.header, ",") - strings.Count(header, ",")
			var rows []string
			for _, r := range strings.Split(strings.TrimSpace(body), "\n") {
				switch {
				case n > 0:
					r += strings.Repeat(",", n)
				case n < 0:
					for range -n {
						r = r[:strings.LastIndex(r, ",")]
					}
				}
				rows = append(rows, r)
			}
			d := decodeBytes(t, FormatCSV, []byte(tc.header+"\n"+strings.Join(rows, "\n")))
			var be *BatchError
			var he *HeaderError
			if !errors.As(d.err, &be) || !errors.As(d.err, &he) || be.Line != 1 || !strings.Contains(d.err.Error(), tc.want) {
				t.Errorf("err = %v, want a header error containing %q", d.err, tc.want)
			}
			if len(d.results) != 0 {
				t.Errorf("emitted claims despite a bad header")
			}
		})
	}
	d := decodeBytes(t, FormatCSV, nil)
	if d.err == nil || !strings.Contains(d.err.Error(), "empty") {
		t.Errorf("empty input: %v", d.err)
	}
}

// Optional columns may be absent; defaults apply.
func TestCSVMinimalColumns(t *testing.T) {
	var cols []string
	for _, c := range csvColumns {
		if c.required {
			cols = append(cols, c.name)
		}
	}
	cols = append(cols, "subscriber_birth_date", "subscriber_gender", "subscriber_address1", "subscriber_city", "subscriber_state", "subscriber_zip")
	tb := goodCSV(t)
	var buf bytes.Buffer
	buf.WriteString(strings.Join(cols, ",") + "\n")
	for _, r := range tb.rows[:5] { // RB-25-0001
		var out []string
		for _, c := range cols {
			out = append(out, r[tb.col(t, c)])
		}
		buf.WriteString(strings.Join(out, ",") + "\n")
	}
	d := decodeBytes(t, FormatCSV, buf.Bytes())
	if len(d.results) != 1 {
		t.Fatalf("got:%s", d.dump())
	}
	c := d.results[0].Claim
	if c.Frequency != "1" || c.Billing.Entity != "2" || c.Rendering != nil || c.Patient != nil || c.Billing.Taxonomy != "" {
		t.Errorf("defaults: frequency %q entity %q rendering %v", c.Frequency, c.Billing.Entity, c.Rendering)
	}
}

func TestCSVEmitErrorStops(t *testing.T) {
	stop := errors.New("stop")
	sum, err := DecodeCSV(bytes.NewReader(readTestdata(t, "pt_batch.csv")), "B1", func(Result) error { return stop })
	if err != stop || sum.Claims != 1 {
		t.Errorf("err %v, claims %d", err, sum.Claims)
	}
}

func TestCSVLineTooLong(t *testing.T) {
	tb := goodCSV(t)
	tb.set(t, 11, "claim_note", strings.Repeat("x", 5000)) // second row of RB-25-0004
	d := Decoder{MaxRecordBytes: 4096}
	n := 0
	sum, err := d.DecodeCSV(bytes.NewReader(tb.bytes()), "B1", func(Result) error { n++; return nil })
	if err != nil || n != 3 {
		t.Errorf("err %v after %d claims", err, n)
	}
	// The claim of the long row is refused; the row is named.
	if sum.Rejected != 1 || len(sum.Errors) != 1 || sum.Errors[0].ClaimID != "RB-25-0004" || sum.Errors[0].Row != 13 || !strings.Contains(sum.Errors[0].Reason, "longer than 4096 bytes") {
		t.Errorf("rejected %d: %v", sum.Rejected, sum.Errors)
	}
}

func TestSplitList(t *testing.T) {
	for in, want := range map[string][]string{
		"M54.50|M62.81": {"M54.50", "M62.81"},
		"M5450;M6281":   {"M5450", "M6281"},
		"GP:59":         {"GP", "59"},
		" GP : 59 ":     {"GP", "59"},
		"1":             {"1"},
	} {
		got, reason := splitList(in, false)
		if reason != "" || !reflect.DeepEqual(got, want) {
			t.Errorf("splitList(%q) = %q, %q", in, got, reason)
		}
	}
	for _, bad := range []string{"A||B", "A|", "|A", ":"} {
		if _, reason := splitList(bad, false); reason == "" {
			t.Errorf("splitList(%q) accepted", bad)
		}
	}
}
