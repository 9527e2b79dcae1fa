package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/pkg/claim"
)

// encoding/json matches keys case-insensitively, lets a repeated key
// silently overwrite the first, and reports an unknown key without its
// path. A misspelt or repeated key in a claim loses data, so every claim
// object is first scanned here: keys must be exactly the json tags of
// pkg/claim, once each.

var (
	claimType       = reflect.TypeFor[claim.Claim]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	// fieldsByType holds the JSON keys of every struct type a claim is
	// made of, and their Go types; built once, read without locking.
	fieldsByType = func() map[reflect.Type]map[string]reflect.Type {
		all := map[reflect.Type]map[string]reflect.Type{}
		var add func(t reflect.Type)
		add = func(t reflect.Type) {
			if t = structOf(t); t == nil || all[t] != nil {
				return
			}
			m := make(map[string]reflect.Type, t.NumField())
			all[t] = m
			for i := 0; i < t.NumField(); i++ {
				if name := jsonName(t.Field(i)); name != "" {
					m[name] = t.Field(i).Type
					add(t.Field(i).Type)
					add(elemOf(t.Field(i).Type))
				}
			}
		}
		add(claimType)
		return all
	}()
)

// jsonFields returns the JSON keys of struct type t and their Go types.
func jsonFields(t reflect.Type) map[string]reflect.Type { return fieldsByType[t] }

// jsonName is the key encoding/json uses for f, "" when it has none.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name
}

// structOf returns the struct type whose JSON object t decodes from, or
// nil when t is not decoded from an object field by field.
func structOf(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	return t
}

func elemOf(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Slice {
		return nil
	}
	return t.Elem()
}

// pathElem is one step of a JSON path: an object key (kept as bytes of
// the input while scanning, to avoid allocating) or an array index.
type pathElem struct {
	keyb  []byte
	key   string
	index int // -1 for a key
}

// newIssue turns a JSON path within a claim into an issue, splitting off
// the service line so that the CSV side can map it to a row.
func newIssue(path []pathElem, reason string) issue {
	if len(path) >= 2 && path[1].index >= 0 && (path[0].key == "lines" || string(path[0].keyb) == "lines") {
		return issue{line: path[1].index, field: formatPath(path[2:]), reason: reason}
	}
	return issue{line: -1, field: formatPath(path), reason: reason}
}

func formatPath(path []pathElem) string {
	var b strings.Builder
	for _, p := range path {
		switch {
		case p.index >= 0:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(p.index))
			b.WriteByte(']')
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			if p.keyb != nil {
				b.Write(p.keyb)
			} else {
				b.WriteString(p.key)
			}
		}
	}
	return b.String()
}

// keyScanner walks a syntactically valid JSON value (json.Decoder has
// already checked it) alongside the Go type it decodes into.
type keyScanner struct {
	b      []byte
	i      int
	path   []pathElem
	seen   [][]byte // keys of the objects being scanned, innermost last
	issues []issue
}

// checkKeys reports unknown, wrongly-cased and repeated keys in the
// claim object raw.
func checkKeys(raw []byte) []issue {
	s := keyScanner{b: raw}
	s.value(claimType)
	return s.issues
}

func (s *keyScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

func (s *keyScanner) value(t reflect.Type) {
	s.ws()
	if s.i >= len(s.b) {
		return
	}
	switch s.b[s.i] {
	case '{':
		s.object(structOf(t))
	case '[':
		s.array(elemOf(t))
	case '"':
		s.skipString()
	default: // number, true, false, null
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return
			}
			s.i++
		}
	}
}

func (s *keyScanner) skipString() {
	s.i++ // opening quote
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
		case '"':
			s.i++
			return
		default:
			s.i++
		}
	}
}

func (s *keyScanner) object(t reflect.Type) {
	s.i++ // {
	var fields map[string]reflect.Type
	if t != nil {
		fields = jsonFields(t)
	}
	base := len(s.seen)
	defer func() { s.seen = s.seen[:base] }()
	for {
		s.ws()
		if s.i >= len(s.b) {
			return
		}
		switch s.b[s.i] {
		case '}':
			s.i++
			s.present(t, base)
			return
		case ',':
			s.i++
			s.ws()
		}
		start := s.i
		s.skipString()
		key := s.b[start+1 : s.i-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var k string
			_ = json.Unmarshal(s.b[start:s.i], &k) // valid JSON: cannot fail
			key = []byte(k)
		}
		s.ws()
		s.i++ // :
		s.path = append(s.path, pathElem{keyb: key, index: -1})
		var ft reflect.Type
		if fields != nil {
			if f, ok := fields[string(key)]; ok {
				ft = f
				for _, k := range s.seen[base:] {
					if bytes.Equal(k, key) {
						s.issues = append(s.issues, newIssue(s.path, "is given twice in the same object"))
						break
					}
				}
				s.seen = append(s.seen, key)
			} else {
				s.issues = append(s.issues, newIssue(s.path, unknownKey(string(key), fields)))
			}
		}
		s.value(ft)
		s.path = s.path[:len(s.path)-1]
	}
}

// mustGive lists amounts whose zero value is valid, so that check cannot
// tell a missing key from $0: a missing charge must not bill nothing.
var mustGive = map[reflect.Type][]string{
	reflect.TypeFor[claim.Line]():       {"charge"},
	reflect.TypeFor[claim.OtherPayer](): {"paid"},
	reflect.TypeFor[claim.Adjustment](): {"amount"},
}

// present reports the mustGive keys of t missing from the object just
// scanned, whose keys are s.seen[base:].
func (s *keyScanner) present(t reflect.Type, base int) {
	for _, key := range mustGive[t] {
		found := false
		for _, k := range s.seen[base:] {
			if string(k) == key {
				found = true
				break
			}
		}
		if !found {
			s.path = append(s.path, pathElem{key: key, index: -1})
			s.issues = append(s.issues, newIssue(s.path, "is required"))
			s.path = s.path[:len(s.path)-1]
		}
	}
}

func (s *keyScanner) array(t reflect.Type) {
	s.i++ // [
	for n := 0; ; n++ {
		s.ws()
		if s.i >= len(s.b) {
			return
		}
		switch s.b[s.i] {
		case ']':
			s.i++
			return
		case ',':
			s.i++
		}
		s.path = append(s.path, pathElem{index: n})
		s.value(t)
		s.path = s.path[:len(s.path)-1]
	}
}

func unknownKey(key string, fields map[string]reflect.Type) string {
	for name := range fields {
		if strings.EqualFold(name, key) {
			return fmt.Sprintf("is not a known field (names are case-sensitive: %q)", name)
		}
	}
	return fmt.Sprintf("is not a known field here (known: %s)", strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
}

// diagnose is run only when encoding/json refused a claim: it decodes
// the claim generically and walks it against the Go types to name every
// value of the wrong type with its path (encoding/json reports the first
// only, and without a path when a Money or Date refuses its value). It
// also returns the claim id, when readable, for the error report.
func diagnose(raw []byte, show bool) (issues []issue, id string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []issue{{line: -1, reason: err.Error()}}, ""
	}
	if m, ok := v.(map[string]any); ok {
		id, _ = m["id"].(string)
	}
	w := &walker{show: show}
	w.walk(v, claimType)
	return w.issues, id
}

type walker struct {
	path   []pathElem
	issues []issue
	show   bool // Decoder.ShowValues
}

// phi reports whether the value at the current path is to be withheld.
func (w *walker) phi() bool { return !w.show && isPHIField(formatPath(w.path)) }

func (w *walker) add(format string, args ...any) {
	w.issues = append(w.issues, newIssue(w.path, fmt.Sprintf(format, args...)))
}

func (w *walker) walk(v any, t reflect.Type) {
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		if v == nil && t.Kind() == reflect.Int64 {
			w.add("must be an amount, got null")
			return
		}
		b, _ := json.Marshal(v)
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(b); err != nil {
			if w.phi() { // the claim package's messages quote the value
				w.add("%s %s", x12.Withheld, phiReason(t))
				return
			}
			w.add("%v", err)
		}
		return
	}
	if v == nil { // null leaves the Go zero value; check() says if it is required
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		w.walk(v, t.Elem())
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			w.add("must be an object, got %s", valueKind(v, w.phi()))
			return
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := jsonName(f)
			if fv, ok := m[name]; ok && name != "" {
				w.path = append(w.path, pathElem{key: name, index: -1})
				w.walk(fv, f.Type)
				w.path = w.path[:len(w.path)-1]
			}
		}
	case reflect.Slice:
		a, ok := v.([]any)
		if !ok {
			w.add("must be an array, got %s", valueKind(v, w.phi()))
			return
		}
		for i, e := range a {
			w.path = append(w.path, pathElem{index: i})
			w.walk(e, t.Elem())
			w.path = w.path[:len(w.path)-1]
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			w.add("must be a string, got %s", valueKind(v, w.phi()))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			w.add("must be a whole number, got %s", valueKind(v, w.phi()))
			return
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			w.add("must be a whole number, got %s", wholeNumber(n, w.phi()))
		}
	}
}

// valueKind names a decoded JSON value for a reason: its kind, and the
// value itself unless phi withholds it.
func valueKind(v any, phi bool) string {
	switch x := v.(type) {
	case string:
		if phi {
			return "the string " + x12.Withheld
		}
		return x12.ShowValue(x)
	case json.Number:
		if phi {
			return "the number " + x12.Withheld
		}
		return "the number " + x12.Printable(string(x))
	case bool:
		if phi {
			return "a boolean"
		}
		return strconv.FormatBool(x)
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return "null"
}

// jsonKind names the JSON form of Go type t.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	}
	return "a number"
}

// phiReason says what is wrong with a value of type t that a reason
// cannot quote.
func phiReason(t reflect.Type) string {
	switch t {
	case dateType:
		return "is not a valid YYYY-MM-DD date"
	case moneyType:
		return "is not an amount"
	}
	return "is not " + jsonKind(t)
}

func wholeNumber(n json.Number, phi bool) string {
	if phi {
		return "the number " + x12.Withheld
	}
	return x12.Printable(string(n))
}
