package reconcile

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x835"
	"github.com/claimgate/claimgate/edi/x999"
	"github.com/claimgate/claimgate/pkg/claim"
)

// validate checks v (decoded JSON) against node of the schema: the subset
// of JSON Schema 2020-12 the event schema uses (type, enum, required,
// properties, additionalProperties false, items, $ref to $defs, pattern,
// minLength, minimum, format date-time and date).
func validate(root, node map[string]any, v any, path string) []string {
	if ref, ok := node["$ref"].(string); ok {
		name, _ := strings.CutPrefix(ref, "#/$defs/")
		def, ok := root["$defs"].(map[string]any)[name].(map[string]any)
		if !ok {
			return []string{path + ": unresolved $ref " + ref}
		}
		return validate(root, def, v, path)
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	if enum, ok := node["enum"].([]any); ok && !slices.Contains(enum, v) {
		bad("%v is not one of %v", v, enum)
	}
	switch node["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			bad("not an object")
			return errs
		}
		props, _ := node["properties"].(map[string]any)
		for _, r := range node["required"].([]any) {
			if _, ok := m[r.(string)]; !ok {
				bad("required %q missing", r)
			}
		}
		for k, val := range m {
			p, ok := props[k].(map[string]any)
			if !ok {
				if node["additionalProperties"] == false {
					bad("property %q not in the schema", k)
				}
				continue
			}
			errs = append(errs, validate(root, p, val, path+"."+k)...)
		}
	case "array":
		l, ok := v.([]any)
		if !ok {
			bad("not an array")
			return errs
		}
		for i, x := range l {
			errs = append(errs, validate(root, node["items"].(map[string]any), x, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			bad("not a string")
			return errs
		}
		if p, ok := node["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(s) {
			bad("%q does not match %s", s, p)
		}
		if n, ok := node["minLength"].(float64); ok && len(s) < int(n) {
			bad("shorter than %v", n)
		}
		layout := map[any]string{"date-time": time.RFC3339Nano, "date": time.DateOnly}[node["format"]]
		if _, err := time.Parse(layout, s); layout != "" && err != nil {
			bad("%q is not a %s", s, node["format"])
		}
	case "integer", "number":
		f, ok := v.(float64)
		if !ok || node["type"] == "integer" && f != float64(int64(f)) {
			bad("%v is not a %s", v, node["type"])
			return errs
		}
		if m, ok := node["minimum"].(float64); ok && f < m {
			bad("%v below %v", f, m)
		}
	}
	return errs
}

func schemaRoot(t *testing.T) map[string]any {
	var root map[string]any
	if err := json.Unmarshal(EventSchema(), &root); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	return root
}

func checkEvent(t *testing.T, root map[string]any, ev any) []string {
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return validate(root, root, v, "event")
}

// Every event the lifecycle produces (published moves and recorded
// timeline entries, of every kind) is valid against the schema.
func TestEventsMatchSchema(t *testing.T) {
	root := schemaRoot(t)
	h := newHarness(t)
	fiN := h.sub.files[payerNoridian]
	h.apply("t.ta1", fileTA1(t, isaAetna, h.sub.files[payerUHC].Interchange, "R", "024"))
	h.apply("t.999", file999(t, isaNoridian, x999Build(h)))
	h.apply("t.277", file277(t, isaNoridian, payerNoridian, fiN.Sets[0].Reference,
		verdict277("P1", "accepted", "", "", "PCN-P1"), verdict277("P2", "rejected", "A7", "21", ""), verdict277("P3", "received", "A1", "19", "")))
	h.apply("t.835", file835(t, isaNoridian, remittance(payerNoridian, "EFT1", genClaimFor("P1", 0), genClaimFor("P3", 1), genClaimFor("P4", 2), genClaimFor("P5", 3))))
	kinds := map[Kind]bool{}
	n := 0
	for _, id := range []string{"P1", "P2", "P3", "P4", "P5", "R1", "U1"} {
		for _, ev := range h.record(id).Timeline {
			kinds[ev.Kind] = true
			n++
			for _, e := range checkEvent(t, root, ev) {
				t.Errorf("%s %s: %s", id, ev.Kind, e)
			}
		}
	}
	for _, ev := range h.store.Published {
		for _, e := range checkEvent(t, root, ev) {
			t.Errorf("published %s: %s", ev.ClaimID, e)
		}
	}
	if len(kinds) != 4 || n < 12 {
		t.Errorf("checked %d events of kinds %v, want all four kinds", n, kinds)
	}
}

// The check can fail: a missing id, a field the schema does not know, a
// wrong type and an unknown state are each caught.
func TestSchemaCatches(t *testing.T) {
	root := schemaRoot(t)
	good := Event{ID: EventID("d", 1, "C1"), ClaimID: "C1", PayerID: "P", Kind: Kind835, State: claim.Paid, Time: testNow,
		Source: Source{File: "f", Digest: "d", Position: 1}, Amounts: &Amounts{Billed: 100, Paid: 100}}
	if errs := checkEvent(t, root, good); len(errs) != 0 {
		t.Fatalf("good event: %v", errs)
	}
	for name, edit := range map[string]func(m map[string]any){
		"no id":         func(m map[string]any) { delete(m, "id") },
		"extra field":   func(m map[string]any) { m["patient_name"] = "DOE" },
		"position type": func(m map[string]any) { m["source"].(map[string]any)["position"] = "1" },
		"unknown state": func(m map[string]any) { m["state"] = "lost" },
		"bad time":      func(m map[string]any) { m["time"] = "yesterday" },
	} {
		b, _ := json.Marshal(good)
		var m map[string]any
		json.Unmarshal(b, &m)
		edit(m)
		if errs := validate(root, root, m, "event"); len(errs) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
}

func x999Build(h *harness) *x999.GroupResponse {
	return x999.Build("HC", h.group(payerNoridian), "005010X222A1", []x999.SetResponse{
		{ID: "837", Control: "0001"},
		{ID: "837", Control: "0002", SegmentErrors: []x999.SegmentError{{SegmentID: "NM1", Position: 12, Loop: "2010BA", Code: "8",
			Elements: []x999.ElementError{{Position: x999.ElementPosition{Element: 9, Component: 1}, Reference: "67", Code: "7"}}}}},
	})
}

// genClaimFor is generated claim i (paid, partial, denied, deductible)
// under another claim id.
func genClaimFor(id string, i int) *x835.ClaimPayment {
	c := genClaim(i)
	c.PatientControlNumber = id
	for k := range c.Lines {
		c.Lines[k].ControlNumber = fmt.Sprintf("%s-%d", id, k+1)
	}
	return c
}

// The example event in docs/reconcile.md is valid, and decodes into an
// Event.
func TestDocExampleMatchesSchema(t *testing.T) {
	doc, err := os.ReadFile("../../docs/reconcile.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```json\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no json block in docs/reconcile.md")
	}
	var v any
	if err := json.Unmarshal([]byte(block), &v); err != nil {
		t.Fatalf("example is not JSON: %v", err)
	}
	root := schemaRoot(t)
	for _, e := range validate(root, root, v, "example") {
		t.Error(e)
	}
	var ev Event
	if err := json.Unmarshal([]byte(block), &ev); err != nil || ev.State != claim.PartiallyPaid || len(ev.Lines) != 2 {
		t.Errorf("example as Event: %+v, %v", ev, err)
	}
}
