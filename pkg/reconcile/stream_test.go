package reconcile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/claimgate/claimgate/edi/x12"
	"github.com/claimgate/claimgate/edi/x277ca"
	"github.com/claimgate/claimgate/edi/x835"
	"github.com/claimgate/claimgate/edi/x999"
	"github.com/claimgate/claimgate/pkg/claim"
)

// genClaim is the i-th claim of a generated 835: paid, partially paid,
// denied and deductible-only claims in turn.
func genClaim(i int) *x835.ClaimPayment {
	var lines [4][]x835.Adjustment
	switch i % 4 {
	case 0:
		lines[0] = []x835.Adjustment{adj("CO", "45", 1000)}
	case 1:
		lines[1] = []x835.Adjustment{adj("CO", "50", 5100)}
	case 2:
		for k := range lines {
			lines[k] = []x835.Adjustment{adj("CO", "50", int64(5000+100*k))}
		}
	case 3:
		lines[0] = []x835.Adjustment{adj("PR", "1", 5000)}
	}
	return payment(fmt.Sprintf("G%08d", i), "1", fmt.Sprintf("PCN%08d", i), lines)
}

var genStates = [4]claim.State{claim.Paid, claim.PartiallyPaid, claim.Denied, claim.Paid}

// genPaid is what the first n generated claims pay: claim i pays what
// claim i%4 does.
func genPaid(n int) x835.Amount {
	var total x835.Amount
	for k := range min(n, 4) {
		total += genClaim(k).Paid * x835.Amount((n-k+3)/4)
	}
	return total
}

// gen835 streams an 835 of n generated claims to w, never holding more
// than one claim.
func gen835(w io.Writer, n int) error {
	total := genPaid(n)
	xw := x12.NewWriter(w, x12.WriterOptions{})
	ctx := context.Background()
	ih, gh := payerEnvelope(isaNoridian, "HP", x835.Version)
	if _, err := xw.BeginInterchange(ctx, ih); err != nil {
		return err
	}
	if _, err := xw.BeginGroup(ctx, gh); err != nil {
		return err
	}
	rem := remittance(payerNoridian, "EFT-BIG")
	rem.Control = "0001"
	rem.Payment.Amount = total
	sw, err := x835.NewSetWriter(xw, rem)
	if err != nil {
		return err
	}
	for i := range n {
		if err := sw.WriteClaim(genClaim(i)); err != nil {
			return err
		}
	}
	if err := sw.Close(); err != nil {
		return err
	}
	if err := xw.EndGroup(); err != nil {
		return err
	}
	return xw.EndInterchange()
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// readGenerated reconciles-reads an 835 of n claims streamed through a
// pipe (the file never exists whole) and returns the largest live heap
// seen (after a collection, every 5,000 claims) and the file's size.
func readGenerated(t *testing.T, n int) (maxHeap uint64, size int64) {
	t.Helper()
	pr, pw := io.Pipe()
	cw := &countingWriter{w: pw}
	done := make(chan error, 1)
	go func() {
		err := gen835(cw, n)
		pw.CloseWithError(err)
		done <- err
	}()
	runtime.GC()
	var ms runtime.MemStats
	count := 0
	var paid claim.Money
	sum, err := Read(pr, "big.835", "d", func(o *Outcome) error {
		if want := genStates[count%4]; o.State != want || o.Keys.ClaimID != fmt.Sprintf("G%08d", count) {
			return fmt.Errorf("outcome %d: %s %s, want %s", count, o.Keys.ClaimID, o.State, want)
		}
		paid += o.Amounts.Paid
		count++
		if count%5000 == 0 {
			// The live heap: what reading holds, not garbage awaiting
			// the collector.
			runtime.GC()
			runtime.ReadMemStats(&ms)
			maxHeap = max(maxHeap, ms.HeapAlloc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sum.Kind != Kind835 || sum.Outcomes != n || count != n || sum.Findings != 0 {
		t.Fatalf("summary %+v, %d outcomes, want %d and no findings", sum, count, n)
	}
	if want := claim.Money(genPaid(n)); paid != want {
		t.Fatalf("paid %v, want %v", paid, want)
	}
	return maxHeap, cw.n
}

// Reading an 835 of tens of MB keeps the heap where a small one keeps
// it: memory does not grow with the file.
func TestReadLarge835BoundedMemory(t *testing.T) {
	small, large := 5000, 120000 // about 1.6 and 38 MB
	if raceEnabled || testing.Short() {
		// the race detector slows reading tenfold
		small, large = 3000, 30000
	}
	smallHeap, smallSize := readGenerated(t, small)
	largeHeap, largeSize := readGenerated(t, large)
	t.Logf("small: %.1f MB file, max live heap %.1f MiB; large: %.1f MB file, max live heap %.1f MiB",
		float64(smallSize)/1e6, float64(smallHeap)/(1<<20), float64(largeSize)/1e6, float64(largeHeap)/(1<<20))
	if largeSize < 8*smallSize {
		t.Fatalf("the large file (%d bytes) is not much larger than the small one (%d)", largeSize, smallSize)
	}
	if largeHeap > smallHeap+4<<20 {
		t.Errorf("heap grew with the file: %d bytes for %d, %d for %d", largeHeap, largeSize, smallHeap, smallSize)
	}
}

// BenchmarkRead835Outcomes measures Read on an 835 in memory: detection,
// streaming read, classification and one Outcome per claim.
func BenchmarkRead835Outcomes(b *testing.B) {
	var buf bytes.Buffer
	if err := gen835(&buf, 20000); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		n := 0
		if _, err := Read(bytes.NewReader(data), "b.835", "d", func(*Outcome) error { n++; return nil }); err != nil || n != 20000 {
			b.Fatal(n, err)
		}
	}
	// MB per CPU second: what the machine's other load disturbs least.
	if cpu := cpuTime() - cpu0; cpu0 > 0 && cpu > 0 {
		b.ReportMetric(float64(len(data))*float64(b.N)/1e6/cpu.Seconds(), "cpu-MB/s")
	}
}

// Outcomes own their strings: kept until the whole file is read (the
// readers have long reused their input buffers), every id, code and line
// control number is still the one written.
func TestOutcomesOwnTheirStrings(t *testing.T) {
	const n = 6000
	check := func(name string, file []byte, want func(i int, o *Outcome) string) {
		var kept []*Outcome
		if _, err := Read(bytes.NewReader(file), name, "d", func(o *Outcome) error { kept = append(kept, o); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(kept) != n {
			t.Fatalf("%s: %d outcomes, want %d", name, len(kept), n)
		}
		for i, o := range kept {
			if msg := want(i, o); msg != "" {
				t.Fatalf("%s: outcome %d: %s", name, i, msg)
			}
		}
	}

	var era bytes.Buffer
	if err := gen835(&era, n); err != nil {
		t.Fatal(err)
	}
	check("big.835", era.Bytes(), func(i int, o *Outcome) string {
		id := fmt.Sprintf("G%08d", i)
		if o.Keys.ClaimID != id || o.PayerClaimNumber != fmt.Sprintf("PCN%08d", i) || o.Lines[3].Control != id+"-4" ||
			o.Lines[2].Procedure != "97112" || o.Trace != "EFT-BIG" || o.Keys.Payer != payerNoridian {
			return fmt.Sprintf("%+v", o)
		}
		return ""
	})

	var verdicts []x277ca.ClaimResult
	for i := range n {
		o, cat, code := x277ca.OutcomeAccepted, "A2", "20"
		if i%3 == 0 {
			o, cat, code = x277ca.OutcomeRejected, "A7", "21"
		}
		verdicts = append(verdicts, verdict277(fmt.Sprintf("S%06d", i), o, cat, code, fmt.Sprintf("K%06d", i)))
	}
	check("big.277", file277(t, isaNoridian, payerNoridian, "B1", verdicts...), func(i int, o *Outcome) string {
		want := claim.PayerAccepted
		if i%3 == 0 {
			want = claim.PayerRejected
		}
		if o.Keys.ClaimID != fmt.Sprintf("S%06d", i) || o.PayerClaimNumber != fmt.Sprintf("K%06d", i) || o.State != want ||
			o.Reasons[0].Code == "" || o.Keys.Batch != "B1" {
			return fmt.Sprintf("%+v", o)
		}
		return ""
	})

	var sets []x999.SetResponse
	for i := range n {
		s := x999.SetResponse{ID: "837", Control: fmt.Sprintf("%06d", i)}
		if i%2 == 1 {
			s.SegmentErrors = []x999.SegmentError{{SegmentID: "CLM", Position: i + 2, Code: "8",
				Elements: []x999.ElementError{{Position: x999.ElementPosition{Element: 1}, Reference: fmt.Sprintf("%d", 1000+i), Code: "7"}}}}
		}
		sets = append(sets, s)
	}
	// Rejected sets come first: accepted ones wait for the group's AK9.
	check("big.999", file999(t, isaNoridian, x999.Build("HC", "42", "005010X222A1", sets)), func(k int, o *Outcome) string {
		i := 2*k + 1
		if k >= n/2 {
			i = 2 * (k - n/2)
		}
		if o.Keys.Set != fmt.Sprintf("%06d", i) || o.Keys.Group != "42" {
			return fmt.Sprintf("%+v", o.Keys)
		}
		if i%2 == 1 && (o.State != claim.AckRejected || len(o.Reasons) < 2 || o.Reasons[1].ElementRef != fmt.Sprintf("%d", 1000+i) || o.Reasons[0].SegmentPosition != i+2) {
			return fmt.Sprintf("%+v", o)
		}
		return ""
	})
}
