package record

import "encoding/binary"

// Kafka's record fields use zigzag varints (the protobuf encoding, identical to
// encoding/binary's Varint). Kafka's Java reader accepts up to 5 bytes for an int32 and
// silently drops bits that do not fit; these readers reject such encodings instead, so that
// what is stored always means the same thing to every client.

// readVarint32 decodes a zigzag varint that must fit an int32 from b[i:]. It returns the
// value and the position after it; ok is false when b ends first or the value overflows.
func readVarint32(b []byte, i int) (v int32, next int, ok bool) {
	// One byte covers -64..63: every attribute-free length, small delta and header count.
	if i < len(b) && b[i] < 0x80 {
		c := uint32(b[i])
		return int32(c>>1) ^ -int32(c&1), i + 1, true
	}
	var x uint32
	for s := uint(0); s < 35; s += 7 {
		if i >= len(b) {
			return 0, i, false
		}
		c := b[i]
		i++
		if c < 0x80 {
			// The fifth byte carries bits 28-31 only.
			if s == 28 && c > 0x0f {
				return 0, i, false
			}
			x |= uint32(c) << s
			return int32(x>>1) ^ -int32(x&1), i, true
		}
		x |= uint32(c&0x7f) << s
	}
	return 0, i, false
}

// readVarint64 decodes a zigzag varint that must fit an int64 from b[i:].
func readVarint64(b []byte, i int) (v int64, next int, ok bool) {
	if i < len(b) && b[i] < 0x80 {
		c := uint64(b[i])
		return int64(c>>1) ^ -int64(c&1), i + 1, true
	}
	var x uint64
	for s := uint(0); s < 70; s += 7 {
		if i >= len(b) {
			return 0, i, false
		}
		c := b[i]
		i++
		if c < 0x80 {
			// The tenth byte carries bit 63 only.
			if s == 63 && c > 1 {
				return 0, i, false
			}
			x |= uint64(c) << s
			return int64(x>>1) ^ -int64(x&1), i, true
		}
		x |= uint64(c&0x7f) << s
	}
	return 0, i, false
}

// varintLen is the encoded size of v as a zigzag varint.
func varintLen(v int64) int {
	ux := uint64(v) << 1
	if v < 0 {
		ux = ^ux
	}
	n := 1
	for ux >= 0x80 {
		ux >>= 7
		n++
	}
	return n
}

// appendVarint appends v as a zigzag varint.
func appendVarint(dst []byte, v int64) []byte { return binary.AppendVarint(dst, v) }

// bytesLen is the encoded size of a varint-length-prefixed byte string; nil encodes as -1.
func bytesLen(b []byte) int {
	if b == nil {
		return 1
	}
	return varintLen(int64(len(b))) + len(b)
}

// appendBytes appends a varint-length-prefixed byte string; nil encodes as length -1.
func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return append(dst, 1) // zigzag(-1)
	}
	dst = appendVarint(dst, int64(len(b)))
	return append(dst, b...)
}
