package x835

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func readAllSample(t *testing.T, name string) []*Remittance {
	t.Helper()
	rems, _, err := ReadAll(bytes.NewReader(readSample(t, name)), name)
	if err != nil {
		t.Fatal(err)
	}
	return rems
}

func csvRows(t *testing.T, rems ...*Remittance) [][]string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rems...); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows[0], CSVHeader) {
		t.Fatalf("header %v", rows[0])
	}
	return rows[1:]
}

// Rows written out by hand from the TR3 example's CLP/SVC/CAS/AMT
// segments.
func TestCSVLines(t *testing.T) {
	rows := csvRows(t, readAllSample(t, "x12org__X221-claim-adjustment-reason-code-45.edi")...)
	head := []string{"CK NUMBER 1", "2019-08-16", "ANY PLAN USA", "1123454567", "PATACCT", "CLAIMNUMBER", "1"}
	want := [][]string{
		append(head[:7:7], "1", "", "2019-01-01", "99213", "", "1", "150.00", "80.00", "80.00", "CO-45:70.00", "", ""),
		append(head[:7:7], "2", "", "2019-01-01", "85003", "", "1", "100.00", "0.00", "", "CO-204:100.00", "", ""),
		append(head[:7:7], "3", "", "2019-01-01", "36415", "", "1", "150.00", "0.00", "", "CO-97:150.00", "", ""),
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows\n%q\nwant\n%q", rows, want)
	}

	// modifiers, zero units and remark codes: the professional sample's
	// third claim, fourth line "SVC*HC:V2700:RB*2.75*0**0 CAS*CO*251*2.75
	// LQ*HE*N206".
	rows = csvRows(t, readAllSample(t, "herophilus__835_Professional_w_payment_2014.txt")...)
	if len(rows) != 10 {
		t.Fatalf("%d rows, the file has 10 SVC", len(rows))
	}
	r := rows[8]
	if r[4] != "PATIENT ACCOUNT NUMBER" || r[7] != "3" || r[10] != "V2700" || r[11] != "RB" || r[12] != "0" || r[13] != "2.75" || r[14] != "0.00" || r[16] != "CO-251:2.75" || r[17] != "N206" {
		t.Errorf("row %q", r)
	}
}

// A claim without lines is one claim-level row; claim-level adjustments
// of a claim with lines get a row of their own.
func TestCSVClaimRows(t *testing.T) {
	rows := csvRows(t, readAllSample(t, "x12org__X221-coordination-of-benefits-example-1a.edi")...)
	want := [][]string{{"12345", "2019-03-31", "DELTA DENTAL OF ABC", "", "EXAMPLE1", "05090256390", "2", "", "", "2019-03-03", "", "", "", "500.00", "100.00", "", "OA-23:400.00", "", ""}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows\n%q\nwant\n%q", rows, want)
	}

	rem := &Remittance{Payment: Payment{TraceNumber: "T1"}}
	rem.Claims = []*ClaimPayment{{
		PatientControlNumber: "C1", Status: "1", Charge: 10000, Paid: 7000,
		Adjustments: []Adjustment{{Group: "OA", Reason: "23", Amount: 1000}},
		Lines: []ServiceLine{{Procedure: Procedure{Code: "97110", Modifiers: []string{"GP", "KX"}}, Charge: 10000, Paid: 7000, UnitsPaid: 2,
			Adjustments: []Adjustment{{Group: "CO", Reason: "45", Amount: 1200}, {Group: "PR", Reason: "2", Amount: 800}},
			Remarks:     []Remark{{"HE", "N20"}, {"HE", "M15"}}, ServiceDate: 20240105, ControlNumber: "L1"}},
		Outpatient: &OutpatientAdjudication{Remarks: []string{"MA130"}},
	}}
	rows = csvRows(t, rem)
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	if got := strings.Join(rows[0][7:], "|"); got != "1|L1|2024-01-05|97110|GP;KX|2|100.00|70.00||CO-45:12.00;PR-2:8.00|N20;M15|MA130" {
		t.Errorf("line row %s", got)
	}
	if got := strings.Join(rows[1][7:], "|"); got != "||||||0.00|0.00||OA-23:10.00||MA130" {
		t.Errorf("claim-level row %s", got)
	}
}

func TestJSONShape(t *testing.T) {
	rems := readAllSample(t, "x12org__X221-claim-adjustment-reason-code-45.edi")
	b, err := json.Marshal(rems[0])
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Payment struct {
			Amount      json.Number `json:"amount"`
			Method      string      `json:"method"`
			Date        string      `json:"date"`
			TraceNumber string      `json:"trace_number"`
		} `json:"payment"`
		Payer struct {
			Name     string `json:"name"`
			Contacts []struct {
				Function string `json:"function"`
			} `json:"contacts"`
		} `json:"payer"`
		Payee struct {
			NPI string `json:"npi"`
		} `json:"payee"`
		Claims []struct {
			PCN     string      `json:"patient_control_number"`
			Charge  json.Number `json:"charge"`
			Patient struct {
				Last string `json:"last"`
				ID   string `json:"id"`
			} `json:"patient"`
			Lines []struct {
				Procedure struct {
					Code string `json:"code"`
				} `json:"procedure"`
				ServiceDate string `json:"service_date"`
				Adjustments []struct {
					Group    string      `json:"group"`
					Reason   string      `json:"reason"`
					Amount   json.Number `json:"amount"`
					Category string      `json:"category"`
				} `json:"adjustments"`
			} `json:"lines"`
		} `json:"claims"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if v.Payment.Amount != "80.00" || v.Payment.Method != "CHK" || v.Payment.Date != "2019-08-16" || v.Payment.TraceNumber != "CK NUMBER 1" {
		t.Errorf("payment %+v", v.Payment)
	}
	if v.Payer.Name != "ANY PLAN USA" || len(v.Payer.Contacts) != 3 || v.Payer.Contacts[1].Function != "BL" || v.Payee.NPI != "1123454567" {
		t.Errorf("payer/payee %+v %+v", v.Payer, v.Payee)
	}
	c := v.Claims[0]
	if c.PCN != "PATACCT" || c.Charge != "400.00" || c.Patient.Last != "DOE" || c.Patient.ID != "ABC123456789" || len(c.Lines) != 3 {
		t.Errorf("claim %+v", c)
	}
	l := c.Lines[1]
	if l.Procedure.Code != "85003" || l.ServiceDate != "2019-01-01" || len(l.Adjustments) != 1 ||
		l.Adjustments[0].Group != "CO" || l.Adjustments[0].Reason != "204" || l.Adjustments[0].Amount != "100.00" || l.Adjustments[0].Category != "non_covered" {
		t.Errorf("line %+v", l)
	}
	// Empty optional parts are left out rather than sent as nulls.
	for _, absent := range []string{`"insured"`, `"inpatient"`, `"sender_bank"`, `"provider_adjustments"`, `"original_procedure"`} {
		if bytes.Contains(b, []byte(absent)) {
			t.Errorf("JSON has %s", absent)
		}
	}

	// Reversal links become claim indices.
	rems = readAllSample(t, "herophilus__835_OutpatientRetro.CRLF.txt")
	b, _ = json.Marshal(rems[0])
	var links struct {
		Claims []struct {
			Index      int  `json:"index"`
			Reversal   *int `json:"reversal_index"`
			Correction *int `json:"correction_index"`
		} `json:"claims"`
	}
	if err := json.Unmarshal(b, &links); err != nil {
		t.Fatal(err)
	}
	if cl := links.Claims; len(cl) != 2 || cl[0].Correction == nil || *cl[0].Correction != 1 || cl[1].Reversal == nil || *cl[1].Reversal != 0 || cl[0].Reversal != nil {
		t.Errorf("links %s", b)
	}
}

// Every adjustment gets a category; the brief's table holds for the
// samples' codes.
func TestCategories(t *testing.T) {
	want := map[string]string{"CO-45": "contractual", "PR-1": "patient_responsibility", "PR-3": "patient_responsibility",
		"CO-97": "coding", "CO-204": "non_covered", "CO-29": "timely_filing", "OA-23": "contractual", "CO-16": "missing_info"}
	seen := map[string]bool{}
	for _, file := range sampleFiles(t) {
		rems, _, _ := ReadAll(bytes.NewReader(readSample(t, file[len(sampleDir)+1:])), file)
		for _, r := range rems {
			for _, c := range r.Claims {
				for _, a := range c.AdjustmentsAll() {
					if a.Category == "" {
						t.Errorf("%s: %s-%s has no category", file, a.Group, a.Reason)
					}
					k := a.Group + "-" + a.Reason
					if w, ok := want[k]; ok {
						seen[k] = true
						if a.Category != w {
							t.Errorf("%s: %s is %s, want %s", file, k, a.Category, w)
						}
					}
				}
			}
		}
	}
	if len(seen) < 6 {
		t.Errorf("only %v of the expected codes seen", seen)
	}
	if !IsDenial("coding") || IsDenial("contractual") || IsDenial("patient_responsibility") || IsDenial("nonsense") {
		t.Error("IsDenial")
	}
	// A remark code refines CARC 16 (missing information) to authorization.
	if got := Category("CO", "16", []string{"N54"}); got != "authorization" {
		t.Errorf("CO-16 + N54 = %s", got)
	}
}
