package x999

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
)

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randText(r *rand.Rand, min, max int) string {
	n := min + r.IntN(max-min+1)
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[r.IntN(len(alnum))]
	}
	return string(b)
}

func randDigits(r *rand.Rand, min, max int) string {
	s := fmt.Sprint(1 + r.IntN(9))
	for n := min + r.IntN(max-min+1); len(s) < n; {
		s += fmt.Sprint(r.IntN(10))
	}
	return s
}

func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

func maybe(r *rand.Rand, s string) string {
	if r.IntN(2) == 0 {
		return ""
	}
	return s
}

func randPosition(r *rand.Rand, optional bool) ElementPosition {
	if optional && r.IntN(3) == 0 {
		return ElementPosition{}
	}
	p := ElementPosition{Element: 1 + r.IntN(99)}
	if r.IntN(2) == 0 {
		p.Component = 1 + r.IntN(99)
	}
	if r.IntN(3) == 0 {
		p.Repeat = 1 + r.IntN(9999)
	}
	return p
}

func randTrigger(r *rand.Rand) Context {
	return Context{Name: SituationalTrigger, SegmentID: randText(r, 2, 3), Position: 1 + r.IntN(999999),
		Loop: maybe(r, randDigits(r, 4, 4)), Element: randPosition(r, true), ElementRef: maybe(r, randDigits(r, 1, 4))}
}

var unitNames = []string{"CLM01", "TRN02", "NM109", "PATIENT NAME NM109", "SUBSCRIBER NAME NM109", "ENT01", "SUBSCRIBER NUMBER REF02"}

func randSet(r *rand.Rand, control int) SetResponse {
	s := SetResponse{ID: pick(r, specAK2.Elems[0].Codes), Control: fmt.Sprintf("%04d", control), Version: maybe(r, "005010X222A1")}
	status := pick(r, ik501Codes)
	if status == StatusAccepted {
		s.Status = status
		return s
	}
	for i := r.IntN(4); i > 0; i-- {
		e := SegmentError{SegmentID: randText(r, 2, 3), Position: 1 + r.IntN(999999), Loop: maybe(r, randDigits(r, 4, 4)), Code: maybe(r, pick(r, ik304Codes))}
		for j := r.IntN(3); j > 0; j-- {
			e.Contexts = append(e.Contexts, randTrigger(r))
		}
		if r.IntN(2) == 0 {
			e.Contexts = append(e.Contexts, Context{Name: pick(r, unitNames), Reference: randText(r, 1, 20), Element: randPosition(r, true)})
		}
		for j := r.IntN(3); j > 0; j-- {
			el := ElementError{Position: randPosition(r, false), Reference: maybe(r, randDigits(r, 1, 4)), Code: pick(r, ik403Codes), BadValue: maybe(r, randText(r, 1, 30))}
			for k := r.IntN(3); k > 0; k-- {
				el.Contexts = append(el.Contexts, randTrigger(r))
			}
			e.Elements = append(e.Elements, el)
		}
		s.SegmentErrors = append(s.SegmentErrors, e)
	}
	for i := r.IntN(6); i > 0; i-- {
		s.Errors = append(s.Errors, pick(r, ik502Codes))
	}
	if len(s.SegmentErrors) == 0 && len(s.Errors) == 0 {
		s.Errors = []string{"5"} // a verdict other than A needs a reason
	}
	s.Status = status
	return s
}

// TestRoundTrip writes random group responses (fixed seeds) and reads them
// back: the model must survive unchanged and the file must validate clean.
func TestRoundTrip(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		r := rand.New(rand.NewPCG(seed, 999))
		var groups []*GroupResponse
		for gi := r.IntN(3) + 1; gi > 0; gi-- {
			var sets []SetResponse
			for i := r.IntN(6); i > 0; i-- {
				sets = append(sets, randSet(r, len(sets)+1))
			}
			v := pick(r, []string{"005010X222A1", "005010X223A2", "004010X098A1"})
			g := Build(pick(r, specAK1.Elems[0].Codes), randDigits(r, 1, 9), v, sets)
			groups = append(groups, g)
		}
		var buf bytes.Buffer
		ih := x12.InterchangeHeader{Sender: "PAYER", Receiver: "CLAIMGATE", Control: int64(seed), Time: time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)}
		gh := x12.GroupHeader{Sender: "PAYER", Receiver: "CG", Control: 77, Time: ih.Time}
		if err := WriteFile(context.Background(), &buf, x12.WriterOptions{Newline: seed%2 == 0}, ih, gh, groups...); err != nil {
			t.Fatalf("seed %d: write: %v", seed, err)
		}
		ack, fs, err := Read(bytes.NewReader(buf.Bytes()), "rt")
		if err != nil || len(fs) != 0 {
			t.Fatalf("seed %d: read: %v %v", seed, err, fs)
		}
		if len(ack.Groups) != len(groups) {
			t.Fatalf("seed %d: %d groups read, %d written", seed, len(ack.Groups), len(groups))
		}
		for i, g := range groups {
			want := *g
			want.Interchange, want.Group, want.Control = fmt.Sprintf("%09d", seed), "77", fmt.Sprintf("%04d", i+1)
			if !reflect.DeepEqual(ack.Groups[i], &want) {
				t.Fatalf("seed %d group %d:\nread  %+v\nwrote %+v\n%s", seed, i, ack.Groups[i], &want, buf.String())
			}
		}
		if _, vfs, _ := Validate(bytes.NewReader(buf.Bytes()), "rt"); len(vfs) != 0 {
			t.Fatalf("seed %d: written file has findings %v\n%s", seed, vfs, buf.String())
		}
	}
}

// TestStreamMatchesRead checks the streaming Reader hands out the same sets
// as Read.
func TestStreamMatchesRead(t *testing.T) {
	for _, path := range sampleFiles(t) {
		data := readFile(t, path)
		ack, _, _ := Read(bytes.NewReader(data), path)
		r := NewReader(bytes.NewReader(data), path)
		var got []SetResponse
		gi := 0
		for {
			g, s, err := r.Next()
			if err != nil {
				break
			}
			if s != nil {
				got = append(got, *s)
				continue
			}
			want := ack.Groups[gi]
			if !reflect.DeepEqual(got, want.Sets) || g.Status != want.Status || g.Accepted != want.Accepted {
				t.Errorf("%s group %d: stream %+v, read %+v", path, gi, got, want.Sets)
			}
			got, gi = nil, gi+1
		}
		if gi != len(ack.Groups) {
			t.Errorf("%s: %d groups streamed, %d read", path, gi, len(ack.Groups))
		}
	}
}

func FuzzRead999(f *testing.F) {
	for _, path := range sampleFiles(f) {
		f.Add(readFile(f, path))
	}
	f.Add([]byte(strings.Replace(string(readFile(f, testdataDir+"/herophilus__999_rejected.txt")), "IK5*R*5~", "", 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		ack, _, err := Read(bytes.NewReader(data), "fuzz")
		if err != nil {
			t.Fatalf("read error on an in-memory input: %v", err)
		}
		sets := 0
		for _, g := range ack.Groups {
			sets += len(g.Sets)
		}
		if n := bytes.Count(data, []byte("AK2")); sets > n {
			t.Fatalf("%d sets read from %d AK2 occurrences", sets, n)
		}
		// The streaming Reader, which reuses its sets' arrays, hands out
		// the same sets in the same order.
		var want []SetResponse
		for _, g := range ack.Groups {
			want = append(want, g.Sets...)
		}
		sr := NewReader(bytes.NewReader(data), "fuzz")
		k := 0
		for {
			_, s, err := sr.Next()
			if err != nil {
				break
			}
			if s == nil {
				continue
			}
			if k >= len(want) || !reflect.DeepEqual(*s, want[k]) {
				t.Fatalf("streamed set %d differs from Read's", k)
			}
			k++
		}
		if k != len(want) {
			t.Fatalf("%d sets streamed, %d read", k, len(want))
		}
		if _, _, err := Validate(bytes.NewReader(data), "fuzz"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestStreamRecycles checks the streaming Reader on a 999 of 12,000
// random sets, many 64 KiB buffers, which it fills again as sets are returned: every
// set equals Read's when handed out, a Clone keeps its values to the
// end; and reading accepted sets allocates a small fraction of the input.
func TestStreamRecycles(t *testing.T) {
	// random sets of every shape, so reused IK3, IK4 and CTX arrays meet
	// sets with fewer, more or none of them
	r0 := rand.New(rand.NewPCG(7, 999))
	sets := make([]SetResponse, 12000)
	for i := range sets {
		sets[i] = randSet(r0, i+1)
	}
	var buf bytes.Buffer
	ih := x12.InterchangeHeader{Sender: "PAYER", Receiver: "CLAIMGATE", Control: 1, Time: time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)}
	if err := WriteFile(context.Background(), &buf, x12.WriterOptions{Newline: true}, ih, x12.GroupHeader{Sender: "PAYER", Receiver: "CG", Control: 7, Time: ih.Time},
		Build("HC", "1", "005010X222A1", sets)); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if len(data) < 8*64<<10 {
		t.Fatalf("only %d bytes", len(data))
	}
	ack, fs, err := Read(bytes.NewReader(data), "gen")
	if err != nil || len(ack.Groups) != 1 {
		t.Fatalf("%v, %d groups", err, len(ack.Groups))
	}
	want := ack.Groups[0].Sets
	r := NewReader(bytes.NewReader(data), "gen")
	var clones []SetResponse
	n := 0
	for {
		_, s, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if s == nil {
			continue
		}
		if n >= len(want) || !reflect.DeepEqual(*s, want[n]) {
			t.Fatalf("set %d: stream %+v, read %+v", n, *s, want[min(n, len(want)-1)])
		}
		if n%97 == 0 {
			clones = append(clones, s.Clone())
		}
		n++
	}
	if n != len(want) || !reflect.DeepEqual(r.Findings(), fs) {
		t.Fatalf("%d sets streamed, %d read", n, len(want))
	}
	for i, c := range clones {
		if !reflect.DeepEqual(c, want[i*97]) {
			t.Fatalf("clone of set %d changed: %+v", i*97, c)
		}
	}
	if raceEnabled {
		return // the race detector's allocations would count
	}
	// On accepted sets only (IK3, IK4 and CTX slices are allocated per
	// rejected set), reading allocates a small fraction of the input.
	data, err = io.ReadAll(newGen999(100000, 0))
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r = NewReader(bytes.NewReader(data), "gen")
	for {
		if _, _, err := r.Next(); err != nil {
			break
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > uint64(len(data)/8) {
		t.Fatalf("streaming %d bytes allocated %d bytes: the input buffers are not reused", len(data), got)
	}
}
