package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Format
	}{
		{`{"batch_id":"B1"}`, FormatJSON},
		{"\n\t  {\n", FormatJSON},
		{"\uFEFF{}", FormatJSON},
		{`[{"id":"C1"}]`, FormatJSON},
		{"claim_id,payer_id\nC1,P1\n", FormatCSV},
		{"\uFEFFclaim_id,payer_id\r\n", FormatCSV},
		{`"claim_id","payer_id"`, FormatCSV},
		{"ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *250310*1200*^*00501*000000001*0*P*:~", FormatX12},
		{"\r\nISA|00|", FormatX12},
		{"ISAAC,NEWTON", FormatCSV},
		{"", FormatUnknown},
		{"   \n", FormatUnknown},
		{"hello world", FormatUnknown},
		{"<xml/>", FormatUnknown},
		{",,,", FormatUnknown},
		{strings.Repeat(" ", sniffSize+10) + "{}", FormatUnknown},
	} {
		f, r, err := Detect(strings.NewReader(tc.in))
		if err != nil || f != tc.want {
			t.Errorf("Detect(%.30q) = %v, %v; want %v", tc.in, f, err, tc.want)
			continue
		}
		// Nothing is lost: the returned reader replays the sniffed bytes.
		all, err := io.ReadAll(r)
		if err != nil || string(all) != tc.in {
			t.Errorf("Detect(%.30q) reader yields %.30q, %v", tc.in, all, err)
		}
	}
}

func TestDetectThenDecode(t *testing.T) {
	for _, name := range []string{"pt_batch.json", "pt_batch.csv"} {
		f, r, err := Detect(bytes.NewReader(readTestdata(t, name)))
		if err != nil {
			t.Fatal(err)
		}
		decode := map[Format]func(io.Reader, string, func(Result) error) (Summary, error){FormatJSON: DecodeJSON, FormatCSV: DecodeCSV}[f]
		if decode == nil {
			t.Fatalf("%s detected as %v", name, f)
		}
		sum, err := decode(r, name, func(Result) error { return nil })
		if err != nil || sum.Claims != 4 {
			t.Errorf("%s as %v: %d claims, %v", name, f, sum.Claims, err)
		}
	}
	// A bufio.Reader big enough is used as is.
	br := bufio.NewReaderSize(strings.NewReader("{}"), 8192)
	if _, r, _ := Detect(br); r != br {
		t.Error("Detect wrapped a large enough bufio.Reader")
	}
}

func TestDetectReadError(t *testing.T) {
	boom := errors.New("boom")
	if _, _, err := Detect(io.MultiReader(strings.NewReader("{"), iotestErr{boom})); !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

func TestFormatString(t *testing.T) {
	for f, want := range map[Format]string{FormatJSON: "json", FormatCSV: "csv", FormatX12: "x12", FormatUnknown: "unknown", Format(42): "unknown"} {
		if f.String() != want {
			t.Errorf("%d.String() = %q", f, f.String())
		}
	}
}
