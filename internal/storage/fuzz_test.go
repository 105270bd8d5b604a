package storage

import (
	"context"
	"path/filepath"
	"testing"
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
		decodeSnapshot("x", data)
		forEachRecord(data, 1000, func(rawRecord) bool { return true })
	})
}
