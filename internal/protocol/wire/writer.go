package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Writer encodes Kafka primitives by appending to a buffer. A records field that holds file
// regions is not copied: the writer remembers where each region splices into the buffer,
// and Output describes the result as chunks (buffer spans and file regions) with a known
// total size. Encoding errors are sticky, like Reader's.
type Writer struct {
	buf     []byte
	regions []splice
	err     error
}

// splice is a file region that goes out after buf[:at].
type splice struct {
	at     int
	region FileRegion
}

// NewWriter returns a Writer that appends to buf[:0].
func NewWriter(buf []byte) *Writer { return &Writer{buf: buf[:0]} }

// Reset empties w, keeping its buffer's capacity.
func (w *Writer) Reset() {
	w.buf = w.buf[:0]
	w.regions = w.regions[:0]
	w.err = nil
}

// Err returns the first encoding failure, or nil.
func (w *Writer) Err() error { return w.err }

// Fail records err unless an earlier error is recorded.
func (w *Writer) Fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// Buffer returns the in-memory bytes written so far. When file regions were spliced in it is
// not the whole output; use Output.
func (w *Writer) Buffer() []byte { return w.buf }

// HasFileRegions reports whether the output includes file regions.
func (w *Writer) HasFileRegions() bool { return len(w.regions) > 0 }

// Len is the total output size, file regions included.
func (w *Writer) Len() int64 { return int64(len(w.buf)) + w.fileBytesFrom(0) }

func (w *Writer) fileBytesFrom(at int) int64 {
	var n int64
	for _, s := range w.regions {
		if s.at >= at {
			n += s.region.Length
		}
	}
	return n
}

// Output returns the encoded output as chunks in order. The chunks alias w's buffer: they
// are valid until w is next written or reset.
func (w *Writer) Output() Output {
	out := Output{Size: w.Len(), Chunks: make([]Chunk, 0, 2*len(w.regions)+1)}
	prev := 0
	for _, s := range w.regions {
		if s.at > prev {
			out.Chunks = append(out.Chunks, Chunk{Bytes: w.buf[prev:s.at]})
		}
		if s.region.Length > 0 {
			out.Chunks = append(out.Chunks, Chunk{Region: s.region})
		}
		prev = s.at
	}
	if prev < len(w.buf) || len(out.Chunks) == 0 {
		out.Chunks = append(out.Chunks, Chunk{Bytes: w.buf[prev:]})
	}
	return out
}

// Raw appends b as is.
func (w *Writer) Raw(b []byte) { w.buf = append(w.buf, b...) }

// Int8 appends a signed byte.
func (w *Writer) Int8(v int8) { w.buf = append(w.buf, byte(v)) }

// Bool appends 1 or 0.
func (w *Writer) Bool(v bool) {
	if v {
		w.buf = append(w.buf, 1)
	} else {
		w.buf = append(w.buf, 0)
	}
}

// Int16 appends a big-endian int16.
func (w *Writer) Int16(v int16) { w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(v)) }

// Uint16 appends a big-endian uint16.
func (w *Writer) Uint16(v uint16) { w.buf = binary.BigEndian.AppendUint16(w.buf, v) }

// Int32 appends a big-endian int32.
func (w *Writer) Int32(v int32) { w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(v)) }

// Uint32 appends a big-endian uint32.
func (w *Writer) Uint32(v uint32) { w.buf = binary.BigEndian.AppendUint32(w.buf, v) }

// Int64 appends a big-endian int64.
func (w *Writer) Int64(v int64) { w.buf = binary.BigEndian.AppendUint64(w.buf, uint64(v)) }

// Float64 appends a big-endian IEEE 754 double.
func (w *Writer) Float64(v float64) { w.Int64(int64(math.Float64bits(v))) }

// UUID appends 16 raw bytes.
func (w *Writer) UUID(v UUID) { w.buf = append(w.buf, v[:]...) }

// Uvarint appends an unsigned varint.
func (w *Writer) Uvarint(v uint32) { w.buf = binary.AppendUvarint(w.buf, uint64(v)) }

// Varint appends a zig-zag signed varint.
func (w *Writer) Varint(v int32) { w.Uvarint(uint32(v<<1) ^ uint32(v>>31)) }

// Uvarlong appends an unsigned 64-bit varint.
func (w *Writer) Uvarlong(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }

// Varlong appends a zig-zag signed 64-bit varint.
func (w *Writer) Varlong(v int64) { w.Uvarlong(uint64(v<<1) ^ uint64(v>>63)) }

// length appends a length prefix (n >= 0) or the null marker (n == -1).
func (w *Writer) length(n int, compact, wide bool) {
	switch {
	case compact:
		if n >= math.MaxUint32 {
			w.Fail(fmt.Errorf("%w: %d", ErrTooLong, n))
			return
		}
		w.Uvarint(uint32(n + 1))
	case wide:
		if n > math.MaxInt32 {
			w.Fail(fmt.Errorf("%w: %d", ErrTooLong, n))
			return
		}
		w.Int32(int32(n))
	default:
		if n > math.MaxInt16 {
			w.Fail(fmt.Errorf("%w: string of %d bytes", ErrTooLong, n))
			return
		}
		w.Int16(int16(n))
	}
}

// String appends a non-null string.
func (w *Writer) String(s string, compact bool) {
	w.length(len(s), compact, false)
	w.buf = append(w.buf, s...)
}

// NullableString appends s, or null when s is nil.
func (w *Writer) NullableString(s *string, compact bool) {
	if s == nil {
		w.length(-1, compact, false)
		return
	}
	w.String(*s, compact)
}

// Bytes appends a byte string; nil is written as empty.
func (w *Writer) Bytes(b []byte, compact bool) {
	w.length(len(b), compact, true)
	w.buf = append(w.buf, b...)
}

// NullableBytes appends b, or null when b is nil.
func (w *Writer) NullableBytes(b []byte, compact bool) {
	if b == nil {
		w.length(-1, compact, true)
		return
	}
	w.Bytes(b, compact)
}

// ArrayLen appends an array length; -1 writes null.
func (w *Writer) ArrayLen(n int, compact bool) { w.length(n, compact, true) }

// Records appends a records field. In-memory parts are copied into the buffer; file regions
// are spliced in by reference.
func (w *Writer) Records(s RecordSet, compact bool) {
	if s.IsNull() {
		w.length(-1, compact, true)
		return
	}
	n := s.Len()
	if n > math.MaxInt32 {
		w.Fail(fmt.Errorf("%w: records of %d bytes", ErrTooLong, n))
		return
	}
	w.length(int(n), compact, true)
	if s.chunks == nil {
		w.buf = append(w.buf, s.contig...)
		return
	}
	for _, c := range s.chunks {
		if c.Region.File == nil {
			w.buf = append(w.buf, c.Bytes...)
			continue
		}
		if c.Region.Length < 0 || c.Region.Offset < 0 {
			w.Fail(fmt.Errorf("%w: file region at %d of %d bytes", ErrInvalidLength, c.Region.Offset, c.Region.Length))
			return
		}
		w.regions = append(w.regions, splice{at: len(w.buf), region: c.Region})
	}
}

// BeginSize reserves an int32 size prefix and returns its position for EndSize.
func (w *Writer) BeginSize() int {
	at := len(w.buf)
	w.buf = append(w.buf, 0, 0, 0, 0)
	return at
}

// EndSize fills the size prefix reserved at at with the number of bytes written after it,
// file regions included.
func (w *Writer) EndSize(at int) {
	n := int64(len(w.buf)-at-4) + w.fileBytesFrom(at+4)
	if n > math.MaxInt32 {
		w.Fail(fmt.Errorf("%w: frame of %d bytes", ErrTooLong, n))
		return
	}
	binary.BigEndian.PutUint32(w.buf[at:], uint32(n))
}

// TagCount appends the number of tagged fields that follow.
func (w *Writer) TagCount(n int) { w.Uvarint(uint32(n)) }

// BeginTag starts a known tagged field; encode its payload, then call EndTag with the
// returned position. The tag and size prefixes are inserted in front of the payload once
// its size is known (payloads are small, so the shift is cheap).
func (w *Writer) BeginTag() int { return len(w.buf) }

// EndTag inserts the tag and payload size in front of the payload that started at start.
func (w *Writer) EndTag(tag uint32, start int) {
	var hdr [10]byte
	size := len(w.buf) - start
	h := binary.AppendUvarint(hdr[:0], uint64(tag))
	h = binary.AppendUvarint(h, uint64(size))
	w.buf = slices.Insert(w.buf, start, h...)
	for i := range w.regions {
		if w.regions[i].at >= start {
			w.regions[i].at += len(h)
		}
	}
}

// UnknownTag appends an unknown tagged field as it was read.
func (w *Writer) UnknownTag(f TaggedField) {
	w.Uvarint(f.Tag)
	w.Uvarint(uint32(len(f.Data)))
	w.buf = append(w.buf, f.Data...)
}

// TagWriter merges a struct's unknown tagged fields into the ascending sequence of its
// known ones. Generated encoders call Before(tag) ahead of each known tag and Finish at the
// end of the section.
type TagWriter struct {
	w       *Writer
	unknown Tags
	next    int
}

// Tags starts a tagged-field section holding known known fields plus the unknown ones and
// writes its count.
func (w *Writer) Tags(known int, unknown Tags) TagWriter {
	w.TagCount(known + len(unknown))
	return TagWriter{w: w, unknown: unknown.sorted()}
}

// Before writes the unknown fields whose tags sort before tag.
func (t *TagWriter) Before(tag uint32) {
	for t.next < len(t.unknown) && t.unknown[t.next].Tag < tag {
		t.w.UnknownTag(t.unknown[t.next])
		t.next++
	}
}

// Finish writes the remaining unknown fields.
func (t *TagWriter) Finish() {
	for ; t.next < len(t.unknown); t.next++ {
		t.w.UnknownTag(t.unknown[t.next])
	}
}
