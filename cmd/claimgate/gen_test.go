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
func write837P(w io.Writer, n int) error { return write837PDated(w, n, "20061303") }

// write837PDated is write837P with every service date date.
func write837PDated(w io.Writer, n int, date string) error {
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
				"CLM*C%d*100.00***11:B:1*Y*A*Y*I~\nHI*ABK:J449~\nLX*1~\nSV1*HC:97110:GP*100.00*UN*1***1~\nDTP*472*D8*%s~\n", j+2, i+j, date)
			segs += 12
		}
		fmt.Fprintf(bw, "SE*%d*%04d~\n", segs+1, sets)
	}
	fmt.Fprintf(bw, "GE*%d*1~\nIEA*1*000000001~\n", sets)
	return bw.Flush()
}

// write835 writes a clean, balanced 835 of n claims in one set: the TR3's
// CARC 45 example, its claim repeated with a new CLP01 each time (three
// service lines: paid, denied CO-204, denied CO-97).
func write835(w io.Writer, n int) error { return write835Group(w, n, "CO") }

// write835Group is write835 with group code group on the third line's
// adjustment: "CR" (4010 only) makes one 835.cas-group error per claim.
func write835Group(w io.Writer, n int, group string) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "ISA*00*          *00*          *ZZ*SUBMITTERS ID  *ZZ*RECEIVERS ID   *200101*1253*^*00501*000000905*0*T*|~\n"+
		"GS*HP*SENDER CODE*RECEIVER CODE*20200101*0802*1*X*005010X221A1~\nST*835*10060875~\n"+
		"BPR*I*%d.00*C*CHK************20190816~\nTRN*1*CK NUMBER 1*1234567890~\nREF*EV*FAC~\nDTM*405*20190827~\n"+
		"N1*PR*ANY PLAN USA~\nN3*1 WALK THIS WAY~\nN4*ANYCITY*OH*45209~\nPER*CX**TE*8661112222~\n"+
		"PER*BL*EDI*TE*8002223333*EM*EDI.SUPPORT@ANYPAYER.COM~\nPER*IC**UR*WWW.ANYPAYER.COM~\n"+
		"N1*PE*PROVIDER*XX*1123454567~\nN3*2255 ANY ROAD~\nN4*ANY CITY*CA*12211~\nREF*TJ*123456789~\nLX*1~\n", 80*n)
	segs := 16
	for i := 0; i < n; i++ {
		fmt.Fprintf(bw, "CLP*PAT%07d*1*400*80**MC*CLAIMNUMBER*11*1~\nNM1*QC*1*DOE*JOHN*N***MI*ABC123456789~\nREF*1L*12345F~\n"+
			"DTM*050*20190209~\nPER*CX*G CUSTOMER SERVICE DEPARTMENT*TE*8004074627~\nAMT*AU*150~\n"+
			"SVC*HC|99213*150*80**1~\nDTM*472*20190101~\nCAS*CO*45*70~\nAMT*B6*80~\n"+
			"SVC*HC|85003*100*0**1~\nDTM*472*20190101~\nCAS*CO*204*100~\n"+
			"SVC*HC|36415*150*0**1~\nDTM*472*20190101~\nCAS*%s*97*150~\n", i, group)
		segs += 16
	}
	fmt.Fprintf(bw, "SE*%d*10060875~\nGE*1*1~\nIEA*1*000000905~\n", segs+1)
	return bw.Flush()
}
