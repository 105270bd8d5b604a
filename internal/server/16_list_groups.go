// ListGroups (key 16): versions 0–5.
//
// As Kafka: the groups of every __consumer_offsets partition this broker coordinates, with
// protocol type, state (v4+) and type (v5+: "classic", or "consumer" for KIP-848
// groups); states_filter (v4+) matches state names case-insensitively, types_filter (v5+)
// matches group types and an unknown type matches nothing. A partition still loading
// answers COORDINATOR_LOAD_IN_PROGRESS for the whole request, as Kafka does.
//
// Differences from Kafka: no authorization (Kafka lists only groups the principal may
// describe); throttle 0.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/protocol/message"
)

func (s *Server) listGroupsHandler() Handler {
	return Handler{Versions: Versions{Min: 0, Max: 5}, Fn: Handle(s.listGroups)}
}

func (s *Server) listGroups(ctx context.Context, r *Request, req *message.ListGroupsRequest) (message.Response, error) {
	resp, err := s.opts.Deps.Groups.ListGroups(ctx, groupRequest(r), req)
	if err != nil {
		return nil, err
	}
	return resp, nil
}
