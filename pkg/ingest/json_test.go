package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/claim"
)

var sampleIDs = []string{"RB-25-0001", "RB-25-0002", "RB-25-0003", "RB-25-0004"}

func date(y int, m time.Month, d int) claim.Date { return claim.Date{Year: y, Month: m, Day: d} }

// billing is the billing provider of every sample claim, normalised.
var billing = claim.Provider{
	Entity:    claim.Organization,
	Name:      claim.Name{Last: "Riverbend Physical Therapy LLC"},
	NPI:       "1543219871",
	TaxID:     "814567321", // given as 81-4567321
	TaxIDType: "EI",
	Taxonomy:  "261QP2000X",
	Address:   claim.Address{Line1: "2200 River Road", Line2: "Suite 140", City: "Portland", State: "OR", Zip: "972014410"},
	Contact:   claim.Contact{Name: "Tamsin Greer", Phone: "5035550142"},
}

// wantDependent is the sample's dependent claim, as it must decode.
var wantDependent = &claim.Claim{
	ID:      "RB-25-0002",
	Payer:   claim.Payer{ID: "BHX77", Name: "Blue Horizon Health Plan", Address: claim.Address{Line1: "PO Box 4410", City: "Salem", State: "OR", Zip: "97309"}},
	Billing: billing,
	Rendering: &claim.Provider{
		Entity: claim.Person, Name: claim.Name{Last: "Oyelaran", First: "Marcus"}, NPI: "1765432103", Taxonomy: "225100000X",
	},
	Subscriber: claim.Subscriber{
		MemberID: "XKP448812301", Name: claim.Name{Last: "Vasquez-Ruiz", First: "Elena"}, Birth: date(1981, 11, 2), Gender: "F",
		Address: claim.Address{Line1: "1904 NE Sandy Blvd", Line2: "Apt 3B", City: "Portland", State: "OR", Zip: "97232"},
		Group:   "GRP20431", Sequence: "P", FilingCode: "BL",
	},
	Patient: &claim.Patient{
		Relationship: "19", Name: claim.Name{Last: "Vasquez-Ruiz", First: "Mateo"}, Birth: date(2012, 7, 22), Gender: "M",
		Address: claim.Address{Line1: "1904 NE Sandy Blvd", Line2: "Apt 3B", City: "Portland", State: "OR", Zip: "97232"},
	},
	PlaceOfService: "11",
	Frequency:      claim.FrequencyOriginal,
	PriorAuth:      "PA-7781203",
	OnsetDate:      date(2025, 1, 28),
	Diagnoses:      []string{"S83511D", "M25561"},
	Lines: []claim.Line{
		{ControlNumber: "RB250002-1", Procedure: "97112", Modifiers: []string{"GP"}, Charge: 6100, Units: 1, Minutes: 12, DiagnosisPointers: []int{1, 2}, ServiceDate: date(2025, 3, 4)},
		{ControlNumber: "RB250002-2", Procedure: "97110", Modifiers: []string{"GP"}, Charge: 9800, Units: 2, Minutes: 26, DiagnosisPointers: []int{1, 2}, ServiceDate: date(2025, 3, 4)},
	},
}

// checkSample asserts the sample batch's claims, whichever format they
// came from.
func checkSample(t *testing.T, d decoded) {
	t.Helper()
	if d.err != nil || len(d.sum.Errors) != 0 || d.sum.Rejected != 0 {
		t.Fatalf("sample batch: rejected %d, err %v%s", d.sum.Rejected, d.err, d.dump())
	}
	if got := d.ids(); !reflect.DeepEqual(got, sampleIDs) {
		t.Fatalf("claims %v, want %v", got, sampleIDs)
	}
	medicare, dep, accented, repl := d.results[0].Claim, d.results[1].Claim, d.results[2].Claim, d.results[3].Claim

	if !reflect.DeepEqual(dep, wantDependent) {
		t.Errorf("dependent claim:\n got %+v\nwant %+v", dep, wantDependent)
	}

	// Medicare, subscriber is the patient, referring physician, five
	// lines on two dates.
	if medicare.Payer.ID != "MCR01" || medicare.Subscriber.FilingCode != "MB" || medicare.Patient != nil {
		t.Errorf("medicare claim payer/patient: %+v %+v", medicare.Payer, medicare.Patient)
	}
	if !reflect.DeepEqual(medicare.Billing, billing) {
		t.Errorf("billing provider %+v", medicare.Billing)
	}
	if r := medicare.Referring; r == nil || r.Entity != claim.Person || r.NPI != "1456789233" || r.Name.Last != "Raman" {
		t.Errorf("referring provider %+v", r)
	}
	if s := medicare.Subscriber; s.MemberID != "4TK9AA2MN56" || s.Birth != date(1948, 3, 14) || s.Gender != "M" || s.Address.Zip != "97205" {
		t.Errorf("medicare subscriber %+v", s)
	}
	if !reflect.DeepEqual(medicare.Diagnoses, []string{"Z471", "Z96651", "M6281"}) {
		t.Errorf("diagnoses %v: decimal points must be removed", medicare.Diagnoses)
	}
	if medicare.TherapyYTD != 31250 || medicare.OnsetDate != date(2025, 2, 10) {
		t.Errorf("therapy_ytd %v onset %v", medicare.TherapyYTD, medicare.OnsetDate)
	}
	if len(medicare.Lines) != 5 || medicare.Total() != 47400 {
		t.Fatalf("medicare lines %d total %v", len(medicare.Lines), medicare.Total())
	}
	wantLine := claim.Line{ControlNumber: "RB250001-2", Procedure: "97110", Modifiers: []string{"GP"}, Charge: 9800, Units: 2, Minutes: 28, DiagnosisPointers: []int{1, 3}, ServiceDate: date(2025, 3, 3)}
	if !reflect.DeepEqual(medicare.Lines[1], wantLine) {
		t.Errorf("medicare line 2 %+v", medicare.Lines[1])
	}
	if l := medicare.Lines[0]; l.Procedure != "97161" || l.Minutes != 0 || l.Units != 1 {
		t.Errorf("evaluation line %+v", l)
	}

	// Accented names and addresses come out transliterated, case kept.
	if n := accented.Subscriber.Name; n.First != "Jose" || n.Last != "Munoz-Ibanez" {
		t.Errorf("accented name not cleaned: %+v", n)
	}
	if a := accented.Subscriber.Address.Line1; a != "418 Penasco Ct" {
		t.Errorf("accented address not cleaned: %q", a)
	}
	if l := accented.Lines[1]; !reflect.DeepEqual(l.Modifiers, []string{"59", "GP"}) || l.Procedure != "97530" {
		t.Errorf("97530 line %+v", l)
	}
	if l := accented.Lines[2]; !l.HasModifier("CQ") || l.AssistantMinutes != 23 || l.Minutes != 23 {
		t.Errorf("CQ line %+v", l)
	}
	if accented.Referral != "REF-220914" {
		t.Errorf("referral %q", accented.Referral)
	}

	// A replacement claim keeps its original reference.
	if repl.Frequency != claim.FrequencyReplacement || repl.OriginalRef != "SMI2025020417733" || repl.Note != "Corrected units on 97140" {
		t.Errorf("replacement claim %q %q %q", repl.Frequency, repl.OriginalRef, repl.Note)
	}
	if repl.Subscriber.Name.Middle != "A" {
		t.Errorf("middle name %q", repl.Subscriber.Name.Middle)
	}
}

func TestDecodeJSONSample(t *testing.T) {
	d := decodeBytes(t, FormatJSON, readTestdata(t, "pt_batch.json"))
	checkSample(t, d)
	h := d.sum.Header
	if h.BatchID != "RB-20250310-01" || h.Submitter.ID != "RBBS001" || h.Submitter.Name != "Riverbend Billing Services" || h.Submitter.Contact.Email == "" {
		t.Errorf("header %+v", h)
	}
	for i, r := range d.results {
		if r.Source.Batch != "B1" || r.Source.Index != i || r.Source.Rows != nil {
			t.Errorf("claim %d source %+v", i, r.Source)
		}
	}
}

// mutateJSON decodes the sample batch after f changed it.
func mutateJSON(t *testing.T, f func(m map[string]any)) decoded {
	t.Helper()
	m := goodJSON(t)
	f(m)
	return decodeBytes(t, FormatJSON, mustJSON(t, m))
}

// wantRejected asserts that exactly claim id was rejected, with an error
// on field whose reason contains reason, and that every other sample
// claim went through.
func wantRejected(t *testing.T, d decoded, id, field, reason string) *RowError {
	t.Helper()
	if d.err != nil {
		t.Fatalf("fatal error %v", d.err)
	}
	e := d.find(id, field, reason)
	if e == nil {
		t.Errorf("no error on claim %s field %q containing %q; got:%s", id, field, reason, d.dump())
	}
	var want []string
	for _, s := range sampleIDs {
		if s != id {
			want = append(want, s)
		}
	}
	if got := d.ids(); !reflect.DeepEqual(got, want) || d.sum.Rejected != 1 {
		t.Errorf("emitted %v (rejected %d), want %v", got, d.sum.Rejected, want)
	}
	return e
}

// fieldCases are bad values with the field error they must produce. The
// paths are JSON paths within claims[1], the dependent claim (whose
// subscriber is not the patient, and which has no rendering referral).
var fieldCases = []struct {
	name   string
	path   string
	value  any
	field  string // expected RowError.Field (JSON)
	reason string
}{
	// dates
	{"impossible date", "lines[1].service_date", "2023-02-29", "lines[1].service_date", `date "2023-02-29" is not a valid YYYY-MM-DD date`},
	{"month 13", "patient.birth_date", "2012-13-01", "patient.birth_date", `(value withheld; --show-values to see it) is not a valid`}, // PHI: the value is withheld
	{"US date", "onset_date", "01/28/2025", "onset_date", `date "01/28/2025" is not a valid`},
	{"date as number", "lines[0].service_date", 20250304, "lines[0].service_date", "date must be a string"},
	{"missing service date", "lines[0].service_date", nil, "lines[0].service_date", "is required"},
	// amounts
	{"three decimals", "lines[0].charge", "61.005", "lines[0].charge", "more than two decimals"},
	{"three decimals number", "lines[0].charge", 61.005, "lines[0].charge", "more than two decimals"},
	{"negative charge", "lines[0].charge", -61, "lines[0].charge", "must not be negative"},
	{"thousands separator", "lines[0].charge", "1,061.00", "lines[0].charge", "is not a decimal number"},
	{"dollar sign", "lines[0].charge", "$61", "lines[0].charge", "is not a decimal number"},
	{"null charge", "lines[0].charge", nil, "lines[0].charge", "must be an amount, got null"},
	{"negative ytd", "therapy_ytd", "-1.00", "therapy_ytd", "must not be negative"},
	// units and minutes
	{"zero units", "lines[0].units", 0, "lines[0].units", "must be a positive whole number"},
	{"fractional units", "lines[0].units", 1.5, "lines[0].units", "must be a whole number, got 1.5"},
	{"units as string", "lines[0].units", "2", "lines[0].units", `must be a whole number, got "2"`},
	{"negative minutes", "lines[0].minutes", -3, "lines[0].minutes", "must not be negative"},
	{"assistant over total", "lines[0].assistant_minutes", 13, "lines[0].assistant_minutes", "exceeds the line's 12 minutes"},
	// demographics
	{"gender", "patient.gender", "X", "patient.gender", `(value withheld; --show-values to see it) is not one of M, F, U`},
	{"state name", "subscriber.address.state", "Oregon", "subscriber.address.state", "must be a 2-letter state code"},
	{"short zip", "patient.address.zip", "9723", "patient.address.zip", "5- or 9-digit ZIP"},
	{"zip letters", "payer.address.zip", "9730A", "payer.address.zip", "5- or 9-digit ZIP"},
	{"relationship self", "patient.relationship", "18", "patient.relationship", "leave the patient out"},
	{"relationship code", "patient.relationship", "99", "patient.relationship", "is not one of"},
	{"missing member id", "subscriber.member_id", "", "subscriber.member_id", "is required"},
	{"partial address", "payer.address.city", "", "payer.address.city", "is required"},
	{"billing address", "billing_provider.address", map[string]any{}, "billing_provider.address.line1", "is required"},
	// identifiers
	{"npi 9 digits", "billing_provider.npi", "154321987", "billing_provider.npi", "must be 10 digits"},
	{"npi letters", "rendering_provider.npi", "176543210X", "rendering_provider.npi", "must be 10 digits"},
	{"tax id", "billing_provider.tax_id", "81-456732", "billing_provider.tax_id", "9-digit EIN or SSN"},
	{"taxonomy", "rendering_provider.taxonomy", "2251000000", "rendering_provider.taxonomy", "not a provider taxonomy code"},
	{"entity", "billing_provider.entity", "3", "billing_provider.entity", "is not one of 1, 2"},
	{"organization first name", "billing_provider.name.first", "Jo", "billing_provider.name.first", "must be empty for an organization"},
	{"name too long", "patient.name.last", strings.Repeat("A", 61), "patient.name.last", "at most 60"},
	// claim codes
	{"place of service", "place_of_service", "1", "place_of_service", "must be 2 digits"},
	{"frequency", "frequency", "5", "frequency", `"5" is not one of 1, 7, 8`},
	{"original ref on original", "original_reference", "SMI1", "original_reference", "must be empty for an original claim"},
	{"replacement without ref", "frequency", "8", "original_reference", "is required for frequency 8"},
	{"assignment", "assignment", "Y", "assignment", "is not one of A, B, C"},
	// procedure codes and modifiers
	{"4-digit procedure", "lines[0].procedure", "9711", "lines[0].procedure", `"9711" is not a procedure code`},
	{"letters procedure", "lines[0].procedure", "ABCDE", "lines[0].procedure", "is not a procedure code"},
	{"digit-letter-digits", "lines[0].procedure", "9711A", "lines[0].procedure", "is not a procedure code"},
	{"missing procedure", "lines[0].procedure", "", "lines[0].procedure", "is required"},
	{"1-char modifier", "lines[0].modifiers", []any{"G"}, "lines[0].modifiers", `modifier "G" must be 2 letters or digits`},
	{"3-char modifier", "lines[0].modifiers", []any{"GPX"}, "lines[0].modifiers", `modifier "GPX" must be 2`},
	{"5 modifiers", "lines[0].modifiers", []any{"GP", "59", "KX", "CQ", "XE"}, "lines[0].modifiers", "at most 4"},
	{"repeated modifier", "lines[0].modifiers", []any{"GP", "gp"}, "lines[0].modifiers", "modifier GP is given twice"},
	{"modifiers as string", "lines[0].modifiers", "GP", "lines[0].modifiers", `must be an array, got "GP"`},
	// diagnoses and pointers
	{"dx digit first", "diagnoses", []any{"54.50"}, "diagnoses", `"54.50" is not an ICD-10-CM code`},
	{"dx too short", "diagnoses", []any{"M5", "M25.561"}, "diagnoses", `"M5" is not an ICD-10-CM code`},
	{"dx too long", "diagnoses", []any{"S83.511DD", "M25.561"}, "diagnoses", "is not an ICD-10-CM code"},
	{"dx misplaced point", "diagnoses", []any{"S8.3511D", "M25.561"}, "diagnoses", "is not an ICD-10-CM code"},
	{"dx twice", "diagnoses", []any{"S83.511D", "S83511D"}, "diagnoses", "S83511D is listed twice"},
	{"no diagnoses", "diagnoses", []any{}, "diagnoses", "at least one diagnosis"},
	{"13 diagnoses", "diagnoses", []any{"A00", "A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A09", "B00", "B01", "B02"}, "diagnoses", "at most 12"},
	{"pointer past diagnoses", "lines[0].diagnosis_pointers", []any{1, 3}, "lines[0].diagnosis_pointers", "pointer 3 does not point at one of the claim's 2 diagnoses"},
	{"pointer zero", "lines[0].diagnosis_pointers", []any{0}, "lines[0].diagnosis_pointers", "pointer 0 does not point"},
	{"5 pointers", "lines[0].diagnosis_pointers", []any{1, 2, 1, 2, 1}, "lines[0].diagnosis_pointers", "at most 4"},
	{"no pointers", "lines[0].diagnosis_pointers", []any{}, "lines[0].diagnosis_pointers", "at least one diagnosis pointer"},
	// lines
	{"no lines", "lines", []any{}, "lines", "at least one service line"},
	{"repeated line control number", "lines[1].control_number", "RB250002-1", "lines[1].control_number", "also the control number of line 1"},
	// X12 delimiters and control characters
	{"delimiter in payer name", "payer.name", "Blue*Horizon", "payer.name", "'*' (U+002A) at byte 4 is an X12 delimiter"},
	{"delimiter in member id", "subscriber.member_id", "XKP~448812301", "subscriber.member_id", "X12 delimiter"},
	{"delimiter in prior auth", "prior_authorization", "PA:7781203", "prior_authorization", "X12 delimiter"},
	{"delimiter in line note", "lines[0].note", "see^chart", "lines[0].note", "X12 delimiter"},
	{"delimiter in city", "patient.address.city", "Port|land", "patient.address.city", "X12 delimiter"},
	{"delimiter in modifier", "lines[0].modifiers", []any{"G:"}, "lines[0].modifiers", "X12 delimiter"},
	{"newline in address", "patient.address.line1", "1904 NE Sandy\nBlvd", "patient.address.line1", "control character U+000A"},
	// characters outside the X12 sets
	{"cyrillic name", "patient.name.last", "Иванова", "patient.name.last", "has no ASCII equivalent"},
	{"accented identifier", "subscriber.member_id", "XKPé48812301", "subscriber.member_id", "is not allowed in a code or identifier"},
	// the JSON itself
	{"unknown field", "prior_authorisation", "PA1", "prior_authorisation", "is not a known field here"},
	{"unknown line field", "lines[0].modifier", "GP", "lines[0].modifier", "is not a known field here"},
	{"wrong case", "Note", "x", "Note", `names are case-sensitive: "note"`},
	{"object for string", "place_of_service", map[string]any{"code": "11"}, "place_of_service", "must be a string, got an object"},
	{"string for object", "patient", "Mateo", "patient", `must be an object, got "Mateo"`},
}

func TestJSONFieldErrors(t *testing.T) {
	for _, tc := range fieldCases {
		t.Run(tc.name, func(t *testing.T) {
			d := mutateJSON(t, func(m map[string]any) {
				setPath(t, m, "claims[1]."+tc.path, tc.value, false)
			})
			wantRejected(t, d, "RB-25-0002", tc.field, tc.reason)
		})
	}
}

// Codes in lower case and optional decorations are normalised, not
// refused.
func TestJSONNormalises(t *testing.T) {
	d := mutateJSON(t, func(m map[string]any) {
		for path, v := range map[string]any{
			"claims[1].lines[0].modifiers":          []any{"gp"},
			"claims[1].lines[0].procedure":          " 97112 ",
			"claims[1].diagnoses":                   []any{"s83.511d", "M25561"},
			"claims[1].patient.gender":              "m",
			"claims[1].patient.address.state":       "or",
			"claims[1].patient.address.zip":         "97232-1234",
			"claims[1].patient.name.first":          "  Matéo ",
			"claims[1].billing_provider.tax_id":     "814567321",
			"claims[1].billing_provider.taxonomy":   "261qp2000x",
			"claims[1].subscriber.filing_code":      "bl",
			"claims[1].lines[1].service_date":       "20250304",
			"claims[1].lines[1].diagnosis_pointers": []any{2},
		} {
			setPath(t, m, path, v, false)
		}
	})
	if len(d.sum.Errors) != 0 || len(d.results) != 4 {
		t.Fatalf("normalisable values refused:%s", d.dump())
	}
	c := d.results[1].Claim
	got := []string{c.Lines[0].Modifiers[0], c.Lines[0].Procedure, c.Diagnoses[0], c.Patient.Gender, c.Patient.Address.State,
		c.Patient.Address.Zip, c.Patient.Name.First, c.Billing.Taxonomy, c.Subscriber.FilingCode, c.Lines[1].ServiceDate.String()}
	want := []string{"GP", "97112", "S83511D", "M", "OR", "972321234", "Mateo", "261QP2000X", "BL", "2025-03-04"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("normalised\n got %q\nwant %q", got, want)
	}
}

// One claim with several problems reports them all, not just the first
// encoding/json stumbles on.
func TestJSONReportsEveryProblemOfAClaim(t *testing.T) {
	d := mutateJSON(t, func(m map[string]any) {
		setPath(t, m, "claims[0].lines[1].service_date", "2023-02-29", false)
		setPath(t, m, "claims[0].lines[3].charge", "98.001", false)
		setPath(t, m, "claims[0].lines[4].units", "one", false)
		setPath(t, m, "claims[0].extra", true, false)
	})
	for _, want := range []struct{ field, reason string }{
		{"lines[1].service_date", "not a valid YYYY-MM-DD date"},
		{"lines[3].charge", "more than two decimals"},
		{"lines[4].units", `must be a whole number, got "one"`},
		{"extra", "is not a known field"},
	} {
		if d.find("RB-25-0001", want.field, want.reason) == nil {
			t.Errorf("missing error %s: %s; got:%s", want.field, want.reason, d.dump())
		}
	}
	if d.sum.Rejected != 1 || len(d.results) != 3 {
		t.Errorf("rejected %d emitted %d", d.sum.Rejected, len(d.results))
	}
}

func TestJSONErrorMessage(t *testing.T) {
	d := mutateJSON(t, func(m map[string]any) {
		setPath(t, m, "claims[2].lines[0].service_date", "2024-02-30", false)
	})
	want := `batch B1 claims[2] claim RB-25-0003 field lines[0].service_date: date "2024-02-30" is not a valid YYYY-MM-DD date`
	if len(d.sum.Errors) != 1 || d.sum.Errors[0].Error() != want {
		t.Errorf("got:%s\nwant %s", d.dump(), want)
	}
}

func TestJSONDuplicateClaimID(t *testing.T) {
	d := mutateJSON(t, func(m map[string]any) {
		setPath(t, m, "claims[2].id", "RB-25-0001", false)
	})
	e := d.find("RB-25-0001", "id", `claim id "RB-25-0001" is already used by claims[0]`)
	if e == nil || e.Index != 2 {
		t.Fatalf("duplicate not reported at claims[2]:%s", d.dump())
	}
	if got := d.ids(); !reflect.DeepEqual(got, []string{"RB-25-0001", "RB-25-0002", "RB-25-0004"}) {
		t.Errorf("emitted %v", got)
	}
	// The first claim with the id keeps it even when it is itself
	// rejected: which of the two the PM system meant is not ours to guess.
	d = mutateJSON(t, func(m map[string]any) {
		setPath(t, m, "claims[0].lines[0].units", 0, false)
		setPath(t, m, "claims[2].id", "RB-25-0001", false)
	})
	if d.sum.Rejected != 2 || d.find("RB-25-0001", "id", "already used by claims[0]") == nil {
		t.Errorf("rejected %d:%s", d.sum.Rejected, d.dump())
	}
}

func TestJSONClaimIDTooLong(t *testing.T) {
	long := strings.Repeat("9", 39)
	d := mutateJSON(t, func(m map[string]any) { setPath(t, m, "claims[1].id", long, false) })
	if d.find(long, "id", "39 characters long; X12 allows at most 38") == nil || len(d.results) != 3 {
		t.Errorf("got:%s", d.dump())
	}
}

func TestJSONRepeatedKey(t *testing.T) {
	data := readTestdata(t, "pt_batch.json")
	// A second "lines" key would silently replace the first with
	// encoding/json alone.
	data = bytes.Replace(data, []byte(`"prior_authorization": "PA-7781203",`), []byte(`"prior_authorization": "PA-7781203", "lines": [],`), 1)
	d := decodeBytes(t, FormatJSON, data)
	wantRejected(t, d, "RB-25-0002", "lines", "is given twice")
}

func TestJSONMissingCharge(t *testing.T) {
	d := mutateJSON(t, func(m map[string]any) {
		setPath(t, m, "claims[1].lines[1].charge", nil, true)
	})
	wantRejected(t, d, "RB-25-0002", "lines[1].charge", "is required")
}

func TestJSONTooManyLines(t *testing.T) {
	d := mutateJSON(t, func(m map[string]any) {
		lines := m["claims"].([]any)[3].(map[string]any)["lines"].([]any)
		var many []any
		for i := 0; i < 51; i++ {
			l := map[string]any{}
			for k, v := range lines[0].(map[string]any) {
				l[k] = v
			}
			l["control_number"] = fmt.Sprintf("L%d", i)
			many = append(many, l)
		}
		setPath(t, m, "claims[3].lines", many, false)
	})
	wantRejected(t, d, "RB-25-0004", "lines", "has 51 service lines; an 837P claim allows at most 50")
}

func TestJSONCleansNames(t *testing.T) {
	d := mutateJSON(t, func(m map[string]any) {
		setPath(t, m, "claims[3].subscriber.name.last", "Økafor-Brontë", false)
		setPath(t, m, "claims[3].subscriber.address.line1", "3120 SE División St", false)
		setPath(t, m, "claims[3].note", "Corrected units — 97140", false)
	})
	if len(d.results) != 4 {
		t.Fatalf("emitted %d:%s", len(d.results), d.dump())
	}
	c := d.results[3].Claim
	if c.Subscriber.Name.Last != "Okafor-Bronte" || c.Subscriber.Address.Line1 != "3120 SE Division St" || c.Note != "Corrected units - 97140" {
		t.Errorf("not cleaned: %q %q %q", c.Subscriber.Name.Last, c.Subscriber.Address.Line1, c.Note)
	}
}

func TestJSONSubscriberIsPatientNeedsDemographics(t *testing.T) {
	d := mutateJSON(t, func(m map[string]any) {
		setPath(t, m, "claims[0].subscriber.birth_date", nil, true)
		setPath(t, m, "claims[0].subscriber.gender", "", false)
	})
	if d.find("RB-25-0001", "subscriber.birth_date", "required when the subscriber is the patient") == nil ||
		d.find("RB-25-0001", "subscriber.gender", "is required") == nil {
		t.Errorf("got:%s", d.dump())
	}
	// The same gaps are fine on a dependent's claim.
	d = mutateJSON(t, func(m map[string]any) {
		setPath(t, m, "claims[1].subscriber.birth_date", nil, true)
		setPath(t, m, "claims[1].subscriber.gender", "", false)
		setPath(t, m, "claims[1].subscriber.address", map[string]any{}, false)
	})
	if len(d.results) != 4 {
		t.Errorf("dependent claim refused:%s", d.dump())
	}
}

func TestJSONTruncated(t *testing.T) {
	data := readTestdata(t, "pt_batch.json")
	cut := bytes.Index(data, []byte(`"id": "RB-25-0003"`)) + 200
	d := decodeBytes(t, FormatJSON, data[:cut])
	var be *BatchError
	if !errors.As(d.err, &be) {
		t.Fatalf("err = %v, want a *BatchError", d.err)
	}
	if be.Index != 2 || be.Offset != int64(cut) || be.Line != bytes.Count(data[:cut], []byte("\n"))+1 || !strings.Contains(be.Error(), "truncated") {
		t.Errorf("BatchError %+v: %v", be, be)
	}
	if got := d.ids(); !reflect.DeepEqual(got, sampleIDs[:2]) {
		t.Errorf("claims before the cut: %v", got)
	}
	t.Log(be)
}

func TestJSONSyntaxErrorPosition(t *testing.T) {
	data := readTestdata(t, "pt_batch.json")
	// Drop the comma after a line of claims[3].
	at := bytes.Index(data, []byte(`"RB250004-1"`))
	at += bytes.Index(data[at:], []byte("},")) + 1
	bad := append(append([]byte{}, data[:at]...), data[at+1:]...)
	d := decodeBytes(t, FormatJSON, bad)
	var be *BatchError
	if !errors.As(d.err, &be) {
		t.Fatalf("err = %v", d.err)
	}
	// The error is at the next line's opening brace.
	next := at + bytes.IndexByte(bad[at:], '{')
	wantLine := bytes.Count(bad[:next], []byte("\n")) + 1
	wantCol := next - bytes.LastIndexByte(bad[:next], '\n')
	if be.Index != 3 || be.Line != wantLine || be.Column != wantCol || be.Offset != int64(next) || !strings.Contains(be.Error(), "invalid character '{' after array element") {
		t.Errorf("BatchError %v; want claims[3], line %d column %d (byte %d)", be, wantLine, wantCol, next)
	}
	if len(d.results) != 3 {
		t.Errorf("emitted %d before the error", len(d.results))
	}
}

func TestJSONUnreadable(t *testing.T) {
	for name, in := range map[string]string{
		"empty":        "",
		"not json":     "claim_id,payer_id\nC1,P1\n",
		"x12":          "ISA*00*          *00*",
		"array":        `[{"id":"C1"}]`,
		"no claims":    `{"batch_id":"B","submitter":{"id":"S","name":"N"}}`,
		"claims obj":   `{"batch_id":"B","claims":{}}`,
		"claims null":  `{"batch_id":"B","claims":null}`,
		"trailing":     `{"batch_id":"B","submitter":{"id":"S","name":"N"},"claims":[]} {}`,
		"unterminated": `{"batch_id":"B","claims":[`,
	} {
		d := decodeBytes(t, FormatJSON, []byte(in))
		var be *BatchError
		if !errors.As(d.err, &be) || be.Batch != "B1" {
			t.Errorf("%s: err = %v, want a *BatchError", name, d.err)
		}
	}
}

func TestJSONClaimNotAnObject(t *testing.T) {
	m := goodJSON(t)
	claims := m["claims"].([]any)
	m["claims"] = append(claims[:1], nil, "RB-25-0009", 7, []any{}, claims[1])
	d := decodeBytes(t, FormatJSON, mustJSON(t, m))
	if d.sum.Rejected != 4 || len(d.sum.Errors) != 4 || !reflect.DeepEqual(d.ids(), sampleIDs[:2]) {
		t.Fatalf("emitted %v:%s", d.ids(), d.dump())
	}
	for i, e := range d.sum.Errors {
		if e.Index != i+1 || e.Field != "" || !strings.HasPrefix(e.Reason, "a claim must be a JSON object, got ") {
			t.Errorf("error %d: %v", i, e)
		}
	}
	if d.results[1].Source.Index != 5 {
		t.Errorf("index after the bad claims: %d", d.results[1].Source.Index)
	}
}

func TestJSONEnvelopeProblems(t *testing.T) {
	d := decodeBytes(t, FormatJSON, []byte(`{"claims": [], "extra": 1, "batch_id": 7, "submitter": {"name": "N", "id": "S", "fax": "1"}}`))
	if d.err != nil {
		t.Fatal(d.err)
	}
	for _, field := range []string{"extra", "batch_id", "submitter"} {
		found := false
		for _, e := range d.sum.Errors {
			if e.Field == field && e.Index == -1 && e.Row == 0 && e.ClaimID == "" {
				found = true
			}
		}
		if !found {
			t.Errorf("no batch-level error on %s:%s", field, d.dump())
		}
	}
	d = decodeBytes(t, FormatJSON, []byte(`{"claims": []}`))
	if len(d.sum.Errors) != 2 { // batch_id and submitter are required
		t.Errorf("missing envelope fields:%s", d.dump())
	}
}

func TestJSONEmitErrorStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	sum, err := DecodeJSON(bytes.NewReader(readTestdata(t, "pt_batch.json")), "B1", func(Result) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 || sum.Claims != 2 {
		t.Errorf("err %v after %d emits (summary %d)", err, n, sum.Claims)
	}
}

func TestJSONClaimTooLarge(t *testing.T) {
	m := goodJSON(t)
	setPath(t, m, "claims[1].note", strings.Repeat("x", 5000), false)
	d := Decoder{MaxRecordBytes: 4096}
	var n int
	_, err := d.DecodeJSON(bytes.NewReader(mustJSON(t, m)), "B1", func(Result) error { n++; return nil })
	var be *BatchError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "larger than 4096 bytes") || n != 1 {
		t.Errorf("err %v after %d claims", err, n)
	}
}

func TestMaxErrorsAndOnError(t *testing.T) {
	m := goodJSON(t)
	for i := 0; i < 4; i++ {
		setPath(t, m, fmt.Sprintf("claims[%d].place_of_service", i), "x", false)
	}
	var seen []*RowError
	d := Decoder{MaxErrors: 3, OnError: func(e *RowError) { seen = append(seen, e) }}
	sum, err := d.DecodeJSON(bytes.NewReader(mustJSON(t, m)), "B1", func(Result) error { return nil })
	if err != nil || len(sum.Errors) != 3 || sum.ErrorsDropped != 1 || len(seen) != 4 || sum.Rejected != 4 {
		t.Errorf("err %v, kept %d, dropped %d, seen %d, rejected %d", err, len(sum.Errors), sum.ErrorsDropped, len(seen), sum.Rejected)
	}
}
