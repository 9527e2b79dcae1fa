package assemble

import (
	"context"
	"fmt"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/pkg/claim"
)

// TestAddPreparedIsAdd adds the same claims (good ones, ones the writer
// refuses, one the mapping refuses, a repeated id, an unknown payer, a
// payer whose receiver fills in SBR09) with Add to one Assembler and with
// Prepare (on a Preparer of their own) and AddPrepared to another: the
// errors, word for word (segment numbers included), and the files must be
// the same (the prepared claims' files copy their kept encodings), with
// the default delimiters and with others and a newline after segments.
func TestAddPreparedIsAdd(t *testing.T) {
	other := testConfig()
	other.Delimiters = x12.Delimiters{Element: '|', Component: '>', Repetition: '!', Segment: '\n'}
	nl := testConfig()
	nl.Newline = true
	for name, cfg := range map[string]Config{"default": testConfig(), "other delimiters": other, "newline": nl} {
		t.Run(name, func(t *testing.T) { addPreparedIsAdd(t, cfg) })
	}
}

func addPreparedIsAdd(t *testing.T, cfg Config) {
	var claims []*claim.Claim
	for i := 0; i < 40; i++ {
		payer := []string{"60054", "04412", "87726"}[i%3]
		c := testClaim(fmt.Sprintf("C%d", i), payer, i)
		switch i {
		case 5:
			c.Subscriber.Name.Last = "O*NEIL" // delimiter: refused by the writer
		case 11:
			c.Lines[2].Note = "SEE NOTES~ATTACHED"
		case 12:
			c.Lines[0].Modifiers = []string{"GP", "59", "KX", "CQ", "GO"} // refused by ToItem
		case 17:
			c.ID = "C2" // repeated id (C2 is for the same payer)
		case 20:
			c.Payer.ID = "NOPE"
		case 23:
			c.Subscriber.FilingCode = "" // the receiver's FilingCode fills it
		case 29:
			c.Billing.Address.City = "MIAMI\x01"
		}
		claims = append(claims, c)
	}
	add := newAssembler(t, cfg, &x12.MemoryControlNumbers{})
	prep := newAssembler(t, cfg, &x12.MemoryControlNumbers{})
	ps := make([]Prepared, len(claims))
	pr := prep.NewPreparer()
	for i, c := range claims {
		ps[i] = pr.Prepare(c)
	}
	rejected := 0
	for i, c := range claims {
		e1, e2 := add.Add(c), prep.AddPrepared(&ps[i])
		if fmt.Sprint(e1) != fmt.Sprint(e2) {
			t.Errorf("claim %d: Add = %v, AddPrepared = %v", i, e1, e2)
		}
		if e1 != nil {
			rejected++
		} else if ps[i].it.Claim.Lines != nil {
			// Queued as its kept encoding only: the file below proves
			// that is enough.
			t.Errorf("claim %d: queued with its lines (not compacted)", i)
		}
	}
	// The data's * and ~ are no delimiters with other ones: 4 rejected
	// then, 6 with the default delimiters.
	if rejected < 4 {
		t.Errorf("%d claims rejected, want at least 4", rejected)
	}
	var m1, m2 memFiles
	if _, err := add.Flush(context.Background(), m1.open); err != nil {
		t.Fatal(err)
	}
	if _, err := prep.Flush(context.Background(), m2.open); err != nil {
		t.Fatal(err)
	}
	for payer, fs := range m1.files {
		if len(fs) != 1 || len(m2.files[payer]) != 1 || fs[0].String() != m2.files[payer][0].String() {
			t.Errorf("payer %s: the files differ", payer)
		}
		checkFile(t, payer, fs[0].Bytes())
	}
}
