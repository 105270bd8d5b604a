package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/record"
)

// LogOptions configures OpenLog. The Manager fills the recovery fields from its checkpoint
// files; a standalone Log (tests, tools) sets them itself.
type LogOptions struct {
	Dir            string // the partition directory, <log.dir>/<topic>-<partition>
	TopicPartition TopicPartition
	TopicID        TopicID // written to partition.metadata when non-zero
	Config         Config
	FS             FS           // default: the real file system
	Logger         *slog.Logger // default: slog.Default()
	Now            func() time.Time

	// HadCleanShutdown skips the recovery scan (the log dir's .kafka_cleanshutdown marker).
	HadCleanShutdown bool
	// RecoveryPoint is the offset up to which the log was known durable
	// (recovery-point-offset-checkpoint); an unclean open scans from its segment on.
	RecoveryPoint int64
	// LogStartOffset from log-start-offset-checkpoint (0 when unknown).
	LogStartOffset int64
	// MaxDecompressedBatchBytes bounds what one compressed batch may decompress to when
	// the log looks inside it (compaction, timestamp lookups). Default
	// DefaultMaxDecompressedBatchBytes. A batch over it is kept whole by compaction and
	// answered at batch level by timestamp lookups.
	MaxDecompressedBatchBytes int

	// HighWatermark from replication-offset-checkpoint, when HighWatermarkKnown. The log
	// starts with it (clamped to [log start, log end], as Kafka does) as its high watermark
	// and reports it from CheckpointedHighWatermark; otherwise the high watermark is unknown
	// until SetHighWatermark (the log end counts as replicated).
	HighWatermark      int64
	HighWatermarkKnown bool
	// CleanerPoint is the first offset not yet compacted, from cleaner-offset-checkpoint;
	// outside [log start, log end] (0 included: unknown) the whole log counts as dirty.
	CleanerPoint int64
	// OnFlush, when set, is called after every flush round (the fdatasyncs of WaitDurable,
	// Close and recovery) with its wall-clock duration, error or not; for the log flush
	// latency metric. It must be cheap and must not block.
	OnFlush func(elapsed time.Duration)

	deleter *deleter // shared per log dir by the Manager; nil: the Log runs its own
	// parentDir syncs the log dir for a partition directory OpenLog created (the
	// Manager's, shared by its logs); nil: the Log syncs its parents itself.
	parentDir *dirSyncer
	// onTruncate runs after TruncateTo and TruncateFullyAndStartAt (the Manager rewrites
	// its checkpoints), outside the log's locks.
	onTruncate func(*Log)
	// onRoll runs when a roll sealed a segment, with the new segment's base offset (the
	// Manager's background flush makes the sealed segments durable). It runs under the
	// log's write lock and must not block.
	onRoll func(l *Log, base int64)
}

// DefaultMaxDecompressedBatchBytes is the default of LogOptions.MaxDecompressedBatchBytes:
// the replica's default bound for validating a produced batch, so that whatever was accepted
// can be compacted.
const DefaultMaxDecompressedBatchBytes = 256 << 20

// AppendInfo describes what one Append wrote.
type AppendInfo struct {
	FirstOffset          int64 // base offset of the first batch
	LastOffset           int64 // last offset of the last batch
	MaxTimestamp         int64 // largest batch max timestamp in the append
	OffsetOfMaxTimestamp int64 // last offset of the batch holding MaxTimestamp
	Records              int64
	Bytes                int64
}

// NextOffset is the log end offset after the append: pass it to WaitDurable.
func (a AppendInfo) NextOffset() int64 { return a.LastOffset + 1 }

// Log is one partition's segmented log. One writer at a time (Append, TruncateTo, retention,
// compaction swaps and rolls are serialized by writeMu); readers (Read, lookups) take no lock:
// they load an immutable segment list and reference-count the segment they read.
type Log struct {
	dir    string
	tp     TopicPartition
	fs     FS
	logger *slog.Logger
	now    func() time.Time

	cfg                atomic.Pointer[Config]
	maxDecompressBytes int
	onTruncate         func(*Log)
	onRoll             func(*Log, int64)
	onFlush            func(time.Duration)
	deleter            *deleter
	ownsDeleter        bool

	// writeMu serializes every change to the segment list and to the active segment. It is
	// held across the write(2) of an append, never across an fsync.
	writeMu sync.Mutex
	w       struct { // guarded by writeMu
		failed error // a failed write that could not be undone: the log is read-only
		rng    *rand.Rand
	}

	segs     atomic.Pointer[[]*segment] // sorted by base offset, replaced whole
	logStart atomic.Int64
	logEnd   atomic.Int64
	hw       atomic.Int64 // -1 until SetHighWatermark: the log end counts as replicated
	// openHW is the high watermark the log was opened with (CheckpointedHighWatermark).
	openHW int64

	appendedRecords atomic.Int64 // since open
	flushedRecords  atomic.Int64 // appendedRecords as of the start of the last flush
	lastFlushMs     atomic.Int64
	dirDirty        atomic.Bool // directory entries changed since the last SyncDir
	cutPending      atomic.Bool // truncated since the last flush round (see WaitDurable)
	// rollFlushTo is the base of the newest segment a roll started, and rollQueued whether
	// the log waits in the Manager's roll flusher queue (see rollFlusher).
	rollFlushTo atomic.Int64
	rollQueued  atomic.Bool
	// parentPending: the partition directory (or a parent) was created and its entry is
	// not durable yet; makeParentDurable (set once by load) syncs it.
	parentPending     atomic.Bool
	makeParentDurable func() error
	// meta is the topic id of partition.metadata; dirty until the file holds it.
	meta struct {
		sync.Mutex
		id    TopicID
		dirty atomic.Bool
	}
	cleanerPoint atomic.Int64 // first offset not yet compacted
	truncGen     atomic.Int64 // bumped by every truncation: compaction started before aborts
	closed       atomic.Bool

	epochs    *epochCache
	producers *producerState
	flush     flusher
}

// OpenLog opens (recovering if needed) or creates a partition log.
func OpenLog(ctx context.Context, opts LogOptions) (*Log, error) {
	if opts.FS == nil {
		opts.FS = NewOSFS()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	cfg := opts.Config
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Log{
		dir: opts.Dir, tp: opts.TopicPartition, fs: opts.FS, now: opts.Now,
		logger: opts.Logger.With("partition", opts.TopicPartition.String()),
	}
	l.cfg.Store(&cfg)
	l.onTruncate = opts.onTruncate
	l.onRoll = opts.onRoll
	l.onFlush = opts.OnFlush
	l.maxDecompressBytes = opts.MaxDecompressedBatchBytes
	if l.maxDecompressBytes <= 0 {
		l.maxDecompressBytes = DefaultMaxDecompressedBatchBytes
	}
	l.hw.Store(-1)
	l.w.rng = rand.New(rand.NewPCG(uint64(opts.Now().UnixNano()), uint64(len(opts.Dir))))
	l.deleter = opts.deleter
	if l.deleter == nil {
		l.deleter = newDeleter(opts.FS, l.logger, opts.Now)
		l.ownsDeleter = true
	}
	l.lastFlushMs.Store(opts.Now().UnixMilli())
	if err := l.load(ctx, opts); err != nil {
		l.releaseAll()
		if l.ownsDeleter {
			l.deleter.close()
		}
		return nil, fmt.Errorf("storage: open %s: %w", opts.Dir, err)
	}
	return l, nil
}

func (l *Log) nowMs() int64 { return l.now().UnixMilli() }

// Config returns the log's current configuration.
func (l *Log) Config() Config { return *l.cfg.Load() }

// SetConfig replaces the configuration of a live log (dynamic topic configs). Segment and
// index sizes apply from the next roll; retention, compaction and flush settings from the next
// pass of the background work.
func (l *Log) SetConfig(cfg Config) error {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	l.cfg.Store(&cfg)
	return nil
}

// TopicPartition names the log.
func (l *Log) TopicPartition() TopicPartition { return l.tp }

// Dir is the partition directory.
func (l *Log) Dir() string { return l.dir }

// LogStartOffset is the first offset a consumer may read.
func (l *Log) LogStartOffset() int64 { return l.logStart.Load() }

// LogEndOffset is the offset the next appended batch gets.
func (l *Log) LogEndOffset() int64 { return l.logEnd.Load() }

// CheckpointedHighWatermark is the high watermark the log was opened with: the
// replication-offset-checkpoint entry clamped to [log start, log end], or the log start
// offset when there was none. A replica restarting starts its high watermark here, as
// Kafka's does.
func (l *Log) CheckpointedHighWatermark() int64 { return l.openHW }

// HighWatermark is the high watermark the log knows: the last value given to
// SetHighWatermark, else the one it was opened with (CheckpointedHighWatermark), clamped to
// [log start, log end]. A replica taking the log over (at startup, or again after a Remove
// that kept the log) starts its high watermark here, as Kafka's Partition does from the
// replication-offset-checkpoint.
func (l *Log) HighWatermark() int64 {
	hw := l.hw.Load()
	if hw < 0 {
		hw = l.openHW
	}
	return min(max(hw, l.logStart.Load()), l.logEnd.Load())
}

// SetHighWatermark tells the log how far its data is replicated. Retention and compaction
// never touch data at or above it. Until it is called the log end offset is used.
func (l *Log) SetHighWatermark(hw int64) { l.hw.Store(hw) }

// replicatedHighWatermark is the last value SetHighWatermark stored (or the one the log was
// opened with), -1 when unknown: what replication-offset-checkpoint records.
func (l *Log) replicatedHighWatermark() int64 { return l.hw.Load() }

func (l *Log) highWatermark() int64 {
	if hw := l.hw.Load(); hw >= 0 {
		return min(hw, l.logEnd.Load())
	}
	return l.logEnd.Load()
}

// SizeBytes is the total size of the log's segments.
func (l *Log) SizeBytes() int64 {
	var n int64
	for _, s := range l.segments() {
		n += s.sizeBytes.Load()
	}
	return n
}

// NumSegments is the number of segments.
func (l *Log) NumSegments() int { return len(l.segments()) }

func (l *Log) segments() []*segment {
	if p := l.segs.Load(); p != nil {
		return *p
	}
	return nil
}

func (l *Log) setSegments(s []*segment) { l.segs.Store(&s) }

func (l *Log) active() *segment {
	s := l.segments()
	return s[len(s)-1]
}

// segmentFor returns the index of the segment holding off: the last one whose base <= off.
func segmentFor(segs []*segment, off int64) int {
	return sort.Search(len(segs), func(i int) bool { return segs[i].base > off }) - 1
}

// Append writes one or more whole RecordBatch v2 batches that the caller has validated and
// assigned offsets to (base offsets at or after the log end, increasing). All of them go to
// one segment in one write. It rolls first when segment.bytes, segment.ms or a full index
// says so.
func (l *Log) Append(batches []byte) (AppendInfo, error) {
	info, err := l.appendLocked(batches)
	if l.epochs.urgent.Load() {
		l.persistUrgentEpochs() // a batch of an older epoch than the cache's latest
	}
	if err != nil {
		return info, err
	}
	cfg := l.cfg.Load()
	if l.appendedRecords.Load()-l.flushedRecords.Load() >= cfg.FlushMessages {
		if err := l.Flush(context.Background()); err != nil {
			return info, err
		}
	}
	return info, nil
}

func (l *Log) appendLocked(batches []byte) (AppendInfo, error) {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if l.closed.Load() {
		return AppendInfo{}, ErrClosed
	}
	if l.w.failed != nil {
		return AppendInfo{}, l.w.failed
	}
	cfg := l.cfg.Load()
	info := AppendInfo{FirstOffset: -1, MaxTimestamp: -1, OffsetOfMaxTimestamp: -1, Bytes: int64(len(batches))}
	expect := l.logEnd.Load()
	var firstMaxTs int64 = -1
	for rest := batches; len(rest) > 0; {
		size, err := record.BatchSize(rest)
		if err != nil || size < record.HeaderSize || size > len(rest) {
			return AppendInfo{}, fmt.Errorf("storage: append: %w", record.ErrShortBatch)
		}
		b := record.Batch(rest[:size])
		if b.BaseOffset() < expect || b.LastOffsetDelta() < 0 {
			return AppendInfo{}, fmt.Errorf("%w: batch at %d, expected at least %d", ErrInvalidOffset, b.BaseOffset(), expect)
		}
		if int64(size) > cfg.SegmentBytes {
			return AppendInfo{}, fmt.Errorf("%w: batch of %d bytes, segment.bytes %d", ErrBatchTooLarge, size, cfg.SegmentBytes)
		}
		if info.FirstOffset < 0 {
			info.FirstOffset = b.BaseOffset()
			firstMaxTs = b.MaxTimestamp()
		}
		if b.MaxTimestamp() > info.MaxTimestamp {
			info.MaxTimestamp, info.OffsetOfMaxTimestamp = b.MaxTimestamp(), b.LastOffset()
		}
		info.LastOffset = b.LastOffset()
		info.Records += int64(b.RecordCount())
		expect = b.NextOffset()
		rest = rest[size:]
	}
	if info.FirstOffset < 0 {
		return AppendInfo{}, fmt.Errorf("storage: append: %w", record.ErrShortBatch)
	}

	seg := l.active()
	if l.shouldRollLocked(seg, cfg, int64(len(batches)), firstMaxTs, info.LastOffset) {
		var err error
		if seg, err = l.rollLocked(info.FirstOffset, cfg); err != nil {
			return AppendInfo{}, err
		}
	}
	pos := seg.sizeBytes.Load()
	if _, err := seg.log.WriteAt(batches, pos); err != nil {
		// Undo a partial write so that the file ends at a batch boundary again; if even
		// that fails the log cannot be trusted for writing until it is reopened (and
		// recovered).
		if terr := seg.log.Truncate(pos); terr != nil {
			l.w.failed = fmt.Errorf("storage: append failed (%v) and could not be undone: %w", err, terr)
			l.logger.Error("log is read-only until reopened", "err", l.w.failed)
		}
		return AppendInfo{}, fmt.Errorf("storage: append: %w", err)
	}
	for p, rest := pos, batches; len(rest) > 0; {
		size, _ := record.BatchSize(rest)
		b := record.Batch(rest[:size])
		seg.indexBatch(p, b, int64(size), cfg.IndexIntervalBytes)
		if e := b.PartitionLeaderEpoch(); e >= 0 {
			if err := l.epochs.assign(e, b.BaseOffset()); err != nil {
				l.logger.Warn("leader epoch checkpoint write failed", "err", err)
			}
		}
		l.producers.update(b)
		p += int64(size)
		rest = rest[size:]
	}
	seg.next.Store(expect)
	seg.sizeBytes.Store(pos + int64(len(batches)))
	l.logEnd.Store(expect)
	l.appendedRecords.Add(info.Records)
	return info, nil
}

func (l *Log) shouldRollLocked(seg *segment, cfg *Config, n, firstMaxTs, lastOffset int64) bool {
	size := seg.sizeBytes.Load()
	if lastOffset-seg.base > math.MaxInt32 {
		return true // relative offsets in the indexes are int32
	}
	if size == 0 {
		return false
	}
	if size+n > cfg.SegmentBytes || size+n > math.MaxInt32 || seg.indexFull() {
		return true
	}
	var waitedMs int64
	if seg.firstBatchTs >= 0 {
		waitedMs = firstMaxTs - seg.firstBatchTs
	} else {
		waitedMs = l.nowMs() - seg.createdMs
	}
	return waitedMs > cfg.SegmentMs-seg.jitterMs
}

// rollLocked seals the active segment and starts a new one at base.
func (l *Log) rollLocked(base int64, cfg *Config) (*segment, error) {
	segs := l.segments()
	old := segs[len(segs)-1]
	keep := segs
	sealed := old.sizeBytes.Load() > 0
	if !sealed {
		// An empty active segment is replaced, not kept.
		keep = segs[:len(segs)-1]
		l.removeSegmentFilesNow(old)
	} else {
		if err := old.seal(); err != nil {
			return nil, err
		}
		if err := l.producers.writeSnapshot(l.fs, l.dir, base, false); err != nil {
			l.logger.Warn("producer snapshot at roll failed", "err", err)
		}
	}
	var jitter int64
	if cfg.SegmentJitterMs > 0 {
		jitter = l.w.rng.Int64N(min(cfg.SegmentJitterMs, cfg.SegmentMs))
	}
	seg, err := createSegment(l.fs, l.dir, base, cfg, l.nowMs(), jitter)
	if err != nil {
		return nil, err
	}
	next := make([]*segment, len(keep), len(keep)+1)
	copy(next, keep)
	l.setSegments(append(next, seg))
	l.dirDirty.Store(true)
	if l.onRoll != nil && sealed {
		l.onRoll(l, base)
	}
	return seg, nil
}

// Roll forces a new active segment (tests, tools; the log rolls by itself otherwise).
func (l *Log) Roll() error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	_, err := l.rollLocked(l.logEnd.Load(), l.cfg.Load())
	return err
}

func (l *Log) removeSegmentFilesNow(s *segment) {
	if s.refs.Add(-1) == 0 {
		s.log.Close()
	}
	for _, p := range []string{s.logPath(), s.indexPath(), s.timeIndexPath()} {
		if err := l.fs.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			l.logger.Warn("remove segment file", "path", p, "err", err)
		}
	}
	l.dirDirty.Store(true)
}

// ReadOptions bound a Read.
type ReadOptions struct {
	// MaxBytes bounds the region. With MinOneBatch the first batch is returned whole even
	// when larger (Kafka's rule, so that a consumer can always make progress).
	MaxBytes    int64
	MinOneBatch bool
	// MaxOffset is exclusive: no batch whose last offset is >= MaxOffset is returned. Pass
	// the high watermark (read_uncommitted, followers pass the log end) or the last stable
	// offset (read_committed). Zero or negative means the log end.
	MaxOffset int64
}

// Region is a slice of a segment file holding whole batches: send it with positional
// sendfile from File (or read it with ReadAt). It pins the segment: the file stays open,
// even if retention deletes the segment meanwhile, until Release. An empty Region (Length 0)
// needs no Release but tolerates one.
//
// A truncation of the active segment (followers only) while a Region is held may shorten
// the file under it; a reader must treat a short read as the end of the data.
type Region struct {
	File        File
	Position    int64
	Length      int64
	FirstOffset int64 // base offset of the first batch
	seg         *segment
}

// Release unpins the segment. Call it exactly once per non-empty Region.
func (r *Region) Release() {
	if r.seg != nil {
		r.seg.release()
		r.seg = nil
	}
}

// Bytes reads the region into memory (for tests, tools and non-sendfile paths).
func (r *Region) Bytes() ([]byte, error) {
	if r.Length == 0 {
		return nil, nil
	}
	buf := make([]byte, r.Length)
	n, err := r.File.ReadAt(buf, r.Position)
	if err != nil && !(errors.Is(err, io.EOF) && int64(n) == r.Length) {
		return buf[:n], err
	}
	return buf, nil
}

// Read returns the batches from the one containing offset on, from a single segment,
// bounded by opts. Offsets below the log start or above the log end are
// ErrOffsetOutOfRange; reading at the log end (or at/after MaxOffset) returns an empty
// Region.
func (l *Log) Read(offset int64, opts ReadOptions) (Region, error) {
	for attempt := 0; ; attempt++ {
		r, retry, err := l.tryRead(offset, opts)
		if !retry || attempt > 100 {
			return r, err
		}
	}
}

func (l *Log) tryRead(offset int64, opts ReadOptions) (Region, bool, error) {
	segs := l.segments()
	start, end := l.logStart.Load(), l.logEnd.Load()
	if offset < start || offset > end {
		return Region{}, false, fmt.Errorf("%w: %d not in [%d, %d]", ErrOffsetOutOfRange, offset, start, end)
	}
	maxOff := opts.MaxOffset
	if maxOff <= 0 || maxOff > end {
		maxOff = end
	}
	if offset >= maxOff || l.closed.Load() {
		return Region{FirstOffset: offset}, false, nil
	}
	var hdr [record.HeaderSize]byte
	for i := max(segmentFor(segs, offset), 0); i < len(segs); i++ {
		s := segs[i]
		if s.base >= maxOff {
			break
		}
		if !s.acquire() {
			return Region{}, true, nil // deleted under us: reload the list
		}
		size := s.sizeBytes.Load()
		pos, b, bsize, found, err := s.findBatch(offset, size, hdr[:])
		if err != nil {
			s.release()
			return Region{}, false, fmt.Errorf("storage: read %s at %d: %w", s.logPath(), offset, err)
		}
		if !found {
			s.release()
			continue
		}
		firstOffset, firstLast := b.BaseOffset(), b.LastOffset()
		if firstLast >= maxOff {
			s.release()
			return Region{FirstOffset: offset}, false, nil
		}
		endPos := size
		if maxOff < s.next.Load() {
			if p, _, _, ok, err := s.findBatch(maxOff, size, hdr[:]); err != nil {
				s.release()
				return Region{}, false, err
			} else if ok {
				endPos = p
			}
		}
		if opts.MaxBytes >= 0 && pos+opts.MaxBytes < endPos {
			aligned, err := s.alignDown(pos, pos+opts.MaxBytes, hdr[:])
			if err != nil {
				s.release()
				return Region{}, false, err
			}
			if aligned == pos {
				if !opts.MinOneBatch {
					s.release()
					return Region{FirstOffset: offset}, false, nil
				}
				aligned = pos + bsize
			}
			endPos = aligned
		}
		return Region{File: s.log, Position: pos, Length: endPos - pos, FirstOffset: firstOffset, seg: s}, false, nil
	}
	return Region{FirstOffset: offset}, false, nil
}

// TimestampOffset answers a timestamp lookup (ListOffsets): a record's offset and
// timestamp, and the partition leader epoch of the batch holding it (-1 when the batch has
// none), which ListOffsets v4+ returns.
type TimestampOffset struct {
	Offset      int64
	Timestamp   int64
	LeaderEpoch int32
}

// OffsetForTimestamp returns the first offset whose record timestamp is >= ts (ListOffsets),
// with that record's timestamp; found is false when every record is older. LookupTimestamp
// also returns the leader epoch.
func (l *Log) OffsetForTimestamp(ts int64) (offset, timestamp int64, found bool, err error) {
	r, found, err := l.LookupTimestamp(ts)
	return r.Offset, r.Timestamp, found, err
}

// LookupTimestamp finds the first record, at or after the log start, whose timestamp is >=
// ts, as Kafka's ListOffsets does: the time index picks where to start reading, then
// batches are read in order and the first batch whose max timestamp reaches ts is searched
// record by record (decompressed if need be). found is false when every record is older.
//
// A compressed batch that would decompress past MaxDecompressedBatchBytes is answered at
// batch level (its first offset at or after the log start, its max timestamp): Kafka has no
// such bound.
func (l *Log) LookupTimestamp(ts int64) (TimestampOffset, bool, error) {
	for attempt := 0; ; attempt++ {
		r, found, retry, err := l.tryLookupTimestamp(ts)
		if !retry || attempt > 100 {
			return r, found, err
		}
	}
}

func (l *Log) tryLookupTimestamp(ts int64) (r TimestampOffset, found, retry bool, err error) {
	segs := l.segments()
	start := l.logStart.Load()
	var hdr [record.HeaderSize]byte
	var buf, dbuf []byte
	for _, s := range segs {
		if s.maxTs.Load() < ts || s.next.Load() <= start {
			continue
		}
		if !s.acquire() {
			return r, false, true, nil // deleted under us: reload the list
		}
		s.ensureIndexes()
		// The time index only says where to start reading: a record before that offset
		// inside the same batch may be the answer, so records are filtered by the log start.
		pos := s.offIdx.lookup(max(s.timeIdx.lookup(ts), start))
		size := s.sizeBytes.Load()
		for {
			b, bsize, herr := s.header(pos, size, hdr[:])
			if herr == io.EOF {
				break
			}
			if herr != nil {
				s.release()
				return r, false, false, herr
			}
			if b.LastOffset() >= start && b.MaxTimestamp() >= ts {
				if int64(cap(buf)) < bsize {
					buf = make([]byte, bsize)
				}
				full := record.Batch(buf[:bsize])
				if _, err := s.log.ReadAt(full, pos); err != nil {
					s.release()
					return r, false, false, err
				}
				r, found, err = l.searchBatch(full, &dbuf, func(off, rts int64) bool { return off >= start && rts >= ts })
				if err != nil || found {
					s.release()
					return r, found, false, err
				}
			}
			pos += bsize
		}
		s.release()
	}
	return r, false, false, nil
}

// searchBatch returns the first record of b that match accepts. A batch that cannot be
// decompressed within the bound answers with its first offset match accepts (at batch
// level); records that do not decode are an error.
func (l *Log) searchBatch(b record.Batch, dbuf *[]byte, match func(off, ts int64) bool) (TimestampOffset, bool, error) {
	r := TimestampOffset{LeaderEpoch: max(b.PartitionLeaderEpoch(), -1)}
	recs, err := record.Decompress((*dbuf)[:0], b, l.maxDecompressBytes)
	if errors.Is(err, record.ErrDecompressLimit) {
		l.logger.Warn("timestamp lookup answers at batch level: batch decompresses past the bound",
			"offset", b.BaseOffset(), "limitBytes", l.maxDecompressBytes)
		for off := b.BaseOffset(); off <= b.LastOffset(); off++ {
			if match(off, b.MaxTimestamp()) {
				r.Offset, r.Timestamp = off, b.MaxTimestamp()
				return r, true, nil
			}
		}
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("storage: batch at %d in %s: %w", b.BaseOffset(), l.tp, err)
	}
	if b.Compression() != record.CompressionNone {
		*dbuf = recs[:0]
	}
	it := record.NewRecordIter(recs, b.RecordCount())
	for it.Next() {
		rec := it.Record()
		if off, rts := rec.Offset(b), rec.Timestamp(b); match(off, rts) {
			r.Offset, r.Timestamp = off, rts
			return r, true, nil
		}
	}
	if err := it.Err(); err != nil {
		return r, false, fmt.Errorf("storage: batch at %d in %s: %w", b.BaseOffset(), l.tp, err)
	}
	return r, false, nil
}

// MaxTimestamp returns the largest timestamp in the log and the last offset of the batch
// holding it (ListOffsets with MAX_TIMESTAMP, KIP-734); -1, -1 when empty. LookupMaxTimestamp
// finds the record.
func (l *Log) MaxTimestamp() (timestamp, offset int64) {
	timestamp, offset = -1, -1
	for _, s := range l.segments() {
		if t := s.maxTs.Load(); t > timestamp {
			timestamp, offset = t, s.maxTsOffset.Load()
		}
	}
	return timestamp, offset
}

// LookupMaxTimestamp answers ListOffsets with MAX_TIMESTAMP (KIP-734) as Kafka does: the
// first record carrying the log's largest timestamp, in the first batch whose max timestamp
// it is, with that batch's leader epoch. found is false when the log is empty or that batch
// lies below the log start.
func (l *Log) LookupMaxTimestamp() (TimestampOffset, bool, error) {
	for attempt := 0; ; attempt++ {
		ts, off := l.MaxTimestamp()
		if ts < 0 || off < l.logStart.Load() {
			return TimestampOffset{}, false, nil
		}
		r, err := l.Read(off, ReadOptions{MaxBytes: 1, MinOneBatch: true})
		if err != nil {
			if errors.Is(err, ErrOffsetOutOfRange) && attempt < 100 {
				continue // retention moved the start meanwhile
			}
			return TimestampOffset{}, false, err
		}
		data, err := r.Bytes()
		r.Release()
		if err != nil {
			return TimestampOffset{}, false, err
		}
		b, _, err := record.Parse(data, 0)
		if err != nil {
			return TimestampOffset{}, false, fmt.Errorf("storage: batch at %d in %s: %w", off, l.tp, err)
		}
		if b.MaxTimestamp() != ts {
			return TimestampOffset{}, false, nil
		}
		var dbuf []byte
		return l.searchBatch(b, &dbuf, func(_, rts int64) bool { return rts == ts })
	}
}

// LatestEpoch returns the newest leader epoch in the log, -1 when none.
func (l *Log) LatestEpoch() int32 {
	if e, ok := l.epochs.latest(); ok {
		return e.Epoch
	}
	return -1
}

// AssignEpoch records in the leader epoch cache that epoch starts at startOffset, as Kafka's
// replica does when it becomes leader (the epoch's first batch then changes nothing). The
// cache keeps its invariants: epochs strictly increase (an older epoch is
// ErrStaleLeaderEpoch, the latest one again is a no-op) and start offsets do not decrease
// (entries starting at or after startOffset are dropped first, as Kafka does).
// startOffset must lie in [0, log end]; callers pass the log end offset under their append
// serialization. The entry is persisted with the cache (see the durability contract).
func (l *Log) AssignEpoch(epoch int32, startOffset int64) error {
	if epoch < 0 {
		return fmt.Errorf("%w: epoch %d", ErrStaleLeaderEpoch, epoch)
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	if leo := l.logEnd.Load(); startOffset < 0 || startOffset > leo {
		return fmt.Errorf("%w: epoch %d start %d, log end %d", ErrOffsetOutOfRange, epoch, startOffset, leo)
	}
	return l.epochs.assignExplicit(epoch, startOffset)
}

// EpochEntries returns the leader epoch cache (epoch, start offset), oldest first.
func (l *Log) EpochEntries() []EpochEntry { return l.epochs.snapshot() }

// EndOffsetForEpoch answers OffsetForLeaderEpoch: the largest epoch <= requested that the
// log knows and the offset at which the next epoch starts (the log end offset for the latest
// epoch). (-1, -1) when unknown.
func (l *Log) EndOffsetForEpoch(requested int32) (epoch int32, endOffset int64) {
	return l.epochs.endOffsetFor(requested, l.logEnd.Load())
}

// Producer returns the state of one producer id.
func (l *Log) Producer(producerID int64) (ProducerEntry, bool) { return l.producers.get(producerID) }

// Producers returns the state of every producer id the log tracks, sorted by producer id
// (DescribeProducers; the last stable offset will come from CurrentTxnFirstOffset). Each
// entry is a copy.
func (l *Log) Producers() []ProducerEntry { return l.producers.all() }

// CheckProducerBatch runs CheckProducerBatch against this log's state for b's producer. The
// replica calls it with its own append serialization held, then appends. It takes no lock
// and allocates nothing unless it fails: the producer's state is copied to the stack from
// its sequence lock (see producerState).
func (l *Log) CheckProducerBatch(b record.Batch) (ProducerBatch, error) {
	if !b.HasProducerID() || b.IsControl() {
		return ProducerBatch{}, nil
	}
	var snap producerSnap
	if !l.producers.snapshot(b.ProducerID(), &snap) {
		return checkProducer(b, false, 0, 0, nil)
	}
	return checkProducer(b, true, snap.pid, snap.epoch, snap.batches[:snap.n])
}

// NumProducers is how many producer ids the log tracks.
func (l *Log) NumProducers() int { return l.producers.count() }

// ExpireProducers drops producers idle for expirationMs (producer.id.expiration.ms).
func (l *Log) ExpireProducers(expirationMs int64) int {
	return l.producers.expire(l.nowMs(), expirationMs)
}

// TruncateTo removes every batch at or above offset (a follower diverged from its leader).
// A batch straddling offset is removed whole. The log end becomes the end of the kept data:
// offset when offset is a batch boundary with no gap before it, which is how followers
// truncate (Kafka sets the log end to offset in every case, and a restart then finds the end
// of the data, as Sluice has it at once). When no batch at or above the log start stays, the
// log restarts empty at offset, as TruncateFullyAndStartAt does (Kafka keeps its log start
// and the epochs below offset until its next restart). The leader-epoch checkpoint is written,
// synced, before TruncateTo returns.
func (l *Log) TruncateTo(offset int64) error {
	truncated, err := l.truncateTo(offset)
	if truncated && l.onTruncate != nil {
		l.onTruncate(l)
	}
	return err
}

func (l *Log) truncateTo(offset int64) (truncated bool, err error) {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if l.closed.Load() {
		return false, ErrClosed
	}
	if offset >= l.logEnd.Load() {
		return false, nil
	}
	return true, l.truncateToLocked(offset)
}

func (l *Log) truncateToLocked(offset int64) error {
	if offset < 0 {
		return fmt.Errorf("%w: truncate to %d", ErrOffsetOutOfRange, offset)
	}
	segs := l.segments()
	start := l.logStart.Load()
	if offset <= start || offset <= segs[0].base {
		return l.truncateFullyLocked(offset)
	}
	if visible, err := l.hasBatchEndingInLocked(start, offset); err != nil {
		return err
	} else if !visible {
		return l.truncateFullyLocked(offset)
	}
	l.truncGen.Add(1)
	l.cutPending.Store(true)
	l.cleanerPoint.Store(min(l.cleanerPoint.Load(), offset))
	l.flush.truncated(offset)
	i := segmentFor(segs, offset)
	// A segment whose base equals offset has nothing to keep: drop it too.
	if segs[i].base == offset {
		i--
	}
	for {
		if _, err := segs[i].truncateTo(offset); err != nil {
			return err
		}
		if segs[i].sizeBytes.Load() > 0 {
			break
		}
		if i == 0 {
			// Cannot happen (a batch below offset stays), but an empty log must restart at
			// offset rather than end below its start.
			return l.truncateFullyLocked(offset)
		}
		// Emptied: its first batch began at or after offset (it was created in a gap). The
		// kept data ends in the segment before, which becomes the active one again;
		// truncateTo recomputes its exact next offset.
		i--
	}
	removed := append([]*segment(nil), segs[i+1:]...)
	kept := append([]*segment(nil), segs[:i+1]...)
	seg := kept[i]
	if seg.sealed {
		seg.sealed = false
		if err := seg.writeIndexes(true); err != nil {
			return err
		}
	}
	l.setSegments(kept)
	end := seg.next.Load()
	l.logEnd.Store(end)
	// With a gap before offset the log end is below it: the durable offset must not stay
	// above it, or the next appends, below offset, would count as durable before any fsync.
	l.flush.truncated(end)
	l.retireSegmentsLocked(removed)
	if err := l.epochs.truncateFromEndSynced(end); err != nil {
		return err
	}
	l.deleteSnapshotsLocked(func(off int64) bool { return off > end })
	return l.rebuildProducerStateLocked(end)
}

// hasBatchEndingInLocked reports whether a batch whose last offset lies in [lo, hi) exists:
// whether a truncation at hi keeps anything at or above the log start lo.
func (l *Log) hasBatchEndingInLocked(lo, hi int64) (bool, error) {
	var hdr [record.HeaderSize]byte
	segs := l.segments()
	for i := max(segmentFor(segs, lo), 0); i < len(segs); i++ {
		s := segs[i]
		if s.base >= hi {
			return false, nil
		}
		_, b, _, found, err := s.findBatch(lo, s.sizeBytes.Load(), hdr[:])
		if err != nil {
			return false, err
		}
		if found {
			return b.LastOffset() < hi, nil
		}
	}
	return false, nil
}

// TruncateFullyAndStartAt empties the log and restarts it at offset (a follower whose
// fetch offset fell outside the leader's log).
func (l *Log) TruncateFullyAndStartAt(offset int64) error {
	l.writeMu.Lock()
	if l.closed.Load() {
		l.writeMu.Unlock()
		return ErrClosed
	}
	err := l.truncateFullyLocked(offset)
	l.writeMu.Unlock()
	if l.onTruncate != nil {
		l.onTruncate(l)
	}
	return err
}

func (l *Log) truncateFullyLocked(offset int64) error {
	if offset < 0 {
		return fmt.Errorf("%w: start at %d", ErrOffsetOutOfRange, offset)
	}
	l.truncGen.Add(1)
	l.cutPending.Store(true)
	l.flush.truncated(offset)
	old := l.segments()
	seg, err := createSegment(l.fs, l.dir, offset, l.cfg.Load(), l.nowMs(), 0)
	if err != nil {
		return err
	}
	// A retired segment with the same base offset has been renamed away by the time the
	// new one needs its name: retire first, then publish.
	var keep []*segment
	for _, s := range old {
		if s.base != offset {
			keep = append(keep, s)
		}
	}
	l.retireSegmentsLocked(keep)
	for _, s := range old {
		if s.base == offset {
			// Same file names as the new segment: createSegment truncated them already,
			// which the next flush round makes durable (see segment.truncateTo).
			s.release()
			seg.markCut()
		}
	}
	l.setSegments([]*segment{seg})
	l.logStart.Store(offset)
	l.logEnd.Store(offset)
	l.cleanerPoint.Store(offset)
	l.dirDirty.Store(true)
	l.producers.clear()
	l.deleteSnapshotsLocked(func(int64) bool { return true })
	return l.epochs.clear()
}

// AdvanceLogStartOffset moves the log start offset forward (DeleteRecords, or a follower
// following its leader) and deletes the segments wholly below it. The caller checks it
// against the high watermark.
func (l *Log) AdvanceLogStartOffset(offset int64) error {
	defer l.persistUrgentEpochs() // after the unlock below
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	if offset <= l.logStart.Load() {
		return nil
	}
	if offset > l.logEnd.Load() {
		return fmt.Errorf("%w: log start %d beyond log end %d", ErrOffsetOutOfRange, offset, l.logEnd.Load())
	}
	l.setLogStartLocked(offset)
	segs := l.segments()
	n := 0
	for n+1 < len(segs) && segs[n+1].base <= offset {
		n++
	}
	if n > 0 {
		l.deleteOldestLocked(n)
	}
	return nil
}

func (l *Log) setLogStartLocked(offset int64) {
	l.logStart.Store(offset)
	if err := l.epochs.truncateFromStart(offset); err != nil {
		l.logger.Warn("leader epoch checkpoint write failed", "err", err)
	}
	l.producers.removeBefore(offset)
}

// deleteOldestLocked removes the n oldest segments (never the active one) and moves the log
// start offset up to the first kept segment if it was below.
func (l *Log) deleteOldestLocked(n int) {
	segs := l.segments()
	n = min(n, len(segs)-1)
	if n <= 0 {
		return
	}
	removed := append([]*segment(nil), segs[:n]...)
	kept := append([]*segment(nil), segs[n:]...)
	l.setSegments(kept)
	if kept[0].base > l.logStart.Load() {
		l.setLogStartLocked(kept[0].base)
	}
	l.retireSegmentsLocked(removed)
	first := kept[0].base
	l.deleteSnapshotsLocked(func(off int64) bool { return off < first })
}

// retireSegmentsLocked renames a removed segment's files to *.deleted at once (so a restart
// never sees them as live) and unlinks them after file.delete.delay.ms. Readers holding the
// segment keep using its open descriptor; the descriptor closes with the last reference.
func (l *Log) retireSegmentsLocked(removed []*segment) {
	if len(removed) == 0 {
		return
	}
	delay := l.cfg.Load().FileDeleteDelayMs
	var paths []string
	for _, s := range removed {
		for _, p := range []string{s.logPath(), s.indexPath(), s.timeIndexPath(), filepath.Join(s.dir, segmentFileName(s.base, txnIndexSuffix))} {
			if err := l.fs.Rename(p, p+deletedSuffix); err != nil {
				if !errors.Is(err, fs.ErrNotExist) {
					l.logger.Warn("rename segment file for deletion", "path", p, "err", err)
				}
				continue
			}
			paths = append(paths, p+deletedSuffix)
		}
		s.release()
	}
	l.dirDirty.Store(true)
	l.deleter.schedule(paths, l.nowMs()+delay)
}

// EnforceRetention deletes the oldest segments that retention.ms, retention.bytes or the log
// start offset make obsolete, never data at or above the high watermark and never the
// active segment (when every segment is expired the log rolls first, as Kafka does). It
// returns the number of segments deleted.
func (l *Log) EnforceRetention() int {
	defer l.persistUrgentEpochs() // after the unlock below
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if l.closed.Load() {
		return 0
	}
	cfg := l.cfg.Load()
	segs := l.segments()
	hw := l.highWatermark()
	now := l.nowMs()
	var total int64
	for _, s := range segs {
		total += s.sizeBytes.Load()
	}
	excess := total - cfg.RetentionBytes
	n := 0
	for i, s := range segs {
		upper := l.logEnd.Load()
		if i+1 < len(segs) {
			upper = segs[i+1].base
		}
		size := s.sizeBytes.Load()
		if upper > hw || size == 0 && i == len(segs)-1 {
			break
		}
		byStart := upper <= l.logStart.Load()
		byTime, bySize := false, false
		if cfg.CleanupPolicy.Deletes() {
			ts := s.maxTs.Load()
			if ts < 0 {
				ts = s.createdMs
			}
			byTime = cfg.RetentionMs >= 0 && now-ts > cfg.RetentionMs
			bySize = cfg.RetentionBytes >= 0 && excess-size >= 0
		}
		if !byStart && !byTime && !bySize {
			break
		}
		excess -= size
		n++
	}
	if n == 0 {
		return 0
	}
	if n == len(segs) {
		if _, err := l.rollLocked(l.logEnd.Load(), cfg); err != nil {
			l.logger.Warn("roll before retention failed", "err", err)
			n--
		}
	}
	l.deleteOldestLocked(n)
	return n
}

// Close flushes everything, writes the active segment's indexes and a producer snapshot, and
// closes the files. A nil error means the log was closed cleanly: its recovery point is its
// log end offset.
func (l *Log) Close(ctx context.Context) error {
	l.writeMu.Lock()
	if l.closed.Swap(true) {
		l.writeMu.Unlock()
		return nil
	}
	var errs []error
	seg := l.active()
	if ts := seg.maxTs.Load(); ts >= 0 {
		seg.timeIdx.maybeAppend(ts, seg.maxTsOffset.Load())
	}
	errs = append(errs, seg.writeIndexes(false))
	if l.w.failed != nil {
		errs = append(errs, l.w.failed)
	}
	// An empty log has nothing to replay: no snapshot (Kafka writes one only when the log
	// moved since the last).
	if l.logEnd.Load() > l.logStart.Load() || l.producers.count() > 0 {
		errs = append(errs, l.producers.writeSnapshot(l.fs, l.dir, l.logEnd.Load(), true))
	}
	l.writeMu.Unlock()
	target, err := l.syncRound()
	errs = append(errs, err)
	if err == nil {
		l.flush.mu.Lock()
		l.flush.raiseDurableLocked(target)
		l.flush.mu.Unlock()
	}
	l.writeMu.Lock()
	l.releaseAll()
	l.writeMu.Unlock()
	if l.ownsDeleter {
		l.deleter.close()
	}
	return errors.Join(errs...)
}

func (l *Log) releaseAll() {
	for _, s := range l.segments() {
		s.release()
	}
	l.setSegments(nil)
}

// Delete closes the log without flushing it and removes its directory (a standalone log;
// the Manager's DeleteLog renames and removes in the background, as Kafka does).
func (l *Log) Delete(ctx context.Context) error {
	l.closeWithoutFlush()
	return l.fs.RemoveAll(l.dir)
}

// closeWithoutFlush closes a log whose data is being deleted: no flush, no snapshot, no
// index writes. Readers keep the segments they pinned; waiters for durability get ErrClosed.
func (l *Log) closeWithoutFlush() {
	l.writeMu.Lock()
	if l.closed.Swap(true) {
		l.writeMu.Unlock()
		return
	}
	l.releaseAll()
	l.writeMu.Unlock()
	if l.ownsDeleter {
		l.deleter.close()
	}
}

func (l *Log) deleteSnapshotsLocked(match func(off int64) bool) {
	names, err := l.fs.List(l.dir)
	if err != nil {
		return
	}
	for _, n := range names {
		if filepath.Ext(n) != snapshotSuffix {
			continue
		}
		if off, ok := parseBaseOffset(n); ok && match(off) {
			_ = l.fs.Remove(filepath.Join(l.dir, n))
		}
	}
}

// snapshotOffsets lists the producer snapshot offsets on disk, ascending.
func (l *Log) snapshotOffsets() []int64 {
	names, err := l.fs.List(l.dir)
	if err != nil {
		return nil
	}
	var offs []int64
	for _, n := range names {
		if filepath.Ext(n) != snapshotSuffix {
			continue
		}
		if off, ok := parseBaseOffset(n); ok {
			offs = append(offs, off)
		}
	}
	sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
	return offs
}

// rebuildProducerStateLocked loads the newest readable snapshot at or below upTo and replays
// the batches from there to upTo.
func (l *Log) rebuildProducerStateLocked(upTo int64) error {
	l.producers.clear()
	from := l.logStart.Load()
	offs := l.snapshotOffsets()
	for i := len(offs) - 1; i >= 0; i-- {
		off := offs[i]
		if off > upTo {
			continue
		}
		path := snapshotPath(l.dir, off)
		data, err := readFile(l.fs, path, checkpointLimitBytes)
		if err == nil {
			var m map[int64]*ProducerEntry
			if m, err = decodeSnapshot(path, data); err == nil {
				l.producers.replace(m)
				from = max(off, from)
				break
			}
		}
		l.logger.Warn("dropping unreadable producer snapshot", "path", path, "err", err)
		_ = l.fs.Remove(path)
	}
	return l.replayProducers(from, upTo)
}

// replayProducers applies the producer fields of batches in [from, upTo) by reading batch
// headers (and control batches whole).
func (l *Log) replayProducers(from, upTo int64) error {
	var hdr [record.HeaderSize]byte
	segs := l.segments()
	for i := max(segmentFor(segs, from), 0); i < len(segs); i++ {
		s := segs[i]
		if s.base >= upTo {
			break
		}
		size := s.sizeBytes.Load()
		pos := int64(0)
		if i == segmentFor(segs, from) {
			s.ensureIndexes()
			pos = s.offIdx.lookup(from)
		}
		for {
			b, bsize, err := s.header(pos, size, hdr[:])
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			if b.BaseOffset() >= upTo {
				break
			}
			if b.LastOffset() >= from && b.HasProducerID() {
				if b.IsControl() {
					full := make([]byte, bsize)
					if _, err := s.log.ReadAt(full, pos); err != nil {
						return err
					}
					l.producers.update(record.Batch(full))
				} else {
					l.producers.update(b)
				}
			}
			pos += bsize
		}
	}
	return nil
}

var _ = os.O_RDONLY
