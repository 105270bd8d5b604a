// DeleteGroups (key 42): versions 0–2.
//
// As Kafka: an empty group (no members) is deleted with its committed offsets (tombstones
// in __consumer_offsets); NON_EMPTY_GROUP for a group with members, GROUP_ID_NOT_FOUND for
// one the coordinator does not know, NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS per
// group where this broker does not coordinate it or is loading it.
//
// Differences from Kafka: no authorization; throttle 0.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/protocol/message"
)

func (s *Server) deleteGroupsHandler() Handler {
	return Handler{Versions: Versions{Min: 0, Max: 2}, Fn: Handle(s.deleteGroups)}
}

func (s *Server) deleteGroups(ctx context.Context, r *Request, req *message.DeleteGroupsRequest) (message.Response, error) {
	resp, err := s.opts.Deps.Groups.DeleteGroups(ctx, groupRequest(r), req)
	if err != nil {
		return nil, err
	}
	return resp, nil
}
