package demo

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// ClinicBatchClaims is the number of claims in the generated clinic batch
// (testdata/batches/pt_clinic_week.csv).
const ClinicBatchClaims = 120

// csvHeader is the CSV batch format's header (docs/batch-format.md).
var csvHeader = strings.Split("claim_id,payer_id,payer_name,payer_address1,payer_city,payer_state,payer_zip,"+
	"billing_npi,billing_name,billing_tax_id,billing_tax_id_type,billing_taxonomy,billing_address1,billing_address2,"+
	"billing_city,billing_state,billing_zip,billing_contact_name,billing_contact_phone,"+
	"rendering_npi,rendering_last,rendering_first,rendering_taxonomy,referring_npi,referring_last,referring_first,"+
	"subscriber_member_id,subscriber_last,subscriber_first,subscriber_middle,subscriber_birth_date,subscriber_gender,"+
	"subscriber_address1,subscriber_address2,subscriber_city,subscriber_state,subscriber_zip,subscriber_group_number,"+
	"subscriber_sequence,subscriber_filing_code,patient_relationship,patient_last,patient_first,patient_birth_date,"+
	"patient_gender,patient_address1,patient_address2,patient_city,patient_state,patient_zip,place_of_service,"+
	"frequency,original_reference,prior_authorization,referral_number,onset_date,diagnoses,claim_note,therapy_ytd,"+
	"line_control_number,service_date,procedure,modifiers,units,minutes,assistant_minutes,charge,diagnosis_pointers", ",")

// The clinic's charges per unit (what PT clinics bill, above every fee
// schedule).
var charges = map[string]string{
	"97110": "49.00", "97112": "61.00", "97140": "52.00", "97530": "58.00",
	"97161": "165.00", "97162": "165.00", "97163": "185.00",
}

type therapist struct{ npi, last, first string }

var therapists = []therapist{
	{"1239874567", "Whitfield", "Dana"},
	{"1765432103", "Oyelaran", "Marcus"},
	{npiWithCheck("134679025"), "Castellano", "Ines"},
}

var (
	lastNames = []string{"Albright", "Bautista", "Chen", "Delacroix", "Eriksen", "Fitzgerald", "Gutierrez", "Haddad",
		"Ivanova", "Jablonski", "Kowalczyk", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quintero",
		"Rasmussen", "Sandoval", "Takahashi", "Underwood", "Vasquez", "Whitlock", "Yamamoto", "Zielinski"}
	firstNames = []string{"Ada", "Bruno", "Celia", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Imani", "Jonas",
		"Keiko", "Luis", "Maren", "Nikhil", "Olga", "Pavel", "Rosa", "Samir", "Tova", "Walter"}
	streets = []string{"Alder St", "Belmont St", "Clinton St", "Division St", "Everett St", "Flanders St",
		"Glisan St", "Hawthorne Blvd", "Irving St", "Johnson St"}
	// Diagnoses PT clinics bill: low back pain, knee and shoulder pain,
	// aftercare following joint replacement, muscle weakness, gait.
	diagnoses = [][]string{{"M54.50", "M62.81"}, {"M25.561", "M62.81"}, {"Z47.1", "Z96.651"}, {"M25.511", "M75.101"},
		{"M54.2"}, {"M17.11", "R26.89"}, {"S83.511D", "M25.561"}}
)

// simDay is the simulated payers' calendar day: the generated batch's
// dates of service are the weeks before it.
var simDay = time.Date(2025, 4, 15, 9, 0, 0, 0, time.UTC)

// npiWithCheck appends the Luhn check digit (over the prefix 80840) to a
// 9-digit NPI stem.
func npiWithCheck(stem string) string {
	digits := "80840" + stem
	sum := 0
	double := true // the rightmost digit of the stem is doubled
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return stem + strconv.Itoa((10-sum%10)%10)
}

// Deliberate problems in the generated batch, by claim number: what the
// scrubber holds back, and what payers reject or deny.
const (
	flawNone         = iota
	flawNoGP         // scrubber: PT-GP-MISSING
	flawUnitsOver    // scrubber: PT-8MIN-OVER (4 units for 40 minutes)
	flawBadNPI       // scrubber: NPI-INVALID (rendering NPI check digit)
	flawNCCI         // scrubber: NCCI-PTP-MODIFIER (97140 with 97530, no 59)
	flawMemberTypo   // BHX77's 277CA: A7:164 (member id not in its format)
	flawLateFiling   // BHX77's 835: CO-29 timely filing (dates of service in December)
	flawFutureDate   // the payer's 999: service date after the payer's day
	flawNoPriorAuth  // SMI03's 835: 97530 without prior authorization, CO-197
	flawWithPriorAut // SMI03: 97530 with its authorization, paid
)

// flaws places the deliberate problems; every other claim is clean.
var flaws = map[int]int{
	7: flawNoGP, 23: flawUnitsOver, 41: flawBadNPI, 66: flawNCCI, 98: flawNoGP, 110: flawUnitsOver,
	12: flawMemberTypo, 52: flawMemberTypo, 92: flawMemberTypo,
	32: flawLateFiling, 72: flawLateFiling,
	119: flawFutureDate,
	17:  flawNoPriorAuth, 37: flawNoPriorAuth, 57: flawNoPriorAuth, 97: flawNoPriorAuth,
	77: flawWithPriorAut, 117: flawWithPriorAut,
}

// payerOf spreads the claims over the three payers: Medicare about half,
// Blue Horizon a quarter, Summit Mutual a quarter.
func payerOf(i int) (id, name, filing string) {
	switch i % 20 {
	case 0, 1, 3, 4, 6, 8, 9, 11, 13, 14:
		return "MCR01", "Medicare Part B", "MB"
	case 2, 5, 12, 15, 19:
		return "BHX77", "Blue Horizon Health Plan", "BL"
	default:
		return "SMI03", "Summit Mutual Insurance", "CI"
	}
}

// WriteClinicBatch writes the demo's clinic batch: ClinicBatchClaims
// physical-therapy claims (evaluations 97161-97163 and timed codes 97110,
// 97112, 97140, 97530 with GP, KX past Medicare's threshold, 59 where an
// NCCI pair needs it) for three payers, one CSV row per service line. It
// is deterministic: the same bytes every time. A few claims carry
// deliberate problems (see flaws) so the demo shows rejections and
// denials. The patients are invented.
func WriteClinicBatch(w io.Writer) error {
	rng := rand.New(rand.NewPCG(2025, 415))
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for i := range ClinicBatchClaims {
		for _, row := range clinicClaim(rng, i) {
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

type line struct {
	code    string
	mods    []string
	units   int
	minutes int
	date    time.Time
	ptr     string
}

func clinicClaim(rng *rand.Rand, i int) [][]string {
	flaw := flaws[i]
	payer, payerName, filing := payerOf(i)
	id := fmt.Sprintf("RB-25-%04d", 1001+i)
	th := therapists[i%len(therapists)]
	renderingNPI := th.npi
	if flaw == flawBadNPI {
		renderingNPI = th.npi[:9] + strconv.Itoa((int(th.npi[9]-'0')+1)%10)
	}
	if flaw == flawWithPriorAut || flaw == flawNoPriorAuth {
		payer, payerName, filing = "SMI03", "Summit Mutual Insurance", "CI"
	}
	if flaw == flawMemberTypo || flaw == flawLateFiling {
		payer, payerName, filing = "BHX77", "Blue Horizon Health Plan", "BL"
	}
	last := lastNames[(i*7)%len(lastNames)]
	first := firstNames[(i*3+i/len(lastNames))%len(firstNames)]
	gender := "F"
	if i%2 == 1 {
		gender = "M"
	}
	age := 22 + rng.IntN(50)
	if filing == "MB" {
		age = 66 + rng.IntN(22)
	}
	birth := simDay.AddDate(-age, -rng.IntN(12), -rng.IntN(28))
	var member, group string
	switch payer {
	case "MCR01":
		// A Medicare beneficiary identifier's shape: digit, letter,
		// letter or digit, digit, letter, ...
		const letters = "ACDEFGHJKMNPQRTUVWXY"
		l := func() byte { return letters[rng.IntN(len(letters))] }
		d := func() byte { return byte('1' + rng.IntN(9)) }
		member = string([]byte{d(), l(), l(), d(), l(), l(), d(), l(), l(), d(), d()})
	case "BHX77":
		member = fmt.Sprintf("XKP%09d", 400000000+i*7919)
		if flaw == flawMemberTypo {
			member = fmt.Sprintf("XPK%09d", 400000000+i*7919) // letters swapped at the front desk
		}
		group = "GRP20431"
	default:
		member = fmt.Sprintf("SMI-%08d", 88000000+i*104729)
		group = "77120"
	}
	dx := diagnoses[i%len(diagnoses)]
	ptrs := "1"
	if len(dx) > 1 {
		ptrs = "1:2"
	}
	// Visits: one or two dates of service in the four weeks before the
	// payers' day (weekdays), December for the late-filed claims.
	start := simDay.AddDate(0, 0, -28+rng.IntN(18))
	if flaw == flawLateFiling {
		start = time.Date(2024, 12, 2+rng.IntN(10), 0, 0, 0, 0, time.UTC)
	}
	if flaw == flawFutureDate {
		start = simDay.AddDate(0, 0, 6) // keyed a week ahead
	}
	for start.Weekday() == time.Saturday || start.Weekday() == time.Sunday {
		start = start.AddDate(0, 0, 1)
	}
	visits := []time.Time{start}
	if i%3 != 0 && flaw != flawFutureDate {
		visits = append(visits, start.AddDate(0, 0, 2))
	}
	var lines []line
	timed := []string{"97110", "97112", "97140", "97530"}
	for v, dos := range visits {
		if v == 0 && i%6 == 0 {
			eval := []string{"97161", "97162", "97163"}[i%3]
			lines = append(lines, line{code: eval, mods: []string{"GP"}, units: 1, date: dos, ptr: ptrs})
		}
		// Two timed codes per visit, never an NCCI pair (97140 with
		// 97530 or an evaluation) unless a flaw asks for it.
		a := timed[(i+v)%2]   // 97110 or 97112
		b := timed[2+(i+v)%2] // 97140 or 97530
		if v == 0 && i%6 == 0 {
			b = "97530" // 97140 is bundled into the evaluation (NCCI)
		}
		switch flaw {
		case flawNoPriorAuth, flawWithPriorAut:
			b = "97530"
		case flawNCCI:
			a, b = "97140", "97530"
		}
		codes := []string{a, b}
		if b == "97530" && payer == "SMI03" && flaw != flawNoPriorAuth && flaw != flawWithPriorAut {
			// Summit Mutual wants prior authorization for 97530: the
			// clinic bills it only with the flaws above.
			codes = []string{a, "97140"}
			if v == 0 && i%6 == 0 {
				codes = codes[:1]
			}
		}
		for k, code := range codes {
			units := 1 + rng.IntN(2)
			if k == 1 {
				units = 1
			}
			minutes := 15*units + rng.IntN(3)
			if flaw == flawUnitsOver && v == 0 && k == 0 {
				units, minutes = 4, 40
			}
			mods := []string{"GP"}
			if flaw == flawNoGP && v == 0 && k == 1 {
				mods = nil
			}
			lines = append(lines, line{code: code, mods: mods, units: units, minutes: minutes, date: dos, ptr: "1"})
		}
	}
	// Medicare: therapy spend so far this year; past the KX threshold
	// ($2,410 in 2025) every line carries KX.
	ytd := ""
	if filing == "MB" {
		spent := 150 + rng.IntN(2000)
		if i%9 == 4 {
			spent = 2450 + rng.IntN(600)
			for k := range lines {
				lines[k].mods = append(lines[k].mods, "KX")
			}
		}
		ytd = fmt.Sprintf("%d.00", spent)
	}
	prior := ""
	if flaw == flawWithPriorAut {
		prior = fmt.Sprintf("PA-%07d", 7700000+i)
	}
	addr := fmt.Sprintf("%d SE %s", 100+rng.IntN(8800), streets[i%len(streets)])
	zip := fmt.Sprintf("972%02d", 1+rng.IntN(35))
	onset := start.AddDate(0, 0, -10-rng.IntN(40))
	var rows [][]string
	for n, l := range lines {
		charge := charges[l.code]
		row := []string{id, payer, payerName, "", "", "", "",
			"1543219871", "Riverbend Physical Therapy LLC", "81-4567321", "EI", "261QP2000X", "2200 River Road", "Suite 140",
			"Portland", "OR", "97201-4410", "Tamsin Greer", "5035550142",
			renderingNPI, th.last, th.first, "225100000X", "1456789233", "Raman", "Priya",
			member, last, first, "", birth.Format(time.DateOnly), gender,
			addr, "", "Portland", "OR", zip, group,
			"P", filing, "", "", "", "", "", "", "", "", "", "", "11",
			"1", "", prior, "", onset.Format(time.DateOnly), strings.Join(dx, "|"), "", ytd,
			fmt.Sprintf("RB25%04d-%d", 1001+i, n+1), l.date.Format(time.DateOnly), l.code, strings.Join(l.mods, ":"),
			strconv.Itoa(l.units), minutesText(l), "", times(charge, l.units), l.ptr}
		rows = append(rows, row)
	}
	return rows
}

func minutesText(l line) string {
	if l.minutes == 0 {
		return ""
	}
	return strconv.Itoa(l.minutes)
}

// times multiplies a "12.34" amount by n.
func times(amount string, n int) string {
	whole, frac, _ := strings.Cut(amount, ".")
	w, _ := strconv.Atoi(whole)
	f, _ := strconv.Atoi(frac)
	cents := (w*100 + f) * n
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}
