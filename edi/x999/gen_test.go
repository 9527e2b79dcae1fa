package x999

import (
	"bytes"
	"fmt"
	"io"
)

// gen999 generates a 999 with n AK2 loops on the fly, so tests and
// benchmarks can read large inputs without holding them. Every
// rejectEvery-th set (0: none) is rejected with an IK3, a business unit
// CTX and an IK4; the AK9 and SE counts are right.
type gen999 struct {
	n, rejectEvery int
	i              int
	segs           int
	accepted       int
	buf            bytes.Buffer
	done           bool
}

func newGen999(n, rejectEvery int) *gen999 {
	g := &gen999{n: n, rejectEvery: rejectEvery}
	g.buf.WriteString("ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLAIMGATE      *260102*0304*^*00501*000000101*0*P*:~\n" +
		"GS*FA*PAYER*CLAIMGATE*20260102*0304*101*X*005010X231A1~\nST*999*0001*005010X231A1~\nAK1*HC*5001*005010X222A1~\n")
	g.segs = 2
	return g
}

func (g *gen999) Read(p []byte) (int, error) {
	for g.buf.Len() < len(p) && !g.done {
		g.more()
	}
	n, _ := g.buf.Read(p)
	if n == 0 && g.done {
		return 0, io.EOF
	}
	return n, nil
}

func (g *gen999) more() {
	for k := 0; k < 256 && g.i < g.n; k++ {
		g.i++
		if g.rejectEvery > 0 && g.i%g.rejectEvery == 0 {
			fmt.Fprintf(&g.buf, "AK2*837*%09d*005010X222A1~\nIK3*CLM*%d*2300*8~\nCTX*CLM01:PCN%d~\nIK4*2*782*7*12X.00~\nIK5*R*5~\n", g.i, 20+g.i%500, g.i)
			g.segs += 5
			continue
		}
		fmt.Fprintf(&g.buf, "AK2*837*%09d*005010X222A1~\nIK5*A~\n", g.i)
		g.segs += 2
		g.accepted++
	}
	if g.i >= g.n {
		status := "A"
		switch {
		case g.accepted == 0:
			status = "R"
		case g.accepted < g.n:
			status = "P"
		}
		fmt.Fprintf(&g.buf, "AK9*%s*%d*%d*%d~\nSE*%d*0001~\nGE*1*101~\nIEA*1*000000101~\n", status, g.n, g.n, g.accepted, g.segs+2)
		g.done = true
	}
}
