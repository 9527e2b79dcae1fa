package main

import (
	"context"
	"io"
	"math/rand"
	"strconv"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x835"
)

// gen835 writes an 835 interchange of a physical-therapy practice's
// remittances: sets transaction sets of claims claims each (one to four
// PT service lines, contractual and patient adjustments, some denials,
// and a reversal with its correction for about one claim in a hundred),
// claim by claim, so the file may be of any size. Each set pays under its
// own trace number unless repeatTrace, when every set repeats the first
// set's payment. It returns the number of claims written.
// genTime dates the generated envelopes: the same input every day, so
// digests of what is made from it (testdata/golden) hold.
var genTime = time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)

func gen835(w io.Writer, seed int64, sets, claims int, repeatTrace bool) (int, error) {
	r := rand.New(rand.NewSource(seed))
	xw := x12.NewWriter(w, x12.WriterOptions{})
	ctx := context.Background()
	if _, err := xw.BeginInterchange(ctx, x12.InterchangeHeader{Sender: "PAYERSIM", Receiver: "CLAIMGATE", Usage: 'P', Time: genTime}); err != nil {
		return 0, err
	}
	if _, err := xw.BeginGroup(ctx, x12.GroupHeader{FunctionalID: "HP", Sender: "PAYERSIM", Receiver: "CLAIMGATE", Version: x835.Version, Time: genTime}); err != nil {
		return 0, err
	}
	codes := []struct {
		code   string
		charge x835.Amount
	}{{"97110", 4500}, {"97140", 4200}, {"97530", 5000}, {"97112", 4700}, {"97161", 12000}, {"97035", 2500}}
	dos := x835.NewDate(2026, 10, 1)
	n := 0
	for s := 0; s < sets; s++ {
		trace := "EFT" + strconv.Itoa(100000+s)
		if repeatTrace {
			trace = "EFT100000"
		}
		rem := &x835.Remittance{
			Control: strconv.Itoa(1000 + s),
			Payment: x835.Payment{Handling: "I", CreditDebit: "C", Method: "CHK", Amount: 100000,
				Date: x835.NewDate(2026, 11, 20), TraceType: "1", TraceNumber: trace, PayerID: "1512345678"},
			Payer: x835.Payer{Name: "KEYSTONE HEALTH PLAN", IDQualifier: "XV", ID: "60054",
				Address:  x835.Address{Line1: "PO BOX 890089", City: "CAMP HILL", State: "PA", Zip: "170890089"},
				Contacts: []x835.Contact{{Function: "BL", Name: "EDI SUPPORT", Numbers: []x835.ContactNumber{{Qualifier: "TE", Number: "8005551212"}}}}},
			Payee: x835.Payee{Name: "RIVERSIDE PHYSICAL THERAPY", IDQualifier: "XX", ID: "1245319599",
				Address: x835.Address{Line1: "120 RIVER ST", City: "HARRISBURG", State: "PA", Zip: "17101"}},
		}
		sw, err := x835.NewSetWriter(xw, rem)
		if err != nil {
			return n, err
		}
		var paid x835.Amount
		write := func(c *x835.ClaimPayment) error {
			paid += c.Paid
			n++
			return sw.WriteClaim(c)
		}
		for i := 0; i < claims; i++ {
			c := &x835.ClaimPayment{
				PatientControlNumber: "PT" + strconv.Itoa(s*claims+i), Status: "1", FilingIndicator: "12",
				PayerClaimControlNumber: strconv.Itoa(90000000 + r.Intn(9000000)), FacilityCode: "11",
				Patient:       x835.Entity{Type: "1", Last: "DOE", First: "JANE", IDQualifier: "MI", ID: "W" + strconv.Itoa(r.Intn(1e8))},
				StatementFrom: dos, StatementTo: dos,
			}
			for k := 0; k < 1+r.Intn(4); k++ {
				pc := codes[r.Intn(len(codes))]
				units := 1 + r.Intn(3)
				l := x835.ServiceLine{Procedure: x835.Procedure{Qualifier: "HC", Code: pc.code, Modifiers: []string{"GP"}},
					Charge: pc.charge * x835.Amount(units), UnitsPaid: float64(units), ServiceDate: dos,
					ControlNumber: c.PatientControlNumber + "-" + strconv.Itoa(k+1)}
				if r.Intn(20) == 0 {
					l.Adjustments = []x835.Adjustment{{Group: "CO", Reason: "97", Amount: l.Charge}}
					l.Remarks = []x835.Remark{{Qualifier: "HE", Code: "M15"}}
					l.UnitsPaid = 0
				} else {
					allowed := l.Charge * x835.Amount(55+r.Intn(20)) / 100
					l.Adjustments = []x835.Adjustment{{Group: "CO", Reason: "45", Amount: l.Charge - allowed}}
					l.Amounts = []x835.SupplementalAmount{{Qualifier: "B6", Amount: allowed}}
					if r.Intn(3) == 0 {
						l.Adjustments = append(l.Adjustments, x835.Adjustment{Group: "PR", Reason: "2", Amount: allowed / 5})
						c.PatientResponsibility += allowed / 5
					}
				}
				l.Paid = l.Charge - l.AdjustmentTotal()
				c.Charge += l.Charge
				c.Paid += l.Paid
				c.Lines = append(c.Lines, l)
			}
			if c.Paid == 0 {
				c.Status = "4"
			}
			if i > 0 && r.Intn(100) == 0 { // taken back and paid again
				if err := write(reversal(c)); err != nil {
					return n, err
				}
			}
			if err := write(c); err != nil {
				return n, err
			}
		}
		rem.ProviderAdjustments = []x835.ProviderAdjustment{{ProviderID: rem.Payee.ID, FiscalPeriod: x835.NewDate(2026, 12, 31),
			Reason: "FB", Reference: "BALANCE", Amount: paid - rem.Payment.Amount}}
		if err := sw.Close(); err != nil {
			return n, err
		}
	}
	if err := xw.EndGroup(); err != nil {
		return n, err
	}
	return n, xw.EndInterchange()
}

// reversal returns the reversal (CLP02 22, amounts negated) of c.
func reversal(c *x835.ClaimPayment) *x835.ClaimPayment {
	v := *c
	v.Status, v.Charge, v.Paid, v.PatientResponsibility = "22", -c.Charge, -c.Paid, -c.PatientResponsibility
	v.Lines = make([]x835.ServiceLine, len(c.Lines))
	for i, l := range c.Lines {
		l.Charge, l.Paid = -l.Charge, -l.Paid
		adj := make([]x835.Adjustment, len(l.Adjustments))
		for j, a := range l.Adjustments {
			a.Amount = -a.Amount
			adj[j] = a
		}
		l.Adjustments, l.Amounts = adj, nil
		v.Lines[i] = l
	}
	return &v
}
