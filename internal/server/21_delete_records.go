// DeleteRecords (key 21): versions 0–2.
//
// Moves each partition's log start offset up to the requested offset (-1: the high
// watermark) through the leader's replica.Partition.DeleteRecords, which deletes the
// segments wholly below it, and answers the new low watermark. Consumers fetching below it
// get OFFSET_OUT_OF_RANGE from then on.
//
// As in Kafka: UNKNOWN_TOPIC_OR_PARTITION for partitions the metadata does not have,
// INVALID_TOPIC_EXCEPTION for internal topics, NOT_LEADER_OR_FOLLOWER when not led here,
// OFFSET_OUT_OF_RANGE for an offset above the high watermark or below -1, POLICY_VIOLATION
// for topics whose cleanup.policy does not include delete; an errored partition's low
// watermark is -1. timeout_ms bounds the wait.
//
// Differences from Kafka: the answer comes as soon as the leader moved its log start; with
// replication Kafka waits (up to timeout_ms) until every follower has too, and so will
// Sluice. Throttle time is always 0; no ACL checks yet.

package server

import (
	"context"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/replica"
)

func (s *Server) deleteRecordsHandler() Handler {
	return Handler{
		Versions:      Versions{Min: 0, Max: 2},
		Fn:            Handle(s.deleteRecords),
		ErrorResponse: deleteRecordsErrorResponse,
	}
}

func (s *Server) deleteRecords(ctx context.Context, r *Request, req *message.DeleteRecordsRequest) (message.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(max(req.TimeoutMs, 0))*time.Millisecond)
	defer cancel()
	im := s.dataImage()
	resp := message.NewDeleteRecordsResponse()
	resp.Topics = make([]message.DeleteRecordsResponseDeleteRecordsTopicResult, len(req.Topics))
	for ti := range req.Topics {
		t := &req.Topics[ti]
		out := &resp.Topics[ti]
		out.Name = t.Name
		out.Partitions = make([]message.DeleteRecordsResponseDeleteRecordsPartitionResult, len(t.Partitions))
		for pi, p := range t.Partitions {
			po := &out.Partitions[pi]
			po.PartitionIndex = p.PartitionIndex
			low, err := s.deleteRecordsPartition(ctx, im, replica.TopicPartition{Topic: t.Name, Partition: p.PartitionIndex}, p.Offset)
			if err != nil {
				po.ErrorCode, po.LowWatermark = r.ErrorCode(err), -1
				continue
			}
			po.LowWatermark = low
		}
	}
	return resp, nil
}

func (s *Server) deleteRecordsPartition(ctx context.Context, im *metadata.Image, tp replica.TopicPartition, offset int64) (int64, error) {
	if im != nil && !knownPartition(im, tp.Topic, tp.Partition) {
		return -1, fmt.Errorf("%w: %s", kerr.UnknownTopicOrPartition, tp)
	}
	if dataInternalTopic(tp.Topic) {
		return -1, fmt.Errorf("%w: cannot delete records of internal topic %s", kerr.InvalidTopicException, tp.Topic)
	}
	part, err := s.hostedPartition(im, tp)
	if err != nil {
		return -1, err
	}
	return part.DeleteRecords(ctx, offset)
}

func deleteRecordsErrorResponse(r *Request, code int16) message.Response {
	req, _ := r.Body.(*message.DeleteRecordsRequest)
	resp := message.NewDeleteRecordsResponse()
	if req == nil {
		return resp
	}
	for _, t := range req.Topics {
		out := message.DeleteRecordsResponseDeleteRecordsTopicResult{Name: t.Name}
		for _, p := range t.Partitions {
			out.Partitions = append(out.Partitions, message.DeleteRecordsResponseDeleteRecordsPartitionResult{
				PartitionIndex: p.PartitionIndex, ErrorCode: code, LowWatermark: -1,
			})
		}
		resp.Topics = append(resp.Topics, out)
	}
	return resp
}
