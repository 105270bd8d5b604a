package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"strings"
	"testing"
)

// rawHeader is every header field, for writing batches byte by byte in tests without going
// through the Builder under test.
type rawHeader struct {
	baseOffset      int64
	epoch           int32
	attrs           int16
	lastOffsetDelta int32
	baseTs, maxTs   int64
	pid             int64
	pepoch          int16
	baseSeq         int32
	count           int32
}

// encodeBatch lays out a batch from raw fields with an independent CRC implementation
// (the standard library's generic table, not the code under test).
func encodeBatch(h rawHeader, records []byte) []byte {
	b := make([]byte, HeaderSize, HeaderSize+len(records))
	be := binary.BigEndian
	be.PutUint64(b[0:], uint64(h.baseOffset))
	be.PutUint32(b[8:], uint32(HeaderSize-12+len(records)))
	be.PutUint32(b[12:], uint32(h.epoch))
	b[16] = 2
	be.PutUint16(b[21:], uint16(h.attrs))
	be.PutUint32(b[23:], uint32(h.lastOffsetDelta))
	be.PutUint64(b[27:], uint64(h.baseTs))
	be.PutUint64(b[35:], uint64(h.maxTs))
	be.PutUint64(b[43:], uint64(h.pid))
	be.PutUint16(b[51:], uint16(h.pepoch))
	be.PutUint32(b[53:], uint32(h.baseSeq))
	be.PutUint32(b[57:], uint32(h.count))
	b = append(b, records...)
	be.PutUint32(b[17:], crc32.Update(0, crc32.MakeTable(crc32.Castagnoli), b[21:]))
	return b
}

// encodeRecord writes one record by hand from the format description in doc.go.
func encodeRecord(tsDelta int64, offDelta int32, key, value []byte, headers ...Header) []byte {
	var body []byte
	body = append(body, 0)
	body = binary.AppendVarint(body, tsDelta)
	body = binary.AppendVarint(body, int64(offDelta))
	body = appendNullable(body, key)
	body = appendNullable(body, value)
	body = binary.AppendVarint(body, int64(len(headers)))
	for _, h := range headers {
		body = binary.AppendVarint(body, int64(len(h.Key)))
		body = append(body, h.Key...)
		body = appendNullable(body, h.Value)
	}
	return append(binary.AppendVarint(nil, int64(len(body))), body...)
}

func appendNullable(b, v []byte) []byte {
	if v == nil {
		return binary.AppendVarint(b, -1)
	}
	return append(binary.AppendVarint(b, int64(len(v))), v...)
}

// sampleBatch is a valid uncompressed batch with n small records and distinct header values.
func sampleBatch(n int) []byte {
	var recs []byte
	for i := range n {
		recs = append(recs, encodeRecord(int64(i*10), int32(i), []byte{'k', byte(i)}, []byte("value"))...)
	}
	return encodeBatch(rawHeader{
		baseOffset: 1000, epoch: 7, attrs: 0, lastOffsetDelta: int32(n - 1),
		baseTs: 1_700_000_000_000, maxTs: 1_700_000_000_000 + int64(n-1)*10,
		pid: 42, pepoch: 3, baseSeq: 100, count: int32(n),
	}, recs)
}

func TestHeaderAccessors(t *testing.T) {
	h := rawHeader{
		baseOffset: math.MaxInt64 - 10, epoch: -2, attrs: 0x7f, lastOffsetDelta: 4,
		baseTs: -123, maxTs: math.MaxInt64, pid: math.MinInt64 + 1, pepoch: -32768, baseSeq: math.MaxInt32, count: 5,
	}
	b := Batch(encodeBatch(h, []byte("0123456789")))
	checks := []struct {
		name      string
		got, want int64
	}{
		{"BaseOffset", b.BaseOffset(), h.baseOffset},
		{"BatchLength", int64(b.BatchLength()), int64(len(b) - LogOverhead)},
		{"PartitionLeaderEpoch", int64(b.PartitionLeaderEpoch()), int64(h.epoch)},
		{"Magic", int64(b.Magic()), 2},
		{"CRC", int64(b.CRC()), int64(crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))},
		{"Attributes", int64(b.Attributes()), int64(h.attrs)},
		{"LastOffsetDelta", int64(b.LastOffsetDelta()), int64(h.lastOffsetDelta)},
		{"BaseTimestamp", b.BaseTimestamp(), h.baseTs},
		{"MaxTimestamp", b.MaxTimestamp(), h.maxTs},
		{"ProducerID", b.ProducerID(), h.pid},
		{"ProducerEpoch", int64(b.ProducerEpoch()), int64(h.pepoch)},
		{"BaseSequence", int64(b.BaseSequence()), int64(h.baseSeq)},
		{"RecordCount", int64(b.RecordCount()), int64(h.count)},
		{"LastOffset", b.LastOffset(), h.baseOffset + 4},
		{"NextOffset", b.NextOffset(), h.baseOffset + 5},
		{"LastSequence", int64(b.LastSequence()), 3}, // MaxInt32 + 4 wraps to 3
		{"Compression", int64(b.Compression()), 7},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if !bytes.Equal(b.Records(), []byte("0123456789")) {
		t.Errorf("Records = %q", b.Records())
	}
	// 0x7f has every flag bit set.
	if !b.LogAppendTime() || !b.IsTransactional() || !b.IsControl() || !b.HasDeleteHorizon() || b.HasProducerID() {
		t.Errorf("flags: lat %v txn %v ctl %v dh %v pid %v", b.LogAppendTime(), b.IsTransactional(), b.IsControl(), b.HasDeleteHorizon(), b.HasProducerID())
	}

	// Each attribute bit on its own.
	bits := []struct {
		attr int16
		get  func(Batch) bool
	}{
		{0x08, Batch.LogAppendTime},
		{0x10, Batch.IsTransactional},
		{0x20, Batch.IsControl},
		{0x40, Batch.HasDeleteHorizon},
	}
	for _, bit := range bits {
		for _, other := range bits {
			b := Batch(encodeBatch(rawHeader{attrs: bit.attr}, nil))
			if got := other.get(b); got != (other.attr == bit.attr) {
				t.Errorf("attrs %#x: flag %#x = %v", bit.attr, other.attr, got)
			}
		}
	}
	for c := range Compression(5) {
		b := Batch(encodeBatch(rawHeader{attrs: int16(c) | 0x30}, nil))
		if b.Compression() != c {
			t.Errorf("codec %d read as %d", c, b.Compression())
		}
	}
	// A header-only view (as storage reads from a file) supports the header accessors.
	hdr := Batch(b[:HeaderSize])
	if hdr.RecordCount() != 5 || hdr.ProducerID() != h.pid {
		t.Error("header-only view")
	}
	if s := b.String(); !strings.Contains(s, "5 records") {
		t.Errorf("String = %q", s)
	}
	if s := Batch(b[:10]).String(); !strings.Contains(s, "short") {
		t.Errorf("String of a short batch = %q", s)
	}
}

func TestLastSequence(t *testing.T) {
	for _, tc := range []struct {
		base, delta, want int32
	}{
		{-1, 5, -1},
		{0, 0, 0},
		{10, 5, 15},
		{math.MaxInt32, 0, math.MaxInt32},
		{math.MaxInt32, 1, 0},
		{math.MaxInt32 - 1, 3, 1},
	} {
		b := Batch(encodeBatch(rawHeader{baseSeq: tc.base, lastOffsetDelta: tc.delta}, nil))
		if got := b.LastSequence(); got != tc.want {
			t.Errorf("LastSequence(base %d, delta %d) = %d, want %d", tc.base, tc.delta, got, tc.want)
		}
	}
}

func TestCompressionString(t *testing.T) {
	for c, want := range map[Compression]string{0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd", 6: "unknown(6)"} {
		if c.String() != want {
			t.Errorf("%d: %q", c, c.String())
		}
	}
}

func TestParse(t *testing.T) {
	valid := sampleBatch(3)
	b, rest, err := Parse(valid, 0)
	if err != nil || len(b) != len(valid) || len(rest) != 0 {
		t.Fatalf("Parse(valid) = %d bytes, rest %d, %v", len(b), len(rest), err)
	}
	if cap(b) != len(b) {
		t.Error("Parse must cap the batch so appends cannot clobber the next one")
	}
	// Two batches back to back, then a partial one.
	two := append(append(append([]byte{}, valid...), valid...), valid[:20]...)
	b1, rest, err := Parse(two, 0)
	if err != nil {
		t.Fatal(err)
	}
	b2, rest, err := Parse(rest, 0)
	if err != nil || !bytes.Equal(b1, b2) || len(rest) != 20 {
		t.Fatalf("second batch: %v, rest %d", err, len(rest))
	}
	if _, _, err := Parse(rest, 0); !errors.Is(err, ErrShortBatch) {
		t.Errorf("partial tail: %v", err)
	}

	mod := func(f func(b []byte)) []byte {
		c := append([]byte{}, valid...)
		f(c)
		return c
	}
	recrc := func(b []byte) { Batch(b).UpdateCRC() }
	be := binary.BigEndian
	cases := []struct {
		name string
		buf  []byte
		max  int
		want error
	}{
		{"empty", nil, 0, ErrShortBatch},
		{"under log overhead", valid[:11], 0, ErrShortBatch},
		{"header cut", valid[:40], 0, ErrShortBatch},
		{"records cut", valid[:len(valid)-1], 0, ErrShortBatch},
		{"length below header", mod(func(b []byte) { be.PutUint32(b[8:], 48) }), 0, ErrCorrupt},
		{"negative length", mod(func(b []byte) { be.PutUint32(b[8:], 0xffffffff) }), 0, ErrCorrupt},
		{"length past buffer", mod(func(b []byte) { be.PutUint32(b[8:], uint32(len(valid))) }), 0, ErrShortBatch},
		{"magic 1", mod(func(b []byte) { b[16] = 1 }), 0, ErrMagic},
		{"magic 0 short v0 message", mod(func(b []byte) { be.PutUint32(b[8:], 14); b[16] = 0 })[:26], 0, ErrMagic},
		{"magic 3", mod(func(b []byte) { b[16] = 3 }), 0, ErrMagic},
		{"bad crc", mod(func(b []byte) { b[17] ^= 1 }), 0, ErrCorrupt},
		{"flipped record byte", mod(func(b []byte) { b[len(b)-1] ^= 0x40 }), 0, ErrCorrupt},
		{"flipped attribute", mod(func(b []byte) { b[22] ^= 0x08 }), 0, ErrCorrupt},
		{"codec 5", mod(func(b []byte) { b[22] = 5; recrc(b) }), 0, ErrCompression},
		{"codec 7", mod(func(b []byte) { b[22] = 7; recrc(b) }), 0, ErrCompression},
		{"negative count", mod(func(b []byte) { be.PutUint32(b[57:], 0xffffffff); recrc(b) }), 0, ErrCorrupt},
		{"negative last delta", mod(func(b []byte) { be.PutUint32(b[23:], 0xffffffff); recrc(b) }), 0, ErrCorrupt},
		{"count over delta span", mod(func(b []byte) { be.PutUint32(b[23:], 1); recrc(b) }), 0, ErrCorrupt},
		{"count over bytes", mod(func(b []byte) { be.PutUint32(b[57:], 1000); be.PutUint32(b[23:], 5000); recrc(b) }), 0, ErrCorrupt},
		{"too large", valid, len(valid) - 1, ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, rest, err := Parse(tc.buf, tc.max)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if b != nil || len(rest) != len(tc.buf) {
				t.Errorf("on error Parse returned a batch of %d and rest of %d", len(b), len(rest))
			}
		})
	}

	// At the limit exactly is fine; compressed batches may claim more records than bytes.
	if _, _, err := Parse(valid, len(valid)); err != nil {
		t.Errorf("at the size limit: %v", err)
	}
	compressed := Batch(encodeBatch(rawHeader{attrs: int16(CompressionZstd), count: 1000, lastOffsetDelta: 999}, []byte("x")))
	if _, _, err := Parse(compressed, 0); err != nil {
		t.Errorf("compressed batch with many records: %v", err)
	}
	// An empty batch (all records compacted away) keeps its offset range.
	empty := encodeBatch(rawHeader{count: 0, lastOffsetDelta: 9}, nil)
	if _, _, err := Parse(empty, 0); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

func TestParseSingle(t *testing.T) {
	valid := sampleBatch(2)
	if b, err := ParseSingle(valid, 0); err != nil || len(b) != len(valid) {
		t.Fatalf("ParseSingle = %v", err)
	}
	for _, buf := range [][]byte{append(append([]byte{}, valid...), valid...), append(append([]byte{}, valid...), 0)} {
		if _, err := ParseSingle(buf, 0); !errors.Is(err, ErrBatchCount) || !errors.Is(err, ErrInvalidRecord) {
			t.Errorf("trailing bytes: %v", err)
		}
	}
	if _, err := ParseSingle(nil, 0); !errors.Is(err, ErrShortBatch) {
		t.Errorf("empty: %v", err)
	}
}

func TestParseAllocs(t *testing.T) {
	valid := sampleBatch(10)
	if n := testing.AllocsPerRun(100, func() {
		if _, _, err := Parse(valid, 0); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Parse allocates %v times", n)
	}
}

func TestBatchSize(t *testing.T) {
	valid := sampleBatch(1)
	if n, err := BatchSize(valid[:LogOverhead]); err != nil || n != len(valid) {
		t.Errorf("BatchSize = %d, %v", n, err)
	}
	if _, err := BatchSize(valid[:LogOverhead-1]); !errors.Is(err, ErrShortBatch) {
		t.Errorf("short: %v", err)
	}
	for _, l := range []uint32{0, 48, 0x80000000, 0xffffffff} {
		buf := append([]byte{}, valid[:LogOverhead]...)
		binary.BigEndian.PutUint32(buf[8:], l)
		if _, err := BatchSize(buf); !errors.Is(err, ErrCorrupt) {
			t.Errorf("length %d: %v", l, err)
		}
	}
	buf := append([]byte{}, valid[:LogOverhead]...)
	binary.BigEndian.PutUint32(buf[8:], 49)
	if n, err := BatchSize(buf); err != nil || n != HeaderSize {
		t.Errorf("minimum length: %d, %v", n, err)
	}
}

func TestSettersKeepCRC(t *testing.T) {
	b := Batch(sampleBatch(3))
	crc := b.CRC()
	// Base offset and leader epoch lie outside the CRC: rewriting them in place must not
	// require (or perform) a CRC update.
	b.SetBaseOffset(1 << 40)
	b.SetPartitionLeaderEpoch(99)
	if b.BaseOffset() != 1<<40 || b.PartitionLeaderEpoch() != 99 {
		t.Fatal("setters did not write")
	}
	if b.CRC() != crc {
		t.Error("CRC field changed")
	}
	if _, _, err := Parse(b, 0); err != nil {
		t.Errorf("after SetBaseOffset/SetPartitionLeaderEpoch: %v", err)
	}

	b.SetLogAppendTime(1_800_000_000_000)
	if !b.LogAppendTime() || b.MaxTimestamp() != 1_800_000_000_000 || b.BaseTimestamp() != 1_700_000_000_000 {
		t.Errorf("SetLogAppendTime: lat %v max %d base %d", b.LogAppendTime(), b.MaxTimestamp(), b.BaseTimestamp())
	}
	if _, _, err := Parse(b, 0); err != nil {
		t.Errorf("after SetLogAppendTime: %v", err)
	}
	if b.CRC() == crc {
		t.Error("SetLogAppendTime did not recompute the CRC")
	}
	// Every record now reports the append time.
	it := NewRecordIter(b.Records(), b.RecordCount())
	for it.Next() {
		if it.Record().Timestamp(b) != 1_800_000_000_000 {
			t.Errorf("record %d timestamp %d", it.Index(), it.Record().Timestamp(b))
		}
	}

	b.SetCreateTime(1_700_000_000_020)
	if b.LogAppendTime() || b.MaxTimestamp() != 1_700_000_000_020 {
		t.Error("SetCreateTime did not write")
	}
	if _, _, err := Parse(b, 0); err != nil {
		t.Errorf("after SetCreateTime: %v", err)
	}
	// Unchanged: no CRC work, same bytes.
	before := append([]byte{}, b...)
	b.SetCreateTime(1_700_000_000_020)
	if !bytes.Equal(before, b) {
		t.Error("no-op SetCreateTime changed the batch")
	}
}

func TestComputeCRC(t *testing.T) {
	b := Batch(sampleBatch(2))
	want := crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli))
	if ComputeCRC(b) != want || b.CRC() != want {
		t.Errorf("ComputeCRC %08x, header %08x, want %08x", ComputeCRC(b), b.CRC(), want)
	}
	// The known CRC-32C check value ("123456789" -> e3069283) guards the polynomial.
	if got := crc32.Checksum([]byte("123456789"), castagnoli); got != 0xe3069283 {
		t.Errorf("castagnoli table: %08x", got)
	}
	binary.BigEndian.PutUint32(b[offCRC:], 0)
	b.UpdateCRC()
	if b.CRC() != want {
		t.Error("UpdateCRC")
	}
}

func TestValidateProducer(t *testing.T) {
	cases := []struct {
		name    string
		attrs   int16
		pid     int64
		seq     int32
		wantErr bool
	}{
		{"plain", 0, -1, -1, false},
		{"idempotent", 0, 5, 0, false},
		{"transactional", attrTransactional, 5, 0, false},
		{"transactional without pid", attrTransactional, -1, -1, true},
		{"pid without sequence", 0, 5, -1, true},
		{"marker: pid, no sequence", attrTransactional | attrControl, 5, -1, false},
		{"sequence without pid tolerated", 0, -1, 3, false},
	}
	for _, tc := range cases {
		b := Batch(encodeBatch(rawHeader{attrs: tc.attrs, pid: tc.pid, baseSeq: tc.seq}, nil))
		err := b.ValidateProducer()
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: %v", tc.name, err)
		}
		if err != nil && (!errors.Is(err, ErrSequence) || !errors.Is(err, ErrInvalidRecord)) {
			t.Errorf("%s: %v is not ErrSequence/ErrInvalidRecord", tc.name, err)
		}
	}
}

func TestIncrementSequence(t *testing.T) {
	for _, tc := range []struct{ seq, delta, want int32 }{
		{0, 0, 0}, {0, 5, 5}, {math.MaxInt32, 1, 0}, {math.MaxInt32 - 2, 5, 2}, {math.MaxInt32 - 5, 5, math.MaxInt32},
	} {
		if got := IncrementSequence(tc.seq, tc.delta); got != tc.want {
			t.Errorf("IncrementSequence(%d, %d) = %d, want %d", tc.seq, tc.delta, got, tc.want)
		}
	}
}
