// LeaveGroup (key 13): versions 0–5 (several members from v3).
//
// As Kafka's classic groups: each member leaves (a static member may be removed by its
// group.instance.id alone with an empty member id), and the group rebalances without it at
// once. v3+ answers per member; v0–v2 carry the first member error at the top level. An
// unknown group answers UNKNOWN_MEMBER_ID for each member.
//
// Differences from Kafka: no authorization; throttle 0.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/protocol/message"
)

func (s *Server) leaveGroupHandler() Handler {
	return Handler{Versions: Versions{Min: 0, Max: 5}, Fn: Handle(s.leaveGroup)}
}

func (s *Server) leaveGroup(ctx context.Context, r *Request, req *message.LeaveGroupRequest) (message.Response, error) {
	resp, err := s.opts.Deps.Groups.LeaveGroup(ctx, groupRequest(r), req)
	if err != nil {
		return nil, err
	}
	return resp, nil
}
