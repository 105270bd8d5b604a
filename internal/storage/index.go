package storage

import (
	"encoding/binary"
	"math"
	"sort"
	"sync/atomic"
)

const (
	offsetIndexEntrySize = 8  // relative offset int32, position int32
	timeIndexEntrySize   = 12 // timestamp int64, relative offset int32
)

// offsetIndex is a segment's sparse offset index held in memory: entries map the last offset
// of a batch (relative to the segment's base offset) to the batch's byte position. The entry
// bytes are exactly the .index file format. The single writer appends; readers load the
// published slice and binary-search it without locks: appends only write past the length of
// every slice a reader can hold, and truncation copies.
type offsetIndex struct {
	base int64
	buf  atomic.Pointer[[]byte]
}

func (ix *offsetIndex) entries() []byte {
	if p := ix.buf.Load(); p != nil {
		return *p
	}
	return nil
}

func (ix *offsetIndex) set(b []byte) { ix.buf.Store(&b) }

func (ix *offsetIndex) len() int { return len(ix.entries()) / offsetIndexEntrySize }

func offsetEntry(b []byte, i int) (rel int32, pos int32) {
	e := b[i*offsetIndexEntrySize:]
	return int32(binary.BigEndian.Uint32(e)), int32(binary.BigEndian.Uint32(e[4:]))
}

// lookup returns the position of the last entry whose offset is <= off, or 0.
func (ix *offsetIndex) lookup(off int64) int64 {
	b := ix.entries()
	n := len(b) / offsetIndexEntrySize
	rel := off - ix.base
	if rel < 0 {
		return 0
	}
	if rel > math.MaxInt32 {
		rel = math.MaxInt32
	}
	i := sort.Search(n, func(i int) bool { r, _ := offsetEntry(b, i); return int64(r) > rel })
	if i == 0 {
		return 0
	}
	_, pos := offsetEntry(b, i-1)
	return int64(pos)
}

// lookupPosition returns the largest indexed batch position <= pos, or 0.
func (ix *offsetIndex) lookupPosition(pos int64) int64 {
	b := ix.entries()
	n := len(b) / offsetIndexEntrySize
	i := sort.Search(n, func(i int) bool { _, p := offsetEntry(b, i); return int64(p) > pos })
	if i == 0 {
		return 0
	}
	_, p := offsetEntry(b, i-1)
	return int64(p)
}

// append adds an entry; writer only.
func (ix *offsetIndex) append(lastOffset, pos int64) {
	b := ix.entries()
	b = binary.BigEndian.AppendUint32(b, uint32(int32(lastOffset-ix.base)))
	b = binary.BigEndian.AppendUint32(b, uint32(int32(pos)))
	ix.set(b)
}

// truncateToPosition drops entries whose batch starts at or after pos; writer only.
func (ix *offsetIndex) truncateToPosition(pos int64) {
	b := ix.entries()
	n := len(b) / offsetIndexEntrySize
	i := sort.Search(n, func(i int) bool { _, p := offsetEntry(b, i); return int64(p) >= pos })
	ix.set(append([]byte(nil), b[:i*offsetIndexEntrySize]...))
}

// validateOffsetIndex trims preallocated zero entries from raw .index bytes and checks that
// what remains is strictly increasing and points inside the segment. It returns the usable
// entries, or ok=false when the file cannot be trusted (the caller rebuilds it).
func validateOffsetIndex(raw []byte, segSizeBytes int64, maxRel int64) ([]byte, bool) {
	raw = raw[:len(raw)/offsetIndexEntrySize*offsetIndexEntrySize]
	n := len(raw) / offsetIndexEntrySize
	for n > 0 {
		if r, p := offsetEntry(raw, n-1); r != 0 || p != 0 {
			break
		}
		n--
	}
	raw = raw[:n*offsetIndexEntrySize]
	prevRel, prevPos := int64(-1), int64(-1)
	for i := 0; i < n; i++ {
		r, p := offsetEntry(raw, i)
		if int64(r) <= prevRel || int64(p) <= prevPos || r < 0 || int64(r) > maxRel || int64(p) >= segSizeBytes {
			return nil, false
		}
		prevRel, prevPos = int64(r), int64(p)
	}
	return append([]byte(nil), raw...), true
}

// timeIndex maps a timestamp to the (relative) last offset of the batch where the segment's
// max timestamp first reached it. Same concurrency rules as offsetIndex.
type timeIndex struct {
	base int64
	buf  atomic.Pointer[[]byte]
}

func (ix *timeIndex) entries() []byte {
	if p := ix.buf.Load(); p != nil {
		return *p
	}
	return nil
}

func (ix *timeIndex) set(b []byte) { ix.buf.Store(&b) }

func (ix *timeIndex) len() int { return len(ix.entries()) / timeIndexEntrySize }

func timeEntry(b []byte, i int) (ts int64, rel int32) {
	e := b[i*timeIndexEntrySize:]
	return int64(binary.BigEndian.Uint64(e)), int32(binary.BigEndian.Uint32(e[8:]))
}

// last returns the newest entry, or (-1, -1) when empty.
func (ix *timeIndex) last() (ts int64, off int64) {
	b := ix.entries()
	n := len(b) / timeIndexEntrySize
	if n == 0 {
		return -1, -1
	}
	t, r := timeEntry(b, n-1)
	return t, ix.base + int64(r)
}

// lookup returns the offset of the last entry whose timestamp is <= ts, or the base offset.
func (ix *timeIndex) lookup(ts int64) int64 {
	b := ix.entries()
	n := len(b) / timeIndexEntrySize
	i := sort.Search(n, func(i int) bool { t, _ := timeEntry(b, i); return t > ts })
	if i == 0 {
		return ix.base
	}
	_, r := timeEntry(b, i-1)
	return ix.base + int64(r)
}

// maybeAppend adds an entry only when ts is newer than the last one (Kafka's rule: the time
// index is monotonic, so a batch with an older timestamp never gets an entry); writer only.
func (ix *timeIndex) maybeAppend(ts, off int64) {
	if lt, lo := ix.last(); ts <= lt || off < lo {
		return
	}
	b := ix.entries()
	b = binary.BigEndian.AppendUint64(b, uint64(ts))
	b = binary.BigEndian.AppendUint32(b, uint32(int32(off-ix.base)))
	ix.set(b)
}

// truncateToOffset drops entries whose offset is >= off; writer only.
func (ix *timeIndex) truncateToOffset(off int64) {
	b := ix.entries()
	n := len(b) / timeIndexEntrySize
	i := sort.Search(n, func(i int) bool { _, r := timeEntry(b, i); return ix.base+int64(r) >= off })
	ix.set(append([]byte(nil), b[:i*timeIndexEntrySize]...))
}

// validateTimeIndex is validateOffsetIndex for .timeindex bytes.
func validateTimeIndex(raw []byte, maxRel int64) ([]byte, bool) {
	raw = raw[:len(raw)/timeIndexEntrySize*timeIndexEntrySize]
	n := len(raw) / timeIndexEntrySize
	for n > 0 {
		if t, r := timeEntry(raw, n-1); t != 0 || r != 0 {
			break
		}
		n--
	}
	raw = raw[:n*timeIndexEntrySize]
	prevTs, prevRel := int64(math.MinInt64), int64(-1)
	for i := 0; i < n; i++ {
		t, r := timeEntry(raw, i)
		if t <= prevTs || int64(r) < prevRel || r < 0 || int64(r) > maxRel {
			return nil, false
		}
		prevTs, prevRel = t, int64(r)
	}
	return append([]byte(nil), raw...), true
}
