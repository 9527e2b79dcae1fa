package pipeline

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/claimgate/claimgate/edi/x837p"
)

// itemKey is the duplicate key of a claim read from a PM system's 837P:
// the same facts as scrub.DuplicateKey (payer, member id, the patient's
// birth date and name, the sorted service date and procedure of each
// line) in a namespace of its own, hex SHA-256 (HMAC-SHA256 with the
// configured secret), never PHI. ok is false for replacements and voids
// (CLM05-3 7 or 8), which are never duplicates. Without it a rerun after
// a crash would send an 837P batch's claims again.
func itemKey(it *x837p.Item, secret []byte) (key string, ok bool) {
	if it.Claim == nil || it.Subscriber == nil {
		return "", false
	}
	if f := it.Claim.Frequency; f == "7" || f == "8" {
		return "", false
	}
	var b strings.Builder
	field := func(s string) {
		b.WriteByte(0x1f)
		b.WriteString(strings.ToUpper(strings.TrimSpace(s)))
	}
	b.WriteString("claimgate/dup837/v1")
	field(it.Subscriber.Payer.ID)
	field(it.Subscriber.ID)
	name, birth := it.Subscriber.Name, it.Subscriber.Birth
	if it.Patient != nil {
		name, birth = it.Patient.Name, it.Patient.Birth
	}
	field(birth)
	field(name.Last)
	field(name.First)
	lines := make([]string, len(it.Claim.Lines))
	for i, l := range it.Claim.Lines {
		lines[i] = l.ServiceDate + ":" + strings.ToUpper(strings.TrimSpace(l.Procedure))
	}
	slices.Sort(lines)
	for _, l := range lines {
		field(l)
	}
	var sum []byte
	if len(secret) > 0 {
		h := hmac.New(sha256.New, secret)
		h.Write([]byte(b.String()))
		sum = h.Sum(nil)
	} else {
		s := sha256.Sum256([]byte(b.String()))
		sum = s[:]
	}
	return hex.EncodeToString(sum), true
}
