package scrub

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/claim"
)

type scrubCase struct {
	name   string
	mutate func(c *claim.Claim)
	want   []string
	// check, when set, looks closer at the edits (severity, line, text).
	check func(t *testing.T, edits []Edit)
}

func runCases(t *testing.T, s *Scrubber, cases []scrubCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := cleanClaim(t)
			if tc.mutate != nil {
				tc.mutate(c)
			}
			edits := s.Scrub(c)
			wantIDs(t, edits, tc.want...)
			if tc.check != nil {
				tc.check(t, edits)
			}
		})
	}
}

// expectEdit asserts that an edit with id is on line n with severity sev
// and that its message contains each of parts.
func expectEdit(id string, n int, sev Severity, parts ...string) func(*testing.T, []Edit) {
	return func(t *testing.T, edits []Edit) {
		t.Helper()
		for _, e := range edits {
			if e.ID != id || e.Line != n {
				continue
			}
			if e.Severity != sev {
				t.Errorf("%s line %d severity = %s, want %s", id, n, e.Severity, sev)
			}
			for _, p := range parts {
				if !strings.Contains(e.Message, p) {
					t.Errorf("%s message %q does not contain %q", id, e.Message, p)
				}
			}
			return
		}
		t.Errorf("no %s edit on line %d in %v", id, n, edits)
	}
}

func TestCleanClaim(t *testing.T) {
	s := newScrubber(t, testConfig())
	c := cleanClaim(t)
	if edits := s.Scrub(c); len(edits) != 0 {
		t.Fatalf("clean claim got edits %v", edits)
	}
	// The same claim for a commercial payer is clean too.
	commercial(c, "ACME")
	if edits := s.Scrub(c); len(edits) != 0 {
		t.Fatalf("clean commercial claim got edits %v", edits)
	}
	// A zero Config (embedded data, zero policy) works as well.
	if edits := newScrubber(t, Config{Now: func() time.Time { return today }}).Scrub(cleanClaim(t)); len(edits) != 0 {
		t.Fatalf("zero config got edits %v", edits)
	}
	if edits := s.Scrub(nil); edits != nil {
		t.Fatalf("nil claim got %v", edits)
	}
}

func TestEightMinuteRule(t *testing.T) {
	s := newScrubber(t, testConfig())
	twoTimed := func(c *claim.Claim, code1 string, m1, u1 int, code2 string, m2, u2 int) {
		c.Lines = c.Lines[:1]
		c.Lines[0].Procedure = "97163" // no NCCI pair with 97110/97112
		addLine(c, claim.Line{Procedure: code1, Modifiers: []string{"GP"}, Minutes: m1, Units: u1})
		addLine(c, claim.Line{Procedure: code2, Modifiers: []string{"GP"}, Minutes: m2, Units: u2})
	}
	runCases(t, s, []scrubCase{
		{name: "over", mutate: func(c *claim.Claim) { line(c, 2).Units = 3 }, want: []string{IDUnitsOver},
			check: expectEdit(IDUnitsOver, 2, Reject, "97110", "3 unit(s)", "supports: 2", "25 of 45 timed minutes", "3 unit(s) in all")},
		{name: "under", mutate: func(c *claim.Claim) { line(c, 2).Units = 1 }, want: []string{IDUnitsUnder},
			check: expectEdit(IDUnitsUnder, 2, Warn, "97110", "supports: 2")},
		{name: "brief example 24+23 min", mutate: func(c *claim.Claim) { twoTimed(c, "97112", 24, 2, "97110", 23, 1) }},
		{name: "brief example misallocated", mutate: func(c *claim.Claim) { twoTimed(c, "97112", 24, 1, "97110", 23, 2) },
			want: []string{IDUnitsOver, IDUnitsUnder},
			check: func(t *testing.T, e []Edit) {
				expectEdit(IDUnitsUnder, 2, Warn, "97112", "supports: 2")(t, e)
				expectEdit(IDUnitsOver, 3, Reject, "97110", "supports: 1")(t, e)
			}},
		{name: "tie computed order", mutate: func(c *claim.Claim) { twoTimed(c, "97110", 22, 2, "97112", 22, 1) }},
		{name: "tie either code accepted", mutate: func(c *claim.Claim) { twoTimed(c, "97110", 22, 1, "97112", 22, 2) }},
		{name: "tie but total over", mutate: func(c *claim.Claim) { twoTimed(c, "97110", 22, 2, "97112", 22, 2) }, want: []string{IDUnitsOver}},
		{name: "under 8 minutes", mutate: func(c *claim.Claim) {
			c.Lines = c.Lines[:2]
			line(c, 2).Minutes, line(c, 2).Units = 7, 1
		}, want: []string{IDUnitsOver}, check: expectEdit(IDUnitsOver, 2, Reject, "supports: 0")},
		{name: "missing minutes", mutate: func(c *claim.Claim) { line(c, 3).Minutes = 0 }, want: []string{IDTimedNoMinutes},
			check: expectEdit(IDTimedNoMinutes, 3, Reject, "97140")},
		{name: "untimed minutes never count", mutate: func(c *claim.Claim) { line(c, 1).Minutes = 45 }},
		{name: "separate dates counted separately", mutate: func(c *claim.Claim) {
			line(c, 3).ServiceDate = claim.Date{Year: 2025, Month: time.March, Day: 11}
			line(c, 3).Modifiers = []string{"GP"} // no longer with 97161
			line(c, 2).Minutes, line(c, 3).Minutes = 23, 7
			line(c, 2).Units, line(c, 3).Units = 2, 1
		}, want: []string{IDUnitsOver}, check: expectEdit(IDUnitsOver, 3, Reject, "97140", "supports: 0")},
	})

	// Per-code payer: 8 + 8 minutes = 1 unit each; the Medicare rule gives
	// 16 minutes = 1 unit in all.
	eightEight := func(c *claim.Claim) {
		line(c, 2).Minutes, line(c, 2).Units = 8, 1
		line(c, 3).Minutes, line(c, 3).Units = 8, 1
	}
	runCases(t, s, []scrubCase{
		{name: "per code 8+8", mutate: func(c *claim.Claim) { commercial(c, "PERCODE"); eightEight(c) }},
		{name: "medicare 8+8", mutate: eightEight, want: []string{IDUnitsOver}},
		{name: "per code over", mutate: func(c *claim.Claim) {
			commercial(c, "PERCODE")
			line(c, 2).Minutes, line(c, 2).Units = 22, 2
		}, want: []string{IDUnitsOver}, check: expectEdit(IDUnitsOver, 2, Reject, "22 minutes support: 1", "separately")},
		{name: "per code under", mutate: func(c *claim.Claim) {
			commercial(c, "PERCODE")
			line(c, 2).Minutes, line(c, 2).Units = 38, 2
		}, want: []string{IDUnitsUnder}},
		{name: "per code missing minutes", mutate: func(c *claim.Claim) { commercial(c, "PERCODE"); line(c, 2).Minutes = 0 }, want: []string{IDTimedNoMinutes}},
		{name: "rule none", mutate: func(c *claim.Claim) {
			commercial(c, "NOTIMED")
			line(c, 2).Units = 9
			line(c, 3).Minutes = 0
		}},
	})
}

func TestUntimedUnits(t *testing.T) {
	s := newScrubber(t, testConfig())
	runCases(t, s, []scrubCase{
		{name: "evaluation 2 units", mutate: func(c *claim.Claim) { line(c, 1).Units = 2 }, want: []string{IDUntimedUnits},
			check: expectEdit(IDUntimedUnits, 1, Reject, "97161", "2 unit(s)")},
		{name: "two evaluation lines", mutate: func(c *claim.Claim) {
			addLine(c, claim.Line{Procedure: "97161", Modifiers: []string{"GP"}, Units: 1})
		}, want: []string{IDUntimedUnits}, check: expectEdit(IDUntimedUnits, 4, Reject)},
		{name: "group 2 units warns", mutate: func(c *claim.Claim) {
			line(c, 1).Procedure, line(c, 1).Units = "97150", 2
			line(c, 2).Modifiers = []string{"59", "GP"} // 97150/97110 pair
		}, want: []string{IDUntimedUnits}, check: expectEdit(IDUntimedUnits, 1, Warn, "97150")},
		{name: "one unit fine", mutate: func(c *claim.Claim) {
			addLine(c, claim.Line{Procedure: "97012", Modifiers: []string{"GP"}, Units: 1})
		}},
		{name: "unknown code ignored", mutate: func(c *claim.Claim) {
			addLine(c, claim.Line{Procedure: "99213", Units: 3})
		}},
	})
}

func TestMedicareCodeStatus(t *testing.T) {
	s := newScrubber(t, testConfig())
	runCases(t, s, []scrubCase{
		{name: "97010 bundled", mutate: func(c *claim.Claim) {
			addLine(c, claim.Line{Procedure: "97010", Modifiers: []string{"GP"}, Units: 1})
		}, want: []string{IDMedicareBundled}, check: expectEdit(IDMedicareBundled, 4, Warn, "97010")},
		{name: "97014 invalid", mutate: func(c *claim.Claim) {
			addLine(c, claim.Line{Procedure: "97014", Modifiers: []string{"GP"}, Units: 1})
		}, want: []string{IDMedicareInvalid}, check: expectEdit(IDMedicareInvalid, 4, Reject, "G0283")},
		{name: "G0283 fine", mutate: func(c *claim.Claim) {
			addLine(c, claim.Line{Procedure: "G0283", Modifiers: []string{"GP"}, Units: 1})
		}},
		{name: "commercial 97010 and 97014", mutate: func(c *claim.Claim) {
			commercial(c, "ACME")
			addLine(c, claim.Line{Procedure: "97010", Modifiers: []string{"GP"}, Units: 1})
			addLine(c, claim.Line{Procedure: "97014", Modifiers: []string{"GP"}, Units: 1})
		}},
	})
}

func TestTimedOncePerDay(t *testing.T) {
	s := newScrubber(t, testConfig())
	second97110 := func(c *claim.Claim) {
		line(c, 2).Minutes, line(c, 2).Units = 25, 2
		addLine(c, claim.Line{Procedure: "97110", Modifiers: []string{"GP"}, Minutes: 10, Units: 1})
	}
	runCases(t, s, []scrubCase{
		// 35 + 20 = 55 minutes = 4 units: 97110 3 (2 + 1), 97140 1.
		{name: "medicare duplicate", mutate: second97110, want: []string{IDTimedDuplicate},
			check: expectEdit(IDTimedDuplicate, 4, Reject, "97110", "line 2")},
		{name: "commercial allows", mutate: func(c *claim.Claim) { commercial(c, "ACME"); second97110(c) }},
		{name: "other date is fine", mutate: func(c *claim.Claim) {
			addLine(c, claim.Line{Procedure: "97110", Modifiers: []string{"GP"}, Minutes: 30, Units: 2,
				ServiceDate: claim.Date{Year: 2025, Month: time.March, Day: 12}})
		}},
	})
}

func TestGP(t *testing.T) {
	s := newScrubber(t, testConfig())
	runCases(t, s, []scrubCase{
		{name: "missing", mutate: func(c *claim.Claim) { line(c, 2).Modifiers = nil }, want: []string{IDGPMissing},
			check: expectEdit(IDGPMissing, 2, Reject, "97110")},
		{name: "lower case accepted", mutate: func(c *claim.Claim) { line(c, 2).Modifiers = []string{"gp"} }},
		{name: "commercial requires too", mutate: func(c *claim.Claim) { commercial(c, "ACME"); line(c, 1).Modifiers = nil }, want: []string{IDGPMissing}},
		{name: "payer without GP rule", mutate: func(c *claim.Claim) { commercial(c, "NOGP"); line(c, 1).Modifiers = nil }},
		{name: "non-PT code", mutate: func(c *claim.Claim) { addLine(c, claim.Line{Procedure: "99213", Units: 1}) }},
	})
}

func TestKX(t *testing.T) {
	s := newScrubber(t, testConfig())
	kxAll := func(c *claim.Claim) {
		for i := range c.Lines {
			c.Lines[i].Modifiers = append(c.Lines[i].Modifiers, "KX")
		}
	}
	runCases(t, s, []scrubCase{
		{name: "past threshold without KX", mutate: func(c *claim.Claim) { c.TherapyYTD = money(t, "2300") },
			want:  []string{IDKXMissing, IDKXMissing, IDKXMissing},
			check: expectEdit(IDKXMissing, 1, Warn, "$2450.00", "$2300.00", "2025", "$2410.00", "UNCONFIRMED")},
		{name: "past threshold with KX", mutate: func(c *claim.Claim) { c.TherapyYTD = money(t, "2300"); kxAll(c) }},
		{name: "crossing mid claim", mutate: func(c *claim.Claim) {
			c.TherapyYTD = money(t, "2250") // + 150 = 2400 (not past), + 90 = 2490
			line(c, 2).Modifiers = []string{"GP", "KX"}
			line(c, 3).Modifiers = []string{"59", "GP", "KX"}
		}},
		{name: "crossing mid claim, KX early", mutate: func(c *claim.Claim) {
			c.TherapyYTD = money(t, "2250")
			kxAll(c)
		}, want: []string{IDKXEarly}, check: expectEdit(IDKXEarly, 1, Warn, "$2400.00")},
		{name: "KX below threshold", mutate: func(c *claim.Claim) { line(c, 2).Modifiers = []string{"GP", "KX"} },
			want: []string{IDKXEarly}},
		{name: "targeted review crossed", mutate: func(c *claim.Claim) { c.TherapyYTD = money(t, "2950"); kxAll(c) },
			want: []string{IDTargetedReview}, check: expectEdit(IDTargetedReview, 1, Warn, "$3000.00")},
		{name: "targeted review already passed", mutate: func(c *claim.Claim) { c.TherapyYTD = money(t, "3500"); kxAll(c) }},
		{name: "2024 confirmed threshold", mutate: func(c *claim.Claim) {
			for i := range c.Lines {
				c.Lines[i].ServiceDate = claim.Date{Year: 2024, Month: time.December, Day: 2}
			}
			c.TherapyYTD = money(t, "2300")
		}, want: []string{IDKXMissing, IDKXMissing, IDKXMissing}, check: func(t *testing.T, e []Edit) {
			expectEdit(IDKXMissing, 1, Warn, "$2330.00")(t, e)
			if strings.Contains(e[0].Message, "UNCONFIRMED") {
				t.Errorf("2024 marked unconfirmed: %s", e[0].Message)
			}
		}},
		{name: "no threshold for the year", mutate: func(c *claim.Claim) {
			for i := range c.Lines {
				c.Lines[i].ServiceDate = claim.Date{Year: 2023, Month: time.June, Day: 1}
			}
		}, want: []string{IDKXNoThreshold, IDTimelyFiling}, check: expectEdit(IDKXNoThreshold, 1, Warn, "2023")},
		{name: "new year starts from zero", mutate: func(c *claim.Claim) {
			// 2024 lines use TherapyYTD; the 2025 line starts the new year.
			c.TherapyYTD = money(t, "2300")
			line(c, 1).ServiceDate = claim.Date{Year: 2024, Month: time.December, Day: 30}
			line(c, 1).Modifiers = []string{"GP", "KX"}
			line(c, 3).Modifiers = []string{"GP"} // 97161 is on another date now
		}},
		{name: "commercial has no KX", mutate: func(c *claim.Claim) { commercial(c, "ACME"); c.TherapyYTD = money(t, "5000") }},
	})
}

func TestCQ(t *testing.T) {
	s := newScrubber(t, testConfig())
	runCases(t, s, []scrubCase{
		{name: "assistant over 10% without CQ", mutate: func(c *claim.Claim) { line(c, 2).AssistantMinutes = 5 },
			want: []string{IDCQMissing}, check: expectEdit(IDCQMissing, 2, Reject, "5 of 25")},
		{name: "assistant exactly 10%", mutate: func(c *claim.Claim) { line(c, 3).AssistantMinutes = 2 }},
		{name: "assistant under 10%", mutate: func(c *claim.Claim) { line(c, 2).AssistantMinutes = 2 }},
		{name: "with CQ and GP", mutate: func(c *claim.Claim) {
			line(c, 2).AssistantMinutes = 25
			line(c, 2).Modifiers = []string{"CQ", "GP"}
		}},
		{name: "CQ without GP", mutate: func(c *claim.Claim) {
			line(c, 2).AssistantMinutes = 25
			line(c, 2).Modifiers = []string{"CQ"}
		}, want: []string{IDCQWithoutGP, IDGPMissing}},
		{name: "CQ without GP, payer not requiring GP", mutate: func(c *claim.Claim) {
			commercial(c, "NOGP")
			line(c, 2).AssistantMinutes = 25
			line(c, 2).Modifiers = []string{"CQ"}
		}, want: []string{IDCQWithoutGP}},
		{name: "CQ without assistant minutes", mutate: func(c *claim.Claim) { line(c, 2).Modifiers = []string{"CQ", "GP"} },
			want: []string{IDCQNoAssistant}, check: expectEdit(IDCQNoAssistant, 2, Warn)},
		{name: "untimed with assistant, no minutes", mutate: func(c *claim.Claim) { line(c, 1).AssistantMinutes = 10 },
			want: []string{IDCQMissing}, check: expectEdit(IDCQMissing, 1, Reject, "no total minutes")},
		{name: "commercial without CQ rule", mutate: func(c *claim.Claim) { commercial(c, "ACME"); line(c, 2).AssistantMinutes = 25 }},
	})
}

func TestModifiers(t *testing.T) {
	s := newScrubber(t, testConfig())
	runCases(t, s, []scrubCase{
		{name: "five modifiers", mutate: func(c *claim.Claim) { line(c, 2).Modifiers = []string{"GP", "76", "77", "GA", "25"} },
			want: []string{IDModTooMany}, check: expectEdit(IDModTooMany, 2, Reject, "5 modifiers")},
		{name: "four modifiers", mutate: func(c *claim.Claim) { line(c, 2).Modifiers = []string{"GP", "76", "77", "GA"} }},
		{name: "59 with XU", mutate: func(c *claim.Claim) { line(c, 3).Modifiers = []string{"59", "XU", "GP"} },
			want: []string{IDMod59AndX}},
		{name: "XS alone", mutate: func(c *claim.Claim) { line(c, 3).Modifiers = []string{"XS", "GP"} }},
		{name: "order GP before 59", mutate: func(c *claim.Claim) { line(c, 3).Modifiers = []string{"GP", "59"} },
			want: []string{IDModOrder}, check: expectEdit(IDModOrder, 3, Warn, "GP 59")},
		{name: "order KX before GP", mutate: func(c *claim.Claim) {
			c.TherapyYTD = money(t, "3500")
			for i := range c.Lines {
				c.Lines[i].Modifiers = []string{"KX", "GP"}
			}
			line(c, 3).Modifiers = []string{"XU", "GP", "KX"}
		}, want: []string{IDModOrder, IDModOrder}},
		{name: "other modifiers do not matter for order", mutate: func(c *claim.Claim) { line(c, 3).Modifiers = []string{"59", "76", "GP"} }},
	})
}

func TestNCCI(t *testing.T) {
	s := newScrubber(t, testConfig())
	runCases(t, s, []scrubCase{
		{name: "eval + manual therapy without modifier", mutate: func(c *claim.Claim) { line(c, 3).Modifiers = []string{"GP"} },
			want: []string{IDNCCIModifier}, check: expectEdit(IDNCCIModifier, 3, Reject, "97140", "97161 (line 1)")},
		{name: "XU bypasses", mutate: func(c *claim.Claim) { line(c, 3).Modifiers = []string{"XU", "GP"} }},
		{name: "modifier on column-1 line does not count", mutate: func(c *claim.Claim) {
			line(c, 1).Modifiers = []string{"59", "GP"}
			line(c, 3).Modifiers = []string{"GP"}
		}, want: []string{IDNCCIModifier}, check: expectEdit(IDNCCIModifier, 3, Reject, "column-1 line does not count")},
		{name: "other date no pair", mutate: func(c *claim.Claim) {
			line(c, 3).Modifiers = []string{"GP"}
			line(c, 3).ServiceDate = claim.Date{Year: 2025, Month: time.March, Day: 11}
		}},
		{name: "97140 + 97530 both column-2 lines flagged once", mutate: func(c *claim.Claim) {
			line(c, 3).Modifiers = []string{"GP"}
			addLine(c, claim.Line{Procedure: "97530", Modifiers: []string{"GP"}, Minutes: 15, Units: 1})
			line(c, 2).Minutes, line(c, 2).Units = 25, 2 // 25+20+15 = 60 = 4 units
		}, want: []string{IDNCCIModifier, IDNCCIModifier}, check: func(t *testing.T, e []Edit) {
			expectEdit(IDNCCIModifier, 3, Reject, "97161")(t, e)
			expectEdit(IDNCCIModifier, 4, Reject, "97140 (line 3)")(t, e)
		}},
		{name: "two column-1 lines report once", mutate: func(c *claim.Claim) {
			commercial(c, "ACME")
			line(c, 3).Modifiers = []string{"GP"}
			addLine(c, claim.Line{Procedure: "97161", Modifiers: []string{"GP"}, Units: 1})
		}, want: []string{IDNCCIModifier, IDUntimedUnits}},
		{name: "group and re-eval", mutate: func(c *claim.Claim) {
			c.Lines = c.Lines[:1]
			line(c, 1).Procedure = "97150"
			addLine(c, claim.Line{Procedure: "97164", Modifiers: []string{"GP"}, Units: 1})
		}, want: []string{IDNCCIModifier}, check: expectEdit(IDNCCIModifier, 2, Reject, "97164")},
		{name: "payer without NCCI", mutate: func(c *claim.Claim) { commercial(c, "NONCCI"); line(c, 3).Modifiers = []string{"GP"} }},
	})

	// A table with an indicator-0 pair and dated pairs.
	tbl, err := ParseNCCI(strings.NewReader(`# name: NCCIPTP
# version: test-1
column1,column2,modifier_indicator,effective,deletion,source
97161,97140,0,,,test
97161,97110,1,2025-04-01,,test
97110,97140,1,,2025-03-10,test
97161,97163,9,,,test
`))
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.NCCI = tbl
	s2 := newScrubber(t, cfg)
	cfg.Now = func() time.Time { return time.Date(2025, time.April, 2, 12, 0, 0, 0, time.UTC) }
	s3 := newScrubber(t, cfg)
	runCases(t, s3, []scrubCase{
		{name: "effective on its first day", mutate: func(c *claim.Claim) {
			line(c, 1).Procedure = "97162"
			addLine(c, claim.Line{Procedure: "97161", Modifiers: []string{"GP"}, Units: 1})
			line(c, 3).Procedure, line(c, 3).Minutes = "97112", 20 // away from the 0 pair
			for i := range c.Lines {
				c.Lines[i].ServiceDate = claim.Date{Year: 2025, Month: time.April, Day: 1}
			}
		}, want: []string{IDNCCIModifier}, check: expectEdit(IDNCCIModifier, 2, Reject, "97161 (line 4)")},
	})
	runCases(t, s2, []scrubCase{
		// 97140 has 59 in the clean claim: indicator 0 ignores it.
		{name: "indicator 0 never bypassed", want: []string{IDNCCINoBypass}, check: expectEdit(IDNCCINoBypass, 3, Reject, "indicator 0")},
		{name: "not yet effective and deleted", mutate: func(c *claim.Claim) {
			line(c, 1).Procedure = "97162" // drop the 0 pair; 97161/97110 starts 2025-04-01, 97110/97140 ended 2025-03-10
		}},
		{name: "applies the day before its deletion", mutate: func(c *claim.Claim) {
			line(c, 1).Procedure = "97162"
			line(c, 3).Modifiers = []string{"GP"}
			for i := range c.Lines {
				c.Lines[i].ServiceDate = claim.Date{Year: 2025, Month: time.March, Day: 9}
			}
		}, want: []string{IDNCCIModifier}, check: expectEdit(IDNCCIModifier, 3, Reject, "97110 (line 2)")},
	})
}

func TestPriorAuth(t *testing.T) {
	s := newScrubber(t, testConfig())
	runCases(t, s, []scrubCase{
		{name: "all lines missing", mutate: func(c *claim.Claim) { commercial(c, "AUTHALL") },
			want: []string{IDAuthMissing, IDAuthMissing, IDAuthMissing}, check: expectEdit(IDAuthMissing, 2, Reject, "97110", "REF*G1")},
		{name: "claim level", mutate: func(c *claim.Claim) { commercial(c, "AUTHALL"); c.PriorAuth = "AUTH12345" }},
		{name: "line level", mutate: func(c *claim.Claim) {
			commercial(c, "AUTHALL")
			for i := range c.Lines {
				c.Lines[i].PriorAuth = "AUTH12345"
			}
		}},
		{name: "one line level missing", mutate: func(c *claim.Claim) {
			commercial(c, "AUTHALL")
			line(c, 1).PriorAuth = "AUTH1"
			line(c, 2).PriorAuth = " "
			line(c, 3).PriorAuth = "AUTH3"
		}, want: []string{IDAuthMissing}, check: expectEdit(IDAuthMissing, 2, Reject)},
		{name: "only 97140", mutate: func(c *claim.Claim) { commercial(c, "AUTH97140") },
			want: []string{IDAuthMissing}, check: expectEdit(IDAuthMissing, 3, Reject, "97140")},
		{name: "not required", mutate: func(c *claim.Claim) { commercial(c, "ACME") }},
	})
}

func TestClaimLevel(t *testing.T) {
	s := newScrubber(t, testConfig())
	runCases(t, s, []scrubCase{
		{name: "billing NPI check digit", mutate: func(c *claim.Claim) { c.Billing.NPI = "1245319598" },
			want: []string{IDNPIInvalid}, check: func(t *testing.T, e []Edit) {
				if e[0].Field != "billing_provider.npi" {
					t.Errorf("field %q", e[0].Field)
				}
			}},
		{name: "billing NPI missing", mutate: func(c *claim.Claim) { c.Billing.NPI = "" }, want: []string{IDNPIInvalid}},
		{name: "rendering NPI", mutate: func(c *claim.Claim) { c.Rendering.NPI = "123456789" }, want: []string{IDNPIInvalid}},
		{name: "referring and facility NPIs", mutate: func(c *claim.Claim) {
			c.Referring = &claim.Provider{NPI: "1234567890"}
			c.Facility = &claim.Facility{NPI: "3234567893"}
		}, want: []string{IDNPIInvalid, IDNPIInvalid}},
		{name: "valid optional NPIs", mutate: func(c *claim.Claim) {
			c.Referring = &claim.Provider{NPI: "1234567893"}
			c.Facility = &claim.Facility{NPI: "1932102084"}
		}},
		{name: "zero total", mutate: func(c *claim.Claim) {
			for i := range c.Lines {
				c.Lines[i].Charge = 0
			}
		}, want: []string{IDTotalNotPositive, IDChargeNotPositive, IDChargeNotPositive, IDChargeNotPositive}},
		{name: "negative line", mutate: func(c *claim.Claim) { line(c, 3).Charge = -4500 },
			want: []string{IDChargeNotPositive}, check: expectEdit(IDChargeNotPositive, 3, Reject, "-$45.00")},
		{name: "no pointer", mutate: func(c *claim.Claim) { line(c, 2).DiagnosisPointers = nil }, want: []string{IDDxPointer}},
		{name: "five pointers", mutate: func(c *claim.Claim) {
			c.Diagnoses = []string{"M5450", "M6281", "M25561", "M25562", "R262"}
			line(c, 2).DiagnosisPointers = []int{1, 2, 3, 4, 5}
		}, want: []string{IDDxPointer}},
		{name: "pointer past diagnoses", mutate: func(c *claim.Claim) { line(c, 2).DiagnosisPointers = []int{1, 3} },
			want: []string{IDDxPointer}, check: expectEdit(IDDxPointer, 2, Reject, "pointer 2 is 3", "2 diagnoses")},
		{name: "pointer zero", mutate: func(c *claim.Claim) { line(c, 2).DiagnosisPointers = []int{0} }, want: []string{IDDxPointer}},
		{name: "duplicate diagnosis", mutate: func(c *claim.Claim) { c.Diagnoses = []string{"M5450", "M6281", "m54.50"} },
			want: []string{IDDxDuplicate}, check: func(t *testing.T, e []Edit) {
				if strings.Contains(e[0].Message, "M54") {
					t.Errorf("message names the diagnosis: %s", e[0].Message)
				}
			}},
		{name: "thirteen diagnoses", mutate: func(c *claim.Claim) {
			c.Diagnoses = []string{"M5450", "M6281", "M25561", "M25562", "R262", "M1711", "M1712", "Z9661", "R2681", "M25661", "M25662", "M7989", "G8929"}
		}, want: []string{IDDxTooMany}},
		{name: "sequela primary", mutate: func(c *claim.Claim) { c.Diagnoses = []string{"S83.511S", "M6281"} },
			want: []string{IDDxSequelaPrimary}},
		{name: "sequela secondary", mutate: func(c *claim.Claim) { c.Diagnoses = []string{"M6281", "S83511S"} }},
		{name: "initial encounter primary", mutate: func(c *claim.Claim) { c.Diagnoses = []string{"S83511A", "M6281"} }},
		{name: "six-char code ending S is no sequela", mutate: func(c *claim.Claim) { c.Diagnoses = []string{"M6281", "M1711"} }},
		{name: "replacement without F8", mutate: func(c *claim.Claim) { c.Frequency = claim.FrequencyReplacement },
			want: []string{IDOriginalRefNeeded}},
		{name: "void without F8", mutate: func(c *claim.Claim) { c.Frequency = claim.FrequencyVoid }, want: []string{IDOriginalRefNeeded}},
		{name: "replacement with F8", mutate: func(c *claim.Claim) { c.Frequency = claim.FrequencyReplacement; c.OriginalRef = "2225001234567" }},
		{name: "original with F8", mutate: func(c *claim.Claim) { c.OriginalRef = "2225001234567" }, want: []string{IDOriginalRefExtra}},
		{name: "future date", mutate: func(c *claim.Claim) { line(c, 2).ServiceDate = claim.Date{Year: 2025, Month: time.March, Day: 21} },
			want: []string{IDDateFuture}},
		{name: "today is not future", mutate: func(c *claim.Claim) {
			for i := range c.Lines {
				c.Lines[i].ServiceDate = claim.Date{Year: 2025, Month: time.March, Day: 20}
			}
		}},
		{name: "before birth", mutate: func(c *claim.Claim) { c.Subscriber.Birth = claim.Date{Year: 2025, Month: time.March, Day: 11} },
			want: []string{IDDateBeforeBirth, IDDateBeforeBirth, IDDateBeforeBirth}},
		{name: "patient birth used", mutate: func(c *claim.Claim) {
			c.Patient = &claim.Patient{Relationship: "19", Name: claim.Name{Last: phiLast, First: "Junior"}, Birth: claim.Date{Year: 2025, Month: time.March, Day: 11}}
		}, want: []string{IDDateBeforeBirth, IDDateBeforeBirth, IDDateBeforeBirth}},
		{name: "missing date", mutate: func(c *claim.Claim) { line(c, 3).ServiceDate = claim.Date{}; line(c, 3).Modifiers = []string{"GP"} },
			want: []string{IDDateMissing}},
		{name: "timely filing passed", mutate: func(c *claim.Claim) {
			for i := range c.Lines {
				c.Lines[i].ServiceDate = claim.Date{Year: 2024, Month: time.March, Day: 19}
			}
		}, want: []string{IDTimelyFiling}, check: expectEdit(IDTimelyFiling, 1, Warn, "3 line(s)", "12 months")},
		{name: "timely filing last day", mutate: func(c *claim.Claim) {
			for i := range c.Lines {
				c.Lines[i].ServiceDate = claim.Date{Year: 2024, Month: time.March, Day: 20}
			}
		}},
		{name: "commercial no filing limit", mutate: func(c *claim.Claim) {
			commercial(c, "ACME")
			for i := range c.Lines {
				c.Lines[i].ServiceDate = claim.Date{Year: 2023, Month: time.January, Day: 5}
			}
		}},
		{name: "telehealth claim", mutate: func(c *claim.Claim) { c.PlaceOfService = "02" }, want: []string{IDTelehealth},
			check: expectEdit(IDTelehealth, 0, Warn, "02")},
		{name: "telehealth line", mutate: func(c *claim.Claim) { line(c, 2).PlaceOfService = "10" }, want: []string{IDTelehealth},
			check: expectEdit(IDTelehealth, 2, Warn, "10")},
	})
}

func TestClockLocation(t *testing.T) {
	// 2025-03-10 02:00 UTC is still 2025-03-09 in New York: a 03-10 service is in the future there.
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	cfg := testConfig()
	cfg.Now = func() time.Time { return time.Date(2025, time.March, 10, 2, 0, 0, 0, time.UTC) }
	cfg.Location = loc
	wantIDs(t, newScrubber(t, cfg).Scrub(cleanClaim(t)), IDDateFuture, IDDateFuture, IDDateFuture)
	cfg.Location = nil
	wantIDs(t, newScrubber(t, cfg).Scrub(cleanClaim(t)))
}

func TestEditsSorted(t *testing.T) {
	s := newScrubber(t, testConfig())
	c := cleanClaim(t)
	c.Billing.NPI = "1"
	line(c, 3).Modifiers = nil
	line(c, 1).Units = 2
	edits := s.Scrub(c)
	for i := 1; i < len(edits); i++ {
		a, b := edits[i-1], edits[i]
		if a.Line > b.Line || a.Line == b.Line && a.ID > b.ID {
			t.Fatalf("edits not sorted: %v", edits)
		}
	}
	if edits[0].Line != 0 || !HasReject(edits) {
		t.Fatalf("unexpected %v", edits)
	}
}

func TestPolicyLookup(t *testing.T) {
	cfg := testConfig()
	mcrByID := MedicarePolicy()
	mcrByID.TimelyFilingMonths = 6
	cfg.Payers["MCRSPECIAL"] = mcrByID
	s := newScrubber(t, cfg)
	c := cleanClaim(t)
	if p := s.PolicyFor(c); !p.KX || p.TimelyFilingMonths != 12 {
		t.Errorf("MB filing code: %+v", p)
	}
	c.Payer.ID = "MCRSPECIAL"
	if p := s.PolicyFor(c); p.TimelyFilingMonths != 6 {
		t.Errorf("payer id should win over filing code: %+v", p)
	}
	c.Payer.ID, c.Subscriber.FilingCode = "OTHER", "CI"
	if p := s.PolicyFor(c); p.KX || !p.RequireGP {
		t.Errorf("default: %+v", p)
	}
	c.Payer.ID = "AUTH97140"
	if p := s.PolicyFor(c); !p.PriorAuth.Required || len(p.PriorAuth.Codes) != 1 {
		t.Errorf("auth policy: %+v", p)
	}
	// Changing the config after New does not change the scrubber.
	cfg.Payers["AUTH97140"] = Policy{}
	if p := s.PolicyFor(c); !p.PriorAuth.Required {
		t.Errorf("config change leaked into scrubber")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"timed rule":    {Default: Policy{TimedUnits: "eight-minute"}},
		"payer":         {Payers: map[string]Policy{"X": {TimedUnits: "x"}}},
		"filing code":   {FilingCodes: map[string]Policy{"MB": {TimelyFilingMonths: -1}}},
		"auth code":     {Default: Policy{PriorAuth: PriorAuthRule{Required: true, Codes: []string{"97"}}}},
		"auth code ok?": {},
	} {
		_, err := New(cfg)
		if name == "auth code ok?" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: New accepted a bad config", name)
		}
	}
}

// TestPHINotInMessages scrubs claims that raise as many edits as possible
// and checks no message carries the patient's name, member id or birth date.
func TestPHINotInMessages(t *testing.T) {
	seen := NewMemorySeen()
	cfg := testConfig()
	cfg.Seen = seen
	s := newScrubber(t, cfg)
	forbidden := []string{phiLast, phiFirst, phiMemberID, phiBirth.String(), phiBirth.D8(), "04/17/1950", "1950"}

	bad := cleanClaim(t)
	bad.Billing.NPI = "1234567890"
	bad.Rendering.NPI = "12"
	bad.Diagnoses = []string{"S83511S", "S83511S"}
	bad.OriginalRef = "X1"
	bad.PlaceOfService = "02"
	bad.TherapyYTD = money(t, "2950")
	bad.Patient = &claim.Patient{Relationship: "19", Name: claim.Name{Last: phiLast, First: phiFirst}, Birth: phiBirth}
	line(bad, 1).Units = 2
	line(bad, 1).AssistantMinutes = 5
	line(bad, 2).Units = 5
	line(bad, 2).Modifiers = []string{"GP", "CQ", "59", "XU", "KX"}
	line(bad, 3).Modifiers = nil
	line(bad, 3).Minutes = 0
	addLine(bad, claim.Line{Procedure: "97014", Units: 2, Charge: -1, DiagnosisPointers: []int{9},
		ServiceDate: claim.Date{Year: 2024, Month: time.January, Day: 2}, PlaceOfService: "10"})
	addLine(bad, claim.Line{Procedure: "97010", Units: 1, ServiceDate: claim.Date{Year: 2026, Month: time.January, Day: 2}})
	addLine(bad, claim.Line{Procedure: "97110", Units: 1, Minutes: 10, ServiceDate: claim.Date{Year: 1940, Month: time.January, Day: 2}})
	if err := s.Remember(t.Context(), bad); err != nil {
		t.Fatal(err)
	}
	authed := cleanClaim(t)
	commercial(authed, "AUTHALL")
	line(authed, 2).Modifiers = []string{"GP", "CQ"}

	kinds := map[string]bool{}
	for _, c := range []*claim.Claim{bad, authed} {
		for _, e := range s.Scrub(c) {
			kinds[e.ID] = true
			for _, f := range forbidden {
				if strings.Contains(e.Message, f) || strings.Contains(e.String(), f) {
					t.Errorf("%s message contains PHI %q: %s", e.ID, f, e.Message)
				}
			}
		}
	}
	if len(kinds) < 25 {
		t.Errorf("PHI test raised only %d kinds of edit: %v", len(kinds), kinds)
	}
	key, _ := s.DuplicateKey(bad)
	for _, f := range forbidden {
		if strings.Contains(key, f) {
			t.Errorf("duplicate key contains %q", f)
		}
	}
}

func TestConcurrentScrub(t *testing.T) {
	cfg := testConfig()
	cfg.Seen = NewMemorySeen()
	s := newScrubber(t, cfg)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				c := cleanClaim(t)
				if i%2 == 0 {
					line(c, 2).Units = 3
				}
				edits := s.Scrub(c)
				if want := 1 - i%2; len(edits) != want {
					t.Errorf("got %v", edits)
					return
				}
			}
		}()
	}
	wg.Wait()
}
