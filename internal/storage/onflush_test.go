package storage

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestOnFlush: every flush round of a managed log is reported with its duration, which
// includes the fsyncs.
func TestOnFlush(t *testing.T) {
	clock := &fakeClock{ms: 1_000_000}
	fsys := NewMemFS()
	var mu sync.Mutex
	var rounds []time.Duration
	opts := ManagerOptions{Dir: "/data", FS: fsys, Logger: quietLogger(), Now: clock.now, DefaultConfig: testConfig(),
		OnFlush: func(d time.Duration) {
			mu.Lock()
			rounds = append(rounds, d)
			mu.Unlock()
		}}
	ctx := context.Background()
	m, err := OpenManager(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(ctx)
	l, err := m.GetOrCreateLog(ctx, TopicPartition{"t", 0}, TopicID{1}, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Flush(ctx); err != nil { // the creation's deferred syncs
		t.Fatal(err)
	}
	mu.Lock()
	before := len(rounds)
	mu.Unlock()
	const latency = 2 * time.Millisecond
	fsys.SetSyncLatency(latency)
	if _, err := l.Append(mkBatch(l.LogEndOffset(), 1, clock.ms, 100)); err != nil {
		t.Fatal(err)
	}
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Already durable: no round, nothing reported.
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(rounds) != before+1 {
		t.Fatalf("%d rounds reported for one flush, want 1", len(rounds)-before)
	}
	if d := rounds[before]; d < latency {
		t.Fatalf("round reported %v, below the fsync latency %v", d, latency)
	}
}
