package main

import (
	"io"
	"sync"
)

// chunkPipe hands the bytes one goroutine reads to another, a few chunks
// ahead: unlike io.Pipe, whose writer waits until the reader has taken
// all of each write, the two sides run side by side. Memory is bounded:
// at most chunkPipeDepth chunks (2 MiB) are in flight, enough to ride out
// short gaps in the scheduling of either side.
type chunkPipe struct {
	ch   chan []byte
	free chan []byte
	cur  []byte // the chunk being read
	buf  []byte // cur's whole buffer, to hand back
	once sync.Once
	err  error // why the writer closed; set before ch is closed
}

const (
	chunkPipeDepth = 32
	chunkSize      = 64 << 10
)

func newChunkPipe() *chunkPipe {
	return &chunkPipe{ch: make(chan []byte, chunkPipeDepth), free: make(chan []byte, chunkPipeDepth+2)}
}

// Write copies p into chunks and queues them; it blocks only when the
// reader is chunkPipeDepth chunks behind. It must not be called after
// CloseWithError.
func (p *chunkPipe) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		var c []byte
		select {
		case c = <-p.free:
		default:
			c = make([]byte, chunkSize)
		}
		k := copy(c, b)
		b = b[k:]
		p.ch <- c[:k]
	}
	return n, nil
}

// CloseWithError ends the stream: the reader gets err (io.EOF when nil)
// after the queued chunks.
func (p *chunkPipe) CloseWithError(err error) {
	p.once.Do(func() {
		if err == nil {
			err = io.EOF
		}
		p.err = err
		close(p.ch)
	})
}

// Read reads the queued bytes in order.
func (p *chunkPipe) Read(b []byte) (int, error) {
	if len(p.cur) == 0 {
		if p.buf != nil {
			select {
			case p.free <- p.buf[:cap(p.buf)]:
			default:
			}
			p.buf = nil
		}
		c, ok := <-p.ch
		if !ok {
			return 0, p.err
		}
		p.cur, p.buf = c, c
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}
