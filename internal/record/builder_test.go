package record

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

type testRecord struct {
	delta   int32
	ts      int64
	key     []byte
	value   []byte
	headers []Header
}

func sampleRecords() []testRecord {
	return []testRecord{
		{0, 1000, []byte("k0"), []byte("v0"), nil},
		{1, 990, nil, []byte("no key, earlier timestamp"), nil},
		{2, 2000, []byte("tomb"), nil, []Header{{Key: []byte("h"), Value: []byte("v")}, {Key: nil, Value: nil}}},
		{3, 1500, []byte{}, []byte{}, []Header{{Key: []byte("empty"), Value: []byte{}}}},
		{4, 1_000_000, []byte("big"), textData(5000, 11), nil},
	}
}

func baseOptions() BatchOptions {
	return BatchOptions{
		BaseOffset: 500, PartitionLeaderEpoch: 9,
		ProducerID: 77, ProducerEpoch: 2, BaseSequence: 40,
	}
}

// kmsgRecord is franz-go's encoding of the same record: an independent oracle for ours.
func kmsgRecord(r testRecord, baseTs int64) []byte {
	kr := kmsg.Record{TimestampDelta64: r.ts - baseTs, OffsetDelta: r.delta, Key: r.key, Value: r.value}
	if kr.TimestampDelta64 == 0 {
		kr.TimestampDelta = 0
	}
	for _, h := range r.headers {
		kr.Headers = append(kr.Headers, kmsg.Header{Key: string(h.Key), Value: h.Value})
	}
	body := kr.AppendTo(nil)[1:] // Length 0 is one byte
	kr.Length = int32(len(body))
	return kr.AppendTo(nil)
}

func TestBuilder(t *testing.T) {
	recs := sampleRecords()
	for _, c := range codecs {
		t.Run(c.String(), func(t *testing.T) {
			opts := baseOptions()
			opts.Compression = c
			bd := NewBuilder(opts)
			for _, r := range recs {
				if err := bd.Append(r.delta, r.ts, r.key, r.value, r.headers); err != nil {
					t.Fatal(err)
				}
			}
			if bd.Count() != int32(len(recs)) {
				t.Errorf("Count %d", bd.Count())
			}
			b, err := bd.Build()
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := Parse(b, 0); err != nil {
				t.Fatalf("built batch does not parse: %v", err)
			}
			if b.BaseOffset() != 500 || b.PartitionLeaderEpoch() != 9 || b.ProducerID() != 77 || b.ProducerEpoch() != 2 ||
				b.BaseSequence() != 40 || b.LastOffsetDelta() != 4 || b.RecordCount() != 5 || b.Compression() != c ||
				b.BaseTimestamp() != 1000 || b.MaxTimestamp() != 1_000_000 || b.LogAppendTime() ||
				b.IsTransactional() || b.IsControl() || b.HasDeleteHorizon() {
				t.Errorf("header: %v base ts %d max ts %d attrs %#x", b, b.BaseTimestamp(), b.MaxTimestamp(), b.Attributes())
			}
			data, err := Decompress(nil, b, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			it := NewRecordIter(data, b.RecordCount())
			for i := 0; it.Next(); i++ {
				r, want := it.Record(), recs[i]
				if r.OffsetDelta != want.delta || r.Timestamp(b) != want.ts || !bytes.Equal(r.Key, want.key) ||
					(r.Key == nil) != (want.key == nil) || !bytes.Equal(r.Value, want.value) || (r.Value == nil) != (want.value == nil) {
					t.Errorf("record %d differs", i)
				}
				if oracle := kmsgRecord(want, 1000); !bytes.Equal(r.Raw, oracle) {
					t.Errorf("record %d: ours % x\nfranz-go % x", i, r.Raw, oracle)
				}
				if r.Headers.Len() != len(want.headers) {
					t.Errorf("record %d: %d headers", i, r.Headers.Len())
				}
			}
			if it.Err() != nil {
				t.Fatal(it.Err())
			}
			// franz-go reads our batch header the same way.
			var kb kmsg.RecordBatch
			if err := kb.ReadFrom(b); err != nil {
				t.Fatal(err)
			}
			if kb.FirstOffset != 500 || kb.NumRecords != 5 || kb.LastOffsetDelta != 4 || kb.ProducerID != 77 ||
				kb.FirstSequence != 40 || kb.FirstTimestamp != 1000 || kb.MaxTimestamp != 1_000_000 || uint32(kb.CRC) != b.CRC() {
				t.Errorf("franz-go reads %+v", kb)
			}
		})
	}
}

func TestBuilderFlagsAndTimes(t *testing.T) {
	opts := baseOptions()
	opts.Transactional = true
	opts.LogAppendTime = true
	opts.LogAppendTimeMs = 123456
	opts.HasDeleteHorizon = true
	opts.DeleteHorizonMs = 900
	bd := NewBuilder(opts)
	if err := bd.Append(0, 1000, []byte("k"), nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := bd.Append(3, 800, []byte("k2"), []byte("v"), nil); err != nil {
		t.Fatal(err)
	}
	b, err := bd.Build()
	if err != nil {
		t.Fatal(err)
	}
	if !b.IsTransactional() || !b.LogAppendTime() || !b.HasDeleteHorizon() || b.IsControl() {
		t.Errorf("flags %#x", b.Attributes())
	}
	// With a delete horizon the base timestamp is the horizon and deltas are relative to it.
	if b.BaseTimestamp() != 900 || b.MaxTimestamp() != 123456 || b.LastOffsetDelta() != 3 {
		t.Errorf("base %d max %d last delta %d", b.BaseTimestamp(), b.MaxTimestamp(), b.LastOffsetDelta())
	}
	it := NewRecordIter(b.Records(), b.RecordCount())
	it.Next()
	if it.Record().TimestampDelta != 100 {
		t.Errorf("delta from horizon %d", it.Record().TimestampDelta)
	}
	if it.Record().Timestamp(b) != 123456 {
		t.Error("LogAppendTime batch record timestamp")
	}
	if got := b.Options(); got != opts {
		t.Errorf("Options() = %+v\nwant %+v", got, opts)
	}
}

func TestBuilderErrors(t *testing.T) {
	bd := NewBuilder(baseOptions())
	if err := bd.Append(-1, 0, nil, nil, nil); !errors.Is(err, ErrInvalidRecord) {
		t.Errorf("negative delta: %v", err)
	}
	bd.Append(5, 0, nil, nil, nil)
	for _, d := range []int32{5, 4} {
		if err := bd.Append(d, 0, nil, nil, nil); !errors.Is(err, ErrInvalidRecord) {
			t.Errorf("delta %d after 5: %v", d, err)
		}
	}
	bd.SetLastOffsetDelta(4)
	if _, err := bd.Build(); !errors.Is(err, ErrInvalidRecord) {
		t.Errorf("lastOffsetDelta below a record: %v", err)
	}
	// A timestamp delta that overflows int64.
	bd.Reset(baseOptions())
	bd.Append(0, math.MaxInt64, nil, nil, nil)
	if err := bd.Append(1, math.MinInt64, nil, nil, nil); !errors.Is(err, ErrInvalidRecord) {
		t.Errorf("timestamp overflow: %v", err)
	}
	// Transactional without producer id.
	opts := baseOptions()
	opts.Transactional, opts.ProducerID = true, NoProducerID
	bd.Reset(opts)
	bd.Append(0, 0, nil, nil, nil)
	if _, err := bd.Build(); !errors.Is(err, ErrSequence) {
		t.Errorf("transactional without pid: %v", err)
	}
	// Empty batch without an explicit lastOffsetDelta.
	bd.Reset(baseOptions())
	if _, err := bd.Build(); !errors.Is(err, ErrInvalidRecord) {
		t.Errorf("empty batch: %v", err)
	}
	// Control records need a control key.
	opts = baseOptions()
	opts.Control = true
	bd.Reset(opts)
	if err := bd.Append(0, 0, []byte{0, 0}, nil, nil); !errors.Is(err, ErrInvalidRecord) {
		t.Errorf("short control key: %v", err)
	}
	// Bad level surfaces from Build.
	opts = baseOptions()
	opts.Compression, opts.CompressionLevel = CompressionGzip, 42
	bd.Reset(opts)
	bd.Append(0, 0, nil, nil, nil)
	if _, err := bd.Build(); !errors.Is(err, ErrCompressionLevel) {
		t.Errorf("bad level: %v", err)
	}
}

func TestBuilderEmptyBatch(t *testing.T) {
	// Compaction removed every record; the batch keeps its offset range and producer state.
	bd := NewBuilder(baseOptions())
	bd.SetLastOffsetDelta(9)
	bd.SetMaxTimestamp(4242)
	b, err := bd.Build()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Parse(b, 0); err != nil {
		t.Fatal(err)
	}
	if b.RecordCount() != 0 || b.LastOffsetDelta() != 9 || b.NextOffset() != 510 || b.BaseTimestamp() != 4242 ||
		b.MaxTimestamp() != 4242 || b.LastSequence() != 49 || len(b) != HeaderSize {
		t.Errorf("empty batch: %v", b)
	}
	it := NewRecordIter(b.Records(), b.RecordCount())
	if it.Next() || it.Err() != nil {
		t.Error("records in an empty batch")
	}
}

// TestBuilderCompaction rewrites a batch keeping some records: the offset range and producer
// fields survive, and every field of the kept records survives their re-encoding.
func TestBuilderCompaction(t *testing.T) {
	src := NewBuilder(baseOptions())
	for _, r := range sampleRecords() {
		src.Append(r.delta, r.ts, r.key, r.value, r.headers)
	}
	orig, _ := src.Build()
	orig = append(Batch{}, orig...)

	keep := map[int32]bool{1: true, 2: true} // drop the first and the last two
	for _, horizon := range []bool{false, true} {
		t.Run(fmt.Sprintf("horizon=%v", horizon), func(t *testing.T) {
			opts := orig.Options()
			if horizon {
				opts.HasDeleteHorizon, opts.DeleteHorizonMs = true, 5_000_000
			}
			bd := NewBuilder(opts)
			it := NewRecordIter(orig.Records(), orig.RecordCount())
			for it.Next() {
				if r := it.Record(); keep[r.OffsetDelta] {
					if err := bd.AppendRecord(orig, r); err != nil {
						t.Fatal(err)
					}
				}
			}
			bd.SetLastOffsetDelta(orig.LastOffsetDelta())
			b, err := bd.Build()
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := Parse(b, 0); err != nil {
				t.Fatal(err)
			}
			if b.LastOffset() != orig.LastOffset() || b.BaseOffset() != orig.BaseOffset() || b.RecordCount() != 2 ||
				b.BaseSequence() != orig.BaseSequence() || b.ProducerID() != orig.ProducerID() {
				t.Errorf("rewritten header %v", b)
			}
			// Without a horizon, base timestamp is the first kept record's (990), so the
			// deltas change and records are re-encoded; check every field survives.
			it = NewRecordIter(b.Records(), b.RecordCount())
			want := sampleRecords()[1:3]
			for i := 0; it.Next(); i++ {
				r := it.Record()
				if r.Offset(b) != orig.BaseOffset()+int64(want[i].delta) || r.Timestamp(b) != want[i].ts ||
					!bytes.Equal(r.Value, want[i].value) || (r.Value == nil) != (want[i].value == nil) ||
					r.Headers.Len() != len(want[i].headers) {
					t.Errorf("kept record %d differs", i)
				}
			}
			if it.Err() != nil {
				t.Fatal(it.Err())
			}
			if b.MaxTimestamp() != 2000 {
				t.Errorf("max timestamp %d, want the largest kept", b.MaxTimestamp())
			}
		})
	}

	// Keeping the first record keeps the base timestamp, so the bytes are copied verbatim.
	bd := NewBuilder(orig.Options())
	it := NewRecordIter(orig.Records(), orig.RecordCount())
	var raws []byte
	for it.Next() {
		if r := it.Record(); r.OffsetDelta != 3 {
			bd.AppendRecord(orig, r)
			raws = append(raws, r.Raw...)
		}
	}
	b, _ := bd.Build()
	if !bytes.Equal(b.Records(), raws) {
		t.Error("records with unchanged deltas were not copied verbatim")
	}

	// A record outside the new batch's offset range.
	opts := orig.Options()
	opts.BaseOffset = orig.LastOffset() + 1
	bd.Reset(opts)
	it = NewRecordIter(orig.Records(), orig.RecordCount())
	it.Next()
	if err := bd.AppendRecord(orig, it.Record()); !errors.Is(err, ErrInvalidRecord) {
		t.Errorf("record before the base offset: %v", err)
	}
}

func TestBuilderReuseAllocs(t *testing.T) {
	bd := NewBuilder(baseOptions())
	key, value := []byte("key"), textData(200, 12)
	hdrs := []Header{{Key: []byte("h"), Value: []byte("v")}}
	build := func() {
		bd.Reset(baseOptions())
		for i := range 20 {
			if err := bd.Append(int32(i), int64(i), key, value, hdrs); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := bd.Build(); err != nil {
			t.Fatal(err)
		}
	}
	build()
	if n := testing.AllocsPerRun(50, build); n != 0 {
		t.Errorf("a warm Builder allocates %v times per batch", n)
	}
}

func TestEndTxnMarker(t *testing.T) {
	for _, commit := range []bool{true, false} {
		m := EndTxnMarker{BaseOffset: 77, PartitionLeaderEpoch: 3, ProducerID: 1234, ProducerEpoch: 5,
			Commit: commit, CoordinatorEpoch: 8, TimestampMs: 1_700_000_000_000}
		raw := AppendEndTxnMarker([]byte("prefix"), m)
		b := Batch(raw[6:])
		if len(b) != EndTxnMarkerSize {
			t.Fatalf("size %d, want %d", len(b), EndTxnMarkerSize)
		}
		if _, _, err := Parse(b, 0); err != nil {
			t.Fatal(err)
		}
		if !b.IsControl() || !b.IsTransactional() || b.BaseSequence() != -1 || b.RecordCount() != 1 ||
			b.Compression() != CompressionNone || b.LogAppendTime() {
			t.Errorf("marker header %v", b)
		}
		got, err := ReadEndTxnMarker(b)
		if err != nil || got != m {
			t.Errorf("ReadEndTxnMarker = %+v, %v", got, err)
		}
		// The same batch through the Builder, as Kafka builds markers.
		bd := NewBuilder(BatchOptions{BaseOffset: 77, PartitionLeaderEpoch: 3, ProducerID: 1234, ProducerEpoch: 5,
			BaseSequence: NoSequence, Transactional: true, Control: true})
		typ := ControlAbort
		if commit {
			typ = ControlCommit
		}
		bd.Append(0, m.TimestampMs, AppendControlKey(nil, typ), AppendTxnMarkerValue(nil, 8), nil)
		built, err := bd.Build()
		if err != nil || !bytes.Equal(built, b) {
			t.Errorf("builder marker differs: %v\n% x\n% x", err, built, b)
		}
	}
	// Not a marker.
	if _, err := ReadEndTxnMarker(Batch(sampleBatch(1))); !errors.Is(err, ErrInvalidRecord) {
		t.Errorf("data batch: %v", err)
	}
	opts := BatchOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, Control: true}
	bd := NewBuilder(opts)
	bd.Append(0, 0, AppendControlKey(nil, ControlLeaderChange), []byte("x"), nil)
	lc, _ := bd.Build()
	if _, err := ReadEndTxnMarker(lc); !errors.Is(err, ErrInvalidRecord) {
		t.Errorf("leader change: %v", err)
	}
	// A compressed marker still reads.
	m := EndTxnMarker{ProducerID: 1, Commit: true, CoordinatorEpoch: 2, TimestampMs: 3}
	zb, err := Recompress(nil, Batch(AppendEndTxnMarker(nil, m)), CompressionZstd, 0, 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ReadEndTxnMarker(zb); err != nil || got != m {
		t.Errorf("compressed marker: %+v %v", got, err)
	}
}

func TestControlKeysAndValues(t *testing.T) {
	for typ := ControlAbort; typ <= ControlKRaftVoters; typ++ {
		got, err := ParseControlKey(AppendControlKey(nil, typ))
		if err != nil || got != typ {
			t.Errorf("%s: %v %v", typ, got, err)
		}
		if typ.String() == "" || bytes.HasPrefix([]byte(typ.String()), []byte("unknown")) {
			t.Errorf("%d has no name", typ)
		}
	}
	if ControlRecordType(99).String() != "unknown(99)" {
		t.Error(ControlRecordType(99).String())
	}
	// Future key versions parse as version 0; unknown types pass through.
	if typ, err := ParseControlKey([]byte{0, 3, 0, 42, 0xff}); err != nil || typ != 42 {
		t.Errorf("future version: %v %v", typ, err)
	}
	for _, bad := range [][]byte{nil, {0, 0, 1}, {0x80, 0, 0, 1}} {
		if _, err := ParseControlKey(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("key % x: %v", bad, err)
		}
	}
	if e, err := ParseTxnMarkerValue(AppendTxnMarkerValue(nil, -5)); err != nil || e != -5 {
		t.Errorf("value: %d %v", e, err)
	}
	for _, bad := range [][]byte{nil, {0, 0, 0, 0, 1}, {0xff, 0xff, 0, 0, 0, 1}} {
		if _, err := ParseTxnMarkerValue(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("value % x: %v", bad, err)
		}
	}
}
