package server

import (
	"context"
	"testing"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
	"github.com/sluicehq/sluice/internal/replica"
	"github.com/sluicehq/sluice/internal/storage"
)

// Tests of DeleteRecords, InitProducerId, OffsetForLeaderEpoch, DescribeLogDirs and
// DescribeProducers over a real socket.

func TestDeleteRecords(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	e.createTopic("t", topicSpec{partitions: 2})
	e.createTopic("__transaction_state", topicSpec{})
	compact := replica.DefaultConfig()
	compact.Log.CleanupPolicy = storage.CleanupCompact
	e.createTopic("compacted", topicSpec{cfg: &compact})
	c := e.dial()
	for range 5 {
		e.produceOne(c, 9, "t", 0, 1, makeBatch(t, batchSpec{n: 2}))
	}
	e.produceOne(c, 9, "t", 1, 1, makeBatch(t, batchSpec{n: 3}))
	req := message.NewDeleteRecordsRequest()
	req.TimeoutMs = 5000
	req.Topics = []message.DeleteRecordsRequestDeleteRecordsTopic{
		{Name: "t", Partitions: []message.DeleteRecordsRequestDeleteRecordsPartition{{PartitionIndex: 0, Offset: 4}, {PartitionIndex: 1, Offset: -1}, {PartitionIndex: 2, Offset: 0}}},
		{Name: "__transaction_state", Partitions: []message.DeleteRecordsRequestDeleteRecordsPartition{{PartitionIndex: 0, Offset: 0}}},
		{Name: "compacted", Partitions: []message.DeleteRecordsRequestDeleteRecordsPartition{{PartitionIndex: 0, Offset: 0}}},
	}
	resp := e.call(c, 2, req).(*message.DeleteRecordsResponse)
	got := []message.DeleteRecordsResponseDeleteRecordsPartitionResult{
		resp.Topics[0].Partitions[0], resp.Topics[0].Partitions[1], resp.Topics[0].Partitions[2],
		resp.Topics[1].Partitions[0], resp.Topics[2].Partitions[0],
	}
	want := []struct {
		code int16
		low  int64
	}{{0, 4}, {0, 3}, {kerr.UnknownTopicOrPartition.Code, -1}, {kerr.InvalidTopicException.Code, -1}, {kerr.PolicyViolation.Code, -1}}
	for i, w := range want {
		if got[i].ErrorCode != w.code || got[i].LowWatermark != w.low {
			t.Fatalf("result %d: %+v, want code %d low watermark %d", i, got[i], w.code, w.low)
		}
	}
	// Below the new log start: OFFSET_OUT_OF_RANGE; at it: data.
	pd := e.call(c, 12, fetchReq(12, "t", wire.UUID{}, 0, 2)).(*message.FetchResponse).Responses[0].Partitions[0]
	if pd.ErrorCode != kerr.OffsetOutOfRange.Code {
		t.Fatalf("fetch below the log start: %+v", pd)
	}
	pd = e.call(c, 12, fetchReq(12, "t", wire.UUID{}, 0, 4)).(*message.FetchResponse).Responses[0].Partitions[0]
	if recs := recordsOf(t, pd.Records); pd.ErrorCode != 0 || pd.LogStartOffset != 4 || len(recs) != 6 || recs[0].offset != 4 {
		t.Fatalf("fetch at the log start: %+v", pd)
	}
	lo := e.call(c, 10, listOffsetsReq("t", 0, loPart(0, replica.TimestampEarliest))).(*message.ListOffsetsResponse)
	if p := lo.Topics[0].Partitions[0]; p.Offset != 4 {
		t.Fatalf("earliest after delete: %+v", p)
	}
	// Above the high watermark.
	req.Topics = req.Topics[:1]
	req.Topics[0].Partitions = []message.DeleteRecordsRequestDeleteRecordsPartition{{PartitionIndex: 0, Offset: 11}}
	if p := e.call(c, 0, req).(*message.DeleteRecordsResponse).Topics[0].Partitions[0]; p.ErrorCode != kerr.OffsetOutOfRange.Code || p.LowWatermark != -1 {
		t.Fatalf("above the high watermark: %+v", p)
	}
}

func TestInitProducerID(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	c := e.dial()
	req := func(txnID *string, timeoutMs int32, pid int64, epoch int16) *message.InitProducerIdRequest {
		r := message.NewInitProducerIdRequest()
		r.TransactionalId, r.TransactionTimeoutMs, r.ProducerId, r.ProducerEpoch = txnID, timeoutMs, pid, epoch
		return r
	}
	seen := map[int64]bool{}
	for v := int16(0); v <= 5; v++ {
		resp := e.call(c, v, req(nil, 60000, -1, -1)).(*message.InitProducerIdResponse)
		if resp.ErrorCode != 0 || resp.ProducerId < 1000 || resp.ProducerEpoch != 0 || seen[resp.ProducerId] {
			t.Fatalf("v%d: %+v", v, resp)
		}
		seen[resp.ProducerId] = true
	}
	// KIP-360: an idempotent producer resetting with its id and epoch gets a fresh id.
	old := int64(1000)
	resp := e.call(c, 5, req(nil, 60000, old, 3)).(*message.InitProducerIdResponse)
	if resp.ErrorCode != 0 || resp.ProducerId == old || seen[resp.ProducerId] || resp.ProducerEpoch != 0 {
		t.Fatalf("reset: %+v", resp)
	}
	tests := []struct {
		name string
		req  *message.InitProducerIdRequest
		want int16
	}{
		{"transactional", req(wire.Ptr("tx"), 60000, -1, -1), kerr.NotCoordinator.Code},
		{"empty transactional id", req(wire.Ptr(""), 60000, -1, -1), kerr.InvalidRequest.Code},
		{"timeout too long", req(wire.Ptr("tx"), 1<<30, -1, -1), kerr.InvalidTransactionTimeout.Code},
		{"zero timeout", req(wire.Ptr("tx"), 0, -1, -1), kerr.InvalidTransactionTimeout.Code},
		{"id without epoch", req(nil, 60000, 5, -1), kerr.InvalidRequest.Code},
	}
	for _, tc := range tests {
		resp := e.call(c, 5, tc.req).(*message.InitProducerIdResponse)
		if resp.ErrorCode != tc.want || resp.ProducerId != -1 || resp.ProducerEpoch != -1 {
			t.Errorf("%s: %+v, want code %d", tc.name, resp, tc.want)
		}
	}

	e2 := newDataEnv(t, dataEnvOptions{noPIDs: true})
	if resp := e2.call(e2.dial(), 4, req(nil, 60000, -1, -1)).(*message.InitProducerIdResponse); resp.ErrorCode != kerr.CoordinatorNotAvailable.Code {
		t.Fatalf("without an allocator: %+v", resp)
	}
}

func TestOffsetForLeaderEpoch(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	id := e.createTopic("t", topicSpec{epoch: 1})
	e.registerBroker(2, "other.example", 9093)
	e.createTopic("remote", topicSpec{leader: 2})
	c := e.dial()
	e.produceOne(c, 9, "t", 0, 1, makeBatch(t, batchSpec{n: 3}))
	st := replica.PartitionState{Leader: dataSelf, LeaderEpoch: 4, PartitionEpoch: 4, Replicas: []int32{dataSelf}, ISR: []int32{dataSelf}}
	if _, err := e.rm.MakeLeader(context.Background(), replica.TopicPartition{Topic: "t", Partition: 0}, storage.TopicID(id), st, replica.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	e.produceOne(c, 9, "t", 0, 1, makeBatch(t, batchSpec{n: 2}))
	part := func(p, current, epoch int32) message.OffsetForLeaderEpochRequestOffsetForLeaderPartition {
		return message.OffsetForLeaderEpochRequestOffsetForLeaderPartition{Partition: p, CurrentLeaderEpoch: current, LeaderEpoch: epoch}
	}
	req := message.NewOffsetForLeaderEpochRequest()
	req.ReplicaId = -1
	req.Topics = []message.OffsetForLeaderEpochRequestOffsetForLeaderTopic{
		{Topic: "t", Partitions: []message.OffsetForLeaderEpochRequestOffsetForLeaderPartition{
			part(0, 4, 1), part(0, 4, 2), part(0, 4, 4), part(0, 4, 9), part(0, 3, 1), part(0, 5, 1), part(1, -1, 1),
		}},
		{Topic: "remote", Partitions: []message.OffsetForLeaderEpochRequestOffsetForLeaderPartition{part(0, -1, 0)}},
	}
	resp := e.call(c, 4, req).(*message.OffsetForLeaderEpochResponse)
	want := []struct {
		code  int16
		epoch int32
		end   int64
	}{
		{0, 1, 3}, {0, 1, 3}, {0, 4, 5}, {0, -1, -1},
		{kerr.FencedLeaderEpoch.Code, -1, -1}, {kerr.UnknownLeaderEpoch.Code, -1, -1}, {kerr.UnknownTopicOrPartition.Code, -1, -1},
	}
	for i, w := range want {
		p := resp.Topics[0].Partitions[i]
		if p.ErrorCode != w.code || p.LeaderEpoch != w.epoch || p.EndOffset != w.end {
			t.Errorf("partition entry %d: %+v, want %+v", i, p, w)
		}
	}
	if p := resp.Topics[1].Partitions[0]; p.ErrorCode != kerr.NotLeaderOrFollower.Code {
		t.Errorf("remote: %+v", p)
	}
	// v0: no epoch in the answer, and no current leader epoch in the question.
	req.Topics = req.Topics[:1]
	req.Topics[0].Partitions = []message.OffsetForLeaderEpochRequestOffsetForLeaderPartition{part(0, -1, 1)}
	if p := e.call(c, 0, req).(*message.OffsetForLeaderEpochResponse).Topics[0].Partitions[0]; p.ErrorCode != 0 || p.EndOffset != 3 {
		t.Errorf("v0: %+v", p)
	}
}

func TestDescribeLogDirs(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	e.createTopic("a", topicSpec{partitions: 2})
	e.createTopic("b", topicSpec{})
	c := e.dial()
	b := makeBatch(t, batchSpec{n: 10, valueBytes: 100})
	e.produceOne(c, 9, "a", 1, 1, b)
	all := message.NewDescribeLogDirsRequest()
	all.Topics = nil // null: every partition
	for v := int16(0); v <= 4; v++ {
		resp := e.call(c, v, all).(*message.DescribeLogDirsResponse)
		if len(resp.Results) != 1 {
			t.Fatalf("v%d: %+v", v, resp)
		}
		r := resp.Results[0]
		if r.ErrorCode != 0 || r.LogDir != e.dir || len(r.Topics) != 2 || r.Topics[0].Name != "a" || len(r.Topics[0].Partitions) != 2 || r.Topics[1].Name != "b" {
			t.Fatalf("v%d: %+v", v, r)
		}
		if p := r.Topics[0].Partitions[1]; p.PartitionIndex != 1 || p.PartitionSize != int64(len(b)) || p.OffsetLag != 0 || p.IsFutureKey {
			t.Fatalf("v%d: a-1 %+v", v, p)
		}
		if v >= 4 && (r.TotalBytes <= 0 || r.UsableBytes <= 0 || r.UsableBytes > r.TotalBytes) {
			t.Fatalf("v4 space: total %d usable %d", r.TotalBytes, r.UsableBytes)
		}
		if v < 4 && (r.TotalBytes != -1 || r.UsableBytes != -1) {
			t.Fatalf("v%d carries space: %+v", v, r)
		}
	}
	req := message.NewDescribeLogDirsRequest()
	req.Topics = []message.DescribeLogDirsRequestDescribableLogDirTopic{{Topic: "a", Partitions: []int32{1, 7}}, {Topic: "nope", Partitions: []int32{0}}}
	r := e.call(c, 4, req).(*message.DescribeLogDirsResponse).Results[0]
	if len(r.Topics) != 1 || r.Topics[0].Name != "a" || len(r.Topics[0].Partitions) != 1 || r.Topics[0].Partitions[0].PartitionIndex != 1 {
		t.Fatalf("filtered: %+v", r)
	}
	// An empty (not null) list asks for nothing.
	if r := e.call(c, 4, message.NewDescribeLogDirsRequest()).(*message.DescribeLogDirsResponse).Results[0]; len(r.Topics) != 0 {
		t.Fatalf("empty list: %+v", r)
	}
}

func TestDescribeProducers(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	e.createTopic("t", topicSpec{partitions: 2})
	e.registerBroker(2, "other.example", 9093)
	e.createTopic("remote", topicSpec{leader: 2})
	c := e.dial()
	e.produceOne(c, 9, "t", 0, -1, makeBatch(t, batchSpec{n: 4, producerID: 77, producerEpoch: 2, baseSeq: 0}))
	e.produceOne(c, 9, "t", 0, -1, makeBatch(t, batchSpec{n: 1}))
	req := message.NewDescribeProducersRequest()
	req.Topics = []message.DescribeProducersRequestTopicRequest{
		{Name: "t", PartitionIndexes: []int32{0, 1, 5}},
		{Name: "remote", PartitionIndexes: []int32{0}},
		{Name: "nope", PartitionIndexes: []int32{0}},
		{Name: "bad/name", PartitionIndexes: []int32{0}},
	}
	resp := e.call(c, 0, req).(*message.DescribeProducersResponse)
	p0 := resp.Topics[0].Partitions[0]
	if p0.ErrorCode != 0 || len(p0.ActiveProducers) != 1 {
		t.Fatalf("t-0: %+v", p0)
	}
	if ap := p0.ActiveProducers[0]; ap.ProducerId != 77 || ap.ProducerEpoch != 2 || ap.LastSequence != 3 || ap.CurrentTxnStartOffset != -1 || ap.LastTimestamp <= 0 {
		t.Fatalf("producer %+v", ap)
	}
	if p1 := resp.Topics[0].Partitions[1]; p1.ErrorCode != 0 || len(p1.ActiveProducers) != 0 {
		t.Fatalf("t-1: %+v", p1)
	}
	codes := []int16{resp.Topics[0].Partitions[2].ErrorCode, resp.Topics[1].Partitions[0].ErrorCode, resp.Topics[2].Partitions[0].ErrorCode, resp.Topics[3].Partitions[0].ErrorCode}
	want := []int16{kerr.UnknownTopicOrPartition.Code, kerr.NotLeaderOrFollower.Code, kerr.UnknownTopicOrPartition.Code, kerr.InvalidTopicException.Code}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("error codes %v, want %v", codes, want)
		}
	}
	if resp.Topics[1].Partitions[0].ErrorMessage == nil {
		t.Fatal("error without a message")
	}
}
