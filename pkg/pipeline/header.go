package pipeline

import (
	"bufio"
	"bytes"
	"encoding/json"

	"github.com/claimgate/claimgate/edi/x837p"
	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/ingest"
)

// headerPeek is how far into a JSON batch the submitter is looked for.
const headerPeek = 64 << 10

// peekSubmitter returns the submitter of a JSON batch whose envelope names
// it before the claims array, within its first headerPeek bytes, without
// consuming input. ok is false when there is none, or when it could not
// be written into an 837P (1000A needs a name, an id and a phone or
// email, all plain X12 text).
func peekSubmitter(br *bufio.Reader) (assemble.Submitter, bool) {
	head, _ := br.Peek(headerPeek)
	dec := json.NewDecoder(bytes.NewReader(head))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return assemble.Submitter{}, false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return assemble.Submitter{}, false
		}
		key, _ := t.(string)
		switch key {
		case "claims":
			return assemble.Submitter{}, false
		case "submitter":
			var s ingest.Submitter
			if err := dec.Decode(&s); err != nil {
				return assemble.Submitter{}, false
			}
			sub := assemble.Submitter{Name: s.Name, ID: s.ID, ISAQualifier: "ZZ", ISAID: s.ID,
				Contact: x837p.Contact{Name: s.Contact.Name, Phone: digits(s.Contact.Phone), Email: s.Contact.Email}}
			if sub.Contact.Name == "" {
				sub.Contact.Name = s.Name
			}
			return sub, usableSubmitter(sub)
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return assemble.Submitter{}, false
			}
		}
	}
	return assemble.Submitter{}, false
}

// digits keeps the digits of a phone number (PER04 is digits only).
func digits(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}

func usableSubmitter(s assemble.Submitter) bool {
	if s.Name == "" || s.ID == "" || len(s.ID) > 15 || s.Contact.Phone == "" && s.Contact.Email == "" {
		return false
	}
	for _, v := range []string{s.Name, s.ID, s.Contact.Name, s.Contact.Phone, s.Contact.Email} {
		if !x12Text(v) {
			return false
		}
	}
	return true
}

// x12Text reports whether s is printable ASCII without the delimiters the
// files use (* : ^ ~).
func x12Text(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '*' || c == ':' || c == '^' || c == '~' {
			return false
		}
	}
	return true
}
