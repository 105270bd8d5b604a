// ConsumerGroupDescribe (key 69): version 0.
//
// As Kafka: each KIP-848 group's state, group and assignment epochs, assignor, and members
// (epoch, subscription, current and target assignment with topic names).
// GROUP_ID_NOT_FOUND for unknown groups and classic groups; NOT_COORDINATOR /
// COORDINATOR_LOAD_IN_PROGRESS per group where this broker does not coordinate it or is
// loading it. Authorized operations when asked: every group operation, as Kafka reports
// without an authorizer. Registered only when group.coordinator.rebalance.protocols
// includes "consumer".
//
// Differences from Kafka: no authorization; throttle 0.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/protocol/message"
)

func (s *Server) consumerGroupDescribeHandler() Handler {
	return Handler{Versions: Versions{Min: 0, Max: 0}, Fn: Handle(s.consumerGroupDescribe)}
}

func (s *Server) consumerGroupDescribe(ctx context.Context, r *Request, req *message.ConsumerGroupDescribeRequest) (message.Response, error) {
	resp, err := s.opts.Deps.Groups.ConsumerGroupDescribe(ctx, groupRequest(r), req)
	if err != nil {
		return nil, err
	}
	if req.IncludeAuthorizedOperations {
		for i := range resp.Groups {
			if resp.Groups[i].ErrorCode == 0 {
				resp.Groups[i].AuthorizedOperations = groupAuthorizedOps
			}
		}
	}
	return resp, nil
}
