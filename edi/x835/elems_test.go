package x835

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

// checkElems compares the parser's elements of seg with those of a copy
// of it split by x12.Segment's own Element and Len.
func checkElems(t *testing.T, seg *x12.Segment) {
	t.Helper()
	var e elems
	e.split(seg)
	ref := x12.NewSegment(string(seg.Raw()), seg.Delimiters())
	seg = &ref
	if e.n != seg.Len() {
		t.Fatalf("%q: %d elements, x12 says %d", seg.Raw(), e.n, seg.Len())
	}
	for i := -1; i <= e.n+2; i++ {
		got, want := e.at(i), seg.Element(i)
		if i > maxElems {
			want = nil // not kept: the parser never asks
		}
		if !bytes.Equal(got, want) || (got == nil) != (want == nil) {
			t.Fatalf("%q element %d: %q, x12 says %q", seg.Raw(), i, got, want)
		}
	}
}

// TestElemsMatchSegment checks the parser's elements, as the x12 Reader
// split them while reading, against x12.Segment's own split on every
// segment of the samples and of a generated file, and on built segments with empty,
// trailing and too many elements and other delimiters.
func TestElemsMatchSegment(t *testing.T) {
	files := [][]byte{writeFile(t, x12.Delimiters{Element: '|', Repetition: '^', Component: '>', Segment: '\n'}, false, newGen(7).remittance(30))}
	for _, name := range sampleFiles(t) {
		files = append(files, readSample(t, name[len(sampleDir)+1:]))
	}
	n := 0
	for _, data := range files {
		rd := x12.NewReader(bytes.NewReader(data))
		rd.SplitElements = true // as the Reader reads
		for {
			seg, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				continue
			}
			checkElems(t, seg)
			n++
		}
	}
	if n < 1000 {
		t.Fatalf("checked only %d segments", n)
	}

	built := []string{
		"SE", "REF*", "REF**", "REF*6R", "REF*6R*", "NM1*QC*1***", "CAS*PR*1*10***2*5",
		"AMT*B6*1234567.89", "SVC*HC:97110:GP*100*80**2", "ABCDEFGH*12345678*1234567",
		"X" + strings.Repeat("*e", maxElems-1), "X" + strings.Repeat("*e", maxElems),
		"X" + strings.Repeat("*e", maxElems+1), "X" + strings.Repeat("*", maxElems+5),
		"X*" + strings.Repeat("é", 30) + "*z",
	}
	for _, text := range built {
		seg := x12.NewSegment(text, x12.DefaultDelimiters)
		checkElems(t, &seg)
		other := x12.NewSegment(strings.ReplaceAll(text, "*", "|"), x12.Delimiters{Element: '|', Component: ':', Segment: '~'})
		checkElems(t, &other)
	}
}
