package main

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gen835Bytes is gen835's file in memory.
func gen835Bytes(t *testing.T, seed int64, sets, claims int, repeatTrace bool) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := gen835(&b, seed, sets, claims, repeatTrace); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// mutate835 damages a copy of an X12 file as a sender's bug or a broken
// transfer would: segments dropped, repeated or swapped, bytes changed to
// delimiters, digits or control characters, the file cut short or sent
// twice (the same interchange and payments again).
func mutate835(r *rand.Rand, in []byte) []byte {
	segs := bytes.SplitAfter(in, []byte("~"))
	for n := 1 + r.Intn(6); n > 0; n-- {
		i := r.Intn(len(segs))
		switch r.Intn(7) {
		case 0:
			segs = append(segs[:i], segs[i+1:]...)
		case 1:
			segs = append(segs[:i+1], segs[i:]...)
		case 2:
			j := r.Intn(len(segs))
			segs[i], segs[j] = segs[j], segs[i]
		case 3, 4:
			s := bytes.Clone(segs[i])
			const b = "*~:^X0-.\x01\n"
			s[r.Intn(len(s))] = b[r.Intn(len(b))]
			segs[i] = s
		case 5:
			if i > 0 {
				segs = segs[:i] // truncated
			}
		case 6:
			if len(segs) < 100000 {
				segs = append(segs, segs...) // sent twice
			}
		}
	}
	return bytes.Join(segs, nil)
}

// validateBoth runs validate with args on p with one worker and with
// several, and fails when the output or exit status differ.
func validateBoth(t *testing.T, p string, args ...string) (int, string) {
	t.Helper()
	run := func(workers int) (int, string, string) {
		return runCLI(append(append([]string{"validate", "--workers", fmt.Sprint(workers)}, args...), p)...)
	}
	code, out, errs := run(1)
	for _, w := range []int{2, 4} {
		c, o, e := run(w)
		if c != code || o != out || e != errs {
			ol, wl := lines(o), lines(out)
			for i := 0; i < min(len(ol), len(wl)); i++ {
				if ol[i] != wl[i] {
					t.Fatalf("%s %v, %d workers: line %d\n%s\none worker:\n%s", p, args, w, i+1, ol[i], wl[i])
				}
			}
			t.Fatalf("%s %v, %d workers: exit %d, %d lines, stderr %q; one worker: exit %d, %d lines, stderr %q", p, args, w, c, len(ol), e, code, len(wl), errs)
		}
	}
	return code, out
}

// TestValidateParallelSameOutput: validate checks the transaction sets of
// a file in parallel (--workers), and prints exactly what it prints
// checking them one at a time, in every output form, on the samples, on
// generated 835s and 837Ps and on hundreds of damaged 835s (errors in
// several sets and in the envelopes, payments and interchanges sent
// twice, truncated files).
func TestValidateParallelSameOutput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	forms := [][]string{nil, {"--max-findings", "0"}, {"--max-findings", "3"}, {"--summary"}, {"--json"}, {"--json", "--summary"}, {"--json", "--max-findings", "2", "--show-values"}}
	files := sampleFiles(t)
	p837, _ := filepath.Glob("../../testdata/837p/*")
	files = append(files, p837...)
	for _, p := range files {
		if strings.HasSuffix(p, "SOURCES.txt") {
			continue
		}
		for _, args := range forms {
			validateBoth(t, p, args...)
		}
	}
	var b bytes.Buffer
	if err := write837P(&b, 3000); err != nil {
		t.Fatal(err)
	}
	files = []string{write("gen.837", b.Bytes())}
	b.Reset()
	if err := write835(&b, 3000); err != nil {
		t.Fatal(err)
	}
	files = append(files, write("one-big-set.835", b.Bytes()))
	files = append(files, write("sets.835", gen835Bytes(t, 1, 8, 400, false)), write("repeated.835", gen835Bytes(t, 2, 5, 300, true)))
	for _, p := range files {
		for _, args := range forms[:5] {
			validateBoth(t, p, args...)
		}
	}
	// damaged copies: the 835 of several sets, and the one of a single set
	base := gen835Bytes(t, 3, 5, 40, false)
	one := gen835Bytes(t, 4, 1, 200, false)
	n := 200
	if testing.Short() {
		n = 40
	}
	failed := 0
	for i := 0; i < n; i++ {
		r := rand.New(rand.NewSource(int64(i)))
		in := base
		if i%4 == 3 {
			in = one
		}
		p := write(fmt.Sprintf("damaged%d.835", i), mutate835(r, in))
		code, _ := validateBoth(t, p, forms[i%len(forms)]...)
		if code == 1 {
			failed++
		}
	}
	if failed < n/2 {
		t.Fatalf("only %d of %d damaged files failed validation", failed, n)
	}
}

// TestValidateParallelBigSets: sets of a few MB each, with errors in
// several of them and a payment sent twice, spread over many batches.
func TestValidateParallelBigSets(t *testing.T) {
	in := gen835Bytes(t, 5, 4, 4000, false)
	// errors in sets 1 and 3, and set 4 pays set 2's trace number again
	s := string(in)
	sets := strings.Split(s, "ST*835*")
	if len(sets) != 5 {
		t.Fatalf("%d parts", len(sets))
	}
	sets[1] = strings.Replace(sets[1], "CLP*PT5*", "CLP*PT5*9*", 1)
	sets[3] = strings.Replace(sets[3], "*GP~", "*GP*XX~", 3)
	sets[4] = strings.Replace(sets[4], "EFT100003", "EFT100001", 1)
	p := filepath.Join(t.TempDir(), "big.835")
	if err := os.WriteFile(p, []byte(strings.Join(sets, "ST*835*")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := validateBoth(t, p, "--max-findings", "0")
	if code != 1 || !strings.Contains(out, "[835.duplicate-payment]") {
		t.Fatalf("exit %d, output:\n%.2000s", code, out)
	}
	validateBoth(t, p, "--json", "--max-findings", "5")
}
