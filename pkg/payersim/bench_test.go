package payersim

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/claimgate/claimgate/pkg/claim"
)

// BenchmarkProcess answers a 1,000-claim 837P (999, 277CAs, 835):
//
//	go test -run XXX -bench Process -benchtime 20x ./pkg/payersim/
func BenchmarkProcess(b *testing.B) {
	var cs []*claim.Claim
	for i := range 1000 {
		cs = append(cs, ptClaim(fmt.Sprintf("B-%d", i), commercial, i))
	}
	data := build837(b, cs)[commercial]
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s := newSim(b, 1)
		res, err := s.Process(context.Background(), commercial, bytes.NewReader(data), "bench.837")
		if err != nil || len(res.Claims) != 1000 {
			b.Fatal(err, len(res.Claims))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "µs/claim")
}
