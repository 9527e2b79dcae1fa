package webhook

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/config"
)

// BenchmarkDeliver: b.N events (claims of 6 events each) already in the
// stream, delivered by one dispatcher to a local receiver that verifies
// each signature and answers at once or after 5 ms (a receiver writing
// to its database); reports events/s. The embedded server syncs every
// write.
//
//	go test -run '^$' -bench Deliver -benchtime 1200x ./pkg/webhook
func BenchmarkDeliver(b *testing.B) {
	for _, latency := range []time.Duration{0, 5 * time.Millisecond} {
		for _, lanes := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("receiver=%v/lanes=%d", latency, lanes), func(b *testing.B) {
				bs := connect(b, embedded(b, 0))
				rcv := newReceiver(b, nil)
				rcv.delay = latency
				claims := max(1, b.N/len(path))
				publishClaims(b, bs, "B", claims, path)
				n := claims * len(path)
				h := hook("bench", rcv.srv.URL)
				h.Lanes = lanes
				b.ResetTimer()
				start := time.Now()
				_, stop := runDispatcher(b, bs, []Hook{h}, Options{Holder: "r1"})
				rcv.waitAccepted(b, n, 10*time.Minute)
				el := time.Since(start)
				b.StopTimer()
				stop()
				b.ReportMetric(float64(n)/el.Seconds(), "events/s")
			})
		}
	}
}

func TestFromConfig(t *testing.T) {
	t.Setenv("CLAIMGATE_TEST_HOOK_SECRET", "s3cret")
	h, err := FromConfig(config.Webhook{Name: "pm", URL: "https://pm.example/x", Secret: "env:CLAIMGATE_TEST_HOOK_SECRET",
		States: []string{"paid"}, Timeout: "3s", MaxAttempts: 4, Lanes: 2, Deliver: "all"})
	if err != nil {
		t.Fatal(err)
	}
	if string(h.Secret) != "s3cret" || h.Timeout != 3*time.Second || h.MaxAge != 24*time.Hour || h.MaxAttempts != 4 || h.Lanes != 2 ||
		!h.DeliverAll || len(h.States) != 1 || h.States[0] != claim.Paid {
		t.Fatalf("hook %+v", h)
	}
	os.Unsetenv("CLAIMGATE_TEST_HOOK_SECRET")
	if _, err := FromConfig(config.Webhook{Name: "pm", URL: "https://pm.example/x", Secret: "env:CLAIMGATE_TEST_HOOK_SECRET"}); err == nil {
		t.Fatal("a missing secret was accepted")
	}
	if _, err := FromConfig(config.Webhook{Name: "pm", URL: "https://pm.example/x", Secret: "literal"}); err == nil {
		t.Fatal("a literal secret was accepted")
	}
}
