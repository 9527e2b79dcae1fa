package pipeline

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x837p"
	"github.com/claimgate/claimgate/pkg/scrub"
)

// events collects what a run reports.
type events struct {
	rejected, warnings []Problem
	files              []File
	failed             []Failure
	policies           []PayerPolicy
}

func (e *events) hooks() Events {
	return Events{
		Rejected: func(p Problem) { e.rejected = append(e.rejected, p) },
		Warning:  func(p Problem) { e.warnings = append(e.warnings, p) },
		File:     func(f File) { e.files = append(e.files, f) },
		Failed:   func(f Failure) { e.failed = append(e.failed, f) },
		Policy:   func(p PayerPolicy) { e.policies = append(e.policies, p) },
	}
}

func (e *events) rules() map[string]int {
	m := map[string]int{}
	for _, p := range e.rejected {
		m[p.Rule]++
	}
	return m
}

// runBatch converts batch (bytes) with a file-backed pipeline in out/state.
func runBatch(t *testing.T, batch []byte, out, state string, tune func(*Config)) (Summary, *events, error) {
	t.Helper()
	ev := &events{}
	p, done := newFilePipeline(t, out, state, ev.hooks())
	defer done()
	if tune != nil {
		tune(&p.cfg)
	}
	sum, err := p.Run(context.Background(), bytes.NewReader(batch), "batch")
	if sum.Read != sum.Written+sum.Rejected+sum.NotWritten {
		t.Errorf("counts do not add up: %+v", sum)
	}
	return sum, ev, err
}

func sample(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCountsAndLineRows(t *testing.T) {
	out, state := t.TempDir(), t.TempDir()
	sum, ev, err := runBatch(t, sample(t, sampleBatch), out, state, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Every file settled: the journal is emptied, not left to grow.
	if st, err := os.Stat(filepath.Join(state, JournalFile)); err != nil || st.Size() != 0 {
		t.Errorf("journal after a clean run: %v, %v", st, err)
	}
	// 4 claims: the NCCI pair on RB-25-0001 rejects it, 3 are written.
	if sum.Read != 4 || sum.Written != 3 || sum.Rejected != 1 || sum.Files != 2 {
		t.Fatalf("summary %+v", sum)
	}
	// 97140 is RB-25-0001's third line, on CSV row 4 (rows 2-6 hold the
	// claim): the message names that row, not the claim's first.
	if len(ev.rejected) != 1 || ev.rejected[0].Rule != "NCCI-PTP-MODIFIER" || ev.rejected[0].Where != "row 4" {
		t.Fatalf("rejections %+v", ev.rejected)
	}
	noPartials(t, out)
}

func TestDecodeErrorsCountOncePerClaim(t *testing.T) {
	// Two problems in one claim (rows 2 and 3 of RB-25-0001) are one
	// rejected claim: 4 claims read, not 5.
	lines := strings.Split(string(sample(t, sampleBatch)), "\n")
	lines[1] = strings.Replace(lines[1], "2025-03-03", "2025-02-30", 1)
	lines[2] = strings.Replace(lines[2], "2025-03-03", "2025-13-01", 1)
	sum, ev, err := runBatch(t, []byte(strings.Join(lines, "\n")), t.TempDir(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Read != 4 || sum.Rejected != 1 || sum.Written != 3 || len(ev.rejected) < 2 {
		t.Fatalf("summary %+v, rejections %+v", sum, ev.rejected)
	}
}

func TestPolicyFromFilingIndicator(t *testing.T) {
	// No payer configuration: RB-25-0001 (SBR09 MB) is scrubbed as
	// Medicare, so 97014 is refused; SMI03 (CI) gets the commercial policy.
	b := strings.Replace(string(sample(t, sampleBatch)), ",97112,GP,1,", ",97014,GP,1,", 1)
	_, ev, err := runBatch(t, []byte(b), t.TempDir(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev.rules()["PT-MCR-INVALID"] != 1 {
		t.Fatalf("97014 to Medicare not refused: %+v", ev.rejected)
	}
	got := map[string]string{}
	for _, p := range ev.policies {
		got[p.PayerID] = p.Policy + " / " + p.Source
	}
	if got["MCR01"] != "medicare / filing code MB" || got["SMI03"] != "commercial / default" {
		t.Fatalf("policies %v", got)
	}
}

// failingOutput is a DirOutput whose fail-th file fails to write (as on a
// full disk).
type failingOutput struct {
	DirOutput
	n, fail int
}

func (f *failingOutput) Create(ctx context.Context) (TempFile, error) {
	t, err := f.DirOutput.Create(ctx)
	f.n++
	if err != nil || f.n != f.fail {
		return t, err
	}
	return &fullTemp{TempFile: t}, nil
}

type fullTemp struct{ TempFile }

func (f *fullTemp) Write(p []byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

func TestFailedFileIsCountedAndRetried(t *testing.T) {
	out, state := t.TempDir(), t.TempDir()
	batch := sample(t, sampleBatch)
	sum, ev, err := runBatch(t, batch, out, state, func(c *Config) {
		c.Output = &failingOutput{DirOutput: DirOutput{Dir: out}, fail: 2}
	})
	if err != nil {
		t.Fatal(err)
	}
	// Files are written in payer order (BHX77, SMI03): SMI03's file
	// (2 claims) fails, BHX77's is written and reported.
	if sum.Written != 1 || sum.NotWritten != 2 || sum.Files != 1 || len(ev.failed) != 1 || ev.failed[0].PayerID != "SMI03" || ev.failed[0].Claims != 2 {
		t.Fatalf("summary %+v, failures %+v, files %+v", sum, ev.failed, ev.files)
	}
	if !strings.Contains(ev.failed[0].Err, "no space left") {
		t.Errorf("failure %q does not say why", ev.failed[0].Err)
	}
	noPartials(t, out)
	// The claims not written are not taken for duplicates next time.
	sum, ev, err = runBatch(t, batch, out, state, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Written != 2 || ev.rules()["DUP-CLAIM"] != 1 {
		t.Fatalf("rerun: %+v, rejections %+v", sum, ev.rejected)
	}
}

func TestNotABatch(t *testing.T) {
	cases := map[string]string{
		"../../testdata/835/herophilus__835_Inpatient_DRG_Retro.txt": "835 health care claim payment",
		"../../testdata/999/herophilus__999_accepted.txt":            "999 implementation acknowledgment",
		"../../testdata/837p/SOURCES.txt":                            "not JSON, CSV or X12",
	}
	for path, want := range cases {
		_, _, err := runBatch(t, sample(t, path), t.TempDir(), t.TempDir(), nil)
		if !errors.Is(err, ErrNotABatch) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", path, err)
		}
	}
	// An institutional 837 (005010X223): the reader would map it, but
	// it is no 837P and nothing is written.
	inst := bytes.ReplaceAll(sample(t, "../../testdata/837p/lfh__demo.example1.x222a1.837"), []byte("005010X222A1"), []byte("005010X223A2"))
	out := t.TempDir()
	sum, ev, err := runBatch(t, inst, out, t.TempDir(), nil)
	if !errors.Is(err, ErrNotABatch) || !strings.Contains(err.Error(), "837I institutional") || sum.Written != 0 || ev.rules()["x837p.not-professional"] != 1 {
		t.Errorf("837I: %v %+v %+v", err, sum, ev.rejected)
	}
	if m, _ := filepath.Glob(filepath.Join(out, "*")); len(m) != 0 {
		t.Errorf("837I: files written %v", m)
	}
	// An 837P whose only claim is cut off before its CLM.
	b := sample(t, "../../testdata/837p/lfh__demo.example1.x222a1.837")
	b = b[:bytes.Index(b, []byte("CLM*"))]
	if _, _, err := runBatch(t, b, t.TempDir(), t.TempDir(), nil); !errors.Is(err, ErrNotABatch) || !strings.Contains(err.Error(), "without any readable claim") {
		t.Errorf("837P without claims: %v", err)
	}
}

// onlyReader hides every method but Read: no seeking, no reopening.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestFilesAreWrittenWhileReading(t *testing.T) {
	var batch bytes.Buffer
	const n = 1500
	writeBatch(t, &batch, n, crashPayers)
	total := batch.Len()
	out := t.TempDir()
	ev := &events{}
	var read atomic.Int64 // the decoder reads in a goroutine of its own
	firstFileAt := int64(-1)
	hooks := ev.hooks()
	hooks.File = func(f File) {
		ev.files = append(ev.files, f)
		if firstFileAt < 0 {
			firstFileAt = read.Load()
		}
	}
	p, done := newFilePipeline(t, out, t.TempDir(), hooks)
	defer done()
	p.cfg.MaxClaimsPerFile = 50
	p.cfg.MaxClaimsHeld = 60
	r := onlyReader{readFunc(func(b []byte) (int, error) {
		n, err := batch.Read(b[:min(len(b), 4096)])
		read.Add(int64(n))
		return n, err
	})}
	sum, err := p.Run(context.Background(), r, "batch")
	if err != nil || sum.Written != n {
		t.Fatalf("%v %+v", err, sum)
	}
	if firstFileAt < 0 || firstFileAt >= int64(total)/2 {
		t.Fatalf("first file written after %d of %d bytes", firstFileAt, total)
	}
	for _, f := range ev.files {
		if f.Claims > 50 {
			t.Errorf("%s holds %d claims, cap 50", f.Path, f.Claims)
		}
	}
}

type readFunc func([]byte) (int, error)

func (f readFunc) Read(b []byte) (int, error) { return f(b) }

// TestSubscriberLoopErrorRejectsOnlyItsClaims converts a clean CSV batch,
// breaks one subscriber's loop in the 837P written for one payer, and
// converts that 837P: only that subscriber's claim is rejected, the error
// is reported once with its count, the other claims are written.
func TestSubscriberLoopErrorRejectsOnlyItsClaims(t *testing.T) {
	var batch bytes.Buffer
	writeBatch(t, &batch, 12, []string{"BHX77"})
	_, ev, err := runBatch(t, batch.Bytes(), t.TempDir(), t.TempDir(), nil)
	if err != nil || len(ev.files) != 1 {
		t.Fatalf("%v, files %+v", err, ev.files)
	}
	b := sample(t, ev.files[0].Path)
	// The 5th subscriber's birth date (2010BA DMG) becomes invalid.
	parts := bytes.SplitAfter(b, []byte("DMG*D8*"))
	if len(parts) < 7 {
		t.Fatalf("%d DMG segments", len(parts)-1)
	}
	parts[5] = append([]byte("X"), parts[5][1:]...)
	broken := bytes.Join(parts, nil)
	// The claim of that subscriber is the next CLM.
	clm := parts[5][bytes.Index(parts[5], []byte("CLM*"))+4:]
	victim := clm[:bytes.IndexByte(clm, '*')]
	sum, ev2, err := runBatch(t, broken, t.TempDir(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Read != 12 || sum.Rejected != 1 || sum.Written != 11 {
		t.Fatalf("summary %+v, rejections %+v", sum, ev2.rejected)
	}
	if len(ev2.rejected) != 1 || ev2.rejected[0].ClaimID != "" || ev2.rejected[0].Claims != 1 {
		t.Fatalf("rejections %+v", ev2.rejected)
	}
	claims, _, _ := filesIn(t, filepath.Dir(ev2.files[0].Path))
	if len(claims) != 11 || claims[string(victim)] != 0 {
		t.Fatalf("written claims %v", claims)
	}
}

// TestFindingsStayWithTheirClaims: a 330 KB 837P with 820 claims and
// thousands of findings used to report every set-level finding against
// every claim (millions of lines); each finding is now reported once.
func TestFindingsStayWithTheirClaims(t *testing.T) {
	b := sample(t, "../../testdata/837p/imsweb__x12_many_claims.txt")
	sum, ev, err := runBatch(t, b, t.TempDir(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Read != 820 {
		t.Fatalf("summary %+v", sum)
	}
	if n := len(ev.rejected) + len(ev.warnings); n > 20*sum.Read {
		t.Fatalf("%d problems reported for %d claims", n, sum.Read)
	}
	// Each claim is named only with findings from its own segments.
	for _, p := range ev.rejected {
		if p.ClaimID != "" && !strings.HasPrefix(p.Where, "segment ") {
			t.Fatalf("problem %+v", p)
		}
	}
}

func TestReaderOnSegmentSeesClaimBeforeItIsReturned(t *testing.T) {
	f, err := os.Open("../../testdata/837p/lfh__demo.example1.x222a1.837")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := x837p.NewReader(f)
	var lastCLM string
	rd.OnSegment = func(seg *x12.Segment) {
		if seg.ID() == "CLM" {
			lastCLM = seg.Text(1)
		}
	}
	it, err := rd.Next()
	if err != nil || it.Claim.ID != lastCLM {
		t.Fatalf("item %v, CLM seen %q, %v", it, lastCLM, err)
	}
}

func TestSubmitterFromBatchHeader(t *testing.T) {
	// Without a configuration the files name the batch's submitter, not
	// a placeholder: the JSON envelope's, and an 837P's 1000A.
	cases := map[string]string{
		"../../testdata/batches/pt_batch.json":              "NM1*41*2*Riverbend Billing Services*****46*RBBS001~",
		"../../testdata/837p/lfh__demo.example1.x222a1.837": "NM1*41*2*PREMIER BILLING SERVICE*****46*TGJ23~",
	}
	for path, want := range cases {
		_, ev, err := runBatch(t, sample(t, path), t.TempDir(), t.TempDir(), nil)
		if err != nil || len(ev.files) == 0 {
			t.Fatalf("%s: %v, files %+v", path, err, ev.files)
		}
		for _, f := range ev.files {
			if b := sample(t, f.Path); !bytes.Contains(b, []byte(want)) {
				t.Errorf("%s: %s lacks %s", path, f.Path, want)
			}
		}
	}
}

func TestReenveloped837PIsNotSentTwice(t *testing.T) {
	b := sample(t, "../../testdata/837p/lfh__demo.example1.x222a1.837")
	state := t.TempDir()
	if sum, _, err := runBatch(t, b, t.TempDir(), state, nil); err != nil || sum.Written != 1 {
		t.Fatalf("first: %+v %v", sum, err)
	}
	sum, ev, err := runBatch(t, b, t.TempDir(), state, nil)
	if err != nil || sum.Written != 0 || sum.Rejected != 1 || ev.rules()["DUP-CLAIM"] != 1 {
		t.Fatalf("second: %+v %v %+v", sum, err, ev.rejected)
	}
	// A replacement (CLM05-3 7) is never a duplicate.
	r := bytes.Replace(b, []byte("CLM*26463774*100.00***11:B:1*"), []byte("CLM*26463774*100.00***11:B:7*"), 1)
	r = bytes.Replace(r, []byte("REF*D9*"), []byte("REF*F8*PAYERICN0001~REF*D9*"), 1)
	if bytes.Equal(r, b) {
		t.Fatal("CLM not found in the sample")
	}
	if sum, ev, _ := runBatch(t, r, t.TempDir(), state, nil); sum.Written != 1 {
		t.Fatalf("replacement: %+v %+v", sum, ev.rejected)
	}
}

func TestStoppedRunLeavesNoTempAndCounts(t *testing.T) {
	var batch bytes.Buffer
	writeBatch(t, &batch, 300, crashPayers)
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := &events{}
	hooks := ev.hooks()
	hooks.Claim = func(n int) {
		if n == 120 {
			cancel() // as Ctrl-C does in convert
		}
	}
	p, done := newFilePipeline(t, out, t.TempDir(), hooks)
	defer done()
	p.cfg.MaxClaimsPerFile = 20
	sum, err := p.Run(ctx, bytes.NewReader(batch.Bytes()), "batch")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if sum.Read != 120 || sum.Read != sum.Written+sum.Rejected+sum.NotWritten || sum.NotWritten == 0 || sum.Written == 0 {
		t.Fatalf("summary %+v", sum)
	}
	claims, _, _ := filesIn(t, out)
	if len(claims) != sum.Written {
		t.Fatalf("%d claims in files, %d reported written", len(claims), sum.Written)
	}
	noPartials(t, out)
}

// TestRejectedClaimsNameTheirPayer: a rejected claim's problems carry its
// payer id whenever the claim was read far enough to have a valid one
// (scrub edits, decoding errors in CSV and JSON, an 837P duplicate), so
// the gateway routes its events by payer; an invalid payer id is never
// passed on.
func TestRejectedClaimsNameTheirPayer(t *testing.T) {
	payers := func(ev *events) map[string]map[string]bool {
		m := map[string]map[string]bool{}
		for _, p := range ev.rejected {
			if m[p.ClaimID] == nil {
				m[p.ClaimID] = map[string]bool{}
			}
			m[p.ClaimID][p.PayerID] = true
		}
		return m
	}
	want1 := func(t *testing.T, ev *events, claim, payer string) {
		t.Helper()
		got := payers(ev)[claim]
		if len(got) != 1 || !got[payer] {
			t.Fatalf("%s rejected with payers %v, want only %q (%+v)", claim, got, payer, ev.rejected)
		}
	}
	t.Run("scrub", func(t *testing.T) {
		// The NCCI edit rejects RB-25-0001 (Medicare, MCR01).
		_, ev, err := runBatch(t, sample(t, sampleBatch), t.TempDir(), t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		want1(t, ev, "RB-25-0001", "MCR01")
	})
	t.Run("csv-decode", func(t *testing.T) {
		lines := strings.Split(string(sample(t, sampleBatch)), "\n")
		lines[1] = strings.Replace(lines[1], "2025-03-03", "2025-02-30", 1)
		// RB-25-0002's payer id is not one X12 can carry: no payer.
		for i, l := range lines {
			if strings.HasPrefix(l, "RB-25-0002,") {
				lines[i] = strings.Replace(l, ",BHX77,", ",BHX*77,", 1)
			}
		}
		_, ev, err := runBatch(t, []byte(strings.Join(lines, "\n")), t.TempDir(), t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		want1(t, ev, "RB-25-0001", "MCR01")
		want1(t, ev, "RB-25-0002", "")
	})
	t.Run("json-decode", func(t *testing.T) {
		b := sample(t, "../../testdata/batches/pt_batch.json")
		if !bytes.Contains(b, []byte(`"2025-03-03"`)) {
			t.Fatal("sample changed")
		}
		b = bytes.Replace(b, []byte(`"2025-03-03"`), []byte(`"2025-02-30"`), 1)
		_, ev, err := runBatch(t, b, t.TempDir(), t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.rejected) == 0 {
			t.Fatal("nothing rejected")
		}
		for id := range payers(ev) {
			want1(t, ev, id, map[string]string{"RB-25-0001": "MCR01", "RB-25-0002": "BHX77", "RB-25-0003": "SMI03", "RB-25-0004": "SMI03"}[id])
		}
	})
	t.Run("837p-duplicate", func(t *testing.T) {
		b := sample(t, "../../testdata/837p/lfh__demo.example1.x222a1.837")
		state := t.TempDir()
		if _, _, err := runBatch(t, b, t.TempDir(), state, nil); err != nil {
			t.Fatal(err)
		}
		_, ev, err := runBatch(t, b, t.TempDir(), state, nil)
		if err != nil || ev.rules()["DUP-CLAIM"] != 1 {
			t.Fatalf("%v %+v", err, ev.rejected)
		}
		want1(t, ev, "26463774", "999996666")
	})
}

// TestRunHoldSharesFilesAcrossBatches: after RunHold a batch's claims stay
// held and the next batch's claims join them; Flush writes one file per
// payer holding both batches' claims. The size cut still applies across
// batches, and a held claim is a duplicate to a later batch.
func TestRunHoldSharesFilesAcrossBatches(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(string(sample(t, sampleBatch))), "\n")
	batch := func(ids ...string) io.Reader {
		out := []string{lines[0]}
		for _, l := range lines[1:] {
			for _, id := range ids {
				if strings.HasPrefix(l, id+",") {
					out = append(out, l)
				}
			}
		}
		return strings.NewReader(strings.Join(out, "\n") + "\n")
	}
	ctx := context.Background()
	for _, perFile := range []int{0, 2} {
		ev := &events{}
		p, done := newFilePipeline(t, t.TempDir(), t.TempDir(), ev.hooks())
		p.cfg.BatchSubmitter = false // else each batch may name its submitter: nothing held
		if perFile > 0 {
			p.cfg.MaxClaimsPerFile = perFile
		}
		// RB-25-0002 to BHX77, RB-25-0003 and RB-25-0004 to SMI03.
		s1, err := p.RunHold(ctx, batch("RB-25-0002", "RB-25-0003"), "a")
		if err != nil || s1.Read != 2 || s1.Written != 0 || s1.Held != 2 || p.Held() != 2 || len(ev.files) != 0 {
			t.Fatalf("per file %d: first batch %+v %v, files %+v", perFile, s1, err, ev.files)
		}
		s2, err := p.RunHold(ctx, batch("RB-25-0003", "RB-25-0004"), "b")
		if err != nil || s2.Read != 2 || s2.Rejected != 1 || ev.rules()["DUP-CLAIM"] != 1 {
			t.Fatalf("per file %d: second batch %+v %v, rejected %+v", perFile, s2, err, ev.rejected)
		}
		if perFile == 2 {
			// SMI03 reached 2 claims: cut during the second batch.
			if s2.Written != 2 || s2.Held != 1 || len(ev.files) != 1 || ev.files[0].PayerID != "SMI03" {
				t.Fatalf("size cut across batches: %+v, files %+v", s2, ev.files)
			}
		} else if s2.Written != 0 || s2.Held != 3 || len(ev.files) != 0 {
			t.Fatalf("second batch %+v, files %+v", s2, ev.files)
		}
		fs, err := p.Flush(ctx)
		if err != nil || p.Held() != 0 || s2.Written+fs.Written != 3 || len(ev.files) != 2 {
			t.Fatalf("flush %+v %v, files %+v", fs, err, ev.files)
		}
		for _, f := range ev.files {
			want := map[string]int{"BHX77": 1, "SMI03": 2}[f.PayerID]
			if f.Claims != want {
				t.Fatalf("%s file with %d claims, want %d", f.PayerID, f.Claims, want)
			}
		}
		// Nothing held: Flush writes nothing.
		if fs, err := p.Flush(ctx); err != nil || fs.Files != 0 {
			t.Fatalf("empty flush %+v %v", fs, err)
		}
		done()
	}
}

// slowSeen is a durable store whose lookups take a while, so the pipeline
// looks duplicate keys up ahead of the claims it finishes and files go
// out (their keys durable) between a claim's lookup and its check.
type slowSeen struct {
	*scrub.FileSeen
	gets atomic.Int64
}

func (s *slowSeen) SeenBefore(ctx context.Context, key string) (bool, error) {
	s.gets.Add(1)
	time.Sleep(time.Millisecond)
	return s.FileSeen.SeenBefore(ctx, key)
}

// TestDuplicatesCaughtWhileKeysGoDurable: with one claim per file, each
// claim's key goes durable (and leaves the run's memory) right after the
// claim; its copy a few claims later was looked up ahead, before that.
// Every copy must still be refused, in this batch and the next.
func TestDuplicatesCaughtWhileKeysGoDurable(t *testing.T) {
	var b bytes.Buffer
	writeBatch(t, &b, 200, []string{"BHX77", "SMI03"})
	lines := strings.SplitAfter(b.String(), "\n")
	head, rows := lines[0], lines[1:]
	// Group rows by claim id (column 0 holds G%08d in every row).
	var claims [][]string
	last := ""
	for _, r := range rows {
		if r == "" {
			continue
		}
		id := r[:strings.IndexByte(r, ',')]
		if id != last {
			claims = append(claims, nil)
			last = id
		}
		claims[len(claims)-1] = append(claims[len(claims)-1], r)
	}
	if len(claims) != 200 {
		t.Fatalf("%d claims in the generated batch", len(claims))
	}
	// Each claim, then its copy (another claim id) three claims later.
	var batch strings.Builder
	batch.WriteString(head)
	copyOf := func(c []string) {
		for _, r := range c {
			batch.WriteString("D" + r[1:])
		}
	}
	for i, c := range claims {
		for _, r := range c {
			batch.WriteString(r)
		}
		if i >= 3 {
			copyOf(claims[i-3])
		}
	}
	for _, c := range claims[len(claims)-3:] {
		copyOf(c)
	}
	out, state := t.TempDir(), t.TempDir()
	run := func() (Summary, *events, *slowSeen) {
		ev := &events{}
		p, done := newFilePipeline(t, out, state, ev.hooks())
		defer done()
		slow := &slowSeen{FileSeen: p.cfg.Seen.(*scrub.FileSeen)}
		p.cfg.Seen = slow
		p.seen.durable = slow
		p.cfg.MaxClaimsPerFile = 1
		sum, err := p.Run(context.Background(), strings.NewReader(batch.String()), "batch")
		if err != nil {
			t.Fatal(err)
		}
		return sum, ev, slow
	}
	sum, ev, slow := run()
	if sum.Read != 400 || sum.Written != 200 || sum.Files != 200 || ev.rules()["DUP-CLAIM"] != 200 || len(ev.rejected) != 200 {
		t.Fatalf("summary %+v, rules %v", sum, ev.rules())
	}
	for _, pr := range ev.rejected {
		if pr.ClaimID[0] != 'D' {
			t.Fatalf("original refused: %+v", pr)
		}
	}
	if slow.gets.Load() != 400 {
		t.Errorf("%d durable lookups for 400 claims", slow.gets.Load())
	}
	// The run's memory of keys is empty again: the durable store holds them.
	sum, ev, _ = run()
	if sum.Written != 0 || ev.rules()["DUP-CLAIM"] != 400 {
		t.Fatalf("rerun: summary %+v, rules %v", sum, ev.rules())
	}
}
