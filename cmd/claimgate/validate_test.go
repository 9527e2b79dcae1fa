package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// genFile writes what gen writes to a file in a temporary directory.
func genFile(t *testing.T, name string, gen func(io.Writer) error) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := gen(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func lines(out string) []string {
	if out == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

// validate prints at most --max-findings findings per file (1,000 by
// default), in input order, then the count per rule of the others; the
// error total counts them all.
func TestValidateMaxFindings(t *testing.T) {
	p := genFile(t, "stray.x12", func(w io.Writer) error { return writeStray(w, 2500) })
	code, out, _ := runCLI("validate", p)
	ls := lines(out)
	if code != 1 || len(ls) != 1001 {
		t.Fatalf("exit %d, %d lines; want 1 and 1,000 findings and a count", code, len(ls))
	}
	for i, l := range ls[:1000] {
		// segments 1 and 2 are ISA and GS
		if want := fmt.Sprintf("%s: segment %d (REF): ", p, i+3); !strings.HasPrefix(l, want) || !strings.HasSuffix(l, "[envelope.outside-set]") {
			t.Fatalf("line %d %q, want %q...[envelope.outside-set]", i+1, l, want)
		}
	}
	if want := p + ": 1500 more finding(s) not shown (--max-findings 1000): envelope.outside-set 1500"; ls[1000] != want {
		t.Fatalf("last line %q, want %q", ls[1000], want)
	}

	if code, out, _ := runCLI("validate", "--max-findings", "0", p); code != 1 || len(lines(out)) != 2500 || strings.Contains(out, "not shown") {
		t.Fatalf("--max-findings 0: exit %d, %d lines", code, len(lines(out)))
	}
	if code, _, errs := runCLI("validate", "--max-findings", "-1", p); code != 2 || !strings.Contains(errs, "max-findings") {
		t.Fatalf("--max-findings -1: exit %d, stderr %q", code, errs)
	}

	// Three rules: 30 claims with a bad date, then a second interchange
	// with the first one's sender and ISA13, holding 20 stray segments.
	mixed := genFile(t, "mixed.x12", func(w io.Writer) error {
		if err := write837P(w, 30); err != nil {
			return err
		}
		return writeStray(w, 20)
	})
	code, out, _ = runCLI("validate", "--max-findings", "5", mixed)
	ls = lines(out)
	want := mixed + ": 46 more finding(s) not shown (--max-findings 5): 837p.date 25, envelope.outside-set 20, envelope.isa-duplicate 1"
	if code != 1 || len(ls) != 6 || ls[5] != want {
		t.Fatalf("exit %d, output:\n%s\nwant 5 findings then %q", code, out, want)
	}
	for _, l := range ls[:5] {
		if !strings.HasSuffix(l, "[837p.date]") {
			t.Fatalf("finding %q, want the first five 837p.date", l)
		}
	}

	// --json: the same cap, a not_shown object, exact totals.
	code, out, _ = runCLI("validate", "--json", "--max-findings", "5", mixed, p)
	var res []fileResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if code != 1 || len(res) != 2 {
		t.Fatalf("exit %d, %d results", code, len(res))
	}
	wantNot := map[string]int{"envelope.outside-set": 20, "837p.date": 25, "envelope.isa-duplicate": 1}
	if r := res[0]; len(r.Findings) != 5 || !maps.Equal(r.NotShown, wantNot) || r.Errors != 51 || r.Warnings != 0 || r.Kind != "837P" || r.Sets["837"] != 1 {
		t.Fatalf("first file: %d findings, not shown %v, %d errors, kind %q, sets %v", len(r.Findings), r.NotShown, r.Errors, r.Kind, r.Sets)
	}
	if r := res[1]; len(r.Findings) != 5 || !maps.Equal(r.NotShown, map[string]int{"envelope.outside-set": 2495}) || r.Errors != 2500 || r.File != p {
		t.Fatalf("second file: %d findings, not shown %v, %d errors", len(r.Findings), r.NotShown, r.Errors)
	}
}

// --summary prints the summary line of each file and nothing else.
func TestValidateSummaryOnly(t *testing.T) {
	dup := "../../testdata/835/tasty__oneLine-2-ISA.edi"
	good := "../../testdata/999/herophilus__999_accepted.txt"
	stray := genFile(t, "stray.x12", func(w io.Writer) error { return writeStray(w, 1500) })
	code, out, _ := runCLI("validate", "--summary", dup, good, stray)
	want := []string{
		dup + ": FAILED 835: 2 interchange(s), 2 set(s), 70 segments, 2 error(s), 0 warning(s)",
		good + ": OK 999: 1 interchange(s), 1 set(s), 10 segments, 0 error(s), 0 warning(s)",
		stray + ": FAILED 837P: 1 interchange(s), 0 set(s), 1504 segments, 1500 error(s), 0 warning(s)",
	}
	if code != 1 || strings.Join(lines(out), "\n") != strings.Join(want, "\n") {
		t.Fatalf("exit %d, output:\n%s\nwant:\n%s", code, out, strings.Join(want, "\n"))
	}
	// with --json: no findings, all of them counted by rule
	_, out, _ = runCLI("validate", "--summary", "--json", stray)
	var res []fileResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].Findings) != 0 || res[0].NotShown["envelope.outside-set"] != 1500 || res[0].Errors != 1500 {
		t.Fatalf("--summary --json: %+v", res)
	}
}

// The same interchange twice (sender and ISA13) is an error, and so is
// the same 835 payment (payer TRN03 and trace TRN02) twice.
func TestValidateDuplicateInterchangeAndPayment(t *testing.T) {
	f := "../../testdata/835/tasty__oneLine-2-ISA.edi"
	code, out, _ := runCLI("validate", f)
	want := []string{
		f + ": segment 36 (ISA) element 13: ISA13 control number 006000600 of sender EMEDNYBAT was already used by the interchange at segment 1: the same interchange twice [envelope.isa-duplicate]",
		f + ": segment 40 (TRN) element 2: TRN02 trace number 10100000000 of payer 1000000000 was already used by the payment at segment 5: the same payment twice [835.duplicate-payment]",
	}
	if code != 1 || strings.Join(lines(out), "\n") != strings.Join(want, "\n") {
		t.Fatalf("exit %d, output:\n%s\nwant:\n%s", code, out, strings.Join(want, "\n"))
	}
	// The same file with the second interchange's ISA13 and TRN02 changed
	// is clean.
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	second := strings.Index(s[1:], "ISA*") + 1
	fixed := s[:second] + strings.NewReplacer("006000600", "006000601", "TRN*1*10100000000*", "TRN*1*10100000001*").Replace(s[second:])
	p := filepath.Join(t.TempDir(), "fixed.edi")
	if err := os.WriteFile(p, []byte(fixed), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCLI("validate", p); code != 0 || out != "" {
		t.Fatalf("distinct interchanges and payments: exit %d, output %q", code, out)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Findings reach standard output while the input is still being read:
// with the input open (a pipe whose writer has not closed), validate has
// already written findings, as text and as JSON.
func TestValidateStreamsFindings(t *testing.T) {
	for _, args := range [][]string{{"validate", "--max-findings", "0", "-"}, {"validate", "--json", "--max-findings", "0", "-"}} {
		pr, pw := io.Pipe()
		old := stdin
		stdin = pr
		var out syncBuffer
		done := make(chan int, 1)
		go func() { done <- run(args, &out, io.Discard) }()
		// 20,000 findings: megabytes of output, many times run's buffer.
		// The pipe hands over the last bytes only when the reader asks for
		// them, after it has checked all the bytes before.
		if err := writeStray(pw, 20000); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for out.String() == "" && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		early := len(out.String())
		pw.Close()
		code := <-done
		stdin = old
		total := out.String()
		if early == 0 {
			t.Fatalf("%v: nothing written before the input ended (%d bytes after)", args, len(total))
		}
		if code != 1 || !strings.HasPrefix(total, total[:early]) || strings.Count(total, "envelope.outside-set") != 20000 {
			t.Fatalf("%v: exit %d, %d findings", args, code, strings.Count(total, "envelope.outside-set"))
		}
		if args[1] == "--json" {
			var res []fileResult
			if err := json.Unmarshal([]byte(total), &res); err != nil || len(res) != 1 || len(res[0].Findings) != 20000 || res[0].Findings[0].Rule != "envelope.outside-set" {
				t.Fatalf("JSON: %v", err)
			}
		}
		t.Logf("%v: %d of %d bytes written before the input ended", args, early, len(total))
	}
}

// A read error mid-file still ends the file's JSON object, with the error.
func TestValidateJSONReadError(t *testing.T) {
	var in bytes.Buffer
	writeStray(&in, 10)
	old := stdin
	defer func() { stdin = old }()
	stdin = io.MultiReader(bytes.NewReader(in.Bytes()[:300]), errReader{})
	code, out, errs := runCLI("validate", "--json", "-")
	var res []fileResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if code != 2 || len(res) != 1 || !strings.Contains(res[0].Error, "disk on fire") || !strings.Contains(errs, "disk on fire") || !res[0].Findings.HasRule("envelope.outside-set") {
		t.Fatalf("exit %d, stderr %q, result %+v", code, errs, res)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, fmt.Errorf("disk on fire") }

// failAfter accepts n bytes, then fails every write, like a pipe whose
// reader (head) has exited.
type failAfter struct{ n int }

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		w.n = 0
		return 0, errors.New("broken pipe")
	}
	w.n -= len(p)
	return len(p), nil
}

// Once standard output fails, validate stops reading its input (and the
// files after it) and exits 2.
func TestValidateStopsWhenOutputFails(t *testing.T) {
	var in readCounter
	var b bytes.Buffer
	writeStray(&b, 200000) // 3 MB, 20 MB of findings
	in.r = bytes.NewReader(b.Bytes())
	old := stdin
	defer func() { stdin = old }()
	stdin = &in
	var errb bytes.Buffer
	code := run([]string{"validate", "--max-findings", "0", "-", "../../testdata/999/herophilus__999_accepted.txt"}, &failAfter{n: 200 << 10}, &errb)
	if code != 2 || strings.Count(errb.String(), "\n") != 1 || !strings.Contains(errb.String(), "writing standard output: broken pipe") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	if in.n >= b.Len()/2 {
		t.Fatalf("read %d of %d bytes after standard output failed", in.n, b.Len())
	}
}

type readCounter struct {
	r io.Reader
	n int
}

func (c *readCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
