package reconcile

import (
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/claimgate/claimgate/pkg/claim"
)

// The appenders below write the JSON encoding/json's Marshal gives for
// these types, byte for byte (TestEventJSONIsMarshal, FuzzEventJSON),
// straight into one buffer: every claim move stores its record and
// publishes its event, and Marshal's reflection, the nested
// MarshalJSON of every amount and time (each output scanned again) and
// its garbage were a tenth of the gateway's CPU at load.

// AppendJSON appends ev as json.Marshal(ev) encodes it.
func (ev *Event) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	b, err := ev.AppendMembers(b, true)
	return append(b, '}'), err
}

// AppendMembers appends ev's members, in json.Marshal's order, without
// the braces. Without identity it leaves out claim_id, payer_id and
// submission (a stored record's slim events carry them only where they
// differ from the record's: pkg/bus).
func (ev *Event) AppendMembers(b []byte, identity bool) ([]byte, error) {
	b = append(b, `"id":`...)
	b = AppendJSONString(b, ev.ID)
	if identity {
		b = append(b, `,"claim_id":`...)
		b = AppendJSONString(b, ev.ClaimID)
		b = append(b, `,"payer_id":`...)
		b = AppendJSONString(b, ev.PayerID)
	}
	b = append(b, `,"kind":`...)
	b = AppendJSONString(b, string(ev.Kind))
	b = optString(b, `,"state":`, string(ev.State))
	b = optString(b, `,"previous_state":`, string(ev.Previous))
	b = optString(b, `,"effect":`, string(ev.Effect))
	b = append(b, `,"time":`...)
	b, err := AppendJSONTime(b, ev.Time)
	if err != nil {
		return b, err
	}
	b = append(b, `,"source":{"file":`...)
	b = AppendJSONString(b, ev.Source.File)
	b = append(b, `,"digest":`...)
	b = AppendJSONString(b, ev.Source.Digest)
	b = append(b, `,"position":`...)
	b = strconv.AppendInt(b, int64(ev.Source.Position), 10)
	b = optString(b, `,"locator":`, ev.Source.Locator)
	b = append(b, '}')
	b = optString(b, `,"status":`, ev.Status)
	if len(ev.Reasons) > 0 {
		b = append(b, `,"reasons":`...)
		b = appendReasons(b, ev.Reasons)
	}
	if ev.Amounts != nil {
		b = append(b, `,"amounts":`...)
		b = ev.Amounts.AppendJSON(b)
	}
	b = optString(b, `,"payer_claim_number":`, ev.PayerClaimNumber)
	b = optString(b, `,"trace":`, ev.Trace)
	b = optString(b, `,"payment_date":`, ev.PaymentDate)
	b = optString(b, `,"denial_category":`, ev.DenialCategory)
	if len(ev.Lines) > 0 {
		b = append(b, `,"lines":[`...)
		for i := range ev.Lines {
			if i > 0 {
				b = append(b, ',')
			}
			b = ev.Lines[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	if identity && ev.Submission != nil {
		b = append(b, `,"submission":`...)
		b = ev.Submission.AppendJSON(b)
	}
	return b, nil
}

// AppendJSON appends r as json.Marshal(r) encodes it.
func (r *Ref) AppendJSON(b []byte) []byte {
	b = append(b, `{"claim_id":`...)
	b = AppendJSONString(b, r.ClaimID)
	b = append(b, `,"payer_id":`...)
	b = AppendJSONString(b, r.PayerID)
	b = append(b, `,"receiver":`...)
	b = AppendJSONString(b, r.Receiver)
	b = append(b, `,"interchange":`...)
	b = strconv.AppendInt(b, r.Interchange, 10)
	b = append(b, `,"group":`...)
	b = strconv.AppendInt(b, r.Group, 10)
	b = append(b, `,"set":`...)
	b = AppendJSONString(b, r.Set)
	b = append(b, `,"batch":`...)
	b = AppendJSONString(b, r.Batch)
	return append(b, '}')
}

// AppendJSON appends a as json.Marshal(a) encodes it.
func (a *Amounts) AppendJSON(b []byte) []byte {
	b = append(b, `{"billed":`...)
	b = appendMoney(b, a.Billed)
	b = append(b, `,"paid":`...)
	b = appendMoney(b, a.Paid)
	b = append(b, `,"patient_responsibility":`...)
	b = appendMoney(b, a.PatientResponsibility)
	return append(b, '}')
}

func (l *LineOutcome) appendJSON(b []byte) []byte {
	b = append(b, '{')
	n := len(b)
	b = optString(b, `,"control":`, l.Control)
	b = optString(b, `,"procedure":`, l.Procedure)
	b = optString(b, `,"state":`, string(l.State))
	b = append(b, `,"billed":`...)
	b = appendMoney(b, l.Billed)
	b = append(b, `,"paid":`...)
	b = appendMoney(b, l.Paid)
	b = optString(b, `,"denial_category":`, l.DenialCategory)
	if len(l.Reasons) > 0 {
		b = append(b, `,"reasons":`...)
		b = appendReasons(b, l.Reasons)
	}
	b = dropLeadingComma(b, n)
	return append(b, '}')
}

func appendReasons(b []byte, rs []Reason) []byte {
	b = append(b, '[')
	for i := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		r := &rs[i]
		b = append(b, `{"source":`...)
		b = AppendJSONString(b, r.Source)
		b = append(b, `,"code":`...)
		b = AppendJSONString(b, r.Code)
		b = optString(b, `,"text":`, r.Text)
		b = optString(b, `,"category":`, r.Category)
		b = optString(b, `,"entity":`, r.Entity)
		b = optString(b, `,"group":`, r.Group)
		if r.Amount != 0 {
			b = append(b, `,"amount":`...)
			b = appendMoney(b, r.Amount)
		}
		b = optString(b, `,"denial_category":`, r.DenialCategory)
		b = optString(b, `,"segment":`, r.Segment)
		b = optInt(b, `,"segment_position":`, r.SegmentPosition)
		b = optString(b, `,"loop":`, r.Loop)
		b = optInt(b, `,"element":`, r.Element)
		b = optInt(b, `,"component":`, r.Component)
		b = optString(b, `,"element_ref":`, r.ElementRef)
		b = append(b, '}')
	}
	return append(b, ']')
}

// dropLeadingComma removes the comma written at n by the first member of
// an object whose members are all optional so far.
func dropLeadingComma(b []byte, n int) []byte {
	if len(b) > n && b[n] == ',' {
		copy(b[n:], b[n+1:])
		b = b[:len(b)-1]
	}
	return b
}

func optString(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, key...)
	return AppendJSONString(b, v)
}

func optInt(b []byte, key string, v int) []byte {
	if v == 0 {
		return b
	}
	b = append(b, key...)
	return strconv.AppendInt(b, int64(v), 10)
}

// appendMoney appends m as claim.Money's MarshalJSON writes it: dollars
// with exactly two decimals.
// (The most negative amount, which MarshalJSON cannot write, is written
// as the number it is.)
func appendMoney(b []byte, m claim.Money) []byte {
	v := uint64(m)
	if m < 0 {
		b = append(b, '-')
		v = -v // two's complement: right for the most negative too
	}
	b = strconv.AppendUint(b, v/100, 10)
	c := v % 100
	return append(b, '.', byte('0'+c/10), byte('0'+c%10))
}

// errTimeRange is what time.Time's MarshalJSON refuses.
var errTimeRange = errors.New("json: time outside what RFC 3339 can hold (year 0 to 9999, zone offset under 24 h)")

// AppendJSONTime appends t as time.Time's MarshalJSON writes it (RFC 3339
// with nanoseconds, quoted), and refuses what it refuses.
func AppendJSONTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, errTimeRange
	}
	if _, off := t.Zone(); off <= -24*3600 || off >= 24*3600 {
		return b, errTimeRange
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as encoding/json writes a string, HTML
// escaping included: quote and backslash escaped, control bytes as \b \f
// \n \r \t or \u00XX, <, > and & as \u003c \u003e \u0026, U+2028 and
// U+2029 escaped, each byte of invalid UTF-8 as \ufffd.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
