// SyncGroup (key 14): versions 0–5.
//
// As Kafka's classic groups: the leader's assignment is written to __consumer_offsets
// (the group's GroupMetadata record) and, once committed, every member's SyncGroup is
// answered with its assignment and the group is Stable; members the leader left out get
// an empty assignment. REBALANCE_IN_PROGRESS while the group prepares another rebalance,
// ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID; v5 requires the protocol type
// and name and checks them against the group's (INCONSISTENT_GROUP_PROTOCOL).
//
// Differences from Kafka: no authorization; throttle 0.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/protocol/message"
)

func (s *Server) syncGroupHandler() Handler {
	return Handler{Versions: Versions{Min: 0, Max: 5}, Fn: Handle(s.syncGroup)}
}

func (s *Server) syncGroup(ctx context.Context, r *Request, req *message.SyncGroupRequest) (message.Response, error) {
	resp, err := s.opts.Deps.Groups.SyncGroup(ctx, groupRequest(r), req)
	if err != nil {
		return nil, err
	}
	return resp, nil
}
