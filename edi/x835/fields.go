package x835

// numField ties an element position to a numeric field of the model, so
// the reader and the writer of the wide numeric segments (TS3, TS2, MIA,
// MOA) share one table and cannot drift apart. The fields methods append
// to a caller's buffer, so the reader's hot path can keep it on the stack.
type numField struct {
	elem int
	ptr  any // *Amount or *float64
	req  bool
}

func (t *ProviderSummary) fields(buf []numField) []numField {
	return append(buf, []numField{
		{4, &t.ClaimCount, true}, {5, &t.TotalCharge, true},
		{13, &t.MSPPayer, false}, {15, &t.NonLabCharge, false},
		{17, &t.HCPCSReported, false}, {18, &t.HCPCSPayable, false},
		{20, &t.Professional, false}, {21, &t.MSPPatientMet, false},
		{22, &t.PatientReimb, false}, {23, &t.PIPClaimCount, false},
		{24, &t.PIPAdjustment, false},
	}...)
}

func (t *SupplementalSummary) fields(buf []numField) []numField {
	return append(buf, []numField{
		{1, &t.DRG, false}, {2, &t.FederalSpecific, false}, {3, &t.HospitalSpecific, false},
		{4, &t.DisproportionateShare, false}, {5, &t.Capital, false}, {6, &t.IndirectMedicalEd, false},
		{7, &t.OutlierDays, false}, {8, &t.DayOutlier, false}, {9, &t.CostOutlier, false},
		{10, &t.AverageLengthOfStay, false}, {11, &t.Discharges, false}, {12, &t.CostReportDays, false},
		{13, &t.CoveredDays, false}, {14, &t.NoncoveredDays, false}, {15, &t.MSPPassThrough, false},
		{16, &t.AverageDRGWeight, false}, {17, &t.CapitalFSPDRG, false}, {18, &t.CapitalHSPDRG, false},
		{19, &t.DSHDRG, false},
	}...)
}

func (m *InpatientAdjudication) fields(buf []numField) []numField {
	return append(buf, []numField{
		{1, &m.CoveredDays, true}, {2, &m.PPSOperatingOutlier, false}, {3, &m.LifetimePsychiatricDays, false},
		{4, &m.DRGAmount, false}, {6, &m.DisproportionateShare, false}, {7, &m.MSPPassThrough, false},
		{8, &m.PPSCapital, false}, {9, &m.CapitalFSPDRG, false}, {10, &m.CapitalHSPDRG, false},
		{11, &m.CapitalDSHDRG, false}, {12, &m.OldCapital, false}, {13, &m.CapitalIME, false},
		{14, &m.OperatingHSPDRG, false}, {15, &m.CostReportDays, false}, {16, &m.OperatingFSPDRG, false},
		{17, &m.CapitalOutlier, false}, {18, &m.IndirectTeaching, false}, {19, &m.NonpayableProfessional, false},
		{24, &m.CapitalException, false},
	}...)
}

func (m *OutpatientAdjudication) fields(buf []numField) []numField {
	return append(buf, []numField{
		{1, &m.ReimbursementRate, false}, {2, &m.HCPCSPayable, false},
		{8, &m.ESRDPayment, false}, {9, &m.NonpayableProfessional, false},
	}...)
}
