package record

import (
	"encoding/binary"
	"fmt"
	"math"
)

// BatchOptions are the header fields of a batch a Builder writes.
//
// The zero value is NOT "no producer": producer id 0 is a real id. Batches written by the
// broker itself (internal topics, metadata) set ProducerID, ProducerEpoch and BaseSequence
// to NoProducerID, NoProducerEpoch and NoSequence.
type BatchOptions struct {
	BaseOffset           int64
	PartitionLeaderEpoch int32
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	Transactional        bool
	Control              bool
	Compression          Compression
	// CompressionLevel is Kafka's compression.<codec>.level; 0 is the codec's default.
	CompressionLevel int
	// LogAppendTime marks the batch LogAppendTime: its MaxTimestamp is LogAppendTimeMs and
	// consumers read that as every record's timestamp.
	LogAppendTime   bool
	LogAppendTimeMs int64
	// HasDeleteHorizon sets attribute bit 6 (KIP-534): the base timestamp holds
	// DeleteHorizonMs, the time after which the cleaner may drop the batch's tombstones and
	// aborted-transaction markers, and record timestamp deltas are relative to it.
	HasDeleteHorizon bool
	DeleteHorizonMs  int64
}

// Options returns the header fields of b as BatchOptions, for rebuilding it (compaction,
// format changes). Level is unknown from the header and left 0.
func (b Batch) Options() BatchOptions {
	o := BatchOptions{
		BaseOffset:           b.BaseOffset(),
		PartitionLeaderEpoch: b.PartitionLeaderEpoch(),
		ProducerID:           b.ProducerID(),
		ProducerEpoch:        b.ProducerEpoch(),
		BaseSequence:         b.BaseSequence(),
		Transactional:        b.IsTransactional(),
		Control:              b.IsControl(),
		Compression:          b.Compression(),
		LogAppendTime:        b.LogAppendTime(),
	}
	if o.LogAppendTime {
		o.LogAppendTimeMs = b.MaxTimestamp()
	}
	if b.HasDeleteHorizon() {
		o.HasDeleteHorizon = true
		o.DeleteHorizonMs = b.BaseTimestamp()
	}
	return o
}

// Builder writes one RecordBatch v2 at a time: internal-topic and metadata batches, control
// batches, and batches rewritten by compaction. It computes lastOffsetDelta, the base and
// max timestamps, the record count and the CRC, and compresses on Build. Its buffers are
// reused from one batch to the next, so a long-lived Builder allocates nothing once warm.
// A Builder is not safe for concurrent use.
type Builder struct {
	opts BatchOptions
	// buf is HeaderSize bytes of header space followed by the uncompressed records.
	buf []byte
	// out holds the header and compressed records when the batch is compressed.
	out []byte

	count         int32
	baseTs        int64
	haveBaseTs    bool
	maxTs         int64
	maxTsOverride bool
	lastDelta     int32 // of the last appended record; -1 before the first
	lastDeltaSet  bool  // set by SetLastOffsetDelta
	setLastDelta  int32
}

// NewBuilder returns a Builder ready to write a batch with opts.
func NewBuilder(opts BatchOptions) *Builder {
	bd := new(Builder)
	bd.Reset(opts)
	return bd
}

// Reset discards the batch being built (invalidating any Batch that Build returned) and
// starts a new one with opts.
func (bd *Builder) Reset(opts BatchOptions) {
	bd.opts = opts
	if cap(bd.buf) < HeaderSize {
		bd.buf = make([]byte, HeaderSize, 16<<10)
	}
	bd.buf = bd.buf[:HeaderSize]
	bd.out = bd.out[:0]
	bd.count = 0
	bd.haveBaseTs = opts.HasDeleteHorizon
	bd.baseTs = opts.DeleteHorizonMs
	bd.maxTs = NoTimestamp
	bd.maxTsOverride = false
	bd.lastDelta = -1
	bd.lastDeltaSet = false
	bd.setLastDelta = 0
}

// Count is the number of records appended so far.
func (bd *Builder) Count() int32 { return bd.count }

// Size is the size in bytes of the batch so far before compression: the header and the
// encoded records. Callers cut batches by it (for example at max.message.bytes).
func (bd *Builder) Size() int { return len(bd.buf) }

// SetLastOffsetDelta fixes the batch's lastOffsetDelta. Compaction needs it: a batch keeps
// its offset range, and so the producer's sequence range, even when its last records (or all
// of them) were removed. It must not be below the delta of the last appended record.
func (bd *Builder) SetLastOffsetDelta(delta int32) {
	bd.lastDeltaSet = true
	bd.setLastDelta = delta
}

// SetMaxTimestamp fixes the batch's MaxTimestamp instead of the largest appended timestamp
// (for a rewritten batch whose largest-timestamp record was removed, Kafka keeps the
// largest remaining one; this is for callers that must keep the original). For an empty
// batch it is also the base timestamp, as Kafka writes empty batches. LogAppendTime
// batches use LogAppendTimeMs instead.
func (bd *Builder) SetMaxTimestamp(ts int64) {
	bd.maxTsOverride = true
	bd.maxTs = ts
}

// Append adds a record with the given offset delta (from the base offset; strictly
// increasing within the batch) and timestamp. A nil key or value is null; a nil header key
// is written as an empty one, since Kafka header keys are non-null strings. The bytes are
// copied.
func (bd *Builder) Append(offsetDelta int32, timestampMs int64, key, value []byte, headers []Header) error {
	tsDelta, err := bd.check(offsetDelta, timestampMs, key)
	if err != nil {
		return err
	}
	hlen := 0
	for _, h := range headers {
		hlen += varintLen(int64(len(h.Key))) + len(h.Key) + bytesLen(h.Value)
	}
	b, err := bd.appendHead(0, tsDelta, offsetDelta, key, value, len(headers), hlen)
	if err != nil {
		return err
	}
	for _, h := range headers {
		b = appendVarint(b, int64(len(h.Key)))
		b = append(b, h.Key...)
		b = appendBytes(b, h.Value)
	}
	bd.commit(b, offsetDelta, timestampMs)
	return nil
}

// AppendRecord adds r, read from batch src, at the same absolute offset and timestamp.
// When the record's deltas are unchanged in this batch (same base offset and base
// timestamp, the usual case for compaction) its bytes are copied verbatim; otherwise it is
// re-encoded with new deltas, its attributes, key, value and headers unchanged.
//
// The timestamp carried over is the record's create time (src's base timestamp plus its
// delta) even when src is a LogAppendTime batch, so rewriting such a batch keeps its bytes;
// the rewritten batch shows the append time again if its options say LogAppendTime.
func (bd *Builder) AppendRecord(src Batch, r *Record) error {
	off := src.BaseOffset() + int64(r.OffsetDelta)
	delta64 := off - bd.opts.BaseOffset
	if delta64 < 0 || delta64 > math.MaxInt32 {
		return fmt.Errorf("%w: offset %d outside the batch starting at %d", ErrInvalidRecord, off, bd.opts.BaseOffset)
	}
	delta := int32(delta64)
	ts := src.BaseTimestamp() + r.TimestampDelta
	tsDelta, err := bd.check(delta, ts, r.Key)
	if err != nil {
		return err
	}
	var b []byte
	if delta == r.OffsetDelta && tsDelta == r.TimestampDelta && len(r.Raw) > 0 {
		if int64(len(bd.buf))+int64(len(r.Raw)) > math.MaxInt32 {
			return fmt.Errorf("%w: batch over 2 GiB", ErrTooLarge)
		}
		b = append(bd.buf, r.Raw...)
	} else {
		b, err = bd.appendHead(r.Attributes, tsDelta, delta, r.Key, r.Value, r.Headers.count, len(r.Headers.raw))
		if err != nil {
			return err
		}
		b = append(b, r.Headers.raw...)
	}
	bd.commit(b, delta, ts)
	return nil
}

// check validates a record about to be appended and returns its timestamp delta. The first
// record's timestamp becomes the base timestamp (Kafka's choice) unless a delete horizon
// holds that field.
func (bd *Builder) check(offsetDelta int32, ts int64, key []byte) (int64, error) {
	if offsetDelta < 0 || offsetDelta <= bd.lastDelta {
		return 0, fmt.Errorf("%w: offset delta %d after %d", ErrInvalidRecord, offsetDelta, bd.lastDelta)
	}
	if bd.count == math.MaxInt32 {
		return 0, fmt.Errorf("%w: too many records", ErrTooLarge)
	}
	if bd.opts.Control && len(key) < controlKeySize {
		return 0, fmt.Errorf("%w: control record key of %d bytes", ErrInvalidRecord, len(key))
	}
	base := ts
	if bd.haveBaseTs {
		base = bd.baseTs
	}
	tsDelta := ts - base
	// Overflow when ts and the base lie far apart on opposite sides of zero.
	if (ts >= base) != (tsDelta >= 0) {
		return 0, fmt.Errorf("%w: timestamp %d too far from base timestamp %d", ErrInvalidRecord, ts, base)
	}
	return tsDelta, nil
}

// appendHead appends a record's length prefix and its body up to and including the header
// count, after checking that the record fits in a batch.
func (bd *Builder) appendHead(attrs int8, tsDelta int64, offsetDelta int32, key, value []byte, hcount, hlen int) ([]byte, error) {
	body := int64(1) + int64(varintLen(tsDelta)) + int64(varintLen(int64(offsetDelta))) +
		int64(bytesLen(key)) + int64(bytesLen(value)) + int64(varintLen(int64(hcount))) + int64(hlen)
	if body > math.MaxInt32 || int64(len(bd.buf))+body+5 > math.MaxInt32 {
		return nil, fmt.Errorf("%w: record of %d bytes", ErrTooLarge, body)
	}
	b := appendVarint(bd.buf, body)
	b = append(b, byte(attrs))
	b = appendVarint(b, tsDelta)
	b = appendVarint(b, int64(offsetDelta))
	b = appendBytes(b, key)
	b = appendBytes(b, value)
	return appendVarint(b, int64(hcount)), nil
}

// commit accounts for a record whose bytes are now in b.
func (bd *Builder) commit(b []byte, offsetDelta int32, ts int64) {
	bd.buf = b
	if !bd.haveBaseTs {
		bd.baseTs, bd.haveBaseTs = ts, true
	}
	bd.count++
	bd.lastDelta = offsetDelta
	if !bd.maxTsOverride && ts > bd.maxTs {
		bd.maxTs = ts
	}
}

// Build finishes the batch and returns it. The Batch shares the Builder's memory: it stays
// valid until the next Reset (appending more records and building again is allowed and
// invalidates it too).
func (bd *Builder) Build() (Batch, error) {
	o := &bd.opts
	if o.Transactional && o.ProducerID < 0 {
		return nil, fmt.Errorf("%w: transactional batch without producer id", ErrSequence)
	}
	lastDelta := bd.lastDelta
	if bd.lastDeltaSet {
		if bd.setLastDelta < bd.lastDelta {
			return nil, fmt.Errorf("%w: lastOffsetDelta %d below record delta %d", ErrInvalidRecord, bd.setLastDelta, bd.lastDelta)
		}
		lastDelta = bd.setLastDelta
	} else if bd.count == 0 {
		return nil, fmt.Errorf("%w: an empty batch needs SetLastOffsetDelta", ErrInvalidRecord)
	}
	maxTs := bd.maxTs
	if o.LogAppendTime {
		maxTs = o.LogAppendTimeMs
	}
	baseTs := bd.baseTs
	if !bd.haveBaseTs {
		baseTs = maxTs // empty batch without delete horizon
	}
	attrs := int16(o.Compression) & attrCompressionMask
	if o.LogAppendTime {
		attrs |= attrTimestampType
	}
	if o.Transactional {
		attrs |= attrTransactional
	}
	if o.Control {
		attrs |= attrControl
	}
	if o.HasDeleteHorizon {
		attrs |= attrDeleteHorizonSet
	}

	b := bd.buf
	if o.Compression != CompressionNone {
		out, err := Compress(append(bd.out[:0], bd.buf[:HeaderSize]...), o.Compression, o.CompressionLevel, bd.buf[HeaderSize:])
		if err != nil {
			return nil, err
		}
		bd.out = out
		b = out
	}
	if len(b)-LogOverhead > math.MaxInt32 {
		return nil, fmt.Errorf("%w: batch of %d bytes", ErrTooLarge, len(b))
	}
	binary.BigEndian.PutUint64(b[offBaseOffset:], uint64(o.BaseOffset))
	binary.BigEndian.PutUint32(b[offBatchLength:], uint32(len(b)-LogOverhead))
	binary.BigEndian.PutUint32(b[offPartitionLeaderEpoch:], uint32(o.PartitionLeaderEpoch))
	b[offMagic] = Magic
	binary.BigEndian.PutUint16(b[offAttributes:], uint16(attrs))
	binary.BigEndian.PutUint32(b[offLastOffsetDelta:], uint32(lastDelta))
	binary.BigEndian.PutUint64(b[offBaseTimestamp:], uint64(baseTs))
	binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(maxTs))
	binary.BigEndian.PutUint64(b[offProducerID:], uint64(o.ProducerID))
	binary.BigEndian.PutUint16(b[offProducerEpoch:], uint16(o.ProducerEpoch))
	binary.BigEndian.PutUint32(b[offBaseSequence:], uint32(o.BaseSequence))
	binary.BigEndian.PutUint32(b[offRecordCount:], uint32(bd.count))
	batch := Batch(b)
	batch.UpdateCRC()
	return batch, nil
}
