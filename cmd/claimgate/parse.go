package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x277ca"
	"github.com/claimgate/claimgate/edi/x835"
	"github.com/claimgate/claimgate/edi/x999"
)

var parseCmd = command{
	name:     "parse",
	synopsis: "claimgate parse [flags] FILE (--json | --csv)",
	about: `Print what a payer sent back: a 999, 277CA or 835 as JSON, or an 835 as
posting CSV (one row per service line). Findings go to standard error.
FILE "-" reads standard input.`,
	exits: `  0  the file was read and has no error
  1  the file was read but has errors (findings on standard error)
  2  usage or I/O error`,
}

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
	file := files[0]
	kind, err := sniffKind(file)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	f, err := os.Open(file)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer f.Close()
	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	var findings x12.Findings
	switch {
	case kind == "835" && *asCSV:
		findings, err = parse835CSV(f, file, out)
	case kind == "835":
		findings, err = parse835JSON(f, file, out)
	case *asCSV:
		return usageErr("--csv is for 835 files; %s holds a %s", file, kind)
	case kind == "999":
		var ack *x999.Ack
		ack, findings, err = x999.Read(f, file)
		if err == nil {
			err = writeJSON(out, map[string]any{"file": file, "type": "999", "ack": ack, "findings": nonNil(findings)})
		}
	case kind == "277":
		var ack *x277ca.Ack
		ack, findings, err = x277ca.Read(f, file)
		if err == nil {
			err = writeJSON(out, map[string]any{"file": file, "type": "277CA", "ack": ack, "findings": nonNil(findings)})
		}
	default:
		return usageErr("parse reads 999, 277CA and 835 files; %s holds %s", file, kind)
	}
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	for i := range findings {
		fmt.Fprintln(stderr, findings[i].Error())
	}
	if findings.Errors() > 0 {
		return &exitError{code: 1}
	}
	return nil
}

func nonNil(fs x12.Findings) x12.Findings {
	if fs == nil {
		return x12.Findings{}
	}
	return fs
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// sniffKind reads up to the first ST and returns its ST01 ("835", "999",
// "277", "837"), without reading the rest of the file.
func sniffKind(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r := x12.NewReader(f)
	for {
		seg, err := r.Next()
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("%s: no transaction set (ST) found: not an X12 file", name)
		}
		if x12.IsFinding(err) {
			continue
		}
		if err != nil {
			return "", err
		}
		if seg.Is("ST") {
			return seg.Text(1), nil
		}
	}
}

// remittanceHeader is a remittance without its claims, written before them
// so an 835 of any size is printed as it is read.
type remittanceHeader struct {
	Envelope       x835.Envelope `json:"envelope,omitzero"`
	Control        string        `json:"control"`
	Version        string        `json:"version,omitempty"`
	Payment        x835.Payment  `json:"payment"`
	ReceiverID     string        `json:"receiver_id,omitempty"`
	VersionID      string        `json:"version_id,omitempty"`
	ProductionDate x835.Date     `json:"production_date,omitzero"`
	Payer          x835.Payer    `json:"payer"`
	Payee          x835.Payee    `json:"payee"`
}

// parse835JSON streams an 835 as {"file", "type", "remittances": [{header...,
// "claims": [...], "provider_adjustments": [...]}], "findings": [...]}: the
// shape of x835.Remittance, one claim in memory at a time.
func parse835JSON(r io.Reader, name string, w io.Writer) (x12.Findings, error) {
	rd := x835.NewReader(r)
	rd.Name = name
	var open *x835.Remittance
	nRem, nClaims := 0, 0
	var werr error
	put := func(s string) {
		if werr == nil {
			_, werr = io.WriteString(w, s)
		}
	}
	putJSON := func(v any) {
		if werr != nil {
			return
		}
		b, err := json.Marshal(v)
		if err != nil {
			werr = err
			return
		}
		_, werr = w.Write(b)
	}
	begin := func(rem *x835.Remittance) {
		if nRem > 0 {
			put(",")
		}
		nRem++
		nClaims = 0
		h := remittanceHeader{Envelope: rem.Envelope, Control: rem.Control, Version: rem.Version, Payment: rem.Payment,
			ReceiverID: rem.ReceiverID, VersionID: rem.VersionID, ProductionDate: rem.ProductionDate, Payer: rem.Payer, Payee: rem.Payee}
		b, err := json.Marshal(h)
		if err != nil {
			werr = err
			return
		}
		put("\n" + string(b[:len(b)-1]) + `,"claims":[`)
		open = rem
	}
	// A reversal (CLP02 22) is held until the next claim, which the reader
	// links to it as its correction, so both carry their link.
	var held *x835.ClaimPayment
	emit := func(c *x835.ClaimPayment) {
		if nClaims > 0 {
			put(",")
		}
		nClaims++
		put("\n")
		putJSON(c)
	}
	release := func() {
		if held != nil {
			emit(held)
			held = nil
		}
	}
	rd.EndRemittance = func(rem *x835.Remittance) {
		if open == nil {
			begin(rem)
		}
		release()
		put("]")
		if len(rem.ProviderAdjustments) > 0 { // omitted when empty, as in x835.Remittance
			put(`,"provider_adjustments":`)
			putJSON(rem.ProviderAdjustments)
		}
		put("}")
		open = nil
	}
	put(`{"file":`)
	putJSON(name)
	put(`,"type":"835","remittances":[`)
	for {
		c, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rd.Findings(), err
		}
		if open == nil || c.Remittance != open {
			if open != nil {
				release()
				put("]}") // a set ended without its EndRemittance (truncated)
			}
			begin(c.Remittance)
		}
		release()
		if c.IsReversal() {
			held = c
			continue
		}
		emit(c)
	}
	if open != nil {
		release()
		put("]}")
	}
	put("\n],\"findings\":")
	putJSON(nonNil(rd.Findings()))
	put("}\n")
	return rd.Findings(), werr
}

// parse835CSV writes one posting row per service line.
func parse835CSV(r io.Reader, name string, w io.Writer) (x12.Findings, error) {
	rd := x835.NewReader(r)
	rd.Name = name
	cw := x835.NewCSVWriter(w)
	for {
		c, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rd.Findings(), err
		}
		if err := cw.Write(c); err != nil {
			return rd.Findings(), err
		}
	}
	return rd.Findings(), cw.Flush()
}
