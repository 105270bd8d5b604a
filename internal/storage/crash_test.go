package storage

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/internal/record"
)

// TestTornWriteEveryByte cuts the last append at every byte and checks that recovery keeps
// exactly the whole batches, with the recovery point both at 0 (scan everything) and at the
// log end before the torn append (scan only the active segment).
func TestTornWriteEveryByte(t *testing.T) {
	clock := &fakeClock{ms: 1}
	cfg := testConfig()
	base := NewMemFS()
	l := openTestLog(t, base, clock, cfg, false, 0)
	for i := 0; i < 30; i++ {
		l.appendN(1+i%3, 30)
	}
	want := offsetsOf(l.readAll(0))
	leo := l.LogEndOffset()
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	segs, _ := base.List("/data/t-0")
	var active string
	for _, n := range segs {
		if filepath.Ext(n) == logSuffix {
			active = n
		}
	}
	orig, _ := base.ReadAll(filepath.Join("/data/t-0", active))
	last := tb{base: leo, n: 3, ts: 5, valueSize: 40, pid: 7, epoch: 1, seq: 0, leaderEpoch: 2}.encode()
	for _, rp := range []int64{0, leo} {
		for k := 0; k <= len(last); k++ {
			fsys := base.Crash(false)
			fsys.WriteAll(filepath.Join("/data/t-0", active), append(append([]byte(nil), orig...), last[:k]...))
			l := openTestLog(t, fsys, clock, cfg, false, rp)
			got := offsetsOf(l.readAll(0))
			wantNow := want
			if k == len(last) {
				wantNow += fmt.Sprintf("[%d-%d]", leo, leo+2)
			}
			if got != wantNow {
				t.Fatalf("rp %d cut at %d/%d: got %s\nwant %s", rp, k, len(last), got, wantNow)
			}
			if _, ok := l.Producer(7); ok != (k == len(last)) {
				t.Fatalf("cut at %d: producer state %v", k, ok)
			}
			// The log must accept the next append right where recovery left it.
			l.appendN(1, 5)
			if err := l.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestTornWriteThroughFS tears a write inside Append via the fault hook, kills the process
// (the undo never runs), and recovers.
func TestTornWriteThroughFS(t *testing.T) {
	clock := &fakeClock{ms: 1}
	fsys := NewMemFS()
	l := openTestLog(t, fsys, clock, testConfig(), false, 0)
	for i := 0; i < 5; i++ {
		l.appendN(2, 20)
	}
	want := offsetsOf(l.readAll(0))
	dead := false
	fsys.SetHook(func(op FaultOp, name string, off int64, n int) (int, error) {
		if dead {
			return 0, ErrFaultInjected
		}
		if op == OpWrite && filepath.Ext(name) == logSuffix {
			dead = true
			return n / 2, ErrFaultInjected
		}
		return n, nil
	})
	if _, err := l.Append(mkBatch(l.LogEndOffset(), 2, 1, 20)); err == nil {
		t.Fatal("append should fail")
	}
	after := fsys.Crash(false)
	l.Close(context.Background())
	l2 := openTestLog(t, after, clock, testConfig(), false, 0)
	defer l2.Close(context.Background())
	if got := offsetsOf(l2.readAll(0)); got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}

// TestFailedWriteIsUndone: an I/O error without a crash leaves the log usable.
func TestFailedWriteIsUndone(t *testing.T) {
	clock := &fakeClock{ms: 1}
	fsys := NewMemFS()
	l := openTestLog(t, fsys, clock, testConfig(), false, 0)
	defer l.Close(context.Background())
	l.appendN(2, 20)
	fail := true
	fsys.SetHook(func(op FaultOp, name string, off int64, n int) (int, error) {
		if fail && op == OpWrite && filepath.Ext(name) == logSuffix {
			fail = false
			return 7, ErrFaultInjected
		}
		return n, nil
	})
	if _, err := l.Append(mkBatch(2, 2, 1, 20)); err == nil {
		t.Fatal("want error")
	}
	l.appendN(2, 20)
	if got := offsetsOf(l.readAll(0)); got != "[0-1][2-3]" {
		t.Fatal(got)
	}
}

// TestPowerLoss appends from several goroutines that wait for durability, crashes with
// power loss at random moments, and checks that every offset the flusher reported durable
// survived and that the survivor is a prefix of what was written.
func TestPowerLoss(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { powerLossRound(t, seed) })
	}
}

func powerLossRound(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	clock := &fakeClock{ms: 1}
	fsys := NewMemFS()
	cfg := testConfig()
	cfg.SegmentBytes = 2048
	l := openTestLog(t, fsys, clock, cfg, false, 0)
	var written [][]byte // batch bytes by order
	var mu sync.Mutex
	var durable int64
	var wg sync.WaitGroup
	for round := 0; round < 40; round++ {
		n := 1 + rng.IntN(4)
		for g := 0; g < n; g++ {
			mu.Lock()
			b := mkBatch(l.LogEndOffset(), 1+rng.IntN(3), int64(round), rng.IntN(200))
			info, err := l.Append(b)
			if err == nil {
				written = append(written, b)
			}
			mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func(next int64) {
				defer wg.Done()
				if err := l.WaitDurable(context.Background(), next); err == nil {
					mu.Lock()
					durable = max(durable, next)
					mu.Unlock()
				}
			}(info.NextOffset())
		}
		if rng.IntN(3) == 0 {
			wg.Wait()
		}
	}
	// Crash while waiters may still run: the crash must not report data durable that
	// the disk does not have.
	mu.Lock()
	after := fsys.Crash(true)
	sure := durable
	mu.Unlock()
	wg.Wait()
	l.Close(context.Background())
	l2 := openTestLog(t, after, clock, cfg, false, 0)
	defer l2.Close(context.Background())
	got := l2.readAll(0)
	t.Logf("wrote %d batches, %d survived, durable offset %d, recovered end %d", len(written), len(got), sure, l2.LogEndOffset())
	if l2.LogEndOffset() < sure {
		t.Fatalf("durable up to %d, recovered only to %d", sure, l2.LogEndOffset())
	}
	for i, b := range got {
		if i >= len(written) || !bytes.Equal(b, written[i]) {
			t.Fatalf("batch %d differs after recovery", i)
		}
	}
}

// TestBitFlipTail flips bytes covered by the CRC near the end of the active segment; recovery
// keeps a prefix of the original batches.
func TestBitFlipTail(t *testing.T) {
	clock := &fakeClock{ms: 1}
	base := NewMemFS()
	cfg := testConfig()
	cfg.SegmentBytes = 1 << 20
	l := openTestLog(t, base, clock, cfg, false, 0)
	var written [][]byte
	var positions []int
	pos := 0
	for i := 0; i < 20; i++ {
		b := mkBatch(l.LogEndOffset(), 2, 1, 30)
		if _, err := l.Append(b); err != nil {
			t.Fatal(err)
		}
		written = append(written, b)
		positions = append(positions, pos)
		pos += len(b)
	}
	l.Close(context.Background())
	path := "/data/t-0/" + segmentFileName(0, logSuffix)
	orig, _ := base.ReadAll(path)
	rng := rand.New(rand.NewPCG(5, 5))
	for trial := 0; trial < 300; trial++ {
		bi := 10 + rng.IntN(10)
		off := positions[bi] + record.LogOverhead + 5 + rng.IntN(len(written[bi])-record.LogOverhead-5) // magic onward... CRC covers 21..
		if off < positions[bi]+17 {
			off = positions[bi] + 17
		}
		data := append([]byte(nil), orig...)
		data[off] ^= 1 << rng.IntN(8)
		fsys := base.Crash(false)
		fsys.WriteAll(path, data)
		l := openTestLog(t, fsys, clock, cfg, false, 0)
		got := l.readAll(0)
		if len(got) != bi {
			t.Fatalf("flip in batch %d at %d: recovered %d batches", bi, off, len(got))
		}
		for i, b := range got {
			if !bytes.Equal(b, written[i]) {
				t.Fatalf("batch %d differs", i)
			}
		}
		l.Close(context.Background())
	}
}

// TestCorruptIndexRebuilt: garbage index files of sealed segments are detected and rebuilt.
func TestCorruptIndexRebuilt(t *testing.T) {
	clock := &fakeClock{ms: 1}
	fsys := NewMemFS()
	l := openTestLog(t, fsys, clock, testConfig(), false, 0)
	for i := 0; i < 80; i++ {
		l.appendN(2, 60)
	}
	want := offsetsOf(l.readAll(0))
	l.Close(context.Background())
	names, _ := fsys.List("/data/t-0")
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range names {
		if filepath.Ext(n) == indexSuffix || filepath.Ext(n) == timeIndexSuffix {
			junk := make([]byte, 64)
			for i := range junk {
				junk[i] = byte(rng.IntN(256))
			}
			fsys.WriteAll("/data/t-0/"+n, junk)
		}
	}
	l2 := openTestLog(t, fsys, clock, testConfig(), true, 0)
	defer l2.Close(context.Background())
	if got := offsetsOf(l2.readAll(0)); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	for off := int64(0); off < l2.LogEndOffset(); off += 7 {
		r, err := l2.Read(off, ReadOptions{MaxBytes: 1, MinOneBatch: true})
		if err != nil {
			t.Fatal(err)
		}
		if r.FirstOffset > off || r.FirstOffset < off-1 {
			t.Fatalf("read %d gave batch at %d", off, r.FirstOffset)
		}
		r.Release()
	}
}

// TestEpochsMatchBatchesAfterCrash: the leader epoch cache, whose writes are deferred to
// flush rounds, agrees with the batches after any crash: every batch's leader epoch is the
// cache's epoch at its offset. Appends (with epoch changes), elections (AssignEpoch),
// truncations and flushes run in random order; process crashes and power losses interrupt
// them.
func TestEpochsMatchBatchesAfterCrash(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 11))
			clock := &fakeClock{ms: 1}
			cfg := testConfig()
			cfg.SegmentBytes = 1024 + int64(rng.IntN(2000))
			fsys := NewMemFS()
			l := openTestLog(t, fsys, clock, cfg, false, 0)
			defer func() { l.Close(context.Background()) }()
			epoch := int32(0)
			for step := 0; step < 600; step++ {
				switch r := rng.IntN(100); {
				case r < 60:
					if rng.IntN(10) == 0 {
						epoch++
					}
					off := l.LogEndOffset() + int64(rng.IntN(2))
					if _, err := l.Append(tb{base: off, n: 1 + rng.IntN(3), ts: 1, valueSize: 20, leaderEpoch: epoch}.encode()); err != nil {
						t.Fatal(err)
					}
				case r < 65:
					epoch++
					if err := l.AssignEpoch(epoch, l.LogEndOffset()); err != nil {
						t.Fatal(err)
					}
				case r < 75:
					bs := l.readAll(l.LogStartOffset())
					if len(bs) > 0 {
						if err := l.TruncateTo(bs[rng.IntN(len(bs))].BaseOffset()); err != nil {
							t.Fatal(err)
						}
					}
				case r < 85:
					if err := l.Flush(context.Background()); err != nil {
						t.Fatal(err)
					}
				default:
					rp, start := l.DurableOffset(), l.LogStartOffset()
					after := fsys.Crash(rng.IntN(2) == 0)
					l.Close(context.Background())
					fsys = after
					l = openTestLogAt(t, fsys, clock, cfg, false, rp, start)
					if l.LogEndOffset() < rp {
						t.Fatalf("step %d: durable to %d, recovered to %d", step, rp, l.LogEndOffset())
					}
					checkEpochsCover(t, l, step)
				}
			}
			checkEpochsCover(t, l, 600)
		})
	}
}

func checkEpochsCover(t *testing.T, l *testLog, step int) {
	t.Helper()
	es := l.EpochEntries()
	for i := 1; i < len(es); i++ {
		if es[i].Epoch <= es[i-1].Epoch || es[i].StartOffset < es[i-1].StartOffset {
			t.Fatalf("step %d: entries not increasing: %v", step, es)
		}
	}
	for _, b := range l.readAll(l.LogStartOffset()) {
		want := b.PartitionLeaderEpoch()
		got := int32(-1)
		for _, e := range es {
			if e.StartOffset <= b.BaseOffset() {
				got = e.Epoch
			}
		}
		if got != want {
			t.Fatalf("step %d: batch at %d has epoch %d, the cache says %d: %v", step, b.BaseOffset(), want, got, es)
		}
	}
}

// TestTruncateIntoGapLowersDurable: truncating at an offset inside a gap (compaction) leaves
// the log end below that offset; the durable offset must follow it down, or the appends that
// fill the gap would count as durable without an fsync.
func TestTruncateIntoGapLowersDurable(t *testing.T) {
	fsys := NewMemFS()
	l := openTestLog(t, fsys, &fakeClock{ms: 1}, testConfig(), false, 0)
	defer l.Close(context.Background())
	l.Append(mkBatch(0, 2, 1, 10)) // 0-1
	l.Append(mkBatch(5, 2, 1, 10)) // 5-6, after a gap
	l.Append(mkBatch(7, 2, 1, 10)) // 7-8
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateTo(5); err != nil { // the log now ends at 2
		t.Fatal(err)
	}
	if l.LogEndOffset() != 2 || l.DurableOffset() > 2 {
		t.Fatalf("log end %d, durable %d", l.LogEndOffset(), l.DurableOffset())
	}
	info, err := l.Append(mkBatch(2, 2, 1, 10))
	if err != nil {
		t.Fatal(err)
	}
	if l.DurableOffset() >= info.NextOffset() {
		t.Fatalf("offsets up to %d count as durable before any fsync", l.DurableOffset())
	}
}
