package x837p

import (
	"bytes"
	"strconv"

	"github.com/claimgate/claimgate/edi/codes"
	"github.com/claimgate/claimgate/edi/x12"
)

// Situational rules and claim edits run after a segment's element rules.

var (
	vdKeyNM1 = vdKey("NM1")
	vdKeyDTP = vdKey("DTP")
)

// Item positions the loop-closing rules look at.
var (
	vdIdx2010BAN3  = vdItemIndex(vdLoop2010BA, "N3")
	vdIdx2010BAN4  = vdItemIndex(vdLoop2010BA, "N4")
	vdIdx2010BADMG = vdItemIndex(vdLoop2010BA, "DMG")
)

func vdItemIndex(l *vdLoop, id string) int {
	for i := range l.items {
		if l.items[i].seg != nil && l.items[i].seg.spec.ID == id {
			return i
		}
	}
	panic("x837p: no " + id + " in loop " + l.id) // table bug, caught at init
}

// vdICD10Start is the first date of service for which ICD-10-CM (ABK/ABF)
// is required and ICD-9-CM (BK/BF) no longer accepted.
const vdICD10Start = 20151001

func (c *vdChecker) hook(h vdHook, key uint32, seg *x12.Segment, loop string) {
	switch key {
	case vdKeyNM1:
		c.checkNPI(seg, loop)
	case vdKeyDTP:
		from, to, ok := c.checkDTP(seg, loop)
		if ok && h == vdHookDTP472 {
			c.serviceDate(seg, loop, from, to)
		}
		return
	}
	switch h {
	case vdHookHL:
		c.checkHL(seg, loop)
	case vdHookSBR:
		c.sbrSeen = true
		c.sbrSelf = bytes.Equal(seg.Element(2), []byte("18"))
	case vdHookSubPAT:
		if !c.sbrSelf {
			c.at(seg, loop, "837p.situational", 0, 0, "PAT in loop 2000B is used only when the subscriber is the patient (SBR02=18); otherwise patient information goes in loop 2000C")
		} else if len(seg.Element(6)) == 0 && len(seg.Element(8)) == 0 && len(seg.Element(9)) == 0 {
			c.at(seg, loop, "837p.situational", 0, 0, "PAT in loop 2000B is used only to give a death date, weight or pregnancy indicator, and has none")
		}
		c.checkPAT(seg, loop)
	case vdHookPatPAT:
		c.checkPAT(seg, loop)
	case vdHookDMG:
		c.checkDMG(seg, loop)
	case vdHookCLM:
		c.checkCLM(seg, loop)
	case vdHookREFF8:
		c.claim.hasF8 = true
		if f := c.claim.freq; f != 0 && f != '7' && f != '8' {
			c.at(seg, loop, "837p.ref-f8", 1, 0, "REF*F8 (payer claim control number) is used only on replacement or void claims (CLM05-3 = 7 or 8), and CLM05-3 is %c", f)
		}
	case vdHookDx:
		c.checkDx(seg, loop)
	case vdHookLX:
		c.claim.lines++
		if n, ok := vdInt(seg.Element(1)); ok && n != c.claim.lines {
			c.at(seg, loop, "837p.lx-sequence", 1, 0, "LX01 is %d: service lines are numbered 1, 2, 3... within each claim, so %d was expected", n, c.claim.lines)
		}
	case vdHookSV1:
		c.checkSV1(seg, loop)
	case vdHookCAS:
		for e := 2; e <= 17; e += 3 {
			if v := seg.Element(e); len(v) > 0 && !knownCARC(v) {
				c.warn(seg, loop, "837p.carc", e, 0, "CAS%02d %q is not in the claim adjustment reason code list (edi/codes CARC %s)", e, vdClip(v), codes.CARC().Version())
			}
		}
	}
}

// knownCARC looks a claim adjustment reason code up in edi/codes; when
// that list failed to load it accepts everything rather than warn on
// every code.
func knownCARC(b []byte) bool {
	set := codes.CARC()
	if _, ok := set.LookupBytes(b); ok {
		return true
	}
	return set.Err() != nil || set.Len() == 0
}

// checkNPI checks NM109 when NM108 says it is an NPI (XX).
func (c *vdChecker) checkNPI(seg *x12.Segment, loop string) {
	if !bytes.Equal(seg.Element(8), []byte("XX")) {
		return
	}
	id := seg.Element(9)
	if len(id) == 0 || validNPI(id) {
		return // a missing NM109 is the element rules' business
	}
	if len(id) != 10 || !x12.IsDigits(id) || (id[0] != '1' && id[0] != '2') {
		c.at(seg, loop, "837p.npi", 9, 0, "NM109 %q is not an NPI: an NPI is 10 digits starting with 1 or 2", vdClip(id))
		return
	}
	c.at(seg, loop, "837p.npi-check-digit", 9, 0, "NM109 %q fails the NPI check digit (Luhn over 80840 and the first nine digits gives %c)", id, npiCheckDigit(id[:9]))
}

// checkDTP checks DTP03 against the format DTP02 names and returns the
// period it gives.
func (c *vdChecker) checkDTP(seg *x12.Segment, loop string) (from, to int, ok bool) {
	format, v := seg.Element(2), seg.Element(3)
	if loop == "2300" && bytes.Equal(seg.Element(1), []byte("439")) {
		c.claim.dtp439 = true
	}
	if len(v) == 0 {
		return 0, 0, false
	}
	switch {
	case bytes.Equal(format, []byte("D8")):
		d, ok := vdDate8(v)
		if !ok {
			c.at(seg, loop, "837p.date", 3, 0, "DTP03 %q is not a valid CCYYMMDD date", vdClip(v))
			return 0, 0, false
		}
		return d, d, true
	case bytes.Equal(format, []byte("RD8")):
		from, to, ok := vdRD8(v)
		if !ok {
			c.at(seg, loop, "837p.date", 3, 0, "DTP03 %q is not a valid CCYYMMDD-CCYYMMDD date range", vdClip(v))
			return 0, 0, false
		}
		if from > to {
			c.at(seg, loop, "837p.date", 3, 0, "DTP03 date range %s ends before it starts", v)
			return 0, 0, false
		}
		return from, to, true
	}
	return 0, 0, false
}

// serviceDate applies the sanity rules to a line's service date.
func (c *vdChecker) serviceDate(seg *x12.Segment, loop string, from, to int) {
	cl := &c.claim
	if to > c.today {
		c.at(seg, loop, "837p.date", 3, 0, "service date %d is in the future (today is %d)", to, c.today)
	}
	if cl.birth > 0 && from < cl.birth {
		c.atPHI(seg, loop, "837p.date", 3, strconv.Itoa(cl.birth), "service date %d is before the patient's birth date %s", from, x12.Withheld)
	}
	if cl.minDOS == 0 || from < cl.minDOS {
		cl.minDOS = from
	}
	if to > cl.maxDOS {
		cl.maxDOS = to
	}
}

func (c *vdChecker) checkDMG(seg *x12.Segment, loop string) {
	if !bytes.Equal(seg.Element(1), []byte("D8")) {
		return
	}
	v := seg.Element(2)
	d, ok := vdDate8(v)
	if !ok {
		if len(v) > 0 {
			c.atPHI(seg, loop, "837p.date", 2, string(v), "DMG02 birth date %s is not a valid CCYYMMDD date", x12.Withheld)
		}
		return
	}
	if d > c.today {
		c.atPHI(seg, loop, "837p.date", 2, string(v), "DMG02 birth date %s is in the future (today is %d)", x12.Withheld, c.today)
	}
	if loop == "2010CA" {
		c.patBirth = d
	} else {
		c.subBirth = d
	}
}

func (c *vdChecker) checkPAT(seg *x12.Segment, loop string) {
	if (len(seg.Element(5)) == 0) != (len(seg.Element(6)) == 0) {
		c.at(seg, loop, "837p.situational", 5, 0, "PAT05 and PAT06 (death date) are used together")
	}
	if (len(seg.Element(7)) == 0) != (len(seg.Element(8)) == 0) {
		c.at(seg, loop, "837p.situational", 7, 0, "PAT07 and PAT08 (patient weight) are used together")
	}
	if bytes.Equal(seg.Element(5), []byte("D8")) {
		if v := seg.Element(6); len(v) > 0 {
			if _, ok := vdDate8(v); !ok {
				c.atPHI(seg, loop, "837p.date", 6, string(v), "PAT06 death date %s is not a valid CCYYMMDD date", x12.Withheld)
			}
		}
	}
}

func (c *vdChecker) checkHL(seg *x12.Segment, loop string) {
	id, parent := seg.Element(1), seg.Element(2)
	n, ok := vdInt(id)
	if c.hlSeq >= 0 && (!ok || n != c.hlSeq+1) {
		c.at(seg, loop, "837p.hl-sequence", 1, 0, "HL01 %q: HL ids start at 1 and go up by 1 in each transaction set, so %d was expected", vdClip(id), c.hlSeq+1)
	}
	c.hlSeq = -1
	if ok {
		c.hlSeq = n
	}
	switch loop {
	case "2000A":
		c.hlA.set(id)
		c.hlB.n = 0
	case "2000B":
		if len(parent) > 0 && !c.hlA.is(parent) {
			c.at(seg, loop, "837p.hl-parent", 2, 0, "HL02 %q does not name the billing provider level (HL %s) this subscriber level belongs to", vdClip(parent), c.hlA.String())
		}
		c.hlB.set(id)
	case "2000C":
		if len(parent) > 0 && !c.hlB.is(parent) {
			c.at(seg, loop, "837p.hl-parent", 2, 0, "HL02 %q does not name the subscriber level (HL %s) this patient level belongs to", vdClip(parent), c.hlB.String())
		}
		if c.sbrSelf {
			c.at(seg, loop, "837p.situational", 0, 0, "patient loop 2000C is used but SBR02=18 says the subscriber is the patient")
		}
	}
	if c.prevHL.n > 0 {
		child := len(parent) > 0 && c.prevHL.is(parent)
		switch {
		case c.prevHLChild == '1' && !child:
			c.atPos(c.prevHLPos, c.prevHLLoop, "837p.hl-child", 4, 0, "HL %s says it has child levels (HL04=1) but the next HL (%s) is not its child", c.prevHL.String(), vdClip(id))
		case c.prevHLChild == '0' && child:
			c.at(seg, loop, "837p.hl-child", 2, 0, "HL02 names HL %s as parent, but that HL says it has no child levels (HL04=0)", c.prevHL.String())
		}
	}
	c.prevHL.set(id)
	c.prevHLChild = 0
	if v := seg.Element(4); len(v) == 1 {
		c.prevHLChild = v[0]
	}
	c.prevHLPos = vdPosOf(seg)
	c.prevHLLoop = loop
}

func (c *vdChecker) checkCLM(seg *x12.Segment, loop string) {
	cl := &c.claim
	cl.clm = vdPosOf(seg)
	cl.total, cl.totalOK = vdAmount(seg.Element(2))
	cl.sumOK = true
	if cl.totalOK && cl.total < 0 {
		c.at(seg, loop, "837p.amount", 2, 0, "CLM02 total claim charge %s is negative", seg.Element(2))
	}
	if f := seg.Component(5, 3); len(f) == 1 {
		cl.freq = f[0]
	}
	if p := seg.Component(5, 1); len(p) > 0 && len(p) <= 2 && !vdValidPOS(p) {
		c.at(seg, loop, "tr3.code", 5, 1, "CLM05-01 place of service %q is not a two-digit CMS place of service code", p)
	}
	cc := seg.Composite(11)
	if bytes.Equal(cc.Part(1), []byte("AA")) || bytes.Equal(cc.Part(2), []byte("AA")) {
		cl.accident = true
		if len(cc.Part(4)) == 0 {
			c.warn(seg, loop, "837p.situational", 11, 4, "CLM11-04 auto accident state is required when the accident (CLM11 AA) happened in the US or Canada")
		}
	}
}

func vdValidPOS(p []byte) bool {
	return len(p) == 2 && x12.IsDigits(p) && !(p[0] == '0' && p[1] == '0')
}

// checkDx records the claim's diagnoses and checks their form.
func (c *vdChecker) checkDx(seg *x12.Segment, loop string) {
	cl := &c.claim
	for k := 1; k <= 12 && k <= seg.Len(); k++ {
		cc := seg.Composite(k)
		q, code := cc.Part(1), cc.Part(2)
		if len(q) == 0 && len(code) == 0 {
			continue
		}
		cl.dx[k] = true
		switch {
		case bytes.Equal(q, []byte("ABK")) || bytes.Equal(q, []byte("ABF")):
			cl.icd10 = true
			if len(code) > 0 && !vdICD10Shape(code) {
				c.at(seg, loop, "837p.dx-code", k, 2, "%q is not an ICD-10-CM code as transmitted: 3 to 7 letters and digits, a letter then a digit first, no decimal point", vdClip(code))
			}
		case bytes.Equal(q, []byte("BK")) || bytes.Equal(q, []byte("BF")):
			cl.icd9 = true
		}
		if len(code) == 0 {
			continue
		}
		for j := 0; j < cl.ndxCodes; j++ {
			if bytes.Equal(cl.dxCodes[j][:cl.dxLens[j]], code) {
				c.at(seg, loop, "837p.dx-duplicate", k, 2, "diagnosis %q is listed twice on the claim", vdClip(code))
				break
			}
		}
		if len(code) <= len(cl.dxCodes[0]) && cl.ndxCodes < len(cl.dxCodes) {
			cl.dxLens[cl.ndxCodes] = uint8(copy(cl.dxCodes[cl.ndxCodes][:], code))
			cl.ndxCodes++
		}
	}
}

// vdICD10Shape: a letter, a digit, then 1 to 5 letters or digits.
func vdICD10Shape(b []byte) bool {
	if len(b) < 3 || len(b) > 7 || b[0] < 'A' || b[0] > 'Z' || b[1] < '0' || b[1] > '9' {
		return false
	}
	for _, ch := range b[2:] {
		if !(ch >= '0' && ch <= '9' || ch >= 'A' && ch <= 'Z') {
			return false
		}
	}
	return true
}

func (c *vdChecker) checkSV1(seg *x12.Segment, loop string) {
	cl := &c.claim
	if v, ok := vdAmount(seg.Element(2)); ok {
		cl.sum += v
		if v < 0 {
			c.at(seg, loop, "837p.amount", 2, 0, "SV102 line charge %s is negative", seg.Element(2))
		}
	} else {
		cl.sumOK = false
	}
	if p := seg.Element(5); len(p) > 0 && len(p) <= 2 && !vdValidPOS(p) {
		c.at(seg, loop, "tr3.code", 5, 0, "SV105 place of service %q is not a two-digit CMS place of service code", p)
	}
	el := seg.Element(7)
	sep := seg.Delimiters().Component
	var seen [13]bool
	for j, start := 1, 0; len(el) > 0 && start <= len(el); j++ {
		part := el[start:]
		if k := bytes.IndexByte(part, sep); k >= 0 {
			part = part[:k]
		}
		start += len(part) + 1
		n, ok := vdInt(part)
		if !ok || n < 1 || n > 12 {
			continue // form and range are the element rules' business
		}
		switch {
		case seen[n]:
			c.at(seg, loop, "837p.dx-pointer", 7, j, "SV107-%02d points at diagnosis %d twice", j, n)
		case !cl.dx[n]:
			c.at(seg, loop, "837p.dx-pointer", 7, j, "SV107-%02d points at diagnosis %d, but the claim's HI has no HI%02d diagnosis", j, n, n)
		}
		seen[n] = true
	}
}

// vdInt parses a short unsigned decimal.
func vdInt(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 12 {
		return 0, false
	}
	n := 0
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		n = n*10 + int(ch-'0')
	}
	return n, true
}

// vdDate8 parses a CCYYMMDD date into the number CCYYMMDD.
func vdDate8(b []byte) (int, bool) {
	if !x12.ValidDate8(b) {
		return 0, false
	}
	n, _ := vdInt(b)
	return n, true
}

func vdRD8(b []byte) (from, to int, ok bool) {
	if len(b) != 17 || b[8] != '-' {
		return 0, 0, false
	}
	from, ok1 := vdDate8(b[:8])
	to, ok2 := vdDate8(b[9:])
	return from, to, ok1 && ok2
}

// vdAmountScale: amounts are kept in ten-thousandths, exact for the two
// decimals money uses and for rates up to four.
const vdAmountScale = 10000

// vdAmount parses an X12 R value into ten-thousandths. It refuses
// values it cannot hold exactly (more than 4 decimals or 14 integer digits).
func vdAmount(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	var v int64
	digits, decimals, dot := 0, 0, false
	for _, ch := range b {
		switch {
		case ch == '.' && !dot:
			dot = true
		case ch >= '0' && ch <= '9':
			if dot {
				decimals++
				if decimals > 4 {
					return 0, false
				}
			} else if digits++; digits > 14 {
				return 0, false
			}
			v = v*10 + int64(ch-'0')
		default:
			return 0, false
		}
	}
	if digits+decimals == 0 {
		return 0, false
	}
	for ; decimals < 4; decimals++ {
		v *= 10
	}
	if neg {
		v = -v
	}
	return v, true
}

// vdFmtAmount formats ten-thousandths with at least two decimals.
func vdFmtAmount(v int64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v/vdAmountScale, 10) + "." + strconv.FormatInt(vdAmountScale+v%vdAmountScale, 10)[1:]
	for len(s) > 0 && s[len(s)-1] == '0' && s[len(s)-3] != '.' {
		s = s[:len(s)-1]
	}
	if neg {
		s = "-" + s
	}
	return s
}
