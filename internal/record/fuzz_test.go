package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fuzz targets for every decoder in the package. Seeds come from the franz-go fixtures;
// crashers found by `go test -fuzz` land in testdata/fuzz and are replayed by plain
// `go test`. Run one with, for example:
//
//	go test ./internal/record -run '^$' -fuzz '^FuzzParse$' -fuzztime 5m

const fuzzLimit = 1 << 20

// fixtureBatches returns every batch of every fixture file.
func fixtureBatches(f *testing.F) []Batch {
	files, err := filepath.Glob(filepath.Join("testdata", "*.batches"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	var out []Batch
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for rest := raw; len(rest) > 0; {
			b, next, err := Parse(rest, 0)
			if err != nil {
				f.Fatalf("%s: %v", name, err)
			}
			out = append(out, b)
			rest = next
		}
	}
	return out
}

// maxSeedBytes keeps seeds small: the fuzzer minimizes every new interesting input, and
// minimizing a 10 KiB input takes it most of a minute.
const maxSeedBytes = 2 << 10

func FuzzParse(f *testing.F) {
	for _, b := range fixtureBatches(f) {
		if len(b) <= maxSeedBytes {
			f.Add([]byte(b))
		}
	}
	raw, _ := os.ReadFile(filepath.Join("testdata", "franz-gzip.batches"))
	f.Add(raw) // two batches back to back
	f.Add(sampleBatch(3))
	f.Add(AppendEndTxnMarker(nil, EndTxnMarker{ProducerID: 1, Commit: true}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var scratch []byte
		// Mutations almost never keep the CRC right, so Parse alone would fence the fuzzer
		// out of everything behind it. Also try the input with its length and CRC fixed up.
		if len(data) >= HeaderSize {
			fixed := append([]byte{}, data...)
			binary.BigEndian.PutUint32(fixed[offBatchLength:], uint32(len(fixed)-LogOverhead))
			fixed[offMagic] = Magic
			Batch(fixed).UpdateCRC()
			if b, rest, err := Parse(fixed, 0); err == nil {
				if len(rest) != 0 || len(b) != len(fixed) {
					t.Fatal("fixed-up batch parsed to a different size")
				}
				exerciseBatch(t, b, &scratch)
			}
		}
		for rest := data; len(rest) > 0; {
			b, next, err := Parse(rest, 0)
			if err != nil {
				if b != nil || len(next) != len(rest) {
					t.Fatal("Parse returned a batch or consumed input on error")
				}
				return
			}
			if len(b)+len(next) != len(rest) || int(b.BatchLength())+LogOverhead != len(b) || ComputeCRC(b) != b.CRC() {
				t.Fatal("Parse returned an inconsistent batch")
			}
			rest = next
			exerciseBatch(t, b, &scratch)
		}
	})
}

// exerciseBatch runs everything that reads a parsed batch over it: decompression, record
// iteration, validation, recompression and a rebuild through the Builder.
func exerciseBatch(t *testing.T, b Batch, scratch *[]byte) {
	_ = b.String()
	_ = b.ValidateProducer()
	_ = b.Options()
	if b.IsControl() {
		_, _ = ReadEndTxnMarker(b)
	}
	_, _ = ValidateProduce(b, &ProduceRules{Compacted: true, NowMs: 1, TimestampBeforeMaxMs: 1 << 50,
		TimestampAfterMaxMs: 1 << 50, DecompressLimitBytes: fuzzLimit})
	recs, err := Decompress(*scratch, b, fuzzLimit)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrDecompressLimit) {
			t.Fatalf("Decompress: unexpected error class: %v", err)
		}
		return
	}
	if b.Compression() != CompressionNone {
		if len(recs) > fuzzLimit {
			t.Fatalf("decompressed %d bytes past the limit", len(recs))
		}
		*scratch = recs[:0]
	}
	checkIterRoundTrip(t, recs, b.RecordCount())
	if _, err := Recompress(nil, b, CompressionLZ4, 0, fuzzLimit); err != nil {
		t.Fatalf("Recompress of a decodable batch: %v", err)
	}
}

// checkIterRoundTrip iterates recs; if every record decodes, it rebuilds them with the
// Builder and checks the rebuilt batch yields the same records.
func checkIterRoundTrip(t *testing.T, recs []byte, count int32) {
	it := NewRecordIter(recs, count)
	bd := NewBuilder(BatchOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	src := Batch(encodeBatch(rawHeader{}, nil)) // base offset and timestamp 0
	ordered := true
	prev := int32(-1)
	total := 0
	for it.Next() {
		r := it.Record()
		total += len(r.Raw)
		if r.OffsetDelta <= prev {
			ordered = false
		}
		prev = r.OffsetDelta
		hi := r.Headers.Iter()
		n := 0
		for _, ok := hi.Next(); ok; _, ok = hi.Next() {
			n++
		}
		if n != r.Headers.Len() {
			t.Fatalf("header iterator gave %d of %d headers", n, r.Headers.Len())
		}
		if ordered {
			if err := bd.AppendRecord(src, r); err != nil {
				// Only timestamps more than 2^63 ms apart cannot share a base timestamp.
				if !errors.Is(err, ErrInvalidRecord) || !strings.Contains(err.Error(), "timestamp") {
					t.Fatalf("AppendRecord of a decoded record: %v", err)
				}
				ordered = false
			}
		}
	}
	if it.Err() != nil {
		if !errors.Is(it.Err(), ErrCorrupt) {
			t.Fatalf("iteration error class: %v", it.Err())
		}
		return
	}
	if total != len(recs) {
		t.Fatalf("records cover %d of %d bytes", total, len(recs))
	}
	if !ordered || count == 0 {
		return
	}
	built, err := bd.Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if _, _, err := Parse(built, 0); err != nil {
		t.Fatalf("rebuilt batch does not parse: %v", err)
	}
	a, b := NewRecordIter(recs, count), NewRecordIter(built.Records(), built.RecordCount())
	for a.Next() {
		if !b.Next() {
			t.Fatalf("rebuilt batch lost a record: %v", b.Err())
		}
		ra, rb := a.Record(), b.Record()
		if ra.OffsetDelta != rb.OffsetDelta || ra.Timestamp(src) != rb.Timestamp(built) || ra.Attributes != rb.Attributes ||
			!sameNullable(ra.Key, rb.Key) || !sameNullable(ra.Value, rb.Value) || !bytes.Equal(ra.Headers.Raw(), rb.Headers.Raw()) {
			t.Fatal("rebuilt record differs")
		}
	}
	if b.Next() || b.Err() != nil {
		t.Fatalf("rebuilt batch has extra records or fails: %v", b.Err())
	}
}

func sameNullable(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

func FuzzRecordIter(f *testing.F) {
	for _, b := range fixtureBatches(f) {
		if recs, err := Decompress(nil, b, fuzzLimit); err == nil && len(recs) <= maxSeedBytes {
			f.Add(append([]byte{}, recs...), b.RecordCount())
		}
	}
	f.Add(Batch(sampleBatch(4)).Records(), int32(4))
	bd := NewBuilder(BatchOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	for _, r := range sampleRecords()[:4] {
		bd.Append(r.delta, r.ts, r.key, r.value, r.headers)
	}
	b, _ := bd.Build()
	f.Add(append([]byte{}, b.Records()...), b.RecordCount())
	f.Fuzz(func(t *testing.T, recs []byte, count int32) {
		checkIterRoundTrip(t, recs, count)
	})
}

func fuzzDecompress(f *testing.F, c Compression, extra ...[]byte) {
	for _, b := range fixtureBatches(f) {
		if b.Compression() == c && len(b.Records()) <= maxSeedBytes {
			f.Add(append([]byte{}, b.Records()...))
		}
	}
	for _, n := range []int{0, 1, 100, 3000} {
		comp, err := Compress(nil, c, 0, textData(n, uint64(n)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(comp)
	}
	for _, e := range extra {
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		out, err := DecompressBytes(nil, c, src, fuzzLimit)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrDecompressLimit) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if len(out) > fuzzLimit {
			t.Fatalf("%d bytes past the limit", len(out))
		}
		// The output is what the codec decodes; a smaller limit cuts it off exactly.
		if len(out) > 0 {
			if _, err := DecompressBytes(nil, c, src, len(out)-1); !errors.Is(err, ErrDecompressLimit) {
				t.Fatalf("limit %d below the %d-byte output: %v", len(out)-1, len(out), err)
			}
		}
		switch c {
		case CompressionZstd:
			if lo, hi, ok := zstdBounds(src); ok && (uint64(len(out)) < lo || uint64(len(out)) > hi) {
				t.Fatalf("output %d outside the scanned bounds %d..%d", len(out), lo, hi)
			}
		case CompressionLZ4:
			if lo, hi, err := lz4Bounds(src); err != nil || uint64(len(out)) < lo || uint64(len(out)) > hi {
				t.Fatalf("output %d outside the scanned bounds %d..%d (%v)", len(out), lo, hi, err)
			}
		}
	})
}

func FuzzDecompressGzip(f *testing.F) { fuzzDecompress(f, CompressionGzip) }

func FuzzDecompressSnappy(f *testing.F) {
	fuzzDecompress(f, CompressionSnappy, xerialFrame(textData(3000, 1), 1000), xerialClaim(), snappyClaim())
}

func FuzzDecompressLZ4(f *testing.F) { fuzzDecompress(f, CompressionLZ4, lz4SizeClaim(f)) }

func FuzzDecompressZstd(f *testing.F) {
	fuzzDecompress(f, CompressionZstd, zstdSizeClaim(), zstdRLEBomb()[:200])
}
