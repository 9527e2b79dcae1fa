package x835

import (
	"io"
	"strings"

	"github.com/claimgate/claimgate/edi/internal/jsonw"
)

// JSONWriter writes the claims a Reader returns, as it returns them, as
// remittance objects (the shape of Remittance.MarshalJSON) separated by
// commas: the inside of a JSON array, one claim per line. Memory stays
// that of one claim however large the input, so it suits
// Reader.ReuseClaims.
//
// The reversal links are worked out as the reader does (a claim follows
// the reversal, CLP02 22, it corrects, with the same CLP01, preferably
// the same CLP07): every correction gets its "reversal_index"; a reversal
// gets its "correction_index" when the correction comes right after it,
// as it does in practice — else it was written before its correction was
// known.
//
//	jw := x835.NewJSONWriter(w)
//	rd.EndRemittance = func(rem *x835.Remittance) { jw.EndRemittance(rem) }
//	for c, err := rd.Next(); err == nil; c, err = rd.Next() {
//		jw.WriteClaim(c)
//	}
//	err := jw.Close()
type JSONWriter struct {
	w    io.Writer
	buf  []byte
	err  error
	open *Remittance // the remittance whose object is open
	nRem int
	// nClaims counts the claims written in the open remittance.
	nClaims int
	// held says the last claim written is a reversal whose object is
	// still open, for its correction_index.
	held      bool
	heldIndex int
	pending   map[string][]pendingReversal
	npending  int
}

type pendingReversal struct {
	index int
	payer string // CLP07
}

// NewJSONWriter returns a JSONWriter writing to w.
func NewJSONWriter(w io.Writer) *JSONWriter {
	return &JSONWriter{w: w, buf: make([]byte, 0, jsonFlushSize+16<<10), pending: map[string][]pendingReversal{}}
}

// WriteClaim writes c, opening its remittance's object first when c is
// the first claim of it.
func (j *JSONWriter) WriteClaim(c *ClaimPayment) error {
	if j.err != nil {
		return j.err
	}
	if j.open == nil || c.Remittance != j.open {
		if j.open != nil {
			// a set ended without EndRemittance (cut short)
			j.closeRemittance(j.open, false)
		}
		j.begin(c.Remittance)
	}
	rev, linked := -1, false
	if c.Status != "22" && j.npending > 0 {
		rev, linked = j.link(c)
	}
	j.release(linked, c.Index)
	if j.nClaims > 0 {
		j.buf = append(j.buf, ',')
	}
	j.nClaims++
	j.buf = append(j.buf, '\n')
	j.buf = c.AppendJSONOpen(j.buf)
	if linked {
		j.buf = append(j.buf, `,"reversal_index":`...)
		j.buf = jsonw.Int(j.buf, int64(rev))
	}
	if c.Status == "22" {
		j.hold(c)
	} else {
		j.buf = append(j.buf, '}')
	}
	return j.flush(false)
}

// EndRemittance closes the remittance's object, adding its provider
// adjustments; a remittance without claims is written whole.
func (j *JSONWriter) EndRemittance(rem *Remittance) error {
	if j.err != nil {
		return j.err
	}
	if j.open != rem {
		if j.open != nil {
			j.closeRemittance(j.open, false)
		}
		j.begin(rem)
	}
	j.closeRemittance(rem, true)
	return j.flush(false)
}

// Close closes an open remittance (one whose set was cut short) and
// writes what is buffered.
func (j *JSONWriter) Close() error {
	if j.err != nil {
		return j.err
	}
	if j.open != nil {
		j.closeRemittance(j.open, false)
	}
	return j.flush(true)
}

func (j *JSONWriter) begin(rem *Remittance) {
	if j.nRem > 0 {
		j.buf = append(j.buf, ',')
	}
	j.nRem++
	j.buf = append(j.buf, '\n')
	if rem == nil {
		rem = &Remittance{}
	}
	j.buf = rem.AppendJSONHeader(j.buf)
	j.buf = append(j.buf, `,"claims":[`...)
	j.open, j.nClaims = rem, 0
	clear(j.pending)
	j.npending = 0
}

// closeRemittance ends the claims array and the object; the provider
// adjustments are known only when the set ended (withTrailer).
func (j *JSONWriter) closeRemittance(rem *Remittance, withTrailer bool) {
	j.release(false, 0)
	j.buf = append(j.buf, ']')
	if withTrailer {
		j.buf = rem.AppendJSONTrailer(j.buf)
	} else {
		j.buf = append(j.buf, '}')
	}
	j.open = nil
}

// hold leaves reversal c's object open and waits for its correction.
func (j *JSONWriter) hold(c *ClaimPayment) {
	j.held, j.heldIndex = true, c.Index
	if j.npending >= maxPendingReversals {
		clear(j.pending)
		j.npending = 0
	}
	// the claim's strings may be views of input about to be reused
	pcn := strings.Clone(c.PatientControlNumber)
	j.pending[pcn] = append(j.pending[pcn], pendingReversal{index: c.Index, payer: strings.Clone(c.PayerClaimControlNumber)})
	j.npending++
}

// release closes the held reversal's object, with the index of its
// correction when the claim being written is it.
func (j *JSONWriter) release(corrected bool, correction int) {
	if !j.held {
		return
	}
	j.held = false
	if corrected {
		j.buf = append(j.buf, `,"correction_index":`...)
		j.buf = jsonw.Int(j.buf, int64(correction))
	}
	j.buf = append(j.buf, '}')
}

// link finds the reversal c corrects, as parser.link does, and reports
// its index and whether it is the held one.
func (j *JSONWriter) link(c *ClaimPayment) (int, bool) {
	revs := j.pending[c.PatientControlNumber]
	if len(revs) == 0 {
		return -1, false
	}
	k := 0 // prefer the same payer claim number, else the oldest
	for i, r := range revs {
		if r.payer == c.PayerClaimControlNumber {
			k = i
			break
		}
	}
	idx := revs[k].index
	revs = append(revs[:k], revs[k+1:]...)
	j.npending--
	if len(revs) == 0 {
		delete(j.pending, c.PatientControlNumber)
	} else {
		j.pending[c.PatientControlNumber] = revs
	}
	if j.held && idx == j.heldIndex {
		return idx, true
	}
	// linked to an earlier reversal, already written: the correction
	// still names it
	j.release(false, 0)
	return idx, true
}

// jsonFlushSize is how much JSON is written at a time: writes larger
// than a 64 KiB bufio.Writer's buffer (parse's standard output) leave it
// empty, so they go through without being copied into it, and one write
// a quarter mebibyte is few system calls for a pipe.
const jsonFlushSize = 256 << 10

func (j *JSONWriter) flush(all bool) error {
	if len(j.buf) == 0 || (!all && len(j.buf) < jsonFlushSize) {
		return nil
	}
	// An open reversal goes out too: the rest of it is only appended.
	if _, err := j.w.Write(j.buf); err != nil {
		j.err = err
		return err
	}
	j.buf = j.buf[:0]
	return nil
}
