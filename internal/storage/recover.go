package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/internal/record"
)

// load brings a partition directory to a consistent state and builds the in-memory log:
//
//  1. leftovers of interrupted operations: *.tmp and *.deleted are removed; *.cleaned files
//     (an unfinished compaction) are removed, and so are *.swap files at or above the lowest
//     .cleaned base offset (they may be incomplete); the remaining *.swap segments completed
//     their compaction: the segments they replace are removed and they are renamed into place
//     (their indexes are rebuilt);
//  2. every <base>.log becomes a segment; index files without a .log are removed;
//  3. after an unclean shutdown, every segment from the one holding the recovery point on is
//     scanned batch by batch (CRC checked); the first invalid batch and everything after it,
//     later segments included, is cut off, and the indexes are rebuilt. After a clean
//     shutdown only the active segment's tail past its last index entry is read;
//  4. the leader epoch cache and producer state are brought in line with the log.
func (l *Log) load(ctx context.Context, opts LogOptions) error {
	// A new partition directory is not made durable here: the log's first flush round does
	// it (and writes partition.metadata and the epoch checkpoint), so that creating
	// partitions costs no fsync. Until then a crash may lose the directory or leave it
	// partly written; nothing in it was acknowledged durable, and load tolerates each state.
	created, makeDurable, err := mkdirDeferred(l.fs, l.dir, opts.parentDir)
	if err != nil {
		return err
	}
	if created {
		l.makeParentDurable = makeDurable
		l.parentPending.Store(true)
	}
	if err := l.loadPartitionMetadata(opts.TopicID, created); err != nil {
		return err
	}
	if created {
		l.epochs = newEpochCache(l.fs, l.dir)
	} else if l.epochs, err = loadEpochCache(l.fs, l.dir); err != nil {
		// Every batch is rescanned so that the epochs come back from the batches, which
		// carry them (Kafka refuses to load such a log).
		l.logger.Warn("leader epoch checkpoint unreadable; recovering the whole log to rebuild it", "err", err)
		l.epochs = newEpochCache(l.fs, l.dir)
		opts.HadCleanShutdown = false
		opts.RecoveryPoint = 0
	}
	l.epochs.deferred = true
	var names []string
	if !created {
		if names, err = l.fs.List(l.dir); err != nil {
			return err
		}
	}
	minCleaned := int64(-1)
	var swaps []string
	for _, n := range names {
		p := filepath.Join(l.dir, n)
		switch {
		case strings.HasSuffix(n, ".tmp"), strings.HasSuffix(n, deletedSuffix):
			l.removeQuiet(p)
		case strings.HasSuffix(n, cleanedSuffix):
			if off, ok := parseBaseOffset(n); ok && (minCleaned < 0 || off < minCleaned) {
				minCleaned = off
			}
			l.removeQuiet(p)
		case strings.HasSuffix(n, swapSuffix):
			swaps = append(swaps, n)
		}
	}
	for _, n := range swaps {
		p := filepath.Join(l.dir, n)
		off, ok := parseBaseOffset(n)
		if !ok || (minCleaned >= 0 && off >= minCleaned) || !strings.HasSuffix(n, logSuffix+swapSuffix) {
			l.removeQuiet(p) // index swaps are rebuilt; swaps after a .cleaned may be partial
			continue
		}
		if err := l.installSwap(off, p); err != nil {
			return err
		}
	}

	if !created {
		if names, err = l.fs.List(l.dir); err != nil {
			return err
		}
	}
	logs := map[int64]bool{}
	for _, n := range names {
		if off, ok := parseBaseOffset(n); ok && strings.HasSuffix(n, logSuffix) && len(n) == 20+len(logSuffix) {
			logs[off] = true
		}
	}
	for _, n := range names {
		for _, suf := range []string{indexSuffix, timeIndexSuffix, txnIndexSuffix} {
			if off, ok := parseBaseOffset(n); ok && n == segmentFileName(off, suf) && !logs[off] {
				l.removeQuiet(filepath.Join(l.dir, n))
			}
		}
	}
	bases := make([]int64, 0, len(logs))
	for off := range logs {
		bases = append(bases, off)
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })

	cfg := l.cfg.Load()
	var segs []*segment
	for _, base := range bases {
		if err := ctx.Err(); err != nil {
			return err
		}
		s := newSegmentStruct(l.fs, l.dir, base, nil, cfg.SegmentIndexBytes, l.nowMs(), 0)
		f, err := l.fs.OpenFile(s.logPath(), os.O_RDWR, 0)
		if err != nil {
			return err
		}
		s.log = f
		size, err := f.Size()
		if err != nil {
			f.Close()
			return err
		}
		s.sizeBytes.Store(size)
		s.sealed = true
		segs = append(segs, s)
	}
	l.setSegments(segs)
	if len(segs) == 0 {
		start := max(opts.LogStartOffset, 0)
		s, err := createSegment(l.fs, l.dir, start, cfg, l.nowMs(), 0)
		if err != nil {
			return err
		}
		l.setSegments([]*segment{s})
		l.dirDirty.Store(true)
		segs = l.segments()
	}

	// Sealed segments: next offset is bounded by the following base; max timestamp from
	// the time index's last entry (written at seal), or a scan when that is unreadable.
	recoverFrom := len(segs) - 1
	if !opts.HadCleanShutdown {
		recoverFrom = max(segmentFor(segs, opts.RecoveryPoint), 0)
	}
	for i, s := range segs[:recoverFrom] {
		s.next.Store(segs[i+1].base)
		s.syncedBytes.Store(s.sizeBytes.Load()) // below the recovery point: durable already
		l.loadSealedMaxTimestamp(s)
	}
	if opts.HadCleanShutdown {
		if err := l.loadActiveClean(segs[len(segs)-1]); err != nil {
			if !IsCorruption(err) {
				return err
			}
			// The marker said clean but the active segment disagrees: recover it.
			l.logger.Warn("active segment damaged despite clean shutdown; recovering it", "err", err)
			s := segs[len(segs)-1]
			expect := s.base
			if len(segs) > 1 {
				expect = segs[len(segs)-2].next.Load()
			}
			s.idxLoaded.Store(false)
			if _, err := s.recoverBatches(expect, cfg.IndexIntervalBytes, nil); err != nil {
				return err
			}
		}
	} else {
		expect := int64(0)
		// The checkpoint holds every epoch of the data below the recovery point (the flush
		// round that advanced it wrote the checkpoint first) and nothing a truncation
		// removed (TruncateTo writes it at once); it may lack epochs that began since its
		// last write, at or above the recovery point, and entry moves of a log start
		// advance, which the truncations below redo. As in Kafka's recovery, a rescanned
		// batch adds its epoch when that is newer than the latest entry. Batches wholly
		// below the log start are skipped: their data is gone for readers, and an epoch of
		// theirs that the checkpoint lacks (it was written before the epoch's entry was
		// dropped, or not at all) must not come back.
		logStart := max(opts.LogStartOffset, segs[0].base)
		visit := func(b record.Batch) {
			if b.LastOffset() < logStart {
				return
			}
			if err := l.epochs.assignIfNewer(b.PartitionLeaderEpoch(), b.BaseOffset()); err != nil {
				l.logger.Warn("leader epoch checkpoint write failed", "err", err)
			}
		}
		for i := recoverFrom; i < len(segs); i++ {
			s := segs[i]
			cut, err := s.recoverBatches(expect, cfg.IndexIntervalBytes, visit)
			if err != nil {
				return err
			}
			expect = s.next.Load()
			if i < len(segs)-1 && cut == 0 {
				if ts := s.maxTs.Load(); ts >= 0 {
					s.timeIdx.maybeAppend(ts, s.maxTsOffset.Load())
				}
			}
			if err := s.writeIndexes(i == len(segs)-1); err != nil {
				return err
			}
			// Rebuilt index files need no fsync: a later recovery validates or rebuilds
			// them again.
			s.idxDirty.Store(false)
			if cut > 0 {
				l.logger.Warn("recovery truncated a corrupt or torn tail", "segment", s.logPath(), "bytes", cut)
			}
			if cut > 0 && i < len(segs)-1 {
				// Everything after the damage is suspect: drop later segments.
				for _, later := range segs[i+1:] {
					l.removeSegmentFilesNow(later)
				}
				segs = segs[:i+1]
				l.setSegments(segs)
				break
			}
		}
	}
	active := segs[len(segs)-1]
	active.sealed = false
	if opts.HadCleanShutdown {
		// Preallocate the active indexes again, as Kafka does for the active segment.
		if err := active.writeIndexes(true); err != nil {
			return err
		}
	}
	leo := active.next.Load()
	l.logEnd.Store(leo)
	l.logStart.Store(max(opts.LogStartOffset, segs[0].base))
	if l.logStart.Load() > leo {
		l.logger.Warn("log start offset beyond log end: starting over", "logStart", l.logStart.Load(), "logEnd", leo)
		l.producers = newProducerState()
		if err := l.truncateFullyLocked(l.logStart.Load()); err != nil {
			return err
		}
		l.openHW = l.logStart.Load()
		return nil
	}
	l.openHW = l.logStart.Load()
	if opts.HighWatermarkKnown {
		l.openHW = min(max(opts.HighWatermark, l.logStart.Load()), leo)
		l.hw.Store(l.openHW)
	}
	// Kafka's rule for the checkpointed first dirty offset: below the log start or past the
	// log end (data lost at the tail) it is not trusted and the whole log is dirty.
	if cp := opts.CleanerPoint; cp >= l.logStart.Load() && cp <= leo {
		l.cleanerPoint.Store(cp)
	} else {
		l.cleanerPoint.Store(l.logStart.Load())
	}

	// Kafka's load truncates the cache at the log end, then at the log start. The end is
	// applied again after the start: when the log is empty (start == end), an entry that
	// truncateFromStart moves up to the log start is an epoch with no data, which must not
	// survive a reopen whether or not the checkpoint had caught up with the move (a clean
	// shutdown writes the moved entry, which the first truncation then drops). Entries
	// these truncations drop are written away at once (a rare case: an epoch with no data
	// at the log end): an open after a crash could not tell them from live ones.
	if err := l.epochs.truncateFromEndSynced(leo); err != nil {
		return err
	}
	if err := l.epochs.truncateFromStart(l.logStart.Load()); err != nil {
		return err
	}
	if err := l.epochs.truncateFromEndSynced(leo); err != nil {
		return err
	}
	// The moves above are redone by the next open if lost.
	l.epochs.urgent.Store(false)

	l.producers = newProducerState()
	if created {
		// Nothing on disk yet: no snapshots to read, nothing to make durable.
		l.flush.durable.Store(leo)
		return nil
	}
	l.deleteSnapshotsLocked(func(off int64) bool { return off > leo })
	if err := l.rebuildProducerStateLocked(leo); err != nil {
		return err
	}

	if opts.HadCleanShutdown {
		l.flush.durable.Store(leo)
		for _, s := range segs {
			s.syncedBytes.Store(s.sizeBytes.Load())
		}
		return nil
	}
	// What recovery kept may sit only in the page cache (a process crash): make it durable
	// before calling it the recovery point.
	target, err := l.syncRound()
	if err != nil {
		return err
	}
	l.flush.durable.Store(target)
	return nil
}

func (l *Log) removeQuiet(p string) {
	if err := l.fs.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		l.logger.Warn("remove leftover file", "path", p, "err", err)
	}
}

// installSwap completes a compaction swap found at open: segments whose base offsets fall in
// the swap segment's range are replaced by it.
func (l *Log) installSwap(base int64, swapPath string) error {
	f, err := l.fs.OpenFile(swapPath, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	s := newSegmentStruct(l.fs, l.dir, base, f, l.cfg.Load().SegmentIndexBytes, l.nowMs(), 0)
	if _, err := s.recoverBatches(base, DefaultIndexIntervalBytes, nil); err != nil {
		f.Close()
		return err
	}
	next := s.next.Load()
	f.Close()
	names, err := l.fs.List(l.dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		off, ok := parseBaseOffset(n)
		if !ok || off < base || off >= max(next, base+1) || strings.HasSuffix(n, swapSuffix) {
			continue
		}
		for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
			if n == segmentFileName(off, suf) {
				l.removeQuiet(filepath.Join(l.dir, n))
			}
		}
	}
	for _, suf := range []string{indexSuffix, timeIndexSuffix} {
		l.removeQuiet(filepath.Join(l.dir, segmentFileName(base, suf)))
	}
	if err := l.fs.Rename(swapPath, filepath.Join(l.dir, segmentFileName(base, logSuffix))); err != nil {
		return err
	}
	return l.fs.SyncDir(l.dir)
}

// loadSealedMaxTimestamp reads the last .timeindex entry of a sealed segment, which seal()
// made its max timestamp. It returns false (and leaves the scan to the lazy index load) when
// the file is missing or odd.
func (l *Log) loadSealedMaxTimestamp(s *segment) bool {
	f, err := l.fs.OpenFile(s.timeIndexPath(), os.O_RDONLY, 0)
	if err == nil {
		defer f.Close()
		size, serr := f.Size()
		if serr == nil && size >= timeIndexEntrySize && size%timeIndexEntrySize == 0 {
			var e [timeIndexEntrySize]byte
			if _, rerr := f.ReadAt(e[:], size-timeIndexEntrySize); rerr == nil {
				ts, rel := timeEntry(e[:], 0)
				if rel >= 0 && s.base+int64(rel) < s.next.Load() && (ts != 0 || rel != 0) {
					s.maxTs.Store(ts)
					s.maxTsOffset.Store(s.base + int64(rel))
					return true
				}
			}
		}
	}
	// Unknown: derive it from the segment (rebuilds the in-memory indexes too).
	s.idxLoaded.Store(false)
	if err := s.rebuildIndexes(l.cfg.Load().IndexIntervalBytes); err == nil {
		s.idxLoaded.Store(true)
		if ts, off := s.timeIdx.last(); ts >= 0 {
			s.maxTs.Store(ts)
			s.maxTsOffset.Store(off)
		}
	}
	return false
}

// loadActiveClean loads the last segment after a clean shutdown: its indexes (validated),
// then the batch headers past the last index entry to find the log end and the bytes since
// the last index entry.
func (l *Log) loadActiveClean(s *segment) error {
	s.next.Store(math64Max)
	s.ensureIndexes()
	var hdr [record.HeaderSize]byte
	size := s.sizeBytes.Load()
	pos := int64(0)
	if n := s.offIdx.len(); n > 0 {
		_, p := offsetEntry(s.offIdx.entries(), n-1)
		pos = int64(p)
	}
	next := s.base
	since := int64(0)
	first := true
	for {
		b, bsize, err := s.header(pos, size, hdr[:])
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if first && pos == 0 {
			s.firstBatchTs = b.MaxTimestamp()
		}
		first = false
		if ts := b.MaxTimestamp(); ts > s.maxTs.Load() {
			s.maxTs.Store(ts)
			s.maxTsOffset.Store(b.LastOffset())
		}
		next = b.NextOffset()
		since += bsize
		pos += bsize
	}
	if pos < size {
		// A clean shutdown leaves whole batches; anything else is damage.
		return fmt.Errorf("%w", corruptf(s.logPath(), "clean segment has %d trailing bytes", size-pos))
	}
	if s.offIdx.len() > 0 && next == s.base {
		next = s.base
	}
	if ts, off := s.timeIdx.last(); ts > s.maxTs.Load() {
		s.maxTs.Store(ts)
		s.maxTsOffset.Store(off)
	}
	if s.firstBatchTs < 0 && size > 0 {
		if b, _, err := s.header(0, size, hdr[:]); err == nil {
			s.firstBatchTs = b.MaxTimestamp()
		}
	}
	s.next.Store(next)
	s.bytesSinceIndex = since
	if s.offIdx.len() == 0 {
		s.bytesSinceIndex = size
	}
	return nil
}

const math64Max = int64(^uint64(0) >> 1)

// loadPartitionMetadata reads partition.metadata (unless the directory was just created)
// and checks or records id. A file that does not parse is ignored with a warning: a power
// loss before the log's first flush round can leave it empty, and the topic id then comes
// from the next caller that knows it. The file is (re)written by the next flush round.
func (l *Log) loadPartitionMetadata(id TopicID, created bool) error {
	if !created {
		p := filepath.Join(l.dir, partitionMetadataFile)
		data, err := readFile(l.fs, p, 4096)
		switch {
		case err == nil:
			got, derr := decodePartitionMetadata(p, data)
			if derr != nil {
				l.logger.Warn("ignoring unreadable partition.metadata", "err", derr)
				break
			}
			l.meta.Lock()
			l.meta.id = got
			l.meta.Unlock()
		case errors.Is(err, fs.ErrNotExist):
		default:
			return err
		}
	}
	return l.SetTopicID(id)
}

// TopicID is the topic id partition.metadata records for the log (zero when unknown).
func (l *Log) TopicID() TopicID {
	l.meta.Lock()
	defer l.meta.Unlock()
	return l.meta.id
}

// SetTopicID checks id against the log's topic id, or records it (persisted by the next
// flush round) when the log has none. A zero id is ignored; another id than the recorded
// one is ErrInconsistentTopicID.
func (l *Log) SetTopicID(id TopicID) error {
	if id == (TopicID{}) {
		return nil
	}
	l.meta.Lock()
	defer l.meta.Unlock()
	switch l.meta.id {
	case id:
		return nil
	case TopicID{}:
		l.meta.id = id
		l.meta.dirty.Store(true)
		return nil
	}
	return fmt.Errorf("%w: %s has %s, want %s", ErrInconsistentTopicID, filepath.Join(l.dir, partitionMetadataFile), l.meta.id, id)
}

// flushPartitionMetadata writes partition.metadata if the topic id changed since it was
// last written (the caller syncs the directory). It reports whether it wrote.
func (l *Log) flushPartitionMetadata() (bool, error) {
	if !l.meta.dirty.Load() {
		return false, nil
	}
	l.meta.Lock()
	defer l.meta.Unlock()
	if !l.meta.dirty.Load() {
		return false, nil
	}
	if err := writeFileSynced(l.fs, filepath.Join(l.dir, partitionMetadataFile), encodePartitionMetadata(l.meta.id)); err != nil {
		return false, err
	}
	l.meta.dirty.Store(false)
	return true, nil
}
