// ConsumerGroupHeartbeat (key 68): versions 0–1.
//
// As Kafka 4.x: the KIP-848 consumer protocol. A member joins with epoch 0 (v0: the
// coordinator names it; v1: the client does), heartbeats with its epoch and owned
// partitions, and leaves with -1 (-2: a static member leaving for now). The coordinator
// computes the assignment (server-side assignors "uniform" and "range",
// group.consumer.assignors) and hands it over incrementally: partitions are revoked
// first, assigned once their previous owner released them. Errors as Kafka's:
// INVALID_REQUEST with a message for malformed fields, UNSUPPORTED_ASSIGNOR,
// INVALID_REGULAR_EXPRESSION, UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH,
// UNRELEASED_INSTANCE_ID, FENCED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED, GROUP_ID_NOT_FOUND
// (a classic group in use). Registered only when group.coordinator.rebalance.protocols
// includes "consumer".
//
// Differences from Kafka: regular expressions are Go's RE2 (Kafka uses RE2/J; the syntax
// is the same) and resolved synchronously; no online migration between protocols
// (Kafka's group.consumer.migration.policy=disabled); rack-aware assignment is not done;
// a static leave (-2) without InstanceId is accepted when the member id is a static
// member's (Kafka answers INVALID_REQUEST; franz-go v1.22 sends none, and would otherwise
// lose its partitions to a reassignment on every restart); no authorization; throttle 0.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/protocol/message"
)

func (s *Server) consumerGroupHeartbeatHandler() Handler {
	return Handler{Versions: Versions{Min: 0, Max: 1}, Fn: Handle(s.consumerGroupHeartbeat)}
}

func (s *Server) consumerGroupHeartbeat(ctx context.Context, r *Request, req *message.ConsumerGroupHeartbeatRequest) (message.Response, error) {
	resp, err := s.opts.Deps.Groups.ConsumerGroupHeartbeat(ctx, groupRequest(r), req)
	if err != nil {
		return nil, err
	}
	return resp, nil
}
