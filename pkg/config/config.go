// Package config reads claimgate's configuration: who submits claims, the
// payers claims go to (their trading-partner ids and billing policy), and
// the files and secrets the gateway uses. Secrets are never in the file
// itself: the file names an environment variable or a file holding them.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/claimgate/claimgate/edi/x837p"
	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/scrub"
)

// Config is the whole configuration file.
type Config struct {
	Submitter Submitter `json:"submitter"`
	// Usage is ISA15 for the files written: "P" production or "T" test.
	Usage string `json:"usage"`
	// MaxClaimsPerSet caps claims per 837P transaction set (default 5000).
	MaxClaimsPerSet int `json:"max_claims_per_set,omitempty"`
	// MaxClaimsPerInterchange closes a payer's file (interchange) at this
	// many claims (default 2500, see pipeline.DefaultMaxClaimsPerFile).
	MaxClaimsPerInterchange int     `json:"max_claims_per_interchange,omitempty"`
	Payers                  []Payer `json:"payers"`
	// DefaultPolicy is the scrubber policy of payers without one:
	// "medicare", "commercial" (the default) or "none".
	DefaultPolicy string `json:"default_policy,omitempty"`
	// DuplicateKeySecret names where the secret for duplicate-claim keys
	// comes from: "env:NAME" or "file:/path". Optional.
	DuplicateKeySecret string `json:"duplicate_key_secret,omitempty"`
	// Webhooks are URLs claim events are delivered to (webhooks.go,
	// docs/webhooks.md).
	Webhooks []Webhook `json:"webhooks,omitempty"`
}

// Submitter is the clearinghouse or billing company sending the files.
type Submitter struct {
	Name         string `json:"name"`
	ID           string `json:"id"` // ETIN at the receivers
	ContactName  string `json:"contact_name"`
	Phone        string `json:"phone,omitempty"`
	Email        string `json:"email,omitempty"`
	ISAQualifier string `json:"isa_qualifier,omitempty"`
	ISAID        string `json:"isa_id,omitempty"`
	GSID         string `json:"gs_id,omitempty"`
}

// Payer is one payer claims go to.
type Payer struct {
	ID   string `json:"id"` // the payer id PM systems put on claims
	Name string `json:"name"`
	// Receiver is the payer's trading-partner identity (loop 1000B, ISA08,
	// GS03). Empty fields default to the payer's id and name.
	Receiver struct {
		Name         string `json:"name,omitempty"`
		ID           string `json:"id,omitempty"`
		ISAQualifier string `json:"isa_qualifier,omitempty"`
		ISAID        string `json:"isa_id,omitempty"`
		GSID         string `json:"gs_id,omitempty"`
	} `json:"receiver"`
	// FilingCode is SBR09 for claims that carry none (MB, CI, ...).
	FilingCode string `json:"filing_code,omitempty"`
	// Preset is the starting policy: "medicare", "commercial" or "none".
	Preset string `json:"policy_preset,omitempty"`
	// Policy, when given, replaces the preset entirely.
	Policy *scrub.Policy `json:"policy,omitempty"`
	SFTP   *SFTP         `json:"sftp,omitempty"` // file exchange with the payer (sftp.go)
}

// Load reads and checks a configuration file. Unknown keys are errors, so a
// misspelt setting is not silently ignored.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := c.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

// Check reports the first problem that would make files unusable.
func (c *Config) Check() error {
	var errs []error
	if c.Submitter.Name == "" || c.Submitter.ID == "" || c.Submitter.ContactName == "" {
		errs = append(errs, errors.New("submitter needs name, id and contact_name"))
	}
	if c.Submitter.Phone == "" && c.Submitter.Email == "" {
		errs = append(errs, errors.New("submitter needs a phone or email: the 837P submitter contact (PER) requires one"))
	}
	if c.Usage != "P" && c.Usage != "T" {
		errs = append(errs, fmt.Errorf("usage must be \"P\" or \"T\", got %q", c.Usage))
	}
	seen := map[string]bool{}
	for i, p := range c.Payers {
		if p.ID == "" || p.Name == "" {
			errs = append(errs, fmt.Errorf("payers[%d] needs id and name", i))
		}
		if seen[p.ID] {
			errs = append(errs, fmt.Errorf("payers[%d]: payer id %q appears twice", i, p.ID))
		}
		seen[p.ID] = true
		if _, err := preset(p.Preset); err != nil {
			errs = append(errs, fmt.Errorf("payers[%d]: %w", i, err))
		}
	}
	if c.MaxClaimsPerSet < 0 || c.MaxClaimsPerInterchange < 0 {
		errs = append(errs, errors.New("max_claims_per_set and max_claims_per_interchange must not be negative"))
	}
	if _, err := preset(c.DefaultPolicy); err != nil {
		errs = append(errs, fmt.Errorf("default_policy: %w", err))
	}
	if err := checkWebhooks(c.Webhooks); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func preset(name string) (scrub.Policy, error) {
	switch strings.ToLower(name) {
	case "", "commercial":
		return scrub.CommercialPolicy(), nil
	case "medicare":
		return scrub.MedicarePolicy(), nil
	case "none":
		return scrub.Policy{}, nil
	}
	return scrub.Policy{}, fmt.Errorf("unknown policy preset %q (medicare, commercial or none)", name)
}

// Receiver returns the assemble receiver for payer p.
func (p *Payer) receiver() assemble.Receiver {
	r := assemble.Receiver{Name: p.Receiver.Name, ID: p.Receiver.ID, ISAQualifier: p.Receiver.ISAQualifier,
		ISAID: p.Receiver.ISAID, GSID: p.Receiver.GSID, FilingCode: p.FilingCode}
	if r.Name == "" {
		r.Name = p.Name
	}
	if r.ID == "" {
		r.ID = p.ID
	}
	return r
}

// Assemble returns the 837P assembler configuration.
func (c *Config) Assemble() assemble.Config {
	s := c.Submitter
	ac := assemble.Config{
		Submitter: assemble.Submitter{Name: s.Name, ID: s.ID, ISAQualifier: s.ISAQualifier, ISAID: s.ISAID, GSID: s.GSID,
			Contact: x837p.Contact{Name: s.ContactName, Phone: s.Phone, Email: s.Email}},
		Receivers:       map[string]assemble.Receiver{},
		Usage:           c.Usage[0],
		MaxClaimsPerSet: c.MaxClaimsPerSet,
	}
	for i := range c.Payers {
		ac.Receivers[c.Payers[i].ID] = c.Payers[i].receiver()
	}
	return ac
}

// Scrub returns the scrubber configuration: embedded reference data, each
// payer's policy, and the duplicate-key secret.
func (c *Config) Scrub() (scrub.Config, error) {
	sc := scrub.DefaultConfig()
	if c.DefaultPolicy != "" {
		sc.Default, _ = preset(c.DefaultPolicy)
	}
	sc.Payers = map[string]scrub.Policy{}
	for _, p := range c.Payers {
		// A payer without a preset, policy or Medicare filing code of its
		// own gets no entry: each claim's filing indicator (SBR09) then
		// picks the policy, so an MB claim is never scrubbed as commercial.
		pol, _ := preset(p.Preset)
		switch {
		case p.Policy != nil:
			pol = *p.Policy
		case p.Preset != "":
		case p.FilingCode == "MB" || p.FilingCode == "MA":
			pol = scrub.MedicarePolicy()
		default:
			continue
		}
		sc.Payers[p.ID] = pol
	}
	if c.DuplicateKeySecret != "" {
		secret, err := Secret(c.DuplicateKeySecret)
		if err != nil {
			return sc, fmt.Errorf("duplicate_key_secret: %w", err)
		}
		sc.DuplicateKeySecret = secret
	}
	return sc, nil
}

// Secret resolves a secret reference: "env:NAME" reads an environment
// variable, "file:/path" a file (trailing newline trimmed). Literal secrets
// are refused so they never sit in a configuration file.
func Secret(ref string) ([]byte, error) {
	kind, arg, ok := strings.Cut(ref, ":")
	switch {
	case ok && kind == "env":
		v, set := os.LookupEnv(arg)
		if !set || v == "" {
			return nil, fmt.Errorf("environment variable %s is not set", arg)
		}
		return []byte(v), nil
	case ok && kind == "file":
		b, err := os.ReadFile(arg)
		if err != nil {
			return nil, err
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) == 0 {
			return nil, fmt.Errorf("secret file %s is empty", arg)
		}
		return b, nil
	}
	return nil, errors.New(`a secret must be given as "env:NAME" or "file:/path", never inline`)
}
