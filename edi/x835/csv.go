package x835

import (
	"encoding/csv"
	"io"
	"strings"
)

// CSVHeader is the header row WriteCSV and CSVWriter write. See
// docs/835.md for what each column holds.
var CSVHeader = []string{
	"trace_number", "payment_date", "payer", "payee_npi",
	"claim_id", "payer_claim_number", "claim_status",
	"line", "line_control_number", "service_date", "procedure", "modifiers", "units",
	"charge", "paid", "allowed", "adjustments", "remarks", "claim_remarks",
}

// CSVWriter writes claim payments as posting rows for a practice
// management system: one row per service line; a claim without service
// lines gets one claim-level row, and a claim with lines and claim-level
// adjustments gets an extra claim-level row carrying those (charge and
// paid 0), so the rows of a claim always add up to its payment.
type CSVWriter struct {
	w      *csv.Writer
	header bool
	row    []string
	sb     strings.Builder
}

// NewCSVWriter returns a CSVWriter writing to w.
func NewCSVWriter(w io.Writer) *CSVWriter {
	return &CSVWriter{w: csv.NewWriter(w), row: make([]string, len(CSVHeader))}
}

// WriteHeader writes the header row unless it was written: a file with
// no rows to post still gets its header.
func (cw *CSVWriter) WriteHeader() error {
	if cw.header {
		return nil
	}
	cw.header = true
	return cw.w.Write(CSVHeader)
}

// Write writes the rows of one claim (the header row first, once).
func (cw *CSVWriter) Write(c *ClaimPayment) error {
	if err := cw.WriteHeader(); err != nil {
		return err
	}
	row := cw.row
	for i := range row {
		row[i] = ""
	}
	if rem := c.Remittance; rem != nil {
		row[0] = rem.Payment.TraceNumber
		row[1] = rem.Payment.Date.String()
		row[2] = rem.Payer.Name
		row[3] = rem.Payee.NPI
	}
	row[4] = c.PatientControlNumber
	row[5] = c.PayerClaimControlNumber
	row[6] = c.Status
	row[18] = strings.Join(c.Remarks(), ";")
	claimRow := func(charge, paid Amount) error {
		for i := 7; i <= 17; i++ {
			row[i] = ""
		}
		row[9] = c.StatementFrom.String()
		row[13] = charge.Fixed()
		row[14] = paid.Fixed()
		row[16] = cw.adjustments(c.Adjustments)
		return cw.w.Write(row)
	}
	if len(c.Lines) == 0 {
		if err := claimRow(c.Charge, c.Paid); err != nil {
			return err
		}
		return cw.w.Error()
	}
	for i := range c.Lines {
		l := &c.Lines[i]
		row[7] = itoa(i + 1)
		row[8] = l.ControlNumber
		d := l.ServiceDate
		if d == 0 {
			d = l.ServiceFrom
		}
		if d == 0 {
			d = c.StatementFrom
		}
		row[9] = d.String()
		row[10] = l.Procedure.Code
		row[11] = strings.Join(l.Procedure.Modifiers, ";")
		row[12] = string(appendQuantity(nil, l.UnitsPaid))
		row[13] = l.Charge.Fixed()
		row[14] = l.Paid.Fixed()
		row[15] = ""
		if a, ok := l.Allowed(); ok {
			row[15] = a.Fixed()
		}
		row[16] = cw.adjustments(l.Adjustments)
		cw.sb.Reset()
		for _, r := range l.Remarks {
			if cw.sb.Len() > 0 {
				cw.sb.WriteByte(';')
			}
			cw.sb.WriteString(r.Code)
		}
		row[17] = cw.sb.String()
		if err := cw.w.Write(row); err != nil {
			return err
		}
	}
	if len(c.Adjustments) > 0 {
		if err := claimRow(0, 0); err != nil {
			return err
		}
	}
	return cw.w.Error()
}

// adjustments formats adjustments as "CO-45:12.00;PR-2:10.00".
func (cw *CSVWriter) adjustments(adj []Adjustment) string {
	if len(adj) == 0 {
		return ""
	}
	cw.sb.Reset()
	var buf [24]byte
	for i, a := range adj {
		if i > 0 {
			cw.sb.WriteByte(';')
		}
		cw.sb.WriteString(a.Group)
		cw.sb.WriteByte('-')
		cw.sb.WriteString(a.Reason)
		cw.sb.WriteByte(':')
		cw.sb.Write(a.Amount.appendFixed(buf[:0]))
	}
	return cw.sb.String()
}

// Flush writes buffered rows to the underlying writer.
func (cw *CSVWriter) Flush() error {
	cw.w.Flush()
	return cw.w.Error()
}

// WriteCSV writes the claims of the remittances (as ReadAll returns them)
// as CSV posting rows; see CSVWriter.
func WriteCSV(w io.Writer, rems ...*Remittance) error {
	cw := NewCSVWriter(w)
	for _, rem := range rems {
		for _, c := range rem.Claims {
			if c.Remittance == nil {
				cc := *c
				cc.Remittance = rem
				c = &cc
			}
			if err := cw.Write(c); err != nil {
				return err
			}
		}
	}
	if err := cw.WriteHeader(); err != nil {
		return err
	}
	return cw.Flush()
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}
