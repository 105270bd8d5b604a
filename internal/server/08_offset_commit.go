// OffsetCommit (key 8): versions 0–9.
//
// As Kafka: a member of a classic group commits with its generation and member id (and
// group.instance.id, v7+): ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID,
// REBALANCE_IN_PROGRESS (between JoinGroup and SyncGroup) otherwise; generation -1 with no
// member commits for a group without members (creating a "simple" group if needed); an
// unknown group with a generation is ILLEGAL_GENERATION (GROUP_ID_NOT_FOUND from v9). A
// member of a KIP-848 consumer group commits (v9+; UNSUPPORTED_VERSION below) with its
// member epoch: STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID otherwise (the previous epoch is also
// accepted for partitions the member still owns, as Kafka 4.3 relaxes it).
// Metadata longer than offset.metadata.max.bytes is OFFSET_METADATA_TOO_LARGE for that
// partition; an unknown topic or partition UNKNOWN_TOPIC_OR_PARTITION. The answer comes once
// the offsets are committed in __consumer_offsets (acks=all). v2–v4's retention_time_ms
// gives the offsets an explicit expiry (the v1 value record), otherwise
// offsets.retention.minutes applies once the group is empty; v1's commit_timestamp is kept.
//
// Differences from Kafka: v0 (Kafka stored it in ZooKeeper and 4.0 removed it) commits
// through the coordinator like a v1 commit with generation -1; no authorization; throttle 0.

package server

import (
	"context"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

func (s *Server) offsetCommitHandler() Handler {
	return Handler{Versions: Versions{Min: 0, Max: 9}, Fn: Handle(s.offsetCommit)}
}

func (s *Server) offsetCommit(ctx context.Context, r *Request, req *message.OffsetCommitRequest) (message.Response, error) {
	im, err := s.image()
	if err != nil {
		return nil, err
	}
	// Unknown topics and partitions are answered here; the rest goes to the coordinator.
	var unknown []message.OffsetCommitResponseTopic
	known := *req
	known.Topics = nil
	for _, t := range req.Topics {
		kt := message.OffsetCommitRequestTopic{Name: t.Name}
		ut := message.OffsetCommitResponseTopic{Name: t.Name}
		for _, p := range t.Partitions {
			if topicPartitionKnown(im, t.Name, p.PartitionIndex) {
				kt.Partitions = append(kt.Partitions, p)
			} else {
				ut.Partitions = append(ut.Partitions, message.OffsetCommitResponsePartition{
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
	resp, err := s.opts.Deps.Groups.OffsetCommit(ctx, groupRequest(r), &known)
	if err != nil {
		return nil, err
	}
	resp.Topics = append(unknown, resp.Topics...)
	return resp, nil
}
