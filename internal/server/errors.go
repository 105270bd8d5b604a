package server

import (
	"context"
	"errors"
	"io/fs"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/record"
	"github.com/sluicehq/sluice/internal/storage"
)

// Errors the request pipeline itself understands. Handlers return them; they are not Kafka
// error codes.
var (
	// ErrNoResponse: the request is complete and gets no response (Produce with acks=0).
	// The connection goes on to the next request.
	ErrNoResponse = errors.New("server: no response for this request")
	// ErrCloseConnection: close the connection instead of answering. Kafka does this for a
	// failed acks=0 Produce, so that the client, which waits for nothing, notices.
	ErrCloseConnection = errors.New("server: close the connection")
)

// errorTable maps domain errors to Kafka error codes: the ONE place where that happens
// (STYLE.md, convention 4). ErrorCode walks it in order and the first entry that errors.Is
// matches wins, so a finer error must come before the coarser one it wraps.
//
// A *kerr.Error anywhere in the chain wins over the table: a handler that already knows the
// code returns (or wraps) the kerr value.
//
// Sentinels still to be added by the handler authors, once their packages export them
// (each package documents the code it expects):
//
//   - internal/replica: ErrNotLeader → NOT_LEADER_OR_FOLLOWER, ErrUnknownPartition →
//     UNKNOWN_TOPIC_OR_PARTITION, ErrFencedLeaderEpoch → FENCED_LEADER_EPOCH,
//     ErrUnknownLeaderEpoch → UNKNOWN_LEADER_EPOCH, ErrOffsetNotAvailable →
//     OFFSET_NOT_AVAILABLE, ErrUnknownProducerID → UNKNOWN_PRODUCER_ID,
//     ErrInvalidRequiredAcks → INVALID_REQUIRED_ACKS, ErrNotEnoughReplicas →
//     NOT_ENOUGH_REPLICAS, ErrNotEnoughReplicasAfterAppend →
//     NOT_ENOUGH_REPLICAS_AFTER_APPEND, ErrTimeout → REQUEST_TIMED_OUT (its
//     ErrOffsetOutOfRange, ErrOutOfOrderSequence and ErrInvalidProducerEpoch are the storage
//     sentinels already listed below).
//   - internal/metadata and internal/controller: unknown topic / topic id
//     (UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID), topic exists (TOPIC_ALREADY_EXISTS),
//     invalid topic name (INVALID_TOPIC_EXCEPTION), invalid partitions / replication factor
//     / assignment (INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR,
//     INVALID_REPLICA_ASSIGNMENT), not the active controller (NOT_CONTROLLER), stale broker
//     epoch (STALE_BROKER_EPOCH), broker not registered (BROKER_ID_NOT_REGISTERED), topic
//     deletion disabled (TOPIC_DELETION_DISABLED), policy violations (POLICY_VIOLATION).
//   - internal/group and internal/txn answer in protocol terms already (they may return
//     kerr values directly).
var errorTable = []struct {
	err  error
	code *kerr.Error
}{
	// internal/record: batch validation (Produce).
	{record.ErrShortBatch, kerr.CorruptMessage},
	{record.ErrCorrupt, kerr.CorruptMessage},
	// A decompression bomb is treated as damage, not as a size the client could fix.
	{record.ErrDecompressLimit, kerr.CorruptMessage},
	// Kafka refuses magic v0/v1 batches in Produce v3+ with INVALID_RECORD.
	{record.ErrMagic, kerr.InvalidRecord},
	{record.ErrTooLarge, kerr.MessageTooLarge},
	{record.ErrCompression, kerr.UnsupportedCompressionType},
	{record.ErrInvalidTimestamp, kerr.InvalidTimestamp},
	// ErrMissingKey, ErrControlBatch, ErrOffsetRange, ErrOffsetDeltas, ErrSequence and
	// ErrBatchCount all wrap ErrInvalidRecord.
	{record.ErrInvalidRecord, kerr.InvalidRecord},
	{record.ErrCompressionLevel, kerr.InvalidConfig},

	// internal/storage: the partition log.
	{storage.ErrOffsetOutOfRange, kerr.OffsetOutOfRange},
	{storage.ErrBatchTooLarge, kerr.RecordListTooLarge},
	{storage.ErrOutOfOrderSequence, kerr.OutOfOrderSequenceNumber},
	// The Produce handler answers a duplicate with the original batch's offsets and no error;
	// this entry is for any other path that meets it.
	{storage.ErrDuplicateSequence, kerr.DuplicateSequenceNumber},
	{storage.ErrInvalidProducerEpoch, kerr.InvalidProducerEpoch},
	{storage.ErrLogNotFound, kerr.UnknownTopicOrPartition},
	{storage.ErrInconsistentTopicID, kerr.InconsistentTopicID},
	{storage.ErrInvalidConfig, kerr.InvalidConfig},
	// A closed log is a replica being removed or a broker shutting down: the client should
	// refresh metadata and go to the current leader.
	{storage.ErrClosed, kerr.NotLeaderOrFollower},

	// internal/config: topic and broker config validation.
	{config.ErrReadOnly, kerr.InvalidRequest},
	{config.ErrPerBrokerOnly, kerr.InvalidRequest},
	{config.ErrSyntax, kerr.InvalidConfig},
	{config.ErrInvalidValue, kerr.InvalidConfig},
	{config.ErrUnknownTopicConfig, kerr.InvalidConfig},
	{config.ErrUnknownKey, kerr.InvalidConfig},
	{config.ErrConflict, kerr.InvalidConfig},
	{config.ErrMissing, kerr.InvalidConfig},

	// The request's own deadline (a Produce timeout, a CreateTopics timeout).
	{context.DeadlineExceeded, kerr.RequestTimedOut},
}

// ErrorCode returns the Kafka error code for err: 0 for nil, the code of a *kerr.Error in
// err's chain, else the code of the first errorTable entry that errors.Is matches, and
// otherwise UNKNOWN_SERVER_ERROR (-1). known is false only in that last case; callers that
// have a logger should log such errors (Request.ErrorCode does), since every error a client
// sees as UNKNOWN_SERVER_ERROR is a missing table entry or a bug.
func ErrorCode(err error) (code int16, known bool) {
	if err == nil {
		return 0, true
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code, true
	}
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return e.code.Code, true
		}
	}
	if storage.IsCorruption(err) {
		return kerr.KafkaStorageError.Code, true
	}
	// An I/O failure under a log directory (EIO, ENOSPC, a vanished file): Kafka marks the
	// directory offline and answers KAFKA_STORAGE_ERROR.
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return kerr.KafkaStorageError.Code, true
	}
	return kerr.UnknownServerError.Code, false
}

// ErrorMessage returns the text for a response's ErrorMessage field: nil for nil, else the
// error's text (which names what failed, without stack or secrets: config errors never
// include password values).
func ErrorMessage(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}
