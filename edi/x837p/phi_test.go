package x837p

import (
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

// TestFindingsWithholdPHI: a finding on an element of the subscriber
// (2010BA), the patient (2010CA) or another payer's subscriber (2330A)
// withholds the value and keeps it in Value; the same rule broken on a
// provider's name or address still shows the value.
func TestFindingsWithholdPHI(t *testing.T) {
	text := sample(t, "lfh__demo.cob.example3.B.x222a1.837")
	long := strings.Repeat("Q", 70)
	for _, c := range []struct{ old, new string }{
		{"NM1*IL*1*SMITH*JACK*", "NM1*IL*1*SMITH*JACKZZ *"},            // 2010BA first name, trailing space
		{"NM1*QC*1*SMITH*TED", "NM1*QC*1*SMITH*TEDZZ" + long},          // 2010CA first name, too long
		{"NM1*IL*1*SMITH*JANE*", "NM1*IL*1*SMITHZZ" + long + "*JANE*"}, // 2330A last name, too long
		{"DMG*D8*19730501", "DMG*D8*19731301"},                         // 2010CA birth date
		{"N3*236 N MAIN ST", "N3*236 N MAIN STZZ" + long},              // 2010CA street
		{"NM1*85*1*KILDARE*BEN*", "NM1*85*1*KILDARE*BEN *"},            // 2010AA: not PHI
		{"N3*2345 OCEAN BLVD", "N3*2345 OCEAN BLVD" + long},            // 2310C: not PHI
	} {
		if !strings.Contains(text, c.old) {
			t.Fatalf("sample lacks %s", c.old)
		}
		text = strings.Replace(text, c.old, c.new, 1)
	}
	fs := validate(t, "phi.837", text)
	withheld := map[string]int{}
	shown := map[string]int{}
	for _, f := range fs {
		if f.Element == 0 {
			continue
		}
		switch f.Loop {
		case "2010BA", "2010CA", "2330A":
			if strings.Contains(f.Error(), "ZZ") || strings.Contains(f.Error(), "1973") || !strings.Contains(f.Message, x12.Withheld) || f.Value == "" {
				t.Errorf("PHI shown: %s (value %q)", f.Error(), f.Value)
			}
			withheld[f.Loop+" "+f.Rule]++
			g := f
			g.Reveal()
			if !strings.Contains(g.Message, x12.ShowValue(f.Value)) {
				t.Errorf("Reveal: %s", g.Message)
			}
		case "2010AA", "2310C":
			if f.Value != "" || strings.Contains(f.Message, "withheld") {
				t.Errorf("provider value withheld: %s", f.Error())
			}
			shown[f.Loop+" "+f.Rule]++
		}
	}
	for _, k := range []string{"2010BA tr3.trailing-space", "2010CA tr3.length", "2330A tr3.length", "2010CA 837p.date"} {
		if withheld[k] == 0 {
			t.Errorf("no withheld finding %s; got %v", k, withheld)
		}
	}
	for _, k := range []string{"2010AA tr3.trailing-space", "2310C tr3.length"} {
		if shown[k] == 0 {
			t.Errorf("no provider finding %s; got %v", k, shown)
		}
	}
}

// TestShiftedNameWithheld: a name shifted into NM101 makes the NM1 fit no
// loop; the qualifier finding must not show it, as it is no code.
func TestShiftedNameWithheld(t *testing.T) {
	text := strings.Replace(sample(t, "lfh__demo.cob.example3.B.x222a1.837"), "NM1*QC*1*SMITH*TED", "NM1*ZZSMITH*QC*1*TED", 1)
	n := 0
	for _, f := range validate(t, "phi.837", text) {
		if strings.Contains(f.Error(), "ZZSMITH") {
			t.Errorf("PHI shown: %s", f.Error())
		}
		if f.Rule == "tr3.code" && f.Value == "ZZSMITH" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d withheld qualifier findings", n)
	}
	// A short bad qualifier is a code and is shown.
	text = strings.Replace(sample(t, "lfh__demo.cob.example3.B.x222a1.837"), "NM1*QC*1*SMITH*TED", "NM1*Q9*1*SMITH*TED", 1)
	shown := false
	for _, f := range validate(t, "phi.837", text) {
		shown = shown || f.Rule == "tr3.code" && strings.Contains(f.Message, `"Q9"`)
	}
	if !shown {
		t.Error("a bad qualifier code is not shown")
	}
}
