package storage

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/internal/record"
)

// FuzzRecover opens a log whose active segment and indexes are arbitrary bytes, with and
// without the clean-shutdown shortcut, then reads everything and appends: no panic, no
// endless loop, memory bounded by the input.
func FuzzRecover(f *testing.F) {
	good := append(mkBatch(0, 3, 1, 10), mkBatch(3, 2, 5, 20)...)
	f.Add(good, []byte{}, []byte{}, false)
	f.Add(good[:len(good)-3], []byte{0, 0, 0, 1, 0, 0, 0, 40}, []byte{}, true)
	f.Add(append(good, 0xff, 0xff, 0xff, 0x7f), []byte{0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0}, make([]byte, 24), true)
	f.Fuzz(func(t *testing.T, seg, idx, tidx []byte, clean bool) {
		fsys := NewMemFS()
		dir := "/data/t-0"
		fsys.MkdirAll(dir, 0o755)
		fsys.WriteAll(filepath.Join(dir, segmentFileName(0, logSuffix)), seg)
		fsys.WriteAll(filepath.Join(dir, segmentFileName(0, indexSuffix)), idx)
		fsys.WriteAll(filepath.Join(dir, segmentFileName(0, timeIndexSuffix)), tidx)
		// The small files a crash can leave torn or empty: open must tolerate any content.
		fsys.WriteAll(filepath.Join(dir, partitionMetadataFile), tidx)
		fsys.WriteAll(filepath.Join(dir, leaderEpochCheckpointFile), idx)
		clock := &fakeClock{ms: 1}
		cfg := testConfig()
		cfg.SegmentBytes = 1 << 20
		l, err := OpenLog(context.Background(), LogOptions{Dir: dir, TopicPartition: TopicPartition{"t", 0},
			Config: cfg, FS: fsys, Logger: quietLogger(), Now: clock.now, HadCleanShutdown: clean})
		if err != nil {
			return
		}
		defer l.Close(context.Background())
		for off := l.LogStartOffset(); off < l.LogEndOffset(); {
			r, err := l.Read(off, ReadOptions{MaxBytes: 1 << 16, MinOneBatch: true})
			if err != nil || r.Length == 0 {
				break
			}
			data, _ := r.Bytes()
			r.Release()
			n, err := recordBatchSize(data)
			if err != nil || n <= 0 {
				break
			}
			off = int64(beU64(data)) + int64(beU32(data[23:])) + 1
		}
		l.OffsetForTimestamp(3)
		l.LookupMaxTimestamp()
		l.Producers()
		l.Roll() // the recovered segment becomes cleanable
		if _, err := l.Compact(context.Background(), 100); err != nil && !errors.Is(err, ErrCompactionAborted) {
			// Compaction reads only batches recovery validated: it must not fail on them.
			t.Fatalf("compact after recovery: %v", err)
		}
		if _, err := l.Append(mkBatch(l.LogEndOffset(), 1, 1, 1)); err != nil {
			t.Fatalf("append after recovery: %v", err)
		}
	})
}

// FuzzCheckpoints feeds arbitrary bytes to every text and binary checkpoint decoder.
func FuzzCheckpoints(f *testing.F) {
	f.Add([]byte("0\n1\nt 0 5\n"))
	f.Add([]byte("0\n2\n0 0\n3 10\n"))
	f.Add([]byte("version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAA"))
	ps := newProducerState()
	ps.update(mkProducerBatch(5, 1, 0, 0, 2))
	f.Add(ps.encodeSnapshot())
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := DecodeOffsetCheckpoint("x", data); err == nil {
			m2, err := DecodeOffsetCheckpoint("x", EncodeOffsetCheckpoint(m))
			if err != nil || len(m2) != len(m) {
				t.Fatalf("offset checkpoint round trip: %v", err)
			}
		}
		if es, err := decodeEpochCheckpoint("x", data); err == nil {
			if _, err := decodeEpochCheckpoint("x", encodeEpochCheckpoint(es)); err != nil {
				t.Fatalf("epoch checkpoint round trip: %v", err)
			}
		}
		decodePartitionMetadata("x", data)
		if isDeleteDirName(string(data)) {
			if _, ok := ParseDirName(string(data)); ok {
				t.Fatalf("%q is both a deleted and a live partition directory", data)
			}
		}
		decodeSnapshot("x", data)
		forEachRecord(data, 1000, func(rawRecord) bool { return true })
	})
}

// FuzzCompactRecords builds batches from arbitrary records (keys from a small alphabet,
// keyless and tombstone records included, every codec, idempotent or not) and compacts them:
// every kept record is one that was written at that offset, unchanged; the latest record of
// every key survives; batches keep their offsets and producer fields; everything still
// decodes and passes its CRC.
func FuzzCompactRecords(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint8(0))
	f.Add([]byte{0, 0, 1, 1, 2, 2, 3, 3, 0xff, 0x80, 7, 9, 200, 100}, uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, flags uint8) {
		if len(data) > 4096 {
			return
		}
		clock := &fakeClock{ms: 1_000_000}
		cfg := testConfig()
		cfg.CleanupPolicy = CleanupCompact
		cfg.SegmentBytes = 1 << 20
		cfg.DeleteRetentionMs = 1 << 40 // tombstones stay: every key keeps its latest record
		l := openTestLog(t, NewMemFS(), clock, cfg, false, 0)
		defer l.Close(context.Background())
		codec := record.Compression(flags % 5)
		type wrote struct{ key, value []byte }
		written := map[int64]wrote{}
		latest := map[string]int64{}
		seq := int32(0)
		for len(data) > 0 {
			n := 1 + int(data[0]%6)
			data = data[1:]
			o := noProducer(l.LogEndOffset())
			o.Compression = codec
			if flags&0x80 != 0 {
				o.ProducerID, o.ProducerEpoch, o.BaseSequence = 9, 0, seq
			}
			var recs []trec
			for i := 0; i < n && len(data) > 0; i++ {
				c := data[0]
				data = data[1:]
				r := trec{ts: int64(c)}
				if c%7 != 0 { // 1 in 7 keyless
					r.key = []byte{'k', c % 5}
				}
				if c%11 != 0 { // 1 in 11 a tombstone
					r.value = []byte{c, byte(len(data))}
				}
				recs = append(recs, r)
			}
			if len(recs) == 0 {
				break
			}
			b := buildBatch(t, o, recs)
			if _, err := l.Append(b); err != nil {
				t.Fatal(err)
			}
			for i, r := range recs {
				off := o.BaseOffset + int64(i)
				written[off] = wrote{r.key, r.value}
				if r.key != nil {
					latest[string(r.key)] = off
				}
			}
			seq += int32(len(recs))
		}
		before := l.readAll(0)
		l.Roll()
		if _, err := l.Compact(context.Background(), 100); err != nil {
			t.Fatal(err)
		}
		after := l.readAll(0)
		origByBase := map[int64]record.Batch{}
		for _, b := range before {
			origByBase[b.BaseOffset()] = b
		}
		kept := map[int64]bool{}
		for _, b := range after {
			o, ok := origByBase[b.BaseOffset()]
			if !ok || o.LastOffset() != b.LastOffset() || o.ProducerID() != b.ProducerID() || o.BaseSequence() != b.BaseSequence() {
				t.Fatalf("batch %v does not match an original", b)
			}
		}
		for _, r := range decodeAll(t, after) {
			w, ok := written[r.off]
			if !ok || string(w.key) != string(r.key) || (w.key == nil) != (r.key == nil) ||
				string(w.value) != string(r.value) || (w.value == nil) != (r.value == nil) {
				t.Fatalf("record at %d changed", r.off)
			}
			if r.key == nil {
				t.Fatalf("keyless record at %d kept on a compacted log", r.off)
			}
			kept[r.off] = true
		}
		for k, off := range latest {
			if !kept[off] {
				t.Fatalf("latest record of %q (offset %d) lost", k, off)
			}
		}
	})
}
