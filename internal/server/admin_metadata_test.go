package server

import (
	"context"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/controller"
)

func adminTopicNames(resp *kmsg.MetadataResponse) []string {
	var out []string
	for _, t := range resp.Topics {
		out = append(out, adminMsg(t.Topic))
	}
	slices.Sort(out)
	return out
}

// TestAdminMetadataVersions walks every version with kmsg as the oracle: what "all topics"
// means, and which fields each version carries.
func TestAdminMetadataVersions(t *testing.T) {
	c := startAdminCluster(t, nil)
	c.createTopic("one", 2, 1, nil)
	c.createTopic("two", 1, 1, nil)
	id := adminTopicID(t, c, "one")

	for v := int16(0); v <= 12; v++ {
		// An empty list: every topic at v0, none after.
		req := kmsg.NewPtrMetadataRequest()
		req.Topics = []kmsg.MetadataRequestTopic{}
		resp := c.kmsgRequest(v, req).(*kmsg.MetadataResponse)
		want := []string(nil)
		if v == 0 {
			want = []string{"one", "two"}
		}
		if got := adminTopicNames(resp); !slices.Equal(got, want) {
			t.Errorf("v%d empty list: topics %v, want %v", v, got, want)
		}
		if len(resp.Brokers) != 1 || resp.Brokers[0].NodeID != 1 || resp.Brokers[0].Host != "127.0.0.1" {
			t.Errorf("v%d brokers %+v", v, resp.Brokers)
		}
		if v >= 1 && (resp.ControllerID != 1 || adminMsg(resp.Brokers[0].Rack) != "rack-a") {
			t.Errorf("v%d controller %d rack %s", v, resp.ControllerID, adminMsg(resp.Brokers[0].Rack))
		}
		if v >= 2 && adminMsg(resp.ClusterID) != "admin-test-cluster" {
			t.Errorf("v%d cluster id %s", v, adminMsg(resp.ClusterID))
		}
		if v == 0 {
			continue
		}

		// Null: every topic.
		req.Topics = nil
		resp = c.kmsgRequest(v, req).(*kmsg.MetadataResponse)
		if got := adminTopicNames(resp); !slices.Equal(got, []string{"one", "two"}) {
			t.Errorf("v%d null list: %v", v, got)
		}
		for _, tp := range resp.Topics {
			if adminMsg(tp.Topic) != "one" {
				continue
			}
			if v >= 10 && tp.TopicID != id {
				t.Errorf("v%d: topic id %x", v, tp.TopicID)
			}
			if len(tp.Partitions) != 2 {
				t.Fatalf("v%d: %+v", v, tp)
			}
			for _, p := range tp.Partitions {
				if p.ErrorCode != 0 || p.Leader != 1 || !slices.Equal(p.Replicas, []int32{1}) || !slices.Equal(p.ISR, []int32{1}) {
					t.Errorf("v%d partition %+v", v, p)
				}
				if v >= 7 && p.LeaderEpoch != 0 {
					t.Errorf("v%d leader epoch %d", v, p.LeaderEpoch)
				}
			}
			if v >= 8 && tp.AuthorizedOperations != authorizedOpsOmitted {
				t.Errorf("v%d authorized ops %d though not asked", v, tp.AuthorizedOperations)
			}
		}
	}

	// Authorized operations when asked: every operation (no authorizer).
	req := kmsg.NewPtrMetadataRequest()
	req.IncludeClusterAuthorizedOperations, req.IncludeTopicAuthorizedOperations = true, true
	req.Topics = []kmsg.MetadataRequestTopic{{Topic: adminStr("one")}}
	resp := c.kmsgRequest(10, req).(*kmsg.MetadataResponse)
	if resp.AuthorizedOperations != clusterAuthorizedOps || resp.Topics[0].AuthorizedOperations != topicAuthorizedOps {
		t.Errorf("authorized ops: cluster %b topic %b", resp.AuthorizedOperations, resp.Topics[0].AuthorizedOperations)
	}
	// KIP-430: bit 8 is DESCRIBE, which every describable topic allows.
	if resp.Topics[0].AuthorizedOperations&(1<<8) == 0 {
		t.Errorf("DESCRIBE not allowed")
	}
}

func TestAdminMetadataTopicIDs(t *testing.T) {
	c := startAdminCluster(t, nil)
	c.createTopic("one", 1, 1, nil)
	id := adminTopicID(t, c, "one")

	req := kmsg.NewPtrMetadataRequest()
	unknown := [16]byte{9}
	req.Topics = []kmsg.MetadataRequestTopic{{TopicID: id}, {TopicID: unknown}, {Topic: adminStr("ignored-when-ids-are-given")}}
	resp := c.kmsgRequest(12, req).(*kmsg.MetadataResponse)
	if len(resp.Topics) != 2 {
		t.Fatalf("%+v", resp.Topics)
	}
	for _, tp := range resp.Topics {
		switch tp.TopicID {
		case id:
			if adminMsg(tp.Topic) != "one" || tp.ErrorCode != 0 {
				t.Errorf("by id: %+v", tp)
			}
		case unknown:
			if tp.Topic != nil || tp.ErrorCode != kerr.UnknownTopicID.Code {
				t.Errorf("unknown id: %+v", tp)
			}
		default:
			t.Errorf("unexpected %+v", tp)
		}
	}
	// Ids below v12 are refused, every topic answered INVALID_REQUEST.
	req.Topics = []kmsg.MetadataRequestTopic{{TopicID: id, Topic: adminStr("one")}, {Topic: adminStr("two")}}
	resp = c.kmsgRequest(10, req).(*kmsg.MetadataResponse)
	if len(resp.Topics) != 2 || resp.Topics[0].ErrorCode != kerr.InvalidRequest.Code || resp.Topics[1].ErrorCode != kerr.InvalidRequest.Code {
		t.Errorf("v10 with ids: %+v", resp.Topics)
	}
}

func TestAdminMetadataAutoCreate(t *testing.T) {
	c := startAdminCluster(t, map[string]string{"num.partitions": "3"})

	// v4+ with allow_auto_topic_creation: created with num.partitions, answered
	// LEADER_NOT_AVAILABLE; the client's retry finds it.
	md := adminMetadata(t, c, 9, true, "auto")
	if len(md.Topics) != 1 || md.Topics[0].ErrorCode != kerr.LeaderNotAvailable.Code {
		t.Fatalf("auto-create: %+v", md.Topics)
	}
	md = adminMetadata(t, c, 9, false, "auto")
	if md.Topics[0].ErrorCode != 0 || len(md.Topics[0].Partitions) != 3 {
		t.Fatalf("after auto-create: %+v", md.Topics[0])
	}
	// v0–3 always allow it.
	if md := adminMetadata(t, c, 1, false, "old-client"); md.Topics[0].ErrorCode != kerr.LeaderNotAvailable.Code {
		t.Errorf("v1 auto-create: %+v", md.Topics[0])
	}
	for _, tc := range []struct {
		name, topic string
		allow       bool
		want        *kerr.Error
		internal    bool
	}{
		{"not allowed by the request", "no-auto", false, kerr.UnknownTopicOrPartition, false},
		{"invalid name", "bad name", true, kerr.InvalidTopicException, false},
		{"internal topic", "__consumer_offsets", true, kerr.UnknownTopicOrPartition, true},
		{"metadata topic", "__cluster_metadata", true, kerr.UnknownTopicOrPartition, false},
	} {
		md := adminMetadata(t, c, 12, tc.allow, tc.topic)
		if len(md.Topics) != 1 || md.Topics[0].ErrorCode != tc.want.Code || md.Topics[0].IsInternal != tc.internal {
			t.Errorf("%s: %+v", tc.name, md.Topics)
		}
	}
	if md := adminMetadata(t, c, 12, false, "no-auto", "__consumer_offsets"); md.Topics[0].ErrorCode == 0 || md.Topics[1].ErrorCode == 0 {
		t.Errorf("a refused auto-creation created a topic: %+v", md.Topics)
	}

	// A replication factor the cluster cannot meet: the controller's refusal is the answer.
	c2 := startAdminCluster(t, map[string]string{"default.replication.factor": "3"})
	if md := adminMetadata(t, c2, 12, true, "unplaceable"); md.Topics[0].ErrorCode != kerr.InvalidReplicationFactor.Code {
		t.Errorf("rf 3 on one broker: %+v", md.Topics[0])
	}

	// auto.create.topics.enable=false.
	c3 := startAdminCluster(t, map[string]string{"auto.create.topics.enable": "false"})
	for _, v := range []int16{1, 12} {
		if md := adminMetadata(t, c3, v, true, "never"); md.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Errorf("v%d auto-create disabled: %+v", v, md.Topics[0])
		}
	}
}

// TestAdminMetadataReplicaStates checks how partitions look through one listener when
// replicas are elsewhere: brokers without the listener, fenced brokers.
func TestAdminMetadataReplicaStates(t *testing.T) {
	c := startAdminCluster(t, nil)
	c.addBroker(2, "PLAINTEXT", 1, "")
	c.addBroker(3, "OTHER", 1, "") // reachable only on a listener clients here do not use

	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 5000
	req.Topics = []kmsg.CreateTopicsRequestTopic{
		adminWithAssignment(adminWithAssignment(adminWithAssignment(adminNewTopic("spread", -1, -1), 0, 2, 1), 1, 3, 1), 2, 1, 3),
	}
	if r := c.kmsgRequest(7, req).(*kmsg.CreateTopicsResponse); r.Topics[0].ErrorCode != 0 {
		t.Fatalf("create: %+v", r.Topics[0])
	}
	type want struct {
		code          int16
		leader        int32
		replicas, isr []int32
		offline       []int32
	}
	check := func(v int16, wants map[int32]want) {
		t.Helper()
		md := adminMetadata(t, c, v, false, "spread")
		if len(md.Topics) != 1 {
			t.Fatalf("v%d: %+v", v, md.Topics)
		}
		for _, p := range md.Topics[0].Partitions {
			w := wants[p.Partition]
			if p.ErrorCode != w.code || p.Leader != w.leader || !slices.Equal(p.Replicas, w.replicas) || !slices.Equal(p.ISR, w.isr) {
				t.Errorf("v%d p%d: code %d leader %d replicas %v isr %v; want %+v", v, p.Partition, p.ErrorCode, p.Leader, p.Replicas, p.ISR, w)
			}
			if v >= 5 && !slices.Equal(p.OfflineReplicas, w.offline) {
				t.Errorf("v%d p%d offline %v, want %v", v, p.Partition, p.OfflineReplicas, w.offline)
			}
		}
		var ids []int32
		for _, b := range md.Brokers {
			ids = append(ids, b.NodeID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []int32{1, 2}) {
			t.Errorf("v%d brokers %v: broker 3 has no PLAINTEXT endpoint", v, ids)
		}
	}
	check(12, map[int32]want{
		0: {0, 2, []int32{2, 1}, []int32{2, 1}, []int32{}},
		1: {kerr.ListenerNotFound.Code, -1, []int32{3, 1}, []int32{3, 1}, []int32{3}},
		2: {0, 1, []int32{1, 3}, []int32{1, 3}, []int32{3}},
	})
	check(5, map[int32]want{
		0: {0, 2, []int32{2, 1}, []int32{2, 1}, []int32{}},
		1: {kerr.LeaderNotAvailable.Code, -1, []int32{3, 1}, []int32{3, 1}, []int32{3}},
		2: {0, 1, []int32{1, 3}, []int32{1, 3}, []int32{3}},
	})
	// v0 lists only reachable replicas and says when it left some out.
	check(0, map[int32]want{
		0: {0, 2, []int32{2, 1}, []int32{2, 1}, nil},
		1: {kerr.LeaderNotAvailable.Code, -1, []int32{1}, []int32{1}, nil},
		2: {kerr.ReplicaNotAvailable.Code, 1, []int32{1}, []int32{1}, nil},
	})

	// Fencing broker 2 moves its leadership to broker 1 and makes it offline.
	ctx := context.Background()
	b2, _ := c.fsm.Current().Broker(2)
	res, err := c.ctl.BrokerHeartbeat(ctx, controller.Heartbeat{BrokerID: 2, BrokerEpoch: b2.Epoch, MetadataOffset: int64(c.fsm.Current().Offset), WantFence: true})
	if err != nil || !res.IsFenced {
		t.Fatalf("fence: %+v %v", res, err)
	}
	if _, err := c.fsm.WaitForOffset(ctx, res.Offset); err != nil {
		t.Fatal(err)
	}
	md := adminMetadata(t, c, 12, false, "spread")
	p0 := md.Topics[0].Partitions[0]
	if p0.Leader != 1 || !slices.Equal(p0.OfflineReplicas, []int32{2}) || p0.LeaderEpoch != 1 {
		t.Errorf("after fencing 2: %+v", p0)
	}
	for _, b := range md.Brokers {
		if b.NodeID == 2 {
			t.Errorf("fenced broker listed")
		}
	}
}
