package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/claimgate/claimgate/pkg/assemble"
	"github.com/claimgate/claimgate/pkg/bus"
	"github.com/claimgate/claimgate/pkg/pipeline"
)

// What the ingest workers leave per batch, for the HTTP API (pkg/api):
// keys of BucketBatches besides the batch digests themselves (BatchTaken):
//
//	r.<digest>                the batch's BatchReport
//	f.<receiver>.<isa13>      the digest of the batch an 837P interchange was cut from
//
// and, in the object store claimgate_edi, the object BatchClaimsObject
// (digest) holding the batch's claim ids, one per line, so a batch of
// 100,000 claims keeps its report small.

// Batch statuses.
const (
	BatchPending   = "pending"   // submitted, not yet taken by an ingest worker
	BatchIngesting = "ingesting" // an ingest worker is on it (or it is being retried)
	BatchDone      = "done"
	BatchFailed    = "failed" // not a claims batch: nothing was read
)

// MaxReportRejected caps the rejected claims a report lists;
// RejectedDropped counts the problems left out.
const MaxReportRejected = 500

// maxReportMessage bounds one problem's message in a report.
const maxReportMessage = 500

// RejectedClaim is one reason a claim of a batch was rejected at ingest.
type RejectedClaim struct {
	ClaimID string `json:"claim_id"`
	// Row is the CSV line (1-based, the header is line 1); 0 for JSON and
	// 837P batches, whose position is in Where.
	Row     int    `json:"row"`
	Where   string `json:"where,omitempty"` // row 7, claims[3] line 2, segment 41
	Field   string `json:"field,omitempty"`
	Edit    string `json:"edit"`
	Message string `json:"message"`
}

// BatchReport is what ingest made of a batch. Counts follow
// pipeline.Summary: Claims = Written + RejectedClaims + NotWritten.
type BatchReport struct {
	BatchID    string    `json:"batch_id"`
	Status     string    `json:"status"`
	Format     string    `json:"format,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Claims     int       `json:"claims"`
	Written    int       `json:"written"`
	// RejectedClaims counts the claims rejected; Rejected lists their
	// problems (at most MaxReportRejected; RejectedDropped counts the rest).
	RejectedClaims  int             `json:"rejected_claims"`
	NotWritten      int             `json:"not_written"`
	Unread          int             `json:"unread,omitempty"`
	Rejected        []RejectedClaim `json:"rejected"`
	RejectedDropped int             `json:"rejected_dropped,omitempty"`
	BatchErrors     []string        `json:"batch_errors,omitempty"`
	// ClaimIDs counts the ids in the object BatchClaimsObject(BatchID).
	ClaimIDs int `json:"claim_ids"`
}

// ReportKey is the key of a batch's report in BucketBatches.
func ReportKey(digest string) string { return "r." + bus.Token(digest) }

// BatchClaimsObject names the object holding a batch's claim ids.
func BatchClaimsObject(digest string) string { return "batchclaims-" + digest }

// interchangeKey is the key naming the batch an interchange came from.
func interchangeKey(receiver string, isa13 int64) string {
	return "f." + bus.Token(receiver) + "." + strconv.FormatInt(isa13, 10)
}

// BatchOfInterchange returns the digest of the batch whose claims the
// interchange (ISA08 receiver, ISA13) carried, "" when unknown.
func BatchOfInterchange(ctx context.Context, kv jetstream.KeyValue, receiver string, isa13 int64) (string, error) {
	e, err := kv.Get(ctx, interchangeKey(receiver, isa13))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return string(e.Value()), nil
}

// GetBatchReport returns a batch's report, nil when ingest has not
// started it.
func GetBatchReport(ctx context.Context, kv jetstream.KeyValue, digest string) (*BatchReport, error) {
	e, err := kv.Get(ctx, ReportKey(digest))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r BatchReport
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return nil, fmt.Errorf("batch report %s: %w", short(digest), err)
	}
	return &r, nil
}

// GetBatchTaken returns what BucketBatches holds for a submitted batch
// (ok false: never submitted). A batch taken before received_at was kept
// has a zero ReceivedAt.
func GetBatchTaken(ctx context.Context, kv jetstream.KeyValue, digest string) (t BatchTaken, ok bool, err error) {
	e, err := kv.Get(ctx, digest)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return t, false, nil
	}
	if err != nil {
		return t, false, err
	}
	json.Unmarshal(e.Value(), &t) // an old "1" leaves it zero
	return t, true, nil
}

// batchReport collects a batch's report while it is ingested.
type batchReport struct {
	kv      jetstream.KeyValue
	rep     BatchReport
	ids     *os.File
	w       *bufio.Writer
	lastRej string
	err     error // the report could not be begun: the run fails at its end
	done    bool  // the batch's report was done before: left as it is
}

// startReport begins the report of a batch and marks it ingesting. A
// report that cannot be begun only costs the API its status (logged).
func (in *ingester) startReport(ctx context.Context, bm BatchMsg) *batchReport {
	in.rep.close()
	r := &batchReport{rep: BatchReport{BatchID: bm.Digest, Status: BatchIngesting, StartedAt: time.Now().UTC(), Rejected: []RejectedClaim{}}}
	var err error
	if r.kv, err = in.g.b.JS.KeyValue(ctx, BucketBatches); err != nil {
		r.err = err // finishReport fails the run: retried
		return r
	}
	if old, err := GetBatchReport(ctx, r.kv, bm.Digest); err == nil && old != nil && old.Status == BatchDone {
		// Done before, its ack lost (a crash, a redelivery): this run
		// finds every claim a duplicate; the first report stands.
		r.done = true
		return r
	}
	if r.ids, err = os.CreateTemp(in.g.tmp, ".claimids-*"); err != nil {
		r.err = err
		return r
	}
	os.Remove(r.ids.Name()) // gone when closed, even after a crash
	r.w = bufio.NewWriterSize(r.ids, 64<<10)
	if err := r.put(ctx); err != nil {
		// Only the status "ingesting" is missed: the end writes the report.
		in.g.log.Warn("batch report not begun", "batch", short(bm.Digest), "err", err)
	}
	return r
}

func (r *batchReport) close() {
	if r != nil && r.ids != nil {
		r.ids.Close()
		r.ids = nil
	}
}

func (r *batchReport) put(ctx context.Context) error {
	data, err := json.Marshal(&r.rep)
	if err != nil {
		return err
	}
	_, err = r.kv.Put(ctx, ReportKey(r.rep.BatchID), data)
	return err
}

func (r *batchReport) id(id string) {
	if r.err != nil || r.done || r.w == nil {
		return
	}
	r.rep.ClaimIDs++
	r.w.WriteString(strings.NewReplacer("\n", " ", "\r", " ").Replace(id))
	r.w.WriteByte('\n')
}

// rejected notes a problem of a rejected claim.
func (r *batchReport) rejected(pr pipeline.Problem) {
	if r == nil || r.done || pr.ClaimID == "" {
		return
	}
	if pr.ClaimID != r.lastRej {
		r.lastRej = pr.ClaimID
		r.id(pr.ClaimID)
	}
	if len(r.rep.Rejected) >= MaxReportRejected {
		r.rep.RejectedDropped++
		return
	}
	rc := RejectedClaim{ClaimID: pr.ClaimID, Where: pr.Where, Field: pr.Field, Edit: pr.Rule, Message: pr.Message}
	if n, ok := strings.CutPrefix(pr.Where, "row "); ok {
		rc.Row, _ = strconv.Atoi(n)
	}
	if len(rc.Message) > maxReportMessage {
		rc.Message = rc.Message[:maxReportMessage] + "..."
	}
	r.rep.Rejected = append(r.rep.Rejected, rc)
}

// reportFile notes the claims of an 837P file and which batch its
// interchange came from (a void finds the original claim through it);
// a failure fails the run, which is retried.
func (in *ingester) reportFile(fi *assemble.FileInfo) {
	r := in.rep
	if r == nil || r.err != nil || r.done || in.runErr != nil {
		return
	}
	for _, s := range fi.Sets {
		for _, id := range s.ClaimIDs {
			r.id(id)
		}
	}
	if _, err := r.kv.Put(context.Background(), interchangeKey(fi.Receiver, fi.Interchange), []byte(r.rep.BatchID)); err != nil {
		in.fail(fmt.Errorf("batch report: %w", err))
	}
}

// finishReport stores the report of a batch ingested: its claim ids as
// an object, then the report, done. An error fails the run (retried).
func (in *ingester) finishReport(ctx context.Context, sum pipeline.Summary) error {
	r := in.rep
	if r == nil || r.done {
		return nil
	}
	defer r.close()
	if r.err != nil {
		return fmt.Errorf("batch report: %w", r.err)
	}
	rep := &r.rep
	rep.Status, rep.FinishedAt, rep.Format = BatchDone, time.Now().UTC(), sum.Format
	rep.Claims, rep.Written, rep.RejectedClaims, rep.NotWritten, rep.Unread = sum.Read, sum.Written, sum.Rejected, sum.NotWritten, sum.Unread
	for i, e := range sum.BatchErrors {
		if i == 10 {
			break
		}
		rep.BatchErrors = append(rep.BatchErrors, e)
	}
	if err := r.w.Flush(); err != nil {
		return fmt.Errorf("batch report: %w", err)
	}
	if _, err := r.ids.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := in.g.obj.Put(ctx, jetstream.ObjectMeta{Name: BatchClaimsObject(rep.BatchID)}, r.ids); err != nil {
		return fmt.Errorf("batch report: object store: %w", err)
	}
	if err := r.put(ctx); err != nil {
		return fmt.Errorf("batch report: %w", err)
	}
	return nil
}

// failReport marks a batch that is not a claims batch failed.
func (in *ingester) failReport(ctx context.Context) {
	r := in.rep
	if r == nil || r.err != nil || r.done {
		return
	}
	defer r.close()
	r.rep.Status, r.rep.FinishedAt = BatchFailed, time.Now().UTC()
	r.rep.BatchErrors = []string{"not a claims batch: JSON, CSV or an 837P was expected"}
	if err := r.put(ctx); err != nil {
		in.g.log.Warn("batch report", "batch", short(r.rep.BatchID), "err", err)
	}
}
