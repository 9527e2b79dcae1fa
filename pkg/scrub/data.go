package scrub

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/claimgate/claimgate/pkg/claim"
)

//go:embed data/*.csv
var embedded embed.FS

// Meta is the "# key: value" header of a data file: its table name,
// version and provenance.
type Meta struct {
	Name    string // e.g. NCCIPTP
	Version string // e.g. 2026-brief-1
	// Effective is the NCCI quarter the table reflects, when given.
	Effective string
	// Sources are the "# source:" lines, in order.
	Sources []string
}

// readTable reads a versioned CSV data file: leading "# key: value"
// comment lines (name and version required, name must equal want), then a
// header row that must equal columns, then rows. Later "#" lines are
// comments.
func readTable(r io.Reader, want string, columns []string) (Meta, [][]string, error) {
	br := bufio.NewReader(r)
	var meta Meta
	line := 0
	for {
		b, err := br.Peek(1)
		if err != nil || b[0] != '#' {
			break
		}
		s, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return meta, nil, err
		}
		line++
		key, val, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(s, "#")), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "name":
			meta.Name = val
		case "version":
			meta.Version = val
		case "effective":
			meta.Effective = val
		case "source":
			meta.Sources = append(meta.Sources, val)
		}
	}
	if meta.Name != want {
		return meta, nil, fmt.Errorf("data file is %q, want a %q table (first lines must be \"# name: %s\" and \"# version: ...\")", meta.Name, want, want)
	}
	if meta.Version == "" {
		return meta, nil, fmt.Errorf("%s: no \"# version:\" header line", want)
	}
	cr := csv.NewReader(br)
	cr.Comment = '#'
	cr.FieldsPerRecord = len(columns)
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = false
	head, err := cr.Read()
	if err != nil {
		return meta, nil, fmt.Errorf("%s: header row: %w", want, err)
	}
	if !slices.Equal(head, columns) {
		return meta, nil, fmt.Errorf("%s: header row is %q, want %q", want, strings.Join(head, ","), strings.Join(columns, ","))
	}
	var rows [][]string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return meta, nil, fmt.Errorf("%s: %w", want, err)
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		rows = append(rows, rec)
	}
	return meta, rows, nil
}

func rowErr(table string, row int, format string, args ...any) error {
	return fmt.Errorf("%s: data row %d: %s", table, row, fmt.Sprintf(format, args...))
}

func validCode(s string) bool {
	if len(s) != 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func parseYesNo(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "yes", "y", "true":
		return true, true
	case "no", "n", "false":
		return false, true
	}
	return false, false
}

// ---- PT codes ----

// MedicareStatus is how Medicare treats a PT code.
type MedicareStatus uint8

// Medicare statuses of a code.
const (
	MedicarePayable MedicareStatus = iota // paid separately
	MedicareBundled                       // never paid separately (97010)
	MedicareInvalid                       // not valid; bill Code.Replacement (97014 → G0283)
)

// Code is one row of pt_codes.csv.
type Code struct {
	Code  string // CPT or HCPCS code, e.g. 97110
	Timed bool   // billed per 15 minutes (8-minute rule)
	// MultiUnit is the severity raised when an untimed code has more than
	// 1 unit on a date of service.
	MultiUnit   Severity
	Medicare    MedicareStatus // how Medicare treats the code
	Replacement string         // code to bill instead when Medicare is MedicareInvalid
	Note        string         // short description
}

// CodeTable is the set of PT procedure codes the scrubber knows. A code in
// the table is a PT service (GP required, counts toward the KX threshold).
// It is read-only once built.
type CodeTable struct {
	meta  Meta
	codes map[string]Code
}

var codeColumns = []string{"code", "timed", "multi_unit", "medicare", "replacement", "note"}

// ParseCodes reads a pt_codes.csv table.
func ParseCodes(r io.Reader) (*CodeTable, error) {
	const name = "PTCodes"
	meta, rows, err := readTable(r, name, codeColumns)
	if err != nil {
		return nil, err
	}
	t := &CodeTable{meta: meta, codes: make(map[string]Code, len(rows))}
	for i, rec := range rows {
		n := i + 1
		c := Code{Code: strings.ToUpper(rec[0]), Replacement: strings.ToUpper(rec[4]), Note: rec[5]}
		if !validCode(c.Code) {
			return nil, rowErr(name, n, "code %q is not a 5-character CPT/HCPCS code", rec[0])
		}
		if _, dup := t.codes[c.Code]; dup {
			return nil, rowErr(name, n, "code %s listed twice", c.Code)
		}
		var ok bool
		if c.Timed, ok = parseYesNo(rec[1]); !ok {
			return nil, rowErr(name, n, "timed must be yes or no, not %q", rec[1])
		}
		switch {
		case c.Timed && rec[2] != "":
			return nil, rowErr(name, n, "multi_unit must be empty for a timed code")
		case !c.Timed:
			if err := c.MultiUnit.UnmarshalText([]byte(rec[2])); err != nil {
				return nil, rowErr(name, n, "multi_unit must be reject or warn for an untimed code, not %q", rec[2])
			}
		}
		switch strings.ToLower(rec[3]) {
		case "":
		case "bundled":
			c.Medicare = MedicareBundled
		case "invalid":
			c.Medicare = MedicareInvalid
		default:
			return nil, rowErr(name, n, "medicare must be empty, bundled or invalid, not %q", rec[3])
		}
		if c.Replacement != "" && !validCode(c.Replacement) {
			return nil, rowErr(name, n, "replacement %q is not a 5-character code", rec[4])
		}
		t.codes[c.Code] = c
	}
	return t, nil
}

// LoadCodes reads a pt_codes.csv table from a file, so operators can update
// the list without a rebuild.
func LoadCodes(path string) (*CodeTable, error) {
	return loadFile(path, ParseCodes)
}

// Lookup returns the row for code.
func (t *CodeTable) Lookup(code string) (Code, bool) {
	c, ok := t.codes[code]
	return c, ok
}

// Len returns the number of codes.
func (t *CodeTable) Len() int { return len(t.codes) }

// Meta returns the table's header.
func (t *CodeTable) Meta() Meta { return t.meta }

// ---- NCCI PTP ----

// PTPPair is one NCCI procedure-to-procedure row.
type PTPPair struct {
	// Column1 and Column2 are the codes; the column-2 code is the one
	// denied unless bypassed.
	Column1, Column2 string
	// ModifierIndicator is 0 (never bypassed) or 1 (bypassed by 59 or
	// XE/XS/XP/XU on the column-2 line). Rows with 9 are not loaded.
	ModifierIndicator int
	// Effective is the first date of service the pair applies to (zero:
	// every date); Deletion the first date it no longer applies (zero:
	// not deleted).
	Effective, Deletion claim.Date
	// Source says where the row comes from, e.g. "domain brief".
	Source string
}

// In reports whether the pair applies to date of service d.
func (p *PTPPair) In(d claim.Date) bool {
	if !p.Effective.IsZero() && d.Before(p.Effective) {
		return false
	}
	if !p.Deletion.IsZero() && !d.Before(p.Deletion) {
		return false
	}
	return true
}

type pairKey struct{ c1, c2 string }

// NCCITable holds NCCI PTP pairs by (column 1, column 2). It is read-only
// once built.
type NCCITable struct {
	meta  Meta
	pairs map[pairKey][]PTPPair
	col2  map[string]struct{} // codes that are column 2 of some pair
	n     int
}

var ncciColumns = []string{"column1", "column2", "modifier_indicator", "effective", "deletion", "source"}

func parseOptDate(s string) (claim.Date, error) {
	if s == "" || s == "*" {
		return claim.Date{}, nil
	}
	return claim.ParseDate(s)
}

// ParseNCCI reads an ncci_ptp.csv table.
func ParseNCCI(r io.Reader) (*NCCITable, error) {
	const name = "NCCIPTP"
	meta, rows, err := readTable(r, name, ncciColumns)
	if err != nil {
		return nil, err
	}
	t := &NCCITable{meta: meta, pairs: make(map[pairKey][]PTPPair, len(rows)), col2: make(map[string]struct{})}
	for i, rec := range rows {
		n := i + 1
		p := PTPPair{Column1: strings.ToUpper(rec[0]), Column2: strings.ToUpper(rec[1]), Source: rec[5]}
		if !validCode(p.Column1) || !validCode(p.Column2) {
			return nil, rowErr(name, n, "codes %q/%q are not 5-character CPT/HCPCS codes", rec[0], rec[1])
		}
		if p.Column1 == p.Column2 {
			return nil, rowErr(name, n, "column1 and column2 are both %s", p.Column1)
		}
		switch rec[2] {
		case "0", "1":
			p.ModifierIndicator = int(rec[2][0] - '0')
		case "9":
			continue // not applicable: CMS marks deleted-from-the-start rows so
		default:
			return nil, rowErr(name, n, "modifier_indicator must be 0, 1 or 9, not %q", rec[2])
		}
		if p.Effective, err = parseOptDate(rec[3]); err != nil {
			return nil, rowErr(name, n, "effective: %v", err)
		}
		if p.Deletion, err = parseOptDate(rec[4]); err != nil {
			return nil, rowErr(name, n, "deletion: %v", err)
		}
		if !p.Effective.IsZero() && !p.Deletion.IsZero() && !p.Effective.Before(p.Deletion) {
			return nil, rowErr(name, n, "deletion %s is not after effective %s", p.Deletion, p.Effective)
		}
		k := pairKey{p.Column1, p.Column2}
		for _, q := range t.pairs[k] {
			if periodsOverlap(q, p) {
				return nil, rowErr(name, n, "pair %s/%s overlaps an earlier row for the same dates", p.Column1, p.Column2)
			}
		}
		t.pairs[k] = append(t.pairs[k], p)
		t.col2[p.Column2] = struct{}{}
		t.n++
	}
	return t, nil
}

func periodsOverlap(a, b PTPPair) bool {
	// [a.E, a.D) and [b.E, b.D) with zero = unbounded.
	aEndsBeforeB := !a.Deletion.IsZero() && !b.Effective.IsZero() && !b.Effective.Before(a.Deletion)
	bEndsBeforeA := !b.Deletion.IsZero() && !a.Effective.IsZero() && !a.Effective.Before(b.Deletion)
	return !aEndsBeforeB && !bEndsBeforeA
}

// LoadNCCI reads an ncci_ptp.csv table from a file, so a new quarter's
// pairs can be loaded without a rebuild.
func LoadNCCI(path string) (*NCCITable, error) {
	return loadFile(path, ParseNCCI)
}

// Pair returns the pair with column1 and column2 in effect on date d.
func (t *NCCITable) Pair(column1, column2 string, d claim.Date) (PTPPair, bool) {
	rows := t.pairs[pairKey{column1, column2}]
	for i := range rows {
		if rows[i].In(d) {
			return rows[i], true
		}
	}
	return PTPPair{}, false
}

// isColumn2 reports whether code is column 2 of any pair.
func (t *NCCITable) isColumn2(code string) bool {
	_, ok := t.col2[code]
	return ok
}

// Len returns the number of pairs loaded.
func (t *NCCITable) Len() int { return t.n }

// Meta returns the table's header.
func (t *NCCITable) Meta() Meta { return t.meta }

// ---- thresholds ----

// Threshold is one year's Medicare therapy thresholds.
type Threshold struct {
	Year int // calendar year of service
	// KX is the amount of PT+SLP spend past which KX is required.
	KX claim.Money
	// TargetedReview is the amount past which claims may be picked for
	// targeted medical review.
	TargetedReview claim.Money
	// Confirmed is false when the amount was not checked at CMS.
	Confirmed bool
	Note      string // provenance
}

// ThresholdTable holds thresholds by calendar year. It is read-only once
// built.
type ThresholdTable struct {
	meta  Meta
	years map[int]Threshold
}

var thresholdColumns = []string{"year", "kx_threshold", "targeted_review_threshold", "confirmed", "note"}

// ParseThresholds reads a therapy_thresholds.csv table.
func ParseThresholds(r io.Reader) (*ThresholdTable, error) {
	const name = "TherapyThresholds"
	meta, rows, err := readTable(r, name, thresholdColumns)
	if err != nil {
		return nil, err
	}
	t := &ThresholdTable{meta: meta, years: make(map[int]Threshold, len(rows))}
	for i, rec := range rows {
		n := i + 1
		var th Threshold
		th.Note = rec[4]
		if th.Year, err = strconv.Atoi(rec[0]); err != nil || th.Year < 1900 || th.Year > 9999 {
			return nil, rowErr(name, n, "year %q is not a year", rec[0])
		}
		if _, dup := t.years[th.Year]; dup {
			return nil, rowErr(name, n, "year %d listed twice", th.Year)
		}
		if th.KX, err = claim.ParseMoney(rec[1]); err != nil || th.KX <= 0 {
			return nil, rowErr(name, n, "kx_threshold %q is not a positive amount", rec[1])
		}
		if th.TargetedReview, err = claim.ParseMoney(rec[2]); err != nil || th.TargetedReview <= 0 {
			return nil, rowErr(name, n, "targeted_review_threshold %q is not a positive amount", rec[2])
		}
		var ok bool
		if th.Confirmed, ok = parseYesNo(rec[3]); !ok {
			return nil, rowErr(name, n, "confirmed must be yes or no, not %q", rec[3])
		}
		t.years[th.Year] = th
	}
	return t, nil
}

// LoadThresholds reads a therapy_thresholds.csv table from a file, so a
// new year's amounts can be loaded without a rebuild.
func LoadThresholds(path string) (*ThresholdTable, error) {
	return loadFile(path, ParseThresholds)
}

// Year returns the thresholds for a calendar year.
func (t *ThresholdTable) Year(y int) (Threshold, bool) {
	th, ok := t.years[y]
	return th, ok
}

// Meta returns the table's header.
func (t *ThresholdTable) Meta() Meta { return t.meta }

// ---- loading ----

func loadFile[T any](path string, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, err
	}
	defer f.Close()
	v, err := parse(f)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

func parseEmbedded[T any](file string, parse func(io.Reader) (T, error)) (T, error) {
	b, err := embedded.ReadFile("data/" + file)
	if err != nil {
		var zero T
		return zero, err
	}
	return parse(bytes.NewReader(b))
}

// EmbeddedCodes returns the pt_codes.csv table built into the binary.
func EmbeddedCodes() (*CodeTable, error) { return parseEmbedded("pt_codes.csv", ParseCodes) }

// EmbeddedNCCI returns the ncci_ptp.csv table built into the binary.
func EmbeddedNCCI() (*NCCITable, error) { return parseEmbedded("ncci_ptp.csv", ParseNCCI) }

// EmbeddedThresholds returns the therapy_thresholds.csv table built into
// the binary.
func EmbeddedThresholds() (*ThresholdTable, error) {
	return parseEmbedded("therapy_thresholds.csv", ParseThresholds)
}
