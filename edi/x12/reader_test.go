package x12

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// isa builds a well-formed 106-character ISA with the given delimiters.
func isa(el, rep, comp, term byte, control string) string {
	f := []string{"ISA", "00", "          ", "00", "          ", "ZZ", "SENDER         ", "ZZ", "RECEIVER       ",
		"240101", "1200", string(rep), "00501", control, "0", "P", string(comp)}
	return strings.Join(f, string(el)) + string(term)
}

// envelope wraps body segments (joined with the terminator) in a correct
// ISA/GS/ST..SE/GE/IEA envelope.
func envelope(el, rep, comp, term byte, control string, body ...string) string {
	j := func(s ...string) string { return strings.Join(s, string(el)) + string(term) }
	var b strings.Builder
	b.WriteString(isa(el, rep, comp, term, control))
	b.WriteString(j("GS", "HC", "SENDER", "RECEIVER", "20240101", "1200", "1", "X", "005010X222A1"))
	b.WriteString(j("ST", "837", "0001", "005010X222A1"))
	for _, s := range body {
		s = strings.ReplaceAll(strings.ReplaceAll(s, ":", string(comp)), "*", string(el))
		b.WriteString(s + string(term))
	}
	b.WriteString(j("SE", strconv.Itoa(len(body)+2), "0001"))
	b.WriteString(j("GE", "1", "1"))
	b.WriteString(j("IEA", "1", control))
	return b.String()
}

func check(t *testing.T, in string) (*Summary, Findings) {
	t.Helper()
	sum, fs, err := Check(strings.NewReader(in), CheckOptions{Name: "test.x12"})
	if err != nil {
		t.Fatal(err)
	}
	return sum, fs
}

func rules(fs Findings) []string {
	var r []string
	for _, f := range fs {
		r = append(r, f.Rule)
	}
	return r
}

func TestCleanEnvelope(t *testing.T) {
	in := envelope('*', '^', ':', '~', "000000001", "BHT*0019*00*1*20240101*1200*CH", "NM1*41*2*CLINIC")
	sum, fs := check(t, in)
	if len(fs) != 0 {
		t.Fatalf("clean envelope has findings: %v", fs)
	}
	if sum.Segments != 8 || sum.Sets() != 1 || sum.Interchanges[0].Control != "000000001" {
		t.Fatalf("summary wrong: %+v", sum)
	}
	if g := sum.Interchanges[0].Groups[0]; g.Sets[0].Segments != 4 || g.Version != "005010X222A1" {
		t.Fatalf("set summary wrong: %+v", g.Sets[0])
	}
}

func TestEnvelopeFindings(t *testing.T) {
	good := envelope('*', '^', ':', '~', "000000001", "BHT*0019*00*1*20240101*1200*CH")
	cases := []struct {
		name, from, to string
		rule           string
		segment        int
		element        int
	}{
		{"SE01 off", "SE*3*0001", "SE*4*0001", "envelope.se-count", 5, 1},
		{"SE02 mismatch", "SE*3*0001", "SE*3*0002", "envelope.se-control", 5, 2},
		{"GE01 off", "GE*1*1", "GE*2*1", "envelope.ge-count", 6, 1},
		{"GE02 mismatch", "GE*1*1", "GE*1*9", "envelope.ge-control", 6, 2},
		{"IEA01 off", "IEA*1*", "IEA*3*", "envelope.iea-count", 7, 1},
		{"IEA02 mismatch", "IEA*1*000000001", "IEA*1*000000002", "envelope.iea-control", 7, 2},
		{"GS date", "20240101*1200*1*X", "20240231*1200*1*X", "envelope.gs-date", 2, 4},
		{"GS time", "20240101*1200*1*X", "20240101*2561*1*X", "envelope.gs-time", 2, 5},
		{"ISA usage", "*0*P*:", "*0*Q*:", "envelope.isa-code", 1, 15},
		{"ISA date", "*240101*1200*", "*241301*1200*", "envelope.isa-code", 1, 9},
		{"missing SE", "SE*3*0001~", "", "envelope.se-missing", 5, 0},
		{"missing GE", "GE*1*1~", "", "envelope.ge-missing", 6, 0},
		{"missing IEA", "IEA*1*000000001~", "", "envelope.iea-missing", 7, 0},
		{"segment outside set", "GE*1*1~", "REF*XX*1~GE*1*1~", "envelope.outside-set", 6, 0},
		{"bad segment id", "BHT*", "bht*", "segment.id", 4, 0},
		{"NUL byte", "BHT*0019", "BHT*00\x0019", "segment.character", 4, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := strings.Replace(good, c.from, c.to, 1)
			if in == good {
				t.Fatalf("replacement %q not applied", c.from)
			}
			_, fs := check(t, in)
			var hit *Finding
			for i := range fs {
				if fs[i].Rule == c.rule {
					hit = &fs[i]
				}
			}
			if hit == nil {
				t.Fatalf("want %s, got %v", c.rule, rules(fs))
			}
			if hit.Segment != c.segment || hit.Element != c.element {
				t.Errorf("%s at segment %d element %d, want segment %d element %d: %v", c.rule, hit.Segment, hit.Element, c.segment, c.element, hit)
			}
			if hit.File != "test.x12" || hit.Offset <= 0 && hit.Segment > 1 {
				t.Errorf("finding not located: %+v", hit)
			}
		})
	}
}

func TestFindingMessage(t *testing.T) {
	good := envelope('*', '^', ':', '~', "000000001", "BHT*0019*00*1*20240101*1200*CH")
	_, fs := check(t, strings.Replace(good, "SE*3*", "SE*41*", 1))
	want := "test.x12: segment 5 (SE) element 1: SE01 says 41 segments, counted 3 [envelope.se-count]"
	if len(fs) != 1 || fs[0].Error() != want {
		t.Fatalf("got %v\nwant %s", fs, want)
	}
	if fs[0].Offset != int64(strings.Index(good, "SE*3*")) {
		t.Errorf("offset %d, want %d", fs[0].Offset, strings.Index(good, "SE*3*"))
	}
	if fs[0].SetPosition != 3 {
		t.Errorf("set position %d, want 3", fs[0].SetPosition)
	}
}

func TestISALength(t *testing.T) {
	good := envelope('*', '^', ':', '~', "000000001", "BHT*0019*00*1*20240101*1200*CH")
	short := strings.Replace(good, "SENDER         ", "SENDER", 1) // ISA06 unpadded
	sum, fs := check(t, short)
	if !fs.HasRule("envelope.isa-length") || !fs.HasRule("envelope.isa-width") {
		t.Fatalf("want isa-length and isa-width, got %v", rules(fs))
	}
	// The rest of the file is still read with the right delimiters.
	if sum.Segments != 7 || sum.Sets() != 1 || fs.HasRule("envelope.se-count") {
		t.Fatalf("short ISA derailed reading: %d segments, %v", sum.Segments, rules(fs))
	}
}

func TestDelimiterVariants(t *testing.T) {
	body := []string{"BHT*0019*00*1*20240101*1200*CH", "SV1*HC:97110:GP*100*UN*1"}
	cases := []struct {
		name string
		in   string
	}{
		{"standard", envelope('*', '^', ':', '~', "000000001", body...)},
		{"odd delimiters", envelope('~', 'U', '^', '_', "000000001", body...)},
		{"pipe and bang", envelope('|', '^', '>', '!', "000000001", body...)},
		{"CRLF after terminator", strings.ReplaceAll(envelope('*', '^', ':', '~', "000000001", body...), "~", "~\r\n")},
		{"LF after terminator", strings.ReplaceAll(envelope('*', '^', ':', '~', "000000001", body...), "~", "~\n")},
		{"newline terminator", envelope('*', '^', ':', '\n', "000000001", body...)},
		{"CRLF as terminator", strings.ReplaceAll(envelope('*', '^', ':', '\n', "000000001", body...), "\n", "\r\n")},
		{"BOM and trailing space", "\xEF\xBB\xBF" + envelope('*', '^', ':', '~', "000000001", body...) + "\n\n  \t\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(c.in))
			var ids []string
			var sv1 Segment
			for {
				seg, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("segment %d: %v", len(ids)+1, err)
				}
				ids = append(ids, seg.ID())
				if seg.Is("SV1") {
					sv1 = seg.Clone()
				}
			}
			if strings.Join(ids, " ") != "ISA GS ST BHT SV1 SE GE IEA" {
				t.Fatalf("segments %v", ids)
			}
			if string(sv1.Component(1, 2)) != "97110" || string(sv1.Component(1, 3)) != "GP" || sv1.Text(2) != "100" || sv1.Len() != 4 {
				t.Fatalf("SV1 not split right: %q", sv1.Raw())
			}
			if _, fs := check(t, c.in); len(fs) != 0 {
				t.Fatalf("findings: %v", fs)
			}
		})
	}
}

func TestSeveralInterchangesDifferentDelimiters(t *testing.T) {
	a := envelope('*', '^', ':', '~', "000000001", "BHT*0019*00*1*20240101*1200*CH")
	b := envelope('|', '^', '>', '\n', "000000002", "BHT*0019*00*2*20240101*1200*CH", "SV1*HC>97140>GP*50*UN*1")
	sum, fs := check(t, a+"\n"+b)
	if len(fs) != 0 {
		t.Fatalf("findings: %v", fs)
	}
	if len(sum.Interchanges) != 2 || sum.Interchanges[1].Delimiters.Element != '|' || sum.Interchanges[1].Delimiters.Segment != '\n' {
		t.Fatalf("second interchange: %+v", sum.Interchanges[1])
	}
	if sum.Segments != 15 {
		t.Fatalf("segments %d", sum.Segments)
	}
}

func TestRepetitions(t *testing.T) {
	seg := NewSegment("HI*ABK:M545^ABF:M6281^ABF:R262", Delimiters{Element: '*', Repetition: '^', Component: ':', Segment: '~'})
	if seg.Repeats(1) != 3 || string(seg.Repeat(1, 2).Part(2)) != "M6281" || seg.Repeat(1, 4).Bytes() != nil {
		t.Fatalf("repetitions wrong: %d %q", seg.Repeats(1), seg.Repeat(1, 2).Part(2))
	}
	if seg.Element(0) != nil || seg.Element(2) != nil || seg.Component(1, 9) != nil {
		t.Fatal("out-of-range access should give nil")
	}
}

func TestBadInputs(t *testing.T) {
	good := envelope('*', '^', ':', '~', "000000001", "BHT*0019*00*1*20240101*1200*CH")
	cases := []struct {
		name string
		in   string
		rule string
	}{
		{"empty", "", "envelope.empty"},
		{"only whitespace", " \r\n\t", "envelope.empty"},
		{"not X12", "hello, world\nthis is a CSV file,1,2\n", "envelope.isa-missing"},
		{"garbage before ISA", "junk" + good, "envelope.isa-missing"},
		{"NUL bytes", strings.Repeat("\x00", 300), "envelope.isa-missing"},
		{"truncated mid-file", good[:strings.Index(good, "SE*")], "envelope.se-missing"},
		{"truncated ISA", good[:50], "envelope.isa-truncated"},
		{"unterminated last segment", strings.TrimSuffix(good, "~"), "segment.unterminated"},
		{"alphanumeric delimiter", strings.Replace(good, ":~", "A~", 1), "envelope.delimiters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, fs := check(t, c.in)
			if !fs.HasRule(c.rule) {
				t.Fatalf("want %s, got %v", c.rule, fs)
			}
		})
	}
}

func TestGarbageThenValid(t *testing.T) {
	// After garbage, reading resumes at the next ISA and the interchange
	// is read whole.
	good := envelope('*', '^', ':', '~', "000000001", "BHT*0019*00*1*20240101*1200*CH")
	sum, fs := check(t, "GARBAGE~MORE~"+good)
	if sum.Sets() != 1 || len(fs) != 1 || fs[0].Rule != "envelope.isa-missing" {
		t.Fatalf("sets %d findings %v", sum.Sets(), fs)
	}
}

func TestSegmentTooLong(t *testing.T) {
	long := "NTE*ADD*" + strings.Repeat("A", 5000)
	in := envelope('*', '^', ':', '~', "000000001", "BHT*0019*00*1*20240101*1200*CH", long, "REF*EA*1")
	sum, fs, err := Check(strings.NewReader(in), CheckOptions{MaxSegment: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !fs.HasRule("segment.too-long") {
		t.Fatalf("want segment.too-long, got %v", fs)
	}
	// The segment after the long one is read normally; SE01 then differs by
	// the skipped segment.
	if sum.Segments != 8 || !fs.HasRule("envelope.se-count") {
		t.Fatalf("segments %d findings %v", sum.Segments, rules(fs))
	}
}

func TestOneByteReader(t *testing.T) {
	// Reading through a reader that returns one byte at a time gives the
	// same segments as reading the whole input at once.
	in := envelope('*', '^', ':', '~', "000000001", "BHT*0019*00*1*20240101*1200*CH", "NM1*41*2*CLINIC")
	r := NewReader(iotest.OneByteReader(strings.NewReader(in)))
	var got []string
	for {
		seg, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(seg.Raw()))
	}
	want := strings.Split(strings.TrimSuffix(in, "~"), "~")
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	in := envelope('*', '^', ':', '~', "000000001", "BHT*0019*00*1*20240101*1200*CH")
	r := NewReader(io.MultiReader(strings.NewReader(in[:200]), iotest.ErrReader(boom)))
	var err error
	for err == nil || IsFinding(err) {
		_, err = r.Next()
	}
	if !errors.Is(err, boom) {
		t.Fatalf("want the read error, got %v", err)
	}
}

func TestTA1(t *testing.T) {
	in := isa('*', '^', ':', '~', "000000005") + "TA1*000000001*240101*1200*R*022~IEA*0*000000005~"
	sum, fs := check(t, in)
	if len(fs) != 0 {
		t.Fatalf("findings %v", fs)
	}
	acks := sum.Interchanges[0].Acks
	if len(acks) != 1 || acks[0].Control != "000000001" || acks[0].Ack != "R" || acks[0].Note != "022" {
		t.Fatalf("TA1 not recognised: %+v", acks)
	}
	_, fs = check(t, strings.Replace(in, "*R*022", "*Q*22", 1))
	if n := len(fs); n != 2 {
		t.Fatalf("want TA104 and TA105 findings, got %v", fs)
	}
}

func TestDuplicateISA13IsError(t *testing.T) {
	// The same sender's ISA13 twice is the same interchange sent twice.
	a := envelope('*', '^', ':', '~', "000000001", "BHT*0019*00*1*20240101*1200*CH")
	_, fs := check(t, a+a)
	if !slices.Equal(rules(fs), []string{"envelope.isa-duplicate"}) || fs.Errors() != 1 || fs[0].Element != 13 {
		t.Fatalf("want one duplicate error at ISA13, got %v", fs)
	}
	// Another sender's control numbers are its own.
	b := strings.Replace(a, "SENDER         ", "OTHERSENDER    ", 1)
	if _, fs := check(t, a+b); len(fs) != 0 {
		t.Fatalf("two senders with the same ISA13: %v", fs)
	}
}

// The Summary lists at most MaxSummaryEntries entries but counts
// everything, and the findings go to CheckOptions.Finding, none kept.
func TestSummaryBoundedAndFindingsStreamed(t *testing.T) {
	set := func(ctl int) string {
		c := fmt.Sprintf("%04d", ctl)
		return "ST*837*" + c + "*005010X222A1~BHT*0019*00*1*20240101*1200*CH~SE*3*" + c + "~"
	}
	var b strings.Builder
	b.WriteString(isa('*', '^', ':', '~', "000000001"))
	b.WriteString("GS*HC*SENDER*RECEIVER*20240101*1200*1*X*005010X222A1~")
	const n = MaxSummaryEntries + 500
	for i := 1; i <= n; i++ {
		b.WriteString(set(i))
	}
	b.WriteString("ST*837*0001*005010X222A1~SE*2*0001~") // a duplicate ST02
	fmt.Fprintf(&b, "GE*%d*1~IEA*1*000000001~ZZ*stray~", n+1)
	var got []string
	sum, fs, err := Check(strings.NewReader(b.String()), CheckOptions{Finding: func(f *Finding) { got = append(got, f.Rule) }})
	if err != nil || fs != nil {
		t.Fatalf("err %v, findings kept %v", err, fs)
	}
	if !slices.Equal(got, []string{"envelope.st-duplicate", "envelope.outside-set"}) {
		t.Fatalf("findings %v", got)
	}
	listed := len(sum.Interchanges) + len(sum.Interchanges[0].Groups) + len(sum.Interchanges[0].Groups[0].Sets)
	if sum.Sets() != n+1 || sum.SetCount != n+1 || sum.GroupCount != 1 || sum.InterchangeCount != 1 || !sum.Truncated || listed != MaxSummaryEntries {
		t.Fatalf("sets %d, groups %d, interchanges %d, truncated %v, listed %d", sum.SetCount, sum.GroupCount, sum.InterchangeCount, sum.Truncated, listed)
	}
}

func TestSegmentIDInterning(t *testing.T) {
	in := envelope('*', '^', ':', '~', "000000001", "BHT*0019*00*1*20240101*1200*CH")
	r := NewReader(bytes.NewReader([]byte(strings.Repeat(in, 3))))
	for {
		seg, err := r.Next()
		if err != nil {
			break
		}
		if seg.ID() != strings.SplitN(string(seg.Raw()), "*", 2)[0] {
			t.Fatalf("id %q for %q", seg.ID(), seg.Raw())
		}
	}
}

func TestIDCacheKeepsCollidingIDs(t *testing.T) {
	var c idCache
	ids := []string{"AMT", "SVC", "CAS", "CLP", "NM1", "DTM", "REF", "LQ", "ST", "SE", "PLB", "N1", "N3", "N4", "PER", "BPR", "TRN", "LX", "TS3", "MOA", "QTY"}
	first := map[string]*idEntry{}
	for _, id := range ids {
		e := c.get([]byte(id+"*X"), '*')
		if e == nil || e.id != id || !e.valid {
			t.Fatalf("%s: entry %+v", id, e)
		}
		first[id] = e
	}
	// Every id of an 835 keeps its slot: reading them again finds the
	// same entries, so no segment id is re-allocated in steady state.
	for round := 0; round < 3; round++ {
		for _, id := range ids {
			if e := c.get([]byte(id), '*'); e != first[id] {
				t.Fatalf("%s was evicted", id)
			}
		}
	}
	if e := c.get([]byte("ST*837"), '*'); e.pos != 1 {
		t.Fatal("ST does not start a set")
	}
	if e := c.get([]byte("bad*"), '*'); e == nil || e.valid {
		t.Fatal("lower-case id accepted")
	}
}

func TestKeepBuffers(t *testing.T) {
	// With KeepBuffers the bytes of every segment stay as they were read
	// after the Reader has moved on through several buffers, whatever the
	// read sizes; without it the Reader reuses its buffer.
	in, err := io.ReadAll(newGenStream(300 << 10))
	if err != nil {
		t.Fatal(err)
	}
	in = append(in, "SE*1*0001~GE*1*1~IEA*1*000000001~"...)
	want := strings.Split(strings.TrimSuffix(strings.ReplaceAll(string(in), "\n", ""), "~"), "~")
	sources := map[string]func() io.Reader{
		"whole":    func() io.Reader { return bytes.NewReader(in) },
		"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(in)) },
		"one-byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(in)) },
	}
	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			r := NewReader(src())
			r.KeepBuffers = true
			var kept [][]byte
			for {
				seg, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				kept = append(kept, seg.Raw()) // no copy
			}
			if len(kept) != len(want) {
				t.Fatalf("%d segments, want %d", len(kept), len(want))
			}
			for i := range kept {
				if string(kept[i]) != want[i] {
					t.Fatalf("segment %d is %q after reading on, want %q", i+1, kept[i], want[i])
				}
			}
		})
	}
	// One-byte reads must not cost a buffer per read: buffers are only
	// replaced when full.
	allocs := func(keep bool) float64 {
		return testing.AllocsPerRun(1, func() {
			r := NewReader(iotest.OneByteReader(bytes.NewReader(in)))
			r.KeepBuffers = keep
			for {
				if _, err := r.Next(); err == io.EOF {
					break
				}
			}
		})
	}
	extra := allocs(true) - allocs(false)
	if max := float64(len(in)/readBufSize + 1); extra > max {
		t.Errorf("KeepBuffers made %.0f more allocations reading %d bytes one at a time, want at most %.0f (one per full buffer)", extra, len(in), max)
	}
	// The default Reader reuses its buffer, so kept bytes change.
	r := NewReader(bytes.NewReader(in))
	first, _ := r.Next()
	raw := first.Raw()
	keep := string(raw)
	for {
		if _, err := r.Next(); err == io.EOF {
			break
		}
	}
	if string(raw) == keep {
		t.Errorf("default Reader kept its first buffer unchanged: the test does not cross a buffer")
	}
}

// TestRelease checks Release on a KeepBuffers Reader: the bytes of the
// segments returned since the last Release stay unchanged whatever was
// released before them, reading returns what a plain Reader does, and a
// caller releasing every few segments reads many buffers of input in a
// few, without allocating for them.
func TestRelease(t *testing.T) {
	in, err := io.ReadAll(newGenStream(1 << 20))
	if err != nil {
		t.Fatal(err)
	}
	in = append(in[:bytes.LastIndexByte(in, '~')+1], "SE*1*0001~GE*1*1~IEA*1*000000001~"...)
	want := strings.Split(strings.TrimSuffix(strings.ReplaceAll(string(in), "\n", ""), "~"), "~")
	for _, every := range []int{1, 7, 5000} {
		for name, src := range map[string]func() io.Reader{
			"whole": func() io.Reader { return bytes.NewReader(in) },
			"half":  func() io.Reader { return iotest.HalfReader(bytes.NewReader(in)) },
		} {
			t.Run(fmt.Sprintf("%s/every-%d", name, every), func(t *testing.T) {
				r := NewReader(src())
				r.KeepBuffers = true
				var since [][]byte // segments since the last Release, not copied
				n := 0
				for ; ; n++ {
					seg, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if n >= len(want) || string(seg.Raw()) != want[n] {
						t.Fatalf("segment %d is %q, want %q", n+1, seg.Raw(), want[min(n, len(want)-1)])
					}
					since = append(since, seg.Raw())
					if len(since) == every {
						for i, raw := range since {
							if k := n + 1 - len(since) + i; string(raw) != want[k] {
								t.Fatalf("segment %d changed to %q before its release", k+1, raw)
							}
						}
						since = since[:0]
						r.Release()
					}
				}
				if n != len(want) {
					t.Fatalf("%d segments, want %d", n, len(want))
				}
			})
		}
	}
	// Releasing after each segment, the buffers are used again: reading
	// 1 MB (16 buffers) allocates less than a buffer more than reading
	// the first 5 buffers does.
	read := func(data []byte) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := NewReader(bytes.NewReader(data))
		r.KeepBuffers = true
		for {
			if _, err := r.Next(); err == io.EOF {
				break
			}
			r.Release()
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	small := bytes.Index(in[5*readBufSize:], []byte("~")) + 5*readBufSize + 1
	if whole, part := read(in), read(in[:small]); whole > part+readBufSize {
		t.Errorf("reading %d bytes allocated %d bytes, %d bytes %d: released buffers are not reused", len(in), whole, small, part)
	}
	// Without Release the Reader holds no buffer it has left.
	r := NewReader(bytes.NewReader(in))
	r.KeepBuffers = true
	for {
		if _, err := r.Next(); err == io.EOF {
			break
		}
	}
	if len(r.left) != 0 || len(r.free) != 0 {
		t.Errorf("a Reader never released holds %d buffers", len(r.left)+len(r.free))
	}
}

// TestStepsOverNewlines: after a segment the Reader stands past the CR
// and LF that follow its terminator, whichever path read it (the ISA and
// the slow path too), so the next segment is read on Next's fast path —
// files with a segment per line used to fall to the slow path for good.
func TestStepsOverNewlines(t *testing.T) {
	for _, nl := range []string{"\n", "\r\n", "\n\n"} {
		in, err := io.ReadAll(newGenStream(200 << 10))
		if err != nil {
			t.Fatal(err)
		}
		in = bytes.ReplaceAll(bytes.ReplaceAll(in, []byte("\n"), nil), []byte("~"), []byte("~"+nl))
		for _, split := range []bool{false, true} {
			r := NewReader(iotest.HalfReader(bytes.NewReader(in)))
			r.SplitElements = split
			n := 0
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil && !IsFinding(err) {
					t.Fatal(err)
				}
				if err == nil {
					n++
				}
				if r.r < r.w && (r.buf[r.r] == '\n' || r.buf[r.r] == '\r') {
					t.Fatalf("%q, split %v: after segment %d the Reader stands on a line break", nl, split, n)
				}
			}
			if n < 1000 {
				t.Fatalf("%q: only %d segments", nl, n)
			}
		}
	}
}

// TestEnvelopes follows ISA, GS and TA1 through two interchanges: the
// control numbers and version of the current group, TA1s kept up to
// MaxTA1, and no other segment taken.
func TestEnvelopes(t *testing.T) {
	var in bytes.Buffer
	in.WriteString(envelope('*', '^', ':', '~', "000000001", "BHT*0019*00*1*20240101*1200*CH"))
	for i := range MaxTA1 + 5 {
		fmt.Fprintf(&in, "TA1*%09d*240101*1200*A*000~", i)
	}
	// the second group's ST has no version: GS08's counts
	second := envelope('|', '^', '>', '\n', "000000002", "BHT|0019|00|1|20240101|1200|CH")
	second = strings.Replace(second, "|1|X|005010X222A1\n", "|2|X|005010X231A1\n", 1)
	in.WriteString(strings.Replace(second, "ST|837|0001|005010X222A1\n", "ST|837|0001|\n", 1))
	r := NewReader(&in)
	var e Envelopes
	var versions []string
	took := map[string]int{}
	for {
		seg, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Take(seg) {
			took[seg.ID()]++
		}
		if seg.Is("ST") {
			versions = append(versions, e.Interchange+"/"+e.Group+"/"+e.Version(seg))
		}
	}
	if len(e.TA1s) != MaxTA1 || e.TA1s[7].Control != "000000007" || e.TA1s[7].Ack != "A" {
		t.Errorf("%d TA1s kept, the 8th %+v", len(e.TA1s), e.TA1s[7])
	}
	if took["ISA"] != 2 || took["GS"] != 2 || took["GE"] != 2 || took["IEA"] != 2 || took["TA1"] != MaxTA1+5 || len(took) != 5 {
		t.Errorf("took %v", took)
	}
	if want := []string{"000000001/1/005010X222A1", "000000002/2/005010X231A1"}; !slices.Equal(versions, want) {
		t.Errorf("interchange/group/version at each ST: %v, want %v", versions, want)
	}
}

// TestCappedFindings: findings are kept up to Max with the file filled in,
// then one finding says the rest were dropped, however many follow.
func TestCappedFindings(t *testing.T) {
	c := CappedFindings{File: "in.999", Max: 3}
	for i := range 10 {
		f := Finding{Rule: "r", Segment: i}
		if i == 1 {
			f.File = "other"
		}
		c.Add(f)
	}
	if len(c.List) != 4 || c.List[0].File != "in.999" || c.List[1].File != "other" || c.List[2].Segment != 2 {
		t.Fatalf("kept %+v", c.List)
	}
	if last := c.List[3]; last.Rule != "findings.truncated" || last.Severity != Warning || last.File != "in.999" {
		t.Fatalf("last finding %+v, want the truncation warning", last)
	}
}

// The summary keeps envelope values of at most maxKept bytes, however
// long the element.
func TestSummaryClipsLongValues(t *testing.T) {
	long := strings.Repeat("S", 100000)
	in := strings.Replace(envelope('*', '^', ':', '~', "000000001", "BHT*0019*00*1*20240101*1200*CH"), "GS*HC*SENDER*", "GS*HC*"+long+"*", 1)
	sum, _ := check(t, in)
	if g := sum.Interchanges[0].Groups[0]; len(g.Sender) != maxKept || g.Sender != long[:maxKept] {
		t.Fatalf("GS02 kept as %d bytes", len(g.Sender))
	}
}
