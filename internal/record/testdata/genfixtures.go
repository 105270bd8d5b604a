//go:build ignore

// genfixtures writes the Kafka-format fixtures that the record package's tests decode:
// batches produced by a real client (franz-go's kgo) into franz-go's in-memory broker
// (kfake) and fetched back raw, one file per codec, plus a transactional topic with commit
// and abort markers. Each <name>.batches file holds the fetched record set exactly as the
// broker returned it; <name>.json lists the records the client acknowledged, for the tests
// to compare against.
//
// Regenerate (the bytes differ from run to run: producer ids, CRCs of compressed data):
//
//	go run ./internal/record/testdata/genfixtures.go
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type header struct {
	Key   string `json:"key"`
	Value []byte `json:"value"`
}

type expected struct {
	Offset    int64    `json:"offset"`
	Timestamp int64    `json:"timestamp"`
	Key       []byte   `json:"key"`
	Value     []byte   `json:"value"`
	Headers   []header `json:"headers"`
}

// baseTs is a fixed time so the fixtures' timestamps are reproducible.
const baseTs = 1700000000000

func records(codec string, batch int) []*kgo.Record {
	long := []byte(strings.Repeat("the quick brown fox jumps over the lazy "+codec+" dog; ", 120))
	mk := func(i int, key, value []byte, hs ...kgo.RecordHeader) *kgo.Record {
		return &kgo.Record{
			Key:       key,
			Value:     value,
			Headers:   hs,
			Timestamp: time.UnixMilli(int64(baseTs + batch*100000 + i*1000)),
		}
	}
	if batch == 1 {
		return []*kgo.Record{
			mk(0, []byte("k0"), []byte("v0")),
			mk(1, []byte("k1"), nil), // tombstone: null value
			mk(2, nil, []byte("no key")),
			mk(3, []byte("k3"), []byte{}, kgo.RecordHeader{Key: "h1", Value: []byte("hv1")},
				kgo.RecordHeader{Key: "nullvalue", Value: nil}, kgo.RecordHeader{Key: "", Value: []byte("empty key")}),
			// An earlier timestamp than the batch's first record: a negative delta.
			{Key: []byte("k4"), Value: long, Timestamp: time.UnixMilli(baseTs - 5000),
				Headers: []kgo.RecordHeader{{Key: "codec", Value: []byte(codec)}}},
			mk(5, []byte("k5"), []byte(strings.Repeat("x", 300))),
		}
	}
	return []*kgo.Record{
		mk(0, []byte("second-0"), long),
		mk(1, []byte("second-1"), []byte("v")),
		mk(2, nil, nil),
	}
}

func main() {
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Dir(self)

	codecs := []struct {
		name  string
		codec kgo.CompressionCodec
	}{
		{"none", kgo.NoCompression()},
		{"gzip", kgo.GzipCompression()},
		{"snappy", kgo.SnappyCompression()},
		{"lz4", kgo.Lz4Compression()},
		{"zstd", kgo.ZstdCompression()},
	}
	topics := []string{"txn"}
	for _, c := range codecs {
		topics = append(topics, "franz-"+c.name)
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topics...))
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	for _, c := range codecs {
		topic := "franz-" + c.name
		cl, err := kgo.NewClient(
			kgo.SeedBrokers(cluster.ListenAddrs()...),
			kgo.DefaultProduceTopic(topic),
			kgo.ProducerBatchCompression(c.codec),
			// Hold records long enough that each ProduceSync call becomes one batch.
			kgo.ProducerLinger(200*time.Millisecond),
		)
		if err != nil {
			log.Fatal(err)
		}
		var exp []expected
		for batch := 1; batch <= 2; batch++ {
			recs := records(c.name, batch)
			if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				log.Fatal(err)
			}
			exp = append(exp, toExpected(recs)...)
		}
		write(ctx, cl, dir, topic, exp)
		cl.Close()
	}

	// A transactional producer: one committed and one aborted transaction, so the fetched
	// record set holds transactional data batches and broker-written commit/abort markers.
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(cluster.ListenAddrs()...),
		kgo.DefaultProduceTopic("txn"),
		kgo.TransactionalID("fixture-txn"),
	)
	if err != nil {
		log.Fatal(err)
	}
	var exp []expected
	for i, commit := range []bool{true, false} {
		if err := cl.BeginTransaction(); err != nil {
			log.Fatal(err)
		}
		recs := []*kgo.Record{
			{Key: []byte(fmt.Sprintf("txn-%d", i)), Value: []byte("in a transaction"), Timestamp: time.UnixMilli(baseTs + int64(i))},
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			log.Fatal(err)
		}
		if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			log.Fatal(err)
		}
		exp = append(exp, toExpected(recs)...)
	}
	write(ctx, cl, dir, "txn", exp)
	cl.Close()
}

func toExpected(recs []*kgo.Record) []expected {
	var out []expected
	for _, r := range recs {
		e := expected{Offset: r.Offset, Timestamp: r.Timestamp.UnixMilli(), Key: r.Key, Value: r.Value}
		for _, h := range r.Headers {
			e.Headers = append(e.Headers, header{Key: h.Key, Value: h.Value})
		}
		out = append(out, e)
	}
	return out
}

// write fetches the topic's partition 0 from offset 0 with a raw Fetch request, so that the
// record set is exactly the broker's bytes, and writes it with its expectations.
func write(ctx context.Context, cl *kgo.Client, dir, topic string, exp []expected) {
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	meta.Topics = append(meta.Topics, mt)
	mresp, err := meta.RequestWith(ctx, cl)
	if err != nil {
		log.Fatal(err)
	}

	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxWaitMillis = 100
	req.MaxBytes = 1 << 20
	req.IsolationLevel = 0 // read_uncommitted: aborted data and markers included
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = topic
	ft.TopicID = mresp.Topics[0].TopicID
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.Partition = 0
	fp.FetchOffset = 0
	fp.PartitionMaxBytes = 1 << 20
	ft.Partitions = append(ft.Partitions, fp)
	req.Topics = append(req.Topics, ft)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		log.Fatal(err)
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		log.Fatalf("fetch %s: error code %d", topic, p.ErrorCode)
	}
	if err := os.WriteFile(filepath.Join(dir, topic+".batches"), p.RecordBatches, 0o644); err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(exp); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, topic+".json"), buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d bytes, %d records\n", topic, len(p.RecordBatches), len(exp))
}
