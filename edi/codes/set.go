package codes

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultStart is the start date applied to a code whose data row gives no
// start date (the public source did not publish one). It predates HIPAA
// 004010 adoption, so such codes count as valid for any claim claimgate can
// see; [Code.StartAssumed] tells them apart from codes with a sourced date.
var DefaultStart = time.Date(2003, time.January, 1, 0, 0, 0, 0, time.UTC)

// Code is one entry of a code set.
type Code struct {
	// Code is the value as transmitted in X12, for example "45" or "N54".
	Code string
	// Description is a short project-written summary; it may be empty.
	Description string
	// Start is the first day the code may be used (UTC midnight).
	Start time.Time
	// Stop is the first day the code may no longer be used (UTC
	// midnight); the zero Time means the code has not been deactivated.
	Stop time.Time
	// StartAssumed reports that the data gave no start date and Start is
	// DefaultStart.
	StartAssumed bool

	start, stop int32 // yyyymmdd, stop == 0 when active
}

// Deactivated reports whether the code has a stop date.
func (c Code) Deactivated() bool { return c.stop != 0 }

// ValidOn reports whether the code may be used on the calendar date of d
// (taken in d's own location): Start <= date < Stop.
func (c Code) ValidOn(d time.Time) bool {
	day := dayOf(d)
	return day >= c.start && (c.stop == 0 || day < c.stop)
}

func dayOf(t time.Time) int32 {
	y, m, d := t.Date()
	return int32(y*10000 + int(m)*100 + d)
}

// Set is an immutable code set loaded from one data file. The zero Set is
// empty. Sets are safe for concurrent use.
type Set struct {
	file string // embedded file name, "" for parsed sets

	once    sync.Once
	name    string
	title   string
	version string
	sources []string
	m       map[string]Code
	err     error
}

func (s *Set) load() {
	s.once.Do(func() {
		if s.file == "" {
			s.m = map[string]Code{}
			return
		}
		b, err := dataFS.ReadFile(s.file)
		if err != nil {
			s.err = err
			s.m = map[string]Code{}
			return
		}
		s.err = s.parse(bytes.NewReader(b))
		if s.err != nil {
			s.err = fmt.Errorf("codes: %s: %w", s.file, s.err)
		}
	})
}

// ParseSet reads a code set in the data/ CSV format: optional "# key: value"
// header lines (name, title, version, source), then a header row
// "code,start,stop,description" and one row per code. Dates are YYYY-MM-DD;
// an empty start means DefaultStart, an empty stop means active. It lets
// operators load a newer list at run time without rebuilding.
func ParseSet(r io.Reader) (*Set, error) {
	s := &Set{}
	s.once.Do(func() {})
	if err := s.parse(r); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Set) parse(r io.Reader) error {
	s.m = map[string]Code{}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(strings.TrimSpace(line[1:]), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(key) {
		case "name":
			s.name = val
		case "title":
			s.title = val
		case "version":
			s.version = val
		case "source":
			s.sources = append(s.sources, val)
		}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	header := true
	m := map[string]Code{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		line, _ := cr.FieldPos(0)
		if header {
			header = false
			if len(rec) < 4 || rec[0] != "code" || rec[1] != "start" || rec[2] != "stop" || rec[3] != "description" {
				return fmt.Errorf("line %d: header must be code,start,stop,description", line)
			}
			continue
		}
		if len(rec) != 4 {
			return fmt.Errorf("line %d: want 4 fields, got %d", line, len(rec))
		}
		c := Code{Code: rec[0], Description: rec[3]}
		if c.Code == "" || strings.TrimSpace(c.Code) != c.Code {
			return fmt.Errorf("line %d: empty or padded code %q", line, c.Code)
		}
		if _, dup := m[c.Code]; dup {
			return fmt.Errorf("line %d: duplicate code %q", line, c.Code)
		}
		if rec[1] == "" {
			c.Start, c.StartAssumed = DefaultStart, true
		} else if c.Start, err = time.Parse(time.DateOnly, rec[1]); err != nil {
			return fmt.Errorf("line %d: code %s: start: %w", line, c.Code, err)
		}
		c.start = dayOf(c.Start)
		if rec[2] != "" {
			if c.Stop, err = time.Parse(time.DateOnly, rec[2]); err != nil {
				return fmt.Errorf("line %d: code %s: stop: %w", line, c.Code, err)
			}
			c.stop = dayOf(c.Stop)
			if !c.StartAssumed && c.stop <= c.start {
				return fmt.Errorf("line %d: code %s: stop %s not after start %s", line, c.Code, rec[2], rec[1])
			}
		}
		m[c.Code] = c
	}
	if header {
		return errors.New("no header row")
	}
	s.m = m
	return nil
}

// Lookup returns the code's entry, or ok == false for an unknown code. It
// does not consider dates; see ValidOn. It does not allocate.
func (s *Set) Lookup(code string) (Code, bool) {
	s.load()
	c, ok := s.m[code]
	return c, ok
}

// LookupBytes is Lookup for a code still in the input buffer (for example an
// element slice from the X12 reader). It does not allocate.
func (s *Set) LookupBytes(code []byte) (Code, bool) {
	s.load()
	c, ok := s.m[string(code)]
	return c, ok
}

// Has reports whether the code is in the set, whatever its dates.
func (s *Set) Has(code string) bool {
	_, ok := s.Lookup(code)
	return ok
}

// ValidOn reports whether code is in the set and may be used on the
// calendar date of d: Start <= date < Stop. An unknown code is not valid.
func (s *Set) ValidOn(code string, d time.Time) bool {
	c, ok := s.Lookup(code)
	return ok && c.ValidOn(d)
}

// Name returns the set's short name from its data header, e.g. "CARC".
func (s *Set) Name() string { s.load(); return s.name }

// Title returns the set's descriptive title from its data header.
func (s *Set) Title() string { s.load(); return s.title }

// Version returns the data version from the set's header, e.g. "2026-11".
func (s *Set) Version() string { s.load(); return s.version }

// Sources returns the provenance lines of the set's data header.
func (s *Set) Sources() []string { s.load(); return append([]string(nil), s.sources...) }

// Len returns the number of codes in the set, deactivated ones included.
func (s *Set) Len() int { s.load(); return len(s.m) }

// Codes returns a copy of all entries, sorted by code.
func (s *Set) Codes() []Code {
	s.load()
	out := make([]Code, 0, len(s.m))
	for _, c := range s.m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Err reports why the set's data failed to load; nil when it loaded. A set
// that failed to load is empty.
func (s *Set) Err() error { s.load(); return s.err }
