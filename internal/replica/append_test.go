package replica

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/record"
	"github.com/sluicehq/sluice/internal/storage"
)

// fixtureRecord is a record of internal/record's franz-go fixtures.
type fixtureRecord struct {
	Offset    int64  `json:"offset"`
	Timestamp int64  `json:"timestamp"`
	Key       []byte `json:"key"`
	Value     []byte `json:"value"`
}

// TestProduceFetchFranzBatches produces the batches a real client (franz-go) wrote, one per
// request as Produce v3+ carries them, and reads them back as a consumer.
func TestProduceFetchFranzBatches(t *testing.T) {
	for _, codec := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		t.Run(codec, func(t *testing.T) {
			dir := filepath.Join("..", "record", "testdata")
			raw, err := os.ReadFile(filepath.Join(dir, "franz-"+codec+".batches"))
			if err != nil {
				t.Fatal(err)
			}
			js, err := os.ReadFile(filepath.Join(dir, "franz-"+codec+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var want []fixtureRecord
			if err := json.Unmarshal(js, &want); err != nil {
				t.Fatal(err)
			}
			e := newEnv(t)
			p := e.leader("t", 5, DefaultConfig())
			for rest := raw; len(rest) > 0; {
				b, next, err := record.Parse(rest, 0)
				if err != nil {
					t.Fatal(err)
				}
				rest = next
				// The fixture was fetched back from a broker: undo the offset it assigned.
				in := append([]byte(nil), b...)
				record.Batch(in).SetBaseOffset(0)
				res := mustAppend(t, p, in, acks1)
				if res.LastOffset-res.BaseOffset != int64(b.LastOffsetDelta()) || res.LogAppendTime != -1 {
					t.Fatalf("result %+v for %s", res, b)
				}
			}
			bs := readBatches(t, p, 0)
			for _, b := range bs {
				if b.PartitionLeaderEpoch() != 5 {
					t.Fatalf("batch %s: leader epoch not stamped", b)
				}
			}
			got := records(t, bs)
			if len(got) != len(want) {
				t.Fatalf("%d records, want %d", len(got), len(want))
			}
			for i, w := range want {
				g := got[i]
				if g.offset != int64(i) || g.ts != w.Timestamp || g.key != string(w.Key) || g.value != string(w.Value) {
					t.Fatalf("record %d: %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestIdempotentDuplicateAnswersOriginalOffsets(t *testing.T) {
	e := newEnv(t)
	p := e.leader("t", 0, DefaultConfig())
	ts := e.clock.ms.Load()
	first := mustAppend(t, p, batch(t, idem(7, 0, 0, 3, ts)), acks1)
	mustAppend(t, p, batch(t, plain(2, ts)), acks1)
	second := mustAppend(t, p, batch(t, idem(7, 0, 3, 2, ts)), acks1)
	if first.BaseOffset != 0 || first.LastOffset != 2 || second.BaseOffset != 5 || second.LastOffset != 6 {
		t.Fatalf("offsets %+v %+v", first, second)
	}
	leo := p.LogEndOffset()
	for _, tc := range []struct {
		seq        int32
		n          int
		base, last int64
	}{{0, 3, 0, 2}, {3, 2, 5, 6}} {
		res, err := p.Append(context.Background(), batch(t, idem(7, 0, tc.seq, tc.n, ts)), AppendOptions{RequiredAcks: -1, SingleBatch: true})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Duplicate || res.BaseOffset != tc.base || res.LastOffset != tc.last {
			t.Fatalf("retry of seq %d: %+v, want duplicate at %d..%d", tc.seq, res, tc.base, tc.last)
		}
	}
	if p.LogEndOffset() != leo {
		t.Fatalf("a duplicate was appended: log end %d, was %d", p.LogEndOffset(), leo)
	}
}

func TestIdempotenceChecks(t *testing.T) {
	ts := int64(1_700_000_000_000)
	cases := []struct {
		name  string
		prior []spec // appended first, must succeed
		next  spec
		want  error // nil: accepted
	}{
		{"in sequence", []spec{idem(1, 0, 0, 3, ts)}, idem(1, 0, 3, 1, ts), nil},
		{"gap", []spec{idem(1, 0, 0, 3, ts)}, idem(1, 0, 5, 1, ts), ErrOutOfOrderSequence},
		{"older than last", []spec{idem(1, 0, 0, 3, ts), idem(1, 0, 3, 3, ts)}, idem(1, 0, 1, 2, ts), ErrOutOfOrderSequence},
		{"stale epoch", []spec{idem(1, 2, 0, 1, ts)}, idem(1, 1, 1, 1, ts), ErrInvalidProducerEpoch},
		{"new epoch from 0", []spec{idem(1, 0, 0, 5, ts)}, idem(1, 1, 0, 1, ts), nil},
		{"new epoch not from 0", []spec{idem(1, 0, 0, 5, ts)}, idem(1, 1, 3, 1, ts), ErrOutOfOrderSequence},
		// Kafka >= 2.5 (KIP-360): a leader without state for a producer takes any sequence.
		{"unknown producer mid-stream", nil, idem(9, 4, 42, 2, ts), nil},
		{"sequence wraps", []spec{idem(1, 0, 2147483646, 2, ts)}, idem(1, 0, 0, 1, ts), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.clock.ms.Store(ts)
			p := e.leader("t", 0, DefaultConfig())
			for _, s := range tc.prior {
				mustAppend(t, p, batch(t, s), acks1)
			}
			leo := p.LogEndOffset()
			_, err := p.Append(context.Background(), batch(t, tc.next), acks1)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if p.LogEndOffset() != leo {
				t.Fatal("a rejected batch was appended")
			}
		})
	}
}

// TestConcurrentIdempotentProducers runs producers in parallel, each retrying every batch
// once: every batch lands exactly once and each producer's sequences are in order.
func TestConcurrentIdempotentProducers(t *testing.T) {
	e := newEnv(t)
	p := e.leader("t", 0, DefaultConfig())
	const producers, batches, per = 8, 40, 3
	ts := e.clock.ms.Load()
	var wg sync.WaitGroup
	for pid := int64(0); pid < producers; pid++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < batches; i++ {
				s := idem(pid, 0, int32(i*per), per, ts)
				first, err := p.Append(context.Background(), batch(t, s), acks1)
				if err != nil {
					t.Error(err)
					return
				}
				again, err := p.Append(context.Background(), batch(t, s), acks1)
				if err != nil || !again.Duplicate || again.BaseOffset != first.BaseOffset {
					t.Errorf("retry: %+v, %v; original %+v", again, err, first)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	bs := readBatches(t, p, 0)
	if len(bs) != producers*batches {
		t.Fatalf("%d batches, want %d", len(bs), producers*batches)
	}
	next := map[int64]int32{}
	var off int64
	for _, b := range bs {
		if b.BaseOffset() != off {
			t.Fatalf("batch at %d, want %d", b.BaseOffset(), off)
		}
		off = b.NextOffset()
		if b.BaseSequence() != next[b.ProducerID()] {
			t.Fatalf("producer %d: sequence %d, want %d", b.ProducerID(), b.BaseSequence(), next[b.ProducerID()])
		}
		next[b.ProducerID()] = b.LastSequence() + 1
	}
}

func TestAcksAndHighWatermark(t *testing.T) {
	for _, policy := range []FlushPolicy{FlushNone, FlushGroupCommit} {
		for _, acks := range []int16{1, -1} {
			t.Run(fmt.Sprintf("%s/acks=%d", policy, acks), func(t *testing.T) {
				e := newEnv(t, withPolicy(policy))
				p := e.leader("t", 0, DefaultConfig())
				res, err := p.Append(context.Background(), batch(t, plain(4, e.clock.ms.Load())), AppendOptions{RequiredAcks: acks, SingleBatch: true})
				if err != nil {
					t.Fatal(err)
				}
				// Acknowledged means visible: the high watermark covers the batch on return.
				if hw := p.HighWatermark(); hw != res.LastOffset+1 {
					t.Fatalf("high watermark %d after acks=%d, want %d", hw, acks, res.LastOffset+1)
				}
			})
		}
	}
}

// TestAcksZeroGroupCommitBecomesVisible: nobody waits for an acks=0 append, yet the flusher
// makes it durable and the high watermark reaches it.
func TestAcksZeroGroupCommitBecomesVisible(t *testing.T) {
	e := newEnv(t, withPolicy(FlushGroupCommit))
	p := e.leader("t", 0, DefaultConfig())
	w := e.m.NewWaiter()
	defer w.Close()
	if err := w.Watch(p); err != nil {
		t.Fatal(err)
	}
	res := mustAppend(t, p, batch(t, plain(3, e.clock.ms.Load())), AppendOptions{RequiredAcks: 0, SingleBatch: true})
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	for p.HighWatermark() <= res.LastOffset {
		if err := w.Wait(ctx); err != nil {
			t.Fatalf("high watermark stuck at %d: %v", p.HighWatermark(), err)
		}
	}
}

// TestGroupCommitDurability: under group commit an acknowledged (acks=1) append survives a
// power loss; under FlushNone the same append is answered without any fsync, as in Kafka.
func TestGroupCommitDurability(t *testing.T) {
	for _, tc := range []struct {
		policy     FlushPolicy
		wantSynced bool
	}{{FlushGroupCommit, true}, {FlushNone, false}} {
		t.Run(string(tc.policy), func(t *testing.T) {
			fs := storage.NewMemFS()
			e := newEnv(t, withPolicy(tc.policy), withFS(fs), withDir("/data"))
			p := e.leader("t", 0, DefaultConfig())
			// The first append of an epoch writes the leader-epoch checkpoint (fsynced, as
			// in Kafka); measure the data path after it.
			mustAppend(t, p, batch(t, plain(1, e.clock.ms.Load())), acks1)
			syncs := fs.Syncs()
			res := mustAppend(t, p, batch(t, plain(5, e.clock.ms.Load())), acks1)
			if synced := fs.Syncs() > syncs; synced != tc.wantSynced {
				t.Fatalf("fsync during acks=1 produce: %v, want %v", synced, tc.wantSynced)
			}
			survivor := fs.Crash(true)
			e.closeAfterCrash()
			e.fs = survivor
			e.open()
			p = e.leader("t", 1, DefaultConfig())
			if tc.wantSynced && p.LogEndOffset() != res.LastOffset+1 {
				t.Fatalf("acknowledged batch lost: log end %d, want %d", p.LogEndOffset(), res.LastOffset+1)
			}
		})
	}
}

func TestAcksAllWaitsForISR(t *testing.T) {
	e := newEnv(t)
	cfg := DefaultConfig()
	st := PartitionState{LeaderEpoch: 3, PartitionEpoch: 1, Replicas: []int32{self, 2}, ISR: []int32{self, 2}}
	p := e.leaderWith("t", st, cfg)
	logEnd := e.m.NewWaiter()
	defer logEnd.Close()
	if err := logEnd.WatchLogEnd(p); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := p.Append(context.Background(), batch(t, plain(2, e.clock.ms.Load())), AppendOptions{RequiredAcks: -1, SingleBatch: true})
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	for p.LogEndOffset() < 2 {
		if err := logEnd.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		t.Fatalf("acks=all answered (%v) before the follower had the batch", err)
	default:
	}
	if hw := p.HighWatermark(); hw != 0 {
		t.Fatalf("high watermark %d before the follower fetched", hw)
	}
	// The follower fetches at the leader's log end: it has everything.
	res, err := p.Read(ReadOptions{Offset: 2, MaxBytes: 1024, CurrentLeaderEpoch: 3, LastFetchedEpoch: -1, ReplicaID: 2})
	if err != nil {
		t.Fatal(err)
	}
	res.Region.Release()
	if err := <-done; err != nil {
		t.Fatalf("acks=all after the follower caught up: %v", err)
	}
	if hw := p.HighWatermark(); hw != 2 {
		t.Fatalf("high watermark %d, want 2", hw)
	}

	// No follower fetch: the request's deadline ends the wait, the batch stays appended.
	short, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = p.Append(short, batch(t, plain(1, e.clock.ms.Load())), AppendOptions{RequiredAcks: -1, SingleBatch: true})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
	if p.LogEndOffset() != 3 {
		t.Fatalf("log end %d, want 3 (timed-out batch stays)", p.LogEndOffset())
	}
}

func TestAcksAllMinInsyncReplicas(t *testing.T) {
	e := newEnv(t)
	cfg := DefaultConfig()
	cfg.MinInsyncReplicas = 2
	p := e.leaderWith("t", PartitionState{LeaderEpoch: 1, PartitionEpoch: 1, Replicas: []int32{self, 2}, ISR: []int32{self}}, cfg)
	_, err := p.Append(context.Background(), batch(t, plain(1, e.clock.ms.Load())), AppendOptions{RequiredAcks: -1, SingleBatch: true})
	if !errors.Is(err, ErrNotEnoughReplicas) || p.LogEndOffset() != 0 {
		t.Fatalf("err %v, log end %d: want ErrNotEnoughReplicas before appending", err, p.LogEndOffset())
	}
	// acks=1 does not care about the ISR size.
	mustAppend(t, p, batch(t, plain(1, e.clock.ms.Load())), acks1)

	// The ISR shrinks while an acks=all append waits: the append completes, the answer is
	// NOT_ENOUGH_REPLICAS_AFTER_APPEND.
	p = e.leaderWith("t", PartitionState{LeaderEpoch: 2, PartitionEpoch: 2, Replicas: []int32{self, 2}, ISR: []int32{self, 2}}, cfg)
	w := e.m.NewWaiter()
	defer w.Close()
	if err := w.WatchLogEnd(p); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := p.Append(context.Background(), batch(t, plain(1, e.clock.ms.Load())), AppendOptions{RequiredAcks: -1, SingleBatch: true})
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	for p.LogEndOffset() < 2 {
		if err := w.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	e.leaderWith("t", PartitionState{LeaderEpoch: 2, PartitionEpoch: 3, Replicas: []int32{self, 2}, ISR: []int32{self}}, cfg)
	if err := <-done; !errors.Is(err, ErrNotEnoughReplicasAfterAppend) {
		t.Fatalf("err %v, want ErrNotEnoughReplicasAfterAppend", err)
	}
}

func TestAcksAllLeadershipLost(t *testing.T) {
	e := newEnv(t)
	st := PartitionState{LeaderEpoch: 1, PartitionEpoch: 1, Replicas: []int32{self, 2}, ISR: []int32{self, 2}}
	p := e.leaderWith("t", st, DefaultConfig())
	w := e.m.NewWaiter()
	defer w.Close()
	if err := w.WatchLogEnd(p); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := p.Append(context.Background(), batch(t, plain(1, e.clock.ms.Load())), AppendOptions{RequiredAcks: -1, SingleBatch: true})
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	for p.LogEndOffset() < 1 {
		if err := w.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.m.MakeFollower(context.Background(), tpOf("t"), testTopicID,
		PartitionState{Leader: 2, LeaderEpoch: 2, PartitionEpoch: 2, Replicas: []int32{self, 2}, ISR: []int32{2}}, DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrNotLeader) {
		t.Fatalf("err %v, want ErrNotLeader", err)
	}
	if _, err := p.Append(context.Background(), batch(t, plain(1, 0)), acks1); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("produce to a follower: %v", err)
	}
}

func TestTopicCompressionType(t *testing.T) {
	for _, tc := range []struct {
		topic    CompressionType
		produced record.Compression
		want     record.Compression
	}{
		{CompressionProducer, record.CompressionSnappy, record.CompressionSnappy},
		{CompressionZstd, record.CompressionNone, record.CompressionZstd},
		{CompressionUncompressed, record.CompressionGzip, record.CompressionNone},
		{CompressionLZ4, record.CompressionGzip, record.CompressionLZ4},
		{CompressionGzip, record.CompressionGzip, record.CompressionGzip},
		{CompressionSnappy, record.CompressionZstd, record.CompressionSnappy},
	} {
		t.Run(string(tc.topic)+"/"+tc.produced.String(), func(t *testing.T) {
			e := newEnv(t)
			cfg := DefaultConfig()
			cfg.CompressionType = tc.topic
			p := e.leader("t", 0, cfg)
			ts := e.clock.ms.Load()
			s := idem(3, 0, 0, 20, ts)
			s.valueSize = 100
			s.codec = tc.produced
			in := batch(t, s)
			want := records(t, []record.Batch{in})
			res := mustAppend(t, p, in, acks1)
			s2 := plain(2, ts)
			mustAppend(t, p, batch(t, s2), acks1)
			bs := readBatches(t, p, 0)
			if len(bs) != 2 || bs[0].Compression() != tc.want {
				t.Fatalf("stored %v, want one %s batch first", bs, tc.want)
			}
			b := bs[0]
			if b.ProducerID() != 3 || b.BaseSequence() != 0 || b.BaseOffset() != res.BaseOffset {
				t.Fatalf("header changed: %s", b)
			}
			got := records(t, bs[:1])
			for i := range want {
				if got[i].key != want[i].key || got[i].value != want[i].value || got[i].ts != want[i].ts {
					t.Fatalf("record %d: %+v, want %+v", i, got[i], want[i])
				}
			}
			if bs[1].BaseOffset() != 20 {
				t.Fatalf("next batch at %d", bs[1].BaseOffset())
			}
		})
	}
}

func TestLogAppendTime(t *testing.T) {
	for _, tc := range []struct {
		name     string
		topic    CompressionType
		produced record.Compression
	}{{"in place", CompressionProducer, record.CompressionNone}, {"recompressed", CompressionGzip, record.CompressionLZ4}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			cfg := DefaultConfig()
			cfg.TimestampType = LogAppendTime
			cfg.CompressionType = tc.topic
			p := e.leader("t", 0, cfg)
			now := e.clock.ms.Load()
			s := plain(4, 1000) // ancient create times: LogAppendTime topics do not check them
			s.codec = tc.produced
			res := mustAppend(t, p, batch(t, s), acks1)
			if res.LogAppendTime != now {
				t.Fatalf("log append time %d, want %d", res.LogAppendTime, now)
			}
			bs := readBatches(t, p, 0)
			if !bs[0].LogAppendTime() || bs[0].MaxTimestamp() != now {
				t.Fatalf("stored %s: LogAppendTime %v, max timestamp %d", bs[0], bs[0].LogAppendTime(), bs[0].MaxTimestamp())
			}
			for _, r := range records(t, bs) {
				if r.ts != now {
					t.Fatalf("record timestamp %d, want %d", r.ts, now)
				}
			}
		})
	}
}

func TestCreateTimeMaxTimestampRewritten(t *testing.T) {
	e := newEnv(t)
	p := e.leader("t", 0, DefaultConfig())
	now := e.clock.ms.Load()
	in := batch(t, spec{ts: []int64{now - 5, now - 1, now - 9}, pid: -1})
	// A producer that claims a wrong max timestamp: Kafka stores the largest record time.
	binary.BigEndian.PutUint64(in[35:], uint64(now+12345))
	record.Batch(in).UpdateCRC()
	mustAppend(t, p, in, acks1)
	if got := readBatches(t, p, 0)[0].MaxTimestamp(); got != now-1 {
		t.Fatalf("max timestamp %d, want %d", got, now-1)
	}
}

func TestMessageSizeLimits(t *testing.T) {
	e := newEnv(t)
	ts := e.clock.ms.Load()
	s := plain(10, ts)
	s.valueSize = 200
	in := batch(t, s)

	cfg := DefaultConfig()
	cfg.Log.MaxMessageBytes = int64(len(in)) - 1
	p := e.leader("small", 0, cfg)
	if _, err := p.Append(context.Background(), append([]byte(nil), in...), acks1); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("err %v, want ErrMessageTooLarge", err)
	}
	cfg.Log.MaxMessageBytes = int64(len(in))
	if err := e.m.UpdateConfig(tpOf("small"), cfg); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, p, append([]byte(nil), in...), acks1)

	// Incompressible records grow when the topic recompresses them: checked after.
	random := batchWithValue(t, randomBytes(4000), ts)
	cfg = DefaultConfig()
	cfg.Log.MaxMessageBytes = int64(len(random))
	cfg.CompressionType = CompressionGzip
	p2 := e.leader("grow", 0, cfg)
	if _, err := p2.Append(context.Background(), random, acks1); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("err %v, want ErrMessageTooLarge after recompression", err)
	}

	// A batch larger than a segment can hold.
	cfg = DefaultConfig()
	cfg.Log.SegmentBytes = int64(len(in)) - 1
	p3 := e.leader("seg", 0, cfg)
	if _, err := p3.Append(context.Background(), append([]byte(nil), in...), acks1); !errors.Is(err, ErrRecordListTooLarge) {
		t.Fatalf("err %v, want ErrRecordListTooLarge", err)
	}
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func batchWithValue(t testing.TB, value []byte, ts int64) []byte {
	t.Helper()
	bd := record.NewBuilder(record.BatchOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	if err := bd.Append(0, ts, nil, value, nil); err != nil {
		t.Fatal(err)
	}
	b, err := bd.Build()
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), b...)
}

func TestProduceValidation(t *testing.T) {
	ts := int64(1_700_000_000_000)
	good := func(t testing.TB) []byte { return batch(t, plain(2, ts)) }
	cases := []struct {
		name string
		cfg  func(*Config)
		in   func(t testing.TB) []byte
		opts AppendOptions
		want error
	}{
		{"empty", nil, func(testing.TB) []byte { return nil }, acks1, ErrInvalidRecord},
		{"bad crc", nil, func(t testing.TB) []byte { b := good(t); b[len(b)-1] ^= 1; return b }, acks1, ErrCorruptMessage},
		{"truncated", nil, func(t testing.TB) []byte { b := good(t); return b[:len(b)-3] }, acks1, ErrCorruptMessage},
		{"magic 1", nil, func(t testing.TB) []byte { b := good(t); b[16] = 1; return b }, acks1, ErrInvalidRecord},
		{"base offset set", nil, func(t testing.TB) []byte { b := good(t); record.Batch(b).SetBaseOffset(5); return b }, acks1, ErrInvalidRecord},
		{"two batches v3+", nil, func(t testing.TB) []byte { return append(good(t), good(t)...) }, acks1, ErrInvalidRecord},
		{"control batch", nil, func(t testing.TB) []byte {
			return record.AppendEndTxnMarker(nil, record.EndTxnMarker{ProducerID: 1, Commit: true, TimestampMs: ts})
		}, acks1, ErrInvalidRecord},
		{"no key on compacted topic", func(c *Config) { c.Log.CleanupPolicy = storage.CleanupCompact },
			func(t testing.TB) []byte { s := plain(2, ts); s.noKeys = true; return batch(t, s) }, acks1, ErrInvalidRecord},
		{"too old", func(c *Config) { c.TimestampBeforeMaxMs = 1000 },
			func(t testing.TB) []byte { return batch(t, plain(2, ts-5000)) }, acks1, ErrInvalidTimestamp},
		{"too new", func(c *Config) { c.TimestampAfterMaxMs = 1000 },
			func(t testing.TB) []byte { return batch(t, plain(2, ts+5000)) }, acks1, ErrInvalidTimestamp},
		{"zstd before v7", nil, func(t testing.TB) []byte { s := plain(2, ts); s.codec = record.CompressionZstd; return batch(t, s) },
			AppendOptions{RequiredAcks: 1, SingleBatch: true, RejectZstd: true}, ErrUnsupportedCompressionType},
		{"acks 2", nil, good, AppendOptions{RequiredAcks: 2}, ErrInvalidRequiredAcks},
		{"transactional without producer id", nil, func(t testing.TB) []byte {
			b := good(t)
			binary.BigEndian.PutUint16(b[21:], 0x10)
			record.Batch(b).UpdateCRC()
			return b
		}, acks1, ErrInvalidRecord},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.clock.ms.Store(ts)
			cfg := DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			p := e.leader("t", 0, cfg)
			_, err := p.Append(context.Background(), tc.in(t), tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if p.LogEndOffset() != 0 {
				t.Fatal("a rejected batch was appended")
			}
		})
	}
}

func TestRecordErrorsReachable(t *testing.T) {
	e := newEnv(t)
	cfg := DefaultConfig()
	cfg.TimestampBeforeMaxMs = 10
	p := e.leader("t", 0, cfg)
	now := e.clock.ms.Load()
	_, err := p.Append(context.Background(), batch(t, spec{ts: []int64{now, now - 100, now}, pid: -1}), acks1)
	var rerrs *record.RecordErrors
	if !errors.As(err, &rerrs) || rerrs.Total != 1 || rerrs.Errors[0].Index != 1 {
		t.Fatalf("err %v: want RecordErrors for record 1", err)
	}
}

func TestCoordinatorOrigin(t *testing.T) {
	e := newEnv(t)
	p := e.leader("t", 4, DefaultConfig())
	ts := e.clock.ms.Load()
	// The broker's own writers may append several batches at once, control batches included.
	in := append(batch(t, plain(2, ts)), record.AppendEndTxnMarker(nil, record.EndTxnMarker{
		ProducerID: 11, ProducerEpoch: 0, Commit: false, CoordinatorEpoch: 3, TimestampMs: ts,
	})...)
	res := mustAppend(t, p, in, AppendOptions{RequiredAcks: -1, Origin: OriginCoordinator})
	if res.BaseOffset != 0 || res.LastOffset != 2 {
		t.Fatalf("result %+v", res)
	}
	bs := readBatches(t, p, 0)
	if len(bs) != 2 || !bs[1].IsControl() || bs[1].BaseOffset() != 2 || bs[1].PartitionLeaderEpoch() != 4 {
		t.Fatalf("stored %v", bs)
	}
}

func TestReplicationOrigin(t *testing.T) {
	e := newEnv(t)
	ts := e.clock.ms.Load()
	p, err := e.m.MakeFollower(context.Background(), tpOf("t"), testTopicID,
		PartitionState{Leader: 2, LeaderEpoch: 7, PartitionEpoch: 7, Replicas: []int32{2, self}, ISR: []int32{2, self}}, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	// What a leader sends: offsets and epochs already assigned.
	b := batch(t, plain(3, ts))
	record.Batch(b).SetBaseOffset(0)
	record.Batch(b).SetPartitionLeaderEpoch(6)
	res := mustAppend(t, p, b, AppendOptions{RequiredAcks: -1, Origin: OriginReplication})
	if res.BaseOffset != 0 || res.LastOffset != 2 || p.LogEndOffset() != 3 {
		t.Fatalf("result %+v, log end %d", res, p.LogEndOffset())
	}
	if _, err := p.Read(ReadOptions{Offset: 0, MaxBytes: 100, CurrentLeaderEpoch: -1, LastFetchedEpoch: -1, ReplicaID: ConsumerReplicaID}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("consumer fetch from a follower: %v", err)
	}
	leaderP := e.leader("u", 0, DefaultConfig())
	if _, err := leaderP.Append(context.Background(), batch(t, plain(1, ts)), AppendOptions{RequiredAcks: 1, Origin: OriginReplication}); !errors.Is(err, ErrNotFollower) {
		t.Fatalf("replication append on a leader: %v", err)
	}
}

func TestUpdateConfigTakesEffect(t *testing.T) {
	e := newEnv(t)
	p := e.leader("t", 0, DefaultConfig())
	ts := e.clock.ms.Load()
	mustAppend(t, p, batch(t, plain(1, ts)), acks1)
	cfg := DefaultConfig()
	cfg.CompressionType = CompressionZstd
	cfg.TimestampType = LogAppendTime
	if err := e.m.UpdateConfig(tpOf("t"), cfg); err != nil {
		t.Fatal(err)
	}
	res := mustAppend(t, p, batch(t, plain(1, ts)), acks1)
	bs := readBatches(t, p, 0)
	if bs[0].Compression() != record.CompressionNone || bs[1].Compression() != record.CompressionZstd || res.LogAppendTime != ts {
		t.Fatalf("config not applied: %v, %+v", bs, res)
	}
	bad := DefaultConfig()
	bad.CompressionType = "brotli"
	if err := e.m.UpdateConfig(tpOf("t"), bad); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("invalid config: %v", err)
	}
	if err := e.m.UpdateConfig(tpOf("nope"), cfg); !errors.Is(err, ErrUnknownPartition) {
		t.Fatalf("unknown partition: %v", err)
	}
}

// TestAppendAllocations: an uncompressed produce allocates nothing per record.
func TestAppendAllocations(t *testing.T) {
	e := newEnv(t, withPolicy(FlushNone))
	cfg := DefaultConfig()
	cfg.Log.IndexIntervalBytes = 1 << 30 // storage's sparse index entries are per batch, not per record
	p := e.leader("t", 0, cfg)
	ts := e.clock.ms.Load()
	small, large := batch(t, plain(1, ts)), batch(t, plain(500, ts))
	measure := func(in []byte) float64 {
		buf := append([]byte(nil), in...)
		return testing.AllocsPerRun(50, func() {
			copy(buf, in)
			if _, err := p.Append(context.Background(), buf, acks1); err != nil {
				t.Fatal(err)
			}
		})
	}
	a1, a500 := measure(small), measure(large)
	if a500 > a1 {
		t.Fatalf("%v allocations for 500 records, %v for 1: allocation per record", a500, a1)
	}
}

// gateFS holds every File.Sync, once armed, until want of them run at once, and records the
// most that ever ran together: a deterministic test of how many partitions the background
// flusher syncs in parallel.
type gateFS struct {
	storage.FS
	want   int32
	armed  atomic.Bool
	active atomic.Int32
	most   atomic.Int32
	gate   chan struct{}
	once   sync.Once
}

func (g *gateFS) OpenFile(name string, flag int, perm fs.FileMode) (storage.File, error) {
	f, err := g.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &gateFile{File: f, g: g}, nil
}

type gateFile struct {
	storage.File
	g *gateFS
}

func (f *gateFile) Sync() error {
	g := f.g
	if !g.armed.Load() {
		return f.File.Sync()
	}
	n := g.active.Add(1)
	defer g.active.Add(-1)
	for m := g.most.Load(); n > m && !g.most.CompareAndSwap(m, n); m = g.most.Load() {
	}
	if n >= g.want {
		g.once.Do(func() { close(g.gate) })
	}
	select {
	case <-g.gate:
	case <-time.After(10 * time.Second): // the flusher is serial: the test fails on most
	}
	return f.File.Sync()
}

// TestBackgroundFlushInParallel: under group commit the flusher makes acks=0 appends durable
// (and visible) on FlushThreads partitions at once, never more.
func TestBackgroundFlushInParallel(t *testing.T) {
	const threads = 3
	g := &gateFS{FS: storage.NewMemFS(), want: threads, gate: make(chan struct{})}
	e := newEnv(t, withFS(g), withFlushThreads(threads))
	// Runs before the env's cleanup: a failed test must not leave syncs held.
	t.Cleanup(func() { g.once.Do(func() { close(g.gate) }) })
	var ps []*Partition
	for i := 0; i < 2*threads; i++ {
		ps = append(ps, e.leader(fmt.Sprintf("t%d", i), 0, DefaultConfig()))
	}
	g.armed.Store(true)
	for _, p := range ps {
		mustAppend(t, p, batch(t, plain(1, e.clock.ms.Load())), AppendOptions{RequiredAcks: 0, SingleBatch: true})
	}
	for _, p := range ps {
		w := e.m.NewWaiter()
		if err := w.Watch(p); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), testWait)
		for p.HighWatermark() < 1 && ctx.Err() == nil {
			w.Wait(ctx)
		}
		cancel()
		w.Close()
		if p.HighWatermark() != 1 {
			t.Fatalf("%s: high watermark %d, want 1", p.TopicPartition(), p.HighWatermark())
		}
	}
	if got := g.most.Load(); got != threads {
		t.Fatalf("%d partitions synced at once, want %d", got, threads)
	}
}
