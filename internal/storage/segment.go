package storage

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sluicehq/sluice/internal/record"
)

// File-name suffixes, as Kafka names them.
const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	txnIndexSuffix  = ".txnindex"
	snapshotSuffix  = ".snapshot"
	deletedSuffix   = ".deleted"
	cleanedSuffix   = ".cleaned"
	swapSuffix      = ".swap"
)

// segmentFileName is Kafka's 20-digit zero-padded base offset plus a suffix.
func segmentFileName(base int64, suffix string) string {
	return fmt.Sprintf("%020d%s", base, suffix)
}

// parseBaseOffset reads the base offset from a segment-like file name: the digits before the
// first dot. ok is false for names that are not Kafka's layout.
func parseBaseOffset(name string) (int64, bool) {
	dot := strings.IndexByte(name, '.')
	if dot != 20 {
		return 0, false
	}
	v, err := strconv.ParseInt(name[:dot], 10, 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return v, true
}

// segment is one .log file with its two indexes. Its byte size, next offset and max
// timestamp are atomics so that readers never lock; everything else that changes is owned by
// the log's single writer (Log.writeMu). The segment list holds one reference; every reader
// (Region) holds another; the file closes when the last reference goes.
type segment struct {
	fs   FS
	dir  string
	base int64
	log  File

	offIdx  offsetIndex
	timeIdx timeIndex

	// Indexes of segments found at open are read lazily, on first use.
	idxMu     sync.Mutex
	idxLoaded atomic.Bool

	sizeBytes   atomic.Int64 // bytes of whole batches; readers never look past it
	next        atomic.Int64 // offset after the last batch, base when empty
	maxTs       atomic.Int64 // largest batch max timestamp, -1 when empty
	maxTsOffset atomic.Int64 // last offset of the batch holding maxTs
	syncedBytes atomic.Int64 // prefix of the .log known durable; negative: a cut to sync (markCut)
	cuts        atomic.Int64 // truncations of the file, for markCut
	idxDirty    atomic.Bool  // index files written but not yet synced

	refs atomic.Int32

	// Owned by the writer.
	bytesSinceIndex int64
	firstBatchTs    int64 // max timestamp of the first batch (Kafka's rolling-based timestamp), -1
	createdMs       int64
	jitterMs        int64
	maxIdxEntries   int // offset index capacity; the time index gets the same byte budget
	maxTimeEntries  int
	idxPrealloc     int64
	sealed          bool
}

func (s *segment) logPath() string { return filepath.Join(s.dir, segmentFileName(s.base, logSuffix)) }
func (s *segment) indexPath() string {
	return filepath.Join(s.dir, segmentFileName(s.base, indexSuffix))
}
func (s *segment) timeIndexPath() string {
	return filepath.Join(s.dir, segmentFileName(s.base, timeIndexSuffix))
}

func newSegmentStruct(fsys FS, dir string, base int64, f File, indexBytes int64, nowMs, jitterMs int64) *segment {
	s := &segment{fs: fsys, dir: dir, base: base, log: f, createdMs: nowMs, jitterMs: jitterMs, firstBatchTs: -1}
	s.offIdx.base, s.timeIdx.base = base, base
	s.maxIdxEntries = int(indexBytes / offsetIndexEntrySize)
	s.maxTimeEntries = int(indexBytes / timeIndexEntrySize)
	s.idxPrealloc = indexBytes
	s.next.Store(base)
	s.maxTs.Store(-1)
	s.maxTsOffset.Store(-1)
	s.refs.Store(1)
	return s
}

// createSegment makes a new, empty active segment: the .log only. Its indexes live in
// memory and reach their files when the segment is sealed or the log closed (Kafka
// preallocates the active segment's index files; nothing needs them on disk before then,
// since recovery rebuilds missing ones, and two file creations per segment are the bulk of
// creating a partition). Stale index files of the same name (a segment recreated at the same
// base) are removed so that a crash cannot pair them with the new .log.
func createSegment(fsys FS, dir string, base int64, cfg *Config, nowMs, jitterMs int64) (*segment, error) {
	s := newSegmentStruct(fsys, dir, base, nil, cfg.SegmentIndexBytes, nowMs, jitterMs)
	f, err := fsys.OpenFile(s.logPath(), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	s.log = f
	for _, p := range []string{s.indexPath(), s.timeIndexPath()} {
		if err := fsys.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			f.Close()
			return nil, err
		}
	}
	s.idxLoaded.Store(true)
	return s, nil
}

// markCut records that the file was truncated and the cut is not durable yet: syncedBytes
// becomes a negative value of its own, so that a flush round that began before the cut
// cannot mark it synced (its compare-and-swap expects the value it saw).
func (s *segment) markCut() { s.syncedBytes.Store(-s.cuts.Add(1)) }

// acquire takes a reference unless the segment is already closed.
func (s *segment) acquire() bool {
	for {
		n := s.refs.Load()
		if n <= 0 {
			return false
		}
		if s.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release drops a reference and closes the file with the last one.
func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		s.log.Close()
	}
}

// header reads the batch header at pos into hdr (record.HeaderSize bytes) and returns it with
// the batch's total size. It returns io.EOF when no whole header lies before limit.
func (s *segment) header(pos, limit int64, hdr []byte) (record.Batch, int64, error) {
	if pos+record.HeaderSize > limit {
		return nil, 0, io.EOF
	}
	if _, err := s.log.ReadAt(hdr[:record.HeaderSize], pos); err != nil {
		return nil, 0, err
	}
	n, err := record.BatchSize(hdr)
	if err != nil {
		return nil, 0, err
	}
	if pos+int64(n) > limit {
		return nil, 0, io.EOF
	}
	return record.Batch(hdr[:record.HeaderSize]), int64(n), nil
}

// findBatch returns the position of the first batch whose last offset is >= off, with its
// header copied into hdr. found is false when no such batch lies before limit.
func (s *segment) findBatch(off, limit int64, hdr []byte) (pos int64, b record.Batch, size int64, found bool, err error) {
	s.ensureIndexes()
	pos = s.offIdx.lookup(off)
	for {
		b, size, err = s.header(pos, limit, hdr)
		if err == io.EOF {
			return 0, nil, 0, false, nil
		}
		if err != nil {
			return 0, nil, 0, false, err
		}
		if b.LastOffset() >= off {
			return pos, b, size, true, nil
		}
		pos += size
	}
}

// alignDown returns the end of the last whole batch that starts at or after from and ends at
// or before limit (from itself when the first batch does not fit).
func (s *segment) alignDown(from, limit int64, hdr []byte) (int64, error) {
	s.ensureIndexes()
	pos := max(from, s.offIdx.lookupPosition(limit))
	for {
		_, size, err := s.header(pos, limit, hdr)
		if err == io.EOF {
			return pos, nil
		}
		if err != nil {
			return 0, err
		}
		pos += size
	}
}

// indexBatch updates max timestamp and the sparse indexes for a batch just written at pos
// (Kafka's rules: an index entry when more than index.interval.bytes were written since the
// last one, keyed by the batch's last offset; a time index entry only when the max
// timestamp grew). Writer only.
func (s *segment) indexBatch(pos int64, b record.Batch, size, intervalBytes int64) {
	if ts := b.MaxTimestamp(); ts > s.maxTs.Load() {
		s.maxTs.Store(ts)
		s.maxTsOffset.Store(b.LastOffset())
	}
	if s.firstBatchTs < 0 && pos == 0 {
		s.firstBatchTs = b.MaxTimestamp()
	}
	if s.bytesSinceIndex > intervalBytes {
		s.offIdx.append(b.LastOffset(), pos)
		s.timeIdx.maybeAppend(s.maxTs.Load(), s.maxTsOffset.Load())
		s.bytesSinceIndex = 0
	}
	s.bytesSinceIndex += size
}

func (s *segment) indexFull() bool {
	return s.offIdx.len() >= s.maxIdxEntries || s.timeIdx.len() >= s.maxTimeEntries
}

// seal finishes the active segment: a last time index entry for the max timestamp (so that a
// reopened log finds it without a scan), both index files written and trimmed to their
// entries. The files are synced by the next flush (idxDirty).
func (s *segment) seal() error {
	if s.sealed {
		return nil
	}
	if ts := s.maxTs.Load(); ts >= 0 {
		s.timeIdx.maybeAppend(ts, s.maxTsOffset.Load())
	}
	if err := s.writeIndexes(false); err != nil {
		return err
	}
	s.sealed = true
	return nil
}

// writeIndexes writes both index files from memory, trimmed to their entries, or padded to
// the preallocated size when the segment stays active.
func (s *segment) writeIndexes(prealloc bool) error {
	for _, ix := range []struct {
		path  string
		data  []byte
		alloc int64
	}{
		{s.indexPath(), s.offIdx.entries(), int64(s.maxIdxEntries) * offsetIndexEntrySize},
		{s.timeIndexPath(), s.timeIdx.entries(), int64(s.maxTimeEntries) * timeIndexEntrySize},
	} {
		f, err := s.fs.OpenFile(ix.path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		size := int64(len(ix.data))
		if prealloc {
			size = max(size, ix.alloc)
		}
		// Shrink first so that stale entries past the new end never survive, then write.
		err = f.Truncate(int64(len(ix.data)))
		if err == nil && len(ix.data) > 0 {
			_, err = f.WriteAt(ix.data, 0)
		}
		if err == nil && size > int64(len(ix.data)) {
			err = f.Truncate(size)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	s.idxDirty.Store(true)
	return nil
}

// syncIndexes fsyncs both index files if they were written since the last sync.
func (s *segment) syncIndexes() error {
	if !s.idxDirty.Swap(false) {
		return nil
	}
	for _, p := range []string{s.indexPath(), s.timeIndexPath()} {
		f, err := s.fs.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // renamed away (deleted or swapped) meanwhile
			}
			s.idxDirty.Store(true)
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			s.idxDirty.Store(true)
			return err
		}
	}
	return nil
}

// ensureIndexes loads the index files of a segment found at open on first use, and rebuilds
// them from the .log when they are missing or fail validation.
func (s *segment) ensureIndexes() {
	if s.idxLoaded.Load() {
		return
	}
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	if s.idxLoaded.Load() {
		return
	}
	size := s.sizeBytes.Load()
	maxRel := s.next.Load() - 1 - s.base
	limit := max(s.idxPrealloc, 1<<20)
	ok := false
	if raw, err := readFile(s.fs, s.indexPath(), limit); err == nil {
		if ents, valid := validateOffsetIndex(raw, size, maxRel); valid {
			if traw, err := readFile(s.fs, s.timeIndexPath(), limit); err == nil {
				if tents, tvalid := validateTimeIndex(traw, maxRel); tvalid {
					s.offIdx.set(ents)
					s.timeIdx.set(tents)
					ok = true
				}
			}
		}
	}
	if !ok {
		// Rebuild from the log. A read error leaves the index empty, which is still
		// correct (lookups scan from the segment's start), only slower.
		_ = s.rebuildIndexes(DefaultIndexIntervalBytes)
	}
	s.idxLoaded.Store(true)
}

// rebuildIndexes recomputes both indexes from the batch headers of a sealed segment without
// changing its files on disk (they are rewritten when the segment is next sealed, or on
// close).
func (s *segment) rebuildIndexes(intervalBytes int64) error {
	var oi offsetIndex
	var ti timeIndex
	oi.base, ti.base = s.base, s.base
	var hdr [record.HeaderSize]byte
	limit := s.sizeBytes.Load()
	var since int64
	maxTs, maxTsOff := int64(-1), int64(-1)
	for pos := int64(0); ; {
		b, size, err := s.header(pos, limit, hdr[:])
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if ts := b.MaxTimestamp(); ts > maxTs {
			maxTs, maxTsOff = ts, b.LastOffset()
		}
		if since > intervalBytes {
			oi.append(b.LastOffset(), pos)
			ti.maybeAppend(maxTs, maxTsOff)
			since = 0
		}
		since += size
		pos += size
	}
	if maxTs >= 0 {
		ti.maybeAppend(maxTs, maxTsOff)
	}
	s.offIdx.set(oi.entries())
	s.timeIdx.set(ti.entries())
	return nil
}

// recoverBatches validates the segment batch by batch from its start (CRC included),
// rebuilds its indexes and max timestamp, calls visit for every valid batch, and truncates
// the file after the last valid one. expectNext is the smallest base offset the first batch
// may have. It returns the number of bytes cut off.
func (s *segment) recoverBatches(expectNext, intervalBytes int64, visit func(record.Batch)) (int64, error) {
	fileSize, err := s.log.Size()
	if err != nil {
		return 0, err
	}
	s.offIdx.set(nil)
	s.timeIdx.set(nil)
	s.maxTs.Store(-1)
	s.maxTsOffset.Store(-1)
	s.bytesSinceIndex = 0
	s.firstBatchTs = -1
	next := max(expectNext, s.base)

	// Read in chunks: a reusable window [winStart, winStart+len(win)) of the file.
	const chunk = 1 << 20
	wp := recoverBufs.Get().(*[]byte)
	defer recoverBufs.Put(wp)
	win := (*wp)[:0]
	defer func() { *wp = win[:0] }()
	winStart := int64(0)
	pos := int64(0)
	for pos < fileSize {
		need := int64(record.LogOverhead)
		if pos+need > fileSize {
			break
		}
		if err := fill(s.log, &win, &winStart, pos, need, fileSize, chunk); err != nil {
			return 0, err
		}
		size, err := record.BatchSize(win[pos-winStart:])
		if err != nil || pos+int64(size) > fileSize {
			break
		}
		if err := fill(s.log, &win, &winStart, pos, int64(size), fileSize, chunk); err != nil {
			return 0, err
		}
		b, _, err := record.Parse(win[pos-winStart:], 0)
		if err != nil {
			break
		}
		if b.BaseOffset() < next || b.LastOffset()-s.base > math.MaxInt32 {
			break
		}
		s.indexBatch(pos, b, int64(size), intervalBytes)
		if visit != nil {
			visit(b)
		}
		next = b.NextOffset()
		pos += int64(size)
	}
	s.sizeBytes.Store(pos)
	s.next.Store(max(next, s.base))
	if pos < fileSize {
		if err := s.log.Truncate(pos); err != nil {
			return 0, err
		}
	}
	s.idxLoaded.Store(true)
	return fileSize - pos, nil
}

// recoverBufs recycles recovery's read windows across segments (1 MiB, grown for larger
// batches).
var recoverBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1<<20); return &b }}

// fill makes win hold file bytes [pos, pos+need). It reads up to chunk bytes at a time, and
// grows win only as far as one batch needs (bounded by the file size).
func fill(f File, win *[]byte, winStart *int64, pos, need, fileSize, chunk int64) error {
	if pos >= *winStart && pos+need <= *winStart+int64(len(*win)) {
		return nil
	}
	want := max(need, chunk)
	want = min(want, fileSize-pos)
	if int64(cap(*win)) < want {
		*win = make([]byte, want)
	}
	*win = (*win)[:want]
	n, err := f.ReadAt(*win, pos)
	if err != nil && !(errors.Is(err, io.EOF) && int64(n) >= need) {
		if errors.Is(err, io.EOF) {
			*win = (*win)[:n]
			*winStart = pos
			return nil
		}
		return err
	}
	*win = (*win)[:n]
	*winStart = pos
	return nil
}

// truncateTo removes every batch whose last offset is >= off. It returns whether anything
// was removed.
func (s *segment) truncateTo(off int64) (bool, error) {
	var hdr [record.HeaderSize]byte
	size := s.sizeBytes.Load()
	pos, _, _, found, err := s.findBatch(off, size, hdr[:])
	if err != nil {
		return false, err
	}
	if !found {
		// Nothing to cut, but the caller makes this segment the active one: its next
		// offset must be exact (a sealed segment loaded at open only knows an upper
		// bound), so recompute everything below.
		pos = size
	} else if err := s.log.Truncate(pos); err != nil {
		return false, err
	}
	s.sizeBytes.Store(pos)
	if found {
		// The cut is durable only once the file is synced: until then a power loss may
		// bring the removed batches back, whole and valid, for recovery to keep. Below
		// any size, so that the next flush round syncs the file (Kafka's flush covers
		// the truncated segment the same way).
		s.markCut()
	}
	s.offIdx.truncateToPosition(pos)
	// Recompute what depends on the dropped tail from the kept batches.
	s.timeIdx.truncateToOffset(off)
	maxTs, maxTsOff := int64(-1), int64(-1)
	next := s.base
	var since int64
	var lastIdxPos int64 = -1
	if n := s.offIdx.len(); n > 0 {
		_, p := offsetEntry(s.offIdx.entries(), n-1)
		lastIdxPos = int64(p)
	}
	s.firstBatchTs = -1
	for p := int64(0); p < pos; {
		b, sz, err := s.header(p, pos, hdr[:])
		if err != nil {
			return true, err
		}
		if ts := b.MaxTimestamp(); ts > maxTs {
			maxTs, maxTsOff = ts, b.LastOffset()
		}
		if p == 0 {
			s.firstBatchTs = b.MaxTimestamp()
		}
		if p == lastIdxPos {
			since = 0
		}
		since += sz
		next = b.NextOffset()
		p += sz
	}
	s.maxTs.Store(maxTs)
	s.maxTsOffset.Store(maxTsOff)
	s.next.Store(next)
	s.bytesSinceIndex = since
	return found, nil
}
