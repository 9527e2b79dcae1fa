package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/claimgate/claimgate/edi/x12"
)

// fileResult is what validate reports for one file (--json). validate
// writes it field by field as the file is read (findings first); the
// type documents the shape and reads it back.
type fileResult struct {
	File     string       `json:"file"`
	Findings x12.Findings `json:"findings"`
	// NotShown counts, by rule, the findings past --max-findings.
	NotShown map[string]int `json:"not_shown,omitempty"`
	Errors   int            `json:"errors"`
	Warnings int            `json:"warnings"`
	Kind     string         `json:"kind"`
	Sets     map[string]int `json:"sets,omitempty"` // transaction sets by ST01
	Summary  *x12.Summary   `json:"summary,omitempty"`
	// Error is a failure to read the file to its end (exit status 2).
	Error string `json:"error,omitempty"`
}

// defaultMaxFindings is how many findings validate prints per file.
const defaultMaxFindings = 1000

// maxSetIDs and maxKinds bound the distinct ST01 values and transaction
// kinds a file's result names (a hostile file could have millions).
const (
	maxSetIDs = 64
	maxKinds  = 16
)

var validateCmd = command{
	name:     "validate",
	synopsis: "claimgate validate [flags] FILE...",
	about: `Check X12 files: interchange, group and set envelopes, counts and control
numbers (an interchange or an 835 payment sent twice is an error), and the
TR3 rules of each 837P, 835, 999 and 277CA transaction set. One line per
finding names the file, segment number and id, element and the rule broken;
findings are printed as they are found, at most --max-findings per file,
then a count per rule of those not printed. The error and warning totals
always count every finding. FILE "-" reads standard input; each FILE is read
once, so a pipe or FIFO works.`,
	exits: `  0  no file has an error (warnings are allowed)
  1  some file has an error
  2  usage or I/O error`,
}

// validator holds validate's options and writes its output.
type validator struct {
	w       io.Writer
	json    bool
	summary bool // the summary line only
	max     int  // findings printed per file; 0 no limit
	maxSeg  int
	objects int // JSON file objects written
	// showValues puts patient data back into findings (--show-values).
	showValues bool
	// workers is how many transaction sets are checked at a time
	// (x12.CheckOptions.Workers).
	workers int
}

func cmdValidate(args []string, stdout, stderr io.Writer) error {
	c := &validateCmd
	fs := c.flags(stderr)
	asJSON := fs.Bool("json", false, "print a JSON array, one object per file (findings streamed)")
	summary := fs.Bool("summary", false, "print only one summary line per file (with --json: no findings, all counted in not_shown)")
	maxFindings := fs.Int("max-findings", defaultMaxFindings, "print at most `N` findings per file, 0 for no limit; the rest are counted per rule")
	maxSeg := fs.Int("max-segment", x12.DefaultMaxSegment, "longest segment accepted, in bytes")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "check up to `N` transaction sets at a time (default: one per processor; the output is the same)")
	showValues := fs.Bool("show-values", false, "show the values of elements that may hold patient data (names, ids, birth dates, addresses, notes) in findings; for your own terminal only, never for logs")
	files, err := c.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageErr("validate needs at least one FILE (usage: %s)", c.synopsis)
	}
	if *workers < 1 {
		return usageErr("--workers %d: want 1 or more", *workers)
	}
	if *maxFindings < 0 {
		return usageErr("--max-findings %d: want 0 (no limit) or more", *maxFindings)
	}
	v := &validator{w: stdout, json: *asJSON, summary: *summary, max: *maxFindings, maxSeg: *maxSeg, showValues: *showValues, workers: *workers}
	anyErr, ioErr := false, false
	for _, name := range files {
		if outputFailed(stdout) != nil {
			break // run reports the write error
		}
		errs, err := v.file(name)
		if errors.Is(err, errOutputFailed) {
			break // run reports the write error
		}
		if err != nil {
			fmt.Fprintln(stderr, "claimgate:", err)
			ioErr = true
		}
		if errs > 0 {
			anyErr = true
		}
	}
	if v.json {
		if v.objects == 0 {
			io.WriteString(stdout, "[]\n")
		} else {
			io.WriteString(stdout, "\n]\n")
		}
	}
	switch {
	case ioErr:
		return &exitError{code: 2}
	case anyErr:
		return &exitError{code: 1}
	}
	return nil
}

// file checks one file: envelopes always, and each transaction set with
// the validator registered for its type. Findings are written as they are
// made; nothing grows with them but a count per rule past the cap. It
// returns the file's error count, and an error when the file could not be
// opened or read to its end.
func (v *validator) file(name string) (int, error) {
	fromStdin := name == "-"
	f, name, err := openInput(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	res := fileResult{File: name, Sets: map[string]int{}}
	var kinds kindList
	shown := 0
	if v.json {
		v.beginJSON(name)
	}
	sets := setCheckers()
	full := v.max // findings printed in full; the rest are counted
	if v.summary {
		full = -1
	}
	// The workers read a regular file again themselves: a named one, or
	// one redirected to standard input.
	var src io.ReaderAt
	var srcBase int64
	if fromStdin {
		src, srcBase = rereadable(stdin)
	} else {
		src, srcBase = rereadable(f)
	}
	sum, _, err := x12.Check(&outputGuard{r: f, w: v.w}, x12.CheckOptions{
		Name:         name,
		MaxSegment:   v.maxSeg,
		ShowValues:   v.showValues,
		Workers:      v.workers,
		FullFindings: full,
		Source:       src,
		SourceBase:   srcBase,
		Sets: func(h x12.SetHeader) x12.SetChecker {
			if _, ok := res.Sets[h.ID]; ok || len(res.Sets) < maxSetIDs {
				res.Sets[h.ID]++
			} else {
				res.Sets["other"]++
			}
			if h.Group != nil {
				kinds.add(transactionName(h.Group.Version, h.Group.FunctionalID))
			}
			return sets(h)
		},
		Finding: func(f *x12.Finding) {
			if f.Severity == x12.Error {
				res.Errors++
			} else {
				res.Warnings++
			}
			if v.summary || v.max > 0 && shown >= v.max {
				if res.NotShown == nil {
					res.NotShown = map[string]int{}
				}
				res.NotShown[f.Rule]++
				return
			}
			if v.json {
				v.findingJSON(f, shown)
			} else {
				io.WriteString(v.w, f.Error())
				io.WriteString(v.w, "\n")
			}
			shown++
		},
	})
	if err != nil {
		err = fmt.Errorf("%s: %w", name, err)
		res.Error = err.Error()
	}
	res.Summary = sum
	res.Kind = kindOf(sum, &kinds)
	switch {
	case v.json:
		v.endJSON(&res, shown)
	case v.summary:
		fmt.Fprintln(v.w, summaryLine(&res))
	case len(res.NotShown) > 0:
		fmt.Fprintln(v.w, notShownLine(&res, v.max))
	}
	return res.Errors, err
}

// beginJSON opens a file's object, up to its findings array.
func (v *validator) beginJSON(name string) {
	if v.objects == 0 {
		io.WriteString(v.w, "[\n")
	} else {
		io.WriteString(v.w, ",\n")
	}
	v.objects++
	fmt.Fprintf(v.w, "  {\n    \"file\": %s,\n    \"findings\": [", jsonOf(name, ""))
}

// findingJSON writes finding number i of the array.
func (v *validator) findingJSON(f *x12.Finding, i int) {
	if i > 0 {
		io.WriteString(v.w, ",")
	}
	io.WriteString(v.w, "\n      ")
	io.WriteString(v.w, jsonOf(f, "      "))
}

// endJSON closes the findings array and writes the rest of res.
func (v *validator) endJSON(res *fileResult, shown int) {
	if shown > 0 {
		io.WriteString(v.w, "\n    ")
	}
	io.WriteString(v.w, "]")
	field := func(name string, val any) {
		fmt.Fprintf(v.w, ",\n    %q: %s", name, jsonOf(val, "    "))
	}
	if len(res.NotShown) > 0 {
		field("not_shown", res.NotShown)
	}
	field("errors", res.Errors)
	field("warnings", res.Warnings)
	field("kind", res.Kind)
	if len(res.Sets) > 0 {
		field("sets", res.Sets)
	}
	field("summary", res.Summary)
	if res.Error != "" {
		field("error", res.Error)
	}
	io.WriteString(v.w, "\n  }")
}

// jsonOf is val as indented JSON; the values written here always marshal.
func jsonOf(val any, prefix string) string {
	b, err := json.MarshalIndent(val, prefix, "  ")
	if err != nil {
		return strconv.Quote(err.Error())
	}
	return string(b)
}

// notShownLine says how many findings past the cap were not printed, by
// rule, most frequent first.
func notShownLine(r *fileResult, max int) string {
	type count struct {
		rule string
		n    int
	}
	var cs []count
	total := 0
	for rule, n := range r.NotShown {
		cs = append(cs, count{rule, n})
		total += n
	}
	slices.SortFunc(cs, func(a, b count) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return strings.Compare(a.rule, b.rule)
	})
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d more finding(s) not shown (--max-findings %d):", r.File, total, max)
	for i, c := range cs {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %s %d", c.rule, c.n)
	}
	return b.String()
}

// kindList is the transaction kinds met in a file, in order, at most
// maxKinds.
type kindList []string

func (k *kindList) add(kind string) {
	if !slices.Contains(*k, kind) && len(*k) < maxKinds {
		*k = append(*k, kind)
	}
}

// kindOf names the transaction types in a file, e.g. "837P" or "999+TA1":
// those of the interchanges and groups the summary lists, then those of
// sets met past its lists (more).
func kindOf(sum *x12.Summary, more *kindList) string {
	var kinds kindList
	for _, ic := range sum.Interchanges {
		if len(ic.Acks) > 0 {
			kinds.add("TA1")
		}
		for _, g := range ic.Groups {
			kinds.add(transactionName(g.Version, g.FunctionalID))
		}
	}
	if more != nil {
		for _, k := range *more {
			kinds.add(k)
		}
	}
	if len(kinds) == 0 {
		return "unknown"
	}
	return strings.Join(kinds, "+")
}

// transactionName maps an implementation guide version to a short name.
func transactionName(version, functionalID string) string {
	switch {
	case strings.HasPrefix(version, "005010X222"):
		return "837P"
	case strings.HasPrefix(version, "005010X223"):
		return "837I"
	case strings.HasPrefix(version, "005010X221"):
		return "835"
	case strings.HasPrefix(version, "005010X231"):
		return "999"
	case strings.HasPrefix(version, "005010X214"):
		return "277CA"
	case strings.HasPrefix(version, "005010X212"):
		return "277"
	}
	if functionalID != "" {
		return functionalID + " " + version
	}
	return version
}

func summaryLine(r *fileResult) string {
	verdict := "OK"
	if r.Errors > 0 {
		verdict = "FAILED"
	}
	ics, segs, sets := 0, 0, 0
	if r.Summary != nil {
		ics, segs, sets = r.Summary.InterchangeCount, r.Summary.Segments, r.Summary.Sets()
	}
	return fmt.Sprintf("%s: %s %s: %d interchange(s), %d set(s), %d segments, %d error(s), %d warning(s)",
		r.File, verdict, r.Kind, ics, sets, segs, r.Errors, r.Warnings)
}

// outputFailed returns the error standard output has failed with, if any:
// a zero-length write to the command's writer returns it.
func outputFailed(w io.Writer) error {
	_, err := w.Write(nil)
	return err
}

// errOutputFailed ends reading a file once standard output has failed.
var errOutputFailed = errors.New("standard output failed")

// outputGuard reads a file for validate, failing once standard output
// has: "claimgate validate huge.x12 | head" stops reading when head exits
// instead of checking the rest of the file for no one.
type outputGuard struct {
	r io.Reader
	w io.Writer
}

func (g *outputGuard) Read(p []byte) (int, error) {
	if outputFailed(g.w) != nil {
		return 0, errOutputFailed
	}
	return g.r.Read(p)
}

// rereadable returns r and its current offset when it is a regular file,
// which validate's workers can then read again themselves
// (x12.CheckOptions.Source); nil for a pipe, a FIFO or a terminal.
func rereadable(r any) (io.ReaderAt, int64) {
	f, ok := r.(*os.File)
	if !ok {
		return nil, 0
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil, 0
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, 0
	}
	return f, off
}
