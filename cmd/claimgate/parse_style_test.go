package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// The JSON style all three parse outputs share (docs/835.md, "JSON
// style").
var (
	snakeKey  = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	isoDate   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	clockTime = regexp.MustCompile(`^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$`)
	money     = regexp.MustCompile(`^-?\d+\.\d{2}$`)
	dateKeys  = map[string]bool{"date": true, "group_date": true, "production_date": true, "statement_from": true,
		"statement_to": true, "coverage_expiration": true, "received": true, "processed": true, "service_date": true,
		"service_from": true, "service_to": true, "fiscal_period_date": true}
	moneyKeys = map[string]bool{"amount": true, "charge": true, "paid": true, "patient_responsibility": true,
		"accepted_amount": true, "rejected_amount": true, "total_charge": true}
	numberKeys = map[string]bool{"accepted_quantity": true, "rejected_quantity": true, "units": true, "units_paid": true,
		"quantity": true, "index": true, "included": true, "accepted": true}
)

// TestParseJSONStyle: in the JSON of every 999, 277CA and 835 sample the
// keys are snake_case, dates "YYYY-MM-DD", times "HH:MM[:SS]", amounts
// numbers with two decimals and quantities numbers.
func TestParseJSONStyle(t *testing.T) {
	seen := map[string]int{}
	for _, p := range sampleFiles(t) {
		_, out, _ := runCLI("parse", p, "--json")
		dec := json.NewDecoder(strings.NewReader(out))
		dec.UseNumber()
		var doc any
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, e := range v {
					at := path + "." + k
					if !snakeKey.MatchString(k) {
						t.Errorf("%s: key %s is not snake_case", p, at)
					}
					if strings.HasSuffix(path, ".findings[]") || strings.HasSuffix(path, ".name") {
						walk(at, e) // findings and names carry no dates or amounts
						continue
					}
					switch s, isStr := e.(string); {
					case k == "received" && strings.Contains(path, ".groups"):
						// the 999's AK903 count of sets received
					case dateKeys[k] && e != nil:
						if !isStr || !isoDate.MatchString(s) {
							t.Errorf("%s: %s = %v is not a YYYY-MM-DD date", p, at, e)
						}
						seen["date"]++
					case k == "time":
						if !isStr || !clockTime.MatchString(s) {
							t.Errorf("%s: %s = %v is not an HH:MM time", p, at, e)
						}
						seen["time"]++
					case moneyKeys[k] && !strings.Contains(path, "adjustments[]") || moneyKeys[k] && k == "amount":
						n, ok := e.(json.Number)
						if !ok || !money.MatchString(string(n)) {
							t.Errorf("%s: %s = %v is not an amount with two decimals", p, at, e)
						}
						seen["money"]++
					case numberKeys[k]:
						if _, ok := e.(json.Number); !ok {
							t.Errorf("%s: %s = %v is not a number", p, at, e)
						}
						seen["number"]++
					}
					walk(at, e)
				}
			case []any:
				for _, e := range v {
					walk(path+"[]", e)
				}
			}
		}
		walk("", doc)
	}
	for what, min := range map[string]int{"date": 10, "time": 3, "money": 10, "number": 10} {
		if seen[what] < min {
			t.Errorf("only %d %s values checked", seen[what], what)
		}
	}
}
