package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/config"
	"github.com/claimgate/claimgate/pkg/control"
	"github.com/claimgate/claimgate/pkg/pipeline"
	"github.com/claimgate/claimgate/pkg/scrub"
)

// convertReport is what convert prints with --json. Problems are kept up
// to --max-rejections (and as many warnings); the rest are only counted,
// per rule, so the report stays bounded whatever the batch.
type convertReport struct {
	pipeline.Summary
	Rejections       []pipeline.Problem     `json:"rejected"`
	RejectedNotShown int                    `json:"rejected_not_shown,omitempty"`
	Warnings         []pipeline.Problem     `json:"warnings"`
	WarningsNotShown int                    `json:"warnings_not_shown,omitempty"`
	NotShownByRule   map[string]int         `json:"not_shown_by_rule,omitempty"`
	Files            []pipeline.File        `json:"files"`
	Failures         []pipeline.Failure     `json:"not_written,omitempty"`
	Policies         []pipeline.PayerPolicy `json:"policies,omitempty"`
}

var convertCmd = command{
	name:     "convert",
	synopsis: "claimgate convert [flags] --to 837p BATCH -o DIR",
	about: `Decode a practice-management charge batch (JSON, CSV, or a PM system's 837P),
scrub every claim (TR3 and PT billing edits) and write the accepted claims as
837P files, one interchange per payer and at most --claims-per-file claims,
into DIR. BATCH "-" reads standard input (read once: a pipe will do).
Control numbers, the keys of claims already sent and a write-ahead journal
live in the state directory (--state, default $XDG_STATE_HOME/claimgate or
~/.local/state/claimgate), locked against a second run. An existing file
in DIR is never replaced. See docs/pipeline.md.`,
	exits: `  0  every claim was written
  1  some claims were rejected or not written (the report says which), or
     BATCH is no claims batch (e.g. an 835 or a 999)
  2  usage or I/O error, or the state directory is in use`,
}

func cmdConvert(args []string, stdout, stderr io.Writer) error {
	c := &convertCmd
	fs := c.flags(stderr)
	to := fs.String("to", "837p", "output format (837p)")
	outDir := fs.String("o", "", "directory for the 837P files (required)")
	stateDir := fs.String("state", "", "directory keeping control numbers, the duplicate-claim keys and the journal between runs (default $XDG_STATE_HOME/claimgate, else ~/.local/state/claimgate)")
	cfgPath := fs.String("config", "", "claimgate configuration file (submitter, payers, policies); without it every payer on the batch gets a test-usage receiver of its own id, and each claim's filing indicator picks its scrub policy")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	showValues := fs.Bool("show-values", false, "show the values of fields that may hold patient data (names, ids, birth dates, addresses, notes) in the report; for your own terminal only, never for logs")
	maxRej := fs.Int("max-rejections", 1000, "print at most this many rejections (and as many warnings); the rest are counted per rule")
	perFile := fs.Int("claims-per-file", 0, "close a payer's interchange at this many claims (default: the configuration's max_claims_per_interchange, else 2500; more holds more claims in memory)")
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
	if strings.ToLower(*to) != "837p" {
		return usageErr("convert --to %q: only 837p is supported", *to)
	}
	if *maxRej < 0 || *perFile < 0 {
		return usageErr("--max-rejections and --claims-per-file must not be negative")
	}
	// The pipeline holds a bounded number of claims; a soft memory limit
	// makes the garbage collector keep the process near that bound instead
	// of letting the heap double between collections.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(convertMemoryLimit)
		// The live heap is small (~12-22 MB), so at the default GOGC
		// the collector ran every ~12 MB of the ~8 KB each claim
		// allocates; the limit, not the percentage, now bounds the heap.
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(convertGCPercent)
		}
	}
	in, batch, err := openInput(batches[0])
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer in.Close()
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return &exitError{code: 2, err: err}
	}
	cfg := &config.Config{
		Submitter: config.Submitter{Name: "CLAIMGATE", ID: "CLAIMGATE", ContactName: "CLAIMGATE", Email: "edi@claimgate.invalid"},
		Usage:     "T",
	}
	quick := *cfgPath == ""
	if !quick {
		if cfg, err = config.Load(*cfgPath); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	if *stateDir == "" {
		// Earlier versions kept their state in the output directory: going
		// on without it would restart ISA13 at 1 and send its claims again.
		for _, name := range []string{pipeline.SeenFile, pipeline.NumbersFile} {
			if _, err := os.Stat(filepath.Join(*outDir, name)); err == nil {
				return &exitError{code: 2, err: fmt.Errorf("%s holds %s from an earlier claimgate, which kept control numbers and the keys of claims sent in the output directory: run with --state %s to go on with them (or move them into the state directory)", *outDir, name, *outDir)}
			}
		}
		if *stateDir, err = pipeline.DefaultStateDir(); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	st, err := pipeline.LockState(*stateDir, false)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer st.Unlock()

	rep := &convertReport{NotShownByRule: map[string]int{}, Rejections: []pipeline.Problem{}, Warnings: []pipeline.Problem{}, Files: []pipeline.File{}}
	pr := &problemPrinter{w: stdout, max: *maxRej, text: !*asJSON, rep: rep}
	prog := newProgress(stderr, inputSize(in))
	defer prog.done()
	scfg, err := cfg.Scrub()
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	seen, err := scrub.OpenFileSeen(st.Path(pipeline.SeenFile))
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer seen.Close()
	journal, err := pipeline.OpenFileJournal(st.Path(pipeline.JournalFile))
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer journal.Close()
	pcfg := pipeline.Config{
		Scrub:            scfg,
		Assemble:         cfg.Assemble(),
		AutoPayers:       quick,
		BatchSubmitter:   quick,
		MaxClaimsPerFile: cfg.MaxClaimsPerInterchange,
		ShowValues:       *showValues,
		Numbers:          &control.File{Path: st.Path(pipeline.NumbersFile)},
		Seen:             seen,
		Output:           &pipeline.DirOutput{Dir: *outDir},
		Journal:          journal,
		Events: pipeline.Events{
			Rejected: pr.rejected,
			Warning:  pr.warning,
			File: func(f pipeline.File) {
				f.Info = assemble.FileInfo{} // its claim ids would grow with the batch
				rep.Files = append(rep.Files, f)
				if !*asJSON {
					fmt.Fprintf(stdout, "wrote %s: payer %s, ISA13 %s, %d set(s), %d claim(s)\n", f.Path, f.PayerID, f.Interchange, f.Sets, f.Claims)
				}
			},
			Failed: func(f pipeline.Failure) {
				rep.Failures = append(rep.Failures, f)
				if !*asJSON {
					fmt.Fprintf(stdout, "NOT WRITTEN: payer %s, %d claim(s): %s\n", f.PayerID, f.Claims, f.Err)
				}
			},
			Policy: func(p pipeline.PayerPolicy) {
				if len(rep.Policies) < 1000 {
					rep.Policies = append(rep.Policies, p)
				}
				if !*asJSON {
					fmt.Fprintf(stdout, "payer %s: %s policy (%s)\n", p.PayerID, p.Policy, p.Source)
				}
			},
			Claim: func(n int) { prog.claims = n; prog.tick() },
		},
	}
	if *perFile > 0 {
		pcfg.MaxClaimsPerFile = *perFile
	}
	// Ctrl-C or a TERM stops between claims: files already published
	// stand, held claims are reported as not written, and no temporary
	// file (they hold patient data) is left behind.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pl, err := pipeline.New(ctx, pcfg)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	sum, err := pl.Run(ctx, &countingReader{r: in, n: &prog.bytes}, batch)
	rep.Summary = sum
	if errors.Is(err, pipeline.ErrNotABatch) {
		return &exitError{code: 1, err: err}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		printSummary(stdout, rep)
	}
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if sum.Rejected > 0 || sum.NotWritten > 0 || len(sum.BatchErrors) > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// convertMemoryLimit is the soft memory limit convert sets (GOMEMLIMIT
// overrides it): the live heap peaks at ~22 MB on a 300,000-claim batch
// (docs/pipeline.md), and the binary's own pages add ~15 MiB of RSS
// outside the limit, so 44 MiB keeps the process near 57 MiB with no
// more CPU than 56 did; 40 MiB cost 12-15% more CPU in collections.
const convertMemoryLimit = 44 << 20

// convertGCPercent is the GOGC convert sets (GOGC overrides it): 300
// took 5-10% less CPU than 100 with the peak RSS still under 57 MiB at
// 100,000 and 300,000 claims (docs/pipeline.md).
const convertGCPercent = 300

// inputSize is the size of a regular file, for the progress bar; 0 for a
// pipe.
func inputSize(r io.Reader) int64 {
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			return st.Size()
		}
	}
	return 0
}

// problemPrinter prints (or, with --json, keeps) the first max
// rejections and warnings as they come, and counts the rest per rule.
type problemPrinter struct {
	w          io.Writer
	max        int
	text       bool
	rep        *convertReport
	rej, warns int
}

func (p *problemPrinter) rejected(pr pipeline.Problem) {
	p.rej++
	if p.rej > p.max {
		p.rep.RejectedNotShown++
		p.rep.NotShownByRule[pr.Rule]++
		return
	}
	if p.text {
		fmt.Fprintf(p.w, "rejected %s: %s [%s]\n", describeProblem(pr), pr.Message, pr.Rule)
	} else {
		p.rep.Rejections = append(p.rep.Rejections, pr)
	}
}

func (p *problemPrinter) warning(pr pipeline.Problem) {
	p.warns++
	if p.warns > p.max {
		p.rep.WarningsNotShown++
		p.rep.NotShownByRule[pr.Rule]++
		return
	}
	if p.text {
		fmt.Fprintf(p.w, "warning %s: %s [%s]\n", describeProblem(pr), pr.Message, pr.Rule)
	} else {
		p.rep.Warnings = append(p.rep.Warnings, pr)
	}
}

// describeProblem names what a problem is about: "claim C1 row 7", or
// for a finding outside any claim "batch, segment 9".
func describeProblem(pr pipeline.Problem) string {
	if pr.ClaimID == "" {
		return strings.TrimSuffix("batch, "+pr.Where, ", ")
	}
	return strings.TrimSpace("claim " + pr.ClaimID + " " + pr.Where)
}

func printSummary(w io.Writer, rep *convertReport) {
	if n := rep.RejectedNotShown + rep.WarningsNotShown; n > 0 {
		rules := make([]string, 0, len(rep.NotShownByRule))
		for r := range rep.NotShownByRule {
			rules = append(rules, r)
		}
		sort.Strings(rules)
		var parts []string
		for _, r := range rules {
			parts = append(parts, fmt.Sprintf("%s %d", r, rep.NotShownByRule[r]))
		}
		fmt.Fprintf(w, "%d more rejections and %d more warnings not shown: %s\n", rep.RejectedNotShown, rep.WarningsNotShown, strings.Join(parts, ", "))
	}
	for _, e := range rep.BatchErrors {
		fmt.Fprintf(w, "batch error: %s\n", e)
	}
	fmt.Fprintf(w, "%s (%s): %d claims read, %d written, %d rejected", rep.Batch, rep.Format, rep.Read, rep.Written, rep.Summary.Rejected)
	if rep.NotWritten > 0 {
		fmt.Fprintf(w, ", %d NOT WRITTEN (their file failed)", rep.NotWritten)
	}
	if rep.Unread > 0 {
		fmt.Fprintf(w, ", %d NOT READ (after the batch error)", rep.Unread)
	}
	fmt.Fprintf(w, "; %d file(s)\n", rep.Summary.Files)
}

// countingReader counts bytes read, for the progress bar.
type countingReader struct {
	r io.Reader
	n *atomic.Int64 // read by the progress bar in another goroutine
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progress draws a one-line progress bar on a terminal.
type progress struct {
	w      io.Writer
	on     bool
	total  int64
	bytes  atomic.Int64
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
	pct := float64(p.bytes.Load()) * 100 / float64(max(p.total, 1))
	bar := strings.Repeat("#", int(pct/5)) + strings.Repeat(".", 20-int(pct/5))
	fmt.Fprintf(p.w, "\r[%s] %5.1f%% %d claims", bar, pct, p.claims)
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
