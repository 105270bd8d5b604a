package record

import (
	"fmt"
	"testing"
)

// Benchmarks on the shapes the broker handles most: 16 KiB batches (franz-go's and the Java
// client's default batch size) of 1 KiB records of compressible, record-like text.
//
//	go test ./internal/record -run '^$' -bench . -benchmem

const benchBatchBytes = 16 << 10

// benchBatch builds a batch of about 16 KiB of records of recordSize bytes each.
func benchBatch(b testing.TB, c Compression, recordSize int) Batch {
	bd := NewBuilder(BatchOptions{ProducerID: 1, ProducerEpoch: 0, BaseSequence: 0, Compression: c})
	data := textData(benchBatchBytes, 99)
	for i := 0; (i+1)*recordSize <= len(data); i++ {
		key := fmt.Appendf(nil, "key-%d", i)
		if err := bd.Append(int32(i), 1_700_000_000_000+int64(i), key, data[i*recordSize:(i+1)*recordSize], nil); err != nil {
			b.Fatal(err)
		}
	}
	batch, err := bd.Build()
	if err != nil {
		b.Fatal(err)
	}
	return append(Batch{}, batch...)
}

func BenchmarkParse(b *testing.B) {
	batch := benchBatch(b, CompressionNone, 1<<10)
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Parse(batch, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRecordIter(b *testing.B) {
	for _, size := range []int{1 << 10, 100} {
		b.Run(fmt.Sprintf("record=%dB", size), func(b *testing.B) {
			batch := benchBatch(b, CompressionNone, size)
			n := int(batch.RecordCount())
			b.SetBytes(int64(len(batch)))
			b.ReportAllocs()
			sink := 0
			for b.Loop() {
				it := NewRecordIter(batch.Records(), batch.RecordCount())
				for it.Next() {
					sink += len(it.Record().Value)
				}
				if it.Err() != nil {
					b.Fatal(it.Err())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
			_ = sink
		})
	}
}

func BenchmarkCompress(b *testing.B) {
	recs := benchBatch(b, CompressionNone, 1<<10).Records()
	for _, c := range codecs[1:] {
		b.Run(c.String(), func(b *testing.B) {
			dst, _ := Compress(nil, c, 0, recs)
			b.SetBytes(int64(len(recs)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = Compress(dst[:0], c, 0, recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(recs))/float64(len(dst)), "ratio")
		})
	}
}

func BenchmarkDecompress(b *testing.B) {
	for _, c := range codecs[1:] {
		b.Run(c.String(), func(b *testing.B) {
			batch := benchBatch(b, c, 1<<10)
			dst, err := Decompress(nil, batch, 1<<20)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(dst)))
			b.ReportAllocs()
			for b.Loop() {
				if dst, err = Decompress(dst[:0], batch, 1<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidateProduce(b *testing.B) {
	r := &ProduceRules{NowMs: 1_700_000_000_000, TimestampBeforeMaxMs: 1 << 50, TimestampAfterMaxMs: 1 << 50,
		DecompressLimitBytes: 1 << 20}
	for _, c := range []Compression{CompressionNone, CompressionZstd} {
		b.Run(c.String(), func(b *testing.B) {
			batch := benchBatch(b, c, 1<<10)
			b.SetBytes(benchBatchBytes)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ValidateProduce(batch, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBuilder(b *testing.B) {
	data := textData(benchBatchBytes, 98)
	bd := NewBuilder(BatchOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	b.SetBytes(benchBatchBytes)
	b.ReportAllocs()
	for b.Loop() {
		bd.Reset(BatchOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
		for i := range 16 {
			if err := bd.Append(int32(i), int64(i), nil, data[i<<10:(i+1)<<10], nil); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := bd.Build(); err != nil {
			b.Fatal(err)
		}
	}
}
