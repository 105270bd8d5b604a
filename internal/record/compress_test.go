package record

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/pierrec/lz4/v4"
)

var codecs = []Compression{CompressionNone, CompressionGzip, CompressionSnappy, CompressionLZ4, CompressionZstd}

// textData is compressible, record-like data (JSON-ish lines with varying fields), so codec
// tests and benchmarks do not run on zeros or noise.
func textData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	words := strings.Fields("order customer amount currency status shipped pending id region eu us apac sku quantity price total")
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, `{"%s":%d,"%s":"%s","%s":%d.%02d},`, words[r.IntN(len(words))], r.IntN(1e6),
			words[r.IntN(len(words))], words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(1e4), r.IntN(100))
	}
	return b.Bytes()[:n]
}

func TestCompressRoundTrip(t *testing.T) {
	inputs := map[string][]byte{
		"empty": {},
		"one":   {42},
		"text":  textData(100<<10, 1),
		"noise": func() []byte {
			b := make([]byte, 70<<10)
			r := rand.New(rand.NewPCG(2, 2))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return b
		}(),
	}
	levels := map[Compression][]int{
		CompressionNone:   {0},
		CompressionGzip:   {0, -1, 1, 5, 9},
		CompressionSnappy: {0},
		CompressionLZ4:    {0, 1, 2, 3, 9, 17},
		CompressionZstd:   {0, -5, 1, 3, 7, 12, 22},
	}
	for _, c := range codecs {
		for _, level := range levels[c] {
			for name, in := range inputs {
				t.Run(fmt.Sprintf("%s/%d/%s", c, level, name), func(t *testing.T) {
					prefix := []byte("prefix")
					out, err := Compress(append([]byte{}, prefix...), c, level, in)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.HasPrefix(out, prefix) {
						t.Fatal("Compress did not append to dst")
					}
					comp := out[len(prefix):]
					if c != CompressionNone && len(in) == 0 && len(comp) == 0 {
						t.Fatal("empty input compressed to nothing; decoders need a frame")
					}
					got, err := DecompressBytes(nil, c, comp, len(in)+1)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, in) {
						t.Fatalf("round trip: %d bytes back, want %d", len(got), len(in))
					}
					if c == CompressionNone {
						return
					}
					// Exactly at the limit is fine; one byte under is not.
					if _, err := DecompressBytes(nil, c, comp, max(len(in), 1)); err != nil {
						t.Errorf("at the limit: %v", err)
					}
					if len(in) > 0 {
						if _, err := DecompressBytes(nil, c, comp, len(in)-1); !errors.Is(err, ErrDecompressLimit) {
							t.Errorf("under the limit: %v", err)
						}
					}
				})
			}
		}
	}
}

func TestCompressLevels(t *testing.T) {
	bad := []struct {
		c     Compression
		level int
	}{
		{CompressionGzip, 10}, {CompressionGzip, -2},
		{CompressionLZ4, 18}, {CompressionLZ4, -1},
		{CompressionZstd, 23}, {CompressionZstd, ZstdMinLevel - 1},
	}
	for _, tc := range bad {
		if _, err := Compress(nil, tc.c, tc.level, []byte("x")); !errors.Is(err, ErrCompressionLevel) {
			t.Errorf("%s level %d: %v", tc.c, tc.level, err)
		}
	}
	if _, err := Compress(nil, 5, 0, []byte("x")); !errors.Is(err, ErrCompression) {
		t.Errorf("codec 5: %v", err)
	}
	if _, err := DecompressBytes(nil, 6, []byte("x"), 10); !errors.Is(err, ErrCompression) {
		t.Errorf("decompress codec 6: %v", err)
	}
	// Higher levels must actually compress harder (the level reaches the encoder).
	in := textData(256<<10, 3)
	for _, tc := range []struct {
		c         Compression
		low, high int
	}{{CompressionGzip, 1, 9}, {CompressionLZ4, 1, 17}, {CompressionZstd, 1, 19}} {
		lo, _ := Compress(nil, tc.c, tc.low, in)
		hi, _ := Compress(nil, tc.c, tc.high, in)
		if len(hi) >= len(lo) {
			t.Errorf("%s: level %d gives %d bytes, level %d gives %d", tc.c, tc.high, len(hi), tc.low, len(lo))
		}
	}
}

func TestDecompressCorrupt(t *testing.T) {
	in := textData(20<<10, 4)
	for _, c := range codecs[1:] {
		comp, err := Compress(nil, c, 0, in)
		if err != nil {
			t.Fatal(err)
		}
		cases := map[string][]byte{
			"empty":     {},
			"truncated": comp[:len(comp)/2],
			"garbage":   []byte("definitely not compressed data, not at all"),
			"flipped": func() []byte {
				b := append([]byte{}, comp...)
				b[len(b)/2] ^= 0xff
				b[len(b)/3] ^= 0x55
				return b
			}(),
		}
		for name, src := range cases {
			_, err := DecompressBytes(nil, c, src, 1<<20)
			// A flipped byte in a raw snappy block can decode to other bytes: snappy blocks
			// carry no checksum (the batch CRC covers them).
			if c == CompressionSnappy && name == "flipped" && err == nil {
				continue
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s/%s: %v, want ErrCorrupt", c, name, err)
			}
		}
		if _, err := DecompressBytes(nil, c, comp, 0); !errors.Is(err, ErrDecompressLimit) {
			t.Errorf("%s: limit 0: %v", c, err)
		}
	}
}

func TestDecompressReusesDst(t *testing.T) {
	in := textData(10<<10, 5)
	for _, c := range codecs[1:] {
		comp, _ := Compress(nil, c, 0, in)
		dst := make([]byte, 7, 64<<10)
		out, err := DecompressBytes(dst, c, comp, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, in) || &out[0] != &dst[:1][0] {
			t.Errorf("%s: output not decoded into dst[:0]", c)
		}
		// A dst larger than the limit must not let the output pass the limit.
		if _, err := DecompressBytes(make([]byte, 0, 1<<20), c, comp, len(in)-1); !errors.Is(err, ErrDecompressLimit) {
			t.Errorf("%s: big dst, small limit: %v", c, err)
		}
	}
}

func TestDecompressAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	in := textData(16<<10, 6)
	for _, c := range codecs[1:] {
		comp, _ := Compress(nil, c, 0, in)
		dst := make([]byte, 0, 64<<10)
		DecompressBytes(dst, c, comp, 1<<20) // warm the pools
		n := testing.AllocsPerRun(50, func() {
			if _, err := DecompressBytes(dst, c, comp, 1<<20); err != nil {
				t.Fatal(err)
			}
		})
		// Pooled decoders decode into dst; an occasional pool refill after GC is all.
		if n > 1 {
			t.Errorf("%s: %v allocations per decompression", c, n)
		}
	}
}

// xerialFrame frames data the way snappy-java's SnappyOutputStream (the Java producer)
// does: an 8-byte magic (0x82 "SNAPPY" 0), version and minimum compatible version as
// big-endian int32s (1, 1), then for every blockSize chunk of input a big-endian int32
// length followed by that many bytes of a raw snappy block.
func xerialFrame(data []byte, blockSize int) []byte {
	out := append([]byte{}, xerialMagic[:]...)
	out = binary.BigEndian.AppendUint32(out, 1)
	out = binary.BigEndian.AppendUint32(out, 1)
	for len(data) > 0 {
		n := min(blockSize, len(data))
		block := s2.EncodeSnappy(nil, data[:n])
		out = binary.BigEndian.AppendUint32(out, uint32(len(block)))
		out = append(out, block...)
		data = data[n:]
	}
	return out
}

func TestXerialSnappy(t *testing.T) {
	in := textData(100<<10, 7)
	for _, bs := range []int{1 << 20, 32 << 10, 1000, 1} {
		framed := xerialFrame(in, bs)
		got, err := DecompressBytes(nil, CompressionSnappy, framed, len(in))
		if err != nil || !bytes.Equal(got, in) {
			t.Fatalf("block size %d: %v", bs, err)
		}
		if _, err := DecompressBytes(nil, CompressionSnappy, framed, len(in)-1); !errors.Is(err, ErrDecompressLimit) {
			t.Errorf("block size %d, limit-1: %v", bs, err)
		}
	}
	// Header only: no blocks, no output.
	if got, err := DecompressBytes(nil, CompressionSnappy, xerialFrame(nil, 10), 10); err != nil || len(got) != 0 {
		t.Errorf("no blocks: %v", err)
	}
	framed := xerialFrame(in, 4096)
	bad := map[string][]byte{
		"short header":     framed[:12],
		"cut length":       framed[:xerialHeaderSize+2],
		"cut block":        framed[:len(framed)-1],
		"zero length":      append(append([]byte{}, framed[:xerialHeaderSize]...), 0, 0, 0, 0),
		"negative length":  append(append([]byte{}, framed[:xerialHeaderSize]...), 0xff, 0xff, 0xff, 0xff, 1),
		"garbage in block": append(append([]byte{}, framed[:xerialHeaderSize]...), 0, 0, 0, 3, 0x05, 0xff, 0xff),
	}
	for name, src := range bad {
		if _, err := DecompressBytes(nil, CompressionSnappy, src, 1<<20); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}

	// A Java-producer-style batch: the franz-go fixture's records, xerial-framed in several
	// blocks, decode to the same records.
	raw, want := readFixture(t, "franz-none")
	batches := parseAll(t, raw)
	i := 0
	for _, b := range batches {
		xb := Batch(encodeBatch(rawHeader{
			baseOffset: b.BaseOffset(), attrs: int16(CompressionSnappy), lastOffsetDelta: b.LastOffsetDelta(),
			baseTs: b.BaseTimestamp(), maxTs: b.MaxTimestamp(), pid: b.ProducerID(), pepoch: b.ProducerEpoch(),
			baseSeq: b.BaseSequence(), count: b.RecordCount(),
		}, xerialFrame(b.Records(), 512)))
		if _, _, err := Parse(xb, 0); err != nil {
			t.Fatal(err)
		}
		recs, err := Decompress(nil, xb, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		it := NewRecordIter(recs, xb.RecordCount())
		for it.Next() {
			checkRecord(t, xb, it.Record(), want[i])
			i++
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
	}
	if i != len(want) {
		t.Errorf("%d records", i)
	}
}

func TestSnappyRejectsS2Repeat(t *testing.T) {
	// A block in S2's extended format: 12 bytes decoded; literal "abcd"; a copy of 4 at
	// offset 4; then a copy-1 tag with offset 0, which S2 reads as "repeat the last offset"
	// and snappy as corrupt.
	block := []byte{12, 3 << 2, 'a', 'b', 'c', 'd', 0x01, 0x04, 0x01, 0x00}
	// The block is valid S2 (s2 decodes it) …
	if got, err := s2.Decode(nil, block); err != nil || string(got) != "abcdabcdabcd" {
		t.Fatalf("test block is not valid S2: %q, %v", got, err)
	}
	// … but not snappy, which Java and librdkafka consumers would fail on.
	if _, err := DecompressBytes(nil, CompressionSnappy, block, 100); !errors.Is(err, ErrCorrupt) {
		t.Errorf("S2 repeat accepted: %v", err)
	}
	if _, err := DecompressBytes(nil, CompressionSnappy, xerialFrame(nil, 1), 100); err != nil {
		t.Error(err)
	}
	// Everything the snappy encoder writes passes the check, including long literals.
	for _, n := range []int{0, 1, 59, 60, 61, 255, 256, 65535, 65536, 70000, 1 << 20} {
		in := textData(n, uint64(n))
		if n > 1000 {
			copy(in[n/2:], make([]byte, n/4)) // a long run: copy tags
		}
		if !snappyOnly(s2.EncodeSnappy(nil, in)) {
			t.Errorf("snappy output of %d bytes flagged", n)
		}
	}
}

func TestLZ4ContentSizeCheckedFirst(t *testing.T) {
	var buf bytes.Buffer
	w := lz4.NewWriter(&buf)
	in := textData(50<<10, 8)
	if err := w.Apply(lz4.SizeOption(uint64(len(in)))); err != nil {
		t.Fatal(err)
	}
	w.Write(in)
	w.Close()
	got, err := DecompressBytes(nil, CompressionLZ4, buf.Bytes(), len(in))
	if err != nil || !bytes.Equal(got, in) {
		t.Fatalf("frame with content size: %v", err)
	}
	if _, err := DecompressBytes(nil, CompressionLZ4, buf.Bytes(), len(in)-1); !errors.Is(err, ErrDecompressLimit) {
		t.Errorf("declared size over limit: %v", err)
	}
}

// deflateOf is a raw deflate stream, for hand-built gzip bombs.
func deflateOf(t testing.TB, write func(w *flate.Writer)) []byte {
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	write(w)
	return b.Bytes()
}

func TestLZ4Frames(t *testing.T) {
	in := textData(200<<10, 14)
	frame := func(opts ...lz4.Option) []byte {
		var buf bytes.Buffer
		w := lz4.NewWriter(&buf)
		if err := w.Apply(opts...); err != nil {
			t.Fatal(err)
		}
		w.Write(in)
		w.Close()
		return buf.Bytes()
	}
	good := [][]byte{
		frame(),
		frame(lz4.BlockChecksumOption(true)),
		frame(lz4.ChecksumOption(false), lz4.BlockSizeOption(lz4.Block256Kb)),
		frame(lz4.SizeOption(uint64(len(in)))),
	}
	for i, f := range good {
		got, err := DecompressBytes(nil, CompressionLZ4, f, len(in))
		if err != nil || !bytes.Equal(got, in) {
			t.Errorf("frame %d: %v", i, err)
		}
		lo, hi, err := lz4Bounds(f)
		if err != nil || lo > uint64(len(in)) || hi < uint64(len(in)) {
			t.Errorf("frame %d: bounds %d..%d %v", i, lo, hi, err)
		}
	}
	f := good[0]
	mod := func(fn func(b []byte) []byte) []byte { return fn(append([]byte{}, f...)) }
	// What Kafka's Java reader cannot read is refused, so it is never stored.
	bad := map[string][]byte{
		"dependent blocks": mod(func(b []byte) []byte { b[4] &^= 0x20; return b }),
		"dictionary":       mod(func(b []byte) []byte { b[4] |= 0x01; return b }),
		"version 0":        mod(func(b []byte) []byte { b[4] &^= 0x40; return b }),
		"block size id 3":  mod(func(b []byte) []byte { b[5] = 3 << 4; return b }),
		"two frames":       append(append([]byte{}, f...), f...),
		"trailing byte":    append(append([]byte{}, f...), 0),
		"no end mark":      f[:len(f)-8],
		"legacy magic":     mod(func(b []byte) []byte { b[0] = 0x02; b[1] = 0x21; b[2] = 0x4c; return b }),
	}
	for name, src := range bad {
		if _, err := DecompressBytes(nil, CompressionLZ4, src, 1<<20); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestConcurrentCodecs shares the pooled and shared codec state between goroutines; run it
// with -race.
func TestConcurrentCodecs(t *testing.T) {
	in := textData(20<<10, 15)
	done := make(chan error)
	for g := range 8 {
		go func() {
			var err error
			defer func() { done <- err }()
			var dst, comp []byte
			for i := range 20 {
				c := codecs[(g+i)%len(codecs)]
				if comp, err = Compress(comp[:0], c, 0, in); err != nil {
					return
				}
				if dst, err = DecompressBytes(dst, c, comp, len(in)); err != nil {
					return
				}
				if !bytes.Equal(dst, in) {
					err = fmt.Errorf("%s: round trip differs", c)
					return
				}
				if c != CompressionNone {
					dst = dst[:0]
				} else {
					dst = nil
				}
			}
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
