package scrub

import (
	"maps"
	"testing"
)

// TestTotalUnitsTable checks every minute count against the brief's table:
// 8-22 = 1, 23-37 = 2, 38-52 = 3, 53-67 = 4, 68-82 = 5, 83-97 = 6,
// 98-112 = 7, 113-127 = 8 (and below 8 = 0).
func TestTotalUnitsTable(t *testing.T) {
	table := []struct{ lo, hi, units int }{
		{0, 7, 0}, {8, 22, 1}, {23, 37, 2}, {38, 52, 3}, {53, 67, 4},
		{68, 82, 5}, {83, 97, 6}, {98, 112, 7}, {113, 127, 8},
	}
	for _, row := range table {
		for m := row.lo; m <= row.hi; m++ {
			if got := TotalUnits(m); got != row.units {
				t.Errorf("TotalUnits(%d) = %d, want %d", m, got, row.units)
			}
			// One code alone: Medicare and per-code rounding agree.
			if got := MedicareUnits(map[string]int{"97110": m})["97110"]; got != row.units {
				t.Errorf("MedicareUnits(97110: %d) = %d, want %d", m, got, row.units)
			}
			if got := PerCodeUnits(map[string]int{"97110": m})["97110"]; got != row.units {
				t.Errorf("PerCodeUnits(97110: %d) = %d, want %d", m, got, row.units)
			}
		}
	}
	if got := TotalUnits(-5); got != 0 {
		t.Errorf("TotalUnits(-5) = %d", got)
	}
}

func TestMedicareUnits(t *testing.T) {
	cases := []struct {
		name    string
		minutes map[string]int
		want    map[string]int
	}{
		// The brief's example: 47 minutes = 3 units, the remainder unit to
		// the code with more leftover minutes (9 > 8).
		{"brief 24+23", map[string]int{"97112": 24, "97110": 23}, map[string]int{"97112": 2, "97110": 1}},
		// CMS: 33 min 97110 + 7 min 97140 = 40 min = 3 units, 2 + 1.
		{"33+7", map[string]int{"97110": 33, "97140": 7}, map[string]int{"97110": 2, "97140": 1}},
		// 7 + 7 = 14 min = 1 unit; tie on leftover and total: lower code.
		{"7+7 tie", map[string]int{"97140": 7, "97110": 7}, map[string]int{"97110": 1, "97140": 0}},
		// 7 min alone: 0 units.
		{"7 alone", map[string]int{"97110": 7}, map[string]int{"97110": 0}},
		// 5+5+5 = 15 min = 1 unit.
		{"5+5+5", map[string]int{"97110": 5, "97112": 5, "97140": 5}, map[string]int{"97110": 1, "97112": 0, "97140": 0}},
		// Tie on leftover (7 each), more total minutes wins: 22 vs 7.
		{"leftover tie, more minutes", map[string]int{"97110": 7, "97140": 22}, map[string]int{"97110": 0, "97140": 2}},
		// 30 + 15 + 8 = 53 = 4 units: 2 + 1 + 1.
		{"whole units plus 8", map[string]int{"97110": 30, "97112": 15, "97530": 8}, map[string]int{"97110": 2, "97112": 1, "97530": 1}},
		// 38 + 38 = 76 = 5 units: 2 + 2 then leftover 8 vs 8 tie → lower code.
		{"38+38", map[string]int{"97112": 38, "97110": 38}, map[string]int{"97110": 3, "97112": 2}},
		// Three codes, 2 remainder units: 10, 9, 8 leftover → first two.
		{"two remainder units", map[string]int{"97110": 25, "97112": 24, "97140": 23}, map[string]int{"97110": 2, "97112": 2, "97140": 1}},
		{"empty", map[string]int{}, map[string]int{}},
		{"negative counts as zero", map[string]int{"97110": -10, "97112": 30}, map[string]int{"97110": 0, "97112": 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := MedicareUnits(tc.minutes)
			if !maps.Equal(got, tc.want) {
				t.Errorf("MedicareUnits(%v) = %v, want %v", tc.minutes, got, tc.want)
			}
			total, sum := 0, 0
			for code, m := range tc.minutes {
				total += max(m, 0)
				sum += got[code]
			}
			if sum != TotalUnits(total) {
				t.Errorf("units %d do not add up to TotalUnits(%d) = %d", sum, total, TotalUnits(total))
			}
		})
	}
}

// TestMedicareUnitsInvariants checks, over many minute combinations, that
// the allocation adds up to the date's total, gives each code floor(m/15)
// or one more, and never gives an extra unit to a code with less leftover
// than a code without one.
func TestMedicareUnitsInvariants(t *testing.T) {
	codes := []string{"97110", "97112", "97140"}
	for a := 0; a <= 40; a++ {
		for b := 0; b <= 40; b++ {
			for c := 0; c <= 40; c += 3 {
				mins := map[string]int{codes[0]: a, codes[1]: b, codes[2]: c}
				got := MedicareUnits(mins)
				sum := 0
				for _, code := range codes {
					u, m := got[code], mins[code]
					sum += u
					if u != m/15 && u != m/15+1 {
						t.Fatalf("%v: %s got %d units", mins, code, u)
					}
				}
				if sum != TotalUnits(a+b+c) {
					t.Fatalf("%v: %d units, want %d", mins, sum, TotalUnits(a+b+c))
				}
				for _, x := range codes {
					for _, y := range codes {
						xExtra := got[x] > mins[x]/15
						yExtra := got[y] > mins[y]/15
						if xExtra && !yExtra && mins[x]%15 < mins[y]%15 {
							t.Fatalf("%v → %v: %s got the extra unit over %s", mins, got, x, y)
						}
					}
				}
			}
		}
	}
}

func TestPerCodeUnits(t *testing.T) {
	got := PerCodeUnits(map[string]int{"97112": 24, "97110": 23, "97140": 7, "97530": 8})
	want := map[string]int{"97112": 2, "97110": 2, "97140": 0, "97530": 1}
	if !maps.Equal(got, want) {
		t.Errorf("PerCodeUnits = %v, want %v", got, want)
	}
}
