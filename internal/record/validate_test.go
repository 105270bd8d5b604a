package record

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

const now = 1_700_000_000_000

func rules() *ProduceRules {
	return &ProduceRules{NowMs: now, TimestampBeforeMaxMs: math.MaxInt64, TimestampAfterMaxMs: 3_600_000,
		DecompressLimitBytes: 1 << 20}
}

// clientBatch builds what a producer sends: offsets 0..n-1, idempotent, one codec.
func clientBatch(t testing.TB, c Compression, recs []testRecord) Batch {
	t.Helper()
	opts := BatchOptions{ProducerID: 5, ProducerEpoch: 0, BaseSequence: 0, Compression: c}
	bd := NewBuilder(opts)
	for _, r := range recs {
		if err := bd.Append(r.delta, r.ts, r.key, r.value, r.headers); err != nil {
			t.Fatal(err)
		}
	}
	b, err := bd.Build()
	if err != nil {
		t.Fatal(err)
	}
	return append(Batch{}, b...)
}

func keyed(n int) []testRecord {
	var out []testRecord
	for i := range n {
		out = append(out, testRecord{delta: int32(i), ts: now - int64(n-i), key: []byte{'k', byte(i)}, value: []byte("v")})
	}
	return out
}

func TestValidateProduceOK(t *testing.T) {
	for _, c := range codecs {
		b := clientBatch(t, c, keyed(10))
		info, err := ValidateProduce(b, rules())
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if info.MaxTimestamp != now-1 || info.OffsetDeltaOfMaxTimestamp != 9 || info.UncompressedBytes == 0 {
			t.Errorf("%s: info %+v", c, info)
		}
		r := rules()
		r.LogAppendTime = true
		r.Compacted = true
		info, err = ValidateProduce(b, r)
		if err != nil || info.MaxTimestamp != now || info.OffsetDeltaOfMaxTimestamp != 9 {
			t.Errorf("%s LogAppendTime: %+v %v", c, info, err)
		}
	}
	// NoTimestamp records skip the window (old clients), and do not count as max.
	recs := keyed(2)
	recs[1].ts = NoTimestamp
	recs[0].ts = NoTimestamp
	info, err := ValidateProduce(clientBatch(t, CompressionNone, recs), rules())
	if err != nil || info.MaxTimestamp != NoTimestamp {
		t.Errorf("no timestamps: %+v %v", info, err)
	}
}

func TestValidateProduceBatchErrors(t *testing.T) {
	good := clientBatch(t, CompressionNone, keyed(3))
	mod := func(f func(b Batch)) Batch {
		b := append(Batch{}, good...)
		f(b)
		b.UpdateCRC()
		return b
	}
	put32 := func(b Batch, off int, v int32) {
		b[off], b[off+1], b[off+2], b[off+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	// Offset deltas 0, 2, 1: count and range agree, the order does not (built by hand, since
	// the Builder refuses it).
	gap := Batch(encodeBatch(rawHeader{lastOffsetDelta: 2, count: 3, pid: -1, baseSeq: -1, baseTs: now, maxTs: now},
		bytes.Join([][]byte{encodeRecord(0, 0, []byte("a"), nil), encodeRecord(0, 2, []byte("b"), nil), encodeRecord(0, 1, []byte("c"), nil)}, nil)))
	cases := []struct {
		name string
		b    Batch
		want error
	}{
		{"zero records", mod(func(b Batch) { put32(b, offRecordCount, 0); put32(b, offLastOffsetDelta, 0) }), ErrOffsetRange},
		{"count != lastOffsetDelta+1", mod(func(b Batch) { put32(b, offLastOffsetDelta, 5) }), ErrOffsetRange},
		{"control batch", mod(func(b Batch) { b[offAttributes+1] |= attrControl }), ErrControlBatch},
		{"pid without sequence", mod(func(b Batch) { put32(b, offBaseSequence, -1) }), ErrSequence},
		{"transactional without pid", mod(func(b Batch) {
			b[offAttributes+1] |= attrTransactional
			for i := range 8 {
				b[offProducerID+i] = 0xff
			}
		}), ErrSequence},
		{"fewer records than count", mod(func(b Batch) { put32(b, offRecordCount, 4); put32(b, offLastOffsetDelta, 3) }), ErrCorrupt},
		{"out-of-order deltas", gap, ErrOffsetDeltas},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ValidateProduce(tc.b, rules())
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want != ErrCorrupt && !errors.Is(err, ErrInvalidRecord) {
				t.Errorf("%v is not an ErrInvalidRecord", err)
			}
		})
	}
	// Compressed records over the decompression limit.
	big := clientBatch(t, CompressionZstd, []testRecord{{0, now, []byte("k"), make([]byte, 100<<10), nil}})
	r := rules()
	r.DecompressLimitBytes = 50 << 10
	if _, err := ValidateProduce(big, r); !errors.Is(err, ErrDecompressLimit) {
		t.Errorf("over the decompression limit: %v", err)
	}
}

func TestValidateProduceRecordErrors(t *testing.T) {
	recs := keyed(6)
	recs[1].key = nil                        // compacted: no key
	recs[2].ts = now + 3_600_001             // too far ahead
	recs[3].ts = now - 10_000                // more than TimestampBeforeMaxMs back
	recs[4].key, recs[4].ts = nil, now+1<<40 // both: the key error wins, as in Kafka
	r := rules()
	r.Compacted = true
	r.TimestampBeforeMaxMs = 5_000
	for _, c := range []Compression{CompressionNone, CompressionLZ4} {
		_, err := ValidateProduce(clientBatch(t, c, recs), r)
		var re *RecordErrors
		if !errors.As(err, &re) {
			t.Fatalf("%s: %v is not RecordErrors", c, err)
		}
		wantIdx := []int{1, 2, 3, 4}
		wantErr := []error{ErrMissingKey, ErrInvalidTimestamp, ErrInvalidTimestamp, ErrMissingKey}
		if re.Total != 4 || len(re.Errors) != 4 {
			t.Fatalf("%s: %d errors (%d total): %v", c, len(re.Errors), re.Total, err)
		}
		for i, e := range re.Errors {
			if e.Index != wantIdx[i] || !errors.Is(e, wantErr[i]) {
				t.Errorf("%s: error %d = %v", c, i, e)
			}
		}
		// Kafka answers INVALID_TIMESTAMP for the partition when any timestamp is bad.
		if !errors.Is(err, ErrInvalidTimestamp) || !errors.Is(err, ErrMissingKey) || !errors.Is(err, ErrInvalidRecord) {
			t.Errorf("%s: errors.Is on %v", c, err)
		}
		if !strings.Contains(err.Error(), "4 of the batch's records rejected") {
			t.Errorf("message %q", err.Error())
		}
	}
	// Only missing keys: not a timestamp error.
	r = rules()
	r.Compacted = true
	recs = keyed(3)
	recs[0].key = nil
	_, err := ValidateProduce(clientBatch(t, CompressionNone, recs), r)
	if errors.Is(err, ErrInvalidTimestamp) || !errors.Is(err, ErrMissingKey) {
		t.Errorf("missing key only: %v", err)
	}
	// A client claiming LogAppendTime is rejected on CreateTime topics only for records
	// without a timestamp, and always on LogAppendTime topics (Kafka's rule).
	lat := clientBatch(t, CompressionNone, keyed(2))
	lat.SetLogAppendTime(now)
	if _, err := ValidateProduce(lat, rules()); err != nil {
		t.Errorf("LogAppendTime batch, CreateTime topic, valid time: %v", err)
	}
	r = rules()
	r.LogAppendTime = true
	if _, err := ValidateProduce(lat, r); !errors.Is(err, ErrInvalidTimestamp) {
		t.Errorf("LogAppendTime batch to a LogAppendTime topic: %v", err)
	}
	// Error collection is bounded.
	many := make([]testRecord, 1000)
	for i := range many {
		many[i] = testRecord{delta: int32(i), ts: now}
	}
	r = rules()
	r.Compacted = true
	_, err = ValidateProduce(clientBatch(t, CompressionNone, many), r)
	var re *RecordErrors
	if !errors.As(err, &re) || re.Total != 1000 || len(re.Errors) != maxRecordErrors {
		t.Errorf("bounded errors: %v", err)
	}
}

func TestTimestampWindow(t *testing.T) {
	cases := []struct {
		now, before, after int64
		lo, hi             int64
	}{
		{1000, 100, 200, 900, 1200},
		{1000, math.MaxInt64, math.MaxInt64, 1000 - math.MaxInt64, math.MaxInt64},
		{-1000, math.MaxInt64, 0, math.MinInt64, -1000},
		{-5, math.MaxInt64, 0, math.MinInt64, -5},
		{1000, -1, -1, 1000, 1000},
	}
	for _, tc := range cases {
		lo, hi := timestampWindow(&ProduceRules{NowMs: tc.now, TimestampBeforeMaxMs: tc.before, TimestampAfterMaxMs: tc.after})
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("%+v: [%d, %d]", tc, lo, hi)
		}
	}
}

func TestValidateProduceAllocs(t *testing.T) {
	b := clientBatch(t, CompressionNone, keyed(100))
	r := rules()
	r.Compacted = true
	if n := testing.AllocsPerRun(100, func() {
		if _, err := ValidateProduce(b, r); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("uncompressed validation allocates %v times", n)
	}
	if raceEnabled {
		return // sync.Pool drops items at random under the race detector
	}
	zb := clientBatch(t, CompressionLZ4, keyed(100))
	ValidateProduce(zb, r)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := ValidateProduce(zb, r); err != nil {
			t.Fatal(err)
		}
	}); n > 1 {
		t.Errorf("compressed validation allocates %v times", n)
	}
}

func TestRecompress(t *testing.T) {
	src := clientBatch(t, CompressionGzip, append(keyed(20), testRecord{20, now, []byte("big"), textData(30<<10, 13), nil}))
	src.SetBaseOffset(1 << 33)
	src.SetPartitionLeaderEpoch(12)
	want, _ := Decompress(nil, src, 1<<20)
	want = append([]byte{}, want...)
	for _, c := range codecs {
		b, err := Recompress(nil, src, c, 0, 1<<20)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if _, _, err := Parse(b, 0); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if b.Compression() != c {
			t.Errorf("codec %s", b.Compression())
		}
		// Every header field but codec, length and CRC is kept.
		for _, f := range []struct{ off, n int }{{offBaseOffset, 8}, {offPartitionLeaderEpoch, 4}, {offMagic, 1},
			{offLastOffsetDelta, HeaderSize - offLastOffsetDelta}} {
			if !bytes.Equal(b[f.off:f.off+f.n], src[f.off:f.off+f.n]) {
				t.Errorf("%s: header bytes at %d changed", c, f.off)
			}
		}
		if b.Attributes()&^attrCompressionMask != src.Attributes()&^attrCompressionMask {
			t.Errorf("%s: flags changed", c)
		}
		got, err := Decompress(nil, b, 1<<20)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: records differ: %v", c, err)
		}
		if _, err := ValidateProduce(b, rules()); err != nil {
			t.Errorf("%s: recompressed batch does not validate: %v", c, err)
		}
	}
	if _, err := Recompress(nil, src, CompressionZstd, 99, 1<<20); !errors.Is(err, ErrCompressionLevel) {
		t.Errorf("bad level: %v", err)
	}
	if _, err := Recompress(nil, src, CompressionZstd, 0, 100); !errors.Is(err, ErrDecompressLimit) {
		t.Errorf("limit: %v", err)
	}
}
