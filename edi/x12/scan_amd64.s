#include "textflag.h"

// func scanSegment(b []byte, sep, term byte, ends *[63]int32) (end, n int)
//
// SI base, BX len, R8 cap, DI ends, R9 n, R10 i (the 16-byte block),
// X0 sep in every byte, X1 term in every byte, R11 separator bits,
// R12 terminator bits of the block, R13 set when the block ends the
// segment (CX: the terminator's place in it).
TEXT ·scanSegment(SB), NOSPLIT, $0-56
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), BX
	MOVQ b_cap+16(FP), R8
	MOVBLZX sep+24(FP), AX
	MOVBLZX term+25(FP), DX
	MOVQ ends+32(FP), DI

	// broadcast the two bytes
	MOVQ AX, X0
	PUNPCKLBW X0, X0
	PUNPCKLBW X0, X0
	PSHUFL $0, X0, X0
	MOVQ DX, X1
	PUNPCKLBW X1, X1
	PUNPCKLBW X1, X1
	PSHUFL $0, X1, X1

	XORQ R9, R9
	XORQ R10, R10
	TESTQ BX, BX
	JEQ none

block:
	LEAQ 16(R10), AX
	CMPQ AX, R8
	JA tail // fewer than 16 bytes of memory left: byte by byte
	MOVOU (SI)(R10*1), X2
	MOVOU X2, X3
	PCMPEQB X0, X2
	PCMPEQB X1, X3
	PMOVMSKB X2, R11
	PMOVMSKB X3, R12
	CMPQ AX, BX
	JBE inside
	// the block runs past len: keep the bits of its first len-i bytes
	MOVQ BX, CX
	SUBQ R10, CX
	MOVL $1, DX
	SHLL CX, DX
	DECL DX
	ANDL DX, R11
	ANDL DX, R12

inside:
	XORL R13, R13
	TESTL R12, R12
	JEQ emit
	// a terminator in this block: only the separators before it count,
	// and the scan ends after them (R13 set)
	BSFL R12, CX
	MOVL $1, DX
	SHLL CX, DX
	DECL DX
	ANDL DX, R11
	MOVL $1, R13

emit:
	TESTL R11, R11
	JEQ emitted
	BSFL R11, DX
	ADDQ R10, DX
	CMPQ R9, $63
	JAE skip
	MOVL DX, (DI)(R9*4)
skip:
	INCQ R9
	LEAL -1(R11), DX
	ANDL DX, R11
	JMP emit

emitted:
	TESTL R13, R13
	JNE done
	MOVQ AX, R10
	CMPQ R10, BX
	JB block

none:
	MOVQ $-1, end+40(FP)
	MOVQ R9, n+48(FP)
	RET

done:
	ADDQ R10, CX
	MOVQ CX, end+40(FP)
	MOVQ R9, n+48(FP)
	RET

tail:
	// bytes i..len-1, one at a time
	CMPQ R10, BX
	JAE none
	MOVBLZX (SI)(R10*1), DX
	CMPB DL, term+25(FP)
	JEQ tailend
	CMPB DL, sep+24(FP)
	JNE tailnext
	CMPQ R9, $63
	JAE tailskip
	MOVL R10, (DI)(R9*4)
tailskip:
	INCQ R9
tailnext:
	INCQ R10
	JMP tail
tailend:
	MOVQ R10, end+40(FP)
	MOVQ R9, n+48(FP)
	RET
