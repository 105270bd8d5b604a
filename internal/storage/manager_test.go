package storage

import (
	"context"
	"path/filepath"
	"sync"
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
	fsys.SetHook(func(op FaultOp, name string, off int64, n int) (int, error) {
		if op == OpSync {
			time.Sleep(500 * time.Microsecond)
		}
		return n, nil
	})
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
	if syncs >= writers*per {
		t.Fatalf("%d fsyncs for %d appends: no sharing", syncs, writers*per)
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
