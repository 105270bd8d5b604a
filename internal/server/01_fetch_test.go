package server

import (
	"context"
	"testing"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
	"github.com/sluicehq/sluice/internal/record"
	"github.com/sluicehq/sluice/internal/replica"
	"github.com/sluicehq/sluice/internal/storage"
)

// Every served version, by name before v13 and by topic id from v13.
func TestFetchVersions(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	id := e.createTopic("t", topicSpec{})
	c := e.dial()
	if p := e.produceOne(c, 9, "t", 0, 1, makeBatch(t, batchSpec{n: 7, keyPrefix: "k"})); p.ErrorCode != 0 {
		t.Fatal(p)
	}
	for v := int16(4); v <= 17; v++ {
		resp := e.call(c, v, fetchReq(v, "t", id, 0, 2)).(*message.FetchResponse)
		if len(resp.Responses) != 1 || len(resp.Responses[0].Partitions) != 1 {
			t.Fatalf("v%d: shape %+v", v, resp)
		}
		tr := resp.Responses[0]
		if v >= 13 && tr.TopicId != id || v < 13 && tr.Topic != "t" {
			t.Fatalf("v%d: topic %q id %v", v, tr.Topic, tr.TopicId)
		}
		pd := tr.Partitions[0]
		recs := recordsOf(t, pd.Records)
		// The batch holding offset 2 starts at 0: the consumer skips what it did not ask for.
		if pd.ErrorCode != 0 || pd.HighWatermark != 7 || pd.LastStableOffset != 7 || (v >= 5) != (pd.LogStartOffset == 0) ||
			len(recs) != 7 || pd.AbortedTransactions != nil || pd.PreferredReadReplica != -1 {
			t.Fatalf("v%d: %+v, %d records", v, pd, len(recs))
		}
	}
}

func TestFetchErrors(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	id := e.createTopic("t", topicSpec{epoch: 3})
	e.registerBroker(2, "other.example", 9093)
	remote := e.createTopic("remote", topicSpec{leader: 2, epoch: 6})
	zcfg := replica.DefaultConfig()
	zcfg.CompressionType = replica.CompressionZstd
	zid := e.createTopic("z", topicSpec{cfg: &zcfg})
	c := e.dial()
	e.produceOne(c, 9, "t", 0, 1, makeBatch(t, batchSpec{n: 5}))
	e.produceOne(c, 9, "z", 0, 1, makeBatch(t, batchSpec{n: 5}))

	tests := []struct {
		name    string
		version int16
		topic   string
		id      wire.UUID
		part    int32
		offset  int64
		epoch   int32
		want    int16
	}{
		{"offset above the end", 12, "t", id, 0, 6, -1, kerr.OffsetOutOfRange.Code},
		{"negative offset", 12, "t", id, 0, -1, -1, kerr.OffsetOutOfRange.Code},
		{"unknown topic", 12, "nope", id, 0, 0, -1, kerr.UnknownTopicOrPartition.Code},
		{"unknown partition", 12, "t", id, 3, 0, -1, kerr.UnknownTopicOrPartition.Code},
		{"unknown topic id", 13, "", wire.UUID{9, 9}, 0, 0, -1, kerr.UnknownTopicID.Code},
		{"fenced epoch", 12, "t", id, 0, 0, 2, kerr.FencedLeaderEpoch.Code},
		{"unknown epoch", 12, "t", id, 0, 0, 4, kerr.UnknownLeaderEpoch.Code},
		{"not led here v12", 12, "remote", remote, 0, 0, -1, kerr.NotLeaderOrFollower.Code},
		{"not led here v16", 16, "remote", remote, 0, 0, -1, kerr.NotLeaderOrFollower.Code},
		{"zstd topic v9", 9, "z", zid, 0, 0, -1, kerr.UnsupportedCompressionType.Code},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := fetchReq(tc.version, tc.topic, tc.id, tc.part, tc.offset)
			req.Topics[0].Partitions[0].CurrentLeaderEpoch = tc.epoch
			req.MaxWaitMs = 60_000 // an error answers at once
			resp := e.call(c, tc.version, req).(*message.FetchResponse)
			pd := resp.Responses[0].Partitions[0]
			if pd.ErrorCode != tc.want || pd.HighWatermark != -1 || pd.LogStartOffset != -1 || pd.LastStableOffset != -1 || pd.Records.Len() != 0 {
				t.Fatalf("got %+v, want code %d and -1 offsets", pd, tc.want)
			}
			switch {
			case tc.want == kerr.NotLeaderOrFollower.Code && tc.version >= 12:
				if pd.CurrentLeader.LeaderId != 2 || pd.CurrentLeader.LeaderEpoch != 6 {
					t.Fatalf("current leader %+v", pd.CurrentLeader)
				}
				wantNodes := 0
				if tc.version >= 16 {
					wantNodes = 1
				}
				if len(resp.NodeEndpoints) != wantNodes || wantNodes == 1 && resp.NodeEndpoints[0].Host != "other.example" {
					t.Fatalf("node endpoints %+v", resp.NodeEndpoints)
				}
			case tc.want == kerr.FencedLeaderEpoch.Code:
				if pd.CurrentLeader.LeaderId != dataSelf || pd.CurrentLeader.LeaderEpoch != 3 {
					t.Fatalf("current leader %+v", pd.CurrentLeader)
				}
			}
		})
	}
	// zstd topics are fine from v10.
	resp := e.call(c, 10, fetchReq(10, "z", zid, 0, 0)).(*message.FetchResponse)
	if pd := resp.Responses[0].Partitions[0]; pd.ErrorCode != 0 || len(recordsOf(t, pd.Records)) != 5 {
		t.Fatalf("zstd topic at v10: %+v", pd)
	}
}

// Kafka's size rules: partition_max_bytes and max_bytes bound the data, except that the first
// batch of the first partition with data comes whole.
func TestFetchSizeLimits(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	e.createTopic("t", topicSpec{partitions: 2})
	c := e.dial()
	big := makeBatch(t, batchSpec{n: 4, valueBytes: 3000}) // ~12 KB
	for range 3 {
		e.produceOne(c, 9, "t", 0, 1, big)
		e.produceOne(c, 9, "t", 1, 1, big)
	}
	batchLen := int64(len(big))
	fetch := func(maxBytes, partMax int32) (int64, int64) {
		req := fetchReq(12, "t", wire.UUID{}, 0, 0)
		req.MaxBytes = maxBytes
		p := req.Topics[0].Partitions[0]
		p.PartitionMaxBytes = partMax
		p1 := p
		p1.Partition = 1
		req.Topics[0].Partitions = []message.FetchRequestFetchPartition{p, p1}
		resp := e.call(c, 12, req).(*message.FetchResponse)
		ps := resp.Responses[0].Partitions
		return ps[0].Records.Len(), ps[1].Records.Len()
	}
	tests := []struct {
		name              string
		maxBytes, partMax int32
		want0, want1      int64
	}{
		{"everything", 1 << 20, 1 << 20, 3 * batchLen, 3 * batchLen},
		{"partition limit: whole batches only", 1 << 20, int32(2*batchLen + 10), 2 * batchLen, 2 * batchLen},
		{"tiny partition limit: first batch of the first partition whole", 1 << 20, 10, batchLen, 0},
		{"response limit", int32(batchLen + 10), 1 << 20, batchLen, 0},
		{"response limit zero", 0, 1 << 20, batchLen, 0},
	}
	for _, tc := range tests {
		got0, got1 := fetch(tc.maxBytes, tc.partMax)
		if got0 != tc.want0 || got1 != tc.want1 {
			t.Errorf("%s: got %d/%d bytes, want %d/%d", tc.name, got0, got1, tc.want0, tc.want1)
		}
	}
}

// fetch.max.bytes caps what a request may ask for.
func TestFetchBrokerMaxBytes(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{overrides: map[string]string{"fetch.max.bytes": "1024"}})
	e.createTopic("t", topicSpec{})
	c := e.dial()
	b := makeBatch(t, batchSpec{n: 1, valueBytes: 600})
	for range 4 {
		e.produceOne(c, 9, "t", 0, 1, b)
	}
	resp := e.call(c, 12, fetchReq(12, "t", wire.UUID{}, 0, 0)).(*message.FetchResponse)
	if n := resp.Responses[0].Partitions[0].Records.Len(); n != int64(len(b)) {
		t.Fatalf("%d bytes under fetch.max.bytes=1024, want one %d-byte batch", n, len(b))
	}
}

// The long poll is woken by the append itself: the test's read deadline (10 s) is far below
// max_wait_ms, so only a wake can deliver the data in time.
func TestFetchLongPollWakesOnAppend(t *testing.T) {
	for _, follower := range []bool{false, true} {
		name := "consumer"
		if follower {
			name = "follower"
		}
		t.Run(name, func(t *testing.T) {
			e := newDataEnv(t, dataEnvOptions{})
			e.registerBroker(2, "other.example", 9093)
			e.createTopic("t", topicSpec{})
			if follower {
				// Broker 2 is an assigned replica (not yet in the ISR).
				st := replica.PartitionState{Leader: dataSelf, LeaderEpoch: 1, PartitionEpoch: 1, Replicas: []int32{dataSelf, 2}, ISR: []int32{dataSelf}}
				if _, err := e.rm.MakeLeader(context.Background(), replica.TopicPartition{Topic: "t", Partition: 0}, e.partition("t", 0).TopicID(), st, replica.DefaultConfig()); err != nil {
					t.Fatal(err)
				}
			}
			fc := e.dial()
			req := fetchReq(15, "t", wire.UUID{}, 0, 0)
			req.Topics[0].TopicId = wire.UUID(e.partition("t", 0).TopicID())
			req.MaxWaitMs, req.MinBytes = 120_000, 1
			if follower {
				req.ReplicaState.ReplicaId = 2
			}
			fc.send(15, 1, req)
			waitUntil(t, "the fetch to be parked", func() bool { return e.srv.inflight() == 1 })
			pc := e.dial()
			e.produceOne(pc, 9, "t", 0, 1, makeBatch(t, batchSpec{n: 3}))
			_, resp := fc.recv(message.KeyFetch, 15)
			pd := resp.(*message.FetchResponse).Responses[0].Partitions[0]
			if pd.ErrorCode != 0 || len(recordsOf(t, pd.Records)) != 3 {
				t.Fatalf("woken fetch: %+v", pd)
			}
		})
	}
}

// With nothing to read the fetch answers at max_wait_ms, empty and without error.
func TestFetchLongPollTimesOut(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	e.createTopic("t", topicSpec{})
	c := e.dial()
	req := fetchReq(12, "t", wire.UUID{}, 0, 0)
	req.MaxWaitMs, req.MinBytes = 50, 1
	pd := e.call(c, 12, req).(*message.FetchResponse).Responses[0].Partitions[0]
	if pd.ErrorCode != 0 || pd.Records.Len() != 0 || pd.HighWatermark != 0 {
		t.Fatalf("%+v", pd)
	}
	// min_bytes above what there is: the wait ends at the deadline with what there is.
	e.produceOne(c, 9, "t", 0, 1, makeBatch(t, batchSpec{n: 2}))
	req.MinBytes = 1 << 20
	pd = e.call(c, 12, req).(*message.FetchResponse).Responses[0].Partitions[0]
	if pd.ErrorCode != 0 || len(recordsOf(t, pd.Records)) != 2 {
		t.Fatalf("%+v", pd)
	}
}

// A broker shutdown answers a parked fetch at once.
func TestFetchLongPollEndsOnShutdown(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	e.createTopic("t", topicSpec{})
	c := e.dial()
	req := fetchReq(12, "t", wire.UUID{}, 0, 0)
	req.MaxWaitMs, req.MinBytes = 120_000, 1
	c.send(12, 1, req)
	waitUntil(t, "the fetch to be parked", func() bool { return e.srv.inflight() == 1 })
	closed := make(chan error, 1)
	go func() { closed <- e.srv.Close(context.Background()) }()
	_, resp := c.recv(message.KeyFetch, 12)
	if pd := resp.(*message.FetchResponse).Responses[0].Partitions[0]; pd.ErrorCode != 0 || pd.Records.Len() != 0 {
		t.Fatalf("%+v", pd)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}

// KIP-227: full and incremental fetches, forgotten partitions, session errors.
func TestFetchSessions(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	id := e.createTopic("t", topicSpec{partitions: 3})
	c := e.dial()
	for p := range int32(3) {
		e.produceOne(c, 9, "t", p, 1, makeBatch(t, batchSpec{n: 2}))
	}
	part := func(p int32, offset int64) message.FetchRequestFetchPartition {
		fp := message.FetchRequestFetchPartition{}
		fp.Default()
		fp.Partition, fp.FetchOffset, fp.PartitionMaxBytes = p, offset, 1<<20
		return fp
	}
	req := fetchReq(13, "", id, 0, 0)
	req.SessionId, req.SessionEpoch = 0, 0
	req.Topics[0].Partitions = []message.FetchRequestFetchPartition{part(0, 0), part(1, 0), part(2, 0)}
	full := e.call(c, 13, req).(*message.FetchResponse)
	if full.SessionId == 0 || len(full.Responses[0].Partitions) != 3 {
		t.Fatalf("full fetch: session %d, %d partitions", full.SessionId, len(full.Responses[0].Partitions))
	}
	session := full.SessionId
	incr := func(epoch int32, parts []message.FetchRequestFetchPartition, forget []int32) *message.FetchResponse {
		r := fetchReq(13, "", id, 0, 0)
		r.SessionId, r.SessionEpoch = session, epoch
		r.Topics[0].Partitions = parts
		if len(parts) == 0 {
			r.Topics = nil
		}
		if forget != nil {
			r.ForgottenTopicsData = []message.FetchRequestForgottenTopic{{TopicId: id, Partitions: forget}}
		}
		return e.call(c, 13, r).(*message.FetchResponse)
	}
	// The consumer moved its positions to the ends: nothing new, so nothing is sent.
	resp := incr(1, []message.FetchRequestFetchPartition{part(0, 2), part(1, 2), part(2, 2)}, nil)
	if resp.ErrorCode != 0 || resp.SessionId != session {
		t.Fatalf("incremental: %+v", resp)
	}
	if n := countPartitions(resp); n != 0 {
		t.Fatalf("incremental with nothing new sent %d partitions", n)
	}
	e.produceOne(c, 9, "t", 1, 1, makeBatch(t, batchSpec{n: 1}))
	resp = incr(2, nil, nil)
	if n := countPartitions(resp); n != 1 || resp.Responses[0].Partitions[0].PartitionIndex != 1 ||
		len(recordsOf(t, resp.Responses[0].Partitions[0].Records)) != 1 {
		t.Fatalf("after a produce to partition 1: %+v", resp)
	}
	// Forget partition 2 (and move past partition 1's record), then produce to 2: the session
	// no longer fetches it.
	if resp = incr(3, []message.FetchRequestFetchPartition{part(1, 3)}, []int32{2}); resp.ErrorCode != 0 {
		t.Fatalf("forgetting: %+v", resp)
	}
	e.produceOne(c, 9, "t", 2, 1, makeBatch(t, batchSpec{n: 1}))
	resp = incr(4, nil, nil)
	if n := countPartitions(resp); n != 0 {
		t.Fatalf("forgotten partition still fetched: %+v", resp)
	}
	// Wrong epoch, unknown session.
	if resp = incr(9, nil, nil); resp.ErrorCode != kerr.InvalidFetchSessionEpoch.Code || resp.SessionId != 0 || len(resp.Responses) != 0 {
		t.Fatalf("wrong epoch: %+v", resp)
	}
	session = 12345
	if resp = incr(1, nil, nil); resp.ErrorCode != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("unknown session: %+v", resp)
	}
}

func countPartitions(resp *message.FetchResponse) int {
	n := 0
	for _, t := range resp.Responses {
		n += len(t.Partitions)
	}
	return n
}

func TestFetchReadCommittedAndDivergingEpoch(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	id := e.createTopic("t", topicSpec{})
	c := e.dial()
	e.produceOne(c, 9, "t", 0, 1, makeBatch(t, batchSpec{n: 4}))
	req := fetchReq(12, "t", id, 0, 0)
	req.IsolationLevel = 1
	pd := e.call(c, 12, req).(*message.FetchResponse).Responses[0].Partitions[0]
	if pd.ErrorCode != 0 || pd.AbortedTransactions == nil || len(pd.AbortedTransactions) != 0 || pd.LastStableOffset != 4 {
		t.Fatalf("read_committed: %+v", pd)
	}
	// A new leader epoch 5 starting at offset 4; a fetcher that last saw epoch 3 at offset 6
	// must truncate to where epoch 0 ended.
	st := replica.PartitionState{Leader: dataSelf, LeaderEpoch: 5, PartitionEpoch: 5, Replicas: []int32{dataSelf}, ISR: []int32{dataSelf}}
	if _, err := e.rm.MakeLeader(context.Background(), replica.TopicPartition{Topic: "t", Partition: 0}, storage.TopicID(id), st, replica.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	e.produceOne(c, 9, "t", 0, 1, makeBatch(t, batchSpec{n: 4}))
	req = fetchReq(12, "t", id, 0, 6)
	req.Topics[0].Partitions[0].LastFetchedEpoch = 3
	pd = e.call(c, 12, req).(*message.FetchResponse).Responses[0].Partitions[0]
	if pd.ErrorCode != 0 || pd.DivergingEpoch.Epoch != 0 || pd.DivergingEpoch.EndOffset != 4 || pd.Records.Len() != 0 {
		t.Fatalf("diverging epoch: %+v", pd)
	}
}

// The record bytes of a fetch response are file regions (sent with sendfile), released once
// the response is sent; without an OS file they are copied into memory.
func TestFetchSendsFileRegions(t *testing.T) {
	for _, memfs := range []bool{false, true} {
		o := dataEnvOptions{}
		if memfs {
			o.fs = storage.NewMemFS()
		}
		e := newDataEnv(t, o)
		e.createTopic("t", topicSpec{})
		c := e.dial()
		b := makeBatch(t, batchSpec{n: 3, codec: record.CompressionLZ4})
		e.produceOne(c, 9, "t", 0, 1, b)
		r := &Request{APIKey: message.KeyFetch, Version: 12}
		req := fetchReq(12, "t", wire.UUID{}, 0, 0)
		r.Body = req
		resp, err := e.srv.fetch(context.Background(), r, req)
		if err != nil {
			t.Fatal(err)
		}
		rs := resp.(*message.FetchResponse).Responses[0].Partitions[0].Records
		chunks := rs.Chunks()
		if rs.Len() != int64(len(b)) || len(chunks) != 1 || (chunks[0].Region.File != nil) == memfs {
			t.Fatalf("memfs %v: %d bytes in %+v", memfs, rs.Len(), chunks)
		}
		if !memfs && len(r.afterSend) != 1 {
			t.Fatalf("%d AfterSend callbacks, want 1 to release the region", len(r.afterSend))
		}
		for _, fn := range r.afterSend {
			fn()
		}
	}
}

// A partition the metadata does not know is answered without cutting the long poll short
// (Kafka sorts such partitions out before reading): the fetch still waits for the data of
// the partition it can read.
func TestFetchLongPollIgnoresUnknownPartitions(t *testing.T) {
	e := newDataEnv(t, dataEnvOptions{})
	e.createTopic("t", topicSpec{})
	c := e.dial()
	req := fetchReq(12, "t", wire.UUID{}, 0, 0)
	req.MaxWaitMs, req.MinBytes = 120_000, 1
	unknown := req.Topics[0]
	unknown.Topic = "gone"
	req.Topics = append(req.Topics, unknown)
	c.send(12, 1, req)
	waitUntil(t, "the fetch to be parked", func() bool { return e.srv.inflight() == 1 })
	e.produceOne(e.dial(), 9, "t", 0, 1, makeBatch(t, batchSpec{n: 2}))
	_, r := c.recv(message.KeyFetch, 12)
	resp := r.(*message.FetchResponse)
	if pd := resp.Responses[0].Partitions[0]; pd.ErrorCode != 0 || len(recordsOf(t, pd.Records)) != 2 {
		t.Fatalf("known partition: %+v", pd)
	}
	if pd := resp.Responses[1].Partitions[0]; pd.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown partition: %+v", pd)
	}
}
