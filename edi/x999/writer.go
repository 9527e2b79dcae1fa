package x999

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/claimgate/claimgate/edi/x12"
)

// Build returns a consistent response to one functional group: the AK1
// fields, the given set responses and the AK9 verdict and counts derived
// from them. A set whose Status is empty becomes A when it lists no error,
// else R (with IK502 code 5, "one or more segments in error", when it has
// IK3 loops but no IK502 code). AK901 follows the sets: A, E, P or R; a
// group without sets is R.
func Build(functionalID, groupControl, groupVersion string, sets []SetResponse) *GroupResponse {
	g := &GroupResponse{FunctionalID: functionalID, GroupControl: groupControl, GroupVersion: groupVersion, Version: Version,
		Sets: make([]SetResponse, len(sets))}
	copy(g.Sets, sets)
	var t tally
	for i := range g.Sets {
		s := &g.Sets[i]
		if s.Status == "" {
			switch {
			case len(s.SegmentErrors) == 0 && len(s.Errors) == 0:
				s.Status = StatusAccepted
			default:
				s.Status = StatusRejected
				if len(s.Errors) == 0 {
					s.Errors = []string{"5"}
				}
			}
		}
		t.add(s.Status)
	}
	g.Included, g.Received, g.Accepted = t.sets, t.sets, t.accepted
	g.Status = t.expected()
	if g.Status == "" {
		g.Status = StatusRejected
	}
	return g
}

// Verify reports the first inconsistency between g's AK9 and its sets,
// the same checks as rules 999.ak9-count and 999.ak9-status, or nil.
func (g *GroupResponse) Verify() error {
	var t tally
	for i := range g.Sets {
		t.add(g.Sets[i].Status)
	}
	countError := false
	for _, e := range g.Errors {
		countError = countError || e == "5"
	}
	switch {
	case g.Included != t.sets && !countError:
		return fmt.Errorf("x999: AK902 %d transaction sets included, but %d set responses", g.Included, t.sets)
	case g.Received != t.sets:
		return fmt.Errorf("x999: AK903 %d transaction sets received, but %d set responses", g.Received, t.sets)
	case g.Accepted != t.accepted:
		return fmt.Errorf("x999: AK904 %d transaction sets accepted, but %d set responses accept", g.Accepted, t.accepted)
	case !statusAgrees(g.Status, t.expected(), len(g.Errors) > 0):
		return fmt.Errorf("x999: AK901 %q disagrees with the set verdicts, which call for %q", g.Status, t.expected())
	}
	return nil
}

// WriteGroup writes g as one 999 transaction set, ST02 = control, inside
// the functional group open on w (GS01 FA). It refuses (before writing
// anything) a response whose AK9 disagrees with its sets (see Verify), more
// than five error codes in IK5 or AK9, and a missing status; data holding
// a delimiter is refused by w.
func WriteGroup(w *x12.Writer, control string, g *GroupResponse) error {
	if err := g.Verify(); err != nil {
		return err
	}
	if len(g.Errors) > 5 {
		return fmt.Errorf("x999: AK9 holds at most 5 error codes, got %d", len(g.Errors))
	}
	if g.Status == "" {
		return fmt.Errorf("x999: AK901 status is empty")
	}
	for i := range g.Sets {
		s := &g.Sets[i]
		if s.Status == "" {
			return fmt.Errorf("x999: set %s: IK501 status is empty", s.Control)
		}
		if len(s.Errors) > 5 {
			return fmt.Errorf("x999: set %s: IK5 holds at most 5 error codes, got %d", s.Control, len(s.Errors))
		}
	}
	v := g.Version
	if v == "" {
		v = Version
	}
	if err := w.BeginSet("999", control, v); err != nil {
		return err
	}
	w.Begin("AK1")
	w.Element(g.FunctionalID)
	w.Element(g.GroupControl)
	w.Element(g.GroupVersion)
	w.End()
	for i := range g.Sets {
		writeSet(w, &g.Sets[i])
	}
	w.Begin("AK9")
	w.Element(g.Status)
	w.Int(int64(g.Included))
	w.Int(int64(g.Received))
	w.Int(int64(g.Accepted))
	for _, e := range g.Errors {
		w.Element(e)
	}
	w.End()
	return w.EndSet()
}

func writeSet(w *x12.Writer, s *SetResponse) {
	w.Begin("AK2")
	w.Element(s.ID)
	w.Element(s.Control)
	w.Element(s.Version)
	w.End()
	for i := range s.SegmentErrors {
		e := &s.SegmentErrors[i]
		w.Begin("IK3")
		w.Element(e.SegmentID)
		count(w, e.Position)
		w.Element(e.Loop)
		w.Element(e.Code)
		w.End()
		for j := range e.Contexts {
			writeContext(w, &e.Contexts[j])
		}
		for j := range e.Elements {
			el := &e.Elements[j]
			w.Begin("IK4")
			writePosition(w, el.Position)
			w.Element(el.Reference)
			w.Element(el.Code)
			w.Element(el.BadValue)
			w.End()
			for k := range el.Contexts {
				writeContext(w, &el.Contexts[k])
			}
		}
	}
	w.Begin("IK5")
	w.Element(s.Status)
	for _, e := range s.Errors {
		w.Element(e)
	}
	w.End()
}

// count writes a positive number, or an empty element for 0 (not given).
func count(w *x12.Writer, n int) {
	if n > 0 {
		w.Int(int64(n))
		return
	}
	w.Empty(1)
}

func itoa(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func writePosition(w *x12.Writer, p ElementPosition) {
	w.Composite(itoa(p.Element), itoa(p.Component), itoa(p.Repeat))
}

func writeContext(w *x12.Writer, c *Context) {
	w.Begin("CTX")
	w.Composite(c.Name, c.Reference)
	w.Element(c.SegmentID)
	count(w, c.Position)
	w.Element(c.Loop)
	writePosition(w, c.Element)
	w.Composite(c.ElementRef, c.ComponentRef)
	w.End()
}

// WriteFile writes a complete 999 interchange: ISA, one GS (GS01 FA,
// GS08 005010X231A1 unless gh says otherwise), one 999 set per group
// response (ST02 0001, 0002, ...), GE and IEA.
func WriteFile(ctx context.Context, out io.Writer, opts x12.WriterOptions, ih x12.InterchangeHeader, gh x12.GroupHeader, groups ...*GroupResponse) error {
	if gh.FunctionalID == "" {
		gh.FunctionalID = "FA"
	}
	if gh.Version == "" {
		gh.Version = Version
	}
	return x12.WriteFile(ctx, out, opts, ih, gh, len(groups), func(w *x12.Writer, control string, i int) error {
		return WriteGroup(w, control, groups[i])
	})
}

// FromFindings turns the findings about one transaction set we received
// (e.g. from x12.Check and an 837 checker) into its 999 set response: one
// IK3 loop per segment with errors, at the segment's position in the set,
// with an IK4 per element error. Warnings are not reported. Rule names map
// to codes: tr3.required 1, tr3.too-many-elements 3, tr3.length 4 or 5,
// tr3.type and segment.character 6, tr3.code 7, tr3.date 8, tr3.time 9,
// tr3.repeat 12, tr3.too-many-components 13, tr3.not-used I10; findings
// without an element give IK304 3 (rules naming a missing or required
// segment), 5 (repeat), 7 (order or structure) or 2 (unexpected).
func FromFindings(id, control, version string, fs x12.Findings) SetResponse {
	s := SetResponse{ID: id, Control: control, Version: version}
	index := map[int]int{} // set position -> index in SegmentErrors
	for _, f := range fs {
		if f.Severity != x12.Error {
			continue
		}
		k, ok := index[f.SetPosition]
		if !ok {
			k = len(s.SegmentErrors)
			index[f.SetPosition] = k
			s.SegmentErrors = append(s.SegmentErrors, SegmentError{SegmentID: f.SegmentID, Position: f.SetPosition, Loop: loopID(f.Loop)})
		}
		e := &s.SegmentErrors[k]
		if f.Element > 0 {
			e.Code = "8"
			e.Elements = append(e.Elements, ElementError{
				Position: ElementPosition{Element: f.Element, Component: f.Component},
				Code:     elementCode(f),
			})
		} else if e.Code == "" {
			e.Code = segmentCode(f.Rule)
		}
	}
	if len(s.SegmentErrors) > 0 {
		s.Status = StatusRejected
		s.Errors = []string{"5"}
	} else {
		s.Status = StatusAccepted
	}
	return s
}

// loopID keeps a loop name that fits IK303 (1-4 characters, e.g. 2300).
func loopID(l string) string {
	if len(l) >= 1 && len(l) <= 4 {
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
				return ""
			}
		}
		return l
	}
	return ""
}

func elementCode(f x12.Finding) string {
	switch f.Rule {
	case "tr3.required":
		return "1"
	case "tr3.too-many-elements":
		return "3"
	case "tr3.length":
		if strings.Contains(f.Message, "at least") {
			return "4"
		}
		return "5"
	case "tr3.type", "segment.character":
		return "6"
	case "tr3.code":
		return "7"
	case "tr3.date":
		return "8"
	case "tr3.time":
		return "9"
	case "tr3.repeat":
		return "12"
	case "tr3.too-many-components":
		return "13"
	case "tr3.not-used":
		return "I10"
	}
	return "7" // a rule on the element's value: the closest code is an invalid value
}

func segmentCode(rule string) string {
	switch {
	case strings.Contains(rule, "missing") || strings.Contains(rule, "required"):
		return "3"
	case strings.Contains(rule, "repeat"):
		return "5"
	case strings.Contains(rule, "order") || strings.Contains(rule, "structure"):
		return "7"
	}
	return "2"
}
