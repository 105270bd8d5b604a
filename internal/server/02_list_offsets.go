// ListOffsets (key 2): versions 0–10.
//
// Each partition is answered by its leader's replica.Partition.ListOffsets: latest (-1: the
// high watermark for read_uncommitted, the last stable offset for read_committed, the log end
// for followers and tools), earliest (-2) and earliest-local (-4, v8+: the log start offset),
// max-timestamp (-3, v7+: the first record with the largest timestamp), latest-tiered (-5,
// v9+: -1, there is no remote storage) and a time (the first record whose timestamp is at or
// after it), with the leader epoch of the record found (v4+).
//
// As in Kafka: a partition named twice answers INVALID_REQUEST; a special timestamp the
// request version does not know answers UNSUPPORTED_VERSION; current_leader_epoch (v4+)
// answers FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH; a leader whose high watermark has not
// yet reached its epoch's start answers OFFSET_NOT_AVAILABLE (LEADER_NOT_AVAILABLE before v5);
// UNKNOWN_TOPIC_OR_PARTITION / NOT_LEADER_OR_FOLLOWER when the partition is unknown or not
// hosted here; replica_id -2 (debugging tools) may be answered by a follower. Nothing found
// is offset -1, timestamp -1 and no error. timeout_ms (v10) bounds only remote-storage
// lookups in Kafka, and there are none here.
//
// Differences from Kafka:
//   - v0 (Kafka 4.0 no longer serves it) answers at most one offset in old_style_offsets:
//     the v1 answer. Kafka's v0 lists segment base offsets whose files were last modified
//     before the time (up to max_num_offsets); Sluice does not expose segments this way.
//   - Throttle time is always 0; no ACL checks yet.

package server

import (
	"context"
	"fmt"

	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/replica"
)

func (s *Server) listOffsetsHandler() Handler {
	return Handler{
		Versions:      Versions{Min: 0, Max: 10},
		Fn:            Handle(s.listOffsets),
		ErrorResponse: listOffsetsErrorResponse,
	}
}

// listOffsetsMinVersion is the first version that may ask for each special timestamp.
func listOffsetsMinVersion(ts int64) (int16, bool) {
	switch ts {
	case replica.TimestampLatest, replica.TimestampEarliest:
		return 0, true
	case replica.TimestampMax:
		return 7, true
	case replica.TimestampEarliestLocal:
		return 8, true
	case replica.TimestampLatestTiered:
		return 9, true
	}
	return 0, false
}

func (s *Server) listOffsets(_ context.Context, r *Request, req *message.ListOffsetsRequest) (message.Response, error) {
	im := s.dataImage()
	isolation := replica.ReadUncommitted
	if r.Version >= 2 && req.IsolationLevel == 1 {
		isolation = replica.ReadCommitted
	}
	dups := duplicateListOffsetsPartitions(req)
	resp := message.NewListOffsetsResponse()
	resp.Topics = make([]message.ListOffsetsResponseListOffsetsTopicResponse, len(req.Topics))
	for ti := range req.Topics {
		t := &req.Topics[ti]
		out := &resp.Topics[ti]
		out.Name = t.Name
		out.Partitions = make([]message.ListOffsetsResponseListOffsetsPartitionResponse, len(t.Partitions))
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			po := &out.Partitions[pi]
			po.Default()
			po.PartitionIndex = p.PartitionIndex
			tp := replica.TopicPartition{Topic: t.Name, Partition: p.PartitionIndex}
			if dups != nil && dups[tp] {
				po.ErrorCode = kerr.InvalidRequest.Code
				continue
			}
			res, err := s.listOffsetsPartition(im, r.Version, req.ReplicaId, isolation, tp, p)
			if err != nil {
				po.ErrorCode = r.ErrorCode(err)
				if po.ErrorCode == kerr.OffsetNotAvailable.Code && r.Version < 5 {
					po.ErrorCode = kerr.LeaderNotAvailable.Code
				}
				continue
			}
			switch {
			case r.Version == 0:
				if res.Offset >= 0 && p.MaxNumOffsets > 0 {
					po.OldStyleOffsets = []int64{res.Offset}
				}
			default:
				po.Timestamp, po.Offset = res.Timestamp, res.Offset
				if r.Version >= 4 {
					po.LeaderEpoch = res.LeaderEpoch
				}
			}
		}
	}
	return resp, nil
}

// listOffsetsPartition answers one partition.
func (s *Server) listOffsetsPartition(im *metadata.Image, version int16, replicaID int32, isolation replica.IsolationLevel,
	tp replica.TopicPartition, p *message.ListOffsetsRequestListOffsetsPartition) (replica.OffsetResult, error) {
	if p.Timestamp < 0 {
		minVersion, known := listOffsetsMinVersion(p.Timestamp)
		if !known || version < minVersion {
			return replica.OffsetResult{}, fmt.Errorf("%w: timestamp %d needs a newer ListOffsets version than %d", kerr.UnsupportedVersion, p.Timestamp, version)
		}
	}
	part, err := s.hostedPartition(im, tp)
	if err != nil {
		return replica.OffsetResult{}, err
	}
	epoch := int32(-1)
	if version >= 4 {
		epoch = p.CurrentLeaderEpoch
	}
	return part.ListOffsets(replica.ListOffsetsOptions{
		Timestamp: p.Timestamp, Isolation: isolation, CurrentLeaderEpoch: epoch, ReplicaID: replicaID,
	})
}

// duplicateListOffsetsPartitions returns the partitions named more than once, or nil.
func duplicateListOffsetsPartitions(req *message.ListOffsetsRequest) map[replica.TopicPartition]bool {
	n := 0
	for i := range req.Topics {
		n += len(req.Topics[i].Partitions)
	}
	if n < 2 {
		return nil
	}
	seen := make(map[replica.TopicPartition]bool, n)
	var dups map[replica.TopicPartition]bool
	for i := range req.Topics {
		for _, p := range req.Topics[i].Partitions {
			tp := replica.TopicPartition{Topic: req.Topics[i].Name, Partition: p.PartitionIndex}
			if seen[tp] {
				if dups == nil {
					dups = map[replica.TopicPartition]bool{}
				}
				dups[tp] = true
			}
			seen[tp] = true
		}
	}
	return dups
}

func listOffsetsErrorResponse(r *Request, code int16) message.Response {
	req, _ := r.Body.(*message.ListOffsetsRequest)
	resp := message.NewListOffsetsResponse()
	if req == nil {
		return resp
	}
	for _, t := range req.Topics {
		out := message.ListOffsetsResponseListOffsetsTopicResponse{Name: t.Name}
		for _, p := range t.Partitions {
			var po message.ListOffsetsResponseListOffsetsPartitionResponse
			po.Default()
			po.PartitionIndex, po.ErrorCode = p.PartitionIndex, code
			out.Partitions = append(out.Partitions, po)
		}
		resp.Topics = append(resp.Topics, out)
	}
	return resp
}
