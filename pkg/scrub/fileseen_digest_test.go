package scrub

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestDigestOfIsLowerHex checks digestOf against its definition: a key
// maps to a digest prefix exactly when it is 64 lower-case hex digits,
// and the prefix is the first 16 decoded bytes.
func TestDigestOfIsLowerHex(t *testing.T) {
	sum := sha256.Sum256([]byte("claim"))
	good := hex.EncodeToString(sum[:])
	cases := []string{
		good,
		strings.ToUpper(good),
		good[:63] + "A",
		good[:63] + "g",
		good[:62],
		good + "00",
		"",
		good[:60] + "é0",
		strings.Repeat("0", 64),
		strings.Repeat("f", 64),
	}
	for _, key := range cases {
		want, wantOK := digestPrefix{}, false
		if len(key) == 64 && strings.ToLower(key) == key {
			if b, err := hex.DecodeString(key); err == nil {
				copy(want[:], b)
				wantOK = true
			}
		}
		got, ok := digestOf(key)
		if ok != wantOK || got != want {
			t.Errorf("digestOf(%q) = %x, %v; want %x, %v", key, got, ok, want, wantOK)
		}
	}
	if _, ok := digestOf(good); !ok {
		t.Fatal("a lower-case SHA-256 hex digest must map to a prefix")
	}
}
