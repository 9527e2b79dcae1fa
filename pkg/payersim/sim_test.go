package payersim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x277ca"
	"github.com/claimgate/claimgate/edi/x835"
	"github.com/claimgate/claimgate/edi/x837p"
	"github.com/claimgate/claimgate/edi/x999"
	"github.com/claimgate/claimgate/pkg/claim"
)

// roundTripClaims are a few dozen PT claims for two payers, including one
// built to trigger each rule.
func roundTripClaims() []*claim.Claim {
	var cs []*claim.Claim
	n := 1
	next := func() int { n++; return n }
	for i := 1; i <= 10; i++ {
		cs = append(cs, ptClaim(fmt.Sprintf("MC-OK-%02d", i), medicare, next()))
	}
	gp := []string{"GP"}
	cs = append(cs,
		ptClaim("MC-TIMED", medicare, next(), lineSpec{code: "97110", units: 3, mods: gp, note: "MIN 20"}),
		ptClaim("MC-CAP", medicare, next(), lineSpec{code: "97110", units: 6, mods: gp}, lineSpec{code: "97112", units: 4, mods: gp}),
		ptClaim("MC-NOGP", medicare, next(), lineSpec{code: "97110", units: 2}, lineSpec{code: "97112", units: 1, mods: gp}),
		ptClaim("MC-NCCI", medicare, next(), lineSpec{code: "97140", units: 1, mods: gp}, lineSpec{code: "97530", units: 1, mods: gp}),
		ptClaim("MC-NCCI-59", medicare, next(), lineSpec{code: "97140", units: 1, mods: gp}, lineSpec{code: "97530", units: 1, mods: []string{"59", "GP"}}),
		ptClaim("MC-BUNDLED", medicare, next(), lineSpec{code: "97110", units: 1, mods: gp}, lineSpec{code: "97010", units: 1, mods: gp}),
	)
	late := ptClaim("MC-LATE", medicare, next())
	late.OnsetDate = claim.Date{Year: 2024, Month: time.November, Day: 1}
	for i := range late.Lines {
		late.Lines[i].ServiceDate = claim.Date{Year: 2024, Month: time.December, Day: 2}
	}
	dup := next()
	cs = append(cs, late, ptClaim("MC-DUP-A", medicare, dup), ptClaim("MC-DUP-B", medicare, dup))
	for i := 1; i <= 14; i++ {
		cs = append(cs, ptClaim(fmt.Sprintf("CM-OK-%02d", i), commercial, next()))
	}
	cs = append(cs,
		ptClaim("CM-AUTH", commercial, next(), lineSpec{code: "97110", units: 1, mods: gp}, lineSpec{code: "97530", units: 2, mods: gp}),
		ptClaim("CM-AUTH-OK", commercial, next(), lineSpec{code: "97110", units: 1, mods: gp}, lineSpec{code: "97530", units: 2, mods: gp, auth: "AUTH0042"}),
	)
	return cs
}

func newSim(t testing.TB, seed int64) *Simulator {
	t.Helper()
	s, err := New(testConfig(), Options{Seed: seed, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type roundTrip struct {
	files   map[string][]byte // 837P per payer
	results map[string]*Result
}

func runRoundTrip(t testing.TB, s *Simulator) *roundTrip {
	t.Helper()
	rt := &roundTrip{files: build837(t, roundTripClaims()), results: map[string]*Result{}}
	for _, payer := range []string{medicare, commercial} {
		res, err := s.Process(context.Background(), payer, bytes.NewReader(rt.files[payer]), payer+".837")
		if err != nil {
			t.Fatal(err)
		}
		rt.results[payer] = res
	}
	return rt
}

// rtSeed is a seed whose random rejections and denials spare the claims
// built to trigger a rule (which the test checks); the random share
// itself is checked in TestChance.
var rtSeed int64 = 3

func TestRoundTrip(t *testing.T) {
	rt := runRoundTrip(t, newSim(t, rtSeed))
	outcomes := map[string]ClaimOutcome{}
	for _, payer := range []string{medicare, commercial} {
		res := rt.results[payer]
		sub837 := rt.files[payer]
		txs, fs, err := x837p.Read(bytes.NewReader(sub837), payer)
		if err != nil || fs.Errors() > 0 {
			t.Fatalf("reading our 837P: %v %v", err, fs)
		}
		gs06 := segments(sub837, "GS")[0][6]
		for _, f := range res.Files {
			checkResponse(t, f)
		}
		if n := len(res.FilesOf(TypeTA1)); n != 0 {
			t.Fatalf("%s: %d TA1 for a good interchange", payer, n)
		}

		// 999: one AK1 for our group, one accepted AK2 per set.
		acks := res.FilesOf(Type999)
		if len(acks) != 1 {
			t.Fatalf("%s: %d 999 files", payer, len(acks))
		}
		ack, _, err := x999.Read(bytes.NewReader(acks[0].Data), acks[0].Name)
		if err != nil {
			t.Fatal(err)
		}
		g := ack.Groups[0]
		if g.GroupControl != gs06 || g.Status != "A" || len(g.Sets) != len(txs) {
			t.Fatalf("%s: 999 AK1-02 %s (want GS06 %s), AK901 %s, %d sets (want %d)", payer, g.GroupControl, gs06, g.Status, len(g.Sets), len(txs))
		}
		for i, st := range g.Sets {
			if st.Control != txs[i].Header.Control || st.Status != "A" {
				t.Errorf("%s: AK2-02 %s IK501 %s, want ST02 %s accepted", payer, st.Control, st.Status, txs[i].Header.Control)
			}
		}

		// 277CA: one per set, TRN = BHT03, every claim once, REF*1K on
		// the accepted ones.
		acks277 := res.FilesOf(Type277CA)
		if len(acks277) != len(txs) {
			t.Fatalf("%s: %d 277CA files for %d sets", payer, len(acks277), len(txs))
		}
		icn := map[string]string{}
		for i, f := range acks277 {
			a, _, err := x277ca.Read(bytes.NewReader(f.Data), f.Name)
			if err != nil {
				t.Fatal(err)
			}
			rcv := a.Transactions[0].Sources[0].Receivers[0]
			if rcv.Trace != txs[i].Header.Reference {
				t.Errorf("%s: 277CA 2200B TRN02 %q, want the 837 BHT03 %q", payer, rcv.Trace, txs[i].Header.Reference)
			}
			var ids []string
			for _, pv := range rcv.Providers {
				for _, pt := range pv.Patients {
					for _, c := range pt.Claims {
						ids = append(ids, c.PatientControl)
						switch c.Outcome {
						case x277ca.OutcomeAccepted:
							if c.PayerClaimControl == "" {
								t.Errorf("%s: accepted claim %s without REF*1K", payer, c.PatientControl)
							}
							icn[c.PatientControl] = c.PayerClaimControl
						case x277ca.OutcomeRejected:
							if c.PayerClaimControl != "" {
								t.Errorf("%s: rejected claim %s with REF*1K", payer, c.PatientControl)
							}
						default:
							t.Errorf("%s: claim %s outcome %s", payer, c.PatientControl, c.Outcome)
						}
					}
				}
			}
			var want []string
			for _, it := range txs[i].Items {
				want = append(want, it.Claim.ID)
			}
			slices.Sort(ids)
			slices.Sort(want)
			if !slices.Equal(ids, want) {
				t.Errorf("%s: 277CA %d answers %v, the set holds %v", payer, i, ids, want)
			}
		}

		// 835: every accepted claim exactly once, CLP07 = REF*1K, REF*6R
		// back on the lines.
		eras := res.FilesOf(Type835)
		if len(eras) != 1 {
			t.Fatalf("%s: %d 835 files", payer, len(eras))
		}
		rems, _, err := x835.ReadAll(bytes.NewReader(eras[0].Data), eras[0].Name)
		if err != nil {
			t.Fatal(err)
		}
		lines := map[string]x837p.Line{}
		for _, tx := range txs {
			for _, it := range tx.Items {
				for _, l := range it.Claim.Lines {
					lines[l.ControlNumber] = l
				}
			}
		}
		paid := map[string]int{}
		for _, rem := range rems {
			net := x835.Amount(0)
			for _, c := range rem.Claims {
				net += c.Paid
				// Balancing, spelled out (the 835 checker also checks it):
				// SVC02 − line CAS = SVC03, CLP03 − all CAS = CLP04.
				adj := x835.Amount(0)
				for _, a := range c.Adjustments {
					adj += a.Amount
				}
				for _, l := range c.Lines {
					ladj := x835.Amount(0)
					for _, a := range l.Adjustments {
						ladj += a.Amount
					}
					if l.Charge-ladj != l.Paid {
						t.Errorf("%s: SVC %s %s − %s ≠ %s", c.PatientControlNumber, l.Procedure.Code, l.Charge, ladj, l.Paid)
					}
					adj += ladj
				}
				if c.Charge-adj != c.Paid || c.Paid < 0 {
					t.Errorf("%s: CLP03 %s − %s ≠ CLP04 %s", c.PatientControlNumber, c.Charge, adj, c.Paid)
				}
				paid[c.PatientControlNumber]++
				if want, ok := icn[c.PatientControlNumber]; !ok || c.PayerClaimControlNumber != want {
					t.Errorf("%s: CLP %s CLP07 %q, 277CA REF*1K %q", payer, c.PatientControlNumber, c.PayerClaimControlNumber, want)
				}
				for _, l := range c.Lines {
					src, ok := lines[l.ControlNumber]
					if !ok || src.Procedure != l.Procedure.Code || int64(src.Charge) != int64(l.Charge) {
						t.Errorf("%s: SVC %s REF*6R %q does not match an 837 line", payer, l.Procedure.Code, l.ControlNumber)
					}
				}
			}
			plb := x835.Amount(0)
			for _, a := range rem.ProviderAdjustments {
				plb += a.Amount
			}
			if rem.Payment.Amount != net-plb {
				t.Errorf("%s: BPR02 %s ≠ ΣCLP04 %s − ΣPLB %s", payer, rem.Payment.Amount, net, plb)
			}
		}
		for id := range icn {
			if paid[id] != 1 {
				t.Errorf("%s: accepted claim %s appears %d times in the 835", payer, id, paid[id])
			}
		}
		for id := range paid {
			if _, ok := icn[id]; !ok {
				t.Errorf("%s: 835 pays %s, which the 277CA did not accept", payer, id)
			}
		}
		for _, o := range res.Claims {
			outcomes[o.ClaimID] = o
		}
	}
	if len(outcomes) != len(roundTripClaims()) {
		t.Fatalf("%d claim outcomes for %d claims", len(outcomes), len(roundTripClaims()))
	}

	// Decisions as designed.
	for _, c := range []struct {
		id, clp02, adj, rule string
	}{
		{"MC-TIMED", "1", "CO-151", RuleTimedUnits},
		{"MC-CAP", "1", "CO-151", RuleTimedUnits},
		{"MC-NOGP", "1", "CO-4", RuleGPMissing},
		{"MC-NCCI", "1", "CO-236", RuleNCCI},
		{"MC-BUNDLED", "1", "CO-97", RuleBundled},
		{"MC-LATE", "4", "CO-29", RuleTimelyFiling},
		{"CM-AUTH", "1", "CO-197", RulePriorAuth},
	} {
		o := outcomes[c.id]
		if o.CLP02 != c.clp02 || !slices.Equal(o.Adjustments, []string{c.adj}) || !slices.Contains(o.Rules, c.rule) {
			t.Errorf("%s: CLP02 %s adjustments %v rules %v; want CLP02 %s, %s, rule %s", c.id, o.CLP02, o.Adjustments, o.Rules, c.clp02, c.adj, c.rule)
		}
	}
	for _, id := range []string{"MC-NCCI-59", "CM-AUTH-OK", "MC-OK-01"} {
		if o := outcomes[id]; o.CLP02 != "1" || len(o.Adjustments) != 0 || o.Paid <= 0 {
			t.Errorf("%s: CLP02 %s paid %s adjustments %v; want paid in full at the fee schedule", id, o.CLP02, o.Paid, o.Adjustments)
		}
	}
	a, b := outcomes["MC-DUP-A"], outcomes["MC-DUP-B"]
	if a.CLP02 == "4" {
		a, b = b, a
	}
	if a.CLP02 != "1" || b.CLP02 != "4" || !slices.Equal(b.Adjustments, []string{"OA-18"}) {
		t.Errorf("duplicate pair: %+v / %+v; want one paid and one denied OA-18", a, b)
	}
	// The commercial payer rejects and denies a share at random.
	var rejected, denied int
	for id, o := range outcomes {
		if !strings.HasPrefix(id, "CM-OK") {
			continue
		}
		if strings.HasPrefix(o.Status277, "A7") {
			rejected++
		}
		if slices.Contains(o.Rules, "random") {
			denied++
		}
	}
	if rejected == 0 || denied == 0 {
		t.Errorf("commercial: %d of 14 rejected and %d denied at random with rates 0.1", rejected, denied)
	}
}

// TestTimedUnitsAmounts checks the arithmetic of a reduced line: 3
// units billed, 20 minutes documented, 1 unit allowed at the fee.
func TestTimedUnitsAmounts(t *testing.T) {
	rt := runRoundTrip(t, newSim(t, rtSeed))
	rems, _, err := x835.ReadAll(bytes.NewReader(rt.results[medicare].FilesOf(Type835)[0].Data), "835")
	if err != nil {
		t.Fatal(err)
	}
	for _, rem := range rems {
		for _, c := range rem.Claims {
			if c.PatientControlNumber != "MC-TIMED" {
				continue
			}
			l := c.Lines[0]
			// 180.00 billed for 3 units: 2 units (120.00) cut with CO-151,
			// 1 unit allowed at 31.50, CO-45 28.50, then PR.
			if l.UnitsPaid != 1 || l.OriginalUnits != 3 || l.Adjustments[0] != (x835.Adjustment{Group: "CO", Reason: "151", Amount: 12000, Quantity: 2, Category: l.Adjustments[0].Category}) {
				t.Fatalf("MC-TIMED line: units %v of %v, adjustments %+v", l.UnitsPaid, l.OriginalUnits, l.Adjustments)
			}
			if allowed, _ := l.Allowed(); allowed != 3150 {
				t.Fatalf("allowed %s, want 31.50", allowed)
			}
			return
		}
	}
	t.Fatal("MC-TIMED not in the 835")
}

// TestDeterministic: the same seed and clock give the same bytes; a
// different seed changes random decisions.
func TestDeterministic(t *testing.T) {
	a := runRoundTrip(t, newSim(t, 7))
	b := runRoundTrip(t, newSim(t, 7))
	for _, payer := range []string{medicare, commercial} {
		fa, fb := a.results[payer].Files, b.results[payer].Files
		if len(fa) != len(fb) {
			t.Fatalf("%s: %d vs %d files", payer, len(fa), len(fb))
		}
		for i := range fa {
			if fa[i].Name != fb[i].Name || !bytes.Equal(fa[i].Data, fb[i].Data) {
				t.Errorf("%s: file %d differs between runs with one seed", payer, i)
			}
		}
	}
	differs := false
	for seed := int64(8); seed < 12 && !differs; seed++ {
		c := runRoundTrip(t, newSim(t, seed))
		for i, o := range c.results[commercial].Claims {
			p := a.results[commercial].Claims[i]
			differs = differs || o.Status277 != p.Status277 || !slices.Equal(o.Rules, p.Rules)
		}
	}
	if !differs {
		t.Error("seeds 8-11 decide every commercial claim as seed 7 does")
	}
}

// TestChance: the random share follows the configured rate.
func TestChance(t *testing.T) {
	s := newSim(t, 42)
	for _, rate := range []float64{0.02, 0.1, 0.5} {
		n := 0
		for i := range 20000 {
			if s.chance("deny", commercial, fmt.Sprintf("C%d", i)) < rate {
				n++
			}
		}
		if got := float64(n) / 20000; got < rate*0.85 || got > rate*1.15 {
			t.Errorf("rate %v: %v of claims picked", rate, got)
		}
	}
}

// TestRejectedSet: a file whose second set fails claimgate's validator
// gets a 999 accepting the first set and rejecting the second with IK3
// and IK4 reasons; only the first set gets a 277CA and payments.
func TestRejectedSet(t *testing.T) {
	var cs []*claim.Claim
	for i := 1; i <= 8; i++ {
		cs = append(cs, ptClaim(fmt.Sprintf("MX-%d", i), medicare, 100+i))
	}
	data := build837(t, cs)[medicare]
	// CLM02 of the last claim no longer equals its line charges.
	bad := bytes.Replace(data, []byte("CLM*MX-8*180*"), []byte("CLM*MX-8*190*"), 1)
	if bytes.Equal(bad, data) {
		t.Fatal("no CLM*MX-8 to corrupt")
	}
	s := newSim(t, 1)
	res, err := s.Process(context.Background(), medicare, bytes.NewReader(bad), "mx.837")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		checkResponse(t, f)
	}
	ack, _, err := x999.Read(bytes.NewReader(res.FilesOf(Type999)[0].Data), "999")
	if err != nil {
		t.Fatal(err)
	}
	g := ack.Groups[0]
	if g.Status != "P" || len(g.Sets) != 2 || g.Sets[0].Status != "A" || g.Sets[1].Status != "R" {
		t.Fatalf("999: AK901 %s sets %+v; want P with the first set accepted, the second rejected", g.Status, g.Sets)
	}
	se := g.Sets[1].SegmentErrors
	if len(se) == 0 || se[0].SegmentID != "CLM" || len(se[0].Elements) == 0 || se[0].Elements[0].Position.Element != 2 {
		t.Fatalf("999 set 2 errors %+v; want an IK3 for CLM with an IK4 for CLM02", se)
	}
	if n := len(res.FilesOf(Type277CA)); n != 1 {
		t.Fatalf("%d 277CA files; want one for the accepted set", n)
	}
	for _, o := range res.Claims {
		inFirst := o.Set == g.Sets[0].Control
		if o.Accepted999 != inFirst || (o.CLP02 != "") != inFirst {
			t.Errorf("claim %s in set %s: accepted %v CLP02 %q", o.ClaimID, o.Set, o.Accepted999, o.CLP02)
		}
	}
}

// TestTA1: an interchange whose IEA does not match its ISA gets a TA1
// rejection (note 001) and nothing else.
func TestTA1(t *testing.T) {
	data := build837(t, []*claim.Claim{ptClaim("TA-1", medicare, 5)})[medicare]
	isa13 := segments(data, "ISA")[0][13]
	bad := bytes.Replace(data, []byte("IEA*1*"+isa13), []byte("IEA*1*000000999"), 1)
	res, err := newSim(t, 1).Process(context.Background(), medicare, bytes.NewReader(bad), "ta.837")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || res.Files[0].Type != TypeTA1 {
		t.Fatalf("files %+v; want one TA1", res.Files)
	}
	checkResponse(t, res.Files[0])
	ta1 := segments(res.Files[0].Data, "TA1")
	if len(ta1) != 1 || ta1[0][1] != isa13 || ta1[0][4] != "R" || ta1[0][5] != "001" {
		t.Fatalf("TA1 %v; want TA101 %s, R, 001", ta1, isa13)
	}
	// ISA14 1 asks for a TA1: accepted, with the 999 and the rest.
	req := bytes.Replace(data, []byte("*"+isa13+"*0*"), []byte("*"+isa13+"*1*"), 1)
	res, err = newSim(t, 1).Process(context.Background(), medicare, bytes.NewReader(req), "req.837")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 4 || res.Files[0].Type != TypeTA1 {
		t.Fatalf("ISA14 1: files %+v; want a TA1, a 999, a 277CA and an 835", res.Files)
	}
	checkResponse(t, res.Files[0])
	if ta1 := segments(res.Files[0].Data, "TA1"); ta1[0][1] != isa13 || ta1[0][4] != "A" || ta1[0][5] != "000" {
		t.Fatalf("TA1 %v; want %s accepted, note 000", ta1, isa13)
	}
	// A plain reader (not a seeker) is spooled: same answer.
	res2, err := newSim(t, 1).Process(context.Background(), medicare, io.MultiReader(bytes.NewReader(req)), "req.837")
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Files) != len(res.Files) || !bytes.Equal(res2.Files[3].Data, res.Files[3].Data) {
		t.Errorf("a plain reader gets other answers than a bytes.Reader")
	}
	// Garbage is answered with a TA1 too, never a panic.
	res, err = newSim(t, 1).Process(context.Background(), medicare, bytes.NewReader([]byte("hello")), "junk.837")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || res.Files[0].Type != TypeTA1 {
		t.Fatalf("garbage: files %+v; want one TA1", res.Files)
	}
	checkResponse(t, res.Files[0])
}

// TestReversalCycle: with a reversal rate, a later cycle reverses claims
// paid earlier (CLP02 22, amounts negated) and pays them again corrected;
// PLB interest is on every 835 and BPR02 balances (the 835 validator
// checks it).
func TestReversalCycle(t *testing.T) {
	cfg := testConfig()
	cfg.Payers[0].ReversalRate = 0.5
	s, err := New(cfg, Options{Seed: 5, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	var first, second []*claim.Claim
	for i := 1; i <= 10; i++ {
		first = append(first, ptClaim(fmt.Sprintf("RV-A%d", i), medicare, 200+i))
		second = append(second, ptClaim(fmt.Sprintf("RV-B%d", i), medicare, 300+i))
	}
	r1, err := s.Process(context.Background(), medicare, bytes.NewReader(build837(t, first)[medicare]), "a.837")
	if err != nil {
		t.Fatal(err)
	}
	if len(r1.Reversals) != 0 {
		t.Fatalf("first cycle reverses %v", r1.Reversals)
	}
	r2, err := s.Process(context.Background(), medicare, bytes.NewReader(build837(t, second)[medicare]), "b.837")
	if err != nil {
		t.Fatal(err)
	}
	if len(r2.Reversals) < 2 || len(r2.Reversals) > 8 {
		t.Fatalf("second cycle reverses %d of 10 claims at rate 0.5", len(r2.Reversals))
	}
	era := r2.FilesOf(Type835)[0]
	checkResponse(t, era)
	rems, _, err := x835.ReadAll(bytes.NewReader(era.Data), era.Name)
	if err != nil {
		t.Fatal(err)
	}
	byICN := map[string][]*x835.ClaimPayment{}
	for _, rem := range rems {
		if len(rem.ProviderAdjustments) != 1 || rem.ProviderAdjustments[0].Reason != "L6" {
			t.Errorf("PLB %+v; want the configured L6 interest", rem.ProviderAdjustments)
		}
		for _, c := range rem.Claims {
			byICN[c.PayerClaimControlNumber] = append(byICN[c.PayerClaimControlNumber], c)
		}
	}
	for _, icn := range r2.Reversals {
		pair := byICN[icn]
		if len(pair) != 2 || pair[0].Status != "22" || pair[1].Status != "1" || pair[0].PatientControlNumber != pair[1].PatientControlNumber {
			t.Fatalf("payer claim %s: %d claims; want a reversal (22) then a correction (1) of one CLP01", icn, len(pair))
		}
		if pair[0].Paid >= 0 || pair[1].Paid <= 0 || pair[1].Paid >= -pair[0].Paid {
			t.Errorf("payer claim %s: reversal %s, correction %s; want the original negated, then a lower payment", icn, pair[0].Paid, pair[1].Paid)
		}
	}
}

// TestSamples answers every 837P sample in testdata (other people's
// files, some invalid on purpose): no error, and every response passes
// claimgate's validators.
func TestSamples(t *testing.T) {
	names, err := filepath.Glob("../../testdata/837p/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if strings.HasSuffix(name, ".txt") && strings.Contains(name, "SOURCES") {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		s := newSim(t, 1)
		res, err := s.Process(context.Background(), commercial, bytes.NewReader(data), filepath.Base(name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(res.Files) == 0 {
			t.Errorf("%s: no response at all", name)
		}
		for _, f := range res.Files {
			checkResponse(t, f)
		}
		t.Logf("%s: %d claims, files %d", filepath.Base(name), len(res.Claims), len(res.Files))
	}
}

// FuzzProcess: no input makes the simulator panic or write a response
// its own validators reject.
func FuzzProcess(f *testing.F) {
	data := build837(f, roundTripClaims()[:3])[medicare]
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add(bytes.ReplaceAll(data, []byte("~"), []byte("~\n")))
	f.Add([]byte("ISA*00*"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := newSim(t, 1)
		res, err := s.Process(context.Background(), medicare, bytes.NewReader(in), "fuzz.837")
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Files {
			checkResponse(t, f)
		}
	})
}

// TestEightMinuteRule: the domain brief's example (24 min 97112 + 23 min
// 97110 = 47 min → 3 units: 2 × 97112, 1 × 97110) cuts the second 97110
// unit; with one timed line undocumented only the day cap applies.
func TestEightMinuteRule(t *testing.T) {
	gp := []string{"GP"}
	cs := []*claim.Claim{
		ptClaim("EM-1", medicare, 501, lineSpec{code: "97112", units: 2, mods: gp, note: "MIN 24"}, lineSpec{code: "97110", units: 2, mods: gp, note: "MINUTES 23"}),
		ptClaim("EM-2", medicare, 502, lineSpec{code: "97112", units: 2, mods: gp, note: "MIN 24"}, lineSpec{code: "97110", units: 1, mods: gp, note: "MIN 23"}),
		ptClaim("EM-3", medicare, 503, lineSpec{code: "97110", units: 3, mods: gp, note: "MIN 20"}, lineSpec{code: "97112", units: 1, mods: gp}),
	}
	res, err := newSim(t, 1).Process(context.Background(), medicare, bytes.NewReader(build837(t, cs)[medicare]), "em.837")
	if err != nil {
		t.Fatal(err)
	}
	rems := read835(t, res)
	paidUnits := map[string][]float64{}
	for _, c := range rems[0].Claims {
		for _, l := range c.Lines {
			paidUnits[c.PatientControlNumber] = append(paidUnits[c.PatientControlNumber], l.UnitsPaid)
		}
	}
	for id, want := range map[string][]float64{"EM-1": {2, 1}, "EM-2": {2, 1}, "EM-3": {3, 1}} {
		if !slices.Equal(paidUnits[id], want) {
			t.Errorf("%s: units paid %v, want %v", id, paidUnits[id], want)
		}
	}
	for _, o := range res.Claims {
		if cut := slices.Contains(o.Rules, RuleTimedUnits); cut != (o.ClaimID == "EM-1") {
			t.Errorf("%s: rules %v", o.ClaimID, o.Rules)
		}
	}
}

// TestReplacementAndVoid: a replacement (frequency 7) naming a paid claim
// in REF*F8 reverses it and is paid itself; a void (8) only reverses; an
// unknown REF*F8 is rejected by the 277CA.
func TestReplacementAndVoid(t *testing.T) {
	s := newSim(t, 2)
	orig := []*claim.Claim{ptClaim("CR-1", medicare, 601), ptClaim("CR-2", medicare, 602)}
	r1, err := s.Process(context.Background(), medicare, bytes.NewReader(build837(t, orig)[medicare]), "orig.837")
	if err != nil {
		t.Fatal(err)
	}
	icn := map[string]string{}
	paid := map[string]x835.Amount{}
	for _, o := range r1.Claims {
		icn[o.ClaimID], paid[o.ClaimID] = o.PayerClaimNumber, o.Paid
		if o.CLP02 != "1" {
			t.Fatalf("%s not paid: %+v", o.ClaimID, o)
		}
	}
	repl := ptClaim("CR-1", medicare, 601, lineSpec{code: "97110", units: 1, mods: []string{"GP"}})
	repl.Frequency, repl.OriginalRef = claim.FrequencyReplacement, icn["CR-1"]
	void := ptClaim("CR-2", medicare, 602)
	void.Frequency, void.OriginalRef = claim.FrequencyVoid, icn["CR-2"]
	bad := ptClaim("CR-3", medicare, 603)
	bad.Frequency, bad.OriginalRef = claim.FrequencyReplacement, "10999990000000"
	r2, err := s.Process(context.Background(), medicare, bytes.NewReader(build837(t, []*claim.Claim{repl, void, bad})[medicare]), "fix.837")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r2.Files {
		checkResponse(t, f)
	}
	out := map[string]ClaimOutcome{}
	for _, o := range r2.Claims {
		out[o.ClaimID] = o
	}
	if o := out["CR-3"]; o.Status277 != "A7:464" || o.CLP02 != "" {
		t.Errorf("unknown REF*F8: %+v; want a 277CA rejection A7:464", o)
	}
	if o := out["CR-2"]; o.CLP02 != "22" || o.Paid != -paid["CR-2"] {
		t.Errorf("void: %+v; want the original payment reversed", o)
	}
	if o := out["CR-1"]; o.CLP02 != "1" || o.PayerClaimNumber == icn["CR-1"] {
		t.Errorf("replacement: %+v; want paid under a new payer claim number", o)
	}
	rems, _, err := x835.ReadAll(bytes.NewReader(r2.FilesOf(Type835)[0].Data), "835")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range rems[0].Claims {
		got = append(got, c.PatientControlNumber+"/"+c.Status+"/"+c.PayerClaimControlNumber)
	}
	want := []string{"CR-1/22/" + icn["CR-1"], "CR-1/1/" + out["CR-1"].PayerClaimNumber, "CR-2/22/" + icn["CR-2"]}
	if !slices.Equal(got, want) {
		t.Errorf("835 claims %v, want %v", got, want)
	}
	// More reversed than paid: the 835 pays zero and carries the
	// difference forward (PLB FB, negative).
	net := rems[0].Claims[0].Paid + rems[0].Claims[1].Paid + rems[0].Claims[2].Paid
	if net >= 0 {
		t.Fatalf("net %s: the test needs reversals exceeding payments", net)
	}
	plb := rems[0].ProviderAdjustments
	if rems[0].Payment.Amount != 0 || len(plb) != 1 || plb[0].Reason != "FB" || plb[0].Amount != net {
		t.Fatalf("BPR02 %s, PLB %+v; want 0 and FB %s", rems[0].Payment.Amount, plb, net)
	}
	// The next payments recover it.
	r4, err := s.Process(context.Background(), medicare, bytes.NewReader(build837(t, []*claim.Claim{ptClaim("CR-9", medicare, 609), ptClaim("CR-10", medicare, 610)})[medicare]), "next.837")
	if err != nil {
		t.Fatal(err)
	}
	checkResponse(t, r4.FilesOf(Type835)[0])
	rems4, _, _ := x835.ReadAll(bytes.NewReader(r4.FilesOf(Type835)[0].Data), "835")
	recovered := x835.Amount(0)
	for _, a := range rems4[0].ProviderAdjustments {
		if a.Reason == "FB" {
			recovered += a.Amount
		}
	}
	if paid := rems4[0].Claims[0].Paid + rems4[0].Claims[1].Paid; recovered != min(-net, paid) || recovered <= 0 {
		t.Errorf("recovered %s of %s owed from %s paid", recovered, -net, paid)
	}
	// A second void of the same claim names a reversed claim: rejected.
	r3, err := s.Process(context.Background(), medicare, bytes.NewReader(build837(t, []*claim.Claim{void})[medicare]), "again.837")
	if err != nil {
		t.Fatal(err)
	}
	if o := r3.Claims[0]; o.Status277 != "A7:464" {
		t.Errorf("second void: %+v; want A7:464", o)
	}
}

// TestStateRestore: a simulator restored from a saved state (through
// JSON, as the server keeps it) continues the numbers, recognises
// duplicates and can void a claim paid before.
func TestStateRestore(t *testing.T) {
	s1 := newSim(t, 4)
	r1, err := s1.Process(context.Background(), medicare, bytes.NewReader(build837(t, []*claim.Claim{ptClaim("SR-1", medicare, 701)})[medicare]), "a.837")
	if err != nil {
		t.Fatal(err)
	}
	icn := r1.Claims[0].PayerClaimNumber
	b, err := json.Marshal(s1.State())
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	s2 := newSim(t, 4)
	s2.Restore(st)
	void := ptClaim("SR-1", medicare, 701)
	void.Frequency, void.OriginalRef = claim.FrequencyVoid, icn
	dup := ptClaim("SR-2", medicare, 701)
	r2, err := s2.Process(context.Background(), medicare, bytes.NewReader(build837(t, []*claim.Claim{dup, void})[medicare]), "b.837")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r2.Files {
		checkResponse(t, f)
		if f.Type == Type999 && segments(f.Data, "ISA")[0][13] == segments(r1.Files[0].Data, "ISA")[0][13] {
			t.Error("the restored simulator repeats an ISA13")
		}
	}
	out := map[string]ClaimOutcome{}
	for _, o := range r2.Claims {
		out[o.ClaimID] = o
	}
	if o := out["SR-2"]; !slices.Equal(o.Adjustments, []string{"OA-18"}) {
		t.Errorf("duplicate after restore: %+v", o)
	}
	if o := out["SR-1"]; o.CLP02 != "22" || o.Paid != -r1.Claims[0].Paid {
		t.Errorf("void after restore: %+v", o)
	}
	if o := out["SR-1"]; o.PayerClaimNumber == icn {
		t.Error("the restored simulator repeats a payer claim number")
	}
}

// TestFeeScheduleAndPatientShare spells out the pricing of clean claims
// (2 × 97110 at 60.00 and 1 × 97112 at 60.00): allowed at the payer's fee
// schedule, the rest CO-45; then PR-1 deductible (Medicare: 50.00 on a
// seeded share of claims), PR-2 coinsurance on what is left (20% and
// 10%), PR-3 copay per claim (commercial: 25.00); CLP05 their sum.
func TestFeeScheduleAndPatientShare(t *testing.T) {
	// Amounts as the 835 writes them (X12 decimals: no trailing zeros).
	type line struct{ adj, paid, allowed string }
	want := map[string][][]line{
		medicare: {
			{{"CO-45=57 PR-2=12.6", "50.4", "63"}, {"CO-45=23.75 PR-2=7.25", "29", "36.25"}},
			{{"CO-45=57 PR-1=50 PR-2=2.6", "10.4", "63"}, {"CO-45=23.75 PR-2=7.25", "29", "36.25"}},
		},
		commercial: {
			{{"CO-45=40 PR-2=8 PR-3=25", "47", "80"}, {"CO-45=21 PR-2=3.9", "35.1", "39"}},
		},
	}
	var cs []*claim.Claim
	for i := range 20 {
		cs = append(cs, ptClaim(fmt.Sprintf("FS-M%02d", i), medicare, 1000+i), ptClaim(fmt.Sprintf("FS-C%02d", i), commercial, 2000+i))
	}
	files := build837(t, cs)
	s := newSim(t, 11)
	seen := map[string]int{} // pattern -> claims
	for _, payer := range []string{medicare, commercial} {
		res, err := s.Process(context.Background(), payer, bytes.NewReader(files[payer]), payer+".837")
		if err != nil {
			t.Fatal(err)
		}
		rems := read835(t, res)
		random := map[string]bool{}
		for _, o := range res.Claims {
			random[o.ClaimID] = slices.Contains(o.Rules, "random")
		}
		for _, rem := range rems {
			for _, c := range rem.Claims {
				if random[c.PatientControlNumber] {
					continue // denied at random: TestRoundTrip
				}
				var got []line
				pr := x835.Amount(0)
				for _, l := range c.Lines {
					var adj []string
					for _, a := range l.Adjustments {
						adj = append(adj, fmt.Sprintf("%s-%s=%s", a.Group, a.Reason, a.Amount))
						if a.Group == "PR" {
							pr += a.Amount
						}
					}
					allowed, _ := l.Allowed()
					got = append(got, line{strings.Join(adj, " "), l.Paid.String(), allowed.String()})
				}
				match := -1
				for i, w := range want[payer] {
					if slices.Equal(got, w) {
						match = i
					}
				}
				if match < 0 {
					t.Errorf("%s: lines %+v; want one of %+v", c.PatientControlNumber, got, want[payer])
					continue
				}
				if c.PatientResponsibility != pr || c.Status != "1" {
					t.Errorf("%s: CLP02 %s CLP05 %s, want 1 and the PR sum %s", c.PatientControlNumber, c.Status, c.PatientResponsibility, pr)
				}
				seen[fmt.Sprintf("%s/%d", payer, match)]++
			}
		}
	}
	// Both Medicare patterns occur (the deductible is taken from some
	// claims, not all), and the commercial one.
	for _, k := range []string{medicare + "/0", medicare + "/1", commercial + "/0"} {
		if seen[k] == 0 {
			t.Errorf("no claim priced as %s: %v", k, seen)
		}
	}
}

// TestRandomDenialShare: the commercial payer denies its configured
// denial_rate of 400 clean claims at random (whole claim, CLP02 4, one of
// the configured reasons), and none at rate 0.
func TestRandomDenialShare(t *testing.T) {
	var cs []*claim.Claim
	for i := range 400 {
		cs = append(cs, ptClaim(fmt.Sprintf("RD-%03d", i), commercial, 4000+i))
	}
	data := build837(t, cs)[commercial]
	for _, rate := range []float64{0, 0.3} {
		cfg := testConfig()
		cfg.Payers[1].RejectRate, cfg.Payers[1].DenialRate = 0, rate
		cfg.Payers[1].RandomDenials = []Reason{{Group: "CO", CARC: "50", RARC: []string{"N115"}}, {Group: "PR", CARC: "96"}}
		s, err := New(cfg, Options{Seed: 6, Now: func() time.Time { return testNow }})
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Process(context.Background(), commercial, bytes.NewReader(data), "rd.837")
		if err != nil {
			t.Fatal(err)
		}
		denied := 0
		for _, o := range res.Claims {
			if !slices.Contains(o.Rules, "random") {
				if o.CLP02 != "1" {
					t.Errorf("%s: CLP02 %s rules %v, want paid", o.ClaimID, o.CLP02, o.Rules)
				}
				continue
			}
			denied++
			if o.CLP02 != "4" || (!slices.Equal(o.Adjustments, []string{"CO-50"}) && !slices.Equal(o.Adjustments, []string{"PR-96"})) {
				t.Errorf("%s: CLP02 %s adjustments %v, want denied CO-50 or PR-96", o.ClaimID, o.CLP02, o.Adjustments)
			}
		}
		// 400 claims at 0.3: 120 expected, standard deviation about 9.
		if got := float64(denied) / 400; got < rate-0.07 || got > rate+0.07 || (rate == 0 && denied > 0) {
			t.Errorf("rate %v: %d of 400 denied at random", rate, denied)
		}
		for _, f := range res.FilesOf(Type835) {
			checkResponse(t, f)
		}
	}
}

// read835 checks the first 835 a simulator run wrote and reads its
// remittances.
func read835(t *testing.T, res *Result) []*x835.Remittance {
	t.Helper()
	era := res.FilesOf(Type835)[0]
	checkResponse(t, era)
	rems, _, err := x835.ReadAll(bytes.NewReader(era.Data), era.Name)
	if err != nil {
		t.Fatal(err)
	}
	return rems
}
