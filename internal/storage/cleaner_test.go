package storage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sluicehq/sluice/internal/record"
)

type kv struct {
	off   int64
	key   string
	value []byte // nil: tombstone
}

// readRecords returns every record of the log (uncompressed test batches).
func (l *testLog) readRecords() []kv {
	var out []kv
	for _, b := range l.readAll(l.LogStartOffset()) {
		it := record.NewRecordIter(b.Records(), b.RecordCount())
		for it.Next() {
			r := it.Record()
			out = append(out, kv{off: r.Offset(b), key: string(r.Key), value: append([]byte(nil), r.Value...)})
			if r.Value == nil {
				out[len(out)-1].value = nil
			}
		}
		if it.Err() != nil {
			l.t.Fatal(it.Err())
		}
	}
	return out
}

func TestCompaction(t *testing.T) {
	clock := &fakeClock{ms: 1_000_000}
	fsys := NewMemFS()
	cfg := testConfig()
	cfg.CleanupPolicy = CleanupCompact
	cfg.SegmentBytes = 2048
	cfg.DeleteRetentionMs = 1000
	l := openTestLog(t, fsys, clock, cfg, false, 0)
	defer func() { l.Close(context.Background()) }()
	rng := rand.New(rand.NewPCG(3, 4))
	latest := map[string]kv{}
	var all []kv
	for i := 0; i < 300; i++ {
		n := 1 + rng.IntN(4)
		var keys, values [][]byte
		base := l.LogEndOffset()
		for j := 0; j < n; j++ {
			k := fmt.Sprintf("k%02d", rng.IntN(30))
			var v []byte
			if rng.IntN(8) != 0 {
				v = []byte(fmt.Sprintf("v%d", base+int64(j)))
			}
			keys = append(keys, []byte(k))
			values = append(values, v)
			e := kv{off: base + int64(j), key: k, value: v}
			latest[k] = e
			all = append(all, e)
		}
		if _, err := l.Append(tb{base: base, keys: keys, values: values, ts: clock.ms}.encode()); err != nil {
			t.Fatal(err)
		}
		clock.advance(1)
	}
	before := l.SizeBytes()
	activeBase := l.active().base
	latestBelow := map[string]int64{}
	for _, e := range all {
		if e.off < activeBase {
			latestBelow[e.key] = e.off
		}
	}
	st, err := l.Compact(context.Background(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if st.RecordsRemoved == 0 || l.SizeBytes() >= before {
		t.Fatalf("nothing compacted: %+v", st)
	}
	check := func(tombstonesGone bool) {
		t.Helper()
		got := l.readRecords()
		seen := map[string]bool{}
		idx := 0
		for _, r := range got {
			// Offsets preserved: every record is one that was written at that offset.
			for idx < len(all) && all[idx].off < r.off {
				idx++
			}
			if idx == len(all) || all[idx].off != r.off || all[idx].key != r.key {
				t.Fatalf("record at %d (%s) was not written there", r.off, r.key)
			}
			if r.off < activeBase && latestBelow[r.key] != r.off {
				t.Fatalf("stale record %s@%d survived below %d (latest there %d)", r.key, r.off, activeBase, latestBelow[r.key])
			}
			if tombstonesGone && r.off < activeBase && r.value == nil {
				t.Fatalf("tombstone %s@%d outlived delete.retention.ms", r.key, r.off)
			}
			seen[r.key] = true
		}
		for k, e := range latest {
			if e.value != nil && !seen[k] {
				t.Fatalf("latest value of %s (offset %d) lost", k, e.off)
			}
		}
	}
	check(false)
	// After delete.retention.ms the tombstones go on the next pass.
	clock.advance(2000)
	l.cleanerPoint.Store(0) // force a full pass
	if _, err := l.Compact(context.Background(), 1<<20); err != nil {
		t.Fatal(err)
	}
	check(true)
	// Survives restarts, clean and unclean.
	want := offsetsOf(l.readAll(0))
	l.Close(context.Background())
	for _, clean := range []bool{true, false} {
		l = openTestLog(t, fsys, clock, cfg, clean, 0)
		if got := offsetsOf(l.readAll(0)); got != want {
			t.Fatalf("clean=%v: %s\nwant %s", clean, got, want)
		}
		check(true)
		l.Close(context.Background())
	}
	l = openTestLog(t, fsys, clock, cfg, true, 0)
}

// TestCompactionKeepsProducerLastBatch: an idempotent producer's last batch survives as an
// empty batch when all its records are superseded.
func TestCompactionKeepsProducerLastBatch(t *testing.T) {
	clock := &fakeClock{ms: 1}
	fsys := NewMemFS()
	cfg := testConfig()
	cfg.CleanupPolicy = CleanupCompact
	l := openTestLog(t, fsys, clock, cfg, false, 0)
	defer l.Close(context.Background())
	k := [][]byte{[]byte("a")}
	l.Append(tb{base: 0, keys: k, values: [][]byte{[]byte("1")}, ts: 1, pid: 42, epoch: 0, seq: 0}.encode())
	l.Append(tb{base: 1, keys: k, values: [][]byte{[]byte("2")}, ts: 1}.encode())
	l.Append(tb{base: 2, keys: k, values: [][]byte{[]byte("3")}, ts: 1}.encode())
	l.Roll()
	l.Append(tb{base: 3, keys: k, values: [][]byte{[]byte("4")}, ts: 1}.encode())
	if _, err := l.Compact(context.Background(), 100); err != nil {
		t.Fatal(err)
	}
	bs := l.readAll(0)
	if len(bs) != 3 || bs[1].BaseOffset() != 2 || bs[0].ProducerID() != 42 || bs[0].RecordCount() != 0 || bs[0].BaseOffset() != 0 {
		t.Fatalf("got %v", bs)
	}
	if e, ok := l.Producer(42); !ok || e.LastSeq() != 0 {
		t.Fatal("producer state lost")
	}
}

// TestCompactionCrashSafety: a .swap left by a crash is installed at open, a .cleaned one is
// discarded; either way the log reads the same.
func TestCompactionCrashSafety(t *testing.T) {
	for _, stage := range []string{"cleaned", "swap"} {
		t.Run(stage, func(t *testing.T) {
			clock := &fakeClock{ms: 1}
			fsys := NewMemFS()
			cfg := testConfig()
			cfg.CleanupPolicy = CleanupCompact
			cfg.SegmentBytes = 1024
			l := openTestLog(t, fsys, clock, cfg, false, 0)
			for i := 0; i < 60; i++ {
				key := []byte(fmt.Sprintf("k%d", i%5))
				l.Append(tb{base: l.LogEndOffset(), keys: [][]byte{key}, values: [][]byte{[]byte("v")}, ts: 1}.encode())
			}
			latestKeys := map[string]bool{}
			for _, r := range l.readRecords() {
				latestKeys[r.key] = true
			}
			if stage == "swap" {
				// Fail the rename of .swap to .log: the crash happens right there.
				fsys.SetHook(func(op FaultOp, name string, off int64, n int) (int, error) {
					if op == OpRename && len(name) > 5 && name[len(name)-5:] == swapSuffix {
						return 0, ErrFaultInjected
					}
					return n, nil
				})
			} else {
				fsys.SetHook(func(op FaultOp, name string, off int64, n int) (int, error) {
					if op == OpRename && len(name) > 8 && name[len(name)-8:] == cleanedSuffix {
						return 0, ErrFaultInjected
					}
					return n, nil
				})
			}
			l.Compact(context.Background(), 100)
			after := fsys.Crash(false)
			l.Close(context.Background())
			l2 := openTestLog(t, after, clock, cfg, false, 0)
			defer l2.Close(context.Background())
			got := map[string]bool{}
			for _, r := range l2.readRecords() {
				got[r.key] = true
			}
			if len(got) != len(latestKeys) || l2.LogEndOffset() != 60 {
				t.Fatalf("keys %v, end %d", got, l2.LogEndOffset())
			}
		})
	}
}
