// OffsetDelete (key 47): version 0.
//
// As Kafka: the committed offsets of the listed partitions are deleted (tombstoned) unless
// the group consumes the topic (GROUP_SUBSCRIBED_TO_TOPIC per partition); a group with
// members that is not a consumer group is NON_EMPTY_GROUP, an unknown group
// GROUP_ID_NOT_FOUND, an empty group id INVALID_GROUP_ID; a topic or partition the
// metadata does not know is UNKNOWN_TOPIC_OR_PARTITION.
//
// Differences from Kafka: no authorization; throttle 0.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

func (s *Server) offsetDeleteHandler() Handler {
	return Handler{Versions: Versions{Min: 0, Max: 0}, Fn: Handle(s.offsetDelete)}
}

func (s *Server) offsetDelete(ctx context.Context, r *Request, req *message.OffsetDeleteRequest) (message.Response, error) {
	im, err := s.image()
	if err != nil {
		return nil, err
	}
	// Unknown topics and partitions are answered here; the rest goes to the coordinator.
	var unknown []message.OffsetDeleteResponseTopic
	known := *req
	known.Topics = nil
	for _, t := range req.Topics {
		kt := message.OffsetDeleteRequestTopic{Name: t.Name}
		ut := message.OffsetDeleteResponseTopic{Name: t.Name}
		for _, p := range t.Partitions {
			if topicPartitionKnown(im, t.Name, p.PartitionIndex) {
				kt.Partitions = append(kt.Partitions, p)
			} else {
				ut.Partitions = append(ut.Partitions, message.OffsetDeleteResponsePartition{
					PartitionIndex: p.PartitionIndex, ErrorCode: kerr.UnknownTopicOrPartition.Code,
				})
			}
		}
		if len(kt.Partitions) > 0 {
			known.Topics = append(known.Topics, kt)
		}
		if len(ut.Partitions) > 0 {
			unknown = append(unknown, ut)
		}
	}
	resp, err := s.opts.Deps.Groups.OffsetDelete(ctx, groupRequest(r), &known)
	if err != nil {
		return nil, err
	}
	if resp.ErrorCode == 0 {
		resp.Topics = append(resp.Topics, unknown...)
	}
	return resp, nil
}
