package scrub

import (
	"fmt"
	"strings"
	"time"
)

// TimedRule says how a payer turns timed minutes into units.
type TimedRule string

// Timed-unit rules.
const (
	// TimedMedicare is the Medicare 8-minute rule: the total timed
	// minutes of a date of service give the total units, allocated to
	// codes by minutes (see MedicareUnits).
	TimedMedicare TimedRule = "medicare"
	// TimedPerCode rounds each code's minutes separately (see
	// PerCodeUnits), as some commercial payers do.
	TimedPerCode TimedRule = "per_code"
	// TimedNone checks no units against minutes. The empty TimedRule
	// means the same.
	TimedNone TimedRule = "none"
)

// PriorAuthRule says when a payer wants a prior authorization number.
type PriorAuthRule struct {
	// Required turns the rule on.
	Required bool `json:"required"`
	// Codes lists the procedure codes needing authorization; empty means
	// every line.
	Codes []string `json:"codes,omitempty"`
}

// Policy is what one payer wants. The zero Policy runs only the checks
// that apply to every payer (modifier limits, NCCI when NCCI is set,
// claim-level 837P checks).
type Policy struct {
	// TimedUnits is the rule checking timed units against minutes.
	TimedUnits TimedRule `json:"timed_units"`
	// TimedCodeOncePerDay requires each timed code on at most one line
	// per date of service, with the date's total units (Medicare
	// contractors).
	TimedCodeOncePerDay bool `json:"timed_code_once_per_day"`
	// RequireGP requires the GP modifier on every PT service (a code in
	// the PT code table).
	RequireGP bool `json:"require_gp"`
	// KX applies the Medicare therapy threshold (KX modifier, targeted
	// review).
	KX bool `json:"kx"`
	// CQ requires the CQ modifier when an assistant furnished more than
	// 10% of a service.
	CQ bool `json:"cq"`
	// MedicareCodeStatus applies the Medicare column of the code table
	// (97010 bundled, 97014 invalid).
	MedicareCodeStatus bool `json:"medicare_code_status"`
	// NCCI applies the NCCI procedure-to-procedure pairs.
	NCCI bool `json:"ncci"`
	// PriorAuth says which lines need a prior authorization number.
	PriorAuth PriorAuthRule `json:"prior_auth"`
	// TimelyFilingMonths warns when a service date is more than this
	// many months before today; 0 turns the check off.
	TimelyFilingMonths int `json:"timely_filing_months"`
}

// MedicarePolicy is the policy for Medicare Part B (filing code MB): the
// 8-minute rule with each timed code once per date, GP, KX, CQ, Medicare
// code status, NCCI and 12-month timely filing.
func MedicarePolicy() Policy {
	return Policy{
		TimedUnits:          TimedMedicare,
		TimedCodeOncePerDay: true,
		RequireGP:           true,
		KX:                  true,
		CQ:                  true,
		MedicareCodeStatus:  true,
		NCCI:                true,
		TimelyFilingMonths:  12,
	}
}

// CommercialPolicy is the default for other payers: the 8-minute rule
// (most commercial payers follow CMS; configure TimedPerCode for those that
// do not), GP and NCCI. No KX, CQ, Medicare code status, prior
// authorization or timely filing limit unless configured per payer.
func CommercialPolicy() Policy {
	return Policy{
		TimedUnits: TimedMedicare,
		RequireGP:  true,
		NCCI:       true,
	}
}

// Config configures a Scrubber. The zero Config is usable: embedded data,
// the zero Policy for every payer, no duplicate check, time.Now in UTC.
// DefaultConfig is the recommended starting point.
type Config struct {
	// Codes, NCCI and Thresholds are the reference tables; nil means the
	// copy embedded in the binary (EmbeddedCodes, ...).
	Codes      *CodeTable      `json:"-"`
	NCCI       *NCCITable      `json:"-"` // see Codes
	Thresholds *ThresholdTable `json:"-"` // see Codes

	// Payers holds policies by payer id (Claim.Payer.ID).
	Payers map[string]Policy `json:"payers,omitempty"`
	// FilingCodes holds policies by claim filing indicator
	// (Subscriber.FilingCode, e.g. "MB"), used when the payer id has none.
	FilingCodes map[string]Policy `json:"filing_codes,omitempty"`
	// Default is the policy for every other claim.
	Default Policy `json:"default"`

	// Seen remembers original claims across batches for DUP-CLAIM; nil
	// turns the duplicate check off.
	Seen Seen `json:"-"`
	// DuplicateKeySecret, when set, makes duplicate keys HMAC-SHA256 with
	// this secret instead of plain SHA-256, so a leaked key store cannot
	// be checked against guessed patient data. Changing it forgets every
	// key.
	DuplicateKeySecret []byte `json:"-"`

	// Now is the clock for future-date and timely-filing checks; nil
	// means time.Now.
	Now func() time.Time `json:"-"`
	// Location is the time zone "today" is taken in; nil means UTC.
	Location *time.Location `json:"-"`
}

// DefaultConfig returns embedded data, MedicarePolicy for filing codes MB
// (Medicare Part B) and MA (Part A), and CommercialPolicy for everything
// else.
func DefaultConfig() Config {
	return Config{
		FilingCodes: map[string]Policy{"MB": MedicarePolicy(), "MA": MedicarePolicy()},
		Default:     CommercialPolicy(),
	}
}

// policy is a Policy checked and prepared for lookups.
type policy struct {
	Policy
	authCodes map[string]struct{}
}

func compilePolicy(name string, p Policy) (*policy, error) {
	switch p.TimedUnits {
	case "", TimedNone, TimedMedicare, TimedPerCode:
	default:
		return nil, fmt.Errorf("scrub: policy %s: unknown timed_units %q (want medicare, per_code or none)", name, p.TimedUnits)
	}
	if p.TimelyFilingMonths < 0 {
		return nil, fmt.Errorf("scrub: policy %s: negative timely_filing_months", name)
	}
	c := &policy{Policy: p}
	c.PriorAuth.Codes = nil // the copy lives in authCodes
	if len(p.PriorAuth.Codes) > 0 {
		c.authCodes = make(map[string]struct{}, len(p.PriorAuth.Codes))
		for _, code := range p.PriorAuth.Codes {
			code = strings.ToUpper(strings.TrimSpace(code))
			if !validCode(code) {
				return nil, fmt.Errorf("scrub: policy %s: prior_auth code %q is not a 5-character code", name, code)
			}
			c.authCodes[code] = struct{}{}
		}
	}
	return c, nil
}

// needsAuth reports whether a line with procedure code needs a prior
// authorization under p.
func (p *policy) needsAuth(code string) bool {
	if !p.PriorAuth.Required {
		return false
	}
	if p.authCodes == nil {
		return true
	}
	_, ok := p.authCodes[code]
	return ok
}
