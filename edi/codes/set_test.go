package codes

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCheckAllSetsLoad(t *testing.T) {
	if err := Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
	for _, s := range All() {
		if s.Name() == "" || s.Title() == "" {
			t.Errorf("%s: missing name/title header", s.file)
		}
		if s.Version() != "2026-11" {
			t.Errorf("%s: Version = %q, want 2026-11", s.Name(), s.Version())
		}
		if len(s.Sources()) == 0 {
			t.Errorf("%s: no source header", s.Name())
		}
	}
}

func TestSetSizes(t *testing.T) {
	tests := []struct {
		s        *Set
		name     string
		min, max int
	}{
		{CARC(), "CARC", 400, 450},
		{RARC(), "RARC", 1000, 1100},
		{ClaimStatusCategory(), "ClaimStatusCategory", 45, 60},
		{ClaimStatus(), "ClaimStatus", 700, 800},
		{ClaimPaymentStatus(), "ClaimPaymentStatus", 10, 10},
		{PLBReason(), "PLBReason", 41, 41},
		{GroupCode(), "GroupCode", 5, 5},
		{TransactionSetAck(), "TransactionSetAck", 6, 6},
		{FunctionalGroupAck(), "FunctionalGroupAck", 7, 7},
		{SegmentSyntaxError(), "SegmentSyntaxError", 13, 13},
		{ElementSyntaxError(), "ElementSyntaxError", 19, 19},
		{TransactionSetSyntaxError(), "TransactionSetSyntaxError", 25, 25},
		{FunctionalGroupSyntaxError(), "FunctionalGroupSyntaxError", 20, 20},
	}
	for _, tt := range tests {
		if got := tt.s.Name(); got != tt.name {
			t.Errorf("Name = %q, want %q", got, tt.name)
		}
		if n := tt.s.Len(); n < tt.min || n > tt.max {
			t.Errorf("%s: Len = %d, want %d..%d", tt.name, n, tt.min, tt.max)
		}
		if n := len(tt.s.Codes()); n != tt.s.Len() {
			t.Errorf("%s: Codes() has %d entries, Len %d", tt.name, n, tt.s.Len())
		}
	}
}

func TestKnownCodes(t *testing.T) {
	tests := []struct {
		s    *Set
		code string
		desc string // substring
	}{
		{CARC(), "1", "Deductible"},
		{CARC(), "2", "Coinsurance"},
		{CARC(), "3", "Copayment"},
		{CARC(), "4", "Modifier"},
		{CARC(), "16", "lacks information"},
		{CARC(), "18", "duplicate"},
		{CARC(), "29", "filing"},
		{CARC(), "45", "fee schedule"},
		{CARC(), "50", "medically necessary"},
		{CARC(), "96", "Non-covered"},
		{CARC(), "97", "bundled"},
		{CARC(), "119", "Benefit maximum"},
		{CARC(), "197", "authorization"},
		{CARC(), "253", "Sequestration"},
		{CARC(), "A1", "denied"},
		{RARC(), "N54", "authorized"},
		{RARC(), "M15", "bundled"},
		{RARC(), "N115", "LCD"},
		{RARC(), "N386", "NCD"},
		{RARC(), "N211", "not be appealed"},
		{RARC(), "N362", "exceed"},
		{ClaimStatusCategory(), "A2", "accepted into adjudication"},
		{ClaimStatusCategory(), "A7", "invalid"},
		{ClaimStatus(), "19", "receipt"},
		{ClaimStatus(), "20", "Accepted"},
		{ClaimStatus(), "21", "Missing or invalid"},
		{ClaimPaymentStatus(), "4", "Denied"},
		{ClaimPaymentStatus(), "22", "Reversal"},
		{PLBReason(), "WO", "Overpayment recovery"},
		{PLBReason(), "L6", "Interest"},
		{PLBReason(), "FB", "Forwarding balance"},
		{PLBReason(), "72", "Authorized return"},
		{PLBReason(), "CS", "Adjustment"},
		{GroupCode(), "CO", "Contractual"},
		{GroupCode(), "PR", "Patient responsibility"},
		{TransactionSetAck(), "R", "Rejected"},
		{FunctionalGroupAck(), "P", "Partially accepted"},
		{SegmentSyntaxError(), "3", "Required segment missing"},
		{SegmentSyntaxError(), "I4", "not used"},
		{ElementSyntaxError(), "7", "Invalid code value"},
		{ElementSyntaxError(), "I12", "pattern match"},
		{TransactionSetSyntaxError(), "5", "segments in error"},
		{TransactionSetSyntaxError(), "I5", "segments in error"},
		{FunctionalGroupSyntaxError(), "5", "transaction sets"},
	}
	for _, tt := range tests {
		c, ok := tt.s.Lookup(tt.code)
		if !ok {
			t.Errorf("%s: %s not found", tt.s.Name(), tt.code)
			continue
		}
		if c.Code != tt.code {
			t.Errorf("%s: Lookup(%s).Code = %q", tt.s.Name(), tt.code, c.Code)
		}
		if !strings.Contains(strings.ToLower(c.Description), strings.ToLower(tt.desc)) {
			t.Errorf("%s %s: description %q does not contain %q", tt.s.Name(), tt.code, c.Description, tt.desc)
		}
		if !tt.s.ValidOn(tt.code, day("2026-11-27")) {
			t.Errorf("%s %s: not valid on 2026-11-27", tt.s.Name(), tt.code)
		}
	}
}

// Every code the domain brief and PT billing rely on has a description.
func TestDescribedCodes(t *testing.T) {
	carc := strings.Fields("1 2 3 4 5 8 11 15 16 18 22 23 26 27 29 31 32 35 39 45 50 55 56 96 97 109 119 150 151 181 182 189 197 198 204 243 253")
	for _, c := range carc {
		if x, ok := CARC().Lookup(c); !ok || x.Description == "" {
			t.Errorf("CARC %s: ok=%v description=%q", c, ok, x.Description)
		}
	}
	rarc := strings.Fields("M15 M51 N20 N54 N56 N115 N211 N362 N386 N465 N466 N485 N486")
	for _, c := range rarc {
		if x, ok := RARC().Lookup(c); !ok || x.Description == "" {
			t.Errorf("RARC %s: ok=%v description=%q", c, ok, x.Description)
		}
	}
	for _, s := range []*Set{ClaimPaymentStatus(), PLBReason(), GroupCode(), TransactionSetAck(), FunctionalGroupAck(), SegmentSyntaxError(), TransactionSetSyntaxError(), FunctionalGroupSyntaxError()} {
		for _, c := range s.Codes() {
			if c.Description == "" {
				t.Errorf("%s %s: no description", s.Name(), c.Code)
			}
		}
	}
}

func TestExpectedMembers(t *testing.T) {
	tests := []struct {
		s     *Set
		codes string
	}{
		{ClaimPaymentStatus(), "1 2 3 4 19 20 21 22 23 25"},
		{PLBReason(), "50 51 72 90 AH AM AP B2 B3 BD BN C5 CR CS CT CV CW DM E3 FB FC GO HM IP IR IS J1 L3 L6 LE LS OA OB PI PL RA RE SL TL WO WU"},
		{GroupCode(), "CO OA PI PR CR"},
		{TransactionSetAck(), "A E M R W X"},
		{FunctionalGroupAck(), "A E M P R W X"},
		{SegmentSyntaxError(), "1 2 3 4 5 6 7 8 I4 I6 I7 I8 I9"},
		{ElementSyntaxError(), "1 2 3 4 5 6 7 8 9 10 12 13 I6 I9 I10 I11 I12 I13"},
		{TransactionSetSyntaxError(), "1 2 3 4 5 6 7 8 9 10 11 12 13 15 16 17 18 19 23 24 25 26 27 I5 I6"},
		{FunctionalGroupSyntaxError(), "1 2 3 4 5 6 16 17 18 19 23 24 25 26"},
		{ClaimStatusCategory(), "A0 A1 A2 A3 A4 A5 A6 A7 A8 E0 E1 E2 E3 E4 F0 F1 F2 F3 F4 P0 P1 P2 P3 P4 R0 RQ"},
		{ClaimStatus(), "0 1 3 15 16 19 20 21 23 24 25 26 27 29 30 31 32 33"},
	}
	for _, tt := range tests {
		for _, c := range strings.Fields(tt.codes) {
			if !tt.s.Has(c) {
				t.Errorf("%s: missing %s", tt.s.Name(), c)
			}
		}
	}
	// not members
	for _, tt := range []struct {
		s    *Set
		code string
	}{
		{TransactionSetAck(), "P"}, // P is AK901 only
		{SegmentSyntaxError(), "I5"},
		{ClaimPaymentStatus(), "5"},
		{GroupCode(), "XX"},
	} {
		if tt.s.Has(tt.code) {
			t.Errorf("%s: unexpected member %s", tt.s.Name(), tt.code)
		}
	}
}

func TestDeactivatedCodes(t *testing.T) {
	tests := []struct {
		s                  *Set
		code               string
		validOn, invalidOn string // last valid day, first invalid day
	}{
		{CARC(), "17", "2009-06-30", "2009-07-01"},
		{CARC(), "38", "2012-12-31", "2013-01-01"},
		{CARC(), "42", "2007-05-31", "2007-06-01"},
		{CARC(), "D1", "2003-10-15", "2003-10-16"},
		{CARC(), "D16", "2007-06-29", "2007-06-30"},
		{CARC(), "A2", "2007-12-31", "2008-01-01"},
		{CARC(), "B5", "2016-04-30", "2016-05-01"},
		{CARC(), "W1", "2014-06-30", "2014-07-01"},
		{RARC(), "M33", "2004-07-31", "2004-08-01"},
		{RARC(), "N29", "2016-02-29", "2016-03-01"},
		{RARC(), "N411", "2009-01-31", "2009-02-01"},
		{RARC(), "MA03", "2006-09-30", "2006-10-01"},
		{GroupCode(), "CR", "2011-12-31", "2012-01-01"},
	}
	for _, tt := range tests {
		c, ok := tt.s.Lookup(tt.code)
		if !ok {
			t.Errorf("%s %s: not found", tt.s.Name(), tt.code)
			continue
		}
		if !c.Deactivated() {
			t.Errorf("%s %s: not deactivated", tt.s.Name(), tt.code)
		}
		if !tt.s.ValidOn(tt.code, day(tt.validOn)) {
			t.Errorf("%s %s: should be valid on %s", tt.s.Name(), tt.code, tt.validOn)
		}
		if tt.s.ValidOn(tt.code, day(tt.invalidOn)) {
			t.Errorf("%s %s: should be invalid on %s", tt.s.Name(), tt.code, tt.invalidOn)
		}
		if tt.s.ValidOn(tt.code, day("2026-11-27")) {
			t.Errorf("%s %s: should be invalid today", tt.s.Name(), tt.code)
		}
	}
	// Every D-prefixed CARC was deactivated.
	var d int
	for _, c := range CARC().Codes() {
		if strings.HasPrefix(c.Code, "D") {
			d++
			if !c.Deactivated() {
				t.Errorf("CARC %s: D-codes are all deactivated", c.Code)
			}
		}
	}
	if d != 23 {
		t.Errorf("CARC D-codes: %d, want 23", d)
	}
}

func TestStartDates(t *testing.T) {
	// CARC 253 (sequestration) started 2013-06-02.
	if CARC().ValidOn("253", day("2013-06-01")) || !CARC().ValidOn("253", day("2013-06-02")) {
		t.Error("CARC 253 start date not honoured")
	}
	c, _ := CARC().Lookup("253")
	if c.StartAssumed || !c.Start.Equal(day("2013-06-02")) {
		t.Errorf("CARC 253 Start = %v assumed=%v", c.Start, c.StartAssumed)
	}
	// No sourced start date: DefaultStart applies.
	c, ok := CARC().Lookup("278")
	if !ok || !c.StartAssumed || !c.Start.Equal(DefaultStart) || c.Deactivated() {
		t.Errorf("CARC 278 = %+v, %v", c, ok)
	}
	if CARC().ValidOn("278", DefaultStart.AddDate(0, 0, -1)) || !CARC().ValidOn("278", DefaultStart) {
		t.Error("DefaultStart not honoured")
	}
	// Time of day and location do not matter, only the calendar date.
	est := time.FixedZone("EST", -5*3600)
	if !CARC().ValidOn("17", time.Date(2009, 6, 30, 23, 59, 0, 0, est)) {
		t.Error("CARC 17 on 2009-06-30 23:59 EST should be valid")
	}
}

func TestGroupCodeCR(t *testing.T) {
	c, ok := GroupCode().Lookup("CR")
	if !ok {
		t.Fatal("CR should be known (to explain the rejection)")
	}
	if !strings.Contains(c.Description, "NOT valid in 005010") {
		t.Errorf("CR description = %q", c.Description)
	}
	if GroupCode().ValidOn("CR", day("2026-11-27")) {
		t.Error("CR must not be valid in 5010")
	}
	for _, g := range []string{"CO", "OA", "PI", "PR"} {
		if !GroupCode().ValidOn(g, day("2026-11-27")) {
			t.Errorf("%s should be valid", g)
		}
	}
}

func TestUnknownCodes(t *testing.T) {
	for _, s := range All() {
		for _, code := range []string{"", "ZZZZ", "45 ", " N54", "n54", "\x00"} {
			if _, ok := s.Lookup(code); ok {
				t.Errorf("%s: Lookup(%q) ok", s.Name(), code)
			}
			if _, ok := s.LookupBytes([]byte(code)); ok {
				t.Errorf("%s: LookupBytes(%q) ok", s.Name(), code)
			}
			if s.ValidOn(code, time.Now()) {
				t.Errorf("%s: ValidOn(%q)", s.Name(), code)
			}
		}
		if _, ok := s.LookupBytes(nil); ok {
			t.Errorf("%s: LookupBytes(nil) ok", s.Name())
		}
	}
	var zero Set
	if zero.Len() != 0 || zero.Err() != nil || zero.Has("1") {
		t.Error("zero Set should be empty and error-free")
	}
}

func TestLookupBytesMatchesLookup(t *testing.T) {
	buf := []byte("CAS*CO*N54*45*100")
	c, ok := CARC().LookupBytes(buf[11:13])
	if !ok || c.Code != "45" {
		t.Fatalf("LookupBytes(45) = %+v, %v", c, ok)
	}
	r, ok := RARC().LookupBytes(buf[7:10])
	if !ok || r.Code != "N54" {
		t.Fatalf("LookupBytes(N54) = %+v, %v", r, ok)
	}
}

func TestParseSet(t *testing.T) {
	s, err := ParseSet(strings.NewReader("# name: Test\n# version: v1\n# source: unit test\ncode,start,stop,description\nX1,2020-01-01,2021-01-01,\"a, b\"\nX2,,,\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "Test" || s.Version() != "v1" || s.Len() != 2 || s.Err() != nil {
		t.Fatalf("got name=%q version=%q len=%d err=%v", s.Name(), s.Version(), s.Len(), s.Err())
	}
	if c, _ := s.Lookup("X1"); c.Description != "a, b" {
		t.Errorf("description = %q", c.Description)
	}
	if !s.ValidOn("X1", day("2020-06-01")) || s.ValidOn("X1", day("2021-01-01")) || s.ValidOn("X1", day("2019-12-31")) {
		t.Error("X1 dates wrong")
	}
	bad := []string{
		"",
		"code,start,stop\nX,,\n",
		"code,start,stop,description\nX,2020-13-01,,\n",
		"code,start,stop,description\nX,,2020-02-30,\n",
		"code,start,stop,description\nX,2021-01-01,2020-01-01,\n",
		"code,start,stop,description\nX,,,\nX,,,\n",
		"code,start,stop,description\n,,,\n",
		"code,start,stop,description\n X,,,\n",
		"code,start,stop,description\nX,,\n",
	}
	for _, in := range bad {
		if _, err := ParseSet(strings.NewReader(in)); err == nil {
			t.Errorf("ParseSet(%q): want error", in)
		}
	}
}

func TestConcurrentFirstUse(t *testing.T) {
	s := &Set{file: "data/carc.csv"} // fresh, not yet loaded
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !s.ValidOn("45", day("2026-01-01")) {
				t.Error("45 not valid")
			}
		}()
	}
	wg.Wait()
}

func TestLookupAllocs(t *testing.T) {
	b := []byte("N54")
	d := day("2026-11-27")
	CARC().Len()
	RARC().Len()
	if n := testing.AllocsPerRun(100, func() {
		CARC().Lookup("45")
		RARC().LookupBytes(b)
		CARC().ValidOn("197", d)
		CategoryOutcome("A7")
		Classify("CO", "16", []string{"N54"})
	}); n != 0 {
		t.Errorf("allocs per run = %v, want 0", n)
	}
}

func BenchmarkLookup(b *testing.B) {
	s := CARC()
	s.Len()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := s.Lookup("197"); !ok {
			b.Fatal("not found")
		}
	}
}

func BenchmarkLookupBytes(b *testing.B) {
	s := RARC()
	s.Len()
	code := []byte("N54")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := s.LookupBytes(code); !ok {
			b.Fatal("not found")
		}
	}
}

func BenchmarkValidOn(b *testing.B) {
	s := CARC()
	d := day("2026-11-27")
	b.ReportAllocs()
	for b.Loop() {
		if !s.ValidOn("45", d) {
			b.Fatal("not valid")
		}
	}
}
