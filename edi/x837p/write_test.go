package x837p

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/claimgate/claimgate/edi/x12"
)

var testTime = time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC)

// ptClaim is a typical physical-therapy claim: 4 lines, 3 diagnoses, a
// rendering provider, line control numbers.
func ptClaim(id string) *Claim {
	c := &Claim{
		ID: id, Charge: 43500, PlaceOfService: "11", Frequency: "1",
		ProviderSignature: "Y", Assignment: "A", BenefitsAssigned: "Y", ReleaseOfInfo: "Y",
		OnsetDate: "20250102", InitialTreatmentDate: "20250110", PriorAuth: "AUTH1234",
		Diagnoses: []Diagnosis{{Code: "M545"}, {Code: "M5416"}, {Code: "S39012A"}},
		Rendering: &Provider{Name: Name{Entity: "1", Last: "KILDARE", First: "BEN"}, NPI: "1234567893", Taxonomy: "225100000X"},
	}
	procs := []string{"97110", "97140", "97112", "97530"}
	charges := []int64{15000, 9500, 11000, 8000}
	for k, p := range procs {
		c.Lines = append(c.Lines, Line{
			Procedure: p, Modifiers: [4]string{"GP"}, Charge: charges[k], Units: Units(int64(1 + k%2)),
			Pointers: [4]uint8{1, 2}, ServiceDate: "20250310", ControlNumber: id + "-" + string(rune('1'+k)),
		})
	}
	return c
}

func ptContext() (*BillingProvider, *Subscriber) {
	b := &BillingProvider{
		Taxonomy: "225100000X", Name: Name{Entity: "2", Last: "SEAWAY PHYSICAL THERAPY"}, NPI: "1245319599",
		Address: Address{Line1: "234 SEAWAY ST", City: "MIAMI", State: "FL", Zip: "331110000"}, TaxID: "587654321",
	}
	s := &Subscriber{
		Sequence: "P", Relationship: "18", FilingCode: "CI", Name: Name{Entity: "1", Last: "SMITH", First: "JANE"},
		ID: "JS00111223333", Address: Address{Line1: "236 N MAIN ST", City: "MIAMI", State: "FL", Zip: "33413"},
		Birth: "19730501", Gender: "F", Payer: Payer{Name: "KEY INSURANCE COMPANY", ID: "999996666"},
	}
	return b, s
}

func ptHeader() Header {
	h := Header{Control: "0001", Reference: "000000001", Submitter: Submitter{
		Name: Name{Entity: "2", Last: "CLAIMGATE"}, ID: "CG123", Contact: Contact{Name: "EDI DESK", Phone: "3055552222", Email: "edi@example.com"},
	}, Receiver: Receiver{Name: "KEY INSURANCE COMPANY", ID: "66783JJT"}}
	h.SetTime(testTime)
	return h
}

func TestWriteSetGolden(t *testing.T) {
	b, s := ptContext()
	c := ptClaim("PT1001")
	c.Lines = c.Lines[:2]
	c.Lines[1].Note = "MANUAL THERAPY 8 MIN"
	c.OtherSubscribers = []OtherSubscriber{{
		Sequence: "S", Relationship: "18", FilingCode: "MB",
		Adjustments: []Adjustment{{Group: "CO", Reason: "45", Amount: 1250}, {Group: "PR", Reason: "2", Amount: 500, Quantity: Units(1)}},
		Paid:        3100, HasPaid: true, BenefitsAssigned: "Y", ReleaseOfInfo: "Y",
		Name: Name{Entity: "1", Last: "SMITH", First: "JANE"}, ID: "1EG4TE5MK73",
		Payer: Payer{Name: "MEDICARE", ID: "04412"}, AdjudicationDate: "20250301",
	}}
	p := &Patient{Relationship: "19", Name: Name{Entity: "1", Last: "SMITH", First: "TED"}, Birth: "20100501", Gender: "M"}
	s2 := *s
	s2.Relationship = ""
	items := []Item{
		{Billing: b, Subscriber: s, Claim: c},
		{Billing: b, Subscriber: &s2, Patient: p, Claim: ptClaim("PT1002")},
	}
	items[1].Claim.Lines = items[1].Claim.Lines[:1]
	items[1].Claim.Rendering = nil
	h := ptHeader()
	var buf bytes.Buffer
	w := x12.NewWriter(&buf, x12.WriterOptions{Newline: true})
	ctx := context.Background()
	if _, err := w.BeginInterchange(ctx, x12.InterchangeHeader{Sender: "CG", Receiver: "KEY", Time: testTime, Control: 7}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.BeginGroup(ctx, x12.GroupHeader{FunctionalID: "HC", Sender: "CG", Receiver: "KEY", Time: testTime, Control: 7, Version: wrVersion}); err != nil {
		t.Fatal(err)
	}
	if err := WriteSet(w, &h, items); err != nil {
		t.Fatal(err)
	}
	if err := w.EndGroup(); err != nil {
		t.Fatal(err)
	}
	if err := w.EndInterchange(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	got := strings.Join(lines[2:len(lines)-2], "\n") // ST..SE
	want := strings.Join([]string{
		"ST*837*0001*005010X222A1~",
		"BHT*0019*00*000000001*20250314*0926*CH~",
		"NM1*41*2*CLAIMGATE*****46*CG123~",
		"PER*IC*EDI DESK*TE*3055552222*EM*edi@example.com~",
		"NM1*40*2*KEY INSURANCE COMPANY*****46*66783JJT~",
		"HL*1**20*1~",
		"PRV*BI*PXC*225100000X~",
		"NM1*85*2*SEAWAY PHYSICAL THERAPY*****XX*1245319599~",
		"N3*234 SEAWAY ST~",
		"N4*MIAMI*FL*331110000~",
		"REF*EI*587654321~",
		"HL*2*1*22*0~",
		"SBR*P*18*******CI~",
		"NM1*IL*1*SMITH*JANE****MI*JS00111223333~",
		"N3*236 N MAIN ST~",
		"N4*MIAMI*FL*33413~",
		"DMG*D8*19730501*F~",
		"NM1*PR*2*KEY INSURANCE COMPANY*****PI*999996666~",
		"CLM*PT1001*435***11:B:1*Y*A*Y*Y~",
		"DTP*431*D8*20250102~",
		"DTP*454*D8*20250110~",
		"REF*G1*AUTH1234~",
		"HI*ABK:M545*ABF:M5416*ABF:S39012A~",
		"NM1*82*1*KILDARE*BEN****XX*1234567893~",
		"PRV*PE*PXC*225100000X~",
		"SBR*S*18*******MB~",
		"CAS*CO*45*12.5~",
		"CAS*PR*2*5*1~",
		"AMT*D*31~",
		"OI***Y***Y~",
		"NM1*IL*1*SMITH*JANE****MI*1EG4TE5MK73~",
		"NM1*PR*2*MEDICARE*****PI*04412~",
		"DTP*573*D8*20250301~",
		"LX*1~",
		"SV1*HC:97110:GP*150*UN*1***1:2~",
		"DTP*472*D8*20250310~",
		"REF*6R*PT1001-1~",
		"LX*2~",
		"SV1*HC:97140:GP*95*UN*2***1:2~",
		"DTP*472*D8*20250310~",
		"REF*6R*PT1001-2~",
		"NTE*ADD*MANUAL THERAPY 8 MIN~",
		"HL*3*1*22*1~",
		"SBR*P********CI~",
		"NM1*IL*1*SMITH*JANE****MI*JS00111223333~",
		"N3*236 N MAIN ST~",
		"N4*MIAMI*FL*33413~",
		"DMG*D8*19730501*F~",
		"NM1*PR*2*KEY INSURANCE COMPANY*****PI*999996666~",
		"HL*4*3*23*0~",
		"PAT*19~",
		"NM1*QC*1*SMITH*TED~",
		"DMG*D8*20100501*M~",
		"CLM*PT1002*435***11:B:1*Y*A*Y*Y~",
		"DTP*431*D8*20250102~",
		"DTP*454*D8*20250110~",
		"REF*G1*AUTH1234~",
		"HI*ABK:M545*ABF:M5416*ABF:S39012A~",
		"LX*1~",
		"SV1*HC:97110:GP*150*UN*1***1:2~",
		"DTP*472*D8*20250310~",
		"REF*6R*PT1002-1~",
		"SE*63*0001~",
	}, "\n")
	if got != want {
		t.Errorf("set differs\n got:\n%s\nwant:\n%s", got, want)
	}
	_, fs, err := x12.Check(bytes.NewReader(buf.Bytes()), x12.CheckOptions{Name: "golden"})
	if err != nil || len(fs) != 0 {
		t.Errorf("x12.Check: %v %v", err, fs)
	}
}

func TestAppendAmountQuantity(t *testing.T) {
	for _, tc := range []struct {
		cents int64
		want  string
	}{{0, "0"}, {100, "1"}, {150, "1.5"}, {105, "1.05"}, {-25, "-0.25"}, {123456789, "1234567.89"}, {-100, "-1"}} {
		if got := string(AppendAmount(nil, tc.cents)); got != tc.want {
			t.Errorf("AppendAmount(%d) = %q, want %q", tc.cents, got, tc.want)
		}
		back, ok := ParseAmount([]byte(tc.want))
		if !ok || back != tc.cents {
			t.Errorf("ParseAmount(%q) = %d %v", tc.want, back, ok)
		}
	}
	for _, tc := range []struct {
		q    Quantity
		want string
	}{{0, "0"}, {Units(4), "4"}, {1500, "1.5"}, {125, "0.125"}, {1010, "1.01"}, {-2000, "-2"}} {
		if got := string(AppendQuantity(nil, tc.q)); got != tc.want {
			t.Errorf("AppendQuantity(%d) = %q, want %q", tc.q, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{{"1.00", 100, true}, {"1.500", 150, true}, {"1.505", 0, false}, {".5", 50, true}, {"5.", 500, true}, {"", 0, false},
		{"-", 0, false}, {"1e3", 0, false}, {"1.2.3", 0, false}, {"+7", 700, true}, {"1234567890123456", 0, false}} {
		got, ok := ParseAmount([]byte(tc.in))
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("ParseAmount(%q) = %d %v, want %d %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestWriteRefusesBadData checks that the writer refuses, as a
// ClaimError, what it cannot write, and Scratch finds it without spoiling
// later claims.
func TestWriteRefusesBadData(t *testing.T) {
	b, s := ptContext()
	bad := map[string]func(c *Claim, it *Item){
		"delimiter in name":  func(c *Claim, it *Item) { c.Rendering.Name.Last = "O*NEIL" },
		"component in code":  func(c *Claim, it *Item) { c.Lines[0].Procedure = "97:110" },
		"terminator in note": func(c *Claim, it *Item) { c.Note = "SEE ~ ATTACHED" },
		"control character":  func(c *Claim, it *Item) { c.Lines[2].ControlNumber = "A\tB" },
		"no claim id":        func(c *Claim, it *Item) { c.ID = "" },
		"no lines":           func(c *Claim, it *Item) { c.Lines = nil },
		"too many diagnoses": func(c *Claim, it *Item) { c.Diagnoses = make([]Diagnosis, 13) },
		"pointer too big":    func(c *Claim, it *Item) { c.Lines[0].Pointers[1] = 13 },
		"no subscriber":      func(c *Claim, it *Item) { it.Subscriber = nil },
		"too many lines":     func(c *Claim, it *Item) { c.Lines = make([]Line, 51) },
		"four contact numbers": func(c *Claim, it *Item) {
			it.Billing = &BillingProvider{Contact: Contact{Phone: "1", Ext: "2", Email: "3", Fax: "4"}}
		},
		"delimiter in payer name": func(c *Claim, it *Item) { it.Subscriber = &Subscriber{Payer: Payer{Name: "A^B"}} },
	}
	sc := NewScratch(x12.Delimiters{})
	for name, breakIt := range bad {
		t.Run(name, func(t *testing.T) {
			c := ptClaim("BAD")
			it := Item{Billing: b, Subscriber: s, Claim: c}
			breakIt(c, &it)
			err := sc.Encode(&it)
			var ce *ClaimError
			if !errors.As(err, &ce) {
				t.Fatalf("Scratch.Encode = %v, want a ClaimError", err)
			}
			good := Item{Billing: b, Subscriber: s, Claim: ptClaim("GOOD")}
			if err := sc.Encode(&good); err != nil {
				t.Fatalf("good claim after a bad one: %v", err)
			}
			var buf bytes.Buffer
			w := x12.NewWriter(&buf, x12.WriterOptions{})
			ctx := context.Background()
			h := ptHeader()
			_, _, err = WriteFile(ctx, w, x12.InterchangeHeader{Sender: "S", Receiver: "R"}, x12.GroupHeader{Sender: "S", Receiver: "R"},
				[]Transaction{{Header: h, Items: []Item{good, it}}})
			if !errors.As(err, &ce) {
				t.Fatalf("WriteFile = %v, want a ClaimError", err)
			}
		})
	}
}

func TestWriteSetNeedsClaimsAndHeader(t *testing.T) {
	b, s := ptContext()
	items := []Item{{Billing: b, Subscriber: s, Claim: ptClaim("X")}}
	for name, h := range map[string]Header{
		"short control": {Control: "1", Reference: "R", Date: "20250101", Time: "1200"},
		"no reference":  {Control: "0001", Date: "20250101", Time: "1200"},
	} {
		w := x12.NewWriter(io.Discard, x12.WriterOptions{})
		_, _, err := WriteFile(context.Background(), w, x12.InterchangeHeader{Sender: "S", Receiver: "R"}, x12.GroupHeader{Sender: "S", Receiver: "R"},
			[]Transaction{{Header: h, Items: items}})
		if err == nil {
			t.Errorf("%s: WriteFile accepted a bad header", name)
		}
	}
	h := ptHeader()
	w := x12.NewWriter(io.Discard, x12.WriterOptions{})
	if _, _, err := WriteFile(context.Background(), w, x12.InterchangeHeader{Sender: "S", Receiver: "R"}, x12.GroupHeader{Sender: "S", Receiver: "R"},
		[]Transaction{{Header: h}}); err == nil {
		t.Error("WriteFile accepted a set with no claims")
	}
}

// benchItems returns n typical claims: one billing provider, each claim
// its own subscriber (the common shape of a PT practice's batch).
func benchItems(n int) []Item {
	b, _ := ptContext()
	items := make([]Item, n)
	for i := range items {
		_, s := ptContext()
		s.ID = "MEMBER" + string(rune('A'+i%26))
		items[i] = Item{Billing: b, Subscriber: s, Claim: ptClaim("PT" + string(rune('A'+i%26)) + "1001")}
	}
	return items
}

func BenchmarkWrite837P(b *testing.B) {
	const perSet = 1000
	items := benchItems(perSet)
	h := ptHeader()
	w := x12.NewWriter(io.Discard, x12.WriterOptions{})
	ctx := context.Background()
	if _, err := w.BeginInterchange(ctx, x12.InterchangeHeader{Sender: "S", Receiver: "R", Time: testTime}); err != nil {
		b.Fatal(err)
	}
	if _, err := w.BeginGroup(ctx, x12.GroupHeader{FunctionalID: "HC", Sender: "S", Receiver: "R", Time: testTime, Version: wrVersion}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for done := 0; done < b.N; done += perSet {
		n := min(perSet, b.N-done)
		if err := WriteSet(w, &h, items[:n]); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "claims/s")
}
