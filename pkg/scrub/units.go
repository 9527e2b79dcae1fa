package scrub

import "sort"

// TotalUnits returns the units the Medicare 8-minute rule allows for a
// number of timed minutes: 0 below 8 minutes, else one unit per full 15
// minutes plus one more when the remainder is 8 minutes or more
// (8-22 = 1, 23-37 = 2, 38-52 = 3, ... 113-127 = 8). PerCodeUnits applies
// the same rounding to each code separately.
func TotalUnits(minutes int) int {
	if minutes < 8 {
		return 0
	}
	u := minutes / 15
	if minutes%15 >= 8 {
		u++
	}
	return u
}

// timedAgg is one timed code's minutes and units on a date of service.
type timedAgg struct {
	code     string
	minutes  int
	billed   int
	expected int
	first    int // index of the first line with the code
	missing  bool
	extra    bool // got a unit from the remainder
}

// extraBefore reports whether a deserves a remainder unit before b: larger
// leftover minutes, then more total minutes, then the lower code.
func extraBefore(a, b *timedAgg) bool {
	la, lb := a.minutes%15, b.minutes%15
	if la != lb {
		return la > lb
	}
	if a.minutes != b.minutes {
		return a.minutes > b.minutes
	}
	return a.code < b.code
}

// allocateMedicare sets expected units by the Medicare 8-minute rule: the
// total timed minutes of the date give the total units; each code gets
// floor(minutes/15), and the remaining units go one each to the codes with
// the most leftover minutes (ties: more total minutes, then lower code).
func allocateMedicare(a []timedAgg) {
	total := 0
	for i := range a {
		total += max(a[i].minutes, 0)
	}
	remaining := TotalUnits(total)
	for i := range a {
		a[i].expected = max(a[i].minutes, 0) / 15
		a[i].extra = false
		remaining -= a[i].expected
	}
	for ; remaining > 0; remaining-- {
		best := -1
		for i := range a {
			if a[i].extra || a[i].minutes <= 0 || a[i].minutes%15 == 0 {
				continue
			}
			if best < 0 || extraBefore(&a[i], &a[best]) {
				best = i
			}
		}
		if best < 0 {
			break // cannot happen: each leftover is < 15 minutes
		}
		a[best].expected++
		a[best].extra = true
	}
}

// MedicareUnits applies the Medicare 8-minute rule to the timed minutes of
// one date of service, keyed by procedure code, and returns the units per
// code (codes that get no unit map to 0). Example: 97112 24 min + 97110
// 23 min = 47 min → 3 units: 97112 2, 97110 1. Negative minutes count as 0.
func MedicareUnits(minutes map[string]int) map[string]int {
	a := make([]timedAgg, 0, len(minutes))
	for code, m := range minutes {
		a = append(a, timedAgg{code: code, minutes: m})
	}
	sort.Slice(a, func(i, j int) bool { return a[i].code < a[j].code })
	allocateMedicare(a)
	out := make(map[string]int, len(a))
	for i := range a {
		out[a[i].code] = a[i].expected
	}
	return out
}

// PerCodeUnits rounds each code's minutes separately, as some commercial
// payers do: units = TotalUnits(minutes) for each code.
func PerCodeUnits(minutes map[string]int) map[string]int {
	out := make(map[string]int, len(minutes))
	for code, m := range minutes {
		out[code] = TotalUnits(m)
	}
	return out
}
