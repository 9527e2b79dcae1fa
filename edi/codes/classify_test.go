package codes

import (
	"strings"
	"testing"
)

func TestClassifyDomainBrief(t *testing.T) {
	tests := []struct {
		group, carc string
		rarcs       []string
		want        Category
	}{
		// not denials
		{"CO", "45", nil, Contractual},
		{"PR", "1", nil, PatientResponsibility},
		{"PR", "2", nil, PatientResponsibility},
		{"PR", "3", nil, PatientResponsibility},
		{"PR", "45", nil, PatientResponsibility},
		// one example per denial category
		{"OA", "18", nil, Duplicate},
		{"CO", "197", nil, Authorization},
		{"CO", "198", nil, Authorization},
		{"CO", "15", nil, Authorization},
		{"CO", "39", nil, Authorization},
		{"CO", "243", nil, Authorization},
		{"CO", "4", nil, Coding},
		{"CO", "5", nil, Coding},
		{"CO", "8", nil, Coding},
		{"CO", "11", nil, Coding},
		{"CO", "97", nil, Coding},
		{"CO", "181", nil, Coding},
		{"CO", "182", nil, Coding},
		{"CO", "189", nil, Coding},
		{"CO", "16", nil, MissingInfo},
		{"CO", "17", nil, MissingInfo},
		{"CO", "16", []string{"M51"}, MissingInfo},
		{"CO", "16", []string{"N56"}, MissingInfo},
		{"CO", "16", []string{"N54"}, Authorization}, // RARC refines the generic CARC 16
		{"CO", "16", []string{"M15"}, Coding},
		{"CO", "16", []string{"N20"}, Coding},
		{"CO", "16", []string{"N115"}, MedicalNecessity},
		{"CO", "16", []string{"N362"}, BenefitLimit},
		{"CO", "16", []string{"N211"}, TimelyFiling},
		{"CO", "22", nil, Eligibility},
		{"CO", "26", nil, Eligibility},
		{"CO", "27", nil, Eligibility},
		{"CO", "31", nil, Eligibility},
		{"CO", "32", nil, Eligibility},
		{"CO", "109", nil, Eligibility},
		{"CO", "29", nil, TimelyFiling},
		{"CO", "50", nil, MedicalNecessity},
		{"CO", "55", nil, MedicalNecessity},
		{"CO", "56", nil, MedicalNecessity},
		{"CO", "150", nil, MedicalNecessity},
		{"CO", "151", nil, MedicalNecessity},
		{"CO", "119", nil, BenefitLimit},
		{"CO", "35", nil, BenefitLimit},
		{"CO", "96", nil, NonCovered},
		{"CO", "204", nil, NonCovered},
		{"PR", "96", nil, NonCovered},
		// CARC decides over a RARC-only rule
		{"CO", "50", []string{"N54"}, MedicalNecessity},
		{"CO", "197", []string{"N386"}, Authorization},
		// RARC-only rules classify a CARC without a rule
		{"CO", "A1", []string{"N54"}, Authorization},
		{"CO", "A1", []string{"N386"}, MedicalNecessity},
		{"CO", "A1", []string{"N211"}, TimelyFiling},
		{"CO", "A1", []string{"M15"}, Coding},
		{"CO", "A1", []string{"N999", "N362"}, BenefitLimit}, // first known RARC
		{"CO", "A1", []string{"", "N54"}, Authorization},
		{"CO", "16", []string{"", "N54"}, Authorization},
		// nothing matches
		{"CO", "A1", nil, Other},
		{"CO", "ZZZ", nil, Other},
		{"", "", nil, Other},
		{"", "", []string{"N54"}, Authorization},
		// additions beyond the brief
		{"CO", "253", nil, Contractual},
		{"OA", "23", nil, Contractual},
		{"CO", "18", nil, Duplicate},
	}
	for _, tt := range tests {
		if got := Classify(tt.group, tt.carc, tt.rarcs); got != tt.want {
			t.Errorf("Classify(%q, %q, %q) = %v, want %v", tt.group, tt.carc, tt.rarcs, got, tt.want)
		}
	}
}

func TestCategoryIsDenial(t *testing.T) {
	for c := Other; c <= PatientResponsibility; c++ {
		want := c != Contractual && c != PatientResponsibility
		if c.IsDenial() != want {
			t.Errorf("%v.IsDenial() = %v", c, c.IsDenial())
		}
		p, ok := ParseCategory(c.String())
		if !ok || p != c {
			t.Errorf("ParseCategory(%q) = %v, %v", c.String(), p, ok)
		}
	}
	want := map[Category]string{
		Authorization: "authorization", Coding: "coding", MissingInfo: "missing_info",
		Eligibility: "eligibility", TimelyFiling: "timely_filing", Duplicate: "duplicate",
		MedicalNecessity: "medical_necessity", BenefitLimit: "benefit_limit",
		NonCovered: "non_covered", Contractual: "contractual",
		PatientResponsibility: "patient_responsibility", Other: "other",
	}
	for c, s := range want {
		if c.String() != s {
			t.Errorf("String() = %q, want %q", c.String(), s)
		}
	}
	if Category(200).String() != "other" {
		t.Error("out-of-range Category should print as other")
	}
	if _, ok := ParseCategory("Authorization"); ok {
		t.Error("ParseCategory is case-sensitive")
	}
}

func TestDefaultClassifierTable(t *testing.T) {
	cl := DefaultClassifier()
	if cl.Err() != nil {
		t.Fatal(cl.Err())
	}
	if cl.Version() != "2026-11" {
		t.Errorf("Version = %q", cl.Version())
	}
	if cl.Len() < 60 {
		t.Errorf("Len = %d, want >= 60", cl.Len())
	}
	// Every CARC and RARC named in the table exists in the code sets.
	for k := range cl.rules {
		if k.carc != "" && !CARC().Has(k.carc) {
			t.Errorf("rule %v: unknown CARC", k)
		}
		if k.rarc != "" && !RARC().Has(k.rarc) {
			t.Errorf("rule %v: unknown RARC", k)
		}
		if k.group != "" && !GroupCode().Has(k.group) {
			t.Errorf("rule %v: unknown group", k)
		}
	}
}

func TestParseClassifier(t *testing.T) {
	cl, err := ParseClassifier(strings.NewReader("# version: ops-1\ngroup,carc,rarc,category\n# comment\nCO,999,,coding\n,,N1,duplicate\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cl.Version() != "ops-1" || cl.Len() != 2 {
		t.Fatalf("version=%q len=%d", cl.Version(), cl.Len())
	}
	if got := cl.Classify("CO", "999", nil); got != Coding {
		t.Errorf("got %v", got)
	}
	if got := cl.Classify("PR", "999", nil); got != Other {
		t.Errorf("group-specific rule applied to PR: %v", got)
	}
	if got := cl.Classify("PR", "1", []string{"N1"}); got != Duplicate {
		t.Errorf("got %v", got)
	}
	var nilCl *Classifier
	if nilCl.Classify("CO", "45", nil) != Other {
		t.Error("nil classifier should return Other")
	}
	bad := []string{
		"",
		"group,carc,category\n",
		"group,carc,rarc,category\nCO,45,,nonsense\n",
		"group,carc,rarc,category\nCO,,,coding\n",
		"group,carc,rarc,category\nCO,45,,coding\nCO,45,,contractual\n",
		"group,carc,rarc,category\nCO,45,coding\n",
		"group,carc,rarc,category\nCO, 45,,coding\n",
	}
	for _, in := range bad {
		if _, err := ParseClassifier(strings.NewReader(in)); err == nil {
			t.Errorf("ParseClassifier(%q): want error", in)
		}
	}
}

func BenchmarkClassify(b *testing.B) {
	rarcs := []string{"N54"}
	DefaultClassifier()
	b.ReportAllocs()
	for b.Loop() {
		if Classify("CO", "16", rarcs) != Authorization {
			b.Fatal("wrong")
		}
	}
}
