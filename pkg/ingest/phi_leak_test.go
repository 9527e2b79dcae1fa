package ingest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// decodeWith decodes data with d and collects every error text: the row
// errors and the batch error.
func decodeWith(t *testing.T, d *Decoder, f Format, data []byte) (Summary, string) {
	t.Helper()
	emit := func(Result) error { return nil }
	var sum Summary
	var err error
	if f == FormatJSON {
		sum, err = d.DecodeJSON(bytes.NewReader(data), "B1", emit)
	} else {
		sum, err = d.DecodeCSV(bytes.NewReader(data), "B1", emit)
	}
	var b strings.Builder
	for _, e := range sum.Errors {
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	if err != nil {
		b.WriteString(err.Error())
	}
	return sum, b.String()
}

// TestErrorsLeakNoPHI: each way an ingest error used to show patient data,
// with recognisable fake data. The error must still name the field, and
// with Decoder.ShowValues the value is shown.
func TestErrorsLeakNoPHI(t *testing.T) {
	type tc struct {
		name   string
		format Format
		batch  func(t *testing.T) []byte
		field  string   // the error must name this field
		secret []string // none of these may appear without ShowValues
		shown  string   // this appears with ShowValues
	}
	jsonWith := func(path string, v any) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			m := goodJSON(t)
			setPath(t, m, path, v, false)
			return mustJSON(t, m)
		}
	}
	csvWith := func(col, v string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			tb := goodCSV(t)
			for _, i := range tb.rowsOf(t, "RB-25-0001") {
				tb.set(t, i, col, v)
			}
			return tb.bytes()
		}
	}
	cases := []tc{
		// A quote inside the value cut the old quoted-value withholding short:
		// `(value withheld)NAME~"`.
		{"csv quote in name", FormatCSV, csvWith("subscriber_last", `ZZPHI"NAME~`), "subscriber_last", []string{"ZZPHI", "NAME"}, `ZZPHI\"NAME~`},
		{"json quote in name", FormatJSON, jsonWith("claims[0].subscriber.name.last", `ZZPHI"NAME~`), "subscriber.name.last", []string{"ZZPHI", "NAME"}, `ZZPHI\"NAME~`},
		// A type error quoted the number: `got the number 19510203`.
		{"json number member id", FormatJSON, jsonWith("claims[0].subscriber.member_id", json.Number("19510203")), "subscriber.member_id", []string{"19510203"}, "19510203"},
		{"json number birth date", FormatJSON, jsonWith("claims[0].subscriber.birth_date", json.Number("19510203")), "subscriber.birth_date", []string{"19510203"}, ""},
		{"json object name", FormatJSON, jsonWith("claims[0].subscriber.name.last", []any{"ZZPHINAME"}), "subscriber.name.last", []string{"ZZPHINAME"}, ""},
		// Claim notes are free text: a delimiter in one showed the note.
		{"csv claim note", FormatCSV, csvWith("claim_note", "ZZPHINOTE patient fell~at home"), "claim_note", []string{"ZZPHINOTE", "fell"}, "ZZPHINOTE"},
		{"json claim note", FormatJSON, jsonWith("claims[0].note", "ZZPHINOTE patient fell~at home"), "note", []string{"ZZPHINOTE", "fell"}, "ZZPHINOTE"},
		{"json line note", FormatJSON, jsonWith("claims[0].lines[0].note", "ZZPHINOTE*x"), "lines[0].note", []string{"ZZPHINOTE"}, "ZZPHINOTE"},
		// A letter with no ASCII stand-in was named: character 'Ж' (U+0416).
		{"csv cyrillic name", FormatCSV, csvWith("subscriber_last", "Жуков"), "subscriber_last", []string{"Ж", "U+0416", "Жуков"}, "Жуков"},
		{"json cyrillic name", FormatJSON, jsonWith("claims[0].subscriber.name.first", "Зоя"), "subscriber.name.first", []string{"З", "U+0417"}, "Зоя"},
		{"json cjk city", FormatJSON, jsonWith("claims[0].subscriber.address.city", "東京"), "subscriber.address.city", []string{"東", "U+6771"}, "東京"},
		// Dates, ZIP codes and member ids of the patient.
		{"csv birth date", FormatCSV, csvWith("subscriber_birth_date", "02/03/1951"), "subscriber_birth_date", []string{"1951"}, "02/03/1951"},
		{"csv member id", FormatCSV, csvWith("subscriber_member_id", "ZZMEMBER*77"), "subscriber_member_id", []string{"ZZMEMBER"}, "ZZMEMBER"},
		{"json zip", FormatJSON, jsonWith("claims[0].subscriber.address.zip", "9720X"), "subscriber.address.zip", []string{"9720X"}, "9720X"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := c.batch(t)
			sum, text := decodeWith(t, &Decoder{}, c.format, data)
			if sum.Rejected == 0 {
				t.Fatalf("claim not rejected:\n%s", text)
			}
			found := false
			for _, e := range sum.Errors {
				found = found || e.Field == c.field
			}
			if !found {
				t.Errorf("no error names field %s:\n%s", c.field, text)
			}
			for _, s := range c.secret {
				if strings.Contains(text, s) {
					t.Errorf("errors show %q:\n%s", s, text)
				}
			}
			if c.shown == "" {
				return
			}
			_, text = decodeWith(t, &Decoder{ShowValues: true}, c.format, data)
			if !strings.Contains(text, c.shown) {
				t.Errorf("with ShowValues the errors do not show %q:\n%s", c.shown, text)
			}
		})
	}
}

// TestJSONSyntaxErrorWithholdsLetters: a bare word where a value belongs
// made encoding/json name its first letter.
func TestJSONSyntaxErrorWithholdsLetters(t *testing.T) {
	data := readTestdata(t, "pt_batch.json")
	bad := bytes.Replace(data, []byte(`"Lindqvist"`), []byte(`Qzphiname`), 1)
	_, text := decodeWith(t, &Decoder{}, FormatJSON, bad)
	if !strings.Contains(text, "invalid character") || strings.Contains(text, "'Q'") || strings.Contains(text, "Qzphi") {
		t.Errorf("syntax error: %s", text)
	}
	_, text = decodeWith(t, &Decoder{ShowValues: true}, FormatJSON, bad)
	if !strings.Contains(text, "'Q'") {
		t.Errorf("with ShowValues: %s", text)
	}
}

// TestErrorsEscapeControls: escape sequences in any field, PHI or not,
// and in claim ids reach errors escaped, never raw.
func TestErrorsEscapeControls(t *testing.T) {
	const esc = "\x1b]0;pwned\x07\x1b[31m"
	m := goodJSON(t)
	setPath(t, m, "claims[0].id", "C1"+esc, false)
	setPath(t, m, "claims[1].payer.name", "ACME"+esc, false)
	setPath(t, m, "claims[2].lines[0].procedure", "97"+esc, false)
	setPath(t, m, "claims[3]", "ZZ"+esc, false)
	tb := goodCSV(t)
	for _, i := range tb.rowsOf(t, "RB-25-0001") {
		tb.set(t, i, "claim_id", "C1"+esc)
	}
	for _, i := range tb.rowsOf(t, "RB-25-0002") {
		tb.set(t, i, "payer_name", "ACME\u202e"+esc+"\xff")
	}
	for _, b := range []struct {
		f    Format
		data []byte
	}{{FormatJSON, mustJSON(t, m)}, {FormatCSV, tb.bytes()}} {
		sum, text := decodeWith(t, &Decoder{ShowValues: true}, b.f, b.data)
		if sum.Rejected < 2 {
			t.Errorf("%v: %d rejected:\n%s", b.f, sum.Rejected, text)
		}
		for _, e := range sum.Errors {
			for _, s := range []string{e.Error(), e.ClaimID, e.Reason, e.Field} {
				if strings.ContainsAny(s, "\x1b\x07\u202e") || strings.Contains(s, "\xff") {
					t.Errorf("%v: raw control in %q", b.f, s)
				}
			}
		}
		if !strings.Contains(text, `\x1b`) {
			t.Errorf("%v: no escaped ESC in:\n%s", b.f, text)
		}
	}
}

// TestCSVMissingHeaderShowsNoData: without a header line the first data
// row is taken for the header; the error must not list its cells.
func TestCSVMissingHeaderShowsNoData(t *testing.T) {
	data := readTestdata(t, "pt_batch.csv")
	_, body, _ := bytes.Cut(data, []byte("\n"))
	_, text := decodeWith(t, &Decoder{}, FormatCSV, body)
	if !strings.Contains(text, "is the header line missing?") {
		t.Fatalf("error: %s", text)
	}
	for _, s := range []string{"lindqvist", "4tk9aa2mn56", "1948-03-14", "alder"} {
		if strings.Contains(strings.ToLower(text), s) {
			t.Errorf("header error shows %q: %s", s, text)
		}
	}
}
