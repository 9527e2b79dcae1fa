package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x837p"
	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/config"
	"github.com/claimgate/claimgate/pkg/control"
	"github.com/claimgate/claimgate/pkg/ingest"
	"github.com/claimgate/claimgate/pkg/scrub"
)

// convertReport is what convert prints (--json) and summarises.
type convertReport struct {
	Batch     string          `json:"batch"`
	Format    string          `json:"format"`
	Read      int             `json:"claims_read"`
	Written   int             `json:"claims_written"`
	Rejected  []claimProblem  `json:"rejected"`
	Warnings  []claimProblem  `json:"warnings"`
	Files     []convertedFile `json:"files"`
	Batchwide []string        `json:"batch_errors,omitempty"`
}

// claimProblem is one reason a claim was rejected or warned about. It
// names the claim by id and position only: no patient data.
type claimProblem struct {
	ClaimID string `json:"claim_id"`
	Where   string `json:"where,omitempty"` // row 7, claims[3], segment 41
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

type convertedFile struct {
	Path        string `json:"path"`
	PayerID     string `json:"payer_id"`
	Interchange string `json:"isa13"`
	Sets        int    `json:"sets"`
	Claims      int    `json:"claims"`
}

var convertCmd = command{
	name:     "convert",
	synopsis: "claimgate convert [flags] --to 837p BATCH -o DIR",
	about: `Decode a practice-management charge batch (JSON, CSV, or a PM system's 837P),
scrub every claim (TR3 and PT billing edits) and write the accepted claims as
837P files, one interchange per payer, into DIR. BATCH "-" reads standard input.`,
	exits: `  0  every claim was written
  1  some claims were rejected or not written (the report says which)
  2  usage or I/O error`,
}

func cmdConvert(args []string, stdout, stderr io.Writer) error {
	c := &convertCmd
	fs := c.flags(stderr)
	to := fs.String("to", "837p", "output format (837p)")
	outDir := fs.String("o", "", "directory for the 837P files (required)")
	stateDir := fs.String("state", "", "directory keeping control numbers and the duplicate-claim keys between runs (default: the -o directory)")
	cfgPath := fs.String("config", "", "claimgate configuration file (submitter, payers, policies); without it every payer on the batch gets a test-usage receiver of its own id")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	showValues := fs.Bool("show-values", false, "show the values of fields that may hold patient data (names, ids, birth dates, addresses, notes) in the report; for your own terminal only, never for logs")
	// Flags may follow the batch name: claimgate convert BATCH -o DIR.
	batches, err := c.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(batches) > 1 {
		return usageErr("convert takes one BATCH, got %q and %q", batches[0], batches[1])
	}
	if len(batches) == 0 || *outDir == "" {
		return usageErr("usage: %s", c.synopsis)
	}
	batch := batches[0]
	if strings.ToLower(*to) != "837p" {
		return usageErr("convert --to %q: only 837p is supported", *to)
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return &exitError{code: 2, err: err}
	}
	cfg, err := loadConvertConfig(*cfgPath, batch)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if *stateDir == "" {
		*stateDir = *outDir
	}
	if err := os.MkdirAll(*stateDir, 0o700); err != nil {
		return &exitError{code: 2, err: err}
	}
	rep, err := convert(context.Background(), cfg, batch, *outDir, *stateDir, stderr, *showValues)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		printReport(stdout, rep)
	}
	if len(rep.Rejected) > 0 || len(rep.Batchwide) > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// loadConvertConfig reads the configuration, or builds one for a quick
// conversion: a test-usage file per payer found in the batch.
func loadConvertConfig(path, batch string) (*config.Config, error) {
	if path != "" {
		return config.Load(path)
	}
	cfg := &config.Config{
		Submitter: config.Submitter{Name: "CLAIMGATE", ID: "CLAIMGATE", ContactName: "CLAIMGATE", Email: "edi@claimgate.invalid"},
		Usage:     "T",
	}
	payers, err := scanPayers(batch)
	if err != nil {
		return nil, err
	}
	for _, p := range payers {
		cfg.Payers = append(cfg.Payers, config.Payer{ID: p.ID, Name: p.Name})
	}
	return cfg, nil
}

// scanPayers reads the batch once to list its payers (streaming: only the
// payers are kept).
func scanPayers(batch string) ([]claim.Payer, error) {
	f, err := os.Open(batch)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	format, r, err := ingest.Detect(f)
	if err != nil {
		return nil, err
	}
	seen := map[string]claim.Payer{}
	switch format {
	case ingest.FormatJSON, ingest.FormatCSV:
		emit := func(res ingest.Result) error {
			if p := res.Claim.Payer; p.ID != "" {
				if _, ok := seen[p.ID]; !ok {
					seen[p.ID] = claim.Payer{ID: p.ID, Name: p.Name}
				}
			}
			return nil
		}
		if format == ingest.FormatJSON {
			ingest.DecodeJSON(r, batch, emit)
		} else {
			ingest.DecodeCSV(r, batch, emit)
		}
	case ingest.FormatX12:
		rd := x837p.NewReader(r)
		for {
			it, err := rd.Next()
			if err != nil {
				break
			}
			if p := it.Subscriber.Payer; p.ID != "" {
				seen[p.ID] = claim.Payer{ID: p.ID, Name: p.Name}
			}
		}
	default:
		return nil, fmt.Errorf("%s: not a JSON, CSV or X12 batch", batch)
	}
	var out []claim.Payer
	for _, p := range seen {
		if p.Name == "" {
			p.Name = p.ID
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// convert runs decode → scrub → 837P for one batch.
func convert(ctx context.Context, cfg *config.Config, batch, outDir, stateDir string, stderr io.Writer, showValues bool) (*convertReport, error) {
	scfg, err := cfg.Scrub()
	if err != nil {
		return nil, err
	}
	// Duplicate claims: keys of claims written by earlier runs live in the
	// state directory; keys of this run's accepted claims are kept in
	// memory and made durable only once their file is written, so a claim
	// whose file failed is not taken for a duplicate next time.
	durable, err := scrub.OpenFileSeen(filepath.Join(stateDir, ".claimgate-seen-claims"))
	if err != nil {
		return nil, err
	}
	defer durable.Close()
	run := scrub.NewMemorySeen()
	scfg.Seen = layeredSeen{durable: durable, run: run}
	scrubber, err := scrub.New(scfg)
	if err != nil {
		return nil, err
	}
	pendingKeys := map[string]string{} // claim id → duplicate key
	numbers := &control.File{Path: filepath.Join(stateDir, ".claimgate-control-numbers.json")}
	asm, err := assemble.New(cfg.Assemble(), numbers)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(batch)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, _ := f.Stat()
	prog := newProgress(stderr, st.Size())
	defer prog.done()
	format, r, err := ingest.Detect(&countingReader{r: f, n: &prog.bytes})
	if err != nil {
		return nil, err
	}
	rep := &convertReport{Batch: batch, Format: format.String()}

	addClaim := func(c *claim.Claim, where string) {
		rep.Read++
		prog.claims = rep.Read
		prog.tick()
		edits := scrubber.Scrub(c)
		rejected := false
		for _, e := range edits {
			p := claimProblem{ClaimID: c.ID, Where: where, Rule: e.ID, Message: e.Message}
			if e.Line > 0 {
				p.Where = strings.TrimSpace(fmt.Sprintf("%s line %d", where, e.Line))
			}
			if e.Severity == scrub.Reject {
				rejected = true
				rep.Rejected = append(rep.Rejected, p)
			} else {
				rep.Warnings = append(rep.Warnings, p)
			}
		}
		if rejected {
			return
		}
		if err := asm.Add(c); err != nil {
			rep.Rejected = append(rep.Rejected, claimProblem{ClaimID: c.ID, Where: where, Rule: "assemble", Message: err.Error()})
			return
		}
		if key, ok := scrubber.DuplicateKey(c); ok {
			run.Remember(ctx, key)
			pendingKeys[c.ID] = key
		}
	}

	switch format {
	case ingest.FormatJSON, ingest.FormatCSV:
		emit := func(res ingest.Result) error {
			where := fmt.Sprintf("claims[%d]", res.Source.Index)
			if len(res.Source.Rows) > 0 {
				where = fmt.Sprintf("row %d", res.Source.Rows[0])
			}
			addClaim(res.Claim, where)
			return nil
		}
		var sum ingest.Summary
		dec := ingest.Decoder{ShowValues: showValues}
		if format == ingest.FormatJSON {
			sum, err = dec.DecodeJSON(r, batch, emit)
		} else {
			sum, err = dec.DecodeCSV(r, batch, emit)
		}
		for _, re := range sum.Errors {
			rep.Read++
			where := fmt.Sprintf("row %d", re.Row)
			if re.Row == 0 {
				where = fmt.Sprintf("claims[%d]", re.Index)
			}
			rep.Rejected = append(rep.Rejected, claimProblem{ClaimID: re.ClaimID, Where: where, Rule: "batch." + orDash(re.Field), Message: re.Reason})
		}
		if err != nil {
			rep.Batchwide = append(rep.Batchwide, err.Error())
		}
	case ingest.FormatX12:
		if err := convert837(rep, asm, batch, r, showValues); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%s: not a JSON, CSV or X12 batch", batch)
	}

	files, written, err := flush(ctx, asm, outDir)
	for _, fi := range files {
		rep.Written += fi.Claims
	}
	rep.Files = files
	for _, id := range written {
		if key, ok := pendingKeys[id]; ok {
			durable.Remember(ctx, key)
		}
	}
	if serr := durable.Sync(); err == nil {
		err = serr
	}
	if err != nil {
		return rep, err
	}
	return rep, nil
}

// layeredSeen answers for claims written by earlier runs (durable) and
// claims accepted earlier in this run (run); only the caller makes a key
// durable, once its claim's file is written.
type layeredSeen struct{ durable, run scrub.Seen }

func (l layeredSeen) SeenBefore(ctx context.Context, key string) (bool, error) {
	if ok, err := l.durable.SeenBefore(ctx, key); ok || err != nil {
		return ok, err
	}
	return l.run.SeenBefore(ctx, key)
}

func (l layeredSeen) Remember(ctx context.Context, key string) error {
	return l.run.Remember(ctx, key)
}

func (l layeredSeen) Forget(ctx context.Context, key string) error {
	l.run.Forget(ctx, key)
	return l.durable.Forget(ctx, key)
}

// convert837 re-envelopes the claims of a PM system's 837P per payer.
// The file is validated first; a TR3 error inside a claim rejects that
// claim, an error in the envelope or hierarchy rejects the claims of its
// transaction set, and the other claims go on.
func convert837(rep *convertReport, asm *assemble.Assembler, batch string, r io.Reader, showValues bool) error {
	// The file is read twice (validate, then map), so it must be seekable.
	f, err := os.Open(batch)
	if err != nil {
		return err
	}
	defer f.Close()
	spans, err := claimSpans(f, batch, showValues)
	if err != nil {
		return err
	}
	bad := map[int][]claimProblem{} // claim ordinal → problems
	for _, fnd := range spans.findings {
		if fnd.Severity != x12.Error {
			continue
		}
		for _, k := range spans.claimsFor(fnd.Segment) {
			bad[k] = append(bad[k], claimProblem{ClaimID: spans.ids[k], Where: fmt.Sprintf("segment %d", fnd.Segment), Rule: fnd.Rule, Message: fnd.Message})
		}
	}
	rd := x837p.NewReader(r)
	rd.Name = batch
	for k := 0; ; k++ {
		it, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		rep.Read++
		if probs := bad[k]; len(probs) > 0 {
			rep.Rejected = append(rep.Rejected, probs...)
			continue
		}
		if err := asm.AddItem(*it); err != nil {
			rep.Rejected = append(rep.Rejected, claimProblem{ClaimID: it.Claim.ID, Rule: "assemble", Message: err.Error()})
		}
	}
	return nil
}

// spans records where each claim of an 837P lies, to assign validation
// findings to claims.
type spans struct {
	ids      []string // CLM01 by claim ordinal
	start    []int    // CLM segment number
	end      []int    // last segment of the claim
	setOf    []int    // transaction set ordinal of each claim
	sets     [][2]int // first and last segment of each set
	findings x12.Findings
}

// claimsFor returns the claims a finding at segment seg concerns. Claims
// and sets are in segment order, so both lookups are binary searches: a
// file with many claims and many findings stays fast.
func (s *spans) claimsFor(seg int) []int {
	k := sort.SearchInts(s.start, seg+1) - 1 // last claim starting at or before seg
	if k >= 0 && seg <= s.end[k] {
		return []int{k}
	}
	si := sort.Search(len(s.sets), func(i int) bool { return s.sets[i][1] >= seg })
	if si < len(s.sets) && seg >= s.sets[si][0] {
		// A finding in the set's header or hierarchy: every claim of the set.
		lo := sort.Search(len(s.setOf), func(i int) bool { return s.setOf[i] >= si })
		hi := sort.Search(len(s.setOf), func(i int) bool { return s.setOf[i] > si })
		return seq(lo, hi)
	}
	// Outside every set (interchange or group envelope): every claim.
	return seq(0, len(s.ids))
}

func seq(lo, hi int) []int {
	out := make([]int, 0, hi-lo)
	for k := lo; k < hi; k++ {
		out = append(out, k)
	}
	return out
}

func claimSpans(r io.Reader, name string, showValues bool) (*spans, error) {
	s := &spans{}
	open := -1 // ordinal of the claim being read, -1 outside claims
	closeClaim := func(last int) {
		if open >= 0 {
			s.end[open] = last
			open = -1
		}
	}
	_, fs, err := x12.Check(r, x12.CheckOptions{
		Name:       name,
		ShowValues: showValues,
		Sets:       func(h x12.SetHeader) x12.SetChecker { return x837p.NewChecker(h) },
		Segment: func(seg *x12.Segment) {
			switch seg.ID() {
			case "ST":
				s.sets = append(s.sets, [2]int{seg.Num, seg.Num})
			case "CLM":
				closeClaim(seg.Num - 1)
				s.ids = append(s.ids, x12.Printable(seg.Text(1))) // printed in the report: escaped
				s.start = append(s.start, seg.Num)
				s.end = append(s.end, seg.Num)
				s.setOf = append(s.setOf, len(s.sets)-1)
				open = len(s.ids) - 1
			case "HL", "SE":
				closeClaim(seg.Num - 1)
			}
			if seg.Is("SE") && len(s.sets) > 0 {
				s.sets[len(s.sets)-1][1] = seg.Num
			}
		},
	})
	closeClaim(1 << 30)
	s.findings = fs
	return s, err
}

// flush writes the files, each first under a temporary name and renamed
// to PAYER-ISA13.837 once complete, so a reader of the directory never
// sees half a file.
func flush(ctx context.Context, asm *assemble.Assembler, outDir string) ([]convertedFile, []string, error) {
	temps := map[string]*atomicFile{}
	infos, err := asm.Flush(ctx, func(payerID string) (io.WriteCloser, error) {
		tf, err := os.CreateTemp(outDir, ".partial-*.837")
		if err != nil {
			return nil, err
		}
		af := &atomicFile{File: tf}
		temps[payerID] = af
		return af, nil
	})
	var out []convertedFile
	var written []string
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for _, fi := range infos {
		af := temps[fi.PayerID]
		if af == nil || af.aborted {
			continue
		}
		name := filepath.Join(outDir, fmt.Sprintf("%s-%09d.837", safeName(fi.PayerID), fi.Interchange))
		if err := os.Rename(af.Name(), name); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, convertedFile{Path: name, PayerID: fi.PayerID, Interchange: fmt.Sprintf("%09d", fi.Interchange), Sets: len(fi.Sets), Claims: fi.Claims})
		for _, set := range fi.Sets {
			written = append(written, set.ClaimIDs...)
		}
	}
	return out, written, errors.Join(errs...)
}

// atomicFile is a temporary file that is synced on Close and removed on
// Abort.
type atomicFile struct {
	*os.File
	aborted bool
}

func (a *atomicFile) Close() error {
	if err := a.File.Sync(); err != nil {
		a.File.Close()
		return err
	}
	return a.File.Close()
}

// Abort discards a file that could not be written whole.
func (a *atomicFile) Abort() error {
	a.aborted = true
	a.File.Close()
	return os.Remove(a.Name())
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

func orDash(s string) string {
	if s == "" {
		return "claim"
	}
	return s
}

func printReport(w io.Writer, rep *convertReport) {
	fmt.Fprintf(w, "%s (%s): %d claims read, %d written, %d rejected\n", rep.Batch, rep.Format, rep.Read, rep.Written, countClaims(rep.Rejected))
	for _, e := range rep.Batchwide {
		fmt.Fprintf(w, "batch error: %s\n", e)
	}
	for _, f := range rep.Files {
		fmt.Fprintf(w, "wrote %s: payer %s, ISA13 %s, %d set(s), %d claim(s)\n", f.Path, f.PayerID, f.Interchange, f.Sets, f.Claims)
	}
	for _, p := range rep.Rejected {
		fmt.Fprintf(w, "rejected claim %s %s: %s [%s]\n", orDash(p.ClaimID), p.Where, p.Message, p.Rule)
	}
	for _, p := range rep.Warnings {
		fmt.Fprintf(w, "warning claim %s %s: %s [%s]\n", p.ClaimID, p.Where, p.Message, p.Rule)
	}
}

// countClaims counts distinct claims among problems.
func countClaims(ps []claimProblem) int {
	seen := map[string]bool{}
	for _, p := range ps {
		key := p.ClaimID
		if key == "" {
			key = "\x00" + p.Where
		}
		seen[key] = true
	}
	return len(seen)
}

// countingReader counts bytes read, for the progress bar.
type countingReader struct {
	r io.Reader
	n *int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// progress draws a one-line progress bar on a terminal.
type progress struct {
	w      io.Writer
	on     bool
	total  int64
	bytes  int64
	claims int
	last   time.Time
}

func newProgress(w io.Writer, total int64) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 && total > 1<<20 {
			p.on = true
		}
	}
	return p
}

func (p *progress) tick() {
	if !p.on || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	pct := float64(p.bytes) * 100 / float64(max(p.total, 1))
	bar := strings.Repeat("#", int(pct/5)) + strings.Repeat(".", 20-int(pct/5))
	fmt.Fprintf(p.w, "\r[%s] %5.1f%% %d claims", bar, pct, p.claims)
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
