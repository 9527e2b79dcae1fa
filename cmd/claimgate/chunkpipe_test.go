package main

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"testing"
)

// TestChunkPipe: bytes written in pieces of any size come out in order,
// then the close error; the writer never waits for more than the depth.
func TestChunkPipe(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	data := make([]byte, 1<<20+12345)
	r.Read(data)
	for _, closeErr := range []error{nil, errors.New("disk gone")} {
		p := newChunkPipe()
		go func() {
			rest := data
			for len(rest) > 0 {
				n := min(len(rest), r.Intn(3*chunkSize))
				p.Write(rest[:n])
				rest = rest[n:]
			}
			p.CloseWithError(closeErr)
			p.CloseWithError(errors.New("second close is ignored"))
		}()
		var got bytes.Buffer
		buf := make([]byte, 7000)
		var err error
		for {
			var n int
			n, err = p.Read(buf[:1+len(got.Bytes())%len(buf)])
			got.Write(buf[:n])
			if err != nil {
				break
			}
		}
		want := closeErr
		if want == nil {
			want = io.EOF
		}
		if err != want || !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("read %d of %d bytes (equal %v), error %v, want %v", got.Len(), len(data), bytes.Equal(got.Bytes(), data), err, want)
		}
	}
}
