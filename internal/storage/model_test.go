package storage

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sluicehq/sluice/internal/record"
)

// logModel is the obvious in-memory log the real one must agree with.
type logModel struct {
	batches  [][]byte
	logStart int64
	logEnd   int64
	epochs   []EpochEntry
}

func (m *logModel) append(b []byte) {
	rb := record.Batch(b)
	if e := rb.PartitionLeaderEpoch(); e >= 0 && (len(m.epochs) == 0 || e > m.epochs[len(m.epochs)-1].Epoch) {
		m.epochs = append(m.epochs, EpochEntry{Epoch: e, StartOffset: rb.BaseOffset()})
	}
	m.batches = append(m.batches, b)
	m.logEnd = rb.NextOffset()
}

func (m *logModel) truncate(off int64) {
	if off >= m.logEnd {
		return
	}
	if off < m.logStart || len(m.batches) == 0 || off <= record.Batch(m.batches[0]).BaseOffset() {
		// The real log restarts fully when nothing before off would remain in its
		// first segment; the model mirrors the visible result.
	}
	i := 0
	for i < len(m.batches) && record.Batch(m.batches[i]).LastOffset() < off {
		i++
	}
	m.batches = m.batches[:i]
	// The log end is where the kept data ends (before off when a gap precedes it).
	m.logEnd = off
	if i > 0 {
		m.logEnd = record.Batch(m.batches[i-1]).NextOffset()
	}
	for len(m.epochs) > 0 && m.epochs[len(m.epochs)-1].StartOffset >= off {
		m.epochs = m.epochs[:len(m.epochs)-1]
	}
	if off < m.logStart {
		m.logStart = off
	}
}

// dropBelow forgets batches wholly below the (new) log start.
func (m *logModel) dropBelow(start int64) {
	m.logStart = start
	var es []EpochEntry
	for i, e := range m.epochs {
		if i+1 < len(m.epochs) && m.epochs[i+1].StartOffset <= start {
			continue
		}
		e.StartOffset = max(e.StartOffset, start)
		es = append(es, e)
	}
	m.epochs = es
	i := 0
	for i < len(m.batches) && record.Batch(m.batches[i]).LastOffset() < start {
		i++
	}
	m.batches = m.batches[i:]
}

func (m *logModel) check(t *testing.T, l *testLog, step int, op string) {
	t.Helper()
	if l.LogEndOffset() != m.logEnd {
		t.Fatalf("step %d (%s): LEO %d, model %d", step, op, l.LogEndOffset(), m.logEnd)
	}
	if l.LogStartOffset() != m.logStart {
		t.Fatalf("step %d (%s): log start %d, model %d", step, op, l.LogStartOffset(), m.logStart)
	}
	got := l.readAll(m.logStart)
	want := m.batches
	if len(got) != len(want) {
		t.Fatalf("step %d (%s): %d batches %s, model %d %s", step, op, len(got), offsetsOf(got), len(want), modelOffsets(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("step %d (%s): batch %d differs: %v vs %v", step, op, i, got[i], record.Batch(want[i]))
		}
	}
}

func modelOffsets(bs [][]byte) string {
	s := ""
	for _, b := range bs {
		s += fmt.Sprintf("[%d-%d]", record.Batch(b).BaseOffset(), record.Batch(b).LastOffset())
	}
	return s
}

func TestRandomizedModel(t *testing.T) {
	seeds := []uint64{1, 2, 3, 4}
	steps := 4000
	if testing.Short() {
		steps = 300
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runModel(t, seed, steps) })
	}
}

func runModel(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	clock := &fakeClock{ms: 1_000_000}
	fsys := NewMemFS()
	cfg := testConfig()
	cfg.SegmentBytes = 1024 + int64(rng.IntN(3000))
	cfg.IndexIntervalBytes = int64(rng.IntN(400))
	l := openTestLog(t, fsys, clock, cfg, false, 0)
	m := &logModel{}
	epoch := int32(0)
	defer func() { l.Close(context.Background()) }()
	for step := 0; step < steps; step++ {
		var op string
		switch r := rng.IntN(100); {
		case r < 55:
			op = "append"
			n := 1 + rng.IntN(3) // batches in one call
			var buf []byte
			off := l.LogEndOffset() + int64(rng.IntN(2)) // sometimes a gap, as after compaction
			if rng.IntN(20) == 0 {
				epoch++
			}
			var bs [][]byte
			for i := 0; i < n; i++ {
				b := tb{base: off, n: 1 + rng.IntN(4), ts: clock.ms, valueSize: rng.IntN(120), leaderEpoch: epoch}.encode()
				bs = append(bs, b)
				buf = append(buf, b...)
				off = record.Batch(b).NextOffset()
			}
			if _, err := l.Append(buf); err != nil {
				t.Fatalf("step %d append: %v", step, err)
			}
			for _, b := range bs {
				m.append(b)
			}
			clock.advance(int64(rng.IntN(50)))
		case r < 63:
			op = "truncate"
			if len(m.batches) == 0 {
				continue
			}
			// Truncate at a batch boundary, as followers do.
			i := rng.IntN(len(m.batches))
			off := record.Batch(m.batches[i]).BaseOffset()
			if err := l.TruncateTo(off); err != nil {
				t.Fatalf("step %d truncate: %v", step, err)
			}
			if off <= l.LogStartOffset() && l.LogStartOffset() == off {
				// Full truncation restarts the log at off.
			}
			m.truncate(off)
			// The log ends where its kept data ends or, when the segment holding off was
			// emptied, at off: with a gap before off (or invisible data below the log
			// start) both are right.
			if leo := l.LogEndOffset(); leo <= off && (leo >= m.logEnd || len(m.batches) == 0 && leo >= m.logStart) {
				m.logEnd = leo
			}
			if l.NumSegments() == 1 && l.SizeBytes() == 0 && l.LogStartOffset() == off {
				// Nothing was left below off: the log restarted at off, and Kafka
				// clears the epoch cache when it does.
				m.logStart, m.logEnd = off, off
				m.epochs = nil
				m.batches = nil
			}
		case r < 68:
			op = "advance-start"
			if m.logEnd == m.logStart {
				continue
			}
			off := m.logStart + rng.Int64N(m.logEnd-m.logStart+1)
			if err := l.AdvanceLogStartOffset(off); err != nil {
				t.Fatalf("step %d advance: %v", step, err)
			}
			m.dropBelow(off)
		case r < 73:
			op = "retention"
			c := l.Config()
			c.RetentionBytes = int64(rng.IntN(6000))
			if err := l.SetConfig(c); err != nil {
				t.Fatal(err)
			}
			l.EnforceRetention()
			c.RetentionBytes = -1
			l.SetConfig(c)
			m.dropBelow(l.LogStartOffset())
		case r < 74:
			op = "compact"
			// Keyless records are all kept: the pass rewrites and swaps segments, and the
			// data must read back identical.
			if _, err := l.Compact(context.Background(), 1000); err != nil && err != ErrCompactionAborted {
				t.Fatalf("step %d compact: %v", step, err)
			}
		case r < 76:
			op = "roll"
			if err := l.Roll(); err != nil {
				t.Fatal(err)
			}
		case r < 80:
			op = "flush"
			if err := l.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		case r < 85:
			op = "clean-restart"
			if err := l.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			l = openTestLogAt(t, fsys, clock, cfg, true, l.LogEndOffset(), m.logStart)
		case r < 90:
			op = "crash-restart"
			rp := l.DurableOffset()
			after := fsys.Crash(false)
			l.Close(context.Background())
			fsys = after
			l = openTestLogAt(t, fsys, clock, cfg, false, rp, m.logStart)
		default:
			op = "read-check"
		}
		if debugModel {
			t.Logf("step %d %s start=%d end=%d segs=%d model=%s ep=%v mep=%v", step, op, l.LogStartOffset(), l.LogEndOffset(), l.NumSegments(), modelOffsets(m.batches), l.EpochEntries(), m.epochs)
		}
		m.check(t, l, step, op)
		if step%50 == 0 {
			checkEpochs(t, l, m, step)
		}
	}
	checkEpochs(t, l, m, steps)
}

func checkEpochs(t *testing.T, l *testLog, m *logModel, step int) {
	t.Helper()
	got := l.EpochEntries()
	want := m.epochs
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("step %d: epochs %v, model %v", step, got, want)
	}
}

func openTestLogAt(t testing.TB, fsys *MemFS, clock *fakeClock, cfg Config, clean bool, rp, logStart int64) *testLog {
	t.Helper()
	l, err := OpenLog(context.Background(), LogOptions{
		Dir: "/data/t-0", TopicPartition: TopicPartition{"t", 0}, Config: cfg, FS: fsys,
		Logger: quietLogger(), Now: clock.now, HadCleanShutdown: clean, RecoveryPoint: rp, LogStartOffset: logStart,
	})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return &testLog{Log: l, t: t, fs: fsys, clock: clock, dir: "/data/t-0"}
}

var debugModel = false
