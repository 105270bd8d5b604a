package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/metarecord"
	"github.com/sluicehq/sluice/internal/protocol/wire"
	"github.com/sluicehq/sluice/internal/record"
	"github.com/sluicehq/sluice/internal/replica"
	"github.com/sluicehq/sluice/internal/storage"
	"github.com/sluicehq/sluice/internal/txn"
)

// dataSelf is the node id of the broker under test (baseProps' node.id).
const dataSelf int32 = 1

// dataEnv is a broker's data path assembled from real components: storage, replicas, a
// metadata FSM fed with Kafka's metadata records, a producer-id allocator and the server,
// listening on loopback. Topics are created by applying TopicRecord/PartitionRecord and
// making this broker the leader, as the node assembly does on a metadata delta.
type dataEnv struct {
	t     testing.TB
	srv   *testServer
	fsm   *metadata.FSM
	sm    *storage.Manager
	rm    *replica.Manager
	pids  *txn.ProducerIDs
	dir   string
	index uint64
	corr  atomic.Int32
}

type dataEnvOptions struct {
	flush     replica.FlushPolicy
	overrides map[string]string
	noPIDs    bool
	// fs replaces the real file system (no sendfile then).
	fs storage.FS
}

// pidSource hands out consecutive producer-id blocks (the controller's part in tests).
type pidSource struct {
	mu   sync.Mutex
	next int64
}

func (p *pidSource) AllocateBlock(context.Context) (int64, int32, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	first := p.next
	p.next += 1000
	return first, 1000, nil
}

var discardLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

func newDataEnv(t testing.TB, o dataEnvOptions) *dataEnv {
	t.Helper()
	e := &dataEnv{t: t, dir: t.TempDir()}
	fs := o.fs
	if fs == nil {
		fs = storage.NewOSFS()
	}
	sm, err := storage.OpenManager(context.Background(), storage.ManagerOptions{
		Dir: e.dir, FS: fs, Logger: discardLogger, CleanerThreads: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.sm = sm
	if o.flush == "" {
		o.flush = replica.FlushGroupCommit
	}
	rm, err := replica.NewManager(replica.ManagerOptions{Storage: sm, BrokerID: dataSelf, FlushPolicy: o.flush, Logger: discardLogger})
	if err != nil {
		t.Fatal(err)
	}
	e.rm = rm
	e.fsm = metadata.NewFSM(metadata.FSMOptions{ClusterID: "test-cluster", Logger: discardLogger})
	if !o.noPIDs {
		e.pids, err = txn.NewProducerIDs(txn.ProducerIDsOptions{Source: &pidSource{next: 1000}, Logger: discardLogger})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Closed last (cleanups run in reverse): the server first, then what it uses.
	t.Cleanup(func() {
		if e.pids != nil {
			e.pids.Close()
		}
		e.fsm.Close()
		if err := e.rm.Close(context.Background()); err != nil {
			t.Error(err)
		}
		if err := e.sm.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	overrides := map[string]string{"log.dirs": e.dir}
	for k, v := range o.overrides {
		overrides[k] = v
	}
	e.srv = startServer(t, overrides, func(opts *Options) {
		opts.Deps.Metadata = e.fsm
		opts.Deps.Replicas = e.rm
		opts.Deps.ProducerIDs = e.pids
		opts.Deps.LogDir = e.dir
	})
	e.apply(&metarecord.FeatureLevelRecord{Name: metadata.MetadataVersionFeature, FeatureLevel: metadata.MetadataVersionLevel})
	e.registerBroker(dataSelf, "127.0.0.1", 9092)
	return e
}

// apply commits records to the metadata image as one entry.
func (e *dataEnv) apply(recs ...metarecord.Record) {
	e.t.Helper()
	b, err := metadata.EncodeEntry(recs...)
	if err != nil {
		e.t.Fatal(err)
	}
	e.index++
	if err := e.fsm.Apply(e.index, 1, b); err != nil {
		e.t.Fatalf("apply: %v", err)
	}
}

func (e *dataEnv) registerBroker(id int32, host string, port uint16) {
	e.t.Helper()
	b := metarecord.NewRegisterBrokerRecord()
	b.BrokerId, b.BrokerEpoch, b.Fenced = id, -1, false
	b.EndPoints = []metarecord.RegisterBrokerRecordBrokerEndpoint{{Name: "PLAINTEXT", Host: host, Port: port}}
	e.apply(b)
}

// topicSpec describes a test topic.
type topicSpec struct {
	partitions int
	// leader is the leader of every partition (dataSelf when 0); partitions led elsewhere
	// exist in the metadata only.
	leader int32
	epoch  int32
	cfg    *replica.Config
}

// createTopic creates a topic in the metadata and, for partitions led here, the replicas.
func (e *dataEnv) createTopic(name string, spec topicSpec) wire.UUID {
	e.t.Helper()
	if spec.partitions == 0 {
		spec.partitions = 1
	}
	if spec.leader == 0 {
		spec.leader = dataSelf
	}
	id := wire.UUID(metadata.RandomUUID())
	recs := []metarecord.Record{&metarecord.TopicRecord{Name: name, TopicId: id}}
	for p := range spec.partitions {
		pr := metarecord.NewPartitionRecord()
		pr.PartitionId, pr.TopicId = int32(p), id
		pr.Replicas, pr.Isr, pr.Leader = []int32{spec.leader}, []int32{spec.leader}, spec.leader
		pr.LeaderEpoch, pr.PartitionEpoch = spec.epoch, spec.epoch
		recs = append(recs, pr)
	}
	e.apply(recs...)
	if spec.leader != dataSelf {
		return id
	}
	cfg := replica.DefaultConfig()
	if spec.cfg != nil {
		cfg = *spec.cfg
	}
	for p := range spec.partitions {
		st := replica.PartitionState{Leader: dataSelf, LeaderEpoch: spec.epoch, PartitionEpoch: spec.epoch, Replicas: []int32{dataSelf}, ISR: []int32{dataSelf}}
		if _, err := e.rm.MakeLeader(context.Background(), replica.TopicPartition{Topic: name, Partition: int32(p)}, storage.TopicID(id), st, cfg); err != nil {
			e.t.Fatal(err)
		}
	}
	return id
}

func (e *dataEnv) partition(topic string, p int32) *replica.Partition {
	e.t.Helper()
	part, err := e.rm.Partition(replica.TopicPartition{Topic: topic, Partition: p})
	if err != nil {
		e.t.Fatal(err)
	}
	return part
}

func (e *dataEnv) dial() *rawConn { return dial(e.t, e.srv.addr()) }

// call does one request/response round trip on c.
func (e *dataEnv) call(c *rawConn, version int16, req message.Request) message.Response {
	e.t.Helper()
	corr := e.corr.Add(1)
	c.send(version, corr, req)
	got, resp := c.recv(req.APIKey(), version)
	if got != corr {
		e.t.Fatalf("correlation id %d, want %d", got, corr)
	}
	return resp
}

// batchSpec describes a client batch.
type batchSpec struct {
	n             int
	keyPrefix     string
	valueBytes    int
	codec         record.Compression
	producerID    int64
	producerEpoch int16
	baseSeq       int32
	transactional bool
	headers       []record.Header
	timestampMs   int64
}

// makeBatch builds a client record batch (base offset 0, as producers send).
func makeBatch(t testing.TB, s batchSpec) []byte {
	t.Helper()
	if s.n == 0 {
		s.n = 1
	}
	opts := record.BatchOptions{
		ProducerID: record.NoProducerID, ProducerEpoch: record.NoProducerEpoch, BaseSequence: record.NoSequence,
		Compression: s.codec, Transactional: s.transactional,
	}
	if s.producerID > 0 {
		opts.ProducerID, opts.ProducerEpoch, opts.BaseSequence = s.producerID, s.producerEpoch, s.baseSeq
	}
	ts := s.timestampMs
	if ts == 0 {
		ts = time.Now().UnixMilli()
	}
	bd := record.NewBuilder(opts)
	for i := range s.n {
		var key []byte
		if s.keyPrefix != "" {
			key = fmt.Appendf(nil, "%s-%d", s.keyPrefix, i)
		}
		value := make([]byte, max(s.valueBytes, 8))
		copy(value, fmt.Sprintf("v%07d", i))
		if err := bd.Append(int32(i), ts, key, value, s.headers); err != nil {
			t.Fatal(err)
		}
	}
	b, err := bd.Build()
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), b...)
}

// produceReq builds a one-partition produce request.
func produceReq(topic string, partition int32, acks int16, records []byte) *message.ProduceRequest {
	req := message.NewProduceRequest()
	req.Acks, req.TimeoutMs = acks, 10_000
	req.TopicData = []message.ProduceRequestTopicProduceData{{
		Name:          topic,
		PartitionData: []message.ProduceRequestPartitionProduceData{{Index: partition, Records: wire.RecordBytes(records)}},
	}}
	return req
}

// produceOne produces records to one partition and returns the partition's answer.
func (e *dataEnv) produceOne(c *rawConn, version int16, topic string, partition int32, acks int16, records []byte) message.ProduceResponsePartitionProduceResponse {
	e.t.Helper()
	resp := e.call(c, version, produceReq(topic, partition, acks, records)).(*message.ProduceResponse)
	if len(resp.Responses) != 1 || len(resp.Responses[0].PartitionResponses) != 1 {
		e.t.Fatalf("produce response shape %+v", resp)
	}
	return resp.Responses[0].PartitionResponses[0]
}

// fetchReq builds a sessionless fetch of one partition by name (v<13) or id.
func fetchReq(version int16, topic string, id wire.UUID, partition int32, offset int64) *message.FetchRequest {
	req := message.NewFetchRequest()
	req.ReplicaId = -1
	req.ReplicaState.ReplicaId = -1
	req.MaxWaitMs, req.MinBytes, req.MaxBytes = 0, 1, 50<<20
	req.SessionId, req.SessionEpoch = 0, -1
	p := message.FetchRequestFetchPartition{}
	p.Default()
	p.Partition, p.FetchOffset, p.PartitionMaxBytes = partition, offset, 1<<20
	t := message.FetchRequestFetchTopic{Partitions: []message.FetchRequestFetchPartition{p}}
	if version >= 13 {
		t.TopicId = id
	} else {
		t.Topic = topic
	}
	req.Topics = []message.FetchRequestFetchTopic{t}
	return req
}

// recordsOf parses the batches in a fetched record set and returns each record's offset and
// value.
type fetchedRecord struct {
	offset int64
	key    []byte
	value  []byte
	ts     int64
	hdrs   int
}

func recordsOf(t testing.TB, rs wire.RecordSet) []fetchedRecord {
	t.Helper()
	b, ok := rs.Bytes()
	if !ok && rs.Len() > 0 {
		t.Fatalf("record set is not contiguous after decoding")
	}
	var out []fetchedRecord
	for len(b) > 0 {
		batch, rest, err := record.Parse(b, 1<<30)
		if err != nil {
			t.Fatalf("fetched batch: %v", err)
		}
		b = rest
		data, err := record.Decompress(nil, batch, 1<<30)
		if err != nil {
			t.Fatalf("decompress: %v", err)
		}
		it := record.NewRecordIter(data, batch.RecordCount())
		for it.Next() {
			r := it.Record()
			out = append(out, fetchedRecord{
				offset: r.Offset(batch), key: append([]byte(nil), r.Key...),
				value: append([]byte(nil), r.Value...), ts: r.Timestamp(batch), hdrs: r.Headers.Len(),
			})
		}
		if err := it.Err(); err != nil {
			t.Fatalf("records: %v", err)
		}
	}
	return out
}
