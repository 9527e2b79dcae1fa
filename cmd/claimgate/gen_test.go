package main

import (
	"bufio"
	"fmt"
	"io"
)

// testISA is a well-formed ISA (sender SENDER, control 000000001).
const testISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*000000001*0*P*:~\n"

// writeStray writes an interchange and group holding n REF segments
// outside any transaction set: n envelope.outside-set errors and nothing
// else.
func writeStray(w io.Writer, n int) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(testISA + "GS*HC*SENDER*RECEIVER*20240101*1200*1*X*005010X222A1~\n")
	for i := 0; i < n; i++ {
		bw.WriteString("REF*EJ*123456~\n")
	}
	bw.WriteString("GE*0*1~\nIEA*1*000000001~\n")
	return bw.Flush()
}

// write837P writes an 837P of n claims, each with its own subscriber
// loop, in sets of 1,000 claims; every claim's service date is 13/03 (one
// 837p.date error per claim) and nothing else is wrong.
func write837P(w io.Writer, n int) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(testISA + "GS*HC*SENDER*RECEIVER*20240101*1200*1*X*005010X222A1~\n")
	const perSet = 1000
	sets := 0
	for i := 0; i < n; i += perSet {
		sets++
		fmt.Fprintf(bw, "ST*837*%04d*005010X222A1~\nBHT*0019*00*244579*20061015*1023*CH~\nNM1*41*2*PREMIER BILLING SERVICE*****46*TGJ23~\n"+
			"PER*IC*JERRY*TE*3055552222*EX*231~\nNM1*40*2*KEY INSURANCE COMPANY*****46*66783JJT~\nHL*1**20*1~\nPRV*BI*PXC*203BF0100Y~\n"+
			"NM1*85*2*BEN KILDARE SERVICE*****XX*1912301953~\nN3*234 SEAWAY ST~\nN4*MIAMI*FL*331110000~\nREF*EI*587654321~\n", sets)
		segs := 11
		for j := 0; j < perSet && i+j < n; j++ {
			fmt.Fprintf(bw, "HL*%d*1*22*0~\nSBR*P*18*2222-SJ******CI~\nNM1*IL*1*SMITH*JANE****MI*JS00111223333~\nN3*236 N MAIN ST~\nN4*MIAMI*FL*33413~\nDMG*D8*19730501*M~\n"+
				"NM1*PR*2*KEY INSURANCE COMPANY*****PI*999996666~\n"+
				"CLM*C%d*100.00***11:B:1*Y*A*Y*I~\nHI*ABK:J449~\nLX*1~\nSV1*HC:97110:GP*100.00*UN*1***1~\nDTP*472*D8*20061303~\n", j+2, i+j)
			segs += 12
		}
		fmt.Fprintf(bw, "SE*%d*%04d~\n", segs+1, sets)
	}
	fmt.Fprintf(bw, "GE*%d*1~\nIEA*1*000000001~\n", sets)
	return bw.Flush()
}
