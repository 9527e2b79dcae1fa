package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x277ca"
	"github.com/claimgate/claimgate/edi/x835"
	"github.com/claimgate/claimgate/edi/x999"
)

var parseCmd = command{
	name:     "parse",
	synopsis: "claimgate parse [flags] FILE (--json | --csv)",
	about: `Print what a payer sent back: a 999, 277CA or 835 as JSON, or an 835 as
posting CSV (one row per service line). The file is checked as validate
checks it, in the same read: its findings go to standard error and into the
JSON. A payment that repeats an earlier one (same payer and TRN02 trace
number, e.g. an interchange sent twice) is an error, and --csv posts it
once. FILE "-" reads standard input; any input is read once, so pipes and
FIFOs work.`,
	exits: `  0  the file was read and has no error
  1  the file was read but has errors (findings on standard error)
  2  usage or I/O error`,
}

// RuleDuplicatePayment is the finding for an 835 payment (payer TRN03 and
// trace number TRN02) that repeats an earlier one in the same file.
const RuleDuplicatePayment = "835.duplicate-payment"

func cmdParse(args []string, stdout, stderr io.Writer) error {
	c := &parseCmd
	fs := c.flags(stderr)
	asJSON := fs.Bool("json", false, "print the typed content as JSON (999, 277CA, 835)")
	asCSV := fs.Bool("csv", false, "835 only: one row per service line, for posting into a PM system")
	files, err := c.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if len(files) != 1 || *asJSON == *asCSV {
		return usageErr("usage: %s", c.synopsis)
	}
	in, name, err := openInput(files[0])
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer in.Close()
	// The input is opened and read once: the kind is sniffed from the
	// buffer, which the readers then read on from.
	br := bufio.NewReaderSize(in, 64<<10)
	kind, err := sniffKind(br, name)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	switch {
	case *asCSV && kind != "835":
		return usageErr("--csv is for 835 files; %s holds a %s", name, kind)
	case kind != "835" && kind != "999" && kind != "277":
		return usageErr("parse reads 999, 277CA and 835 files; %s holds %s", name, kind)
	}
	// What the sniffing buffered, then the input itself: the readers
	// read it in their own 64 KiB blocks, not through the bufio.Reader.
	head, _ := br.Peek(br.Buffered())
	v := validateAlong(io.MultiReader(bytes.NewReader(bytes.Clone(head)), in), name)
	var rerr error
	switch {
	case *asCSV:
		rerr = parse835CSV(v.r, name, stdout)
	case kind == "835":
		rerr = parse835JSON(v.r, name, stdout, v)
	case kind == "999":
		var ack *x999.Ack
		ack, _, rerr = x999.Read(v.r, name)
		if rerr == nil {
			rerr = writeAckJSON(stdout, name, "999", ack, v)
		}
	case kind == "277":
		var ack *x277ca.Ack
		ack, _, rerr = x277ca.Read(v.r, name)
		if rerr == nil {
			rerr = writeAckJSON(stdout, name, "277CA", ack, v)
		}
	}
	findings, verr := v.wait(rerr)
	if rerr == nil {
		rerr = verr
	}
	if rerr != nil {
		return &exitError{code: 2, err: rerr}
	}
	for i := range findings {
		fmt.Fprintln(stderr, findings[i].Error())
	}
	if len(v.notShown) > 0 {
		fmt.Fprintln(stderr, notShownLine(&fileResult{File: name, NotShown: v.notShown}, maxParseFindings))
	}
	if v.errors > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// validation runs validate's checks (x12.Check with the same set
// checkers) on a copy of the bytes the typed reader reads, in a goroutine:
// one read of the input, and the verdict of validate.
type validation struct {
	r        io.Reader // what the typed reader reads: the input, teed
	pipe     *chunkPipe
	done     chan struct{}
	findings x12.Findings // the first maxParseFindings, in file order
	errors   int          // every error, shown or not
	notShown map[string]int
	err      error
	waited   bool
}

// maxParseFindings caps the findings parse prints on standard error (as
// validate's default --max-findings); the rest are counted per rule.
const maxParseFindings = 1000

// validateAlong starts validate's checks on what is read from src through
// the returned validation's r.
func validateAlong(src io.Reader, name string) *validation {
	pipe := newChunkPipe()
	v := &validation{r: io.TeeReader(src, pipe), pipe: pipe, done: make(chan struct{})}
	go func() {
		defer close(v.done)
		_, _, err := x12.Check(pipe, x12.CheckOptions{
			Name: name,
			Sets: setCheckers(),
			Finding: func(f *x12.Finding) {
				if f.Severity == x12.Error {
					v.errors++
				}
				if len(v.findings) < maxParseFindings {
					v.findings = append(v.findings, *f)
					return
				}
				if v.notShown == nil {
					v.notShown = map[string]int{}
				}
				v.notShown[f.Rule]++
			},
		})
		v.err = err
		// Check stops reading only on a read error, which the typed
		// reader sees too; drain so its writes never block.
		var buf [4096]byte
		for {
			if _, err := pipe.Read(buf[:]); err != nil {
				break
			}
		}
	}()
	return v
}

// wait lets the rest of the input through to the checks (the typed reader
// may stop before the end) and returns validate's findings (the first
// maxParseFindings); called again, it returns the same. readErr, when the
// typed reader failed, ends the checks' input there.
func (v *validation) wait(readErr error) (x12.Findings, error) {
	if !v.waited {
		v.waited = true
		if readErr == nil {
			_, readErr = io.Copy(io.Discard, v.r)
		}
		v.pipe.CloseWithError(readErr)
		<-v.done
	}
	return v.findings, v.err
}

// paymentKey identifies an 835 payment: the payer's id (TRN03) and the
// check or EFT trace number (TRN02). "" when there is no trace number.
func paymentKey(payer, trace string) string {
	if trace == "" {
		return ""
	}
	return payer + "\x00" + trace
}

// sniffKind returns the ST01 of the first transaction set ("835", "999",
// "277", "837"), looking ahead in br without consuming it, so the input is
// read once (a pipe or FIFO cannot be opened twice).
func sniffKind(br *bufio.Reader, name string) (string, error) {
	for n := 4 << 10; ; n *= 2 {
		if n > br.Size() {
			n = br.Size()
		}
		buf, err := br.Peek(n)
		if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		full := len(buf) == n && err == nil
		if st, ok := firstST(buf); ok {
			return st, nil
		}
		if !full || n == br.Size() {
			what := "no transaction set (ST) found: not an X12 file"
			if full {
				what = fmt.Sprintf("no transaction set (ST) in the first %d KiB: not an X12 file", n>>10)
			}
			return "", fmt.Errorf("%s: %s", name, what)
		}
	}
}

// firstST finds the ST01 of the first ST segment in buf.
func firstST(buf []byte) (string, bool) {
	r := x12.NewReader(bytes.NewReader(buf))
	for {
		seg, err := r.Next()
		if x12.IsFinding(err) {
			continue
		}
		if err != nil {
			return "", false
		}
		// The last segment of a partial buffer may be cut short: an ST
		// is believed only with its ST01 complete.
		if seg.Is("ST") && seg.Len() >= 2 {
			return seg.Text(1), true
		}
	}
}

// parse835JSON streams an 835 as {"file", "type", "remittances": [...],
// "findings": [...]}, each remittance in the shape of x835.Remittance,
// one claim in memory at a time.
func parse835JSON(r io.Reader, name string, w io.Writer, v *validation) error {
	rd := x835.NewReader(r)
	rd.Name = name
	rd.ReuseClaims = true
	rd.Report = func(x12.Finding) {} // the checks alongside report
	jw := x835.NewJSONWriter(w)
	rd.EndRemittance = func(rem *x835.Remittance) { jw.EndRemittance(rem) }
	head := appendJSONString([]byte(`{"file":`), name)
	head = append(head, `,"type":"835","remittances":[`...)
	if _, err := w.Write(head); err != nil {
		return err
	}
	for {
		c, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := jw.WriteClaim(c); err != nil {
			return err
		}
	}
	if err := jw.Close(); err != nil {
		return err
	}
	findings, err := v.wait(nil)
	if err != nil {
		return err
	}
	tail, err := json.Marshal(nonNil(findings))
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "\n],\"findings\":%s}\n", tail); err != nil {
		return err
	}
	return nil
}

// parse835CSV writes one posting row per service line; a payment that
// repeats an earlier one (paymentKey) is not posted again.
func parse835CSV(r io.Reader, name string, w io.Writer) error {
	rd := x835.NewReader(r)
	rd.Name = name
	rd.ReuseClaims = true
	rd.Report = func(x12.Finding) {}
	cw := x835.NewCSVWriter(w)
	if err := cw.WriteHeader(); err != nil {
		return err
	}
	seen := map[string]bool{}
	var rem *x835.Remittance
	skip := false
	for {
		c, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if c.Remittance != rem {
			rem = c.Remittance
			key := ""
			if rem != nil {
				key = paymentKey(rem.Payment.PayerID, rem.Payment.TraceNumber)
			}
			skip = key != "" && seen[key]
			if key != "" {
				seen[strings.Clone(key)] = true
			}
		}
		if skip {
			continue
		}
		if err := cw.Write(c); err != nil {
			return err
		}
	}
	return cw.Flush()
}

func nonNil(fs x12.Findings) x12.Findings {
	if fs == nil {
		return x12.Findings{}
	}
	return fs
}

func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(dst, b...)
}

// writeAckJSON prints a 999 or 277CA with validate's findings.
func writeAckJSON(w io.Writer, name, typ string, ack any, v *validation) error {
	findings, err := v.wait(nil)
	if err != nil {
		return err
	}
	doc := struct {
		File     string       `json:"file"`
		Type     string       `json:"type"`
		Ack      any          `json:"ack"`
		Findings x12.Findings `json:"findings"`
	}{name, typ, ack, nonNil(findings)}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
