package storage

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/record"
)

// tb describes a test batch; encode writes it as uncompressed RecordBatch v2 bytes with a
// correct CRC.
type tb struct {
	base        int64
	n           int      // records when keys/values are nil
	keys        [][]byte // nil entry: null key
	values      [][]byte // nil entry: null value (tombstone)
	ts          int64    // base timestamp
	valueSize   int
	pid         int64
	epoch       int16
	seq         int32
	leaderEpoch int32
	attrs       int16
	deltas      []int32 // offset deltas (default 0..n-1)
}

func (t tb) encode() []byte {
	n := t.n
	if t.keys != nil {
		n = len(t.keys)
	}
	var recs []byte
	lastDelta := int32(n - 1)
	for i := 0; i < n; i++ {
		delta := int32(i)
		if t.deltas != nil {
			delta = t.deltas[i]
		}
		lastDelta = delta
		var r []byte
		r = append(r, 0)
		r = binary.AppendVarint(r, int64(i))
		r = binary.AppendVarint(r, int64(delta))
		var key, val []byte
		keyNull, valNull := true, false
		if t.keys != nil {
			key = t.keys[i]
			keyNull = key == nil
			val = t.values[i]
			valNull = val == nil
		} else {
			val = make([]byte, t.valueSize)
			for j := range val {
				val[j] = byte(int(t.base) + i + j)
			}
		}
		if keyNull {
			r = binary.AppendVarint(r, -1)
		} else {
			r = binary.AppendVarint(r, int64(len(key)))
			r = append(r, key...)
		}
		if valNull {
			r = binary.AppendVarint(r, -1)
		} else {
			r = binary.AppendVarint(r, int64(len(val)))
			r = append(r, val...)
		}
		r = binary.AppendVarint(r, 0)
		recs = binary.AppendVarint(recs, int64(len(r)))
		recs = append(recs, r...)
	}
	b := make([]byte, record.HeaderSize, record.HeaderSize+len(recs))
	binary.BigEndian.PutUint64(b[0:], uint64(t.base))
	binary.BigEndian.PutUint32(b[8:], uint32(record.HeaderSize-record.LogOverhead+len(recs)))
	binary.BigEndian.PutUint32(b[12:], uint32(t.leaderEpoch))
	b[16] = 2
	binary.BigEndian.PutUint16(b[21:], uint16(t.attrs))
	binary.BigEndian.PutUint32(b[23:], uint32(lastDelta))
	binary.BigEndian.PutUint64(b[27:], uint64(t.ts))
	binary.BigEndian.PutUint64(b[35:], uint64(t.ts+int64(max(n-1, 0))))
	pid, seq := t.pid, t.seq
	if pid == 0 {
		pid, seq = -1, -1
	}
	binary.BigEndian.PutUint64(b[43:], uint64(pid))
	binary.BigEndian.PutUint16(b[51:], uint16(t.epoch))
	binary.BigEndian.PutUint32(b[53:], uint32(seq))
	binary.BigEndian.PutUint32(b[57:], uint32(n))
	b = append(b, recs...)
	record.Batch(b).UpdateCRC()
	return b
}

func mkBatch(base int64, n int, ts int64, valueSize int) []byte {
	return tb{base: base, n: n, ts: ts, valueSize: valueSize}.encode()
}

// fakeClock is a settable clock for tests.
type fakeClock struct{ ms int64 }

// Background goroutines read the clock: atomics keep the race detector (rightly) quiet.
func (c *fakeClock) now() time.Time   { return time.UnixMilli(atomic.LoadInt64(&c.ms)) }
func (c *fakeClock) advance(ms int64) { atomic.AddInt64(&c.ms, ms) }

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testConfig() Config {
	c := DefaultConfig()
	c.SegmentBytes = 4096
	c.IndexIntervalBytes = 256
	c.SegmentIndexBytes = 1024
	c.FileDeleteDelayMs = 0
	c.RetentionMs = -1
	return c
}

type testLog struct {
	*Log
	t     testing.TB
	fs    *MemFS
	clock *fakeClock
	dir   string
}

func openTestLog(t testing.TB, fsys *MemFS, clock *fakeClock, cfg Config, clean bool, rp int64) *testLog {
	t.Helper()
	l, err := OpenLog(context.Background(), LogOptions{
		Dir: "/data/t-0", TopicPartition: TopicPartition{"t", 0}, Config: cfg, FS: fsys,
		Logger: quietLogger(), Now: clock.now, HadCleanShutdown: clean, RecoveryPoint: rp,
	})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return &testLog{Log: l, t: t, fs: fsys, clock: clock, dir: "/data/t-0"}
}

func (l *testLog) appendN(n int, valueSize int) AppendInfo {
	l.t.Helper()
	info, err := l.Append(mkBatch(l.LogEndOffset(), n, l.clock.ms, valueSize))
	if err != nil {
		l.t.Fatalf("append: %v", err)
	}
	return info
}

// readAll returns every batch from offset on, following segments.
func (l *testLog) readAll(from int64) []record.Batch {
	l.t.Helper()
	var out []record.Batch
	for off := from; off < l.LogEndOffset(); {
		r, err := l.Read(off, ReadOptions{MaxBytes: 1 << 20, MinOneBatch: true})
		if err != nil {
			l.t.Fatalf("read at %d: %v", off, err)
		}
		if r.Length == 0 {
			break
		}
		data, err := r.Bytes()
		r.Release()
		if err != nil {
			l.t.Fatalf("read bytes: %v", err)
		}
		for len(data) > 0 {
			b, rest, err := record.Parse(data, 0)
			if err != nil {
				l.t.Fatalf("parse at %d: %v", off, err)
			}
			out = append(out, b)
			off = b.NextOffset()
			data = rest
		}
	}
	return out
}

func offsetsOf(bs []record.Batch) string {
	s := ""
	for _, b := range bs {
		s += fmt.Sprintf("[%d-%d]", b.BaseOffset(), b.LastOffset())
	}
	return s
}
