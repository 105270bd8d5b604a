package group

import (
	"context"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// groupAPIs are the keys and versions the coordinator serves.
var groupAPIs = []struct{ key, max int16 }{
	{message.KeyOffsetCommit, 9}, {message.KeyOffsetFetch, 9}, {message.KeyJoinGroup, 9},
	{message.KeyHeartbeat, 4}, {message.KeyLeaveGroup, 5}, {message.KeySyncGroup, 5},
	{message.KeyDescribeGroups, 5}, {message.KeyListGroups, 5}, {message.KeyDeleteGroups, 2},
	{message.KeyOffsetDelete, 0}, {message.KeyConsumerGroupHeartbeat, 1}, {message.KeyConsumerGroupDescribe, 0},
}

// call runs one request through the coordinator method of its API.
func call(ctx context.Context, c *Coordinator, r Request, req message.Request) (message.Response, error) {
	switch req := req.(type) {
	case *message.OffsetCommitRequest:
		return c.OffsetCommit(ctx, r, req)
	case *message.OffsetFetchRequest:
		return c.OffsetFetch(ctx, r, req)
	case *message.JoinGroupRequest:
		return c.JoinGroup(ctx, r, req)
	case *message.HeartbeatRequest:
		return c.Heartbeat(ctx, r, req)
	case *message.LeaveGroupRequest:
		return c.LeaveGroup(ctx, r, req)
	case *message.SyncGroupRequest:
		return c.SyncGroup(ctx, r, req)
	case *message.DescribeGroupsRequest:
		return c.DescribeGroups(ctx, r, req)
	case *message.ListGroupsRequest:
		return c.ListGroups(ctx, r, req)
	case *message.DeleteGroupsRequest:
		return c.DeleteGroups(ctx, r, req)
	case *message.OffsetDeleteRequest:
		return c.OffsetDelete(ctx, r, req)
	case *message.ConsumerGroupHeartbeatRequest:
		return c.ConsumerGroupHeartbeat(ctx, r, req)
	case *message.ConsumerGroupDescribeRequest:
		return c.ConsumerGroupDescribe(ctx, r, req)
	}
	return nil, nil
}

// FuzzGroupRequests decodes fuzzed bodies as every group API at every version and runs them
// on a live coordinator: whatever a client sends is answered (or the request's context
// ends, for a JoinGroup parked in a rebalance), never a panic, and every answer encodes at
// the request's version.
func FuzzGroupRequests(f *testing.F) {
	for _, api := range groupAPIs {
		for v := int16(0); v <= api.max; v++ {
			req := message.NewRequest(api.key)
			seedRequest(req)
			w := wire.NewWriter(nil)
			if err := req.Encode(w, v); err == nil {
				f.Add(int(api.key), int(v), append([]byte(nil), w.Buffer()...))
			}
		}
	}
	e := newEnv(f, func(c *Config) { c.NewMemberJoinTimeout = time.Second })
	e.c.SetTopics(context.Background(), []TopicInfo{{ID: [16]byte{1}, Name: "t", Partitions: 3}, {ID: [16]byte{2}, Name: "t2", Partitions: 1}})
	f.Fuzz(func(t *testing.T, key, version int, body []byte) {
		var max int16 = -1
		for _, api := range groupAPIs {
			if int(api.key) == key {
				max = api.max
			}
		}
		if version < 0 || int16(version) > max {
			return
		}
		req := message.NewRequest(int16(key))
		rd := wire.NewReader(body)
		if err := req.Decode(&rd, int16(version)); err != nil || rd.Complete() != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		resp, err := call(ctx, e.c, Request{Version: int16(version), ClientID: "fuzz"}, req)
		if err != nil {
			if ctx.Err() == nil {
				t.Fatalf("key %d v%d: %v", key, version, err)
			}
			return
		}
		w := wire.NewWriter(nil)
		if err := message.EncodeResponse(w, 1, int16(version), resp); err != nil {
			t.Fatalf("key %d v%d: response does not encode: %v (%+v)", key, version, err, resp)
		}
	})
}

// seedRequest fills a request with plausible values, so that seeds reach past validation.
func seedRequest(req message.Request) {
	switch r := req.(type) {
	case *message.JoinGroupRequest:
		r.GroupId, r.SessionTimeoutMs, r.RebalanceTimeoutMs, r.ProtocolType = "fz", 10000, 100, "consumer"
		r.Protocols = []message.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0, 0, 0, 0, 0, 1, 0, 1, 't'}}}
	case *message.SyncGroupRequest:
		r.GroupId, r.GenerationId, r.MemberId = "fz", 1, "m"
		r.ProtocolType, r.ProtocolName = ptr("consumer"), ptr("range")
		r.Assignments = []message.SyncGroupRequestAssignment{{MemberId: "m", Assignment: []byte{1}}}
	case *message.HeartbeatRequest:
		r.GroupId, r.GenerationId, r.MemberId = "fz", 1, "m"
	case *message.LeaveGroupRequest:
		r.GroupId, r.MemberId = "fz", "m"
		r.Members = []message.LeaveGroupRequestMemberIdentity{{MemberId: "m"}}
	case *message.OffsetCommitRequest:
		r.GroupId, r.GenerationIdOrMemberEpoch = "fz", -1
		r.Topics = []message.OffsetCommitRequestTopic{{Name: "t", Partitions: []message.OffsetCommitRequestPartition{{CommittedOffset: 3, CommittedMetadata: ptr("x")}}}}
	case *message.OffsetFetchRequest:
		r.GroupId = "fz"
		r.Topics = []message.OffsetFetchRequestTopic{{Name: "t", PartitionIndexes: []int32{0}}}
		r.Groups = []message.OffsetFetchRequestGroup{{GroupId: "fz", Topics: []message.OffsetFetchRequestTopics{{Name: "t", PartitionIndexes: []int32{0}}}}}
	case *message.DescribeGroupsRequest:
		r.Groups = []string{"fz", "other"}
	case *message.ListGroupsRequest:
		r.StatesFilter, r.TypesFilter = []string{"Stable"}, []string{"classic"}
	case *message.DeleteGroupsRequest:
		r.GroupsNames = []string{"fz"}
	case *message.OffsetDeleteRequest:
		r.GroupId = "fz"
		r.Topics = []message.OffsetDeleteRequestTopic{{Name: "t", Partitions: []message.OffsetDeleteRequestPartition{{PartitionIndex: 0}}}}
	case *message.ConsumerGroupHeartbeatRequest:
		r.GroupId, r.MemberId, r.MemberEpoch, r.RebalanceTimeoutMs = "fz848", "m", 0, 1000
		r.SubscribedTopicNames = []string{"t"}
		r.SubscribedTopicRegex = ptr("t.*")
		r.TopicPartitions = []message.ConsumerGroupHeartbeatRequestTopicPartitions{}
	case *message.ConsumerGroupDescribeRequest:
		r.GroupIds = []string{"fz848", "fz"}
	}
}
