package x835

import (
	"io"
	"math/rand"
	"strconv"
	"time"
)

// A physical-therapy practice's remittance, as a commercial or Medicare
// payer sends it: the benchmark input that stands for production files.
// Claims vary the way real ones do (one to four visits' codes, paid,
// reduced, partly or wholly denied, a patient share, the occasional
// reversal and correction) but every claim follows the payer's one
// layout, unlike the property-test generator, which draws every optional
// part of the TR3 at random for coverage.

var (
	ptSurnames = []string{"SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "RODRIGUEZ", "MARTINEZ", "HERNANDEZ", "LOPEZ", "GONZALEZ", "WILSON", "ANDERSON", "THOMAS", "TAYLOR", "MOORE", "JACKSON", "MARTIN", "LEE", "PEREZ", "THOMPSON", "WHITE", "HARRIS", "SANCHEZ", "CLARK", "RAMIREZ", "LEWIS", "ROBINSON", "OKONKWO", "NGUYEN", "KOWALSKI", "FITZGERALD"}
	ptGiven    = []string{"JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL", "LINDA", "DAVID", "ELIZABETH", "WILLIAM", "BARBARA", "RICHARD", "SUSAN", "JOSEPH", "JESSICA", "AVA", "LIAM", "SOFIA", "NOAH", "CHRISTOPHER", "MARGARET"}
	ptDenials  = []struct{ carc, rarc string }{{"197", "N54"}, {"50", "N115"}, {"97", "M15"}, {"119", "N362"}, {"16", "M51"}, {"96", "N130"}}
)

// ptCode is a CPT code with its charge per unit and typical units.
type ptCode struct {
	code        string
	unitCharge  Amount
	maxUnits    int
	weight      int
	distinctMod bool // may carry modifier 59 (distinct procedure)
}

var ptCodes = []ptCode{
	{"97110", 5500, 4, 40, false},
	{"97140", 5200, 3, 20, true},
	{"97112", 5800, 3, 15, false},
	{"97530", 6000, 3, 15, true},
	{"97161", 14500, 1, 4, false},
	{"97162", 16500, 1, 3, false},
	{"97164", 9500, 1, 3, false},
}

type ptGen struct {
	r       *rand.Rand
	payerMB bool // Medicare Part B (else a commercial PPO)
}

func (g *ptGen) pick(s []string) string { return s[g.r.Intn(len(s))] }
func (g *ptGen) chance(p float64) bool  { return g.r.Float64() < p }

func (g *ptGen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.Intn(10))
	}
	return string(b)
}

func (g *ptGen) code() ptCode {
	w := g.r.Intn(100)
	for _, c := range ptCodes {
		if w < c.weight {
			return c
		}
		w -= c.weight
	}
	return ptCodes[0]
}

// claim returns claim number i: pcn is the practice's claim id, as the
// 837P sent it in CLM01 (and each line's REF*6R).
func (g *ptGen) claim(i int) *ClaimPayment {
	pcn := "PT" + strconv.Itoa(100000+i)
	dos := NewDate(2026, time.Month(1+i%10), 1+i%28)
	c := &ClaimPayment{
		PatientControlNumber:    pcn,
		Status:                  "1",
		FilingIndicator:         "12",
		PayerClaimControlNumber: g.digits(14),
		FacilityCode:            "11",
		Frequency:               "1",
		Patient:                 Entity{Type: "1", Last: g.pick(ptSurnames), First: g.pick(ptGiven), IDQualifier: "MI", ID: "W" + g.digits(9)},
		StatementFrom:           dos,
		StatementTo:             dos,
	}
	if g.payerMB {
		c.FilingIndicator = "MB"
		c.Patient.ID = g.digits(1) + "EG4TE5MK" + g.digits(2)
	}
	if g.chance(0.15) {
		c.Patient.Middle = "A"
	}
	if !g.payerMB && g.chance(0.25) { // the subscriber is a parent or spouse
		c.Insured = &Entity{Type: "1", Last: c.Patient.Last, First: g.pick(ptGiven), IDQualifier: "MI", ID: c.Patient.ID}
	}
	if g.chance(0.6) {
		c.RenderingProvider = &Entity{Type: "1", Last: g.pick(ptSurnames), First: g.pick(ptGiven), IDQualifier: "XX", ID: "1" + g.digits(9)}
	}
	if !g.payerMB && g.chance(0.4) {
		c.References = append(c.References, Reference{Qualifier: "1L", Value: g.digits(6)})
	}
	if g.chance(0.7) {
		c.Received = DateOf(dos.Time().AddDate(0, 0, 3))
	}
	denyAll := g.chance(0.05)
	nLines := 1 + g.r.Intn(3)
	if g.chance(0.15) {
		nLines = 4
	}
	var patientShare Amount
	for k := 0; k < nLines; k++ {
		pc := g.code()
		units := 1 + g.r.Intn(pc.maxUnits)
		l := ServiceLine{
			Procedure:     Procedure{Qualifier: "HC", Code: pc.code, Modifiers: []string{"GP"}},
			Charge:        pc.unitCharge * Amount(units),
			UnitsPaid:     float64(units),
			ServiceDate:   dos,
			ControlNumber: pcn + "-" + strconv.Itoa(k+1),
		}
		if pc.distinctMod && g.chance(0.3) {
			l.Procedure.Modifiers = append(l.Procedure.Modifiers, "59")
		}
		if g.payerMB && g.chance(0.2) {
			l.Procedure.Modifiers = append(l.Procedure.Modifiers, "KX")
		}
		if denyAll || g.chance(0.06) {
			d := ptDenials[g.r.Intn(len(ptDenials))]
			l.Adjustments = []Adjustment{{Group: "CO", Reason: d.carc, Amount: l.Charge}}
			l.Remarks = []Remark{{Qualifier: "HE", Code: d.rarc}}
			l.UnitsPaid = 0
		} else {
			allowed := l.Charge * Amount(55+g.r.Intn(20)) / 100
			l.Adjustments = []Adjustment{{Group: "CO", Reason: "45", Amount: l.Charge - allowed}}
			l.Amounts = []SupplementalAmount{{Qualifier: "B6", Amount: allowed}}
			switch p := g.r.Intn(10); {
			case p < 3: // coinsurance
				share := allowed / 5
				l.Adjustments = append(l.Adjustments, Adjustment{Group: "PR", Reason: "2", Amount: share})
				patientShare += share
			case p < 5 && k == 0: // copay, once per visit
				share := min(allowed, 2500)
				l.Adjustments = append(l.Adjustments, Adjustment{Group: "PR", Reason: "3", Amount: share})
				patientShare += share
			case p < 6: // deductible
				share := allowed / 2
				l.Adjustments = append(l.Adjustments, Adjustment{Group: "PR", Reason: "1", Amount: share})
				patientShare += share
			}
		}
		l.Paid = l.Charge - l.AdjustmentTotal()
		c.Lines = append(c.Lines, l)
		c.Charge += l.Charge
		c.Paid += l.Paid
	}
	c.PatientResponsibility = patientShare
	if c.Paid == 0 && patientShare == 0 {
		c.Status = "4"
	}
	if c.Paid > 0 && g.chance(0.5) {
		c.Amounts = []SupplementalAmount{{Qualifier: "AU", Amount: c.Charge - c.Lines[0].Adjustments[0].Amount}}
	}
	if g.payerMB && c.Status == "1" && g.chance(0.3) {
		c.Outpatient = &OutpatientAdjudication{Remarks: []string{"MA01"}}
	}
	return c
}

// ptReversal returns the reversal of claim c (CLP02 22, amounts negated).
func ptReversal(c *ClaimPayment) *ClaimPayment {
	r := *c
	r.Status, r.Charge, r.Paid, r.PatientResponsibility = "22", -c.Charge, -c.Paid, -c.PatientResponsibility
	r.Lines = make([]ServiceLine, len(c.Lines))
	for i, l := range c.Lines {
		l.Charge, l.Paid = -l.Charge, -l.Paid
		adj := make([]Adjustment, len(l.Adjustments))
		for j, a := range l.Adjustments {
			a.Amount = -a.Amount
			adj[j] = a
		}
		l.Adjustments = adj
		l.Amounts = nil
		r.Lines[i] = l
	}
	r.Amounts = nil
	return &r
}

// ptRemittanceFile writes one 835 paying n claims of a PT practice (plus
// a reversal and correction for about one claim in a hundred) and returns
// the number of claim payments and their total.
func ptRemittanceFile(w io.Writer, seed int64, n int, medicare bool) (int, Amount, error) {
	g := &ptGen{r: rand.New(rand.NewSource(seed)), payerMB: medicare}
	rem := &Remittance{
		Control: "0001",
		Version: Version,
		Payment: Payment{Handling: "I", CreditDebit: "C", Method: "ACH", Format: "CCP",
			SenderBank:   BankAccount{DFIQualifier: "01", DFI: "021000021", AccountQualifier: "DA", Account: "1234567890"},
			OriginatorID: "1512345678",
			ReceiverBank: BankAccount{DFIQualifier: "01", DFI: "011000138", AccountQualifier: "DA", Account: "00981234"},
			Date:         NewDate(2026, 11, 20), TraceType: "1", TraceNumber: "EFT" + g.digits(12), PayerID: "1512345678"},
		ReceiverID: "CLAIMGATE",
		Payer: Payer{Name: "KEYSTONE HEALTH PLAN", IDQualifier: "XV", ID: "60054",
			Address:  Address{Line1: "PO BOX 890089", City: "CAMP HILL", State: "PA", Zip: "170890089"},
			Contacts: []Contact{{Function: "BL", Name: "PROVIDER EDI SUPPORT", Numbers: []ContactNumber{{"TE", "8005551212"}, {"UR", "WWW.KHP.COM/EDI"}}}}},
		Payee: Payee{Name: "RIVERSIDE PHYSICAL THERAPY", IDQualifier: "XX", ID: "1245319599", NPI: "1245319599", TaxID: "231234567",
			Address:    Address{Line1: "120 RIVER ST", City: "HARRISBURG", State: "PA", Zip: "17101"},
			References: []Reference{{"TJ", "231234567"}}},
	}
	if medicare {
		rem.Payer = Payer{Name: "NOVITAS SOLUTIONS", IDQualifier: "XV", ID: "12502",
			Address:  Address{Line1: "PO BOX 3413", City: "MECHANICSBURG", State: "PA", Zip: "170551845"},
			Contacts: []Contact{{Function: "BL", Name: "EDI SUPPORT", Numbers: []ContactNumber{{"TE", "8778425000"}}}}}
	}
	return writeStreamedSet(w, 'P', rem, func(write func(*ClaimPayment) error) error {
		for i := 0; i < n; i++ {
			c := g.claim(i)
			if i > 0 && g.chance(0.01) { // an earlier payment taken back and paid again
				old := g.claim(i - 1)
				old.PatientControlNumber = "PT" + strconv.Itoa(100000+i-1)
				if err := write(ptReversal(old)); err != nil {
					return err
				}
				old.PayerClaimControlNumber = g.digits(14)
				if err := write(old); err != nil {
					return err
				}
			}
			if err := write(c); err != nil {
				return err
			}
		}
		return nil
	})
}
