package storage

import (
	"errors"
	"fmt"
)

// Errors returned by the storage package. The server maps each to a Kafka error code in one
// place; callers test them with errors.Is.
var (
	// ErrOffsetOutOfRange: a read or lookup asked for an offset below the log start offset or
	// above the log end offset (OFFSET_OUT_OF_RANGE).
	ErrOffsetOutOfRange = errors.New("storage: offset out of range")
	// ErrInvalidOffset: an append carried a batch whose base offset is below the log end offset
	// or below the previous batch's next offset in the same call.
	ErrInvalidOffset = errors.New("storage: batch offset not after log end")
	// ErrBatchTooLarge: a single append is larger than a segment can ever hold.
	ErrBatchTooLarge = errors.New("storage: append larger than segment.bytes")
	// ErrClosed: the log or manager was closed.
	ErrClosed = errors.New("storage: closed")
	// ErrLogExists / ErrLogNotFound: manager lookups.
	ErrLogExists   = errors.New("storage: log already exists")
	ErrLogNotFound = errors.New("storage: log not found")
	// ErrInvalidConfig: Config.Validate rejected a value (INVALID_CONFIG).
	ErrInvalidConfig = errors.New("storage: invalid config")
	// ErrStaleLeaderEpoch: AssignEpoch was given an epoch older than the newest one the
	// log's leader epoch cache holds (epochs only grow).
	ErrStaleLeaderEpoch = errors.New("storage: leader epoch older than the latest")
	// ErrInconsistentTopicID: partition.metadata names another topic id than the caller.
	ErrInconsistentTopicID = errors.New("storage: inconsistent topic id")

	// Producer-state errors (see CheckProducerBatch). The server maps them to
	// OUT_OF_ORDER_SEQUENCE_NUMBER, DUPLICATE_SEQUENCE_NUMBER (answered with the original
	// offsets, i.e. success for the client) and INVALID_PRODUCER_EPOCH.
	ErrOutOfOrderSequence   = errors.New("storage: out of order sequence number")
	ErrDuplicateSequence    = errors.New("storage: duplicate sequence number")
	ErrInvalidProducerEpoch = errors.New("storage: invalid producer epoch")

	// ErrFaultInjected is returned by MemFS when a test asked for a failure.
	ErrFaultInjected = errors.New("storage: injected fault")
)

// CorruptionError marks on-disk data that does not parse or does not agree with itself (a
// checkpoint with a bad line, a producer snapshot with a bad CRC, an index that points past
// its segment). It is a distinct class so that callers can tell "the disk lies" from "the
// disk failed": test with IsCorruption. Torn or corrupt segment tails found by recovery are
// repaired (truncated), not reported.
type CorruptionError struct {
	Path string
	Err  error
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("storage: corruption in %s: %v", e.Path, e.Err)
}
func (e *CorruptionError) Unwrap() error { return e.Err }

// IsCorruption reports whether err (or anything it wraps) is a CorruptionError.
func IsCorruption(err error) bool {
	var ce *CorruptionError
	return errors.As(err, &ce)
}

func corruptf(path, format string, args ...any) error {
	return &CorruptionError{Path: path, Err: fmt.Errorf(format, args...)}
}
