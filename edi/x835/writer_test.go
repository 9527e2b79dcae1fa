package x835

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
)

// Every sample read, written with WriteRemittance and read again gives the
// same model: the writer keeps everything the reader takes in.
func TestSamplesRewrite(t *testing.T) {
	for _, file := range sampleFiles(t) {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			rems := readAllSample(t, name)
			var buf bytes.Buffer
			w := x12.NewWriter(&buf, x12.WriterOptions{Newline: true})
			ctx := context.Background()
			if _, err := w.BeginInterchange(ctx, x12.InterchangeHeader{Sender: "S", Receiver: "R"}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.BeginGroup(ctx, x12.GroupHeader{FunctionalID: "HP", Sender: "S", Receiver: "R", Version: Version}); err != nil {
				t.Fatal(err)
			}
			for _, r := range rems {
				if err := WriteRemittance(w, r); err != nil {
					t.Fatal(err)
				}
			}
			w.EndGroup()
			if err := w.EndInterchange(); err != nil {
				t.Fatal(err)
			}
			again, _, err := ReadAll(&buf, "rewritten")
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range append(rems, again...) {
				r.Envelope = Envelope{}
			}
			if !reflect.DeepEqual(rems, again) {
				t.Errorf("rewritten file reads differently\n%s", diff(rems, again))
			}
		})
	}
}

func TestWriterRefuses(t *testing.T) {
	ok := func() *Remittance { return newGen(5).remittance(2) }
	cases := []struct {
		name string
		edit func(r *Remittance)
		want string
	}{
		{"delimiter in data", func(r *Remittance) { r.Claims[0].PatientControlNumber = "A*B" }, "element separator"},
		{"five modifiers", func(r *Remittance) {
			r.Claims[0].Lines = []ServiceLine{{Procedure: Procedure{Qualifier: "HC", Code: "97110", Modifiers: []string{"GP", "KX", "59", "CQ", "XE"}}}}
		}, "at most 4"},
		{"six remarks", func(r *Remittance) {
			r.Claims[0].Outpatient = &OutpatientAdjudication{Remarks: []string{"M1", "M2", "M3", "M4", "M5", "M6"}}
		}, "at most 5"},
		{"four contact numbers", func(r *Remittance) {
			c := &r.Payer.Contacts[len(r.Payer.Contacts)-1]
			c.Numbers = append(c.Numbers, ContactNumber{"TE", "1"}, ContactNumber{"TE", "2"})
		}, "at most 3"},
	}
	for _, tc := range cases {
		r := ok()
		tc.edit(r)
		var buf bytes.Buffer
		w := x12.NewWriter(&buf, x12.WriterOptions{})
		ctx := context.Background()
		w.BeginInterchange(ctx, x12.InterchangeHeader{Sender: "S", Receiver: "R"})
		w.BeginGroup(ctx, x12.GroupHeader{FunctionalID: "HP", Version: Version})
		err := WriteRemittance(w, r)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}

// The writer's number formats: X12 amounts without trailing zeros, units
// left out when 1, CAS triplets grouped, PLB pairs grouped.
func TestWriterFormat(t *testing.T) {
	rem := &Remittance{
		Control: "0001",
		Payment: Payment{Handling: "I", Amount: 15050, CreditDebit: "C", Method: "CHK", Date: 20240110, TraceNumber: "CHK1", PayerID: "1123456789"},
		Payer:   Payer{Name: "PAYER", Address: Address{Line1: "1 MAIN", City: "TOWN", State: "PA", Zip: "19103"}, Contacts: []Contact{{Function: "BL", Numbers: []ContactNumber{{"TE", "8005551212"}}}}},
		Payee:   Payee{Name: "CLINIC", IDQualifier: "XX", ID: "1234567893"},
		Claims: []*ClaimPayment{{
			PatientControlNumber: "PCN1", Status: "1", Charge: 20000, Paid: 15050, PatientResponsibility: 1000, FilingIndicator: "12", PayerClaimControlNumber: "X1",
			Patient: Entity{Last: "DOE", First: "JANE", IDQualifier: "MI", ID: "M1"},
			Lines: []ServiceLine{{Procedure: Procedure{Qualifier: "HC", Code: "97110", Modifiers: []string{"GP"}}, Charge: 20000, Paid: 15050, UnitsPaid: 1, ServiceDate: 20240105,
				Adjustments: []Adjustment{{Group: "CO", Reason: "45", Amount: 3950}, {Group: "PR", Reason: "2", Amount: 500}, {Group: "PR", Reason: "1", Amount: 500, Quantity: 1}}}},
		}},
		ProviderAdjustments: []ProviderAdjustment{{ProviderID: "1234567893", FiscalPeriod: 20241231, Reason: "L6", Amount: -100}, {ProviderID: "1234567893", FiscalPeriod: 20241231, Reason: "WO", Reference: "ABC", Amount: 100}},
	}
	var buf bytes.Buffer
	w := x12.NewWriter(&buf, x12.WriterOptions{Newline: true})
	ctx := context.Background()
	w.BeginInterchange(ctx, x12.InterchangeHeader{Sender: "S", Receiver: "R"})
	w.BeginGroup(ctx, x12.GroupHeader{FunctionalID: "HP", Version: Version})
	if err := WriteRemittance(w, rem); err != nil {
		t.Fatal(err)
	}
	w.EndGroup()
	w.EndInterchange()
	out := buf.String()
	for _, want := range []string{
		"ST*835*0001*005010X221A1~", "BPR*I*150.5*C*CHK************20240110~", "TRN*1*CHK1*1123456789~",
		"N1*PR*PAYER~", "PER*BL**TE*8005551212~", "N1*PE*CLINIC*XX*1234567893~", "LX*1~",
		"CLP*PCN1*1*200*150.5*10*12*X1~", "NM1*QC*1*DOE*JANE****MI*M1~", "SVC*HC:97110:GP*200*150.5~",
		"DTM*472*20240105~", "CAS*CO*45*39.5~", "CAS*PR*2*5**1*5*1~", "PLB*1234567893*20241231*L6*-1*WO:ABC*1~", "SE*17*0001~",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	_, fs, err := Validate(strings.NewReader(out), "written")
	if err != nil || len(fs) != 0 {
		t.Errorf("written file does not validate cleanly: %v %v", err, fs)
	}
}
