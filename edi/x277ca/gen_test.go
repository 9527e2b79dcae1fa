package x277ca

import (
	"bytes"
	"fmt"
	"io"
)

const genPerProvider = 1000

// gen277 generates a 277CA with n claims on the fly: one provider per
// 1000 claims, every fifth claim rejected with two service lines, the
// others accepted with a payer claim number. Counts and HL links are right.
type gen277 struct {
	n, i, hl, prov, segs int
	buf                  bytes.Buffer
	done                 bool
}

func newGen277(n int) *gen277 {
	g := &gen277{n: n}
	g.buf.WriteString("ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLAIMGATE      *260102*0304*^*00501*000000202*0*P*:~\n" +
		"GS*HN*PAYER*CLAIMGATE*20260102*0304*202*X*005010X214~\nST*277*0001*005010X214~\nBHT*0085*08*B0001*20260102*0304*TH~\n" +
		"HL*1**20*1~\nNM1*PR*2*BIG PAYER*****PI*12345~\nTRN*1*T0001~\nDTP*050*D8*20260101~\nDTP*009*D8*20260102~\n" +
		"HL*2*1*21*1~\nNM1*41*2*CLAIMGATE*****46*CG001~\nTRN*2*B0001~\nSTC*A1:19:PR*20260102*WQ*1000~\n")
	g.hl, g.segs = 2, 11
	return g
}

func (g *gen277) Read(p []byte) (int, error) {
	for g.buf.Len() < len(p) && !g.done {
		g.more()
	}
	n, _ := g.buf.Read(p)
	if n == 0 && g.done {
		return 0, io.EOF
	}
	return n, nil
}

func (g *gen277) more() {
	for k := 0; k < 128 && g.i < g.n; k++ {
		if g.i%genPerProvider == 0 {
			g.hl++
			g.prov = g.hl
			fmt.Fprintf(&g.buf, "HL*%d*2*19*1~\nNM1*85*2*CLINIC %d*****XX*1%09d~\nTRN*1*P%d~\nSTC*A1:19:PR*20260102*WQ*5000~\n", g.hl, g.i, g.i, g.i)
			g.segs += 4
		}
		g.i++
		g.hl++
		fmt.Fprintf(&g.buf, "HL*%d*%d*PT~\nNM1*QC*1*DOE%d*JANE****MI*M%08d~\nTRN*2*PCN%07d~\n", g.hl, g.prov, g.i, g.i, g.i)
		g.segs += 3
		if g.i%5 == 0 {
			fmt.Fprintf(&g.buf, "STC*A7:21:85*20260102*U*150.00******A7:249~\nDTP*472*RD8*20251201-20251205~\n"+
				"SVC*HC:97110:GP*100*****4~\nSTC*A7:21*20260102*U~\nREF*FJ*L%d-1~\nDTP*472*D8*20251201~\n"+
				"SVC*HC:97140:GP:59*50*****1~\nSTC*A7:21*20260102*U~\nREF*FJ*L%d-2~\nDTP*472*D8*20251202~\n", g.i, g.i)
			g.segs += 10
			continue
		}
		fmt.Fprintf(&g.buf, "STC*A2:20*20260102*WQ*125.50~\nREF*1K*PAY%010d~\nDTP*472*D8*20251215~\n", g.i)
		g.segs += 3
	}
	if g.i >= g.n {
		fmt.Fprintf(&g.buf, "SE*%d*0001~\nGE*1*202~\nIEA*1*000000202~\n", g.segs+1)
		g.done = true
	}
}
