package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Recognisable fake patient data. None of it may reach validate's or
// convert's output (stdout or stderr, text or JSON) unless --show-values
// is given.
var phiMarkers = []string{"ZZPHI", "ZZPAT", "ZZMEMBER", "ZZNOTE", "19510203", "1951-02-03", "19511303", "98765"}

// phiBatch writes the sample JSON batch with every subscriber's and
// patient's name, member id, birth date and address, and the claim
// notes, replaced by fake data carrying the markers.
func phiBatch(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/batches/pt_batch.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	person := func(m map[string]any, who string) {
		m["name"] = map[string]any{"last": who + "LAST", "first": who + "FIRST"}
		m["birth_date"] = "1951-02-03"
		m["address"] = map[string]any{"line1": "1 " + who + "STREET", "city": who + "CITY", "state": "OR", "zip": "98765"}
	}
	for i, c := range doc["claims"].([]any) {
		c := c.(map[string]any)
		sub := c["subscriber"].(map[string]any)
		person(sub, "ZZPHI")
		sub["member_id"] = "ZZMEMBER0" + string(rune('1'+i))
		if p, ok := c["patient"].(map[string]any); ok {
			person(p, "ZZPAT")
		}
		c["note"] = "ZZNOTE patient fell at home"
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "phi.json")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// phi837 converts the fake-PHI batch to 837P with claimgate itself (the
// project's assembler and writer) and returns the written files' text.
func phi837(t *testing.T) string {
	t.Helper()
	rep, _, _ := convertTo(t, phiBatch(t))
	if len(rep.Files) == 0 {
		t.Fatalf("no 837P written: %+v", rep)
	}
	b, err := os.ReadFile(rep.Files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, m := range []string{"ZZPHILAST", "ZZMEMBER0", "19510203", "ZZPHISTREET", "ZZPHICITY", "98765", "ZZNOTE"} {
		if !strings.Contains(s, m) {
			t.Fatalf("written 837P lacks %s:\n%s", m, s)
		}
	}
	return s
}

// breakPHI makes the PHI elements of an 837P break TR3 rules, so that
// findings are about them: names, member id, street and city too long, a
// non-ASCII letter and trailing space in a first name, an impossible
// birth date, an over-long note.
func breakPHI(s string) string {
	long := strings.Repeat("Q", 90)
	r := strings.NewReplacer(
		"ZZPHILAST", "ZZPHILAST"+long,
		"ZZPHIFIRST", "ZZPHIFÏRST ",
		"ZZPATLAST", "ZZPATLAST"+long,
		"ZZMEMBER0", "ZZMEMBER0"+long,
		"ZZPHISTREET", "ZZPHISTREET"+long,
		"ZZPHICITY", "ZZPHICITY"+long,
		"ZZNOTE", "ZZNOTE"+long,
		"*19510203", "*19511303",
		"*98765", "*98765"+long,
	)
	return r.Replace(s)
}

func writeTemp(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func assertNoPHI(t *testing.T, what, out string) {
	t.Helper()
	for _, m := range phiMarkers {
		if strings.Contains(out, m) {
			i := strings.Index(out, m)
			t.Errorf("%s shows %q: ...%s...", what, m, out[max(0, i-120):min(len(out), i+60)])
		}
	}
}

// TestValidateWithholdsPHI: findings about patient names, member ids,
// birth dates, addresses and notes name the element and the rule, never
// the value; --show-values shows them.
func TestValidateWithholdsPHI(t *testing.T) {
	bad := writeTemp(t, "phi.837", breakPHI(phi837(t)))
	wantRules := []string{"tr3.length", "837p.date", "tr3.trailing-space", "segment.character"}
	for _, args := range [][]string{{"validate", bad}, {"validate", "--json", bad}, {"validate", "--summary", bad}} {
		code, out, errs := runCLI(args...)
		if code != 1 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
		assertNoPHI(t, strings.Join(args, " "), out+errs)
		if args[1] != "--summary" {
			for _, r := range wantRules {
				if !strings.Contains(out, r) {
					t.Errorf("%v: no %s finding:\n%s", args, r, out)
				}
			}
			if !strings.Contains(out, "value withheld") {
				t.Errorf("%v: nothing says a value was withheld:\n%s", args, out)
			}
		}
	}
	for _, args := range [][]string{{"validate", "--show-values", bad}, {"validate", "--json", "--show-values", bad}} {
		_, out, _ := runCLI(args...)
		for _, m := range []string{"ZZPHILAST", "ZZMEMBER0", "19511303", "ZZPHISTREET", "ZZPHICITY", "ZZNOTE", "ZZPHIFÏRST "} {
			if !strings.Contains(out, m) {
				t.Errorf("%v: value %q not shown:\n%s", args, m, out)
			}
		}
		if strings.Contains(out, "value withheld") {
			t.Errorf("%v: still withholds:\n%s", args, out)
		}
	}
}

// TestConvertWithholdsPHI: convert's report on a batch with bad patient
// fields and on an 837P with bad patient elements shows no patient data.
func TestConvertWithholdsPHI(t *testing.T) {
	bad837 := writeTemp(t, "phi.837", breakPHI(phi837(t)))
	b, err := os.ReadFile(phiBatch(t))
	if err != nil {
		t.Fatal(err)
	}
	// Fields that fail ingest's checks: an impossible birth date, a
	// delimiter in a name, a Cyrillic letter, a number for a member id, a
	// delimiter in the note.
	s := strings.Replace(string(b), `"1951-02-03"`, `"1951-02-30"`, 1)
	s = strings.Replace(s, `"ZZPHIFIRST"`, `"ZZPHI~FIRST"`, 1)
	s = strings.Replace(s, `"ZZPATLAST"`, `"ZZPATЖLAST"`, 1)
	s = strings.Replace(s, `"ZZMEMBER02"`, `19510203`, 1)
	s = strings.Replace(s, `"ZZNOTE patient fell at home"`, `"ZZNOTE patient*fell"`, 1)
	badJSON := writeTemp(t, "phi.json", s)
	for _, batch := range []string{bad837, badJSON} {
		for _, extra := range [][]string{nil, {"--json"}} {
			args := append([]string{"convert", "--to", "837p", batch, "-o", t.TempDir()}, extra...)
			code, out, errs := runCLI(args...)
			if code != 1 {
				t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
			}
			if !strings.Contains(out, "rejected") {
				t.Errorf("%v: nothing rejected:\n%s", args, out)
			}
			assertNoPHI(t, strings.Join(args, " "), out+errs)
		}
		args := []string{"convert", "--to", "837p", batch, "-o", t.TempDir(), "--show-values"}
		_, out, _ := runCLI(args...)
		// convert reports the first finding of a loop, so the 837P shows
		// whichever patient value comes first.
		shown := []string{"ZZPHILAST", "ZZPATLAST"}
		if batch == badJSON {
			shown = []string{"1951-02-30"}
		}
		if !strings.Contains(out, shown[0]) && !strings.Contains(out, shown[len(shown)-1]) {
			t.Errorf("%v: no value shown:\n%s", args, out)
		}
	}
}

// TestNoTerminalInjection: escape sequences in names and ids reach no
// output raw, with or without --show-values, text or JSON.
func TestNoTerminalInjection(t *testing.T) {
	const esc = "\x1b]0;owned\x07\x1b[2J\x9b31m\u202e"
	s := phi837(t)
	s = strings.Replace(s, "ZZPHILAST", "ZZPHILAST"+esc, -1)
	s = strings.Replace(s, "ZZMEMBER0", "ZZMEMBER0"+esc, -1)
	s = strings.Replace(s, "CLM*RB-25", "CLM*RB-25"+esc, 1) // a claim id
	// Envelope ids, which validate --json lists in its summary; the ISA
	// keeps its byte width.
	s = strings.Replace(s, "*ZZ*CLAIMGATE      *", "*ZZ*\x1b[2J\u202eCLAIM   *", 1)
	s = strings.Replace(s, "GS*HC*CLAIMGATE*", "GS*HC*CLAIM\u009bGATE*", 1)
	if !strings.Contains(s, esc+"-") {
		t.Fatal("no claim id to break")
	}
	bad837 := writeTemp(t, "esc.837", s)
	b, err := os.ReadFile(phiBatch(t))
	if err != nil {
		t.Fatal(err)
	}
	j := strings.Replace(string(b), `"RB-25-0002"`, `"RB-25\u001b[31m-0002"`, 1)
	j = strings.Replace(j, `"ZZPHIFIRST"`, `"ZZPHI\u001b]0;x\u0007FIRST"`, 1)
	badJSON := writeTemp(t, "esc.json", j)
	var runs [][]string
	for _, show := range [][]string{nil, {"--show-values"}} {
		for _, asJSON := range [][]string{nil, {"--json"}} {
			runs = append(runs, append(append([]string{"validate", bad837}, show...), asJSON...))
			for _, batch := range []string{bad837, badJSON} {
				runs = append(runs, append(append([]string{"convert", "--to", "837p", batch, "-o", t.TempDir()}, show...), asJSON...))
			}
		}
	}
	for _, args := range runs {
		code, out, errs := runCLI(args...)
		if code != 1 {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errs)
		}
		all := out + errs
		if i := strings.IndexAny(all, "\x1b\x07\u009b\u202e"); i >= 0 {
			t.Errorf("%v: raw control in output: %q", args, all[max(0, i-80):min(len(all), i+40)])
		}
	}
}
