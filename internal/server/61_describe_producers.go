// DescribeProducers (key 61): version 0.
//
// Lists, per partition, the producers its leader remembers (producer id, epoch, last
// sequence, last timestamp, coordinator epoch, start offset of an open transaction or -1),
// from the log's producer state, which survives restarts through the producer snapshots.
//
// As in Kafka: an invalid topic name answers INVALID_TOPIC_EXCEPTION and a topic the
// metadata does not have UNKNOWN_TOPIC_OR_PARTITION, for every partition asked;
// NOT_LEADER_OR_FOLLOWER (or UNKNOWN_TOPIC_OR_PARTITION) when a partition is not hosted here.
// Every error carries a message.
//
// Differences from Kafka: only the leader answers (Kafka also answers from a follower's
// log); throttle time is always 0; no ACL checks yet (READ on the topic).

package server

import (
	"context"
	"fmt"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/replica"
)

func (s *Server) describeProducersHandler() Handler {
	return Handler{
		Versions:      Versions{Min: 0, Max: 0},
		Fn:            Handle(s.describeProducers),
		ErrorResponse: describeProducersErrorResponse,
	}
}

func (s *Server) describeProducers(ctx context.Context, r *Request, req *message.DescribeProducersRequest) (message.Response, error) {
	im := s.dataImage()
	resp := message.NewDescribeProducersResponse()
	resp.Topics = make([]message.DescribeProducersResponseTopicResponse, len(req.Topics))
	for ti := range req.Topics {
		t := &req.Topics[ti]
		out := &resp.Topics[ti]
		out.Name = t.Name
		var topicErr error
		switch {
		case !validDataTopicName(t.Name):
			topicErr = fmt.Errorf("%w: %q is not a valid topic name", kerr.InvalidTopicException, t.Name)
		case im != nil:
			if _, ok := im.TopicByName(t.Name); !ok {
				topicErr = fmt.Errorf("%w: %s", kerr.UnknownTopicOrPartition, t.Name)
			}
		}
		out.Partitions = make([]message.DescribeProducersResponsePartitionResponse, len(t.PartitionIndexes))
		for pi, idx := range t.PartitionIndexes {
			po := &out.Partitions[pi]
			po.PartitionIndex = idx
			err := topicErr
			var states []replica.ProducerState
			if err == nil {
				var part *replica.Partition
				part, err = s.hostedPartition(im, replica.TopicPartition{Topic: t.Name, Partition: idx})
				if err == nil {
					states, err = part.Producers(ctx)
				}
			}
			if err != nil {
				po.ErrorCode, po.ErrorMessage = r.ErrorCode(err), ErrorMessage(err)
				continue
			}
			po.ActiveProducers = make([]message.DescribeProducersResponseProducerState, len(states))
			for i, st := range states {
				po.ActiveProducers[i] = message.DescribeProducersResponseProducerState{
					ProducerId: st.ProducerID, ProducerEpoch: st.ProducerEpoch, LastSequence: st.LastSequence,
					LastTimestamp: st.LastTimestamp, CoordinatorEpoch: st.CoordinatorEpoch,
					CurrentTxnStartOffset: st.CurrentTxnStartOffset,
				}
			}
		}
	}
	return resp, nil
}

// validDataTopicName is Kafka's Topic.validate: 1–249 characters of [a-zA-Z0-9._-], and
// neither "." nor "..".
func validDataTopicName(name string) bool {
	if name == "" || name == "." || name == ".." || len(name) > 249 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func describeProducersErrorResponse(r *Request, code int16) message.Response {
	req, _ := r.Body.(*message.DescribeProducersRequest)
	resp := message.NewDescribeProducersResponse()
	if req == nil {
		return resp
	}
	for _, t := range req.Topics {
		out := message.DescribeProducersResponseTopicResponse{Name: t.Name}
		for _, idx := range t.PartitionIndexes {
			out.Partitions = append(out.Partitions, message.DescribeProducersResponsePartitionResponse{PartitionIndex: idx, ErrorCode: code})
		}
		resp.Topics = append(resp.Topics, out)
	}
	return resp
}
