package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// Byte positions of the RecordBatch v2 header fields (see doc.go for the drawing).
const (
	offBaseOffset           = 0
	offBatchLength          = 8
	offPartitionLeaderEpoch = 12
	offMagic                = 16
	offCRC                  = 17
	offAttributes           = 21
	offLastOffsetDelta      = 23
	offBaseTimestamp        = 27
	offMaxTimestamp         = 35
	offProducerID           = 43
	offProducerEpoch        = 51
	offBaseSequence         = 53
	offRecordCount          = 57

	// HeaderSize is the size of a RecordBatch v2 header, up to and including the record count.
	HeaderSize = 61
	// LogOverhead is the part of the header not counted by the batch length field:
	// base offset (8) and batch length (4).
	LogOverhead = 12
	// Magic is the only record batch format Sluice accepts or writes.
	Magic = 2
)

// Values Kafka uses for "none" in header fields.
const (
	NoProducerID    int64 = -1
	NoProducerEpoch int16 = -1
	NoSequence      int32 = -1
	NoTimestamp     int64 = -1
)

// Attribute bits of a RecordBatch v2.
const (
	attrCompressionMask  = 0x07
	attrTimestampType    = 0x08
	attrTransactional    = 0x10
	attrControl          = 0x20
	attrDeleteHorizonSet = 0x40
)

// Compression is the codec named by the low three attribute bits.
type Compression int8

const (
	CompressionNone   Compression = 0
	CompressionGzip   Compression = 1
	CompressionSnappy Compression = 2
	CompressionLZ4    Compression = 3
	CompressionZstd   Compression = 4
)

func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionGzip:
		return "gzip"
	case CompressionSnappy:
		return "snappy"
	case CompressionLZ4:
		return "lz4"
	case CompressionZstd:
		return "zstd"
	}
	return fmt.Sprintf("unknown(%d)", int8(c))
}

// Errors returned by batch validation. They are distinct so that the server can map each to
// the Kafka error code a client expects (CORRUPT_MESSAGE, INVALID_RECORD, UNSUPPORTED_COMPRESSION_TYPE,
// MESSAGE_TOO_LARGE, …) in one place.
var (
	// ErrShortBatch: fewer bytes than the header or the batch length claims. At the tail of a
	// segment this is a torn write, in a request it is a malformed record set.
	ErrShortBatch = errors.New("record: batch truncated")
	// ErrCorrupt: the bytes are a batch of the right size but their content is inconsistent
	// (CRC mismatch, length below the header size, count and offset deltas disagree).
	ErrCorrupt = errors.New("record: corrupt batch")
	// ErrMagic: the magic byte is not 2. Message formats v0 and v1 are not supported.
	ErrMagic = errors.New("record: unsupported magic")
	// ErrTooLarge: the batch is larger than the limit the caller enforces (max.message.bytes).
	ErrTooLarge = errors.New("record: batch too large")
	// ErrCompression: the attributes name a codec Sluice does not know.
	ErrCompression = errors.New("record: unsupported compression")
	// ErrInvalidRecord: the batch header is well formed but what it says is not allowed
	// (for example producer fields inconsistent with the transactional bit).
	ErrInvalidRecord = errors.New("record: invalid record")
	// ErrDecompressLimit: the records decompress to more bytes than the caller allows. The
	// check runs before the output is allocated whenever the input declares its size.
	ErrDecompressLimit = errors.New("record: decompressed size over limit")
	// ErrCompressionLevel: a compression level outside the range Kafka allows for the codec.
	ErrCompressionLevel = errors.New("record: invalid compression level")
	// ErrInvalidTimestamp: a record's timestamp is outside the window the topic accepts
	// (message.timestamp.before/after.max.ms), or a client claimed LogAppendTime.
	ErrInvalidTimestamp = errors.New("record: invalid timestamp")
)

// Finer causes of ErrInvalidRecord: errors.Is matches both the cause and ErrInvalidRecord.
var (
	// ErrMissingKey: a record without a key sent to a compacted topic.
	ErrMissingKey = fmt.Errorf("%w: compacted topic cannot accept a record without key", ErrInvalidRecord)
	// ErrControlBatch: a client tried to write a control batch; only the broker writes them.
	ErrControlBatch = fmt.Errorf("%w: clients may not write control batches", ErrInvalidRecord)
	// ErrOffsetRange: a client batch whose record count is not lastOffsetDelta+1, or is 0.
	ErrOffsetRange = fmt.Errorf("%w: record count and offset range disagree", ErrInvalidRecord)
	// ErrOffsetDeltas: a client batch whose records' offset deltas are not 0, 1, …, n-1.
	ErrOffsetDeltas = fmt.Errorf("%w: record offset deltas are not consecutive from 0", ErrInvalidRecord)
	// ErrSequence: a batch with a producer id but no base sequence (or the reverse for
	// transactional batches: transactional without producer id).
	ErrSequence = fmt.Errorf("%w: inconsistent producer fields", ErrInvalidRecord)
	// ErrBatchCount: a produce request's partition data is not exactly one batch.
	ErrBatchCount = fmt.Errorf("%w: expected exactly one record batch", ErrInvalidRecord)
)

// Batch is a view of one whole RecordBatch v2 held in a byte slice: header and records,
// exactly len(b) == LogOverhead + BatchLength(). It never copies; accessors read the header in
// place and setters write it in place. Construct one with Parse, or slice a header read from
// a file with BatchSize: a Batch of only HeaderSize bytes supports every header accessor but
// not Records, ComputeCRC or the setters that recompute the CRC.
type Batch []byte

// Header accessors. They assume len(b) >= HeaderSize, which Parse guarantees.

func (b Batch) BaseOffset() int64  { return int64(binary.BigEndian.Uint64(b[offBaseOffset:])) }
func (b Batch) BatchLength() int32 { return int32(binary.BigEndian.Uint32(b[offBatchLength:])) }
func (b Batch) PartitionLeaderEpoch() int32 {
	return int32(binary.BigEndian.Uint32(b[offPartitionLeaderEpoch:]))
}
func (b Batch) Magic() int8            { return int8(b[offMagic]) }
func (b Batch) CRC() uint32            { return binary.BigEndian.Uint32(b[offCRC:]) }
func (b Batch) Attributes() int16      { return int16(binary.BigEndian.Uint16(b[offAttributes:])) }
func (b Batch) LastOffsetDelta() int32 { return int32(binary.BigEndian.Uint32(b[offLastOffsetDelta:])) }
func (b Batch) BaseTimestamp() int64   { return int64(binary.BigEndian.Uint64(b[offBaseTimestamp:])) }
func (b Batch) MaxTimestamp() int64    { return int64(binary.BigEndian.Uint64(b[offMaxTimestamp:])) }
func (b Batch) ProducerID() int64      { return int64(binary.BigEndian.Uint64(b[offProducerID:])) }
func (b Batch) ProducerEpoch() int16   { return int16(binary.BigEndian.Uint16(b[offProducerEpoch:])) }
func (b Batch) BaseSequence() int32    { return int32(binary.BigEndian.Uint32(b[offBaseSequence:])) }
func (b Batch) RecordCount() int32     { return int32(binary.BigEndian.Uint32(b[offRecordCount:])) }

// LastOffset is the offset of the batch's last record (BaseOffset + LastOffsetDelta).
func (b Batch) LastOffset() int64 { return b.BaseOffset() + int64(b.LastOffsetDelta()) }

// NextOffset is the offset that follows this batch.
func (b Batch) NextOffset() int64 { return b.LastOffset() + 1 }

// LastSequence is the sequence number of the batch's last record, wrapping at MaxInt32 as
// Kafka does; -1 when the batch carries no sequence.
func (b Batch) LastSequence() int32 {
	base := b.BaseSequence()
	if base < 0 {
		return -1
	}
	return IncrementSequence(base, b.LastOffsetDelta())
}

// IncrementSequence adds delta to a producer sequence, wrapping past MaxInt32 to 0 as Kafka does.
func IncrementSequence(seq, delta int32) int32 {
	if seq > int32(^uint32(0)>>1)-delta {
		return delta - (int32(^uint32(0)>>1) - seq) - 1
	}
	return seq + delta
}

// Records returns the bytes after the header: the (possibly compressed) records.
func (b Batch) Records() []byte { return b[HeaderSize:] }

func (b Batch) Compression() Compression { return Compression(b.Attributes() & attrCompressionMask) }

// LogAppendTime reports whether the timestamp type bit says LogAppendTime (else CreateTime).
func (b Batch) LogAppendTime() bool   { return b.Attributes()&attrTimestampType != 0 }
func (b Batch) IsTransactional() bool { return b.Attributes()&attrTransactional != 0 }
func (b Batch) IsControl() bool       { return b.Attributes()&attrControl != 0 }

// HasDeleteHorizon reports whether BaseTimestamp holds the compaction delete horizon (KIP-534).
func (b Batch) HasDeleteHorizon() bool { return b.Attributes()&attrDeleteHorizonSet != 0 }

// HasProducerID reports whether the batch was written by an idempotent or transactional producer.
func (b Batch) HasProducerID() bool { return b.ProducerID() >= 0 }

// SetBaseOffset writes the base offset in place. The field lies outside the CRC.
func (b Batch) SetBaseOffset(off int64) {
	binary.BigEndian.PutUint64(b[offBaseOffset:], uint64(off))
}

// SetPartitionLeaderEpoch writes the partition leader epoch in place. The field lies outside
// the CRC.
func (b Batch) SetPartitionLeaderEpoch(epoch int32) {
	binary.BigEndian.PutUint32(b[offPartitionLeaderEpoch:], uint32(epoch))
}

// SetLogAppendTime sets the timestamp type to LogAppendTime and the max timestamp to ts, then
// recomputes the CRC, as Kafka's broker does for topics with message.timestamp.type=LogAppendTime.
// The base timestamp is left unchanged, as in Kafka: readers take MaxTimestamp for every record
// of a LogAppendTime batch.
func (b Batch) SetLogAppendTime(ts int64) {
	attrs := b.Attributes() | attrTimestampType
	binary.BigEndian.PutUint16(b[offAttributes:], uint16(attrs))
	binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(ts))
	b.UpdateCRC()
}

// SetCreateTime sets the timestamp type to CreateTime and the max timestamp to ts, and
// recomputes the CRC only if either changed. Kafka's broker does this on produce for
// CreateTime topics: the stored MaxTimestamp is the largest record timestamp it validated
// (ProduceInfo.MaxTimestamp), whatever the producer wrote.
func (b Batch) SetCreateTime(ts int64) {
	if !b.LogAppendTime() && b.MaxTimestamp() == ts {
		return
	}
	attrs := b.Attributes() &^ attrTimestampType
	binary.BigEndian.PutUint16(b[offAttributes:], uint16(attrs))
	binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(ts))
	b.UpdateCRC()
}

// UpdateCRC recomputes the CRC32C over attributes..end and stores it.
func (b Batch) UpdateCRC() {
	binary.BigEndian.PutUint32(b[offCRC:], ComputeCRC(b))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ComputeCRC returns the CRC32C of the batch from its attributes to its end. Go's crc32 uses
// the SSE4.2/ARMv8 CRC instructions for the Castagnoli polynomial when the CPU has them.
func ComputeCRC(b Batch) uint32 { return crc32.Checksum(b[offAttributes:], castagnoli) }

// BatchSize reads the total size in bytes (LogOverhead + batch length) of the batch that
// starts at buf[0], looking only at the first LogOverhead bytes. It returns ErrShortBatch when
// buf is shorter than LogOverhead, and ErrCorrupt when the length field is below the minimum
// header size or would overflow. It does not check that buf holds the whole batch.
func BatchSize(buf []byte) (int, error) {
	if len(buf) < LogOverhead {
		return 0, ErrShortBatch
	}
	n := int32(binary.BigEndian.Uint32(buf[offBatchLength:]))
	if n < HeaderSize-LogOverhead {
		return 0, fmt.Errorf("%w: batch length %d below header size", ErrCorrupt, n)
	}
	// Only a 32-bit int can overflow here; the check is free on 64-bit platforms.
	if uint64(n) > uint64(math.MaxInt-LogOverhead) {
		return 0, fmt.Errorf("%w: batch length %d overflows int", ErrCorrupt, n)
	}
	return LogOverhead + int(n), nil
}

// Parse returns a view of the first batch in buf and the bytes after it. It checks the
// structure (whole batch present, magic 2, record count and offset delta consistent, known
// codec) and the CRC. maxSizeBytes bounds the batch's total size; 0 means no limit beyond buf.
//
// Parse never allocates and never reads past the batch length it validated.
func Parse(buf []byte, maxSizeBytes int) (Batch, []byte, error) {
	// Every message format keeps its magic byte at offset 16, so a v0/v1 message set is
	// reported as ErrMagic even when its (smaller) length would fail the v2 size check.
	if len(buf) > offMagic && buf[offMagic] != Magic {
		return nil, buf, fmt.Errorf("%w: magic %d", ErrMagic, int8(buf[offMagic]))
	}
	size, err := BatchSize(buf)
	if err != nil {
		return nil, buf, err
	}
	if maxSizeBytes > 0 && size > maxSizeBytes {
		return nil, buf, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, maxSizeBytes)
	}
	if len(buf) < HeaderSize || len(buf) < size {
		return nil, buf, fmt.Errorf("%w: need %d bytes, have %d", ErrShortBatch, size, len(buf))
	}
	b := Batch(buf[:size:size])
	if err := b.validateHeader(); err != nil {
		return nil, buf, err
	}
	if got, want := ComputeCRC(b), b.CRC(); got != want {
		return nil, buf, fmt.Errorf("%w: crc32c %08x, header says %08x", ErrCorrupt, got, want)
	}
	return b, buf[size:], nil
}

// ParseSingle parses buf as exactly one batch, as the partition data of a produce request
// (v3+) must be: Kafka rejects requests with no batch or more than one. Trailing bytes after
// the batch, even a partial batch, are ErrBatchCount.
func ParseSingle(buf []byte, maxSizeBytes int) (Batch, error) {
	b, rest, err := Parse(buf, maxSizeBytes)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the first batch", ErrBatchCount, len(rest))
	}
	return b, nil
}

// validateHeader checks everything about the header that does not need the records.
func (b Batch) validateHeader() error {
	if m := b.Magic(); m != Magic {
		return fmt.Errorf("%w: magic %d", ErrMagic, m)
	}
	if c := b.Compression(); c > CompressionZstd {
		return fmt.Errorf("%w: codec %d", ErrCompression, int8(c))
	}
	count, delta := b.RecordCount(), b.LastOffsetDelta()
	if count < 0 || delta < 0 {
		return fmt.Errorf("%w: record count %d, last offset delta %d", ErrCorrupt, count, delta)
	}
	// Every record is at least 7 bytes uncompressed; a count larger than the record bytes
	// could hold is a lie unless the batch is compressed, and even then a count cannot exceed
	// the offset span (records have distinct, increasing offset deltas).
	if count > 0 && int64(delta) < int64(count)-1 {
		return fmt.Errorf("%w: %d records in an offset span of %d", ErrCorrupt, count, int64(delta)+1)
	}
	if b.Compression() == CompressionNone && int64(count)*minRecordSize > int64(len(b.Records())) {
		return fmt.Errorf("%w: %d records in %d bytes", ErrCorrupt, count, len(b.Records()))
	}
	return nil
}

// minRecordSize is the smallest encoding of one record: length (1), attributes (1),
// timestamp delta (1), offset delta (1), key length (1), value length (1), header count (1).
const minRecordSize = 7

// ValidateProducer checks the producer fields the way Kafka's broker does on produce:
// a transactional batch must carry a producer id, and a batch with a producer id must carry
// a base sequence (control batches excepted: transaction markers have none). A sequence
// without a producer id is tolerated, as Kafka does. It does not check sequences against
// producer state; the replica does.
func (b Batch) ValidateProducer() error {
	if b.IsTransactional() && !b.HasProducerID() {
		return fmt.Errorf("%w: transactional batch without producer id", ErrSequence)
	}
	if b.HasProducerID() && b.BaseSequence() < 0 && !b.IsControl() {
		return fmt.Errorf("%w: producer id %d with base sequence %d", ErrSequence, b.ProducerID(), b.BaseSequence())
	}
	return nil
}

// String is for logs and debugging.
func (b Batch) String() string {
	if len(b) < HeaderSize {
		return fmt.Sprintf("record.Batch(%d bytes, short)", len(b))
	}
	return fmt.Sprintf("batch{offsets %d..%d, %d records, %s, %d bytes, epoch %d, pid %d/%d seq %d}",
		b.BaseOffset(), b.LastOffset(), b.RecordCount(), b.Compression(), len(b),
		b.PartitionLeaderEpoch(), b.ProducerID(), b.ProducerEpoch(), b.BaseSequence())
}
