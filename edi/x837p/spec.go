package x837p

import "github.com/claimgate/claimgate/edi/x12"

// The 837P (005010X222A1) as a tree of loops. Each loop lists its
// segments and child loops in guide order; a segment variant is told from
// its siblings of the same id by a qualifier element (NM101, REF01, DTP01,
// HL03, HI01-1 ...), as the TR3 does.

// vdHook names the extra (non-table) checks run for a segment.
type vdHook uint8

const (
	vdHookNone vdHook = iota
	vdHookHL
	vdHookSBR // 2000B subscriber information
	vdHookSubPAT
	vdHookPatPAT
	vdHookDMG   // birth date (2010BA or 2010CA)
	vdHookCLM   // claim header
	vdHookREFF8 // payer claim control number
	vdHookDx    // HI diagnosis codes
	vdHookLX
	vdHookSV1
	vdHookDTP472
	vdHookCAS // claim adjustment reason codes
)

// vdKind marks the loops whose opening or closing runs extra checks.
type vdKind uint8

const (
	vdKindPlain vdKind = iota
	vdKind2000A
	vdKind2000B
	vdKind2000C
	vdKind2010BA
	vdKind2010CA
	vdKind2300
	vdKind2400
)

// vdSegDef is one segment variant in one loop.
type vdSegDef struct {
	spec *x12.SegSpec
	key  uint32 // packed segment id
	// qual is the element (1-based, 0 = none) whose codes tell this
	// variant apart; qcomp its component (0 for a simple element). qual2,
	// when set, is a second element whose codes must also match.
	qual, qcomp, qual2 int
	hook               vdHook
	// codes and codes2 are the qualifier codes, taken from the spec.
	codes, codes2 []string
	// fast is the spec compiled for the allocation-free pre-check.
	fast vdFast
}

// vdItem is a segment variant or a child loop, in guide order.
type vdItem struct {
	seg   *vdSegDef
	loop  *vdLoop
	usage x12.Usage // Required or Situational
	max   int       // most repetitions; 0 = unbounded
	// group is the index of the first item of the run this item belongs
	// to: neighbours starting with the same segment id (the REF or DTP
	// variants, the NM1 loops) share one position in the standard, so
	// their relative order is free.
	group int
	// head is the segment variant the item starts with: seg itself, or
	// the child loop's first segment.
	head *vdSegDef
}

// vdLoop is one loop of the guide. items[0] is the segment that starts it.
type vdLoop struct {
	id    string
	name  string
	kind  vdKind
	items []vdItem
	// cand[n] lists the items (after the first) that start with the
	// segment id numbered n by vdIDs, in order.
	cand [][]int16
	// required lists the required items after the first.
	required []int16
}

// vdIDIndex numbers the segment ids the guide uses (1..), so that each
// loop can keep its candidates per id in a slice.
type vdIDIndex struct {
	keys [256]uint32
	nums [256]uint8
	n    int
}

func (x *vdIDIndex) num(key uint32) int {
	for h := (key * 2654435761) >> 24; ; h = (h + 1) & 255 {
		switch x.keys[h] {
		case key:
			return int(x.nums[h])
		case 0:
			return 0
		}
	}
}

func (x *vdIDIndex) add(key uint32) {
	if x.num(key) != 0 {
		return
	}
	h := (key * 2654435761) >> 24
	for x.keys[h] != 0 {
		h = (h + 1) & 255
	}
	x.n++
	x.keys[h], x.nums[h] = key, uint8(x.n)
}

// vdIDs indexes the tree rooted at vdLoopRoot; building it also fills
// every loop's cand table.
var vdIDs = indexTree(vdLoopRoot)

func indexTree(root *vdLoop) *vdIDIndex {
	x := &vdIDIndex{}
	var loops []*vdLoop
	seen := map[*vdLoop]bool{}
	var walk func(l *vdLoop)
	walk = func(l *vdLoop) {
		if seen[l] {
			return
		}
		seen[l] = true
		loops = append(loops, l)
		for i := range l.items {
			x.add(l.items[i].head.key)
			if l.items[i].loop != nil {
				walk(l.items[i].loop)
			}
		}
	}
	walk(root)
	for _, l := range loops {
		l.cand = make([][]int16, x.n+1)
		for i := 1; i < len(l.items); i++ {
			if l.items[i].usage == x12.Required {
				l.required = append(l.required, int16(i))
			}
			n := x.num(l.items[i].head.key)
			l.cand[n] = append(l.cand[n], int16(i))
		}
	}
	return x
}

// vdMaxItems bounds the items of one loop (2300 has the most).
const vdMaxItems = 80

// vdKey packs a segment id and its length into a number; ids longer than
// three characters (which the reader reports) get keys no guide id has.
func vdKey(id string) uint32 {
	k := uint32(len(id)) << 24
	for i := 0; i < len(id) && i < 3; i++ {
		k |= uint32(id[i]) << (16 - 8*i)
	}
	return k
}

func vdNewSeg(sp *x12.SegSpec, qual, qcomp int, h vdHook) *vdSegDef {
	d := &vdSegDef{spec: sp, key: vdKey(sp.ID), qual: qual, qcomp: qcomp, hook: h}
	if qual > 0 {
		e := sp.Elems[qual-1]
		if qcomp > 0 {
			e = e.Comp[qcomp-1]
		}
		d.codes = e.Codes
	}
	d.fast = compileSpec(sp)
	return d
}

// vdSeg places a segment variant: usage, max use, qualifier element.
func vdSeg(sp *x12.SegSpec, u x12.Usage, max, qual int) vdItem {
	return vdItem{seg: vdNewSeg(sp, qual, 0, vdHookNone), usage: u, max: max}
}

// vdSegHook is vdSeg with a hook.
func vdSegHook(sp *x12.SegSpec, u x12.Usage, max, qual int, h vdHook) vdItem {
	return vdItem{seg: vdNewSeg(sp, qual, 0, h), usage: u, max: max}
}

// vdHI places an HI variant, told apart by HI01-1.
func vdHI(sp *x12.SegSpec, u x12.Usage, max int, h vdHook) vdItem {
	return vdItem{seg: vdNewSeg(sp, 1, 1, h), usage: u, max: max}
}

func vdChild(l *vdLoop, u x12.Usage, max int) vdItem { return vdItem{loop: l, usage: u, max: max} }

func vdLoopOf(id, name string, k vdKind, items ...vdItem) *vdLoop {
	if len(items) > vdMaxItems {
		panic("x837p: loop " + id + " has too many items") // table bug, caught at init
	}
	for i := range items {
		items[i].head = items[i].seg
		if items[i].loop != nil {
			items[i].head = items[i].loop.items[0].seg
		}
		items[i].group = i
		if i > 1 && items[i].head.key == items[i-1].head.key {
			items[i].group = items[i-1].group
		}
	}
	return &vdLoop{id: id, name: name, kind: k, items: items}
}

// vdTrigger is a loop's first segment, qualified so it starts this loop only.
func vdTrigger(sp *x12.SegSpec, qual int, h vdHook) vdItem {
	return vdItem{seg: vdNewSeg(sp, qual, 0, h), usage: spR, max: 1}
}

// ---- Header ----

// spST and spSE leave ST02, SE01 and SE02 to the envelope checker,
// which already reports their format and counts.
var spST = spSeg("ST", "Transaction Set Header",
	spNamed("Transaction Set Identifier Code", spReq(x12.ID, 3, 3, "837")),
	spSit(x12.AN, 0, 0),
	spNamed("Implementation Convention Reference", spReq(x12.AN, 1, 35, Version)))

var spBHT = spSeg("BHT", "Beginning of Hierarchical Transaction",
	spReq(x12.ID, 4, 4, "0019"),
	spNamed("Transaction Set Purpose Code", spReq(x12.ID, 2, 2, "00", "18")),
	spNamed("Originator Application Transaction Identifier", spReq(x12.AN, 1, 50)),
	spNamed("Transaction Set Creation Date", spReq(x12.DT, 8, 8)),
	spNamed("Transaction Set Creation Time", spReq(x12.TM, 4, 8)),
	spNamed("Claim or Encounter Identifier", spReq(x12.ID, 2, 2, "CH", "RP")))

var spSE = spSeg("SE", "Transaction Set Trailer", spSit(x12.AN, 0, 0), spSit(x12.AN, 0, 0))

var vdLoop1000A = vdLoopOf("1000A", "Submitter Name", vdKindPlain,
	vdTrigger(spNM1("Submitter Name", []string{"41"}, []string{"1", "2"}, spR, spS, spS, spN, spR, "46"), 1, vdHookNone),
	vdSeg(spPER("Submitter EDI Contact Information", []string{"ED", "EM", "FX", "TE"}, []string{"ED", "EM", "EX", "FX", "TE"}, true), spR, 2, 0),
)

var vdLoop1000B = vdLoopOf("1000B", "Receiver Name", vdKindPlain,
	vdTrigger(spNM1("Receiver Name", []string{"40"}, []string{"2"}, spR, spN, spN, spN, spR, "46"), 1, vdHookNone),
)

// ---- 2000A billing provider ----

var vdLoop2010AA = vdLoopOf("2010AA", "Billing Provider Name", vdKindPlain,
	vdTrigger(spNM1("Billing Provider Name", []string{"85"}, []string{"1", "2"}, spR, spS, spS, spS, spS, "XX"), 1, vdHookNone),
	vdSeg(spN3("Billing Provider Address"), spR, 1, 0),
	vdSeg(spN4("Billing Provider City, State, ZIP Code"), spR, 1, 0),
	vdSeg(spREF("Billing Provider Tax Identification", false, "EI", "SY"), spR, 1, 1),
	vdSeg(spREF("Billing Provider UPIN/License Information", false, "0B", "1G"), spS, 2, 1),
	vdSeg(spPER("Billing Provider Contact Information", []string{"EM", "FX", "TE"}, []string{"EM", "EX", "FX", "TE"}, true), spS, 2, 0),
)

var vdLoop2010AB = vdLoopOf("2010AB", "Pay-to Address Name", vdKindPlain,
	vdTrigger(spNM1("Pay-to Address Name", []string{"87"}, []string{"1", "2"}, spN, spN, spN, spN, spN), 1, vdHookNone),
	vdSeg(spN3("Pay-to Address"), spR, 1, 0),
	vdSeg(spN4("Pay-to Address City, State, ZIP Code"), spR, 1, 0),
)

var vdLoop2010AC = vdLoopOf("2010AC", "Pay-To Plan Name", vdKindPlain,
	vdTrigger(spNM1("Pay-To Plan Name", []string{"PE"}, []string{"2"}, spR, spN, spN, spN, spR, "PI", "XV"), 1, vdHookNone),
	vdSeg(spN3("Pay-to Plan Address"), spR, 1, 0),
	vdSeg(spN4("Pay-To Plan City, State, ZIP Code"), spR, 1, 0),
	vdSeg(spREF("Pay-to Plan Secondary Identification", false, "2U", "FY", "NF"), spS, 1, 1),
	vdSeg(spREF("Pay-To Plan Tax Identification Number", false, "EI"), spR, 1, 1),
)

// ---- 2000B subscriber ----

var vdLoop2010BA = vdLoopOf("2010BA", "Subscriber Name", vdKind2010BA,
	vdTrigger(spNM1("Subscriber Name", []string{"IL"}, []string{"1", "2"}, spR, spS, spS, spS, spR, "II", "MI"), 1, vdHookNone),
	vdSeg(spN3("Subscriber Address"), spS, 1, 0),
	vdSeg(spN4("Subscriber City, State, ZIP Code"), spS, 1, 0),
	vdSegHook(spDMG("Subscriber Demographic Information"), spS, 1, 0, vdHookDMG),
	vdSeg(spREF("Subscriber Secondary Identification", false, "SY"), spS, 1, 1),
	vdSeg(spREF("Property and Casualty Claim Number", false, "Y4"), spS, 1, 1),
	vdSeg(spPER("Property and Casualty Subscriber Contact Information", []string{"TE"}, []string{"EX"}, false), spS, 1, 0),
)

var vdLoop2010BB = vdLoopOf("2010BB", "Payer Name", vdKindPlain,
	vdTrigger(spNM1("Payer Name", []string{"PR"}, []string{"2"}, spR, spN, spN, spN, spR, "PI", "XV"), 1, vdHookNone),
	vdSeg(spN3("Payer Address"), spS, 1, 0),
	vdSeg(spN4("Payer City, State, ZIP Code"), spS, 1, 0),
	vdSeg(spREF("Payer Secondary Identification", false, "2U", "EI", "FY", "NF"), spS, 3, 1),
	vdSeg(spREF("Billing Provider Secondary Identification", false, "G2", "LU"), spS, 2, 1),
)

// ---- 2000C patient ----

var vdLoop2010CA = vdLoopOf("2010CA", "Patient Name", vdKind2010CA,
	vdTrigger(spNM1("Patient Name", []string{"QC"}, []string{"1"}, spR, spS, spS, spS, spN), 1, vdHookNone),
	vdSeg(spN3("Patient Address"), spR, 1, 0),
	vdSeg(spN4("Patient City, State, ZIP Code"), spR, 1, 0),
	vdSegHook(spDMG("Patient Demographic Information"), spR, 1, 0, vdHookDMG),
	vdSeg(spREF("Property and Casualty Claim Number", false, "Y4"), spS, 1, 1),
	vdSeg(spREF("Property and Casualty Patient Identifier", false, "1W", "SY"), spS, 1, 1),
	vdSeg(spPER("Property and Casualty Patient Contact Information", []string{"TE"}, []string{"EX"}, false), spS, 1, 0),
)

// ---- 2300 claim ----

var spCLM = spSeg("CLM", "Claim Information",
	spNamed("Patient Control Number", spReq(x12.AN, 1, 38)),
	spNamed("Total Claim Charge Amount", spReq(x12.R, 1, 18)),
	spNU, spNU,
	spComp(spR,
		spNamed("Place of Service Code", spReq(x12.AN, 1, 2)),
		spNamed("Facility Code Qualifier", spReq(x12.ID, 1, 2, "B")),
		spNamed("Claim Frequency Code", spReq(x12.ID, 1, 1, "1", "6", "7", "8"))),
	spNamed("Provider or Supplier Signature Indicator", spReq(x12.ID, 1, 1, "N", "Y")),
	spNamed("Assignment or Plan Participation Code", spReq(x12.ID, 1, 1, "A", "B", "C")),
	spNamed("Benefits Assignment Certification Indicator", spReq(x12.ID, 1, 1, "N", "W", "Y")),
	spNamed("Release of Information Code", spReq(x12.ID, 1, 1, "I", "Y")),
	spNamed("Patient Signature Source Code", spSit(x12.ID, 1, 1, "P")),
	spComp(spS,
		spNamed("Related Causes Code", spReq(x12.ID, 2, 3, "AA", "EM", "OA")),
		spNamed("Related Causes Code", spSit(x12.ID, 2, 3, "AA", "EM", "OA")),
		spNU,
		spNamed("Auto Accident State or Province Code", spSit(x12.ID, 2, 2)),
		spNamed("Country Code", spSit(x12.ID, 2, 3))),
	spNamed("Special Program Indicator", spSit(x12.ID, 2, 3, "02", "03", "05", "09")),
	spNUs(7),
	spNamed("Delay Reason Code", spSit(x12.ID, 1, 2, "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "15")),
)

var spHIDx = spSeg("HI", "Health Care Diagnosis Code",
	spHIComp(spR, "ABK", "BK"),
	spHIComp(spS, "ABF", "BF"), spHIComp(spS, "ABF", "BF"), spHIComp(spS, "ABF", "BF"), spHIComp(spS, "ABF", "BF"),
	spHIComp(spS, "ABF", "BF"), spHIComp(spS, "ABF", "BF"), spHIComp(spS, "ABF", "BF"), spHIComp(spS, "ABF", "BF"),
	spHIComp(spS, "ABF", "BF"), spHIComp(spS, "ABF", "BF"), spHIComp(spS, "ABF", "BF"))

var spHIAnes = spSeg("HI", "Anesthesia Related Procedure",
	spHIComp(spR, "BP"), spHIComp(spS, "BO"), spNUs(10))

var spHICond = spSeg("HI", "Condition Information",
	spHIComp(spR, "BG"), spHIComp(spS, "BG"), spHIComp(spS, "BG"), spHIComp(spS, "BG"), spHIComp(spS, "BG"), spHIComp(spS, "BG"),
	spHIComp(spS, "BG"), spHIComp(spS, "BG"), spHIComp(spS, "BG"), spHIComp(spS, "BG"), spHIComp(spS, "BG"), spHIComp(spS, "BG"))

var vdLoop2310A = vdLoopOf("2310A", "Referring Provider Name", vdKindPlain,
	vdTrigger(spNM1("Referring Provider Name", []string{"DN", "P3"}, []string{"1"}, spR, spS, spS, spS, spS, "XX"), 1, vdHookNone),
	vdSeg(spREF("Referring Provider Secondary Identification", false, "0B", "1G", "G2"), spS, 3, 1),
)

var vdLoop2310B = vdLoopOf("2310B", "Rendering Provider Name", vdKindPlain,
	vdTrigger(spNM1("Rendering Provider Name", []string{"82"}, []string{"1", "2"}, spR, spS, spS, spS, spS, "XX"), 1, vdHookNone),
	vdSeg(spPRV("Rendering Provider Specialty Information", "PE"), spS, 1, 0),
	vdSeg(spREF("Rendering Provider Secondary Identification", false, "0B", "1G", "G2", "LU"), spS, 4, 1),
)

var vdLoop2310C = vdLoopOf("2310C", "Service Facility Location Name", vdKindPlain,
	vdTrigger(spNM1("Service Facility Location Name", []string{"77"}, []string{"2"}, spR, spN, spN, spN, spS, "XX"), 1, vdHookNone),
	vdSeg(spN3("Service Facility Location Address"), spR, 1, 0),
	vdSeg(spN4("Service Facility Location City, State, ZIP Code"), spR, 1, 0),
	vdSeg(spREF("Service Facility Location Secondary Identification", false, "0B", "G2", "LU"), spS, 3, 1),
	vdSeg(spPER("Service Facility Contact Information", []string{"TE"}, []string{"EX"}, false), spS, 1, 0),
)

var vdLoop2310D = vdLoopOf("2310D", "Supervising Provider Name", vdKindPlain,
	vdTrigger(spNM1("Supervising Provider Name", []string{"DQ"}, []string{"1"}, spR, spS, spS, spS, spS, "XX"), 1, vdHookNone),
	vdSeg(spREF("Supervising Provider Secondary Identification", false, "0B", "1G", "G2", "LU"), spS, 4, 1),
)

var vdLoop2310E = vdLoopOf("2310E", "Ambulance Pick-up Location", vdKindPlain,
	vdTrigger(spNM1("Ambulance Pick-up Location", []string{"PW"}, []string{"2"}, spN, spN, spN, spN, spN), 1, vdHookNone),
	vdSeg(spN3("Ambulance Pick-up Location Address"), spR, 1, 0),
	vdSeg(spN4("Ambulance Pick-up Location City, State, ZIP Code"), spR, 1, 0),
)

var vdLoop2310F = vdLoopOf("2310F", "Ambulance Drop-off Location", vdKindPlain,
	vdTrigger(spNM1("Ambulance Drop-off Location", []string{"45"}, []string{"2"}, spS, spN, spN, spN, spN), 1, vdHookNone),
	vdSeg(spN3("Ambulance Drop-off Location Address"), spR, 1, 0),
	vdSeg(spN4("Ambulance Drop-off Location City, State, ZIP Code"), spR, 1, 0),
)

// ---- 2320 / 2330x other subscriber ----

var spMOA = spSeg("MOA", "Outpatient Adjudication Information",
	spSit(x12.R, 1, 10), spSit(x12.R, 1, 18), spSit(x12.AN, 1, 50), spSit(x12.AN, 1, 50), spSit(x12.AN, 1, 50),
	spSit(x12.AN, 1, 50), spSit(x12.AN, 1, 50), spSit(x12.R, 1, 18), spSit(x12.R, 1, 18))

var spOI = spSeg("OI", "Other Insurance Coverage Information",
	spNU, spNU,
	spNamed("Benefits Assignment Certification Indicator", spReq(x12.ID, 1, 1, "N", "W", "Y")),
	spNamed("Patient Signature Source Code", spSit(x12.ID, 1, 1, "P")),
	spNU,
	spNamed("Release of Information Code", spReq(x12.ID, 1, 1, "I", "Y")))

var vdLoop2330A = vdLoopOf("2330A", "Other Subscriber Name", vdKindPlain,
	vdTrigger(spNM1("Other Subscriber Name", []string{"IL"}, []string{"1", "2"}, spR, spS, spS, spS, spR, "II", "MI"), 1, vdHookNone),
	vdSeg(spN3("Other Subscriber Address"), spS, 1, 0),
	vdSeg(spN4("Other Subscriber City, State, ZIP Code"), spS, 1, 0),
	vdSeg(spREF("Other Subscriber Secondary Identification", false, "SY"), spS, 1, 1),
)

var vdLoop2330B = vdLoopOf("2330B", "Other Payer Name", vdKindPlain,
	vdTrigger(spNM1("Other Payer Name", []string{"PR"}, []string{"2"}, spR, spN, spN, spN, spR, "PI", "XV"), 1, vdHookNone),
	vdSeg(spN3("Other Payer Address"), spS, 1, 0),
	vdSeg(spN4("Other Payer City, State, ZIP Code"), spS, 1, 0),
	vdSeg(spDTP("Claim Check or Remittance Date", []string{"573"}, "D8"), spS, 1, 1),
	vdSeg(spREF("Other Payer Secondary Identifier", false, "2U", "EI", "FY", "NF"), spS, 2, 1),
	vdSeg(spREF("Other Payer Prior Authorization Number", false, "G1"), spS, 1, 1),
	vdSeg(spREF("Other Payer Referral Number", false, "9F"), spS, 1, 1),
	vdSeg(spREF("Other Payer Claim Adjustment Indicator", false, "T4"), spS, 1, 1),
	vdSeg(spREF("Other Payer Claim Control Number", false, "F8"), spS, 1, 1),
)

var vdLoop2330C = vdLoopOf("2330C", "Other Payer Referring Provider", vdKindPlain,
	vdTrigger(spOnlyNM1("Other Payer Referring Provider", []string{"DN", "P3"}, []string{"1"}), 1, vdHookNone),
	vdSeg(spREF("Other Payer Referring Provider Secondary Identification", false, "0B", "1G", "G2"), spR, 3, 1),
)

var vdLoop2330D = vdLoopOf("2330D", "Other Payer Rendering Provider", vdKindPlain,
	vdTrigger(spOnlyNM1("Other Payer Rendering Provider", []string{"82"}, []string{"1", "2"}), 1, vdHookNone),
	vdSeg(spREF("Other Payer Rendering Provider Secondary Identification", false, "0B", "1G", "G2", "LU"), spR, 3, 1),
)

var vdLoop2330E = vdLoopOf("2330E", "Other Payer Service Facility Location", vdKindPlain,
	vdTrigger(spOnlyNM1("Other Payer Service Facility Location", []string{"77"}, []string{"2"}), 1, vdHookNone),
	vdSeg(spREF("Other Payer Service Facility Location Secondary Identification", false, "0B", "G2", "LU"), spR, 3, 1),
)

var vdLoop2330F = vdLoopOf("2330F", "Other Payer Supervising Provider", vdKindPlain,
	vdTrigger(spOnlyNM1("Other Payer Supervising Provider", []string{"DQ"}, []string{"1"}), 1, vdHookNone),
	vdSeg(spREF("Other Payer Supervising Provider Secondary Identification", false, "0B", "1G", "G2", "LU"), spR, 3, 1),
)

var vdLoop2330G = vdLoopOf("2330G", "Other Payer Billing Provider", vdKindPlain,
	vdTrigger(spOnlyNM1("Other Payer Billing Provider", []string{"85"}, []string{"1", "2"}), 1, vdHookNone),
	vdSeg(spREF("Other Payer Billing Provider Secondary Identification", false, "G2", "LU"), spR, 2, 1),
)

var vdLoop2320 = vdLoopOf("2320", "Other Subscriber Information", vdKindPlain,
	vdTrigger(spSBR("Other Subscriber Information",
		spNamed("Individual Relationship Code", spReq(x12.ID, 2, 2, "01", "18", "19", "20", "21", "39", "40", "53", "G8"))), 0, vdHookNone),
	vdSegHook(spCAS("Claim Level Adjustments"), spS, 5, 0, vdHookCAS),
	vdSeg(spAMT("Coordination of Benefits (COB) Payer Paid Amount", "D"), spS, 1, 1),
	vdSeg(spAMT("Coordination of Benefits (COB) Total Non-Covered Amount", "A8"), spS, 1, 1),
	vdSeg(spAMT("Remaining Patient Liability", "EAF"), spS, 1, 1),
	vdSeg(spOI, spR, 1, 0),
	vdSeg(spMOA, spS, 1, 0),
	vdChild(vdLoop2330A, spR, 1),
	vdChild(vdLoop2330B, spR, 1),
	vdChild(vdLoop2330C, spS, 2),
	vdChild(vdLoop2330D, spS, 1),
	vdChild(vdLoop2330E, spS, 1),
	vdChild(vdLoop2330F, spS, 1),
	vdChild(vdLoop2330G, spS, 1),
)

// ---- 2400 service line ----

var spSV1 = spSeg("SV1", "Professional Service",
	spProcComp("ER", "HC", "IV", "WK"),
	spNamed("Line Item Charge Amount", spReq(x12.R, 1, 18)),
	spNamed("Unit or Basis for Measurement Code", spReq(x12.ID, 2, 2, "MJ", "UN")),
	spNamed("Service Unit Count", spReq(x12.R, 1, 15)),
	spNamed("Place of Service Code", spSit(x12.AN, 1, 2)),
	spNU,
	spComp(spR,
		spNamed("Diagnosis Code Pointer", spReq(x12.N0, 1, 2, spDxPointers...)),
		spNamed("Diagnosis Code Pointer", spSit(x12.N0, 1, 2, spDxPointers...)),
		spNamed("Diagnosis Code Pointer", spSit(x12.N0, 1, 2, spDxPointers...)),
		spNamed("Diagnosis Code Pointer", spSit(x12.N0, 1, 2, spDxPointers...))),
	spNU,
	spNamed("Emergency Indicator", spSit(x12.ID, 1, 1, "Y")),
	spNU,
	spNamed("EPSDT Indicator", spSit(x12.ID, 1, 1, "Y")),
	spNamed("Family Planning Indicator", spSit(x12.ID, 1, 1, "Y")),
	spNU, spNU,
	spNamed("Co-Pay Status Code", spSit(x12.ID, 1, 1, "0")),
	spNUs(6))

var spDxPointers = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}

var spSV5 = spSeg("SV5", "Durable Medical Equipment Service",
	spComp(spR, spReq(x12.ID, 2, 2, "HC"), spReq(x12.AN, 1, 48), spNU, spNU, spNU, spNU, spNU, spNU),
	spReq(x12.ID, 2, 2, "DA"),
	spNamed("Length of Medical Necessity", spReq(x12.R, 1, 15)),
	spNamed("DME Rental Price", spReq(x12.R, 1, 18)),
	spNamed("DME Purchase Price", spReq(x12.R, 1, 18)),
	spNamed("Rental Unit Price Indicator", spReq(x12.ID, 1, 1, "1", "4", "6")),
	spNU)

var spPWKCMN = spSeg("PWK", "Durable Medical Equipment Certificate of Medical Necessity Indicator",
	spReq(x12.ID, 2, 2, "CT"), spReq(x12.ID, 1, 2, "AB", "AD", "AF", "AG", "NS"), spNUs(7))

var spCR3 = spSeg("CR3", "Durable Medical Equipment Certification",
	spReq(x12.ID, 1, 1, "I", "R", "S"), spReq(x12.ID, 2, 2, "MO"), spReq(x12.R, 1, 15), spNU, spNU)

var spQTYPT = spSeg("QTY", "Ambulance Patient Count", spReq(x12.ID, 2, 2, "PT"), spReq(x12.R, 1, 15), spNU, spNU)
var spQTYFL = spSeg("QTY", "Obstetric Anesthesia Additional Units", spReq(x12.ID, 2, 2, "FL"), spReq(x12.R, 1, 15), spNU, spNU)

var spMEA = spSeg("MEA", "Test Result",
	spReq(x12.ID, 2, 2, "OG", "TR"), spReq(x12.ID, 1, 3, "HT", "R1", "R2", "R3", "R4"), spReq(x12.R, 1, 20), spNUs(9))

var spPS1 = spSeg("PS1", "Purchased Service Information",
	spNamed("Purchased Service Provider Identifier", spReq(x12.AN, 1, 50)),
	spNamed("Purchased Service Charge Amount", spReq(x12.R, 1, 18)), spNU)

var spLIN = spSeg("LIN", "Drug Identification",
	spNU,
	spNamed("Product or Service ID Qualifier", spReq(x12.ID, 2, 2, "EN", "EO", "HI", "N4", "ON", "UK", "UP")),
	spNamed("National Drug Code or Universal Product Number", spReq(x12.AN, 1, 48)),
	spNUs(28))

var spCTP = spSeg("CTP", "Drug Quantity",
	spNU, spNU, spNU,
	spNamed("National Drug Unit Count", spReq(x12.R, 1, 15)),
	spComp(spR, spNamed("Unit or Basis for Measurement Code", spReq(x12.ID, 2, 2, "F2", "GR", "ME", "ML", "UN")),
		spNU, spNU, spNU, spNU, spNU, spNU, spNU, spNU, spNU, spNU, spNU, spNU, spNU, spNU),
	spNUs(6))

var vdLoop2410 = vdLoopOf("2410", "Drug Identification", vdKindPlain,
	vdTrigger(spLIN, 0, vdHookNone),
	vdSeg(spCTP, spR, 1, 0),
	vdSeg(spREF("Prescription or Compound Drug Association Number", false, "VY", "XZ"), spS, 1, 1),
)

func spLineREF(name string, codes ...string) *x12.SegSpec { return spREF(name, true, codes...) }

var vdLoop2420A = vdLoopOf("2420A", "Rendering Provider Name", vdKindPlain,
	vdTrigger(spNM1("Rendering Provider Name", []string{"82"}, []string{"1", "2"}, spR, spS, spS, spS, spS, "XX"), 1, vdHookNone),
	vdSeg(spPRV("Rendering Provider Specialty Information", "PE"), spS, 1, 0),
	vdSeg(spLineREF("Rendering Provider Secondary Identification", "0B", "1G", "G2", "LU"), spS, 20, 1),
)

var vdLoop2420B = vdLoopOf("2420B", "Purchased Service Provider Name", vdKindPlain,
	vdTrigger(spNM1("Purchased Service Provider Name", []string{"QB"}, []string{"1", "2"}, spN, spN, spN, spN, spS, "XX"), 1, vdHookNone),
	vdSeg(spLineREF("Purchased Service Provider Secondary Identification", "0B", "1G", "G2"), spS, 20, 1),
)

var vdLoop2420C = vdLoopOf("2420C", "Service Facility Location Name", vdKindPlain,
	vdTrigger(spNM1("Service Facility Location Name", []string{"77"}, []string{"2"}, spR, spN, spN, spN, spS, "XX"), 1, vdHookNone),
	vdSeg(spN3("Service Facility Location Address"), spR, 1, 0),
	vdSeg(spN4("Service Facility Location City, State, ZIP Code"), spR, 1, 0),
	vdSeg(spLineREF("Service Facility Location Secondary Identification", "G2", "LU"), spS, 3, 1),
)

var vdLoop2420D = vdLoopOf("2420D", "Supervising Provider Name", vdKindPlain,
	vdTrigger(spNM1("Supervising Provider Name", []string{"DQ"}, []string{"1"}, spR, spS, spS, spS, spS, "XX"), 1, vdHookNone),
	vdSeg(spLineREF("Supervising Provider Secondary Identification", "0B", "1G", "G2", "LU"), spS, 20, 1),
)

var vdLoop2420E = vdLoopOf("2420E", "Ordering Provider Name", vdKindPlain,
	vdTrigger(spNM1("Ordering Provider Name", []string{"DK"}, []string{"1"}, spR, spS, spS, spS, spS, "XX"), 1, vdHookNone),
	vdSeg(spN3("Ordering Provider Address"), spS, 1, 0),
	vdSeg(spN4("Ordering Provider City, State, ZIP Code"), spS, 1, 0),
	vdSeg(spLineREF("Ordering Provider Secondary Identification", "0B", "1G", "G2"), spS, 20, 1),
	vdSeg(spPER("Ordering Provider Contact Information", []string{"EM", "FX", "TE"}, []string{"EM", "EX", "FX", "TE"}, true), spS, 1, 0),
)

var vdLoop2420F = vdLoopOf("2420F", "Referring Provider Name", vdKindPlain,
	vdTrigger(spNM1("Referring Provider Name", []string{"DN", "P3"}, []string{"1"}, spR, spS, spS, spS, spS, "XX"), 1, vdHookNone),
	vdSeg(spLineREF("Referring Provider Secondary Identification", "0B", "1G", "G2"), spS, 20, 1),
)

var vdLoop2420G = vdLoopOf("2420G", "Ambulance Pick-up Location", vdKindPlain,
	vdTrigger(spNM1("Ambulance Pick-up Location", []string{"PW"}, []string{"2"}, spN, spN, spN, spN, spN), 1, vdHookNone),
	vdSeg(spN3("Ambulance Pick-up Location Address"), spR, 1, 0),
	vdSeg(spN4("Ambulance Pick-up Location City, State, ZIP Code"), spR, 1, 0),
)

var vdLoop2420H = vdLoopOf("2420H", "Ambulance Drop-off Location", vdKindPlain,
	vdTrigger(spNM1("Ambulance Drop-off Location", []string{"45"}, []string{"2"}, spS, spN, spN, spN, spN), 1, vdHookNone),
	vdSeg(spN3("Ambulance Drop-off Location Address"), spR, 1, 0),
	vdSeg(spN4("Ambulance Drop-off Location City, State, ZIP Code"), spR, 1, 0),
)

var spSVD = spSeg("SVD", "Line Adjudication Information",
	spNamed("Other Payer Primary Identifier", spReq(x12.AN, 2, 80)),
	spNamed("Service Line Paid Amount", spReq(x12.R, 1, 18)),
	spProcComp("ER", "HC", "IV", "WK"),
	spNU,
	spNamed("Paid Service Unit Count", spReq(x12.R, 1, 15)),
	spNamed("Bundled or Unbundled Line Number", spSit(x12.N0, 1, 6)))

var vdLoop2430 = vdLoopOf("2430", "Line Adjudication Information", vdKindPlain,
	vdTrigger(spSVD, 0, vdHookNone),
	vdSegHook(spCAS("Line Adjustment"), spS, 5, 0, vdHookCAS),
	vdSeg(spDTP("Line Check or Remittance Date", []string{"573"}, "D8"), spR, 1, 1),
	vdSeg(spAMT("Remaining Patient Liability", "EAF"), spS, 1, 1),
)

var vdLoop2440 = vdLoopOf("2440", "Form Identification Code", vdKindPlain,
	vdTrigger(spSeg("LQ", "Form Identification Code", spReq(x12.ID, 1, 3, "AS", "UT"), spNamed("Form Identifier", spReq(x12.AN, 1, 30))), 0, vdHookNone),
	vdSeg(spSeg("FRM", "Supporting Documentation",
		spNamed("Question Number/Letter", spReq(x12.AN, 1, 20)), spSit(x12.ID, 1, 1, "N", "W", "Y"),
		spSit(x12.AN, 1, 50), spSit(x12.DT, 8, 8), spSit(x12.R, 1, 6)), spR, 99, 0),
)

var vdLoop2400 = vdLoopOf("2400", "Service Line Number", vdKind2400,
	vdTrigger(spSeg("LX", "Service Line Number", spNamed("Assigned Number", spReq(x12.N0, 1, 6))), 0, vdHookLX),
	vdSegHook(spSV1, spR, 1, 0, vdHookSV1),
	vdSeg(spSV5, spS, 1, 0),
	vdPWKCMN(),
	vdSeg(spPWK("Line Supplemental Information"), spS, 10, 1),
	vdSeg(spCR1("Ambulance Transport Information"), spS, 1, 0),
	vdSeg(spCR3, spS, 1, 0),
	vdSeg(spCRC("Ambulance Certification", []string{"07"}, []string{"N", "Y"}, []string{"01", "04", "05", "06", "07", "08", "09", "12"}, 7), spS, 3, 1),
	vdSeg(spCRC("Hospice Employee Indicator", []string{"70"}, []string{"N", "Y"}, []string{"65"}, 3), spS, 1, 1),
	vdSeg(spCRC("Condition Indicator/Durable Medical Equipment", []string{"09"}, []string{"N", "Y"}, []string{"38", "ZV"}, 4), spS, 1, 1),
	vdSegHook(spDTP("Date - Service Date", []string{"472"}, "D8", "RD8"), spR, 1, 1, vdHookDTP472),
	vdSeg(spDTP("Date - Prescription Date", []string{"471"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Certification Revision/Recertification Date", []string{"607"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Begin Therapy Date", []string{"463"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Last Certification Date", []string{"461"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Last Seen Date", []string{"304"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Test Date", []string{"738", "739"}, "D8"), spS, 2, 1),
	vdSeg(spDTP("Date - Shipped Date", []string{"011"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Last X-ray Date", []string{"455"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Initial Treatment Date", []string{"454"}, "D8"), spS, 1, 1),
	vdSeg(spQTYPT, spS, 1, 1),
	vdSeg(spQTYFL, spS, 1, 1),
	vdSeg(spMEA, spS, 5, 0),
	vdSeg(spCN1("Contract Information"), spS, 1, 0),
	vdSeg(spREF("Repriced Line Item Reference Number", false, "9B"), spS, 1, 1),
	vdSeg(spREF("Adjusted Repriced Line Item Reference Number", false, "9D"), spS, 1, 1),
	vdSeg(spLineREF("Prior Authorization", "G1"), spS, 5, 1),
	vdSeg(spREF("Line Item Control Number", false, "6R"), spS, 1, 1),
	vdSeg(spREF("Mammography Certification Number", false, "EW"), spS, 1, 1),
	vdSeg(spREF("Clinical Laboratory Improvement Amendment (CLIA) Number", false, "X4"), spS, 1, 1),
	vdSeg(spREF("Referring Clinical Laboratory Improvement Amendment (CLIA) Facility Identification", false, "F4"), spS, 1, 1),
	vdSeg(spREF("Immunization Batch Number", false, "BT"), spS, 1, 1),
	vdSeg(spLineREF("Referral Number", "9F"), spS, 5, 1),
	vdSeg(spAMT("Sales Tax Amount", "T"), spS, 1, 1),
	vdSeg(spAMT("Postage Claimed Amount", "F4"), spS, 1, 1),
	vdSeg(spK3("File Information"), spS, 10, 0),
	vdSeg(spNTE("Line Note", "ADD", "DCP"), spS, 1, 1),
	vdSeg(spNTE("Third Party Organization Notes", "TPO"), spS, 1, 1),
	vdSeg(spPS1, spS, 1, 0),
	vdSeg(spHCP("Line Pricing/Repricing Information", true, "00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14"), spS, 1, 0),
	vdChild(vdLoop2410, spS, 1),
	vdChild(vdLoop2420A, spS, 1),
	vdChild(vdLoop2420B, spS, 1),
	vdChild(vdLoop2420C, spS, 1),
	vdChild(vdLoop2420D, spS, 1),
	vdChild(vdLoop2420E, spS, 1),
	vdChild(vdLoop2420F, spS, 2),
	vdChild(vdLoop2420G, spS, 1),
	vdChild(vdLoop2420H, spS, 1),
	vdChild(vdLoop2430, spS, 15),
	vdChild(vdLoop2440, spS, 0),
)

var vdLoop2300 = vdLoopOf("2300", "Claim Information", vdKind2300,
	vdTrigger(spCLM, 0, vdHookCLM),
	vdSeg(spDTP("Date - Onset of Current Illness or Symptom", []string{"431"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Initial Treatment Date", []string{"454"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Last Seen Date", []string{"304"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Acute Manifestation", []string{"453"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Accident", []string{"439"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Last Menstrual Period", []string{"484"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Last X-ray Date", []string{"455"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Hearing and Vision Prescription Date", []string{"471"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Disability Dates", []string{"314", "360", "361"}, "D8", "RD8"), spS, 1, 1),
	vdSeg(spDTP("Date - Last Worked", []string{"297"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Authorized Return to Work", []string{"296"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Admission", []string{"435"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Discharge", []string{"096"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Assumed and Relinquished Care Dates", []string{"090", "091"}, "D8"), spS, 2, 1),
	vdSeg(spDTP("Date - Property and Casualty Date of First Contact", []string{"444"}, "D8"), spS, 1, 1),
	vdSeg(spDTP("Date - Repricer Received Date", []string{"050"}, "D8"), spS, 1, 1),
	vdSeg(spPWK("Claim Supplemental Information"), spS, 10, 1),
	vdSeg(spCN1("Contract Information"), spS, 1, 0),
	vdSeg(spAMT("Patient Amount Paid", "F5"), spS, 1, 1),
	vdSeg(spREF("Service Authorization Exception Code", false, "4N"), spS, 1, 1),
	vdSeg(spREF("Mandatory Medicare (Section 4081) Crossover Indicator", false, "F5"), spS, 1, 1),
	vdSeg(spREF("Mammography Certification Number", false, "EW"), spS, 1, 1),
	vdSeg(spREF("Referral Number", false, "9F"), spS, 1, 1),
	vdSeg(spREF("Prior Authorization", false, "G1"), spS, 1, 1),
	vdSegHook(spREF("Payer Claim Control Number", false, "F8"), spS, 1, 1, vdHookREFF8),
	vdSeg(spREF("Clinical Laboratory Improvement Amendment (CLIA) Number", false, "X4"), spS, 1, 1),
	vdSeg(spREF("Repriced Claim Number", false, "9A"), spS, 1, 1),
	vdSeg(spREF("Adjusted Repriced Claim Number", false, "9C"), spS, 1, 1),
	vdSeg(spREF("Investigational Device Exemption Number", false, "LX"), spS, 1, 1),
	vdSeg(spREF("Claim Identifier For Transmission Intermediaries", false, "D9"), spS, 1, 1),
	vdSeg(spREF("Medical Record Number", false, "EA"), spS, 1, 1),
	vdSeg(spREF("Demonstration Project Identifier", false, "P4"), spS, 1, 1),
	vdSeg(spREF("Care Plan Oversight", false, "1J"), spS, 1, 1),
	vdSeg(spK3("File Information"), spS, 10, 0),
	vdSeg(spNTE("Claim Note", "ADD", "CER", "DCP", "DGN", "TPO"), spS, 1, 0),
	vdSeg(spCR1("Ambulance Transport Information"), spS, 1, 0),
	vdSeg(spSeg("CR2", "Spinal Manipulation Service Information", spNUs(7),
		spNamed("Patient Condition Code", spReq(x12.ID, 1, 1, "A", "C", "D", "E", "F", "G", "M")), spNU,
		spSit(x12.AN, 1, 80), spSit(x12.AN, 1, 80), spNU), spS, 1, 0),
	vdSeg(spCRC("Ambulance Certification", []string{"07"}, []string{"N", "Y"}, []string{"01", "04", "05", "06", "07", "08", "09", "12"}, 7), spS, 3, 1),
	vdSeg(spCRC("Patient Condition Information: Vision", []string{"E1", "E2", "E3"}, []string{"N", "Y"}, []string{"L1", "L2", "L3", "L4", "L5"}, 7), spS, 3, 1),
	vdSeg(spCRC("Homebound Indicator", []string{"75"}, []string{"Y"}, []string{"IH"}, 3), spS, 1, 1),
	vdSeg(spCRC("EPSDT Referral", []string{"ZZ"}, []string{"N", "Y"}, []string{"AV", "NU", "S2", "ST"}, 5), spS, 1, 1),
	vdHI(spHIDx, spR, 1, vdHookDx),
	vdHI(spHIAnes, spS, 1, vdHookNone),
	vdHI(spHICond, spS, 2, vdHookNone),
	vdSeg(spHCP("Claim Pricing/Repricing Information", false, "00", "01", "02", "03", "04", "05", "07", "08", "09", "10", "11", "12", "13", "14"), spS, 1, 0),
	vdChild(vdLoop2310A, spS, 2),
	vdChild(vdLoop2310B, spS, 1),
	vdChild(vdLoop2310C, spS, 1),
	vdChild(vdLoop2310D, spS, 1),
	vdChild(vdLoop2310E, spS, 1),
	vdChild(vdLoop2310F, spS, 1),
	vdChild(vdLoop2320, spS, 10),
	vdChild(vdLoop2400, spR, 50),
)

var vdLoop2000C = vdLoopOf("2000C", "Patient Hierarchical Level", vdKind2000C,
	vdTrigger(spHL("Patient Hierarchical Level", "23", spR, "0"), 3, vdHookHL),
	vdSegHook(spPAT("Patient Information", spR), spR, 1, 0, vdHookPatPAT),
	vdChild(vdLoop2010CA, spR, 1),
	vdChild(vdLoop2300, spR, 100),
)

var vdLoop2000B = vdLoopOf("2000B", "Subscriber Hierarchical Level", vdKind2000B,
	vdTrigger(spHL("Subscriber Hierarchical Level", "22", spR, "0", "1"), 3, vdHookHL),
	vdSegHook(spSBR("Subscriber Information", spNamed("Individual Relationship Code", spSit(x12.ID, 2, 2, "18"))), spR, 1, 0, vdHookSBR),
	vdSegHook(spPAT("Patient Information", spN), spS, 1, 0, vdHookSubPAT),
	vdChild(vdLoop2010BA, spR, 1),
	vdChild(vdLoop2010BB, spR, 1),
	vdChild(vdLoop2300, spS, 100),
	vdChild(vdLoop2000C, spS, 0),
)

var vdLoop2000A = vdLoopOf("2000A", "Billing Provider Hierarchical Level", vdKind2000A,
	vdTrigger(spHL("Billing Provider Hierarchical Level", "20", spN, "1"), 3, vdHookHL),
	vdSeg(spPRV("Billing Provider Specialty Information", "BI"), spS, 1, 0),
	vdSeg(spSeg("CUR", "Foreign Currency Information", spReq(x12.ID, 2, 3, "85"), spNamed("Currency Code", spReq(x12.ID, 3, 3)), spNUs(19)), spS, 1, 0),
	vdChild(vdLoop2010AA, spR, 1),
	vdChild(vdLoop2010AB, spS, 1),
	vdChild(vdLoop2010AC, spS, 1),
	vdChild(vdLoop2000B, spR, 0),
)

// vdLoopRoot is the transaction set: header, 1000A/B and the billing
// provider hierarchy. SE's presence is the envelope checker's business.
var vdLoopRoot = vdLoopOf("", "Transaction Set", vdKindPlain,
	vdTrigger(spST, 0, vdHookNone),
	vdSeg(spBHT, spR, 1, 0),
	vdChild(vdLoop1000A, spR, 1),
	vdChild(vdLoop1000B, spR, 1),
	vdChild(vdLoop2000A, spR, 0),
	vdSeg(spSE, spS, 1, 0),
)

// vdPWKCMN places the CMN variant of the line PWK. It shares PWK01 "CT"
// with the general variant; PWK02 tells them apart, so it is tried first.
func vdPWKCMN() vdItem {
	d := vdNewSeg(spPWKCMN, 1, 0, vdHookNone)
	d.qual2 = 2
	d.codes2 = spPWKCMN.Elems[1].Codes
	return vdItem{seg: d, usage: spS, max: 1}
}
