package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
)

// ProduceRules are the topic settings a produced batch is checked against, as Kafka's
// broker checks them (its LogValidator).
type ProduceRules struct {
	// Compacted: cleanup.policy includes compact; every record needs a key.
	Compacted bool
	// LogAppendTime: message.timestamp.type=LogAppendTime. Record timestamps are then not
	// checked; the broker overwrites them with SetLogAppendTime.
	LogAppendTime bool
	// NowMs is the broker's clock, for the timestamp window and LogAppendTime.
	NowMs int64
	// TimestampBeforeMaxMs and TimestampAfterMaxMs are message.timestamp.before.max.ms and
	// message.timestamp.after.max.ms: how far a CreateTime timestamp may lie before or after
	// NowMs. Negative values are treated as 0.
	TimestampBeforeMaxMs int64
	TimestampAfterMaxMs  int64
	// DecompressLimitBytes bounds the decompressed records of a compressed batch.
	DecompressLimitBytes int
}

// ProduceInfo is what validating a batch learned about it.
type ProduceInfo struct {
	// MaxTimestamp is the batch's max timestamp as Kafka stores it: NowMs for a
	// LogAppendTime topic, else the largest record timestamp (NoTimestamp if none is
	// larger). Store it with SetLogAppendTime or SetCreateTime.
	MaxTimestamp int64
	// OffsetDeltaOfMaxTimestamp is the offset delta of the record with MaxTimestamp (the
	// last record for LogAppendTime), for ListOffsets' MAX_TIMESTAMP.
	OffsetDeltaOfMaxTimestamp int32
	// UncompressedBytes is the size of the records section after decompression.
	UncompressedBytes int
}

// maxRecordErrors bounds how many per-record errors ValidateProduce collects; the rest are
// only counted. Kafka returns them all, but a response need not carry thousands.
const maxRecordErrors = 64

// RecordError is one rejected record, as ProduceResponse's RecordErrors reports it.
type RecordError struct {
	// Index is the record's position in the batch (Kafka's batch_index).
	Index int
	// Err wraps ErrMissingKey or ErrInvalidTimestamp, with the detail a client sees.
	Err error
}

func (e RecordError) Error() string { return fmt.Sprintf("record %d: %v", e.Index, e.Err) }

func (e RecordError) Unwrap() error { return e.Err }

// RecordErrors is the error ValidateProduce returns when individual records are rejected.
// errors.Is matches ErrInvalidTimestamp when any record has a bad timestamp (Kafka then
// answers INVALID_TIMESTAMP for the partition) and ErrMissingKey/ErrInvalidRecord when any
// record has no key (INVALID_RECORD otherwise).
type RecordErrors struct {
	// Errors holds the first rejected records, at most 64, in batch order.
	Errors []RecordError
	// Total counts every rejected record.
	Total int
}

func (e *RecordErrors) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "record: %d of the batch's records rejected", e.Total)
	for i, re := range e.Errors {
		if i == 3 {
			sb.WriteString(", …")
			break
		}
		sb.WriteString("; ")
		sb.WriteString(re.Error())
	}
	return sb.String()
}

// Unwrap returns the distinct causes, so errors.Is sees each kind of rejection.
func (e *RecordErrors) Unwrap() []error {
	var out []error
	var ts, key bool
	for _, re := range e.Errors {
		switch {
		case !ts && errors.Is(re.Err, ErrInvalidTimestamp):
			ts = true
			out = append(out, ErrInvalidTimestamp)
		case !key && errors.Is(re.Err, ErrMissingKey):
			key = true
			out = append(out, ErrMissingKey)
		}
	}
	return out
}

// ValidateProduce checks a batch a client produced, as Kafka's broker does before assigning
// offsets. b must come from Parse (structure and CRC already checked). The batch-level
// checks fail with a wrapped sentinel:
//
//   - ErrOffsetRange: record count is 0, or not lastOffsetDelta+1;
//   - ErrControlBatch: clients may not write control batches;
//   - ErrSequence: producer id without base sequence, or transactional without producer id;
//   - ErrCorrupt: records that do not decode, or not exactly RecordCount of them;
//   - ErrOffsetDeltas: record offset deltas that are not 0..n-1 in order;
//   - ErrDecompressLimit, ErrCompression: from decompression.
//
// Records that decode but break a topic rule are collected into *RecordErrors: a missing key
// on a compacted topic, a CreateTime timestamp outside the window, or a client-set
// LogAppendTime. For an uncompressed batch ValidateProduce allocates nothing unless it
// fails; a compressed one is decompressed into a pooled buffer.
func ValidateProduce(b Batch, rules *ProduceRules) (ProduceInfo, error) {
	info := ProduceInfo{MaxTimestamp: NoTimestamp, OffsetDeltaOfMaxTimestamp: -1}
	count := b.RecordCount()
	if count <= 0 || int64(b.LastOffsetDelta())+1 != int64(count) {
		return info, fmt.Errorf("%w: %d records, lastOffsetDelta %d", ErrOffsetRange, count, b.LastOffsetDelta())
	}
	if b.IsControl() {
		return info, ErrControlBatch
	}
	if err := b.ValidateProducer(); err != nil {
		return info, err
	}

	recs := b.Records()
	if b.Compression() != CompressionNone {
		scratch := getScratch()
		defer putScratch(scratch)
		var err error
		if recs, err = Decompress(*scratch, b, rules.DecompressLimitBytes); err != nil {
			return info, err
		}
		*scratch = recs[:0]
	}
	info.UncompressedBytes = len(recs)

	lo, hi := timestampWindow(rules)
	var rerrs *RecordErrors
	reject := func(i int, err error) {
		if rerrs == nil {
			rerrs = new(RecordErrors)
		}
		rerrs.Total++
		if len(rerrs.Errors) < maxRecordErrors {
			rerrs.Errors = append(rerrs.Errors, RecordError{Index: i, Err: err})
		}
	}
	it := NewRecordIter(recs, count)
	for it.Next() {
		r := it.Record()
		i := it.Index()
		if r.OffsetDelta != int32(i) {
			return info, fmt.Errorf("%w: record %d has offset delta %d", ErrOffsetDeltas, i, r.OffsetDelta)
		}
		if rules.Compacted && r.Key == nil {
			reject(i, ErrMissingKey)
			continue
		}
		ts := r.Timestamp(b)
		switch {
		case !rules.LogAppendTime && ts != NoTimestamp:
			if ts < lo || ts > hi {
				reject(i, fmt.Errorf("%w: timestamp %d is outside [%d, %d]", ErrInvalidTimestamp, ts, lo, hi))
				continue
			}
		case b.LogAppendTime():
			reject(i, fmt.Errorf("%w: producers may not set the LogAppendTime timestamp type", ErrInvalidTimestamp))
			continue
		}
		if ts > info.MaxTimestamp {
			info.MaxTimestamp = ts
			info.OffsetDeltaOfMaxTimestamp = r.OffsetDelta
		}
	}
	if err := it.Err(); err != nil {
		return info, err
	}
	if rerrs != nil {
		return info, rerrs
	}
	if rules.LogAppendTime {
		info.MaxTimestamp = rules.NowMs
		info.OffsetDeltaOfMaxTimestamp = b.LastOffsetDelta()
	}
	return info, nil
}

// timestampWindow is [now-before, now+after], saturating instead of overflowing: Kafka's
// defaults include Long.MAX_VALUE.
func timestampWindow(r *ProduceRules) (lo, hi int64) {
	before, after := max(r.TimestampBeforeMaxMs, 0), max(r.TimestampAfterMaxMs, 0)
	lo, hi = math.MinInt64, math.MaxInt64
	if r.NowMs >= math.MinInt64+before {
		lo = r.NowMs - before
	}
	if r.NowMs <= math.MaxInt64-after {
		hi = r.NowMs + after
	}
	return lo, hi
}

// scratchPool holds buffers for decompressed records that do not outlive a call.
var scratchPool = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledScratch keeps one huge batch from pinning its buffer in the pool forever.
const maxPooledScratch = 8 << 20

func getScratch() *[]byte { return scratchPool.Get().(*[]byte) }

func putScratch(p *[]byte) {
	if cap(*p) > maxPooledScratch {
		*p = nil
	}
	scratchPool.Put(p)
}

// Recompress writes into dst's storage (dst[:0], grown as needed; it must not overlap b) a
// copy of b whose records are compressed with c at level (0: the codec's default). Every
// header field is kept (offsets, producer fields, sequences, timestamps, count, flags) but
// the codec bits, the batch length and the CRC. It is for topics whose compression.type
// differs from the producer's. b must be valid (Parse); limitBytes bounds its decompression.
func Recompress(dst []byte, b Batch, c Compression, level, limitBytes int) (Batch, error) {
	scratch := getScratch()
	defer putScratch(scratch)
	recs, err := Decompress(*scratch, b, limitBytes)
	if err != nil {
		return nil, err
	}
	if b.Compression() != CompressionNone {
		*scratch = recs[:0]
	}
	out := append(dst[:0], b[:HeaderSize]...)
	if out, err = Compress(out, c, level, recs); err != nil {
		return nil, err
	}
	if len(out)-LogOverhead > math.MaxInt32 {
		return nil, fmt.Errorf("%w: recompressed batch of %d bytes", ErrTooLarge, len(out))
	}
	nb := Batch(out)
	attrs := nb.Attributes()&^attrCompressionMask | int16(c)&attrCompressionMask
	binary.BigEndian.PutUint16(nb[offAttributes:], uint16(attrs))
	binary.BigEndian.PutUint32(nb[offBatchLength:], uint32(len(out)-LogOverhead))
	nb.UpdateCRC()
	return nb, nil
}
