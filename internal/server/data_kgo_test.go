package server_test

// Integration tests of the partition-data handlers: a real single-node cluster in-process
// (internal/node/nodetest) driven by franz-go, the client users run.

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/node/nodetest"
)

// kgoWait bounds every client call of these tests; a safety net, not an assertion.
const kgoWait = 30 * time.Second

func kgoCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), kgoWait)
	t.Cleanup(cancel)
	return ctx
}

func createTopic(t *testing.T, adm *kadm.Client, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	ctx := kgoCtx(t)
	resp, err := adm.CreateTopic(ctx, partitions, 1, configs, topic)
	if err != nil || resp.Err != nil {
		t.Fatalf("create topic %s: %v / %v", topic, err, resp.Err)
	}
	// CreateTopics answers once the controller committed the topic; the broker makes its
	// replicas right after (as in Kafka). Wait for them, so that acks=0 records are not
	// dropped and consumers see every partition from their first fetch.
	for {
		lo, err := adm.ListEndOffsets(ctx, topic)
		ready := err == nil
		lo.Each(func(o kadm.ListedOffset) { ready = ready && o.Err == nil })
		if ready && len(lo[topic]) == int(partitions) {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("topic %s: replicas not ready: %v %+v", topic, err, lo)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// consumeN reads n records of topic from the start with a fresh consumer.
func consumeN(t *testing.T, c *nodetest.Cluster, topic string, n int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	opts = append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)
	cl := c.Client(t, opts...)
	ctx := kgoCtx(t)
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records of %s: %v", len(out), n, topic, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	if len(out) != n {
		t.Fatalf("consumed %d records, want %d", len(out), n)
	}
	return out
}

// Produce and consume in every codec, with keys, headers and a batch of a few MiB; an
// idempotent producer (franz-go's default) gets its id from InitProducerId.
func TestKgoProduceConsumeCodecs(t *testing.T) {
	c := nodetest.Start(t)
	adm := c.Admin(t)
	codecs := []struct {
		name  string
		codec kgo.CompressionCodec
	}{
		{"none", kgo.NoCompression()}, {"gzip", kgo.GzipCompression()}, {"snappy", kgo.SnappyCompression()},
		{"lz4", kgo.Lz4Compression()}, {"zstd", kgo.ZstdCompression()},
	}
	for _, cc := range codecs {
		t.Run(cc.name, func(t *testing.T) {
			topic := "codec-" + cc.name
			createTopic(t, adm, topic, 3, map[string]*string{"max.message.bytes": kadm.StringPtr("16777216")})
			p := c.Client(t, kgo.DefaultProduceTopic(topic), kgo.ProducerBatchCompression(cc.codec),
				kgo.ProducerBatchMaxBytes(8<<20), kgo.MaxBufferedBytes(64<<20), kgo.ProducerLinger(50*time.Millisecond))
			const n = 3000
			var recs []*kgo.Record
			for i := range n {
				recs = append(recs, &kgo.Record{
					Key:     fmt.Appendf(nil, "key-%d", i),
					Value:   bytes.Repeat(fmt.Appendf(nil, "%08d", i), 128), // 1 KiB
					Headers: []kgo.RecordHeader{{Key: "i", Value: fmt.Appendf(nil, "%d", i)}},
				})
			}
			if err := p.ProduceSync(kgoCtx(t), recs...).FirstErr(); err != nil {
				t.Fatalf("produce: %v", err)
			}
			got := consumeN(t, c, topic, n)
			seen := make(map[string]bool, n)
			for _, r := range got {
				var i int
				if _, err := fmt.Sscanf(string(r.Key), "key-%d", &i); err != nil {
					t.Fatalf("key %q", r.Key)
				}
				if !bytes.Equal(r.Value, recs[i].Value) || len(r.Headers) != 1 || string(r.Headers[0].Value) != fmt.Sprint(i) || seen[string(r.Key)] {
					t.Fatalf("record %d differs or repeats: %+v", i, r)
				}
				seen[string(r.Key)] = true
			}
		})
	}
}

func TestKgoAcks(t *testing.T) {
	c := nodetest.Start(t)
	adm := c.Admin(t)
	for _, tc := range []struct {
		name string
		opts []kgo.Opt
	}{
		{"acks=0", []kgo.Opt{kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite()}},
		{"acks=1", []kgo.Opt{kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite()}},
		{"acks=all", []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := "acks-" + tc.name[5:]
			createTopic(t, adm, topic, 1, nil)
			p := c.Client(t, append(tc.opts, kgo.DefaultProduceTopic(topic))...)
			for i := range 100 {
				if err := p.ProduceSync(kgoCtx(t), &kgo.Record{Value: fmt.Appendf(nil, "%d", i)}).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			got := consumeN(t, c, topic, 100)
			for i, r := range got {
				if r.Offset != int64(i) || string(r.Value) != fmt.Sprint(i) {
					t.Fatalf("record %d: offset %d value %q", i, r.Offset, r.Value)
				}
			}
		})
	}
}

// A raw produce sent twice (a retry after a lost response) is answered with the original
// offsets and stored once.
func TestKgoIdempotentDuplicate(t *testing.T) {
	c := nodetest.Start(t)
	adm := c.Admin(t)
	createTopic(t, adm, "idem", 1, nil)
	cl := c.Client(t)
	ctx := kgoCtx(t)
	initReq := kmsg.NewPtrInitProducerIDRequest()
	initReq.TransactionTimeoutMillis = 60000
	initResp, err := initReq.RequestWith(ctx, cl)
	if err != nil || initResp.ErrorCode != 0 {
		t.Fatalf("InitProducerId: %v %+v", err, initResp)
	}
	batch := rawBatch(t, initResp.ProducerID, initResp.ProducerEpoch, 0, 5)
	produce := func(b []byte) kmsg.ProduceResponseTopicPartition {
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = -1, 10000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = "idem"
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = b
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		for {
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				t.Fatal(err)
			}
			// Right after CreateTopics the broker may not have made its replica yet.
			if p := resp.Topics[0].Partitions[0]; p.ErrorCode != kerr.NotLeaderForPartition.Code || ctx.Err() != nil {
				return p
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	first := produce(bytes.Clone(batch))
	again := produce(bytes.Clone(batch))
	if first.ErrorCode != 0 || again.ErrorCode != 0 || again.BaseOffset != first.BaseOffset {
		t.Fatalf("first %+v, retry %+v", first, again)
	}
	next := produce(rawBatch(t, initResp.ProducerID, initResp.ProducerEpoch, 5, 1))
	if next.ErrorCode != 0 || next.BaseOffset != 5 {
		t.Fatalf("next batch: %+v", next)
	}
	end, err := adm.ListEndOffsets(ctx, "idem")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := end.Lookup("idem", 0); o.Offset != 6 {
		t.Fatalf("end offset %d, want 6 (no duplicate stored)", o.Offset)
	}
	// DescribeProducers shows the producer with its last sequence.
	dp, err := adm.DescribeProducers(ctx, kadm.TopicsSet{"idem": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	dp.EachProducer(func(p kadm.DescribedProducer) {
		if p.ProducerID == initResp.ProducerID && p.LastSequence == 5 {
			found = true
		}
	})
	if !found {
		t.Fatalf("DescribeProducers: %+v", dp)
	}
	// Garbage in place of a batch: CORRUPT_MESSAGE, and the broker goes on.
	bad := bytes.Clone(batch)
	bad[len(bad)-1] ^= 0xff
	if got := produce(bad); got.ErrorCode != kerr.CorruptMessage.Code {
		t.Fatalf("corrupt batch: %+v", got)
	}
	if got := produce(rawBatch(t, initResp.ProducerID, initResp.ProducerEpoch, 6, 1)); got.ErrorCode != 0 || got.BaseOffset != 6 {
		t.Fatalf("after a corrupt batch: %+v", got)
	}
}

// rawBatch encodes an uncompressed idempotent batch with kmsg (the oracle's encoder).
func rawBatch(t *testing.T, pid int64, epoch int16, seq int32, n int) []byte {
	t.Helper()
	now := time.Now().UnixMilli()
	var recs []byte
	for i := range n {
		r := kmsg.NewRecord()
		r.OffsetDelta = int32(i)
		r.Value = fmt.Appendf(nil, "value-%d", int(seq)+i)
		r.Length = int32(len(r.AppendTo(nil)) - 1)
		recs = r.AppendTo(recs)
	}
	b := kmsg.NewRecordBatch()
	b.Magic = 2
	b.LastOffsetDelta = int32(n - 1)
	b.FirstTimestamp, b.MaxTimestamp = now, now
	b.ProducerID, b.ProducerEpoch, b.FirstSequence = pid, epoch, seq
	b.NumRecords = int32(n)
	b.Records = recs
	raw := b.AppendTo(nil)
	b.Length = int32(len(raw) - 12)
	raw = b.AppendTo(nil)
	b.CRC = int32(crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b.AppendTo(nil)
}

// A consumer's long poll is woken by the produce: with fetch.max.wait far beyond the test's
// bound, only a wake delivers the records in time. Several rounds exercise franz-go's
// incremental fetch sessions.
func TestKgoLongPollAndSessions(t *testing.T) {
	c := nodetest.Start(t)
	adm := c.Admin(t)
	createTopic(t, adm, "poll", 4, nil)
	prod := c.Client(t, kgo.DefaultProduceTopic("poll"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx := kgoCtx(t)
	// Warm up: one record per partition before the consumer starts, so that every replica
	// exists by then (replicas are made after CreateTopics answers, in Kafka too) and the
	// consumer's first fetch covers every partition: a client has one fetch in flight per
	// broker, and partitions it learns about while that fetch is parked join the next one.
	for p := range int32(4) {
		if err := prod.ProduceSync(ctx, &kgo.Record{Partition: p, Value: []byte("warm-up")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cons := c.Client(t, kgo.ConsumeTopics("poll"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(5*time.Minute))
	for n := 0; n < 4; {
		n += len(cons.PollFetches(ctx).Records())
		if ctx.Err() != nil {
			t.Fatalf("warm-up: %d of 4 records consumed", n)
		}
	}
	// The consumer polls first, the produce follows: a parked fetch must be woken.
	for round := range 5 {
		got := make(chan []*kgo.Record, 1)
		go func() {
			var recs []*kgo.Record
			for len(recs) < 10 && ctx.Err() == nil {
				recs = append(recs, cons.PollFetches(ctx).Records()...)
			}
			got <- recs
		}()
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Add(1)
			prod.Produce(ctx, &kgo.Record{Partition: int32(i % 4), Value: fmt.Appendf(nil, "%d-%d", round, i)}, func(_ *kgo.Record, err error) {
				defer wg.Done()
				if err != nil {
					t.Errorf("produce: %v", err)
				}
			})
		}
		wg.Wait()
		if recs := <-got; len(recs) != 10 {
			t.Fatalf("round %d: %d records", round, len(recs))
		}
	}
}

func TestKgoListOffsetsAndDeleteRecords(t *testing.T) {
	c := nodetest.Start(t)
	adm := c.Admin(t)
	createTopic(t, adm, "lo", 1, nil)
	p := c.Client(t, kgo.DefaultProduceTopic("lo"))
	ctx := kgoCtx(t)
	base := time.Now().Add(-time.Hour)
	for i := range 10 {
		r := &kgo.Record{Value: []byte{byte(i)}, Timestamp: base.Add(time.Duration(i) * time.Minute)}
		if i == 6 {
			r.Timestamp = base.Add(30 * time.Minute) // the maximum
		}
		if err := p.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	check := func(name string, lo kadm.ListedOffsets, err error, want int64) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		o, _ := lo.Lookup("lo", 0)
		if o.Err != nil || o.Offset != want {
			t.Fatalf("%s: %+v, want offset %d", name, o, want)
		}
	}
	lo, err := adm.ListStartOffsets(ctx, "lo")
	check("start", lo, err, 0)
	lo, err = adm.ListEndOffsets(ctx, "lo")
	check("end", lo, err, 10)
	lo, err = adm.ListMaxTimestampOffsets(ctx, "lo")
	check("max timestamp", lo, err, 6)
	lo, err = adm.ListOffsetsAfterMilli(ctx, base.Add(3*time.Minute).UnixMilli(), "lo")
	check("after a time", lo, err, 3)

	dr, err := adm.DeleteRecords(ctx, kadm.Offsets{"lo": {0: {At: 4}}})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := dr.Lookup("lo", 0); r.Err != nil || r.LowWatermark != 4 {
		t.Fatalf("delete records: %+v", r)
	}
	lo, err = adm.ListStartOffsets(ctx, "lo")
	check("start after delete", lo, err, 4)
	// A raw fetch below the new start: OFFSET_OUT_OF_RANGE.
	cl := c.Client(t)
	md, err := adm.Metadata(ctx, "lo")
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrFetchRequest()
	req.Version = 13
	req.ReplicaID, req.MaxBytes, req.SessionEpoch = -1, 1<<20, -1
	ft := kmsg.NewFetchRequestTopic()
	ft.TopicID = [16]byte(md.Topics["lo"].ID)
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.FetchOffset, fp.PartitionMaxBytes = 1, 1<<20
	ft.Partitions = append(ft.Partitions, fp)
	req.Topics = append(req.Topics, ft)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if pe := resp.Topics[0].Partitions[0].ErrorCode; pe != kerr.OffsetOutOfRange.Code {
		t.Fatalf("fetch below the log start (by topic id): error %d", pe)
	}
	// A consumer resets to the new start and reads the rest.
	got := consumeN(t, c, "lo", 6)
	if got[0].Offset != 4 {
		t.Fatalf("first offset %d after delete", got[0].Offset)
	}
}

func TestKgoDescribeLogDirs(t *testing.T) {
	c := nodetest.Start(t)
	adm := c.Admin(t)
	createTopic(t, adm, "dirs", 2, nil)
	p := c.Client(t, kgo.DefaultProduceTopic("dirs"), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err := p.ProduceSync(kgoCtx(t), &kgo.Record{Partition: 1, Value: make([]byte, 4096)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	all, err := adm.DescribeAllLogDirs(kgoCtx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var size int64 = -1
	all.Each(func(d kadm.DescribedLogDir) {
		if d.Err != nil {
			t.Errorf("log dir %s: %v", d.Dir, d.Err)
		}
		if ps, ok := d.Topics["dirs"]; ok {
			size = ps[1].Size
		}
	})
	if size < 4096 {
		t.Fatalf("dirs-1 size %d", size)
	}
}
