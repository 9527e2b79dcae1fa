package bus_test

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/bus/natstest"
)

// On a real 3-node cluster with every stream and bucket replicated three
// times, two replicas connected to different nodes allocate ISA13s at
// once; one node is killed in the middle and restarted. Every number a
// caller received is distinct.
func TestClusterControlNumbersSurviveNodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	nodes := natstest.StartCluster(t, 3)
	ctx := ctxT(t)
	r3 := func(o *bus.Options) { o.Replicas = 3 }
	var a, b *bus.Bus
	// The cluster elects its JetStream leader after the routes connect:
	// Setup fails until then.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var err error
		a, err = bus.Connect(ctx, bus.Options{URL: nodes[0].URL(), Replicas: 3})
		if err == nil {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = a.Setup(sctx)
			cancel()
			if err == nil {
				break
			}
			a.NC.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster never ready: %v\n%s", err, nodes[0].Log())
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Cleanup(func() { a.NC.Close() })
	b = connect(t, nodes[1].URL()+","+nodes[2].URL(), r3)
	info, err := a.JS.Stream(ctx, "KV_"+bus.BucketControl)
	if err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().Config.Replicas; n != 3 {
		t.Fatalf("control bucket has %d replicas, want 3", n)
	}

	var mu sync.Mutex
	var got []int64
	alloc := func(bb *bus.Bus, n int, wg *sync.WaitGroup) {
		defer wg.Done()
		cn, err := bb.ControlNumbers(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		for i := 0; i < n; i++ {
			var v int64
			var err error
			// A call cut off by the node loss may fail: retry, as the
			// pipeline does. A number that failed is never used.
			for try := 0; try < 100; try++ {
				cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				v, err = cn.Next(cctx, x12.InterchangeControl, "CLAIMGATE", "PAYER")
				cancel()
				if err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			got = append(got, v)
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go alloc(a, 40, &wg)
	go alloc(b, 40, &wg)
	time.Sleep(200 * time.Millisecond)
	nodes[2].Kill()
	time.Sleep(500 * time.Millisecond)
	nodes[2].Restart()
	wg.Wait()
	if t.Failed() {
		return
	}
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("ISA13 %d handed out twice: %v", got[i], got)
		}
	}
	if len(got) != 80 {
		t.Fatalf("got %d numbers, want 80", len(got))
	}
}
