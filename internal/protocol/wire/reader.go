package wire

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Reader decodes Kafka primitives from a byte slice. The zero value reads nothing; use
// NewReader or Reset. Errors are sticky: once a read fails, every later read returns a zero
// value and Err returns the first failure.
type Reader struct {
	buf []byte
	off int
	err error
}

// NewReader returns a Reader over b. Decoded byte fields and records alias b.
func NewReader(b []byte) Reader { return Reader{buf: b} }

// Reset makes r read b from its start and clears any error.
func (r *Reader) Reset(b []byte) { *r = Reader{buf: b} }

// Err returns the first failure, or nil.
func (r *Reader) Err() error { return r.err }

// Remaining is the number of unread bytes.
func (r *Reader) Remaining() int { return len(r.buf) - r.off }

// Offset is the number of bytes consumed so far.
func (r *Reader) Offset() int { return r.off }

// Fail records err (wrapped with the current offset) unless an earlier error is recorded.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = fmt.Errorf("at offset %d: %w", r.off, err)
	}
}

// Complete returns Err, or ErrTrailingBytes if input remains unread.
func (r *Reader) Complete() error {
	if r.err != nil {
		return r.err
	}
	if n := r.Remaining(); n > 0 {
		return fmt.Errorf("%w: %d bytes at offset %d", ErrTrailingBytes, n, r.off)
	}
	return nil
}

// need reports whether n more bytes can be read, recording ErrShortBuffer if not.
func (r *Reader) need(n int) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || len(r.buf)-r.off < n {
		r.Fail(fmt.Errorf("%w: need %d bytes, %d remain", ErrShortBuffer, n, len(r.buf)-r.off))
		return false
	}
	return true
}

// Span consumes and returns the next n bytes, aliasing the input.
func (r *Reader) Span(n int) []byte {
	if !r.need(n) {
		return nil
	}
	b := r.buf[r.off : r.off+n : r.off+n]
	r.off += n
	return b
}

// Int8 reads a signed byte.
func (r *Reader) Int8() int8 {
	if !r.need(1) {
		return 0
	}
	v := int8(r.buf[r.off])
	r.off++
	return v
}

// Bool reads a boolean; like Kafka, any non-zero byte is true.
func (r *Reader) Bool() bool { return r.Int8() != 0 }

// Int16 reads a big-endian int16.
func (r *Reader) Int16() int16 { return int16(r.Uint16()) }

// Uint16 reads a big-endian uint16.
func (r *Reader) Uint16() uint16 {
	if !r.need(2) {
		return 0
	}
	v := binary.BigEndian.Uint16(r.buf[r.off:])
	r.off += 2
	return v
}

// Int32 reads a big-endian int32.
func (r *Reader) Int32() int32 { return int32(r.Uint32()) }

// Uint32 reads a big-endian uint32.
func (r *Reader) Uint32() uint32 {
	if !r.need(4) {
		return 0
	}
	v := binary.BigEndian.Uint32(r.buf[r.off:])
	r.off += 4
	return v
}

// Int64 reads a big-endian int64.
func (r *Reader) Int64() int64 {
	if !r.need(8) {
		return 0
	}
	v := binary.BigEndian.Uint64(r.buf[r.off:])
	r.off += 8
	return int64(v)
}

// Float64 reads a big-endian IEEE 754 double.
func (r *Reader) Float64() float64 { return math.Float64frombits(uint64(r.Int64())) }

// UUID reads 16 raw bytes.
func (r *Reader) UUID() UUID {
	var u UUID
	if r.need(16) {
		copy(u[:], r.buf[r.off:])
		r.off += 16
	}
	return u
}

// Uvarint reads an unsigned varint of at most 32 bits (5 bytes), as Kafka defines it.
func (r *Reader) Uvarint() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		if !r.need(1) {
			return 0
		}
		b := r.buf[r.off]
		r.off++
		if shift == 28 && b > 0x0f {
			break // a fifth byte may only carry the top 4 bits
		}
		v |= uint32(b&0x7f) << shift
		if b < 0x80 {
			return v
		}
	}
	r.Fail(ErrVarintOverflow)
	return 0
}

// Varint reads a zig-zag signed varint of at most 32 bits.
func (r *Reader) Varint() int32 {
	u := r.Uvarint()
	return int32(u>>1) ^ -int32(u&1)
}

// Uvarlong reads an unsigned varint of at most 64 bits (10 bytes).
func (r *Reader) Uvarlong() uint64 {
	var v uint64
	for shift := 0; shift < 70; shift += 7 {
		if !r.need(1) {
			return 0
		}
		b := r.buf[r.off]
		r.off++
		if shift == 63 && b > 1 {
			break
		}
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v
		}
	}
	r.Fail(ErrVarintOverflow)
	return 0
}

// Varlong reads a zig-zag signed varint of at most 64 bits.
func (r *Reader) Varlong() int64 {
	u := r.Uvarlong()
	return int64(u>>1) ^ -int64(u&1)
}

// length reads a classic (int16 or int32) or compact (uvarint n+1) length prefix and
// returns -1 for null. The returned length is not yet checked against the input.
func (r *Reader) length(compact, wide bool) int {
	if compact {
		u := r.Uvarint()
		if r.err != nil {
			return 0
		}
		return int(u) - 1
	}
	var n int
	if wide {
		n = int(r.Int32())
	} else {
		n = int(r.Int16())
	}
	if r.err != nil {
		return 0
	}
	if n < -1 {
		r.Fail(fmt.Errorf("%w: %d", ErrInvalidLength, n))
		return 0
	}
	return n
}

// nullable turns a null length into ErrNullNotAllowed when null is not allowed.
func (r *Reader) checkNull(n int, nullable bool) bool {
	if n == -1 && !nullable {
		r.Fail(ErrNullNotAllowed)
		return false
	}
	return true
}

// String reads a non-null string (classic int16 length, or compact).
func (r *Reader) String(compact bool) string {
	n := r.length(compact, false)
	if !r.checkNull(n, false) {
		return ""
	}
	return string(r.Span(n))
}

// NullableString reads a string into a pointer; null (nil) is accepted only when
// nullable, so a field that became nullable in a later version reads strictly before it.
func (r *Reader) NullableString(compact, nullable bool) *string {
	n := r.length(compact, false)
	if r.err != nil || !r.checkNull(n, nullable) || n < 0 {
		return nil
	}
	b := r.Span(n)
	if r.err != nil {
		return nil
	}
	s := string(b)
	return &s
}

// Bytes reads a non-null byte string (classic int32 length, or compact); the result aliases
// the input and is non-nil even when empty.
func (r *Reader) Bytes(compact bool) []byte {
	n := r.length(compact, true)
	if !r.checkNull(n, false) {
		return nil
	}
	b := r.Span(n)
	if b == nil && r.err == nil {
		b = []byte{}
	}
	return b
}

// NullableBytes reads a byte string that may be null (nil, accepted only when nullable);
// a non-null empty value is non-nil.
func (r *Reader) NullableBytes(compact, nullable bool) []byte {
	n := r.length(compact, true)
	if r.err != nil || !r.checkNull(n, nullable) || n < 0 {
		return nil
	}
	b := r.Span(n)
	if b == nil && r.err == nil {
		b = []byte{}
	}
	return b
}

// ArrayLen reads an array length and returns -1 for null (only when nullable). The count
// is checked against the remaining input, assuming each element takes at least minElem
// bytes, so that a caller may allocate n elements immediately.
func (r *Reader) ArrayLen(compact, nullable bool, minElem int) int {
	n := r.length(compact, true)
	if r.err != nil || !r.checkNull(n, nullable) {
		return 0
	}
	if n < 0 {
		return -1
	}
	if minElem < 1 {
		minElem = 1
	}
	if n > r.Remaining()/minElem {
		r.Fail(fmt.Errorf("%w: %d elements of at least %d bytes, %d bytes remain", ErrInvalidLength, n, minElem, r.Remaining()))
		return 0
	}
	return n
}

// Records reads a records field (int32 or compact length). The result aliases the input.
func (r *Reader) Records(compact, nullable bool) RecordSet {
	n := r.length(compact, true)
	if r.err != nil || !r.checkNull(n, nullable) || n < 0 {
		return RecordSet{}
	}
	b := r.Span(n)
	if r.err != nil {
		return RecordSet{}
	}
	if b == nil {
		b = []byte{}
	}
	return RecordSet{contig: b}
}

// minTaggedField is the smallest encoding of one tagged field: a one-byte tag and a
// one-byte size.
const minTaggedField = 2

// TagCount reads the number of tagged fields, checked against the remaining input.
func (r *Reader) TagCount() int {
	u := r.Uvarint()
	if r.err != nil {
		return 0
	}
	if int64(u) > int64(r.Remaining()/minTaggedField) {
		r.Fail(fmt.Errorf("%w: %d tagged fields, %d bytes remain", ErrInvalidLength, u, r.Remaining()))
		return 0
	}
	return int(u)
}

// TaggedField reads one tagged field's tag and returns its payload as a sub-Reader; r
// advances past the payload. Decode the payload from sub and then call sub.Complete.
func (r *Reader) TaggedField() (tag uint32, sub Reader) {
	tag = r.Uvarint()
	size := r.Uvarint()
	if r.err != nil {
		return 0, Reader{err: r.err}
	}
	if int64(size) > int64(r.Remaining()) {
		r.Fail(fmt.Errorf("%w: tagged field %d of %d bytes, %d remain", ErrInvalidLength, tag, size, r.Remaining()))
		return 0, Reader{err: r.err}
	}
	return tag, Reader{buf: r.Span(int(size))}
}

// TaggedDone folds the outcome of decoding a known tagged field from sub back into r: the
// payload must decode without error and exactly fill its declared size.
func (r *Reader) TaggedDone(tag uint32, sub *Reader) {
	if err := sub.Complete(); err != nil && r.err == nil {
		r.err = fmt.Errorf("%w: tag %d before offset %d: %w", ErrTaggedField, tag, r.off, err)
	}
}
