package x12

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ControlKind says which envelope a control number is for.
type ControlKind string

// Envelope levels that carry control numbers.
const (
	InterchangeControl ControlKind = "isa"
	GroupControl       ControlKind = "gs"
)

// ControlNumbers allocates control numbers. ISA13 must be unique per
// sender/receiver pair, including across restarts and replicas, so the
// gateway's implementation is durable; MemoryControlNumbers serves tests
// and one-shot conversions.
type ControlNumbers interface {
	Next(ctx context.Context, kind ControlKind, sender, receiver string) (int64, error)
}

// MemoryControlNumbers is an in-memory ControlNumbers counting from 1 (or
// Start+1) per kind and sender/receiver pair.
type MemoryControlNumbers struct {
	Start int64
	mu    sync.Mutex
	next  map[string]int64
}

// Next returns the next number for the pair.
func (m *MemoryControlNumbers) Next(_ context.Context, kind ControlKind, sender, receiver string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.next == nil {
		m.next = map[string]int64{}
	}
	k := string(kind) + "\x00" + sender + "\x00" + receiver
	n, ok := m.next[k]
	if !ok {
		n = m.Start
	}
	n++
	if n > 999999999 {
		n = 1
	}
	m.next[k] = n
	return n, nil
}

// InterchangeHeader holds the ISA fields a sender chooses.
type InterchangeHeader struct {
	AuthQual, Auth         string // ISA01, ISA02 (default 00, blank)
	SecurityQual, Security string // ISA03, ISA04 (default 00, blank)
	SenderQual, Sender     string // ISA05, ISA06 (default ZZ)
	ReceiverQual, Receiver string // ISA07, ISA08 (default ZZ)
	Time                   time.Time
	Control                int64 // ISA13; 0 = allocate
	AckRequested           bool  // ISA14
	Usage                  byte  // ISA15: 'P' or 'T' (default P)
}

// GroupHeader holds the GS fields.
type GroupHeader struct {
	FunctionalID string // GS01, e.g. HC for 837, HP for 835, FA for 999, HN for 277
	Sender       string // GS02
	Receiver     string // GS03
	Time         time.Time
	Control      int64  // GS06; 0 = allocate
	Version      string // GS08, e.g. 005010X222A1
}

// WriterOptions configure a Writer.
type WriterOptions struct {
	Delimiters Delimiters // zero value means DefaultDelimiters
	// Newline writes a line feed after each segment terminator, as many
	// trading partners like for readability.
	Newline bool
	Numbers ControlNumbers // nil means a fresh MemoryControlNumbers
}

// A Writer writes X12 segments and builds envelopes with correct counts and
// control numbers. It refuses data containing a delimiter character (X12
// has no escape) and stops at the first error, which every later call
// returns; nothing of a refused segment is written.
//
// Segments are built element by element:
//
//	w.Begin("NM1")
//	w.Element("85")
//	w.Composite("HC", "97110", "GP")
//	w.End()
type Writer struct {
	bw    *bufio.Writer
	d     Delimiters
	ok    [256]bool // printable and not a delimiter: data bytes written as is
	nl    bool
	nums  ControlNumbers
	seg   []byte
	id    string
	elems int
	trim  int // length of seg up to the last non-empty element
	err   error

	segments     int // segments written
	setCount     int // segments in the open set
	setControl   string
	groupSets    int
	groupControl int64
	icGroups     int
	icControl    int64
	icSender     string
	icReceiver   string
	inSet        bool
	inGroup      bool
	inIC         bool
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer, opts WriterOptions) *Writer {
	d := opts.Delimiters
	if d == (Delimiters{}) {
		d = DefaultDelimiters
	}
	nums := opts.Numbers
	if nums == nil {
		nums = &MemoryControlNumbers{}
	}
	wr := &Writer{bw: bufio.NewWriterSize(w, 64<<10), d: d, nl: opts.Newline, nums: nums, seg: make([]byte, 0, 256)}
	for c := 0; c < 256; c++ {
		wr.ok[c] = charClass[c] && !d.Has(byte(c))
	}
	if err := d.Validate(); err != nil {
		wr.err = fmt.Errorf("x12: writer delimiters: %w", err)
	}
	return wr
}

// Delimiters returns the Writer's delimiters.
func (w *Writer) Delimiters() Delimiters { return w.d }

// Reset discards any error, buffered data and envelope state and makes w
// write to dst, so a scratch Writer can be reused after a refusal.
func (w *Writer) Reset(dst io.Writer) {
	w.bw.Reset(dst)
	w.err = nil
	w.seg = w.seg[:0]
	w.segments, w.setCount, w.groupSets, w.icGroups = 0, 0, 0, 0
	w.inSet, w.inGroup, w.inIC = false, false, false
}

// Err returns the first error the Writer met.
func (w *Writer) Err() error { return w.err }

// Segments is the number of segments written so far.
func (w *Writer) Segments() int { return w.segments }

// SetSegments is the number of segments written in the open transaction
// set, ST included.
func (w *Writer) SetSegments() int { return w.setCount }

func (w *Writer) fail(elem int, format string, args ...any) {
	if w.err == nil {
		w.err = &Finding{Severity: Error, Rule: "write.data", Segment: w.segments + 1, SegmentID: w.id, Element: elem, Message: fmt.Sprintf(format, args...)}
	}
}

// failValue is fail for a problem with the data v of the current
// element. The writer does not know which elements hold patient data, so
// the message never shows v; the finding keeps it in Value.
func (w *Writer) failValue(v string, format string, args ...any) {
	if w.err == nil {
		w.fail(w.elems, format, args...)
		w.err.(*Finding).Value = v
	}
}

// Begin starts a segment.
func (w *Writer) Begin(id string) {
	w.seg = append(w.seg[:0], id...)
	w.id = id
	w.elems = 0
	w.trim = len(w.seg)
}

func (w *Writer) checkData(s string, comp int) bool {
	clean := true
	for i := 0; i < len(s); i++ {
		clean = clean && w.ok[s[i]]
	}
	if clean {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if w.d.Has(c) {
			what := "a delimiter"
			switch c {
			case w.d.Element:
				what = "the element separator"
			case w.d.Component:
				what = "the component separator"
			case w.d.Repetition:
				what = "the repetition separator"
			case w.d.Segment:
				what = "the segment terminator"
			}
			w.failValue(s, "data %s contains %s %q, which X12 cannot escape", Withheld, what, c)
			if comp > 0 && w.err != nil {
				w.err.(*Finding).Component = comp
			}
			return false
		}
		if !charClass[c] {
			w.failValue(s, "data %s contains byte 0x%02X outside the X12 character set", Withheld, c)
			return false
		}
	}
	return true
}

// Element appends one simple element.
func (w *Writer) Element(s string) {
	w.elems++
	w.seg = append(w.seg, w.d.Element)
	if w.checkData(s, 0) {
		w.seg = append(w.seg, s...)
	}
	if s != "" {
		w.trim = len(w.seg)
	}
}

// Bytes appends one simple element given as bytes.
func (w *Writer) Bytes(b []byte) {
	w.elems++
	w.seg = append(w.seg, w.d.Element)
	for _, c := range b {
		if !w.ok[c] {
			w.failValue(string(b), "data %s contains delimiter or invalid byte %q", Withheld, c)
			return
		}
	}
	w.seg = append(w.seg, b...)
	if len(b) > 0 {
		w.trim = len(w.seg)
	}
}

// Const appends an element the caller vouches for: a constant code such
// as "HC" or "UN" that holds no delimiter. It is not checked.
func (w *Writer) Const(s string) {
	w.elems++
	w.seg = append(w.seg, w.d.Element)
	w.seg = append(w.seg, s...)
	if s != "" {
		w.trim = len(w.seg)
	}
}

// Int appends an integer element.
func (w *Writer) Int(n int64) {
	w.elems++
	w.seg = append(w.seg, w.d.Element)
	w.seg = strconv.AppendInt(w.seg, n, 10)
	w.trim = len(w.seg)
}

// Empty appends n empty elements (trailing ones are dropped at End).
func (w *Writer) Empty(n int) {
	for ; n > 0; n-- {
		w.elems++
		w.seg = append(w.seg, w.d.Element)
	}
}

// Append appends one element written by f, which appends its bytes to
// dst, e.g. a formatted amount. f's output is trusted to hold no delimiter.
func (w *Writer) Append(f func(dst []byte) []byte) {
	w.elems++
	w.seg = append(w.seg, w.d.Element)
	n := len(w.seg)
	w.seg = f(w.seg)
	if len(w.seg) > n {
		w.trim = len(w.seg)
	}
}

// Composite appends one element made of components; trailing empty
// components are dropped.
func (w *Writer) Composite(parts ...string) {
	w.elems++
	w.seg = append(w.seg, w.d.Element)
	last := len(parts)
	for last > 0 && parts[last-1] == "" {
		last--
	}
	for j, p := range parts[:last] {
		if j > 0 {
			w.seg = append(w.seg, w.d.Component)
		}
		if w.checkData(p, j+1) {
			w.seg = append(w.seg, p...)
		}
	}
	if last > 0 {
		w.trim = len(w.seg)
	}
}

// End finishes the segment, dropping trailing empty elements, and writes it.
func (w *Writer) End() error {
	if w.err != nil {
		return w.err
	}
	w.seg = append(w.seg[:w.trim], w.d.Segment)
	if w.nl {
		w.seg = append(w.seg, '\n')
	}
	if _, err := w.bw.Write(w.seg); err != nil {
		w.err = err
		return err
	}
	w.segments++
	if w.inSet {
		w.setCount++
	}
	return nil
}

// Segment writes a segment of simple elements in one call.
func (w *Writer) Segment(id string, elems ...string) error {
	w.Begin(id)
	for _, e := range elems {
		w.Element(e)
	}
	return w.End()
}

// Raw writes segs whole segments that another Writer with the same
// delimiters and newline setting encoded (and checked) before, e.g. a
// claim encoded once to see that it can be: they count as written here.
func (w *Writer) Raw(b []byte, segs int) error {
	if w.err != nil {
		return w.err
	}
	if _, err := w.bw.Write(b); err != nil {
		w.err = err
		return err
	}
	w.segments += segs
	if w.inSet {
		w.setCount += segs
	}
	return nil
}

// Newline reports whether the Writer ends each segment with a line feed.
func (w *Writer) Newline() bool { return w.nl }

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if err := w.bw.Flush(); err != nil && w.err == nil {
		w.err = err
	}
	return w.err
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s[:n]
	}
	return s + strings.Repeat(" ", n-len(s))
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// BeginInterchange writes an ISA segment and returns its control number.
func (w *Writer) BeginInterchange(ctx context.Context, h InterchangeHeader) (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.inIC {
		w.err = fmt.Errorf("x12: BeginInterchange inside an open interchange")
		return 0, w.err
	}
	if len(h.Sender) > 15 || len(h.Receiver) > 15 || len(h.Auth) > 10 || len(h.Security) > 10 {
		w.err = fmt.Errorf("x12: ISA sender/receiver ids are at most 15 characters, authorization/security at most 10")
		return 0, w.err
	}
	ctl := h.Control
	if ctl == 0 {
		n, err := w.nums.Next(ctx, InterchangeControl, h.Sender, h.Receiver)
		if err != nil {
			w.err = fmt.Errorf("x12: allocating ISA13: %w", err)
			return 0, w.err
		}
		ctl = n
	}
	if ctl < 1 || ctl > 999999999 {
		w.err = fmt.Errorf("x12: ISA13 control number %d is out of range", ctl)
		return 0, w.err
	}
	t := h.Time
	if t.IsZero() {
		t = time.Now().UTC()
	}
	usage := h.Usage
	if usage == 0 {
		usage = 'P'
	}
	ack := "0"
	if h.AckRequested {
		ack = "1"
	}
	rep := w.d.Repetition
	if rep == 0 {
		rep = 'U'
	}
	w.Begin("ISA")
	w.Element(orDefault(h.AuthQual, "00"))
	w.Element(pad(h.Auth, 10))
	w.Element(orDefault(h.SecurityQual, "00"))
	w.Element(pad(h.Security, 10))
	w.Element(orDefault(h.SenderQual, "ZZ"))
	w.Element(pad(h.Sender, 15))
	w.Element(orDefault(h.ReceiverQual, "ZZ"))
	w.Element(pad(h.Receiver, 15))
	w.Element(t.Format("060102"))
	w.Element(t.Format("1504"))
	// ISA11 and ISA16 are the delimiters themselves, so they bypass the
	// delimiter check.
	w.seg = append(w.seg, w.d.Element, rep)
	w.elems++
	w.Element("00501")
	w.Element(fmt.Sprintf("%09d", ctl))
	w.Element(ack)
	w.Element(string(usage))
	w.seg = append(w.seg, w.d.Element, w.d.Component)
	w.trim = len(w.seg)
	if err := w.End(); err != nil {
		return 0, err
	}
	w.inIC, w.icControl, w.icGroups = true, ctl, 0
	w.icSender, w.icReceiver = h.Sender, h.Receiver
	return ctl, nil
}

// BeginGroup writes a GS segment and returns its control number.
func (w *Writer) BeginGroup(ctx context.Context, h GroupHeader) (int64, error) {
	if w.err == nil && (!w.inIC || w.inGroup) {
		w.err = fmt.Errorf("x12: BeginGroup needs an open interchange and no open group")
	}
	if w.err != nil {
		return 0, w.err
	}
	ctl := h.Control
	if ctl == 0 {
		n, err := w.nums.Next(ctx, GroupControl, h.Sender, h.Receiver)
		if err != nil {
			w.err = fmt.Errorf("x12: allocating GS06: %w", err)
			return 0, w.err
		}
		ctl = n
	}
	t := h.Time
	if t.IsZero() {
		t = time.Now().UTC()
	}
	w.Begin("GS")
	w.Element(h.FunctionalID)
	w.Element(h.Sender)
	w.Element(h.Receiver)
	w.Element(t.Format("20060102"))
	w.Element(t.Format("1504"))
	w.Int(ctl)
	w.Element("X")
	w.Element(h.Version)
	if err := w.End(); err != nil {
		return 0, err
	}
	w.inGroup, w.groupControl, w.groupSets = true, ctl, 0
	w.icGroups++
	return ctl, nil
}

// BeginSet writes an ST segment. control is ST02 (4 to 9 characters);
// version is ST03.
func (w *Writer) BeginSet(id, control, version string) error {
	if w.err == nil && (!w.inGroup || w.inSet) {
		w.err = fmt.Errorf("x12: BeginSet needs an open group and no open set")
	}
	if w.err != nil {
		return w.err
	}
	w.inSet, w.setCount, w.setControl = true, 0, control
	if version == "" {
		return w.Segment("ST", id, control)
	}
	return w.Segment("ST", id, control, version)
}

// EndSet writes the SE segment with the counted number of segments.
func (w *Writer) EndSet() error {
	if w.err == nil && !w.inSet {
		w.err = fmt.Errorf("x12: EndSet without an open set")
	}
	if w.err != nil {
		return w.err
	}
	w.Begin("SE")
	w.Int(int64(w.setCount + 1))
	w.Element(w.setControl)
	err := w.End()
	w.inSet = false
	w.groupSets++
	return err
}

// EndGroup writes the GE segment.
func (w *Writer) EndGroup() error {
	if w.err == nil && (!w.inGroup || w.inSet) {
		w.err = fmt.Errorf("x12: EndGroup needs an open group and no open set")
	}
	if w.err != nil {
		return w.err
	}
	w.Begin("GE")
	w.Int(int64(w.groupSets))
	w.Int(w.groupControl)
	w.inGroup = false
	return w.End()
}

// EndInterchange writes the IEA segment and flushes.
func (w *Writer) EndInterchange() error {
	if w.err == nil && (!w.inIC || w.inGroup) {
		w.err = fmt.Errorf("x12: EndInterchange needs an open interchange and no open group")
	}
	if w.err != nil {
		return w.err
	}
	w.Begin("IEA")
	w.Int(int64(w.icGroups))
	w.Element(fmt.Sprintf("%09d", w.icControl))
	w.inIC = false
	if err := w.End(); err != nil {
		return err
	}
	return w.Flush()
}

// WriteFile writes a complete interchange with one functional group of n
// transaction sets: ISA, GS, then set(w, control, i) for i from 0 to n-1
// with ST02 controls 0001, 0002, ..., then GE and IEA.
func WriteFile(ctx context.Context, out io.Writer, opts WriterOptions, ih InterchangeHeader, gh GroupHeader, n int, set func(w *Writer, control string, i int) error) error {
	w := NewWriter(out, opts)
	if _, err := w.BeginInterchange(ctx, ih); err != nil {
		return err
	}
	if _, err := w.BeginGroup(ctx, gh); err != nil {
		return err
	}
	for i := range n {
		if err := set(w, fmt.Sprintf("%04d", i+1), i); err != nil {
			return err
		}
	}
	if err := w.EndGroup(); err != nil {
		return err
	}
	return w.EndInterchange()
}
