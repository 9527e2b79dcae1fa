package x835

// Rule names reported by this package. Element-level TR3 rules come from
// x12.SegSpec (tr3.*), envelope rules from x12 (envelope.*).
const (
	RuleAmount          = "x835.amount"         // amount with more than two decimals, not a number, too large
	RuleBalanceLine     = "835.balance-line"    // SVC02 − Σ line CAS ≠ SVC03
	RuleBalanceClaim    = "835.balance-claim"   // CLP03 − Σ claim CAS − Σ line CAS ≠ CLP04
	RuleBalancePayment  = "835.balance-payment" // BPR02 ≠ Σ CLP04 − Σ PLB
	RuleBPRMissing      = "835.bpr-missing"     // no BPR in the header
	RuleTRNMissing      = "835.trn-missing"     // no TRN in the header
	RulePayerMissing    = "835.payer-missing"   // no N1*PR (loop 1000A)
	RulePayerAddress    = "835.payer-address-missing"
	RulePayerContact    = "835.payer-contact-missing" // no PER*BL in 1000A
	RulePayeeMissing    = "835.payee-missing"         // no N1*PE (loop 1000B)
	RuleClaimMissing    = "835.claim-missing"         // LX without CLP
	RulePatientMissing  = "835.patient-missing"       // CLP without NM1*QC
	RuleServiceDate     = "835.service-date-missing"
	RuleCASGroup        = "835.cas-group"          // CAS01 not CO/OA/PI/PR (CR is 4010 only)
	RuleCASTriplet      = "835.cas-triplet"        // reason without amount or the reverse
	RuleCLPStatus       = "835.clp-status"         // CLP02 not a 5010 claim status code
	RuleReversal        = "835.reversal"           // reversal (CLP02 22) amounts not negated
	RuleBPRMethod       = "835.bpr-method"         // BPR04 not ACH/BOP/CHK/FWT/NON, or NON with money
	RuleBPRHandling     = "835.bpr-handling"       // BPR01 H with a non-zero payment
	RuleBPRBank         = "835.bpr-bank"           // bank fields missing for ACH or sent for a check
	RulePaymentNegative = "835.payment-negative"   // BPR02 below zero
	RulePLBReason       = "835.plb-reason"         // PLB reason not in the code list
	RulePLBPair         = "835.plb-pair"           // PLB reason without amount or the reverse
	RuleCARCUnknown     = "835.carc-unknown"       // warning: CARC not in list 139
	RuleCARCInactive    = "835.carc-inactive"      // warning: CARC deactivated before the payment date
	RuleRARCUnknown     = "835.rarc-unknown"       // warning: RARC not in list 411
	RuleUnexpected      = "835.unexpected-segment" // segment not allowed where it is
	RuleOrder           = "835.segment-order"      // segment out of TR3 order within its loop
	RuleRepeat          = "835.repeat"             // segment or loop repeated more than allowed
	RuleVersion         = "835.version"            // ST03/GS08 not 005010X221A1
	// RuleDuplicatePayment: the payment (payer TRN03, trace TRN02) of an
	// earlier set in the same file: the same remittance sent twice.
	RuleDuplicatePayment = "835.duplicate-payment"
)
