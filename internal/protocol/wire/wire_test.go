package wire

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestPrimitivesRoundTrip(t *testing.T) {
	w := NewWriter(nil)
	s := "héllo"
	w.Int8(-5)
	w.Bool(true)
	w.Int16(-300)
	w.Uint16(65000)
	w.Int32(math.MinInt32)
	w.Uint32(math.MaxUint32)
	w.Int64(math.MinInt64)
	w.Float64(3.25)
	w.UUID(UUID{1, 2, 3})
	w.Uvarint(math.MaxUint32)
	w.Varint(math.MinInt32)
	w.Varlong(math.MinInt64)
	w.String(s, false)
	w.String(s, true)
	w.NullableString(nil, false)
	w.NullableString(nil, true)
	w.Bytes([]byte{9, 8}, false)
	w.Bytes(nil, true)
	w.NullableBytes(nil, true)
	w.ArrayLen(-1, false)
	w.ArrayLen(2, true)
	w.Records(RecordBytes([]byte("batch")), true)
	w.Records(RecordSet{}, false)
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
	r := NewReader(w.Buffer())
	check := func(name string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	check("int8", r.Int8(), int8(-5))
	check("bool", r.Bool(), true)
	check("int16", r.Int16(), int16(-300))
	check("uint16", r.Uint16(), uint16(65000))
	check("int32", r.Int32(), int32(math.MinInt32))
	check("uint32", r.Uint32(), uint32(math.MaxUint32))
	check("int64", r.Int64(), int64(math.MinInt64))
	check("float64", r.Float64(), 3.25)
	check("uuid", r.UUID(), UUID{1, 2, 3})
	check("uvarint", r.Uvarint(), uint32(math.MaxUint32))
	check("varint", r.Varint(), int32(math.MinInt32))
	check("varlong", r.Varlong(), int64(math.MinInt64))
	check("string", r.String(false), s)
	check("compact string", r.String(true), s)
	check("null string", r.NullableString(false, true) == nil, true)
	check("null compact string", r.NullableString(true, true) == nil, true)
	check("bytes", string(r.Bytes(false)), "\x09\x08")
	if b := r.Bytes(true); b == nil || len(b) != 0 {
		t.Errorf("empty compact bytes: got %v, want non-nil empty", b)
	}
	check("null bytes", r.NullableBytes(true, true) == nil, true)
	check("null array", r.ArrayLen(false, true, 1), -1)
	// Two elements are claimed but the rest of the input must still hold them: it does.
	check("compact array", r.ArrayLen(true, false, 1), 2)
	rs := r.Records(true, true)
	b, ok := rs.Bytes()
	check("records", string(b), "batch")
	check("records contiguous", ok, true)
	check("null records", r.Records(false, true).IsNull(), true)
	if err := r.Complete(); err != nil {
		t.Fatal(err)
	}
}

func TestNullRejectedWhereNotNullable(t *testing.T) {
	for name, in := range map[string][]byte{
		"string":  {0xff, 0xff},
		"compact": {0x00},
	} {
		r := NewReader(in)
		if name == "string" {
			r.String(false)
		} else {
			r.String(true)
		}
		if !errors.Is(r.Err(), ErrNullNotAllowed) {
			t.Errorf("%s: got %v, want ErrNullNotAllowed", name, r.Err())
		}
	}
	r := NewReader([]byte{0xff, 0xff, 0xff, 0xff})
	r.ArrayLen(false, false, 1)
	if !errors.Is(r.Err(), ErrNullNotAllowed) {
		t.Errorf("array: got %v", r.Err())
	}
}

func TestVarintBounds(t *testing.T) {
	for _, in := range [][]byte{
		{0xff, 0xff, 0xff, 0xff, 0x10}, // 33 bits
		{0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		r := NewReader(in)
		r.Uvarint()
		if !errors.Is(r.Err(), ErrVarintOverflow) {
			t.Errorf("%x: got %v, want overflow", in, r.Err())
		}
	}
	r := NewReader(bytes.Repeat([]byte{0xff}, 11))
	r.Varlong()
	if !errors.Is(r.Err(), ErrVarintOverflow) {
		t.Errorf("varlong: got %v", r.Err())
	}
	r = NewReader([]byte{0x80})
	r.Uvarint()
	if !errors.Is(r.Err(), ErrShortBuffer) {
		t.Errorf("truncated: got %v", r.Err())
	}
}

func TestStickyErrors(t *testing.T) {
	r := NewReader([]byte{1})
	if r.Int32() != 0 || r.Err() == nil {
		t.Fatal("short int32 must fail")
	}
	first := r.Err()
	r.Int8()
	if r.Err() != first {
		t.Fatal("later reads must keep the first error")
	}
}

func TestTaggedFields(t *testing.T) {
	w := NewWriter(nil)
	tw := w.Tags(1, Tags{{Tag: 9, Data: []byte{7}}, {Tag: 1, Data: []byte{5, 5}}})
	tw.Before(3)
	start := w.BeginTag()
	w.Int32(42)
	w.EndTag(3, start)
	tw.Finish()
	want := []byte{3, 1, 2, 5, 5, 3, 4, 0, 0, 0, 42, 9, 1, 7}
	if !bytes.Equal(w.Buffer(), want) {
		t.Fatalf("got %x, want %x (unknown tags merged in tag order)", w.Buffer(), want)
	}
	r := NewReader(want)
	if n := r.TagCount(); n != 3 {
		t.Fatalf("count %d", n)
	}
	tag, sub := r.TaggedField()
	if tag != 1 || sub.Remaining() != 2 {
		t.Fatalf("tag %d size %d", tag, sub.Remaining())
	}
	tag, sub = r.TaggedField()
	if v := sub.Int16(); tag != 3 || v != 0 {
		t.Fatalf("tag %d value %d", tag, v)
	}
	r.TaggedDone(tag, &sub) // two bytes left unread
	if !errors.Is(r.Err(), ErrTaggedField) {
		t.Fatalf("short read of a known tag: got %v", r.Err())
	}
}

func TestEncodeLimits(t *testing.T) {
	w := NewWriter(nil)
	w.String(string(make([]byte, math.MaxInt16+1)), false)
	if !errors.Is(w.Err(), ErrTooLong) {
		t.Fatalf("got %v, want ErrTooLong", w.Err())
	}
}
