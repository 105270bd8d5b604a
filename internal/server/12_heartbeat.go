// Heartbeat (key 12): versions 0–4.
//
// As Kafka's classic groups: REBALANCE_IN_PROGRESS while the group prepares a rebalance
// (the member must rejoin), ILLEGAL_GENERATION for another generation, UNKNOWN_MEMBER_ID
// for a member (or group) the coordinator does not know, FENCED_INSTANCE_ID when the
// member's group.instance.id belongs to another member id now. Each heartbeat restarts the
// member's session. While the coordinator loads, heartbeats are answered NONE (as Kafka).
//
// Differences from Kafka: no authorization; throttle 0.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/protocol/message"
)

func (s *Server) heartbeatHandler() Handler {
	return Handler{Versions: Versions{Min: 0, Max: 4}, Fn: Handle(s.heartbeat)}
}

func (s *Server) heartbeat(ctx context.Context, r *Request, req *message.HeartbeatRequest) (message.Response, error) {
	resp, err := s.opts.Deps.Groups.Heartbeat(ctx, groupRequest(r), req)
	if err != nil {
		return nil, err
	}
	return resp, nil
}
