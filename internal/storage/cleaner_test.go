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

// trec is one record of a test batch built with record.Builder.
type trec struct {
	key, value []byte // nil: null
	ts         int64
}

// buildBatch writes recs (offset deltas 0..n-1) as one batch with opts.
func buildBatch(t testing.TB, opts record.BatchOptions, recs []trec) []byte {
	t.Helper()
	bd := record.NewBuilder(opts)
	for i, r := range recs {
		if err := bd.Append(int32(i), r.ts, r.key, r.value, nil); err != nil {
			t.Fatal(err)
		}
	}
	b, err := bd.Build()
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), b...)
}

func noProducer(base int64) record.BatchOptions {
	return record.BatchOptions{BaseOffset: base, ProducerID: record.NoProducerID,
		ProducerEpoch: record.NoProducerEpoch, BaseSequence: record.NoSequence}
}

// decodedRecord is a record read back from the log, its batch's header fields alongside.
type decodedRecord struct {
	off, ts    int64
	key, value []byte
	batch      record.Batch
}

// decodeAll returns every record of bs, decompressing as needed.
func decodeAll(t testing.TB, bs []record.Batch) []decodedRecord {
	t.Helper()
	var out []decodedRecord
	for _, b := range bs {
		recs, err := record.Decompress(nil, b, 1<<30)
		if err != nil {
			t.Fatalf("batch at %d: %v", b.BaseOffset(), err)
		}
		it := record.NewRecordIter(recs, b.RecordCount())
		for it.Next() {
			r := it.Record()
			d := decodedRecord{off: r.Offset(b), ts: r.Timestamp(b), batch: b}
			if r.Key != nil {
				d.key = append([]byte{}, r.Key...)
			}
			if r.Value != nil {
				d.value = append([]byte{}, r.Value...)
			}
			out = append(out, d)
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
	}
	return out
}

// TestCompactionCompressed cleans batches of every codec record by record and checks that
// the rebuilt batches keep what Kafka's cleaner keeps: base and last offset, the offsets and
// timestamps of the kept records, the largest kept timestamp as max timestamp (the append
// time for LogAppendTime batches), producer id, epoch and base sequence, the transactional
// flag, the partition leader epoch and the codec.
func TestCompactionCompressed(t *testing.T) {
	codecs := []record.Compression{record.CompressionNone, record.CompressionGzip, record.CompressionSnappy,
		record.CompressionLZ4, record.CompressionZstd}
	for _, codec := range codecs {
		t.Run(codec.String(), func(t *testing.T) {
			clock := &fakeClock{ms: 1_000_000}
			cfg := testConfig()
			cfg.CleanupPolicy = CleanupCompact
			cfg.SegmentBytes = 1 << 20
			l := openTestLog(t, NewMemFS(), clock, cfg, false, 0)
			defer l.Close(context.Background())
			type written struct {
				opts record.BatchOptions
				recs []trec
				orig record.Batch
			}
			var all []written
			add := func(opts record.BatchOptions, recs []trec) {
				opts.BaseOffset = l.LogEndOffset()
				opts.Compression = codec
				b := buildBatch(t, opts, recs)
				if _, err := l.Append(b); err != nil {
					t.Fatal(err)
				}
				all = append(all, written{opts, recs, record.Batch(b)})
			}
			kv := func(k, v string, ts int64) trec {
				r := trec{key: []byte(k), ts: ts}
				if v != "" {
					r.value = []byte(v)
				}
				return r
			}
			// 0-3: plain, its largest timestamp (ts 40, key b) superseded later.
			add(noProducer(0), []trec{kv("a", "a0", 10), kv("b", "b0", 40), kv("c", "c0", 20), kv("d", "d0", 30)})
			// 4-6: idempotent producer 7, epoch 2, base sequence 100, leader epoch 3.
			o := noProducer(0)
			o.ProducerID, o.ProducerEpoch, o.BaseSequence, o.PartitionLeaderEpoch = 7, 2, 100, 3
			add(o, []trec{kv("a", "a1", 50), kv("e", "e0", 75), kv("b", "b1", 70)})
			// 7-9: transactional producer 8, LogAppendTime.
			o = noProducer(0)
			o.ProducerID, o.ProducerEpoch, o.BaseSequence, o.Transactional = 8, 0, 0, true
			o.LogAppendTime, o.LogAppendTimeMs = true, 999
			add(o, []trec{kv("c", "c1", 80), kv("f", "f0", 90), kv("g", "g0", 95)})
			// 10-12: a tombstone for d, new e and g; producer 7's next batch.
			o = noProducer(0)
			o.ProducerID, o.ProducerEpoch, o.BaseSequence, o.PartitionLeaderEpoch = 7, 2, 103, 3
			add(o, []trec{kv("d", "", 100), kv("e", "e1", 110), kv("g", "g1", 105)})
			if err := l.Roll(); err != nil {
				t.Fatal(err)
			}
			add(noProducer(0), []trec{kv("a", "a2", 120)}) // active segment: not cleaned
			before := l.readAll(0)
			st, err := l.Compact(context.Background(), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if st.RecordsRemoved != 6 {
				t.Fatalf("removed %d records, want 6 (a0 b0 c0 d0 e0 g0)", st.RecordsRemoved)
			}
			got := l.readAll(0)
			// The first batch lost every record and belongs to no producer: it is gone.
			if offsetsOf(got) != "[4-6][7-9][10-12][13-13]" {
				t.Fatalf("batches %s, was %s", offsetsOf(got), offsetsOf(before))
			}
			// a1 stays: a2 lies in the active segment, which the offset map does not cover.
			wantKept := map[int64]bool{4: true, 6: true, 7: true, 8: true, 10: true, 11: true, 12: true, 13: true}
			recs := decodeAll(t, got)
			var offs []int64
			for _, r := range recs {
				offs = append(offs, r.off)
				if !wantKept[r.off] {
					t.Fatalf("record at %d survived", r.off)
				}
			}
			if len(recs) != len(wantKept) {
				t.Fatalf("kept offsets %v", offs)
			}
			// Offsets, timestamps, keys and values of kept records are unchanged.
			orig := map[int64]decodedRecord{}
			for _, r := range decodeAll(t, before) {
				orig[r.off] = r
			}
			for _, r := range recs {
				o := orig[r.off]
				if r.ts != o.ts || string(r.key) != string(o.key) || string(r.value) != string(o.value) || (r.value == nil) != (o.value == nil) {
					t.Fatalf("record at %d: %+v, was %+v", r.off, r, o)
				}
			}
			for i, b := range got {
				w := all[i+1].orig
				if b.BaseOffset() != w.BaseOffset() || b.LastOffset() != w.LastOffset() {
					t.Fatalf("batch %d offsets %d-%d, was %d-%d", i, b.BaseOffset(), b.LastOffset(), w.BaseOffset(), w.LastOffset())
				}
				if b.Compression() != codec || b.ProducerID() != w.ProducerID() || b.ProducerEpoch() != w.ProducerEpoch() ||
					b.BaseSequence() != w.BaseSequence() || b.IsTransactional() != w.IsTransactional() ||
					b.PartitionLeaderEpoch() != w.PartitionLeaderEpoch() || b.LogAppendTime() != w.LogAppendTime() {
					t.Fatalf("batch %d header changed: %v, was %v", i, b, w)
				}
			}
			// Batch 4-6 lost e0, its largest timestamp (75): Kafka's cleaner takes the largest
			// kept one, b1's 70.
			if mt := got[0].MaxTimestamp(); mt != 70 {
				t.Fatalf("batch 4-6 max timestamp %d, want 70", mt)
			}
			if mt := got[1].MaxTimestamp(); mt != 999 {
				t.Fatalf("LogAppendTime batch max timestamp %d, want the append time 999", mt)
			}
			// The kept tombstone got a delete horizon.
			if !got[2].HasDeleteHorizon() || got[2].BaseTimestamp() != clock.ms+cfg.DeleteRetentionMs {
				t.Fatalf("tombstone batch %v: no delete horizon", got[2])
			}
		})
	}
}

// TestCompactionKeylessAndEmpty: keyless records go from a compacted log, as Kafka's cleaner
// drops them, and stay when the policy does not compact; a producer's last batch whose
// records all go is kept as Kafka's empty batch (no codec, no records, base timestamp -1,
// the original max timestamp).
func TestCompactionKeylessAndEmpty(t *testing.T) {
	for _, policy := range []CleanupPolicy{CleanupCompact, CleanupDelete} {
		for _, codec := range []record.Compression{record.CompressionNone, record.CompressionZstd} {
			t.Run(fmt.Sprintf("%s/%s", policy, codec), func(t *testing.T) {
				clock := &fakeClock{ms: 1000}
				cfg := testConfig()
				cfg.CleanupPolicy = policy
				cfg.SegmentBytes = 1 << 20
				l := openTestLog(t, NewMemFS(), clock, cfg, false, 0)
				defer l.Close(context.Background())
				o := noProducer(0)
				o.Compression = codec
				l.Append(buildBatch(t, o, []trec{{key: nil, value: []byte("x"), ts: 5}, {key: []byte("k"), value: []byte("v0"), ts: 6}}))
				o = noProducer(2)
				o.Compression = codec
				o.ProducerID, o.ProducerEpoch, o.BaseSequence, o.PartitionLeaderEpoch = 9, 1, 0, 4
				l.Append(buildBatch(t, o, []trec{{key: []byte("p"), value: []byte("p0"), ts: 7}, {key: []byte("q"), value: []byte("q0"), ts: 8}}))
				o = noProducer(4)
				o.Compression = codec
				l.Append(buildBatch(t, o, []trec{{key: []byte("p"), value: []byte("p1"), ts: 9}, {key: []byte("q"), value: []byte("q1"), ts: 9}, {key: []byte("k"), value: []byte("v1"), ts: 9}}))
				l.Roll()
				l.Append(mkBatch(l.LogEndOffset(), 1, 10, 1))
				if _, err := l.Compact(context.Background(), 100); err != nil {
					t.Fatal(err)
				}
				got := l.readAll(0)
				keyless := 0
				for _, r := range decodeAll(t, got) {
					if r.key == nil && r.off < 7 {
						keyless++
					}
				}
				if want := map[CleanupPolicy]int{CleanupCompact: 0, CleanupDelete: 1}[policy]; keyless != want {
					t.Fatalf("%d keyless records kept, want %d", keyless, want)
				}
				// Producer 9's only batch lost both records: an empty batch holds its place.
				var empty record.Batch
				for _, b := range got {
					if b.ProducerID() == 9 {
						empty = b
					}
				}
				if empty == nil {
					t.Fatalf("producer 9's last batch vanished: %s", offsetsOf(got))
				}
				if empty.RecordCount() != 0 || empty.BaseOffset() != 2 || empty.LastOffset() != 3 ||
					empty.Compression() != record.CompressionNone || empty.BaseTimestamp() != -1 ||
					empty.MaxTimestamp() != 8 || empty.ProducerEpoch() != 1 || empty.BaseSequence() != 0 ||
					empty.PartitionLeaderEpoch() != 4 || len(empty) != record.HeaderSize {
					t.Fatalf("empty batch %v", empty)
				}
				if _, _, err := record.Parse(empty, 0); err != nil {
					t.Fatalf("empty batch does not parse: %v", err)
				}
			})
		}
	}
}

// TestCompactionUnreadableBatch: a compressed batch that decompresses past the bound is kept
// whole, and so is every later tombstone, even past its delete horizon: dropping one could
// resurrect a value hidden in the unreadable batch.
func TestCompactionUnreadableBatch(t *testing.T) {
	clock := &fakeClock{ms: 1000}
	cfg := testConfig()
	cfg.CleanupPolicy = CleanupCompact
	cfg.SegmentBytes = 1 << 20
	cfg.DeleteRetentionMs = 10
	fsys := NewMemFS()
	l, err := OpenLog(context.Background(), LogOptions{Dir: "/data/t-0", TopicPartition: TopicPartition{"t", 0},
		Config: cfg, FS: fsys, Logger: quietLogger(), Now: clock.now, MaxDecompressedBatchBytes: 300})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.Background())
	big := make([]byte, 400) // compresses small, decompresses past 300 bytes
	o := noProducer(0)
	o.Compression = record.CompressionGzip
	l.Append(buildBatch(t, o, []trec{{key: []byte("k"), value: big, ts: 1}, {key: []byte("j"), value: []byte("j0"), ts: 1}}))
	l.Append(buildBatch(t, noProducer(2), []trec{{key: []byte("k"), value: nil, ts: 2}, {key: []byte("j"), value: []byte("j1"), ts: 2}}))
	l.Roll()
	l.Append(mkBatch(l.LogEndOffset(), 1, 3, 1))
	for pass := 0; pass < 2; pass++ {
		if _, err := l.Compact(context.Background(), 100); err != nil {
			t.Fatal(err)
		}
		clock.advance(100) // past the delete horizon for the second pass
		l.cleanerPoint.Store(0)
	}
	tl := &testLog{Log: l, t: t}
	var tombstone bool
	var bigKept bool
	for _, b := range tl.readAll(0) {
		if b.BaseOffset() == 0 && b.Compression() == record.CompressionGzip && b.RecordCount() == 2 {
			bigKept = true
		}
		if b.BaseOffset() == 2 {
			it := record.NewRecordIter(b.Records(), b.RecordCount())
			for it.Next() {
				if string(it.Record().Key) == "k" && it.Record().Value == nil {
					tombstone = true
				}
			}
		}
	}
	if !bigKept || !tombstone {
		t.Fatalf("unreadable batch kept %v, tombstone kept %v", bigKept, tombstone)
	}
}
