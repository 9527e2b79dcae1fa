package bus

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
)

// MaxAtomicBatch is the most messages one atomic batch carries: the
// server's default limit (JetStream max_batch_size, 1000).
const MaxAtomicBatch = 1000

// Error codes (JetStream err_code) the batch writers act on.
const (
	errCodeWrongLastSeq     = 10071 // Nats-Expected-Last-Subject-Sequence failed
	errCodeBatchDuplicateID = 10201 // a message id in the batch was seen before
	errCodeDuplicateMsgID   = 10158
	errCodeTooManyInflight  = 10210
	errCodeIncomplete       = 10176
	errCodeLastSeqCluster   = 10164 // errCodeWrongLastSeq as a clustered stream reports it
	errCodeAtomicDisabled   = 10174 // allow_atomic off (briefly, while Setup updates the bucket)
)

// batchMsg is one message of an atomic batch.
type batchMsg struct {
	subject string
	data    []byte
	// expect is the subject's last sequence the message requires
	// (compare-and-set; 0: the subject must be empty); ignored unless cas.
	expect uint64
	cas    bool
	msgID  string
}

// APIError is a JetStream error returned for an atomic batch.
type APIError struct {
	Code        int    `json:"code"`
	ErrCode     int    `json:"err_code"`
	Description string `json:"description"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("jetstream: %s (%d)", e.Description, e.ErrCode)
}

type batchAck struct {
	Stream string    `json:"stream"`
	Seq    uint64    `json:"seq"`
	Count  int       `json:"count"`
	Error  *APIError `json:"error"`
}

// publishAtomic stores msgs (at most MaxAtomicBatch, all on one stream
// with allow_atomic set) as one atomic batch: all or none. JetStream
// (nats-server 2.12 and later) stages the batch and, on a single node
// syncing every write, commits it with one fsync rather than one per
// message; a cluster replicates it as one multi-entry proposal. nats.go
// has no client for it yet, so this speaks the header protocol: every
// message carries Nats-Batch-Id and Nats-Batch-Sequence, the last
// Nats-Batch-Commit: 1 and is sent as a request whose reply is the
// acknowledgement of the whole batch. It returns the stream sequence of
// the last message; the batch's messages have the sequences before it,
// in order.
func publishAtomic(ctx context.Context, nc *nats.Conn, msgs []batchMsg) (uint64, error) {
	if len(msgs) == 0 || len(msgs) > MaxAtomicBatch {
		return 0, fmt.Errorf("bus: atomic batch of %d messages (1 to %d)", len(msgs), MaxAtomicBatch)
	}
	id := rand.Text() // 26 characters; ids are at most 64
	var ack batchAck
	for i, m := range msgs {
		nm := nats.NewMsg(m.subject)
		nm.Data = m.data
		nm.Header.Set("Nats-Batch-Id", id)
		nm.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		if m.cas {
			nm.Header.Set("Nats-Expected-Last-Subject-Sequence", strconv.FormatUint(m.expect, 10))
		}
		if m.msgID != "" {
			nm.Header.Set(nats.MsgIdHdr, m.msgID)
		}
		if i < len(msgs)-1 {
			// No reply: the server acknowledges the batch on commit.
			if err := nc.PublishMsg(nm); err != nil {
				return 0, fmt.Errorf("bus: atomic batch: %w", err)
			}
			continue
		}
		nm.Header.Set("Nats-Batch-Commit", "1")
		resp, err := nc.RequestMsgWithContext(ctx, nm)
		if err != nil {
			return 0, fmt.Errorf("bus: atomic batch commit: %w", err)
		}
		if err := json.Unmarshal(resp.Data, &ack); err != nil {
			return 0, fmt.Errorf("bus: atomic batch commit: bad reply %q: %w", resp.Data, err)
		}
	}
	if ack.Error != nil {
		return 0, ack.Error
	}
	if ack.Count != len(msgs) {
		return 0, fmt.Errorf("bus: atomic batch committed %d of %d messages", ack.Count, len(msgs))
	}
	return ack.Seq, nil
}

func apiCode(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.ErrCode
	}
	return 0
}
