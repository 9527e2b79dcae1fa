package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/claimgate/claimgate/pkg/claim"
)

// DecodeJSON decodes a JSON batch with a zero Decoder; see
// Decoder.DecodeJSON.
func DecodeJSON(r io.Reader, batch string, emit func(Result) error) (Summary, error) {
	var d Decoder
	return d.DecodeJSON(r, batch, emit)
}

// DecodeJSON reads a JSON batch from r and calls emit with each claim that
// passes the field checks, in batch order, as soon as it is read. batch
// names the batch in errors and Sources (a file name, an upload id); the
// batch's own batch_id is in the returned Summary's Header.
//
// The claims array is read one claim at a time: memory use does not grow
// with the number of claims beyond the set of claim ids seen. The other
// keys of the envelope may come before or after the claims.
//
// A claim that fails a check is not emitted; its problems are recorded in
// Summary.Errors and the batch goes on. A syntax error, truncated input or
// an I/O error ends the batch with a *BatchError carrying the position;
// the claims before it have been emitted. If emit returns an error,
// decoding stops and DecodeJSON returns that error unchanged.
func (d *Decoder) DecodeJSON(r io.Reader, batch string, emit func(Result) error) (Summary, error) {
	var sum Summary
	pr := &posReader{r: r, limit: d.maxRecord()}
	dec := json.NewDecoder(pr)
	dec.DisallowUnknownFields() // applies to the envelope; claims are checked by checkKeys
	pr.dec = dec
	j := &jsonBatch{d: d, sum: &sum, batch: batch, pr: pr, dec: dec, emit: emit, seen: newIDSet()}
	err := j.run()
	return sum, err
}

type jsonBatch struct {
	d     *Decoder
	sum   *Summary
	batch string
	pr    *posReader
	dec   *json.Decoder
	emit  func(Result) error
	seen  *idSet // claim ids → claims index of each one's first use
	raw   json.RawMessage
	index int // claims index being read, -1 outside the claims array
}

func (j *jsonBatch) run() error {
	j.index = -1
	tok, err := j.dec.Token()
	if err != nil {
		if err == io.EOF {
			err = errors.New("the input is empty")
		}
		return j.fatal(err)
	}
	if tok != json.Delim('{') {
		return j.fatal(fmt.Errorf("a batch must be a JSON object, found %s", tokenKind(tok)))
	}
	got := map[string]bool{}
	for j.dec.More() {
		tok, err := j.dec.Token()
		if err != nil {
			return j.fatal(err)
		}
		key := tok.(string) // inside an object the decoder only yields string keys here
		if got[key] {
			j.batchError(key, "is given twice; the second is ignored")
			if err := skipValue(j.dec); err != nil {
				return j.fatal(err)
			}
			continue
		}
		got[key] = true
		switch key {
		case "$schema":
			var s string
			if err := j.header(key, &s); err != nil {
				return err
			}
		case "batch_id":
			if err := j.header(key, &j.sum.Header.BatchID); err != nil {
				return err
			}
		case "submitter":
			if err := j.header(key, &j.sum.Header.Submitter); err != nil {
				return err
			}
		case "claims":
			if err := j.claims(); err != nil {
				return err
			}
		default:
			j.batchError(key, "is not a batch field (batch_id, submitter, claims)")
			if err := skipValue(j.dec); err != nil {
				return j.fatal(err)
			}
		}
	}
	if _, err := j.dec.Token(); err != nil { // the closing brace
		return j.fatal(err)
	}
	if _, err := j.dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("unexpected data after the batch object")
		}
		return j.fatal(err)
	}
	if !got["claims"] {
		return j.fatal(errors.New(`the batch has no "claims" array`))
	}
	j.checkHeader(got)
	return nil
}

// header decodes one envelope value. A value of the wrong type is a
// batch-level RowError, not a reason to drop the claims.
func (j *jsonBatch) header(key string, v any) error {
	err := j.dec.Decode(v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		field := key
		if te.Field != "" {
			field = key + "." + te.Field
		}
		j.batchError(field, fmt.Sprintf("must be %s, got %s", jsonKind(te.Type), te.Value))
		return nil
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		j.batchError(key, err.Error()[len("json: "):])
		return nil
	}
	return j.fatal(err)
}

func (j *jsonBatch) checkHeader(got map[string]bool) {
	h := &j.sum.Header
	k := &checker{line: -1}
	k.ascii(&h.BatchID, "", "batch_id", 80, true)
	if got["submitter"] {
		s := &h.Submitter
		k.text(&s.Name, "submitter.", "name", 60, true)
		k.ascii(&s.ID, "submitter.", "id", 80, true)
		k.text(&s.Contact.Name, "submitter.contact.", "name", 60, false)
		k.ascii(&s.Contact.Phone, "submitter.contact.", "phone", 256, false)
		k.ascii(&s.Contact.Email, "submitter.contact.", "email", 256, false)
	} else {
		k.add("", "submitter", "is required")
	}
	for _, is := range k.issues {
		j.batchError(is.field, is.reason)
	}
}

func (j *jsonBatch) batchError(field, reason string) {
	j.d.report(j.sum, &RowError{Batch: j.batch, Index: -1, Field: field, Reason: reason})
}

func (j *jsonBatch) claims() error {
	tok, err := j.dec.Token()
	if err != nil {
		return j.fatal(err)
	}
	if tok != json.Delim('[') {
		return j.fatal(fmt.Errorf(`"claims" must be an array, found %s`, tokenKind(tok)))
	}
	for j.index = 0; j.dec.More(); j.index++ {
		if err := j.dec.Decode(&j.raw); err != nil {
			return j.fatal(err)
		}
		if err := j.claim(); err != nil {
			return err
		}
	}
	j.index = -1
	if _, err := j.dec.Token(); err != nil { // the closing bracket
		return j.fatal(err)
	}
	return nil
}

// claim decodes, checks and emits the claim in j.raw.
func (j *jsonBatch) claim() error {
	c := new(claim.Claim)
	issues := checkKeys(j.raw)
	decoded := true
	if j.raw[0] != '{' { // null would decode into an empty claim, with a dozen "is required"
		// The kind only: a bare string here may be a patient's name.
		issues = append(issues, issue{line: -1, reason: "a claim must be a JSON object, got " + rawKind(j.raw)})
		decoded = false
	} else if err := json.Unmarshal(j.raw, c); err != nil {
		decoded = false
		more, id := diagnose(j.raw, j.d.ShowValues)
		if len(more) == 0 {
			more = []issue{unmarshalIssue(err, j.d.ShowValues)}
		}
		issues = append(issues, more...)
		c.ID = id
	}
	if decoded && len(issues) == 0 {
		issues = check(c, j.d.ShowValues)
	}
	id := strings.TrimSpace(c.ID)
	if id != "" {
		if first, dup := j.seen.add(id, j.index); dup {
			by := "claims[" + strconv.Itoa(first) + "]"
			if first == unknownPos {
				by = "an earlier claim"
			}
			issues = append(issues, issue{line: -1, field: "id", reason: fmt.Sprintf("claim id %q is already used by %s; claim ids must be unique in a batch", id, by)})
		}
	}
	if len(issues) > 0 {
		j.sum.Rejected++
		payer := ""
		if decoded {
			payer = payerOf(c, issues)
		} else if j.raw[0] == '{' {
			// The claim did not decode (a bad value elsewhere): its
			// payer may still be readable on its own.
			var only struct {
				Payer struct {
					ID string `json:"id"`
				} `json:"payer"`
			}
			if json.Unmarshal(j.raw, &only) == nil {
				payer = payerOf(&claim.Claim{Payer: claim.Payer{ID: only.Payer.ID}}, issues)
			}
		}
		for _, is := range issues {
			j.d.report(j.sum, &RowError{Batch: j.batch, Index: j.index, ClaimID: id, PayerID: payer, Field: is.jsonField(), Reason: is.reason})
		}
		return nil
	}
	j.sum.Claims++
	return j.emit(Result{Claim: c, Source: Source{Batch: j.batch, Index: j.index}})
}

func (j *jsonBatch) fatal(err error) error {
	off := j.dec.InputOffset()
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		off = j.syntaxOffset()
		err = errors.New(jsonSyntax(se.Error(), j.d.ShowValues))
	case errors.Is(err, io.ErrUnexpectedEOF):
		off = j.pr.n
		err = fmt.Errorf("unexpected end of input: the batch is truncated (%w)", io.ErrUnexpectedEOF)
	}
	line, col := j.pr.lineCol(off)
	var tl errTooLarge
	if j.index >= 0 && (se != nil || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &tl)) {
		// Nothing from claims[index] on can be decoded: say how many
		// claims that is, so that none vanishes without a count.
		n := j.countUnread()
		j.sum.Unread = n
		err = fmt.Errorf("%w; claims[%d] and the claims after it were not read (%d claim(s) by a tolerant count of the rest of the input)", err, j.index, n)
	}
	return &BatchError{Batch: j.batch, Line: line, Column: col, Offset: off, Index: j.index, Err: err}
}

// countUnread counts the claim objects from where the decoder stopped
// (the start of the claim it could not read) to the end of the claims
// array, scanning the rest of the input for brackets outside strings, in
// constant memory. A syntax error may unbalance quotes or brackets, so
// the scan also resynchronises on what exports look like: a string never
// spans a line break, and a claim that opens a line at the indentation of
// the broken claim's opening brace starts a claim. It is an estimate.
func (j *jsonBatch) countUnread() int {
	claimIndent := -1 // indentation of a claim's opening brace, -1 unknown
	if _, col := j.pr.lineCol(j.dec.InputOffset()); col > 0 {
		claimIndent = col - 1
	}
	br := bufio.NewReaderSize(io.MultiReader(j.dec.Buffered(), j.pr.r), 32<<10)
	depth, n := 0, 0
	inStr, esc := false, false
	lineStart, indent := false, 0
	for {
		c, err := br.ReadByte()
		if err != nil {
			return n
		}
		if c == '\n' {
			inStr, esc, lineStart, indent = false, false, true, 0
			continue
		}
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		first := lineStart && c != ' ' && c != '\t' && c != '\r'
		if lineStart && !first {
			indent++
			continue
		}
		lineStart = false
		if first && claimIndent >= 0 && indent == claimIndent && c == '{' {
			n++ // a claim opens here, whatever the brackets before said
			depth = 1
			continue
		}
		if first && claimIndent >= 0 && indent < claimIndent && c == ']' {
			return n // the claims array closes
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			if depth == 0 && c == '{' {
				n++
			}
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return n
			}
		}
	}
}

// syntaxOffset locates a syntax error. json.Decoder's SyntaxError.Offset
// counts only the bytes it scanned as values, not the delimiters that
// Token consumed, so the failed value is scanned again from where the
// decoder stopped (it does not advance past a value it could not read).
func (j *jsonBatch) syntaxOffset() int64 {
	start := j.dec.InputOffset()
	b := j.pr.since(start)
	if b == nil {
		return -1
	}
	var raw json.RawMessage
	var se *json.SyntaxError
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&raw); errors.As(err, &se) {
		return start + se.Offset - 1 // Offset counts the bad byte
	}
	return start // Token stopped at the bad byte itself
}

func tokenKind(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", t)
}

// skipValue reads past the next value token by token, so that even a
// huge unwanted value is not held in memory.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// errTooLarge ends a batch whose single claim outgrows MaxRecordBytes:
// json.Decoder buffers a whole value, so this is what bounds its memory.
type errTooLarge int64

func (e errTooLarge) Error() string {
	return fmt.Sprintf("a value is larger than %d bytes (Decoder.MaxRecordBytes)", int64(e))
}

const tailSize = 64 << 10

// posReader counts lines and keeps the last tailSize bytes read, so that
// a syntax error's byte offset can be turned into a line and column
// without keeping the input. It also caps what json.Decoder buffers.
type posReader struct {
	r     io.Reader
	n     int64 // bytes read
	lines int   // newlines among them
	ring  [tailSize]byte
	dec   *json.Decoder
	limit int64
}

func (p *posReader) Read(b []byte) (int, error) {
	// json.Decoder reads only once it has scanned all it holds without
	// finishing the value, and slides consumed bytes out first: what it
	// holds then (the read total minus its input offset) is the value so
	// far. Reads are cut short so that one cannot bring in more than the
	// limit unseen.
	if p.dec != nil && p.limit > 0 {
		held := p.n - p.dec.InputOffset()
		if held > p.limit {
			return 0, errTooLarge(p.limit)
		}
		if room := p.limit + 1 - held; int64(len(b)) > room {
			b = b[:room]
		}
	}
	n, err := p.r.Read(b)
	if n > 0 {
		d := b[:n]
		p.lines += bytes.Count(d, []byte{'\n'})
		if len(d) > tailSize {
			d = d[len(d)-tailSize:]
		}
		at := int((p.n + int64(n-len(d))) % tailSize)
		c := copy(p.ring[at:], d)
		copy(p.ring[:], d[c:])
		p.n += int64(n)
	}
	return n, err
}

// since returns a copy of the bytes read from offset off on, or nil when
// they are no longer all kept.
func (p *posReader) since(off int64) []byte {
	if off < max(p.n-tailSize, 0) || off > p.n {
		return nil
	}
	b := make([]byte, 0, p.n-off)
	for i := off; i < p.n; i++ {
		b = append(b, p.ring[i%tailSize])
	}
	return b
}

// lineCol returns the 1-based line and column of byte offset off, or
// zeros when off is no longer in the kept tail.
func (p *posReader) lineCol(off int64) (line, col int) {
	start := max(p.n-tailSize, 0)
	if off < start || off > p.n {
		return 0, 0
	}
	after := 0
	for i := off; i < p.n; i++ {
		if p.ring[i%tailSize] == '\n' {
			after++
		}
	}
	line = p.lines - after + 1
	for i := off - 1; i >= start; i-- {
		if p.ring[i%tailSize] == '\n' {
			return line, int(off - i)
		}
	}
	if start == 0 {
		return line, int(off) + 1
	}
	return line, 0
}

// rawKind names the kind of a raw JSON value by its first byte.
func rawKind(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// unmarshalIssue turns an error of json.Unmarshal that diagnose could not
// place into an issue. A type error names the field and the kinds only:
// its Value may hold the number or text that was given.
func unmarshalIssue(err error, show bool) issue {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && !show {
		got, _, _ := strings.Cut(te.Value, " ")
		switch got {
		case "array", "object":
			got = "an " + got
		default:
			got = "a " + got
		}
		return issue{line: -1, field: te.Field, reason: "must be " + jsonKind(te.Type) + ", got " + got}
	}
	return issue{line: -1, reason: err.Error()}
}
