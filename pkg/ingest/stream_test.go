package ingest

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// genBatch is an io.Reader that writes a batch of n generated claims
// (three PT service lines each) as it is read, so that a test can stream
// a batch far larger than it wants to hold.
type genBatch struct {
	format   Format
	n, next  int
	started  bool
	done     bool
	buf      []byte
	off      int
	total    int64
	pieces   [][]byte // a claim's text, split where its id goes
	head     []byte
	tail     []byte
	dupEvery int // when > 0, every dupEvery-th claim reuses an earlier id
}

const genCSVHeader = "claim_id,payer_id,payer_name,billing_npi,billing_name,billing_tax_id,billing_address1,billing_city,billing_state,billing_zip," +
	"subscriber_member_id,subscriber_last,subscriber_first,subscriber_birth_date,subscriber_gender,subscriber_address1,subscriber_city,subscriber_state,subscriber_zip," +
	"place_of_service,diagnoses,line_control_number,procedure,modifiers,charge,units,minutes,diagnosis_pointers,service_date\n"

const genCSVRow = "\x00,MCR01,Medicare Part B,1543219871,Riverbend Physical Therapy LLC,81-4567321,2200 River Road,Portland,OR,97201," +
	"M\x00,Lindqvist,Harold,1948-03-14,M,77 Alder Street,Portland,OR,97205,11,M54.50|M62.81,\x00-%d,%s,GP,%s,%d,%d,1:2,2025-03-0%d\n"

const genJSONClaim = `{"id":"\x00","payer":{"id":"MCR01","name":"Medicare Part B"},` +
	`"billing_provider":{"entity":"2","name":{"last":"Riverbend Physical Therapy LLC"},"npi":"1543219871","tax_id":"81-4567321","taxonomy":"261QP2000X",` +
	`"address":{"line1":"2200 River Road","city":"Portland","state":"OR","zip":"97201"}},` +
	`"subscriber":{"member_id":"M\x00","name":{"last":"Lindqvist","first":"Harold"},"birth_date":"1948-03-14","gender":"M",` +
	`"address":{"line1":"77 Alder Street","city":"Portland","state":"OR","zip":"97205"},"filing_code":"MB"},` +
	`"place_of_service":"11","frequency":"1","diagnoses":["M54.50","M62.81"],"lines":[` +
	`{"control_number":"\x00-1","procedure":"97110","modifiers":["GP"],"charge":98.00,"units":2,"minutes":30,"diagnosis_pointers":[1,2],"service_date":"2025-03-03"},` +
	`{"control_number":"\x00-2","procedure":"97112","modifiers":["GP"],"charge":61.00,"units":1,"minutes":15,"diagnosis_pointers":[1],"service_date":"2025-03-03"},` +
	`{"control_number":"\x00-3","procedure":"97140","modifiers":["GP"],"charge":52.00,"units":1,"minutes":10,"diagnosis_pointers":[2],"service_date":"2025-03-03"}]}`

func newGenBatch(f Format, n int) *genBatch {
	g := &genBatch{format: f, n: n}
	var claim string
	switch f {
	case FormatCSV:
		g.head = []byte(genCSVHeader)
		for i, l := range []struct {
			proc, charge   string
			units, minutes int
		}{{"97110", "98.00", 2, 30}, {"97112", "61.00", 1, 15}, {"97140", "52.00", 1, 10}} {
			claim += fmt.Sprintf(genCSVRow, i+1, l.proc, l.charge, l.units, l.minutes, 3)
		}
	case FormatJSON:
		g.head = []byte(`{"batch_id":"GEN","submitter":{"name":"Generator","id":"GEN"},"claims":[` + "\n")
		g.tail = []byte("\n]}\n")
		claim = strings.ReplaceAll(genJSONClaim, `\x00`, "\x00") // a raw string cannot hold NUL
	}
	g.pieces = append(g.pieces, bytes.Split([]byte(claim), []byte{0})...)
	return g
}

func (g *genBatch) fill() bool {
	g.buf, g.off = g.buf[:0], 0
	switch {
	case !g.started:
		g.started = true
		g.buf = append(g.buf, g.head...)
	case g.next < g.n:
		// Several claims per fill keeps the generator cheap next to
		// the decoder it feeds.
		for k := 0; k < 16 && g.next < g.n; k++ {
			if g.format == FormatJSON && g.next > 0 {
				g.buf = append(g.buf, ",\n"...)
			}
			id := g.next
			if g.dupEvery > 0 && id%g.dupEvery == 0 && id > 0 {
				id -= 2 // not the previous claim: that would just continue it
			}
			for i, p := range g.pieces {
				if i > 0 {
					g.buf = append(g.buf, 'C')
					g.buf = strconv.AppendInt(g.buf, int64(1000000+id), 10)
				}
				g.buf = append(g.buf, p...)
			}
			g.next++
		}
	case !g.done:
		g.done = true
		g.buf = append(g.buf, g.tail...)
	default:
		return false
	}
	return true
}

func (g *genBatch) Read(p []byte) (int, error) {
	for g.off == len(g.buf) {
		if !g.fill() {
			return 0, io.EOF
		}
	}
	n := copy(p, g.buf[g.off:])
	g.off += n
	g.total += int64(n)
	return n, nil
}

// size is the byte length of the batch g generates.
func (g genBatch) size() int64 {
	c := newGenBatch(g.format, g.n)
	n, _ := io.Copy(io.Discard, c)
	return n
}

// heapLimit is the most heap a 100,000-claim batch may use while it
// decodes. A decoder that kept the claims, or the input, would need
// hundreds of MiB.
const heapLimit = 64 << 20

// decodeStreaming decodes a generated batch of n claims, sampling the
// heap as it goes, and returns the largest heap seen.
func decodeStreaming(t *testing.T, f Format, n int) (Summary, uint64) {
	t.Helper()
	g := newGenBatch(f, n)
	// The generator feeds an io.Pipe, as a network upload would: the
	// decoder never sees more of the batch than the pipe hands it.
	pr, pw := io.Pipe()
	go func() { _, err := io.Copy(pw, g); pw.CloseWithError(err) }()
	runtime.GC()
	var ms runtime.MemStats
	var peak uint64
	sample := func() {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}
	count := 0
	emit := func(r Result) error {
		count++
		if len(r.Claim.Lines) != 3 || r.Claim.Total() != 21100 {
			return fmt.Errorf("claim %s: %d lines, total %v", r.Claim.ID, len(r.Claim.Lines), r.Claim.Total())
		}
		if count%2000 == 0 {
			sample()
		}
		return nil
	}
	var sum Summary
	var err error
	if f == FormatCSV {
		sum, err = DecodeCSV(pr, "GEN", emit)
	} else {
		sum, err = DecodeJSON(pr, "GEN", emit)
	}
	sample()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v: %d claims, %d MiB streamed, peak heap %.1f MiB", f, count, g.total>>20, float64(peak)/(1<<20))
	return sum, peak
}

func TestDecodeCSVBoundedMemory(t *testing.T) {
	const n = 100_000
	sum, peak := decodeStreaming(t, FormatCSV, n)
	if sum.Claims != n || sum.Rejected != 0 {
		t.Errorf("claims %d rejected %d: %v", sum.Claims, sum.Rejected, sum.Errors)
	}
	if peak > heapLimit {
		t.Errorf("peak heap %d MiB > %d MiB", peak>>20, heapLimit>>20)
	}
}

func TestDecodeJSONBoundedMemory(t *testing.T) {
	// 25,000 claims (26 MiB of JSON) still show streaming: holding them
	// would take over 60 MiB.
	n := 100_000
	if testing.Short() || raceEnabled {
		n = 25_000
	}
	sum, peak := decodeStreaming(t, FormatJSON, n)
	if sum.Claims != n || sum.Rejected != 0 || sum.Header.BatchID != "GEN" {
		t.Errorf("claims %d rejected %d: %v", sum.Claims, sum.Rejected, sum.Errors)
	}
	if peak > heapLimit {
		t.Errorf("peak heap %d MiB > %d MiB", peak>>20, heapLimit>>20)
	}
}

// Rejections in a long batch are counted, while the kept errors stay
// capped.
func TestLongBatchWithDuplicates(t *testing.T) {
	g := newGenBatch(FormatCSV, 20_000)
	g.dupEvery = 10
	sum, err := DecodeCSV(g, "GEN", func(Result) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rejected != 1999 || sum.Claims != 18001 || len(sum.Errors) != DefaultMaxErrors || sum.ErrorsDropped != 1999-DefaultMaxErrors {
		t.Errorf("claims %d rejected %d errors %d dropped %d", sum.Claims, sum.Rejected, len(sum.Errors), sum.ErrorsDropped)
	}
}

func benchmarkDecode(b *testing.B, f Format, n int) {
	size := genBatch{format: f, n: n}.size()
	b.SetBytes(size)
	b.ReportAllocs()
	decode := DecodeCSV
	if f == FormatJSON {
		decode = DecodeJSON
	}
	for b.Loop() {
		sum, err := decode(newGenBatch(f, n), "GEN", func(Result) error { return nil })
		if err != nil || sum.Claims != n {
			b.Fatalf("%d claims, %v", sum.Claims, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "claims/s")
}

// BenchmarkDecodeCSV100k decodes a generated CSV batch of 100,000 claims
// (300,000 rows).
func BenchmarkDecodeCSV100k(b *testing.B) { benchmarkDecode(b, FormatCSV, 100_000) }

// BenchmarkDecodeJSON decodes a generated JSON batch of 100,000 claims.
func BenchmarkDecodeJSON(b *testing.B) { benchmarkDecode(b, FormatJSON, 100_000) }

// BenchmarkGenerator is the cost of producing the benchmark input alone,
// to subtract from the two above.
func BenchmarkGenerator(b *testing.B) {
	for _, f := range []Format{FormatCSV, FormatJSON} {
		b.Run(f.String(), func(b *testing.B) {
			b.SetBytes(genBatch{format: f, n: 100_000}.size())
			for b.Loop() {
				_, _ = io.Copy(io.Discard, newGenBatch(f, 100_000))
			}
		})
	}
}
