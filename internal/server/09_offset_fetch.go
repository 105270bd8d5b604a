// OffsetFetch (key 9): versions 0–9 (several groups from v8).
//
// As Kafka: the committed offset, leader epoch (v5+) and metadata of each requested
// partition, -1 with empty metadata where none is committed (also for a group the
// coordinator does not know); a null topic list (v2+) asks for every committed offset of
// the group. Group-level errors (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS) are the
// top-level error from v2, each partition's error before, and per group from v8.
// require_stable (v7+) never answers UNSTABLE_OFFSET_COMMIT: there are no pending
// transactional offsets until transactions exist. Topics are not checked against the
// metadata (as in Kafka). v9's member id and epoch are checked for KIP-848 groups
// (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH); without them (the admin client) any group is read.
//
// Differences from Kafka: v0 (ZooKeeper offsets in Kafka, removed in 4.0) reads the
// coordinator's offsets like v1; no authorization; throttle 0.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/protocol/message"
)

func (s *Server) offsetFetchHandler() Handler {
	return Handler{Versions: Versions{Min: 0, Max: 9}, Fn: Handle(s.offsetFetch)}
}

func (s *Server) offsetFetch(ctx context.Context, r *Request, req *message.OffsetFetchRequest) (message.Response, error) {
	resp, err := s.opts.Deps.Groups.OffsetFetch(ctx, groupRequest(r), req)
	if err != nil {
		return nil, err
	}
	return resp, nil
}
