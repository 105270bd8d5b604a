package wire

import (
	"errors"
	"runtime"
	"testing"
	"time"
)

// hostile runs decode on in and asserts it fails with want quickly and without allocating
// anything proportional to what the input claims.
func hostile(t *testing.T, name string, in []byte, want error, decode func(r *Reader)) {
	t.Helper()
	start := time.Now()
	r := NewReader(in)
	decode(&r)
	if elapsed := time.Since(start); elapsed > 50*time.Millisecond {
		t.Errorf("%s: took %v", name, elapsed)
	}
	if !errors.Is(r.Err(), want) {
		t.Fatalf("%s: got %v, want %v", name, r.Err(), want)
	}
	allocs := testing.AllocsPerRun(100, func() {
		r := NewReader(in)
		decode(&r)
	})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const runs = 100
	for i := 0; i < runs; i++ {
		r := NewReader(in)
		decode(&r)
	}
	runtime.ReadMemStats(&after)
	perRun := (after.TotalAlloc - before.TotalAlloc) / runs
	if allocs > 8 || perRun > 1024 { // only the wrapped error value
		t.Errorf("%s: %.0f allocs, %d bytes per run", name, allocs, perRun)
	}
}

func TestHostileCounts(t *testing.T) {
	// 2^32-1 tagged fields claimed by a 5-byte uvarint, with one byte behind it.
	hostile(t, "tag count", []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0x00}, ErrInvalidLength, func(r *Reader) {
		for n := r.TagCount(); n > 0; n-- {
			r.TaggedField()
		}
	})
	// A tagged field claiming 2^32-1 bytes.
	hostile(t, "tag size", []byte{0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f}, ErrInvalidLength, func(r *Reader) {
		for n := r.TagCount(); n > 0; n-- {
			r.TaggedField()
		}
	})
	// Classic array of 2^31-1 elements, compact array of 2^31 elements.
	hostile(t, "array", []byte{0x7f, 0xff, 0xff, 0xff, 0, 0}, ErrInvalidLength, func(r *Reader) {
		if n := r.ArrayLen(false, false, 1); n > 0 {
			_ = make([]int64, n)
		}
	})
	hostile(t, "compact array", []byte{0x81, 0x80, 0x80, 0x80, 0x08, 0}, ErrInvalidLength, func(r *Reader) {
		if n := r.ArrayLen(true, false, 1); n > 0 {
			_ = make([]int64, n)
		}
	})
	// Each element needs 8 bytes: 2 elements in 15 bytes is a lie.
	hostile(t, "element size", append([]byte{0, 0, 0, 2}, make([]byte, 15)...), ErrInvalidLength, func(r *Reader) {
		r.ArrayLen(false, false, 8)
	})
	hostile(t, "string", []byte{0x7f, 0xff, 'a'}, ErrShortBuffer, func(r *Reader) { r.String(false) })
	hostile(t, "bytes", []byte{0x7f, 0xff, 0xff, 0xff, 'a'}, ErrShortBuffer, func(r *Reader) { r.Bytes(false) })
	hostile(t, "records", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, ErrShortBuffer, func(r *Reader) { r.Records(true, true) })
	hostile(t, "negative", []byte{0x80, 0, 0, 0}, ErrInvalidLength, func(r *Reader) { r.Bytes(false) })
}
