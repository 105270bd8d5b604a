// JoinGroup (key 11): versions 0–9.
//
// The group coordinator's (internal/group) classic protocol, as Kafka's: member ids
// required from v4 (KIP-394: a first join gets MEMBER_ID_REQUIRED with its id), static
// membership (group.instance.id, v5+: a restarted instance rejoins a stable group without
// a rebalance when its protocols are unchanged; an id in use by another member id is
// FENCED_INSTANCE_ID), the protocol chosen among those every member supports,
// group.initial.rebalance.delay.ms for new groups, the rebalance timeout (v1+; the session
// timeout at v0), group.max.size (GROUP_MAX_SIZE_REACHED), group.min/max.session.timeout.ms
// (INVALID_SESSION_TIMEOUT), v7's protocol type, v9's skip_assignment for a rejoining
// static leader. The answer waits until the join phase ends. A KIP-848 consumer group with
// members is INCONSISTENT_GROUP_PROTOCOL (Kafka with migration disabled); an empty one
// becomes a classic group.
//
// Differences from Kafka: no authorization; throttle 0; a new group is not written to
// __consumer_offsets until its first rebalance completes (Kafka's new coordinator writes
// an empty record at once); a JoinGroup superseded by a newer one from the same member is
// answered REBALANCE_IN_PROGRESS instead of being left unanswered.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/protocol/message"
)

func (s *Server) joinGroupHandler() Handler {
	return Handler{Versions: Versions{Min: 0, Max: 9}, Fn: Handle(s.joinGroup)}
}

func (s *Server) joinGroup(ctx context.Context, r *Request, req *message.JoinGroupRequest) (message.Response, error) {
	resp, err := s.opts.Deps.Groups.JoinGroup(ctx, groupRequest(r), req)
	if err != nil {
		return nil, err
	}
	return resp, nil
}
