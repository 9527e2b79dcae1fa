package bus

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Streams, subjects and buckets. docs/bus.md says who writes and reads
// each; subjects never carry patient data, only payer ids and states.
const (
	// StreamBatches holds charge batches waiting for an ingest worker
	// (work queue: a batch is removed once a worker acknowledged it).
	StreamBatches  = "CLAIMGATE_BATCHES"
	SubjectBatches = "claimgate.batches.in"

	// StreamFilesOut holds 837P files waiting for upload, one subject per
	// payer: claimgate.files.out.<payer>.
	StreamFilesOut  = "CLAIMGATE_FILES_OUT"
	SubjectFilesOut = "claimgate.files.out"

	// StreamFilesIn holds response files downloaded from payers, waiting
	// for the reconciler: claimgate.files.in.<payer>.
	StreamFilesIn  = "CLAIMGATE_FILES_IN"
	SubjectFilesIn = "claimgate.files.in"

	// StreamEvents is the claim event log a PM system subscribes to:
	// claims.events.<payer>.<state>.
	StreamEvents  = "CLAIMGATE_EVENTS"
	SubjectEvents = "claims.events"

	BucketClaims  = "claimgate_claims"  // claim state, CAS on every transition
	BucketControl = "claimgate_control" // last ISA13/GS06 per sender/receiver
	BucketSeen    = "claimgate_seen"    // duplicate-claim keys
	BucketLedger  = "claimgate_ledger"  // SFTP file ledger
	BucketJournal = "claimgate_journal" // pipeline publishing journals, per worker
	BucketLeases  = "claimgate_leases"  // per-payer poll leases (TTL)
	ObjectEDI     = "claimgate_edi"     // every raw EDI file, both directions
)

// DuplicateWindow is how long JetStream remembers message ids for publish
// de-duplication on the work streams.
const DuplicateWindow = 24 * time.Hour

// DefaultLeaseTTL is how long a poll lease lives without renewal unless
// Options.LeaseTTL says otherwise: a replica that dies stops renewing and
// another takes over after at most this long.
const DefaultLeaseTTL = 30 * time.Second

// Setup creates or updates every stream, bucket and the object store. It
// is idempotent; several replicas may call it at once.
func (b *Bus) Setup(ctx context.Context) error {
	streams := []jetstream.StreamConfig{
		{Name: StreamBatches, Subjects: []string{SubjectBatches}, Retention: jetstream.WorkQueuePolicy},
		{Name: StreamFilesOut, Subjects: []string{SubjectFilesOut + ".*"}, Retention: jetstream.WorkQueuePolicy},
		{Name: StreamFilesIn, Subjects: []string{SubjectFilesIn + ".*"}, Retention: jetstream.WorkQueuePolicy},
		// Events are published in atomic batches (ClaimStore.ApplyBatch).
		{Name: StreamEvents, Subjects: []string{SubjectEvents + ".*.*"}, Retention: jetstream.LimitsPolicy, AllowAtomicPublish: true},
	}
	for _, sc := range streams {
		sc.Storage = jetstream.FileStorage
		sc.Replicas = b.replicas
		sc.Duplicates = DuplicateWindow
		if _, err := b.JS.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("bus: stream %s: %w", sc.Name, err)
		}
	}
	buckets := []jetstream.KeyValueConfig{
		{Bucket: BucketClaims, History: 1},
		{Bucket: BucketControl, History: 1},
		{Bucket: BucketSeen, History: 1},
		{Bucket: BucketLedger, History: 1},
		{Bucket: BucketJournal, History: 1},
		{Bucket: BucketLeases, History: 1, TTL: b.leaseTTL},
	}
	for _, kc := range buckets {
		kc.Storage = jetstream.FileStorage
		kc.Replicas = b.replicas
		if atomicBucket(kc.Bucket) && b.atomicReady(ctx, kc) {
			// Updating the bucket would turn its atomic batches off
			// until allowAtomic turns them on again: a replica starting
			// would fail the batches of those running.
			continue
		}
		if _, err := b.JS.CreateOrUpdateKeyValue(ctx, kc); err != nil {
			return fmt.Errorf("bus: bucket %s: %w", kc.Bucket, err)
		}
	}
	// Claim records (ClaimStore.ApplyBatch, ClaimIndex.Record) and
	// duplicate keys (Seen.RememberAll) are written in atomic batches;
	// KV configs have no such flag, so set it on the buckets' streams.
	for _, bk := range []string{BucketClaims, BucketSeen} {
		if err := b.allowAtomic(ctx, "KV_"+bk); err != nil {
			return err
		}
	}
	if _, err := b.JS.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: ObjectEDI, Storage: jetstream.FileStorage, Replicas: b.replicas,
	}); err != nil {
		return fmt.Errorf("bus: object store %s: %w", ObjectEDI, err)
	}
	return nil
}

// Token turns an identifier (a payer id, a claim state) into one subject
// token: letters, digits, '-' and '_' stay; every other byte (dots,
// spaces, wildcards, '=') becomes =XX. Distinct ids give distinct tokens,
// so "ACME.1" and "ACME 1" never share a subject.
func Token(id string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('=')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	if b.Len() == 0 {
		return "=" // an empty id still makes a valid token
	}
	return b.String()
}

// EventSubject is the subject of a claim event for a payer and state.
func EventSubject(payerID, state string) string {
	return SubjectEvents + "." + Token(payerID) + "." + Token(state)
}

// FilesOutSubject is the subject of an 837P file waiting for a payer.
func FilesOutSubject(payerID string) string { return SubjectFilesOut + "." + Token(payerID) }

// FilesInSubject is the subject of a response file from a payer.
func FilesInSubject(payerID string) string { return SubjectFilesIn + "." + Token(payerID) }

// atomicBucket reports whether a bucket is written in atomic batches.
func atomicBucket(name string) bool { return name == BucketClaims || name == BucketSeen }

// atomicReady reports whether a bucket's stream exists as kc asks, with
// atomic batches allowed.
func (b *Bus) atomicReady(ctx context.Context, kc jetstream.KeyValueConfig) bool {
	st, err := b.JS.Stream(ctx, "KV_"+kc.Bucket)
	if err != nil {
		return false
	}
	c := st.CachedInfo().Config
	return c.AllowAtomicPublish && c.Replicas == max(kc.Replicas, 1) && c.MaxMsgsPerSubject == int64(kc.History) && c.Storage == kc.Storage
}

// allowAtomic turns on atomic batch publishing on a stream.
func (b *Bus) allowAtomic(ctx context.Context, stream string) error {
	st, err := b.JS.Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("bus: stream %s: %w", stream, err)
	}
	cfg := st.CachedInfo().Config
	if cfg.AllowAtomicPublish {
		return nil
	}
	cfg.AllowAtomicPublish = true
	if _, err := b.JS.UpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("bus: stream %s: allowing atomic batches: %w", stream, err)
	}
	return nil
}
