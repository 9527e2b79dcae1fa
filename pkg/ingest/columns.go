package ingest

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/pkg/claim"
)

// csvColumn is one column of the CSV batch format. Its target is named by
// the JSON path of a claim field, so the CSV and JSON formats cannot name
// different fields, and the field checks (which report JSON paths) map
// back to the column.
type csvColumn struct {
	name     string
	line     bool // one value per service line; otherwise repeated on every row of the claim
	required bool // the header must have it
	path     string
	index    []int // reflect field indices along path, from claim.Claim or claim.Line
	typ      reflect.Type
	phi      bool // the column may hold patient data (isPHIField)
	// steps and kind let set reach and fill the field through pointers
	// computed once, instead of walking reflect values per cell (which
	// cost an allocation or two per cell in a 100-column format).
	steps []fieldStep
	kind  cellKind
}

// fieldStep moves from a struct to one of its fields: first through a
// pointer when elem is set (allocating an elem when nil), then by off.
type fieldStep struct {
	elem reflect.Type
	off  uintptr
}

// cellKind is how a cell's text becomes its field's value.
type cellKind uint8

const (
	cellString cellKind = iota
	cellInt
	cellDate
	cellMoney
	cellStrings
	cellInts
)

// fieldSteps turns reflect field indices from root into fieldSteps.
func fieldSteps(root reflect.Type, index []int) []fieldStep {
	var steps []fieldStep
	t := root
	for _, i := range index {
		var st fieldStep
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
			st.elem = t
		}
		f := t.Field(i)
		st.off = f.Offset
		t = f.Type
		steps = append(steps, st)
	}
	return steps
}

func kindOf(name string, typ reflect.Type) cellKind {
	switch typ {
	case dateType:
		return cellDate
	case moneyType:
		return cellMoney
	case stringList:
		return cellStrings
	case intList:
		return cellInts
	}
	switch typ.Kind() {
	case reflect.String:
		return cellString
	case reflect.Int:
		return cellInt
	}
	panic("ingest: CSV column " + name + " has an unsupported type " + typ.String())
}

var (
	dateType   = reflect.TypeFor[claim.Date]()
	moneyType  = reflect.TypeFor[claim.Money]()
	lineType   = reflect.TypeFor[claim.Line]()
	stringList = reflect.TypeFor[[]string]()
	intList    = reflect.TypeFor[[]int]()
)

// csvColumns is the CSV batch format. docs/batch-format.md documents each
// column; a test keeps the two in step.
var csvColumns = func() []*csvColumn {
	type col struct {
		name     string
		required bool
		path     string
	}
	claimCols := []col{
		{"claim_id", true, "id"},
		{"payer_id", true, "payer.id"},
		{"payer_name", true, "payer.name"},
		{"payer_address1", false, "payer.address.line1"},
		{"payer_address2", false, "payer.address.line2"},
		{"payer_city", false, "payer.address.city"},
		{"payer_state", false, "payer.address.state"},
		{"payer_zip", false, "payer.address.zip"},

		{"billing_entity", false, "billing_provider.entity"},
		{"billing_npi", true, "billing_provider.npi"},
		{"billing_name", true, "billing_provider.name.last"},
		{"billing_first", false, "billing_provider.name.first"},
		{"billing_tax_id", true, "billing_provider.tax_id"},
		{"billing_tax_id_type", false, "billing_provider.tax_id_type"},
		{"billing_taxonomy", false, "billing_provider.taxonomy"},
		{"billing_address1", true, "billing_provider.address.line1"},
		{"billing_address2", false, "billing_provider.address.line2"},
		{"billing_city", true, "billing_provider.address.city"},
		{"billing_state", true, "billing_provider.address.state"},
		{"billing_zip", true, "billing_provider.address.zip"},
		{"billing_contact_name", false, "billing_provider.contact.name"},
		{"billing_contact_phone", false, "billing_provider.contact.phone"},
		{"billing_contact_email", false, "billing_provider.contact.email"},

		{"rendering_npi", false, "rendering_provider.npi"},
		{"rendering_last", false, "rendering_provider.name.last"},
		{"rendering_first", false, "rendering_provider.name.first"},
		{"rendering_middle", false, "rendering_provider.name.middle"},
		{"rendering_taxonomy", false, "rendering_provider.taxonomy"},

		{"referring_npi", false, "referring_provider.npi"},
		{"referring_last", false, "referring_provider.name.last"},
		{"referring_first", false, "referring_provider.name.first"},

		{"facility_name", false, "service_facility.name"},
		{"facility_npi", false, "service_facility.npi"},
		{"facility_address1", false, "service_facility.address.line1"},
		{"facility_address2", false, "service_facility.address.line2"},
		{"facility_city", false, "service_facility.address.city"},
		{"facility_state", false, "service_facility.address.state"},
		{"facility_zip", false, "service_facility.address.zip"},

		{"subscriber_member_id", true, "subscriber.member_id"},
		{"subscriber_last", true, "subscriber.name.last"},
		{"subscriber_first", false, "subscriber.name.first"},
		{"subscriber_middle", false, "subscriber.name.middle"},
		{"subscriber_suffix", false, "subscriber.name.suffix"},
		{"subscriber_birth_date", false, "subscriber.birth_date"},
		{"subscriber_gender", false, "subscriber.gender"},
		{"subscriber_address1", false, "subscriber.address.line1"},
		{"subscriber_address2", false, "subscriber.address.line2"},
		{"subscriber_city", false, "subscriber.address.city"},
		{"subscriber_state", false, "subscriber.address.state"},
		{"subscriber_zip", false, "subscriber.address.zip"},
		{"subscriber_group_number", false, "subscriber.group_number"},
		{"subscriber_sequence", false, "subscriber.sequence"},
		{"subscriber_filing_code", false, "subscriber.filing_code"},

		{"patient_relationship", false, "patient.relationship"},
		{"patient_last", false, "patient.name.last"},
		{"patient_first", false, "patient.name.first"},
		{"patient_middle", false, "patient.name.middle"},
		{"patient_suffix", false, "patient.name.suffix"},
		{"patient_birth_date", false, "patient.birth_date"},
		{"patient_gender", false, "patient.gender"},
		{"patient_address1", false, "patient.address.line1"},
		{"patient_address2", false, "patient.address.line2"},
		{"patient_city", false, "patient.address.city"},
		{"patient_state", false, "patient.address.state"},
		{"patient_zip", false, "patient.address.zip"},

		{"place_of_service", true, "place_of_service"},
		{"frequency", false, "frequency"},
		{"original_reference", false, "original_reference"},
		{"prior_authorization", false, "prior_authorization"},
		{"referral_number", false, "referral_number"},
		{"onset_date", false, "onset_date"},
		{"initial_treatment_date", false, "initial_treatment_date"},
		{"last_seen_date", false, "last_seen_date"},
		{"diagnoses", true, "diagnoses"},
		{"claim_note", false, "note"},
		{"therapy_ytd", false, "therapy_ytd"},
		{"provider_signature", false, "provider_signature"},
		{"assignment", false, "assignment"},
		{"benefits_assigned", false, "benefits_assigned"},
		{"release_of_information", false, "release_of_information"},
	}
	lineCols := []col{
		{"line_control_number", false, "control_number"},
		{"procedure", true, "procedure"},
		{"modifiers", false, "modifiers"},
		{"charge", true, "charge"},
		{"units", true, "units"},
		{"minutes", false, "minutes"},
		{"assistant_minutes", false, "assistant_minutes"},
		{"diagnosis_pointers", true, "diagnosis_pointers"},
		{"service_date", true, "service_date"},
		{"line_place_of_service", false, "place_of_service"},
		{"line_prior_authorization", false, "prior_authorization"},
		{"line_note", false, "note"},
	}
	var all []*csvColumn
	for _, group := range []struct {
		cols []col
		line bool
		root reflect.Type
	}{{claimCols, false, claimType}, {lineCols, true, lineType}} {
		for _, c := range group.cols {
			index, typ := resolvePath(group.root, c.path)
			all = append(all, &csvColumn{name: c.name, line: group.line, required: c.required, path: c.path, index: index, typ: typ, phi: isPHIField(c.path),
				steps: fieldSteps(group.root, index), kind: kindOf(c.name, typ)})
		}
	}
	return all
}()

var (
	columnsByName = func() map[string]*csvColumn {
		m := make(map[string]*csvColumn, len(csvColumns))
		for _, c := range csvColumns {
			m[c.name] = c
		}
		return m
	}()
	// columnsByPath maps a field check's location back to its column.
	columnsByPath = func() map[string]*csvColumn {
		m := make(map[string]*csvColumn, len(csvColumns))
		for _, c := range csvColumns {
			m[pathKey(c.line, c.path)] = c
		}
		return m
	}()
)

func pathKey(line bool, path string) string {
	if line {
		return "lines[]." + path
	}
	return path
}

// resolvePath follows a dotted JSON path of struct fields from root and
// panics when it does not exist: the column table is code, checked at
// start-up.
func resolvePath(root reflect.Type, path string) ([]int, reflect.Type) {
	t := root
	var index []int
	for _, name := range strings.Split(path, ".") {
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		found := false
		for i := 0; i < t.NumField(); i++ {
			if jsonName(t.Field(i)) == name {
				index = append(index, i)
				t = t.Field(i).Type
				found = true
				break
			}
		}
		if !found {
			panic(fmt.Sprintf("ingest: CSV column path %q: no field %q in %s", path, name, t))
		}
	}
	return index, t
}

// set parses the non-empty cell value v into the column's field of the
// struct at root (a *claim.Claim or *claim.Line, as the column's line
// says), allocating optional parts (patient, rendering provider...) on the
// way. It returns a reason when v does not parse, which withholds v when
// the column may hold PHI and show is not set (Decoder.ShowValues).
func (col *csvColumn) set(root unsafe.Pointer, v string, show bool) string {
	phi := !show && col.phi
	f := root
	for _, st := range col.steps {
		if st.elem != nil {
			pp := (*unsafe.Pointer)(f)
			if *pp == nil {
				*pp = reflect.New(st.elem).UnsafePointer()
			}
			f = *pp
		}
		f = unsafe.Add(f, st.off)
	}
	switch col.kind {
	case cellDate:
		d, err := parseDate(v)
		if err != nil {
			if phi { // the claim package's message quotes the value
				return x12.Withheld + " is not a valid YYYY-MM-DD date"
			}
			return err.Error()
		}
		*(*claim.Date)(f) = d
	case cellMoney:
		m, err := claim.ParseMoney(v)
		if err != nil {
			if phi {
				return x12.Withheld + " is not an amount"
			}
			return err.Error()
		}
		*(*claim.Money)(f) = m
	case cellStrings:
		parts, reason := splitList(v, phi)
		if reason != "" {
			return reason
		}
		*(*[]string)(f) = parts
	case cellInts:
		ns, reason := splitInts(v, phi)
		if reason != "" {
			return reason
		}
		*(*[]int)(f) = ns
	case cellString:
		*(*string)(f) = v
	case cellInt:
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Sprintf("%s is not a whole number", showValue(v, phi))
		}
		*(*int)(f) = n
	}
	return ""
}

// parseDate is claim.ParseDate with a fast path for a well-formed
// YYYY-MM-DD date: every other text (and an impossible date) goes to
// claim.ParseDate, for its result and its error.
func parseDate(s string) (claim.Date, error) {
	if len(s) == 10 && s[4] == '-' && s[7] == '-' {
		y, ok1 := digits(s[0:4])
		m, ok2 := digits(s[5:7])
		d, ok3 := digits(s[8:10])
		if ok1 && ok2 && ok3 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(m, y) {
			return claim.Date{Year: y, Month: time.Month(m), Day: d}, nil
		}
	}
	return claim.ParseDate(s)
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// splitInts splits a list cell of whole numbers (diagnosis pointers)
// without the intermediate list of strings.
func splitInts(v string, phi bool) ([]int, string) {
	n := 1
	for i := 0; i < len(v); i++ {
		if strings.IndexByte(listSeparators, v[i]) >= 0 {
			n++
		}
	}
	ns := make([]int, 0, n)
	bad := false
	for rest := v; ; {
		i := strings.IndexAny(rest, listSeparators)
		p := rest
		if i >= 0 {
			p = rest[:i]
		}
		if p = strings.TrimSpace(p); p == "" {
			return nil, fmt.Sprintf("%s has an empty element (separate the values with |, ; or :)", showValue(v, phi))
		}
		// An empty element is reported before a bad number, as when the
		// list was split first.
		if k, err := strconv.Atoi(p); err != nil {
			bad = true
		} else {
			ns = append(ns, k)
		}
		if i < 0 {
			break
		}
		rest = rest[i+1:]
	}
	if bad {
		return nil, fmt.Sprintf("%s is not a list of whole numbers", showValue(v, phi))
	}
	return ns, ""
}

// listSeparators split the list cells (diagnoses, modifiers, pointers):
// none of them can occur inside a code.
const listSeparators = "|;:"

// splitList splits a list cell. An empty element is refused rather than
// skipped: in the diagnoses it would shift every pointer after it.
func splitList(v string, phi bool) ([]string, string) {
	n := 1
	for i := 0; i < len(v); i++ {
		if strings.IndexByte(listSeparators, v[i]) >= 0 {
			n++
		}
	}
	parts := make([]string, 0, n)
	for rest := v; ; {
		i := strings.IndexAny(rest, listSeparators)
		p := rest
		if i >= 0 {
			p = rest[:i]
		}
		if p = strings.TrimSpace(p); p == "" {
			return nil, fmt.Sprintf("%s has an empty element (separate the values with |, ; or :)", showValue(v, phi))
		}
		parts = append(parts, p)
		if i < 0 {
			return parts, ""
		}
		rest = rest[i+1:]
	}
}
