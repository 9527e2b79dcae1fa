package x837p

import "github.com/claimgate/claimgate/edi/x12"

// Element-rule shorthands for the segment tables in spec.go. The tables
// follow the 005010X222A1 TR3 segment by segment; every segment lists all
// of its standard elements (not-used ones as nu) so that a value in a
// not-used position is reported as such rather than as an extra element.

var spNU = x12.NU

func spReq(t x12.Type, min, max int, codes ...string) x12.Elem { return x12.Req(t, min, max, codes...) }
func spSit(t x12.Type, min, max int, codes ...string) x12.Elem { return x12.Sit(t, min, max, codes...) }

// spUse gives e the usage u; NotUsed turns it into a plain not-used rule.
func spUse(u x12.Usage, e x12.Elem) x12.Elem {
	if u == x12.NotUsed {
		return spNU
	}
	e.Usage = u
	return e
}

// spNamed attaches a human name used in finding messages.
func spNamed(name string, e x12.Elem) x12.Elem {
	e.Name = name
	return e
}

// spComp builds a composite element rule.
func spComp(u x12.Usage, parts ...x12.Elem) x12.Elem {
	if u == x12.NotUsed {
		return spNU
	}
	return x12.Elem{Usage: u, Comp: parts}
}

// spNUs returns n not-used rules.
func spNUs(n int) []x12.Elem {
	e := make([]x12.Elem, n)
	for i := range e {
		e[i] = spNU
	}
	return e
}

// spElems concatenates element rules and runs of them.
func spElems(parts ...any) []x12.Elem {
	var out []x12.Elem
	for _, p := range parts {
		switch v := p.(type) {
		case x12.Elem:
			out = append(out, v)
		case []x12.Elem:
			out = append(out, v...)
		default:
			panic("x837p: bad element table entry") // table construction bug, caught by tests at init
		}
	}
	return out
}

func spSeg(id, name string, e ...any) *x12.SegSpec {
	return &x12.SegSpec{ID: id, Name: name, Elems: spElems(e...)}
}

// Usages, short.
const (
	spR = x12.Required
	spS = x12.Situational
	spN = x12.NotUsed
)

// spNM1 builds an NM1 rule: entity codes, entity type codes, the usage of
// last name, first, middle and suffix, and of the id qualifier/id pair
// with the qualifier codes.
func spNM1(name string, entity, typ []string, last, first, middle, suffix, id x12.Usage, idQuals ...string) *x12.SegSpec {
	return spSeg("NM1", name,
		spNamed("Entity Identifier Code", spReq(x12.ID, 2, 3, entity...)),
		spNamed("Entity Type Qualifier", spReq(x12.ID, 1, 1, typ...)),
		spUse(last, spNamed("Last or Organization Name", spSit(x12.AN, 1, 60))),
		spUse(first, spSit(x12.AN, 1, 35)),
		spUse(middle, spSit(x12.AN, 1, 25)),
		spNU,
		spUse(suffix, spSit(x12.AN, 1, 10)),
		spUse(id, spNamed("Identification Code Qualifier", spSit(x12.ID, 1, 2, idQuals...))),
		spUse(id, spNamed("Identification Code", spSit(x12.AN, 2, 80))),
		spNU, spNU, spNU,
	)
}

// spOnlyNM1 is an NM1 carrying nothing but the entity codes (2330C-G).
func spOnlyNM1(name string, entity, typ []string) *x12.SegSpec {
	return spNM1(name, entity, typ, spN, spN, spN, spN, spN)
}

func spN3(name string) *x12.SegSpec {
	return spSeg("N3", name, spReq(x12.AN, 1, 55), spSit(x12.AN, 1, 55))
}

func spN4(name string) *x12.SegSpec {
	return spSeg("N4", name,
		spNamed("City Name", spReq(x12.AN, 2, 30)),
		spNamed("State or Province Code", spSit(x12.ID, 2, 2)),
		spNamed("Postal Code", spSit(x12.ID, 3, 15)),
		spNamed("Country Code", spSit(x12.ID, 2, 3)),
		spNU, spNU,
		spNamed("Country Subdivision Code", spSit(x12.ID, 1, 3)),
	)
}

// spREF builds a REF rule with REF01 from codes; withOtherPayer adds the
// REF04 composite (2U other payer id) used at line level.
func spREF(name string, withOtherPayer bool, codes ...string) *x12.SegSpec {
	e4 := spNU
	if withOtherPayer {
		e4 = spComp(spS, spReq(x12.ID, 2, 3, "2U"), spReq(x12.AN, 1, 50), spNU, spNU, spNU, spNU)
	}
	return spSeg("REF", name,
		spNamed("Reference Identification Qualifier", spReq(x12.ID, 2, 3, codes...)),
		spNamed("Reference Identification", spReq(x12.AN, 1, 50)),
		spNU, e4)
}

// spDTP builds a DTP rule; DTP03's format is checked against DTP02 by the
// validator, so the rule keeps the standard's AN 1-35.
func spDTP(name string, quals []string, formats ...string) *x12.SegSpec {
	return spSeg("DTP", name,
		spNamed("Date Time Qualifier", spReq(x12.ID, 3, 3, quals...)),
		spNamed("Date Time Period Format Qualifier", spReq(x12.ID, 2, 3, formats...)),
		spNamed("Date Time Period", spReq(x12.AN, 1, 35)))
}

func spPER(name string, quals1, quals2 []string, more bool) *x12.SegSpec {
	e7, e8 := spNU, spNU
	if more {
		e7, e8 = spSit(x12.ID, 2, 2, quals2...), spSit(x12.AN, 1, 256)
	}
	return spSeg("PER", name,
		spNamed("Contact Function Code", spReq(x12.ID, 2, 2, "IC")),
		spSit(x12.AN, 1, 60),
		spNamed("Communication Number Qualifier", spReq(x12.ID, 2, 2, quals1...)),
		spNamed("Communication Number", spReq(x12.AN, 1, 256)),
		spSit(x12.ID, 2, 2, quals2...), spSit(x12.AN, 1, 256),
		e7, e8, spNU)
}

func spAMT(name string, qual string) *x12.SegSpec {
	return spSeg("AMT", name, spReq(x12.ID, 1, 3, qual), spNamed("Monetary Amount", spReq(x12.R, 1, 18)), spNU)
}

func spPRV(name, code string) *x12.SegSpec {
	return spSeg("PRV", name, spReq(x12.ID, 1, 3, code), spReq(x12.ID, 2, 3, "PXC"),
		spNamed("Provider Taxonomy Code", spReq(x12.AN, 1, 50)), spNU, spNU, spNU)
}

func spHL(name, level string, parent x12.Usage, child ...string) *x12.SegSpec {
	return spSeg("HL", name,
		spNamed("Hierarchical ID Number", spReq(x12.AN, 1, 12)),
		spUse(parent, spNamed("Hierarchical Parent ID Number", spSit(x12.AN, 1, 12))),
		spNamed("Hierarchical Level Code", spReq(x12.ID, 1, 2, level)),
		spNamed("Hierarchical Child Code", spReq(x12.ID, 1, 1, child...)))
}

// spHIComp is one HI composite: the qualifier codes, the code itself and
// seven not-used components.
func spHIComp(u x12.Usage, quals ...string) x12.Elem {
	return spComp(u, spNamed("Code List Qualifier Code", spReq(x12.ID, 1, 3, quals...)),
		spNamed("Industry Code", spReq(x12.AN, 1, 30)), spNU, spNU, spNU, spNU, spNU, spNU, spNU)
}

func spCRC(name string, cat []string, ind []string, codes []string, used int) *x12.SegSpec {
	e := []x12.Elem{spReq(x12.ID, 2, 2, cat...), spReq(x12.ID, 1, 1, ind...), spReq(x12.ID, 2, 3, codes...)}
	for i := 4; i <= 7; i++ {
		if i <= used {
			e = append(e, spSit(x12.ID, 2, 3, codes...))
		} else {
			e = append(e, spNU)
		}
	}
	return spSeg("CRC", name, e)
}

func spCAS(name string) *x12.SegSpec {
	e := []x12.Elem{
		spNamed("Claim Adjustment Group Code", spReq(x12.ID, 1, 2, "CO", "CR", "OA", "PI", "PR")),
		spNamed("Adjustment Reason Code", spReq(x12.ID, 1, 5)),
		spNamed("Adjustment Amount", spReq(x12.R, 1, 18)),
		spSit(x12.R, 1, 15),
	}
	for i := 0; i < 5; i++ {
		e = append(e, spSit(x12.ID, 1, 5), spSit(x12.R, 1, 18), spSit(x12.R, 1, 15))
	}
	return spSeg("CAS", name, e)
}

func spCN1(name string) *x12.SegSpec {
	return spSeg("CN1", name, spReq(x12.ID, 2, 2, "01", "02", "03", "04", "05", "06", "09"),
		spSit(x12.R, 1, 18), spSit(x12.R, 1, 6), spSit(x12.AN, 1, 50), spSit(x12.R, 1, 6), spSit(x12.AN, 1, 30))
}

func spCR1(name string) *x12.SegSpec {
	return spSeg("CR1", name, spSit(x12.ID, 2, 2, "LB"), spSit(x12.R, 1, 10), spNU,
		spReq(x12.ID, 1, 1, "A", "B", "C", "D", "E"), spReq(x12.ID, 2, 2, "DH"), spReq(x12.R, 1, 15),
		spNU, spNU, spSit(x12.AN, 1, 80), spSit(x12.AN, 1, 80))
}

func spK3(name string) *x12.SegSpec {
	return spSeg("K3", name, spReq(x12.AN, 1, 80), spNU, spNU)
}

func spNTE(name string, codes ...string) *x12.SegSpec {
	return spSeg("NTE", name, spReq(x12.ID, 3, 3, codes...), spReq(x12.AN, 1, 80))
}

func spPWK(name string) *x12.SegSpec {
	return spSeg("PWK", name,
		spNamed("Attachment Report Type Code", spReq(x12.ID, 2, 2, spPWKTypes...)),
		spNamed("Attachment Transmission Code", spReq(x12.ID, 1, 2, "AA", "BM", "EL", "EM", "FT", "FX")),
		spNU, spNU, spSit(x12.ID, 1, 2, "AC"), spNamed("Attachment Control Number", spSit(x12.AN, 2, 80)), spNU, spNU, spNU)
}

var spPWKTypes = []string{"03", "04", "05", "06", "07", "08", "09", "10", "11", "13", "15", "21",
	"A3", "A4", "AM", "AS", "B2", "B3", "B4", "BR", "BS", "BT", "CB", "CK", "CT", "D2", "DA", "DB",
	"DG", "DJ", "DS", "EB", "HC", "HR", "I5", "IR", "LA", "M1", "MT", "NN", "OB", "OC", "OD", "OE",
	"OX", "OZ", "P4", "P5", "PE", "PN", "PO", "PQ", "PY", "PZ", "RB", "RR", "RT", "RX", "SG", "V5", "XP"}

// spHCP builds the pricing segment; line adds the repriced procedure
// elements HCP09-12 used at service line level.
func spHCP(name string, line bool, methods ...string) *x12.SegSpec {
	mid := spNUs(5)
	if line {
		mid = []x12.Elem{spNU, spSit(x12.ID, 2, 2, "ER", "HC", "IV", "WK"), spSit(x12.AN, 1, 48), spSit(x12.ID, 2, 2, "MJ", "UN"), spSit(x12.R, 1, 15)}
	}
	return spSeg("HCP", name,
		spNamed("Pricing Methodology", spReq(x12.ID, 2, 2, methods...)),
		spReq(x12.R, 1, 18), spSit(x12.R, 1, 18), spSit(x12.AN, 1, 50), spSit(x12.R, 1, 9), spSit(x12.AN, 1, 50), spSit(x12.R, 1, 18),
		mid,
		spSit(x12.ID, 2, 2, "T1", "T2", "T3", "T4", "T5", "T6"), spSit(x12.ID, 1, 2, "1", "2", "3", "4", "5"),
		spSit(x12.ID, 1, 2, "1", "2", "3", "4", "5", "6"))
}

func spDMG(name string) *x12.SegSpec {
	return spSeg("DMG", name, spReq(x12.ID, 2, 3, "D8"), spNamed("Birth Date", spReq(x12.AN, 1, 35)),
		spNamed("Gender Code", spReq(x12.ID, 1, 1, "F", "M", "U")), spNUs(8))
}

func spPAT(name string, rel x12.Usage) *x12.SegSpec {
	return spSeg("PAT", name,
		spUse(rel, spNamed("Individual Relationship Code", spReq(x12.ID, 2, 2, "01", "19", "20", "21", "39", "40", "53", "G8"))),
		spNU, spNU, spNU,
		spSit(x12.ID, 2, 3, "D8"), spNamed("Patient Death Date", spSit(x12.AN, 1, 35)),
		spSit(x12.ID, 2, 2, "01"), spNamed("Patient Weight", spSit(x12.R, 1, 10)), spSit(x12.ID, 1, 1, "Y"))
}

var spClaimFiling = []string{"11", "12", "13", "14", "15", "16", "17", "AM", "BL", "CH", "CI", "DS",
	"FI", "HM", "LM", "MA", "MB", "MC", "OF", "TV", "VA", "WC", "ZZ"}

var spPayerSeq = []string{"A", "B", "C", "D", "E", "F", "G", "H", "P", "S", "T", "U"}

var spInsuranceType = []string{"12", "13", "14", "15", "16", "41", "42", "43", "47"}

func spSBR(name string, rel x12.Elem) *x12.SegSpec {
	return spSeg("SBR", name,
		spNamed("Payer Responsibility Sequence Number Code", spReq(x12.ID, 1, 1, spPayerSeq...)),
		rel,
		spNamed("Group or Policy Number", spSit(x12.AN, 1, 50)),
		spNamed("Group Name", spSit(x12.AN, 1, 60)),
		spNamed("Insurance Type Code", spSit(x12.ID, 1, 3, spInsuranceType...)),
		spNU, spNU, spNU,
		spNamed("Claim Filing Indicator Code", spSit(x12.ID, 1, 2, spClaimFiling...)))
}

// spProcComp is the composite medical procedure identifier (SV101, SVD03).
func spProcComp(quals ...string) x12.Elem {
	return spComp(spR,
		spNamed("Product or Service ID Qualifier", spReq(x12.ID, 2, 2, quals...)),
		spNamed("Procedure Code", spReq(x12.AN, 1, 48)),
		spNamed("Procedure Modifier", spSit(x12.AN, 2, 2)), spNamed("Procedure Modifier", spSit(x12.AN, 2, 2)),
		spNamed("Procedure Modifier", spSit(x12.AN, 2, 2)), spNamed("Procedure Modifier", spSit(x12.AN, 2, 2)),
		spNamed("Description", spSit(x12.AN, 1, 80)), spNU)
}
