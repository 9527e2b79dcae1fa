// Package x999 reads, validates and writes the X12 999 implementation
// acknowledgment (005010X231A1, and the older 005010X231 many payers still
// send): the answer to a functional group we sent, saying for each
// transaction set whether it was accepted (IK5 A or E) or rejected, and
// why (IK3 segment errors, IK4 element errors, CTX contexts).
//
// A 999 transaction set (ST..SE) acknowledges one functional group (AK1
// .. AK9); this package models it as a GroupResponse holding one
// SetResponse per acknowledged transaction set (the AK2 loop). A rejected
// set rejects every claim in it.
//
// Reading: Read returns the whole file; Reader streams it one set response
// at a time with bounded memory. Validation: NewChecker returns an
// x12.SetChecker for x12.Check (Validate wraps both). Writing: Build makes
// a consistent GroupResponse from per-set results and WriteGroup/WriteFile
// write it.
package x999

import (
	"slices"
	"strings"
)

import "github.com/claimgate/claimgate/edi/x12"

// Versions of the 999 this package reads. Version is the current one.
const (
	Version     = "005010X231A1"
	VersionBase = "005010X231" // before the A1 addenda; the same segments
)

// IK501 transaction set acknowledgment codes and AK901 functional group
// acknowledgment codes.
const (
	StatusAccepted           = "A" // accepted
	StatusAcceptedWithErrors = "E" // accepted, but errors were noted
	StatusPartial            = "P" // AK901 only: some sets accepted, some rejected
	StatusRejected           = "R" // rejected
	StatusMACFailed          = "M" // rejected: message authentication code failed
	StatusAssuranceFailed    = "W" // rejected: assurance failed validity tests
	StatusDecryptFailed      = "X" // rejected: content could not be analyzed after decryption
)

// Ack is everything read from one 999 file.
type Ack struct {
	// InterchangeAcks are the TA1 segments found in the file, inside or
	// beside the 999 sets: the receiver's answer about our ISA envelope.
	InterchangeAcks []x12.TA1 `json:"interchange_acks,omitempty"`
	// Groups holds one response per 999 transaction set, in file order.
	Groups []*GroupResponse `json:"groups"`
}

// GroupResponse is one 999 transaction set: the response to one functional
// group we sent (AK1 .. AK9).
type GroupResponse struct {
	// Interchange is ISA13 and Group GS06 of the envelope carrying this 999.
	Interchange string `json:"interchange,omitempty"`
	Group       string `json:"group,omitempty"`
	// Control is this 999's ST02; Version its ST03 (or GS08).
	Control string `json:"control"`
	Version string `json:"version"`

	// AK1: the acknowledged group.
	FunctionalID string `json:"functional_id"` // AK101, e.g. HC for an 837
	GroupControl string `json:"group_control"` // AK102 = our GS06
	GroupVersion string `json:"group_version"` // AK103 = our GS08

	// Sets are the AK2 loops, one per acknowledged transaction set. A
	// streaming Reader leaves it empty.
	Sets []SetResponse `json:"sets"`

	// AK9: the verdict on the whole group.
	Status   string   `json:"status"`           // AK901: A, E, P, R, M, W or X
	Included int      `json:"included"`         // AK902: sets in the group (its GE01)
	Received int      `json:"received"`         // AK903
	Accepted int      `json:"accepted"`         // AK904
	Errors   []string `json:"errors,omitempty"` // AK905..AK909 group syntax error codes
}

// GroupAccepted reports whether AK901 accepts at least part of the group.
func (g *GroupResponse) GroupAccepted() bool {
	return g.Status == StatusAccepted || g.Status == StatusAcceptedWithErrors || g.Status == StatusPartial
}

// SetResponse is one AK2 loop: the verdict on one transaction set we sent.
type SetResponse struct {
	ID      string `json:"id"`                // AK201, e.g. 837
	Control string `json:"control"`           // AK202 = our ST02
	Version string `json:"version,omitempty"` // AK203 = our ST03

	// SegmentErrors are the IK3 loops, one per segment in error.
	SegmentErrors []SegmentError `json:"segment_errors,omitempty"`

	Status string   `json:"status"`           // IK501: A, E, R, M, W or X
	Errors []string `json:"errors,omitempty"` // IK502..IK506 set syntax error codes
}

// Clone returns a deep copy of s, e.g. to keep a set a streaming Reader
// handed out: its control number, bad values and context references are
// views of input the Reader reads over.
func (s *SetResponse) Clone() SetResponse {
	c := *s
	c.Control = strings.Clone(s.Control)
	c.Errors = slices.Clone(s.Errors)
	c.SegmentErrors = slices.Clone(s.SegmentErrors)
	for i := range c.SegmentErrors {
		e := &c.SegmentErrors[i]
		e.Contexts = cloneContexts(e.Contexts)
		e.Elements = slices.Clone(e.Elements)
		for j := range e.Elements {
			el := &e.Elements[j]
			el.BadValue = strings.Clone(el.BadValue)
			el.Contexts = cloneContexts(el.Contexts)
		}
	}
	return c
}

func cloneContexts(cs []Context) []Context {
	cs = slices.Clone(cs)
	for i := range cs {
		cs[i].Reference = strings.Clone(cs[i].Reference)
	}
	return cs
}

// Accepted reports whether the set was accepted (IK501 A or E); every
// other code rejects the set and every claim in it.
func (s *SetResponse) Accepted() bool {
	return s.Status == StatusAccepted || s.Status == StatusAcceptedWithErrors
}

// SegmentError is an IK3 loop: one segment of our set in error.
type SegmentError struct {
	SegmentID string `json:"segment_id"`     // IK301
	Position  int    `json:"position"`       // IK302: position in our set, ST = 1
	Loop      string `json:"loop,omitempty"` // IK303, e.g. 2300
	Code      string `json:"code,omitempty"` // IK304 segment syntax error code

	// Contexts are the CTX segments after IK3: situational triggers and
	// the business unit (e.g. CLM01 with the patient control number).
	Contexts []Context `json:"contexts,omitempty"`
	// Elements are the IK4 loops: element errors in this segment.
	Elements []ElementError `json:"elements,omitempty"`
}

// ElementError is an IK4 loop: one element in error.
type ElementError struct {
	Position  ElementPosition `json:"position"`            // IK401
	Reference string          `json:"reference,omitempty"` // IK402 data element reference number
	Code      string          `json:"code"`                // IK403 element syntax error code
	BadValue  string          `json:"bad_value,omitempty"` // IK404 copy of the bad data
	Contexts  []Context       `json:"contexts,omitempty"`  // CTX after IK4
}

// ElementPosition locates an element (IK401, CTX05): 1-based element
// position, component position and repetition (0 when not given).
type ElementPosition struct {
	Element   int `json:"element"`
	Component int `json:"component,omitempty"`
	Repeat    int `json:"repeat,omitempty"`
}

// Context is a CTX segment.
type Context struct {
	// Name is CTX01-1: "SITUATIONAL TRIGGER" for a segment or element
	// context, or the business unit, e.g. CLM01, TRN02, NM109.
	Name string `json:"name"`
	// Reference is CTX01-2: the business unit value, e.g. the CLM01
	// patient control number of the claim in error.
	Reference string `json:"reference,omitempty"`
	// SegmentID, Position and Loop (CTX02-04) locate the segment that
	// triggered a situational rule.
	SegmentID string `json:"segment_id,omitempty"`
	Position  int    `json:"position,omitempty"`
	Loop      string `json:"loop,omitempty"`
	// Element is CTX05, the element position in that segment.
	Element ElementPosition `json:"element,omitzero"`
	// ElementRef and ComponentRef are CTX06-1 and CTX06-2, data element
	// reference numbers (kept as text: senders put composite ids there).
	ElementRef   string `json:"element_ref,omitempty"`
	ComponentRef string `json:"component_ref,omitempty"`
}

// IsBusinessUnit reports whether the context names a business unit (e.g.
// CLM01) rather than a situational trigger.
func (c *Context) IsBusinessUnit() bool { return c.Name != SituationalTrigger }

// SituationalTrigger is the CTX01-1 value of segment and element contexts.
const SituationalTrigger = "SITUATIONAL TRIGGER"
