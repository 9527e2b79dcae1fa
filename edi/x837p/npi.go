package x837p

// ValidNPI reports whether s is a well-formed National Provider Identifier:
// ten digits, the first 1 or 2, the last a Luhn check digit computed over
// the card-issuer prefix "80840" followed by the first nine digits (the
// CMS NPI standard, ISO/IEC 7812).
func ValidNPI(s string) bool { return validNPI([]byte(s)) }

// validNPI is ValidNPI on a byte slice, so segment views need no copy.
func validNPI(b []byte) bool {
	if len(b) != 10 || (b[0] != '1' && b[0] != '2') {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return npiCheckDigit(b[:9]) == b[9]
}

// npiPrefixSum is what the prefix 80840 adds to the Luhn sum. Counting
// the 14 digits before the check digit from the right, the nine NPI
// digits take positions 1..9 (odd positions are doubled) and the prefix
// read right to left (0, 4, 8, 0, 8) takes positions 10..14, so it adds
// 0 + 4*2 + 8 + 0*2 + 8 = 24.
const npiPrefixSum = 24

// npiCheckDigit returns the Luhn check digit for the nine digits d.
func npiCheckDigit(d []byte) byte {
	sum := npiPrefixSum
	// Doubling starts with the rightmost of the nine digits, because the
	// check digit will be appended to their right.
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if (len(d)-1-i)%2 == 0 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return byte('0' + (10-sum%10)%10)
}
