package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestManagerLifecycle(t *testing.T) {
	clock := &fakeClock{ms: 1_000_000}
	fsys := NewMemFS()
	opts := ManagerOptions{Dir: "/data", FS: fsys, Logger: quietLogger(), Now: clock.now, DefaultConfig: testConfig(),
		CleanerBackoffMs: 10}
	ctx := context.Background()
	m, err := OpenManager(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	id := TopicID{9}
	cfg := testConfig()
	cfg.RetentionBytes = 3000
	a, err := m.GetOrCreateLog(ctx, TopicPartition{"orders", 0}, id, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ccfg := testConfig()
	ccfg.CleanupPolicy = CleanupCompact
	c, err := m.GetOrCreateLog(ctx, TopicPartition{"compacted", 1}, TopicID{}, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		a.Append(mkBatch(a.LogEndOffset(), 2, clock.ms, 100))
		c.Append(tb{base: c.LogEndOffset(), keys: [][]byte{[]byte("k")}, values: [][]byte{[]byte("v")}, ts: clock.ms}.encode())
	}
	if n := m.RunRetention(); n == 0 || a.SizeBytes() > 3000+4096 {
		t.Fatalf("retention deleted %d segments, size %d", n, a.SizeBytes())
	}
	m.cleaner.wake()
	if _, err := m.GetOrCreateLog(ctx, TopicPartition{"orders", 0}, TopicID{8}, cfg); err == nil {
		t.Fatal("inconsistent topic id accepted")
	}
	aStart, aEnd, cEnd := a.LogStartOffset(), a.LogEndOffset(), c.LogEndOffset()
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if !exists(fsys, "/data/"+cleanShutdownFile) {
		t.Fatal("no clean shutdown marker")
	}
	// Reopen: clean path, same state; the marker is consumed.
	opts.TopicConfig = func(topic string) (Config, bool) {
		if topic == "compacted" {
			return ccfg, true
		}
		return cfg, true
	}
	m2, err := OpenManager(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close(ctx)
	if exists(fsys, "/data/"+cleanShutdownFile) {
		t.Fatal("marker not removed after open")
	}
	a2, ok := m2.Log(TopicPartition{"orders", 0})
	if !ok || a2.LogStartOffset() != aStart || a2.LogEndOffset() != aEnd {
		t.Fatalf("reopened orders-0: %v start %d end %d, want %d %d", ok, a2.LogStartOffset(), a2.LogEndOffset(), aStart, aEnd)
	}
	c2, _ := m2.Log(TopicPartition{"compacted", 1})
	if c2.LogEndOffset() != cEnd {
		t.Fatal("compacted log end changed")
	}
	if err := m2.DeleteLog(ctx, TopicPartition{"compacted", 1}); err != nil {
		t.Fatal(err)
	}
	if exists(fsys, filepath.Join("/data", "compacted-1")) {
		t.Fatal("directory survived DeleteLog")
	}
}

// TestGroupCommitSharesFsyncs: many concurrent waiters need far fewer fsyncs than appends.
func TestGroupCommitSharesFsyncs(t *testing.T) {
	clock := &fakeClock{ms: 1}
	fsys := NewMemFS()
	cfg := testConfig()
	cfg.SegmentBytes = 1 << 20
	l := openTestLog(t, fsys, clock, cfg, false, 0)
	defer l.Close(context.Background())
	// A disk whose fsync takes a while, as real ones do: that is when sharing matters.
	fsys.SetSyncLatency(500 * time.Microsecond)
	start := fsys.Syncs()
	var wg sync.WaitGroup
	var mu sync.Mutex
	const writers, per = 8, 50
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				mu.Lock()
				info, err := l.Append(mkBatch(l.LogEndOffset(), 1, 1, 100))
				mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				if err := l.WaitDurable(context.Background(), info.NextOffset()); err != nil {
					t.Error(err)
					return
				}
				if l.DurableOffset() < info.NextOffset() {
					t.Error("WaitDurable returned before durability")
				}
			}
		}()
	}
	wg.Wait()
	syncs := fsys.Syncs() - start
	if syncs >= writers*per/2 {
		t.Fatalf("%d fsyncs for %d appends: hardly any sharing", syncs, writers*per)
	}
	t.Logf("%d fsyncs for %d durable appends", syncs, writers*per)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l.Append(mkBatch(l.LogEndOffset(), 1, 1, 100))
	if err := l.WaitDurable(ctx, l.LogEndOffset()); err == nil {
		t.Fatal("canceled context ignored")
	}
}

// TestFlushMessages: flush.messages makes appends durable by themselves.
func TestFlushMessages(t *testing.T) {
	clock := &fakeClock{ms: 1}
	fsys := NewMemFS()
	cfg := testConfig()
	cfg.FlushMessages = 3
	l := openTestLog(t, fsys, clock, cfg, false, 0)
	defer l.Close(context.Background())
	l.appendN(1, 10)
	l.appendN(1, 10)
	if l.DurableOffset() != 0 {
		t.Fatal("flushed early")
	}
	l.appendN(1, 10)
	if l.DurableOffset() != 3 {
		t.Fatalf("durable %d after 3 messages", l.DurableOffset())
	}
}

// TestReaderSurvivesDeletion: a region keeps its segment readable after retention deletes it.
func TestReaderSurvivesDeletion(t *testing.T) {
	clock := &fakeClock{ms: 1}
	fsys := NewMemFS()
	l := openTestLog(t, fsys, clock, testConfig(), false, 0)
	defer l.Close(context.Background())
	for i := 0; i < 50; i++ {
		l.appendN(2, 100)
	}
	r, err := l.Read(0, ReadOptions{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AdvanceLogStartOffset(l.LogEndOffset()); err != nil {
		t.Fatal(err)
	}
	if l.NumSegments() != 1 {
		t.Fatalf("%d segments", l.NumSegments())
	}
	data, err := r.Bytes()
	r.Release()
	if err != nil || int64(len(data)) != r.Length {
		t.Fatalf("read after delete: %v", err)
	}
}

// TestCleanerOffsetCheckpoint: the first dirty offset survives a restart in
// cleaner-offset-checkpoint, so a reopened log does not count its cleaned part as dirty; a
// missing or out-of-range entry makes the whole log dirty again (Kafka's rule); a truncation
// below it rewrites the checkpoint at once.
func TestCleanerOffsetCheckpoint(t *testing.T) {
	clock := &fakeClock{ms: 1_000_000}
	ccfg := testConfig()
	ccfg.CleanupPolicy = CleanupCompact
	tp := TopicPartition{"compacted", 0}
	ckpt := filepath.Join("/data", cleanerCheckpointFile)
	readCkpt := func(fsys *MemFS) (int64, bool) {
		t.Helper()
		data, err := fsys.ReadAll(ckpt)
		if err != nil {
			return 0, false
		}
		m, err := DecodeOffsetCheckpoint(ckpt, data)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := m[tp]
		return v, ok
	}
	// setup writes a compacted log, cleans it and closes the manager.
	setup := func(t *testing.T) (*MemFS, ManagerOptions, int64) {
		fsys := NewMemFS()
		opts := ManagerOptions{Dir: "/data", FS: fsys, Logger: quietLogger(), Now: clock.now, DefaultConfig: ccfg,
			CleanerThreads: -1}
		m, err := OpenManager(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		l, err := m.GetOrCreateLog(context.Background(), tp, TopicID{}, ccfg)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 200; i++ {
			key := []byte(fmt.Sprintf("k%d", i%10))
			l.Append(tb{base: l.LogEndOffset(), keys: [][]byte{key}, values: [][]byte{[]byte("value")}, ts: clock.ms}.encode())
		}
		st, err := l.Compact(context.Background(), 1<<20)
		if err != nil || st.CleanedUpTo <= 0 || l.CleanerPoint() != st.CleanedUpTo {
			t.Fatalf("compaction: %+v %v, point %d", st, err, l.CleanerPoint())
		}
		if err := m.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if v, ok := readCkpt(fsys); !ok || v != st.CleanedUpTo {
			t.Fatalf("checkpoint holds %d %v, want %d", v, ok, st.CleanedUpTo)
		}
		return fsys, opts, st.CleanedUpTo
	}
	cases := []struct {
		name      string
		damage    func(fsys *MemFS)
		wantPoint func(cleaned int64) int64
		wantDirty bool
	}{
		{"kept", func(*MemFS) {}, func(c int64) int64 { return c }, false},
		{"missing", func(fsys *MemFS) { fsys.Remove(ckpt) }, func(int64) int64 { return 0 }, true},
		{"past log end", func(fsys *MemFS) {
			fsys.WriteAll(ckpt, EncodeOffsetCheckpoint(map[TopicPartition]int64{tp: 1 << 40}))
		}, func(int64) int64 { return 0 }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fsys, opts, cleaned := setup(t)
			c.damage(fsys)
			m, err := OpenManager(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close(context.Background())
			l, _ := m.Log(tp)
			if got := l.CleanerPoint(); got != c.wantPoint(cleaned) {
				t.Fatalf("cleaner point %d, want %d", got, c.wantPoint(cleaned))
			}
			if need, ratio := l.NeedsCompaction(); need != c.wantDirty {
				t.Fatalf("needs compaction %v (dirty ratio %.2f), want %v", need, ratio, c.wantDirty)
			}
			if c.name != "kept" {
				return
			}
			// A truncation below the cleaned point lowers the checkpoint at once.
			if err := l.TruncateTo(cleaned - 5); err != nil {
				t.Fatal(err)
			}
			if v, ok := readCkpt(fsys); !ok || v > cleaned-5 {
				t.Fatalf("after truncation to %d the checkpoint holds %d %v", cleaned-5, v, ok)
			}
		})
	}
}

// TestHighWatermarkCheckpoint: the high watermarks given to SetHighWatermark are written to
// replication-offset-checkpoint (by the housekeeping and at Close) and come back, clamped to
// the log, as CheckpointedHighWatermark after a restart; a log without an entry starts at its
// log start.
func TestHighWatermarkCheckpoint(t *testing.T) {
	clock := &fakeClock{ms: 1_000_000}
	fsys := NewMemFS()
	opts := ManagerOptions{Dir: "/data", FS: fsys, Logger: quietLogger(), Now: clock.now, DefaultConfig: testConfig(),
		CleanerThreads: -1}
	ctx := context.Background()
	m, err := OpenManager(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	tps := []TopicPartition{{"a", 0}, {"b", 0}, {"c", 0}}
	for _, tp := range tps {
		l, err := m.GetOrCreateLog(ctx, tp, TopicID{}, testConfig())
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10; i++ {
			l.Append(mkBatch(l.LogEndOffset(), 1, 1, 10))
		}
	}
	la, _ := m.Log(tps[0])
	lb, _ := m.Log(tps[1])
	la.SetHighWatermark(7)
	lb.SetHighWatermark(10)
	// c never gets a high watermark.
	if err := m.WriteHighWatermarkCheckpoint(); err != nil {
		t.Fatal(err)
	}
	data, err := fsys.ReadAll("/data/" + highWatermarkCheckpointFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "0\n2\na 0 7\nb 0 10\n" {
		t.Fatalf("checkpoint %q", data)
	}
	la.SetHighWatermark(8)
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// Power loss after the clean close, then b loses its tail to recovery: its high
	// watermark is clamped to the log end.
	after := fsys.Crash(true)
	seg := "/data/b-0/" + segmentFileName(0, logSuffix)
	raw, _ := after.ReadAll(seg)
	after.WriteAll(seg, raw[:len(raw)-10])
	after.Remove("/data/" + cleanShutdownFile)
	opts.FS = after
	m2, err := OpenManager(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close(ctx)
	want := map[TopicPartition]int64{tps[0]: 8, tps[1]: 9, tps[2]: 0}
	for tp, w := range want {
		l, _ := m2.Log(tp)
		if got := l.CheckpointedHighWatermark(); got != w {
			t.Errorf("%s: checkpointed high watermark %d, want %d", tp, got, w)
		}
		if got := l.HighWatermark(); got != w {
			t.Errorf("%s: high watermark %d, want %d", tp, got, w)
		}
	}
	// HighWatermark follows SetHighWatermark, clamped to the log; CheckpointedHighWatermark
	// stays what the open found.
	la2, _ := m2.Log(tps[0])
	for _, tc := range []struct{ set, want int64 }{{9, 9}, {50, 10}} {
		la2.SetHighWatermark(tc.set)
		if got := la2.HighWatermark(); got != tc.want || la2.CheckpointedHighWatermark() != 8 {
			t.Errorf("after SetHighWatermark(%d): %d (checkpointed %d), want %d", tc.set, got, la2.CheckpointedHighWatermark(), tc.want)
		}
	}
}

// TestCreatePartitionsDeferSyncs: creating partitions (and recording the leader's epoch)
// costs no fsync; the first durable append of each pays for its directory, partition.metadata
// and epoch checkpoint, with one fsync of the log dir shared by the partitions created before
// it. A power loss before then loses the new partitions cleanly; after it, they survive.
func TestCreatePartitionsDeferSyncs(t *testing.T) {
	ctx := context.Background()
	fsys := NewMemFS()
	opts := ManagerOptions{Dir: "/data", FS: fsys, Logger: quietLogger(), Now: (&fakeClock{ms: 1}).now,
		DefaultConfig: testConfig(), CleanerThreads: -1}
	m, err := OpenManager(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	counts := map[FaultOp]int{}
	logDirSyncs := 0
	fsys.SetHook(func(op FaultOp, name string, off int64, n int) (int, error) {
		mu.Lock()
		counts[op]++
		if op == OpSyncDir && name == "/data" {
			logDirSyncs++
		}
		mu.Unlock()
		return n, nil
	})
	id := TopicID{7}
	var logs []*Log
	for p := 0; p < 20; p++ {
		l, err := m.GetOrCreateLog(ctx, TopicPartition{"new", int32(p)}, id, testConfig())
		if err != nil {
			t.Fatal(err)
		}
		if err := l.AssignEpoch(3, 0); err != nil {
			t.Fatal(err)
		}
		logs = append(logs, l)
	}
	mu.Lock()
	if counts[OpSync] != 0 || counts[OpSyncDir] != 0 {
		t.Fatalf("creating 20 partitions cost %d fsyncs and %d directory fsyncs", counts[OpSync], counts[OpSyncDir])
	}
	mu.Unlock()

	// Power loss now: none of them was durable, and the log dir opens clean without them.
	lost := fsys.Crash(true)
	opts2 := opts
	opts2.FS = lost
	m2, err := OpenManager(ctx, opts2)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(m2.Logs()); n != 0 {
		t.Fatalf("%d partitions survived a power loss before their first flush", n)
	}
	m2.Close(ctx)
	m.Close(ctx) // on the dead file system: errors expected, no hang

	// Again, this time with a durable append in half of them.
	fsys = NewMemFS()
	opts.FS = fsys
	m, err = OpenManager(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(ctx)
	logs = logs[:0]
	for p := 0; p < 20; p++ {
		l, err := m.GetOrCreateLog(ctx, TopicPartition{"new", int32(p)}, id, testConfig())
		if err != nil {
			t.Fatal(err)
		}
		l.AssignEpoch(3, 0)
		logs = append(logs, l)
	}
	fsys.SetHook(func(op FaultOp, name string, off int64, n int) (int, error) {
		mu.Lock()
		if op == OpSyncDir && name == "/data" {
			logDirSyncs++
		}
		mu.Unlock()
		return n, nil
	})
	logDirSyncs = 0
	for p := 0; p < 20; p += 2 {
		info, err := logs[p].Append(tb{base: 0, n: 2, ts: 1, valueSize: 10, leaderEpoch: 3}.encode())
		if err != nil {
			t.Fatal(err)
		}
		if err := logs[p].WaitDurable(ctx, info.NextOffset()); err != nil {
			t.Fatal(err)
		}
	}
	if logDirSyncs != 1 {
		t.Fatalf("%d fsyncs of the log dir for 10 first durable appends, want 1 shared", logDirSyncs)
	}
	after := fsys.Crash(true)
	opts2.FS = after
	m3, err := OpenManager(ctx, opts2)
	if err != nil {
		t.Fatal(err)
	}
	defer m3.Close(ctx)
	for p := 0; p < 20; p += 2 {
		l, ok := m3.Log(TopicPartition{"new", int32(p)})
		if !ok || l.LogEndOffset() != 2 || l.TopicID() != id || fmt.Sprint(l.EpochEntries()) != "[{3 0}]" {
			t.Fatalf("partition %d after power loss: %v", p, ok)
		}
	}
}

// TestOpenToleratesPartialCreation: the states a power loss can leave a partition directory
// in before its first flush round all open, and the log works afterwards.
func TestOpenToleratesPartialCreation(t *testing.T) {
	cases := []struct {
		name  string
		files map[string][]byte
	}{
		{"empty directory", nil},
		{"empty partition.metadata", map[string][]byte{partitionMetadataFile: {}}},
		{"torn partition.metadata", map[string][]byte{partitionMetadataFile: []byte("version: 0\ntopic_")}},
		{"empty epoch checkpoint", map[string][]byte{leaderEpochCheckpointFile: {}}},
		{"garbage epoch checkpoint", map[string][]byte{leaderEpochCheckpointFile: []byte("0\n3\n1 2\n")}},
		{"index without log", map[string][]byte{segmentFileName(0, indexSuffix): make([]byte, 64)}},
		{"leftover tmp", map[string][]byte{partitionMetadataFile + ".tmp": []byte("version")}},
		{"empty segment", map[string][]byte{segmentFileName(0, logSuffix): {}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			fsys := NewMemFS()
			fsys.MkdirAll("/data/x-0", 0o755)
			for n, data := range c.files {
				fsys.WriteAll("/data/x-0/"+n, data)
			}
			m, err := OpenManager(ctx, ManagerOptions{Dir: "/data", FS: fsys, Logger: quietLogger(),
				DefaultConfig: testConfig(), CleanerThreads: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close(ctx)
			l, err := m.GetOrCreateLog(ctx, TopicPartition{"x", 0}, TopicID{5}, testConfig())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.Append(tb{base: l.LogEndOffset(), n: 1, ts: 1, valueSize: 5, leaderEpoch: 2}.encode()); err != nil {
				t.Fatal(err)
			}
			if err := l.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			data, err := fsys.ReadAll("/data/x-0/" + partitionMetadataFile)
			if id, derr := decodePartitionMetadata("", data); err != nil || derr != nil || id != (TopicID{5}) {
				t.Fatalf("partition.metadata after the first flush: %q %v", data, err)
			}
		})
	}
}

// TestDeleteLog: DeleteLog renames the directory to Kafka's <topic>-<partition>.<uuid>-delete
// at once (durably), removes it after file.delete.delay.ms in the background, keeps regions
// readers hold readable, drops the partition from the checkpoints, and a partition created
// again under the name starts empty. Leftover -delete directories go at the next open.
func TestDeleteLog(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{ms: 1_000_000}
	fsys := NewMemFS()
	opts := ManagerOptions{Dir: "/data", FS: fsys, Logger: quietLogger(), Now: clock.now, DefaultConfig: testConfig(),
		CleanerThreads: -1}
	m, err := OpenManager(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.FileDeleteDelayMs = 60_000
	tp := TopicPartition{"orders", 3}
	l, err := m.GetOrCreateLog(ctx, tp, TopicID{1}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		l.Append(mkBatch(l.LogEndOffset(), 2, 1, 100))
	}
	if err := l.AdvanceLogStartOffset(10); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteCheckpoints(); err != nil {
		t.Fatal(err)
	}
	r, err := l.Read(20, ReadOptions{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteLog(ctx, tp); err != nil {
		t.Fatal(err)
	}
	names, _ := fsys.List("/data")
	var deleted string
	for _, n := range names {
		if n == tp.DirName() {
			t.Fatal("partition directory still in place")
		}
		if isDeleteDirName(n) {
			deleted = n
		}
	}
	if !regexp.MustCompile(`^orders-3\.[0-9a-f]{32}-delete$`).MatchString(deleted) {
		t.Fatalf("renamed to %q; log dir %v", deleted, names)
	}
	// Durable at once: a power loss now does not bring the partition back.
	if m2, err := OpenManager(ctx, ManagerOptions{Dir: "/data", FS: fsys.Crash(true), Logger: quietLogger(), CleanerThreads: -1}); err != nil {
		t.Fatal(err)
	} else {
		if _, ok := m2.Log(tp); ok {
			t.Fatal("deleted partition reappeared after a power loss")
		}
		m2.Close(ctx)
	}
	// The crash killed the file system: close on it, and redo the rest on a fresh one.
	m.Close(ctx)
	fsys = NewMemFS()
	opts.FS = fsys
	m, err = OpenManager(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { m.Close(ctx) }()
	l, _ = m.GetOrCreateLog(ctx, tp, TopicID{1}, cfg)
	for i := 0; i < 40; i++ {
		l.Append(mkBatch(l.LogEndOffset(), 2, 1, 100))
	}
	l.AdvanceLogStartOffset(10)
	m.WriteCheckpoints()
	r.Release()
	r, _ = l.Read(20, ReadOptions{MaxBytes: 1 << 20})
	if err := m.DeleteLog(ctx, tp); err != nil {
		t.Fatal(err)
	}
	if data, err := r.Bytes(); err != nil || int64(len(data)) != r.Length || r.Length == 0 {
		t.Fatalf("region unreadable after DeleteLog: %v", err)
	}
	if m.deleter.pending() == 0 {
		t.Fatal("the renamed directory is not queued for deletion")
	}
	ckpt, _ := fsys.ReadAll("/data/" + logStartCheckpointFile)
	if string(ckpt) != "0\n0\n" {
		t.Fatalf("log-start checkpoint still names the partition: %q", ckpt)
	}
	// Created again: empty, from offset 0 (not the old log start).
	l2, err := m.GetOrCreateLog(ctx, tp, TopicID{2}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if l2.LogStartOffset() != 0 || l2.LogEndOffset() != 0 {
		t.Fatalf("re-created log spans %d..%d", l2.LogStartOffset(), l2.LogEndOffset())
	}
	// The renamed directory goes once the delay passed; the reader still reads.
	clock.advance(61_000)
	waitFor(t, func() bool {
		names, _ := fsys.List("/data")
		for _, n := range names {
			if isDeleteDirName(n) {
				return false
			}
		}
		return true
	})
	if data, err := r.Bytes(); err != nil || int64(len(data)) != r.Length {
		t.Fatalf("region unreadable after the directory was removed: %v", err)
	}
	r.Release()

	// A leftover from a previous run is removed at open and never loaded.
	fsys.MkdirAll("/data/old-0.0123456789abcdef0123456789abcdef-delete", 0o755)
	fsys.WriteAll("/data/old-0.0123456789abcdef0123456789abcdef-delete/"+segmentFileName(0, logSuffix), mkBatch(0, 1, 1, 1))
	m.Close(ctx)
	m, err = OpenManager(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Logs()) != 1 {
		t.Fatalf("logs after open: %d", len(m.Logs()))
	}
	waitFor(t, func() bool { return !exists(fsys, "/data/old-0.0123456789abcdef0123456789abcdef-delete") })
}

// waitFor polls cond (background work finishing) for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestDeleteDirName(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef"
	long := strings.Repeat("t", 249)
	cases := []struct {
		tp   TopicPartition
		want string
	}{
		{TopicPartition{"orders", 3}, "orders-3." + id + "-delete"},
		{TopicPartition{"a.b-c", 12}, "a.b-c-12." + id + "-delete"},
		{TopicPartition{long, 7}, long[:255-len("-7."+id+"-delete")] + "-7." + id + "-delete"},
	}
	for _, c := range cases {
		got := deleteDirName(c.tp, id)
		if got != c.want || len(got) > 255 || !isDeleteDirName(got) {
			t.Errorf("%v: %q (%d bytes)", c.tp, got, len(got))
		}
		if _, ok := ParseDirName(got); ok {
			t.Errorf("%q parses as a live partition directory", got)
		}
	}
	for _, n := range []string{"orders-3", "orders-3-delete", "x.y", "-delete"} {
		if isDeleteDirName(n) {
			t.Errorf("%q taken for a deleted partition", n)
		}
	}
}

// concurrencyFS records how many partition directories are being listed at once (load
// lists its directory first), holding each listing a moment so that loads overlap.
type concurrencyFS struct {
	FS
	cur, max atomic.Int32
	failDir  string // listing this directory fails
}

func (c *concurrencyFS) List(dir string) ([]string, error) {
	if filepath.Dir(dir) == "/data" {
		n := c.cur.Add(1)
		defer c.cur.Add(-1)
		for {
			m := c.max.Load()
			if n <= m || c.max.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		if dir == c.failDir {
			return nil, ErrFaultInjected
		}
	}
	return c.FS.List(dir)
}

// TestParallelLoad: OpenManager loads partitions on RecoveryThreadsPerDataDir workers, never
// more at once, recovers each correctly, and on a failure closes what it opened (goleak
// checks the workers are gone).
func TestParallelLoad(t *testing.T) {
	ctx := context.Background()
	base := NewMemFS()
	opts := ManagerOptions{Dir: "/data", FS: base, Logger: quietLogger(), DefaultConfig: testConfig(), CleanerThreads: -1}
	m, err := OpenManager(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for p := 0; p < 24; p++ {
		l, err := m.GetOrCreateLog(ctx, TopicPartition{"load", int32(p)}, TopicID{}, testConfig())
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < p; i++ {
			l.Append(mkBatch(l.LogEndOffset(), 1, 1, 50))
		}
	}
	fsys := base.Crash(false) // unclean: every log is recovered
	m.Close(ctx)
	for _, threads := range []int{1, 2, 5} {
		t.Run(fmt.Sprint(threads), func(t *testing.T) {
			cfs := &concurrencyFS{FS: fsys}
			o := opts
			o.FS, o.RecoveryThreadsPerDataDir = cfs, threads
			m, err := OpenManager(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close(ctx)
			if got := int(cfs.max.Load()); got > threads || (threads > 1 && got < 2) {
				t.Fatalf("%d logs loaded at once with %d threads", got, threads)
			}
			for p := 0; p < 24; p++ {
				l, ok := m.Log(TopicPartition{"load", int32(p)})
				if !ok || l.LogEndOffset() != int64(p) {
					t.Fatalf("partition %d: %v", p, ok)
				}
			}
		})
	}
	t.Run("failure", func(t *testing.T) {
		cfs := &concurrencyFS{FS: fsys, failDir: "/data/load-7"}
		o := opts
		o.FS, o.RecoveryThreadsPerDataDir = cfs, 3
		if _, err := OpenManager(ctx, o); !errors.Is(err, ErrFaultInjected) {
			t.Fatalf("open with a failing partition: %v", err)
		}
	})
}

// TestRollFlushBoundsRecovery: with no flush policy at all (Kafka's default, Sluice's flush
// policy none) the Manager flushes what a roll sealed in the background, as Kafka does, so
// the recovery point follows the rolls and an unclean open rescans only the active segment.
// Without it the recovery point stays at the log start and every segment is rescanned.
func TestRollFlushBoundsRecovery(t *testing.T) {
	ctx := context.Background()
	base := NewMemFS()
	opts := ManagerOptions{Dir: "/data", FS: base, Logger: quietLogger(), DefaultConfig: testConfig(), CleanerThreads: -1}
	m, err := OpenManager(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.SegmentBytes = 1024
	tp := TopicPartition{"rolls", 0}
	l, err := m.GetOrCreateLog(ctx, tp, TopicID{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 60; i++ {
		if _, err := l.Append(mkBatch(l.LogEndOffset(), 2, 1, 100)); err != nil {
			t.Fatal(err)
		}
	}
	segs := l.segments()
	active := segs[len(segs)-1].base
	if len(segs) < 5 {
		t.Fatalf("only %d segments", len(segs))
	}
	// The flush is asynchronous: wait for it (a safety net, not a timing assertion).
	for deadline := time.Now().Add(30 * time.Second); l.DurableOffset() < active; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("durable offset %d, last roll at %d", l.DurableOffset(), active)
		}
	}
	if err := m.WriteCheckpoints(); err != nil {
		t.Fatal(err)
	}
	end := l.LogEndOffset()
	fsys := base.Crash(false)
	m.Close(ctx)

	// Recovery rewrites the indexes of each segment it rescans: count them.
	var mu sync.Mutex
	rescanned := map[string]bool{}
	fsys.SetHook(func(op FaultOp, name string, _ int64, _ int) (int, error) {
		if op == OpTruncate && filepath.Ext(name) == indexSuffix {
			mu.Lock()
			rescanned[filepath.Base(name)] = true
			mu.Unlock()
		}
		return 0, nil
	})
	o := opts
	o.FS = fsys
	m2, err := OpenManager(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close(ctx)
	fsys.SetHook(nil)
	want := segmentFileName(active, indexSuffix)
	if len(rescanned) != 1 || !rescanned[want] {
		t.Fatalf("rescanned %v, want only the active segment %s", rescanned, want)
	}
	if l2, _ := m2.Log(tp); l2.LogEndOffset() != end {
		t.Fatalf("log end %d after recovery, want %d", l2.LogEndOffset(), end)
	}
}
