package server

import (
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func adminStr(s string) *string { return &s }

func TestAdminTopicLifecycle(t *testing.T) {
	c := startAdminCluster(t, nil)
	ctx := c.ctx()

	created := c.createTopic("orders", 3, 1, map[string]*string{"retention.ms": adminStr("3600000")})
	if created.ID == (kadm.TopicID{}) || created.NumPartitions != 3 || created.ReplicationFactor != 1 {
		t.Fatalf("create answered %+v", created)
	}
	if cfg, ok := created.Configs["retention.ms"]; !ok || cfg.MaybeValue() != "3600000" || cfg.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Errorf("create's retention.ms: %+v", cfg)
	}
	if cfg := created.Configs["segment.bytes"]; cfg.MaybeValue() != "1073741824" || cfg.Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("create's segment.bytes: %+v", cfg)
	}

	// The broker's own metadata has the topic as soon as CreateTopics answered.
	topics, err := c.adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	td, ok := topics["orders"]
	if !ok || td.Err != nil || len(td.Partitions) != 3 || td.ID != created.ID || td.IsInternal {
		t.Fatalf("listed %+v", td)
	}
	for _, p := range td.Partitions.Sorted() {
		if p.Leader != 1 || !slices.Equal(p.Replicas, []int32{1}) || !slices.Equal(p.ISR, []int32{1}) || p.Err != nil {
			t.Errorf("partition %+v", p)
		}
	}

	rcs, err := c.adm.DescribeTopicConfigs(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On("orders", nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe: %v %+v", err, rc)
	}
	found := false
	for _, cf := range rc.Configs {
		if cf.Key == "retention.ms" {
			found = true
			if cf.MaybeValue() != "3600000" || cf.Source != kmsg.ConfigSourceDynamicTopicConfig {
				t.Errorf("retention.ms %+v", cf)
			}
		}
	}
	if !found {
		t.Errorf("retention.ms not described")
	}

	// Delete by name; the topic is gone from this broker's metadata when the answer comes.
	dr, err := c.adm.DeleteTopics(ctx, "orders")
	if err != nil || dr["orders"].Err != nil {
		t.Fatalf("delete: %v %+v", err, dr)
	}
	md := adminMetadata(t, c, 12, false, "orders")
	if len(md.Topics) != 1 || md.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("metadata after delete: %+v", md.Topics)
	}
	all := kmsg.NewPtrMetadataRequest()
	all.Topics = nil
	for _, tp := range c.kmsgRequest(12, all).(*kmsg.MetadataResponse).Topics {
		if *tp.Topic == "orders" {
			t.Errorf("deleted topic still listed")
		}
	}
}

func TestAdminCreateTopicsErrors(t *testing.T) {
	c := startAdminCluster(t, nil)
	c.createTopic("taken", 1, 1, nil)
	c.createTopic("a.b", 1, 1, nil)

	// Validate-only creates nothing and still reports what it would create.
	val, err := c.adm.ValidateCreateTopics(c.ctx(), 2, 1, nil, "dry")
	if err != nil || val["dry"].Err != nil || val["dry"].NumPartitions != 2 {
		t.Fatalf("validate-only: %v %+v", err, val)
	}
	if md := adminMetadata(t, c, 12, false, "dry"); md.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("validate-only created the topic: %+v", md.Topics[0])
	}

	tests := []struct {
		name    string
		topic   kmsg.CreateTopicsRequestTopic
		want    *kerr.Error
		message string
	}{
		{"bad name", adminNewTopic("bad/name", 1, 1), kerr.InvalidTopicException, "illegal"},
		{"too long", adminNewTopic(strings.Repeat("x", 250), 1, 1), kerr.InvalidTopicException, "249"},
		{"dot", adminNewTopic(".", 1, 1), kerr.InvalidTopicException, ""},
		{"exists", adminNewTopic("taken", 1, 1), kerr.TopicAlreadyExists, "already exists"},
		{"collision", adminNewTopic("a_b", 1, 1), kerr.InvalidTopicException, "collides"},
		{"rf too large", adminNewTopic("big", 1, 3), kerr.InvalidReplicationFactor, "only 1 broker"},
		{"rf zero", adminNewTopic("rf0", 1, 0), kerr.InvalidReplicationFactor, ""},
		{"partitions zero", adminNewTopic("p0", 0, 1), kerr.InvalidPartitions, ""},
		{"unknown config", adminWithConfig(adminNewTopic("cfg1", 1, 1), "no.such.config", adminStr("1")), kerr.InvalidConfig, "no.such.config"},
		{"bad config value", adminWithConfig(adminNewTopic("cfg2", 1, 1), "retention.ms", adminStr("soon")), kerr.InvalidConfig, "retention.ms"},
		{"null config value", adminWithConfig(adminNewTopic("cfg3", 1, 1), "retention.ms", nil), kerr.InvalidConfig, "Null value"},
		{"metadata topic", adminNewTopic("__cluster_metadata", 1, 1), kerr.InvalidRequest, "prohibited"},
		{"assignment with counts", adminWithAssignment(adminNewTopic("as1", 1, 1), 0, 1), kerr.InvalidRequest, ""},
		{"assignment twice", adminWithAssignment(adminWithAssignment(adminNewTopic("as2", -1, -1), 0, 1), 0, 1), kerr.InvalidReplicaAssignment, "multiple"},
		{"assignment gap", adminWithAssignment(adminNewTopic("as3", -1, -1), 1, 1), kerr.InvalidReplicaAssignment, ""},
		{"assignment unknown broker", adminWithAssignment(adminNewTopic("as4", -1, -1), 0, 9), kerr.InvalidReplicaAssignment, "9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := kmsg.NewPtrCreateTopicsRequest()
			req.TimeoutMillis = 5000
			req.Topics = []kmsg.CreateTopicsRequestTopic{tt.topic}
			resp := c.kmsgRequest(7, req).(*kmsg.CreateTopicsResponse)
			if len(resp.Topics) != 1 {
				t.Fatalf("%d results", len(resp.Topics))
			}
			r := resp.Topics[0]
			if r.ErrorCode != tt.want.Code {
				t.Fatalf("code %d (%v), want %s; message %v", r.ErrorCode, kerr.ErrorForCode(r.ErrorCode), tt.want.Message, adminMsg(r.ErrorMessage))
			}
			if r.ErrorMessage == nil || !strings.Contains(*r.ErrorMessage, tt.message) {
				t.Errorf("message %q lacks %q", adminMsg(r.ErrorMessage), tt.message)
			}
			if r.NumPartitions != -1 || r.ReplicationFactor != -1 || r.TopicID != [16]byte{} {
				t.Errorf("a failed topic carries %d/%d/%x", r.NumPartitions, r.ReplicationFactor, r.TopicID)
			}
		})
	}
}

func TestAdminCreateTopicsDuplicatesAndAssignments(t *testing.T) {
	c := startAdminCluster(t, nil)
	// Broker 2 exists (registered, no server) so that explicit two-replica assignments work.
	c.addBroker(2, "PLAINTEXT", 1, "rack-b")

	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 5000
	req.Topics = []kmsg.CreateTopicsRequestTopic{
		adminNewTopic("dup", 1, 1),
		adminWithAssignment(adminWithAssignment(adminNewTopic("manual", -1, -1), 0, 2, 1), 1, 1, 2),
		adminNewTopic("dup", 2, 1),
		adminNewTopic("dup", 3, 1),
		adminNewTopic("defaults", -1, -1),
	}
	resp := c.kmsgRequest(7, req).(*kmsg.CreateTopicsResponse)
	got := map[string][]int16{}
	for _, r := range resp.Topics {
		got[r.Topic] = append(got[r.Topic], r.ErrorCode)
	}
	if len(resp.Topics) != 3 || !slices.Equal(got["dup"], []int16{kerr.InvalidRequest.Code}) ||
		!slices.Equal(got["manual"], []int16{0}) || !slices.Equal(got["defaults"], []int16{0}) {
		t.Fatalf("results %+v", resp.Topics)
	}
	if last := resp.Topics[len(resp.Topics)-1]; last.Topic != "dup" || adminMsg(last.ErrorMessage) != "Duplicate topic name." {
		t.Errorf("duplicate answered as %+v", last)
	}
	for _, r := range resp.Topics {
		if r.Topic == "defaults" && (r.NumPartitions != 1 || r.ReplicationFactor != 1) {
			t.Errorf("defaults: %d partitions, rf %d (num.partitions=1, default.replication.factor=1)", r.NumPartitions, r.ReplicationFactor)
		}
	}
	md := adminMetadata(t, c, 12, false, "manual", "dup")
	for _, tp := range md.Topics {
		switch *tp.Topic {
		case "dup":
			if tp.ErrorCode != kerr.UnknownTopicOrPartition.Code {
				t.Errorf("a duplicated name was created")
			}
		case "manual":
			if len(tp.Partitions) != 2 {
				t.Fatalf("manual: %+v", tp)
			}
			for _, p := range tp.Partitions {
				want := []int32{2, 1}
				if p.Partition == 1 {
					want = []int32{1, 2}
				}
				if !slices.Equal(p.Replicas, want) || p.Leader != want[0] {
					t.Errorf("partition %d replicas %v leader %d, want %v", p.Partition, p.Replicas, p.Leader, want)
				}
			}
		}
	}
}

func TestAdminDeleteTopics(t *testing.T) {
	c := startAdminCluster(t, nil)
	byID := c.createTopic("by-id", 1, 1, nil)
	c.createTopic("by-name", 1, 1, nil)
	c.createTopic("clash", 1, 1, nil)
	clashID := adminTopicID(t, c, "clash")

	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TimeoutMillis = 5000
	unknownID := [16]byte{1, 2, 3}
	req.Topics = []kmsg.DeleteTopicsRequestTopic{
		{TopicID: byID.ID},
		{Topic: adminStr("by-name")},
		{Topic: adminStr("missing")},
		{TopicID: unknownID},
		{Topic: adminStr("both"), TopicID: unknownID},
		{},
		{Topic: adminStr("twice")}, {Topic: adminStr("twice")},
		{Topic: adminStr("clash")}, {TopicID: clashID},
	}
	resp := c.kmsgRequest(6, req).(*kmsg.DeleteTopicsResponse)
	type res struct {
		name string
		code int16
	}
	var got []res
	for _, r := range resp.Topics {
		name := "<null>"
		if r.Topic != nil {
			name = *r.Topic
		}
		got = append(got, res{name, r.ErrorCode})
		if r.ErrorCode != 0 && r.ErrorMessage == nil {
			t.Errorf("%s: error %d without a message", name, r.ErrorCode)
		}
	}
	want := []res{
		{"by-id", 0},
		{"by-name", 0},
		{"missing", kerr.UnknownTopicOrPartition.Code},
		{"<null>", kerr.UnknownTopicID.Code},
		{"both", kerr.InvalidRequest.Code},
		{"<null>", kerr.InvalidRequest.Code},
		{"twice", kerr.InvalidRequest.Code},
		{"clash", kerr.InvalidRequest.Code},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("results\n got %v\nwant %v", got, want)
	}
	if resp.Topics[0].TopicID != byID.ID {
		t.Errorf("by-id answered with id %x", resp.Topics[0].TopicID)
	}
	md := adminMetadata(t, c, 12, false, "by-id", "by-name", "clash")
	for _, tp := range md.Topics {
		wantCode := kerr.UnknownTopicOrPartition.Code
		if *tp.Topic == "clash" {
			wantCode = 0 // neither the name nor the id was deleted
		}
		if tp.ErrorCode != wantCode {
			t.Errorf("%s after delete: code %d", *tp.Topic, tp.ErrorCode)
		}
	}

	// Old versions name topics only.
	old := kmsg.NewPtrDeleteTopicsRequest()
	old.TopicNames = []string{"clash", "nope"}
	oldResp := c.kmsgRequest(1, old).(*kmsg.DeleteTopicsResponse)
	if len(oldResp.Topics) != 2 || oldResp.Topics[0].ErrorCode != 0 || oldResp.Topics[1].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("v1: %+v", oldResp.Topics)
	}
}

func TestAdminDeleteTopicsDisabled(t *testing.T) {
	c := startAdminCluster(t, map[string]string{"delete.topic.enable": "false"})
	c.createTopic("keep", 1, 1, nil)
	for _, tc := range []struct {
		version int16
		want    *kerr.Error
	}{{2, kerr.InvalidRequest}, {5, kerr.TopicDeletionDisabled}} {
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.TopicNames = []string{"keep"}
		resp := c.kmsgRequest(tc.version, req).(*kmsg.DeleteTopicsResponse)
		if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != tc.want.Code {
			t.Errorf("v%d: %+v, want %s", tc.version, resp.Topics, tc.want.Message)
		}
	}
}

func TestAdminCreatePartitions(t *testing.T) {
	c := startAdminCluster(t, nil)
	ctx := c.ctx()
	c.createTopic("grow", 2, 1, nil)

	val, err := c.adm.ValidateCreatePartitions(ctx, 5, "grow")
	if err != nil || val["grow"].Err != nil {
		t.Fatalf("validate: %v %+v", err, val)
	}
	if n := len(adminMetadata(t, c, 12, false, "grow").Topics[0].Partitions); n != 2 {
		t.Fatalf("validate-only added partitions: %d", n)
	}
	res, err := c.adm.CreatePartitions(ctx, 3, "grow")
	if err != nil || res["grow"].Err != nil {
		t.Fatalf("create partitions: %v %+v", err, res)
	}
	if n := len(adminMetadata(t, c, 12, false, "grow").Topics[0].Partitions); n != 5 {
		t.Fatalf("after adding 3: %d partitions", n)
	}

	req := kmsg.NewPtrCreatePartitionsRequest()
	req.TimeoutMillis = 5000
	add := func(name string, count int32, assignments ...[]int32) {
		t := kmsg.NewCreatePartitionsRequestTopic()
		t.Topic, t.Count = name, count
		for _, a := range assignments {
			t.Assignment = append(t.Assignment, kmsg.CreatePartitionsRequestTopicAssignment{Replicas: a})
		}
		req.Topics = append(req.Topics, t)
	}
	c.createTopic("grow2", 1, 1, nil)
	add("grow", 4)    // a decrease
	add("missing", 3) // an unknown topic
	add("twice", 3)   // listed twice: answered once
	add("twice", 4)
	resp := c.kmsgRequest(3, req).(*kmsg.CreatePartitionsResponse)
	codes := map[string]int16{}
	for _, r := range resp.Topics {
		if _, seen := codes[r.Topic]; seen {
			t.Errorf("%s answered twice", r.Topic)
		}
		codes[r.Topic] = r.ErrorCode
		if r.ErrorCode != 0 && r.ErrorMessage == nil {
			t.Errorf("%s: no message", r.Topic)
		}
	}
	want := map[string]int16{
		"grow":    kerr.InvalidPartitions.Code,
		"missing": kerr.UnknownTopicOrPartition.Code,
		"twice":   kerr.InvalidRequest.Code,
	}
	for k, v := range want {
		if codes[k] != v {
			t.Errorf("%s: code %d, want %d", k, codes[k], v)
		}
	}

	// An explicit assignment for each new partition.
	one := kmsg.NewPtrCreatePartitionsRequest()
	one.TimeoutMillis = 5000
	tp := kmsg.NewCreatePartitionsRequestTopic()
	tp.Topic, tp.Count = "grow2", 3
	tp.Assignment = []kmsg.CreatePartitionsRequestTopicAssignment{{Replicas: []int32{1}}}
	one.Topics = []kmsg.CreatePartitionsRequestTopic{tp}
	r := c.kmsgRequest(0, one).(*kmsg.CreatePartitionsResponse)
	if r.Topics[0].ErrorCode != kerr.InvalidReplicaAssignment.Code {
		t.Errorf("one assignment for two partitions: %+v", r.Topics[0])
	}
	tp.Assignment = append(tp.Assignment, kmsg.CreatePartitionsRequestTopicAssignment{Replicas: []int32{1}})
	one.Topics = []kmsg.CreatePartitionsRequestTopic{tp}
	if r := c.kmsgRequest(0, one).(*kmsg.CreatePartitionsResponse); r.Topics[0].ErrorCode != 0 {
		t.Fatalf("explicit assignment: %+v", r.Topics[0])
	}
	if n := len(adminMetadata(t, c, 12, false, "grow2").Topics[0].Partitions); n != 3 {
		t.Errorf("grow2 has %d partitions", n)
	}
}

func TestAdminDescribeTopicPartitionsPaging(t *testing.T) {
	c := startAdminCluster(t, nil)
	c.createTopic("a", 3, 1, nil)
	c.createTopic("b", 2, 1, nil)
	c.createTopic("c", 1, 1, nil)

	type page struct {
		parts  []string
		cursor string
	}
	describe := func(limit int32, cursor *kmsg.DescribeTopicPartitionsRequestCursor, topics ...string) (*kmsg.DescribeTopicPartitionsResponse, page) {
		req := kmsg.NewPtrDescribeTopicPartitionsRequest()
		req.ResponsePartitionLimit = limit
		req.Cursor = cursor
		for _, name := range topics {
			rt := kmsg.NewDescribeTopicPartitionsRequestTopic()
			rt.Topic = name
			req.Topics = append(req.Topics, rt)
		}
		resp := c.kmsgRequest(0, req).(*kmsg.DescribeTopicPartitionsResponse)
		var p page
		for _, tp := range resp.Topics {
			if tp.ErrorCode != 0 {
				p.parts = append(p.parts, *tp.Topic+"!"+kerr.ErrorForCode(tp.ErrorCode).(*kerr.Error).Message)
				continue
			}
			if tp.AuthorizedOperations != topicAuthorizedOps {
				t.Errorf("%s: authorized ops %b", *tp.Topic, tp.AuthorizedOperations)
			}
			for _, pp := range tp.Partitions {
				p.parts = append(p.parts, *tp.Topic+string(rune('0'+pp.Partition)))
			}
		}
		if resp.NextCursor != nil {
			p.cursor = resp.NextCursor.Topic + string(rune('0'+resp.NextCursor.Partition))
		}
		return resp, p
	}
	next := func(resp *kmsg.DescribeTopicPartitionsResponse) *kmsg.DescribeTopicPartitionsRequestCursor {
		if resp.NextCursor == nil {
			return nil
		}
		return &kmsg.DescribeTopicPartitionsRequestCursor{Topic: resp.NextCursor.Topic, Partition: resp.NextCursor.Partition}
	}

	// All topics, two partitions a page.
	var pages []page
	var cursor *kmsg.DescribeTopicPartitionsRequestCursor
	for range 5 {
		resp, p := describe(2, cursor)
		pages = append(pages, p)
		if cursor = next(resp); cursor == nil {
			break
		}
	}
	want := []page{{[]string{"a0", "a1"}, "a2"}, {[]string{"a2", "b0"}, "b1"}, {[]string{"b1", "c0"}, ""}}
	if !slices.EqualFunc(pages, want, func(x, y page) bool { return slices.Equal(x.parts, y.parts) && x.cursor == y.cursor }) {
		t.Fatalf("pages %v, want %v", pages, want)
	}

	// A limit used up at a topic boundary points at the next topic's first partition.
	if _, p := describe(3, nil); !slices.Equal(p.parts, []string{"a0", "a1", "a2"}) || p.cursor != "b0" {
		t.Errorf("limit 3: %v", p)
	}
	// Named topics, sorted, unknown and invalid ones answered in place.
	if _, p := describe(100, nil, "c", "zz", "a", "bad/name"); !slices.Equal(p.parts,
		[]string{"a0", "a1", "a2", "bad/name!INVALID_TOPIC_EXCEPTION", "c0", "zz!UNKNOWN_TOPIC_OR_PARTITION"}) || p.cursor != "" {
		t.Errorf("named: %v", p)
	}
	// A cursor must name a requested topic.
	resp, _ := describe(10, &kmsg.DescribeTopicPartitionsRequestCursor{Topic: "b"}, "a", "c")
	if len(resp.Topics) != 2 || resp.Topics[0].ErrorCode != kerr.InvalidRequest.Code {
		t.Errorf("cursor outside the list: %+v", resp.Topics)
	}
	resp, _ = describe(10, &kmsg.DescribeTopicPartitionsRequestCursor{Topic: "a", Partition: -1})
	if len(resp.Topics) != 0 || resp.NextCursor != nil {
		// All topics: the error response lists no topics (there were none named).
		t.Errorf("negative cursor partition: %+v", resp)
	}
}

func TestAdminDescribeCluster(t *testing.T) {
	c := startAdminCluster(t, nil)
	for v := int16(0); v <= 1; v++ {
		req := kmsg.NewPtrDescribeClusterRequest()
		req.IncludeClusterAuthorizedOperations = v == 1
		resp := c.kmsgRequest(v, req).(*kmsg.DescribeClusterResponse)
		if resp.ErrorCode != 0 || resp.ClusterID != "admin-test-cluster" || resp.ControllerID != 1 || len(resp.Brokers) != 1 {
			t.Fatalf("v%d: %+v", v, resp)
		}
		b := resp.Brokers[0]
		if b.NodeID != 1 || b.Host != "127.0.0.1" || int(b.Port) != c.Addr("PLAINTEXT").(*net.TCPAddr).Port || b.Rack == nil || *b.Rack != "rack-a" {
			t.Errorf("v%d broker %+v", v, b)
		}
		wantOps := authorizedOpsOmitted
		if v == 1 {
			wantOps = clusterAuthorizedOps
		}
		if resp.ClusterAuthorizedOperations != wantOps {
			t.Errorf("v%d: authorized ops %d", v, resp.ClusterAuthorizedOperations)
		}
	}
	// Controllers are described on controller listeners only.
	req := kmsg.NewPtrDescribeClusterRequest()
	req.EndpointType = 2
	if resp := c.kmsgRequest(1, req).(*kmsg.DescribeClusterResponse); resp.ErrorCode != kerr.MismatchedEndpointType.Code || resp.ErrorMessage == nil {
		t.Errorf("controllers on a broker listener: %+v", resp)
	}
	req.EndpointType = 7
	if resp := c.kmsgRequest(1, req).(*kmsg.DescribeClusterResponse); resp.ErrorCode != kerr.UnsupportedEndpointType.Code {
		t.Errorf("endpoint type 7: %+v", resp)
	}
	req.EndpointType = 2
	resp := adminKmsgRoundTrip(t, c.controllerAddr(), 1, req).(*kmsg.DescribeClusterResponse)
	if resp.ErrorCode != 0 || resp.EndpointType != 2 || len(resp.Brokers) != 1 || resp.Brokers[0].Port != 19093 || resp.ControllerID != 1 {
		t.Errorf("controllers: %+v", resp)
	}
	req.EndpointType = 1
	if resp := adminKmsgRoundTrip(t, c.controllerAddr(), 0, req).(*kmsg.DescribeClusterResponse); resp.ErrorCode != kerr.InvalidRequest.Code {
		t.Errorf("v0 on a controller listener: %+v", resp)
	}
}

// Helpers.

func adminNewTopic(name string, partitions int32, rf int16) kmsg.CreateTopicsRequestTopic {
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = name, partitions, rf
	return t
}

func adminWithConfig(t kmsg.CreateTopicsRequestTopic, name string, value *string) kmsg.CreateTopicsRequestTopic {
	t.Configs = append(t.Configs, kmsg.CreateTopicsRequestTopicConfig{Name: name, Value: value})
	return t
}

func adminWithAssignment(t kmsg.CreateTopicsRequestTopic, partition int32, replicas ...int32) kmsg.CreateTopicsRequestTopic {
	t.ReplicaAssignment = append(t.ReplicaAssignment, kmsg.CreateTopicsRequestTopicReplicaAssignment{Partition: partition, Replicas: replicas})
	return t
}

func adminMsg(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

// metadataFor asks for topics by name at a version (allowAuto only matters from v4).
func adminMetadata(t *testing.T, c *adminCluster, version int16, allowAuto bool, topics ...string) *kmsg.MetadataResponse {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = allowAuto
	for _, name := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = adminStr(name)
		req.Topics = append(req.Topics, rt)
	}
	return c.kmsgRequest(version, req).(*kmsg.MetadataResponse)
}

func adminTopicID(t *testing.T, c *adminCluster, name string) [16]byte {
	t.Helper()
	md := adminMetadata(t, c, 12, false, name)
	if len(md.Topics) != 1 || md.Topics[0].ErrorCode != 0 {
		t.Fatalf("no topic %s: %+v", name, md.Topics)
	}
	return md.Topics[0].TopicID
}

// TestAdminCreateTopicsVersions creates a topic at every version, kmsg decoding the
// answers: what each version carries, and timeout_ms 0 (do not wait) still creating.
func TestAdminCreateTopicsVersions(t *testing.T) {
	c := startAdminCluster(t, map[string]string{"num.partitions": "2"})
	for v := int16(0); v <= 7; v++ {
		name := "topic-v" + string(rune('0'+v))
		req := kmsg.NewPtrCreateTopicsRequest()
		req.TimeoutMillis = int32(v) * 1000 // v0: 0, do not wait for the image
		tp := adminNewTopic(name, 2, 1)
		if v >= 4 {
			tp = adminNewTopic(name, -1, -1) // the broker defaults
		}
		req.Topics = []kmsg.CreateTopicsRequestTopic{adminWithConfig(tp, "retention.ms", adminStr("1000"))}
		resp := c.kmsgRequest(v, req).(*kmsg.CreateTopicsResponse)
		if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 || resp.Topics[0].ErrorMessage != nil {
			t.Fatalf("v%d: %+v", v, resp.Topics)
		}
		r := resp.Topics[0]
		if v >= 5 {
			if r.NumPartitions != 2 || r.ReplicationFactor != 1 || len(r.Configs) < 20 {
				t.Errorf("v%d: %d partitions, rf %d, %d configs", v, r.NumPartitions, r.ReplicationFactor, len(r.Configs))
			}
			for _, cf := range r.Configs {
				if cf.Name == "retention.ms" && (adminMsg(cf.Value) != "1000" || kmsg.ConfigSource(cf.Source) != kmsg.ConfigSourceDynamicTopicConfig || cf.ReadOnly) {
					t.Errorf("v%d retention.ms %+v", v, cf)
				}
			}
		}
		if (v >= 7) != (r.TopicID != [16]byte{}) {
			t.Errorf("v%d topic id %x", v, r.TopicID)
		}
		// The topic exists (v0 did not wait, but its commit came before the answer).
		adminWaitTopic(t, c, name)

		// A failure: the message from v1.
		resp = c.kmsgRequest(v, req).(*kmsg.CreateTopicsResponse)
		if r := resp.Topics[0]; r.ErrorCode != kerr.TopicAlreadyExists.Code || (v >= 1) != (r.ErrorMessage != nil) {
			t.Errorf("v%d again: %+v", v, r)
		}
	}
}

// adminWaitTopic waits (bounded) until this broker's metadata has the topic.
func adminWaitTopic(t *testing.T, c *adminCluster, name string) {
	t.Helper()
	waitUntil(t, "topic "+name, func() bool {
		_, ok := c.fsm.Current().TopicByName(name)
		return ok
	})
}
