package x12

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain ASCII ~*:^":         "plain ASCII ~*:^",
		"José Muñoz":               "José Muñoz",
		"a\x1b[31mred":             `a\x1b[31mred`,
		"bell\x07 del\x7f nul\x00": `bell\x07 del\x7f nul\x00`,
		"c1 \u009b31m":             `c1 \u009b31m`,
		"bidi \u202eevil":          `bidi \u202eevil`,
		"bad utf8 \xff\xc3":        `bad utf8 \xff\xc3`,
		"tab\tnl\n":                `tab\x09nl\x0a`,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
	s := "already clean"
	if allocs := testing.AllocsPerRun(10, func() { _ = Printable(s) }); allocs != 0 {
		t.Errorf("clean string allocates %v", allocs)
	}
}

// TestFindingOutputEscaped: whatever a finding's text holds, Error and
// MarshalJSON write no control character, and never the withheld value.
func TestFindingOutputEscaped(t *testing.T) {
	f := Finding{File: "in\x1b[2J.837", SegmentID: "N\x07M", Loop: "20\x1b", Rule: "r",
		Message: "NM103 " + Withheld + " and \x1b]0;x\x07 \u009b \u202e", Value: "ZZSECRET"}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"Error": f.Error(), "JSON": string(b)} {
		if strings.ContainsAny(out, "\x1b\x07\u009b\u202e") {
			t.Errorf("%s writes a control character: %q", name, out)
		}
		if strings.Contains(out, "ZZSECRET") || !strings.Contains(out, "value withheld") {
			t.Errorf("%s: %q", name, out)
		}
	}
	var back Finding
	if err := json.Unmarshal(b, &back); err != nil || back.Rule != "r" || back.Value != "" {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	f.Reveal()
	if !strings.Contains(f.Error(), `"ZZSECRET"`) || strings.Contains(f.Error(), "withheld") || f.Value != "" {
		t.Errorf("revealed: %s", f.Error())
	}
}

// TestSpecCheckWithholdsPHI: every element rule withholds the value of an
// element marked PHI (and of a not-used element in a segment with PHI),
// keeps it in Value for Reveal, and still shows other values.
func TestSpecCheckWithholdsPHI(t *testing.T) {
	name := Sit(AN, 1, 10)
	name.PHI = true
	birth := Sit(DT, 8, 8)
	birth.PHI = true
	comp := Elem{Usage: Situational, Comp: []Elem{Sit(AN, 1, 5), NU}}
	comp.Comp[0].PHI = true
	spec := &SegSpec{ID: "ZZZ", Elems: []Elem{Req(ID, 2, 2, "AA", "BB"), name, birth, comp, NU, Sit(N0, 1, 3)}}
	d := DefaultDelimiters
	for _, c := range []struct {
		seg   string
		rule  string
		value string
	}{
		{"ZZZ*AA*ZZSECRETNAME1", "tr3.length", "ZZSECRETNAME1"},
		{"ZZZ*AA*ZZSECRET ", "tr3.trailing-space", "ZZSECRET "},
		{"ZZZ*AA**19511303", "tr3.date", "19511303"},
		{"ZZZ*AA***ZZSECRET6", "tr3.length", "ZZSECRET6"},
		{"ZZZ*AA***A:ZZSECRET", "tr3.not-used", "ZZSECRET"},
		{"ZZZ*AA****ZZSECRET", "tr3.not-used", "ZZSECRET"},
		// A code position holding something longer than any code: a name
		// shifted out of place.
		{"ZZZ*ZZSECRET", "tr3.length", "ZZSECRET"},
	} {
		seg := parseSeg(t, c.seg, d)
		var got []Finding
		spec.Check(seg, "2010BA", func(f Finding) { got = append(got, f) })
		if len(got) != 1 || got[0].Rule != c.rule {
			t.Fatalf("%s: findings %+v", c.seg, got)
		}
		f := got[0]
		if strings.Contains(f.Error(), "ZZSECRET") || strings.Contains(f.Error(), "1951") || !strings.Contains(f.Message, Withheld) || f.Value != c.value {
			t.Errorf("%s: %s (value %q)", c.seg, f.Error(), f.Value)
		}
		f.Reveal()
		if !strings.Contains(f.Message, ShowValue(c.value)) {
			t.Errorf("%s: revealed %s", c.seg, f.Message)
		}
	}
	// Not PHI: the value is shown as before.
	seg := parseSeg(t, "ZZZ*CC*****12X", d)
	var got []Finding
	spec.Check(seg, "", func(f Finding) { got = append(got, f) })
	if len(got) != 2 || !strings.Contains(got[0].Message, `"CC"`) || !strings.Contains(got[1].Message, `"12X"`) || got[0].Value != "" {
		t.Errorf("non-PHI findings: %+v", got)
	}
}

func parseSeg(t *testing.T, s string, d Delimiters) *Segment {
	t.Helper()
	seg := NewSegment(s, d)
	return &seg
}
