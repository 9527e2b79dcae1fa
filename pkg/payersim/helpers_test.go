package payersim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x277ca"
	"github.com/claimgate/claimgate/edi/x835"
	"github.com/claimgate/claimgate/edi/x837p"
	"github.com/claimgate/claimgate/edi/x999"
	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/claim"
	"github.com/claimgate/claimgate/pkg/scrub"
)

// testNow is the simulator's clock in tests: receipt, response and
// payment dates.
var testNow = time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)

const (
	medicare   = "04412"
	commercial = "60054"
)

// testConfig is two payers: a Medicare contractor (8-minute rule, GP,
// NCCI, 12-month filing) and a commercial payer that wants prior
// authorization for 97530 and rejects or denies a share at random.
func testConfig() *Config {
	auth := scrub.CommercialPolicy()
	auth.PriorAuth = scrub.PriorAuthRule{Required: true, Codes: []string{"97530"}}
	return &Config{
		Payers: []PayerConfig{
			{ID: medicare, Name: "NORIDIAN JE PART B", ISAID: "NORIDIAN", FilingCode: "MB", ClaimNumberPrefix: "10",
				FeeSchedule:        map[string]x835.Amount{"97110": 3150, "97112": 3625, "97140": 2980, "97530": 3790, "97161": 10285},
				DefaultFee:         2500,
				CoinsurancePercent: 20, Deductible: 5000, DeductibleRate: 0.2,
				PLB: []PLB{{Reason: "L6", Amount: -125}}},
			{ID: commercial, Name: "AETNA", ISAID: "AETNACH", FilingCode: "CI", ClaimNumberPrefix: "E", Policy: &auth,
				FeeSchedule:        map[string]x835.Amount{"97110": 4000, "97140": 3500, "97530": 4200, "97112": 3900},
				DefaultFee:         3000,
				CoinsurancePercent: 10, Copay: 2500,
				RejectRate: 0.1, DenialRate: 0.1},
		},
	}
}

func assembleConfig() assemble.Config {
	return assemble.Config{
		Submitter: assemble.Submitter{Name: "CLAIMGATE", ID: "CG0001", Contact: x837p.Contact{Name: "EDI DESK", Phone: "8005551212"}, ISAQualifier: "ZZ", ISAID: "CLAIMGATE"},
		Receivers: map[string]assemble.Receiver{
			medicare:   {Name: "NORIDIAN", ID: medicare, ISAQualifier: "ZZ", ISAID: "NORIDIAN", GSID: medicare, FilingCode: "MB"},
			commercial: {Name: "AETNA", ID: commercial, ISAQualifier: "ZZ", ISAID: "AETNACH", FilingCode: "CI"},
		},
		Usage:           'T',
		MaxClaimsPerSet: 6,
		Now:             func() time.Time { return testNow.Add(-24 * time.Hour) },
	}
}

var dos = claim.Date{Year: 2026, Month: time.February, Day: 16}

type lineSpec struct {
	code  string
	units int
	mods  []string
	note  string
	auth  string
}

// ptClaim is a PT claim with the given lines on one date of service.
func ptClaim(id, payer string, n int, lines ...lineSpec) *claim.Claim {
	c := &claim.Claim{
		ID:    id,
		Payer: claim.Payer{ID: payer, Name: "PAYER " + payer},
		Billing: claim.Provider{
			Entity: claim.Organization, Name: claim.Name{Last: "SEAWAY PHYSICAL THERAPY"}, NPI: "1245319599",
			TaxID: "587654321", Taxonomy: "225100000X",
			Address: claim.Address{Line1: "234 SEAWAY ST", City: "MIAMI", State: "FL", Zip: "331110000"},
		},
		Subscriber: claim.Subscriber{
			MemberID: fmt.Sprintf("M%06d", n), Name: claim.Name{Last: "SMITH", First: fmt.Sprintf("PAT%d", n)},
			Birth: claim.Date{Year: 1958, Month: time.May, Day: 1}, Gender: "F",
			Address: claim.Address{Line1: "1 MAIN ST", City: "MIAMI", State: "FL", Zip: "33101"},
		},
		PlaceOfService: "11",
		OnsetDate:      claim.Date{Year: 2026, Month: time.January, Day: 2},
		Diagnoses:      []string{"M54.50", "M54.16"},
	}
	if len(lines) == 0 {
		lines = []lineSpec{{code: "97110", units: 2, mods: []string{"GP"}}, {code: "97112", units: 1, mods: []string{"GP"}}}
	}
	for k, l := range lines {
		c.Lines = append(c.Lines, claim.Line{
			ControlNumber: fmt.Sprintf("%s-%d", id, k+1), Procedure: l.code, Modifiers: l.mods,
			Charge: claim.Money(6000 * max(l.units, 1)), Units: l.units, DiagnosisPointers: []int{1, 2},
			ServiceDate: dos, PriorAuth: l.auth, Note: l.note,
		})
	}
	return c
}

// build837 assembles claims into one 837P file per payer.
func build837(t testing.TB, claims []*claim.Claim) map[string][]byte {
	t.Helper()
	a, err := assemble.New(assembleConfig(), &x12.MemoryControlNumbers{Start: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range claims {
		if err := a.Add(c); err != nil {
			t.Fatalf("claim %s: %v", c.ID, err)
		}
	}
	out := map[string]*bytes.Buffer{}
	_, err = a.Flush(context.Background(), func(payer string) (io.WriteCloser, error) {
		b := &bytes.Buffer{}
		out[payer] = b
		return nopCloser{b}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for p, b := range out {
		files[p] = b.Bytes()
	}
	return files
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// checkResponse validates a response file with claimgate's own
// validators and fails on any error.
func checkResponse(t testing.TB, f File) {
	t.Helper()
	_, fs, err := x12.Check(bytes.NewReader(f.Data), x12.CheckOptions{Name: f.Name, Sets: func(h x12.SetHeader) x12.SetChecker {
		switch h.ID {
		case "999":
			return x999.NewChecker(h)
		case "277":
			return x277ca.NewChecker(h)
		case "835":
			return x835.Sets(h)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if fs.Errors() > 0 {
		t.Fatalf("%s (%s) has errors:\n%v\n%s", f.Name, f.Type, fs, f.Data)
	}
}

// segments returns the segments of an X12 file with the given id, as
// element lists (element 0 is the id).
func segments(data []byte, id string) [][]string {
	var out [][]string
	for _, s := range strings.Split(string(data), "~") {
		s = strings.TrimSpace(s)
		if strings.HasPrefix(s, id+"*") {
			out = append(out, strings.Split(s, "*"))
		}
	}
	return out
}
