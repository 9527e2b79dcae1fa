package assemble

import (
	"math/rand/v2"
	"testing"

	"github.com/claimgate/claimgate/edi/x837p"
)

// TestGroupIsByValue: group gives what grouping with maps keyed by the
// whole billing provider, subscriber and patient gives (groupRef, the
// earlier implementation), on random claims drawn from few equal-valued
// but distinct contexts, including subscribers sharing a member id and
// patients sharing a name and birth date.
func TestGroupIsByValue(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		n := 1 + r.IntN(60)
		items := make([]x837p.Item, n)
		for i := range items {
			b := &x837p.BillingProvider{NPI: []string{"1", "1", "2"}[r.IntN(3)], TaxID: []string{"A", "B"}[r.IntN(2)]}
			s := &x837p.Subscriber{ID: []string{"M1", "M2", "M3"}[r.IntN(3)], Name: x837p.Name{Last: []string{"X", "Y"}[r.IntN(2)]}}
			it := x837p.Item{Billing: b, Subscriber: s, Claim: &x837p.Claim{}}
			if r.IntN(2) == 0 {
				it.Patient = &x837p.Patient{Name: x837p.Name{Last: "P", First: []string{"F", "G"}[r.IntN(2)]}, Birth: "20000101", Gender: []string{"F", "M"}[r.IntN(2)]}
			}
			if i > 0 && r.IntN(3) == 0 { // a shared pointer, as an 837P read gives
				it.Billing = items[i-1].Billing
			}
			items[i] = it
		}
		got, want := group(append([]x837p.Item(nil), items...)), groupRef(append([]x837p.Item(nil), items...))
		if len(got) != len(want) {
			t.Fatalf("round %d: %d items, want %d", round, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("round %d: item %d differs", round, i)
			}
		}
	}
}

// groupRef is group as it was: maps keyed by whole structs.
func groupRef(items []x837p.Item) []x837p.Item {
	type patGroup struct {
		pat    *x837p.Patient
		claims []*x837p.Claim
	}
	type subGroup struct {
		sub    *x837p.Subscriber
		own    []*x837p.Claim
		pats   []*patGroup
		patIdx map[x837p.Patient]*patGroup
	}
	type billGroup struct {
		bill   *x837p.BillingProvider
		subs   []*subGroup
		subIdx map[x837p.Subscriber]*subGroup
	}
	var bills []*billGroup
	billIdx := map[x837p.BillingProvider]*billGroup{}
	for i := range items {
		it := &items[i]
		bg := billIdx[*it.Billing]
		if bg == nil {
			bg = &billGroup{bill: it.Billing, subIdx: map[x837p.Subscriber]*subGroup{}}
			billIdx[*it.Billing] = bg
			bills = append(bills, bg)
		}
		sg := bg.subIdx[*it.Subscriber]
		if sg == nil {
			sg = &subGroup{sub: it.Subscriber, patIdx: map[x837p.Patient]*patGroup{}}
			bg.subIdx[*it.Subscriber] = sg
			bg.subs = append(bg.subs, sg)
		}
		if it.Patient == nil {
			sg.own = append(sg.own, it.Claim)
			continue
		}
		pg := sg.patIdx[*it.Patient]
		if pg == nil {
			pg = &patGroup{pat: it.Patient}
			sg.patIdx[*it.Patient] = pg
			sg.pats = append(sg.pats, pg)
		}
		pg.claims = append(pg.claims, it.Claim)
	}
	out := make([]x837p.Item, 0, len(items))
	for _, bg := range bills {
		for _, sg := range bg.subs {
			for _, c := range sg.own {
				out = append(out, x837p.Item{Billing: bg.bill, Subscriber: sg.sub, Claim: c})
			}
			for _, pg := range sg.pats {
				for _, c := range pg.claims {
					out = append(out, x837p.Item{Billing: bg.bill, Subscriber: sg.sub, Patient: pg.pat, Claim: c})
				}
			}
		}
	}
	return out
}
