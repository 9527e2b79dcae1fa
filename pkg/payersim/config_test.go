package payersim

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestExampleConfig: the example shipped in deploy/ is the embedded one
// and loads.
func TestExampleConfig(t *testing.T) {
	deploy, err := os.ReadFile("../../deploy/payersim.example.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(deploy, exampleJSON) {
		t.Fatal("deploy/payersim.example.json differs from pkg/payersim/example.json")
	}
	c := ExampleConfig()
	if len(c.Payers) != 2 || c.Payers[1].Inbound != "to-payer" || c.Payers[0].FeeSchedule["97110"] != 3150 {
		t.Fatalf("example config read as %+v", c.Payers)
	}
	if !c.Payers[1].policy.PriorAuth.Required || !c.Payers[0].policy.KX {
		t.Error("policies: the commercial payer wants prior auth, the Medicare one the Medicare policy")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"payers":[{"id":"1"}],"colour":"red"}`, `unknown field "colour"`},
		{`{"payers":[{"id":"1","fee_schedul":{}}]}`, `unknown field "fee_schedul"`},
		{`{"payers":[{"id":"1","policy":{"requre_gp":true}}]}`, `unknown field "requre_gp"`},
		{`{"payers":[]}`, "no payers"},
		{`{"payers":[{"name":"X"}]}`, "id is required"},
		{`{"payers":[{"id":"1"},{"id":"1"}]}`, "listed twice"},
		{`{"payers":[{"id":"../etc"}]}`, "folder name"},
		{`{"payers":[{"id":"1","denial_rate":1.5}]}`, "denial_rate"},
		{`{"payers":[{"id":"1","denials":{"gp":{"group":"CO","carc":"4"}}}]}`, `unknown rule "gp"`},
		{`{"payers":[{"id":"1","denials":{"gp_missing":{"group":"CR","carc":"4"}}}]}`, "group"},
		{`{"payers":[{"id":"1","delays":{"ack":"soon"}}]}`, "duration"},
		{`{"payers":[{"id":"1","fee_schedule":{"97110":"31.505"}}]}`, "31.505"},
		{`{"payers":[{"id":"1","name_pattern":"{type}.x12"}]}`, "{seq}"},
		{`{"payers":[{"id":"1","inbound":"x","outbound":"x"}]}`, "both"},
		{`{"payers":[{"id":"1","minutes_note":"MIN"}]}`, "group"},
		{`{"payers":[{"id":"1","policy":{"timed_units":"hourly"}}]}`, "timed_units"},
		{`{"payers":[{"id":"1"}]} {}`, "after the JSON"},
	} {
		_, err := ReadConfig(strings.NewReader(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.json, err, c.want)
		}
	}
	c, err := ReadConfig(strings.NewReader(`{"payers":[{"id":"1","delays":{"ack":2,"payment":"1h"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Payers[0]; p.Delays.Ack != Duration(2e9) || p.Delays.Payment != Duration(3600e9) || p.Inbound != "inbound" || p.NamePattern != DefaultNamePattern {
		t.Errorf("defaults: %+v", p)
	}
}

// TestConfigKeysDocumented: every key of the configuration, nested ones
// included (the scrubber's policy too), is named in docs/payersim.md.
func TestConfigKeysDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/payersim.md")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			walk(typ.Elem())
		case reflect.Struct:
			for f := range typ.Fields() {
				key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if key != "" && key != "-" && f.IsExported() {
					keys[key] = true
					walk(f.Type)
				}
			}
		}
	}
	walk(reflect.TypeFor[Config]())
	if !keys["random_denials"] || !keys["carc"] || !keys["timely_filing_months"] || !keys["claim_ack"] {
		t.Fatalf("walk found %v: the reflection is wrong", keys)
	}
	for k := range keys {
		if !strings.Contains(string(doc), "`"+k+"`") && !strings.Contains(string(doc), `"`+k+`"`) {
			t.Errorf("configuration key %q is not named in docs/payersim.md", k)
		}
	}
}
