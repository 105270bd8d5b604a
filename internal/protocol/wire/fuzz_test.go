package wire

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRecordSet decodes a records field (classic or compact) from arbitrary bytes, then
// re-encodes the set split into memory chunks and a file region, and checks that the
// output, flattened, is the same field again.
func FuzzRecordSet(f *testing.F) {
	f.Add(byte(0), []byte{0, 0, 0, 3, 1, 2, 3}, uint16(1))
	f.Add(byte(1), []byte{4, 1, 2, 3}, uint16(2))
	f.Add(byte(1), []byte{0}, uint16(0))
	f.Add(byte(0), []byte{0xff, 0xff, 0xff, 0xff}, uint16(0))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, mode byte, in []byte, split uint16) {
		compact := mode&1 == 1
		r := NewReader(in)
		rs := r.Records(compact, true)
		if r.Err() != nil {
			return
		}
		w := NewWriter(nil)
		w.Records(rs, compact)
		// The canonical re-encoding must decode to the same set (the input's length prefix
		// may be a non-canonical varint, so compare values, not input bytes).
		want := w.Buffer()
		back := NewReader(want)
		again := back.Records(compact, true)
		if err := back.Complete(); err != nil || again.IsNull() != rs.IsNull() || again.Len() != rs.Len() {
			t.Fatalf("re-encoding %x does not decode to the same set: %v", want, err)
		}
		if !rs.IsNull() {
			b, ok := rs.Bytes()
			if !ok || int64(len(b)) != rs.Len() {
				t.Fatal("decoded records must be one contiguous span")
			}
			if a, _ := again.Bytes(); !bytes.Equal(a, b) {
				t.Fatalf("records changed: %x, want %x", a, b)
			}
			// Put the tail of the set in a file and send it as a region.
			cut := int(split) % (len(b) + 1)
			path := filepath.Join(dir, "seg")
			if err := os.WriteFile(path, append([]byte("pad"), b[cut:]...), 0o644); err != nil {
				t.Fatal(err)
			}
			file, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			w2 := NewWriter(nil)
			w2.Records(RecordChunks([]Chunk{{Bytes: b[:cut]}, {Region: FileRegion{File: file, Offset: 3, Length: int64(len(b) - cut)}}}), compact)
			out := w2.Output()
			flat, err := out.AppendTo(nil)
			if err != nil || !bytes.Equal(flat, want) || out.Size != int64(len(want)) {
				t.Fatalf("chunked output %x (size %d), want %x: %v", flat, out.Size, want, err)
			}
			var sink bytes.Buffer
			if n, err := out.WriteTo(&sink); err != nil || n != out.Size || !bytes.Equal(sink.Bytes(), want) {
				t.Fatalf("WriteTo: %d %v", n, err)
			}
		}
	})
}

// FuzzReader runs a program of primitive reads, chosen by the first bytes, over the rest:
// nothing may panic, and a failed read must leave a sticky error.
func FuzzReader(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2})
	f.Add([]byte{7, 8, 9, 10, 11}, []byte{3, 'a', 'b', 0, 0, 0, 1, 9})
	f.Fuzz(func(t *testing.T, prog, in []byte) {
		r := NewReader(in)
		for _, op := range prog {
			switch op % 16 {
			case 0:
				for n := r.TagCount(); n > 0; n-- {
					_, sub := r.TaggedField()
					sub.Span(sub.Remaining())
				}
			case 1:
				r.Uvarint()
			case 2:
				r.Varlong()
			case 3:
				r.String(op&16 != 0)
			case 4:
				r.NullableString(op&16 != 0, true)
			case 5:
				r.Bytes(op&16 != 0)
			case 6:
				if n := r.ArrayLen(op&16 != 0, true, 1+int(op>>5)); n > 0 {
					_ = make([]int32, n)
				}
			case 7:
				r.Records(op&16 != 0, true)
			case 8:
				r.UUID()
			case 9:
				r.Int64()
			case 10:
				r.Int32()
			case 11:
				r.Int16()
			case 12:
				r.Float64()
			case 13:
				r.Varint()
			case 14:
				r.Bool()
			case 15:
				r.Span(int(op >> 4))
			}
			if r.Err() != nil {
				return
			}
			if r.Remaining() < 0 {
				t.Fatal("read past the end")
			}
		}
	})
}
