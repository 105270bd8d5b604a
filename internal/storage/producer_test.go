package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/internal/record"
)

func mkProducerBatch(pid int64, epoch int16, seq int32, base int64, n int) record.Batch {
	return record.Batch(tb{base: base, n: n, ts: 100, valueSize: 5, pid: pid, epoch: epoch, seq: seq}.encode())
}

func TestCheckProducerBatch(t *testing.T) {
	ps := newProducerState()
	ps.update(mkProducerBatch(1, 3, 0, 0, 2))  // seq 0-1, offsets 0-1
	ps.update(mkProducerBatch(1, 3, 2, 10, 3)) // seq 2-4, offsets 10-12
	e, ok := ps.get(1)
	cases := []struct {
		name    string
		b       record.Batch
		found   bool
		wantErr error
		dupOff  int64
	}{
		{"next in sequence", mkProducerBatch(1, 3, 5, 20, 1), ok, nil, 0},
		{"gap", mkProducerBatch(1, 3, 7, 20, 1), ok, ErrOutOfOrderSequence, 0},
		{"duplicate of last", mkProducerBatch(1, 3, 2, 20, 3), ok, ErrDuplicateSequence, 10},
		{"duplicate of older", mkProducerBatch(1, 3, 0, 20, 2), ok, ErrDuplicateSequence, 0},
		{"old epoch", mkProducerBatch(1, 2, 5, 20, 1), ok, ErrInvalidProducerEpoch, 0},
		{"new epoch from 0", mkProducerBatch(1, 4, 0, 20, 1), ok, nil, 0},
		{"new epoch not from 0", mkProducerBatch(1, 4, 3, 20, 1), ok, ErrOutOfOrderSequence, 0},
		{"unknown producer", mkProducerBatch(9, 0, 42, 20, 1), false, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pe := e
			if !c.found {
				pe = ProducerEntry{}
			}
			dup, err := CheckProducerBatch(pe, c.found, c.b)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
			if c.wantErr == ErrDuplicateSequence && dup.FirstOffset != c.dupOff {
				t.Fatalf("duplicate answered with offset %d, want %d", dup.FirstOffset, c.dupOff)
			}
		})
	}
}

func TestProducerStateKeepsFiveAndSnapshots(t *testing.T) {
	ps := newProducerState()
	for i := 0; i < 8; i++ {
		ps.update(mkProducerBatch(7, 0, int32(i*2), int64(i*2), 2))
	}
	e, _ := ps.get(7)
	if len(e.Batches) != ProducerBatchesKept || e.Batches[0].FirstSeq != 6 || e.LastSeq() != 15 {
		t.Fatalf("batches %+v", e.Batches)
	}
	m, err := decodeSnapshot("x", ps.encodeSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	got := m[7]
	if got.Epoch != 0 || got.LastSeq() != 15 || got.Batches[0].FirstSeq != 14 || got.Batches[0].FirstOffset != 14 {
		t.Fatalf("snapshot entry %+v", got)
	}
	snap := ps.encodeSnapshot()
	snap[len(snap)-1] ^= 1
	if _, err := decodeSnapshot("x", snap); !IsCorruption(err) {
		t.Fatalf("bad crc not detected: %v", err)
	}
}

// TestProducerStateAcrossRestarts: state survives clean restarts (snapshot) and unclean ones
// (snapshot at roll plus replay), and truncation rolls it back.
func TestProducerStateAcrossRestarts(t *testing.T) {
	clock := &fakeClock{ms: 1}
	fsys := NewMemFS()
	cfg := testConfig()
	l := openTestLog(t, fsys, clock, cfg, false, 0)
	seq := int32(0)
	for i := 0; i < 40; i++ {
		b := tb{base: l.LogEndOffset(), n: 2, ts: 100, valueSize: 50, pid: 11, epoch: 2, seq: seq}.encode()
		if _, err := l.Append(b); err != nil {
			t.Fatal(err)
		}
		seq += 2
	}
	if l.NumSegments() < 2 {
		t.Fatal("want several segments")
	}
	l.Close(context.Background())
	for _, clean := range []bool{true, false} {
		l = openTestLog(t, fsys, clock, cfg, clean, 0)
		e, ok := l.Producer(11)
		if !ok || e.LastSeq() != seq-1 || e.Epoch != 2 {
			t.Fatalf("clean=%v: %+v %v", clean, e, ok)
		}
		l.Close(context.Background())
	}
	l = openTestLog(t, fsys, clock, cfg, true, 0)
	defer l.Close(context.Background())
	if err := l.TruncateTo(20); err != nil {
		t.Fatal(err)
	}
	e, _ := l.Producer(11)
	if e.LastSeq() != 19 {
		t.Fatalf("after truncation last seq %d, want 19", e.LastSeq())
	}
}

func TestEpochCache(t *testing.T) {
	fsys := NewMemFS()
	fsys.MkdirAll("/d", 0o755)
	c, err := loadEpochCache(fsys, "/d")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []EpochEntry{{1, 0}, {1, 5}, {3, 10}, {4, 20}} {
		c.assign(e.Epoch, e.StartOffset)
	}
	if got := c.snapshot(); len(got) != 3 || got[2] != (EpochEntry{4, 20}) {
		t.Fatalf("entries %v", got)
	}
	cases := []struct {
		req        int32
		wantEpoch  int32
		wantOffset int64
	}{
		{4, 4, 100}, {3, 3, 20}, {2, 1, 10}, {1, 1, 10}, {0, 0, 0}, {5, -1, -1}, {-1, -1, -1},
	}
	for _, cs := range cases {
		e, o := c.endOffsetFor(cs.req, 100)
		if e != cs.wantEpoch || o != cs.wantOffset {
			t.Errorf("endOffsetFor(%d) = %d,%d want %d,%d", cs.req, e, o, cs.wantEpoch, cs.wantOffset)
		}
	}
	c2, _ := loadEpochCache(fsys, "/d")
	if len(c2.snapshot()) != 3 {
		t.Fatal("checkpoint not persisted")
	}
	c.truncateFromStart(15)
	c.truncateFromEnd(20)
	if got := c.snapshot(); len(got) != 1 || got[0] != (EpochEntry{3, 15}) {
		t.Fatalf("after truncations %v", got)
	}
}

// TestEpochCacheAssignRule: Kafka's LeaderEpochFileCache.assign. The latest epoch again
// changes nothing unless it starts earlier; an older epoch (a follower appending without
// having truncated) drops every entry at least as new, and any entry starting at or after it.
func TestEpochCacheAssignRule(t *testing.T) {
	cases := []struct {
		name   string
		assign []EpochEntry
		want   string
	}{
		{"latest again, later", []EpochEntry{{1, 0}, {3, 10}, {3, 15}}, "[{1 0} {3 10}]"},
		{"latest again, earlier", []EpochEntry{{1, 0}, {3, 10}, {3, 7}}, "[{1 0} {3 7}]"},
		{"older epoch", []EpochEntry{{1, 0}, {3, 10}, {4, 20}, {2, 30}}, "[{1 0} {2 30}]"},
		{"newer epoch at an entry's start", []EpochEntry{{1, 0}, {3, 10}, {4, 10}}, "[{1 0} {4 10}]"},
		{"newer epoch before an entry's start", []EpochEntry{{1, 0}, {3, 10}, {4, 5}}, "[{1 0} {4 5}]"},
		{"negative epoch", []EpochEntry{{1, 0}, {-1, 5}}, "[{1 0}]"},
	}
	for _, tc := range cases {
		fsys := NewMemFS()
		fsys.MkdirAll("/d", 0o755)
		c := newEpochCache(fsys, "/d")
		for _, e := range tc.assign {
			if err := c.assign(e.Epoch, e.StartOffset); err != nil {
				t.Fatal(err)
			}
		}
		if got := fmt.Sprint(c.snapshot()); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestCheckpointFormats(t *testing.T) {
	m := map[TopicPartition]int64{{"a-b", 0}: 5, {"a", 12}: 99}
	data := EncodeOffsetCheckpoint(m)
	if string(data) != "0\n2\na 12 99\na-b 0 5\n" {
		t.Fatalf("%q", data)
	}
	bad := []string{"", "0\n", "1\n0\n", "0\n2\na 1 2\n", "0\n1\na 1\n", "0\n1\na x 2\n"}
	for _, b := range bad {
		if _, err := DecodeOffsetCheckpoint("x", []byte(b)); !IsCorruption(err) {
			t.Errorf("%q: %v", b, err)
		}
	}
	id := TopicID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	got, err := decodePartitionMetadata("x", encodePartitionMetadata(id))
	if err != nil || got != id {
		t.Fatal(err)
	}
	if tp, ok := ParseDirName("my-topic-12"); !ok || tp != (TopicPartition{"my-topic", 12}) {
		t.Fatal(tp)
	}
	for _, n := range []string{"foo", "foo-", "-1", "t-0.abc-delete", "a b-1"} {
		if _, ok := ParseDirName(n); ok {
			t.Errorf("%q parsed", n)
		}
	}
}

// TestProducersList: Producers lists every tracked producer id, sorted, as copies, and
// follows expiry.
func TestProducersList(t *testing.T) {
	clock := &fakeClock{ms: 1000}
	l := openTestLog(t, NewMemFS(), clock, testConfig(), false, 0)
	defer l.Close(context.Background())
	for _, pid := range []int64{30, 10, 20} {
		b := tb{base: l.LogEndOffset(), n: 2, ts: clock.ms, valueSize: 5, pid: pid, epoch: int16(pid / 10), seq: 4}.encode()
		if _, err := l.Append(b); err != nil {
			t.Fatal(err)
		}
		clock.advance(100)
	}
	l.Append(mkBatch(l.LogEndOffset(), 1, clock.ms, 5)) // no producer id
	ps := l.Producers()
	if len(ps) != 3 {
		t.Fatalf("%d producers", len(ps))
	}
	for i, want := range []int64{10, 20, 30} {
		if ps[i].ProducerID != want || ps[i].Epoch != int16(want/10) || ps[i].LastSeq() != 5 || ps[i].CurrentTxnFirstOffset != -1 {
			t.Fatalf("entry %d: %+v", i, ps[i])
		}
	}
	ps[0].Batches[0].LastSeq = 99 // a copy: the log's state must not change
	if e, _ := l.Producer(10); e.LastSeq() != 5 {
		t.Fatal("Producers returned the log's own state")
	}
	// Producers 30, 10 and 20 last wrote at 1001, 1101 and 1201; at 1300 an expiration of
	// 150 ms leaves 20 alone.
	l.ExpireProducers(150)
	if ps := l.Producers(); len(ps) != 1 || ps[0].ProducerID != 20 {
		t.Fatalf("after expiry: %+v", ps)
	}
}

// TestAssignEpoch: a leader records its epoch at election; the cache stays monotonic and
// the epoch's first batch adds nothing; truncation and restarts keep the rules.
func TestAssignEpoch(t *testing.T) {
	fsys := NewMemFS()
	clock := &fakeClock{ms: 1}
	l := openTestLog(t, fsys, clock, testConfig(), false, 0)
	appendEpoch := func(epoch int32, n int) {
		t.Helper()
		if _, err := l.Append(tb{base: l.LogEndOffset(), n: n, ts: 1, valueSize: 5, leaderEpoch: epoch}.encode()); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name    string
		do      func() error
		wantErr error
		want    string
	}{
		{"first election", func() error { return l.AssignEpoch(3, 0) }, nil, "[{3 0}]"},
		{"first batch adds nothing", func() error { appendEpoch(3, 4); return nil }, nil, "[{3 0}]"},
		{"same epoch again", func() error { return l.AssignEpoch(3, 4) }, nil, "[{3 0}]"},
		{"older epoch", func() error { return l.AssignEpoch(2, 4) }, ErrStaleLeaderEpoch, "[{3 0}]"},
		{"negative epoch", func() error { return l.AssignEpoch(-1, 4) }, ErrStaleLeaderEpoch, "[{3 0}]"},
		{"past the log end", func() error { return l.AssignEpoch(5, 5) }, ErrOffsetOutOfRange, "[{3 0}]"},
		{"new leader", func() error { return l.AssignEpoch(5, 4) }, nil, "[{3 0} {5 4}]"},
		{"epoch without data replaced", func() error { return l.AssignEpoch(6, 4) }, nil, "[{3 0} {6 4}]"},
		{"data in 6", func() error { appendEpoch(6, 2); return nil }, nil, "[{3 0} {6 4}]"},
		{"truncation below 6", func() error { return l.TruncateTo(4) }, nil, "[{3 0}]"},
		{"elected again", func() error { return l.AssignEpoch(7, 4) }, nil, "[{3 0} {7 4}]"},
	}
	for _, s := range steps {
		err := s.do()
		if !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: err %v, want %v", s.name, err, s.wantErr)
		}
		if got := fmt.Sprint(l.EpochEntries()); got != s.want {
			t.Fatalf("%s: entries %s, want %s", s.name, got, s.want)
		}
	}
	if e, end := l.EndOffsetForEpoch(3); e != 3 || end != 4 {
		t.Fatalf("end of epoch 3: %d %d", e, end)
	}
	// Kafka drops, when it loads a log, entries starting at the log end (an epoch with no
	// data yet); one with data survives.
	appendEpoch(7, 1)
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	l = openTestLog(t, fsys, clock, testConfig(), true, 0)
	defer l.Close(context.Background())
	if got := fmt.Sprint(l.EpochEntries()); got != "[{3 0} {7 4}]" {
		t.Fatalf("after reopen: %s", got)
	}
}

// TestCheckProducerBatchNoAlloc: the replica's per-produce idempotence check allocates
// nothing when the batch is accepted.
func TestCheckProducerBatchNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	l := openTestLog(t, NewMemFS(), &fakeClock{ms: 1}, testConfig(), false, 0)
	defer l.Close(context.Background())
	for i := 0; i < 7; i++ {
		if _, err := l.Append(mkProducerBatch(5, 1, int32(2*i), l.LogEndOffset(), 2)); err != nil {
			t.Fatal(err)
		}
	}
	next := mkProducerBatch(5, 1, 14, l.LogEndOffset(), 2)
	unknown := mkProducerBatch(6, 0, 3, l.LogEndOffset(), 1)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := l.CheckProducerBatch(next); err != nil {
			t.Fatal(err)
		}
		if _, err := l.CheckProducerBatch(unknown); err != nil {
			t.Fatal(err)
		}
		_ = l.DurableOffset()
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per check", allocs)
	}
	// And the answers are the state's: a duplicate of the oldest of the last five.
	if pb, err := l.CheckProducerBatch(mkProducerBatch(5, 1, 4, 99, 2)); !errors.Is(err, ErrDuplicateSequence) || pb.FirstOffset != 4 {
		t.Fatalf("duplicate: %+v %v", pb, err)
	}
	if _, err := l.CheckProducerBatch(mkProducerBatch(5, 1, 2, 99, 2)); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("sequence older than the last five: %v", err)
	}
}

// TestProducerStateConcurrentReaders: readers running while the writer updates, truncates
// and expires always see a state some update produced (a batch ring whose sequences and
// offsets agree), never a torn one. Run with -race.
func TestProducerStateConcurrentReaders(t *testing.T) {
	ps := newProducerState()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var snap producerSnap
			for {
				select {
				case <-stop:
					return
				default:
				}
				if !ps.snapshot(1, &snap) {
					continue
				}
				// Every batch written has sequences equal to its offsets and its max
				// timestamp equal to its last offset; a torn copy mixes two batches.
				for i := 0; i < snap.n; i++ {
					b := snap.batches[i]
					if int64(b.FirstSeq) != b.FirstOffset || b.LastSeq != b.FirstSeq+1 || b.LastOffset != b.FirstOffset+1 ||
						b.TimestampMs != b.LastOffset || (i > 0 && b.FirstSeq <= snap.batches[i-1].LastSeq) {
						t.Errorf("torn state: %+v", snap)
						return
					}
				}
			}
		}()
	}
	for i := 0; i < 3000; i++ {
		seq := int32(2 * (i % 500))
		ps.update(record.Batch(tb{base: int64(seq), n: 2, ts: int64(seq), valueSize: 1, pid: 1, epoch: int16(i / 500), seq: seq}.encode()))
		if i%97 == 0 {
			ps.truncate(int64(seq))
		}
		if i%501 == 0 {
			ps.expire(1<<40, 1)
		}
	}
	close(stop)
	wg.Wait()
}
