package replica

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/record"
	"github.com/sluicehq/sluice/internal/storage"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const self int32 = 1

// testWait bounds waits that must end on their own; it is a safety net, not an assertion.
const testWait = 30 * time.Second

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// testClock is a settable clock, safe for concurrent use.
type testClock struct{ ms atomic.Int64 }

func newTestClock(ms int64) *testClock {
	c := &testClock{}
	c.ms.Store(ms)
	return c
}

func (c *testClock) Now() time.Time { return time.UnixMilli(c.ms.Load()) }

// env is a broker's replica layer over real storage.
type env struct {
	t     testing.TB
	dir   string
	fs    storage.FS
	sm    *storage.Manager
	m     *Manager
	clock *testClock
	opts  ManagerOptions
}

type envOption func(*env)

func withPolicy(p FlushPolicy) envOption { return func(e *env) { e.opts.FlushPolicy = p } }
func withFS(fs storage.FS) envOption     { return func(e *env) { e.fs = fs } }
func withDir(dir string) envOption       { return func(e *env) { e.dir = dir } }
func withFlushThreads(n int) envOption   { return func(e *env) { e.opts.FlushThreads = n } }
func withMaxWaiters(n int64) envOption {
	return func(e *env) { e.opts.MaxWaiterRegistrations = n }
}

func newEnv(t testing.TB, options ...envOption) *env {
	t.Helper()
	e := &env{t: t, clock: newTestClock(1_700_000_000_000)}
	for _, o := range options {
		o(e)
	}
	if e.dir == "" {
		e.dir = t.TempDir()
	}
	if e.fs == nil {
		e.fs = storage.NewOSFS()
	}
	e.open()
	t.Cleanup(e.close)
	return e
}

func (e *env) open() {
	e.t.Helper()
	sm, err := storage.OpenManager(context.Background(), storage.ManagerOptions{
		Dir: e.dir, FS: e.fs, Logger: quietLogger, Now: e.clock.Now, CleanerThreads: -1,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	opts := e.opts
	opts.Storage, opts.BrokerID, opts.Logger, opts.Now = sm, self, quietLogger, e.clock.Now
	m, err := NewManager(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.sm, e.m = sm, m
}

func (e *env) close() {
	if e.m == nil {
		return
	}
	if err := e.m.Close(context.Background()); err != nil {
		e.t.Error(err)
	}
	if err := e.sm.Close(context.Background()); err != nil {
		e.t.Error(err)
	}
	e.m, e.sm = nil, nil
}

// closeAfterCrash drops managers whose file system crashed: their close fails by design.
func (e *env) closeAfterCrash() {
	_ = e.m.Close(context.Background())
	_ = e.sm.Close(context.Background())
	e.m, e.sm = nil, nil
}

// reopen closes and reopens the storage and replica managers on the same directory.
func (e *env) reopen() {
	e.close()
	e.open()
}

var testTopicID = storage.TopicID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

func tpOf(topic string) TopicPartition { return TopicPartition{Topic: topic, Partition: 0} }

// leader makes this broker the sole replica and leader of topic-0 in epoch.
func (e *env) leader(topic string, epoch int32, cfg Config) *Partition {
	e.t.Helper()
	return e.leaderWith(topic, PartitionState{LeaderEpoch: epoch, PartitionEpoch: epoch, Replicas: []int32{self}, ISR: []int32{self}}, cfg)
}

func (e *env) leaderWith(topic string, st PartitionState, cfg Config) *Partition {
	e.t.Helper()
	p, err := e.m.MakeLeader(context.Background(), tpOf(topic), testTopicID, st, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// spec describes a produced batch.
type spec struct {
	n         int
	valueSize int
	tsMs      int64   // timestamp of the first record; later records +1 ms each
	ts        []int64 // explicit timestamps (overrides n and tsMs)
	noKeys    bool
	pid       int64 // -1 (default via batch()) for a plain producer
	epoch     int16
	seq       int32
	codec     record.Compression
	control   bool
	txn       bool
}

// batch builds a produced batch (base offset 0, as clients send).
func batch(t testing.TB, s spec) []byte {
	t.Helper()
	opts := record.BatchOptions{
		ProducerID: s.pid, ProducerEpoch: s.epoch, BaseSequence: s.seq,
		Compression: s.codec, Control: s.control, Transactional: s.txn,
	}
	if s.pid < 0 {
		opts.ProducerEpoch, opts.BaseSequence = record.NoProducerEpoch, record.NoSequence
	}
	bd := record.NewBuilder(opts)
	n := s.n
	if s.ts != nil {
		n = len(s.ts)
	}
	for i := 0; i < n; i++ {
		ts := s.tsMs + int64(i)
		if s.ts != nil {
			ts = s.ts[i]
		}
		var key []byte
		if !s.noKeys {
			key = []byte(fmt.Sprintf("key-%d", i))
		}
		value := bytes.Repeat([]byte{byte('a' + i%26)}, max(s.valueSize, 1))
		if err := bd.Append(int32(i), ts, key, value, nil); err != nil {
			t.Fatal(err)
		}
	}
	b, err := bd.Build()
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), b...)
}

func plain(n int, tsMs int64) spec { return spec{n: n, tsMs: tsMs, pid: -1} }

func idem(pid int64, epoch int16, seq int32, n int, tsMs int64) spec {
	return spec{n: n, tsMs: tsMs, pid: pid, epoch: epoch, seq: seq}
}

var acks1 = AppendOptions{RequiredAcks: 1, SingleBatch: true}

func mustAppend(t testing.TB, p *Partition, b []byte, opts AppendOptions) AppendResult {
	t.Helper()
	res, err := p.Append(context.Background(), b, opts)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return res
}

// readBatches reads every batch from offset on, as a consumer (read_uncommitted) would.
func readBatches(t testing.TB, p *Partition, from int64) []record.Batch {
	t.Helper()
	var out []record.Batch
	for {
		res, err := p.Read(ReadOptions{Offset: from, MaxBytes: 1 << 20, MinOneMessage: true, CurrentLeaderEpoch: -1, LastFetchedEpoch: -1, ReplicaID: ConsumerReplicaID})
		if err != nil {
			t.Fatalf("read at %d: %v", from, err)
		}
		if res.Region.Length == 0 {
			return out
		}
		data, err := res.Region.Bytes()
		res.Region.Release()
		if err != nil {
			t.Fatal(err)
		}
		for len(data) > 0 {
			b, rest, err := record.Parse(data, 0)
			if err != nil {
				t.Fatalf("stored batch: %v", err)
			}
			out = append(out, b)
			from = b.NextOffset()
			data = rest
		}
	}
}

type rec struct {
	offset int64
	ts     int64
	key    string
	value  string
}

func records(t testing.TB, bs []record.Batch) []rec {
	t.Helper()
	var out []rec
	for _, b := range bs {
		recs, err := record.Decompress(nil, b, 64<<20)
		if err != nil {
			t.Fatal(err)
		}
		it := record.NewRecordIter(recs, b.RecordCount())
		for it.Next() {
			r := it.Record()
			out = append(out, rec{offset: r.Offset(b), ts: r.Timestamp(b), key: string(r.Key), value: string(r.Value)})
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
