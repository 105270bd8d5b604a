package record

import "fmt"

// Record is one record of a batch's (uncompressed) records section. Key, Value and the
// header bytes are sub-slices of the section it was read from: nothing is copied, and they
// are valid only as long as that section is. A nil Key or Value is Kafka's null; an empty
// non-nil one is a zero-length value.
type Record struct {
	// Attributes is unused by Kafka (always 0) and kept for verbatim rewriting.
	Attributes     int8
	TimestampDelta int64
	OffsetDelta    int32
	Key            []byte
	Value          []byte
	Headers        Headers
	// Raw is the whole encoded record, its length prefix included, so that compaction can
	// copy a kept record without re-encoding it.
	Raw []byte
}

// Offset is the record's offset in the log: the batch's base offset plus the delta.
func (r *Record) Offset(b Batch) int64 { return b.BaseOffset() + int64(r.OffsetDelta) }

// Timestamp is the record's timestamp as consumers see it: the batch's MaxTimestamp for a
// LogAppendTime batch (the broker overwrote the producer's times), otherwise its create
// time, BaseTimestamp plus the delta. With a delete horizon set (KIP-534), the base
// timestamp is the horizon and the deltas were written relative to it, so the sum still is
// the create time.
func (r *Record) Timestamp(b Batch) int64 {
	if b.LogAppendTime() {
		return b.MaxTimestamp()
	}
	return b.BaseTimestamp() + r.TimestampDelta
}

// Sequence is the producer sequence of the record, or -1 when the batch carries none.
func (r *Record) Sequence(b Batch) int32 {
	base := b.BaseSequence()
	if base < 0 {
		return -1
	}
	return IncrementSequence(base, r.OffsetDelta)
}

// Header is one record header. Key is never nil for a header read from a batch (Kafka header
// keys are non-null strings); a nil Value is null.
type Header struct {
	Key   []byte
	Value []byte
}

// Headers are the encoded headers of one record, already validated when the record was read,
// so iterating them cannot fail.
type Headers struct {
	raw   []byte
	count int
}

// Len is the number of headers.
func (h Headers) Len() int { return h.count }

// Raw is the encoded headers without their count: a sequence of (key length, key, value
// length, value).
func (h Headers) Raw() []byte { return h.raw }

// Iter returns an iterator over the headers. It allocates nothing.
func (h Headers) Iter() HeaderIter { return HeaderIter{raw: h.raw, left: h.count} }

// HeaderIter walks the headers of a record:
//
//	it := r.Headers.Iter()
//	for h, ok := it.Next(); ok; h, ok = it.Next() { … }
type HeaderIter struct {
	raw  []byte
	pos  int
	left int
}

// Next returns the next header, or false when there are no more.
func (it *HeaderIter) Next() (Header, bool) {
	if it.left <= 0 {
		return Header{}, false
	}
	h, pos, ok := readHeader(it.raw, it.pos)
	if !ok {
		// Unreachable for headers that came from a RecordIter, which validated them.
		it.left = 0
		return Header{}, false
	}
	it.pos = pos
	it.left--
	return h, true
}

// readHeader decodes one header at b[i:].
func readHeader(b []byte, i int) (Header, int, bool) {
	var h Header
	kl, i, ok := readVarint32(b, i)
	// A header key is a non-null string; Kafka rejects a negative key length.
	if !ok || kl < 0 || int(kl) > len(b)-i {
		return h, i, false
	}
	h.Key = b[i : i+int(kl) : i+int(kl)]
	i += int(kl)
	vl, i, ok := readVarint32(b, i)
	if !ok {
		return h, i, false
	}
	if vl >= 0 {
		if int(vl) > len(b)-i {
			return h, i, false
		}
		h.Value = b[i : i+int(vl) : i+int(vl)]
		i += int(vl)
	}
	return h, i, true
}

// minRecordBodySize is the smallest record body after its length prefix: attributes,
// timestamp delta, offset delta, key length, value length and header count, one byte each.
const minRecordBodySize = minRecordSize - 1

// RecordIter reads the records of an uncompressed records section one by one, checking
// every varint and length against the bytes that remain. It allocates nothing:
//
//	it := record.NewRecordIter(records, b.RecordCount())
//	for it.Next() {
//		r := it.Record()
//		…
//	}
//	if err := it.Err(); err != nil { … }
//
// The count must match the records present exactly: fewer records than the count, or bytes
// left over after the last one, is ErrCorrupt.
type RecordIter struct {
	buf   []byte
	pos   int
	left  int32
	index int
	rec   Record
	err   error
}

// NewRecordIter returns an iterator over count records encoded in records (the output of
// Decompress, or Batch.Records for an uncompressed batch).
func NewRecordIter(records []byte, count int32) RecordIter {
	it := RecordIter{buf: records, left: count, index: -1}
	if count < 0 {
		it.err = fmt.Errorf("%w: negative record count %d", ErrCorrupt, count)
		it.left = 0
	}
	return it
}

// Next reads the next record. It returns false at the end or on the first error.
func (it *RecordIter) Next() bool {
	if it.err != nil {
		return false
	}
	if it.left == 0 {
		if it.pos != len(it.buf) {
			it.err = fmt.Errorf("%w: %d bytes after the last record", ErrCorrupt, len(it.buf)-it.pos)
		}
		return false
	}
	if it.pos >= len(it.buf) {
		it.err = fmt.Errorf("%w: records section ends with %d records missing", ErrCorrupt, it.left)
		return false
	}
	next, ok := parseRecord(it.buf, it.pos, &it.rec)
	if !ok {
		it.err = fmt.Errorf("%w: record %d at byte %d is malformed", ErrCorrupt, it.index+1, it.pos)
		return false
	}
	it.pos = next
	it.left--
	it.index++
	return true
}

// Record is the record Next read. It stays valid until the next call to Next.
func (it *RecordIter) Record() *Record { return &it.rec }

// Index is the position of the current record in the batch, from 0 (Kafka's batch_index).
func (it *RecordIter) Index() int { return it.index }

// Err is the error that stopped the iteration, or nil if it reached the end cleanly.
func (it *RecordIter) Err() error { return it.err }

// parseRecord decodes the record at b[start:] into r and returns the position after it.
func parseRecord(b []byte, start int, r *Record) (int, bool) {
	size, i, ok := readVarint32(b, start)
	if !ok || size < minRecordBodySize || int(size) > len(b)-i {
		return 0, false
	}
	end := i + int(size)
	body := b[:end] // every read below stays inside this record
	r.Raw = b[start:end:end]
	r.Attributes = int8(body[i])
	i++
	if r.TimestampDelta, i, ok = readVarint64(body, i); !ok {
		return 0, false
	}
	if r.OffsetDelta, i, ok = readVarint32(body, i); !ok {
		return 0, false
	}
	if r.Key, i, ok = readNullableBytes(body, i); !ok {
		return 0, false
	}
	if r.Value, i, ok = readNullableBytes(body, i); !ok {
		return 0, false
	}
	n, i, ok := readVarint32(body, i)
	// Every header takes at least two bytes; the bound keeps a lying count from looping.
	if !ok || n < 0 || int(n) > (end-i)/2 {
		return 0, false
	}
	hstart := i
	for range n {
		if _, i, ok = readHeader(body, i); !ok {
			return 0, false
		}
	}
	if i != end {
		return 0, false
	}
	r.Headers = Headers{raw: body[hstart:end:end], count: int(n)}
	return end, true
}

// readNullableBytes reads a varint-length-prefixed byte string. Like Kafka, any negative
// length means null.
func readNullableBytes(b []byte, i int) ([]byte, int, bool) {
	n, i, ok := readVarint32(b, i)
	if !ok {
		return nil, i, false
	}
	if n < 0 {
		return nil, i, true
	}
	if int(n) > len(b)-i {
		return nil, i, false
	}
	return b[i : i+int(n) : i+int(n)], i + int(n), true
}
