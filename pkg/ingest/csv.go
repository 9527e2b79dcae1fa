package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unsafe"

	"github.com/claimgate/claimgate/pkg/claim"
)

// DecodeCSV decodes a CSV batch with a zero Decoder; see
// Decoder.DecodeCSV.
func DecodeCSV(r io.Reader, batch string, emit func(Result) error) (Summary, error) {
	var d Decoder
	return d.DecodeCSV(r, batch, emit)
}

// DecodeCSV reads a CSV batch from r (one row per service line, the
// claim's fields repeated on each of its rows; see docs/batch-format.md)
// and calls emit with each claim that passes the field checks, as soon as
// the row after its last row has been read. batch names the batch in
// errors and Sources.
//
// The rows of one claim must be consecutive. A claim id that comes back
// after other claims is refused, with an error naming the row where the
// id was first used: by then the first claim has been emitted, and
// holding every claim until the end of the input to merge them would
// make memory grow with the batch. Memory therefore holds one claim (at
// most MaxLines rows) plus the set of claim ids seen.
//
// A header with an unknown, repeated or unnamed column, or without a
// required column, fails the whole call with a *BatchError wrapping a
// *HeaderError. Every record is one line: a row that cannot be read (a
// quote left open at the end of its line, a line longer than
// MaxRecordBytes) is skipped and reported by its row number, its claim
// refused, and decoding goes on at the next line. Anything else wrong
// rejects only the claims concerned. If emit returns an error, decoding
// stops and DecodeCSV returns that error unchanged.
func (d *Decoder) DecodeCSV(r io.Reader, batch string, emit func(Result) error) (Summary, error) {
	var sum Summary
	b := &csvBatch{d: d, sum: &sum, batch: batch, emit: emit, seen: newIDSet()}
	err := b.run(r)
	return sum, err
}

// HeaderError lists what is wrong with a CSV header line.
type HeaderError struct {
	Unknown   []string // columns the format does not have, with a suggestion when one is close
	Missing   []string // required columns that are absent
	Duplicate []string // columns given more than once
	Unnamed   []int    // 1-based positions of columns with an empty name
	noneKnown bool
}

// Error lists the problems, e.g. `bad CSV header: unknown column(s)
// paitent_last (did you mean patient_last?)`.
func (e *HeaderError) Error() string {
	var parts []string
	switch {
	case e.noneKnown:
		// Not one column name is known: the "header" is most likely a
		// data row, whose cells are a patient's name, id and birth date.
		parts = append(parts, fmt.Sprintf("%d unknown column(s) (names not shown, they may be data)", len(e.Unknown)))
	case len(e.Unknown) > 0:
		parts = append(parts, "unknown column(s) "+strings.Join(e.Unknown, ", "))
	}
	if len(e.Missing) > 0 {
		parts = append(parts, "missing required column(s) "+strings.Join(e.Missing, ", "))
	}
	if len(e.Duplicate) > 0 {
		parts = append(parts, "repeated column(s) "+strings.Join(e.Duplicate, ", "))
	}
	if len(e.Unnamed) > 0 {
		parts = append(parts, fmt.Sprintf("unnamed column(s) at position %v", e.Unnamed))
	}
	msg := "bad CSV header: " + strings.Join(parts, "; ")
	if e.noneKnown {
		msg += " (no column is known: is the header line missing?)"
	}
	return msg
}

type csvBatch struct {
	d     *Decoder
	sum   *Summary
	batch string
	emit  func(Result) error

	cols      []*csvColumn // by position in the header
	rec       []string     // plainRecord's fields, reused
	first     []string     // the pending claim's first cells (pendingClaim.first)
	idCol     int
	claimCols []int // positions of the claim-level columns
	lineCols  []int
	seen      *idSet // claim ids → row where each was first used
	cur       *pendingClaim
	// suspect is a row that could not be read nor placed (its claim id
	// was unreadable), 0 when none: the claim starting after it may have
	// lost that row, so it is refused too.
	suspect int
	// openQuote is the last row skipped for a quote left open, 0 when the
	// row after it read well; openID is that row's claim id ("" unknown).
	// The rows right after it may be the rest of a field that ran across
	// lines: their cells are text, not a claim id.
	openQuote int
	openID    string
}

// pendingClaim is the claim whose rows are being read.
type pendingClaim struct {
	id       string
	firstRow int
	c        *claim.Claim // nil until a row of it parses
	rows     []int        // row of each line in c.Lines
	first    []string     // the claim-level cells of its first row
	issues   []issue
	skip     bool // refused as a whole: read past its rows without parsing them
}

func (b *csvBatch) run(r io.Reader) error {
	// Every record of the format is one physical line (no field may hold
	// a line break), so lines are split here and handed to encoding/csv
	// one at a time: a broken line (an unclosed quote, a line too long)
	// then costs that row alone, and reading goes on at the next line
	// instead of swallowing the rest of the batch.
	lr := &lineReader{r: bufio.NewReaderSize(r, 64<<10), limit: int(b.d.maxRecord())}
	feed := &lineFeed{}
	cr := csv.NewReader(feed)
	cr.ReuseRecord = true
	// With lazy quotes a stray quote is kept as text instead of
	// failing the row without returning it; an unclosed quote shows as
	// a field that holds the line break.
	cr.LazyQuotes = true
	var header []string
	for header == nil {
		line, err := lr.next()
		switch {
		case err == io.EOF:
			return b.fatal(1, errors.New("the input is empty: a CSV batch starts with a header line"))
		case err != nil:
			return b.fatal(max(lr.num, 1), err)
		case blankLine(line):
			continue
		}
		feed.line = line
		rec, err := cr.Read()
		if err != nil {
			return b.fatal(lr.num, err)
		}
		header = rec
	}
	if err := b.header(header); err != nil {
		return b.fatal(lr.num, err)
	}
	for {
		line, err := lr.next()
		if err == io.EOF {
			break
		}
		long, _ := err.(*errLineTooLong) // a type assertion: no allocation per row
		if err != nil && long == nil {
			return b.fatal(lr.num, err)
		}
		if blankLine(line) {
			continue // encoding/csv would take an empty feed for the end
		}
		row := lr.num
		rec, rerr, plain := b.plainRecord(line)
		if !plain {
			feed.line = line
			rec, rerr = cr.Read()
		}
		if long != nil {
			// Only the line's first bytes were kept: its last field is cut.
			if err := b.unreadable(rec, len(rec)-1, row, long.Error()+"; the row is skipped"); err != nil {
				return err
			}
			continue
		}
		if rerr != nil && !errors.Is(rerr, csv.ErrFieldCount) {
			if err := b.unreadable(nil, 0, row, "the row cannot be read as CSV ("+rerr.Error()+"); the row is skipped"); err != nil {
				return err
			}
			continue
		}
		q := -1
		if !plain { // a plain line has no line break in any field
			q = brokenField(rec)
		}
		if q >= 0 {
			// Line breaks are not allowed in any field: an unclosed quote
			// ran to the end of the line.
			reason := fmt.Sprintf("field %d has an opening quote that is not closed on its line; the row is skipped", q+1)
			if err := b.unreadable(rec, q, row, reason); err != nil {
				return err
			}
			b.openQuote, b.openID = row, ""
			if b.idCol < q {
				b.openID = strings.TrimSpace(rec[b.idCol])
			}
			continue
		}
		if rerr != nil {
			if err := b.badRecord(rec, row); err != nil {
				return err
			}
			continue
		}
		b.openQuote = 0
		if err := b.row(rec, row); err != nil {
			return err
		}
	}
	return b.finish()
}

// errFieldCount is what encoding/csv returns for a row of the wrong
// number of fields (only errors.Is is asked of it).
var errFieldCount = &csv.ParseError{Err: csv.ErrFieldCount}

// plainRecord splits a line that has no quote and no carriage return (but
// a final CRLF) into its fields, as encoding/csv with LazyQuotes does,
// at a fraction of its cost: the usual PM export quotes nothing. ok is
// false for any other line, which encoding/csv then reads. The fields
// share one string, as encoding/csv's do.
func (b *csvBatch) plainRecord(line []byte) (rec []string, err error, ok bool) {
	n := len(line)
	if n > 0 && line[n-1] == '\n' {
		n--
		if n > 0 && line[n-1] == '\r' {
			n--
		}
	}
	body := line[:n]
	if bytes.IndexByte(body, '"') >= 0 || bytes.IndexByte(body, '\r') >= 0 || bytes.IndexByte(body, '\n') >= 0 {
		return nil, nil, false
	}
	str := string(body)
	rec = b.rec[:0]
	for {
		i := strings.IndexByte(str, ',')
		if i < 0 {
			rec = append(rec, str)
			break
		}
		rec = append(rec, str[:i])
		str = str[i+1:]
	}
	b.rec = rec
	if len(rec) != len(b.cols) {
		return rec, errFieldCount, true
	}
	return rec, nil, true
}

// brokenField returns the index of the first field holding a line break
// (what an unclosed quote leaves), or -1.
func brokenField(rec []string) int {
	for q, f := range rec {
		if strings.IndexByte(f, '\n') >= 0 || strings.IndexByte(f, '\r') >= 0 {
			return q
		}
	}
	return -1
}

func blankLine(line []byte) bool {
	return len(bytes.TrimRight(line, "\r\n")) == 0
}

func (b *csvBatch) header(rec []string) error {
	var he HeaderError
	seen := make(map[string]bool, len(rec))
	b.cols = make([]*csvColumn, len(rec))
	for i, name := range rec {
		if i == 0 {
			name = strings.TrimPrefix(name, "\uFEFF") // byte order mark from Excel
		}
		name = strings.ToLower(strings.TrimSpace(name))
		switch col := columnsByName[name]; {
		case name == "":
			he.Unnamed = append(he.Unnamed, i+1)
		case seen[name]:
			he.Duplicate = append(he.Duplicate, name)
		case col == nil:
			he.Unknown = append(he.Unknown, name+suggestColumn(name))
		default:
			b.cols[i] = col
			if col.line {
				b.lineCols = append(b.lineCols, i)
			} else {
				b.claimCols = append(b.claimCols, i)
			}
		}
		seen[name] = true
	}
	for _, col := range csvColumns {
		if col.required && !seen[col.name] {
			he.Missing = append(he.Missing, col.name)
		}
	}
	if he.Unknown != nil || he.Missing != nil || he.Duplicate != nil || he.Unnamed != nil {
		he.noneKnown = len(b.lineCols)+len(b.claimCols) == 0
		return &he
	}
	for i, col := range b.cols {
		if col.name == "claim_id" {
			b.idCol = i
		}
	}
	return nil
}

// suggestColumn names the known column closest to an unknown one.
func suggestColumn(name string) string {
	best, dist := "", 3
	for _, c := range csvColumns {
		if d := editDistance(name, c.name); d < dist {
			best, dist = c.name, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// start makes id's claim the current one, emitting the previous claim
// when id differs from it.
func (b *csvBatch) start(id string, row int) error {
	if b.cur != nil && b.cur.id == id {
		b.suspect = 0 // the unplaced row was among the current claim's
		return nil
	}
	if err := b.finish(); err != nil {
		return err
	}
	p := &pendingClaim{id: id, firstRow: row}
	if b.suspect > 0 {
		p.skip = true
		p.issues = append(p.issues, issue{line: -1, row: row, reason: fmt.Sprintf(
			"row %d, just before this claim's rows, could not be read and may be one of them, so the claim is refused as it may be incomplete", b.suspect)})
		b.suspect = 0
	}
	if first, dup := b.seen.add(id, row); dup {
		at := "at row " + strconv.Itoa(first)
		if first == unknownPos {
			at = "earlier"
		}
		p.skip = true
		p.issues = append(p.issues, issue{line: -1, field: "id", row: row, reason: fmt.Sprintf(
			"claim id %q is already used by the claim starting %s: claim ids must be unique in a batch and the rows of one claim consecutive", id, at)})
	}
	b.cur = p
	return nil
}

func (b *csvBatch) row(rec []string, row int) error {
	blank := true
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			blank = false
			break
		}
	}
	if blank { // spreadsheets export trailing rows of empty cells
		return nil
	}
	id := strings.TrimSpace(rec[b.idCol])
	if id == "" {
		b.orphan(row, "id", "is empty: every row must repeat its claim's claim_id")
		return nil
	}
	if err := b.start(id, row); err != nil {
		return err
	}
	p := b.cur
	if p.skip {
		return nil
	}
	if p.c != nil && len(p.c.Lines) == MaxLines {
		p.skip = true
		p.issues = append(p.issues, issue{line: -1, field: "lines", row: row, reason: fmt.Sprintf(
			"the claim has more than %d rows; an 837P claim allows at most %d service lines", MaxLines, MaxLines)})
		return nil
	}
	if p.c == nil {
		p.c = new(claim.Claim)
		// One claim is pending at a time: its first row's cells reuse
		// the buffer of the claim before.
		if cap(b.first) < len(b.claimCols) {
			b.first = make([]string, len(b.claimCols))
		}
		p.first = b.first[:len(b.claimCols)]
		// Most claims have a few lines: one allocation for them.
		p.c.Lines = make([]claim.Line, 0, 4)
		p.rows = make([]int, 0, 4)
		cv := unsafe.Pointer(p.c)
		for k, i := range b.claimCols {
			v := strings.TrimSpace(rec[i])
			p.first[k] = v
			if v == "" {
				if b.cols[i].required {
					p.issues = append(p.issues, issue{line: -1, field: b.cols[i].path, reason: "is required"})
				}
				continue
			}
			if reason := b.cols[i].set(cv, v, b.d.ShowValues); reason != "" {
				p.issues = append(p.issues, issue{line: -1, field: b.cols[i].path, reason: reason})
			}
		}
	} else if is, ok := b.sameClaim(p, rec, row); !ok {
		p.issues = append(p.issues, is)
	}
	n := len(p.c.Lines)
	p.c.Lines = append(p.c.Lines, claim.Line{})
	p.rows = append(p.rows, row)
	lv := unsafe.Pointer(&p.c.Lines[n])
	// The cells of a record share one string: a later row's line cells
	// are copied out together, so that the claim does not hold the whole
	// row (mostly a repeat of the first) for a few short values.
	var cells string
	if n > 0 {
		cells = b.lineCells(rec)
	}
	for _, i := range b.lineCols {
		v := strings.TrimSpace(rec[i])
		if n > 0 {
			v, cells = cells[:len(v)], cells[len(v):]
		}
		if v == "" {
			// A blank charge would otherwise be $0, which is valid.
			if b.cols[i].required {
				p.issues = append(p.issues, issue{line: n, field: b.cols[i].path, reason: "is required"})
			}
			continue
		}
		if reason := b.cols[i].set(lv, v, b.d.ShowValues); reason != "" {
			p.issues = append(p.issues, issue{line: n, field: b.cols[i].path, reason: reason})
		}
	}
	return nil
}

// lineCells returns the trimmed line cells of rec, in b.lineCols order,
// in one new string.
func (b *csvBatch) lineCells(rec []string) string {
	total := 0
	for _, i := range b.lineCols {
		total += len(strings.TrimSpace(rec[i]))
	}
	buf := make([]byte, 0, total)
	for _, i := range b.lineCols {
		buf = append(buf, strings.TrimSpace(rec[i])...)
	}
	return unsafe.String(unsafe.SliceData(buf), len(buf))
}

// sameClaim compares a later row's claim-level cells with the claim's
// first row. It reports a row once, whatever the number of differences,
// and says when so many differ that the id looks reused.
func (b *csvBatch) sameClaim(p *pendingClaim, rec []string, row int) (issue, bool) {
	var diff []int // indices into b.claimCols
	for k, i := range b.claimCols {
		// p.first holds trimmed cells: an exact match needs no trimming.
		if rec[i] != p.first[k] && strings.TrimSpace(rec[i]) != p.first[k] {
			diff = append(diff, k)
		}
	}
	switch {
	case len(diff) == 0:
		return issue{}, true
	case len(diff) == 1:
		k := diff[0]
		col := b.cols[b.claimCols[k]]
		phi := !b.d.ShowValues && isPHIField(col.path)
		return issue{line: -1, field: col.path, row: row, reason: fmt.Sprintf(
			"is %s here but %s on row %d: claim-level columns must be the same on every row of a claim",
			showValue(strings.TrimSpace(rec[b.claimCols[k]]), phi), showValue(p.first[k], phi), p.firstRow)}, false
	}
	names := make([]string, 0, 6)
	for _, k := range diff[:min(len(diff), 5)] {
		names = append(names, b.cols[b.claimCols[k]].name)
	}
	if len(diff) > 5 {
		names = append(names, "...")
	}
	reason := fmt.Sprintf("%d claim-level columns (%s) differ from row %d: claim-level columns must be the same on every row of a claim",
		len(diff), strings.Join(names, ", "), p.firstRow)
	if len(diff) > 3 {
		reason += "; is the claim id used for two claims?"
	}
	return issue{line: -1, row: row, reason: reason}, false
}

// orphan reports a row that names no claim. The claim being read is held
// back too: a PM export that leaves the claim columns empty on a claim's
// later rows would otherwise send every such claim out short of lines.
// field is "id" or "" (the whole row).
func (b *csvBatch) orphan(row int, field, reason string) {
	if b.cur != nil {
		b.cur.issues = append(b.cur.issues, issue{line: -1, field: field, row: row, reason: reason +
			"; the row follows this claim's rows, so the claim is refused as it may be incomplete"})
		b.cur.skip = true
		return
	}
	if field == "id" {
		field = "claim_id"
	}
	b.d.report(b.sum, &RowError{Batch: b.batch, Row: row, Index: -1, Field: field, Reason: reason})
}

// badRecord handles a row with the wrong number of fields. Its cells
// are misaligned, so it is attributed to the current claim if that
// claim's id is in any cell around the claim_id column (as far as the
// row is shifted), else to the id in its claim_id cell; that claim is
// refused as a whole.
func (b *csvBatch) badRecord(rec []string, row int) error {
	blank := true
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			blank = false
			break
		}
	}
	if blank { // a short row of empty cells, as some tools end a file
		return nil
	}
	reason := fmt.Sprintf("the row has %d fields but the header has %d", len(rec), len(b.cols))
	if b.openQuote > 0 {
		// Likely the rest of a field that ran across lines: its claim_id
		// cell is text (a note, a name), never to be taken for an id.
		reason += fmt.Sprintf(" and may be the rest of row %d, whose quote was left open; the row is skipped", b.openQuote)
		if b.cur != nil && b.openID != "" && b.cur.id == b.openID {
			b.cur.issues = append(b.cur.issues, issue{line: -1, row: row, reason: reason})
			return nil
		}
		b.orphan(row, "", reason)
		return nil
	}
	id := ""
	if b.cur != nil {
		shift := len(rec) - len(b.cols)
		if shift < 0 {
			shift = -shift
		}
		for i := max(b.idCol-shift, 0); i <= b.idCol+shift && i < len(rec); i++ {
			if strings.TrimSpace(rec[i]) == b.cur.id {
				id = b.cur.id
			}
		}
	}
	if id == "" && b.idCol < len(rec) {
		id = strings.TrimSpace(rec[b.idCol])
	}
	if id == "" {
		b.orphan(row, "", reason)
		b.suspect = row
		return nil
	}
	if err := b.start(id, row); err != nil {
		return err
	}
	b.cur.issues = append(b.cur.issues, issue{line: -1, row: row, reason: reason})
	b.cur.skip = true
	return nil
}

// unreadable handles a row that cannot be read whole: fields before q
// are sound, field q and the rest are not. When the claim id is among the
// sound fields, that claim is refused with the row's reason (the claim
// before it goes out if it is another); otherwise the row names no claim
// and orphan holds back the claim it follows. Either way the row is
// reported by its number: no claim vanishes unreported, and reading goes
// on at the next line.
func (b *csvBatch) unreadable(rec []string, q, row int, reason string) error {
	id := ""
	if b.idCol < q && b.idCol < len(rec) {
		id = strings.TrimSpace(rec[b.idCol])
	}
	if id == "" {
		b.orphan(row, "", reason)
		b.suspect = row
		return nil
	}
	if err := b.start(id, row); err != nil {
		return err
	}
	b.cur.issues = append(b.cur.issues, issue{line: -1, row: row, reason: reason})
	b.cur.skip = true
	return nil
}

// finish checks and emits (or rejects) the current claim.
func (b *csvBatch) finish() error {
	p := b.cur
	b.cur = nil
	if p == nil {
		return nil
	}
	if p.c != nil && !p.skip {
		c := p.c
		// Defaults for columns a PM export may leave out.
		if c.Frequency == "" {
			c.Frequency = claim.FrequencyOriginal
		}
		if c.Billing.Entity == "" {
			c.Billing.Entity = claim.Organization
		}
		if c.Rendering != nil && c.Rendering.Entity == "" {
			c.Rendering.Entity = claim.Person
		}
		if c.Referring != nil && c.Referring.Entity == "" {
			c.Referring.Entity = claim.Person
		}
		// A cell that did not parse has been reported already; its
		// "required" from check would only repeat it.
		parsed := p.issues
		for _, is := range check(c, b.d.ShowValues) {
			dup := false
			for _, q := range parsed {
				if q.line == is.line && q.field == is.field {
					dup = true
					break
				}
			}
			if !dup {
				p.issues = append(p.issues, is)
			}
		}
	}
	if len(p.issues) > 0 {
		b.sum.Rejected++
		for _, is := range p.issues {
			b.d.report(b.sum, b.rowError(p, is))
		}
		return nil
	}
	b.sum.Claims++
	return b.emit(Result{Claim: p.c, Source: Source{Batch: b.batch, Index: -1, Rows: p.rows}})
}

// rowError places an issue on its row and column.
func (b *csvBatch) rowError(p *pendingClaim, is issue) *RowError {
	row := is.row
	if row == 0 {
		row = p.firstRow
		if is.line >= 0 && is.line < len(p.rows) {
			row = p.rows[is.line]
		}
	}
	field := is.field
	if field != "" {
		if col := columnsByPath[pathKey(is.line >= 0, is.field)]; col != nil {
			field = col.name
		} else {
			field = is.jsonField() // a check on a part the CSV format has no column for
		}
	}
	return &RowError{Batch: b.batch, Row: row, Index: -1, ClaimID: p.id, PayerID: payerOf(p.c, p.issues), Field: field, Reason: is.reason}
}

// fatal ends the batch at line. The claim being read is refused: its
// remaining rows may be among those that cannot be read.
func (b *csvBatch) fatal(line int, err error) error {
	if p := b.cur; p != nil {
		p.skip = true
		p.issues = append(p.issues, issue{line: -1, reason: fmt.Sprintf(
			"the batch cannot be read past line %d, so this claim may be incomplete", line)})
		_ = b.finish() // a claim with issues is reported, never emitted: no emit error
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		line, err = pe.Line, pe.Err
	}
	return &BatchError{Batch: b.batch, Line: line, Offset: -1, Index: -1, Err: err}
}

// lineReader splits the input into lines of at most limit bytes, so
// that memory stays bounded: a longer line is cut to its first limit
// bytes, the rest skipped up to its end, and next reports it with an
// *errLineTooLong.
type lineReader struct {
	r     *bufio.Reader
	limit int
	num   int // number of the line last returned, 1-based
	buf   []byte
}

// errLineTooLong is a line cut short because it is longer than the limit.
type errLineTooLong int

func (e *errLineTooLong) Error() string {
	return fmt.Sprintf("the line is longer than %d bytes (Decoder.MaxRecordBytes)", int(*e))
}

// next returns the next line with its line break (none on a last line
// without one), valid until the next call; io.EOF at the end.
func (l *lineReader) next() ([]byte, error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.r.ReadSlice('\n')
		if len(l.buf)+len(chunk) > l.limit {
			l.buf = append(l.buf, chunk[:max(l.limit-len(l.buf), 0)]...)
			for err == bufio.ErrBufferFull { // skip to the end of the line
				_, err = l.r.ReadSlice('\n')
			}
			if err != nil && err != io.EOF {
				return nil, err
			}
			l.num++
			e := errLineTooLong(l.limit)
			return l.buf, &e
		}
		l.buf = append(l.buf, chunk...)
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(l.buf) > 0:
			l.num++
			return l.buf, nil
		case err != nil:
			return nil, err
		}
		l.num++
		return l.buf, nil
	}
}

// lineFeed hands encoding/csv one line, then reports the end of input
// until it is given the next.
type lineFeed struct{ line []byte }

func (f *lineFeed) Read(p []byte) (int, error) {
	if len(f.line) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.line)
	f.line = f.line[n:]
	return n, nil
}
