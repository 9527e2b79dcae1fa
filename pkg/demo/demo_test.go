package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/gateway"
	"github.com/claimgate/claimgate/pkg/metrics"
	"github.com/claimgate/claimgate/pkg/payersim"
)

var sampleBatches = []string{"../../testdata/batches/pt_batch.json", clinicBatch}

// finalOf is the final state the simulator's decision calls for (as in
// the gateway's end-to-end tests); paid stands for paid or partially
// paid.
func finalOf(o payersim.ClaimOutcome) claim.State {
	switch {
	case !o.Accepted999:
		return claim.AckRejected
	case o.Status277 != "" && !strings.HasPrefix(o.Status277, "A1") && !strings.HasPrefix(o.Status277, "A2") && !strings.HasPrefix(o.Status277, "A5"):
		return claim.PayerRejected
	case o.CLP02 == "4":
		return claim.Denied
	case o.CLP02 == "1", o.CLP02 == "2", o.CLP02 == "3":
		return claim.Paid
	}
	return ""
}

// TestRunEndToEnd runs the demo on the sample batches against the real
// runtime (embedded JetStream, the simulator over SFTP) and checks the
// summary against what the simulator decided, claim by claim, and
// against the claim store read again after the run from the data
// directory it left.
func TestRunEndToEnd(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	var mu sync.Mutex
	outcomes := map[string]payersim.ClaimOutcome{}
	seen := map[string]int{}
	var out bytes.Buffer
	res, err := Run(context.Background(), Config{DataDir: data, Batches: sampleBatches, Timeout: 3 * time.Minute, Out: &out,
		Interval: 500 * time.Millisecond,
		OnProcessed: func(_, _ string, r *payersim.Result) {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range r.Claims {
				outcomes[c.ClaimID] = c
				seen[c.ClaimID]++
			}
		}})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !res.Settled {
		t.Fatalf("not every claim settled:\n%s", out.String())
	}
	s := res.Summary
	// Four sample claims and the clinic batch's.
	if s.Claims != 4+ClinicBatchClaims || len(res.Claims) != s.Claims {
		t.Fatalf("%d claims (%d ids), want %d", s.Claims, len(res.Claims), 4+ClinicBatchClaims)
	}
	if !strings.Contains(out.String(), "every claim settled: 124 of 124") {
		t.Errorf("summary does not say every claim settled:\n%s", out.String())
	}
	if len(res.Batches) != 2 || res.Batches[0].BatchID == "" || res.Batches[0].Duplicate {
		t.Errorf("batches posted: %+v", res.Batches)
	}

	// The simulator's decisions give the same counts and amounts.
	want := map[claim.State]int{}
	var billed, paid, patient claim.Money
	firstPass, adjudicated := 0, 0
	codeClaims := map[string]int{}
	mu.Lock()
	for _, id := range res.Claims {
		o, ok := outcomes[id]
		if !ok {
			want[claim.ScrubRejected]++
			continue
		}
		if seen[id] != 1 {
			t.Errorf("%s reached the payer %d times", id, seen[id])
		}
		st := finalOf(o)
		want[st]++
		if st == claim.Paid || st == claim.Denied {
			firstPass++
			adjudicated++
			billed += claim.Money(o.Charge)
			paid += claim.Money(o.Paid)
			patient += claim.Money(o.Patient)
			for _, a := range o.Adjustments {
				codeClaims[a]++
			}
		}
	}
	mu.Unlock()
	got := map[claim.State]int{}
	for st, n := range s.ByState {
		if st == claim.PartiallyPaid {
			st = claim.Paid
		}
		got[st] += n
	}
	for _, st := range []claim.State{claim.Paid, claim.Denied, claim.ScrubRejected, claim.AckRejected, claim.PayerRejected} {
		if got[st] != want[st] {
			t.Errorf("%s: summary %d, simulator %d", st, got[st], want[st])
		}
		if want[st] == 0 {
			t.Errorf("%s: the demo batches should show some", st)
		}
	}
	if s.Settled != s.Claims || s.Submitted != s.Claims-want[claim.ScrubRejected] || s.FirstPass != firstPass {
		t.Errorf("settled %d, submitted %d, first pass %d; want %d, %d, %d", s.Settled, s.Submitted, s.FirstPass,
			s.Claims, s.Claims-want[claim.ScrubRejected], firstPass)
	}
	if s.Adjudicated != adjudicated || s.Billed != billed || s.Paid != paid || s.Patient != patient {
		t.Errorf("amounts: %d claims billed %s paid %s patient %s; simulator %d claims %s %s %s", s.Adjudicated,
			money(s.Billed), money(s.Paid), money(s.Patient), adjudicated, money(billed), money(paid), money(patient))
	}
	for _, want := range []string{money(s.Billed), money(s.Paid), money(s.Patient)} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %s", want)
		}
	}
	// Each denial code: as many claims as the simulator gave it, with the
	// CARC's text.
	if len(s.Denials) == 0 {
		t.Error("no denials in the summary")
	}
	for _, d := range s.Denials {
		for _, c := range d.Codes {
			if c.Claims != codeClaims[c.Code] {
				t.Errorf("%s %s: %d claims, simulator %d", d.Category, c.Code, c.Claims, codeClaims[c.Code])
			}
			if c.Text == "" || !strings.Contains(out.String(), c.Code) || !strings.Contains(out.String(), c.Text) {
				t.Errorf("%s: no text or not printed", c.Code)
			}
		}
	}
	// Rejections: every rejected claim once, under a stage with a code.
	rejected := 0
	for _, r := range s.Rejections {
		if r.Code == "" || r.Text == "" {
			t.Errorf("rejection without code or text: %+v", r)
		}
		rejected += len(r.Claims)
	}
	if rejected != want[claim.ScrubRejected]+want[claim.AckRejected]+want[claim.PayerRejected] {
		t.Errorf("%d claims under rejections", rejected)
	}
	if s.To999.N == 0 || s.To277CA.N == 0 || s.To835.N != adjudicated || s.To835.Mean < s.To999.Mean {
		t.Errorf("latencies: %+v %+v %+v", s.To999, s.To277CA, s.To835)
	}

	// The data directory kept: the claim store read again agrees.
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: data, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Shutdown()
	ctx := context.Background()
	b, err := bus.Connect(ctx, bus.Options{Embedded: emb})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st, err := b.ClaimStore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again, err := summarise(ctx, st, res.Claims)
	if err != nil {
		t.Fatal(err)
	}
	for _, state := range finalOrder {
		if again.ByState[state] != s.ByState[state] {
			t.Errorf("%q: store %d, summary %d", state, again.ByState[state], s.ByState[state])
		}
	}
	if again.Paid != s.Paid || again.Billed != s.Billed {
		t.Errorf("store amounts differ from the summary")
	}
}

// A data directory in use is refused: its claims would be duplicates.
func TestRunRefusesUsedDataDir(t *testing.T) {
	dir := t.TempDir()
	if err := writeJSON(filepath.Join(dir, "x.json"), 1); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Config{DataDir: dir, Batches: sampleBatches})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("err %v", err)
	}
}

// Ending the context stops the run promptly: interrupted, not settled.
func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan *Result, 1)
	go func() {
		res, err := Run(ctx, Config{Batches: sampleBatches, Timeout: 3 * time.Minute, Out: &out, Interval: 100 * time.Millisecond})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	// Interrupt once the batches are posted.
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(out.String(), "posted pt_clinic_week.csv") {
		if time.Now().After(deadline) {
			t.Fatalf("batches not posted:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case res := <-done:
		if res == nil || !res.Interrupted || res.Settled {
			t.Fatalf("result %+v", res)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run did not return within a minute of the interrupt")
	}
	if !strings.Contains(out.String(), "interrupted") {
		t.Errorf("output does not say interrupted:\n%s", out.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// stubAPI is a stand-in for pkg/api in this test of Run's API wiring:
// POST /v1/batches hands the body to the real gateway with
// gateway.Submit, GET /v1/claims/{id} answers from the real claim store;
// both want a bearer token. The ops handler serves /metrics.
func stubAPI(t *testing.T, posts *atomic.Int32) APIFunc {
	return func(ctx context.Context, b *bus.Bus, tokens []string, _ *metrics.Metrics) (http.Handler, http.Handler, error) {
		st, err := b.ClaimStore(ctx)
		if err != nil {
			return nil, nil, err
		}
		mux := http.NewServeMux()
		authed := func(h http.HandlerFunc) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if len(tokens) != 1 || r.Header.Get("Authorization") != "Bearer "+tokens[0] {
					http.Error(w, `{"error":{"code":"unauthorized"}}`, http.StatusUnauthorized)
					return
				}
				h(w, r)
			}
		}
		mux.HandleFunc("POST /v1/batches", authed(func(w http.ResponseWriter, r *http.Request) {
			f, err := os.CreateTemp(t.TempDir(), "batch-")
			if err == nil {
				_, err = io.Copy(f, r.Body)
				f.Close()
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			id, dup, err := gateway.Submit(r.Context(), b, f.Name(), "posted")
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			posts.Add(1)
			w.WriteHeader(http.StatusAccepted)
			json.NewEncoder(w).Encode(map[string]any{"batch_id": id, "location": "/v1/batches/" + id, "duplicate": dup})
		}))
		mux.HandleFunc("GET /v1/claims/{id}", authed(func(w http.ResponseWriter, r *http.Request) {
			rec, err := st.Get(r.Context(), r.PathValue("id"))
			if err != nil || rec == nil {
				http.Error(w, `{"error":{"code":"not_found"}}`, http.StatusNotFound)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"claim_id": rec.ID, "state": rec.State, "timeline": rec.Timeline})
		}))
		ops := http.NewServeMux()
		ops.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "claimgate_up 1\n") })
		return mux, ops, nil
	}
}

// With an API, the batches are posted over HTTP with the run's token;
// with Keep, the API, the ops listener and the summary's curl line work
// until the context ends, and then nothing listens any more.
func TestRunWithAPIKept(t *testing.T) {
	var posts atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan *Result, 1)
	go func() {
		res, err := Run(ctx, Config{Batches: sampleBatches, Timeout: 3 * time.Minute, Out: &out, Keep: true,
			Interval: 200 * time.Millisecond, API: stubAPI(t, &posts)})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	deadline := time.Now().Add(4 * time.Minute)
	for !strings.Contains(out.String(), "Ctrl-C stops it") {
		if time.Now().After(deadline) {
			t.Fatalf("no summary:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if posts.Load() != 2 {
		t.Errorf("%d batches posted over HTTP, want 2", posts.Load())
	}
	// The curl line of the summary, run.
	m := regexp.MustCompile(`curl -s -H 'Authorization: Bearer ([0-9a-f]+)' (http://127\.0\.0\.1:\d+)/v1/claims/(\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no curl line for a claim:\n%s", out.String())
	}
	req, _ := http.NewRequest(http.MethodGet, m[2]+"/v1/claims/"+m[3], nil)
	req.Header.Set("Authorization", "Bearer "+m[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		ClaimID string      `json:"claim_id"`
		State   claim.State `json:"state"`
	}
	json.NewDecoder(resp.Body).Decode(&rec)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || rec.ClaimID != m[3] || !Settled(rec.State) {
		t.Fatalf("GET claim: %s %+v", resp.Status, rec)
	}
	mm := regexp.MustCompile(`metrics:\s+(http://127\.0\.0\.1:\d+)/metrics`).FindStringSubmatch(out.String())
	if mm == nil {
		t.Fatalf("no metrics URL:\n%s", out.String())
	}
	if resp, err := http.Get(mm[1] + "/metrics"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	cancel()
	var res *Result
	select {
	case res = <-done:
	case <-time.After(time.Minute):
		t.Fatal("Run did not return within a minute of the interrupt")
	}
	if res == nil || !res.Settled || res.Interrupted || res.Token != m[1] || res.APIURL != m[2] {
		t.Fatalf("result %+v", res)
	}
	for _, u := range []string{m[2], mm[1]} {
		if c, err := net.DialTimeout("tcp", strings.TrimPrefix(u, "http://"), 2*time.Second); err == nil {
			c.Close()
			t.Errorf("%s still listening after the run", u)
		}
	}
	if _, err := os.Stat(res.DataDir); !os.IsNotExist(err) {
		t.Errorf("temporary data directory left behind: %v", err)
	}
}
