package ingest

import (
	"bufio"
	"bytes"
	"io"
)

// Format is a batch format.
type Format int

// Batch formats Detect tells apart.
const (
	FormatUnknown Format = iota
	FormatJSON
	FormatCSV
	FormatX12 // an X12 interchange (ISA...), e.g. an 837P handed in as is
)

// String returns the format's name: "json", "csv", "x12" or "unknown".
func (f Format) String() string {
	switch f {
	case FormatJSON:
		return "json"
	case FormatCSV:
		return "csv"
	case FormatX12:
		return "x12"
	}
	return "unknown"
}

// sniffSize is how far Detect looks: the leading white space it skips
// and the CSV header line it looks for a comma in must fit.
const sniffSize = 4096

// Detect tells the format of a batch from its first non-blank bytes: { or
// [ for JSON, ISA for X12, and for CSV a first line holding a comma. It
// skips a UTF-8 byte order mark and white space. The returned reader
// yields the whole input, the sniffed bytes included; read the batch from
// it, not from r. An error is returned only when r fails; input that
// matches no format is FormatUnknown.
func Detect(r io.Reader) (Format, io.Reader, error) {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < sniffSize {
		br = bufio.NewReaderSize(r, sniffSize)
	}
	head, err := br.Peek(sniffSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return FormatUnknown, br, err
	}
	return sniff(head), br, nil
}

func sniff(head []byte) Format {
	head = bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	head = bytes.TrimLeft(head, " \t\r\n")
	switch {
	case len(head) == 0:
		return FormatUnknown
	case head[0] == '{' || head[0] == '[':
		return FormatJSON
	case bytes.HasPrefix(head, []byte("ISA")) && len(head) > 3 && !isWordByte(head[3]):
		return FormatX12
	}
	first := head
	if i := bytes.IndexAny(head, "\r\n"); i >= 0 {
		first = head[:i]
	}
	if bytes.IndexByte(first, ',') > 0 && (isWordByte(first[0]) || first[0] == '"') {
		return FormatCSV
	}
	return FormatUnknown
}

func isWordByte(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}
