package record

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Decompression bombs: small inputs that claim, or really expand, to over 1 GiB must fail
// at the caller's limit without allocating anywhere near the claimed size.

const (
	bombLimit = 1 << 20 // what the test allows the decoder to produce
	gib       = 1 << 30
	// allocBudget is what one failing decompression may allocate in total: the output grows
	// geometrically up to the limit (about 2x the limit across growth steps, plus one zstd
	// block of overshoot), codec state is pooled. Far below the claimed GiB.
	allocBudget = 4 * bombLimit
)

// gzipBomb is a real gzip stream that inflates to 1 GiB of zeros. Deflate cannot exceed
// about 1032:1, so it is about 1 MiB: a prefix holding one zero byte, then one
// sync-flushed segment of 1 MiB of zeros repeated 1024 times (a segment only refers back
// over zeros, so it decodes the same after any run of zeros), then an empty final block.
// The trailer's CRC is wrong, which the decoder would only notice at the end.
func gzipBomb(t testing.TB) []byte {
	var segment []byte
	prefix := deflateOf(t, func(w *flate.Writer) {
		w.Write([]byte{0})
		w.Flush()
	})
	all := deflateOf(t, func(w *flate.Writer) {
		w.Write([]byte{0})
		w.Flush()
		w.Write(make([]byte, 1<<20))
		w.Flush()
	})
	segment = all[len(prefix):]
	out := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}
	out = append(out, prefix...)
	for range gib >> 20 {
		out = append(out, segment...)
	}
	out = append(out, 0x03, 0x00) // final fixed-Huffman block with only end-of-block
	out = binary.LittleEndian.AppendUint32(out, 0)
	return binary.LittleEndian.AppendUint32(out, gib&0xffffffff)
}

// gzipIsizeLiar is a small gzip member of 8 MiB of zeros whose trailer claims 4 GiB - 1.
func gzipIsizeLiar(t testing.TB) []byte {
	comp, err := Compress(nil, CompressionGzip, 9, make([]byte, 8<<20))
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint32(comp[len(comp)-4:], 0xffffffff)
	return comp
}

// lz4Bomb is an LZ4 frame of 16384 independent 64 KiB blocks of zeros (LZ4 tops out near
// 255:1, so about 4 MiB for 1 GiB): a real frame's header and first block, repeated.
func lz4Bomb(t testing.TB) []byte {
	var buf bytes.Buffer
	w := lz4.NewWriter(&buf)
	if err := w.Apply(lz4.BlockSizeOption(lz4.Block64Kb), lz4.ChecksumOption(false)); err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 64<<10))
	w.Close()
	frame := buf.Bytes()
	const headerSize = 7 // magic, FLG, BD, header checksum
	blockSize := 4 + int(binary.LittleEndian.Uint32(frame[headerSize:])&0x7fffffff)
	block := frame[headerSize : headerSize+blockSize]
	out := append([]byte{}, frame[:headerSize]...)
	for range gib / (64 << 10) {
		out = append(out, block...)
	}
	return append(out, 0, 0, 0, 0) // end mark
}

// lz4SizeClaim is a frame header declaring 1 TiB of content, then one real block.
func lz4SizeClaim(t testing.TB) []byte {
	var buf bytes.Buffer
	w := lz4.NewWriter(&buf)
	if err := w.Apply(lz4.SizeOption(1 << 40)); err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 1000))
	w.Flush()
	return buf.Bytes()
}

// zstdRLEBomb is a zstd frame without a declared content size made of 8192 RLE blocks of
// 128 KiB each: 1 GiB from 32 KiB of input.
func zstdRLEBomb() []byte {
	out := []byte{0x28, 0xb5, 0x2f, 0xfd}
	out = append(out, 0x00) // frame header descriptor: no content size, no checksum
	out = append(out, 7<<3) // window descriptor: 2^(10+7) = 128 KiB, one block
	const blocks = gib / (128 << 10)
	for i := range blocks {
		h := uint32(128<<10)<<3 | 1<<1 // RLE block of 128 KiB
		if i == blocks-1 {
			h |= 1 // last block
		}
		out = append(out, byte(h), byte(h>>8), byte(h>>16), 0)
	}
	return out
}

// zstdSizeClaim is a single-segment frame header declaring 1 TiB, then one RLE block.
func zstdSizeClaim() []byte {
	out := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xe0} // 8-byte content size, single segment
	out = binary.LittleEndian.AppendUint64(out, 1<<40)
	h := uint32(1000)<<3 | 1<<1 | 1
	return append(out, byte(h), byte(h>>8), byte(h>>16), 0)
}

// zstdStream compresses data as a stream: compressed blocks and no declared content size,
// as Java's zstd-jni output stream writes batches.
func zstdStream(t testing.TB, data []byte) []byte {
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	w.ReadFrom(bytes.NewReader(data))
	w.Close()
	var h zstd.Header
	if err := h.Decode(buf.Bytes()); err != nil || h.HasFCS {
		t.Fatalf("stream frame declares its size (%v)", err)
	}
	return buf.Bytes()
}

// snappyClaim is a raw snappy block whose length header claims 4 GiB - 1.
func snappyClaim() []byte {
	out := binary.AppendUvarint(nil, 0xffffffff)
	return append(out, 0x00, 'x') // one literal byte
}

// xerialClaim is a xerial stream of blocks that each claim 600 MiB: any two pass 1 GiB.
func xerialClaim() []byte {
	out := xerialFrame(nil, 1)
	for range 4 {
		block := binary.AppendUvarint(nil, 600<<20)
		block = append(block, 0x00, 'x')
		out = binary.BigEndian.AppendUint32(out, uint32(len(block)))
		out = append(out, block...)
	}
	return out
}

func TestDecompressionBombs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds about 5 MiB of bombs")
	}
	bombs := []struct {
		name  string
		codec Compression
		input []byte
	}{
		{"gzip 1 GiB deflate", CompressionGzip, gzipBomb(t)},
		{"gzip lying ISIZE", CompressionGzip, gzipIsizeLiar(t)},
		{"lz4 1 GiB of blocks", CompressionLZ4, lz4Bomb(t)},
		{"lz4 content size claim", CompressionLZ4, lz4SizeClaim(t)},
		{"zstd 1 GiB of RLE blocks", CompressionZstd, zstdRLEBomb()},
		{"zstd content size claim", CompressionZstd, zstdSizeClaim()},
		{"zstd compressed blocks, no size", CompressionZstd, zstdStream(t, textData(3<<20, 9))},
		{"snappy length claim", CompressionSnappy, snappyClaim()},
		{"xerial blocks claim", CompressionSnappy, xerialClaim()},
	}
	for _, bomb := range bombs {
		t.Run(bomb.name, func(t *testing.T) {
			t.Logf("%d bytes of input", len(bomb.input))
			// Warm up the pools and the shared zstd decoder, so the measurement below sees
			// only what this input costs.
			DecompressBytes(nil, bomb.codec, bomb.input, bombLimit)

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := DecompressBytes(nil, bomb.codec, bomb.input, bombLimit)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrDecompressLimit) {
				t.Fatalf("err = %v, want ErrDecompressLimit", err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > allocBudget {
				t.Errorf("allocated %d bytes for a %d-byte limit", alloc, bombLimit)
			} else {
				t.Logf("allocated %d bytes", alloc)
			}
			// The same input with room for it all decodes (true bombs) or fails as corrupt
			// or over the limit, never panics; only the cheap ones are tried at 1 GiB+.
		})
	}
}

// TestBombsFailFast checks the header claims are rejected before any decoding work.
func TestBombsFailFast(t *testing.T) {
	for name, in := range map[string]struct {
		c   Compression
		src []byte
	}{
		"lz4":    {CompressionLZ4, lz4SizeClaim(t)},
		"zstd":   {CompressionZstd, zstdSizeClaim()},
		"snappy": {CompressionSnappy, snappyClaim()},
		"xerial": {CompressionSnappy, xerialClaim()},
	} {
		n := testing.AllocsPerRun(20, func() {
			if _, err := DecompressBytes(nil, in.c, in.src, bombLimit); !errors.Is(err, ErrDecompressLimit) {
				t.Fatalf("%s: %v", name, err)
			}
		})
		// The error value itself is the only allocation.
		if n > 4 {
			t.Errorf("%s: %v allocations to reject a size claim", name, n)
		}
	}
}

func TestZstdBounds(t *testing.T) {
	data := textData(300<<10, 10)
	all, _ := Compress(nil, CompressionZstd, 0, data) // EncodeAll: declared size
	if lo, hi, ok := zstdBounds(all); !ok || lo != uint64(len(data)) || hi != lo {
		t.Errorf("declared size: %d..%d %v", lo, hi, ok)
	}
	stream := zstdStream(t, data)
	lo, hi, ok := zstdBounds(stream)
	if !ok || lo > uint64(len(data)) || hi < uint64(len(data)) || hi > uint64(len(data))+4*zstdMaxBlockSize {
		t.Errorf("stream of %d bytes: bounds %d..%d %v", len(data), lo, hi, ok)
	}
	// Two frames, a skippable frame between them.
	skip := []byte{0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'a', 'b', 'c'}
	two := append(append(append([]byte{}, all...), skip...), all...)
	if lo, hi, ok := zstdBounds(two); !ok || lo != 2*uint64(len(data)) || hi != lo {
		t.Errorf("two frames: %d..%d %v", lo, hi, ok)
	}
	got, err := DecompressBytes(nil, CompressionZstd, two, 2*len(data))
	if err != nil || !bytes.Equal(got, append(append([]byte{}, data...), data...)) {
		t.Errorf("two frames decode: %v", err)
	}
	if _, err := DecompressBytes(nil, CompressionZstd, stream, len(data)); err != nil {
		t.Errorf("stream decode: %v", err)
	}
	for _, bad := range [][]byte{all[:7], all[:len(all)-1], append([]byte{1, 2, 3, 4}, all...), skip[:9]} {
		if _, _, ok := zstdBounds(bad); ok {
			t.Errorf("bounds of malformed input % x…", bad[:8])
		}
	}
	if lo, _, ok := zstdBounds(zstdRLEBomb()); !ok || lo != gib {
		t.Errorf("RLE bomb lower bound %d", lo)
	}
}
