package x835

import (
	"bytes"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

// fastMutations derives broken and odd variants of a segment, so that the
// fast check is compared with x12.SegSpec.Check on more than clean data.
func fastMutations(s string, d x12.Delimiters) []string {
	el, cs := string(d.Element), string(d.Component)
	parts := strings.Split(s, el)
	out := []string{s, s + el, s + el + "X", s + el + el + "1", parts[0]}
	for i := 1; i < len(parts); i++ {
		mod := func(v string) string {
			p := append([]string(nil), parts...)
			p[i] = v
			return strings.Join(p, el)
		}
		out = append(out,
			mod(""), mod("ZZZ"), mod("1"), mod("-1.5"), mod("12.345"), mod("1.5-"), mod("A B "), mod(" "), mod(strings.Repeat("9", 90)),
			mod(parts[i]+cs+"Q"), mod(parts[i]+cs), mod(cs+parts[i]), mod("20240230"), mod("20240229"), mod("240229"), mod("2401"),
			mod("1"+cs+"2"+cs+"3"+cs+"4"+cs+"5"+cs+"6"+cs+"7"+cs+"8"), mod("HC"+cs+"97110"+cs+"GP"), mod("13"), mod("0"), mod("CO"), mod("XX"),
			mod("1200"), mod("2561"), mod("D8"), mod("DA"), mod("20240101-20240102"),
			strings.Join(append(append([]string(nil), parts[:i]...), parts[i+1:]...), el),
		)
		if d.Repetition != 0 {
			out = append(out, mod(parts[i]+string(d.Repetition)+parts[i]))
		}
	}
	return out
}

// The fast element check used when validating never calls a segment clean
// that x12.SegSpec.Check would report (a finding would be lost), and never
// calls one dirty that Check passes (the slow path would run for
// nothing): every 835 segment rule against every distinct sample and
// generated segment of its id, and their mutations.
func TestFastAgreesWithCheck(t *testing.T) {
	specs := map[string][]int{} // segment id → slots
	for i := range slots {
		if slots[i].spec != nil {
			specs[slots[i].spec.ID] = append(specs[slots[i].spec.ID], i)
		}
	}
	inputs := [][]byte{}
	for _, f := range sampleFiles(t) {
		inputs = append(inputs, readSample(t, f[strings.LastIndexByte(f, '/')+1:]))
	}
	var gen bytes.Buffer
	if _, _, err := streamFile(&gen, 3, 300); err != nil {
		t.Fatal(err)
	}
	inputs = append(inputs, gen.Bytes())
	checked, clean := 0, 0
	seen := map[string]bool{}
	perID := map[string]int{} // distinct segments tried per id
	for _, in := range inputs {
		rd := x12.NewReader(bytes.NewReader(in))
		for {
			seg, err := rd.Next()
			if err != nil {
				if x12.IsFinding(err) {
					continue
				}
				break
			}
			text := string(seg.Raw())
			if seen[text] || len(specs[seg.ID()]) == 0 || perID[seg.ID()] >= 40 {
				continue
			}
			seen[text] = true
			perID[seg.ID()]++
			// and again with a component separator numbers and dates
			// may hold, which the fast check must then look for
			odd := seg.Delimiters()
			odd.Component = '-'
			oddText := strings.ReplaceAll(text, string(seg.Delimiters().Component), "-")
			var ms []x12.Segment
			for _, m := range fastMutations(text, seg.Delimiters()) {
				ms = append(ms, x12.NewSegment(m, seg.Delimiters()))
			}
			for _, m := range fastMutations(oddText, odd) {
				ms = append(ms, x12.NewSegment(m, odd))
			}
			for _, ms := range ms {
				m := ms.Raw()
				for _, s := range specs[ms.ID()] {
					checked++
					var fs x12.Findings
					slots[s].spec.Check(&ms, "", func(f x12.Finding) { fs = append(fs, f) })
					ok := slotFast[s].Clean(&ms)
					if ok && len(fs) > 0 {
						t.Fatalf("%q against %s: Clean says clean, Check says %v", m, slots[s].name, fs[0].Error())
					}
					if !ok && len(fs) == 0 {
						t.Fatalf("%q against %s: Clean says dirty, Check finds nothing", m, slots[s].name)
					}
					if ok {
						clean++
					}
				}
			}
		}
	}
	t.Logf("%d segment/rule pairs compared, %d clean", checked, clean)
	if checked < 50000 || clean < 5000 {
		t.Fatalf("only %d segment/rule pairs compared, %d clean", checked, clean)
	}
}

// FuzzFastSpec holds the fast element check to x12.SegSpec.Check on
// arbitrary input: for every segment, against every 835 rule for its id,
// Clean says clean exactly when Check reports nothing (or, for a
// repeatable element with a repetition separator, leaves it to Check).
func FuzzFastSpec(f *testing.F) {
	for _, name := range sampleFiles(f) {
		f.Add(readSample(f, name[strings.LastIndexByte(name, '/')+1:]))
	}
	specs := map[string][]int{}
	for i := range slots {
		if slots[i].spec != nil {
			specs[slots[i].spec.ID] = append(specs[slots[i].spec.ID], i)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := x12.NewReader(bytes.NewReader(data))
		rd.SplitElements = true
		rd.MaxSegment = 1 << 16
		for n := 0; n <= len(data); n++ {
			seg, err := rd.Next()
			if err != nil {
				if x12.IsFinding(err) {
					continue
				}
				return
			}
			for _, s := range specs[seg.ID()] {
				var fs x12.Findings
				slots[s].spec.Check(seg, "", func(f x12.Finding) { fs = append(fs, f) })
				ok := slotFast[s].Clean(seg)
				if ok && len(fs) > 0 {
					t.Fatalf("%q against %s: Clean says clean, Check says %v", seg.Raw(), slots[s].name, fs[0].Error())
				}
				if !ok && len(fs) == 0 && !repeatable(slots[s].spec, seg) {
					t.Fatalf("%q against %s: Clean says dirty, Check finds nothing", seg.Raw(), slots[s].name)
				}
			}
		}
	})
}

// repeatable reports whether seg has a value in an element spec allows
// to repeat while its delimiters define a repetition separator: Clean
// leaves those to Check.
func repeatable(spec *x12.SegSpec, seg *x12.Segment) bool {
	if seg.Delimiters().Repetition == 0 {
		return false
	}
	for i, e := range spec.Elems {
		if e.Repeat > 1 && len(seg.Element(i+1)) > 0 {
			return true
		}
	}
	return false
}
