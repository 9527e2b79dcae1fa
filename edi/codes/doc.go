// Package codes holds the X12 code sets claimgate needs to read 999, 277CA
// and 835 responses, as versioned data rather than Go tables.
//
// Every code set is a CSV file under data/, embedded with go:embed and parsed
// lazily, once, on first use. Each row carries the code, a start (effective)
// date, an optional stop (deactivation) date and a short description, so a
// caller can ask both "does this code exist?" ([Set.Lookup]) and "could a
// payer have used this code on date D?" ([Set.ValidOn]). The files say where
// their code lists came from; see data/README.md.
//
// Built-in sets:
//
//   - [CARC]: claim adjustment reason codes (X12 external list 139, CAS02).
//   - [RARC]: remittance advice remark codes (X12 external list 411).
//   - [ClaimStatusCategory]: claim status category codes (list 507, STC01-1).
//   - [ClaimStatus]: claim status codes (list 508, STC01-2).
//   - [ClaimPaymentStatus]: 835 CLP02 claim status codes.
//   - [PLBReason]: 835 PLB provider adjustment reason codes.
//   - [GroupCode]: CAS01 claim adjustment group codes (CR is present but
//     stopped, because it is not valid in 005010).
//   - [TransactionSetAck], [FunctionalGroupAck], [SegmentSyntaxError],
//     [ElementSyntaxError], [TransactionSetSyntaxError],
//     [FunctionalGroupSyntaxError]: 999 acknowledgment code lists.
//
// On top of the sets the package maps a 277CA status category to an
// [Outcome] ([CategoryOutcome]) and classifies an 835 adjustment
// (group, CARC, RARCs) into a denial [Category] ([Classify]) using the
// operator-editable table data/denial_categories.csv.
//
// Lookups never allocate and never panic: an unknown code is reported with
// ok == false. A data file that fails to parse leaves its set empty and
// reports the problem through [Set.Err] and [Check].
package codes
