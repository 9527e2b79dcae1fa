package payersim

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/claimgate/claimgate/edi/x835"
	"github.com/claimgate/claimgate/pkg/scrub"
)

// Duration is a time.Duration written in JSON as a Go duration string
// ("90s", "2h") or a number of seconds.
type Duration time.Duration

// UnmarshalJSON reads "1m30s" or 90.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration %s: want a string such as \"90s\" or a number of seconds", b)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Reason is one adjustment a payer gives: CAS group, CARC and RARCs.
type Reason struct {
	Group string   `json:"group"`          // CO, OA, PI, PR
	CARC  string   `json:"carc"`           // claim adjustment reason code (list 139)
	RARC  []string `json:"rarc,omitempty"` // remark codes (list 411), sent as LQ*HE
}

// String is the adjustment as GROUP-CARC[/RARC...], e.g. CO-151/M53.
func (r Reason) String() string {
	s := r.Group + "-" + r.CARC
	if len(r.RARC) > 0 {
		s += "/" + strings.Join(r.RARC, "/")
	}
	return s
}

// Rule names: the keys of PayerConfig.Denials.
const (
	RuleTimedUnits   = "timed_units"   // timed code billed over the 8-minute-rule (or per-day) units
	RuleGPMissing    = "gp_missing"    // PT line without GP
	RulePriorAuth    = "prior_auth"    // line needing a prior authorization without one
	RuleNCCI         = "ncci"          // NCCI column-2 line without a bypass modifier
	RuleTimelyFiling = "timely_filing" // service older than the filing limit
	RuleDuplicate    = "duplicate"     // same services as a claim already paid
	RuleBundled      = "bundled"       // Medicare: code never paid separately (97010)
)

// DefaultDenials are the adjustments each rule gives unless the payer's
// configuration says otherwise.
func DefaultDenials() map[string]Reason {
	return map[string]Reason{
		RuleTimedUnits:   {Group: "CO", CARC: "151", RARC: []string{"M53"}},
		RuleGPMissing:    {Group: "CO", CARC: "4"},
		RulePriorAuth:    {Group: "CO", CARC: "197"},
		RuleNCCI:         {Group: "CO", CARC: "236", RARC: []string{"N20"}},
		RuleTimelyFiling: {Group: "CO", CARC: "29"},
		RuleDuplicate:    {Group: "OA", CARC: "18"},
		RuleBundled:      {Group: "CO", CARC: "97", RARC: []string{"N20"}},
	}
}

// DefaultRandomDenials are the reasons a randomly denied claim gets, one
// picked per claim.
func DefaultRandomDenials() []Reason {
	return []Reason{
		{Group: "CO", CARC: "50", RARC: []string{"N115"}},
		{Group: "PR", CARC: "96"},
		{Group: "PR", CARC: "119", RARC: []string{"N362"}},
		{Group: "CO", CARC: "16", RARC: []string{"M51"}},
	}
}

// Delays say when each response lands in the outbound folder, counted
// from the moment the simulator picked the 837P up.
type Delays struct {
	Ack      Duration `json:"ack"`       // TA1 or 999
	ClaimAck Duration `json:"claim_ack"` // 277CA
	Payment  Duration `json:"payment"`   // 835
}

// PLB is one provider-level adjustment put on every 835 set.
type PLB struct {
	Reason    string      `json:"reason"` // e.g. L6 interest, WO overpayment recovery, CS adjustment
	Amount    x835.Amount `json:"amount"` // positive reduces the payment, negative adds to it
	Reference string      `json:"reference,omitempty"`
}

// Address is the payer's postal address (835 loop 1000A N3/N4).
type Address struct {
	Line1 string `json:"line1"`
	City  string `json:"city"`
	State string `json:"state"`
	Zip   string `json:"zip"`
}

// PayerConfig is one simulated payer.
type PayerConfig struct {
	// ID is the payer id (837 2010BB NM109); it names the payer's folder
	// unless Folder is set.
	ID     string `json:"id"`
	Name   string `json:"name"`
	Folder string `json:"folder,omitempty"`
	// Inbound and Outbound override the folder names under the payer's
	// folder.
	Inbound  string `json:"inbound,omitempty"`
	Outbound string `json:"outbound,omitempty"`
	// ISAID and GSID are the payer's ISA06 and GS02 on responses
	// (default ID).
	ISAID string `json:"isa_id,omitempty"`
	GSID  string `json:"gs_id,omitempty"`
	// TIN is the payer's 10-character id in 835 TRN03 and BPR10
	// ("1" + EIN).
	TIN     string  `json:"tin,omitempty"`
	Address Address `json:"address"`
	// FilingCode is CLP06 when the 837 carries no SBR09; MB also picks
	// the Medicare policy when Policy is not given.
	FilingCode string `json:"filing_code,omitempty"`
	// Policy is the payer's rule set (the scrubber's policy fields);
	// absent means scrub.MedicarePolicy for filing code MB, else
	// scrub.CommercialPolicy.
	Policy *scrub.Policy `json:"policy,omitempty"`
	// MaxTimedUnitsPerDay caps the timed units per date of service when
	// the claim documents no minutes (default 8: 113-127 minutes).
	MaxTimedUnitsPerDay int `json:"max_timed_units_per_day,omitempty"`
	// MinutesNote matches a line's NTE text carrying the treatment
	// minutes; its first group is the minutes (default "MIN(?:UTES)?\W*(\d+)").
	MinutesNote string `json:"minutes_note,omitempty"`

	// FeeSchedule is the allowed amount per unit by procedure code;
	// DefaultFee is used for codes not listed.
	FeeSchedule map[string]x835.Amount `json:"fee_schedule"`
	DefaultFee  x835.Amount            `json:"default_fee"`
	// CoinsurancePercent of the allowed amount is PR-2; Copay per claim
	// is PR-3; Deductible is PR-1 on claims picked with DeductibleRate.
	CoinsurancePercent float64     `json:"coinsurance_percent"`
	Copay              x835.Amount `json:"copay"`
	Deductible         x835.Amount `json:"deductible"`
	DeductibleRate     float64     `json:"deductible_rate"`

	// RejectRate is the fraction of claims the 277CA rejects at random
	// (A7:164:IL, the subscriber's member number); MemberIDPattern, when
	// set, rejects claims whose member id does not match it.
	RejectRate      float64 `json:"reject_rate"`
	MemberIDPattern string  `json:"member_id_pattern,omitempty"`
	// DenialRate is the fraction of accepted claims denied at random with
	// one of RandomDenials.
	DenialRate    float64  `json:"denial_rate"`
	RandomDenials []Reason `json:"random_denials,omitempty"`
	// Denials override the reason each rule gives (keys: timed_units,
	// gp_missing, prior_auth, ncci, timely_filing, duplicate, bundled).
	Denials map[string]Reason `json:"denials,omitempty"`
	// ReversalRate is the fraction of claims paid in an earlier cycle
	// that a later 835 reverses (CLP02 22) and pays again corrected.
	ReversalRate float64 `json:"reversal_rate"`
	// CorrectionPercent is how much lower the corrected payment's
	// allowed amount is (default 5).
	CorrectionPercent float64 `json:"correction_percent,omitempty"`
	PLB               []PLB   `json:"plb,omitempty"`
	// ClaimNumberPrefix starts every payer claim number (REF*1K, CLP07).
	ClaimNumberPrefix string `json:"claim_number_prefix,omitempty"`

	Delays Delays `json:"delays"`
	// NamePattern names response files; see docs/payersim.md.
	NamePattern string `json:"name_pattern,omitempty"`

	minutes *regexp.Regexp
	member  *regexp.Regexp
	policy  scrub.Policy
	denials map[string]Reason
}

// Config is the simulator's JSON configuration.
type Config struct {
	// Seed makes random decisions reproducible; the --seed flag
	// overrides it.
	Seed int64 `json:"seed"`
	// PollInterval is how often inbound folders are scanned (default 1s).
	PollInterval Duration `json:"poll_interval,omitempty"`
	// Inbound and Outbound are the default folder names (inbound,
	// outbound).
	Inbound  string        `json:"inbound,omitempty"`
	Outbound string        `json:"outbound,omitempty"`
	Payers   []PayerConfig `json:"payers"`
}

// DefaultNamePattern names response files: see docs/payersim.md.
const DefaultNamePattern = "{payer}_{type}_{date}_{icn}_{seq}.x12"

// ReadConfig reads a JSON configuration; unknown keys are errors.
func ReadConfig(r io.Reader) (*Config, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("payersim: config: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("payersim: config: data after the JSON object")
	}
	if err := c.prepare(); err != nil {
		return nil, err
	}
	return &c, nil
}

// LoadConfig reads a JSON configuration file.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := ReadConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

var folderName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func rate(name string, v float64) error {
	if v < 0 || v > 1 {
		return fmt.Errorf("%s %v is not a fraction between 0 and 1", name, v)
	}
	return nil
}

// prepare fills defaults and checks the configuration.
func (c *Config) prepare() error {
	if c.PollInterval <= 0 {
		c.PollInterval = Duration(time.Second)
	}
	if c.Inbound == "" {
		c.Inbound = "inbound"
	}
	if c.Outbound == "" {
		c.Outbound = "outbound"
	}
	if len(c.Payers) == 0 {
		return fmt.Errorf("payersim: config: no payers")
	}
	seen := map[string]bool{}
	for i := range c.Payers {
		p := &c.Payers[i]
		if err := p.prepare(c); err != nil {
			return fmt.Errorf("payersim: config: payers[%d] (%s): %w", i, p.ID, err)
		}
		if seen[p.ID] || seen["folder:"+p.Folder] {
			return fmt.Errorf("payersim: config: payer %s or folder %s listed twice", p.ID, p.Folder)
		}
		seen[p.ID], seen["folder:"+p.Folder] = true, true
	}
	return nil
}

func (p *PayerConfig) prepare(c *Config) error {
	if p.ID == "" {
		return fmt.Errorf("id is required")
	}
	if p.Name == "" {
		p.Name = "PAYER " + p.ID
	}
	if p.Folder == "" {
		p.Folder = p.ID
	}
	if p.Inbound == "" {
		p.Inbound = c.Inbound
	}
	if p.Outbound == "" {
		p.Outbound = c.Outbound
	}
	for _, f := range []string{p.Folder, p.Inbound, p.Outbound} {
		if !folderName.MatchString(f) {
			return fmt.Errorf("folder name %q: use letters, digits, '.', '_' and '-' (not starting with '.' or '-')", f)
		}
	}
	if p.Inbound == p.Outbound {
		return fmt.Errorf("inbound and outbound folders are both %q", p.Inbound)
	}
	if p.ISAID == "" {
		p.ISAID = p.ID
	}
	if p.GSID == "" {
		p.GSID = p.ISAID
	}
	if len(p.ISAID) > 15 {
		return fmt.Errorf("isa_id %q is longer than 15 characters", p.ISAID)
	}
	if p.TIN == "" {
		p.TIN = "1999999999"
	}
	if len(p.TIN) != 10 {
		return fmt.Errorf("tin %q must be 10 characters (1 followed by the EIN)", p.TIN)
	}
	if p.Address == (Address{}) {
		p.Address = Address{Line1: "PO BOX 1000", City: "COLUMBIA", State: "SC", Zip: "29202"}
	}
	if p.FilingCode == "" {
		p.FilingCode = "CI"
	}
	switch {
	case p.Policy != nil:
		p.policy = *p.Policy
	case p.FilingCode == "MB":
		p.policy = scrub.MedicarePolicy()
	default:
		p.policy = scrub.CommercialPolicy()
	}
	switch p.policy.TimedUnits {
	case "", scrub.TimedNone, scrub.TimedMedicare, scrub.TimedPerCode:
	default:
		return fmt.Errorf("policy timed_units %q: want medicare, per_code or none", p.policy.TimedUnits)
	}
	if p.MaxTimedUnitsPerDay == 0 {
		p.MaxTimedUnitsPerDay = 8
	}
	if p.MaxTimedUnitsPerDay < 0 {
		return fmt.Errorf("max_timed_units_per_day must not be negative")
	}
	pat := p.MinutesNote
	if pat == "" {
		pat = `MIN(?:UTES)?\W*(\d+)`
	}
	var err error
	if p.minutes, err = regexp.Compile(pat); err != nil {
		return fmt.Errorf("minutes_note: %w", err)
	}
	if p.minutes.NumSubexp() < 1 {
		return fmt.Errorf("minutes_note %q needs a group capturing the minutes", pat)
	}
	if p.MemberIDPattern != "" {
		if p.member, err = regexp.Compile("^(?:" + p.MemberIDPattern + ")$"); err != nil {
			return fmt.Errorf("member_id_pattern: %w", err)
		}
	}
	for name, v := range map[string]float64{"reject_rate": p.RejectRate, "denial_rate": p.DenialRate,
		"deductible_rate": p.DeductibleRate, "reversal_rate": p.ReversalRate} {
		if err := rate(name, v); err != nil {
			return err
		}
	}
	if p.CoinsurancePercent < 0 || p.CoinsurancePercent > 100 {
		return fmt.Errorf("coinsurance_percent %v is not 0-100", p.CoinsurancePercent)
	}
	if p.CorrectionPercent == 0 {
		p.CorrectionPercent = 5
	}
	if p.CorrectionPercent < 0 || p.CorrectionPercent > 100 {
		return fmt.Errorf("correction_percent %v is not 0-100", p.CorrectionPercent)
	}
	for code, fee := range p.FeeSchedule {
		if fee < 0 {
			return fmt.Errorf("fee_schedule %s: negative fee", code)
		}
	}
	if p.DefaultFee < 0 || p.Copay < 0 || p.Deductible < 0 {
		return fmt.Errorf("default_fee, copay and deductible must not be negative")
	}
	p.denials = DefaultDenials()
	for k, r := range p.Denials {
		if _, ok := p.denials[k]; !ok {
			return fmt.Errorf("denials: unknown rule %q", k)
		}
		if err := checkReason(r); err != nil {
			return fmt.Errorf("denials %s: %w", k, err)
		}
		p.denials[k] = r
	}
	if len(p.RandomDenials) == 0 {
		p.RandomDenials = DefaultRandomDenials()
	}
	for _, r := range p.RandomDenials {
		if err := checkReason(r); err != nil {
			return fmt.Errorf("random_denials: %w", err)
		}
	}
	for _, pl := range p.PLB {
		if pl.Reason == "" || pl.Amount == 0 {
			return fmt.Errorf("plb: each adjustment needs a reason and a non-zero amount")
		}
	}
	if p.NamePattern == "" {
		p.NamePattern = DefaultNamePattern
	}
	if !strings.Contains(p.NamePattern, "{seq}") {
		return fmt.Errorf("name_pattern %q must contain {seq} so names never collide", p.NamePattern)
	}
	for _, d := range []Duration{p.Delays.Ack, p.Delays.ClaimAck, p.Delays.Payment} {
		if d < 0 {
			return fmt.Errorf("delays must not be negative")
		}
	}
	return nil
}

func checkReason(r Reason) error {
	switch r.Group {
	case "CO", "OA", "PI", "PR":
	default:
		return fmt.Errorf("group %q is not CO, OA, PI or PR", r.Group)
	}
	if r.CARC == "" {
		return fmt.Errorf("carc is required")
	}
	if len(r.RARC) > 5 {
		return fmt.Errorf("at most 5 rarc codes")
	}
	return nil
}

// Payer returns the configuration of a payer by id.
func (c *Config) Payer(id string) (*PayerConfig, bool) {
	for i := range c.Payers {
		if c.Payers[i].ID == id {
			return &c.Payers[i], true
		}
	}
	return nil, false
}

//go:embed example.json
var exampleJSON []byte

// ExampleConfig returns the example configuration (the same as
// deploy/payersim.example.json): a Medicare contractor and a commercial
// payer.
func ExampleConfig() *Config {
	c, err := ReadConfig(bytes.NewReader(exampleJSON))
	if err != nil {
		panic("payersim: embedded example.json: " + err.Error()) // a test keeps it valid
	}
	return c
}
