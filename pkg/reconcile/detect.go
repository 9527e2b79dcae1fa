package reconcile

import (
	"bufio"
	"bytes"
	"strings"
)

// detectWindow is how much of a file detection looks at: the ISA and GS
// headers and the first ST are within the first few hundred bytes of any
// real file; a file of TA1s only may be longer, and is then still read as
// TA1s (the 999 reader collects TA1s).
const detectWindow = 64 << 10

// detection is what the start of a file says.
type detection struct {
	kind    Kind
	partner string // first ISA06, trimmed
	note    string
}

// detect looks at the start of br without consuming it.
func detect(br *bufio.Reader) detection {
	head, _ := br.Peek(detectWindow) // a short file gives what there is
	b := bytes.TrimLeft(head, "\ufeff \t\r\n")
	if len(b) < 106 || !bytes.HasPrefix(b, []byte("ISA")) {
		return detection{kind: KindUnknown, note: "not an X12 interchange: the file does not start with an ISA segment"}
	}
	sep := b[3]
	// ISA is fixed width: ISA16 is at 104, the segment terminator at 105.
	isa := bytes.Split(b[:105], []byte{sep})
	if len(isa) < 17 {
		return detection{kind: KindUnknown, note: "not an X12 interchange: the ISA segment has fewer than 16 elements"}
	}
	d := detection{kind: KindUnknown, partner: strings.TrimSpace(string(isa[6]))}
	term := b[105]
	rest := b[106:]
	var gsVersion string
	sawTA1 := false
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, term)
		if i < 0 {
			break // the window ends inside a segment
		}
		seg := bytes.TrimLeft(rest[:i], " \t\r\n")
		rest = rest[i+1:]
		el := bytes.Split(seg, []byte{sep})
		switch string(el[0]) {
		case "TA1":
			sawTA1 = true
		case "GS":
			if len(el) > 8 {
				gsVersion = string(el[8])
			}
		case "ST":
			id, version := "", gsVersion
			if len(el) > 1 {
				id = string(el[1])
			}
			if len(el) > 3 && len(el[3]) > 0 {
				version = string(el[3])
			}
			switch {
			case id == "999":
				d.kind = Kind999
			case id == "835":
				d.kind = Kind835
			case id == "277" && strings.HasPrefix(version, "005010X214"):
				d.kind = Kind277CA
			case id == "277":
				d.note = "a 277 claim status response (" + version + "), not a 277CA (005010X214)"
			default:
				d.note = "transaction set " + id + " is not a response claimgate reconciles (TA1, 999, 277CA, 835)"
			}
			return d
		}
	}
	if sawTA1 {
		d.kind = KindTA1
		return d
	}
	d.note = "no transaction set and no TA1 in the interchange"
	return d
}
