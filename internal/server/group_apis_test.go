package server_test

import (
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/sluicehq/sluice/internal/node/nodetest"
)

// FindCoordinator at every version: group keys name this broker (creating
// __consumer_offsets, which Metadata then lists as internal with its 50 partitions),
// transaction keys are INVALID_REQUEST (final) until transactions exist, share keys and
// unknown key types INVALID_REQUEST; up to v3 an error carries node -1, host "", port -1.
func TestGroupFindCoordinator(t *testing.T) {
	c := nodetest.Start(t)
	cl := c.Client(t)
	ctx := kgoCtx(t)
	port := int32(c.Port("PLAINTEXT"))
	// A client pinned to a FindCoordinator version (kgo otherwise sends the highest).
	pinned := func(v int16) *kgo.Client {
		vs := kversion.Stable()
		vs.SetMaxKeyVersion(10, v)
		return c.Client(t, kgo.MaxVersions(vs))
	}
	for v := int16(0); v <= 6; v++ {
		cl := pinned(v)
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.Version = v
		req.CoordinatorKey = "group-" + strconv.Itoa(int(v))
		req.CoordinatorKeys = []string{req.CoordinatorKey, "another"}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		if v < 4 {
			if resp.ErrorCode != 0 || resp.NodeID != 1 || resp.Port != port {
				t.Fatalf("v%d: %+v", v, resp)
			}
			continue
		}
		if len(resp.Coordinators) != 2 {
			t.Fatalf("v%d: %d coordinators", v, len(resp.Coordinators))
		}
		for _, co := range resp.Coordinators {
			if co.ErrorCode != 0 || co.NodeID != 1 || co.Port != port {
				t.Fatalf("v%d: %+v", v, co)
			}
		}
	}
	tests := []struct {
		version int16
		keyType int8
		want    *kerr.Error
	}{
		{3, 1, kerr.InvalidRequest},
		{6, 1, kerr.InvalidRequest},
		{5, 2, kerr.InvalidRequest},
		{6, 2, kerr.InvalidRequest},
		{6, 9, kerr.InvalidRequest},
	}
	for _, tt := range tests {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorType = tt.keyType
		req.CoordinatorKey, req.CoordinatorKeys = "k", []string{"k"}
		resp, err := req.RequestWith(ctx, pinned(tt.version))
		if err != nil {
			t.Fatalf("v%d type %d: %v", tt.version, tt.keyType, err)
		}
		code, node, port := resp.ErrorCode, resp.NodeID, resp.Port
		if tt.version >= 4 {
			code, node, port = resp.Coordinators[0].ErrorCode, resp.Coordinators[0].NodeID, resp.Coordinators[0].Port
		}
		if code != tt.want.Code || node != -1 || port != -1 {
			t.Fatalf("v%d type %d: code %d node %d port %d, want %v", tt.version, tt.keyType, code, node, port, tt.want)
		}
	}
	md := kmsg.NewPtrMetadataRequest()
	md.Topics = nil
	mresp, err := md.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tp := range mresp.Topics {
		if tp.Topic != nil && *tp.Topic == "__consumer_offsets" {
			found = true
			if !tp.IsInternal || len(tp.Partitions) != 50 {
				t.Fatalf("__consumer_offsets: internal %v, %d partitions", tp.IsInternal, len(tp.Partitions))
			}
		}
	}
	if !found {
		t.Fatal("__consumer_offsets is not listed")
	}
}

// OffsetCommit and OffsetDelete answer UNKNOWN_TOPIC_OR_PARTITION for topics and
// partitions the metadata does not know, next to the results of the others; DescribeGroups
// reports authorized operations when asked.
func TestGroupUnknownTopicsAndDescribe(t *testing.T) {
	c := nodetest.Start(t)
	createTopic(t, c.Admin(t), "known", 2, nil)
	cl := c.Client(t, kgo.ConsumerGroup("g"))
	ctx := kgoCtx(t)
	commit := kmsg.NewPtrOffsetCommitRequest()
	commit.Group, commit.Generation = "g", -1
	for _, tp := range []struct {
		topic string
		part  int32
	}{{"known", 0}, {"known", 7}, {"missing", 0}} {
		topic := kmsg.NewOffsetCommitRequestTopic()
		topic.Topic = tp.topic
		p := kmsg.NewOffsetCommitRequestTopicPartition()
		p.Partition, p.Offset = tp.part, 5
		topic.Partitions = append(topic.Partitions, p)
		commit.Topics = append(commit.Topics, topic)
	}
	resp, err := commit.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int16{}
	for _, tp := range resp.Topics {
		for _, p := range tp.Partitions {
			got[tp.Topic+"-"+strconv.Itoa(int(p.Partition))] = p.ErrorCode
		}
	}
	want := map[string]int16{"known-0": 0, "known-7": kerr.UnknownTopicOrPartition.Code, "missing-0": kerr.UnknownTopicOrPartition.Code}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("commit results %v, want %v", got, want)
		}
	}

	del := kmsg.NewPtrOffsetDeleteRequest()
	del.Group = "g"
	for _, name := range []string{"known", "missing"} {
		topic := kmsg.NewOffsetDeleteRequestTopic()
		topic.Topic = name
		p := kmsg.NewOffsetDeleteRequestTopicPartition()
		topic.Partitions = append(topic.Partitions, p)
		del.Topics = append(del.Topics, topic)
	}
	dresp, err := del.RequestWith(ctx, cl)
	if err != nil || dresp.ErrorCode != 0 || len(dresp.Topics) != 2 {
		t.Fatalf("offset delete: %+v %v", dresp, err)
	}
	for _, tp := range dresp.Topics {
		wantCode := int16(0)
		if tp.Topic == "missing" {
			wantCode = kerr.UnknownTopicOrPartition.Code
		}
		if tp.Partitions[0].ErrorCode != wantCode {
			t.Fatalf("offset delete %s: %d", tp.Topic, tp.Partitions[0].ErrorCode)
		}
	}

	desc := kmsg.NewPtrDescribeGroupsRequest()
	desc.Groups = []string{"g", "nobody"}
	desc.IncludeAuthorizedOperations = true
	gresp, err := desc.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gresp.Groups {
		wantState := map[string]string{"g": "Empty", "nobody": "Dead"}[g.Group]
		if g.ErrorCode != 0 || g.State != wantState || g.AuthorizedOperations != 1<<3|1<<6|1<<8|1<<10|1<<11 {
			t.Fatalf("describe %s: %+v", g.Group, g)
		}
	}
}
