package storage

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sluicehq/sluice/internal/record"
)

// logModel is the partition log as Kafka specifies it, kept as a plain list of batches; the
// real log must agree with it after every operation. Its leader epoch cache follows Kafka's
// LeaderEpochFileCache (assign, truncateFromEnd, truncateFromStart, and the truncations of a
// log load), so a disagreement on epochs is a bug of the log, unless the log documents the
// difference (doc.go, "Differences from Kafka"), in which case the rule below says so.
type logModel struct {
	batches  [][]byte // the batches a reader sees: last offset at or above the log start
	logStart int64
	logEnd   int64
	epochs   []EpochEntry
}

// assign is LeaderEpochFileCache.assign: nothing changes when epoch is the latest one and
// start does not precede it; otherwise the entries the new one contradicts (an epoch at
// least as new, or a start not below start) go, and the new entry is appended.
func (m *logModel) assign(epoch int32, start int64) {
	if epoch < 0 {
		return
	}
	if n := len(m.epochs); n > 0 && m.epochs[n-1].Epoch == epoch && start >= m.epochs[n-1].StartOffset {
		return
	}
	for n := len(m.epochs); n > 0 && (m.epochs[n-1].Epoch >= epoch || m.epochs[n-1].StartOffset >= start); n = len(m.epochs) {
		m.epochs = m.epochs[:n-1]
	}
	m.epochs = append(m.epochs, EpochEntry{Epoch: epoch, StartOffset: start})
}

// truncateEpochsFromEnd is LeaderEpochFileCache.truncateFromEnd: entries starting at or
// after end go.
func (m *logModel) truncateEpochsFromEnd(end int64) {
	for n := len(m.epochs); n > 0 && m.epochs[n-1].StartOffset >= end; n = len(m.epochs) {
		m.epochs = m.epochs[:n-1]
	}
}

// truncateEpochsFromStart is LeaderEpochFileCache.truncateFromStart: entries starting at or
// before start go, and the last of them comes back starting at start.
func (m *logModel) truncateEpochsFromStart(start int64) {
	i := 0
	for i < len(m.epochs) && m.epochs[i].StartOffset <= start {
		i++
	}
	if i == 0 {
		return
	}
	kept := []EpochEntry{{Epoch: m.epochs[i-1].Epoch, StartOffset: start}}
	m.epochs = append(kept, m.epochs[i:]...)
}

// endOffsetFor is LeaderEpochFileCache.endOffsetFor (OffsetForLeaderEpoch).
func (m *logModel) endOffsetFor(requested int32) (int32, int64) {
	es := m.epochs
	if requested < 0 || len(es) == 0 {
		return -1, -1
	}
	if es[len(es)-1].Epoch == requested {
		return requested, m.logEnd
	}
	hi := 0
	for hi < len(es) && es[hi].Epoch <= requested {
		hi++
	}
	switch {
	case hi == len(es):
		return -1, -1
	case hi == 0:
		return requested, es[0].StartOffset
	}
	return es[hi-1].Epoch, es[hi].StartOffset
}

func (m *logModel) append(b []byte) {
	rb := record.Batch(b)
	m.assign(rb.PartitionLeaderEpoch(), rb.BaseOffset())
	m.batches = append(m.batches, b)
	m.logEnd = rb.NextOffset()
}

// truncate is TruncateTo. Batches with a last offset at or above off go (a batch straddling
// off goes whole). The log end is where the kept data ends, and the cache is truncated
// there (Sluice's documented difference: Kafka sets the log end to off, and finds the end of
// the data only at its next restart). When nothing at or above the log start stays, the log
// restarts empty at off, with an empty cache (Kafka's truncateFullyAndStartAt and
// clearAndFlush; Kafka keeps its log start until its next restart in that case).
func (m *logModel) truncate(off int64) {
	if off >= m.logEnd {
		return
	}
	i := 0
	for i < len(m.batches) && record.Batch(m.batches[i]).LastOffset() < off {
		i++
	}
	if i == 0 {
		m.batches, m.epochs = nil, nil
		m.logStart, m.logEnd = off, off
		return
	}
	m.batches = m.batches[:i]
	m.logEnd = record.Batch(m.batches[i-1]).NextOffset()
	m.truncateEpochsFromEnd(m.logEnd)
}

// advanceStart moves the log start up (DeleteRecords, retention).
func (m *logModel) advanceStart(start int64) {
	m.logStart = start
	m.truncateEpochsFromStart(start)
	i := 0
	for i < len(m.batches) && record.Batch(m.batches[i]).LastOffset() < start {
		i++
	}
	m.batches = m.batches[i:]
}

// reopen is what a log load does to the cache (Kafka's LogLoader: truncateFromEnd(log end),
// then truncateFromStart(log start)), with the end applied once more: an entry moved up to
// the end of an empty log is an epoch without data, which does not survive a reopen.
func (m *logModel) reopen() {
	m.truncateEpochsFromEnd(m.logEnd)
	m.truncateEpochsFromStart(m.logStart)
	m.truncateEpochsFromEnd(m.logEnd)
}

func (m *logModel) check(t *testing.T, l *testLog, rng *rand.Rand, maxEpoch int32) error {
	t.Helper()
	if l.LogEndOffset() != m.logEnd {
		return fmt.Errorf("log end %d, model %d", l.LogEndOffset(), m.logEnd)
	}
	if l.LogStartOffset() != m.logStart {
		return fmt.Errorf("log start %d, model %d", l.LogStartOffset(), m.logStart)
	}
	got := l.readAll(m.logStart)
	if len(got) != len(m.batches) {
		return fmt.Errorf("%d batches %s, model %d %s", len(got), offsetsOf(got), len(m.batches), modelOffsets(m.batches))
	}
	for i := range got {
		if !bytes.Equal(got[i], m.batches[i]) {
			return fmt.Errorf("batch %d differs: %v, model %v", i, got[i], record.Batch(m.batches[i]))
		}
	}
	if fmt.Sprint(l.EpochEntries()) != fmt.Sprint(m.epochs) {
		return fmt.Errorf("epochs %v, model %v", l.EpochEntries(), m.epochs)
	}
	for _, e := range []int32{-1, maxEpoch, rng.Int32N(maxEpoch + 2)} {
		gotEpoch, gotEnd := l.EndOffsetForEpoch(e)
		we, wo := m.endOffsetFor(e)
		if gotEpoch != we || gotEnd != wo {
			return fmt.Errorf("end offset for epoch %d: (%d, %d), model (%d, %d)", e, gotEpoch, gotEnd, we, wo)
		}
	}
	return nil
}

func modelOffsets(bs [][]byte) string {
	s := ""
	for _, b := range bs {
		s += fmt.Sprintf("[%d-%d]", record.Batch(b).BaseOffset(), record.Batch(b).LastOffset())
	}
	return s
}

var modelSeeds = flag.Int("storage.modelseeds", 100, "seeds TestRandomizedModel runs (1..n)")

// TestRandomizedModel drives the log with random operations (appends with gaps and epoch
// changes, elections, truncations at and between batch boundaries, log start advances,
// retention, compaction, rolls, flushes, clean restarts, process crashes and power losses
// after a flush) and compares it with logModel after every one. 100 seeds by default; more
// with -storage.modelseeds=N.
func TestRandomizedModel(t *testing.T) {
	steps := 600
	if testing.Short() || raceEnabled {
		steps = 150
	}
	for seed := 1; seed <= *modelSeeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			runModel(t, uint64(seed), steps)
		})
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
	defer func() { l.Close(context.Background()) }()
	m := &logModel{}
	epoch := int32(0)
	// The last operations, printed when the log and the model disagree.
	var trace []string
	for step := 0; step < steps; step++ {
		var op string
		switch r := rng.IntN(100); {
		case r < 52:
			op = "append"
			n := 1 + rng.IntN(3) // batches in one call
			var buf []byte
			off := l.LogEndOffset()
			// Sometimes a gap, as after compaction; never right after an election, where a
			// leader appends from the offset its epoch starts at.
			if k := len(m.epochs); (k == 0 || m.epochs[k-1].StartOffset < m.logEnd) && rng.IntN(2) == 0 {
				off++
			}
			if rng.IntN(20) == 0 {
				epoch++ // a follower appending what a new leader wrote
			}
			e := epoch
			var bs [][]byte
			for i := 0; i < n; i++ {
				b := tb{base: off, n: 1 + rng.IntN(4), ts: clock.ms, valueSize: rng.IntN(120), leaderEpoch: e}.encode()
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
		case r < 55:
			op = "assign-epoch" // an election: the new epoch starts at the log end
			epoch++
			if err := l.AssignEpoch(epoch, l.LogEndOffset()); err != nil {
				t.Fatalf("step %d assign epoch: %v", step, err)
			}
			m.assign(epoch, m.logEnd)
		case r < 63:
			var off int64
			switch {
			case len(m.batches) > 0 && rng.IntN(3) > 0:
				op = "truncate" // at a batch boundary, as followers do
				off = record.Batch(m.batches[rng.IntN(len(m.batches))]).BaseOffset()
			default:
				op = "truncate-anywhere" // inside a batch, in a gap, or below the log start
				off = max(m.logStart-2+rng.Int64N(m.logEnd-m.logStart+3), 0)
			}
			op = fmt.Sprintf("%s(%d)", op, off)
			if err := l.TruncateTo(off); err != nil {
				t.Fatalf("step %d truncate: %v", step, err)
			}
			m.truncate(off)
		case r < 68:
			if m.logEnd == m.logStart {
				continue
			}
			off := m.logStart + rng.Int64N(m.logEnd-m.logStart+1)
			op = fmt.Sprintf("advance-start(%d)", off)
			if err := l.AdvanceLogStartOffset(off); err != nil {
				t.Fatalf("step %d advance: %v", step, err)
			}
			m.advanceStart(off)
		case r < 72:
			op = "retention"
			c := l.Config()
			c.RetentionBytes = int64(rng.IntN(6000))
			if err := l.SetConfig(c); err != nil {
				t.Fatal(err)
			}
			l.EnforceRetention()
			c.RetentionBytes = -1
			l.SetConfig(c)
			// Which segments go is the log's business; the model checks what follows from
			// the new log start (it never moves back or past the log end).
			if s := l.LogStartOffset(); s < m.logStart || s > m.logEnd {
				t.Fatalf("step %d: retention moved the log start from %d to %d (log end %d)", step, m.logStart, s, m.logEnd)
			}
			m.advanceStart(l.LogStartOffset())
		case r < 73:
			op = "compact"
			// Keyless records are all kept: the pass rewrites and swaps segments, and the
			// data must read back identical.
			if _, err := l.Compact(context.Background(), 1000); err != nil && err != ErrCompactionAborted {
				t.Fatalf("step %d compact: %v", step, err)
			}
		case r < 75:
			op = "roll"
			if err := l.Roll(); err != nil {
				t.Fatal(err)
			}
		case r < 79:
			op = "flush"
			if err := l.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		case r < 84:
			op = "clean-restart"
			if err := l.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			l = openTestLogAt(t, fsys, clock, cfg, true, l.LogEndOffset(), m.logStart)
			m.reopen()
		case r < 89:
			op = "crash-restart" // the process dies; the page cache survives
			rp := l.DurableOffset()
			after := fsys.Crash(false)
			l.Close(context.Background())
			fsys = after
			l = openTestLogAt(t, fsys, clock, cfg, false, rp, m.logStart)
			m.reopen()
		case r < 91:
			op = "flush-powerloss-restart" // everything flushed must survive a power loss
			if err := l.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			rp := l.DurableOffset()
			after := fsys.Crash(true)
			l.Close(context.Background())
			fsys = after
			l = openTestLogAt(t, fsys, clock, cfg, false, rp, m.logStart)
			m.reopen()
		default:
			op = "read-check"
		}
		trace = append(trace, fmt.Sprintf("step %d %s: start %d end %d segments %d model %s epochs %v", step, op,
			m.logStart, m.logEnd, l.NumSegments(), modelOffsets(m.batches), m.epochs))
		if len(trace) > 30 {
			trace = trace[1:]
		}
		if err := m.check(t, l, rng, epoch); err != nil {
			for _, s := range trace {
				t.Log(s)
			}
			t.Fatalf("seed %d step %d (%s): %v", seed, step, op, err)
		}
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
