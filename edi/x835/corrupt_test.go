package x835

import (
	"bytes"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

// Corrupted copies of good samples, each breaking one rule. The SE01 count
// is corrected where segments are removed, so each copy fails with exactly
// the rule it is about (and the SE01 case alone breaks the count).
func TestCorruptedCopies(t *testing.T) {
	const cas45 = "x12org__X221-claim-adjustment-reason-code-45.edi"
	const prof = "herophilus__835_Professional_w_payment_2014.txt"
	cases := []struct {
		name, file string
		edits      [][2]string // old, new; each must occur exactly once
		errors     []string    // exactly these error rules
		warnings   []string    // at least these warning rules
		message    string      // a finding's message contains this
	}{
		{name: "BPR02 unbalanced", file: cas45,
			edits:   [][2]string{{"BPR*I*80.00*", "BPR*I*81.00*"}},
			errors:  []string{RuleBalancePayment},
			message: "total payment BPR02 81.00 does not balance: claim payments (CLP04) 80.00 − provider adjustments (PLB) 0.00 = 80.00 (off by 1.00)"},
		{name: "CAS group CR", file: cas45,
			edits:   [][2]string{{"CAS*CO*204*100", "CAS*CR*204*100"}},
			errors:  []string{RuleCASGroup},
			message: "CAS01 group code CR (correction and reversal) is not valid in 005010"},
		{name: "CAS group unknown", file: cas45,
			edits:  [][2]string{{"CAS*CO*97*150", "CAS*XX*97*150"}},
			errors: []string{RuleCASGroup}},
		{name: "bad CLP02", file: cas45,
			edits:   [][2]string{{"CLP*PATACCT*1*", "CLP*PATACCT*9*"}},
			errors:  []string{RuleCLPStatus},
			message: `CLP02 claim status "9" is not a 005010 claim status code`},
		{name: "missing TRN", file: cas45,
			edits:   [][2]string{{"TRN*1*CK NUMBER 1*1234567890~", ""}, {"SE*33*", "SE*32*"}},
			errors:  []string{RuleTRNMissing},
			message: "TRN (reassociation trace number) is missing"},
		{name: "missing N1*PE", file: cas45,
			edits:   [][2]string{{"N1*PE*PROVIDER*XX*1123454567~N3*2255 ANY ROAD~N4*ANY CITY*CA*12211~REF*TJ*123456789~", ""}, {"SE*33*", "SE*29*"}},
			errors:  []string{RulePayeeMissing},
			message: "payee loop 1000B (N1*PE) is missing"},
		{name: "SE01 off", file: cas45,
			edits:   [][2]string{{"SE*33*", "SE*34*"}},
			errors:  []string{"envelope.se-count"},
			message: "SE01 says 34 segments, counted 33"},
		{name: "line unbalanced", file: cas45,
			edits:   [][2]string{{"SVC*HC|99213*150*80**1", "SVC*HC|99213*150*81**1"}},
			errors:  []string{RuleBalanceLine},
			message: "service line 1 (HC:99213) of claim PATACCT does not balance: charge SVC02 150.00 − adjustments 70.00 = 80.00, but paid SVC03 is 81.00 (off by -1.00)"},
		{name: "claim unbalanced", file: cas45,
			edits:   [][2]string{{"CLP*PATACCT*1*400*80*", "CLP*PATACCT*1*400*90*"}, {"BPR*I*80.00*", "BPR*I*90*"}},
			errors:  []string{RuleBalanceClaim},
			message: "claim PATACCT does not balance: charge CLP03 400.00 − claim adjustments 0.00 − line adjustments 320.00 = 80.00, but paid CLP04 is 90.00 (off by -10.00)"},
		{name: "three decimals", file: cas45,
			edits:   [][2]string{{"AMT*AU*150~", "AMT*AU*150.001~"}},
			errors:  []string{RuleAmount},
			message: `AMT02 amount "150.001" has more than two decimals`},
		{name: "reversal not negated", file: "herophilus__835_OutpatientRetro.CRLF.txt",
			edits:   [][2]string{{"CLP*987654321*22*-7151.17*-7151.17*", "CLP*987654321*22*7151.17*7151.17*"}, {"BPR*H*0*C*NON", "BPR*I*14302.34*C*CHK"}},
			errors:  []string{RuleReversal},
			message: "is a reversal (CLP02 22) but its amounts are not negated"},
		{name: "bad BPR04", file: cas45,
			edits:  [][2]string{{"BPR*I*80.00*C*CHK", "BPR*I*80.00*C*CSH"}},
			errors: []string{RuleBPRMethod}},
		{name: "ACH without bank", file: cas45,
			edits:  [][2]string{{"BPR*I*80.00*C*CHK", "BPR*I*80.00*C*ACH"}},
			errors: []string{RuleBPRBank}},
		{name: "bad PLB reason", file: "herophilus__835_Pharmacy_2014.txt",
			edits:  [][2]string{{"*WO:FCN#", "*ZZ:FCN#"}},
			errors: []string{RulePLBReason}},
		{name: "missing NM1*QC", file: cas45,
			edits:  [][2]string{{"NM1*QC*1*DOE*JOHN*N***MI*ABC123456789~", ""}, {"SE*33*", "SE*32*"}},
			errors: []string{RulePatientMissing}},
		{name: "segment out of order", file: cas45,
			edits:  [][2]string{{"DTM*472*20190101~CAS*CO*45*70~", "CAS*CO*45*70~DTM*472*20190101~"}},
			errors: []string{RuleOrder}},
		{name: "unknown CARC and RARC are warnings", file: prof,
			edits:    [][2]string{{"CAS*CO*251*2.75", "CAS*CO*Z99*2.75"}, {"LQ*HE*N206~SVC*HC:S0580", "LQ*HE*XX999~SVC*HC:S0580"}},
			warnings: []string{RuleCARCUnknown, RuleRARCUnknown}},
		{name: "no service date", file: cas45,
			edits:  [][2]string{{"SVC*HC|85003*100*0**1~DTM*472*20190101~", "SVC*HC|85003*100*0**1~"}, {"SE*33*", "SE*32*"}},
			errors: []string{RuleServiceDate}},
		{name: "N3 in the claim", file: cas45,
			edits:  [][2]string{{"REF*1L*12345F~", "REF*1L*12345F~N3*NOWHERE~"}, {"SE*33*", "SE*34*"}},
			errors: []string{RuleUnexpected}},
		{name: "too many MOA", file: "x12org__X221-line-service-line-penalty-example-1.edi",
			edits:  [][2]string{{"MOA***N25~", "MOA***N25~MOA***N25~"}, {"SE*35*", "SE*36*"}},
			errors: []string{RuleRepeat}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := string(readSample(t, tc.file))
			for _, e := range tc.edits {
				if n := strings.Count(text, e[0]); n != 1 {
					t.Fatalf("%q occurs %d times in %s", e[0], n, tc.file)
				}
				text = strings.Replace(text, e[0], e[1], 1)
			}
			for _, check := range []struct {
				how string
				fs  x12.Findings
			}{
				{"Validate", validateText(t, text)},
				{"ReadAll", readAllText(t, text)},
			} {
				fs := check.fs
				var errs []string
				seen := map[string]bool{}
				for _, f := range fs {
					if seen[f.Rule] {
						continue
					}
					seen[f.Rule] = true
					if f.Severity == x12.Error {
						errs = append(errs, f.Rule)
					}
				}
				sort.Strings(errs)
				want := slices.Clone(tc.errors)
				sort.Strings(want)
				if strings.Join(errs, ",") != strings.Join(want, ",") {
					t.Errorf("%s: error rules %v, want %v\n%v", check.how, errs, want, fs)
				}
				for _, w := range tc.warnings {
					if !seen[w] {
						t.Errorf("%s: no %s warning: %v", check.how, w, fs)
					}
				}
				if tc.message != "" {
					found := false
					for _, f := range fs {
						found = found || strings.Contains(f.Message, tc.message)
					}
					if !found {
						t.Errorf("%s: no finding says %q:\n%v", check.how, tc.message, fs)
					}
				}
			}
			// The streaming reader with its default checks sees the
			// 835-level problems too (SE01 is an envelope matter it also
			// counts).
			rd := NewReader(strings.NewReader(text))
			for {
				if _, err := rd.Next(); err != nil {
					break
				}
			}
			for _, r := range tc.errors {
				if !rd.Findings().HasRule(r) {
					t.Errorf("Reader: no %s: %v", r, rd.Findings())
				}
			}
		})
	}
}

func validateText(t *testing.T, text string) x12.Findings {
	t.Helper()
	_, fs, err := Validate(strings.NewReader(text), "corrupt")
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func readAllText(t *testing.T, text string) x12.Findings {
	t.Helper()
	_, fs, err := ReadAll(bytes.NewReader([]byte(text)), "corrupt")
	if err != nil {
		t.Fatal(err)
	}
	return fs
}
