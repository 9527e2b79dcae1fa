package reconcile

import (
	"bytes"
	"testing"

	"github.com/claimgate/claimgate/edi/x277ca"
	"github.com/claimgate/claimgate/edi/x835"
	"github.com/claimgate/claimgate/edi/x999"
	"github.com/claimgate/claimgate/pkg/claim"
)

// Read never panics, and every outcome it emits on any input is
// well-formed: a known kind, a position of its own (a 999's accepted
// sets are emitted after its rejected ones, with the positions of where
// they are), a state of the lifecycle or none.
func FuzzRead(f *testing.F) {
	f.Add(file999(f, isaNoridian, x999.Build("HC", "7", "005010X222A1", []x999.SetResponse{{ID: "837", Control: "0001"},
		{ID: "837", Control: "0002", SegmentErrors: []x999.SegmentError{{SegmentID: "NM1", Position: 3, Code: "8",
			Elements: []x999.ElementError{{Position: x999.ElementPosition{Element: 2}, Code: "7"}}}}}})))
	f.Add(fileTA1(f, isaAetna, 12, "R", "024"))
	f.Add(file277(f, isaNoridian, payerNoridian, "B1", verdict277("C1", x277ca.OutcomeRejected, "A7", "21", ""), verdict277("C2", x277ca.OutcomeAccepted, "", "", "K")))
	var era bytes.Buffer
	if err := gen835(&era, 4); err != nil {
		f.Fatal(err)
	}
	f.Add(era.Bytes())
	f.Add(file835(f, isaNoridian, remittance(payerNoridian, "T", negate(payment("C1", "1", "X", [4][]x835.Adjustment{})))))
	f.Add([]byte("ISA*00*          *00*          *ZZ*A              *ZZ*B              *250402*1504*^*00501*000000001*0*T*:~"))
	f.Fuzz(func(t *testing.T, data []byte) {
		seen := map[int]bool{}
		sum, err := Read(bytes.NewReader(data), "fuzz", "d", func(o *Outcome) error {
			if o.Position < 1 || seen[o.Position] || o.Kind == KindUnknown || o.Kind == "" {
				t.Fatalf("outcome %+v: position repeated or kind wrong", o)
			}
			seen[o.Position] = true
			switch o.State {
			case "", claim.AckAccepted, claim.AckRejected, claim.PayerAccepted, claim.PayerRejected,
				claim.Paid, claim.PartiallyPaid, claim.Denied, claim.Reversed:
			default:
				t.Fatalf("outcome state %q", o.State)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err) // a bytes.Reader never fails
		}
		if sum.Kind == KindUnknown && sum.Outcomes != 0 {
			t.Fatalf("unknown file with %d outcomes", sum.Outcomes)
		}
	})
}
