package x277ca

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/internal/testkit"
	"github.com/claimgate/claimgate/edi/x12"
)

type rawClaim struct {
	trn        string
	categories []string
	payerID    string
}

// scanClaims derives, from the bytes alone, each claim's TRN02, STC01-1
// categories (claim level) and REF*1K, plus HL and STC01-1 counts.
func scanClaims(t *testing.T, data []byte) (claims []rawClaim, hl, stc map[string]int) {
	segs, comp := rawSegments(t, data)
	hl, stc = map[string]int{}, map[string]int{}
	level, inLine := "", false
	for _, s := range segs {
		switch string(s[0]) {
		case "HL":
			level, inLine = s.el(3), false
			hl[level]++
		case "TRN":
			if level == "PT" {
				claims = append(claims, rawClaim{trn: s.el(2)})
				inLine = false
			}
		case "SVC":
			inLine = true
		case "STC":
			cat, _, _ := strings.Cut(s.el(1), string(comp))
			stc[cat]++
			if level == "PT" && !inLine {
				c := &claims[len(claims)-1]
				c.categories = append(c.categories, cat)
			}
		case "REF":
			if level == "PT" && !inLine && s.el(1) == "1K" {
				claims[len(claims)-1].payerID = s.el(2)
			}
		}
	}
	return claims, hl, stc
}

func TestSamplesMatchBytes(t *testing.T) {
	stats := manifestStats(t, testdataDir)
	for _, path := range sampleFiles(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			data := readFile(t, path)
			ack, fs, err := Read(bytes.NewReader(data), path)
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 0 {
				t.Errorf("reading findings: %v", fs)
			}
			if len(ack.Transactions) != 1 {
				t.Fatalf("%d transactions", len(ack.Transactions))
			}
			tx := ack.Transactions[0]
			want, hl, stc := scanClaims(t, data)
			var got []rawClaim
			gotHL := map[string]int{}
			gotSTC := map[string]int{}
			countSTC := func(ss []Status) {
				for _, s := range ss {
					gotSTC[s.Category]++
				}
			}
			for _, s := range tx.Sources {
				gotHL["20"]++
				for _, v := range s.Receivers {
					gotHL["21"]++
					countSTC(v.Statuses)
					for _, p := range v.Providers {
						gotHL["19"]++
						countSTC(p.Statuses)
						for _, pt := range p.Patients {
							gotHL["PT"]++
							for _, c := range pt.Claims {
								countSTC(c.Statuses)
								rc := rawClaim{trn: c.PatientControl, payerID: c.PayerClaimControl}
								for _, s := range c.Statuses {
									rc.categories = append(rc.categories, s.Category)
								}
								got = append(got, rc)
								for _, ln := range c.Lines {
									countSTC(ln.Statuses)
								}
							}
						}
					}
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("claims read %+v\nfile has %+v", got, want)
			}
			if !reflect.DeepEqual(gotHL, hl) || !reflect.DeepEqual(gotSTC, stc) {
				t.Errorf("HL %v STC %v read; file has HL %v STC %v", gotHL, gotSTC, hl, stc)
			}
			st := stats[name]
			if st == nil {
				t.Fatalf("no MANIFEST stats for %s", name)
			}
			for k, v := range countList(st["HL"]) {
				if strconv.Itoa(gotHL[k]) != v {
					t.Errorf("MANIFEST says HL %s:%s, read %d", k, v, gotHL[k])
				}
			}
			for k, v := range countList(st["STC"]) {
				if strconv.Itoa(gotSTC[k]) != v {
					t.Errorf("MANIFEST says STC %s:%s, read %d", k, v, gotSTC[k])
				}
			}
			if tx.Version != st["GS08"] {
				t.Errorf("version %s, MANIFEST says %s", tx.Version, st["GS08"])
			}
		})
	}
}

func readSample(t *testing.T, name string) *Transaction {
	t.Helper()
	ack, _, err := Read(bytes.NewReader(readFile(t, filepath.Join(testdataDir, name))), name)
	if err != nil || len(ack.Transactions) != 1 {
		t.Fatal(err)
	}
	return ack.Transactions[0]
}

func TestSampleDetails(t *testing.T) {
	acc := readSample(t, "herophilus__277CA_accepted.txt")
	src := acc.Sources[0]
	if src.Name.ID != "141797357" || src.Name.IDQual != "FI" || src.Trace != "000014420" || src.Received != "20110311" || src.Processed != "20110311" {
		t.Errorf("source = %+v", src)
	}
	rcv := src.Receivers[0]
	if rcv.Trace != "000000674" || rcv.Outcome != OutcomeReceived || rcv.Totals != (Totals{AcceptedQuantity: "1", AcceptedAmount: "125.0"}) {
		t.Errorf("receiver = %+v", rcv)
	}
	prov := rcv.Providers[0]
	if prov.Name.ID != "1234567890" || prov.Trace != "1107000000000135FF" || len(prov.Statuses) != 0 || prov.Outcome != OutcomeUnknown || prov.Rejected() {
		t.Errorf("provider = %+v", prov)
	}
	c := prov.Patients[0].Claims[0]
	want := &Claim{PatientControl: "5781", Statuses: []Status{{StatusCode: StatusCode{Category: "A2", Code: "20"}, Date: "20110311", Action: "WQ", Amount: "125"}},
		PayerClaimControl: "1107000000014420", ServiceFrom: "10010101", ServiceTo: "10010101", Outcome: OutcomeAccepted}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("claim = %+v, want %+v", c, want)
	}

	rej := readSample(t, "herophilus__277CA_rejected.txt")
	rc := rej.Sources[0].Receivers[0].Providers[0].Patients[0].Claims[0]
	if rc.Outcome != OutcomeRejected || rc.Statuses[0].StatusCode != (StatusCode{Category: "A7", Code: "562", Entity: "85"}) || rc.BillType != "731" {
		t.Errorf("rejected claim = %+v", rc)
	}

	// Provider-level rejection: HL 9 is rejected as a whole, with no
	// patients; the other provider's claims keep their own verdicts.
	multi := readSample(t, "x12org__X214-payer-response-multiple-responders.edi")
	rp := multi.RejectedProviders()
	if len(rp) != 1 {
		t.Fatalf("rejected providers = %d", len(rp))
	}
	p := rp[0]
	if p.HL != "9" || p.Name.ID != "1222334499" || len(p.Patients) != 0 || p.Statuses[0].StatusCode != (StatusCode{Category: "A3", Code: "24", Entity: "85"}) ||
		p.Totals != (Totals{RejectedQuantity: "3", RejectedAmount: "150"}) {
		t.Errorf("rejected provider = %+v", p)
	}
	var outcomes []string
	multi.Claims(func(p *Provider, c *Claim) error {
		outcomes = append(outcomes, fmt.Sprintf("%s:%s:%s", p.HL, c.PatientControl, c.Outcome))
		return nil
	})
	if got := strings.Join(outcomes, " "); got != "3:PATIENT22222:accepted 3:PATIENT33333:rejected 3:JONES44444:rejected 3:JOHNSON55555:accepted 3:MILSO66666:accepted" {
		t.Errorf("claims = %s", got)
	}
	// STC10 counts towards the claim's outcome.
	pr := readSample(t, "x12org__X214-payer-response.edi")
	c2 := pr.Sources[0].Receivers[0].Providers[0].Patients[1].Claims[0]
	if len(c2.Statuses[0].More) != 1 || c2.Statuses[0].More[0] != (StatusCode{Category: "A3", Code: "187"}) {
		t.Errorf("STC10 = %+v", c2.Statuses[0])
	}
}

// TestValidateSamples pins every finding on the samples. pyx12 rejects
// all four for a missing 2200C STC; the 277CA guide makes it situational,
// so that is not reported. What is left are real defects.
func TestValidateSamples(t *testing.T) {
	type want struct {
		rules []string
		seg   int    // segment of the (single) finding
		value string // text its message must quote
	}
	wants := map[string]want{
		// DTP*472 10010101: a placeholder service date in year 1001.
		"herophilus__277CA_accepted.txt": {[]string{"277ca.date-implausible"}, 24, "10010101"},
		// STC*A7|562|85 rejects the claim but STC03 says WQ (accept).
		"herophilus__277CA_rejected.txt": {[]string{"277ca.stc-action"}, 22, "WQ"},
		// The repository that published them rewrote the dates to 2023,
		// making DTP*472 20230229, which does not exist.
		"x12org__X214-payer-response.edi":                     {[]string{"tr3.date"}, 30, "20230229"},
		"x12org__X214-payer-response-multiple-responders.edi": {[]string{"tr3.date"}, 36, "20230229"},
	}
	for _, path := range sampleFiles(t) {
		name := filepath.Base(path)
		_, fs, err := Validate(bytes.NewReader(readFile(t, path)), name)
		if err != nil {
			t.Fatal(err)
		}
		w := wants[name]
		if got := rules(fs); !reflect.DeepEqual(got, w.rules) {
			t.Errorf("%s: rules %v, want %v\n%v", name, got, w.rules, fs)
			continue
		}
		if len(fs) != 1 || fs[0].Segment != w.seg || !strings.Contains(fs[0].Message, w.value) {
			t.Errorf("%s: findings %v, want one at segment %d about %s", name, fs, w.seg, w.value)
		}
	}
}

// TestX212Refused: the 277 claim status responses are not 277CAs.
func TestX212Refused(t *testing.T) {
	for _, path := range []string{"../../testdata/277/lfh__claim-level-status.277", "../../testdata/277/imsweb__x12_277_x212.txt"} {
		data := readFile(t, path)
		ack, fs, err := Read(bytes.NewReader(data), path)
		if err != nil {
			t.Fatal(err)
		}
		if len(ack.Transactions) != 0 || len(fs) != 1 || fs[0].Rule != "277ca.version" || !strings.Contains(fs[0].Message, "005010X212") {
			t.Errorf("%s: %d transactions, findings %v", path, len(ack.Transactions), fs)
		}
		_, vfs, _ := Validate(bytes.NewReader(data), path)
		if !vfs.HasRule("277ca.version") || vfs.HasRule("277ca.hl-level") {
			t.Errorf("%s: Validate findings %v", path, vfs)
		}
	}
}

func TestCorrupted(t *testing.T) {
	const acc, multi, pr = "herophilus__277CA_accepted.txt", "x12org__X214-payer-response-multiple-responders.edi", "x12org__X214-payer-response.edi"
	cases := []struct {
		name, file, old, new, rule string
		sev                        x12.Severity
	}{
		{"bad STC category", acc, "STC*A2:20*20110311", "STC*Z9:20*20110311", "277ca.stc-category", x12.Error},
		{"bad STC10 category", pr, "A7:249", "Q7:249", "277ca.stc-category", x12.Error},
		{"unknown status code", acc, "STC*A2:20*20110311", "STC*A2:99999*20110311", "277ca.stc-status", x12.Warning},
		{"reject action on an accepted claim", acc, "STC*A2:20*20110311*WQ", "STC*A2:20*20110311*U", "277ca.stc-action", x12.Warning},
		{"bad HL parent", acc, "HL*4*3*PT", "HL*4*2*PT", "277ca.hl-parent", x12.Error},
		{"bad HL parent of a provider", multi, "HL*9*2*19*0", "HL*9*1*19*0", "277ca.hl-parent", x12.Error},
		{"HL04 says children, none follow", multi, "HL*9*2*19*0", "HL*9*2*19*1", "277ca.hl-child", x12.Error},
		{"HL04 says no children, some follow", acc, "HL*3*2*19*1", "HL*3*2*19*0", "277ca.hl-child", x12.Error},
		{"level skipped", acc, "HL*3*2*19*1", "HL*3*2*PT*1", "277ca.hl-level", x12.Error},
		{"unknown level", acc, "HL*4*3*PT", "HL*4*3*22", "277ca.hl-level", x12.Error},
		{"HL01 out of sequence", multi, "HL*9*2*19*0", "HL*12*2*19*0", "277ca.hl-sequence", x12.Warning},
		{"SE01 off", acc, "SE*23*000014420", "SE*24*000014420", "envelope.se-count", x12.Error},
		{"claim STC missing", acc, "STC*A2:20*20110311*WQ*125~", "", "277ca.required", x12.Error},
		{"claim DTP missing", acc, "DTP*472*D8*10010101~", "", "277ca.required", x12.Error},
		{"process date missing", acc, "DTP*009*D8*20110311~", "", "277ca.required", x12.Error},
		{"payer name missing", acc, "NM1*PR*2*NYSDOH*****FI*141797357~", "", "277ca.required", x12.Error},
		{"BHT missing", acc, "BHT*0085*08*000000674*20110311*100831*TH~", "", "277ca.required", x12.Error},
		{"REF*1K twice", acc, "REF*1K*1107000000014420~", "REF*1K*1107000000014420~REF*1K*1~", "277ca.repeat", x12.Error},
		{"STC after REF", acc, "REF*1K*1107000000014420~", "REF*1K*1107000000014420~STC*A2:20*20110311*WQ*125~", "277ca.order", x12.Error},
		{"reversed date range", multi, "DTP*472*D8*20230314", "DTP*472*RD8*20230314-20230301", "277ca.date-range", x12.Error},
		{"bad claim REF qualifier", acc, "REF*1K", "REF*ZZ", "tr3.code", x12.Error},
		{"bad BHT date", acc, "BHT*0085*08*000000674*20110311", "BHT*0085*08*000000674*20111311", "tr3.date", x12.Error},
		{"patient without claim", acc, "TRN*2*5781~STC*A2:20*20110311*WQ*125~REF*1K*1107000000014420~DTP*472*D8*10010101~", "", "277ca.no-claim", x12.Warning},
		{"provider STC before its TRN", acc, "TRN*1*1107000000000135FF~", "STC*A1:19:PR**WQ*125~", "277ca.structure", x12.Error},
		{"segment foreign to the loop", acc, "REF*1K*1107000000014420~", "REF*1K*1107000000014420~CLM*1~", "277ca.structure", x12.Error},
		{"line without status", multi, "DTP*472*D8*20230314~", "DTP*472*D8*20230314~SVC*HC:97110*50~REF*FJ*1~", "277ca.required", x12.Error},
		{"not a 277", acc, "ST*277*000014420*005010X214", "ST*276*000014420*005010X214", "277ca.not-277", x12.Error},
		{"claim status response version", acc, "ST*277*000014420*005010X214", "ST*277*000014420*005010X212", "277ca.version", x12.Error},
	}
	read := func(r io.Reader, name string) error {
		_, _, err := Read(r, name)
		return err
	}
	for _, tc := range cases {
		testkit.CheckCorruption(t, testdataDir, testkit.Corruption{Name: tc.name, File: tc.file, Old: tc.old, New: tc.new, Rule: tc.rule, Sev: tc.sev}, Validate, read)
	}
}

// TestStreamingEvents checks the event order and that a streaming Reader
// keeps no children.
func TestStreamingEvents(t *testing.T) {
	data := readFile(t, filepath.Join(testdataDir, "x12org__X214-payer-response-multiple-responders.edi"))
	r := NewReader(bytes.NewReader(data), "multi")
	var got []string
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch e.Kind {
		case ClaimDone:
			got = append(got, "claim "+e.Claim.PatientControl+" of "+e.Provider.HL+"/"+e.Patient.Name.LastName)
			if e.Provider.Outcome != OutcomeReceived || e.Receiver.Trace != "200203207890" {
				t.Errorf("claim context: provider %+v receiver %+v", e.Provider, e.Receiver)
			}
		case ProviderDone:
			got = append(got, fmt.Sprintf("provider %s rejected=%v", e.Provider.HL, e.Provider.Rejected()))
			if len(e.Provider.Patients) != 0 {
				t.Error("streaming provider keeps its patients")
			}
		case TransactionDone:
			got = append(got, "transaction "+e.Transaction.Control)
			if len(e.Transaction.Sources) != 0 {
				t.Error("streaming transaction keeps its sources")
			}
		}
	}
	want := []string{"claim PATIENT22222 of 3/PATIENT", "claim PATIENT33333 of 3/PATIENT", "claim JONES44444 of 3/JONES",
		"claim JOHNSON55555 of 3/JOHNSON", "claim MILSO66666 of 3/MILSON", "provider 3 rejected=false", "provider 9 rejected=true", "transaction 0004"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events\n%v\nwant\n%v", got, want)
	}
}

func TestStreamingBounded(t *testing.T) {
	const n = 30000
	r := NewReader(newGen277(n), "gen")
	claims, providers := 0, 0
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch e.Kind {
		case ClaimDone:
			if e.Claim.PatientControl != fmt.Sprintf("PCN%07d", claims+1) {
				t.Fatalf("claim %d is %s", claims, e.Claim.PatientControl)
			}
			claims++
		case ProviderDone:
			providers++
			if len(e.Provider.Patients) != 0 {
				t.Fatal("streaming provider keeps patients")
			}
		}
	}
	if claims != n || providers != (n+genPerProvider-1)/genPerProvider || len(r.Findings()) != 0 {
		t.Errorf("claims %d providers %d findings %v", claims, providers, r.Findings())
	}
}

func TestOutcomeOrder(t *testing.T) {
	cases := []struct {
		cats []string
		want Outcome
	}{
		{nil, OutcomeUnknown},
		{[]string{"A1"}, OutcomeReceived},
		{[]string{"A1", "A2"}, OutcomeAccepted},
		{[]string{"A2", "A7", "A1"}, OutcomeRejected},
		{[]string{"A5"}, OutcomeAccepted},
		{[]string{"A4"}, OutcomeRejected},
		{[]string{"A1", "P1"}, OutcomeOther},
		{[]string{"ZZ"}, OutcomeUnknown},
	}
	for _, tc := range cases {
		var ss []Status
		for _, c := range tc.cats {
			ss = append(ss, Status{StatusCode: StatusCode{Category: c}})
		}
		if got := OutcomeOf(ss); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.cats, got, tc.want)
		}
	}
}

// TestGeneratorValid keeps the benchmark input honest.
func TestGeneratorValid(t *testing.T) {
	_, fs, err := Validate(newGen277(2500), "gen")
	if err != nil || len(fs) != 0 {
		t.Errorf("generated 277CA: %v %v", err, fs)
	}
}

// TestStreamingAllocs checks a streaming claim costs about one allocation
// (its strings, gathered into one) plus a few for values the string cache
// misses (amounts, STC10 composites).
func TestStreamingAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	const claims = 4000
	data, err := io.ReadAll(newGen277(3 * claims))
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(bytes.NewReader(data), "gen")
	next := func() {
		for n := 0; n < claims; {
			e, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if e.Kind == ClaimDone {
				n++
			}
		}
	}
	next() // warm up buffers and caches
	per := testing.AllocsPerRun(1, next) / claims
	if per > 2 {
		t.Errorf("%.2f allocations per streamed claim, want at most 2", per)
	}
	t.Logf("%.2f allocations per streamed claim", per)
}

// TestLimits: a claim with too many lines is cut, once, and the next claim
// is read whole.
func TestLimits(t *testing.T) {
	orig := string(readFile(t, filepath.Join(testdataDir, "x12org__X214-payer-response.edi")))
	lines := strings.Repeat("SVC*HC:97110*50~STC*A2:20*20230221*WQ~REF*FJ*L~", maxLines+3)
	bad := strings.Replace(orig, "DTP*472*D8*20230214~", "DTP*472*D8*20230214~"+lines, 1)
	ack, fs, err := Read(strings.NewReader(bad), "big")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	ack.Transactions[0].Claims(func(p *Provider, c *Claim) error {
		got = append(got, fmt.Sprintf("%s:%d", c.PatientControl, len(c.Lines)))
		return nil
	})
	want := fmt.Sprintf("PATIENT22222:%d PATIENT33333:0 JONES44444:0 JOHNSON55555:0 MILLS66666:0", maxLines)
	if strings.Join(got, " ") != want {
		t.Errorf("claims %v, want %s", got, want)
	}
	if len(fs) != 1 || fs[0].Rule != "277ca.limit" {
		t.Errorf("findings %v", fs)
	}
}
