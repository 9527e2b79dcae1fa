package scrub

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/pkg/claim"
)

// Distinctive PHI used by every test claim, so the PHI test can look for it.
const (
	phiLast     = "Quixotewhistle"
	phiFirst    = "Zebulonia"
	phiMemberID = "1EG4TE5MK73"
)

var (
	phiBirth = claim.Date{Year: 1950, Month: time.April, Day: 17}
	dos      = claim.Date{Year: 2025, Month: time.March, Day: 10}
	today    = time.Date(2025, time.March, 20, 15, 0, 0, 0, time.UTC)
)

func money(t testing.TB, s string) claim.Money {
	t.Helper()
	m, err := claim.ParseMoney(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// cleanClaim is a realistic Medicare PT claim that passes every edit: an
// evaluation, 25 minutes of therapeutic exercise (2 units) and 20 minutes
// of manual therapy (1 unit; 59 because 97161/97140 is an NCCI pair), all
// with GP: 45 timed minutes = 3 units.
func cleanClaim(t testing.TB) *claim.Claim {
	return &claim.Claim{
		ID:    "PCN-1001",
		Payer: claim.Payer{ID: "MCR01", Name: "Medicare Part B"},
		Billing: claim.Provider{
			Entity: claim.Organization, Name: claim.Name{Last: "Riverbend Physical Therapy"},
			NPI: "1245319599", TaxID: "123456789", TaxIDType: "EI", Taxonomy: "225100000X",
		},
		Rendering: &claim.Provider{Entity: claim.Person, Name: claim.Name{Last: "Okafor", First: "Ada"}, NPI: "1679576722", Taxonomy: "225100000X"},
		Subscriber: claim.Subscriber{
			MemberID: phiMemberID, Name: claim.Name{Last: phiLast, First: phiFirst},
			Birth: phiBirth, Gender: "F", Sequence: "P", FilingCode: "MB",
		},
		PlaceOfService: "11",
		Frequency:      claim.FrequencyOriginal,
		Diagnoses:      []string{"M5450", "M6281"},
		TherapyYTD:     money(t, "400"),
		Lines: []claim.Line{
			{Procedure: "97161", Modifiers: []string{"GP"}, Charge: money(t, "150"), Units: 1, DiagnosisPointers: []int{1, 2}, ServiceDate: dos},
			{Procedure: "97110", Modifiers: []string{"GP"}, Charge: money(t, "90"), Units: 2, Minutes: 25, DiagnosisPointers: []int{1}, ServiceDate: dos},
			{Procedure: "97140", Modifiers: []string{"59", "GP"}, Charge: money(t, "45"), Units: 1, Minutes: 20, DiagnosisPointers: []int{1}, ServiceDate: dos},
		},
	}
}

// testConfig is DefaultConfig with a fixed clock and a few test payers.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Now = func() time.Time { return today }
	perCode := CommercialPolicy()
	perCode.TimedUnits = TimedPerCode
	noGP := CommercialPolicy()
	noGP.RequireGP = false
	none := CommercialPolicy()
	none.TimedUnits = TimedNone
	noNCCI := CommercialPolicy()
	noNCCI.NCCI = false
	authAll := CommercialPolicy()
	authAll.PriorAuth = PriorAuthRule{Required: true}
	auth97140 := CommercialPolicy()
	auth97140.PriorAuth = PriorAuthRule{Required: true, Codes: []string{"97140"}}
	cfg.Payers = map[string]Policy{
		"PERCODE":   perCode,
		"NOGP":      noGP,
		"NOTIMED":   none,
		"NONCCI":    noNCCI,
		"AUTHALL":   authAll,
		"AUTH97140": auth97140,
	}
	return cfg
}

func newScrubber(t testing.TB, cfg Config) *Scrubber {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// commercial turns the test claim into a claim for payer id (no MB
// filing code).
func commercial(c *claim.Claim, payer string) {
	c.Payer = claim.Payer{ID: payer, Name: "Commercial " + payer}
	c.Subscriber.FilingCode = "CI"
}

func ids(edits []Edit) []string {
	out := make([]string, 0, len(edits))
	for _, e := range edits {
		out = append(out, e.ID)
	}
	slices.Sort(out)
	return out
}

func wantIDs(t *testing.T, edits []Edit, want ...string) {
	t.Helper()
	w := slices.Clone(want)
	slices.Sort(w)
	if got := ids(edits); !slices.Equal(got, w) {
		var b strings.Builder
		for _, e := range edits {
			b.WriteString("\n\t")
			b.WriteString(e.String())
		}
		t.Errorf("edit IDs = %q, want %q%s", got, w, b.String())
	}
}

// line returns a pointer to line n (1-based) of c.
func line(c *claim.Claim, n int) *claim.Line { return &c.Lines[n-1] }

func addLine(c *claim.Claim, l claim.Line) {
	if l.ServiceDate.IsZero() {
		l.ServiceDate = dos
	}
	if l.DiagnosisPointers == nil {
		l.DiagnosisPointers = []int{1}
	}
	if l.Charge == 0 {
		l.Charge = 2000
	}
	c.Lines = append(c.Lines, l)
}
