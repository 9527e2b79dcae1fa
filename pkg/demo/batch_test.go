package demo

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/batches/pt_clinic_week.csv")

const clinicBatch = "../../testdata/batches/pt_clinic_week.csv"

// The committed clinic batch is what WriteClinicBatch writes, byte for
// byte (go test ./pkg/demo -run ClinicBatch -update rewrites it).
func TestClinicBatchCommitted(t *testing.T) {
	var b bytes.Buffer
	if err := WriteClinicBatch(&b); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(clinicBatch, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(clinicBatch)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Fatalf("%s differs from WriteClinicBatch's output: rerun with -update", clinicBatch)
	}
	ids, err := claimIDs(clinicBatch)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != ClinicBatchClaims {
		t.Fatalf("%d claims, want %d", len(ids), ClinicBatchClaims)
	}
}
