package x12

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// Parallel checking (CheckOptions.Workers > 1).
//
// The caller's goroutine reads the input and runs the envelope Checker
// exactly as Check does alone; the set checkers run on workers. What the
// Checker hands a set checker (its segments, its End) and every finding
// the Checker makes are recorded, in order, in batches of about
// parBatchSize bytes: a run of segments is their bytes copied once, with
// the gaps between them, so a worker finds each segment's end and
// elements again with the Reader's own scan. All the batches holding one
// set go to the same worker, in order, so its checker sees its segments
// as it would alone; different sets run on different workers. The
// caller's goroutine takes the batches' results back in file order and
// passes them on, so the findings come out exactly as from Check alone,
// and every callback (Sets, Finding, Deferred.Resolve) runs on the
// caller's goroutine.
//
// When the input is a file the workers can read themselves
// (CheckOptions.Source), a run is not copied: the batch holds its offset
// and length and the worker reads those bytes again. Nothing then bounds
// the read-ahead but the batches waiting for their results (parPendingSource):
// a set of tens of MB no longer holds up the next one, so two workers check
// two large sets at once where copies would have to be held in memory.

// Deferred is a check a set checker cannot decide by itself because it
// depends on the sets before it in the file, such as a payment sent twice.
// Check resolves it in file order, at its place among the set's findings.
type Deferred interface {
	// Resolve makes the check and reports what it finds.
	Resolve(report func(Finding))
}

// DeferringSetChecker is a SetChecker that shares state with the other
// sets of the file. With CheckOptions.Workers > 1, Check calls Defer
// before the checker's first segment, and the checker then hands each
// check on that state to do instead of making it; alone it makes them.
type DeferringSetChecker interface {
	SetChecker
	Defer(do func(Deferred))
}

const (
	// parBatchSize is the input bytes a batch holds by default.
	parBatchSize = 512 << 10
	// parBuffers bounds the batches read and not yet checked: 8 MiB of
	// input, room for the next set to be read while one of tens of MB is
	// checked.
	parBuffers = 16
	// parPending bounds the batches checked whose results wait for an
	// earlier batch.
	parPending = 2 * parBuffers
	// parPendingSource is parPending when the workers read the input
	// themselves: 64 MiB of input ahead, in batches that hold no copy.
	parPendingSource = 128
	// parFindingCost is what a finding counts toward a batch's size.
	parFindingCost = 256
	// parSlack lets scanSegment read past a batch's last segment.
	parSlack = 64
)

type parOpKind uint8

const (
	opRun     parOpKind = iota // a run of segments (runs[i])
	opSeg                      // one segment, cloned (segs[i])
	opEnd                      // End, with segs[i] or nil when i < 0
	opFinding                  // one of the Checker's findings (finds[i])
)

type parOp struct {
	kind parOpKind
	set  *parSet
	i    int
}

// parRun is consecutive segments of one set, copied to data[start:] each
// followed by its terminator.
type parRun struct {
	start, gaps int // data and gap index of the first segment
	count       int
	off         int64 // input offset of the first segment
	size        int64 // input bytes from off past the last terminator (from a Source)
	num         int   // its number
	setPos      int   // its SetPos
	d           Delimiters
}

// parItem is one result of a batch, in order: a finding (f, or only its
// severity and rule when f is nil), or a deferred check.
type parItem struct {
	f    *Finding
	d    Deferred
	rule string
	sev  Severity
}

type parBatch struct {
	data  []byte
	gaps  []uint8 // bytes skipped before each segment of a run
	runs  []parRun
	segs  []Segment
	finds []parItem
	ops   []parOp
	cost  int

	out    []parItem
	nfull  int
	worker int
	done   chan struct{}
}

// parSet is the SetChecker the Checker sees for a set checked on a
// worker: it records what the Checker hands it.
type parSet struct {
	p      *parCheck
	chk    SetChecker
	worker int       // -1 until its first batch is sent
	cur    *parBatch // the batch being checked (worker side)
	report func(Finding)
}

func (s *parSet) Segment(seg *Segment, _ func(Finding)) { s.p.segment(s, seg) }
func (s *parSet) End(se *Segment, _ func(Finding))      { s.p.end(s, se) }

// parCheck is the caller's side of a parallel Check.
type parCheck struct {
	name       string
	showValues bool
	size       int // batch size
	full       int // findings needed in full; <0 none, 0 all
	emit       func(Finding)
	emitted    atomic.Int64 // findings passed on so far

	queues     []chan *parBatch
	load       []atomic.Int64
	pool       chan []byte
	buffers    int
	wg         sync.WaitGroup
	src        io.ReaderAt // the input, read by the workers (nil: copies)
	srcBase    int64       // src offset of input offset 0
	pending    int         // the batches waiting for results at most
	lastWorker int         // the worker the last new set went to

	waiting []*parBatch // sent, results not yet taken, in file order
	cur     *parBatch
	run     int // index of cur's open run, -1 when none
	runSet  *parSet
	runEnd  int64 // input offset just past the open run's last terminator
}

func newParCheck(opts *CheckOptions, workers int, emit func(Finding)) *parCheck {
	p := &parCheck{
		name: opts.Name, showValues: opts.ShowValues, full: opts.FullFindings, emit: emit, size: opts.BatchSize,
		queues: make([]chan *parBatch, workers), load: make([]atomic.Int64, workers),
		pool: make(chan []byte, parBuffers), run: -1, pending: parPending,
		src: opts.Source, srcBase: opts.SourceBase,
	}
	if p.src != nil {
		p.pending = parPendingSource
	}
	if p.size <= 0 {
		p.size = parBatchSize
	}
	for w := range p.queues {
		q := make(chan *parBatch, p.pending+1)
		p.queues[w] = q
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.work(w, q)
		}()
	}
	return p
}

// workersFor is how many workers Check uses for opts.
func workersFor(opts *CheckOptions) int {
	w := opts.Workers
	if w < 2 || opts.Sets == nil || opts.Segment != nil {
		return 0
	}
	return w
}

// finish is Checker.report's treatment of a finding, without its output.
func (p *parCheck) finish(f *Finding) {
	if f.File == "" {
		f.File = p.name
	}
	f.Message = Printable(f.Message)
	if p.showValues {
		f.Reveal()
	}
}

// sets wraps the Sets function for the Checker: each set checker is
// made here, on the caller's goroutine, and run on a worker.
func (p *parCheck) sets(sets func(h SetHeader) SetChecker) func(h SetHeader) SetChecker {
	return func(h SetHeader) SetChecker {
		chk := sets(h)
		if chk == nil {
			return nil
		}
		// A batch goes to the worker of the first set it holds, and the
		// other sets in it follow: a new set starts a batch of its own
		// (unless the current one is still small), so it can go to the
		// least loaded worker. Without this every set was chained to the
		// worker of the set before it, and one worker did all the work.
		if p.cur != nil && p.cur.cost >= p.size/8 {
			p.send()
		}
		s := &parSet{p: p, chk: chk, worker: -1}
		s.report = func(f Finding) {
			p.finish(&f)
			s.cur.add(p, f)
		}
		if d, ok := chk.(DeferringSetChecker); ok {
			d.Defer(func(x Deferred) { s.cur.out = append(s.cur.out, parItem{d: x}) })
		}
		return s
	}
}

// finding records one of the Checker's findings (already finished).
func (p *parCheck) finding(f Finding) {
	b := p.batch(parFindingCost)
	b.finds = append(b.finds, p.item(&f, nil))
	b.ops = append(b.ops, parOp{kind: opFinding, i: len(b.finds) - 1})
	b.cost += parFindingCost
	p.run = -1
}

// segment records seg for set s.
func (p *parCheck) segment(s *parSet, seg *Segment) {
	raw := seg.raw
	need := len(raw) + 1
	if need > p.size/4 || seg.delim.Segment == '\n' || p.src != nil && !terminated(raw, seg.delim.Segment) {
		// a long segment, or one the newline terminator may have
		// trimmed: cloned
		b := p.batch(need)
		b.segs = append(b.segs, seg.Clone())
		b.ops = append(b.ops, parOp{kind: opSeg, set: s, i: len(b.segs) - 1})
		b.cost += need
		p.run = -1
		return
	}
	b := p.batch(need)
	if p.run >= 0 && p.runSet == s {
		r := &b.runs[p.run]
		gap := seg.Offset - p.runEnd
		want := 0
		if r.setPos > 0 {
			want = r.setPos + r.count
		}
		if seg.Num == r.num+r.count && seg.delim == r.d && gap >= 0 && gap < 256 && seg.SetPos == want {
			b.gaps = append(b.gaps, uint8(gap))
			if p.src == nil {
				b.data = append(append(b.data, raw...), seg.delim.Segment)
			}
			b.cost += need
			r.count++
			p.runEnd = seg.Offset + int64(need)
			r.size = p.runEnd - r.off
			return
		}
	}
	b.runs = append(b.runs, parRun{start: len(b.data), gaps: len(b.gaps), count: 1, off: seg.Offset, size: int64(need), num: seg.Num, setPos: seg.SetPos, d: seg.delim})
	b.gaps = append(b.gaps, 0)
	if p.src == nil {
		b.data = append(append(b.data, raw...), seg.delim.Segment)
	}
	b.cost += need
	b.ops = append(b.ops, parOp{kind: opRun, set: s, i: len(b.runs) - 1})
	p.run, p.runSet, p.runEnd = len(b.runs)-1, s, seg.Offset+int64(need)
}

// end records the end of set s.
func (p *parCheck) end(s *parSet, se *Segment) {
	i, need := -1, parFindingCost
	if se != nil {
		need += len(se.raw)
	}
	b := p.batch(need)
	if se != nil {
		b.segs = append(b.segs, se.Clone())
		i = len(b.segs) - 1
	}
	b.ops = append(b.ops, parOp{kind: opEnd, set: s, i: i})
	b.cost += need
	p.run = -1
}

// batch returns the batch to record need more bytes in, sending the
// current one when it is full.
func (p *parCheck) batch(need int) *parBatch {
	if p.cur != nil && p.cur.cost+need > p.size {
		p.send()
	}
	if p.cur == nil {
		p.cur = &parBatch{done: make(chan struct{})}
		if p.src == nil {
			p.cur.data = p.buffer()
		} else {
			p.drain(false) // pass results on as they come
		}
		p.run = -1
	}
	return p.cur
}

// terminated reports whether the input holds term right after raw, as a
// worker reading the input again will find it: not so for a last
// segment cut short, whose raw the Reader trimmed.
func terminated(raw []byte, term byte) bool {
	return cap(raw) > len(raw) && raw[:len(raw)+1][len(raw)] == term
}

// buffer returns a free input buffer, taking back the results of the
// earliest batches while none is free.
func (p *parCheck) buffer() []byte {
	for {
		p.drain(false)
		select {
		case buf := <-p.pool:
			return buf
		default:
		}
		if p.buffers < parBuffers {
			p.buffers++
			return make([]byte, 0, p.size+parSlack)
		}
		select {
		case buf := <-p.pool:
			return buf
		case <-p.waiting[0].done:
		}
	}
}

// send hands the current batch to the worker of the set it continues,
// or to the least loaded one.
func (p *parCheck) send() {
	b := p.cur
	p.cur, p.run = nil, -1
	w := -1
	for _, op := range b.ops {
		if op.set != nil {
			w = op.set.worker
			break
		}
	}
	if w < 0 {
		// the least loaded worker; on a tie the one after the last
		// chosen, so sets alternate even when every worker is idle
		n := len(p.load)
		w = (p.lastWorker + 1) % n
		for k := 1; k < n; k++ {
			if i := (p.lastWorker + 1 + k) % n; p.load[i].Load() < p.load[w].Load() {
				w = i
			}
		}
		p.lastWorker = w
	}
	for _, op := range b.ops {
		if op.set != nil {
			op.set.worker = w
		}
	}
	b.worker = w
	for len(p.waiting) >= p.pending {
		p.drain(true)
	}
	p.waiting = append(p.waiting, b)
	p.load[w].Add(int64(b.cost))
	p.queues[w] <- b
}

// drain takes back the results of the earliest batches that are done,
// or, with wait, of the earliest batch, waiting for it.
func (p *parCheck) drain(wait bool) {
	for len(p.waiting) > 0 {
		b := p.waiting[0]
		if wait {
			<-b.done
			wait = false
		} else {
			select {
			case <-b.done:
			default:
				return
			}
		}
		p.waiting[0] = nil
		p.waiting = p.waiting[1:]
		for i := range b.out {
			it := &b.out[i]
			switch {
			case it.d != nil:
				it.d.Resolve(func(f Finding) {
					p.finish(&f)
					p.emit(f)
					p.emitted.Add(1)
				})
			case it.f != nil:
				p.emit(*it.f)
				p.emitted.Add(1)
			default:
				p.emit(Finding{File: p.name, Severity: it.sev, Rule: it.rule})
				p.emitted.Add(1)
			}
		}
	}
}

// close sends the last batch, takes back every result and stops the
// workers.
func (p *parCheck) close() {
	if p.cur != nil {
		p.send()
	}
	for len(p.waiting) > 0 {
		p.drain(true)
	}
	for _, q := range p.queues {
		close(q)
	}
	p.wg.Wait()
}

// add records a finding among the batch's results.
func (b *parBatch) add(p *parCheck, f Finding) { b.out = append(b.out, p.item(&f, b)) }

// item is f to keep for later: only its severity and rule when f cannot
// be among the first p.full findings, since p.full were passed on
// already or come before it in its batch.
// (b nil: a Checker's finding, counted in its batch when the worker
// puts it in its place).
func (p *parCheck) item(f *Finding, b *parBatch) parItem {
	if p.full < 0 || p.full > 0 && (b != nil && b.nfull >= p.full || p.emitted.Load() >= int64(p.full)) {
		return parItem{rule: f.Rule, sev: f.Severity}
	}
	if b != nil {
		b.nfull++
	}
	c := *f
	return parItem{f: &c}
}

// work checks the batches of queue q in order.
func (p *parCheck) work(w int, q chan *parBatch) {
	var (
		seg      Segment
		ends     []int32
		scanEnds [maxScanEnds + 1]int32
		ids      idCache
		read     []byte // a run read from p.src
	)
	seg.scratch = &ends
	for b := range q {
		for _, op := range b.ops {
			switch op.kind {
			case opFinding:
				it := b.finds[op.i]
				if it.f != nil {
					if p.full > 0 && b.nfull >= p.full {
						it = parItem{rule: it.f.Rule, sev: it.f.Severity}
					} else {
						b.nfull++
					}
				}
				b.out = append(b.out, it)
			case opSeg:
				op.set.cur = b
				op.set.chk.Segment(&b.segs[op.i], op.set.report)
			case opEnd:
				op.set.cur = b
				var se *Segment
				if op.i >= 0 {
					se = &b.segs[op.i]
				}
				op.set.chk.End(se, op.set.report)
			case opRun:
				s := op.set
				s.cur = b
				r := &b.runs[op.i]
				data := b.data[:len(b.data):cap(b.data)]
				pos, off, setPos := r.start, r.off, r.setPos
				if p.src != nil {
					var err error
					if read, err = p.readRun(read, r); err != nil {
						s.report(inputChanged(p.name, r.off, r.num, err))
						continue
					}
					data, pos = read, 0
				}
				seg.delim = r.d
				for k := 0; k < r.count; k++ {
					if k > 0 {
						gap := int(b.gaps[r.gaps+k])
						off += int64(gap)
						if p.src != nil {
							pos += gap
						}
						if setPos > 0 {
							setPos++
						}
					}
					i, n := scanSegment(data[pos:len(data):cap(data)], r.d.Element, r.d.Segment, (*[maxScanEnds]int32)(scanEnds[:maxScanEnds]))
					if i < 0 {
						// Only when the file changed under us: the Reader
						// found a terminator here.
						s.report(inputChanged(p.name, off, r.num+k, nil))
						break
					}
					raw := data[pos : pos+i]
					seg.raw = raw
					seg.ends = seg.ends[:0]
					if n < maxScanEnds {
						scanEnds[n] = int32(i)
						seg.ends = scanEnds[:n+1]
					}
					// the Reader's emit names the segment so
					if e := ids.get(raw, r.d.Element); e != nil {
						seg.id = e.id
					} else {
						seg.id = string(raw[:idEnd(raw, r.d.Element)])
					}
					seg.Offset = off
					seg.Num = r.num + k
					seg.SetPos = setPos
					s.chk.Segment(&seg, s.report)
					pos += i + 1
					off += int64(i + 1)
				}
				if p.src != nil && pos != len(data) {
					// the run's segments did not end where the Reader's did
					s.report(inputChanged(p.name, r.off, r.num, nil))
				}
			}
		}
		b.segs, b.finds, b.ops = nil, nil, nil
		p.load[w].Add(-int64(b.cost))
		if p.src == nil {
			p.pool <- b.data[:0]
		}
		b.data = nil
		close(b.done)
	}
}

// readRun reads run r from p.src into buf (grown as needed), with the
// slack scanSegment may read past the end.
func (p *parCheck) readRun(buf []byte, r *parRun) ([]byte, error) {
	if need := int(r.size) + parSlack; cap(buf) < need {
		buf = make([]byte, 0, need)
	}
	data := buf[:r.size]
	n, err := p.src.ReadAt(data, p.srcBase+r.off)
	if n == len(data) {
		return data, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return buf, err
}

// inputChanged is the finding for a run a worker could not read back as
// the Reader had read it: the file changed (or could no longer be read)
// while it was being checked.
func inputChanged(name string, off int64, num int, err error) Finding {
	msg := "the file changed while it was being checked: its checks are not complete"
	if err != nil {
		msg = fmt.Sprintf("the file could not be read again while it was being checked (%v): its checks are not complete", err)
	}
	return Finding{File: name, Severity: Error, Rule: "input.changed", Offset: off, Segment: num, Message: msg}
}
