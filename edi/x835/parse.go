package x835

import (
	"fmt"

	"github.com/claimgate/claimgate/edi/x12"
)

type loopID uint8

const (
	loopHeader loopID = iota
	loop1000A
	loop1000B
	loop2000
	loop2100
	loop2110
	loopFooter
)

var loopNames = [...]string{"HEADER", "1000A", "1000B", "2000", "2100", "2110", "FOOTER"}

// phases are the top-level parts of a set, in their required order.
type phase uint8

const (
	phHeader phase = iota
	ph1000A
	ph1000B
	phDetail
	phFooter
	phEnd
)

type slot uint8

const (
	sNone slot = iota
	sBPR
	sTRN
	sCUR
	sREFEV
	sREFF2
	sDTM405
	sN1PR
	sN3PR
	sN4PR
	sREFPR
	sPERCX
	sPERBL
	sPERIC
	sN1PE
	sN3PE
	sN4PE
	sREFPE
	sRDM
	sLX
	sTS3
	sTS2
	sCLP
	sCAS
	sNM1QC
	sNM1IL
	sNM174
	sNM182
	sNM1TT
	sNM1PR
	sNM1GB
	sMIA
	sMOA
	sREFClaim
	sREFRend
	sDTM232
	sDTM233
	sDTM036
	sDTM050
	sPERClaim
	sAMTClaim
	sQTYClaim
	sSVC
	sDTM472
	sDTM150
	sDTM151
	sCASSvc
	sREFSvc
	sREF6R
	sREFSvcRend
	sREF0K
	sAMTSvc
	sQTYSvc
	sLQ
	sPLB
	nSlots
)

type slotInfo struct {
	pos  int16
	max  int16 // 0: any number
	name string
	spec *x12.SegSpec
}

var slots = [nSlots]slotInfo{
	sBPR:        {200, 1, "BPR", specBPR},
	sTRN:        {400, 1, "TRN", specTRN},
	sCUR:        {500, 1, "CUR", specCUR},
	sREFEV:      {600, 1, "REF*EV (receiver identification)", specREFHeader},
	sREFF2:      {600, 1, "REF*F2 (version identification)", specREFHeader},
	sDTM405:     {700, 1, "DTM*405 (production date)", specDTM405},
	sN1PR:       {800, 1, "N1*PR", specN1PR},
	sN3PR:       {1000, 1, "N3 (payer address)", specN3},
	sN4PR:       {1100, 1, "N4 (payer city/state/ZIP)", specN4},
	sREFPR:      {1200, 4, "REF (additional payer identification)", specREFPayer},
	sPERCX:      {1300, 1, "PER*CX (payer business contact)", specPERCX},
	sPERBL:      {1300, 0, "PER*BL (payer technical contact)", specPERBL},
	sPERIC:      {1300, 1, "PER*IC (payer web site)", specPERIC},
	sN1PE:       {800, 1, "N1*PE", specN1PE},
	sN3PE:       {1000, 1, "N3 (payee address)", specN3},
	sN4PE:       {1100, 1, "N4 (payee city/state/ZIP)", specN4},
	sREFPE:      {1200, 0, "REF (payee additional identification)", specREFPayee},
	sRDM:        {1400, 1, "RDM", specRDM},
	sLX:         {30, 1, "LX", specLX},
	sTS3:        {50, 1, "TS3", specTS3},
	sTS2:        {70, 1, "TS2", specTS2},
	sCLP:        {100, 1, "CLP", specCLP},
	sCAS:        {200, 99, "CAS (claim adjustment)", specCAS},
	sNM1QC:      {300, 1, "NM1*QC (patient)", nm1Specs["QC"]},
	sNM1IL:      {300, 1, "NM1*IL (insured)", nm1Specs["IL"]},
	sNM174:      {300, 1, "NM1*74 (corrected patient/insured)", nm1Specs["74"]},
	sNM182:      {300, 1, "NM1*82 (service provider)", nm1Specs["82"]},
	sNM1TT:      {300, 1, "NM1*TT (crossover carrier)", nm1Specs["TT"]},
	sNM1PR:      {300, 1, "NM1*PR (corrected priority payer)", nm1Specs["PR"]},
	sNM1GB:      {300, 1, "NM1*GB (other subscriber)", nm1Specs["GB"]},
	sMIA:        {330, 1, "MIA", specMIA},
	sMOA:        {350, 1, "MOA", specMOA},
	sREFClaim:   {400, 5, "REF (other claim related identification)", specREFClaim},
	sREFRend:    {400, 10, "REF (rendering provider identification)", specREFClaim},
	sDTM232:     {500, 1, "DTM*232 (statement from)", specDTMClaim},
	sDTM233:     {500, 1, "DTM*233 (statement to)", specDTMClaim},
	sDTM036:     {500, 1, "DTM*036 (coverage expiration)", specDTMClaim},
	sDTM050:     {500, 1, "DTM*050 (claim received)", specDTMClaim},
	sPERClaim:   {600, 2, "PER (claim contact)", specPERClaim},
	sAMTClaim:   {620, 13, "AMT (claim supplemental amount)", specAMTClaim},
	sQTYClaim:   {640, 14, "QTY (claim supplemental quantity)", specQTYClaim},
	sSVC:        {700, 1, "SVC", specSVC},
	sDTM472:     {800, 1, "DTM*472 (service date)", specDTMLine},
	sDTM150:     {800, 1, "DTM*150 (service period start)", specDTMLine},
	sDTM151:     {800, 1, "DTM*151 (service period end)", specDTMLine},
	sCASSvc:     {900, 99, "CAS (service adjustment)", specCAS},
	sREFSvc:     {1000, 8, "REF (service identification)", specREFLine},
	sREF6R:      {1000, 1, "REF*6R (line item control number)", specREFLine},
	sREFSvcRend: {1000, 10, "REF (rendering provider information)", specREFLine},
	sREF0K:      {1000, 5, "REF*0K (healthcare policy identification)", specREFLine},
	sAMTSvc:     {1100, 9, "AMT (service supplemental amount)", specAMTLine},
	sQTYSvc:     {1200, 6, "QTY (service supplemental quantity)", specQTYLine},
	sLQ:         {1300, 99, "LQ (remark code)", specLQ},
	sPLB:        {100, 0, "PLB", specPLB},
}

// loopSlots are the slot ranges whose counts reset when a loop starts.
var loopSlots = [...][2]slot{
	loopHeader: {sBPR, sDTM405},
	loop1000A:  {sN1PR, sPERIC},
	loop1000B:  {sN1PE, sRDM},
	loop2000:   {sLX, sTS2},
	loop2100:   {sCLP, sQTYClaim},
	loop2110:   {sSVC, sLQ},
	loopFooter: {sPLB, sPLB},
}

// loc is where a segment was, for findings made after it is gone.
type loc struct {
	off         int64
	num, setPos int
	id          string
}

func locOf(seg *x12.Segment) loc {
	return loc{off: seg.Offset, num: seg.Num, setPos: seg.SetPos, id: seg.ID()}
}

// lastSeg is where the set's latest segment was, for findings about what
// a set without SE lacks. It is updated for every segment, so it keeps
// the id as bytes: storing a string is a pointer write, which costs a
// write barrier while the garbage collector runs.
type lastSeg struct {
	off         int64
	num, setPos int
	id          [3]byte
	n           int8   // length of id, or -1 for a longer id kept in long
	long        string // an id of more than 3 characters (malformed)
}

func (l *lastSeg) set(seg *x12.Segment) {
	l.off, l.num, l.setPos = seg.Offset, seg.Num, seg.SetPos
	// byte by byte: copy would call memmove for every segment
	switch id := seg.ID(); len(id) {
	case 3:
		l.id, l.n = [3]byte{id[0], id[1], id[2]}, 3
	case 2:
		l.id, l.n = [3]byte{id[0], id[1]}, 2
	case 1:
		l.id, l.n = [3]byte{id[0]}, 1
	case 0:
		l.n = 0
	default:
		l.n, l.long = -1, id
	}
}

func (l *lastSeg) loc() loc {
	id := l.long
	if l.n >= 0 {
		id = string(l.id[:l.n])
	}
	return loc{off: l.off, num: l.num, setPos: l.setPos, id: id}
}

// maxPendingReversals bounds the reversals waiting for their correction,
// so a set full of unmatched reversals cannot grow memory without limit.
const maxPendingReversals = 4096

// parser builds the model of one transaction set at a time and checks it:
// loop structure, segment repeats, code values, amounts and balancing, and
// when full is set, every element against the TR3 (x12.SegSpec).
type parser struct {
	file string
	full bool // element-level TR3 checks and code dates
	// stableInput says the segments come from an x12.Reader with
	// KeepBuffers, so strings may be views of them (x12.StableString);
	// claimViews limits that to the claim loops (2100, 2110), whose
	// strings live only until the claim is returned (Reader.ReuseClaims
	// releases the input); stable says whether the current loop may.
	stableInput bool
	claimViews  bool
	stable      bool
	recycle     bool // reuse one claim and its arenas (validation, Reader.ReuseClaims)
	collect     bool // append claims to Remittance.Claims
	out         func(x12.Finding)
	onEnd       func(*Remittance)
	// payments, when set (with full), finds a payment the file holds
	// twice; one per file, shared by its sets' parsers.
	payments *payments
	// deferred, when set, takes the payments checks instead (Check with
	// Workers: decided in file order).
	deferred func(x12.Deferred)

	rem      *Remittance
	phase    phase
	loop     loopID
	lastPos  int16
	lastSlot slot
	counts   [nSlots]uint16
	seen     [nSlots]bool // slot seen at all in this set

	headerChecked bool
	bprLoc        loc
	haveBPR       bool

	in2000       bool
	lxLoc        loc
	claimsIn2000 int
	headerNumber int
	summary      *ProviderSummary

	claim   *ClaimPayment // the claim being read, or nil
	clpLoc  loc
	inLine  bool
	svcLoc  loc
	nLines  int
	claimNo int

	paid, plb Amount
	// the adjustments (CAS amounts) of the current claim, lines included,
	// and of its current line, summed as they are read for balancing
	claimAdj, lineAdj Amount

	pending  map[string][]*ClaimPayment
	npending int

	ready     *ClaimPayment
	lastLoc   lastSeg
	reportFn  func(x12.Finding)
	remarkBuf []string

	c *caches // borrowed from cachePool while reading; see cache

	el  elems     // the current segment's elements
	txt textChunk // the claims' strings
	pcn string    // the current claim's CLP01, for messages

	a           arenas // the claims' memory
	claimPartOK bool   // the claim's own part has its slices
	claimBuf    [2]ClaimPayment
	flip        bool
}

func newParser() *parser {
	p := &parser{pending: map[string][]*ClaimPayment{}, a: newArenas()}
	p.reportFn = p.report
	return p
}

// cache returns the parser's caches, borrowing them on first use.
func (p *parser) cache() *caches {
	if p.c == nil {
		p.c = cachePool.Get().(*caches)
	}
	return p.c
}

// release gives the caches back when the parser is done with its input.
func (p *parser) release() {
	if p.c != nil {
		cachePool.Put(p.c)
		p.c = nil
	}
}

// begin starts a new transaction set.
func (p *parser) begin(env Envelope, version string) {
	p.rem = &Remittance{Envelope: env, Version: version}
	p.phase, p.loop, p.lastPos = phHeader, loopHeader, 0
	p.stable = p.viewsIn(loopHeader)
	p.counts = [nSlots]uint16{}
	p.seen = [nSlots]bool{}
	p.headerChecked, p.haveBPR = false, false
	p.in2000, p.claimsIn2000, p.headerNumber, p.summary = false, 0, 0, nil
	p.claim, p.inLine, p.claimNo = nil, false, 0
	p.paid, p.plb = 0, 0
	if p.npending > 0 {
		clear(p.pending)
		p.npending = 0
	}
	// p.ready is left alone: the previous set's last claim may still be
	// waiting for the Reader.
}

func (p *parser) report(f x12.Finding) {
	if f.File == "" {
		f.File = p.file
	}
	p.out(f)
}

func (p *parser) at(seg *x12.Segment, sev x12.Severity, rule string, elem, comp int, format string, args ...any) {
	f := x12.At(seg, sev, rule, elem, comp, format, args...)
	f.Loop = loopNames[p.loop]
	p.report(f)
}

func (p *parser) atLoc(l loc, loop loopID, sev x12.Severity, rule string, elem int, format string, args ...any) {
	p.report(x12.Finding{
		Severity: sev, Rule: rule, Offset: l.off, Segment: l.num, SegmentID: l.id,
		SetPosition: l.setPos, Loop: loopNames[loop], Element: elem,
		Message: fmt.Sprintf(format, args...),
	})
}

// str makes a string of an element. When the input bytes are stable
// (x12.StableString) it is a view of them, with no copy. Otherwise it copies, and
// short values (codes, qualifiers, procedure codes) are interned so that
// the millionth "CO" or "97110" costs no allocation.
func (p *parser) str(b []byte) string {
	if p.stable {
		return x12.StableString(b)
	}
	switch {
	case len(b) == 0:
		return ""
	case len(b) <= 2:
		if s, ok := p.cache().short.get(b); ok {
			return s
		}
	case len(b) > 8:
		return string(b)
	}
	return p.cache().strs.get(b)
}

// text makes a string of a claim value (name, identifier, reference): a
// view of stable input, or else a copy in the claims' text chunk.
func (p *parser) text(b []byte) string {
	if p.stable {
		return x12.StableString(b)
	}
	return p.txt.str(b)
}

// amount parses an amount element, reporting a bad one.
func (p *parser) amount(seg *x12.Segment, i int) Amount { return p.amountOf(seg, i, p.el.at(i)) }

// amountOf is amount for element i's bytes b, when the caller has them.
func (p *parser) amountOf(seg *x12.Segment, i int, b []byte) Amount {
	if len(b) == 0 {
		return 0
	}
	a, err := ParseAmount(b)
	if err != nil {
		p.badAmount(seg, i, 0, b, err)
	}
	return a
}

func (p *parser) badAmount(seg *x12.Segment, i, comp int, b []byte, err error) {
	switch err {
	case errAmountDecimals:
		p.at(seg, x12.Error, RuleAmount, i, comp, "%s%02d amount %q has more than two decimals: X12 amounts are dollars and cents", seg.ID(), i, clip(b))
	case errAmountLarge:
		p.at(seg, x12.Error, RuleAmount, i, comp, "%s%02d amount %q is too large", seg.ID(), i, clip(b))
	default:
		p.at(seg, x12.Error, RuleAmount, i, comp, "%s%02d amount %q is not a decimal number", seg.ID(), i, clip(b))
	}
}

func (p *parser) quantity(seg *x12.Segment, i int) float64 {
	q, _ := parseQuantity(p.el.at(i))
	return q
}

func (p *parser) date(seg *x12.Segment, i int) Date {
	d, _ := parseDate8(p.el.at(i))
	return d
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

// splitComposite splits a composite element into comps, returning the
// count (at most len(comps): the last part keeps any further separators).
// comps is the caller's, on its stack: storing slices in the parser would
// cost write barriers while the garbage collector runs.
func splitComposite(b []byte, sep byte, comps *[8][]byte) int {
	n, start := 0, 0
	for i := 0; i < len(b); i++ {
		if b[i] == sep {
			comps[n] = b[start:i]
			n++
			start = i + 1
			if n == len(comps)-1 {
				break
			}
		}
	}
	comps[n] = b[start:]
	return n + 1
}

// slotLimits is the part of slots place needs for every segment, packed
// into a few cache lines.
var slotLimits = func() (t [nSlots]struct{ pos, max int16 }) {
	for i := range slots {
		t[i].pos, t[i].max = slots[i].pos, slots[i].max
	}
	return t
}()

// place records seg in slot s of the current loop: order and repeat
// checks, then the element checks when full.
func (p *parser) place(seg *x12.Segment, s slot) {
	lim := slotLimits[s]
	if lim.pos < p.lastPos {
		p.outOfOrder(seg, s)
	} else {
		p.lastPos, p.lastSlot = lim.pos, s
	}
	n := p.counts[s] + 1
	p.counts[s] = n
	p.seen[s] = true
	if int(n) == int(lim.max)+1 && lim.max > 0 {
		p.tooMany(seg, s)
	}
	if p.full {
		p.checkSpec(seg, s)
	}
}

func (p *parser) outOfOrder(seg *x12.Segment, s slot) {
	p.at(seg, x12.Error, RuleOrder, 0, 0, "%s is out of order in loop %s: the TR3 puts it before %s", slots[s].name, loopNames[p.loop], slots[p.lastSlot].name)
}

func (p *parser) tooMany(seg *x12.Segment, s slot) {
	p.at(seg, x12.Error, RuleRepeat, 0, 0, "%s appears more than %d time(s) in loop %s", slots[s].name, slots[s].max, loopNames[p.loop])
}

// slotFast is each slot's element rules compiled for x12.FastSpec.Clean.
var slotFast = func() (t [nSlots]*x12.FastSpec) {
	for i := range slots {
		if slots[i].spec != nil {
			t[i] = slots[i].spec.Fast()
		}
	}
	return t
}()

// checkSpec checks seg's elements against the TR3. Nearly every segment
// is clean: the one-pass Clean says so without naming elements or
// splitting them again, and only a segment it doubts goes through
// SegSpec.Check, which finds and words the problems.
func (p *parser) checkSpec(seg *x12.Segment, s slot) {
	if f := slotFast[s]; f != nil && !f.Clean(seg) {
		slots[s].spec.Check(seg, loopNames[p.loop], p.reportFn)
	}
}

// startLoop enters a new instance of loop l.
func (p *parser) startLoop(l loopID) {
	p.loop = l
	p.stable = p.viewsIn(l)
	p.lastPos = 0
	r := loopSlots[l]
	for s := r[0]; s <= r[1]; s++ {
		p.counts[s] = 0
	}
}

// viewsIn reports whether strings read in loop l may be views of the
// input: with claimViews, the set's own strings (header, payer, payee,
// provider summary and adjustments) outlive the claims and are copies.
func (p *parser) viewsIn(l loopID) bool {
	return p.stableInput && (!p.claimViews || l == loop2100 || l == loop2110)
}

func (p *parser) unexpected(seg *x12.Segment) {
	id := seg.ID()
	qual := p.el.at(1)
	switch id {
	case "ST", "SE":
		return
	case "N1", "NM1", "REF", "DTM", "PER", "AMT", "QTY":
		p.at(seg, x12.Error, RuleUnexpected, 0, 0, "%s*%s is not allowed in loop %s of an 835", id, clip(qual), loopNames[p.loop])
	default:
		p.at(seg, x12.Error, RuleUnexpected, 0, 0, "segment %s is not allowed in loop %s of an 835 (005010X221A1)", id, loopNames[p.loop])
	}
}

// advance moves to phase to, closing the phases in between and reporting
// the required loops and segments they lacked. It reports false when to is
// behind the current phase (a segment out of order).
func (p *parser) advance(seg *x12.Segment, to phase) bool {
	if to < p.phase {
		return false
	}
	for p.phase < to {
		p.leave(seg, p.phase)
		p.phase++
	}
	return true
}

// leave checks what phase ph required, at the segment that ends it.
func (p *parser) leave(seg *x12.Segment, ph phase) {
	loops := [...]loopID{phHeader: loopHeader, ph1000A: loop1000A, ph1000B: loop1000B, phDetail: loop2000, phFooter: loopFooter}
	missing := func(rule, format string, args ...any) {
		l := p.lastLoc.loc()
		if seg != nil {
			l = locOf(seg)
		}
		p.atLoc(l, loops[ph], x12.Error, rule, 0, format, args...)
	}
	switch ph {
	case phHeader:
		if !p.seen[sBPR] {
			missing(RuleBPRMissing, "BPR (financial information) is missing: it is required as the first segment after ST")
		}
		if !p.seen[sTRN] {
			missing(RuleTRNMissing, "TRN (reassociation trace number) is missing: it is required in the header to tie the remittance to its payment")
		}
	case ph1000A:
		if !p.seen[sN1PR] {
			missing(RulePayerMissing, "payer loop 1000A (N1*PR) is missing: it is required after the header")
			return
		}
		if !p.seen[sN3PR] || !p.seen[sN4PR] {
			missing(RulePayerAddress, "payer address (N3 and N4) is required in loop 1000A")
		}
		if !p.seen[sPERBL] {
			missing(RulePayerContact, "payer technical contact (PER*BL) is required in loop 1000A")
		}
	case ph1000B:
		if !p.seen[sN1PE] {
			missing(RulePayeeMissing, "payee loop 1000B (N1*PE) is missing: it is required after the payer loop")
		}
	case phDetail:
		p.close2000(seg)
	}
}

// segment handles one segment of the set (ST..SE).
func (p *parser) segment(seg *x12.Segment) {
	p.lastLoc.set(seg)
	p.el.split(seg)
	e1 := p.el.at(1)
	switch seg.ID() {
	case "ST":
		p.rem.Control = p.str(p.el.at(2))
		if v := p.el.at(3); len(v) > 0 {
			p.rem.Version = string(v)
		}
		if p.full && p.rem.Version != "" && p.rem.Version != "005010X221A1" {
			p.at(seg, x12.Warning, RuleVersion, 3, 0, "835 version %q is not 005010X221A1: checked against 005010X221A1 anyway", p.rem.Version)
		}
		return
	case "SE":
		return
	case "BPR":
		if p.header(seg, sBPR) {
			p.bpr(seg)
		}
	case "TRN":
		if p.header(seg, sTRN) {
			pm := &p.rem.Payment
			pm.TraceType = p.str(e1)
			pm.TraceNumber = string(p.el.at(2))
			pm.PayerID = p.str(p.el.at(3))
			pm.TraceSupplemental = string(p.el.at(4))
			if p.full && p.payments != nil {
				p.payments.check(p, seg)
			}
		}
	case "CUR":
		if p.header(seg, sCUR) {
			p.rem.Payment.Currency = p.str(p.el.at(2))
		}
	case "REF":
		p.ref(seg, e1)
	case "DTM":
		p.dtm(seg, e1)
	case "N1":
		p.n1(seg, e1)
	case "N3", "N4":
		p.address(seg)
	case "PER":
		p.per(seg, e1)
	case "RDM":
		if p.phase == ph1000B && p.loop == loop1000B {
			p.place(seg, sRDM)
			p.rem.Payee.Delivery = Delivery{Method: p.str(e1), Name: string(p.el.at(2)), Number: string(p.el.at(3))}
		} else {
			p.unexpected(seg)
		}
	case "LX":
		p.lx(seg)
	case "TS3", "TS2":
		p.ts(seg)
	case "CLP":
		p.clp(seg)
	case "CAS":
		p.cas(seg)
	case "NM1":
		p.nm1(seg, e1)
	case "MIA":
		if p.inClaim(seg, sMIA) {
			p.mia(seg)
		}
	case "MOA":
		if p.inClaim(seg, sMOA) {
			p.moa(seg)
		}
	case "AMT":
		p.amt(seg, e1)
	case "QTY":
		p.qty(seg, e1)
	case "SVC":
		p.svc(seg)
	case "LQ":
		if p.loop != loop2110 {
			p.unexpected(seg)
			return
		}
		p.place(seg, sLQ)
		code := p.el.at(2)
		r := Remark{Qualifier: p.str(e1), Code: p.str(code)}
		if r.Qualifier == "HE" {
			r.Code = p.rarc(seg, 2, code)
		}
		p.a.rem.add(r)
	case "PLB":
		p.plbSeg(seg)
	default:
		p.unexpected(seg)
	}
}

// end finishes the set at SE (nil when the set has none).
func (p *parser) end(se *x12.Segment) {
	if se != nil {
		p.lastLoc.set(se)
	}
	p.advance(se, phEnd)
	if p.haveBPR {
		want := p.rem.Payment.Amount
		if p.rem.Payment.CreditDebit == "D" {
			want = -want
		}
		if got := p.paid - p.plb; got != want {
			debit := ""
			if p.rem.Payment.CreditDebit == "D" {
				debit = " (debit)"
			}
			p.atLoc(p.bprLoc, loopHeader, x12.Error, RuleBalancePayment, 2,
				"total payment BPR02 %s%s does not balance: claim payments (CLP04) %s − provider adjustments (PLB) %s = %s (off by %s)",
				p.rem.Payment.Amount.Fixed(), debit, p.paid.Fixed(), p.plb.Fixed(), got.Fixed(), (want - got).Fixed())
		}
	}
	if p.onEnd != nil {
		p.onEnd(p.rem)
	}
}
