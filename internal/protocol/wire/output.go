package wire

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"
)

// Output is an encoded message (typically a whole response frame) as an ordered list of
// chunks, buffer spans and file regions, with their total size.
type Output struct {
	Chunks []Chunk
	Size   int64
}

// WriteTo writes the chunks to dst in order; see WriteChunks.
func (o Output) WriteTo(dst io.Writer) (int64, error) { return WriteChunks(dst, o.Chunks) }

// AppendTo appends the whole output to b, reading file regions with ReadAt. Tests and
// callers that need one contiguous buffer use it; the network path uses WriteTo.
func (o Output) AppendTo(b []byte) ([]byte, error) {
	for _, c := range o.Chunks {
		if c.Region.File == nil {
			b = append(b, c.Bytes...)
			continue
		}
		start := len(b)
		b = append(b, make([]byte, c.Region.Length)...)
		m, err := c.Region.File.ReadAt(b[start:], c.Region.Offset)
		if int64(m) < c.Region.Length {
			if err == nil || err == io.EOF {
				err = ErrShortFile
			}
			return b[:start+m], fmt.Errorf("wire: reading file region: %w", err)
		}
	}
	return b, nil
}

// WriteChunks writes chunks to dst in order: buffer spans with Write, file regions with
// sendfile when dst is a socket (it implements syscall.Conn) on Linux, otherwise by reading
// the region with ReadAt into a pooled, bounded buffer and writing that. Regions are always
// read at their explicit offset, so concurrent senders may share one *os.File. dst must be
// the connection itself, not a buffering wrapper, for sendfile to apply; a deadline set on
// the connection bounds the whole write.
func WriteChunks(dst io.Writer, chunks []Chunk) (int64, error) {
	var total int64
	for _, c := range chunks {
		if c.Region.File == nil {
			if len(c.Bytes) == 0 {
				continue
			}
			m, err := dst.Write(c.Bytes)
			total += int64(m)
			if err != nil {
				return total, err
			}
			continue
		}
		if c.Region.Length == 0 {
			continue
		}
		m, handled, err := sendRegion(dst, c.Region)
		total += m
		if err != nil {
			return total, err
		}
		if !handled {
			rest := c.Region
			rest.Offset += m
			rest.Length -= m
			m, err = copyRegion(dst, rest)
			total += m
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// copyBufferBytes bounds the memory one fallback copy holds.
const copyBufferBytes = 64 << 10

var copyBuffers = sync.Pool{New: func() any {
	b := make([]byte, copyBufferBytes)
	return &b
}}

// copyRegion sends a file region by pread + Write through a pooled buffer.
func copyRegion(dst io.Writer, r FileRegion) (int64, error) {
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	var n int64
	off, remain := r.Offset, r.Length
	for remain > 0 {
		b := *bp
		if int64(len(b)) > remain {
			b = b[:remain]
		}
		m, err := r.File.ReadAt(b, off)
		if m > 0 {
			wm, werr := dst.Write(b[:m])
			n += int64(wm)
			if werr != nil {
				return n, werr
			}
			off += int64(m)
			remain -= int64(m)
		}
		if m < len(b) {
			if err == nil || err == io.EOF {
				err = ErrShortFile
			}
			return n, fmt.Errorf("wire: reading file region: %w", err)
		}
	}
	return n, nil
}

// ReadFrame reads one size-prefixed frame (int32 big-endian size, then that many bytes)
// from r and returns its payload. A size below zero or above maxBytes fails before anything
// is allocated. The payload reuses buf when it is large enough.
func ReadFrame(r io.Reader, maxBytes int, buf []byte) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	size := int32(binary.BigEndian.Uint32(hdr[:]))
	if size < 0 {
		return nil, fmt.Errorf("%w: frame size %d", ErrInvalidLength, size)
	}
	if int64(size) > int64(maxBytes) {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, size, maxBytes)
	}
	if cap(buf) >= int(size) {
		buf = buf[:size]
	} else {
		buf = make([]byte, size)
	}
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}
