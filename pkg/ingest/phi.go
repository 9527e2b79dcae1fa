package ingest

import (
	"fmt"
	"strings"

	"github.com/claimgate/claimgate/edi/x12"
)

// Errors end up in logs and on terminals. A value from a field that may
// hold protected health information (isPHIField) never goes into an
// error's reason unless the Decoder's ShowValues asks for it; every other
// input-derived text in an error is escaped (x12.Printable) so that a
// batch cannot drive the terminal that shows its errors.

// value marks a reason argument that is a value from the input: phiArgs
// shows it quoted and escaped, or withholds it.
type value string

// phiArgs rewrites, in place, the arguments of a reason about a field:
// values (and the character a CharError names) are withheld when phi is
// set, quoted and escaped otherwise.
func phiArgs(phi bool, args []any) {
	for i, a := range args {
		switch v := a.(type) {
		case value:
			args[i] = showValue(string(v), phi)
		case *CharError:
			if phi {
				args[i] = v.withheld()
			}
		}
	}
}

// showValue is how a reason shows an input value.
func showValue(v string, phi bool) string {
	if phi {
		return x12.Withheld
	}
	return x12.ShowValue(v)
}

// withheld is the CharError's message without the character: the first
// letter of a Cyrillic name, say, is the patient's data too.
// A control character is no one's data: it is named as usual.
func (e *CharError) withheld() string {
	if e.Char < 0x20 || e.Char == 0x7f || e.Char >= 0x80 && e.Char < 0xa0 {
		return e.Error()
	}
	return fmt.Sprintf("a character at byte %d %s", e.Pos, e.Reason)
}

// safeError returns e with its input-derived text escaped, ready for logs
// and terminals.
func safeError(e *RowError) {
	e.Batch = x12.Printable(e.Batch)
	e.ClaimID = x12.Printable(e.ClaimID)
	e.Field = x12.Printable(e.Field)
	e.Reason = x12.Printable(e.Reason)
}

// jsonSyntax rewrites encoding/json's syntax messages ("invalid
// character 'Z' looking for beginning of value") without the character,
// which is a piece of the input; the error's offset says where it is.
func jsonSyntax(msg string, show bool) string {
	if show {
		return msg
	}
	const p = "invalid character '"
	i := strings.Index(msg, p)
	if i < 0 {
		return msg
	}
	rest := msg[i+len(p):]
	j := strings.Index(rest, "' ")
	if j < 0 {
		return msg[:i] + "invalid character"
	}
	// JSON punctuation ('{', ',') is kept: it says what went wrong and
	// is no one's data; a letter or digit may be the start of a name.
	if c := rest[:j]; len(c) == 1 && strings.ContainsAny(c, `{}[],:"`) {
		return msg
	}
	return msg[:i] + "invalid character" + rest[j+1:]
}
