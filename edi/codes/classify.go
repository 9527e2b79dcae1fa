package codes

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Category is the denial category of one 835 adjustment (CAS group + CARC,
// refined by remark codes), per the domain brief's "Denial categories" table.
type Category uint8

// Category values. Contractual and PatientResponsibility are adjustments but
// not denials; every other category, Other included, counts as a denial.
const (
	// Other: no row of the table matched.
	Other Category = iota
	// Authorization: prior authorization/precertification/referral problems
	// (CARC 197, 198, 15, 39, 243; RARC N54).
	Authorization
	// Coding: modifier, procedure/diagnosis consistency, bundling
	// (CARC 4, 5, 8, 11, 97, 181, 182, 189; RARC M15, N20).
	Coding
	// MissingInfo: missing or invalid claim information
	// (CARC 16, 17; RARC M51, N56).
	MissingInfo
	// Eligibility: coverage, eligibility and coordination of benefits
	// (CARC 22, 26, 27, 31, 32, 109).
	Eligibility
	// TimelyFiling: filing limit expired (CARC 29; RARC N211).
	TimelyFiling
	// Duplicate: exact duplicate (OA-18).
	Duplicate
	// MedicalNecessity: medical necessity or frequency
	// (CARC 50, 55, 56, 150, 151; RARC N115, N386).
	MedicalNecessity
	// BenefitLimit: benefit maximum reached (CARC 119, 35; RARC N362).
	BenefitLimit
	// NonCovered: not a covered service (CARC 96, 204).
	NonCovered
	// Contractual: contractual reduction such as CO-45; not a denial.
	Contractual
	// PatientResponsibility: deductible, coinsurance, copay (PR-1, PR-2,
	// PR-3, PR-45); not a denial.
	PatientResponsibility
)

var categoryNames = [...]string{
	Other:                 "other",
	Authorization:         "authorization",
	Coding:                "coding",
	MissingInfo:           "missing_info",
	Eligibility:           "eligibility",
	TimelyFiling:          "timely_filing",
	Duplicate:             "duplicate",
	MedicalNecessity:      "medical_necessity",
	BenefitLimit:          "benefit_limit",
	NonCovered:            "non_covered",
	Contractual:           "contractual",
	PatientResponsibility: "patient_responsibility",
}

// String returns the category's snake_case name as used in
// denial_categories.csv, e.g. "medical_necessity".
func (c Category) String() string {
	if int(c) < len(categoryNames) {
		return categoryNames[c]
	}
	return "other"
}

// IsDenial reports whether an adjustment in this category counts as a denial
// for the denial rate: every category except Contractual and
// PatientResponsibility.
func (c Category) IsDenial() bool {
	return c != Contractual && c != PatientResponsibility
}

// ParseCategory returns the Category whose String is name.
func ParseCategory(name string) (Category, bool) {
	for i, n := range categoryNames {
		if n == name {
			return Category(i), true
		}
	}
	return Other, false
}

type ruleKey struct{ group, carc, rarc string }

// Classifier maps (group, CARC, RARCs) to a Category using a rule table in
// the denial_categories.csv format. It is immutable and safe for concurrent
// use.
type Classifier struct {
	version string
	rules   map[ruleKey]Category
	err     error
}

// ParseClassifier reads a rule table: optional "# key: value" header lines
// (version), lines starting with # are comments, a header row
// "group,carc,rarc,category", then rules. group and rarc may be empty; carc
// may be empty only when rarc is set (a RARC-only rule). category is a
// Category name such as "authorization". Operators can use it to load an
// edited table at run time.
func ParseClassifier(r io.Reader) (*Classifier, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	cl := &Classifier{rules: map[ruleKey]Category{}}
	for _, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "#")
		if !ok {
			continue
		}
		if k, v, ok := strings.Cut(rest, ":"); ok && strings.TrimSpace(k) == "version" {
			cl.version = strings.TrimSpace(v)
		}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	header := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		if header {
			header = false
			if len(rec) != 4 || rec[0] != "group" || rec[1] != "carc" || rec[2] != "rarc" || rec[3] != "category" {
				return nil, fmt.Errorf("line %d: header must be group,carc,rarc,category", line)
			}
			continue
		}
		if len(rec) != 4 {
			return nil, fmt.Errorf("line %d: want 4 fields, got %d", line, len(rec))
		}
		for _, f := range rec {
			if strings.TrimSpace(f) != f {
				return nil, fmt.Errorf("line %d: padded field %q", line, f)
			}
		}
		k := ruleKey{group: rec[0], carc: rec[1], rarc: rec[2]}
		if k.carc == "" && k.rarc == "" {
			return nil, fmt.Errorf("line %d: a rule needs a carc or a rarc", line)
		}
		cat, ok := ParseCategory(rec[3])
		if !ok {
			return nil, fmt.Errorf("line %d: unknown category %q", line, rec[3])
		}
		if _, dup := cl.rules[k]; dup {
			return nil, fmt.Errorf("line %d: duplicate rule %s,%s,%s", line, k.group, k.carc, k.rarc)
		}
		cl.rules[k] = cat
	}
	if header {
		return nil, fmt.Errorf("no header row")
	}
	return cl, nil
}

var (
	defaultOnce       sync.Once
	defaultClassifier *Classifier
)

// DefaultClassifier returns the classifier built from the embedded
// data/denial_categories.csv, loaded once on first use. If that file failed
// to parse, the classifier has no rules (everything is Other) and Err says
// why.
func DefaultClassifier() *Classifier {
	defaultOnce.Do(func() {
		const file = "data/denial_categories.csv"
		b, err := dataFS.ReadFile(file)
		if err == nil {
			var cl *Classifier
			if cl, err = ParseClassifier(bytes.NewReader(b)); err == nil {
				defaultClassifier = cl
				return
			}
		}
		defaultClassifier = &Classifier{rules: map[ruleKey]Category{}, err: fmt.Errorf("codes: %s: %w", file, err)}
	})
	return defaultClassifier
}

// Classify classifies one adjustment with DefaultClassifier; see
// (*Classifier).Classify.
func Classify(group, carc string, rarcs []string) Category {
	return DefaultClassifier().Classify(group, carc, rarcs)
}

// Classify returns the Category of an adjustment with CAS group code group
// and reason code carc, given the remark codes (RARCs) reported for the same
// line or claim (empty strings in rarcs are ignored). The first matching
// rule wins, tried in this order:
//
//  1. group + carc + rarc (for each rarc, in order)
//  2. carc + rarc (any group)
//  3. group + carc
//  4. carc (any group)
//  5. group + rarc (RARC-only rule)
//  6. rarc (RARC-only rule, any group)
//
// So the CARC decides, a RARC refines a CARC only through an explicit
// carc+rarc rule (e.g. 16 + N54 -> Authorization), and RARC-only rules
// classify CARCs that have no rule (e.g. A1 "denied, see remarks"). If
// nothing matches the result is Other. Codes are compared exactly. Classify
// does not allocate.
func (cl *Classifier) Classify(group, carc string, rarcs []string) Category {
	if cl == nil {
		return Other
	}
	for _, r := range rarcs {
		if r == "" {
			continue
		}
		if c, ok := cl.rules[ruleKey{group, carc, r}]; ok {
			return c
		}
	}
	for _, r := range rarcs {
		if r == "" {
			continue
		}
		if c, ok := cl.rules[ruleKey{"", carc, r}]; ok {
			return c
		}
	}
	if carc != "" {
		if c, ok := cl.rules[ruleKey{group, carc, ""}]; ok {
			return c
		}
		if c, ok := cl.rules[ruleKey{"", carc, ""}]; ok {
			return c
		}
	}
	for _, r := range rarcs {
		if r == "" {
			continue
		}
		if c, ok := cl.rules[ruleKey{group, "", r}]; ok {
			return c
		}
	}
	for _, r := range rarcs {
		if r == "" {
			continue
		}
		if c, ok := cl.rules[ruleKey{"", "", r}]; ok {
			return c
		}
	}
	return Other
}

// Version returns the table's "# version:" header value.
func (cl *Classifier) Version() string { return cl.version }

// Len returns the number of rules.
func (cl *Classifier) Len() int { return len(cl.rules) }

// Err reports why the default classifier's table failed to load; it is nil
// for classifiers returned by ParseClassifier.
func (cl *Classifier) Err() error { return cl.err }
