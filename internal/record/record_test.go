package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

func TestVarints(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 63, -64, 64, -65, 8191, -8192, 1 << 20, math.MaxInt32, math.MinInt32} {
		enc := binary.AppendVarint(nil, v)
		if varintLen(v) != len(enc) {
			t.Errorf("varintLen(%d) = %d, encoding has %d", v, varintLen(v), len(enc))
		}
		got, next, ok := readVarint32(append(enc, 0xAA), 0)
		if !ok || int64(got) != v || next != len(enc) {
			t.Errorf("readVarint32(%d) = %d, %d, %v", v, got, next, ok)
		}
		got64, next, ok := readVarint64(enc, 0)
		if !ok || got64 != v || next != len(enc) {
			t.Errorf("readVarint64(%d) = %d, %d, %v", v, got64, next, ok)
		}
	}
	for _, v := range []int64{math.MaxInt64, math.MinInt64, math.MaxInt32 + 1, math.MinInt32 - 1, 1 << 50} {
		enc := binary.AppendVarint(nil, v)
		got, _, ok := readVarint64(enc, 0)
		if !ok || got != v {
			t.Errorf("readVarint64(%d) = %d, %v", v, got, ok)
		}
		if _, _, ok := readVarint32(enc, 0); ok {
			t.Errorf("readVarint32 accepted %d", v)
		}
	}
	bad := [][]byte{
		nil,
		{0x80},
		{0xff, 0xff, 0xff, 0xff},
		{0xff, 0xff, 0xff, 0xff, 0x10}, // fifth byte with bits above 32
		{0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	}
	for _, b := range bad {
		if _, _, ok := readVarint32(b, 0); ok {
			t.Errorf("readVarint32(% x) accepted", b)
		}
	}
	// Non-minimal encodings are valid LEB128 and accepted (0 in two bytes).
	if v, n, ok := readVarint32([]byte{0x80, 0x00}, 0); !ok || v != 0 || n != 2 {
		t.Errorf("non-minimal zero: %d %d %v", v, n, ok)
	}
	bad64 := [][]byte{
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, // tenth byte over bit 63
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		{0x80, 0x80},
	}
	for _, b := range bad64 {
		if _, _, ok := readVarint64(b, 0); ok {
			t.Errorf("readVarint64(% x) accepted", b)
		}
	}
}

func TestRecordIter(t *testing.T) {
	recs := bytes.Join([][]byte{
		encodeRecord(0, 0, []byte("k"), []byte("v")),
		encodeRecord(-5, 1, nil, nil),
		encodeRecord(1<<40, 2, []byte{}, []byte{}, Header{Key: []byte("a"), Value: []byte("1")}, Header{Key: []byte{}, Value: nil}),
	}, nil)
	b := Batch(encodeBatch(rawHeader{baseOffset: 50, baseTs: 1000, maxTs: 2000, lastOffsetDelta: 2, count: 3, baseSeq: 7, pid: 1}, recs))
	it := NewRecordIter(b.Records(), b.RecordCount())
	type want struct {
		off, ts     int64
		key, value  []byte
		headers     []Header
		seq, rawLen int32
	}
	wants := []want{
		{50, 1000, []byte("k"), []byte("v"), nil, 7, 0},
		{51, 995, nil, nil, nil, 8, 0},
		{52, 1000 + 1<<40, []byte{}, []byte{}, []Header{{[]byte("a"), []byte("1")}, {[]byte{}, nil}}, 9, 0},
	}
	pos := 0
	for i, w := range wants {
		if !it.Next() {
			t.Fatalf("record %d: %v", i, it.Err())
		}
		r := it.Record()
		if it.Index() != i {
			t.Errorf("Index %d, want %d", it.Index(), i)
		}
		if r.Offset(b) != w.off || r.Timestamp(b) != w.ts || r.Sequence(b) != w.seq {
			t.Errorf("record %d: offset %d ts %d seq %d", i, r.Offset(b), r.Timestamp(b), r.Sequence(b))
		}
		if (r.Key == nil) != (w.key == nil) || !bytes.Equal(r.Key, w.key) {
			t.Errorf("record %d: key %q (nil %v)", i, r.Key, r.Key == nil)
		}
		if (r.Value == nil) != (w.value == nil) || !bytes.Equal(r.Value, w.value) {
			t.Errorf("record %d: value %q (nil %v)", i, r.Value, r.Value == nil)
		}
		if r.Headers.Len() != len(w.headers) {
			t.Fatalf("record %d: %d headers", i, r.Headers.Len())
		}
		hi := r.Headers.Iter()
		for j, wh := range w.headers {
			h, ok := hi.Next()
			if !ok || !bytes.Equal(h.Key, wh.Key) || h.Key == nil || (h.Value == nil) != (wh.Value == nil) || !bytes.Equal(h.Value, wh.Value) {
				t.Errorf("record %d header %d: %q=%q %v", i, j, h.Key, h.Value, ok)
			}
		}
		if _, ok := hi.Next(); ok {
			t.Errorf("record %d: extra header", i)
		}
		// Raw is exactly this record's bytes, in place.
		if &r.Raw[0] != &b.Records()[pos] || !bytes.Equal(r.Raw, recs[pos:pos+len(r.Raw)]) {
			t.Errorf("record %d: Raw is not the record's bytes", i)
		}
		pos += len(r.Raw)
		// Sub-slices are capped: appending to one cannot overwrite the next field.
		if r.Key != nil && cap(r.Key) != len(r.Key) {
			t.Errorf("record %d: key not capped", i)
		}
	}
	if it.Next() || it.Err() != nil {
		t.Errorf("after the last record: Next true or err %v", it.Err())
	}
	if it.Next() {
		t.Error("Next after the end")
	}

	// LogAppendTime: every record reports MaxTimestamp.
	lat := Batch(encodeBatch(rawHeader{attrs: attrTimestampType, baseTs: 1000, maxTs: 5555, lastOffsetDelta: 2, count: 3}, recs))
	it = NewRecordIter(lat.Records(), 3)
	for it.Next() {
		if it.Record().Timestamp(lat) != 5555 {
			t.Errorf("LogAppendTime record timestamp %d", it.Record().Timestamp(lat))
		}
	}
	// No sequence: -1.
	noseq := Batch(encodeBatch(rawHeader{baseSeq: -1, lastOffsetDelta: 2, count: 3}, recs))
	it = NewRecordIter(noseq.Records(), 3)
	for it.Next() {
		if it.Record().Sequence(noseq) != -1 {
			t.Error("sequence without base sequence")
		}
	}
}

func TestRecordIterErrors(t *testing.T) {
	good := encodeRecord(0, 0, []byte("key"), []byte("value"), Header{Key: []byte("h"), Value: []byte("v")})
	// body builds a record from a hand-written body, with a correct length prefix.
	body := func(parts ...[]byte) []byte {
		b := bytes.Join(parts, nil)
		return append(binary.AppendVarint(nil, int64(len(b))), b...)
	}
	v := func(x int64) []byte { return binary.AppendVarint(nil, x) }
	cases := []struct {
		name  string
		recs  []byte
		count int32
	}{
		{"count over records", good, 2},
		{"trailing bytes", append(append([]byte{}, good...), 0), 1},
		{"trailing record", append(append([]byte{}, good...), good...), 1},
		{"no records, count 1", nil, 1},
		{"truncated", good[:len(good)-1], 1},
		{"length past end", append(v(100), good[1:]...), 1},
		{"length negative", append(v(-3), good[1:]...), 1},
		{"length below minimum", body([]byte{0, 0, 0, 1, 1}), 1},
		{"length varint overflow", append([]byte{0xff, 0xff, 0xff, 0xff, 0x7f}, good[1:]...), 1},
		{"body shorter than fields", body([]byte{0}, v(0), v(0), v(3), []byte("ke")), 1},
		{"key past body", body([]byte{0}, v(0), v(0), v(50), []byte("key"), v(-1), v(0)), 1},
		{"value past body", body([]byte{0}, v(0), v(0), v(-1), v(50), []byte("abc"), v(0)), 1},
		{"negative header count", body([]byte{0}, v(0), v(0), v(-1), v(-1), v(-1)), 1},
		{"header count over bytes", body([]byte{0}, v(0), v(0), v(-1), v(-1), v(1000), []byte{0, 0}), 1},
		{"header key null", body([]byte{0}, v(0), v(0), v(-1), v(-1), v(1), v(-1), v(-1)), 1},
		{"header key past body", body([]byte{0}, v(0), v(0), v(-1), v(-1), v(1), v(9), []byte("ab"), v(-1)), 1},
		{"header value past body", body([]byte{0}, v(0), v(0), v(-1), v(-1), v(1), v(1), []byte("a"), v(9), []byte("b")), 1},
		{"bytes after headers", body([]byte{0}, v(0), v(0), v(-1), v(-1), v(0), []byte{0}), 1},
		{"fewer headers than count", body([]byte{0}, v(0), v(0), v(-1), v(-1), v(2), v(1), []byte("a"), v(-1)), 1},
		{"offset delta overflows int32", body([]byte{0}, v(0), v(math.MaxInt32+1), v(-1), v(-1), v(0)), 1},
		{"timestamp delta truncated", body([]byte{0}, []byte{0x80, 0x80}), 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			it := NewRecordIter(tc.recs, tc.count)
			n := 0
			for it.Next() {
				n++
			}
			if !errors.Is(it.Err(), ErrCorrupt) {
				t.Fatalf("after %d records: err = %v, want ErrCorrupt", n, it.Err())
			}
			if it.Next() {
				t.Error("Next after an error")
			}
		})
	}
	it := NewRecordIter(good, -1)
	if it.Next() || !errors.Is(it.Err(), ErrCorrupt) {
		t.Errorf("negative count: %v", it.Err())
	}
	// Kafka reads any negative key or value length as null.
	odd := body([]byte{0}, v(0), v(0), v(-7), v(-2), v(0))
	it = NewRecordIter(odd, 1)
	if !it.Next() || it.Record().Key != nil || it.Record().Value != nil {
		t.Errorf("negative lengths: %v", it.Err())
	}
	// Zero records, nothing left: clean end.
	it = NewRecordIter(nil, 0)
	if it.Next() || it.Err() != nil {
		t.Errorf("empty: %v", it.Err())
	}
}

func TestRecordIterAllocs(t *testing.T) {
	b := Batch(sampleBatch(50))
	var sink int
	n := testing.AllocsPerRun(100, func() {
		it := NewRecordIter(b.Records(), b.RecordCount())
		for it.Next() {
			r := it.Record()
			sink += len(r.Key) + len(r.Value) + int(r.Offset(b))
			hi := r.Headers.Iter()
			for h, ok := hi.Next(); ok; h, ok = hi.Next() {
				sink += len(h.Key)
			}
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
	})
	if n != 0 {
		t.Errorf("iteration allocates %v times", n)
	}
	_ = sink
}

func TestHeaderIterOnBadBytes(t *testing.T) {
	// Headers built from garbage (unreachable through RecordIter) stop instead of panicking.
	it := Headers{raw: []byte{0x09, 'a'}, count: 3}.Iter()
	if _, ok := it.Next(); ok {
		t.Error("header from garbage")
	}
	if _, ok := it.Next(); ok {
		t.Error("iterator did not stop")
	}
}
