package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/claimgate/claimgate/pkg/claim"
)

// schemaDoc is the parsed batch schema, with just enough of JSON Schema
// 2020-12 to walk and apply the keywords it uses.
type schemaDoc struct{ root map[string]any }

func loadSchema(t testing.TB) schemaDoc {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(JSONSchema(), &root); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	return schemaDoc{root}
}

func (s schemaDoc) ref(ref string) map[string]any {
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	if !ok {
		panic("unsupported $ref " + ref)
	}
	def, ok := s.root["$defs"].(map[string]any)[name].(map[string]any)
	if !ok {
		panic("no $defs/" + name)
	}
	return def
}

// flatten returns node and every schema it pulls in through $ref and
// allOf (not the conditional ones under if/then).
func (s schemaDoc) flatten(node map[string]any) []map[string]any {
	out := []map[string]any{node}
	if r, ok := node["$ref"].(string); ok {
		out = append(out, s.flatten(s.ref(r))...)
	}
	for _, sub := range asList(node["allOf"]) {
		if m := sub.(map[string]any); m["if"] == nil {
			out = append(out, s.flatten(m)...)
		}
	}
	return out
}

func asList(v any) []any { l, _ := v.([]any); return l }

// properties returns the properties node allows, each as the allOf of
// every schema that constrains it.
func (s schemaDoc) properties(node map[string]any) map[string]map[string]any {
	all := map[string][]any{}
	for _, n := range s.flatten(node) {
		ps, _ := n["properties"].(map[string]any)
		for k, v := range ps {
			all[k] = append(all[k], v)
		}
	}
	props := map[string]map[string]any{}
	for k, l := range all {
		props[k] = map[string]any{"allOf": l}
	}
	return props
}

func (s schemaDoc) required(node map[string]any) []string {
	var req []string
	for _, n := range s.flatten(node) {
		for _, r := range asList(n["required"]) {
			req = append(req, r.(string))
		}
	}
	return req
}

// types returns the JSON types node allows, from "type" or from the
// values of "enum".
func (s schemaDoc) types(node map[string]any) []string {
	set := map[string]bool{}
	for _, n := range s.flatten(node) {
		switch t := n["type"].(type) {
		case string:
			set[t] = true
		case []any:
			for _, x := range t {
				set[x.(string)] = true
			}
		}
		for _, e := range asList(n["enum"]) {
			set[jsonType(e)] = true
		}
	}
	var out []string
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func (s schemaDoc) items(node map[string]any) map[string]any {
	for _, n := range s.flatten(node) {
		if it, ok := n["items"].(map[string]any); ok {
			return it
		}
	}
	return nil
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if x == math.Trunc(x) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	panic(fmt.Sprintf("jsonType %T", v))
}

// matchStruct checks that the schema node describes Go type t exactly:
// the same property names as t's json tags, at every depth, with
// compatible types.
func (s schemaDoc) matchStruct(errorf func(string, ...any), typ reflect.Type, node map[string]any, path string) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	types := s.types(node)
	switch {
	case typ == reflect.TypeFor[claim.Money]():
		if !reflect.DeepEqual(types, []string{"number", "string"}) {
			errorf("%s: Money must be a number or a string, schema says %v", path, types)
		}
	case typ == reflect.TypeFor[claim.Date]():
		if !slices.Contains(types, "string") || slices.ContainsFunc(types, func(x string) bool { return x != "string" && x != "null" }) {
			errorf("%s: Date must be a string (or null), schema says %v", path, types)
		}
	case typ.Kind() == reflect.Struct:
		if !reflect.DeepEqual(types, []string{"object"}) {
			errorf("%s: %s must be an object, schema says %v", path, typ, types)
		}
		closed := false
		for _, n := range s.flatten(node) {
			if n["additionalProperties"] == false {
				closed = true
			}
		}
		if !closed {
			errorf("%s: schema allows additional properties", path)
		}
		props := s.properties(node)
		var goNames, schemaNames []string
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			name := jsonName(f)
			if name == "" {
				continue
			}
			goNames = append(goNames, name)
			p, ok := props[name]
			if !ok {
				continue
			}
			s.matchStruct(errorf, f.Type, p, path+"."+name)
		}
		for name := range props {
			schemaNames = append(schemaNames, name)
		}
		sort.Strings(goNames)
		sort.Strings(schemaNames)
		if !reflect.DeepEqual(goNames, schemaNames) {
			errorf("%s: %s has json fields %v, schema has %v", path, typ, goNames, schemaNames)
		}
		for _, r := range s.required(node) {
			if _, ok := props[r]; !ok {
				errorf("%s: required %q is not a property", path, r)
			}
		}
	case typ.Kind() == reflect.Slice:
		if !reflect.DeepEqual(types, []string{"array"}) {
			errorf("%s: slice must be an array, schema says %v", path, types)
		}
		items := s.items(node)
		if items == nil {
			errorf("%s: array without items", path)
			return
		}
		s.matchStruct(errorf, typ.Elem(), items, path+"[]")
	case typ.Kind() == reflect.String:
		if !reflect.DeepEqual(types, []string{"string"}) {
			errorf("%s: string field, schema says %v", path, types)
		}
	case typ.Kind() == reflect.Int:
		if !reflect.DeepEqual(types, []string{"integer"}) {
			errorf("%s: int field, schema says %v", path, types)
		}
	default:
		errorf("%s: no schema rule for Go type %s", path, typ)
	}
}

// The schema and the json tags of pkg/claim must not drift apart.
func TestSchemaMatchesGoTypes(t *testing.T) {
	s := loadSchema(t)
	root := s.root
	if root["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", root["$schema"])
	}
	props := s.properties(root)
	header := reflect.TypeFor[Header]()
	for i := 0; i < header.NumField(); i++ {
		name := jsonName(header.Field(i))
		p, ok := props[name]
		if !ok {
			t.Errorf("batch property %s missing", name)
			continue
		}
		s.matchStruct(t.Errorf, header.Field(i).Type, p, name)
	}
	if len(props) != header.NumField()+2 { // + claims, $schema
		t.Errorf("batch properties %v", slices.Sorted(func(yield func(string) bool) {
			for k := range props {
				if !yield(k) {
					return
				}
			}
		}))
	}
	s.matchStruct(t.Errorf, reflect.TypeFor[[]claim.Claim](), props["claims"], "claims")
}

// The rule checker must itself catch drift: a Go type with a field the
// schema lacks fails.
func TestSchemaMatchCatchesDrift(t *testing.T) {
	s := loadSchema(t)
	var complaints []string
	errorf := func(format string, args ...any) { complaints = append(complaints, fmt.Sprintf(format, args...)) }
	s.matchStruct(errorf, reflect.TypeFor[struct {
		Last  string `json:"last"`
		First int    `json:"first,omitempty"`
		Extra string `json:"extra"`
	}](), s.ref("#/$defs/name"), "name")
	if len(complaints) != 2 { // first's type; extra, middle and suffix in one
		t.Errorf("drift not caught: %q", complaints)
	}
}

func TestJSONSchemaIsTheFile(t *testing.T) {
	b, err := os.ReadFile("schema/batch.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, JSONSchema()) {
		t.Error("embedded schema differs from the file")
	}
}

// validate applies the schema keywords to instance v, appending
// violations to errs. It fails on keywords it does not implement, so
// that a schema edit cannot silently escape the tests.
func (s schemaDoc) validate(node map[string]any, v any, path string, errs *[]string) {
	fail := func(format string, args ...any) {
		*errs = append(*errs, path+": "+fmt.Sprintf(format, args...))
	}
	for kw, arg := range node {
		switch kw {
		case "$schema", "$id", "title", "description", "$defs", "then":
		case "$ref":
			s.validate(s.ref(arg.(string)), v, path, errs)
		case "type":
			var allowed []string
			switch a := arg.(type) {
			case string:
				allowed = []string{a}
			case []any:
				for _, x := range a {
					allowed = append(allowed, x.(string))
				}
			}
			got := jsonType(v)
			if !slices.Contains(allowed, got) && !(got == "integer" && slices.Contains(allowed, "number")) {
				fail("is %s, want %v", got, allowed)
			}
		case "enum":
			if !slices.ContainsFunc(asList(arg), func(e any) bool { return reflect.DeepEqual(e, v) }) {
				fail("%v is not one of %v", v, arg)
			}
		case "const":
			if !reflect.DeepEqual(arg, v) {
				fail("%v is not %v", v, arg)
			}
		case "pattern":
			if str, ok := v.(string); ok && !regexp.MustCompile(arg.(string)).MatchString(str) {
				fail("%q does not match %s", str, arg)
			}
		case "minLength", "maxLength":
			if str, ok := v.(string); ok {
				n := float64(utf8.RuneCountInString(str))
				if (kw == "minLength" && n < arg.(float64)) || (kw == "maxLength" && n > arg.(float64)) {
					fail("length %v breaks %s %v", n, kw, arg)
				}
			}
		case "minimum", "maximum":
			if n, ok := v.(float64); ok && ((kw == "minimum" && n < arg.(float64)) || (kw == "maximum" && n > arg.(float64))) {
				fail("%v breaks %s %v", n, kw, arg)
			}
		case "minItems", "maxItems":
			if a, ok := v.([]any); ok {
				n := float64(len(a))
				if (kw == "minItems" && n < arg.(float64)) || (kw == "maxItems" && n > arg.(float64)) {
					fail("%v items break %s %v", n, kw, arg)
				}
			}
		case "items":
			for i, e := range asList(v) {
				s.validate(arg.(map[string]any), e, fmt.Sprintf("%s[%d]", path, i), errs)
			}
		case "required":
			if m, ok := v.(map[string]any); ok {
				for _, r := range asList(arg) {
					if _, ok := m[r.(string)]; !ok {
						fail("missing %s", r)
					}
				}
			}
		case "properties":
			if m, ok := v.(map[string]any); ok {
				for k, sub := range arg.(map[string]any) {
					if x, ok := m[k]; ok {
						s.validate(sub.(map[string]any), x, path+"."+k, errs)
					}
				}
			}
		case "additionalProperties":
			if arg != false {
				panic("additionalProperties other than false")
			}
			if m, ok := v.(map[string]any); ok {
				props, _ := node["properties"].(map[string]any)
				for k := range m {
					if _, ok := props[k]; !ok {
						fail("unknown property %s", k)
					}
				}
			}
		case "allOf":
			for _, sub := range asList(arg) {
				s.validate(sub.(map[string]any), v, path, errs)
			}
		case "not":
			var sub []string
			if s.validate(arg.(map[string]any), v, path, &sub); len(sub) == 0 {
				fail("matches a schema it must not")
			}
		case "if":
			var sub []string
			if s.validate(arg.(map[string]any), v, path, &sub); len(sub) == 0 {
				if then, ok := node["then"].(map[string]any); ok {
					s.validate(then, v, path, errs)
				}
			}
		default:
			panic("the test validator does not implement keyword " + kw)
		}
	}
}

func (s schemaDoc) check(v any) []string {
	var errs []string
	s.validate(s.root, v, "$", &errs)
	return errs
}

func asTree(t testing.TB, b []byte) any {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSampleMatchesSchema(t *testing.T) {
	s := loadSchema(t)
	if errs := s.check(asTree(t, readTestdata(t, "pt_batch.json"))); len(errs) > 0 {
		t.Errorf("sample batch breaks the schema:\n%s", strings.Join(errs, "\n"))
	}
}

// What the decoder emits, written back as JSON by encoding/json, is a
// valid batch: other services can hand claims on in this format.
func TestDecodedClaimsMatchSchema(t *testing.T) {
	s := loadSchema(t)
	for _, f := range []struct {
		format Format
		file   string
	}{{FormatJSON, "pt_batch.json"}, {FormatCSV, "pt_batch.csv"}} {
		d := decodeBytes(t, f.format, readTestdata(t, f.file))
		var claims []*claim.Claim
		for _, r := range d.results {
			claims = append(claims, r.Claim)
		}
		batch := map[string]any{"batch_id": "B1", "submitter": Submitter{Name: "N", ID: "S"}, "claims": claims}
		if errs := s.check(asTree(t, mustJSON(t, batch))); len(errs) > 0 {
			t.Errorf("%s: re-encoded claims break the schema:\n%s", f.file, strings.Join(errs, "\n"))
		}
	}
}

// The schema is not a rubber stamp: values the decoder refuses break it
// too.
func TestSchemaRejects(t *testing.T) {
	s := loadSchema(t)
	for _, tc := range []struct{ path, value string }{
		{"claims[0].lines[0].procedure", `"9711"`},
		{"claims[0].lines[0].units", `0`},
		{"claims[0].lines[0].modifiers", `["GPX"]`},
		{"claims[0].lines[0].charge", `"$98"`},
		{"claims[0].lines[0].service_date", `"03/03/2025"`},
		{"claims[0].diagnoses", `["54.50"]`},
		{"claims[0].frequency", `"7"`}, // without original_reference
		{"claims[3].frequency", `"1"`}, // with original_reference
		{"claims[0].subscriber.gender", `""`},
		{"claims[1].patient.relationship", `"18"`},
		{"claims[0].billing_provider.npi", `"123"`},
		{"claims[0].billing_provider.address.zip", `""`},
		{"claims[0].extra", `1`},
	} {
		m := goodJSON(t)
		setPath(t, m, tc.path, asTree(t, []byte(tc.value)), false)
		if errs := s.check(asTree(t, mustJSON(t, m))); len(errs) == 0 {
			t.Errorf("schema accepts %s = %s", tc.path, tc.value)
		}
	}
}

// fullClaim is the sample's first claim with every optional part filled
// in, so that every required key of the schema is present somewhere.
func fullClaim(t *testing.T, m map[string]any) {
	t.Helper()
	extra := `{
		"pay_to_provider": {"entity": "2", "name": {"last": "Riverbend PT Lockbox"},
			"address": {"line1": "PO Box 9000", "city": "Portland", "state": "OR", "zip": "97208"}},
		"service_facility": {"name": "Riverbend PT Eastside", "npi": "1987654328",
			"address": {"line1": "88 Burnside St", "city": "Gresham", "state": "OR", "zip": "97030"}},
		"other_payers": [{
			"payer": {"id": "SUPP1", "name": "Medigap Plan G"},
			"sequence": "S", "relationship": "18", "filing_code": "CI",
			"subscriber": {"member_id": "MG7781", "name": {"last": "Lindqvist", "first": "Harold"}},
			"paid": 0,
			"adjustments": [{"group": "PR", "reason": "1", "amount": 40.00}]
		}]
	}`
	for k, v := range asTree(t, []byte(extra)).(map[string]any) {
		setPath(t, m, "claims[0]."+k, v, false)
	}
}

// Every key the schema requires, the decoder requires too: taking any
// one of them out of a good claim gets that claim rejected on that
// field.
func TestSchemaRequiredKeysAreEnforced(t *testing.T) {
	s := loadSchema(t)
	m := goodJSON(t)
	fullClaim(t, m)
	if d := decodeBytes(t, FormatJSON, mustJSON(t, m)); len(d.sum.Errors) != 0 {
		t.Fatalf("full claim refused:%s", d.dump())
	}
	if errs := s.check(asTree(t, mustJSON(t, m))); len(errs) > 0 {
		t.Fatalf("full claim breaks the schema: %v", errs)
	}
	claimDef := s.ref("#/$defs/claim")
	var paths []struct {
		claim int
		path  string
	}
	var walk func(i int, node map[string]any, v any, path string)
	walk = func(i int, node map[string]any, v any, path string) {
		switch x := v.(type) {
		case map[string]any:
			props := s.properties(node)
			for _, r := range s.required(node) {
				if _, ok := x[r]; ok {
					paths = append(paths, struct {
						claim int
						path  string
					}{i, strings.TrimPrefix(path+"."+r, ".")})
				}
			}
			for k, sub := range x {
				if p, ok := props[k]; ok {
					walk(i, p, sub, path+"."+k)
				}
			}
		case []any:
			if it := s.items(node); it != nil && len(x) > 0 {
				walk(i, it, x[0], path+"[0]")
			}
		}
	}
	claims := m["claims"].([]any)
	walk(0, claimDef, claims[0], "")
	walk(1, claimDef, claims[1], "") // the patient loop
	t.Logf("%d required keys", len(paths))
	if len(paths) < 40 {
		t.Fatalf("only %d required paths found", len(paths))
	}
	for _, p := range paths {
		mm := goodJSON(t)
		fullClaim(t, mm)
		setPath(t, mm, fmt.Sprintf("claims[%d].%s", p.claim, p.path), nil, true)
		d := decodeBytes(t, FormatJSON, mustJSON(t, mm))
		id := sampleIDs[p.claim]
		ok := false
		for _, e := range d.sum.Errors {
			if e.Index == p.claim && (e.Field == p.path || strings.HasPrefix(e.Field, p.path+".") || strings.HasPrefix(e.Field, p.path+"[")) {
				ok = true
			}
		}
		if !ok || len(d.results) != 3 {
			t.Errorf("without %s, claim %s: emitted %v%s", p.path, id, d.ids(), d.dump())
		}
	}
}
