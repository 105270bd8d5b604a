// DescribeTopicPartitions (key 75): version 0.
//
// KIP-966's paged topic description, as Kafka's KRaft brokers answer it:
//   - An empty topic list means every topic; otherwise the named ones (each once). Topics
//     are answered in name order, starting at the cursor's topic and partition; topics
//     whose names sort before the cursor's are skipped. With a topic list, the cursor's
//     topic must be in it, and a cursor partition must not be negative (INVALID_REQUEST for
//     the whole request otherwise).
//   - At most min(response_partition_limit, 2000) partitions (at least 1) are returned.
//     When a topic's partitions do not all fit, the response stops inside it and
//     next_cursor points at the first partition left out; when the limit is used up
//     exactly at a topic boundary, next_cursor points at the next topic, partition 0.
//   - Partitions carry leader (-1 when it is not registered or has no endpoint on the
//     request's listener; no per-partition error, as in Kafka), leader epoch, replicas,
//     ISR, eligible leader replicas and last known ELR (empty: Sluice's controller does
//     not produce ELR yet) and offline replicas.
//   - A named topic that does not exist answers UNKNOWN_TOPIC_OR_PARTITION, or
//     INVALID_TOPIC_EXCEPTION for an invalid name; with an empty list (all topics) such
//     entries cannot occur.
//   - Topic authorized operations: always filled, as in Kafka; without an authorizer that
//     is every topic operation.
//
// Differences from Kafka: the 2000-partition cap is a constant (Kafka's
// max.request.partition.size.limit, whose default it is, is not a Sluice key yet); no
// authorization; throttle time is always 0.

package server

import (
	"context"
	"slices"

	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// maxDescribePartitions is Kafka's default max.request.partition.size.limit: the most
// partitions one DescribeTopicPartitions response carries.
const maxDescribePartitions = 2000

func (s *Server) describeTopicPartitionsHandler() Handler {
	return Handler{
		Versions:      Versions{Min: 0, Max: 0},
		Fn:            Handle(s.describeTopicPartitions),
		ErrorResponse: describeTopicPartitionsErrorResponse,
	}
}

func (s *Server) describeTopicPartitions(_ context.Context, r *Request, req *message.DescribeTopicPartitionsRequest) (message.Response, error) {
	im, err := s.image()
	if err != nil {
		return nil, err
	}
	all := len(req.Topics) == 0
	cursorTopic := ""
	if req.Cursor != nil {
		cursorTopic = req.Cursor.TopicName
	}
	var names []string
	if all {
		for _, t := range im.Topics() {
			if t.Name >= cursorTopic {
				names = append(names, t.Name)
			}
		}
	} else {
		for _, t := range req.Topics {
			if t.Name >= cursorTopic {
				names = append(names, t.Name)
			}
		}
		slices.Sort(names)
		names = slices.Compact(names)
		if req.Cursor != nil {
			if _, found := slices.BinarySearch(names, req.Cursor.TopicName); !found {
				return nil, errorf(kerr.InvalidRequest, "DescribeTopicPartitionsRequest topic list should contain the cursor topic: %s", req.Cursor.TopicName)
			}
		}
	}
	if req.Cursor != nil && req.Cursor.PartitionIndex < 0 {
		return nil, errorf(kerr.InvalidRequest, "DescribeTopicPartitionsRequest cursor partition must be valid: %s/%d",
			req.Cursor.TopicName, req.Cursor.PartitionIndex)
	}

	resp := message.NewDescribeTopicPartitionsResponse()
	resp.Topics = []message.DescribeTopicPartitionsResponseTopic{}
	remaining := max(min(maxDescribePartitions, req.ResponsePartitionLimit), 1)
	for _, name := range names {
		if remaining == 0 {
			// The previous topics used the limit up exactly: continue at this one.
			resp.NextCursor = &message.DescribeTopicPartitionsResponseCursor{TopicName: name}
			break
		}
		t, ok := im.TopicByName(name)
		if !ok {
			code := kerr.UnknownTopicOrPartition.Code
			if validateTopicName(name) != nil {
				code = kerr.InvalidTopicException.Code
			}
			resp.Topics = append(resp.Topics, dtpTopic(code, name, wire.UUID{}))
			continue
		}
		start := int32(0)
		if req.Cursor != nil && name == req.Cursor.TopicName {
			start = req.Cursor.PartitionIndex
		}
		count := int32(len(t.Partitions))
		upper := int32(min(int64(count), int64(start)+int64(remaining))) // no int32 overflow
		dt := dtpTopic(0, name, wire.UUID(t.ID))
		dt.Partitions = make([]message.DescribeTopicPartitionsResponsePartition, 0, max(upper-start, 0))
		for i := start; i < upper; i++ {
			dt.Partitions = append(dt.Partitions, dtpPartition(im, t.Partitions[i], r.Listener))
		}
		resp.Topics = append(resp.Topics, dt)
		if upper < count {
			resp.NextCursor = &message.DescribeTopicPartitionsResponseCursor{TopicName: name, PartitionIndex: upper}
			break
		}
		remaining -= int32(len(dt.Partitions))
	}
	return resp, nil
}

func dtpTopic(code int16, name string, id wire.UUID) message.DescribeTopicPartitionsResponseTopic {
	var t message.DescribeTopicPartitionsResponseTopic
	t.Default()
	t.ErrorCode = code
	t.Name = &name
	t.TopicId = id
	t.IsInternal = isInternalTopic(name)
	t.Partitions = []message.DescribeTopicPartitionsResponsePartition{}
	t.TopicAuthorizedOperations = topicAuthorizedOps
	return t
}

func dtpPartition(im *metadata.Image, p *metadata.Partition, listener string) message.DescribeTopicPartitionsResponsePartition {
	st := describePartition(im, p, listener, false, false)
	orEmpty := func(ids []int32) []int32 {
		if ids == nil {
			return []int32{}
		}
		return ids
	}
	return message.DescribeTopicPartitionsResponsePartition{
		PartitionIndex:         p.ID,
		LeaderId:               st.leader,
		LeaderEpoch:            p.LeaderEpoch,
		ReplicaNodes:           st.replicas,
		IsrNodes:               st.isr,
		EligibleLeaderReplicas: orEmpty(p.EligibleLeaderReplicas),
		LastKnownElr:           orEmpty(p.LastKnownELR),
		OfflineReplicas:        st.offline,
	}
}

// describeTopicPartitionsErrorResponse answers every requested topic with the code, as
// Kafka's getErrorResponse does.
func describeTopicPartitionsErrorResponse(r *Request, code int16) message.Response {
	resp := message.NewDescribeTopicPartitionsResponse()
	resp.Topics = []message.DescribeTopicPartitionsResponseTopic{}
	req, _ := r.Body.(*message.DescribeTopicPartitionsRequest)
	if req == nil {
		return resp
	}
	for _, t := range req.Topics {
		dt := dtpTopic(code, t.Name, wire.UUID{})
		dt.IsInternal = false
		dt.TopicAuthorizedOperations = authorizedOpsOmitted
		resp.Topics = append(resp.Topics, dt)
	}
	return resp
}
