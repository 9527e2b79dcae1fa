package ingest

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// docs/batch-format.md documents every CSV column; its table must list
// exactly the columns of the code, with the same JSON field and
// required flag.
func TestDocsListEveryCSVColumn(t *testing.T) {
	b, err := os.ReadFile("../../docs/batch-format.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "### Columns")
	if !ok {
		t.Fatal("docs/batch-format.md has no Columns section")
	}
	cell := regexp.MustCompile(`(?:\\\||[^|])+`) // a table cell; \| does not split
	documented := map[string]bool{}
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := cell.FindAllString(line, -1)
		if len(cells) < 5 {
			t.Errorf("short table row %q", line)
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[0]), "`")
		field := strings.Trim(strings.TrimSpace(cells[1]), "`")
		required := strings.TrimSpace(cells[2]) == "yes"
		documented[name] = true
		col := columnsByName[name]
		if col == nil {
			t.Errorf("docs list column %s, which the decoder does not have", name)
			continue
		}
		if want := pathKey(col.line, col.path); field != want {
			t.Errorf("docs map %s to %s, the decoder to %s", name, field, want)
		}
		if required != col.required {
			t.Errorf("docs say %s required=%v, the decoder %v", name, required, col.required)
		}
		if strings.TrimSpace(cells[3]) == "" || strings.TrimSpace(cells[4]) == "" {
			t.Errorf("column %s has no format or example", name)
		}
	}
	for _, c := range csvColumns {
		if !documented[c.name] {
			t.Errorf("column %s is not documented", c.name)
		}
	}
}
