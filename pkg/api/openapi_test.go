package api_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The OpenAPI document (JSON, so no YAML dependency), checked against
// what the server answers: every request the tests made names a
// documented path and method, its status is documented for it, and its
// JSON body validates against the documented schema (a small validator
// for the JSON Schema subset the document uses). Every documented
// operation must have been exercised.

const openAPIFile = "../../api/openapi.json"

type openAPI struct {
	Paths      map[string]map[string]operation `json:"paths"`
	Components struct {
		Schemas   map[string]json.RawMessage `json:"schemas"`
		Responses map[string]responseDoc     `json:"responses"`
	} `json:"components"`
}

type operation struct {
	Responses map[string]responseDoc `json:"responses"`
}

type responseDoc struct {
	Ref     string `json:"$ref"`
	Content map[string]struct {
		Schema json.RawMessage `json:"schema"`
	} `json:"content"`
}

func loadOpenAPI(t testing.TB) *openAPI {
	t.Helper()
	data, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", openAPIFile, err)
	}
	return &doc
}

func checkOpenAPI(t *testing.T, all []response) {
	if used := checkAnswers(t, all); !t.Failed() {
		checkCoverage(t, used)
	}
}

// checkOpenAPIPartial checks the answers only (a test exercising a few
// routes).
func checkOpenAPIPartial(t testing.TB, all []response) { checkAnswers(t, all) }

func checkAnswers(t testing.TB, all []response) map[string]bool {
	t.Helper()
	doc := loadOpenAPI(t)
	used := map[string]bool{}
	for _, r := range all {
		if r.Route == "" {
			continue // a route the API does not have (404 check)
		}
		ops, ok := doc.Paths[r.Route]
		if !ok {
			t.Errorf("%s %s: path %s not documented", r.Method, r.Path, r.Route)
			continue
		}
		op, ok := ops[strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("%s %s: method not documented for %s", r.Method, r.Path, r.Route)
			continue
		}
		used[r.Method+" "+r.Route] = true
		rd, ok := op.Responses[strconv.Itoa(r.Status)]
		if !ok {
			t.Errorf("%s %s: status %d not documented (body %.200s)", r.Method, r.Path, r.Status, r.Body)
			continue
		}
		if rd.Ref != "" {
			rd = doc.Components.Responses[strings.TrimPrefix(rd.Ref, "#/components/responses/")]
		}
		ct := strings.TrimSpace(strings.Split(r.ContentType, ";")[0])
		media, ok := rd.Content[ct]
		if !ok {
			t.Errorf("%s %s %d: content type %q not documented", r.Method, r.Path, r.Status, ct)
			continue
		}
		if ct != "application/json" {
			continue
		}
		var body any
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Errorf("%s %s %d: body is not JSON: %v", r.Method, r.Path, r.Status, err)
			continue
		}
		if err := validate(doc, media.Schema, body, "$"); err != nil {
			t.Errorf("%s %s %d: %v\nbody: %.500s", r.Method, r.Path, r.Status, err, r.Body)
		}
	}
	return used
}

// checkCoverage wants every documented operation exercised.
func checkCoverage(t *testing.T, used map[string]bool) {
	t.Helper()
	doc := loadOpenAPI(t)
	var missing []string
	for p, ops := range doc.Paths {
		for m := range ops {
			if !used[strings.ToUpper(m)+" "+p] {
				missing = append(missing, strings.ToUpper(m)+" "+p)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("documented but never exercised: %v", missing)
	}
}

// validate checks v against a JSON Schema: $ref, type (one or a list),
// enum, properties, required, additionalProperties, items, pattern,
// maxLength, format date-time.
func validate(doc *openAPI, raw json.RawMessage, v any, at string) error {
	var s struct {
		Ref        string                     `json:"$ref"`
		Type       any                        `json:"type"`
		Enum       []any                      `json:"enum"`
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
		AddProps   json.RawMessage            `json:"additionalProperties"`
		Items      json.RawMessage            `json:"items"`
		Pattern    string                     `json:"pattern"`
		MaxLength  *int                       `json:"maxLength"`
		Format     string                     `json:"format"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("%s: bad schema: %v", at, err)
	}
	if s.Ref != "" {
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		ref, ok := doc.Components.Schemas[name]
		if !ok {
			return fmt.Errorf("%s: unknown $ref %s", at, s.Ref)
		}
		return validate(doc, ref, v, at)
	}
	if s.Type != nil {
		var types []string
		switch x := s.Type.(type) {
		case string:
			types = []string{x}
		case []any:
			for _, y := range x {
				types = append(types, y.(string))
			}
		}
		ok := false
		for _, ty := range types {
			if typeOK(ty, v) {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("%s: %T is not %v", at, v, types)
		}
	}
	if v == nil {
		return nil
	}
	if s.Enum != nil {
		ok := false
		for _, e := range s.Enum {
			if e == v {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("%s: %v not in %v", at, v, s.Enum)
		}
	}
	switch x := v.(type) {
	case string:
		if s.Pattern != "" && !regexp.MustCompile(s.Pattern).MatchString(x) {
			return fmt.Errorf("%s: %q does not match %s", at, x, s.Pattern)
		}
		if s.MaxLength != nil && len([]rune(x)) > *s.MaxLength {
			return fmt.Errorf("%s: %q longer than %d", at, x, *s.MaxLength)
		}
		if s.Format == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, x); err != nil {
				return fmt.Errorf("%s: %q is not a date-time", at, x)
			}
		}
	case map[string]any:
		for _, k := range s.Required {
			if _, ok := x[k]; !ok {
				return fmt.Errorf("%s: %s is required", at, k)
			}
		}
		for k, val := range x {
			if ps, ok := s.Properties[k]; ok {
				if err := validate(doc, ps, val, at+"."+k); err != nil {
					return err
				}
				continue
			}
			switch strings.TrimSpace(string(s.AddProps)) {
			case "", "true":
			case "false":
				return fmt.Errorf("%s: property %s is not in the schema", at, k)
			default:
				if err := validate(doc, s.AddProps, val, at+"."+k); err != nil {
					return err
				}
			}
		}
	case []any:
		if s.Items != nil {
			for i, it := range x {
				if err := validate(doc, s.Items, it, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func typeOK(ty string, v any) bool {
	switch ty {
	case "null":
		return v == nil
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	}
	return false
}

// TestOpenAPIValidator: the validator refuses what it should, so the
// check above can fail.
func TestOpenAPIValidator(t *testing.T) {
	doc := loadOpenAPI(t)
	ref := func(name string) json.RawMessage {
		return json.RawMessage(`{"$ref":"#/components/schemas/` + name + `"}`)
	}
	bad := []struct {
		schema string
		body   string
	}{
		{"Error", `{"error":{"code":"nope","message":"m"}}`},
		{"Error", `{"error":{"code":"not_found"}}`},
		{"Error", `{"error":{"code":"not_found","message":"m","extra":1}}`},
		{"BatchAccepted", `{"batch_id":"xyz","location":"/","duplicate":false}`},
		{"ClaimList", `{"claims":[{"claim_id":"a","payer":"p","state":"paid","updated":"yesterday"}],"next_cursor":""}`},
		{"BatchStatus", `{"batch_id":"b","status":"done","received_at":null,"claims":1.5,"written":0,"counts":{},"counted":0,"rejected":[]}`},
		{"BatchStatus", `{"batch_id":"b","status":"done","received_at":null,"claims":1,"written":0,"counts":{"paid":"x"},"counted":0,"rejected":[]}`},
	}
	for _, c := range bad {
		var v any
		if err := json.Unmarshal([]byte(c.body), &v); err != nil {
			t.Fatal(err)
		}
		if err := validate(doc, ref(c.schema), v, "$"); err == nil {
			t.Errorf("%s accepted %s", c.schema, c.body)
		}
	}
	var v any
	json.Unmarshal([]byte(`{"batch_id":"b","status":"pending","received_at":"2025-04-01T12:00:00Z","claims":0,"written":0,"counts":{"paid":2},"counted":2,"rejected":[]}`), &v)
	if err := validate(doc, ref("BatchStatus"), v, "$"); err != nil {
		t.Errorf("a good status refused: %v", err)
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }
