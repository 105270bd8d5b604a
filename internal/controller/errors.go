package controller

import (
	"errors"
	"fmt"
)

// Domain errors. Each names the Kafka error code the server's one mapping table turns it
// into; results carry them wrapped with a message (errors.Is to test, Error() for the
// response's error message).
var (
	// ErrNotController → NOT_CONTROLLER. Returned as *NotControllerError.
	ErrNotController = errors.New("controller: not the active controller")
	// ErrClosed → NOT_CONTROLLER as well (the node is shutting down; clients retry elsewhere).
	ErrClosed = errors.New("controller: closed")

	// ErrTopicExists → TOPIC_ALREADY_EXISTS.
	ErrTopicExists = errors.New("controller: topic already exists")
	// ErrUnknownTopic → UNKNOWN_TOPIC_OR_PARTITION.
	ErrUnknownTopic = errors.New("controller: unknown topic or partition")
	// ErrUnknownTopicID → UNKNOWN_TOPIC_ID.
	ErrUnknownTopicID = errors.New("controller: unknown topic id")
	// ErrInvalidTopic → INVALID_TOPIC_EXCEPTION (bad name, or a name that collides with an
	// existing one once '.' and '_' are treated alike).
	ErrInvalidTopic = errors.New("controller: invalid topic")
	// ErrInvalidPartitions → INVALID_PARTITIONS.
	ErrInvalidPartitions = errors.New("controller: invalid number of partitions")
	// ErrInvalidReplicationFactor → INVALID_REPLICATION_FACTOR.
	ErrInvalidReplicationFactor = errors.New("controller: invalid replication factor")
	// ErrInvalidReplicaAssignment → INVALID_REPLICA_ASSIGNMENT.
	ErrInvalidReplicaAssignment = errors.New("controller: invalid replica assignment")
	// ErrInvalidConfig → INVALID_CONFIG. It wraps internal/config's error too, so
	// errors.Is(err, config.ErrReadOnly) still works: the server maps a read-only broker key
	// to INVALID_REQUEST before testing ErrInvalidConfig, as internal/config documents.
	ErrInvalidConfig = errors.New("controller: invalid config")
	// ErrInvalidRequest → INVALID_REQUEST.
	ErrInvalidRequest = errors.New("controller: invalid request")
	// ErrTopicDeletionDisabled → TOPIC_DELETION_DISABLED (delete.topic.enable=false).
	ErrTopicDeletionDisabled = errors.New("controller: topic deletion is disabled")

	// ErrStaleBrokerEpoch → STALE_BROKER_EPOCH.
	ErrStaleBrokerEpoch = errors.New("controller: stale broker epoch")
	// ErrBrokerIDNotRegistered → BROKER_ID_NOT_REGISTERED.
	ErrBrokerIDNotRegistered = errors.New("controller: broker id not registered")
	// ErrDuplicateBrokerRegistration → DUPLICATE_BROKER_REGISTRATION: another incarnation of
	// the broker id holds a live session.
	ErrDuplicateBrokerRegistration = errors.New("controller: broker id registered by another live incarnation")
	// ErrUnsupportedVersion → UNSUPPORTED_VERSION: the broker cannot read the cluster's
	// metadata.version.
	ErrUnsupportedVersion = errors.New("controller: broker does not support the cluster's metadata.version")

	// ErrFencedLeaderEpoch → FENCED_LEADER_EPOCH (AlterPartition from an older leader epoch).
	ErrFencedLeaderEpoch = errors.New("controller: fenced leader epoch")
	// ErrNotLeaderOrFollower → NOT_LEADER_OR_FOLLOWER (AlterPartition from a non-leader, or
	// from a newer leader epoch than the controller knows).
	ErrNotLeaderOrFollower = errors.New("controller: not the partition leader")
	// ErrInvalidUpdateVersion → INVALID_UPDATE_VERSION (AlterPartition with a stale
	// partition epoch).
	ErrInvalidUpdateVersion = errors.New("controller: stale partition epoch")
	// ErrIneligibleReplica → INELIGIBLE_REPLICA (an ISR member that is fenced or shutting
	// down).
	ErrIneligibleReplica = errors.New("controller: ineligible replica")
)

// NotControllerError is ErrNotController with the active controller's node id, -1 when
// unknown.
type NotControllerError struct{ LeaderID int32 }

func (e *NotControllerError) Error() string {
	if e.LeaderID < 0 {
		return "controller: not the active controller (none known)"
	}
	return fmt.Sprintf("controller: not the active controller (node %d is)", e.LeaderID)
}

// Is makes errors.Is(err, ErrNotController) true.
func (e *NotControllerError) Is(target error) bool { return target == ErrNotController }

// Error is a per-item failure: Kind is one of the sentinels above, and Error() is a message
// meant for the client (Kafka's error_message), without a package prefix.
type Error struct {
	Kind  error
	Msg   string
	Cause error // e.g. internal/config's *Error behind ErrInvalidConfig; may be nil
}

func (e *Error) Error() string { return e.Msg }

// Unwrap exposes both the kind and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Cause}
}

func errf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}
