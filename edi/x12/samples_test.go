package x12

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// sample is one public sample file and what its MANIFEST entry says.
type sample struct {
	path  string
	name  string
	stats map[string]string
}

var statRe = regexp.MustCompile(`(\w+)=(\S+)`)

// loadSamples reads every testdata/<kind>/SOURCES.txt (MANIFEST blocks
// copied with the samples) and returns the files with their stats.
func loadSamples(t *testing.T) []sample {
	t.Helper()
	srcs, _ := filepath.Glob("../../testdata/*/SOURCES.txt")
	if len(srcs) == 0 {
		t.Fatal("no testdata/*/SOURCES.txt: sample files missing")
	}
	var out []sample
	for _, src := range srcs {
		f, err := os.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		var cur *sample
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line != "" && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "#"):
				name := filepath.Base(strings.TrimSpace(line))
				out = append(out, sample{path: filepath.Join(filepath.Dir(src), name), name: strings.TrimSpace(line), stats: map[string]string{}})
				cur = &out[len(out)-1]
			case cur != nil && strings.HasPrefix(strings.TrimSpace(line), "verdict:"):
				cur.stats["verdict"] = strings.TrimSpace(line)
			case cur != nil && strings.HasPrefix(strings.TrimSpace(line), "stats:"):
				// delims=el'*' comp'<' rep'^' seg'~' are separate words.
				s := strings.TrimPrefix(strings.TrimSpace(line), "stats:")
				for _, m := range statRe.FindAllStringSubmatch(s, -1) {
					cur.stats[m[1]] = m[2]
				}
				for _, d := range []string{"el", "comp", "rep", "seg"} {
					if m := regexp.MustCompile(`\b` + d + `'(\\n|.)'`).FindStringSubmatch(s); m != nil {
						cur.stats["delim-"+d] = m[1]
					}
				}
			}
		}
		f.Close()
	}
	return out
}

// TestSamplesEnvelopes reads every public sample and checks what the
// Reader and envelope checker see against the MANIFEST stats: segment
// counts, interchanges, groups, sets, version, delimiters and per-segment
// counts. NEGATIVE files with envelope defects must be rejected with the
// right finding; NEGATIVE files whose defect lies inside the transaction
// (837P loop or component errors) are the transaction validators' to catch.
func TestSamplesEnvelopes(t *testing.T) {
	samples := loadSamples(t)
	if len(samples) < 40 {
		t.Fatalf("found %d samples, want the 41 of ../shared/samples", len(samples))
	}
	// The envelope-level defects of the NEGATIVE samples.
	negative := map[string]string{
		"837p/dwai__Molina_Mock_UP_837P_File.NEGATIVE.txt": "envelope.isa-length",
		"835/dwai__sample_835_nv_medicaid.NEGATIVE.txt":    "envelope.isa-length",
	}
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			f, err := os.Open(s.path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			counts := map[string]int{}
			var firstDelims Delimiters
			sum, fs, err := Check(f, CheckOptions{Name: s.name, Segment: func(seg *Segment) {
				if counts["ISA"] == 0 && seg.Is("ISA") {
					firstDelims = seg.Delimiters()
				}
				counts[seg.ID()]++
			}})
			if err != nil {
				t.Fatal(err)
			}
			if rule, ok := negative[s.name]; ok {
				if !fs.HasRule(rule) {
					t.Errorf("NEGATIVE sample: want finding %s, got %v", rule, fs)
				}
			}
			if want := s.stats["segs"]; want != strconv.Itoa(sum.Segments) {
				t.Errorf("segments: read %d, MANIFEST says %s", sum.Segments, want)
			}
			groups, sets := 0, 0
			for _, ic := range sum.Interchanges {
				groups += len(ic.Groups)
				for _, g := range ic.Groups {
					sets += len(g.Sets)
				}
			}
			for k, got := range map[string]int{"ISA": len(sum.Interchanges), "GS": groups, "ST": sets} {
				if s.stats[k] != strconv.Itoa(got) {
					t.Errorf("%s: read %d, MANIFEST says %s", k, got, s.stats[k])
				}
			}
			if g := sum.Interchanges[0].Groups[0]; g.Version != s.stats["GS08"] {
				t.Errorf("GS08 %q, MANIFEST says %q", g.Version, s.stats["GS08"])
			}
			// Plain per-segment counts (CLM=8, LX=11, ...).
			for k, v := range s.stats {
				n, err := strconv.Atoi(v)
				if err != nil || !validID(k) {
					continue
				}
				if counts[k] != n {
					t.Errorf("%s segments: read %d, MANIFEST says %d", k, counts[k], n)
				}
			}
			want := Delimiters{Element: unq(s.stats["delim-el"]), Component: unq(s.stats["delim-comp"]), Repetition: unq(s.stats["delim-rep"]), Segment: unq(s.stats["delim-seg"])}
			if want.Repetition == 'U' {
				want.Repetition = 0 // ISA11 "U" is the 4010 standards id, not a separator
			}
			if firstDelims != want {
				t.Errorf("delimiters %v, MANIFEST says %v", firstDelims, want)
			}
			// Files that are not NEGATIVE and pass pyx12 have clean envelopes.
			if strings.Contains(s.stats["verdict"], "pyx12=OK") && fs.Errors() > 0 {
				t.Errorf("clean sample has envelope errors: %v", fs)
			}
		})
	}
}

func unq(s string) byte {
	if s == `\n` {
		return '\n'
	}
	if s == "" {
		return 0
	}
	return s[0]
}
