package x835

import (
	"encoding/json"

	"github.com/claimgate/claimgate/edi/internal/jsonw"
)

// The JSON shape is the model's own (json tags, documented in
// docs/835.md), plus the reversal links, which are pointers in Go and
// claim indices in JSON: "reversal_index" on a correction and
// "correction_index" on a reversal.
//
// The Append methods write that shape straight into a byte slice, member
// by member in the order of the struct fields, honouring the tags'
// omitempty and omitzero; MarshalJSON uses them. A test holds them to
// what encoding/json makes of the tags.

// MarshalJSON writes the claim with its reversal links as indices.
func (c *ClaimPayment) MarshalJSON() ([]byte, error) { return c.AppendJSON(nil), nil }

// MarshalJSON writes the envelope; its group_date as "2019-08-16".
func (e Envelope) MarshalJSON() ([]byte, error) { return e.appendJSON(nil), nil }

type envelopeFields Envelope

// UnmarshalJSON reads what MarshalJSON writes, and group_date as
// CCYYMMDD too.
func (e *Envelope) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*envelopeFields)(e)); err != nil {
		return err
	}
	if d := e.GroupDate; len(d) == 10 && d[4] == '-' && d[7] == '-' {
		e.GroupDate = d[:4] + d[5:7] + d[8:]
	}
	return nil
}

// MarshalJSON writes the remittance with its claims.
func (r *Remittance) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// AppendJSON appends the remittance as a JSON object, claims included.
func (r *Remittance) AppendJSON(dst []byte) []byte {
	dst = r.AppendJSONHeader(dst)
	if r.Claims == nil { // as encoding/json writes a nil slice
		dst = append(dst, `,"claims":null`...)
		return r.AppendJSONTrailer(dst)
	}
	dst = append(dst, `,"claims":[`...)
	for i, c := range r.Claims {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = c.AppendJSON(dst)
	}
	dst = append(dst, ']')
	return r.AppendJSONTrailer(dst)
}

// AppendJSONHeader appends the opening of the remittance's JSON object
// and its members before "claims": envelope, control, version, payment,
// receiver and version ids, production date, payer and payee. A streaming
// writer follows it with ,"claims":[...] and AppendJSONTrailer.
func (r *Remittance) AppendJSONHeader(dst []byte) []byte {
	dst = append(dst, '{')
	if r.Envelope != (Envelope{}) {
		dst = jsonw.Member(dst, `,"envelope":`)
		dst = r.Envelope.appendJSON(dst)
	}
	dst = jsonw.Member(dst, `,"control":`)
	dst = jsonw.String(dst, r.Control)
	dst = optString(dst, `,"version":`, r.Version)
	dst = jsonw.Member(dst, `,"payment":`)
	dst = r.Payment.appendJSON(dst)
	dst = optString(dst, `,"receiver_id":`, r.ReceiverID)
	dst = optString(dst, `,"version_id":`, r.VersionID)
	dst = optDate(dst, `,"production_date":`, r.ProductionDate)
	dst = jsonw.Member(dst, `,"payer":`)
	dst = r.Payer.appendJSON(dst)
	dst = jsonw.Member(dst, `,"payee":`)
	return r.Payee.appendJSON(dst)
}

// AppendJSONTrailer appends the members after "claims" (the provider
// adjustments, when there are any) and closes the object.
func (r *Remittance) AppendJSONTrailer(dst []byte) []byte {
	if len(r.ProviderAdjustments) > 0 {
		dst = jsonw.Member(dst, `,"provider_adjustments":`)
		dst = append(dst, '[')
		for i := range r.ProviderAdjustments {
			if i > 0 {
				dst = append(dst, ',')
			}
			p := &r.ProviderAdjustments[i]
			dst = append(dst, '{')
			dst = str(dst, `,"provider_id":`, p.ProviderID)
			dst = jsonw.Member(dst, `,"fiscal_period_date":`)
			dst = p.FiscalPeriod.appendJSON(dst)
			dst = str(dst, `,"reason":`, p.Reason)
			dst = optString(dst, `,"reference":`, p.Reference)
			dst = amount(dst, `,"amount":`, p.Amount)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// AppendJSON appends the claim as a JSON object, with its reversal links
// as "reversal_index" and "correction_index" (the last members).
func (c *ClaimPayment) AppendJSON(dst []byte) []byte {
	dst = c.AppendJSONOpen(dst)
	if c.Reversal != nil {
		dst = jsonw.Member(dst, `,"reversal_index":`)
		dst = jsonw.Int(dst, int64(c.Reversal.Index))
	}
	if c.Correction != nil {
		dst = jsonw.Member(dst, `,"correction_index":`)
		dst = jsonw.Int(dst, int64(c.Correction.Index))
	}
	return append(dst, '}')
}

// AppendJSONOpen appends the claim's JSON object without its reversal
// links and without the closing brace, for a streaming writer that
// learns the links as it goes (see JSONWriter).
func (c *ClaimPayment) AppendJSONOpen(dst []byte) []byte {
	dst = append(dst, `{"index":`...)
	dst = jsonw.Int(dst, int64(c.Index))
	if c.HeaderNumber != 0 {
		dst = jsonw.Member(dst, `,"header_number":`)
		dst = jsonw.Int(dst, int64(c.HeaderNumber))
	}
	if c.ProviderSummary != nil {
		dst = jsonw.Member(dst, `,"provider_summary":`)
		dst = c.ProviderSummary.appendJSON(dst)
	}
	dst = str(dst, `,"patient_control_number":`, c.PatientControlNumber)
	dst = str(dst, `,"status":`, c.Status)
	dst = amount(dst, `,"charge":`, c.Charge)
	dst = amount(dst, `,"paid":`, c.Paid)
	dst = amount(dst, `,"patient_responsibility":`, c.PatientResponsibility)
	dst = str(dst, `,"filing_indicator":`, c.FilingIndicator)
	dst = str(dst, `,"payer_claim_control_number":`, c.PayerClaimControlNumber)
	dst = optString(dst, `,"facility_code":`, c.FacilityCode)
	dst = optString(dst, `,"frequency":`, c.Frequency)
	dst = optString(dst, `,"drg":`, c.DRG)
	dst = optFloat(dst, `,"drg_weight":`, c.DRGWeight)
	dst = optFloat(dst, `,"discharge_fraction":`, c.DischargeFraction)
	dst = adjustments(dst, c.Adjustments)
	if c.Patient != (Entity{}) {
		dst = jsonw.Member(dst, `,"patient":`)
		dst = c.Patient.appendJSON(dst)
	}
	dst = optEntity(dst, `,"insured":`, c.Insured)
	dst = optEntity(dst, `,"corrected_patient":`, c.CorrectedPatient)
	dst = optEntity(dst, `,"rendering_provider":`, c.RenderingProvider)
	dst = optEntity(dst, `,"crossover_carrier":`, c.CrossoverCarrier)
	dst = optEntity(dst, `,"corrected_priority_payer":`, c.CorrectedPriorityPayer)
	dst = optEntity(dst, `,"other_subscriber":`, c.OtherSubscriber)
	if m := c.Inpatient; m != nil {
		dst = jsonw.Member(dst, `,"inpatient":`)
		dst = m.appendJSON(dst)
	}
	if m := c.Outpatient; m != nil {
		dst = jsonw.Member(dst, `,"outpatient":`)
		dst = append(dst, '{')
		dst = optFloat(dst, `,"reimbursement_rate":`, m.ReimbursementRate)
		dst = optAmount(dst, `,"hcpcs_payable":`, m.HCPCSPayable)
		dst = optStrings(dst, `,"remarks":`, m.Remarks)
		dst = optAmount(dst, `,"esrd_payment":`, m.ESRDPayment)
		dst = optAmount(dst, `,"nonpayable_professional":`, m.NonpayableProfessional)
		dst = append(dst, '}')
	}
	dst = references(dst, c.References)
	dst = optDate(dst, `,"statement_from":`, c.StatementFrom)
	dst = optDate(dst, `,"statement_to":`, c.StatementTo)
	dst = optDate(dst, `,"coverage_expiration":`, c.CoverageExpiration)
	dst = optDate(dst, `,"received":`, c.Received)
	dst = contacts(dst, c.Contacts)
	dst = amounts(dst, c.Amounts)
	dst = quantities(dst, c.Quantities)
	if len(c.Lines) > 0 {
		dst = jsonw.Member(dst, `,"lines":`)
		dst = append(dst, '[')
		for i := range c.Lines {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = c.Lines[i].appendJSON(dst)
		}
		dst = append(dst, ']')
	}
	return dst
}

func (l *ServiceLine) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"procedure":`...)
	dst = l.Procedure.appendJSON(dst)
	dst = amount(dst, `,"charge":`, l.Charge)
	dst = amount(dst, `,"paid":`, l.Paid)
	dst = optString(dst, `,"revenue_code":`, l.RevenueCode)
	dst = jsonw.Member(dst, `,"units_paid":`)
	dst = jsonw.Float(dst, l.UnitsPaid)
	if l.OriginalProcedure != nil {
		dst = jsonw.Member(dst, `,"original_procedure":`)
		dst = l.OriginalProcedure.appendJSON(dst)
	}
	dst = optFloat(dst, `,"original_units":`, l.OriginalUnits)
	dst = optDate(dst, `,"service_date":`, l.ServiceDate)
	dst = optDate(dst, `,"service_from":`, l.ServiceFrom)
	dst = optDate(dst, `,"service_to":`, l.ServiceTo)
	dst = adjustments(dst, l.Adjustments)
	dst = optString(dst, `,"control_number":`, l.ControlNumber)
	dst = references(dst, l.References)
	dst = amounts(dst, l.Amounts)
	dst = quantities(dst, l.Quantities)
	if len(l.Remarks) > 0 {
		dst = jsonw.Member(dst, `,"remarks":`)
		dst = append(dst, '[')
		for i, r := range l.Remarks {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '{')
			dst = str(dst, `,"qualifier":`, r.Qualifier)
			dst = str(dst, `,"code":`, r.Code)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

func (p *Procedure) appendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst = str(dst, `,"qualifier":`, p.Qualifier)
	dst = str(dst, `,"code":`, p.Code)
	dst = optStrings(dst, `,"modifiers":`, p.Modifiers)
	dst = optString(dst, `,"description":`, p.Description)
	return append(dst, '}')
}

func (e *Envelope) appendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst = optString(dst, `,"interchange_control":`, e.InterchangeControl)
	dst = optString(dst, `,"interchange_sender":`, e.InterchangeSender)
	dst = optString(dst, `,"interchange_receiver":`, e.InterchangeReceiver)
	dst = optString(dst, `,"usage":`, e.Usage)
	dst = optString(dst, `,"group_control":`, e.GroupControl)
	dst = optString(dst, `,"group_sender":`, e.GroupSender)
	dst = optString(dst, `,"group_receiver":`, e.GroupReceiver)
	if e.GroupDate != "" { // GS04 CCYYMMDD, written as the other dates
		dst = jsonw.Member(dst, `,"group_date":`)
		dst = jsonw.DateText(dst, e.GroupDate)
	}
	return append(dst, '}')
}

func (p *Payment) appendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst = str(dst, `,"handling":`, p.Handling)
	dst = amount(dst, `,"amount":`, p.Amount)
	dst = str(dst, `,"credit_debit":`, p.CreditDebit)
	dst = str(dst, `,"method":`, p.Method)
	dst = optString(dst, `,"format":`, p.Format)
	dst = optBank(dst, `,"sender_bank":`, &p.SenderBank)
	dst = optString(dst, `,"originator_id":`, p.OriginatorID)
	dst = optString(dst, `,"originator_supplemental":`, p.OriginatorSupplemental)
	dst = optBank(dst, `,"receiver_bank":`, &p.ReceiverBank)
	dst = optDate(dst, `,"date":`, p.Date)
	dst = optString(dst, `,"trace_type":`, p.TraceType)
	dst = str(dst, `,"trace_number":`, p.TraceNumber)
	dst = str(dst, `,"payer_id":`, p.PayerID)
	dst = optString(dst, `,"trace_supplemental":`, p.TraceSupplemental)
	dst = optString(dst, `,"currency":`, p.Currency)
	return append(dst, '}')
}

func optBank(dst []byte, key string, b *BankAccount) []byte {
	if *b == (BankAccount{}) {
		return dst
	}
	dst = jsonw.Member(dst, key)
	dst = append(dst, '{')
	dst = optString(dst, `,"dfi_qualifier":`, b.DFIQualifier)
	dst = optString(dst, `,"dfi":`, b.DFI)
	dst = optString(dst, `,"account_qualifier":`, b.AccountQualifier)
	dst = optString(dst, `,"account":`, b.Account)
	return append(dst, '}')
}

func optAddress(dst []byte, a *Address) []byte {
	if *a == (Address{}) {
		return dst
	}
	dst = jsonw.Member(dst, `,"address":`)
	dst = append(dst, '{')
	dst = optString(dst, `,"line1":`, a.Line1)
	dst = optString(dst, `,"line2":`, a.Line2)
	dst = optString(dst, `,"city":`, a.City)
	dst = optString(dst, `,"state":`, a.State)
	dst = optString(dst, `,"zip":`, a.Zip)
	dst = optString(dst, `,"country":`, a.Country)
	dst = optString(dst, `,"country_subdivision":`, a.Subdivision)
	return append(dst, '}')
}

func (p *Payer) appendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst = str(dst, `,"name":`, p.Name)
	dst = optString(dst, `,"id_qualifier":`, p.IDQualifier)
	dst = optString(dst, `,"id":`, p.ID)
	dst = optAddress(dst, &p.Address)
	dst = references(dst, p.References)
	dst = contacts(dst, p.Contacts)
	return append(dst, '}')
}

func (p *Payee) appendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst = str(dst, `,"name":`, p.Name)
	dst = str(dst, `,"id_qualifier":`, p.IDQualifier)
	dst = str(dst, `,"id":`, p.ID)
	dst = optString(dst, `,"npi":`, p.NPI)
	dst = optString(dst, `,"tax_id":`, p.TaxID)
	dst = optAddress(dst, &p.Address)
	dst = references(dst, p.References)
	if p.Delivery != (Delivery{}) {
		dst = jsonw.Member(dst, `,"delivery":`)
		dst = append(dst, '{')
		dst = str(dst, `,"method":`, p.Delivery.Method)
		dst = optString(dst, `,"name":`, p.Delivery.Name)
		dst = optString(dst, `,"number":`, p.Delivery.Number)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

func (e *Entity) appendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst = optString(dst, `,"type":`, e.Type)
	dst = optString(dst, `,"last":`, e.Last)
	dst = optString(dst, `,"first":`, e.First)
	dst = optString(dst, `,"middle":`, e.Middle)
	dst = optString(dst, `,"suffix":`, e.Suffix)
	dst = optString(dst, `,"id_qualifier":`, e.IDQualifier)
	dst = optString(dst, `,"id":`, e.ID)
	return append(dst, '}')
}

func optEntity(dst []byte, key string, e *Entity) []byte {
	if e == nil {
		return dst
	}
	dst = jsonw.Member(dst, key)
	return e.appendJSON(dst)
}

func (s *ProviderSummary) appendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	dst = str(dst, `,"provider_id":`, s.ProviderID)
	dst = str(dst, `,"facility_code":`, s.FacilityCode)
	dst = jsonw.Member(dst, `,"fiscal_period_date":`)
	dst = s.FiscalPeriod.appendJSON(dst)
	dst = jsonw.Member(dst, `,"claim_count":`)
	dst = jsonw.Float(dst, s.ClaimCount)
	dst = amount(dst, `,"total_charge":`, s.TotalCharge)
	dst = optAmount(dst, `,"msp_payer":`, s.MSPPayer)
	dst = optAmount(dst, `,"non_lab_charge":`, s.NonLabCharge)
	dst = optAmount(dst, `,"hcpcs_reported_charge":`, s.HCPCSReported)
	dst = optAmount(dst, `,"hcpcs_payable":`, s.HCPCSPayable)
	dst = optAmount(dst, `,"professional_component":`, s.Professional)
	dst = optAmount(dst, `,"msp_patient_liability_met":`, s.MSPPatientMet)
	dst = optAmount(dst, `,"patient_reimbursement":`, s.PatientReimb)
	dst = optFloat(dst, `,"pip_claim_count":`, s.PIPClaimCount)
	dst = optAmount(dst, `,"pip_adjustment":`, s.PIPAdjustment)
	if t := s.Supplemental; t != nil {
		dst = jsonw.Member(dst, `,"supplemental":`)
		dst = append(dst, '{')
		dst = optAmount(dst, `,"drg":`, t.DRG)
		dst = optAmount(dst, `,"federal_specific":`, t.FederalSpecific)
		dst = optAmount(dst, `,"hospital_specific":`, t.HospitalSpecific)
		dst = optAmount(dst, `,"disproportionate_share":`, t.DisproportionateShare)
		dst = optAmount(dst, `,"capital":`, t.Capital)
		dst = optAmount(dst, `,"indirect_medical_education":`, t.IndirectMedicalEd)
		dst = optFloat(dst, `,"outlier_days":`, t.OutlierDays)
		dst = optAmount(dst, `,"day_outlier":`, t.DayOutlier)
		dst = optAmount(dst, `,"cost_outlier":`, t.CostOutlier)
		dst = optFloat(dst, `,"average_drg_length_of_stay":`, t.AverageLengthOfStay)
		dst = optFloat(dst, `,"discharges":`, t.Discharges)
		dst = optFloat(dst, `,"cost_report_days":`, t.CostReportDays)
		dst = optFloat(dst, `,"covered_days":`, t.CoveredDays)
		dst = optFloat(dst, `,"noncovered_days":`, t.NoncoveredDays)
		dst = optAmount(dst, `,"msp_pass_through":`, t.MSPPassThrough)
		dst = optFloat(dst, `,"average_drg_weight":`, t.AverageDRGWeight)
		dst = optAmount(dst, `,"pps_capital_fsp_drg":`, t.CapitalFSPDRG)
		dst = optAmount(dst, `,"pps_capital_hsp_drg":`, t.CapitalHSPDRG)
		dst = optAmount(dst, `,"pps_dsh_drg":`, t.DSHDRG)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

func (m *InpatientAdjudication) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"covered_days":`...)
	dst = jsonw.Float(dst, m.CoveredDays)
	dst = optAmount(dst, `,"pps_operating_outlier":`, m.PPSOperatingOutlier)
	dst = optFloat(dst, `,"lifetime_psychiatric_days":`, m.LifetimePsychiatricDays)
	dst = optAmount(dst, `,"drg_amount":`, m.DRGAmount)
	dst = optAmount(dst, `,"disproportionate_share":`, m.DisproportionateShare)
	dst = optAmount(dst, `,"msp_pass_through":`, m.MSPPassThrough)
	dst = optAmount(dst, `,"pps_capital":`, m.PPSCapital)
	dst = optAmount(dst, `,"pps_capital_fsp_drg":`, m.CapitalFSPDRG)
	dst = optAmount(dst, `,"pps_capital_hsp_drg":`, m.CapitalHSPDRG)
	dst = optAmount(dst, `,"pps_capital_dsh_drg":`, m.CapitalDSHDRG)
	dst = optAmount(dst, `,"old_capital":`, m.OldCapital)
	dst = optAmount(dst, `,"pps_capital_ime":`, m.CapitalIME)
	dst = optAmount(dst, `,"pps_operating_hsp_drg":`, m.OperatingHSPDRG)
	dst = optFloat(dst, `,"cost_report_days":`, m.CostReportDays)
	dst = optAmount(dst, `,"pps_operating_fsp_drg":`, m.OperatingFSPDRG)
	dst = optAmount(dst, `,"pps_capital_outlier":`, m.CapitalOutlier)
	dst = optAmount(dst, `,"indirect_teaching":`, m.IndirectTeaching)
	dst = optAmount(dst, `,"nonpayable_professional":`, m.NonpayableProfessional)
	dst = optAmount(dst, `,"pps_capital_exception":`, m.CapitalException)
	dst = optStrings(dst, `,"remarks":`, m.Remarks)
	return append(dst, '}')
}

func adjustments(dst []byte, adj []Adjustment) []byte {
	if len(adj) == 0 {
		return dst
	}
	dst = append(dst, `,"adjustments":[`...)
	for i := range adj {
		a := &adj[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"group":`...)
		dst = jsonw.String(dst, a.Group)
		dst = str(dst, `,"reason":`, a.Reason)
		dst = amount(dst, `,"amount":`, a.Amount)
		dst = optFloat(dst, `,"quantity":`, a.Quantity)
		dst = optString(dst, `,"category":`, a.Category)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

func references(dst []byte, refs []Reference) []byte {
	if len(refs) == 0 {
		return dst
	}
	dst = jsonw.Member(dst, `,"references":`)
	dst = append(dst, '[')
	for i, r := range refs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"qualifier":`...)
		dst = jsonw.String(dst, r.Qualifier)
		dst = str(dst, `,"value":`, r.Value)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

func contacts(dst []byte, cs []Contact) []byte {
	if len(cs) == 0 {
		return dst
	}
	dst = jsonw.Member(dst, `,"contacts":`)
	dst = append(dst, '[')
	for i := range cs {
		c := &cs[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"function":`...)
		dst = jsonw.String(dst, c.Function)
		dst = optString(dst, `,"name":`, c.Name)
		if len(c.Numbers) > 0 {
			dst = jsonw.Member(dst, `,"numbers":`)
			dst = append(dst, '[')
			for j, n := range c.Numbers {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, `{"qualifier":`...)
				dst = jsonw.String(dst, n.Qualifier)
				dst = str(dst, `,"number":`, n.Number)
				dst = append(dst, '}')
			}
			dst = append(dst, ']')
		}
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

func amounts(dst []byte, as []SupplementalAmount) []byte {
	if len(as) == 0 {
		return dst
	}
	dst = jsonw.Member(dst, `,"amounts":`)
	dst = append(dst, '[')
	for i, a := range as {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"qualifier":`...)
		dst = jsonw.String(dst, a.Qualifier)
		dst = amount(dst, `,"amount":`, a.Amount)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

func quantities(dst []byte, qs []SupplementalQuantity) []byte {
	if len(qs) == 0 {
		return dst
	}
	dst = jsonw.Member(dst, `,"quantities":`)
	dst = append(dst, '[')
	for i, q := range qs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"qualifier":`...)
		dst = jsonw.String(dst, q.Qualifier)
		dst = append(dst, `,"quantity":`...)
		dst = jsonw.Float(dst, q.Quantity)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// The helpers below take a member's opening as a constant, `,"key":`
// (jsonw.Member), so a key costs one append.

func str(dst []byte, key, v string) []byte {
	dst = jsonw.Member(dst, key)
	return jsonw.String(dst, v)
}

func optString(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	return str(dst, key, v)
}

func optStrings(dst []byte, key string, vs []string) []byte {
	if len(vs) == 0 {
		return dst
	}
	dst = jsonw.Member(dst, key)
	dst = append(dst, '[')
	for i, v := range vs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonw.String(dst, v)
	}
	return append(dst, ']')
}

func amount(dst []byte, key string, a Amount) []byte {
	dst = jsonw.Member(dst, key)
	return jsonw.Cents(dst, int64(a))
}

func optAmount(dst []byte, key string, a Amount) []byte {
	if a == 0 {
		return dst
	}
	return amount(dst, key, a)
}

func optFloat(dst []byte, key string, f float64) []byte {
	if f == 0 {
		return dst
	}
	dst = jsonw.Member(dst, key)
	return jsonw.Float(dst, f)
}

func optDate(dst []byte, key string, d Date) []byte {
	if d == 0 {
		return dst
	}
	dst = jsonw.Member(dst, key)
	return jsonw.Date8(dst, int32(d))
}

func (d Date) appendJSON(dst []byte) []byte {
	if d == 0 {
		return append(dst, "null"...)
	}
	return jsonw.Date8(dst, int32(d))
}

type claimFields ClaimPayment // ClaimPayment without its JSON methods

type claimJSON struct {
	*claimFields
	ReversalIndex   *int `json:"reversal_index,omitempty"`
	CorrectionIndex *int `json:"correction_index,omitempty"`
}

// UnmarshalJSON reads what MarshalJSON writes. The links are restored by
// Remittance.UnmarshalJSON, which sees all the claims.
func (c *ClaimPayment) UnmarshalJSON(b []byte) error {
	v := claimJSON{claimFields: (*claimFields)(c)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	c.reversalIdx, c.correctionIdx = 0, 0
	if v.ReversalIndex != nil {
		c.reversalIdx = *v.ReversalIndex + 1
	}
	if v.CorrectionIndex != nil {
		c.correctionIdx = *v.CorrectionIndex + 1
	}
	return nil
}

type remittanceFields Remittance

// UnmarshalJSON reads a remittance and reconnects its claims: each
// claim's Remittance, and the Reversal/Correction links by claim index.
func (r *Remittance) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*remittanceFields)(r)); err != nil {
		return err
	}
	byIndex := make(map[int]*ClaimPayment, len(r.Claims))
	for _, c := range r.Claims {
		if c != nil {
			byIndex[c.Index] = c
		}
	}
	for _, c := range r.Claims {
		if c == nil {
			continue
		}
		c.Remittance = r
		if c.reversalIdx > 0 {
			c.Reversal = byIndex[c.reversalIdx-1]
		}
		if c.correctionIdx > 0 {
			c.Correction = byIndex[c.correctionIdx-1]
		}
		c.reversalIdx, c.correctionIdx = 0, 0
	}
	return nil
}
