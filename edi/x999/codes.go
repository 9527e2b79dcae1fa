package x999

import "github.com/claimgate/claimgate/edi/codes"

// The 999 code lists come from edi/codes (versioned data); this file is the
// only place that knows it, so the source can be switched.

func codeList(s *codes.Set) []string {
	cs := s.Codes()
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Code
	}
	return out
}

var (
	ik304Codes = codeList(codes.SegmentSyntaxError())
	ik403Codes = codeList(codes.ElementSyntaxError())
	ik501Codes = codeList(codes.TransactionSetAck())
	ik502Codes = codeList(codes.TransactionSetSyntaxError())
	ak901Codes = codeList(codes.FunctionalGroupAck())
	ak905Codes = codeList(codes.FunctionalGroupSyntaxError())
)
