package ingest

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// X12 has no escape character, so a delimiter inside a value would split
// the element or the segment. claimgate writes 837P files with these
// delimiters (element *, component :, repetition ^, segment ~) and refuses
// | as well, the other common choice, so that a file may switch to it.
const x12Delimiters = "~*:^|"

// asciiClass tells, for each ASCII byte, how CleanText treats it.
type asciiClass uint8

const (
	asciiOK        asciiClass = iota // in the X12 basic or extended character set
	asciiDelimiter                   // an X12 delimiter: rejected
	asciiControl                     // a control character: rejected
	asciiMapped                      // outside the X12 sets but with an obvious stand-in
)

var asciiClasses = func() (t [128]asciiClass) {
	for c := 0; c < 0x20; c++ {
		t[c] = asciiControl
	}
	t[0x7f] = asciiControl
	for i := 0; i < len(x12Delimiters); i++ {
		t[x12Delimiters[i]] = asciiDelimiter
	}
	// The backtick is in neither X12 character set; PM systems produce it
	// as a mistyped apostrophe (O`Brien).
	t['`'] = asciiMapped
	return t
}()

// transliterations maps the non-ASCII letters and punctuation seen in US
// patient and practice names (Spanish, Portuguese, French, German,
// Scandinavian, Polish, Czech, Vietnamese-without-tones, Turkish...) to
// ASCII. Case is kept: é→e, É→E. Letters that are two letters in ASCII
// keep their case as a pair: ß→ss, Æ→AE.
var transliterations = func() map[rune]string {
	groups := []struct{ from, to string }{
		{"ÀÁÂÃÄÅĀĂĄǍǺȀȂẠẢẤẦẨẪẬẮẰẲẴẶ", "A"},
		{"àáâãäåāăąǎǻȁȃạảấầẩẫậắằẳẵặ", "a"},
		{"ÆǼ", "AE"}, {"æǽ", "ae"},
		{"ÇĆĈĊČ", "C"}, {"çćĉċč", "c"},
		{"ĎĐÐ", "D"}, {"ďđð", "d"},
		{"ÈÉÊËĒĔĖĘĚȄȆẸẺẼẾỀỂỄỆ", "E"},
		{"èéêëēĕėęěȅȇẹẻẽếềểễệ", "e"},
		{"ĜĞĠĢǦ", "G"}, {"ĝğġģǧ", "g"},
		{"ĤĦ", "H"}, {"ĥħ", "h"},
		{"ÌÍÎÏĨĪĬĮİǏȈȊỈỊ", "I"},
		{"ìíîïĩīĭįıǐȉȋỉị", "i"},
		{"Ĳ", "IJ"}, {"ĳ", "ij"},
		{"Ĵ", "J"}, {"ĵ", "j"},
		{"ĶǨ", "K"}, {"ķĸǩ", "k"},
		{"ĹĻĽĿŁ", "L"}, {"ĺļľŀł", "l"},
		{"ÑŃŅŇŊ", "N"}, {"ñńņňŉŋ", "n"},
		{"ÒÓÔÕÖØŌŎŐƠǑǾȌȎỌỎỐỒỔỖỘỚỜỞỠỢ", "O"},
		{"òóôõöøōŏőơǒǿȍȏọỏốồổỗộớờởỡợ", "o"},
		{"Œ", "OE"}, {"œ", "oe"},
		{"ŔŖŘȐȒ", "R"}, {"ŕŗřȑȓ", "r"},
		{"ŚŜŞŠȘ", "S"}, {"śŝşšșſ", "s"},
		{"ẞ", "SS"}, {"ß", "ss"},
		{"ŢŤŦȚ", "T"}, {"ţťŧț", "t"},
		{"Þ", "TH"}, {"þ", "th"},
		{"ÙÚÛÜŨŪŬŮŰŲƯǓǕǗǙǛȔȖỤỦỨỪỬỮỰ", "U"},
		{"ùúûüũūŭůűųưǔǖǘǚǜȕȗụủứừửữự", "u"},
		{"Ŵ", "W"}, {"ŵ", "w"},
		{"ÝŶŸỲỴỶỸ", "Y"}, {"ýÿŷỳỵỷỹ", "y"},
		{"ŹŻŽ", "Z"}, {"źżž", "z"},
		// Punctuation that word processors substitute for ASCII.
		{"\u2018\u2019\u201A\u201B\u2032\u00B4`", "'"},
		{"\u201C\u201D\u201E\u201F\u2033", "\""},
		{"\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"},
		{"\u00A0\u2002\u2003\u2007\u2009\u202F", " "},
		{"\u2026", "..."},
		{"\u00BA", "o"}, {"\u00AA", "a"}, // 1º, 1ª in addresses
	}
	m := make(map[rune]string, 400)
	for _, g := range groups {
		for _, r := range g.from {
			if _, dup := m[r]; dup {
				panic(fmt.Sprintf("ingest: %q transliterated twice", r))
			}
			m[r] = g.to
		}
	}
	return m
}()

// CharError reports a character that cannot be written to an X12 file.
type CharError struct {
	Char   rune
	Pos    int    // byte offset of Char in the value
	Reason string // "is an X12 delimiter", "has no ASCII equivalent in the X12 character set", ...
}

// Error formats e as, for example, `character '~' (U+007E) at byte 5 is an
// X12 delimiter`.
func (e *CharError) Error() string {
	if e.Char < 0x20 || e.Char == 0x7f {
		return fmt.Sprintf("control character U+%04X at byte %d %s", e.Char, e.Pos, e.Reason)
	}
	return fmt.Sprintf("character %q (U+%04X) at byte %d %s", e.Char, e.Char, e.Pos, e.Reason)
}

// CleanText returns s rewritten to the X12 basic and extended character
// sets: accented Latin letters become their ASCII base letters with their
// case kept (José Muñoz → Jose Munoz, ß → ss), typographic quotes, dashes
// and spaces become ASCII ones. Nothing is upper-cased. It returns a
// *CharError for an X12 delimiter (~ * : ^ |), a control character, or a
// character with no ASCII stand-in (Cyrillic, CJK, emoji...): such a value
// must be fixed at the source, not guessed at.
//
// A value that is already clean is returned as is, without allocating.
func CleanText(s string) (string, error) {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= utf8.RuneSelf || asciiClasses[c] != asciiOK {
			break
		}
		i++
	}
	if i == len(s) {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			switch asciiClasses[c] {
			case asciiOK:
				b.WriteByte(c)
			case asciiDelimiter:
				return "", &CharError{rune(c), i, "is an X12 delimiter"}
			case asciiControl:
				return "", &CharError{rune(c), i, "is not allowed in X12 data"}
			case asciiMapped:
				b.WriteString(transliterations[rune(c)])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return "", &CharError{r, i, "is not valid UTF-8"}
		}
		t, ok := transliterations[r]
		if !ok {
			if r >= 0x80 && r < 0xa0 {
				return "", &CharError{r, i, "is not allowed in X12 data"}
			}
			return "", &CharError{r, i, "has no ASCII equivalent in the X12 character set"}
		}
		b.WriteString(t)
		i += size
	}
	return b.String(), nil
}

// checkASCII accepts values that must already be plain X12 text: codes
// and identifiers, where transliterating would change the meaning.
func checkASCII(s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, _ := utf8.DecodeRuneInString(s[i:])
			return &CharError{r, i, "is not allowed in a code or identifier (ASCII only)"}
		}
		switch asciiClasses[c] {
		case asciiDelimiter:
			return &CharError{rune(c), i, "is an X12 delimiter"}
		case asciiControl:
			return &CharError{rune(c), i, "is not allowed in X12 data"}
		case asciiMapped:
			return &CharError{rune(c), i, "is not in the X12 character set"}
		}
	}
	return nil
}
