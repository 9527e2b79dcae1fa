package x835

import (
	"os"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

// TestFindingsWithholdPHI: findings on the patient's, corrected patient's
// names and ids and the claim's other identifications withhold the
// value; the claim id (CLP01) stays visible.
func TestFindingsWithholdPHI(t *testing.T) {
	b, err := os.ReadFile("../../testdata/835/herophilus__835_Professional_w_payment_2014.txt")
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("Q", 90)
	s := string(b)
	for _, r := range []struct{ old, new string }{
		{"NM1*QC*1*SUBMITTED LAST*", "NM1*QC*1*ZZPHILAST" + long + "*"},
		{"*MI*LL99999L", "*MI*ZZMEMBER" + long},
		{"NM1*74*1*CORRECTED LAST*CORRECTED FIRST", "NM1*74*1*CORRECTED LAST*ZZPHIFIRST "},
		{"REF*EA*PATIENT ACCOUNT NUMBER", "REF*EA*ZZMRN" + long},
		{"CLP*PATIENT ACCOUNT NUMBER*1*", "CLP*ZZCLAIM" + long + "*1*"},
	} {
		if !strings.Contains(s, r.old) {
			t.Fatalf("sample lacks %s", r.old)
		}
		s = strings.Replace(s, r.old, r.new, 1)
	}
	_, fs, err := Validate(strings.NewReader(s), "phi.835")
	if err != nil {
		t.Fatal(err)
	}
	withheld, claimShown := 0, false
	for _, f := range fs {
		text := f.Error()
		for _, m := range []string{"ZZPHI", "ZZMEMBER", "ZZMRN"} {
			if strings.Contains(text, m) {
				t.Errorf("PHI shown: %s", text)
			}
		}
		if strings.Contains(f.Message, x12.Withheld) && f.Value != "" {
			withheld++
		}
		claimShown = claimShown || strings.Contains(text, "ZZCLAIM")
	}
	if withheld < 4 || !claimShown {
		t.Errorf("%d findings withheld a value, claim id shown %v:\n%v", withheld, claimShown, fs)
	}
}
