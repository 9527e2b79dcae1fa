package reconcile

import (
	"testing"

	"github.com/claimgate/claimgate/edi/x835"
	"github.com/claimgate/claimgate/pkg/claim"
)

// The 835 classification rules of docs/reconcile.md, one case each.
func TestClassify835(t *testing.T) {
	none := [4][]x835.Adjustment{}
	all := func(group, carc string) [4][]x835.Adjustment {
		var l [4][]x835.Adjustment
		for k := range l {
			l[k] = []x835.Adjustment{adj(group, carc, int64(5000+100*k))}
		}
		return l
	}
	withClaimAdj := func(c *x835.ClaimPayment, a x835.Adjustment) *x835.ClaimPayment {
		c.Adjustments = append(c.Adjustments, a)
		c.Paid -= a.Amount
		return c
	}
	cases := []struct {
		name     string
		c        *x835.ClaimPayment
		want     claim.State
		category string
	}{
		{"paid in full", payment("C", "1", "X", none), claim.Paid, ""},
		{"contractual reduction only", payment("C", "1", "X", [4][]x835.Adjustment{{adj("CO", "45", 900)}}), claim.Paid, ""},
		{"coinsurance", payment("C", "1", "X", [4][]x835.Adjustment{{adj("PR", "2", 900)}}), claim.Paid, ""},
		{"deductible only, paid zero", payment("C", "1", "X", all("PR", "1")), claim.Paid, ""},
		{"reversal", negate(payment("C", "1", "X", none)), claim.Reversed, ""},
		{"not our claim", payment("C", "23", "X", none), "", ""},
		{"predetermination", payment("C", "25", "X", none), "", ""},
		{"CLP02 denied", payment("C", "4", "X", all("CO", "197")), claim.Denied, "authorization"},
		{"denial adjustments, paid zero", payment("C", "1", "X", all("CO", "16")), claim.Denied, "missing_info"},
		{"one line denied", payment("C", "1", "X", [4][]x835.Adjustment{2: {adj("CO", "97", 5200)}}), claim.PartiallyPaid, "coding"},
		{"claim-level denial adjustment", withClaimAdj(payment("C", "1", "X", none), adj("OA", "18", 1000)), claim.PartiallyPaid, "duplicate"},
		{"unknown CARC counts as a denial", payment("C", "1", "X", [4][]x835.Adjustment{{adj("CO", "A1", 1000)}}), claim.PartiallyPaid, "other"},
		{"largest denial decides the category", payment("C", "1", "X", [4][]x835.Adjustment{{adj("CO", "29", 100)}, {adj("CO", "50", 5100)}}), claim.PartiallyPaid, "medical_necessity"},
		{"secondary, prior payer paid part (OA-23)", payment("C", "2", "X", [4][]x835.Adjustment{{adj("OA", "23", 2000)}}), claim.Paid, ""},
	}
	for _, tc := range cases {
		tc.c.Remittance = &x835.Remittance{}
		o := &Outcome{}
		classify835(tc.c, o)
		if o.State != tc.want || o.DenialCategory != tc.category {
			t.Errorf("%s: %q (%q), want %q (%q)", tc.name, o.State, o.DenialCategory, tc.want, tc.category)
		}
	}
}
