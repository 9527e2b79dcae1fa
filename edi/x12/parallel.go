package x12

import (
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

	queues  []chan *parBatch
	load    []atomic.Int64
	pool    chan []byte
	buffers int
	wg      sync.WaitGroup

	pending []*parBatch // sent, results not yet taken, in file order
	cur     *parBatch
	run     int // index of cur's open run, -1 when none
	runSet  *parSet
	runEnd  int64 // input offset just past the open run's last terminator
}

func newParCheck(opts *CheckOptions, workers int, emit func(Finding)) *parCheck {
	p := &parCheck{
		name: opts.Name, showValues: opts.ShowValues, full: opts.FullFindings, emit: emit, size: opts.BatchSize,
		queues: make([]chan *parBatch, workers), load: make([]atomic.Int64, workers),
		pool: make(chan []byte, parBuffers), run: -1,
	}
	if p.size <= 0 {
		p.size = parBatchSize
	}
	for w := range p.queues {
		q := make(chan *parBatch, parPending+1)
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
	if need > p.size/4 || seg.delim.Segment == '\n' {
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
			b.data = append(append(b.data, raw...), seg.delim.Segment)
			b.cost += need
			r.count++
			p.runEnd = seg.Offset + int64(need)
			return
		}
	}
	b.runs = append(b.runs, parRun{start: len(b.data), gaps: len(b.gaps), count: 1, off: seg.Offset, num: seg.Num, setPos: seg.SetPos, d: seg.delim})
	b.gaps = append(b.gaps, 0)
	b.data = append(append(b.data, raw...), seg.delim.Segment)
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
		p.cur = &parBatch{data: p.buffer(), done: make(chan struct{})}
		p.run = -1
	}
	return p.cur
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
		case <-p.pending[0].done:
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
		w = 0
		for i := range p.load {
			if p.load[i].Load() < p.load[w].Load() {
				w = i
			}
		}
	}
	for _, op := range b.ops {
		if op.set != nil {
			op.set.worker = w
		}
	}
	b.worker = w
	for len(p.pending) >= parPending {
		p.drain(true)
	}
	p.pending = append(p.pending, b)
	p.load[w].Add(int64(b.cost))
	p.queues[w] <- b
}

// drain takes back the results of the earliest batches that are done,
// or, with wait, of the earliest batch, waiting for it.
func (p *parCheck) drain(wait bool) {
	for len(p.pending) > 0 {
		b := p.pending[0]
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
		p.pending[0] = nil
		p.pending = p.pending[1:]
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
	for len(p.pending) > 0 {
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
				seg.delim = r.d
				for k := 0; k < r.count; k++ {
					if k > 0 {
						off += int64(b.gaps[r.gaps+k])
						if setPos > 0 {
							setPos++
						}
					}
					i, n := scanSegment(data[pos:len(data):cap(data)], r.d.Element, r.d.Segment, (*[maxScanEnds]int32)(scanEnds[:maxScanEnds]))
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
			}
		}
		b.segs, b.finds, b.ops = nil, nil, nil
		p.load[w].Add(-int64(b.cost))
		p.pool <- b.data[:0]
		b.data = nil
		close(b.done)
	}
}
