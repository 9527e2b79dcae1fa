package main

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var updateParseDigests = flag.Bool("update-parse-json", false, "rewrite "+parseDigestFile)

// parseDigestFile holds the SHA-256 of what parse --json printed (and its
// exit status) for every case of TestParseJSONSameAsBefore, made by the
// code before the JSON writer's speed-up (commit 1ebc580).
const parseDigestFile = "../../testdata/golden/parse-json.sha256"

// TestParseJSONSameAsBefore: parse --json prints, byte for byte, what it
// printed before its writer was made faster: on every sample, on damaged
// copies of the 835 samples (cut short, junk bytes, a stretch repeated),
// and on generated 835s (reversals, a repeated payment, 60,000 claims).
// A change meant to alter the output updates the digests with
// -update-parse-json, and says so.
func TestParseJSONSameAsBefore(t *testing.T) {
	old := stdin
	defer func() { stdin = old }()
	got := map[string]string{}
	digest := func(name string, data []byte, args ...string) {
		if data != nil {
			stdin = bytes.NewReader(data)
		}
		code, out, _ := runCLI(append([]string{"parse"}, args...)...)
		h := sha256.New()
		fmt.Fprintf(h, "%s\nexit %d\n", out, code)
		got[name] = fmt.Sprintf("%x", h.Sum(nil))
	}
	r := rand.New(rand.NewSource(11))
	for _, p := range sampleFiles(t) {
		name := filepath.Base(filepath.Dir(p)) + "/" + filepath.Base(p)
		digest(name, nil, p, "--json")
		if !strings.Contains(p, "/835/") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 9; k++ {
			bad := bytes.Clone(data)
			switch k % 3 {
			case 0:
				bad = bad[:r.Intn(len(bad))]
			case 1:
				for j := 0; j < 1+r.Intn(3); j++ {
					const junk = "*~:^A9 \n\x00\xff\"\\"
					bad[r.Intn(len(bad))] = junk[r.Intn(len(junk))]
				}
			case 2:
				i := r.Intn(len(bad))
				j := i + r.Intn(min(400, len(bad)-i))
				bad = append(bad[:j:j], bad[i:]...)
			}
			digest(fmt.Sprintf("%s~damaged%d", name, k), bad, "-", "--json")
		}
	}
	for _, g := range []struct {
		seed          int64
		sets, claims  int
		repeatedTrace bool
	}{{1, 1, 300, false}, {2, 3, 500, false}, {3, 2, 400, true}, {4, 3, 20000, false}} {
		var b bytes.Buffer
		if _, err := gen835(&b, g.seed, g.sets, g.claims, g.repeatedTrace); err != nil {
			t.Fatal(err)
		}
		digest(fmt.Sprintf("gen835-seed%d-%dx%d-repeated%v", g.seed, g.sets, g.claims, g.repeatedTrace), b.Bytes(), "-", "--json")
	}
	if *updateParseDigests {
		var b strings.Builder
		names := make([]string, 0, len(got))
		for n := range got {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "%s  %s\n", got[n], n)
		}
		if err := os.WriteFile(parseDigestFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(parseDigestFile)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		d, n, ok := strings.Cut(l, "  ")
		if !ok {
			t.Fatalf("%s: bad line %q", parseDigestFile, l)
		}
		want[n] = d
	}
	if len(want) != len(got) || len(got) < 100 {
		t.Errorf("%d cases, %d digests in %s", len(got), len(want), parseDigestFile)
	}
	for n, d := range got {
		if want[n] != d {
			t.Errorf("%s: parse --json output differs from before (sha256 %s, was %s)", n, d, want[n])
		}
	}
}
