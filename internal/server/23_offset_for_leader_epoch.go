// OffsetForLeaderEpoch (key 23): versions 0–4, leader side.
//
// For each partition the leader answers, from its leader-epoch cache, the largest epoch at or
// below the requested one that its log knows and the offset where the next epoch starts (its
// log end offset for the current epoch): what a follower truncates to after a leader change,
// and what a consumer (KIP-320) checks its position against. Unknown epochs answer -1, -1
// without error.
//
// As in Kafka: current_leader_epoch (v2+) answers FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH;
// UNKNOWN_TOPIC_OR_PARTITION / NOT_LEADER_OR_FOLLOWER when the partition is unknown or not led
// here (only the leader answers, whatever replica_id (v3+) says); an errored partition
// answers epoch -1 and end offset -1. v0 has no leader epoch in its answer.
//
// Differences from Kafka: throttle time is always 0; no ACL checks yet (CLUSTER_ACTION for
// followers, DESCRIBE for consumers).

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/replica"
)

func (s *Server) offsetForLeaderEpochHandler() Handler {
	return Handler{
		Versions:      Versions{Min: 0, Max: 4},
		Fn:            Handle(s.offsetForLeaderEpoch),
		ErrorResponse: offsetForLeaderEpochErrorResponse,
	}
}

func (s *Server) offsetForLeaderEpoch(_ context.Context, r *Request, req *message.OffsetForLeaderEpochRequest) (message.Response, error) {
	im := s.dataImage()
	resp := message.NewOffsetForLeaderEpochResponse()
	resp.Topics = make([]message.OffsetForLeaderEpochResponseOffsetForLeaderTopicResult, len(req.Topics))
	for ti := range req.Topics {
		t := &req.Topics[ti]
		out := &resp.Topics[ti]
		out.Topic = t.Topic
		out.Partitions = make([]message.OffsetForLeaderEpochResponseEpochEndOffset, len(t.Partitions))
		for pi, p := range t.Partitions {
			po := &out.Partitions[pi]
			po.Default()
			po.Partition = p.Partition
			current := int32(-1)
			if r.Version >= 2 {
				current = p.CurrentLeaderEpoch
			}
			part, err := s.hostedPartition(im, replica.TopicPartition{Topic: t.Topic, Partition: p.Partition})
			var e replica.EpochEndOffset
			if err == nil {
				e, err = part.EndOffsetForEpoch(current, p.LeaderEpoch)
			}
			if err != nil {
				po.ErrorCode = r.ErrorCode(err)
				continue
			}
			po.EndOffset = e.EndOffset
			if r.Version >= 1 {
				po.LeaderEpoch = e.LeaderEpoch
			}
		}
	}
	return resp, nil
}

func offsetForLeaderEpochErrorResponse(r *Request, code int16) message.Response {
	req, _ := r.Body.(*message.OffsetForLeaderEpochRequest)
	resp := message.NewOffsetForLeaderEpochResponse()
	if req == nil {
		return resp
	}
	for _, t := range req.Topics {
		out := message.OffsetForLeaderEpochResponseOffsetForLeaderTopicResult{Topic: t.Topic}
		for _, p := range t.Partitions {
			var po message.OffsetForLeaderEpochResponseEpochEndOffset
			po.Default()
			po.Partition, po.ErrorCode = p.Partition, code
			out.Partitions = append(out.Partitions, po)
		}
		resp.Topics = append(resp.Topics, out)
	}
	return resp
}
