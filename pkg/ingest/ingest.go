// Package ingest decodes the charge batches that practice-management (PM)
// systems hand in, as JSON or CSV, into claim.Claim values.
//
// Decoding streams: one claim is in memory at a time (plus, per batch, the
// set of claim ids seen, to refuse duplicates: ~21 bytes an id), so a batch of 100,000
// claims decodes in a few MiB of heap. Values are checked field by field
// while decoding (formats, required fields, X12-safe text); payer rules
// (8-minute rule, NCCI pairs, NPI check digits, future dates...) belong to
// the scrubber that runs afterwards.
//
// One bad claim never sinks a batch: it is reported as one or more
// RowErrors in the Summary and the other claims go on; so does a CSV row
// that cannot be read (its claim is rejected). Only input that cannot be
// read as a batch past some point (not JSON, a JSON syntax error, a bad
// CSV header, an I/O error) ends the call with a *BatchError; claims
// emitted before that point stand, and Summary.Unread counts those that
// were not read.
//
// Errors carry no patient data: the values of fields that may hold it
// (names, member ids, birth dates, gender, addresses, notes) are withheld
// unless Decoder.ShowValues is set, and every other text from the input
// is escaped so that it cannot drive a terminal.
//
// The formats are described in docs/batch-format.md; the JSON format also
// by the JSON Schema that JSONSchema returns.
package ingest

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/pkg/claim"
)

//go:embed schema/batch.schema.json
var jsonSchema []byte

// JSONSchema returns the JSON Schema (draft 2020-12) of the JSON batch
// format. The caller must not modify the returned slice.
func JSONSchema() []byte { return jsonSchema }

// Source tells where in its batch a claim came from, so that a later
// rejection (by the scrubber, the payer) can be traced back to the PM
// system's rows.
type Source struct {
	// Batch is the batch name the caller passed to the decoder.
	Batch string
	// Index is the claim's position in the JSON claims array (0-based);
	// -1 for CSV.
	Index int
	// Rows are the CSV line numbers (1-based, the header is line 1) of
	// the claim's rows: Rows[i] holds Claim.Lines[i]. Nil for JSON.
	Rows []int
}

// Result is one decoded claim that passed the field checks.
type Result struct {
	Claim  *claim.Claim
	Source Source
}

// RowError is one problem with one claim (or, with ClaimID empty and
// Index -1 and Row 0, with the batch envelope). A claim with any
// RowError is not emitted.
type RowError struct {
	Batch string
	// Row is the CSV line (1-based, the header is line 1); 0 for JSON.
	Row int
	// Index is the JSON claims array index (0-based); -1 for CSV and
	// for batch-level problems.
	Index int
	// ClaimID is the claim's id as given, "" when unknown.
	ClaimID string
	// PayerID is the claim's payer id when the claim was read far
	// enough to have a valid one (so its events can be routed by
	// payer), else "".
	PayerID string
	// Field is the CSV column name, or the JSON path within the claim
	// ("lines[2].service_date"); "" when the problem is the whole row
	// or claim.
	Field  string
	Reason string
}

// Error formats e as, for example,
//
//	batch B1 row 7 claim C1 field service_date: date "2024-02-30" is not a valid YYYY-MM-DD date
//	batch B1 claims[3] claim C9 field lines[0].units: must be a positive whole number, got 0
func (e *RowError) Error() string {
	var b strings.Builder
	b.WriteString("batch ")
	b.WriteString(e.Batch)
	switch {
	case e.Row > 0:
		b.WriteString(" row ")
		b.WriteString(strconv.Itoa(e.Row))
	case e.Index >= 0:
		b.WriteString(" claims[")
		b.WriteString(strconv.Itoa(e.Index))
		b.WriteString("]")
	}
	if e.ClaimID != "" {
		b.WriteString(" claim ")
		b.WriteString(e.ClaimID)
	}
	if e.Field != "" {
		b.WriteString(" field ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// BatchError is returned when the input cannot be read as a batch (from
// its start, or from some point on). Claims emitted before it stand;
// Summary counts them.
type BatchError struct {
	Batch string
	// Line and Column locate the problem, 1-based, when known (0 when
	// not).
	Line, Column int
	// Offset is the 0-based byte offset of the problem in a JSON batch,
	// -1 when unknown.
	Offset int64
	// Index is the JSON claims index being read, -1 when none.
	Index int
	Err   error
}

// Error formats e as, for example,
//
//	batch B1 line 108 column 3 (byte 4908) in claims[2]: unexpected end of input: the batch is truncated
func (e *BatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "batch %s", e.Batch)
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, " column %d", e.Column)
		}
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " (byte %d)", e.Offset)
	}
	if e.Index >= 0 {
		fmt.Fprintf(&b, " in claims[%d]", e.Index)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	// Batch names and error texts may carry input: escaped for terminals.
	return x12.Printable(b.String())
}

// Unwrap returns the underlying error.
func (e *BatchError) Unwrap() error { return e.Err }

// Submitter is the party that sent a JSON batch (typically the billing
// company), as given in the batch envelope.
type Submitter struct {
	Name    string        `json:"name"`
	ID      string        `json:"id"`
	Contact claim.Contact `json:"contact,omitempty"`
}

// Header is the JSON batch envelope apart from its claims.
type Header struct {
	BatchID   string    `json:"batch_id"`
	Submitter Submitter `json:"submitter"`
}

// Summary is the outcome of decoding one batch.
type Summary struct {
	// Header is the JSON batch envelope; zero for CSV.
	Header Header
	// Claims is the number of claims emitted, Rejected the number of
	// claims refused.
	Claims, Rejected int
	// Errors are the problems found, in input order, at most
	// Decoder.MaxErrors of them; ErrorsDropped counts the rest.
	Errors        []*RowError
	ErrorsDropped int
	// Unread counts the claims that were neither emitted nor rejected
	// because the input could not be read past some point (a JSON syntax
	// error, truncated input, a claim larger than MaxRecordBytes): the
	// claim being read there and those after it, counted by a tolerant
	// scan of the rest of the input (an estimate when the syntax error
	// unbalances brackets). The *BatchError says where reading stopped.
	// Claims read = Claims + Rejected + Unread. A CSV batch resumes after
	// a broken row (its claim is rejected), so only an I/O error leaves
	// CSV claims unread, uncounted.
	Unread int
}

// Default limits of a zero Decoder.
const (
	DefaultMaxErrors      = 1000
	DefaultMaxRecordBytes = 1 << 20
)

// MaxLines is the most service lines an 837P claim may carry (loop 2400
// repeats at most 50 times).
const MaxLines = 50

// Decoder holds decoding options. The zero Decoder is ready to use; the
// package-level DecodeJSON and DecodeCSV use one.
type Decoder struct {
	// MaxErrors caps the RowErrors kept in Summary.Errors, so that a
	// batch of garbage cannot fill memory. 0 means DefaultMaxErrors; a
	// negative value keeps all.
	MaxErrors int
	// OnError, if set, is called with each RowError as soon as it is
	// found (for a reject report written while decoding), including
	// those beyond MaxErrors.
	OnError func(*RowError)
	// MaxRecordBytes caps the size of one JSON claim object or one CSV
	// line; a larger one ends the batch with a *BatchError. 0 means
	// DefaultMaxRecordBytes.
	MaxRecordBytes int
	// ShowValues puts the values of fields that may hold patient data
	// (names, member ids, birth dates, addresses, notes) into errors,
	// which otherwise withhold them. Only for a person at their own
	// terminal (claimgate convert --show-values), never for logs.
	ShowValues bool
}

func (d *Decoder) maxRecord() int64 {
	if d.MaxRecordBytes > 0 {
		return int64(d.MaxRecordBytes)
	}
	return DefaultMaxRecordBytes
}

// report records e in s according to d's options.
func (d *Decoder) report(s *Summary, e *RowError) {
	// Errors end up in logs and terminals: PHI values were withheld
	// where the reason was written (phiArgs); escape the rest.
	safeError(e)
	if d.OnError != nil {
		d.OnError(e)
	}
	max := d.MaxErrors
	if max == 0 {
		max = DefaultMaxErrors
	}
	if max > 0 && len(s.Errors) >= max {
		s.ErrorsDropped++
		return
	}
	s.Errors = append(s.Errors, e)
}
