package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Decompress returns the uncompressed records section of b. For an uncompressed batch that
// is b.Records() itself, not a copy, and limitBytes does not apply (no bytes are produced).
// Otherwise the records are decoded into dst's storage (dst[:0], grown when needed) and the
// result stays valid until dst is reused.
//
// limitBytes bounds the decoded size: input that would decode to more fails with
// ErrDecompressLimit, having allocated no more than about the limit (sizes declared in
// frame headers are checked before anything is allocated). A limit <= 0 rejects every
// compressed batch. Undecodable input is ErrCorrupt; a codec Sluice does not know is
// ErrCompression.
func Decompress(dst []byte, b Batch, limitBytes int) ([]byte, error) {
	c := b.Compression()
	if c == CompressionNone {
		return b.Records(), nil
	}
	return DecompressBytes(dst, c, b.Records(), limitBytes)
}

// DecompressBytes decodes src, a records section compressed with c, as Decompress does. For
// CompressionNone it returns src itself.
func DecompressBytes(dst []byte, c Compression, src []byte, limitBytes int) ([]byte, error) {
	if c == CompressionNone {
		return src, nil
	}
	if c < CompressionNone || c > CompressionZstd {
		return nil, fmt.Errorf("%w: codec %d", ErrCompression, int8(c))
	}
	if limitBytes <= 0 {
		return nil, fmt.Errorf("%w: limit %d", ErrDecompressLimit, limitBytes)
	}
	// A compressed section always holds at least a frame header; Kafka's decoders fail on
	// empty input too.
	if len(src) == 0 {
		return nil, fmt.Errorf("%w: empty %s data", ErrCorrupt, c)
	}
	var (
		out []byte
		err error
	)
	switch c {
	case CompressionGzip:
		out, err = decodeGzip(dst, src, limitBytes)
	case CompressionSnappy:
		out, err = decodeSnappy(dst, src, limitBytes)
	case CompressionLZ4:
		out, err = decodeLZ4(dst, src, limitBytes)
	case CompressionZstd:
		out, err = decodeZstd(dst, src, limitBytes)
	}
	if err != nil {
		if errors.Is(err, ErrDecompressLimit) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, c, err)
	}
	return out, nil
}

func limitError(limit int) error {
	return fmt.Errorf("%w: more than %d bytes", ErrDecompressLimit, limit)
}

// firstGuess is the initial output buffer size when the input does not declare its decoded
// size: typical Kafka payloads compress 2-5x, so 4x the input rarely needs a second growth.
func firstGuess(srcLen, limit int) int {
	return min(max(4*srcLen, 4<<10), limit)
}

// outBuf returns dst[:0] if it can hold n bytes, else a new buffer of capacity n.
func outBuf(dst []byte, n int) []byte {
	if cap(dst) >= n {
		return dst[:0]
	}
	return make([]byte, 0, n)
}

// streamDecoder is the pooled state of a streaming codec: the source reader is embedded so
// that resetting a decoder onto a new input allocates nothing.
type streamDecoder struct {
	src   bytes.Reader
	probe [1]byte
}

// readLimited reads r to its end into dst[:0], growing the buffer geometrically from hint up
// to limit, and fails with ErrDecompressLimit as soon as one byte beyond limit decodes. So
// the output never costs more than about 2x limit in allocations, whatever the input claims.
func (d *streamDecoder) readLimited(dst []byte, r io.Reader, hint, limit int) ([]byte, error) {
	dst = outBuf(dst, hint)
	stalls := 0
	for {
		room := min(cap(dst), limit)
		if len(dst) == room {
			if room >= limit {
				// Full at the limit: the output is too large iff one more byte decodes.
				n, err := io.ReadFull(r, d.probe[:])
				if n > 0 {
					return nil, limitError(limit)
				}
				if err == io.EOF {
					return dst, nil
				}
				return nil, err
			}
			grown := make([]byte, len(dst), min(max(2*cap(dst), 4<<10), limit))
			copy(grown, dst)
			dst = grown
			continue
		}
		n, err := r.Read(dst[len(dst):room])
		dst = dst[:len(dst)+n]
		switch {
		case err == io.EOF:
			return dst, nil
		case err != nil:
			return nil, err
		case n == 0:
			// io.Reader allows (0, nil) but a decoder that keeps returning it is broken;
			// do not spin on it.
			if stalls++; stalls > 100 {
				return nil, io.ErrNoProgress
			}
		default:
			stalls = 0
		}
	}
}

// --- gzip ---

type gzipDecoder struct {
	streamDecoder
	zr gzip.Reader
}

var gzipDecoders = sync.Pool{New: func() any { return new(gzipDecoder) }}

func decodeGzip(dst, src []byte, limit int) ([]byte, error) {
	d := gzipDecoders.Get().(*gzipDecoder)
	defer func() {
		// Drop the reference to the caller's input before pooling the decoder.
		d.src.Reset(nil)
		gzipDecoders.Put(d)
	}()
	d.src.Reset(src)
	if err := d.zr.Reset(&d.src); err != nil {
		return nil, err
	}
	hint := firstGuess(len(src), limit)
	// The trailer's ISIZE is the decoded size mod 2^32 of the last member: exact for the
	// single-member streams every Kafka client writes. It is only a hint: it is not checked
	// until the end, and a liar can at most make us allocate up to the limit once.
	if len(src) >= 18 {
		if isize := int64(binary.LittleEndian.Uint32(src[len(src)-4:])); isize <= int64(limit) {
			hint = max(int(isize), 1)
		}
	}
	return d.readLimited(dst, &d.zr, hint, limit)
}

// --- lz4 (frame format) ---

type lz4Decoder struct {
	streamDecoder
	zr *lz4.Reader
}

var lz4Decoders = sync.Pool{New: func() any {
	d := new(lz4Decoder)
	d.zr = lz4.NewReader(nil)
	return d
}}

// lz4FrameMagic starts every LZ4 frame (little-endian 0x184D2204).
const lz4FrameMagic = 0x184D2204

func decodeLZ4(dst, src []byte, limit int) ([]byte, error) {
	// A declared content size (FLG bit 3, 8 bytes after BD) over the limit fails first,
	// whatever follows it.
	if len(src) >= 14 && binary.LittleEndian.Uint32(src) == lz4FrameMagic && src[4]&0x08 != 0 &&
		binary.LittleEndian.Uint64(src[6:]) > uint64(limit) {
		return nil, limitError(limit)
	}
	lo, hi, err := lz4Bounds(src)
	if err != nil {
		return nil, err
	}
	if lo > uint64(limit) {
		return nil, limitError(limit)
	}
	hint := int(min(hi, uint64(limit), max(uint64(firstGuess(len(src), limit)), lo)))
	d := lz4Decoders.Get().(*lz4Decoder)
	defer func() {
		d.src.Reset(nil)
		d.zr.Reset(nil)
		lz4Decoders.Put(d)
	}()
	d.src.Reset(src)
	d.zr.Reset(&d.src)
	return d.readLimited(dst, d.zr, max(hint, 1), limit)
}

// lz4Bounds walks the frame and block headers of src and returns a lower and an upper
// bound of its decoded size (uncompressed blocks are exact, compressed ones at most the
// frame's block size, a declared content size is exact). It also refuses what Kafka's Java
// reader cannot read, so such a batch is never stored for Java consumers to choke on:
// anything but exactly one frame, dependent (linked) blocks, and dictionaries.
func lz4Bounds(src []byte) (lo, hi uint64, err error) {
	if len(src) < 7 || binary.LittleEndian.Uint32(src) != lz4FrameMagic {
		return 0, 0, errors.New("not an LZ4 frame")
	}
	flg, bd := src[4], src[5]
	if flg>>6 != 1 || flg&0x02 != 0 || bd&0x8f != 0 {
		return 0, 0, fmt.Errorf("bad frame descriptor %#02x %#02x", flg, bd)
	}
	if flg&0x20 == 0 {
		return 0, 0, errors.New("dependent blocks (Kafka's Java reader needs independent ones)")
	}
	if flg&0x01 != 0 {
		return 0, 0, errors.New("dictionary frames are not supported")
	}
	blockMax := uint64(1) << (8 + 2*uint(bd>>4)) // 4: 64 KiB … 7: 4 MiB
	if bd>>4 < 4 {
		return 0, 0, fmt.Errorf("bad block size id %d", bd>>4)
	}
	pos := 6
	var size uint64
	hasSize := flg&0x08 != 0
	if hasSize {
		if len(src) < pos+8 {
			return 0, 0, errors.New("truncated frame descriptor")
		}
		size = binary.LittleEndian.Uint64(src[pos:])
		pos += 8
	}
	pos++ // header checksum, verified by the decoder
	blockChecksum := flg&0x10 != 0
	for {
		if len(src)-pos < 4 {
			return 0, 0, errors.New("truncated block header")
		}
		h := binary.LittleEndian.Uint32(src[pos:])
		pos += 4
		if h == 0 { // end mark
			break
		}
		n := uint64(h & 0x7fffffff)
		if n > blockMax {
			return 0, 0, fmt.Errorf("block of %d bytes in a frame of %d-byte blocks", n, blockMax)
		}
		if h&0x80000000 != 0 { // stored uncompressed
			lo += n
			hi += n
		} else {
			hi += blockMax
		}
		if blockChecksum {
			n += 4
		}
		if uint64(len(src)-pos) < n {
			return 0, 0, errors.New("truncated block")
		}
		pos += int(n)
	}
	if flg&0x04 != 0 { // content checksum
		pos += 4
	}
	if pos != len(src) {
		return 0, 0, fmt.Errorf("%d bytes after the frame", len(src)-pos)
	}
	if hasSize {
		lo, hi = max(lo, size), max(lo, size)
	}
	return lo, hi, nil
}

// --- zstd ---

// zstdDecoder is shared: DecodeAll is safe for concurrent use and keeps up to GOMAXPROCS
// block decoders, which is the pooling zstd wants (they are expensive to build). DecodeAll
// writes straight into the output buffer and, with the cap limit, stops once a block would
// pass cap(dst); it never allocates the frame's window as the streaming reader does, so a
// frame declaring a huge window costs nothing.
var zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
	d, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(0),
		zstd.WithDecodeAllCapLimit(true),
		// Java's zstd (zstd-jni) refuses windows above 2^27 by default; refusing them too
		// keeps us from storing batches that Java consumers cannot read.
		zstd.WithDecoderMaxWindow(1<<27),
	)
	if err != nil {
		panic(fmt.Sprintf("record: zstd decoder options: %v", err))
	}
	return d
})

func decodeZstd(dst, src []byte, limit int) ([]byte, error) {
	size := firstGuess(len(src), limit)
	if lo, hi, ok := zstdBounds(src); ok {
		if lo > uint64(limit) {
			return nil, limitError(limit)
		}
		// hi is exact for declared sizes and raw/RLE blocks and at most one block over for
		// each compressed block, so for typical batches one buffer of hi bytes decodes
		// everything at once.
		size = int(min(max(hi, 1), uint64(limit)))
	}
	dec := zstdDecoder()
	for {
		buf := outBuf(dst, size)
		buf = buf[:0:min(cap(buf), limit)]
		out, err := dec.DecodeAll(src, buf)
		if err == nil {
			return out, nil
		}
		if !errors.Is(err, zstd.ErrDecoderSizeExceeded) {
			return nil, err
		}
		// The output did not fit (a frame the scan could not bound): retry with twice the
		// room, as librdkafka does, until the limit. A raw or RLE block may have pushed the
		// output up to one block past cap(buf) by reallocating; reuse that memory.
		if cap(buf) >= limit {
			return nil, limitError(limit)
		}
		size = min(max(2*cap(buf), cap(out)), limit)
		if cap(out) > cap(dst) {
			dst = out
		}
	}
}

// zstd frame format constants (RFC 8878).
const (
	zstdMagic          = 0xFD2FB528
	zstdSkippableMask  = 0xFFFFFFF0
	zstdSkippableMagic = 0x184D2A50
	zstdMaxBlockSize   = 128 << 10
)

// zstdBounds walks the frame and block headers of src, without decoding, and returns a
// lower and an upper bound of its decoded size: raw and RLE blocks state their decoded size,
// a compressed block decodes to at most min(window, 128 KiB), and a declared frame content
// size is exact. This rejects RLE bombs (a few bytes per 128 KiB) before any allocation and
// sizes the output buffer of ordinary batches in one go. ok is false when the headers do not
// parse; DecodeAll then reports the error.
func zstdBounds(src []byte) (lo, hi uint64, ok bool) {
	for len(src) > 0 {
		if len(src) < 8 {
			return 0, 0, false
		}
		magic := binary.LittleEndian.Uint32(src)
		if magic&zstdSkippableMask == zstdSkippableMagic {
			n := uint64(binary.LittleEndian.Uint32(src[4:]))
			if n > uint64(len(src)-8) {
				return 0, 0, false
			}
			src = src[8+n:]
			continue
		}
		if magic != zstdMagic {
			return 0, 0, false
		}
		fhd := src[4]
		single := fhd&0x20 != 0
		pos := 5
		window := uint64(0)
		if !single {
			wd := src[pos]
			pos++
			exp := uint64(wd >> 3)
			base := uint64(1) << (10 + exp)
			window = base + base/8*uint64(wd&7)
		}
		pos += [4]int{0, 1, 2, 4}[fhd&3] // dictionary id
		fcsSize := [4]int{0, 2, 4, 8}[fhd>>6]
		if fcsSize == 0 && single {
			fcsSize = 1
		}
		if pos+fcsSize > len(src) {
			return 0, 0, false
		}
		fcs, hasFCS := uint64(0), fcsSize > 0
		switch fcsSize {
		case 1:
			fcs = uint64(src[pos])
		case 2:
			fcs = uint64(binary.LittleEndian.Uint16(src[pos:])) + 256
		case 4:
			fcs = uint64(binary.LittleEndian.Uint32(src[pos:]))
		case 8:
			fcs = binary.LittleEndian.Uint64(src[pos:])
		}
		pos += fcsSize
		if single {
			window = fcs
		}
		blockMax := min(window, zstdMaxBlockSize)
		var flo, fhi uint64
		for {
			if pos+3 > len(src) {
				return 0, 0, false
			}
			h := uint32(src[pos]) | uint32(src[pos+1])<<8 | uint32(src[pos+2])<<16
			pos += 3
			size := uint64(h >> 3)
			switch (h >> 1) & 3 {
			case 0: // raw
				flo += size
				fhi += size
				pos += int(size)
			case 1: // RLE: one byte repeated size times
				flo += size
				fhi += size
				pos++
			case 2: // compressed
				fhi += blockMax
				pos += int(size)
			default:
				return 0, 0, false
			}
			if pos > len(src) {
				return 0, 0, false
			}
			if h&1 != 0 {
				break
			}
		}
		if fhd&0x04 != 0 { // content checksum
			pos += 4
		}
		if pos > len(src) {
			return 0, 0, false
		}
		if hasFCS {
			// The declared size is exact; the decoder fails the frame if it disagrees. Raw
			// and RLE blocks beyond it still count: such a frame is a bomb or corrupt.
			flo = max(flo, fcs)
			fhi = flo
		}
		// Saturate: a claim near 2^64 must still compare as huge.
		lo, hi = satAdd(lo, flo), satAdd(hi, fhi)
		src = src[pos:]
	}
	return lo, hi, true
}

func satAdd(a, b uint64) uint64 {
	if a+b < a {
		return math.MaxUint64
	}
	return a + b
}

// --- snappy (raw blocks and xerial framing) ---

// xerialMagic starts a snappy-java (xerial) stream, which is what the Java producer writes.
// A raw snappy block cannot start with it: 0x82 'S' is a varint length of 10626 and the tag
// that follows ('N', a two-byte-offset copy) would copy before any output exists.
var xerialMagic = [8]byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

// xerialHeaderSize is the magic plus the version and minimum-compatible-version int32s.
const xerialHeaderSize = 16

func decodeSnappy(dst, src []byte, limit int) ([]byte, error) {
	if len(src) >= len(xerialMagic) && [8]byte(src[:8]) == xerialMagic {
		return decodeXerial(dst, src, limit)
	}
	n, err := s2.DecodedLen(src)
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, limitError(limit)
	}
	buf := outBuf(dst, n)
	return decodeSnappyBlock(buf, src, n)
}

// decodeSnappyBlock appends the n decoded bytes of the raw snappy block src to buf, which
// has room for them.
func decodeSnappyBlock(buf, src []byte, n int) ([]byte, error) {
	// s2 decodes snappy at assembly speed, but it also accepts S2's extension (a copy with
	// offset 0 repeats the last offset), which snappy-java and librdkafka reject. Storing
	// such a block would hand those consumers a batch they cannot read, so refuse it.
	if !snappyOnly(src) {
		return nil, errors.New("S2-only repeat copy in a snappy block")
	}
	out, err := s2.Decode(buf[len(buf):len(buf)+n], src)
	if err != nil {
		return nil, err
	}
	return buf[:len(buf)+len(out)], nil
}

// snappyOnly walks the tags of a snappy block (without decoding it) and reports whether it
// avoids S2's repeat-offset extension. Malformed blocks pass here and fail in s2.Decode.
func snappyOnly(src []byte) bool {
	_, s := binary.Uvarint(src)
	if s <= 0 {
		return true
	}
	for s < len(src) {
		tag := src[s]
		switch tag & 0x03 {
		case 0x00: // literal
			x := int(tag >> 2)
			switch {
			case x < 60:
				s++
			default: // 60-63: the length minus one follows in 1-4 little-endian bytes
				nb := x - 59
				if len(src)-s-1 < nb {
					return true
				}
				x = 0
				for i := nb; i > 0; i-- {
					x = x<<8 | int(src[s+i])
				}
				s += 1 + nb
			}
			if x+1 > len(src)-s {
				return true
			}
			s += x + 1
		case 0x01: // copy, 1-byte offset: 3 high offset bits in the tag
			if s+1 >= len(src) {
				return true
			}
			if int(tag&0xe0)<<3|int(src[s+1]) == 0 {
				return false
			}
			s += 2
		case 0x02:
			s += 3
		default:
			s += 5
		}
	}
	return true
}

// decodeXerial decodes snappy-java's framing:
//
//	magic      8 bytes  0x82 "SNAPPY" 0x00
//	version    int32    big-endian (1)
//	compatible int32    big-endian (1)
//	blocks     repeated: length int32 big-endian, then a raw snappy block of that length
//
// The sizes every block declares are summed and checked against the limit before any
// output is allocated, so the output is allocated once, exactly.
func decodeXerial(dst, src []byte, limit int) ([]byte, error) {
	if len(src) < xerialHeaderSize {
		return nil, errors.New("xerial: short header")
	}
	total := 0
	for rest := src[xerialHeaderSize:]; len(rest) > 0; {
		block, next, err := nextXerialBlock(rest)
		if err != nil {
			return nil, err
		}
		n, err := s2.DecodedLen(block)
		if err != nil {
			return nil, err
		}
		if n > limit-total {
			return nil, limitError(limit)
		}
		total += n
		rest = next
	}
	out := outBuf(dst, total)
	for rest := src[xerialHeaderSize:]; len(rest) > 0; {
		block, next, _ := nextXerialBlock(rest)
		n, _ := s2.DecodedLen(block)
		var err error
		if out, err = decodeSnappyBlock(out, block, n); err != nil {
			return nil, err
		}
		rest = next
	}
	return out, nil
}

func nextXerialBlock(b []byte) (block, rest []byte, err error) {
	if len(b) < 4 {
		return nil, nil, errors.New("xerial: truncated block length")
	}
	n := binary.BigEndian.Uint32(b)
	if n == 0 || uint64(n) > uint64(len(b)-4) {
		return nil, nil, fmt.Errorf("xerial: block length %d with %d bytes left", n, len(b)-4)
	}
	return b[4 : 4+n], b[4+n:], nil
}

// --- compression ---

// Compression levels as Kafka's compression.<codec>.level configs define them (KIP-390).
// Level 0 means the codec's default everywhere.
const (
	GzipMinLevel = 1
	GzipMaxLevel = 9
	LZ4MinLevel  = 1
	LZ4MaxLevel  = 17
	ZstdMinLevel = -(1 << 17)
	ZstdMaxLevel = 22
)

// Compress appends src compressed with c to dst and returns the extended slice. level is
// Kafka's compression.<codec>.level (0 is the codec's default; snappy has none); a level
// outside Kafka's range is ErrCompressionLevel. Snappy is written as one raw block, which
// every client reads; LZ4 as a frame of independent 64 KiB blocks, as Kafka's Java client
// writes it.
func Compress(dst []byte, c Compression, level int, src []byte) ([]byte, error) {
	switch c {
	case CompressionNone:
		return append(dst, src...), nil
	case CompressionGzip:
		return compressGzip(dst, level, src)
	case CompressionSnappy:
		n := s2.MaxEncodedLen(len(src))
		if n < 0 {
			return dst, fmt.Errorf("%w: %d bytes is too large for snappy", ErrTooLarge, len(src))
		}
		dst = slices.Grow(dst, n)
		out := s2.EncodeSnappy(dst[len(dst):len(dst)+n], src)
		return dst[:len(dst)+len(out)], nil
	case CompressionLZ4:
		return compressLZ4(dst, level, src)
	case CompressionZstd:
		return compressZstd(dst, level, src)
	}
	return dst, fmt.Errorf("%w: codec %d", ErrCompression, int8(c))
}

// appendWriter is an io.Writer that appends to a slice, so encoders write straight into the
// caller's buffer.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

type gzipEncoder struct {
	out appendWriter
	zw  *gzip.Writer
}

// gzipEncoders[i] pools writers of gzip level i-1 (gzip.DefaultCompression is -1).
var gzipEncoders [GzipMaxLevel + 2]sync.Pool

func compressGzip(dst []byte, level int, src []byte) ([]byte, error) {
	if level == 0 {
		level = gzip.DefaultCompression
	}
	if level != gzip.DefaultCompression && (level < GzipMinLevel || level > GzipMaxLevel) {
		return dst, fmt.Errorf("%w: gzip level %d", ErrCompressionLevel, level)
	}
	pool := &gzipEncoders[level+1]
	e, _ := pool.Get().(*gzipEncoder)
	if e == nil {
		zw, err := gzip.NewWriterLevel(nil, level)
		if err != nil {
			return dst, fmt.Errorf("%w: gzip level %d: %v", ErrCompressionLevel, level, err)
		}
		e = &gzipEncoder{zw: zw}
	}
	e.out.b = dst
	e.zw.Reset(&e.out)
	_, err := e.zw.Write(src)
	if err == nil {
		err = e.zw.Close()
	}
	out := e.out.b
	e.out.b = nil
	pool.Put(e)
	return out, err
}

type lz4Encoder struct {
	out appendWriter
	zw  *lz4.Writer
}

// lz4Encoders[i] pools writers of pierrec level index i (0 fast, 1-9 high compression).
var lz4Encoders [10]sync.Pool

// lz4LevelIndex maps Kafka's LZ4 level (1-17, where 1-2 are the fast compressor and higher
// levels the high-compression one) onto pierrec's fast mode and its nine HC depths.
func lz4LevelIndex(level int) (int, error) {
	switch {
	case level == 0:
		// Kafka's default is HC level 9, which is several times slower than the fast
		// mode that franz-go and librdkafka default to; Sluice recompresses on the
		// produce path, so the default favours speed. Set a level to get HC.
		return 0, nil
	case level < LZ4MinLevel || level > LZ4MaxLevel:
		return 0, fmt.Errorf("%w: lz4 level %d", ErrCompressionLevel, level)
	case level <= 2:
		return 0, nil
	default:
		return min(max((level-1)/2, 1), 9), nil
	}
}

var lz4Levels = [10]lz4.CompressionLevel{lz4.Fast, lz4.Level1, lz4.Level2, lz4.Level3,
	lz4.Level4, lz4.Level5, lz4.Level6, lz4.Level7, lz4.Level8, lz4.Level9}

func compressLZ4(dst []byte, level int, src []byte) ([]byte, error) {
	idx, err := lz4LevelIndex(level)
	if err != nil {
		return dst, err
	}
	pool := &lz4Encoders[idx]
	e, _ := pool.Get().(*lz4Encoder)
	if e == nil {
		e = &lz4Encoder{zw: lz4.NewWriter(nil)}
		if err := e.zw.Apply(
			lz4.BlockSizeOption(lz4.Block64Kb),
			lz4.ConcurrencyOption(1),
			lz4.CompressionLevelOption(lz4Levels[idx]),
		); err != nil {
			return dst, fmt.Errorf("record: lz4 writer options: %w", err)
		}
	}
	e.out.b = dst
	e.zw.Reset(&e.out)
	_, err = e.zw.Write(src)
	if err == nil {
		err = e.zw.Close()
	}
	out := e.out.b
	e.out.b = nil
	e.zw.Reset(nil)
	pool.Put(e)
	return out, err
}

// zstdEncoders holds one shared encoder per klauspost level (fastest, default, better,
// best), built on first use: EncodeAll is safe for concurrent use and pools its own state.
var zstdEncoders [5]struct {
	once sync.Once
	enc  *zstd.Encoder
	err  error
}

func compressZstd(dst []byte, level int, src []byte) ([]byte, error) {
	if level == 0 {
		level = 3 // zstd's own default, and Kafka's
	}
	if level < ZstdMinLevel || level > ZstdMaxLevel {
		return dst, fmt.Errorf("%w: zstd level %d", ErrCompressionLevel, level)
	}
	el := zstd.EncoderLevelFromZstd(level)
	slot := &zstdEncoders[el]
	slot.once.Do(func() {
		slot.enc, slot.err = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(el),
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
			// An empty records section still gets a frame, so decoders see valid input.
			zstd.WithZeroFrames(true),
		)
	})
	if slot.err != nil {
		return dst, fmt.Errorf("record: zstd encoder: %w", slot.err)
	}
	if len(src) > math.MaxInt32 {
		return dst, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(src))
	}
	return slot.enc.EncodeAll(src, dst), nil
}
