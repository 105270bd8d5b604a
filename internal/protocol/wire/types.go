package wire

import (
	"encoding/hex"
	"os"
	"slices"
)

// UUID is a Kafka uuid: 16 raw bytes. The zero UUID means "unset" in most messages.
type UUID [16]byte

// String formats u as 32 hex digits (Kafka prints base64; logs only need something stable).
func (u UUID) String() string { return hex.EncodeToString(u[:]) }

// IsZero reports whether u is all zero bytes.
func (u UUID) IsZero() bool { return u == UUID{} }

// TaggedField is a tagged field this code does not know: its tag and raw payload. Decoders
// keep these so a message passes through Sluice without losing what a newer peer sent.
type TaggedField struct {
	Tag  uint32
	Data []byte
}

// Tags is the list of unknown tagged fields of one struct, in the order they were read.
// Encoders write them merged with the known tagged fields in ascending tag order.
type Tags []TaggedField

// sorted returns t in ascending tag order, copying only when t is out of order.
func (t Tags) sorted() Tags {
	if slices.IsSortedFunc(t, cmpTag) {
		return t
	}
	c := slices.Clone(t)
	slices.SortStableFunc(c, cmpTag)
	return c
}

func cmpTag(a, b TaggedField) int {
	switch {
	case a.Tag < b.Tag:
		return -1
	case a.Tag > b.Tag:
		return 1
	}
	return 0
}

// FileRegion is Length bytes of File starting at Offset. It is always read with an explicit
// offset (pread, or sendfile with an offset pointer), never through the file's shared
// position, so many fetches may send regions of the same *os.File at once.
type FileRegion struct {
	File   *os.File
	Offset int64
	Length int64
}

// Chunk is one piece of encoded output or of a record set: in-memory Bytes, or a file
// Region when Region.File is non-nil.
type Chunk struct {
	Bytes  []byte
	Region FileRegion
}

// Len is the number of bytes the chunk contributes.
func (c Chunk) Len() int64 {
	if c.Region.File != nil {
		return c.Region.Length
	}
	return int64(len(c.Bytes))
}

// RecordSet is the value of a "records" field: a Kafka record-batch byte sequence that the
// codec never parses. Decoding yields one contiguous span aliasing the request buffer (no
// copy). For encoding, a set may also be built from chunks that mix memory and file
// regions, so a fetch response can carry segment bytes that go out with sendfile.
//
// The zero value is null (Kafka's default for records). RecordBytes([]byte{}) is an empty,
// non-null set.
type RecordSet struct {
	contig []byte  // the whole set when chunks is nil
	chunks []Chunk // the set, when built from parts
}

// RecordBytes returns a set holding b (nil b gives the null set). b is not copied.
func RecordBytes(b []byte) RecordSet { return RecordSet{contig: b} }

// RecordChunks returns a non-null set made of the given chunks (not copied).
func RecordChunks(chunks []Chunk) RecordSet {
	if chunks == nil {
		chunks = []Chunk{}
	}
	return RecordSet{chunks: chunks}
}

// IsNull reports whether the set is null.
func (s RecordSet) IsNull() bool { return s.contig == nil && s.chunks == nil }

// Len is the set's size in bytes.
func (s RecordSet) Len() int64 {
	if s.chunks == nil {
		return int64(len(s.contig))
	}
	var n int64
	for _, c := range s.chunks {
		n += c.Len()
	}
	return n
}

// Bytes returns the set as one in-memory slice when it is one (always after decoding), and
// false when it is built from several chunks or file regions.
func (s RecordSet) Bytes() ([]byte, bool) {
	if s.chunks == nil {
		return s.contig, true
	}
	if len(s.chunks) == 1 && s.chunks[0].Region.File == nil {
		return s.chunks[0].Bytes, true
	}
	return nil, false
}

// Chunks returns the set's parts (one bytes chunk for a contiguous set, none when null).
func (s RecordSet) Chunks() []Chunk {
	if s.chunks != nil {
		return s.chunks
	}
	if s.contig == nil {
		return nil
	}
	return []Chunk{{Bytes: s.contig}}
}
