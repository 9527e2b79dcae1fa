package x12

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Withheld stands in a finding's message for an input value that may be
// protected health information (a patient's name, member id, birth date,
// address, free text). Findings end up in logs and terminals; the value
// itself is kept in Finding.Value for a person who asks for it.
const Withheld = "(value withheld; --show-values to see it)"

// ShowValue renders an input value for a message: clipped to 40 bytes,
// quoted, and with every control character, escape sequence and invalid
// UTF-8 byte escaped (\x1b), so that a file cannot drive the terminal
// that shows its findings.
func ShowValue(v string) string {
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	return strconv.Quote(v)
}

// Printable returns s with every byte or character that a terminal could
// take as a command escaped: C0 and C1 controls, DEL, ESC, invalid UTF-8,
// and non-printing characters such as bidirectional overrides. Printable
// text, including non-ASCII letters, is kept. A string that needs no
// escaping is returned as is, without allocating.
func Printable(s string) string {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f {
		i++
	}
	if i == len(s) {
		return s
	}
	// Non-ASCII but printable input (José) needs no copy either.
	if printableFrom(s[i:]) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			b.WriteByte(c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1, r < 0x80:
			b.WriteString(`\x`)
			b.WriteByte(hexDigit[c>>4])
			b.WriteByte(hexDigit[c&15])
		case !unicode.IsPrint(r):
			q := strconv.QuoteRuneToASCII(r) // '\u202e'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

const hexDigit = "0123456789abcdef"

func printableFrom(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r < 0x80 || r == utf8.RuneError && size <= 1 || !unicode.IsPrint(r) {
			return false
		}
		i += size
	}
	return true
}

// Reveal puts the value withheld from f's message back into it (quoted
// and escaped like any other value) and clears Value. Only a command run
// by a person at their own terminal with --show-values should call it.
func (f *Finding) Reveal() {
	if f.Value == "" {
		return
	}
	f.Message = strings.Replace(f.Message, Withheld, ShowValue(f.Value), 1)
	f.Value = ""
}

// MarshalJSON writes the finding with its input-derived text escaped as
// Printable does: encoding/json leaves DEL, C1 controls and bidirectional
// overrides as they are. Value, the withheld PHI, is never written.
func (f Finding) MarshalJSON() ([]byte, error) {
	type plain Finding // without the methods: no recursion
	p := plain(f)
	p.File = Printable(p.File)
	p.SegmentID = Printable(p.SegmentID)
	p.Loop = Printable(p.Loop)
	p.Message = Printable(p.Message)
	return json.Marshal(p)
}

// The envelope summaries hold text from the input (ids, dates, control
// numbers) that encoding/json would write with C1 controls and
// bidirectional overrides raw: their JSON escapes it as Printable does.

// MarshalJSON writes the interchange with its text escaped.
func (ic Interchange) MarshalJSON() ([]byte, error) {
	type plain Interchange
	p := plain(ic)
	for _, s := range []*string{&p.Control, &p.SenderQual, &p.Sender, &p.ReceiverQual, &p.Receiver, &p.Date, &p.Time, &p.Version, &p.Usage} {
		*s = Printable(*s)
	}
	return json.Marshal(p)
}

// MarshalJSON writes the group with its text escaped.
func (g Group) MarshalJSON() ([]byte, error) {
	type plain Group
	p := plain(g)
	for _, s := range []*string{&p.FunctionalID, &p.Sender, &p.Receiver, &p.Date, &p.Time, &p.Control, &p.Version} {
		*s = Printable(*s)
	}
	return json.Marshal(p)
}

// MarshalJSON writes the set summary with its text escaped.
func (s Set) MarshalJSON() ([]byte, error) {
	type plain Set
	p := plain(s)
	p.ID, p.Control, p.Version = Printable(p.ID), Printable(p.Control), Printable(p.Version)
	return json.Marshal(p)
}

// MarshalJSON writes the TA1 with its text escaped.
func (t TA1) MarshalJSON() ([]byte, error) {
	type plain TA1
	p := plain(t)
	for _, s := range []*string{&p.Control, &p.Date, &p.Time, &p.Ack, &p.Note} {
		*s = Printable(*s)
	}
	return json.Marshal(p)
}
