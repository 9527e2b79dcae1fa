package assemble

import (
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/claim"
)

// TestTexts: a claim's dates and diagnosis codes made in one block read
// as d8 and strings.ReplaceAll make them, and stay so as more are added
// (across blocks).
func TestTexts(t *testing.T) {
	var ar texts
	type pair struct{ got, want string }
	var all []pair
	for i := 0; i < 100; i++ {
		for _, d := range []claim.Date{{}, {Year: 2025, Month: time.March, Day: 10}, {Year: 5, Month: 1, Day: 2},
			{Year: 9999, Month: 12, Day: 31}, {Year: 12345, Month: 1, Day: 1}, {Year: 2024, Month: 13, Day: 99}, {Year: -1, Month: 1, Day: 1}} {
			all = append(all, pair{ar.d8(d), d8(d)})
		}
		for _, s := range []string{"", "M54.5", "M5416", "...", ".", "A.B.C", "S33.5XXA"} {
			all = append(all, pair{ar.noDots(s), strings.ReplaceAll(s, ".", "")})
		}
	}
	for i, p := range all {
		if p.got != p.want {
			t.Fatalf("%d: %q, want %q", i, p.got, p.want)
		}
	}
}
