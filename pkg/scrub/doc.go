// Package scrub runs claim edits (the "scrubber") on a decoded claim before
// it is queued for an 837P: the PT billing rules (8-minute rule, untimed
// units, GP/KX/CQ modifiers, NCCI procedure-to-procedure pairs, Medicare
// code status), payer policies (prior authorization, timed-code rounding),
// duplicate detection across batches and the claim-level 837P checks the
// decoder does not make (NPI check digit, diagnosis pointers, REF*F8, dates).
//
// A Scrubber is built once from a Config (code tables, thresholds, payer
// policies) and is then read-only: Scrub may be called from many goroutines.
// Reference data ships embedded under data/ and can be replaced at run time
// with LoadCodes, LoadNCCI and LoadThresholds.
//
// Edit messages never contain patient names, member ids, birth dates or
// any other date belonging to the patient; they name lines, codes, units,
// minutes and amounts only, so they can be logged and shown to operators.
package scrub
