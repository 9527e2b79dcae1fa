package x835

import (
	"bytes"
	"context"
	"io"
	"math/rand"
	"strconv"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
)

// The generator builds random but TR3-valid, balanced remittances: the
// round-trip property test writes them and expects to read back the same
// model with no findings, and the benchmark and memory tests stream them.

var (
	genGroups  = []string{"CO", "OA", "PI", "PR"}
	genCARCs   = []string{"1", "2", "3", "4", "16", "18", "23", "27", "29", "45", "50", "96", "97", "119", "137", "142", "197", "204", "253"}
	genRARCs   = []string{"N206", "M15", "N20", "N54", "MA130", "N115", "N386", "N362", "M51", "N56", "N211", "N25"}
	genCPT     = []string{"97110", "97112", "97116", "97140", "97530", "97161", "97162", "97164", "G0283", "99213"}
	genMods    = []string{"GP", "KX", "CQ", "59", "XE", "25"}
	genFiling  = []string{"12", "13", "MB", "MC", "CH", "HM", "LM"}
	genPLB     = []string{"WO", "L6", "FB", "72", "CS", "50", "IR"}
	genStatus  = []string{"1", "1", "1", "2", "3", "4", "19", "20", "23"}
	genClaimRF = []string{"1L", "EA", "9A", "G1", "CE", "F8"}
	genLineRF  = []string{"LU", "1S", "G1", "0K", "1G"}
)

type gen struct {
	r   *rand.Rand
	seq int
}

func newGen(seed int64) *gen { return &gen{r: rand.New(rand.NewSource(seed))} }

func (g *gen) pick(s []string) string { return s[g.r.Intn(len(s))] }
func (g *gen) chance(p float64) bool  { return g.r.Float64() < p }

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func (g *gen) word(min, max int) string {
	n := min + g.r.Intn(max-min+1)
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[g.r.Intn(26)]
	}
	return string(b)
}

func (g *gen) id(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[26+g.r.Intn(10)]
	}
	return string(b)
}

func (g *gen) date() Date {
	return NewDate(2020+g.r.Intn(6), time.Month(1+g.r.Intn(12)), 1+g.r.Intn(28))
}

func (g *gen) cents(lo, hi int) Amount { return Amount(lo + g.r.Intn(hi-lo+1)) }

// adjustments splits up to total into 0..max adjustments.
func (g *gen) adjustments(total Amount, max int) []Adjustment {
	var out []Adjustment
	n := g.r.Intn(max + 1)
	for i := 0; i < n && total > 0; i++ {
		a := Adjustment{Group: g.pick(genGroups), Reason: g.pick(genCARCs), Amount: g.cents(1, int(total))}
		if g.chance(0.1) {
			a.Quantity = float64(1 + g.r.Intn(20))
		}
		total -= a.Amount
		out = append(out, a)
	}
	// keep a group's triplets together as the writer groups them
	sorted := out[:0:0]
	for _, grp := range genGroups {
		for _, a := range out {
			if a.Group == grp {
				sorted = append(sorted, a)
			}
		}
	}
	if len(sorted) == 0 {
		return nil
	}
	return sorted
}

func (g *gen) line(claimDates bool) ServiceLine {
	l := ServiceLine{Procedure: Procedure{Qualifier: "HC", Code: g.pick(genCPT)}}
	for k := g.r.Intn(5); k > 0; k-- {
		l.Procedure.Modifiers = append(l.Procedure.Modifiers, g.pick(genMods))
	}
	l.Charge = g.cents(1000, 50000)
	l.Adjustments = g.adjustments(l.Charge, 3)
	l.Paid = l.Charge - l.AdjustmentTotal()
	l.UnitsPaid = float64(g.r.Intn(5))
	if g.chance(0.2) {
		l.UnitsPaid = float64(g.r.Intn(400)) / 100
	}
	if g.chance(0.1) {
		l.RevenueCode = "0" + g.id(3)
	}
	if g.chance(0.1) {
		l.OriginalProcedure = &Procedure{Qualifier: "HC", Code: g.pick(genCPT), Modifiers: []string{"GP"}, Description: g.word(3, 20)}
		l.OriginalUnits = float64(1 + g.r.Intn(4))
	}
	if !claimDates || g.chance(0.5) {
		if g.chance(0.8) {
			l.ServiceDate = g.date()
		} else {
			l.ServiceFrom, l.ServiceTo = g.date(), g.date()
		}
	}
	if g.chance(0.7) {
		l.ControlNumber = "L" + g.id(6)
	}
	for k := g.r.Intn(3); k > 0; k-- {
		l.References = append(l.References, Reference{Qualifier: g.pick(genLineRF), Value: g.word(1, 12)})
	}
	if g.chance(0.7) {
		l.Amounts = append(l.Amounts, SupplementalAmount{Qualifier: "B6", Amount: l.Paid + g.cents(0, 500)})
	}
	if g.chance(0.1) {
		l.Quantities = append(l.Quantities, SupplementalQuantity{Qualifier: "ZK", Quantity: float64(g.r.Intn(9))})
	}
	// remark codes come with some lines, usually one
	if g.chance(0.25) {
		l.Remarks = append(l.Remarks, Remark{Qualifier: "HE", Code: g.pick(genRARCs)})
		if g.chance(0.2) {
			l.Remarks = append(l.Remarks, Remark{Qualifier: "HE", Code: g.pick(genRARCs)})
		}
	}
	var rarcs []string
	for _, r := range l.Remarks {
		rarcs = append(rarcs, r.Code)
	}
	for i := range l.Adjustments {
		a := &l.Adjustments[i]
		a.Category = Category(a.Group, a.Reason, rarcs)
	}
	return l
}

func (g *gen) entity(typ string, withID bool, qual string) *Entity {
	e := &Entity{Type: typ, Last: g.word(2, 20)}
	if typ == "1" {
		e.First = g.word(1, 12)
		if g.chance(0.3) {
			e.Middle = g.word(1, 1)
		}
		if g.chance(0.1) {
			e.Suffix = "JR"
		}
	}
	if withID || g.chance(0.8) {
		e.IDQualifier, e.ID = qual, g.word(2, 12)
	}
	return e
}

func (g *gen) claim() *ClaimPayment {
	g.seq++
	c := &ClaimPayment{
		PatientControlNumber:    "PCN" + strconv.Itoa(g.seq) + g.word(0, 5),
		Status:                  g.pick(genStatus),
		FilingIndicator:         g.pick(genFiling),
		PayerClaimControlNumber: g.id(14),
		FacilityCode:            "11",
		Frequency:               "1",
		Patient:                 *g.entity("1", false, "MI"),
	}
	if g.chance(0.3) {
		c.Insured = g.entity("1", true, "MI")
	}
	if g.chance(0.1) {
		c.CorrectedPatient = g.entity("1", false, "C")
	}
	if g.chance(0.4) {
		c.RenderingProvider = g.entity("1", true, "XX")
	}
	if g.chance(0.05) {
		c.CrossoverCarrier = &Entity{Type: "2", Last: g.word(3, 20), IDQualifier: "PI", ID: g.id(5)}
	}
	if g.chance(0.1) {
		c.Outpatient = &OutpatientAdjudication{}
		for k := 1 + g.r.Intn(3); k > 0; k-- {
			c.Outpatient.Remarks = append(c.Outpatient.Remarks, g.pick(genRARCs))
		}
		if g.chance(0.5) {
			c.Outpatient.HCPCSPayable = g.cents(0, 9999)
		}
	}
	if g.chance(0.05) {
		c.Inpatient = &InpatientAdjudication{CoveredDays: float64(g.r.Intn(30)), DRGAmount: g.cents(0, 99999), CostReportDays: 3}
		if g.chance(0.5) {
			c.Inpatient.Remarks = []string{g.pick(genRARCs), g.pick(genRARCs)}
		}
	}
	for k := g.r.Intn(3); k > 0; k-- {
		c.References = append(c.References, Reference{Qualifier: g.pick(genClaimRF), Value: g.word(1, 15)})
	}
	claimDates := g.chance(0.5)
	if claimDates {
		c.StatementFrom = g.date()
		c.StatementTo = c.StatementFrom
	}
	if g.chance(0.2) {
		c.Received = g.date()
	}
	if g.chance(0.05) {
		c.Contacts = []Contact{{Function: "CX", Name: g.word(3, 10), Numbers: []ContactNumber{{"TE", g.id(10)}}}}
	}
	nLines := g.r.Intn(6)
	for i := 0; i < nLines; i++ {
		l := g.line(claimDates)
		c.Lines = append(c.Lines, l)
		c.Charge += l.Charge
	}
	if nLines == 0 {
		c.Charge = g.cents(1000, 90000)
	}
	c.Adjustments = g.adjustments(c.Charge-c.AdjustmentTotal(), 2)
	c.Paid = c.Charge - c.AdjustmentTotal()
	for _, a := range c.AdjustmentsAll() {
		if a.Group == "PR" {
			c.PatientResponsibility += a.Amount
		}
	}
	if g.chance(0.5) {
		c.Amounts = append(c.Amounts, SupplementalAmount{Qualifier: "AU", Amount: c.Charge})
	}
	if g.chance(0.05) {
		c.Quantities = append(c.Quantities, SupplementalQuantity{Qualifier: "CA", Quantity: float64(g.r.Intn(9))})
	}
	rarcs := c.Remarks()
	for i := range c.Adjustments {
		a := &c.Adjustments[i]
		a.Category = Category(a.Group, a.Reason, rarcs)
	}
	return c
}

// AdjustmentsAll returns claim and line adjustments (test helper).
func (c *ClaimPayment) AdjustmentsAll() []Adjustment {
	out := append([]Adjustment(nil), c.Adjustments...)
	for i := range c.Lines {
		out = append(out, c.Lines[i].Adjustments...)
	}
	return out
}

// reversalOf returns the reversal of c: the same claim with every amount
// negated and status 22.
func reversalOf(c *ClaimPayment) *ClaimPayment {
	r := *c
	r.Status = "22"
	neg := func(adj []Adjustment) []Adjustment {
		if adj == nil {
			return nil
		}
		out := make([]Adjustment, len(adj))
		for i, a := range adj {
			a.Amount = -a.Amount
			out[i] = a
		}
		return out
	}
	r.Charge, r.Paid, r.PatientResponsibility = -c.Charge, -c.Paid, -c.PatientResponsibility
	r.Adjustments = neg(c.Adjustments)
	r.Lines = nil
	for _, l := range c.Lines {
		l.Charge, l.Paid = -l.Charge, -l.Paid
		l.Adjustments = neg(l.Adjustments)
		l.Amounts = nil
		r.Lines = append(r.Lines, l)
	}
	r.Amounts = nil
	return &r
}

// remittance builds a whole set of n claims with links, indices and
// derived fields set as the reader sets them.
func (g *gen) remittance(n int) *Remittance {
	rem := &Remittance{
		Control: g.id(4 + g.r.Intn(5)),
		Version: Version,
		Payment: Payment{
			CreditDebit: "C",
			Date:        g.date(),
			TraceType:   "1",
			TraceNumber: g.word(5, 20),
			PayerID:     "1" + g.id(9),
		},
		Payer: Payer{
			Name:     g.word(5, 30),
			Address:  Address{Line1: g.word(5, 30), City: g.word(3, 20), State: "PA", Zip: g.id(9)},
			Contacts: []Contact{{Function: "BL", Name: g.word(3, 10), Numbers: []ContactNumber{{"TE", g.id(10)}, {"EM", "EDI"}}}},
		},
		Payee: Payee{Name: g.word(5, 30), IDQualifier: "XX", ID: "1" + g.id(9)},
	}
	rem.Payee.NPI = rem.Payee.ID
	if g.chance(0.3) {
		rem.ReceiverID = g.word(3, 10)
	}
	if g.chance(0.3) {
		rem.ProductionDate = g.date()
	}
	if g.chance(0.2) {
		rem.Payment.Currency = "USD"
	}
	if g.chance(0.5) {
		rem.Payer.References = []Reference{{"2U", g.id(5)}}
	}
	if g.chance(0.5) {
		rem.Payer.Contacts = append([]Contact{{Function: "CX", Numbers: []ContactNumber{{"TE", g.id(10)}}}}, rem.Payer.Contacts...)
	}
	if g.chance(0.5) {
		rem.Payee.References = []Reference{{"TJ", g.id(9)}}
		rem.Payee.TaxID = rem.Payee.References[0].Value
	}
	if g.chance(0.5) {
		rem.Payee.Address = Address{Line1: g.word(5, 30), Line2: g.word(0, 10), City: g.word(3, 20), State: "NY", Zip: g.id(5)}
	}
	hn := 1
	var summary *ProviderSummary
	for i := 0; i < n; i++ {
		if i > 0 && g.chance(0.1) {
			hn++
			summary = nil
			if g.chance(0.3) {
				summary = &ProviderSummary{ProviderID: g.id(10), FacilityCode: "13", FiscalPeriod: g.date(), ClaimCount: 3, TotalCharge: g.cents(0, 999999)}
				if g.chance(0.5) {
					summary.Supplemental = &SupplementalSummary{DRG: g.cents(1, 9999), CoveredDays: 4}
				}
			}
		}
		c := g.claim()
		if c.Status != "22" && g.chance(0.08) && i+1 < n {
			orig := c
			orig.Status = "1"
			rev := reversalOf(orig)
			corr := g.claim()
			corr.PatientControlNumber = orig.PatientControlNumber
			corr.PayerClaimControlNumber = orig.PayerClaimControlNumber
			rev.Correction, corr.Reversal = corr, rev
			for _, x := range []*ClaimPayment{rev, corr} {
				x.HeaderNumber, x.ProviderSummary, x.Index, x.Remittance = hn, summary, len(rem.Claims), rem
				rem.Claims = append(rem.Claims, x)
			}
			i++
			continue
		}
		c.HeaderNumber, c.ProviderSummary, c.Index, c.Remittance = hn, summary, len(rem.Claims), rem
		rem.Claims = append(rem.Claims, c)
	}
	var paid Amount
	for _, c := range rem.Claims {
		paid += c.Paid
	}
	for k := g.r.Intn(4); k > 0; k-- {
		rem.ProviderAdjustments = append(rem.ProviderAdjustments, ProviderAdjustment{
			ProviderID: rem.Payee.ID, FiscalPeriod: NewDate(2025, 12, 31), Reason: g.pick(genPLB),
			Reference: g.word(0, 12), Amount: g.cents(-5000, 5000),
		})
	}
	if net := paid - rem.ProviderAdjustmentTotal(); net < 0 {
		rem.ProviderAdjustments = append(rem.ProviderAdjustments, ProviderAdjustment{
			ProviderID: rem.Payee.ID, FiscalPeriod: NewDate(2025, 12, 31), Reason: "FB", Reference: "BAL", Amount: net,
		})
	}
	rem.Payment.Amount = rem.NetPayment()
	switch {
	case rem.Payment.Amount == 0:
		rem.Payment.Handling, rem.Payment.Method = "H", "NON"
	case g.chance(0.5):
		rem.Payment.Handling, rem.Payment.Method = "I", "CHK"
	default:
		rem.Payment.Handling, rem.Payment.Method, rem.Payment.Format = "C", "ACH", "CCP"
		rem.Payment.SenderBank = BankAccount{"01", g.id(9), "DA", g.id(10)}
		rem.Payment.OriginatorID = rem.Payment.PayerID
		rem.Payment.ReceiverBank = BankAccount{"01", g.id(9), "DA", g.id(12)}
	}
	return rem
}

// envelope writes rems inside one interchange and group and returns the
// bytes, setting each Remittance's expected Envelope.
func writeFile(t testing.TB, d x12.Delimiters, newline bool, rems ...*Remittance) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := x12.NewWriter(&buf, x12.WriterOptions{Delimiters: d, Newline: newline})
	ctx := context.Background()
	when := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	ic, err := w.BeginInterchange(ctx, x12.InterchangeHeader{Sender: "PAYERSIM", Receiver: "CLAIMGATE", Time: when, Usage: 'T'})
	if err != nil {
		t.Fatal(err)
	}
	gc, err := w.BeginGroup(ctx, x12.GroupHeader{FunctionalID: "HP", Sender: "PAYERSIM", Receiver: "CLAIMGATE", Time: when, Version: Version})
	if err != nil {
		t.Fatal(err)
	}
	for i, rem := range rems {
		rem.Envelope = Envelope{
			InterchangeControl: strconv.FormatInt(1000000000+ic, 10)[1:], InterchangeSender: "PAYERSIM", InterchangeReceiver: "CLAIMGATE",
			Usage: "T", GroupControl: strconv.FormatInt(gc, 10), GroupSender: "PAYERSIM", GroupReceiver: "CLAIMGATE", GroupDate: "20260102",
		}
		if rem.Control == "" {
			rem.Control = strconv.Itoa(1000 + i)
		}
		if err := WriteRemittance(w, rem); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.EndGroup(); err != nil {
		t.Fatal(err)
	}
	if err := w.EndInterchange(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// streamFile writes an interchange with one set of n generated claims to
// w claim by claim, never holding more than one claim; it returns the sum
// of the claims' payments.
func streamFile(w io.Writer, seed int64, n int) (int, Amount, error) {
	g := newGen(seed)
	rem := g.remittance(0)
	rem.Payment.Handling, rem.Payment.Method, rem.Payment.Format = "I", "CHK", ""
	rem.Payment.SenderBank, rem.Payment.ReceiverBank, rem.Payment.OriginatorID = BankAccount{}, BankAccount{}, ""
	// a pool of random claims, written over and over under new claim
	// numbers: generating each claim afresh would cost more than reading
	cg := newGen(seed + 1)
	pool := make([]*ClaimPayment, 512)
	for i := range pool {
		pool[i] = cg.claim()
	}
	var pcn []byte
	return writeStreamedSet(w, 'T', rem, func(write func(*ClaimPayment) error) error {
		for i := 0; i < n; i++ {
			c := *pool[i%len(pool)]
			pcn = strconv.AppendInt(append(pcn[:0], "PCN"...), int64(i), 10)
			c.PatientControlNumber = string(pcn)
			if err := write(&c); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeStreamedSet writes an interchange holding one transaction set with
// rem's header and the claims that claims passes to write, one at a time.
// BPR02 is written before the claims are known: it is fixed at 1,000.00,
// and a PLB (FB, forwarding balance) at the end takes up the difference.
// It returns the number of claims and their total payment.
func writeStreamedSet(w io.Writer, usage byte, rem *Remittance, claims func(write func(*ClaimPayment) error) error) (int, Amount, error) {
	xw := x12.NewWriter(w, x12.WriterOptions{})
	ctx := context.Background()
	if _, err := xw.BeginInterchange(ctx, x12.InterchangeHeader{Sender: "PAYERSIM", Receiver: "CLAIMGATE", Usage: usage}); err != nil {
		return 0, 0, err
	}
	if _, err := xw.BeginGroup(ctx, x12.GroupHeader{FunctionalID: "HP", Sender: "PAYERSIM", Receiver: "CLAIMGATE", Version: Version}); err != nil {
		return 0, 0, err
	}
	rem.ProviderAdjustments = nil
	rem.Payment.Amount = 100000
	sw, err := NewSetWriter(xw, rem)
	if err != nil {
		return 0, 0, err
	}
	var paid Amount
	n := 0
	err = claims(func(c *ClaimPayment) error {
		paid += c.Paid
		n++
		return sw.WriteClaim(c)
	})
	if err != nil {
		return 0, 0, err
	}
	rem.ProviderAdjustments = []ProviderAdjustment{{ProviderID: rem.Payee.ID, FiscalPeriod: NewDate(2025, 12, 31), Reason: "FB", Reference: "BALANCE", Amount: paid - rem.Payment.Amount}}
	if err := sw.Close(); err != nil {
		return 0, 0, err
	}
	if err := xw.EndGroup(); err != nil {
		return 0, 0, err
	}
	return n, paid, xw.EndInterchange()
}
