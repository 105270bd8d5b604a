package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/record"
)

func createTopic(t testing.TB, adm *kadm.Client, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := adm.CreateTopics(ctx, partitions, 1, configs, topic)
	if err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
	if err := resp[topic].Err; err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
}

func produceSync(t testing.TB, cl *kgo.Client, recs ...*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// sameRecords checks that got holds exactly want's records (matched by partition and
// offset, which produce filled in), with equal keys, values and headers.
func sameRecords(t testing.TB, want, got []*kgo.Record) {
	t.Helper()
	type at struct {
		p int32
		o int64
	}
	byPos := map[at]*kgo.Record{}
	for _, r := range got {
		if _, dup := byPos[at{r.Partition, r.Offset}]; dup {
			t.Fatalf("offset %d of partition %d read twice", r.Offset, r.Partition)
		}
		byPos[at{r.Partition, r.Offset}] = r
	}
	if len(got) != len(want) {
		t.Fatalf("read %d records, produced %d", len(got), len(want))
	}
	for _, w := range want {
		g, ok := byPos[at{w.Partition, w.Offset}]
		if !ok {
			t.Fatalf("record at partition %d offset %d not read back", w.Partition, w.Offset)
		}
		if !bytes.Equal(g.Key, w.Key) || !bytes.Equal(g.Value, w.Value) || len(g.Headers) != len(w.Headers) {
			t.Fatalf("record %d/%d: read key %q value %d bytes, %d headers; produced key %q value %d bytes, %d headers",
				w.Partition, w.Offset, g.Key, len(g.Value), len(g.Headers), w.Key, len(w.Value), len(w.Headers))
		}
		for i := range w.Headers {
			if g.Headers[i].Key != w.Headers[i].Key || !bytes.Equal(g.Headers[i].Value, w.Headers[i].Value) {
				t.Fatalf("record %d/%d header %d: read %+v, produced %+v", w.Partition, w.Offset, i, g.Headers[i], w.Headers[i])
			}
		}
	}
}

// Produce and consume through `sluice serve` with every codec, keys, headers and ~1 MB
// batches; what is read back is exactly what was acknowledged, at the acknowledged offsets.
func TestServeProduceConsume(t *testing.T) {
	b := startBroker(t)
	requireAPIs(t, b.addr, append(dataPathAPIs, keyCreateTopics)...)
	adm := kadm.NewClient(client(t, b.addr))

	for _, c := range []struct {
		name  string
		codec kgo.CompressionCodec
	}{
		{"none", kgo.NoCompression()},
		{"gzip", kgo.GzipCompression()},
		{"snappy", kgo.SnappyCompression()},
		{"lz4", kgo.Lz4Compression()},
		{"zstd", kgo.ZstdCompression()},
	} {
		t.Run(c.name, func(t *testing.T) {
			topic := "codec-" + c.name
			createTopic(t, adm, topic, 3, nil)
			p := client(t, b.addr, kgo.ProducerBatchCompression(c.codec), kgo.DefaultProduceTopic(topic),
				kgo.ProducerLinger(5*time.Millisecond))
			var want []*kgo.Record
			for i := range 600 {
				want = append(want, &kgo.Record{
					Key:   []byte("key-" + strconv.Itoa(i%17)),
					Value: bytes.Repeat([]byte("value-"+strconv.Itoa(i)+" "), 1+i%7),
					Headers: []kgo.RecordHeader{
						{Key: "seq", Value: []byte(strconv.Itoa(i))},
						{Key: "empty"},
					},
				})
			}
			want = append(want, &kgo.Record{Value: []byte("no key")}, &kgo.Record{Key: []byte("null value")})
			produceSync(t, p, want...)
			partOf := map[string]int32{}
			for _, r := range want {
				if r.Key == nil {
					continue
				}
				if p, ok := partOf[string(r.Key)]; ok && p != r.Partition {
					t.Fatalf("key %q went to partitions %d and %d", r.Key, p, r.Partition)
				}
				partOf[string(r.Key)] = r.Partition
			}
			sameRecords(t, want, consumeAll(t, b.addr, topic, len(want), 30*time.Second))
		})
	}

	t.Run("1MB batches", func(t *testing.T) {
		topic := "large"
		createTopic(t, adm, topic, 1, nil)
		// Ten 100 KiB records per batch: about 1 MB, just under max.message.bytes.
		p := client(t, b.addr, kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(50*time.Millisecond),
			kgo.ProducerBatchMaxBytes(1_048_000))
		var want []*kgo.Record
		for range 40 {
			v := make([]byte, 100<<10)
			rand.Read(v) // incompressible
			want = append(want, &kgo.Record{Key: []byte("k"), Value: v})
		}
		produceSync(t, p, want...)
		sameRecords(t, want, consumeAll(t, b.addr, topic, len(want), 30*time.Second))
	})
}

// A retried batch of an idempotent producer (same producer id, epoch and sequence) is
// answered with its original offset and written once; a sequence gap is refused.
func TestServeIdempotentRetryNoDuplicate(t *testing.T) {
	b := startBroker(t)
	requireAPIs(t, b.addr, append(dataPathAPIs, keyCreateTopics)...)
	adm := kadm.NewClient(client(t, b.addr))
	createTopic(t, adm, "idem", 1, nil)
	cl := client(t, b.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	init, err := kmsg.NewPtrInitProducerIDRequest().RequestWith(ctx, cl)
	if err != nil || init.ErrorCode != 0 {
		t.Fatalf("InitProducerId: %v, code %d", err, init.ErrorCode)
	}
	batch := func(seq int32, n int) []byte {
		bd := record.NewBuilder(record.BatchOptions{ProducerID: init.ProducerID, ProducerEpoch: init.ProducerEpoch, BaseSequence: seq})
		now := time.Now().UnixMilli()
		for i := range n {
			if err := bd.Append(int32(i), now, []byte("k"), []byte(fmt.Sprintf("seq-%d", int(seq)+i)), nil); err != nil {
				t.Fatal(err)
			}
		}
		bt, err := bd.Build()
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Clone(bt)
	}
	produce := func(records []byte) (int16, int64) {
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = -1, 10_000
		tp := kmsg.NewProduceRequestTopic()
		tp.Topic = "idem"
		pp := kmsg.NewProduceRequestTopicPartition()
		pp.Partition, pp.Records = 0, records
		tp.Partitions = append(tp.Partitions, pp)
		req.Topics = append(req.Topics, tp)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatalf("produce: %v", err)
		}
		r := resp.Topics[0].Partitions[0]
		return r.ErrorCode, r.BaseOffset
	}

	first := batch(0, 3)
	if code, off := produce(first); code != 0 || off != 0 {
		t.Fatalf("first send: code %d offset %d", code, off)
	}
	if code, off := produce(first); code != 0 || off != 0 {
		t.Fatalf("retry: code %d offset %d, want 0 and the original offset 0", code, off)
	}
	if code, off := produce(batch(3, 2)); code != 0 || off != 3 {
		t.Fatalf("next batch: code %d offset %d, want offset 3", code, off)
	}
	if code, _ := produce(batch(10, 1)); code != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("sequence gap answered %d, want OUT_OF_ORDER_SEQUENCE_NUMBER", code)
	}
	got := consumeAll(t, b.addr, "idem", 5, 15*time.Second)
	if len(got) != 5 {
		t.Fatalf("read %d records, want 5 (the retry must not be written)", len(got))
	}
	for i, r := range got {
		if string(r.Value) != fmt.Sprintf("seq-%d", i) || r.Offset != int64(i) {
			t.Fatalf("record %d: offset %d value %q", i, r.Offset, r.Value)
		}
	}
}

// Topic administration through kadm: create (with configs), duplicates and bad names
// refused, list, delete, re-create under the same name.
func TestServeTopicAdmin(t *testing.T) {
	b := startBroker(t)
	requireAPIs(t, b.addr, keyMetadata, keyCreateTopics, keyDeleteTopics)
	adm := kadm.NewClient(client(t, b.addr))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	createTopic(t, adm, "admin-a", 4, nil)
	createTopic(t, adm, "admin-b", 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")})
	resp, err := adm.CreateTopics(ctx, 1, 1, nil, "admin-a")
	if err != nil || !errors.Is(resp["admin-a"].Err, kerr.TopicAlreadyExists) {
		t.Fatalf("duplicate create: %v / %v", err, resp["admin-a"].Err)
	}
	resp, err = adm.CreateTopics(ctx, 1, 1, nil, "bad/name")
	if err != nil || !errors.Is(resp["bad/name"].Err, kerr.InvalidTopicException) {
		t.Fatalf("bad name: %v / %v", err, resp["bad/name"].Err)
	}

	partitions := func() map[string]int {
		t.Helper()
		// A new client each time: kgo answers Metadata from its cache for a while.
		td, err := kadm.NewClient(client(t, b.addr)).ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for name, d := range td {
			if d.Err != nil {
				t.Logf("topic %s: %v", name, d.Err)
			}
			out[name] = len(d.Partitions)
		}
		return out
	}
	if got := partitions(); got["admin-a"] != 4 || got["admin-b"] != 1 {
		t.Fatalf("listed %v", got)
	}
	dr, err := adm.DeleteTopics(ctx, "admin-a")
	if err != nil || dr["admin-a"].Err != nil {
		t.Fatalf("delete: %v / %v", err, dr["admin-a"].Err)
	}
	// As in Kafka, a broker's metadata follows the controller's commit shortly after the
	// answer; clients poll.
	eventually(t, 10*time.Second, "deleted topic still listed", func() bool {
		_, ok := partitions()["admin-a"]
		return !ok
	})
	createTopic(t, adm, "admin-a", 2, nil)
	if got := partitions(); got["admin-a"] != 2 {
		t.Fatalf("re-created topic has %d partitions, want 2", got["admin-a"])
	}
}

// A topic config changed at runtime takes effect without a restart (max.message.bytes), and
// DescribeConfigs reports it as the topic's own.
func TestServeLiveTopicConfig(t *testing.T) {
	b := startBroker(t)
	requireAPIs(t, b.addr, append(dataPathAPIs, keyCreateTopics, keyIncrementalAlterConfigs, keyDescribeConfigs)...)
	adm := kadm.NewClient(client(t, b.addr))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	createTopic(t, adm, "cfg", 1, nil)
	p := client(t, b.addr, kgo.DefaultProduceTopic("cfg"), kgo.ProducerBatchCompression(kgo.NoCompression()))
	// Random bytes, so that the batch is as large as the record (max.message.bytes bounds the
	// batch as sent, compressed or not).
	randomValue := func(n int) []byte {
		v := make([]byte, n)
		rand.Read(v)
		return v
	}

	setMax := func(v string) {
		t.Helper()
		rs, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "max.message.bytes", Value: kadm.StringPtr(v)}}, "cfg")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.Err != nil {
				t.Fatalf("alter: %v", r.Err)
			}
		}
	}
	produceSync(t, p, &kgo.Record{Value: randomValue(4000)})

	setMax("1024")
	// The broker answers the change once its partitions apply it, so the very next produce
	// is already judged by the new limit.
	if err := p.ProduceSync(ctx, &kgo.Record{Value: randomValue(4000)}).FirstErr(); !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("4000-byte record right after max.message.bytes=1024: %v, want MESSAGE_TOO_LARGE", err)
	}
	produceSync(t, p, &kgo.Record{Value: make([]byte, 100)})

	setMax("100000")
	produceSync(t, p, &kgo.Record{Value: randomValue(4000)})
	rcs, err := adm.DescribeTopicConfigs(ctx, "cfg")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On("cfg", nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range rc.Configs {
		if c.Key == "max.message.bytes" {
			found = true
			if c.MaybeValue() != "100000" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
				t.Fatalf("max.message.bytes described as %q from %v", c.MaybeValue(), c.Source)
			}
		}
	}
	if !found {
		t.Fatal("max.message.bytes not described")
	}
}

// After SIGTERM the broker stops cleanly (exit 0), and the restart finds the clean-shutdown
// marker, so no log is recovered, and serves every record. An idempotent producer that keeps
// producing across the restart has every acknowledged record exactly once.
func TestServeRestartAfterSIGTERM(t *testing.T) {
	b := startBroker(t)
	requireAPIs(t, b.addr, append(dataPathAPIs, keyCreateTopics)...)
	adm := kadm.NewClient(client(t, b.addr))
	createTopic(t, adm, "durable", 3, nil)
	p := client(t, b.addr, kgo.DefaultProduceTopic("durable"))
	var want []*kgo.Record
	for i := range 1000 {
		want = append(want, &kgo.Record{Key: []byte(strconv.Itoa(i % 10)), Value: []byte("before-" + strconv.Itoa(i))})
	}
	produceSync(t, p, want...)

	b.term()
	line := b.restart()
	if got := line["previous_shutdown"]; got != "clean" {
		t.Fatalf("restart after SIGTERM reports previous_shutdown=%v, want clean", got)
	}
	sameRecords(t, want, consumeAll(t, b.addr, "durable", len(want), 30*time.Second))

	// Produce across a second graceful restart.
	stop := produceInBackground(t, b.addr, "durable", "during-", 2)
	time.Sleep(300 * time.Millisecond)
	b.term()
	b.restart()
	time.Sleep(300 * time.Millisecond)
	ackedVals := stop(true)
	if len(ackedVals) == 0 {
		t.Fatal("nothing acknowledged while producing across the restart")
	}
	checkAcked(t, b.addr, "durable", "during-", ackedVals)
}

// kill -9 during a stream of acks=all produces: after the restart (which recovers the logs)
// every acknowledged record is there, once.
//
// What this shows for each sluice.log.flush.policy: under group-commit (the default) an
// acknowledgement means the record was fdatasync'ed, so it would also survive a power loss;
// under none (Kafka's default behaviour) it means the record was in the page cache, which
// survives the process being killed (this test) but not an OS crash or power loss.
func TestServeKill9KeepsAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 test: a few seconds per flush policy")
	}
	for _, policy := range []string{"group-commit", "none"} {
		t.Run(policy, func(t *testing.T) {
			// A short session lets the restarted broker re-register soon after the crash
			// (the dead incarnation's session must expire first, as in Kafka).
			b := startBroker(t, "sluice.log.flush.policy="+policy,
				"broker.heartbeat.interval.ms=100", "broker.session.timeout.ms=1000")
			requireAPIs(t, b.addr, append(dataPathAPIs, keyCreateTopics)...)
			adm := kadm.NewClient(client(t, b.addr))
			createTopic(t, adm, "crash", 4, nil)

			stop := produceInBackground(t, b.addr, "crash", "v-", 4)
			time.Sleep(1500 * time.Millisecond)
			b.kill()
			ackedVals := stop(false)
			if len(ackedVals) < 100 {
				t.Fatalf("only %d records acknowledged before the kill", len(ackedVals))
			}
			line := b.restart()
			if got := line["previous_shutdown"]; got != "unclean (logs recovered)" {
				t.Fatalf("restart after kill -9 reports previous_shutdown=%v", got)
			}
			checkAcked(t, b.addr, "crash", "v-", ackedVals)
		})
	}
}

// produceInBackground runs producers (idempotent, acks=all: kgo's defaults) that produce
// distinct values prefix+N until stop is called. stop closes them and returns the values
// acknowledged; with flush it first waits (20 s at most) for the records still buffered,
// which only a running broker can acknowledge.
func produceInBackground(t testing.TB, addr, topic, prefix string, producers int) (stop func(flush bool) map[string]bool) {
	t.Helper()
	acked := &sync.Map{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var clients []*kgo.Client
	for p := range producers {
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic),
			kgo.ProducerLinger(time.Millisecond), kgo.MaxBufferedRecords(2000))
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, cl)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				if i%10 == 9 {
					time.Sleep(time.Millisecond) // about 10k records/s per producer: enough load, little to read back
				}
				v := prefix + strconv.Itoa(p) + "-" + strconv.Itoa(i)
				cl.Produce(ctx, &kgo.Record{Key: []byte(strconv.Itoa(i % 16)), Value: []byte(v)}, func(r *kgo.Record, err error) {
					if err == nil {
						acked.Store(string(r.Value), true)
					}
				})
			}
		}()
	}
	return func(flush bool) map[string]bool {
		cancel()
		wg.Wait()
		fctx, fcancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer fcancel()
		for _, cl := range clients {
			if flush {
				cl.Flush(fctx)
			}
			cl.Close() // fails whatever is still buffered
		}
		out := map[string]bool{}
		acked.Range(func(k, _ any) bool {
			out[k.(string)] = true
			return true
		})
		return out
	}
}

// checkAcked reads all of topic and requires every acknowledged value with prefix exactly
// once.
func checkAcked(t testing.TB, addr, topic, prefix string, acked map[string]bool) {
	t.Helper()
	got := consumeAll(t, addr, topic, endOffsets(t, addr, topic), 30*time.Second)
	seen := map[string]int{}
	for _, r := range got {
		seen[string(r.Value)]++
	}
	missing := 0
	for v := range acked {
		if seen[v] == 0 {
			missing++
		}
	}
	for v, n := range seen {
		if n > 1 && len(v) >= len(prefix) && v[:len(prefix)] == prefix {
			t.Errorf("%q read %d times (an idempotent retry was written twice)", v, n)
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged records lost", missing, len(acked))
	}
	t.Logf("%d acknowledged records all read back once (%d records read)", len(acked), len(got))
}

// endOffsets returns the number of records in topic (the sum of its partitions' high
// watermarks; nothing is deleted in these tests).
func endOffsets(t testing.TB, addr, topic string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	los, err := kadm.NewClient(client(t, addr)).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	los.Each(func(lo kadm.ListedOffset) {
		if lo.Err != nil {
			t.Fatalf("end offset of %s[%d]: %v", lo.Topic, lo.Partition, lo.Err)
		}
		n += int(lo.Offset)
	})
	return n
}

// eventually polls cond every 50 ms until it holds or timeout passes (then fails with msg).
func eventually(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sluice serve --config reads a Kafka server.properties; --override wins over the file; an
// unknown key is warned about and does not stop the start.
func TestServeConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server.properties")
	props := `# a Kafka-style file
node.id=1
process.roles=broker,controller
controller.listener.names=CONTROLLER
num.partitions=3
log.retention.hours=24
no.such.key=1
`
	if err := os.WriteFile(path, []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	b := startBrokerConfig(t, path, "num.partitions=5")
	if !strings.Contains(b.out.String(), "no.such.key") {
		t.Fatalf("no warning about the unknown key:\n%s", b.out.String())
	}
	requireAPIs(t, b.addr, keyMetadata, keyCreateTopics, keyDescribeConfigs)
	adm := kadm.NewClient(client(t, b.addr))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := adm.CreateTopics(ctx, -1, -1, nil, "defaults")
	if err != nil || resp["defaults"].Err != nil {
		t.Fatalf("create: %v / %v", err, resp["defaults"].Err)
	}
	if n := resp["defaults"].NumPartitions; n != 5 {
		t.Fatalf("topic created with %d partitions, want num.partitions=5 from --override (the file says 3)", n)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, "defaults")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On("defaults", nil)
	if err != nil {
		t.Fatal(err)
	}
	retention := ""
	for _, c := range rc.Configs {
		if c.Key == "retention.ms" {
			retention = c.MaybeValue()
		}
	}
	if retention != "86400000" {
		t.Fatalf("retention.ms %q, want 24 h from the file's log.retention.hours", retention)
	}
}
