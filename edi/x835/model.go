package x835

// The model follows the 005010X221A1 loops: a Remittance is one ST..SE
// transaction set (header, payer 1000A, payee 1000B, provider
// adjustments), each ClaimPayment is one 2100 loop and each ServiceLine one
// 2110 loop. Field comments name the X12 element each field comes from.
// Values are kept as sent (codes, identifiers); amounts are exact cents.
// See docs/835.md for the JSON shape.

// Remittance is the header and trailer of one 835 transaction set: who
// pays whom, how much and how, and the provider-level adjustments. Claims
// holds the claim payments only when the whole set was read into memory
// (ReadAll, or a model built to be written); the streaming Reader leaves it
// empty and hands out one ClaimPayment at a time.
type Remittance struct {
	// Envelope says where the set came from; filled by the readers,
	// ignored by the writer (which writes envelopes with x12.Writer).
	Envelope Envelope `json:"envelope,omitzero"`
	Control  string   `json:"control"`           // ST02
	Version  string   `json:"version,omitempty"` // ST03 (or GS08)

	Payment Payment `json:"payment"` // BPR, TRN, CUR
	// ReceiverID is REF*EV: the receiver of this remittance when it is
	// not the payee (e.g. a clearinghouse).
	ReceiverID string `json:"receiver_id,omitempty"`
	// VersionID is REF*F2: the payer's adjudication system version.
	VersionID      string `json:"version_id,omitempty"`
	ProductionDate Date   `json:"production_date,omitzero"` // DTM*405

	Payer Payer `json:"payer"` // loop 1000A
	Payee Payee `json:"payee"` // loop 1000B

	Claims []*ClaimPayment `json:"claims"`

	// ProviderAdjustments are the PLB adjustment pairs, one entry per
	// reason/amount pair. A positive amount reduces the payment.
	ProviderAdjustments []ProviderAdjustment `json:"provider_adjustments,omitempty"`
}

// Envelope is what the ISA and GS envelopes around a set say.
type Envelope struct {
	InterchangeControl  string `json:"interchange_control,omitempty"`  // ISA13
	InterchangeSender   string `json:"interchange_sender,omitempty"`   // ISA06 (trimmed)
	InterchangeReceiver string `json:"interchange_receiver,omitempty"` // ISA08 (trimmed)
	Usage               string `json:"usage,omitempty"`                // ISA15 P or T
	GroupControl        string `json:"group_control,omitempty"`        // GS06
	GroupSender         string `json:"group_sender,omitempty"`         // GS02
	GroupReceiver       string `json:"group_receiver,omitempty"`       // GS03
	GroupDate           string `json:"group_date,omitempty"`           // GS04 CCYYMMDD (JSON: "2019-08-16")
}

// Payment is the financial information (BPR), the reassociation trace
// (TRN) and the currency (CUR) of a remittance.
type Payment struct {
	// Handling is BPR01: C payment with remittance, D payment only,
	// H notification only, I remittance information only, P
	// prenotification, U split payment and remittance, X separate.
	Handling string `json:"handling"`
	Amount   Amount `json:"amount"` // BPR02, total actual provider payment
	// CreditDebit is BPR03: C credit, D debit.
	CreditDebit string `json:"credit_debit"`
	// Method is BPR04: ACH, CHK (check), NON (no payment), FWT (federal
	// reserve wire transfer), BOP (financial institution option).
	Method string `json:"method"`
	Format string `json:"format,omitempty"` // BPR05: CCP or CTX (ACH only)
	// SenderBank is BPR06..BPR09, the payer's bank account.
	SenderBank BankAccount `json:"sender_bank,omitzero"`
	// OriginatorID is BPR10, the payer as originating company (10
	// characters: 1 + EIN); OriginatorSupplemental is BPR11.
	OriginatorID           string `json:"originator_id,omitempty"`
	OriginatorSupplemental string `json:"originator_supplemental,omitempty"`
	// ReceiverBank is BPR12..BPR15, the provider's bank account.
	ReceiverBank BankAccount `json:"receiver_bank,omitzero"`
	Date         Date        `json:"date,omitzero"` // BPR16, check issue or EFT effective date

	TraceType string `json:"trace_type,omitempty"` // TRN01, 1
	// TraceNumber is TRN02: the check or EFT trace number that ties the
	// remittance to the money.
	TraceNumber string `json:"trace_number"`
	// PayerID is TRN03: 1 followed by the payer's EIN, or another
	// 10-character payer id.
	PayerID           string `json:"payer_id"`
	TraceSupplemental string `json:"trace_supplemental,omitempty"` // TRN04
	Currency          string `json:"currency,omitempty"`           // CUR02 (CUR01 is PR)
}

// BankAccount is a depository financial institution and account.
type BankAccount struct {
	DFIQualifier     string `json:"dfi_qualifier,omitempty"`     // 01 ABA routing, 04 Canadian
	DFI              string `json:"dfi,omitempty"`               // routing number
	AccountQualifier string `json:"account_qualifier,omitempty"` // DA demand deposit, SG savings
	Account          string `json:"account,omitempty"`
}

// Address is N3/N4.
type Address struct {
	Line1       string `json:"line1,omitempty"`               // N301
	Line2       string `json:"line2,omitempty"`               // N302
	City        string `json:"city,omitempty"`                // N401
	State       string `json:"state,omitempty"`               // N402
	Zip         string `json:"zip,omitempty"`                 // N403
	Country     string `json:"country,omitempty"`             // N404
	Subdivision string `json:"country_subdivision,omitempty"` // N407
}

// Reference is a REF segment: qualifier and value.
type Reference struct {
	Qualifier string `json:"qualifier"` // REF01
	Value     string `json:"value"`     // REF02
}

// Contact is a PER segment.
type Contact struct {
	// Function is PER01: CX customer service, BL technical, IC web site.
	Function string          `json:"function"`
	Name     string          `json:"name,omitempty"` // PER02
	Numbers  []ContactNumber `json:"numbers,omitempty"`
}

// ContactNumber is one communication number of a PER segment.
type ContactNumber struct {
	// Qualifier is TE telephone, EM e-mail, FX fax, UR web address or EX
	// extension.
	Qualifier string `json:"qualifier"`
	Number    string `json:"number"`
}

// Payer is loop 1000A.
type Payer struct {
	Name        string  `json:"name"`                   // N102
	IDQualifier string  `json:"id_qualifier,omitempty"` // N103, XV (CMS plan id)
	ID          string  `json:"id,omitempty"`           // N104
	Address     Address `json:"address,omitzero"`
	// References are REF*2U (payer id), EO (submitter id), HI (health
	// industry number), NF (NAIC code).
	References []Reference `json:"references,omitempty"`
	// Contacts are PER*CX (business), PER*BL (technical, required) and
	// PER*IC (web site).
	Contacts []Contact `json:"contacts,omitempty"`
}

// Payee is loop 1000B.
type Payee struct {
	Name string `json:"name"` // N102
	// IDQualifier is N103: XX NPI, FI federal tax id, XV CMS plan id.
	IDQualifier string `json:"id_qualifier"`
	ID          string `json:"id"` // N104
	// NPI and TaxID are derived by the Reader for convenience: NPI is
	// N104 when N103 is XX; TaxID is N104 when N103 is FI, else REF*TJ.
	// The writer ignores them.
	NPI     string  `json:"npi,omitempty"`
	TaxID   string  `json:"tax_id,omitempty"`
	Address Address `json:"address,omitzero"`
	// References are REF*TJ (tax id), PQ (payee id), D3 (NCPDP), 0B
	// (state license).
	References []Reference `json:"references,omitempty"`
	// Delivery is RDM: how the remittance was delivered.
	Delivery Delivery `json:"delivery,omitzero"`
}

// Delivery is the RDM segment.
type Delivery struct {
	Method string `json:"method"`           // RDM01: BM, EM, FT, OL
	Name   string `json:"name,omitempty"`   // RDM02
	Number string `json:"number,omitempty"` // RDM03
}

// ProviderSummary is the TS3 segment of a 2000 loop (institutional
// claims), with its TS2 supplement.
type ProviderSummary struct {
	ProviderID    string               `json:"provider_id"`                         // TS301
	FacilityCode  string               `json:"facility_code"`                       // TS302
	FiscalPeriod  Date                 `json:"fiscal_period_date"`                  // TS303
	ClaimCount    float64              `json:"claim_count"`                         // TS304
	TotalCharge   Amount               `json:"total_charge"`                        // TS305
	MSPPayer      Amount               `json:"msp_payer,omitempty"`                 // TS313
	NonLabCharge  Amount               `json:"non_lab_charge,omitempty"`            // TS315
	HCPCSReported Amount               `json:"hcpcs_reported_charge,omitempty"`     // TS317
	HCPCSPayable  Amount               `json:"hcpcs_payable,omitempty"`             // TS318
	Professional  Amount               `json:"professional_component,omitempty"`    // TS320
	MSPPatientMet Amount               `json:"msp_patient_liability_met,omitempty"` // TS321
	PatientReimb  Amount               `json:"patient_reimbursement,omitempty"`     // TS322
	PIPClaimCount float64              `json:"pip_claim_count,omitempty"`           // TS323
	PIPAdjustment Amount               `json:"pip_adjustment,omitempty"`            // TS324
	Supplemental  *SupplementalSummary `json:"supplemental,omitempty"`              // TS2
}

// SupplementalSummary is the TS2 segment (DRG totals, Medicare Part A).
type SupplementalSummary struct {
	DRG                   Amount  `json:"drg,omitempty"`                        // TS201
	FederalSpecific       Amount  `json:"federal_specific,omitempty"`           // TS202
	HospitalSpecific      Amount  `json:"hospital_specific,omitempty"`          // TS203
	DisproportionateShare Amount  `json:"disproportionate_share,omitempty"`     // TS204
	Capital               Amount  `json:"capital,omitempty"`                    // TS205
	IndirectMedicalEd     Amount  `json:"indirect_medical_education,omitempty"` // TS206
	OutlierDays           float64 `json:"outlier_days,omitempty"`               // TS207
	DayOutlier            Amount  `json:"day_outlier,omitempty"`                // TS208
	CostOutlier           Amount  `json:"cost_outlier,omitempty"`               // TS209
	AverageLengthOfStay   float64 `json:"average_drg_length_of_stay,omitempty"` // TS210
	Discharges            float64 `json:"discharges,omitempty"`                 // TS211
	CostReportDays        float64 `json:"cost_report_days,omitempty"`           // TS212
	CoveredDays           float64 `json:"covered_days,omitempty"`               // TS213
	NoncoveredDays        float64 `json:"noncovered_days,omitempty"`            // TS214
	MSPPassThrough        Amount  `json:"msp_pass_through,omitempty"`           // TS215
	AverageDRGWeight      float64 `json:"average_drg_weight,omitempty"`         // TS216
	CapitalFSPDRG         Amount  `json:"pps_capital_fsp_drg,omitempty"`        // TS217
	CapitalHSPDRG         Amount  `json:"pps_capital_hsp_drg,omitempty"`        // TS218
	DSHDRG                Amount  `json:"pps_dsh_drg,omitempty"`                // TS219
}

// ClaimPayment is one claim of a remittance: loop 2100 (CLP) with its
// service lines (2110).
type ClaimPayment struct {
	// Index is the claim's 0-based position in its transaction set.
	Index int `json:"index"`
	// HeaderNumber is LX01 of the 2000 loop the claim is in (0 is written
	// as 1); claims of one 2000 loop share ProviderSummary (TS3/TS2).
	HeaderNumber    int              `json:"header_number,omitempty"`
	ProviderSummary *ProviderSummary `json:"provider_summary,omitempty"`

	// PatientControlNumber is CLP01: the provider's claim id (837 CLM01).
	PatientControlNumber string `json:"patient_control_number"`
	// Status is CLP02: 1/2/3 processed as primary/secondary/tertiary, 4
	// denied, 19/20/21 processed and forwarded, 22 reversal of a previous
	// payment, 23 not our claim, 25 predetermination only.
	Status                string `json:"status"`
	Charge                Amount `json:"charge"`                 // CLP03
	Paid                  Amount `json:"paid"`                   // CLP04
	PatientResponsibility Amount `json:"patient_responsibility"` // CLP05 (not part of balancing)
	FilingIndicator       string `json:"filing_indicator"`       // CLP06: MC Medicaid, MB Medicare B, 12 PPO...
	// PayerClaimControlNumber is CLP07: the payer's claim number, needed
	// to correct or void the claim (837 REF*F8).
	PayerClaimControlNumber string  `json:"payer_claim_control_number"`
	FacilityCode            string  `json:"facility_code,omitempty"`      // CLP08 (place of service or bill type)
	Frequency               string  `json:"frequency,omitempty"`          // CLP09
	DRG                     string  `json:"drg,omitempty"`                // CLP11
	DRGWeight               float64 `json:"drg_weight,omitempty"`         // CLP12
	DischargeFraction       float64 `json:"discharge_fraction,omitempty"` // CLP13

	// Adjustments are the claim-level CAS adjustments, one per
	// reason/amount triplet, in file order.
	Adjustments []Adjustment `json:"adjustments,omitempty"`

	Patient Entity `json:"patient,omitzero"` // NM1*QC (required)
	// The other names are sent only in some situations; nil when absent.
	Insured                *Entity `json:"insured,omitempty"`                  // NM1*IL
	CorrectedPatient       *Entity `json:"corrected_patient,omitempty"`        // NM1*74
	RenderingProvider      *Entity `json:"rendering_provider,omitempty"`       // NM1*82
	CrossoverCarrier       *Entity `json:"crossover_carrier,omitempty"`        // NM1*TT
	CorrectedPriorityPayer *Entity `json:"corrected_priority_payer,omitempty"` // NM1*PR
	OtherSubscriber        *Entity `json:"other_subscriber,omitempty"`         // NM1*GB

	Inpatient  *InpatientAdjudication  `json:"inpatient,omitempty"`  // MIA
	Outpatient *OutpatientAdjudication `json:"outpatient,omitempty"` // MOA

	// References are the claim REF segments: 1L group/policy, EA
	// medical record, 9A repriced claim, F8 original reference, G1 prior
	// authorization, 1K..., rendering provider ids (LU, 1G, ...).
	References []Reference `json:"references,omitempty"`

	StatementFrom      Date `json:"statement_from,omitzero"`      // DTM*232
	StatementTo        Date `json:"statement_to,omitzero"`        // DTM*233
	CoverageExpiration Date `json:"coverage_expiration,omitzero"` // DTM*036
	Received           Date `json:"received,omitzero"`            // DTM*050

	Contacts   []Contact              `json:"contacts,omitempty"`   // PER*CX
	Amounts    []SupplementalAmount   `json:"amounts,omitempty"`    // AMT: AU coverage, D8 discount, F5 patient paid, I interest...
	Quantities []SupplementalQuantity `json:"quantities,omitempty"` // QTY: CA covered days, ...

	Lines []ServiceLine `json:"lines,omitempty"`

	// Reversal, on a claim that corrects an earlier payment, is the
	// reversal (CLP02 22) in the same set that precedes it; Correction,
	// on a reversal, is the claim that follows it with the same CLP01
	// (and preferably the same CLP07). Set by the readers.
	Reversal   *ClaimPayment `json:"-"`
	Correction *ClaimPayment `json:"-"`

	// Remittance is the transaction set the claim belongs to (its header
	// is complete when the claim is returned; provider adjustments are
	// added at the end of the set). Set by the readers.
	Remittance *Remittance `json:"-"`

	// link indices carried through JSON decoding
	reversalIdx, correctionIdx int
}

// Entity is an NM1 segment of loop 2100.
type Entity struct {
	// Type is NM102: 1 person, 2 non-person.
	Type   string `json:"type,omitempty"`
	Last   string `json:"last,omitempty"`   // NM103 (or organization name)
	First  string `json:"first,omitempty"`  // NM104
	Middle string `json:"middle,omitempty"` // NM105
	Suffix string `json:"suffix,omitempty"` // NM107
	// IDQualifier is NM108, e.g. MI member id, HN HIC number, XX NPI, C
	// (corrected insured id), PI payer id.
	IDQualifier string `json:"id_qualifier,omitempty"`
	ID          string `json:"id,omitempty"` // NM109
}

// Adjustment is one CAS reason/amount/quantity triplet.
type Adjustment struct {
	// Group is CAS01: CO contractual obligation, OA other, PI payer
	// initiated, PR patient responsibility.
	Group    string  `json:"group"`
	Reason   string  `json:"reason"` // CARC (X12 list 139)
	Amount   Amount  `json:"amount"`
	Quantity float64 `json:"quantity,omitempty"`
	// Category is the denial category from edi/codes (contractual,
	// patient_responsibility, authorization, coding, ...). Set by the
	// readers; the writer ignores it.
	Category string `json:"category,omitempty"`
}

// InpatientAdjudication is the MIA segment.
type InpatientAdjudication struct {
	CoveredDays             float64 `json:"covered_days"`                        // MIA01
	PPSOperatingOutlier     Amount  `json:"pps_operating_outlier,omitempty"`     // MIA02
	LifetimePsychiatricDays float64 `json:"lifetime_psychiatric_days,omitempty"` // MIA03
	DRGAmount               Amount  `json:"drg_amount,omitempty"`                // MIA04
	DisproportionateShare   Amount  `json:"disproportionate_share,omitempty"`    // MIA06
	MSPPassThrough          Amount  `json:"msp_pass_through,omitempty"`          // MIA07
	PPSCapital              Amount  `json:"pps_capital,omitempty"`               // MIA08
	CapitalFSPDRG           Amount  `json:"pps_capital_fsp_drg,omitempty"`       // MIA09
	CapitalHSPDRG           Amount  `json:"pps_capital_hsp_drg,omitempty"`       // MIA10
	CapitalDSHDRG           Amount  `json:"pps_capital_dsh_drg,omitempty"`       // MIA11
	OldCapital              Amount  `json:"old_capital,omitempty"`               // MIA12
	CapitalIME              Amount  `json:"pps_capital_ime,omitempty"`           // MIA13
	OperatingHSPDRG         Amount  `json:"pps_operating_hsp_drg,omitempty"`     // MIA14
	CostReportDays          float64 `json:"cost_report_days,omitempty"`          // MIA15
	OperatingFSPDRG         Amount  `json:"pps_operating_fsp_drg,omitempty"`     // MIA16
	CapitalOutlier          Amount  `json:"pps_capital_outlier,omitempty"`       // MIA17
	IndirectTeaching        Amount  `json:"indirect_teaching,omitempty"`         // MIA18
	NonpayableProfessional  Amount  `json:"nonpayable_professional,omitempty"`   // MIA19
	CapitalException        Amount  `json:"pps_capital_exception,omitempty"`     // MIA24
	// Remarks are the RARCs of MIA05 and MIA20..MIA23, in that order.
	Remarks []string `json:"remarks,omitempty"`
}

// OutpatientAdjudication is the MOA segment.
type OutpatientAdjudication struct {
	ReimbursementRate      float64  `json:"reimbursement_rate,omitempty"`      // MOA01
	HCPCSPayable           Amount   `json:"hcpcs_payable,omitempty"`           // MOA02
	Remarks                []string `json:"remarks,omitempty"`                 // MOA03..MOA07 (RARCs)
	ESRDPayment            Amount   `json:"esrd_payment,omitempty"`            // MOA08
	NonpayableProfessional Amount   `json:"nonpayable_professional,omitempty"` // MOA09
}

// SupplementalAmount is an AMT segment.
type SupplementalAmount struct {
	// Qualifier is AMT01: at claim level AU coverage amount, D8 discount,
	// DY per day limit, F5 patient amount paid, I interest, NL negative
	// ledger balance, T/T2 tax, ZK..ZO federal mandates; at line level
	// B6 allowed (actual), KH deduction, T/T2 tax, ZK..ZO.
	Qualifier string `json:"qualifier"`
	Amount    Amount `json:"amount"`
}

// SupplementalQuantity is a QTY segment.
type SupplementalQuantity struct {
	Qualifier string  `json:"qualifier"` // QTY01, e.g. CA covered actual, ZK..ZO
	Quantity  float64 `json:"quantity"`  // QTY02
}

// Procedure is an SVC01 or SVC06 composite.
type Procedure struct {
	// Qualifier is the product/service id qualifier: HC HCPCS/CPT, AD ADA
	// dental, N4 NDC, NU revenue code, ER, HP, IV, N6, UI, WK.
	Qualifier   string   `json:"qualifier"`
	Code        string   `json:"code"`
	Modifiers   []string `json:"modifiers,omitempty"`   // components 3..6
	Description string   `json:"description,omitempty"` // SVC06-07 only
}

// ServiceLine is loop 2110.
type ServiceLine struct {
	Procedure   Procedure `json:"procedure"`              // SVC01
	Charge      Amount    `json:"charge"`                 // SVC02
	Paid        Amount    `json:"paid"`                   // SVC03
	RevenueCode string    `json:"revenue_code,omitempty"` // SVC04
	// UnitsPaid is SVC05. The TR3 sends it only when it is not 1, so an
	// absent SVC05 reads as 1 and 1 is not written.
	UnitsPaid float64 `json:"units_paid"`
	// OriginalProcedure is SVC06, sent when the payer adjudicated a
	// different code than was billed.
	OriginalProcedure *Procedure `json:"original_procedure,omitempty"`
	OriginalUnits     float64    `json:"original_units,omitempty"` // SVC07

	ServiceDate Date `json:"service_date,omitzero"` // DTM*472
	ServiceFrom Date `json:"service_from,omitzero"` // DTM*150
	ServiceTo   Date `json:"service_to,omitzero"`   // DTM*151

	Adjustments []Adjustment `json:"adjustments,omitempty"` // line CAS

	// ControlNumber is REF*6R: the line item control number the provider
	// sent in the 837 (REF*6R), the key for matching lines.
	ControlNumber string `json:"control_number,omitempty"`
	// References are the other line REF segments: LU location, 1S APG,
	// APC, BB authorization, G1 prior authorization, 0K policy, rendering
	// provider ids...
	References []Reference `json:"references,omitempty"`

	Amounts    []SupplementalAmount   `json:"amounts,omitempty"`    // AMT (B6 allowed...)
	Quantities []SupplementalQuantity `json:"quantities,omitempty"` // QTY
	Remarks    []Remark               `json:"remarks,omitempty"`    // LQ
}

// Remark is an LQ segment.
type Remark struct {
	// Qualifier is LQ01: HE remittance advice remark code (RARC), RX
	// NCPDP reject/payment code.
	Qualifier string `json:"qualifier"`
	Code      string `json:"code"`
}

// ProviderAdjustment is one PLB reason/amount pair.
type ProviderAdjustment struct {
	ProviderID   string `json:"provider_id"`        // PLB01
	FiscalPeriod Date   `json:"fiscal_period_date"` // PLB02
	// Reason is the adjustment reason code (PLB03-1): WO overpayment
	// recovery, L6 interest, FB forwarding balance, 72 authorized
	// return, CS adjustment, ...
	Reason string `json:"reason"`
	// Reference is the provider adjustment identifier (PLB03-2), e.g.
	// the claim or financial control number the amount relates to.
	Reference string `json:"reference,omitempty"`
	// Amount reduces the payment when positive, adds to it when
	// negative.
	Amount Amount `json:"amount"`
}

// Allowed returns the line's allowed amount (AMT*B6) and whether it was
// sent.
func (l *ServiceLine) Allowed() (Amount, bool) {
	for _, a := range l.Amounts {
		if a.Qualifier == "B6" {
			return a.Amount, true
		}
	}
	return 0, false
}

// Reference returns the value of the first REF with the qualifier, or "".
func (c *ClaimPayment) Reference(qualifier string) string {
	for _, r := range c.References {
		if r.Qualifier == qualifier {
			return r.Value
		}
	}
	return ""
}

// IsReversal reports whether the claim reverses an earlier payment
// (CLP02 = 22).
func (c *ClaimPayment) IsReversal() bool { return c.Status == "22" }

// Remarks returns the claim-level remark codes (MOA and MIA).
func (c *ClaimPayment) Remarks() []string {
	var out []string
	if c.Outpatient != nil {
		out = append(out, c.Outpatient.Remarks...)
	}
	if c.Inpatient != nil {
		out = append(out, c.Inpatient.Remarks...)
	}
	return out
}

// AdjustmentTotal is the sum of the claim-level and line-level CAS
// amounts.
func (c *ClaimPayment) AdjustmentTotal() Amount {
	var t Amount
	for _, a := range c.Adjustments {
		t += a.Amount
	}
	for i := range c.Lines {
		t += c.Lines[i].AdjustmentTotal()
	}
	return t
}

// Imbalance is CLP03 − Σ claim CAS − Σ line CAS − CLP04: zero for a
// balanced claim.
func (c *ClaimPayment) Imbalance() Amount {
	return c.Charge - c.AdjustmentTotal() - c.Paid
}

// AdjustmentTotal is the sum of the line's CAS amounts.
func (l *ServiceLine) AdjustmentTotal() Amount {
	var t Amount
	for _, a := range l.Adjustments {
		t += a.Amount
	}
	return t
}

// Imbalance is SVC02 − Σ line CAS − SVC03: zero for a balanced line.
func (l *ServiceLine) Imbalance() Amount {
	return l.Charge - l.AdjustmentTotal() - l.Paid
}

// ProviderAdjustmentTotal is the sum of the PLB amounts.
func (r *Remittance) ProviderAdjustmentTotal() Amount {
	var t Amount
	for _, p := range r.ProviderAdjustments {
		t += p.Amount
	}
	return t
}

// NetPayment is the payment the claims and provider adjustments of r add
// up to: Σ CLP04 − Σ PLB amounts. It equals BPR02 for a balanced
// remittance (with the sign of BPR03: a debit is negative). It needs
// Claims, so it only makes sense for a remittance read with ReadAll.
func (r *Remittance) NetPayment() Amount {
	var t Amount
	for _, c := range r.Claims {
		t += c.Paid
	}
	return t - r.ProviderAdjustmentTotal()
}
