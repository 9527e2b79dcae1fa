package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/api"
	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/gateway"
	"github.com/claimgate/claimgate/pkg/ingest"
)

const (
	routeBatches = "/v1/batches"
	routeBatch   = "/v1/batches/{id}"
	routeClaims  = "/v1/claims"
	routeClaim   = "/v1/claims/{id}"
	routeReplace = "/v1/claims/{id}/replace"
	routeVoid    = "/v1/claims/{id}/void"
)

// TestAPI runs every route against a running gateway (embedded NATS,
// the payer simulator over SFTP) through a real HTTP server, and checks
// every answer against api/openapi.json at the end.
func TestAPI(t *testing.T) {
	e := startEnv(t, 512<<10)
	const n, badEvery = 40, 10
	body, ids, bad := csvBatch(t, "API", 1000, n, badEvery)
	var batchID string

	t.Run("health", func(t *testing.T) {
		for _, base := range []string{e.url, e.ops} {
			if r := e.do("GET", base, "/healthz", "/healthz", "", "", nil); r.Status != 200 || !strings.Contains(string(r.Body), `"ok"`) {
				t.Fatalf("healthz %s: %d %s", base, r.Status, r.Body)
			}
			if r := e.do("GET", base, "/readyz", "/readyz", "", "", nil); r.Status != 200 {
				t.Fatalf("readyz %s: %d %s", base, r.Status, r.Body)
			}
		}
		// /metrics: no token on the ops listener; the API's wants one.
		if r := e.do("GET", e.ops, "/metrics", "/metrics", "", "", nil); r.Status != 200 || !strings.Contains(string(r.Body), "claimgate_up 1") {
			t.Fatalf("ops metrics: %d %s", r.Status, r.Body)
		}
		if r := e.do("GET", e.url, "/metrics", "/metrics", "", "", nil); r.Status != 401 {
			t.Fatalf("api metrics without token: %d", r.Status)
		}
		if r := e.do("GET", e.url, "/metrics", "/metrics", tokenOld, "", nil); r.Status != 200 {
			t.Fatalf("api metrics with token: %d", r.Status)
		}
	})

	t.Run("auth", func(t *testing.T) {
		for _, tok := range []string{"", "wrong-token", tokenOld + "x", tokenOld[:len(tokenOld)-1]} {
			r := e.do("GET", e.url, routeClaims, "/v1/claims", tok, "", nil)
			if r.Status != 401 || errCode(t, r) != "unauthorized" {
				t.Fatalf("token %q: %d %s", tok, r.Status, r.Body)
			}
		}
		r := e.do("POST", e.url, routeBatches, "/v1/batches", "", "text/csv", body)
		if r.Status != 401 {
			t.Fatalf("post without token: %d", r.Status)
		}
		// Both the old and the rotated-in token are accepted.
		for _, tok := range []string{tokenOld, tokenNew} {
			if r := e.do("GET", e.url, routeClaims, "/v1/claims", tok, "", nil); r.Status != 200 {
				t.Fatalf("token accepted? %d %s", r.Status, r.Body)
			}
		}
		// Rotation without a restart (serve's SIGHUP): the new list
		// replaces the old at once; an empty one is refused and the
		// tokens in use stay.
		if n, err := e.srv.SetTokens([]string{" rotated-1 ", ""}); err != nil || n != 1 {
			t.Fatalf("SetTokens: %d %v", n, err)
		}
		for tok, want := range map[string]int{tokenOld: 401, tokenNew: 401, "rotated-1": 200} {
			if r := e.do("GET", e.url, routeClaims, "/v1/claims", tok, "", nil); r.Status != want {
				t.Fatalf("after rotation, token %q: %d, want %d", tok, r.Status, want)
			}
		}
		if n, err := e.srv.SetTokens([]string{"", "  "}); !errors.Is(err, api.ErrNoTokens) || n != 1 {
			t.Fatalf("SetTokens of no token: %d %v, want refused", n, err)
		}
		if r := e.do("GET", e.url, routeClaims, "/v1/claims", "", "", nil); r.Status != 401 {
			t.Fatalf("an empty reload opened the API: %d", r.Status)
		}
		if _, err := e.srv.SetTokens([]string{tokenOld, tokenNew}); err != nil {
			t.Fatal(err)
		}
		if r := e.do("GET", e.url, "", "/v2/nothing", tokenNew, "", nil); r.Status != 404 || errCode(t, r) != "not_found" {
			t.Fatalf("unknown route: %d %s", r.Status, r.Body)
		}
		if r := e.do("DELETE", e.url, "", "/v1/batches", tokenNew, "", nil); r.Status != 405 || errCode(t, r) != "method_not_allowed" || r.ContentType != "application/json" {
			t.Fatalf("wrong method: %d %s %s", r.Status, r.ContentType, r.Body)
		}
	})

	t.Run("refused", func(t *testing.T) {
		cases := []struct {
			name, ctype string
			body        []byte
			status      int
			code        string
		}{
			{"no type", "", body, 415, "unsupported_media_type"},
			{"xml", "application/xml", body, 415, "unsupported_media_type"},
			{"csv as json", "application/json", body, 400, "invalid_json"},
			{"json as csv", "text/csv", []byte(`{"batch_id":"x","submitter":{"name":"a","id":"b"},"claims":[]}`), 400, "invalid_batch"},
			{"truncated json", "application/json", []byte(`{"batch_id":"B1","submitter":{"name":"a","id":"b"},"claims":[{"id":"C1"`), 400, "invalid_json"},
			{"not json", "application/json", []byte(`hello there`), 400, "invalid_json"},
			{"bad csv header", "text/csv", []byte("claim_idd,payer_id\nC1,04412\n"), 400, "invalid_batch"},
			{"x12 as csv", "text/csv", []byte("ISA*00*          *00*          *ZZ*A*ZZ*B*250101*1200*^*00501*000000001*0*T*:~"), 400, "invalid_batch"},
			{"too large", "text/csv", append(append([]byte(nil), body...), bytes.Repeat([]byte("Z,"), 300<<10)...), 413, "body_too_large"},
		}
		for _, c := range cases {
			r := e.do("POST", e.url, routeBatches, "/v1/batches", tokenNew, c.ctype, c.body)
			if r.Status != c.status || errCode(t, r) != c.code {
				t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
			}
		}
		if r := e.get(routeBatch, "/v1/batches/"+strings.Repeat("ab", 32), nil); r != 404 {
			t.Errorf("unknown batch: %d", r)
		}
		if r := e.get(routeBatch, "/v1/batches/not-a-digest", nil); r != 404 {
			t.Errorf("malformed batch id: %d", r)
		}
	})

	t.Run("submit", func(t *testing.T) {
		r := e.do("POST", e.url, routeBatches, "/v1/batches", tokenNew, "text/csv; charset=utf-8", body, "Idempotency-Key", "pm-batch-0001")
		if r.Status != 202 {
			t.Fatalf("post: %d %s", r.Status, r.Body)
		}
		var acc api.BatchAccepted
		json.Unmarshal(r.Body, &acc)
		if acc.Duplicate || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(acc.BatchID) || acc.Location != "/v1/batches/"+acc.BatchID {
			t.Fatalf("accepted: %+v", acc)
		}
		batchID = acc.BatchID
		// Same key, same body: the same id, nothing new.
		for _, hdr := range [][]string{{"Idempotency-Key", "pm-batch-0001"}, nil} {
			r := e.do("POST", e.url, routeBatches, "/v1/batches", tokenOld, "text/csv", body, hdr...)
			var again api.BatchAccepted
			json.Unmarshal(r.Body, &again)
			if r.Status != 202 || again.BatchID != batchID || !again.Duplicate {
				t.Fatalf("re-post %v: %d %s", hdr, r.Status, r.Body)
			}
		}
		// The key again with another body is refused.
		other, _, _ := csvBatch(t, "OTH", 5000, 2, 0)
		r = e.do("POST", e.url, routeBatches, "/v1/batches", tokenNew, "text/csv", other, "Idempotency-Key", "pm-batch-0001")
		if r.Status != 409 || errCode(t, r) != "idempotency_key_reused" {
			t.Fatalf("key reused: %d %s", r.Status, r.Body)
		}
	})
	if batchID == "" {
		t.FailNow()
	}

	// Every claim reaches its final state: scrub-rejected, or what the
	// simulator decided.
	waitFor(t, 3*time.Minute, "claims final", func() (bool, string) {
		for _, id := range ids {
			var c api.Claim
			if st := e.get(routeClaim, "/v1/claims/"+url.PathEscape(id), &c); st != 200 {
				return false, fmt.Sprintf("%s: %d", id, st)
			}
			if bad[id] {
				if c.State != "scrub_rejected" {
					return false, id + " " + c.State
				}
				continue
			}
			if !finalState(c.State) {
				return false, id + " " + c.State
			}
		}
		return true, ""
	})

	t.Run("batch status", func(t *testing.T) {
		var st api.BatchStatus
		if s := e.get(routeBatch, "/v1/batches/"+batchID, &st); s != 200 {
			t.Fatalf("status %d", s)
		}
		if st.Status != gateway.BatchDone || st.Claims != n || st.Written != n-n/badEvery || st.Counted != n || st.ReceivedAt == nil || st.Format != "csv" {
			t.Fatalf("batch status: %+v", st)
		}
		// The counts are the claims' current states.
		want := map[string]int{}
		for _, id := range ids {
			rec, err := e.store.Get(context.Background(), id)
			if err != nil || rec == nil {
				t.Fatal(id, err)
			}
			want[string(rec.State)]++
		}
		if fmt.Sprint(want) != fmt.Sprint(st.Counts) {
			t.Fatalf("counts %v, want %v", st.Counts, want)
		}
		// Each bad claim is listed with its row, field and edit.
		got := map[string]bool{}
		for _, rj := range st.Rejected {
			if !bad[rj.ClaimID] || rj.Row < 2 || rj.Edit == "" || rj.Message == "" || !strings.Contains(rj.Field, "npi") {
				t.Fatalf("rejected entry %+v", rj)
			}
			got[rj.ClaimID] = true
		}
		if len(got) != len(bad) {
			t.Fatalf("rejected %v, want %v", got, bad)
		}
		// A server reading at most 25 claims' states per request says
		// its counts are partial.
		small, err := api.New(api.Config{Bus: e.b, Tokens: []string{tokenNew}, MaxCount: 25})
		if err != nil {
			t.Fatal(err)
		}
		r := e.do("GET", serve(t, small.Handler()), routeBatch, "/v1/batches/"+batchID, tokenNew, "", nil)
		var part api.BatchStatus
		json.Unmarshal(r.Body, &part)
		total := 0
		for _, k := range part.Counts {
			total += k
		}
		if r.Status != 200 || !part.Partial || part.Counted != 25 || total != 25 || part.Claims != n {
			t.Fatalf("partial counts: %d %s", r.Status, r.Body)
		}
	})

	t.Run("batch redelivered", func(t *testing.T) {
		// The batch delivered again after its report was done (an ack
		// lost in a crash): the second run finds every claim a
		// duplicate, and the first report stands.
		var before api.BatchStatus
		e.get(routeBatch, "/v1/batches/"+batchID, &before)
		ctx := context.Background()
		data, _ := json.Marshal(gateway.BatchMsg{Digest: batchID, Name: "again", Size: int64(len(body))})
		if _, err := e.b.JS.Publish(ctx, bus.SubjectBatches, data); err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Minute, "redelivered batch ingested", func() (bool, string) {
			st, err := e.b.JS.Stream(ctx, bus.StreamBatches)
			if err != nil {
				return false, err.Error()
			}
			info, err := st.Info(ctx)
			if err != nil {
				return false, err.Error()
			}
			return info.State.Msgs == 0, fmt.Sprint(info.State.Msgs, " messages")
		})
		var after api.BatchStatus
		e.get(routeBatch, "/v1/batches/"+batchID, &after)
		if after.Written != before.Written || len(after.Rejected) != len(before.Rejected) || !after.FinishedAt.Equal(*before.FinishedAt) {
			t.Fatalf("report after a redelivery: %+v, before %+v", after, before)
		}
	})

	t.Run("claim", func(t *testing.T) {
		var paid string
		for _, id := range ids {
			if o, ok := e.sim.outcome(id); ok && o.CLP02 == "1" {
				paid = id
				break
			}
		}
		if paid == "" {
			t.Fatal("no paid claim")
		}
		var c api.Claim
		if s := e.get(routeClaim, "/v1/claims/"+paid, &c); s != 200 {
			t.Fatal(s)
		}
		o, _ := e.sim.outcome(paid)
		if c.ClaimID != paid || c.State != "paid" || c.PayerClaimNumber != o.PayerClaimNumber || c.Amounts == nil ||
			int64(c.Amounts.Paid) != int64(o.Paid) || c.Submission == nil || c.Submission.Interchange == 0 || len(c.Timeline) < 4 {
			t.Fatalf("claim %+v, sim %+v", c, o)
		}
		r := e.do("GET", e.url, routeClaim, "/v1/claims/NO-SUCH-CLAIM", tokenNew, "", nil)
		if r.Status != 404 || errCode(t, r) != "not_found" {
			t.Fatalf("unknown claim: %d %s", r.Status, r.Body)
		}
	})

	t.Run("list", func(t *testing.T) {
		// All pages, 7 at a time: each claim exactly once.
		seen := map[string]int{}
		cursor, pages := "", 0
		for {
			var l api.ClaimList
			p := "/v1/claims?limit=7"
			if cursor != "" {
				p += "&cursor=" + url.QueryEscape(cursor)
			}
			if s := e.get(routeClaims, p, &l); s != 200 {
				t.Fatal(s)
			}
			pages++
			if len(l.Claims) > 7 {
				t.Fatalf("page of %d", len(l.Claims))
			}
			for _, c := range l.Claims {
				seen[c.ClaimID]++
			}
			if l.NextCursor == "" {
				break
			}
			cursor = l.NextCursor
		}
		if len(seen) != n || pages < n/7 {
			t.Fatalf("%d claims in %d pages, want %d", len(seen), pages, n)
		}
		for id, k := range seen {
			if k != 1 {
				t.Fatalf("%s listed %d times", id, k)
			}
		}
		// Filters.
		all := func(q string) []api.ClaimSummary {
			var out []api.ClaimSummary
			cursor := ""
			for {
				var l api.ClaimList
				p := "/v1/claims?limit=1000&" + q
				if cursor != "" {
					p += "&cursor=" + url.QueryEscape(cursor)
				}
				if s := e.get(routeClaims, p, &l); s != 200 {
					t.Fatal(q, s)
				}
				out = append(out, l.Claims...)
				if l.NextCursor == "" {
					return out
				}
				cursor = l.NextCursor
			}
		}
		rej := all("state=scrub_rejected")
		if len(rej) != len(bad) {
			t.Fatalf("state filter: %v", rej)
		}
		for _, c := range rej {
			if !bad[c.ClaimID] || c.State != "scrub_rejected" {
				t.Fatalf("state filter: %+v", c)
			}
		}
		p1 := all("payer=04412")
		if len(p1) != n/2 {
			t.Fatalf("payer filter: %d claims", len(p1))
		}
		for _, c := range p1 {
			if c.Payer != "04412" {
				t.Fatalf("payer filter: %+v", c)
			}
		}
		if got := all("since=" + url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))); len(got) != 0 {
			t.Fatalf("since the future: %d", len(got))
		}
		// Scrub-rejected claims name their payer too (all bad claims
		// are 60054's, odd numbers).
		if got := all("since=2020-01-01T00:00:00Z&payer=60054"); len(got) != n/2 {
			t.Fatalf("since the past: %d", len(got))
		}
		for _, q := range []string{"limit=0", "limit=abc", "since=yesterday", "cursor=%21%21"} {
			r := e.do("GET", e.url, routeClaims, "/v1/claims?"+q, tokenNew, "", nil)
			if r.Status != 400 || errCode(t, r) != "invalid_request" {
				t.Fatalf("%s: %d %s", q, r.Status, r.Body)
			}
		}
	})

	t.Run("corrections", func(t *testing.T) {
		testCorrections(t, e, ids, bad, body)
	})

	t.Run("837P", func(t *testing.T) {
		// A PM system's own 837P: taken as is, re-enveloped per payer (its
		// payers are not configured here, so its claims are rejected with
		// their segment position).
		x12, err := os.ReadFile("../../testdata/837p/moov__example_5010_837p_sample.txt")
		if err != nil {
			t.Fatal(err)
		}
		if r := e.do("POST", e.url, routeBatches, "/v1/batches", tokenNew, "application/json", x12); r.Status != 400 || errCode(t, r) != "invalid_json" {
			t.Fatalf("837P as JSON: %d %s", r.Status, r.Body)
		}
		r := e.do("POST", e.url, routeBatches, "/v1/batches", tokenNew, "application/edi-x12", x12)
		if r.Status != 202 {
			t.Fatalf("837P: %d %s", r.Status, r.Body)
		}
		var acc api.BatchAccepted
		json.Unmarshal(r.Body, &acc)
		var st api.BatchStatus
		waitFor(t, time.Minute, "837P batch done", func() (bool, string) {
			e.get(routeBatch, acc.Location, &st)
			return st.Status == gateway.BatchDone, st.Status
		})
		// This sample repeats a claim id: counts are per claim record.
		if st.Format != "x12" || st.Claims == 0 || st.Counted == 0 || st.Counted > st.Claims || st.Counts["scrub_rejected"] != st.Counted {
			t.Fatalf("837P batch: %+v", st)
		}
		for _, rj := range st.Rejected {
			if rj.Row != 0 || !strings.HasPrefix(rj.Where, "segment ") || rj.Edit == "" {
				t.Fatalf("837P rejected entry: %+v", rj)
			}
		}
	})

	t.Run("openapi", func(t *testing.T) { checkOpenAPI(t, e.rec.all) })

	t.Run("no PHI in logs", func(t *testing.T) {
		logs := e.logs.String()
		for _, id := range ids {
			if strings.Contains(logs, id) {
				t.Fatalf("claim id %s in the log", id)
			}
		}
		for _, s := range []string{tokenOld, tokenNew, "Idempotency", "pm-batch-0001", "ALDER", "Alder"} {
			if strings.Contains(logs, s) {
				t.Fatalf("%q in the log", s)
			}
		}
		if !strings.Contains(logs, "route=\"POST /v1/batches\"") && !strings.Contains(logs, "route=POST") {
			t.Fatalf("no request log lines: %.2000s", logs)
		}
	})
}

func finalState(s string) bool {
	switch claim.State(s) {
	case claim.AckRejected, claim.PayerRejected, claim.Paid, claim.PartiallyPaid, claim.Denied, claim.Reversed:
		return true
	}
	return false
}

// testCorrections: replace and void refused without a payer claim
// number (409), sent with one as a one-claim batch whose 837P carries
// CLM05-3 7/8 and REF*F8 = the payer claim number, linked both ways,
// idempotent.
func testCorrections(t *testing.T, e *env, ids []string, bad map[string]bool, batch []byte) {
	var rejected string
	for id := range bad {
		rejected = id
		break
	}
	for _, route := range []string{routeReplace, routeVoid} {
		p := strings.Replace(route, "{id}", rejected, 1)
		r := e.do("POST", e.url, route, p, tokenNew, "application/json", []byte(`{}`))
		if route == routeReplace {
			r = e.do("POST", e.url, route, p, tokenNew, "application/json", []byte(`{"payer":{"id":"04412"}}`))
		}
		if r.Status != 409 || errCode(t, r) != "no_payer_claim_number" {
			t.Fatalf("%s of a claim without payer claim number: %d %s", route, r.Status, r.Body)
		}
		r = e.do("POST", e.url, route, strings.Replace(route, "{id}", "NO-SUCH", 1), tokenNew, "", nil)
		if r.Status != 404 && !(route == routeReplace && r.Status == 400) {
			t.Fatalf("%s of an unknown claim: %d %s", route, r.Status, r.Body)
		}
	}
	// Two claims the payer numbered (277CA REF*1K).
	var numbered []string
	for _, id := range ids {
		if bad[id] {
			continue
		}
		var c api.Claim
		e.get(routeClaim, "/v1/claims/"+id, &c)
		if c.PayerClaimNumber != "" && c.State == "paid" {
			numbered = append(numbered, id)
		}
	}
	if len(numbered) < 2 {
		t.Fatalf("%d paid claims with a payer claim number", len(numbered))
	}
	voided, replaced := numbered[0], numbered[1]

	// Void: the original claim as submitted, frequency 8.
	r := e.do("POST", e.url, routeVoid, "/v1/claims/"+voided+"/void", tokenNew, "", nil)
	if r.Status != 202 {
		t.Fatalf("void: %d %s", r.Status, r.Body)
	}
	var va api.CorrectionAccepted
	json.Unmarshal(r.Body, &va)
	var orig api.Claim
	e.get(routeClaim, "/v1/claims/"+voided, &orig)
	if va.OriginalClaimID != voided || va.Frequency != "8" || va.OriginalReference != orig.PayerClaimNumber || len(va.ClaimID) > 17 || va.ClaimID == voided || va.Duplicate {
		t.Fatalf("void accepted: %+v", va)
	}
	// Again: the same correction, a duplicate.
	r = e.do("POST", e.url, routeVoid, "/v1/claims/"+voided+"/void", tokenOld, "application/json", []byte("{}"))
	var va2 api.CorrectionAccepted
	json.Unmarshal(r.Body, &va2)
	if r.Status != 202 || va2.ClaimID != va.ClaimID || va2.BatchID != va.BatchID || !va2.Duplicate {
		t.Fatalf("void again: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", e.url, routeVoid, "/v1/claims/"+voided+"/void", tokenNew, "application/json", []byte(`{"x":1}`)); r.Status != 400 {
		t.Fatalf("void with a body: %d", r.Status)
	}

	// Replace: the original claim with a changed charge, as JSON.
	var claimJSON []byte
	_, err := ingest.DecodeCSV(bytes.NewReader(batch), "t", func(res ingest.Result) error {
		if res.Claim.ID == replaced {
			res.Claim.Lines[0].Charge += 100
			claimJSON, _ = json.Marshal(res.Claim)
			return errStop
		}
		return nil
	})
	if claimJSON == nil {
		t.Fatal("claim not in the batch", err)
	}
	for _, c := range []struct {
		ctype  string
		body   string
		status int
		code   string
	}{
		{"application/json", `{"id":`, 400, "invalid_json"},
		{"text/plain", string(claimJSON), 415, "unsupported_media_type"},
		{"application/json", `[1,2]`, 400, "invalid_json"},
		{"application/json", strings.Replace(string(claimJSON), `"procedure":"`, `"procedure":"X`, 1), 400, "invalid_claim"},
		{"application/json", regexp.MustCompile(`"payer":\{"id":"[^"]*"`).ReplaceAllString(string(claimJSON), `"payer":{"id":"OTHER1"`), 400, "invalid_claim"},
	} {
		r := e.do("POST", e.url, routeReplace, "/v1/claims/"+replaced+"/replace", tokenNew, c.ctype, []byte(c.body))
		if r.Status != c.status || errCode(t, r) != c.code {
			t.Fatalf("replace %.40s: %d %s, want %d %s", c.body, r.Status, r.Body, c.status, c.code)
		}
	}
	r = e.do("POST", e.url, routeReplace, "/v1/claims/"+replaced+"/replace", tokenNew, "application/json", claimJSON)
	if r.Status != 202 {
		t.Fatalf("replace: %d %s", r.Status, r.Body)
	}
	var ra api.CorrectionAccepted
	json.Unmarshal(r.Body, &ra)
	if ra.Frequency != "7" || ra.OriginalClaimID != replaced || ra.ClaimID == va.ClaimID || len(ra.ClaimID) > 17 {
		t.Fatalf("replace accepted: %+v", ra)
	}

	// Both corrections reach the payer in an 837P with CLM05-3 and
	// REF*F8, and the claims are linked.
	for _, c := range []api.CorrectionAccepted{va, ra} {
		waitFor(t, 2*time.Minute, "correction at the payer", func() (bool, string) {
			_, ok := e.sim.outcome(c.ClaimID)
			return ok, c.ClaimID
		})
		var cc api.Claim
		if s := e.get(routeClaim, c.ClaimLocation, &cc); s != 200 {
			t.Fatalf("correction claim: %d", s)
		}
		if cc.Corrects == nil || cc.Corrects.ClaimID != c.OriginalClaimID || cc.Corrects.OriginalReference != c.OriginalReference || cc.Submission == nil {
			t.Fatalf("correction claim %+v", cc)
		}
		edi := e.file837(t, cc)
		clm := regexp.MustCompile(`CLM\*` + regexp.QuoteMeta(c.ClaimID) + `\*[^~]*:B:` + c.Frequency + `[*~]`)
		if !clm.MatchString(edi) || !strings.Contains(edi, "REF*F8*"+c.OriginalReference+"~") {
			t.Fatalf("837P of %s lacks CLM05-3 %s or REF*F8*%s:\n%.3000s", c.ClaimID, c.Frequency, c.OriginalReference, edi)
		}
		var o api.Claim
		e.get(routeClaim, "/v1/claims/"+c.OriginalClaimID, &o)
		found := false
		for _, ev := range o.Timeline {
			if ev.Kind == api.KindCorrection && len(ev.Reasons) == 1 && ev.Reasons[0].Text == c.ClaimID {
				found = true
			}
		}
		if !found {
			t.Fatalf("original %s's timeline does not name %s", c.OriginalClaimID, c.ClaimID)
		}
		var bs api.BatchStatus
		if s := e.get(routeBatch, c.Location, &bs); s != 200 || bs.Status == gateway.BatchFailed {
			t.Fatalf("correction batch: %d %+v", s, bs)
		}
		// The payer found the original by REF*F8: a void is answered
		// CLP02 22, a replacement priced as one; the original's payment
		// is reversed in the 835, and the original claim moves to
		// reversed.
		o2, _ := e.sim.outcome(c.ClaimID)
		if c.Frequency == "8" && o2.CLP02 != "22" || c.Frequency == "7" && !slices.Contains(o2.Rules, "replacement") {
			t.Fatalf("the payer did not take %s as a correction: %+v", c.ClaimID, o2)
		}
		waitFor(t, 2*time.Minute, "original reversed", func() (bool, string) {
			var o api.Claim
			e.get(routeClaim, "/v1/claims/"+c.OriginalClaimID, &o)
			return o.State == "reversed", o.State
		})
	}
}

// file837 returns the 837P file a claim was queued in (the object store
// holds it under the digest of its queued event's source).
func (e *env) file837(t *testing.T, c api.Claim) string {
	t.Helper()
	// 837P objects are named by file name (bus.Output).
	var name string
	for _, ev := range c.Timeline {
		if ev.State == claim.Queued {
			name = ev.Source.File
		}
	}
	if name == "" {
		t.Fatalf("claim %s never queued", c.ClaimID)
	}
	obj, err := e.b.JS.ObjectStore(context.Background(), "claimgate_edi")
	if err != nil {
		t.Fatal(err)
	}
	data, err := obj.GetBytes(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(data), "\n", "")
}

// TestCheckListen: without a token the API serves only on loopback.
func TestCheckListen(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:8080": true, "[::1]:8080": true, "localhost:8080": true,
		"0.0.0.0:8080": false, ":8080": false, "192.0.2.7:8080": false} {
		if err := api.CheckListen(addr, nil); (err == nil) != ok {
			t.Errorf("%s without tokens: %v", addr, err)
		}
		if err := api.CheckListen(addr, []string{"t"}); err != nil {
			t.Errorf("%s with a token: %v", addr, err)
		}
	}
	if err := api.CheckListen("0.0.0.0:1", []string{" "}); err == nil {
		t.Error("a blank token counts as none")
	}
}

func TestLoadTokens(t *testing.T) {
	f := t.TempDir() + "/tokens"
	if err := writeFile(f, "# rotated 2025-04\n old-one \n\nnew-one\n"); err != nil {
		t.Fatal(err)
	}
	got, err := api.LoadTokens(f, "env-a, ,env-b")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	if strings.Join(got, "|") != "env-a|env-b|new-one|old-one" {
		t.Fatalf("tokens %q", got)
	}
	if _, err := api.LoadTokens(f+".missing", ""); err == nil {
		t.Fatal("a missing file is an error")
	}
}

func TestCorrectionID(t *testing.T) {
	a := api.CorrectionID("RB-25-0001", "void", []byte("x"))
	if a != api.CorrectionID("RB-25-0001", "void", []byte("x")) {
		t.Fatal("not deterministic")
	}
	seen := map[string]bool{a: true}
	for _, c := range [][3]string{{"RB-25-0001", "void", "y"}, {"RB-25-0001", "replace", "x"}, {"RB-25-0002", "void", "x"},
		{strings.Repeat("Z", 38), "replace", "x"}, {"ÄÖÜÄÖÜÄÖÜÄÖÜ", "void", "x"}} {
		id := api.CorrectionID(c[0], c[1], []byte(c[2]))
		if len(id) > 17 || seen[id] {
			t.Fatalf("%v: %q", c, id)
		}
		seen[id] = true
	}
}

// TestPendingAndReady: before the gateway's streams exist /readyz is
// 503; a batch submitted while no ingest worker runs is pending, with
// its received time.
func TestPendingAndReady(t *testing.T) {
	dir := t.TempDir()
	emb, err := bus.StartEmbedded(bus.EmbeddedConfig{DataDir: filepath.Join(dir, "nats"), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Shutdown)
	ctx := context.Background()
	b, err := bus.Connect(ctx, bus.Options{Embedded: emb})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	srv, err := api.New(api.Config{Bus: b})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, b: b, rec: &recorder{}}
	e.url = serve(t, srv.Handler())
	if r := e.do("GET", e.url, "/readyz", "/readyz", "", "", nil); r.Status != 503 {
		t.Fatalf("readyz before setup: %d %s", r.Status, r.Body)
	}
	g, err := gateway.New(ctx, gateway.Config{DataDir: filepath.Join(dir, "data"), Bus: b})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if r := e.do("GET", e.url, "/readyz", "/readyz", "", "", nil); r.Status != 200 {
		t.Fatalf("readyz after setup: %d %s", r.Status, r.Body)
	}
	// No tokens configured: the API is open (loopback only, CheckListen).
	body, _, _ := csvBatch(t, "PEN", 0, 3, 0)
	before := time.Now().UTC().Add(-time.Second)
	r := e.do("POST", e.url, routeBatches, "/v1/batches", "", "text/csv", body)
	if r.Status != 202 {
		t.Fatalf("post: %d %s", r.Status, r.Body)
	}
	var acc api.BatchAccepted
	json.Unmarshal(r.Body, &acc)
	var st api.BatchStatus
	if s := e.get(routeBatch, acc.Location, &st); s != 200 {
		t.Fatalf("status %d", s)
	}
	if st.Status != gateway.BatchPending || st.ReceivedAt == nil || st.ReceivedAt.Before(before) || st.Claims != 0 || len(st.Counts) != 0 {
		t.Fatalf("pending batch: %+v", st)
	}
	checkOpenAPIPartial(t, e.rec.all)
}
