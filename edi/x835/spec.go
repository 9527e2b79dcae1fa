package x835

import "github.com/claimgate/claimgate/edi/x12"

// Element rules of the 005010X221A1 segments, written from the TR3's
// element tables (usage, type, length; code lists where the guide fixes
// them). Codes whose check has an 835 rule of its own (CLP02, CAS01,
// BPR04, PLB reasons) are left out here so one problem is reported once.

func req(t x12.Type, min, max int, name string, codes ...string) x12.Elem {
	e := x12.Req(t, min, max, codes...)
	e.Name = name
	return e
}

func sit(t x12.Type, min, max int, name string, codes ...string) x12.Elem {
	e := x12.Sit(t, min, max, codes...)
	e.Name = name
	return e
}

var nu = x12.NU

func nus(n int) []x12.Elem {
	out := make([]x12.Elem, n)
	for i := range out {
		out[i] = nu
	}
	return out
}

func cat(parts ...[]x12.Elem) []x12.Elem {
	var out []x12.Elem
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func el(e ...x12.Elem) []x12.Elem { return e }

var (
	specBPR = &x12.SegSpec{ID: "BPR", Name: "Financial Information", Elems: cat(el(
		req(x12.ID, 1, 2, "Transaction Handling Code", "C", "D", "H", "I", "P", "U", "X"),
		req(x12.R, 1, 18, "Total Actual Provider Payment Amount"),
		req(x12.ID, 1, 1, "Credit or Debit Flag Code", "C", "D"),
		req(x12.ID, 3, 3, "Payment Method Code"),
		sit(x12.ID, 1, 10, "Payment Format Code", "CCP", "CTX"),
		sit(x12.ID, 2, 2, "DFI Identification Number Qualifier", "01", "04"),
		sit(x12.AN, 3, 12, "Sender DFI Identifier"),
		sit(x12.ID, 1, 3, "Account Number Qualifier", "DA"),
		sit(x12.AN, 1, 35, "Sender Bank Account Number"),
		sit(x12.AN, 10, 10, "Payer Identifier"),
		sit(x12.AN, 9, 9, "Originating Company Supplemental Code"),
		sit(x12.ID, 2, 2, "DFI Identification Number Qualifier", "01", "04"),
		sit(x12.AN, 3, 12, "Receiver or Provider Bank ID Number"),
		sit(x12.ID, 1, 3, "Account Number Qualifier", "DA", "SG"),
		sit(x12.AN, 1, 35, "Receiver or Provider Account Number"),
		req(x12.DT, 8, 8, "Check Issue or EFT Effective Date"),
	), nus(5))}

	specTRN = &x12.SegSpec{ID: "TRN", Name: "Reassociation Trace Number", Elems: el(
		req(x12.ID, 1, 2, "Trace Type Code", "1"),
		req(x12.AN, 1, 50, "Check or EFT Trace Number"),
		req(x12.AN, 10, 10, "Payer Identifier"),
		sit(x12.AN, 1, 50, "Originating Company Supplemental Code"),
	)}

	specCUR = &x12.SegSpec{ID: "CUR", Name: "Foreign Currency Information", Elems: cat(el(
		req(x12.ID, 2, 3, "Entity Identifier Code", "PR"),
		req(x12.ID, 3, 3, "Currency Code"),
	), nus(19))}

	specREFHeader = &x12.SegSpec{ID: "REF", Name: "Receiver or Version Identification", Elems: el(
		req(x12.ID, 2, 3, "Reference Identification Qualifier", "EV", "F2"),
		req(x12.AN, 1, 50, "Reference Identification"),
		nu, nu,
	)}

	specDTM405 = dtmSpec("Production Date", "405")

	specN1PR = &x12.SegSpec{ID: "N1", Name: "Payer Identification", Elems: el(
		req(x12.ID, 2, 3, "Entity Identifier Code", "PR"),
		req(x12.AN, 1, 60, "Payer Name"),
		sit(x12.ID, 1, 2, "Identification Code Qualifier", "XV"),
		sit(x12.AN, 2, 80, "Payer Identifier"),
		nu, nu,
	)}

	specN1PE = &x12.SegSpec{ID: "N1", Name: "Payee Identification", Elems: el(
		req(x12.ID, 2, 3, "Entity Identifier Code", "PE"),
		req(x12.AN, 1, 60, "Payee Name"),
		req(x12.ID, 1, 2, "Identification Code Qualifier", "FI", "XV", "XX"),
		req(x12.AN, 2, 80, "Payee Identification Code"),
		nu, nu,
	)}

	specN3 = &x12.SegSpec{ID: "N3", Name: "Address", Elems: el(
		req(x12.AN, 1, 55, "Address Line"),
		sit(x12.AN, 1, 55, "Address Line"),
	)}

	specN4 = &x12.SegSpec{ID: "N4", Name: "City, State, ZIP Code", Elems: el(
		req(x12.AN, 2, 30, "City Name"),
		sit(x12.ID, 2, 2, "State Code"),
		sit(x12.ID, 3, 15, "Postal Code"),
		sit(x12.ID, 2, 3, "Country Code"),
		nu, nu,
		sit(x12.ID, 1, 3, "Country Subdivision Code"),
	)}

	specREFPayer = refSpec("Additional Payer Identification", "2U", "EO", "HI", "NF")
	specREFPayee = refSpec("Payee Additional Identification", "0B", "D3", "PQ", "TJ")

	specPERCX = &x12.SegSpec{ID: "PER", Name: "Payer Business Contact Information", Elems: el(
		req(x12.ID, 2, 2, "Contact Function Code", "CX"),
		sit(x12.AN, 1, 60, "Name"),
		sit(x12.ID, 2, 2, "Communication Number Qualifier", "EM", "FX", "TE"),
		sit(x12.AN, 1, 256, "Communication Number"),
		sit(x12.ID, 2, 2, "Communication Number Qualifier", "EM", "EX", "FX", "TE"),
		sit(x12.AN, 1, 256, "Communication Number"),
		sit(x12.ID, 2, 2, "Communication Number Qualifier", "EX"),
		sit(x12.AN, 1, 256, "Communication Number"),
		nu,
	)}

	specPERBL = &x12.SegSpec{ID: "PER", Name: "Payer Technical Contact Information", Elems: el(
		req(x12.ID, 2, 2, "Contact Function Code", "BL"),
		sit(x12.AN, 1, 60, "Name"),
		sit(x12.ID, 2, 2, "Communication Number Qualifier", "EM", "TE", "UR"),
		sit(x12.AN, 1, 256, "Communication Number"),
		sit(x12.ID, 2, 2, "Communication Number Qualifier", "EM", "EX", "FX", "TE", "UR"),
		sit(x12.AN, 1, 256, "Communication Number"),
		sit(x12.ID, 2, 2, "Communication Number Qualifier", "EM", "EX", "FX", "UR"),
		sit(x12.AN, 1, 256, "Communication Number"),
		nu,
	)}

	specPERIC = &x12.SegSpec{ID: "PER", Name: "Payer Web Site", Elems: el(
		req(x12.ID, 2, 2, "Contact Function Code", "IC"),
		nu,
		req(x12.ID, 2, 2, "Communication Number Qualifier", "UR"),
		req(x12.AN, 1, 256, "Communication Number"),
		nu, nu, nu, nu, nu,
	)}

	specRDM = &x12.SegSpec{ID: "RDM", Name: "Remittance Delivery Method", Elems: el(
		req(x12.ID, 1, 2, "Report Transmission Code", "BM", "EM", "FT", "OL"),
		sit(x12.AN, 1, 60, "Name"),
		sit(x12.AN, 1, 256, "Communication Number"),
		nu, nu,
	)}

	specLX = &x12.SegSpec{ID: "LX", Name: "Header Number", Elems: el(
		req(x12.N0, 1, 6, "Assigned Number"),
	)}

	specTS3 = &x12.SegSpec{ID: "TS3", Name: "Provider Summary Information", Elems: cat(el(
		req(x12.AN, 1, 50, "Provider Identifier"),
		req(x12.AN, 1, 2, "Facility Type Code"),
		req(x12.DT, 8, 8, "Fiscal Period Date"),
		req(x12.R, 1, 15, "Total Claim Count"),
		req(x12.R, 1, 18, "Total Claim Charge Amount"),
	), nus(7), el(
		sit(x12.R, 1, 18, "Total MSP Payer Amount"),
		nu,
		sit(x12.R, 1, 18, "Total Non-Lab Charge Amount"),
		nu,
		sit(x12.R, 1, 18, "Total HCPCS Reported Charge Amount"),
		sit(x12.R, 1, 18, "Total HCPCS Payable Amount"),
		nu,
		sit(x12.R, 1, 18, "Total Professional Component Amount"),
		sit(x12.R, 1, 18, "Total MSP Patient Liability Met Amount"),
		sit(x12.R, 1, 18, "Total Patient Reimbursement Amount"),
		sit(x12.R, 1, 15, "Total PIP Claim Count"),
		sit(x12.R, 1, 18, "Total PIP Adjustment Amount"),
	))}

	specTS2 = &x12.SegSpec{ID: "TS2", Name: "Provider Supplemental Summary Information", Elems: func() []x12.Elem {
		// TS207, TS210..TS214 and TS216 are counts/averages (R 1-15); the
		// rest are amounts (R 1-18).
		out := make([]x12.Elem, 19)
		for i := range out {
			out[i] = sit(x12.R, 1, 18, "")
		}
		for _, i := range []int{7, 10, 11, 12, 13, 14, 16} {
			out[i-1].Max = 15
		}
		return out
	}()}

	specCLP = &x12.SegSpec{ID: "CLP", Name: "Claim Payment Information", Elems: el(
		req(x12.AN, 1, 38, "Patient Control Number"),
		req(x12.ID, 1, 2, "Claim Status Code"),
		req(x12.R, 1, 18, "Total Claim Charge Amount"),
		req(x12.R, 1, 18, "Claim Payment Amount"),
		sit(x12.R, 1, 18, "Patient Responsibility Amount"),
		req(x12.ID, 1, 2, "Claim Filing Indicator Code", "12", "13", "14", "15", "16", "17", "AM", "CH", "DS", "HM", "LM", "MA", "MB", "MC", "OF", "TV", "VA", "WC", "ZZ"),
		req(x12.AN, 1, 50, "Payer Claim Control Number"),
		sit(x12.AN, 1, 2, "Facility Type Code"),
		sit(x12.ID, 1, 1, "Claim Frequency Code"),
		nu,
		sit(x12.ID, 1, 4, "Diagnosis Related Group (DRG) Code"),
		sit(x12.R, 1, 15, "Diagnosis Related Group (DRG) Weight"),
		sit(x12.R, 1, 10, "Discharge Fraction"),
		nu,
	)}

	specCAS = &x12.SegSpec{ID: "CAS", Name: "Adjustment", Elems: func() []x12.Elem {
		out := []x12.Elem{req(x12.ID, 1, 2, "Claim Adjustment Group Code")}
		for k := 0; k < 6; k++ {
			use := sit
			if k == 0 {
				use = req
			}
			out = append(out,
				use(x12.ID, 1, 5, "Adjustment Reason Code"),
				use(x12.R, 1, 18, "Adjustment Amount"),
				sit(x12.R, 1, 15, "Adjustment Quantity"))
		}
		return out
	}()}

	specMIA = &x12.SegSpec{ID: "MIA", Name: "Inpatient Adjudication Information", Elems: func() []x12.Elem {
		out := make([]x12.Elem, 24)
		for i := range out {
			out[i] = sit(x12.R, 1, 18, "")
		}
		out[0] = req(x12.R, 1, 15, "Covered Days or Visits Count")
		out[2].Max, out[14].Max = 15, 15
		for _, i := range []int{5, 20, 21, 22, 23} {
			out[i-1] = sit(x12.AN, 1, 50, "Claim Payment Remark Code")
		}
		return out
	}()}

	specMOA = &x12.SegSpec{ID: "MOA", Name: "Outpatient Adjudication Information", Elems: el(
		sit(x12.R, 1, 10, "Reimbursement Rate"),
		sit(x12.R, 1, 18, "Claim HCPCS Payable Amount"),
		sit(x12.AN, 1, 50, "Claim Payment Remark Code"),
		sit(x12.AN, 1, 50, "Claim Payment Remark Code"),
		sit(x12.AN, 1, 50, "Claim Payment Remark Code"),
		sit(x12.AN, 1, 50, "Claim Payment Remark Code"),
		sit(x12.AN, 1, 50, "Claim Payment Remark Code"),
		sit(x12.R, 1, 18, "Claim ESRD Payment Amount"),
		sit(x12.R, 1, 18, "Nonpayable Professional Component Amount"),
	)}

	specREFClaim = refSpec("Other Claim Related Identification",
		// other claim related identification
		"1L", "1W", "28", "6P", "9A", "9C", "BB", "CE", "EA", "F8", "G1", "G3", "IG", "SY",
		// rendering provider identification
		"0B", "1A", "1B", "1C", "1D", "1G", "1H", "1J", "D3", "G2", "LU")

	specDTMClaim = dtmSpec("Claim Date", "232", "233", "036", "050")

	specPERClaim = &x12.SegSpec{ID: "PER", Name: "Claim Contact Information", Elems: el(
		req(x12.ID, 2, 2, "Contact Function Code", "CX"),
		sit(x12.AN, 1, 60, "Claim Contact Name"),
		req(x12.ID, 2, 2, "Communication Number Qualifier", "EM", "FX", "TE"),
		req(x12.AN, 1, 256, "Communication Number"),
		sit(x12.ID, 2, 2, "Communication Number Qualifier", "EM", "EX", "FX", "TE"),
		sit(x12.AN, 1, 256, "Communication Number"),
		sit(x12.ID, 2, 2, "Communication Number Qualifier", "EX"),
		sit(x12.AN, 1, 256, "Communication Number Extension"),
		nu,
	)}

	specAMTClaim = amtSpec("Claim Supplemental Information", "AU", "D8", "DY", "F5", "I", "NL", "T", "T2", "ZK", "ZL", "ZM", "ZN", "ZO")
	specQTYClaim = qtySpec("Claim Supplemental Information Quantity", "CA", "CD", "LA", "LE", "NE", "NR", "OU", "PS", "VS", "ZK", "ZL", "ZM", "ZN", "ZO")

	specSVC = &x12.SegSpec{ID: "SVC", Name: "Service Payment Information", Elems: el(
		procSpec("Composite Medical Procedure Identifier", true, "AD", "ER", "HC", "HP", "IV", "N4", "N6", "NU", "UI", "WK"),
		req(x12.R, 1, 18, "Line Item Charge Amount"),
		req(x12.R, 1, 18, "Line Item Provider Payment Amount"),
		sit(x12.AN, 1, 48, "National Uniform Billing Committee Revenue Code"),
		sit(x12.R, 1, 15, "Units of Service Paid Count"),
		procSpec("Composite Medical Procedure Identifier", false, "AD", "ER", "HC", "HP", "IV", "N4", "NU", "WK"),
		sit(x12.R, 1, 15, "Original Units of Service Count"),
	)}

	specDTMLine = dtmSpec("Service Date", "150", "151", "472")

	specREFLine = refSpec("Service Identification",
		// service identification
		"1S", "APC", "BB", "E9", "G1", "G3", "LU", "RB",
		// line item control number
		"6R",
		// rendering provider information
		"0B", "1A", "1B", "1C", "1D", "1G", "1H", "1J", "D3", "G2", "HPI", "SY", "TJ",
		// healthcare policy identification
		"0K")

	specAMTLine = amtSpec("Service Supplemental Amount", "B6", "KH", "T", "T2", "ZK", "ZL", "ZM", "ZN", "ZO")
	specQTYLine = qtySpec("Service Supplemental Quantity", "ZK", "ZL", "ZM", "ZN", "ZO")

	specLQ = &x12.SegSpec{ID: "LQ", Name: "Health Care Remark Codes", Elems: el(
		req(x12.ID, 1, 3, "Code List Qualifier Code", "HE", "RX"),
		req(x12.AN, 1, 30, "Remark Code"),
	)}

	specPLB = &x12.SegSpec{ID: "PLB", Name: "Provider Adjustment", Elems: func() []x12.Elem {
		out := []x12.Elem{
			req(x12.AN, 1, 50, "Provider Identifier"),
			req(x12.DT, 8, 8, "Fiscal Period Date"),
		}
		for k := 0; k < 6; k++ {
			use := sit
			if k == 0 {
				use = req
			}
			id := use(x12.AN, 0, 0, "Adjustment Identifier")
			id.Type = 0
			id.Comp = []x12.Elem{
				req(x12.ID, 2, 2, "Adjustment Reason Code"),
				sit(x12.AN, 1, 50, "Provider Adjustment Identifier"),
			}
			out = append(out, id, use(x12.R, 1, 18, "Provider Adjustment Amount"))
		}
		return out
	}()}
)

// nm1Specs are the NM1 segments of loop 2100 by NM101.
var nm1Specs = map[string]*x12.SegSpec{
	"QC": nm1Spec("Patient Name", "QC", []string{"1"}, false, false, "34", "HN", "II", "MI", "MR"),
	"IL": nm1Spec("Insured Name", "IL", []string{"1", "2"}, false, true, "FI", "II", "MI"),
	"74": nm1Spec("Corrected Patient/Insured Name", "74", []string{"1", "2"}, false, false, "C"),
	"82": nm1Spec("Service Provider Name", "82", []string{"1", "2"}, false, true, "BD", "BS", "FI", "MC", "PC", "SL", "UP", "XX"),
	"TT": nm1Spec("Crossover Carrier Name", "TT", []string{"2"}, true, true, "AD", "FI", "NI", "PI", "PP", "XV"),
	"PR": nm1Spec("Corrected Priority Payer Name", "PR", []string{"2"}, true, true, "AD", "FI", "NI", "PI", "PP", "XV"),
	"GB": nm1Spec("Other Subscriber Name", "GB", []string{"1", "2"}, false, false, "FI", "II", "MI"),
}

// nm1Spec builds an NM1 rule. org: an organization-only name (NM103
// required, NM104..NM107 not used); idReq: NM108/NM109 required.
func nm1Spec(name, entity string, types []string, org, idReq bool, quals ...string) *x12.SegSpec {
	e := el(
		req(x12.ID, 2, 3, "Entity Identifier Code", entity),
		req(x12.ID, 1, 1, "Entity Type Qualifier", types...),
		sit(x12.AN, 1, 60, "Last or Organization Name"),
		sit(x12.AN, 1, 35, "First Name"),
		sit(x12.AN, 1, 25, "Middle Name or Initial"),
		nu,
		sit(x12.AN, 1, 10, "Name Suffix"),
		sit(x12.ID, 1, 2, "Identification Code Qualifier", quals...),
		sit(x12.AN, 2, 80, "Identification Code"),
		nu, nu, nu,
	)
	if org {
		e[2].Usage = x12.Required
		e[3], e[4], e[6] = nu, nu, nu
	}
	if idReq {
		e[7].Usage, e[8].Usage = x12.Required, x12.Required
	}
	return &x12.SegSpec{ID: "NM1", Name: name, Elems: e}
}

func refSpec(name string, quals ...string) *x12.SegSpec {
	return &x12.SegSpec{ID: "REF", Name: name, Elems: el(
		req(x12.ID, 2, 3, "Reference Identification Qualifier", quals...),
		req(x12.AN, 1, 50, "Reference Identification"),
		nu, nu,
	)}
}

func dtmSpec(name string, quals ...string) *x12.SegSpec {
	return &x12.SegSpec{ID: "DTM", Name: name, Elems: el(
		req(x12.ID, 3, 3, "Date Time Qualifier", quals...),
		req(x12.DT, 8, 8, "Date"),
		nu, nu, nu, nu,
	)}
}

func amtSpec(name string, quals ...string) *x12.SegSpec {
	return &x12.SegSpec{ID: "AMT", Name: name, Elems: el(
		req(x12.ID, 1, 3, "Amount Qualifier Code", quals...),
		req(x12.R, 1, 18, "Monetary Amount"),
		nu,
	)}
}

func qtySpec(name string, quals ...string) *x12.SegSpec {
	return &x12.SegSpec{ID: "QTY", Name: name, Elems: el(
		req(x12.ID, 2, 2, "Quantity Qualifier", quals...),
		req(x12.R, 1, 15, "Quantity"),
		nu, nu,
	)}
}

func procSpec(name string, required bool, quals ...string) x12.Elem {
	desc := sit(x12.AN, 1, 80, "Procedure Code Description")
	if required {
		desc = nu // SVC01-07 is not used; SVC06-07 is
	}
	e := x12.Elem{Usage: x12.Situational, Name: name, Comp: el(
		req(x12.ID, 2, 2, "Product or Service ID Qualifier", quals...),
		req(x12.AN, 1, 48, "Procedure Code"),
		sit(x12.AN, 2, 2, "Procedure Modifier"),
		sit(x12.AN, 2, 2, "Procedure Modifier"),
		sit(x12.AN, 2, 2, "Procedure Modifier"),
		sit(x12.AN, 2, 2, "Procedure Modifier"),
		desc,
		nu,
	)}
	if required {
		e.Usage = x12.Required
	}
	return e
}
