package x12

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

// echoChecker is a set checker that reports everything it is handed: a
// finding per segment naming its position, id and every element, one
// at End, and, for a TRN, a check of its element 2 against the file's
// earlier TRNs (shared state, deferred when checked in parallel). Any
// difference in what a worker hands it shows in the findings.
type echoChecker struct {
	h     SetHeader
	segs  int
	seen  map[string]int // shared by the file's checkers
	later func(Deferred)
}

func (c *echoChecker) Defer(do func(Deferred)) { c.later = do }

func (c *echoChecker) Segment(seg *Segment, report func(Finding)) {
	c.segs++
	var b strings.Builder
	fmt.Fprintf(&b, "%s set %s pos %d len %d:", seg.ID(), c.h.Control, seg.SetPos, seg.Len())
	for i := 1; i <= seg.Len(); i++ {
		fmt.Fprintf(&b, " %q", seg.Element(i))
	}
	sev := Warning
	if seg.Num%5 == 0 {
		sev = Error
	}
	report(At(seg, sev, "echo.segment-"+strconv.Itoa(seg.Num%3), seg.Len(), 0, "%s", b.String()))
	if seg.ID() == "TRN" {
		d := &echoDup{seen: c.seen, key: string(seg.Element(2)), num: seg.Num, f: At(seg, Error, "echo.duplicate", 2, 0, "TRN02 %q again", seg.Element(2))}
		if c.later != nil {
			c.later(d)
		} else {
			d.Resolve(report)
		}
	}
}

func (c *echoChecker) End(se *Segment, report func(Finding)) {
	if se == nil {
		report(Finding{Rule: "echo.end", Message: fmt.Sprintf("set %s ends without SE after %d segments", c.h.Control, c.segs)})
		return
	}
	report(At(se, Warning, "echo.end", 0, 0, "set %s of %s/%s ends after %d segments", c.h.Control, c.h.ID, c.h.Version, c.segs))
}

type echoDup struct {
	seen map[string]int
	key  string
	num  int
	f    Finding
}

func (d *echoDup) Resolve(report func(Finding)) {
	if prev, ok := d.seen[d.key]; ok {
		d.f.Message += fmt.Sprintf(" (first at segment %d)", prev)
		report(d.f)
		return
	}
	d.seen[d.key] = d.num
}

func echoSets() func(h SetHeader) SetChecker {
	seen := map[string]int{}
	return func(h SetHeader) SetChecker {
		if h.ID == "999" {
			return nil // envelope only
		}
		return &echoChecker{h: h, seen: seen}
	}
}

// genX12 writes a random X12 file: interchanges with various delimiters
// and line ends, groups and sets of random segments, and, now and then,
// every kind of damage the envelope checker and the Reader report.
func genX12(r *rand.Rand) string {
	var b strings.Builder
	ids := []string{"BHT", "NM1", "N3", "N4", "REF", "DTM", "CLM", "LX", "SV1", "TRN", "BPR", "CLP", "CAS", "AMT"}
	if r.Intn(8) == 0 {
		b.WriteString("junk before the interchange~")
	}
	for ic := 0; ic < 1+r.Intn(3); ic++ {
		el, rep, comp, term := byte('*'), byte('^'), byte(':'), byte('~')
		switch r.Intn(4) {
		case 1:
			el, rep, comp, term = '|', '!', '>', '\n'
		case 2:
			el, rep, comp, term = '+', '^', ':', '\''
		}
		nl := ""
		if term != '\n' {
			nl = []string{"", "", "\n", "\r\n", "  \n"}[r.Intn(5)]
		}
		seg := func(parts ...string) {
			s := strings.Join(parts, string(el))
			if r.Intn(300) == 0 {
				s += "\x01" // outside the character set
			}
			b.WriteString(s)
			if r.Intn(400) == 0 {
				return // terminator lost: two segments run together
			}
			b.WriteByte(term)
			b.WriteString(nl)
		}
		control := fmt.Sprintf("%09d", 1+r.Intn(3))
		b.WriteString(isa(el, rep, comp, term, control))
		b.WriteString(nl)
		groups := r.Intn(3)
		for g := 0; g < groups; g++ {
			gs := strconv.Itoa(1 + r.Intn(2))
			seg("GS", "HC", "S", "R", "20240101", "1200", gs, "X", "005010X222A1")
			sets := r.Intn(5)
			for s := 0; s < sets; s++ {
				st := fmt.Sprintf("%04d", 1+r.Intn(4))
				id := "837"
				if r.Intn(6) == 0 {
					id = "999"
				}
				seg("ST", id, st)
				n := r.Intn(60)
				if r.Intn(10) == 0 {
					n = 200 + r.Intn(2000)
				}
				for k := 0; k < n; k++ {
					parts := []string{ids[r.Intn(len(ids))]}
					for e := r.Intn(8); e >= 0; e-- {
						v := strconv.Itoa(r.Intn(100000))
						switch r.Intn(20) {
						case 0:
							v = strings.Repeat("A", r.Intn(3000)) // long: cloned, not copied
						case 1:
							v = "X" + string(comp) + "Y" + string(rep) + "Z"
						case 2:
							v = ""
						}
						parts = append(parts, v)
					}
					if parts[0] == "TRN" {
						parts = []string{"TRN", "1", strconv.Itoa(r.Intn(30))}
					}
					if r.Intn(200) == 0 {
						parts[0] = "bad"
					}
					if r.Intn(300) == 0 {
						seg("GE", "1", gs) // an envelope segment inside the set
						continue
					}
					seg(parts...)
				}
				if r.Intn(12) != 0 {
					seg("SE", strconv.Itoa(n+2-r.Intn(2)), st)
				}
			}
			if r.Intn(10) != 0 {
				seg("GE", strconv.Itoa(sets), gs)
			}
		}
		if r.Intn(10) == 0 {
			seg("NM1", "stray")
		}
		if r.Intn(10) != 0 {
			seg("IEA", strconv.Itoa(groups), control)
		}
	}
	s := b.String()
	if r.Intn(6) == 0 && len(s) > 0 {
		s = s[:r.Intn(len(s))] // truncated
	}
	return s
}

func summaryJSON(t *testing.T, s *Summary) string {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestParallelCheckSameAsAlone checks random files with one worker and
// with several, in batches of many sizes (down to a segment or two, so a
// set spans many batches), read whole or in pieces: the findings (every
// field, in order), the deferred checks across sets and the summary are
// the same.
func TestParallelCheckSameAsAlone(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 60
	}
	rules := map[string]int{}
	defer func() {
		// the files have what the comparison is about
		for _, rule := range []string{"echo.duplicate", "envelope.isa-duplicate", "envelope.se-missing", "envelope.se-count", "envelope.ge-missing",
			"segment.too-long", "segment.character", "segment.id", "segment.unterminated", "envelope.outside-set", "envelope.isa-missing"} {
			if rules[rule] == 0 && !t.Failed() {
				t.Errorf("no %s in the files", rule)
			}
		}
	}()
	for i := 0; i < n; i++ {
		r := rand.New(rand.NewSource(int64(i)))
		in := genX12(r)
		// the Reader words a too-long segment by what it has buffered:
		// both read the same way
		half := r.Intn(2) == 0
		source := func() io.Reader {
			if half {
				return iotest.HalfReader(strings.NewReader(in))
			}
			return strings.NewReader(in)
		}
		opts := CheckOptions{Name: "f.x12", MaxSegment: 2000 + r.Intn(3000), Sets: echoSets()}
		sum, want, err := Check(source(), opts)
		if err != nil {
			t.Fatal(err)
		}
		wantSum := summaryJSON(t, sum)
		for _, f := range want {
			rules[f.Rule]++
		}
		for k, workers := range []int{2, 3, 5, 2, 3} {
			size := []int{1, 40, 300, 4096, 0}[r.Intn(5)]
			src := source()
			opts := CheckOptions{Name: "f.x12", MaxSegment: opts.MaxSegment, Sets: echoSets(), Workers: workers, BatchSize: size}
			if k >= 3 {
				// the workers read the segments again from the input,
				// which starts some way into the Source
				prefix := strings.Repeat("#", r.Intn(3)*1000)
				opts.Source, opts.SourceBase = strings.NewReader(prefix+in), int64(len(prefix))
			}
			sum, got, err := Check(src, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				for k := 0; k < min(len(got), len(want)); k++ {
					if !reflect.DeepEqual(got[k], want[k]) {
						t.Fatalf("file %d, %d workers, batch %d, source %v: finding %d of %d/%d differs:\n got %+v\nwant %+v", i, workers, size, opts.Source != nil, k, len(got), len(want), got[k], want[k])
					}
				}
				t.Fatalf("file %d, %d workers, batch %d, source %v: %d findings, want %d", i, workers, size, opts.Source != nil, len(got), len(want))
			}
			if s := summaryJSON(t, sum); s != wantSum {
				t.Fatalf("file %d, %d workers: summary\n%s\nwant\n%s", i, workers, s, wantSum)
			}
		}
	}
}

// TestParallelCheckFullFindings checks that past FullFindings the
// findings keep their severity, rule and order.
func TestParallelCheckFullFindings(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	var in string
	for len(in) < 200<<10 {
		in = genX12(r)
	}
	collect := func(workers, full int) (out []Finding) {
		_, _, err := Check(strings.NewReader(in), CheckOptions{Sets: echoSets(), Workers: workers, FullFindings: full, BatchSize: 1000,
			Finding: func(f *Finding) { out = append(out, *f) }})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := collect(1, 0)
	if len(want) < 100 {
		t.Fatalf("only %d findings", len(want))
	}
	for _, full := range []int{-1, 1, 10} {
		got := collect(3, full)
		if len(got) != len(want) {
			t.Fatalf("full %d: %d findings, want %d", full, len(got), len(want))
		}
		for k := range got {
			if got[k].Rule != want[k].Rule || got[k].Severity != want[k].Severity {
				t.Fatalf("full %d: finding %d is %s %s, want %s %s", full, k, got[k].Severity, got[k].Rule, want[k].Severity, want[k].Rule)
			}
			if k < full && !reflect.DeepEqual(got[k], want[k]) {
				t.Fatalf("full %d: finding %d\n got %+v\nwant %+v", full, k, got[k], want[k])
			}
		}
	}
}

// TestParallelCheckReadError: a read error mid-way ends Check with the
// findings up to it, as alone, and stops the workers.
func TestParallelCheckReadError(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	in := genX12(r)
	for len(in) < 20000 {
		in += genX12(r)
	}
	fail := func() io.Reader {
		return io.MultiReader(strings.NewReader(in[:len(in)/2]), iotest.ErrReader(fmt.Errorf("disk on fire")))
	}
	_, want, err1 := Check(fail(), CheckOptions{Sets: echoSets()})
	_, got, err2 := Check(fail(), CheckOptions{Sets: echoSets(), Workers: 2, BatchSize: 100})
	if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
		t.Fatalf("errors %v and %v", err1, err2)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%d findings, want %d", len(got), len(want))
	}
}

// TestParallelCheckOneLongSet: a set spread over thousands of batches
// (far more than are in flight) is checked whole, by one checker.
func TestParallelCheckOneLongSet(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(isa('*', '^', ':', '~', "000000001"))
	b.WriteString("GS*HC*S*R*20240101*1200*1*X*005010X222A1~ST*837*0001~")
	n := 200000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "REF*EA*%d~", i)
	}
	fmt.Fprintf(&b, "SE*%d*0001~GE*1*1~IEA*1*000000001~", n+2)
	in := b.Bytes()
	var count int
	var last Finding
	_, _, err := Check(bytes.NewReader(in), CheckOptions{Workers: 2, BatchSize: 4096, Sets: func(h SetHeader) SetChecker { return &countChecker{} },
		Finding: func(f *Finding) { count++; last = *f }})
	if err != nil {
		t.Fatal(err)
	}
	if count != 1 || last.Message != fmt.Sprintf("%d segments", n+2) {
		t.Fatalf("%d findings, last %+v", count, last)
	}
}

type countChecker struct{ n int }

func (c *countChecker) Segment(seg *Segment, report func(Finding)) { c.n++ }
func (c *countChecker) End(se *Segment, report func(Finding)) {
	report(At(se, Warning, "count", 0, 0, "%d segments", c.n))
}

// twoLongSets is an interchange of two sets of n REF segments each.
func twoLongSets(n int) []byte {
	var b bytes.Buffer
	b.WriteString(isa('*', '^', ':', '~', "000000001"))
	b.WriteString("GS*HC*S*R*20240101*1200*1*X*005010X222A1~")
	for set := 1; set <= 2; set++ {
		fmt.Fprintf(&b, "ST*837*000%d~", set)
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "REF*EA*%d~", i)
		}
		fmt.Fprintf(&b, "SE*%d*000%d~", n+2, set)
	}
	b.WriteString("GE*2*1~IEA*1*000000001~")
	return b.Bytes()
}

// TestParallelCheckSetsSideBySide: two large sets, one after the other,
// are checked by two workers, not both by the worker of the first (a
// batch holding the end of one set and the start of the next used to
// send the next set to the first set's worker, so one worker did all the
// work of a file of large sets), from copies and from the Source alike.
func TestParallelCheckSetsSideBySide(t *testing.T) {
	in := twoLongSets(50000)
	for _, fromSource := range []bool{false, true} {
		var mu sync.Mutex
		var ids []string
		opts := CheckOptions{Workers: 2, BatchSize: 64 << 10, Sets: func(h SetHeader) SetChecker {
			return &goroutineChecker{record: func(id string) { mu.Lock(); ids = append(ids, id); mu.Unlock() }}
		}}
		if fromSource {
			opts.Source = bytes.NewReader(in)
		}
		_, fs, err := Check(bytes.NewReader(in), opts)
		if err != nil || len(fs) != 0 {
			t.Fatalf("source %v: %v %v", fromSource, err, fs)
		}
		if len(ids) != 2 || ids[0] == ids[1] {
			t.Fatalf("source %v: the sets were checked on goroutines %v, want two different ones", fromSource, ids)
		}
	}
}

// goroutineChecker records the goroutine that checks its first segment.
type goroutineChecker struct {
	record func(string)
	seen   bool
}

func (c *goroutineChecker) Segment(seg *Segment, report func(Finding)) {
	if !c.seen {
		c.seen = true
		buf := make([]byte, 64)
		buf = buf[:runtime.Stack(buf, false)]
		id, _, _ := strings.Cut(strings.TrimPrefix(string(buf), "goroutine "), " ")
		c.record(id)
	}
}
func (c *goroutineChecker) End(se *Segment, report func(Finding)) {}

// TestParallelCheckSourceChanged: when the Source no longer holds what
// Check read (the file was changed or cut while it was checked), the
// findings say so (input.changed) and Check neither panics nor hangs.
// (A change that keeps every segment's length is not noticed: the input
// must not change while it is checked, as CheckOptions.Source says.)
func TestParallelCheckSourceChanged(t *testing.T) {
	in := twoLongSets(20000)
	for name, changed := range map[string][]byte{
		"terminators gone": bytes.ReplaceAll(in, []byte("~"), []byte("X")),
		"cut short":        in[:len(in)/2],
		"shifted a byte":   append([]byte(" "), in...),
		"empty":            nil,
	} {
		_, fs, err := Check(bytes.NewReader(in), CheckOptions{Workers: 2, BatchSize: 4096, Source: bytes.NewReader(changed),
			Sets: func(h SetHeader) SetChecker { return &countChecker{} }})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		n := 0
		for _, f := range fs {
			if f.Rule == "input.changed" {
				n++
				if f.Severity != Error || !strings.Contains(f.Message, "changed") && !strings.Contains(f.Message, "could not be read again") {
					t.Fatalf("%s: %+v", name, f)
				}
			}
		}
		if n == 0 {
			t.Fatalf("%s: no input.changed finding among %d", name, len(fs))
		}
	}
}
