package x12

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func writeSample(t *testing.T, opts WriterOptions, sets int) (string, *Writer) {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, opts)
	ctx := context.Background()
	at := time.Date(2024, 3, 5, 14, 7, 0, 0, time.UTC)
	if _, err := w.BeginInterchange(ctx, InterchangeHeader{Sender: "CLAIMGATE", Receiver: "PAYER01", Time: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.BeginGroup(ctx, GroupHeader{FunctionalID: "HC", Sender: "CLAIMGATE", Receiver: "PAYER01", Time: at, Version: "005010X222A1"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < sets; i++ {
		if err := w.BeginSet("837", "000"+string(rune('1'+i)), "005010X222A1"); err != nil {
			t.Fatal(err)
		}
		w.Segment("BHT", "0019", "00", "B1", "20240305", "1407", "CH")
		w.Begin("SV1")
		w.Composite("HC", "97110", "GP", "", "")
		w.Append(func(b []byte) []byte { return append(b, "120.5"...) })
		w.Element("UN")
		w.Int(4)
		w.Empty(3)
		w.End()
		if err := w.EndSet(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.EndGroup(); err != nil {
		t.Fatal(err)
	}
	if err := w.EndInterchange(); err != nil {
		t.Fatal(err)
	}
	return buf.String(), w
}

func TestWriterEnvelopeRoundTrip(t *testing.T) {
	for _, d := range []Delimiters{DefaultDelimiters, {Element: '|', Repetition: '^', Component: '>', Segment: '\n'}} {
		out, w := writeSample(t, WriterOptions{Delimiters: d, Newline: d.Segment != '\n'}, 2)
		sum, fs, err := Check(strings.NewReader(out), CheckOptions{})
		if err != nil || len(fs) != 0 {
			t.Fatalf("written file has findings: %v %v\n%s", err, fs, out)
		}
		if sum.Segments != 12 || w.Segments() != 12 || sum.Sets() != 2 {
			t.Fatalf("segments %d/%d sets %d", sum.Segments, w.Segments(), sum.Sets())
		}
		if isaLine := out[:strings.IndexByte(out, d.Segment)+1]; len(isaLine) != 106 {
			t.Fatalf("ISA is %d characters: %q", len(isaLine), isaLine)
		}
		sv1 := strings.ReplaceAll("SV1*HC:97110:GP*120.5*UN*4", "*", string(d.Element))
		sv1 = strings.ReplaceAll(sv1, ":", string(d.Component))
		if !strings.Contains(out, sv1+string(d.Segment)) {
			t.Fatalf("trailing empty elements/components not trimmed:\n%s", out)
		}
	}
}

func TestWriterRefusesDelimiters(t *testing.T) {
	for _, bad := range []string{"O*BRIEN", "A~B", "X:Y", "R^S", "caf\xc3\xa9"} {
		var buf bytes.Buffer
		w := NewWriter(&buf, WriterOptions{})
		w.Segment("NM1", "IL", "1", bad)
		err := w.Err()
		var f *Finding
		if !errors.As(err, &f) || f.SegmentID != "NM1" || f.Element != 3 || f.Segment != 1 {
			t.Fatalf("%q: want a located finding, got %v", bad, err)
		}
		// Nothing of the refused segment is written, and the error sticks.
		w.Segment("REF", "EA", "1")
		w.Flush()
		if buf.Len() != 0 || w.Err() != err {
			t.Fatalf("%q: wrote %q after error", bad, buf.String())
		}
	}
	w := NewWriter(&bytes.Buffer{}, WriterOptions{})
	w.Begin("SV1")
	w.Composite("HC", "97:110")
	if f, ok := w.End().(*Finding); !ok || f.Component != 2 {
		t.Fatalf("component position not reported: %v", f)
	}
}

func TestWriterEnvelopeMisuse(t *testing.T) {
	w := NewWriter(&bytes.Buffer{}, WriterOptions{})
	if err := w.BeginSet("837", "0001", ""); err == nil {
		t.Fatal("BeginSet outside a group must fail")
	}
	w = NewWriter(&bytes.Buffer{}, WriterOptions{})
	if _, err := w.BeginInterchange(context.Background(), InterchangeHeader{Sender: strings.Repeat("S", 16)}); err == nil {
		t.Fatal("16-character sender must fail")
	}
}

func TestControlNumbersUniquePerPair(t *testing.T) {
	var m MemoryControlNumbers
	ctx := context.Background()
	seen := map[int64]bool{}
	for i := 0; i < 100; i++ {
		n, _ := m.Next(ctx, InterchangeControl, "A", "B")
		if seen[n] {
			t.Fatalf("control number %d repeated", n)
		}
		seen[n] = true
	}
	if n, _ := m.Next(ctx, InterchangeControl, "A", "C"); n != 1 {
		t.Fatalf("a new pair starts at 1, got %d", n)
	}
	_, w1 := writeSample(t, WriterOptions{Numbers: &m}, 1)
	_, w2 := writeSample(t, WriterOptions{Numbers: &m}, 1)
	if w1.icControl == w2.icControl {
		t.Fatal("two interchanges from one allocator share ISA13")
	}
}

func TestSegSpecCheck(t *testing.T) {
	spec := SegSpec{ID: "CLP", Elems: []Elem{
		Req(AN, 1, 38), Req(ID, 1, 2, "1", "2", "3", "4", "22"), Req(R, 1, 18), Req(R, 1, 18), Sit(R, 1, 18),
		Sit(DT, 8, 8), NU, {Usage: Situational, Comp: []Elem{Req(ID, 2, 2, "HC"), Req(AN, 1, 48)}},
	}}
	d := DefaultDelimiters
	cases := []struct {
		text string
		rule string
		elem int
		comp int
	}{
		{"CLP*A1*1*100*80*20", "", 0, 0},
		{"CLP*A1*9*100*80", "tr3.code", 2, 0},
		{"CLP**1*100*80", "tr3.required", 1, 0},
		{"CLP*A1*1*1x0*80", "tr3.type", 3, 0},
		{"CLP*A1*1*100*80**20240230", "tr3.date", 6, 0},
		{"CLP*A1*1*100*80***X", "tr3.not-used", 7, 0},
		{"CLP*A1*1*100*80****ZZ:1", "tr3.code", 8, 1},
		{"CLP*A1*1*100*80****HC", "tr3.required", 8, 2},
		{"CLP*A1*1*100*80****HC:1:2", "tr3.too-many-components", 8, 3},
		{"CLP*A1*1*100*80*1*2*3*4*5", "tr3.too-many-elements", 9, 0},
		{"CLP*" + strings.Repeat("A", 39) + "*1*100*80", "tr3.length", 1, 0},
	}
	for _, c := range cases {
		seg := NewSegment(c.text, d)
		var fs Findings
		spec.Check(&seg, "2100", func(f Finding) { fs = append(fs, f) })
		if c.rule == "" {
			if len(fs) != 0 {
				t.Errorf("%s: unexpected %v", c.text, fs)
			}
			continue
		}
		found := false
		for _, f := range fs {
			if f.Rule == c.rule && f.Element == c.elem && f.Component == c.comp && f.Loop == "2100" {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want %s at %d-%d, got %v", c.text, c.rule, c.elem, c.comp, fs)
		}
	}
}

func TestDataTypes(t *testing.T) {
	for s, want := range map[string]bool{"20240229": true, "20230229": false, "20241301": false, "2024010": false, "19000101": true} {
		if ValidDate8([]byte(s)) != want {
			t.Errorf("ValidDate8(%s) != %v", s, want)
		}
	}
	for s, want := range map[string]bool{"1200": true, "2400": false, "120060": false, "12005999": true, "1261": false, "12": false} {
		if ValidTime([]byte(s)) != want {
			t.Errorf("ValidTime(%s) != %v", s, want)
		}
	}
	for s, want := range map[string]bool{"1": true, "-1.5": true, ".5": true, "1.": true, "1.2.3": false, "-": false, "1e5": false, "": false} {
		if ValidDecimal([]byte(s)) != want {
			t.Errorf("ValidDecimal(%q) != %v", s, want)
		}
	}
}

func TestWriterResetAndConst(t *testing.T) {
	var a, b bytes.Buffer
	w := NewWriter(&a, WriterOptions{})
	w.Segment("NM1", "IL", "O*BRIEN")
	if w.Err() == nil {
		t.Fatal("delimiter accepted")
	}
	w.Reset(&b)
	w.Begin("SV1")
	w.Const("HC")
	w.Element("97110")
	if err := w.End(); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if b.String() != "SV1*HC*97110~" || a.Len() != 0 || w.Delimiters() != DefaultDelimiters {
		t.Fatalf("after Reset wrote %q (first buffer %q)", b.String(), a.String())
	}
}

func TestSegSpecCheckCleanAllocatesNothing(t *testing.T) {
	spec := SegSpec{ID: "CLP", Elems: []Elem{Req(AN, 1, 38), Req(ID, 1, 2, "1", "2", "3", "4", "22"), Req(R, 1, 18), Req(R, 1, 18),
		{Usage: Situational, Comp: []Elem{Req(ID, 2, 2, "HC"), Req(AN, 1, 48)}}}}
	seg := NewSegment("CLP*A1*1*100*80*HC:97110", DefaultDelimiters)
	report := func(f Finding) { t.Errorf("unexpected %v", f) }
	if a := testing.AllocsPerRun(100, func() { spec.Check(&seg, "2100", report) }); a != 0 {
		t.Fatalf("%v allocations checking a clean segment", a)
	}
}
