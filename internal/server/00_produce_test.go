package server

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
	"github.com/sluicehq/sluice/internal/record"
	"github.com/sluicehq/sluice/internal/replica"
	"github.com/sluicehq/sluice/internal/storage"
)

// Every served version and codec: what is produced is fetched back unchanged, at the offsets
// the produce answered.
func TestProduceVersionsAndCodecs(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	c := e.dial()
	codecs := []record.Compression{record.CompressionNone, record.CompressionGzip, record.CompressionSnappy, record.CompressionLZ4, record.CompressionZstd}
	next := int64(0)
	e.createTopic("t", topicSpec{})
	for v := int16(3); v <= 11; v++ {
		for _, codec := range codecs {
			if codec == record.CompressionZstd && v < 7 {
				continue
			}
			name := fmt.Sprintf("v%d-%s", v, codec)
			batch := makeBatch(t, batchSpec{n: 5, keyPrefix: name, valueBytes: 100, codec: codec,
				headers: []record.Header{{Key: []byte("h"), Value: []byte(name)}}})
			got := e.produceOne(c, v, "t", 0, 1, batch)
			if got.ErrorCode != 0 || got.BaseOffset != next {
				t.Fatalf("%s: %+v, want offset %d", name, got, next)
			}
			if v >= 5 && got.LogStartOffset != 0 {
				t.Fatalf("%s: log start %d", name, got.LogStartOffset)
			}
			if got.LogAppendTimeMs != -1 {
				t.Fatalf("%s: log append time %d on a CreateTime topic", name, got.LogAppendTimeMs)
			}
			fr := e.call(c, 12, fetchReq(12, "t", wire.UUID{}, 0, next)).(*message.FetchResponse)
			pd := fr.Responses[0].Partitions[0]
			recs := recordsOf(t, pd.Records)
			if pd.ErrorCode != 0 || len(recs) != 5 || pd.HighWatermark != next+5 {
				t.Fatalf("%s: fetched %d records, error %d, hw %d", name, len(recs), pd.ErrorCode, pd.HighWatermark)
			}
			for i, r := range recs {
				if r.offset != next+int64(i) || string(r.key) != fmt.Sprintf("%s-%d", name, i) || r.hdrs != 1 ||
					!bytes.HasPrefix(r.value, fmt.Appendf(nil, "v%07d", i)) || len(r.value) != 100 {
					t.Fatalf("%s: record %d = %+v", name, i, r)
				}
			}
			next += 5
		}
	}
}

func TestProduceErrors(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	e.createTopic("t", topicSpec{})
	e.createTopic("zstd-topic", topicSpec{})
	e.registerBroker(2, "other.example", 9093)
	e.createTopic("remote", topicSpec{leader: 2, epoch: 4})
	e.createTopic("__consumer_offsets", topicSpec{})
	compact := replica.DefaultConfig()
	compact.Log.CleanupPolicy = storage.CleanupCompact
	e.createTopic("compacted", topicSpec{cfg: &compact})
	c := e.dial()
	ok := makeBatch(t, batchSpec{n: 3})
	tests := []struct {
		name     string
		version  int16
		topic    string
		part     int32
		acks     int16
		records  []byte
		wantCode int16
	}{
		{"v2 refused", 2, "t", 0, 1, ok, kerr.UnsupportedVersion.Code},
		{"v0 refused", 0, "t", 0, 1, ok, kerr.UnsupportedVersion.Code},
		{"unknown topic", 9, "nope", 0, 1, ok, kerr.UnknownTopicOrPartition.Code},
		{"unknown partition", 9, "t", 7, 1, ok, kerr.UnknownTopicOrPartition.Code},
		{"not led here", 9, "remote", 0, 1, ok, kerr.NotLeaderOrFollower.Code},
		{"acks 2", 9, "t", 0, 2, ok, kerr.InvalidRequiredAcks.Code},
		{"garbage", 9, "t", 0, 1, []byte("definitely not a record batch, but long enough to look like one........."), kerr.InvalidRecord.Code},
		{"bad crc", 9, "t", 0, 1, flipLastByte(ok), kerr.CorruptMessage.Code},
		{"bytes after the batch", 9, "t", 0, 1, append(bytes.Clone(ok), 0, 0, 0), kerr.InvalidRecord.Code},
		{"truncated", 9, "t", 0, 1, ok[:len(ok)-3], kerr.CorruptMessage.Code},
		{"no records", 9, "t", 0, 1, []byte{}, kerr.InvalidRecord.Code},
		{"zstd before v7", 6, "zstd-topic", 0, 1, makeBatch(t, batchSpec{n: 2, codec: record.CompressionZstd}), kerr.UnsupportedCompressionType.Code},
		{"internal topic", 9, "__consumer_offsets", 0, 1, ok, kerr.InvalidTopicException.Code},
		{"keyless on compacted", 9, "compacted", 0, 1, ok, kerr.InvalidRecord.Code},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := e.produceOne(c, tc.version, tc.topic, tc.part, tc.acks, bytes.Clone(tc.records))
			if got.ErrorCode != tc.wantCode || got.BaseOffset != -1 {
				t.Fatalf("got code %d offset %d, want code %d offset -1 (%+v)", got.ErrorCode, got.BaseOffset, tc.wantCode, got)
			}
			if tc.version >= 8 && (got.ErrorMessage == nil || *got.ErrorMessage == "") {
				t.Fatalf("v%d error without a message", tc.version)
			}
			if tc.name == "keyless on compacted" && (len(got.RecordErrors) != 3 || got.RecordErrors[2].BatchIndex != 2 || got.RecordErrors[0].BatchIndexErrorMessage == nil) {
				t.Fatalf("record errors %+v", got.RecordErrors)
			}
		})
	}
	// Nothing was appended by any of them, and the connection still works.
	if got := e.produceOne(c, 9, "t", 0, 1, makeBatch(t, batchSpec{n: 1})); got.ErrorCode != 0 || got.BaseOffset != 0 {
		t.Fatalf("after errors: %+v", got)
	}
}

// KIP-951: from v10 a NOT_LEADER_OR_FOLLOWER answer names the leader and its endpoint.
func TestProduceNotLeaderHints(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	e.registerBroker(2, "other.example", 9093)
	e.createTopic("remote", topicSpec{leader: 2, epoch: 4, partitions: 2})
	c := e.dial()
	for _, v := range []int16{9, 10, 11} {
		req := produceReq("remote", 0, 1, makeBatch(t, batchSpec{}))
		req.TopicData[0].PartitionData = append(req.TopicData[0].PartitionData,
			message.ProduceRequestPartitionProduceData{Index: 1, Records: wire.RecordBytes(makeBatch(t, batchSpec{}))})
		resp := e.call(c, v, req).(*message.ProduceResponse)
		for _, p := range resp.Responses[0].PartitionResponses {
			if p.ErrorCode != kerr.NotLeaderOrFollower.Code {
				t.Fatalf("v%d: %+v", v, p)
			}
			wantLeader := int32(-1)
			if v >= 10 {
				wantLeader = 2
			}
			if p.CurrentLeader.LeaderId != wantLeader || (v >= 10 && p.CurrentLeader.LeaderEpoch != 4) {
				t.Fatalf("v%d: current leader %+v", v, p.CurrentLeader)
			}
		}
		if v < 10 {
			if len(resp.NodeEndpoints) != 0 {
				t.Fatalf("v%d: node endpoints %+v", v, resp.NodeEndpoints)
			}
			continue
		}
		if len(resp.NodeEndpoints) != 1 || resp.NodeEndpoints[0].NodeId != 2 || resp.NodeEndpoints[0].Host != "other.example" || resp.NodeEndpoints[0].Port != 9093 {
			t.Fatalf("v%d: node endpoints %+v (one entry per leader)", v, resp.NodeEndpoints)
		}
	}
}

// acks=0: no response on success (the next request's response comes next); a failure closes
// the connection so that the producer notices.
func TestProduceAcksZero(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	e.createTopic("t", topicSpec{})
	c := e.dial()
	c.send(9, 100, produceReq("t", 0, 0, makeBatch(t, batchSpec{n: 4})))
	c.send(9, 101, produceReq("t", 0, 0, makeBatch(t, batchSpec{n: 4})))
	resp := e.call(c, 9, produceReq("t", 0, 1, makeBatch(t, batchSpec{n: 1}))).(*message.ProduceResponse)
	if p := resp.Responses[0].PartitionResponses[0]; p.ErrorCode != 0 || p.BaseOffset != 8 {
		t.Fatalf("after two acks=0 produces: %+v", p)
	}
	c.send(9, 102, produceReq("nope", 0, 0, makeBatch(t, batchSpec{n: 1})))
	c.expectClosed()
	e.srv.logs.waitFor(t, "acks=0 produce failed")
}

func TestProduceAcksAllTimesOutWithoutFollowers(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	e.registerBroker(2, "other.example", 9093)
	e.createTopic("t", topicSpec{})
	// Make broker 2 an in-sync follower that never fetches: acks=all cannot complete.
	st := replica.PartitionState{Leader: dataSelf, LeaderEpoch: 1, PartitionEpoch: 1, Replicas: []int32{dataSelf, 2}, ISR: []int32{dataSelf, 2}}
	if _, err := e.rm.MakeLeader(context.Background(), replica.TopicPartition{Topic: "t", Partition: 0}, e.partition("t", 0).TopicID(), st, replica.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	c := e.dial()
	req := produceReq("t", 0, -1, makeBatch(t, batchSpec{n: 2}))
	req.TimeoutMs = 50
	p := e.call(c, 9, req).(*message.ProduceResponse).Responses[0].PartitionResponses[0]
	if p.ErrorCode != kerr.RequestTimedOut.Code || p.BaseOffset != 0 {
		t.Fatalf("acks=all without the follower: %+v (want REQUEST_TIMED_OUT with the batch's offset)", p)
	}
	// acks=1 does not wait for the follower.
	if p := e.produceOne(c, 9, "t", 0, 1, makeBatch(t, batchSpec{n: 2})); p.ErrorCode != 0 || p.BaseOffset != 2 {
		t.Fatalf("acks=1: %+v", p)
	}
}

func TestProduceAcksAll(t *testing.T) {
	for _, policy := range []replica.FlushPolicy{replica.FlushGroupCommit, replica.FlushNone} {
		t.Run(string(policy), func(t *testing.T) {
			e := newDataEnv(t, dataEnvOptions{flush: policy})
			e.createTopic("t", topicSpec{})
			c := e.dial()
			for i := range 3 {
				if p := e.produceOne(c, 11, "t", 0, -1, makeBatch(t, batchSpec{n: 10})); p.ErrorCode != 0 || p.BaseOffset != int64(10*i) {
					t.Fatalf("produce %d: %+v", i, p)
				}
			}
			if hw := e.partition("t", 0).HighWatermark(); hw != 30 {
				t.Fatalf("high watermark %d after acks=all", hw)
			}
		})
	}
}

// An idempotent producer's retry is answered with the original offsets and appends nothing;
// a gap in sequences is OUT_OF_ORDER_SEQUENCE_NUMBER; an old epoch INVALID_PRODUCER_EPOCH.
func TestProduceIdempotentRetries(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	e.createTopic("t", topicSpec{})
	c := e.dial()
	pid := int64(4242)
	b0 := makeBatch(t, batchSpec{n: 3, producerID: pid, baseSeq: 0})
	b1 := makeBatch(t, batchSpec{n: 2, producerID: pid, baseSeq: 3})
	first := e.produceOne(c, 11, "t", 0, -1, bytes.Clone(b0))
	second := e.produceOne(c, 11, "t", 0, -1, bytes.Clone(b1))
	if first.ErrorCode != 0 || first.BaseOffset != 0 || second.ErrorCode != 0 || second.BaseOffset != 3 {
		t.Fatalf("first %+v second %+v", first, second)
	}
	// Duplicates of both (a client retry after lost responses), in a new connection.
	c2 := e.dial()
	for i, b := range [][]byte{b0, b1} {
		dup := e.produceOne(c2, 11, "t", 0, -1, bytes.Clone(b))
		want := []int64{0, 3}[i]
		if dup.ErrorCode != 0 || dup.BaseOffset != want {
			t.Fatalf("duplicate %d: %+v, want offset %d", i, dup, want)
		}
	}
	if end := e.partition("t", 0).LogEndOffset(); end != 5 {
		t.Fatalf("log end %d after duplicates, want 5", end)
	}
	gap := e.produceOne(c, 11, "t", 0, -1, makeBatch(t, batchSpec{n: 1, producerID: pid, baseSeq: 9}))
	if gap.ErrorCode != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("sequence gap: %+v", gap)
	}
	if p := e.produceOne(c, 11, "t", 0, -1, makeBatch(t, batchSpec{n: 1, producerID: pid, producerEpoch: 1, baseSeq: 0})); p.ErrorCode != 0 || p.BaseOffset != 5 {
		t.Fatalf("epoch bump: %+v", p)
	}
	old := e.produceOne(c, 11, "t", 0, -1, makeBatch(t, batchSpec{n: 1, producerID: pid, producerEpoch: 0, baseSeq: 5}))
	if old.ErrorCode != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("old epoch: %+v", old)
	}
}

func TestProduceTransactionalRefused(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	e.createTopic("t", topicSpec{})
	e.createTopic("u", topicSpec{})
	c := e.dial()
	txnBatch := makeBatch(t, batchSpec{n: 1, producerID: 7, transactional: true})
	// Without a transactional id the whole request fails, the plain partition too.
	req := produceReq("t", 0, 1, bytes.Clone(txnBatch))
	req.TopicData = append(req.TopicData, produceReq("u", 0, 1, makeBatch(t, batchSpec{n: 1})).TopicData...)
	resp := e.call(c, 9, req).(*message.ProduceResponse)
	for _, tr := range resp.Responses {
		if p := tr.PartitionResponses[0]; p.ErrorCode != kerr.TransactionalIDAuthorizationFailed.Code {
			t.Fatalf("transactional batch without id, topic %s: %+v", tr.Name, p)
		}
	}
	req = produceReq("t", 0, 1, bytes.Clone(txnBatch))
	req.TransactionalId = wire.Ptr("tx")
	resp = e.call(c, 9, req).(*message.ProduceResponse)
	p := resp.Responses[0].PartitionResponses[0]
	if p.ErrorCode != kerr.InvalidTxnState.Code || p.ErrorMessage == nil || !strings.Contains(*p.ErrorMessage, "not added to the transaction") {
		t.Fatalf("transactional batch with id: %+v", p)
	}
	// A transactional id with plain batches appends as Kafka does.
	req = produceReq("t", 0, 1, makeBatch(t, batchSpec{n: 1}))
	req.TransactionalId = wire.Ptr("tx")
	if p := e.call(c, 9, req).(*message.ProduceResponse).Responses[0].PartitionResponses[0]; p.ErrorCode != 0 || p.BaseOffset != 0 {
		t.Fatalf("plain batch with a transactional id: %+v", p)
	}
}

// Many partitions in one request: each is answered in request order with its own offsets,
// whatever order the concurrent appends finished in.
func TestProduceManyPartitions(t *testing.T) {
	// Concurrent appends (acks=all under group commit) and sequential ones (acks=1, policy none).
	t.Run("concurrent", func(t *testing.T) { testProduceManyPartitions(t, replica.FlushGroupCommit, -1) })
	t.Run("sequential", func(t *testing.T) { testProduceManyPartitions(t, replica.FlushNone, 1) })
}

func testProduceManyPartitions(t *testing.T, policy replica.FlushPolicy, acks int16) {
	e := newDataEnv(t, dataEnvOptions{flush: policy})
	const parts = 3 * maxProduceWorkers
	e.createTopic("a", topicSpec{partitions: parts})
	e.createTopic("b", topicSpec{partitions: 2})
	c := e.dial()
	for round := range 3 {
		req := message.NewProduceRequest()
		req.Acks, req.TimeoutMs = acks, 10_000
		ta := message.ProduceRequestTopicProduceData{Name: "a"}
		for p := range int32(parts) {
			ta.PartitionData = append(ta.PartitionData, message.ProduceRequestPartitionProduceData{
				Index: parts - 1 - p, Records: wire.RecordBytes(makeBatch(t, batchSpec{n: int(p%3) + 1})),
			})
		}
		tb := message.ProduceRequestTopicProduceData{Name: "b", PartitionData: []message.ProduceRequestPartitionProduceData{
			{Index: 1, Records: wire.RecordBytes(makeBatch(t, batchSpec{n: 2}))},
			{Index: 9, Records: wire.RecordBytes(makeBatch(t, batchSpec{n: 2}))},
		}}
		req.TopicData = []message.ProduceRequestTopicProduceData{ta, tb}
		resp := e.call(c, 11, req).(*message.ProduceResponse)
		if len(resp.Responses) != 2 || resp.Responses[0].Name != "a" || len(resp.Responses[0].PartitionResponses) != parts {
			t.Fatalf("response shape: %d topics", len(resp.Responses))
		}
		for i, p := range resp.Responses[0].PartitionResponses {
			idx := int32(parts - 1 - i)
			want := int64(round * (int(parts-1-idx)%3 + 1))
			if p.Index != idx || p.ErrorCode != 0 || p.BaseOffset != want {
				t.Fatalf("round %d, partition %d: %+v, want offset %d", round, idx, p, want)
			}
		}
		b := resp.Responses[1].PartitionResponses
		if b[0].Index != 1 || b[0].ErrorCode != 0 || b[0].BaseOffset != int64(2*round) || b[1].Index != 9 || b[1].ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("topic b: %+v", b)
		}
	}
}

func TestProduceLogAppendTime(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	cfg := replica.DefaultConfig()
	cfg.TimestampType = replica.LogAppendTime
	e.createTopic("t", topicSpec{cfg: &cfg})
	c := e.dial()
	before := time.Now().UnixMilli()
	p := e.produceOne(c, 9, "t", 0, 1, makeBatch(t, batchSpec{n: 2, timestampMs: 1000}))
	if p.ErrorCode != 0 || p.LogAppendTimeMs < before {
		t.Fatalf("%+v, want a log append time >= %d", p, before)
	}
	fr := e.call(c, 12, fetchReq(12, "t", wire.UUID{}, 0, 0)).(*message.FetchResponse)
	for _, r := range recordsOf(t, fr.Responses[0].Partitions[0].Records) {
		if r.ts != p.LogAppendTimeMs {
			t.Fatalf("record timestamp %d, want the append time %d", r.ts, p.LogAppendTimeMs)
		}
	}
}

func flipLastByte(b []byte) []byte {
	b = bytes.Clone(b)
	b[len(b)-1] ^= 0xff
	return b
}

// Hostile record bytes: random garbage and every single-byte corruption of a valid batch.
// Each is answered with a mapped error (never UNKNOWN_SERVER_ERROR) or, where the byte lies
// outside what is validated (the leader epoch the broker overwrites), appended; the
// connection keeps serving throughout.
func TestProduceHostileRecords(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{flush: replica.FlushNone})
	e.createTopic("t", topicSpec{})
	c := e.dial()
	valid := makeBatch(t, batchSpec{n: 3, keyPrefix: "k", codec: record.CompressionGzip})
	var inputs [][]byte
	for i := range valid {
		b := bytes.Clone(valid)
		b[i] ^= 0x5a
		inputs = append(inputs, b)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, rng.IntN(200))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if len(b) > 17 && rng.IntN(2) == 0 {
			b[16] = 2 // magic 2, so that parsing goes further
		}
		inputs = append(inputs, b)
	}
	accepted := 0
	for i, in := range inputs {
		p := e.produceOne(c, 11, "t", 0, 1, in)
		switch {
		case p.ErrorCode == 0:
			accepted++
		case p.ErrorCode == kerr.UnknownServerError.Code || kerr.ForCode(p.ErrorCode) == nil:
			t.Fatalf("input %d: unmapped error %d (%v)", i, p.ErrorCode, p.ErrorMessage)
		}
	}
	// Exactly the 4 leader-epoch bytes are outside the CRC and overwritten by the broker.
	if accepted != 4 {
		t.Fatalf("%d hostile inputs accepted, want 4", accepted)
	}
	if p := e.produceOne(c, 11, "t", 0, 1, valid); p.ErrorCode != 0 || p.BaseOffset != 12 {
		t.Fatalf("valid batch after the hostile ones: %+v", p)
	}
}
