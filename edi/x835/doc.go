// Package x835 reads, validates and writes the 835 health care claim
// payment/advice (ASC X12 005010X221A1): the electronic remittance advice
// (ERA) that tells a provider what a payer paid, adjusted and denied.
//
// # Reading
//
// Reader streams an 835 one claim payment at a time, in memory bounded by
// the largest claim, whatever the file's size:
//
//	rd := x835.NewReader(f)
//	rd.Name = "era.835"
//	for {
//		c, err := rd.Next()
//		if err == io.EOF {
//			break
//		}
//		if err != nil {
//			return err // I/O; data problems are findings, not errors
//		}
//		rem := c.Remittance // BPR, TRN, payer, payee of c's transaction set
//		post(rem.Payment.TraceNumber, c.PatientControlNumber, c.Paid, c.Lines)
//	}
//	findings := rd.Findings() // or set rd.Report to receive them as they come
//
// ReadAll reads a small file whole, with full validation. Amounts are
// exact cents (Amount); an amount with more than two decimals is a finding
// (x835.amount). Every adjustment carries its denial category from
// edi/codes (Adjustment.Category). A reversal (CLP02 22) and the claim
// that corrects it are linked (ClaimPayment.Reversal / Correction).
//
// # Validating
//
// The Reader checks what reading needs: loop structure, segment order and
// repeats, CLP02, CAS01 (CR is not a 5010 group code), BPR04 and PLB
// reason codes, CARC and RARC lists (unknown codes are warnings), and
// balancing of every service line (SVC02 − line CAS = SVC03), claim
// (CLP03 − claim CAS − line CAS = CLP04) and payment (BPR02 = Σ CLP04 −
// Σ PLB). With Reader.Validate, ReadAll, Validate, or as an
// x12.SetChecker (Sets, NewChecker) under x12.Check, it also checks every
// element against the TR3 and the envelopes. Rule names are the Rule*
// constants; see docs/835.md.
//
// # Writing
//
// WriteRemittance writes a Remittance as a TR3-valid transaction set
// inside envelopes the caller opens with x12.Writer; SetWriter does the
// same claim by claim for files too large to hold.
//
// # JSON and CSV
//
// The model's json tags give a documented ERA JSON shape (docs/835.md).
// CSVWriter and WriteCSV write one posting row per service line for a
// practice management system.
package x835
