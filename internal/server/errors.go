package server

import (
	"context"
	"errors"
	"io/fs"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/record"
	"github.com/sluicehq/sluice/internal/replica"
	"github.com/sluicehq/sluice/internal/storage"
	"github.com/sluicehq/sluice/internal/txn"
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
// matches wins, so a finer error must come before a coarser one it may wrap: the decisions of
// the packages nearest the request (config's read-only keys, replica, controller) come before
// the record and storage errors they wrap.
//
// A *kerr.Error anywhere in the chain wins over the table: a handler that already knows the
// code returns (or wraps) the kerr value.
//
// Not mapped on purpose (they never reach a client; if one does, it is logged and answered
// UNKNOWN_SERVER_ERROR): replica.ErrStaleLeaderEpoch, ErrNotFollower, ErrTooManyWaiters;
// storage.ErrInvalidOffset, ErrLogExists, ErrStaleLeaderEpoch (replica wraps it in its
// own at elections); metadata's errors. Handler authors add entries
// here for new sentinels (group and txn coordinators answer in kerr values already).
var errorTable = []struct {
	err  error
	code *kerr.Error
}{
	// internal/config decides these before anyone wraps them in "invalid config".
	{config.ErrReadOnly, kerr.InvalidRequest},
	{config.ErrPerBrokerOnly, kerr.InvalidRequest},

	// internal/replica: the partition replica (Produce, Fetch, ListOffsets, DeleteRecords, …).
	{replica.ErrNotLeader, kerr.NotLeaderOrFollower},
	// The Metadata-aware handler answers NOT_LEADER_OR_FOLLOWER instead when its metadata
	// knows the partition, as Kafka does.
	{replica.ErrUnknownPartition, kerr.UnknownTopicOrPartition},
	{replica.ErrFencedLeaderEpoch, kerr.FencedLeaderEpoch},
	{replica.ErrUnknownLeaderEpoch, kerr.UnknownLeaderEpoch},
	{replica.ErrOffsetNotAvailable, kerr.OffsetNotAvailable},
	{replica.ErrUnknownProducerID, kerr.UnknownProducerID},
	{replica.ErrInvalidRequiredAcks, kerr.InvalidRequiredAcks},
	{replica.ErrNotEnoughReplicasAfterAppend, kerr.NotEnoughReplicasAfterAppend},
	{replica.ErrNotEnoughReplicas, kerr.NotEnoughReplicas},
	{replica.ErrTimeout, kerr.RequestTimedOut},
	{replica.ErrCorruptMessage, kerr.CorruptMessage},
	{replica.ErrMessageTooLarge, kerr.MessageTooLarge},
	{replica.ErrRecordListTooLarge, kerr.RecordListTooLarge},
	{replica.ErrUnsupportedCompressionType, kerr.UnsupportedCompressionType},
	{replica.ErrPolicyViolation, kerr.PolicyViolation},
	{replica.ErrStorage, kerr.KafkaStorageError},
	// A closed manager is a broker shutting down: the client should go elsewhere.
	{replica.ErrClosed, kerr.NotLeaderOrFollower},
	// replica.ErrOffsetOutOfRange, ErrOutOfOrderSequence, ErrInvalidProducerEpoch,
	// ErrInvalidRecord, ErrInvalidTimestamp and ErrInvalidConfig are the storage and record
	// sentinels below.

	// internal/txn: the producer-id allocator (InitProducerId). Kafka answers
	// COORDINATOR_LOAD_IN_PROGRESS while it has no producer-id block; clients retry it.
	{txn.ErrLoadInProgress, kerr.CoordinatorLoadInProgress},
	{txn.ErrClosed, kerr.CoordinatorLoadInProgress},

	// internal/controller: topic and cluster changes (CreateTopics, DeleteTopics,
	// CreatePartitions, AlterConfigs, BrokerRegistration, BrokerHeartbeat, AlterPartition).
	{controller.ErrNotController, kerr.NotController},
	{controller.ErrClosed, kerr.NotController},
	{controller.ErrTopicExists, kerr.TopicAlreadyExists},
	{controller.ErrUnknownTopic, kerr.UnknownTopicOrPartition},
	{controller.ErrUnknownTopicID, kerr.UnknownTopicID},
	{controller.ErrInvalidTopic, kerr.InvalidTopicException},
	{controller.ErrInvalidPartitions, kerr.InvalidPartitions},
	{controller.ErrInvalidReplicationFactor, kerr.InvalidReplicationFactor},
	{controller.ErrInvalidReplicaAssignment, kerr.InvalidReplicaAssignment},
	{controller.ErrInvalidConfig, kerr.InvalidConfig},
	{controller.ErrInvalidRequest, kerr.InvalidRequest},
	{controller.ErrTopicDeletionDisabled, kerr.TopicDeletionDisabled},
	{controller.ErrStaleBrokerEpoch, kerr.StaleBrokerEpoch},
	{controller.ErrBrokerIDNotRegistered, kerr.BrokerIDNotRegistered},
	{controller.ErrDuplicateBrokerRegistration, kerr.DuplicateBrokerRegistration},
	{controller.ErrUnsupportedVersion, kerr.UnsupportedVersion},
	{controller.ErrFencedLeaderEpoch, kerr.FencedLeaderEpoch},
	{controller.ErrNotLeaderOrFollower, kerr.NotLeaderOrFollower},
	{controller.ErrInvalidUpdateVersion, kerr.InvalidUpdateVersion},
	{controller.ErrIneligibleReplica, kerr.IneligibleReplica},

	// internal/record: batch validation (Produce).
	{record.ErrShortBatch, kerr.CorruptMessage},
	{record.ErrCorrupt, kerr.CorruptMessage},
	// A decompression bomb is treated as damage, not as a size the client could fix.
	{record.ErrDecompressLimit, kerr.CorruptMessage},
	// Kafka refuses magic v0/v1 batches in Produce v3+ with INVALID_RECORD.
	{record.ErrMagic, kerr.InvalidRecord},
	{record.ErrTooLarge, kerr.MessageTooLarge},
	{record.ErrCompression, kerr.UnsupportedCompressionType},
	// Before ErrInvalidRecord: one batch can fail both ways, and Kafka reports the timestamp.
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
