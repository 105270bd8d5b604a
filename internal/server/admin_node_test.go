package server_test

// End-to-end tests of the administration handlers on a real single-node cluster
// (internal/node/nodetest), driven by franz-go as users drive Kafka. An external test
// package, because the node imports the server.

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/node/nodetest"
)

func nodeCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func sp(s string) *string { return &s }

// produceOne produces value to topic and returns the error (nil on success).
func produceOne(ctx context.Context, cl *kgo.Client, topic string, value []byte) error {
	return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: value}).FirstErr()
}

func TestNodeTopicAdmin(t *testing.T) {
	c := nodetest.Start(t, nodetest.Override("num.partitions", "2"))
	ctx := nodeCtx(t)
	adm := c.Admin(t)

	created, err := adm.CreateTopic(ctx, 3, 1, map[string]*string{"cleanup.policy": sp("compact")}, "admin-t")
	if err != nil || created.Err != nil {
		t.Fatalf("create: %v %+v", err, created)
	}
	if dup, _ := adm.CreateTopic(ctx, 3, 1, nil, "admin-t"); !errors.Is(dup.Err, kerr.TopicAlreadyExists) {
		t.Errorf("second create: %+v", dup)
	}
	if big, _ := adm.CreateTopic(ctx, 1, 3, nil, "too-replicated"); !errors.Is(big.Err, kerr.InvalidReplicationFactor) || big.ErrMessage == "" {
		t.Errorf("rf 3 on one broker: %+v", big)
	}
	if bad, _ := adm.CreateTopic(ctx, 1, 1, nil, "bad name"); !errors.Is(bad.Err, kerr.InvalidTopicException) {
		t.Errorf("bad name: %+v", bad)
	}

	// Produce and consume through the new topic: its partitions have leaders here.
	cl := c.Client(t)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "admin-t", Key: []byte("k"), Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("produce to a created topic: %v", err)
	}

	td, err := adm.ListTopics(ctx, "admin-t")
	if err != nil || td["admin-t"].Err != nil || len(td["admin-t"].Partitions) != 3 || td["admin-t"].ID != created.ID {
		t.Fatalf("list: %v %+v", err, td)
	}
	if _, err := adm.CreatePartitions(ctx, 2, "admin-t"); err != nil {
		t.Fatal(err)
	}
	if td, _ := adm.ListTopics(ctx, "admin-t"); len(td["admin-t"].Partitions) != 5 {
		t.Errorf("after adding 2: %+v", td["admin-t"].Partitions)
	}

	// Delete by id (DeleteTopics v6).
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TimeoutMillis = 10000
	req.Topics = []kmsg.DeleteTopicsRequestTopic{{TopicID: created.ID}}
	resp, err := req.RequestWith(ctx, c.Client(t))
	if err != nil || len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 || resp.Topics[0].Topic == nil || *resp.Topics[0].Topic != "admin-t" {
		t.Fatalf("delete by id: %v %+v", err, resp)
	}
	// Metadata for the deleted topic, without auto-creation.
	mreq := kmsg.NewPtrMetadataRequest()
	mreq.Topics = []kmsg.MetadataRequestTopic{{Topic: sp("admin-t")}}
	mresp, err := mreq.RequestWith(ctx, c.Client(t))
	if err != nil || len(mresp.Topics) != 1 || mresp.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("metadata after delete: %v %+v", err, mresp)
	}

	// Topics and their configs live in the metadata log: they survive a restart.
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"retention.ms": sp("123456")}, "durable"); err != nil {
		t.Fatal(err)
	}
	c.Restart(t)
	adm = c.Admin(t)
	rc, err := adm.DescribeTopicConfigs(ctx, "durable")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, cf := range rc[0].Configs {
		if cf.Key == "retention.ms" {
			found = cf.MaybeValue() == "123456" && cf.Source == kmsg.ConfigSourceDynamicTopicConfig
		}
	}
	if !found {
		t.Errorf("retention.ms override lost across the restart: %+v", rc)
	}
}

func TestNodeAutoCreateOnProduce(t *testing.T) {
	c := nodetest.Start(t, nodetest.Override("num.partitions", "4"))
	ctx := nodeCtx(t)
	cl := c.Client(t, kgo.AllowAutoTopicCreation())
	if err := produceOne(ctx, cl, "born-on-produce", []byte("hello")); err != nil {
		t.Fatalf("produce to a new topic: %v", err)
	}
	td, err := c.Admin(t).ListTopics(ctx, "born-on-produce")
	if err != nil || td["born-on-produce"].Err != nil || len(td["born-on-produce"].Partitions) != 4 {
		t.Fatalf("auto-created topic: %v %+v", err, td)
	}
}

func TestNodeAutoCreateDisabled(t *testing.T) {
	c := nodetest.Start(t, nodetest.Override("auto.create.topics.enable", "false"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	cl := c.Client(t, kgo.AllowAutoTopicCreation())
	if err := produceOne(ctx, cl, "never-born", []byte("x")); err == nil {
		t.Fatalf("produce to a missing topic succeeded with auto-creation off")
	}
	td, err := c.Admin(t).ListTopics(nodeCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := td["never-born"]; ok {
		t.Errorf("topic created with auto.create.topics.enable=false")
	}
}

// TestNodeDynamicConfigsTakeEffect lowers max.message.bytes for one topic, then for the
// cluster, and checks produce is refused without a restart.
func TestNodeDynamicConfigsTakeEffect(t *testing.T) {
	c := nodetest.Start(t)
	ctx := nodeCtx(t)
	adm := c.Admin(t)
	for _, name := range []string{"small", "other"} {
		if _, err := adm.CreateTopic(ctx, 1, 1, nil, name); err != nil {
			t.Fatal(err)
		}
	}
	cl := c.Client(t, kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordRetries(0))
	payload := bytes.Repeat([]byte("x"), 4096)
	if err := produceOne(ctx, cl, "small", payload); err != nil {
		t.Fatalf("4 KiB before the change: %v", err)
	}

	rs, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: sp("1024")}}, "small")
	if err != nil || rs[0].Err != nil {
		t.Fatalf("alter topic: %v %+v", err, rs)
	}
	eventuallyProduce(t, ctx, cl, "small", payload, kerr.MessageTooLarge)
	if err := produceOne(ctx, cl, "other", payload); err != nil {
		t.Fatalf("a topic without the override: %v", err)
	}

	// The cluster-wide default message.max.bytes is the default of max.message.bytes.
	rs, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "message.max.bytes", Value: sp("2048")}})
	if err != nil || rs[0].Err != nil {
		t.Fatalf("alter cluster default: %v %+v", err, rs)
	}
	eventuallyProduce(t, ctx, cl, "other", payload, kerr.MessageTooLarge)
	rc, err := adm.DescribeTopicConfigs(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	for _, cf := range rc[0].Configs {
		if cf.Key == "max.message.bytes" && (cf.MaybeValue() != "2048" || cf.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig) {
			t.Errorf("other's max.message.bytes: %+v", cf)
		}
	}
	// Removing the topic override does not restore the old limit: the cluster default
	// applies.
	rs, _ = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "max.message.bytes"}}, "small")
	if rs[0].Err != nil {
		t.Fatal(rs[0].Err)
	}
	eventuallyProduce(t, ctx, cl, "small", bytes.Repeat([]byte("x"), 1500), nil)
}

// eventuallyProduce produces value until the outcome is want (nil: success). The node
// applies a committed config change to its partitions just after its image has it; unless
// the node passes AdminDeps.WaitApplied, an AlterConfigs answer can precede that by a
// moment, as in Kafka, where brokers apply config changes asynchronously.
func eventuallyProduce(t *testing.T, ctx context.Context, cl *kgo.Client, topic string, value []byte, want *kerr.Error) {
	t.Helper()
	for {
		err := produceOne(ctx, cl, topic, value)
		switch {
		case want == nil && err == nil, want != nil && errors.Is(err, want):
			return
		case ctx.Err() != nil:
			t.Fatalf("producing %d bytes to %s: %v, want %v", len(value), topic, err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNodeDescribeClusterAndPartitions(t *testing.T) {
	c := nodetest.Start(t)
	ctx := nodeCtx(t)
	cl := c.Client(t)
	adm := kadm.NewClient(cl)
	for _, name := range []string{"p-a", "p-b"} {
		if _, err := adm.CreateTopic(ctx, 3, 1, nil, name); err != nil {
			t.Fatal(err)
		}
	}
	dc := kmsg.NewPtrDescribeClusterRequest()
	dresp, err := dc.RequestWith(ctx, cl)
	if err != nil || dresp.ErrorCode != 0 || len(dresp.Brokers) != 1 || dresp.ClusterID == "" || dresp.ControllerID != dresp.Brokers[0].NodeID {
		t.Fatalf("describe cluster: %v %+v", err, dresp)
	}
	if int(dresp.Brokers[0].Port) != c.Port("PLAINTEXT") {
		t.Errorf("broker port %d, want %d", dresp.Brokers[0].Port, c.Port("PLAINTEXT"))
	}

	// Page through both topics four partitions at a time.
	var seen []string
	var cursor *kmsg.DescribeTopicPartitionsRequestCursor
	for range 4 {
		req := kmsg.NewPtrDescribeTopicPartitionsRequest()
		req.ResponsePartitionLimit = 4
		req.Cursor = cursor
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		for _, tp := range resp.Topics {
			for _, p := range tp.Partitions {
				if p.LeaderID != dresp.Brokers[0].NodeID {
					t.Errorf("%s/%d leader %d", *tp.Topic, p.Partition, p.LeaderID)
				}
				seen = append(seen, *tp.Topic+"/"+string(rune('0'+p.Partition)))
			}
		}
		if resp.NextCursor == nil {
			break
		}
		cursor = &kmsg.DescribeTopicPartitionsRequestCursor{Topic: resp.NextCursor.Topic, Partition: resp.NextCursor.Partition}
	}
	want := []string{"p-a/0", "p-a/1", "p-a/2", "p-b/0", "p-b/1", "p-b/2"}
	if len(seen) != len(want) {
		t.Fatalf("paged %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("paged %v, want %v", seen, want)
		}
	}
}
