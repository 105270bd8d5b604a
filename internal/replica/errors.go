package replica

import (
	"errors"

	"github.com/sluicehq/sluice/internal/record"
	"github.com/sluicehq/sluice/internal/storage"
)

// Errors returned by the replica package. Every error an exported method returns matches (with
// errors.Is) exactly one of the sentinels below, except that ErrInvalidTimestamp errors also
// match ErrInvalidRecord when the same batch had records without keys: test
// ErrInvalidTimestamp first. The server maps them to Kafka error codes in one table; the code
// each one becomes is in its comment. Some are the record or storage sentinel itself, so that
// errors.Is works with either name.
var (
	// ErrNotLeader: this broker does not lead the partition (it follows, or the partition was
	// removed or the manager closed). NOT_LEADER_OR_FOLLOWER (6).
	ErrNotLeader = errors.New("replica: not the leader of the partition")
	// ErrUnknownPartition: the manager has no such partition. UNKNOWN_TOPIC_OR_PARTITION (3);
	// the server answers NOT_LEADER_OR_FOLLOWER (6) instead when its metadata knows the
	// partition, as Kafka does.
	ErrUnknownPartition = errors.New("replica: unknown partition")
	// ErrFencedLeaderEpoch: the request's current leader epoch is older than ours.
	// FENCED_LEADER_EPOCH (74).
	ErrFencedLeaderEpoch = errors.New("replica: fenced leader epoch")
	// ErrUnknownLeaderEpoch: the request's current leader epoch is newer than ours, or a
	// follower that is not an assigned replica fetched with an epoch. UNKNOWN_LEADER_EPOCH (75).
	ErrUnknownLeaderEpoch = errors.New("replica: unknown leader epoch")
	// ErrOffsetOutOfRange: a fetch offset below the log start or above the log end, a
	// DeleteRecords offset above the high watermark. OFFSET_OUT_OF_RANGE (1).
	ErrOffsetOutOfRange = storage.ErrOffsetOutOfRange
	// ErrOffsetNotAvailable: ListOffsets right after a leader change, while the high watermark
	// is below the offset where the new leader's epoch began. OFFSET_NOT_AVAILABLE (78).
	ErrOffsetNotAvailable = errors.New("replica: offset not available yet")

	// ErrOutOfOrderSequence: an idempotent producer's sequence does not follow the last one
	// (or a new epoch does not start at 0). OUT_OF_ORDER_SEQUENCE_NUMBER (45).
	ErrOutOfOrderSequence = storage.ErrOutOfOrderSequence
	// ErrInvalidProducerEpoch: an older producer epoch than the partition has seen.
	// INVALID_PRODUCER_EPOCH (47).
	ErrInvalidProducerEpoch = storage.ErrInvalidProducerEpoch
	// ErrUnknownProducerID: UNKNOWN_PRODUCER_ID (59). Never returned today: since Kafka 2.5
	// (KIP-360) a leader that has no state for a producer (new, expired, or its batches
	// deleted) accepts any sequence from it, and Sluice does the same. Listed so that the
	// server's table names every idempotence error.
	ErrUnknownProducerID = errors.New("replica: unknown producer id")

	// ErrInvalidRequiredAcks: acks other than -1, 0 or 1. INVALID_REQUIRED_ACKS (21).
	ErrInvalidRequiredAcks = errors.New("replica: invalid required acks")
	// ErrNotEnoughReplicas: acks=all and the ISR is smaller than min.insync.replicas; nothing
	// was appended. NOT_ENOUGH_REPLICAS (19).
	ErrNotEnoughReplicas = errors.New("replica: not enough in-sync replicas")
	// ErrNotEnoughReplicasAfterAppend: acks=all, the batch was appended and replicated to the
	// ISR, but the ISR shrank below min.insync.replicas meanwhile.
	// NOT_ENOUGH_REPLICAS_AFTER_APPEND (20).
	ErrNotEnoughReplicasAfterAppend = errors.New("replica: not enough in-sync replicas after append")
	// ErrTimeout: the produce was appended but the wait for durability (acks>=1 under
	// group commit) or for the ISR (acks=all) ended with the request's context.
	// REQUEST_TIMED_OUT (7).
	ErrTimeout = errors.New("replica: timed out waiting for the append to be acknowledged")

	// ErrCorruptMessage: a batch that does not parse: CRC mismatch, truncated, inconsistent
	// header, undecodable records, unknown codec. Wraps the record error. CORRUPT_MESSAGE (2).
	ErrCorruptMessage = errors.New("replica: corrupt record batch")
	// ErrInvalidRecord: a well-formed batch that breaks a rule: message format below v2,
	// client control batch, producer fields, offset deltas, non-zero base offset from a client,
	// not exactly one batch (produce v3+), a record without key on a compacted topic.
	// INVALID_RECORD (87). It is record.ErrInvalidRecord; *record.RecordErrors (errors.As)
	// carries the per-record indexes for the response's record_errors.
	ErrInvalidRecord = record.ErrInvalidRecord
	// ErrInvalidTimestamp: a record timestamp outside message.timestamp.before/after.max.ms,
	// or a producer claiming LogAppendTime. INVALID_TIMESTAMP (32). It is
	// record.ErrInvalidTimestamp; see *record.RecordErrors.
	ErrInvalidTimestamp = record.ErrInvalidTimestamp
	// ErrMessageTooLarge: a batch larger than max.message.bytes (as sent, or after
	// recompression), or one whose records decompress to more than the broker allows.
	// MESSAGE_TOO_LARGE (10).
	ErrMessageTooLarge = errors.New("replica: record batch larger than max.message.bytes")
	// ErrRecordListTooLarge: an append larger than segment.bytes. RECORD_LIST_TOO_LARGE (18).
	ErrRecordListTooLarge = errors.New("replica: record batch larger than segment.bytes")
	// ErrUnsupportedCompressionType: zstd in a produce request older than v7.
	// UNSUPPORTED_COMPRESSION_TYPE (76).
	ErrUnsupportedCompressionType = errors.New("replica: zstd requires produce v7 or later")

	// ErrPolicyViolation: DeleteRecords on a topic whose cleanup.policy does not include
	// delete. POLICY_VIOLATION (44).
	ErrPolicyViolation = errors.New("replica: cleanup.policy does not allow deleting records")
	// ErrInvalidConfig: a Config that Validate rejects. INVALID_CONFIG (40). It is
	// storage.ErrInvalidConfig.
	ErrInvalidConfig = storage.ErrInvalidConfig
	// ErrStorage: the log failed to write, sync or read (an I/O error).
	// KAFKA_STORAGE_ERROR (56).
	ErrStorage = errors.New("replica: storage error")

	// ErrStaleLeaderEpoch: MakeLeader/MakeFollower with an older leader epoch than the
	// partition has, or MakeLeader with an older one than the log's epoch cache holds (then
	// it also wraps storage.ErrStaleLeaderEpoch): a replayed metadata delta. Nothing changed.
	// Not a wire error: the node assembly logs it.
	ErrStaleLeaderEpoch = errors.New("replica: leader epoch older than the current one")
	// ErrNotFollower: a replication append to a partition this broker leads. Not a wire error.
	ErrNotFollower = errors.New("replica: not a follower of the partition")
	// ErrTooManyWaiters: the manager's bound on fetch-wait registrations is reached. The
	// fetch handler answers at once instead of waiting. Not a wire error.
	ErrTooManyWaiters = errors.New("replica: too many fetch waiter registrations")
	// ErrClosed: the manager is closed. The server answers NOT_LEADER_OR_FOLLOWER (6).
	ErrClosed = errors.New("replica: manager closed")
)
