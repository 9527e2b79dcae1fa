package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/claimgate/claimgate/pkg/scrub"
)

func TestLoadExample(t *testing.T) {
	c, err := Load("../../deploy/claimgate.example.json")
	if err != nil {
		t.Fatal(err)
	}
	ac := c.Assemble()
	if ac.Usage != 'T' || ac.Receivers["MCR01"].ISAID != "MCRJURISDICTION" || ac.Receivers["SMI03"].ID != "SMI03" || ac.Receivers["SMI03"].Name != "SUMMIT MUTUAL INSURANCE" {
		t.Fatalf("assemble config wrong: %+v", ac)
	}
	sc, err := c.Scrub()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sc.Payers["MCR01"], scrub.MedicarePolicy()) || !reflect.DeepEqual(sc.Payers["SMI03"], scrub.CommercialPolicy()) {
		t.Fatalf("policies wrong: %+v", sc.Payers)
	}
}

func TestLoadRejects(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"unknown key":       `{"submiter": {}}`,
		"bad usage":         `{"submitter":{"name":"A","id":"B","contact_name":"C","phone":"1"},"usage":"X","payers":[]}`,
		"dup payer":         `{"submitter":{"name":"A","id":"B","contact_name":"C","phone":"1"},"usage":"T","payers":[{"id":"1","name":"P"},{"id":"1","name":"Q"}]}`,
		"bad preset":        `{"submitter":{"name":"A","id":"B","contact_name":"C","phone":"1"},"usage":"T","payers":[{"id":"1","name":"P","policy_preset":"gold"}]}`,
		"no submitter":      `{"usage":"T","payers":[]}`,
		"no contact number": `{"submitter":{"name":"A","id":"B","contact_name":"C"},"usage":"T","payers":[]}`,
		"negative cap":      `{"submitter":{"name":"A","id":"B","contact_name":"C","phone":"1"},"usage":"T","payers":[],"max_claims_per_interchange":-1}`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		os.WriteFile(p, []byte(body), 0o600)
		if _, err := Load(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSecret(t *testing.T) {
	t.Setenv("CG_TEST_SECRET", "s3cret")
	if b, err := Secret("env:CG_TEST_SECRET"); err != nil || string(b) != "s3cret" {
		t.Fatalf("env secret: %q %v", b, err)
	}
	p := filepath.Join(t.TempDir(), "key")
	os.WriteFile(p, []byte("from-file\n"), 0o600)
	if b, err := Secret("file:" + p); err != nil || string(b) != "from-file" {
		t.Fatalf("file secret: %q %v", b, err)
	}
	for _, bad := range []string{"s3cret", "env:CG_UNSET_VARIABLE", "file:/no/such/file"} {
		if _, err := Secret(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPolicyFromFilingCodeWhenPayerSaysNothing(t *testing.T) {
	// BHX77 in the example has no preset: its claims are scrubbed by their
	// own filing indicator (MB or MA: Medicare), not forced commercial.
	c, err := Load("../../deploy/claimgate.example.json")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := c.Scrub()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sc.Payers["BHX77"]; ok {
		t.Fatalf("BHX77 given a payer policy: %+v", sc.Payers["BHX77"])
	}
	for _, fc := range []string{"MA", "MB"} {
		if !reflect.DeepEqual(sc.FilingCodes[fc], scrub.MedicarePolicy()) {
			t.Errorf("filing code %s: %+v", fc, sc.FilingCodes[fc])
		}
	}
	if !reflect.DeepEqual(sc.Default, scrub.CommercialPolicy()) {
		t.Errorf("default %+v", sc.Default)
	}
}
