package ingest

import (
	"errors"
	"strings"
	"testing"
)

func TestCleanText(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string // substring of the error; "" when the value cleans
	}{
		{"Riverbend Physical Therapy LLC", "Riverbend Physical Therapy LLC", ""},
		{"O'Brien-Smith, Jr. #2 (a/b) & c?", "O'Brien-Smith, Jr. #2 (a/b) & c?", ""},
		{"José Muñoz-Ibáñez", "Jose Munoz-Ibanez", ""},
		{"ÑANDÚ", "NANDU", ""}, // case kept, nothing upper-cased
		{"Ærøskøbing", "AEroskobing", ""},
		{"Åsa Ødegård", "Asa Odegard", ""},
		{"Straße", "Strasse", ""}, // ß is lower case: ss, not SS
		{"GROẞE", "GROSSE", ""},
		{"Łukasz Żółć", "Lukasz Zolc", ""},
		{"Dvořák", "Dvorak", ""},
		{"Nguyễn Thị Ngọc", "Nguyen Thi Ngoc", ""},
		{"Şükrü Çağlar", "Sukru Caglar", ""},
		{"Chloë Brontë-Faÿ", "Chloe Bronte-Fay", ""},
		{"Œuvre œil", "OEuvre oeil", ""},
		{"Þórr Guðmundsson", "THorr Gudmundsson", ""},
		{"O’Brien", "O'Brien", ""},
		{"O`Brien", "O'Brien", ""},
		{"“Doc” Holliday — MD", "\"Doc\" Holliday - MD", ""},
		{"12\u00a0Main St", "12 Main St", ""},
		{"Ste 4…", "Ste 4...", ""},
		{"", "", ""},
		{"Smith~Jones", "", "'~' (U+007E) at byte 5 is an X12 delimiter"},
		{"Smith*", "", "'*' (U+002A) at byte 5 is an X12 delimiter"},
		{"Apt:4", "", "X12 delimiter"},
		{"A^B", "", "X12 delimiter"},
		{"A|B", "", "X12 delimiter"},
		{"Müller|B", "", "X12 delimiter"}, // after a transliteration too
		{"line\nbreak", "", "control character U+000A at byte 4 is not allowed"},
		{"tab\there", "", "control character U+0009"},
		{"del\x7f", "", "control character U+007F"},
		{"c1\u0085", "", "is not allowed in X12 data"},
		{"Иван", "", "'И' (U+0418) at byte 0 has no ASCII equivalent"},
		{"李小龙", "", "no ASCII equivalent"},
		{"Ana 😀", "", "no ASCII equivalent"},
		{"bad \xff utf8", "", "not valid UTF-8"},
	}
	for _, tt := range tests {
		got, err := CleanText(tt.in)
		if tt.wantErr == "" {
			if err != nil || got != tt.want {
				t.Errorf("CleanText(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		var ce *CharError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("CleanText(%q) = %q, %v; want a *CharError containing %q", tt.in, got, err, tt.wantErr)
		}
	}
}

func TestCleanTextCleanInputDoesNotAllocate(t *testing.T) {
	s := "Riverbend Physical Therapy LLC, 2200 River Road"
	if n := testing.AllocsPerRun(100, func() { _, _ = CleanText(s) }); n != 0 {
		t.Errorf("CleanText of clean input allocates %v times", n)
	}
}

// Every transliteration must land in the X12 character set, and must not
// produce a delimiter.
func TestTransliterationsAreX12Safe(t *testing.T) {
	for r, s := range transliterations {
		if err := checkASCII(s); err != nil || s == "" {
			t.Errorf("%q transliterates to %q: %v", r, s, err)
		}
	}
}

func TestCheckASCII(t *testing.T) {
	for _, ok := range []string{"4TK9AA2MN56", "PA-7781203", "edi@riverbend-billing.example", "(503) 555-0142"} {
		if err := checkASCII(ok); err != nil {
			t.Errorf("checkASCII(%q) = %v", ok, err)
		}
	}
	for in, want := range map[string]string{
		"SMI-8821é":  "is not allowed in a code or identifier",
		"PA*7781203": "X12 delimiter",
		"A`B":        "not in the X12 character set",
		"A\tB":       "control character",
	} {
		if err := checkASCII(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("checkASCII(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}
