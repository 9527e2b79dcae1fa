package x835

import "github.com/claimgate/claimgate/edi/x12"

// The element rules that may hold protected health information carry
// x12.Elem.PHI, so that a finding about them withholds the value: the
// patient's, insured's, corrected and other subscriber's names and ids
// (NM1*QC, IL, 74, GB) and the claim's other identifications (REF*1W
// member id, SY social security number, EA medical record...). Claim ids
// (CLP01) are not PHI and stay visible.
func init() {
	for _, entity := range []string{"QC", "IL", "74", "GB"} {
		phiMark(nm1Specs[entity], 3, 4, 5, 6, 7, 9, 10, 11, 12)
	}
	phiMark(specREFClaim, 2, 3, 4)
}

func phiMark(sp *x12.SegSpec, pos ...int) {
	for _, p := range pos {
		if p <= len(sp.Elems) {
			sp.Elems[p-1].PHI = true
		}
	}
}
