// DescribeGroups (key 15): versions 0–5.
//
// As Kafka: each group's state, protocol type, and members (client id, host, instance id
// v4+, assignment); the selected protocol and the members' metadata only when Stable. A
// group this broker's coordinator does not know, or a KIP-848 consumer group (not a classic
// group; ConsumerGroupDescribe describes it), is Dead with no members (up to v5);
// NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS per group where this broker does not
// coordinate it or is loading it. Authorized operations (v3+) when asked: every group
// operation, as Kafka reports without an authorizer.
//
// Differences from Kafka: no authorization; throttle 0.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/protocol/message"
)

func (s *Server) describeGroupsHandler() Handler {
	return Handler{Versions: Versions{Min: 0, Max: 5}, Fn: Handle(s.describeGroups)}
}

func (s *Server) describeGroups(ctx context.Context, r *Request, req *message.DescribeGroupsRequest) (message.Response, error) {
	resp, err := s.opts.Deps.Groups.DescribeGroups(ctx, groupRequest(r), req)
	if err != nil {
		return nil, err
	}
	if r.Version >= 3 && req.IncludeAuthorizedOperations {
		for i := range resp.Groups {
			if resp.Groups[i].ErrorCode == 0 {
				resp.Groups[i].AuthorizedOperations = groupAuthorizedOps
			}
		}
	}
	return resp, nil
}
