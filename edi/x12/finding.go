// Package x12 reads, writes and checks the X12 wire format: delimiters,
// segments, elements, components and repetitions, and the ISA/GS/ST
// envelopes around them. It knows nothing of any particular transaction;
// the 837P, 999, 277CA and 835 packages build on it.
package x12

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Severity says whether a finding makes a file unacceptable.
type Severity uint8

// Severities, from worst.
const (
	Error Severity = iota
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// MarshalJSON writes the severity as a word.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads the word MarshalJSON writes.
func (s *Severity) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(b), `"`) {
	case "warning":
		*s = Warning
	case "error":
		*s = Error
	default:
		return fmt.Errorf("x12: unknown severity %s", b)
	}
	return nil
}

// A Finding is one thing wrong (or doubtful) about an X12 file, located
// precisely enough for a person to open the file and see it. It is also the
// error type of the Reader and Writer.
type Finding struct {
	File     string   `json:"file,omitempty"`
	Severity Severity `json:"severity"`
	// Rule names the rule broken, e.g. "envelope.se-count". Stable: tools
	// and tests match on it.
	Rule string `json:"rule"`
	// Offset is the byte offset of the segment's first byte in the input.
	Offset int64 `json:"offset"`
	// Segment is the 1-based number of the segment in the input (0 when
	// the finding is about the input as a whole).
	Segment   int    `json:"segment,omitempty"`
	SegmentID string `json:"segment_id,omitempty"`
	// SetPosition is the segment's position within its transaction set,
	// ST being 1 (what a 999 IK302 reports); 0 outside a set.
	SetPosition int    `json:"set_position,omitempty"`
	Loop        string `json:"loop,omitempty"`
	// Element and Component are 1-based positions; 0 when the finding is
	// about the whole segment or element.
	Element   int    `json:"element,omitempty"`
	Component int    `json:"component,omitempty"`
	Message   string `json:"message"`
	// Value is the input value withheld from Message (where it reads
	// Withheld) because it may be protected health information. It is
	// never written out as JSON nor by Error; Reveal puts it back.
	Value string `json:"-"`
}

// Error formats the finding as one line:
//
//	FILE: segment 17 (SE) element 1: SE01 says 41 segments, counted 40 [envelope.se-count]
func (f *Finding) Error() string {
	var b strings.Builder
	// File, segment id and message all carry text from the input:
	// escaped, so that a file cannot drive the terminal showing them.
	if f.File != "" {
		b.WriteString(Printable(f.File))
		b.WriteString(": ")
	}
	if f.Segment > 0 {
		fmt.Fprintf(&b, "segment %d", f.Segment)
		if f.SegmentID != "" {
			fmt.Fprintf(&b, " (%s)", Printable(f.SegmentID))
		}
		if f.Element > 0 {
			fmt.Fprintf(&b, " element %d", f.Element)
			if f.Component > 0 {
				fmt.Fprintf(&b, " component %d", f.Component)
			}
		}
		b.WriteString(": ")
	} else if f.Offset > 0 {
		fmt.Fprintf(&b, "byte %d: ", f.Offset)
	}
	if f.Severity == Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(Printable(f.Message))
	if f.Rule != "" {
		fmt.Fprintf(&b, " [%s]", f.Rule)
	}
	return b.String()
}

// Findings is a list of findings, usually for one file.
type Findings []Finding

// CappedFindings collects findings up to a bound, so that a hostile file
// cannot grow them without limit; past it, one more finding says the rest
// were dropped.
type CappedFindings struct {
	File    string // set on findings that have no file
	Max     int
	List    Findings
	dropped int
}

// Add keeps f, or counts it when Max findings are kept already.
func (c *CappedFindings) Add(f Finding) {
	if len(c.List) < c.Max {
		if f.File == "" {
			f.File = c.File
		}
		c.List = append(c.List, f)
		return
	}
	c.dropped++
	if c.dropped == 1 {
		c.List = append(c.List, Finding{File: c.File, Severity: Warning, Rule: "findings.truncated",
			Message: fmt.Sprintf("more than %d findings: the rest are not listed", c.Max)})
	}
}

// Errors counts the findings of severity Error.
func (fs Findings) Errors() int {
	n := 0
	for i := range fs {
		if fs[i].Severity == Error {
			n++
		}
	}
	return n
}

// HasRule reports whether some finding names rule.
func (fs Findings) HasRule(rule string) bool {
	for i := range fs {
		if fs[i].Rule == rule {
			return true
		}
	}
	return false
}

// At builds a finding located at seg.
func At(seg *Segment, sev Severity, rule string, element, component int, format string, args ...any) Finding {
	return Finding{
		Severity:    sev,
		Rule:        rule,
		Offset:      seg.Offset,
		Segment:     seg.Num,
		SegmentID:   seg.ID(),
		SetPosition: seg.SetPos,
		Element:     element,
		Component:   component,
		// Arguments may be input text: escaped once here, so that every
		// consumer of Message (text, JSON, reports) gets it safe.
		Message: Printable(fmt.Sprintf(format, args...)),
	}
}
