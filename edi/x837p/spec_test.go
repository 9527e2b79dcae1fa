package x837p

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

// allLoops lists every loop of the tree once.
func allLoops() []*vdLoop {
	var out []*vdLoop
	seen := map[*vdLoop]bool{}
	var walk func(l *vdLoop)
	walk = func(l *vdLoop) {
		if seen[l] {
			return
		}
		seen[l] = true
		out = append(out, l)
		for _, it := range l.items {
			if it.loop != nil {
				walk(it.loop)
			}
		}
	}
	walk(vdLoopRoot)
	return out
}

// allSegDefs maps segment ids to every variant the tree uses.
func allSegDefs() map[string][]*vdSegDef {
	m := map[string][]*vdSegDef{}
	for _, l := range allLoops() {
		for _, it := range l.items {
			if it.seg != nil {
				m[it.seg.spec.ID] = append(m[it.seg.spec.ID], it.seg)
			}
		}
	}
	return m
}

func TestTreeShape(t *testing.T) {
	loops := allLoops()
	if len(loops) != 39 {
		t.Fatalf("tree has %d loops, want the 38 loops of the 837P and the header", len(loops))
	}
	ids := map[string]bool{}
	for _, l := range loops {
		ids[l.id] = true
		if len(l.items) > vdMaxItems {
			t.Errorf("loop %s has %d items, more than vdMaxItems", l.id, len(l.items))
		}
		// Variants of one id in one loop must be told apart by their
		// qualifiers, or the first would shadow the others.
		for i := 1; i < len(l.items); i++ {
			a := l.items[i].head
			if l.items[i].usage != x12.Required && l.items[i].usage != x12.Situational {
				t.Errorf("loop %s item %d: usage must be R or S", l.id, i)
			}
			for j := i + 1; j < len(l.items); j++ {
				b := l.items[j].head
				if a.key != b.key {
					continue
				}
				if a.qual == 0 || b.qual == 0 {
					t.Errorf("loop %s: two %s variants and one has no qualifier", l.id, a.spec.ID)
					continue
				}
				for _, c := range a.codes {
					if vdIn([]byte(c), b.codes) && (a.qual2 == 0 && b.qual2 == 0) {
						t.Errorf("loop %s: %s qualifier %s starts both %q and %q", l.id, a.spec.ID, c, a.spec.Name, b.spec.Name)
					}
				}
			}
		}
	}
	for _, want := range []string{"1000A", "1000B", "2000A", "2010AA", "2010AB", "2010AC", "2000B", "2010BA", "2010BB",
		"2000C", "2010CA", "2300", "2310A", "2310B", "2310C", "2310D", "2310E", "2310F", "2320", "2330A", "2330B",
		"2330C", "2330D", "2330E", "2330F", "2330G", "2400", "2410", "2420A", "2420B", "2420C", "2420D", "2420E",
		"2420F", "2420G", "2420H", "2430", "2440"} {
		if !ids[want] {
			t.Errorf("loop %s missing from the tree", want)
		}
	}
}

// mutations derives broken and odd variants of a segment, so that the
// fast pre-check is compared with x12.SegSpec.Check on more than clean
// data.
func mutations(s string, d x12.Delimiters) []string {
	el := string(d.Element)
	cs := string(d.Component)
	parts := strings.Split(s, el)
	out := []string{s, s + el, s + el + "X", s + el + el + "1", parts[0]}
	for i := 1; i < len(parts); i++ {
		mod := func(v string) string {
			p := append([]string(nil), parts...)
			p[i] = v
			return strings.Join(p, el)
		}
		out = append(out,
			mod(""), mod("ZZZ"), mod("1"), mod("-1.5"), mod("12.345"), mod("A B "), mod(strings.Repeat("9", 90)),
			mod(parts[i]+cs+"Q"), mod(parts[i]+cs), mod(cs+parts[i]), mod("20240230"), mod("20240229"), mod("2401"),
			mod("1"+cs+"2"+cs+"3"+cs+"4"+cs+"5"), mod("13"), mod("0"), mod("D8"), mod("RD8"), mod("20240101-20240102"),
			strings.Join(append(append([]string(nil), parts[:i]...), parts[i+1:]...), el),
		)
		if d.Repetition != 0 {
			out = append(out, mod(parts[i]+string(d.Repetition)+parts[i]))
		}
	}
	return out
}

func TestCleanAgreesWithCheck(t *testing.T) {
	defs := allSegDefs()
	files, _ := filepath.Glob("../../testdata/837p/*.*")
	checked := 0
	perID := map[string]int{} // distinct segments tried per id, across files
	for _, fn := range files {
		if strings.HasSuffix(fn, "SOURCES.txt") {
			continue
		}
		raw, err := os.ReadFile(fn)
		if err != nil {
			t.Fatal(err)
		}
		rd := x12.NewReader(strings.NewReader(string(raw)))
		seen := map[string]bool{}
		for {
			seg, err := rd.Next()
			if err != nil {
				if x12.IsFinding(err) {
					continue
				}
				break
			}
			text := string(seg.Raw())
			if seen[text] || len(defs[seg.ID()]) == 0 || perID[seg.ID()] >= 5 {
				continue
			}
			seen[text] = true
			perID[seg.ID()]++
			for _, m := range mutations(text, seg.Delimiters()) {
				ms := x12.NewSegment(m, seg.Delimiters())
				for _, d := range defs[ms.ID()] {
					checked++
					assertCleanAgrees(t, d, &ms)
				}
			}
		}
	}
	t.Logf("%d segment/rule pairs compared", checked)
	if checked < 10000 {
		t.Fatalf("only %d segment/rule pairs compared", checked)
	}
}

func assertCleanAgrees(t testing.TB, d *vdSegDef, seg *x12.Segment) {
	t.Helper()
	var fs x12.Findings
	d.spec.Check(seg, "", func(f x12.Finding) { fs = append(fs, f) })
	clean := vdClean(&d.fast, seg)
	if clean && len(fs) > 0 {
		t.Fatalf("%q against %s (%s): fast check says clean, Check says %v", seg.Raw(), d.spec.ID, d.spec.Name, fs[0].Error())
	}
	if !clean && len(fs) == 0 {
		t.Fatalf("%q against %s (%s): fast check says dirty, Check finds nothing (the slow path would run for nothing)", seg.Raw(), d.spec.ID, d.spec.Name)
	}
}
