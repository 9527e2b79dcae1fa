package main

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"os"
	"strings"
	"testing"
)

// TestParseCorruptedAgreesWithValidate: on cut and damaged copies of every
// sample, parse never panics or hangs, prints valid JSON whenever it gets
// as far as reading, and exits as validate does.
func TestParseCorruptedAgreesWithValidate(t *testing.T) {
	old := stdin
	defer func() { stdin = old }()
	r := rand.New(rand.NewSource(7))
	cases, read := 0, 0
	for _, p := range sampleFiles(t) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 12; k++ {
			bad := bytes.Clone(data)
			switch k % 3 {
			case 0: // cut short
				bad = bad[:r.Intn(len(bad))]
			case 1: // a delimiter or letter where it does not belong
				for j := 0; j < 1+r.Intn(3); j++ {
					const junk = "*~:^A9 \n\x00\xff"
					bad[r.Intn(len(bad))] = junk[r.Intn(len(junk))]
				}
			case 2: // a stretch repeated
				i := r.Intn(len(bad))
				j := i + r.Intn(min(400, len(bad)-i))
				bad = append(bad[:j:j], bad[i:]...)
			}
			stdin = bytes.NewReader(bad)
			vcode, vout, _ := runCLI("validate", "-")
			mode := "--json"
			if strings.Contains(p, "/835/") && k%2 == 1 {
				mode = "--csv"
			}
			stdin = bytes.NewReader(bad)
			pcode, out, perr := runCLI("parse", "-", mode)
			cases++
			if pcode == 2 {
				continue // no ST left to say what the file is
			}
			read++
			dup := strings.Contains(perr, "["+RuleDuplicatePayment+"]")
			if pcode != vcode && !(dup && vcode == 0) {
				t.Errorf("%s case %d %s: parse exits %d, validate %d\n%s\nvalidate:\n%s", p, k, mode, pcode, vcode, perr, vout)
			}
			if mode == "--json" && !json.Valid([]byte(out)) {
				t.Errorf("%s case %d: not valid JSON:\n%s", p, k, out)
			}
		}
	}
	if cases < 300 || read < cases/2 {
		t.Fatalf("only %d cases, %d read", cases, read)
	}
	t.Logf("%d damaged files, %d read", cases, read)
}
