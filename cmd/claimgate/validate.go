package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/claimgate/claimgate/edi/x12"
)

// fileResult is what validate reports for one file (--json).
type fileResult struct {
	File     string         `json:"file"`
	Kind     string         `json:"kind"`
	Summary  *x12.Summary   `json:"summary,omitempty"`
	Findings x12.Findings   `json:"findings"`
	Errors   int            `json:"errors"`
	Warnings int            `json:"warnings"`
	Sets     map[string]int `json:"sets,omitempty"` // transaction sets by ST01
}

var validateCmd = command{
	name:     "validate",
	synopsis: "claimgate validate [flags] FILE...",
	about: `Check X12 files: interchange, group and set envelopes, counts and control
numbers, and the TR3 rules of each 837P, 835, 999 and 277CA transaction set.
One line per finding names the file, segment number and id, element and the
rule broken. FILE "-" reads standard input.`,
	exits: `  0  no file has an error (warnings are allowed)
  1  some file has an error
  2  usage or I/O error`,
}

func cmdValidate(args []string, stdout, stderr io.Writer) error {
	c := &validateCmd
	fs := c.flags(stderr)
	asJSON := fs.Bool("json", false, "print findings as JSON")
	summary := fs.Bool("summary", false, "print one summary line per file after its findings")
	maxSeg := fs.Int("max-segment", x12.DefaultMaxSegment, "longest segment accepted, in bytes")
	showValues := fs.Bool("show-values", false, "show the values of elements that may hold patient data (names, ids, birth dates, addresses, notes) in findings; for your own terminal only, never for logs")
	files, err := c.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageErr("validate needs at least one FILE (usage: %s)", c.synopsis)
	}
	var results []fileResult
	anyErr, ioErr := false, false
	for _, name := range files {
		res, err := validateFile(name, *maxSeg, *showValues)
		if err != nil {
			fmt.Fprintln(stderr, "claimgate:", err)
			ioErr = true
			continue
		}
		if res.Errors > 0 {
			anyErr = true
		}
		if *asJSON {
			results = append(results, res)
			continue
		}
		for i := range res.Findings {
			fmt.Fprintln(stdout, res.Findings[i].Error())
		}
		if *summary {
			fmt.Fprintln(stdout, summaryLine(&res))
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return &exitError{code: 2, err: err}
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

// validateFile checks one file: envelopes always, and each transaction set
// with the validator registered for its type.
func validateFile(name string, maxSeg int, showValues bool) (fileResult, error) {
	f, name, err := openInput(name)
	if err != nil {
		return fileResult{}, err
	}
	defer f.Close()
	res := fileResult{File: name, Sets: map[string]int{}}
	sum, findings, err := x12.Check(f, x12.CheckOptions{
		Name:       name,
		MaxSegment: maxSeg,
		ShowValues: showValues,
		Sets: func(h x12.SetHeader) x12.SetChecker {
			res.Sets[h.ID]++
			return setChecker(h)
		},
	})
	if err != nil {
		return fileResult{}, fmt.Errorf("%s: %w", name, err)
	}
	res.Summary, res.Findings = sum, findings
	if res.Findings == nil {
		res.Findings = x12.Findings{}
	}
	res.Errors = findings.Errors()
	res.Warnings = len(findings) - res.Errors
	res.Kind = kindOf(sum)
	return res, nil
}

// kindOf names the transaction types in a file, e.g. "837P" or "999+TA1".
func kindOf(sum *x12.Summary) string {
	seen := map[string]bool{}
	var kinds []string
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			kinds = append(kinds, k)
		}
	}
	for _, ic := range sum.Interchanges {
		if len(ic.Acks) > 0 {
			add("TA1")
		}
		for _, g := range ic.Groups {
			add(transactionName(g.Version, g.FunctionalID))
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
	segs, sets := 0, 0
	if r.Summary != nil {
		segs, sets = r.Summary.Segments, r.Summary.Sets()
	}
	return fmt.Sprintf("%s: %s %s: %d interchange(s), %d set(s), %d segments, %d error(s), %d warning(s)",
		r.File, verdict, r.Kind, len(r.Summary.Interchanges), sets, segs, r.Errors, r.Warnings)
}
