package reconcile_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/reconcile"
)

// BenchmarkReconcile835JetStream reconciles a generated 835 of 1,000
// claims end to end on the embedded server (syncing every write): index
// lookup, compare-and-set state write and (first round) event publish
// per claim. Each round applies the file under a new digest: the first
// moves every claim, later ones record the same state again (one state
// write each, no publish).
func BenchmarkReconcile835JetStream(b *testing.B) {
	const n = 1000
	var era bytes.Buffer
	if err := reconcile.Gen835(&era, n); err != nil {
		b.Fatal(err)
	}
	for _, workers := range []int{1, 16} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			e, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: b.TempDir(), Port: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Shutdown()
			ctx := context.Background()
			bb, err := bus.Connect(ctx, bus.Options{Embedded: e})
			if err != nil {
				b.Fatal(err)
			}
			defer bb.Close()
			if err := bb.Setup(ctx); err != nil {
				b.Fatal(err)
			}
			idx, _ := bb.ClaimIndex(ctx)
			store, _ := bb.ClaimStore(ctx)
			fi := &assemble.FileInfo{PayerID: "04412", Receiver: "NORIDIAN", Interchange: 1, Group: 1, Sets: []assemble.SetInfo{{Control: "0001", Reference: "B1"}}}
			for i := range n {
				fi.Sets[0].ClaimIDs = append(fi.Sets[0].ClaimIDs, fmt.Sprintf("G%08d", i))
			}
			if err := idx.Record(ctx, fi); err != nil {
				b.Fatal(err)
			}
			rc := &reconcile.Reconciler{Index: idx, Store: store, Workers: workers}
			round := 0
			for b.Loop() {
				round++
				rep, err := rc.Reconcile(ctx, bytes.NewReader(era.Bytes()), "era.835", fmt.Sprintf("digest-%d", round))
				if err != nil || rep.Moved+rep.Recorded != n {
					b.Fatalf("%+v, %v", rep, err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "claims/s")
		})
	}
}
