package gateway

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/config"
	"github.com/claimgate/claimgate/pkg/payersim"
	"github.com/claimgate/claimgate/pkg/reconcile"
	"github.com/claimgate/claimgate/pkg/sftpconn"
)

// The two simulated payers (payersim's example configuration): a
// Medicare contractor and a commercial payer whose 277CA rejects member
// ids not matching its pattern.
var testPayers = []string{"04412", "60054"}

// simNow is the simulator's clock: within timely filing of the sample
// batch's dates of service.
var simNow = time.Date(2025, 4, 1, 12, 0, 0, 0, time.UTC)

// sim is a payer simulator serving SFTP in-process; outcomes are its
// decisions per claim id (OnProcessed).
type sim struct {
	srv      *payersim.Server
	addr     string
	hostKey  ssh.PublicKey
	known    string // known_hosts line
	signer   ssh.Signer
	keyFile  string // the user's private key (PEM), for subprocesses
	mu       sync.Mutex
	outcomes map[string]payersim.ClaimOutcome
	files    map[string]int // claim id → times seen in an 837P at the payer
}

func simConfig() *payersim.Config {
	cfg := payersim.ExampleConfig()
	cfg.PollInterval = payersim.Duration(20 * time.Millisecond)
	for i := range cfg.Payers {
		cfg.Payers[i].Delays = payersim.Delays{}
		cfg.Payers[i].ReversalRate = 0
	}
	return cfg
}

func startSim(t testing.TB, dir string) *sim {
	t.Helper()
	return startSimConfig(t, dir, simConfig())
}

// startSimConfig starts a simulator with cfg (its payers' folders as
// simConfig's).
func startSimConfig(t testing.TB, dir string, cfg *payersim.Config) *sim {
	t.Helper()
	s := &sim{outcomes: map[string]payersim.ClaimOutcome{}, files: map[string]int{}}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if s.signer, err = ssh.NewSignerFromKey(priv); err != nil {
		t.Fatal(err)
	}
	pemBlock, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	s.keyFile = filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(s.keyFile, pem.EncodeToMemory(pemBlock), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	sm, err := payersim.New(cfg, payersim.Options{Seed: 7, Now: func() time.Time { return simNow }})
	if err != nil {
		t.Fatal(err)
	}
	s.srv, err = payersim.NewServer(sm, payersim.ServerOptions{DataDir: filepath.Join(dir, "payersim"), Listen: "127.0.0.1:0",
		User: "claimgate", AuthorizedKeys: []ssh.PublicKey{sshPub},
		OnProcessed: func(_, _ string, res *payersim.Result) {
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, c := range res.Claims {
				s.outcomes[c.ClaimID] = c
				s.files[c.ClaimID]++
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	s.addr, s.known, err = s.srv.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.hostKey = s.srv.HostKey()
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// payers are the SFTP peers for the simulator, polled often.
func (s *sim) payers() []sftpconn.Payer {
	var out []sftpconn.Payer
	cfg := simConfig()
	for _, id := range testPayers {
		p, _ := cfg.Payer(id)
		in, outDir := orStr(p.Inbound, cfg.Inbound), orStr(p.Outbound, cfg.Outbound)
		folder := orStr(p.Folder, id)
		out = append(out, sftpconn.Payer{ID: id, Addr: s.addr, User: "claimgate",
			Auth: []ssh.AuthMethod{ssh.PublicKeys(s.signer)}, HostKeys: []ssh.PublicKey{s.hostKey},
			OutboundDir: "/" + folder + "/" + in, InboundDir: "/" + folder + "/" + outDir,
			PollInterval: 100 * time.Millisecond, SettleTime: 30 * time.Millisecond,
			RetryMin: 100 * time.Millisecond, RetryMax: time.Second})
	}
	return out
}

// claimsConfig is the gateway's configuration for the simulated payers:
// their receiver ids are the simulator's ISA ids, so responses match.
func claimsConfig() *config.Config {
	cfg := &config.Config{
		Submitter: config.Submitter{Name: "RIVERBEND BILLING", ID: "RBBS001", ContactName: "EDI DESK", Phone: "5035550142", ISAQualifier: "ZZ", ISAID: "RBBS001"},
		Usage:     "T",
	}
	for _, p := range simConfig().Payers {
		cp := config.Payer{ID: p.ID, Name: p.Name, FilingCode: p.FilingCode}
		cp.Receiver.ISAQualifier = "ZZ"
		cp.Receiver.ISAID = p.ISAID
		cp.Receiver.GSID = p.GSID
		if cp.Receiver.GSID == "" {
			cp.Receiver.GSID = p.ID
		}
		cfg.Payers = append(cfg.Payers, cp)
	}
	return cfg
}

const sampleBatch = "../../testdata/batches/pt_batch.csv"

// writeBatch writes a CSV batch of n claims (ids PREFIX000000..., member
// ids from base on, so batches with different bases hold no duplicates) from the
// sample batch's two clean claims, alternating payers; every badEvery-th
// claim (0: none) gets an invalid billing NPI, which the scrubber
// rejects. It returns the claim ids and which are bad.
func writeBatch(t testing.TB, path, prefix string, base, n, badEvery int) (ids []string, bad map[string]bool) {
	t.Helper()
	f, err := os.Open(sampleBatch)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	var tmpl [2][][]string
	for _, r := range recs[1:] {
		switch r[col["claim_id"]] {
		case "RB-25-0002":
			tmpl[0] = append(tmpl[0], r)
		case "RB-25-0003":
			tmpl[1] = append(tmpl[1], r)
		}
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	w := csv.NewWriter(bw)
	w.Write(recs[0])
	bad = map[string]bool{}
	for i := range n {
		id := fmt.Sprintf("%s%06d", prefix, i)
		ids = append(ids, id)
		payer := testPayers[i%len(testPayers)]
		isBad := badEvery > 0 && i%badEvery == badEvery-1
		if isBad {
			bad[id] = true
		}
		for _, r := range tmpl[i%2] {
			row := append([]string(nil), r...)
			row[col["claim_id"]] = id
			row[col["payer_id"]] = payer
			row[col["payer_name"]] = "PAYER " + payer
			row[col["subscriber_member_id"]] = fmt.Sprintf("M%06d", (base+i)%1000000)
			if i%3 == 0 {
				row[col["subscriber_member_id"]] = fmt.Sprintf("X%08d", base+i) // rejected by 60054's 277CA
			}
			if payer == "04412" {
				row[col["subscriber_filing_code"]] = "MB"
			} else {
				row[col["subscriber_filing_code"]] = "CI"
			}
			if isBad {
				row[col["billing_npi"]] = "1234567890"
			}
			w.Write(row)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return ids, bad
}

// expected is the final state the simulator's decision calls for.
func expected(o payersim.ClaimOutcome) []claim.State {
	switch {
	case !o.Accepted999:
		return []claim.State{claim.AckRejected}
	case o.Status277 != "" && !strings.HasPrefix(o.Status277, "A1") && !strings.HasPrefix(o.Status277, "A2") && !strings.HasPrefix(o.Status277, "A5"):
		return []claim.State{claim.PayerRejected}
	case o.CLP02 == "4":
		return []claim.State{claim.Denied}
	case o.CLP02 == "1", o.CLP02 == "2", o.CLP02 == "3":
		return []claim.State{claim.Paid, claim.PartiallyPaid}
	}
	return nil
}

// checkFinal checks every claim against the simulator's decision (or
// scrub rejection) and reports whether all are final; with report set it
// fails the test on the first wrong claim.
func checkFinal(t testing.TB, ctx context.Context, st reconcile.Store, s *sim, ids []string, bad map[string]bool, report bool) (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		rec, err := st.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		state := claim.State("")
		if rec != nil {
			state = rec.State
		}
		if bad[id] {
			if state != claim.ScrubRejected {
				return false, fmt.Sprintf("%s: %q, want scrub_rejected", id, state)
			}
			last := rec.Timeline[len(rec.Timeline)-1]
			if len(last.Reasons) == 0 || last.Reasons[0].Code == "" {
				t.Fatalf("%s: scrub_rejected without reasons: %+v", id, last)
			}
			if s.files[id] != 0 {
				t.Fatalf("%s: scrub-rejected claim reached the payer", id)
			}
			if !containsPayer(rec.Payer) {
				t.Fatalf("%s: scrub-rejected claim's payer is %q", id, rec.Payer)
			}
			continue
		}
		o, ok := s.outcomes[id]
		if !ok {
			return false, fmt.Sprintf("%s: not at the payer yet (state %q)", id, state)
		}
		want := expected(o)
		if want == nil {
			t.Fatalf("%s: simulator outcome not understood: %+v", id, o)
		}
		if !containsState(want, state) {
			return false, fmt.Sprintf("%s: %q, want %v (sim %+v)", id, state, want, o)
		}
		if state == claim.Paid || state == claim.PartiallyPaid || state == claim.Denied {
			if rec.Amounts == nil || int64(rec.Amounts.Paid) != int64(o.Paid) || int64(rec.Amounts.Billed) != int64(o.Charge) {
				t.Fatalf("%s: amounts %+v, simulator paid %d of %d", id, rec.Amounts, o.Paid, o.Charge)
			}
			if rec.PayerClaimNumber != o.PayerClaimNumber {
				t.Fatalf("%s: payer claim number %q, simulator %q", id, rec.PayerClaimNumber, o.PayerClaimNumber)
			}
		}
		if state == claim.Denied && !hasReasons(rec) {
			t.Fatalf("%s: denied without reasons", id)
		}
		if s.files[id] != 1 {
			t.Fatalf("%s: at the payer %d times", id, s.files[id])
		}
	}
	return true, ""
}

func hasReasons(rec *reconcile.Record) bool {
	for _, e := range rec.Timeline {
		if e.State != rec.State {
			continue
		}
		if len(e.Reasons) > 0 {
			return true
		}
		for _, l := range e.Lines {
			if len(l.Reasons) > 0 {
				return true
			}
		}
	}
	return false
}

func containsState(ss []claim.State, s claim.State) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// checkEvents reads the claim event stream and checks each claim got
// each of its moves exactly once: received, then scrub_rejected or
// queued, submitted, and its final state once.
func checkEvents(t testing.TB, b *bus.Bus, ids []string, bad map[string]bool) {
	t.Helper()
	ctx := context.Background()
	counts := eventCounts(t, b)
	for _, id := range ids {
		c := counts[id]
		if c[claim.Received] != 1 {
			t.Fatalf("%s: %d received events (%v)", id, c[claim.Received], c)
		}
		if bad[id] {
			if c[claim.ScrubRejected] != 1 || c[claim.Queued] != 0 {
				t.Fatalf("%s: events %v", id, c)
			}
			continue
		}
		if c[claim.Queued] != 1 || c[claim.Submitted] != 1 {
			t.Fatalf("%s: events %v", id, c)
		}
		finals := 0
		for st, n := range c {
			if st.Final() || st == claim.Paid || st == claim.PartiallyPaid || st == claim.Denied {
				finals += n
			}
			if n != 1 {
				t.Fatalf("%s: %d %s events (%v)", id, n, st, c)
			}
		}
		if finals != 1 {
			t.Fatalf("%s: %d final events (%v)", id, finals, c)
		}
	}
	_ = ctx
}

// waitFinalEvents is checkEvents once every good claim's final event is on
// the stream, waiting up to limit: a writer killed between storing moves
// and publishing them leaves its events to the outbox sweep.
func waitFinalEvents(t testing.TB, b *bus.Bus, ids []string, bad map[string]bool, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		counts := eventCounts(t, b)
		missing := 0
		for _, id := range ids {
			if bad[id] {
				continue
			}
			finals := 0
			for st, n := range counts[id] {
				if st.Final() || st == claim.Paid || st == claim.PartiallyPaid || st == claim.Denied {
					finals += n
				}
			}
			if finals == 0 {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			checkEvents(t, b, ids, bad)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// eventCounts counts the moves per claim and state in the event stream.
func eventCounts(t testing.TB, b *bus.Bus) map[string]map[claim.State]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := b.JS.Stream(ctx, bus.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := info.State.Msgs
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[claim.State]int{}
	for n := uint64(0); n < total; {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			n++
			var ev reconcile.Event
			if err := json.Unmarshal(m.Data(), &ev); err != nil {
				t.Fatal(err)
			}
			// Every claim of the tests has a payer, rejected or not: its
			// events are routed by it.
			if !containsPayer(ev.PayerID) || m.Subject() != bus.EventSubject(ev.PayerID, string(ev.State)) {
				t.Fatalf("%s: %s event of payer %q on %s", ev.ClaimID, ev.State, ev.PayerID, m.Subject())
			}
			if out[ev.ClaimID] == nil {
				out[ev.ClaimID] = map[claim.State]int{}
			}
			out[ev.ClaimID][ev.State]++
		}
		if got == 0 && batch.Error() != nil {
			t.Fatal(batch.Error())
		}
	}
	return out
}

func containsPayer(id string) bool {
	for _, p := range testPayers {
		if p == id {
			return true
		}
	}
	return false
}

func orStr(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
