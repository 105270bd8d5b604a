package server

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// adminKeys are the API keys of the administration handlers.
var adminKeys = []int16{
	message.KeyMetadata, message.KeyCreateTopics, message.KeyDeleteTopics, message.KeyDescribeConfigs,
	message.KeyAlterConfigs, message.KeyCreatePartitions, message.KeyIncrementalAlterConfigs,
	message.KeyDescribeCluster, message.KeyDescribeTopicPartitions,
}

// handleDirect runs one decoded request through its registered handler as the pipeline
// would (ErrorResponse on an error) and checks the answer encodes at the request's version.
// It reports whether the request decoded.
func (c *adminCluster) handleDirect(t testing.TB, key, version int16, body []byte) bool {
	h := c.reg.lookup(key)
	if h == nil || !h.Versions.Contains(version) {
		return false
	}
	req := message.NewRequest(key)
	rd := wire.NewReader(body)
	if err := req.Decode(&rd, version); err != nil || rd.Complete() != nil {
		return false
	}
	r := &Request{APIKey: key, Version: version, Body: req, Listener: "PLAINTEXT", ListenerKind: ClientListeners}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := h.Fn.call(ctx, r)
	if err != nil {
		if h.ErrorResponse == nil {
			t.Fatalf("key %d v%d: %v and no ErrorResponse", key, version, err)
		}
		resp = h.ErrorResponse(r, r.ErrorCode(err))
	}
	if resp == nil {
		t.Fatalf("key %d v%d: no response", key, version)
	}
	w := wire.NewWriter(nil)
	if err := message.EncodeResponse(w, 1, version, resp); err != nil {
		t.Fatalf("key %d v%d: response does not encode: %v (%+v)", key, version, err, resp)
	}
	return true
}

// TestAdminOddRequests sends requests that decode but hold what a careless handler would
// trip on: null names and values where the schema allows them, extreme counts and indexes.
func TestAdminOddRequests(t *testing.T) {
	c := startAdminCluster(t, nil)
	c.createTopic("exists", 1, 1, nil)
	enc := func(v int16, req kmsg.Request) []byte {
		req.SetVersion(v)
		return req.AppendTo(nil)
	}
	type odd struct {
		name    string
		version int16
		req     kmsg.Request
	}
	var cases []odd
	add := func(name string, versions []int16, req kmsg.Request) {
		for _, v := range versions {
			cases = append(cases, odd{name, v, req})
		}
	}
	md := kmsg.NewPtrMetadataRequest()
	md.Topics = []kmsg.MetadataRequestTopic{{}, {Topic: adminStr("")}, {TopicID: [16]byte{1}}}
	add("metadata null name", []int16{0, 9, 10, 11, 12}, md)

	ct := kmsg.NewPtrCreateTopicsRequest()
	ct.Topics = []kmsg.CreateTopicsRequestTopic{
		adminWithConfig(adminNewTopic("bad name", 1, 1), "retention.ms", nil),
		adminWithConfig(adminNewTopic("exists", 1, 1), "retention.ms", nil),
		adminWithAssignment(adminNewTopic("empty-replicas", -1, -1), 0),
		adminWithAssignment(adminNewTopic("far-partition", -1, -1), math.MaxInt32, 1),
		adminNewTopic("huge", math.MaxInt32, math.MaxInt16),
		adminNewTopic("negative", -7, -3),
	}
	add("create topics", []int16{0, 1, 4, 5, 7}, ct)

	dt := kmsg.NewPtrDeleteTopicsRequest()
	dt.TopicNames = []string{"", "exists-not"}
	dt.Topics = []kmsg.DeleteTopicsRequestTopic{{}, {Topic: adminStr("")}}
	add("delete topics", []int16{0, 5, 6}, dt)

	cp := kmsg.NewPtrCreatePartitionsRequest()
	cp.Topics = []kmsg.CreatePartitionsRequestTopic{
		{Topic: "exists", Count: math.MinInt32},
		{Topic: "exists", Count: math.MaxInt32},
		{Topic: "", Count: 2, Assignment: []kmsg.CreatePartitionsRequestTopicAssignment{{}}},
	}
	add("create partitions", []int16{0, 3}, cp)
	cp2 := kmsg.NewPtrCreatePartitionsRequest()
	cp2.Topics = []kmsg.CreatePartitionsRequestTopic{{Topic: "exists", Count: math.MaxInt32}}
	add("create partitions huge", []int16{3}, cp2)

	dc := kmsg.NewPtrDescribeConfigsRequest()
	dc.Resources = []kmsg.DescribeConfigsRequestResource{
		{ResourceType: kmsg.ConfigResourceTypeBroker, ResourceName: "-1"},
		{ResourceType: kmsg.ConfigResourceTypeBrokerLogger, ResourceName: ""},
		{ResourceType: kmsg.ConfigResourceType(-128), ResourceName: "x", ConfigNames: []string{"", ""}},
	}
	add("describe configs", []int16{0, 1, 3, 4}, dc)

	ac := kmsg.NewPtrAlterConfigsRequest()
	ac.Resources = []kmsg.AlterConfigsRequestResource{
		{ResourceType: kmsg.ConfigResourceTypeBroker, ResourceName: "99999999999", Configs: []kmsg.AlterConfigsRequestResourceConfig{{Name: "x"}}},
		{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "exists", Configs: []kmsg.AlterConfigsRequestResourceConfig{{Name: ""}}},
	}
	add("alter configs", []int16{0, 2}, ac)

	ia := kmsg.NewPtrIncrementalAlterConfigsRequest()
	ia.Resources = []kmsg.IncrementalAlterConfigsRequestResource{
		{ResourceType: kmsg.ConfigResourceTypeBrokerLogger, ResourceName: "1",
			Configs: []kmsg.IncrementalAlterConfigsRequestResourceConfig{{Name: "root", Op: kmsg.IncrementalAlterConfigOp(-5)}}},
		{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "exists",
			Configs: []kmsg.IncrementalAlterConfigsRequestResourceConfig{{Name: "cleanup.policy", Op: kmsg.IncrementalAlterConfigOpDelete}, {Name: "retention.ms", Op: 9, Value: adminStr("1")}}},
	}
	add("incremental alter configs", []int16{0, 1}, ia)

	dcl := kmsg.NewPtrDescribeClusterRequest()
	dcl.EndpointType = -1
	add("describe cluster", []int16{0, 1}, dcl)

	dtp := kmsg.NewPtrDescribeTopicPartitionsRequest()
	dtp.ResponsePartitionLimit = math.MinInt32
	dtp.Cursor = &kmsg.DescribeTopicPartitionsRequestCursor{Topic: "exists", Partition: math.MaxInt32}
	add("describe topic partitions", []int16{0}, dtp)

	for _, tc := range cases {
		if !c.handleDirect(t, tc.req.Key(), tc.version, enc(tc.version, tc.req)) {
			t.Errorf("%s v%d: did not decode", tc.name, tc.version)
		}
	}
}

// FuzzAdminRequests feeds decodable request bodies of every administration API to its
// handler on a live single-node cluster: no input may panic a handler or make it answer
// something that does not encode. The seeds are kmsg's default request at each version.
func FuzzAdminRequests(f *testing.F) {
	for i, key := range adminKeys {
		info, _ := message.LookupAPI(key)
		for v := info.MinVersion; v <= info.MaxVersion; v++ {
			req := kmsg.RequestForKey(key)
			req.SetVersion(v)
			f.Add(uint8(i), uint8(v), req.AppendTo(nil))
		}
	}
	c := startAdminCluster(f, nil)
	f.Fuzz(func(t *testing.T, keyIdx, version uint8, body []byte) {
		key := adminKeys[int(keyIdx)%len(adminKeys)]
		c.handleDirect(t, key, int16(version%16), body)
	})
}
