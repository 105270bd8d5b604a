package group

import (
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/replica"
)

// Errors of the package's own API. Everything a client sees is a Kafka error code set in the
// response by the coordinator itself (Kafka's coordinators answer in codes, and so does this
// one); these sentinels are for the node assembly and tests.
var (
	// ErrInvalidConfig: a Config that Validate rejects.
	ErrInvalidConfig = errors.New("group: invalid config")
	// ErrClosed: the coordinator was closed.
	ErrClosed = errors.New("group: coordinator closed")
)

// codeOf returns the Kafka code of an error met inside the coordinator: a *kerr.Error in
// the chain, or UNKNOWN_SERVER_ERROR.
func codeOf(err error) int16 {
	if err == nil {
		return 0
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}

// appendError turns a failed or timed-out write to __consumer_offsets into the code the
// request is answered with, as Kafka's coordinators do (CoordinatorOperationExceptionHelper):
// the client cannot fix a replication or storage problem, so it is told to find the
// coordinator again (NOT_COORDINATOR) or retry (COORDINATOR_NOT_AVAILABLE); sizes it did not
// choose are UNKNOWN_SERVER_ERROR. The replica's sentinels are mapped here, not in the
// server's table, because their meaning for a coordinator write differs from a produce.
func appendError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, replica.ErrNotLeader), errors.Is(err, replica.ErrClosed),
		errors.Is(err, replica.ErrStorage), errors.Is(err, replica.ErrUnknownPartition):
		return fmt.Errorf("%w: %w", kerr.NotCoordinator, err)
	case errors.Is(err, replica.ErrTimeout), errors.Is(err, replica.ErrNotEnoughReplicas),
		errors.Is(err, replica.ErrNotEnoughReplicasAfterAppend):
		return fmt.Errorf("%w: %w", kerr.CoordinatorNotAvailable, err)
	case errors.Is(err, replica.ErrMessageTooLarge), errors.Is(err, replica.ErrRecordListTooLarge):
		return fmt.Errorf("%w: %w", kerr.UnknownServerError, err)
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return err
	}
	return fmt.Errorf("%w: %w", kerr.UnknownServerError, err)
}
