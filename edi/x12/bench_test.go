package x12

import (
	"bufio"
	"bytes"
	"io"
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// claimBlock is one 837P-like claim: the segments of a subscriber, a claim
// and four PT service lines, as a PM system's file would repeat them.
const claimBlock = "HL*2*1*22*0~SBR*P*18*GRP123******CI~NM1*IL*1*DOE*JANE****MI*W123456789~" +
	"N3*123 MAIN ST~N4*SPRINGFIELD*IL*62701~DMG*D8*19800101*F~NM1*PR*2*ACME HEALTH*****PI*12345~" +
	"CLM*PCN%07d*340***11:B:1*Y*A*Y*Y~DTP*431*D8*20240101~REF*G1*AUTH12345~HI*ABK:M545*ABF:M6281~" +
	"NM1*82*1*SMITH*ANNA****XX*1234567893~PRV*PE*PXC*225100000X~" +
	"LX*1~SV1*HC:97110:GP*120*UN*4***1:2~DTP*472*D8*20240105~REF*6R*L1~" +
	"LX*2~SV1*HC:97112:GP*90*UN*3***1~DTP*472*D8*20240105~REF*6R*L2~" +
	"LX*3~SV1*HC:97140:GP*60*UN*2***1~DTP*472*D8*20240105~REF*6R*L3~" +
	"LX*4~SV1*HC:97161:GP*70*UN*1***1~DTP*472*D8*20240105~REF*6R*L4~\n"

// genStream is an io.Reader producing an endless (or limited) 837P-like
// stream without holding it: an ISA header, then claim blocks.
type genStream struct {
	buf   []byte
	n     int
	limit int64
	sent  int64
}

func newGenStream(limit int64) *genStream {
	g := &genStream{limit: limit}
	g.buf = append(g.buf, isa('*', '^', ':', '~', "000000001")...)
	g.buf = append(g.buf, "GS*HC*S*R*20240101*1200*1*X*005010X222A1~ST*837*0001*005010X222A1~"...)
	return g
}

func (g *genStream) Read(p []byte) (int, error) {
	if g.limit > 0 && g.sent >= g.limit {
		return 0, io.EOF
	}
	if len(g.buf) == 0 {
		g.n++
		g.buf = append(g.buf[:0], claimBlock[:bytes.IndexByte([]byte(claimBlock), '%')]...)
		g.buf = append(g.buf, strconv.Itoa(1000000+g.n)...)
		g.buf = append(g.buf, claimBlock[bytes.IndexByte([]byte(claimBlock), '%')+4:]...)
	}
	n := copy(p, g.buf)
	if g.limit > 0 && g.sent+int64(n) > g.limit {
		n = int(g.limit - g.sent)
	}
	g.buf = g.buf[n:]
	g.sent += int64(n)
	return n, nil
}

var (
	benchOnce sync.Once
	benchData []byte
)

// benchInput is about 50 MB of generated 837P-like segments.
func benchInput() []byte {
	benchOnce.Do(func() {
		benchData, _ = io.ReadAll(newGenStream(50 << 20))
	})
	return benchData
}

// BenchmarkReader reads every segment and touches its id and an element,
// as a typed reader would.
func BenchmarkReader(b *testing.B) {
	data := benchInput()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	segs := 0
	for i := 0; i < b.N; i++ {
		r := NewReader(bytes.NewReader(data))
		for {
			seg, err := r.Next()
			if err != nil {
				if err == io.EOF {
					break
				}
				if IsFinding(err) {
					continue
				}
				b.Fatal(err)
			}
			segs++
			if seg.ID() == "CLM" && len(seg.Element(1)) == 0 {
				b.Fatal("CLM01 empty")
			}
		}
	}
	b.ReportMetric(float64(segs)/float64(b.N), "segments/op")
}

// BenchmarkReaderElements reads every element of every segment, the way a
// typed reader does: with Reader.SplitElements, which finds the
// separators while looking for the segment's end, and without, where
// Element splits each segment on first use.
func BenchmarkReaderElements(b *testing.B) {
	data := benchInput()
	for _, split := range []bool{true, false} {
		b.Run(map[bool]string{true: "split-while-reading", false: "split-on-demand"}[split], func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				r := NewReader(bytes.NewReader(data))
				r.SplitElements = split
				total := 0
				for {
					seg, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						if IsFinding(err) { // the generated stream is cut anywhere
							continue
						}
						b.Fatal(err)
					}
					ends := seg.ElementEnds()
					total += int(ends[len(ends)-1])
				}
				if total == 0 {
					b.Fatal("no elements")
				}
			}
		})
	}
}

// BenchmarkBaselineSplit only splits segments with bufio.Reader (whose
// ReadSlice uses bytes.IndexByte): the floor a segment reader can reach.
func BenchmarkBaselineSplit(b *testing.B) {
	data := benchInput()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		br := bufio.NewReaderSize(bytes.NewReader(data), 64<<10)
		n := 0
		for {
			line, err := br.ReadSlice('~')
			if len(line) > 0 {
				n++
			}
			if err == io.EOF {
				break
			}
			if err != nil && err != bufio.ErrBufferFull {
				b.Fatal(err)
			}
		}
		if n == 0 {
			b.Fatal("no segments")
		}
	}
}

// TestReaderAllocsPerSegment checks the steady state allocates nothing per
// segment.
func TestReaderAllocsPerSegment(t *testing.T) {
	r := NewReader(newGenStream(0))
	for i := 0; i < 1000; i++ { // warm up: buffer and id table
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(10000, func() {
		seg, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		_ = seg.Element(1)
		_ = seg.Component(1, 2)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per segment, want 0", allocs)
	}
}

// TestReaderBoundedMemory streams 1 GiB of generated segments (256 MiB
// with -short) and checks the heap stays under 32 MiB throughout.
func TestReaderBoundedMemory(t *testing.T) {
	size := int64(1 << 30)
	if testing.Short() {
		size = 256 << 20
	}
	runtime.GC()
	r := NewReader(newGenStream(size))
	var ms runtime.MemStats
	var peak uint64
	segs := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil && !IsFinding(err) {
			t.Fatal(err)
		}
		segs++
		if segs%200000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if r.Offset() != size {
		t.Fatalf("read %d bytes, want %d", r.Offset(), size)
	}
	if peak > 32<<20 {
		t.Fatalf("heap peaked at %d MiB while streaming", peak>>20)
	}
	t.Logf("%d segments, %d MiB streamed, heap peak %.1f MiB", segs, size>>20, float64(peak)/(1<<20))
}
