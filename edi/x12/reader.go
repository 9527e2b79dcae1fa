package x12

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxSegment is the longest segment a Reader accepts unless told
// otherwise. Real segments are a few hundred bytes; the limit keeps a file
// with no terminator from being read into memory whole.
const DefaultMaxSegment = 1 << 20

// readBufSize is the size of the Reader's buffer.
const readBufSize = 64 << 10

const isaLen = 106 // ISA length including its terminator

// isaSeps are the offsets of the 16 element separators of a well-formed ISA.
var isaSeps = [16]int{3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103}

// A Reader reads segments one at a time from an X12 stream. It takes the
// delimiters from each ISA, so one input may hold several interchanges with
// different delimiters. It accepts CR/LF or LF after terminators, a newline
// as the terminator, a UTF-8 byte order mark and trailing white space.
//
// Next returns a *Finding as its error for problems in the data; the
// Reader has then recovered and the caller may go on calling Next. Some
// findings (an ISA of the wrong length, an unterminated last segment)
// describe a segment that is still usable: the next call returns it.
// Any other error (from the underlying reader) is final.
type Reader struct {
	// Name is used as the file name in findings.
	Name string
	// MaxSegment is the longest segment accepted, in bytes; longer ones
	// are skipped with a finding. Zero means DefaultMaxSegment. Like the
	// other options, set it before the first Next.
	MaxSegment int
	// KeepBuffers makes the Reader never overwrite input it has handed
	// out: when its buffer is full it continues in a new one instead of
	// moving the unread bytes to the front. The bytes of every segment
	// returned (Raw, Element) then stay valid and unchanged for as long
	// as they are referenced, so a caller may keep them, or strings made
	// from them with StableString, without copying. It costs a buffer
	// allocation (64 KiB) per buffer of input, and a kept value keeps
	// its whole buffer alive — unless the caller calls Release when it no
	// longer needs what it was given, which lets the Reader fill the same
	// few buffers again.
	KeepBuffers bool
	// SplitElements makes the Reader locate the element separators of a
	// segment while it looks for the segment's end, in one pass, instead
	// of on the first Element call. It suits typed readers, which look at
	// most elements of most segments; a caller that needs few elements
	// reads faster without it.
	SplitElements bool

	src    io.Reader
	buf    []byte
	r, w   int   // unread data is buf[r:w]
	base   int64 // input offset of buf[0]
	srcErr error // sticky error from src (io.EOF at end)
	// With KeepBuffers: the buffers left since the last Release (their
	// segments may still be in use) and those Release freed for reuse.
	// releases is set by the first Release: until then no buffer is held
	// for reuse, so a caller that never releases lets the garbage
	// collector have them.
	left, free [][]byte
	releases   bool

	d      Delimiters
	haveD  bool
	num    int
	setPos int
	seg    Segment
	ids    idCache
	ends   []int32
	// scanEnds holds the element ends found with SplitElements.
	scanEnds [maxScanEnds + 1]int32

	pending    []Finding
	pendingSeg bool
	fatal      error
	// fast says Next may take its fast path: delimiters known, nothing
	// pending, no final error, a terminator other than newline; limit is
	// the longest segment then accepted.
	fast  bool
	limit int
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	rd := &Reader{src: r, buf: make([]byte, readBufSize), ends: make([]int32, 0, 64)}
	rd.seg.scratch = &rd.ends
	return rd
}

// Delimiters returns the delimiters of the current interchange, and false
// before the first ISA.
func (r *Reader) Delimiters() (Delimiters, bool) { return r.d, r.haveD }

// Offset is the input offset just past the last segment returned.
func (r *Reader) Offset() int64 { return r.base + int64(r.r) }

func (r *Reader) maxSeg() int {
	if r.MaxSegment > 0 {
		return r.MaxSegment
	}
	return DefaultMaxSegment
}

// fill reads more input into the buffer, moving unread data to the front
// and growing the buffer (up to the segment limit) when it is full.
func (r *Reader) fill() bool {
	if r.srcErr != nil {
		return false
	}
	if r.r > 0 && (r.w == len(r.buf) || r.r == r.w && !r.KeepBuffers) {
		old := r.buf
		if r.KeepBuffers {
			size := readBufSize
			if 2*(r.w-r.r) > size {
				size = len(r.buf)
			}
			r.buf = r.newBuffer(size)
			if r.releases {
				r.left = append(r.left, old)
			}
		}
		n := copy(r.buf, old[r.r:r.w])
		r.base += int64(r.r)
		r.r, r.w = 0, n
	}
	if r.w == len(r.buf) {
		limit := r.maxSeg() + 2
		if len(r.buf) >= limit {
			return false
		}
		nb := make([]byte, min(len(r.buf)*2, limit))
		copy(nb, r.buf[:r.w])
		r.buf = nb
	}
	for tries := 0; tries < 100; tries++ {
		n, err := r.src.Read(r.buf[r.w:])
		r.w += n
		if err != nil {
			r.srcErr = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	r.srcErr = io.ErrNoProgress
	return false
}

// newBuffer returns a buffer of size bytes for KeepBuffers: one that
// Release freed when there is one of that size, else a new one.
func (r *Reader) newBuffer(size int) []byte {
	for len(r.free) > 0 {
		b := r.free[len(r.free)-1]
		r.free[len(r.free)-1] = nil
		r.free = r.free[:len(r.free)-1]
		if len(b) == size {
			return b
		}
	}
	return make([]byte, size)
}

// maxFreeBuffers bounds the buffers Release keeps for reuse: a caller
// that releases after every few segments needs one or two.
const maxFreeBuffers = 4

// Release tells a Reader with KeepBuffers that the caller no longer uses
// the bytes of any segment returned so far (nor strings made from them
// with StableString): from now on the Reader may overwrite them with new
// input. Reading goes on where it was; only the memory of buffers it has
// already left is reused. A caller that streams — reads some segments,
// finishes with them, reads on — calls Release between the two and reads
// a file of any size in a few buffers, without allocating.
//
// Without KeepBuffers, Release does nothing: the Reader overwrites its
// buffer anyway.
func (r *Reader) Release() {
	r.releases = true
	for i, b := range r.left {
		if len(r.free) < maxFreeBuffers {
			r.free = append(r.free, b)
		}
		r.left[i] = nil
	}
	r.left = r.left[:0]
}

// peek makes at least n unread bytes available if the input has them.
func (r *Reader) peek(n int) []byte {
	for r.w-r.r < n && r.fill() {
	}
	return r.buf[r.r:r.w]
}

func (r *Reader) finding(sev Severity, rule string, off int64, num int, id string, elem int, format string, args ...any) Finding {
	return Finding{File: r.Name, Severity: sev, Rule: rule, Offset: off, Segment: num, SegmentID: id, Element: elem, Message: fmt.Sprintf(format, args...)}
}

func (r *Reader) readErr() error {
	if r.srcErr == nil || r.srcErr == io.EOF {
		return io.EOF
	}
	return r.srcErr
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// Next returns the next segment. The segment is the Reader's own and is
// overwritten by the following call (Clone keeps one). At the end of input
// it returns io.EOF.
func (r *Reader) Next() (*Segment, error) {
	// Fast path: the common segment, whole in the buffer, with a known
	// well-formed id and nothing pending. Everything else takes nextSlow.
	if r.fast && r.w-r.r > 4 {
		start := r.r
		// not white space, and not an ISA (read on the slow path, which
		// takes its delimiters from it); IK3, IK4, IK5 and IEA are fine
		c := r.buf[start]
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' && !(c == 'I' && r.buf[start+1] == 'S' && r.buf[start+2] == 'A') {
			var i, n int
			if r.SplitElements {
				// the buffer's bytes past r.w may be read, not used
				i, n = scanSegment(r.buf[start:r.w:len(r.buf)], r.d.Element, r.d.Segment, (*[maxScanEnds]int32)(r.scanEnds[:maxScanEnds]))
			} else {
				i = bytes.IndexByte(r.buf[start:r.w], r.d.Segment)
			}
			if i >= 0 && i <= r.limit {
				raw := r.buf[start : start+i]
				if e := r.ids.get(raw, r.d.Element); e != nil && e.valid {
					r.num++
					r.seg.raw = raw // delimiters were set at the ISA
					r.seg.Offset = r.base + int64(start)
					r.seg.Num = r.num
					r.seg.ends = r.seg.ends[:0]
					if r.SplitElements && n < maxScanEnds {
						r.scanEnds[n] = int32(i)
						r.seg.ends = r.scanEnds[:n+1]
					}
					r.seg.id = e.id
					// Step over a CR/LF after the terminator now, so the next
					// segment starts on the fast path too.
					r.r = r.skipNewlines(start + i + 1)
					r.seg.SetPos = r.advanceSetPos(e.pos)
					return &r.seg, nil
				}
			}
		}
	}
	return r.nextSlow()
}

// skipNewlines returns where the next segment starts when the last one
// ended at next-1: past the CR and LF that usually follow a terminator,
// so that the next segment starts on Next's fast path.
func (r *Reader) skipNewlines(next int) int {
	for next < r.w && (r.buf[next] == '\n' || r.buf[next] == '\r') {
		next++
	}
	return next
}

// advanceSetPos moves the position within the transaction set for a
// segment whose id entry says pos, and returns the segment's position.
func (r *Reader) advanceSetPos(pos int8) int {
	switch {
	case pos == 1:
		r.setPos = 1
		return 1
	case pos < 0:
		r.setPos = 0
		return 0
	case r.setPos > 0:
		r.setPos++
		p := r.setPos
		if pos == 2 { // SE closes the set
			r.setPos = 0
		}
		return p
	}
	return 0
}

// nextSlow is Next for everything but the common segment. The state the
// fast path depends on changes only here, so this is where fast is set.
func (r *Reader) nextSlow() (*Segment, error) {
	seg, err := r.nextOther()
	r.fast = r.haveD && !r.pendingSeg && len(r.pending) == 0 && r.fatal == nil && r.d.Segment != '\n'
	r.limit = r.maxSeg()
	return seg, err
}

func (r *Reader) nextOther() (*Segment, error) {
	if len(r.pending) > 0 {
		f := r.pending[0]
		r.pending = r.pending[1:]
		return nil, &f
	}
	if r.pendingSeg {
		r.pendingSeg = false
		return &r.seg, nil
	}
	if r.fatal != nil {
		return nil, r.fatal
	}
	if !r.skipSpace() {
		r.fatal = r.readErr()
		return nil, r.fatal
	}
	b := r.peek(4)
	if len(b) >= 4 && b[0] == 'I' && b[1] == 'S' && b[2] == 'A' && !isAlnum(b[3]) {
		if err := r.readISA(); err != nil {
			return nil, err
		}
		return &r.seg, nil
	}
	if !r.haveD {
		off := r.base + int64(r.r)
		r.resync()
		f := r.finding(Error, "envelope.isa-missing", off, 0, "", 0, "data before the first ISA segment: not an X12 interchange here")
		return nil, &f
	}
	if err := r.readSegment(); err != nil {
		return nil, err
	}
	return &r.seg, nil
}

// skipSpace skips white space (and a byte order mark at the very start)
// before a segment. It returns false at the end of input.
func (r *Reader) skipSpace() bool {
	for {
		if r.r == r.w && !r.fill() {
			return false
		}
		if r.base+int64(r.r) == 0 {
			if b := r.peek(3); bytes.HasPrefix(b, bom) {
				r.r += 3
				continue
			}
		}
		switch r.buf[r.r] {
		case ' ', '\t', '\r', '\n':
			r.r++
		default:
			return true
		}
	}
}

// resync discards input up to the next "ISA" so reading can go on after
// garbage or a broken ISA.
func (r *Reader) resync() {
	r.r++ // never match where we stand
	for {
		if i := bytes.Index(r.buf[r.r:r.w], []byte("ISA")); i >= 0 {
			r.r += i
			return
		}
		if r.w-r.r > 2 {
			r.r = r.w - 2
		}
		if !r.fill() {
			r.r = r.w
			return
		}
	}
}

// readISA reads an ISA segment, taking the interchange's delimiters from it.
func (r *Reader) readISA() error {
	off := r.base + int64(r.r)
	b := r.peek(isaLen + 64)
	el := b[3]
	n := 0
	standard := len(b) >= isaLen
	for i := 0; standard && i < len(isaSeps); i++ {
		standard = b[isaSeps[i]] == el
	}
	var d Delimiters
	var length int
	var short *Finding
	if standard {
		length = isaLen
		d = Delimiters{Element: el, Repetition: b[82], Component: b[104], Segment: b[105]}
	} else {
		// Not fixed width: find the 16th separator, then ISA16 and the
		// terminator after it, so a padded-wrong file can still be read.
		p := -1
		for i := 3; i < len(b); i++ {
			if b[i] == el {
				n++
				if n == 16 {
					p = i
					break
				}
			}
		}
		if p < 0 || p+2 >= len(b) {
			r.num++
			f := r.finding(Error, "envelope.isa-truncated", off, r.num, "ISA", 0, "ISA segment is truncated: found %d of 16 elements", n)
			r.resync()
			return &f
		}
		length = p + 3
		d = Delimiters{Element: el, Component: b[p+1], Segment: b[p+2]}
		if e11 := nthPart(b[:p], el, 12); len(e11) == 1 {
			d.Repetition = e11[0]
		}
		f := r.finding(Error, "envelope.isa-length", off, r.num+1, "ISA", 0, "ISA segment is %d characters long, the standard fixes it at %d: some element is not padded to its fixed width", length, isaLen)
		short = &f
	}
	if d.Repetition == 'U' || isAlnum(d.Repetition) {
		d.Repetition = 0 // 4010 style: ISA11 is a standards id, not a separator
	}
	if err := d.Validate(); err != nil {
		r.num++
		f := r.finding(Error, "envelope.delimiters", off, r.num, "ISA", 0, "ISA declares unusable delimiters: %v", err)
		r.resync()
		return &f
	}
	r.d, r.haveD = d, true
	r.num++
	r.setPos = 0
	r.seg.raw = r.buf[r.r : r.r+length-1]
	r.seg.delim = d
	r.seg.Offset = off
	r.seg.Num = r.num
	r.seg.SetPos = 0
	r.seg.ends = r.seg.ends[:0]
	r.seg.id = "ISA"
	r.r = r.skipNewlines(r.r + length)
	if short != nil {
		return r.queue(short)
	}
	return nil
}

// queue returns f now and the current segment on the next call.
func (r *Reader) queue(f *Finding) error {
	r.pendingSeg = true
	return f
}

// readSegment reads one segment up to its terminator.
func (r *Reader) readSegment() error {
	start := r.r
	off := r.base + int64(start)
	scanned := 0
	term := r.d.Segment
	for {
		if i := bytes.IndexByte(r.buf[r.r+scanned:r.w], term); i >= 0 {
			end := r.r + scanned + i
			if end-r.r > r.maxSeg() {
				r.num++
				f := r.finding(Error, "segment.too-long", off, r.num, "", 0, "segment is longer than the %d-byte limit: skipped", r.maxSeg())
				r.r = end + 1
				return &f
			}
			return r.emit(r.buf[r.r:end], off, end+1, nil)
		}
		scanned = r.w - r.r
		if scanned > r.maxSeg() {
			return r.skipLong(off)
		}
		if !r.fill() {
			if r.srcErr != nil && r.srcErr != io.EOF {
				r.fatal = r.srcErr
				return r.fatal
			}
			if r.w-r.r > r.maxSeg() {
				return r.skipLong(off)
			}
			// End of input inside a segment: the file was cut short.
			raw := bytes.TrimRight(r.buf[r.r:r.w], " \t\r\n")
			f := r.finding(Error, "segment.unterminated", off, r.num+1, "", 0, "last segment has no segment terminator %q: the file may be truncated", term)
			return r.emit(raw, off, r.w, &f)
		}
	}
}

// emit turns raw into the current segment and moves past it.
func (r *Reader) emit(raw []byte, off int64, next int, f *Finding) error {
	if r.d.Segment == '\n' && len(raw) > 0 && raw[len(raw)-1] == '\r' {
		raw = raw[:len(raw)-1]
	}
	r.num++
	r.seg.raw = raw
	r.seg.delim = r.d
	r.seg.Offset = off
	r.seg.Num = r.num
	r.seg.ends = r.seg.ends[:0]
	r.r = r.skipNewlines(next)
	valid := false
	if e := r.ids.get(raw, r.d.Element); e != nil {
		r.seg.id, valid = e.id, e.valid
		r.seg.SetPos = r.advanceSetPos(e.pos)
	} else {
		r.seg.id = string(raw[:idEnd(raw, r.d.Element)])
		r.seg.SetPos = r.advanceSetPos(0)
	}
	id := r.seg.id
	if f != nil {
		f.SegmentID = id
		return r.queue(f)
	}
	if !valid {
		f := r.finding(Error, "segment.id", off, r.num, id, 0, "segment id %q is not 2 or 3 upper-case letters or digits", clip(id))
		f.SegmentID = clip(id)
		return r.queue(&f)
	}
	return nil
}

// skipLong discards an over-long segment without holding it in memory.
func (r *Reader) skipLong(off int64) error {
	r.num++
	f := r.finding(Error, "segment.too-long", off, r.num, "", 0, "segment is longer than the %d-byte limit: skipped (missing segment terminator?)", r.maxSeg())
	for {
		if i := bytes.IndexByte(r.buf[r.r:r.w], r.d.Segment); i >= 0 {
			r.r += i + 1
			return &f
		}
		r.r = r.w
		if !r.fill() {
			return &f
		}
	}
}

func validID(id string) bool {
	if len(id) < 2 || len(id) > 3 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// clip shortens s for a message and makes control characters visible.
func clip(s string) string {
	if len(s) > 20 {
		s = s[:20] + "..."
	}
	return fmt.Sprintf("%q", s)[1 : len(fmt.Sprintf("%q", s))-1]
}

// IsFinding reports whether err is a data finding the Reader recovered
// from, rather than an I/O error or the end of input.
func IsFinding(err error) bool {
	var f *Finding
	return errors.As(err, &f)
}
