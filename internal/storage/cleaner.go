package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/record"
)

// CompactStats reports one compaction pass.
type CompactStats struct {
	SegmentsRead, SegmentsWritten int
	BytesRead, BytesWritten       int64
	RecordsRemoved                int64
	CleanedUpTo                   int64 // the new cleaner point: offsets below are clean
}

// ErrCompactionAborted: the log changed under a compaction (truncation) or it was stopped.
var ErrCompactionAborted = errors.New("storage: compaction aborted")

// cleanableRange returns [start, end) of the log that compaction may rewrite and the dirty
// ratio: end is the first offset that must not be touched (active segment, high watermark,
// min.compaction.lag.ms), dirty bytes are those at or above the cleaner point.
func (l *Log) cleanableRange(cfg *Config, nowMs int64) (segs []*segment, end int64, dirtyRatio float64, mustClean bool) {
	all := l.segments()
	if len(all) < 2 {
		return nil, 0, 0, false
	}
	hw := l.highWatermark()
	point := l.cleanerPoint.Load()
	var total, dirty int64
	for i, s := range all[:len(all)-1] {
		upper := all[i+1].base
		if upper > hw {
			break
		}
		// Respect min.compaction.lag.ms: a segment holding records newer than the lag
		// stays dirty and uncleaned.
		if cfg.MinCompactionLagMs > 0 && s.maxTs.Load() > nowMs-cfg.MinCompactionLagMs {
			break
		}
		size := s.sizeBytes.Load()
		total += size
		if upper > point {
			dirty += size
			// max.compaction.lag.ms: a dirty segment whose data is older than the lag
			// must be cleaned whatever the ratio says.
			if ts := s.firstBatchTs; ts >= 0 && nowMs-ts > cfg.MaxCompactionLagMs {
				mustClean = true
			}
		}
		segs = append(segs, s)
		end = upper
	}
	if total == 0 || dirty == 0 {
		return nil, 0, 0, false
	}
	return segs, end, float64(dirty) / float64(total), mustClean
}

// CleanerPoint is the first offset compaction has not cleaned yet (Kafka's first dirty
// offset): the offsets below it were compacted at least once. The Manager persists it in
// cleaner-offset-checkpoint.
func (l *Log) CleanerPoint() int64 { return l.cleanerPoint.Load() }

// NeedsCompaction reports whether the log's dirty ratio (or max.compaction.lag.ms) calls for
// a pass, and the ratio.
func (l *Log) NeedsCompaction() (bool, float64) {
	cfg := l.cfg.Load()
	if !cfg.CleanupPolicy.Compacts() || l.closed.Load() {
		return false, 0
	}
	segs, _, ratio, must := l.cleanableRange(cfg, l.nowMs())
	if len(segs) == 0 {
		return false, 0
	}
	return must || ratio >= cfg.MinCleanableDirtyRatio, ratio
}

// Compact runs one compaction pass whatever the dirty ratio (the Manager's cleaner calls it
// for logs that NeedsCompaction). It keeps the latest record of every key, drops tombstones
// whose delete horizon (KIP-534) has passed and stamps a horizon on those it keeps, keeps
// every control batch, and for each live producer its last batch (empty if need be) so
// idempotence state survives. Compressed batches are cleaned record by record like the
// others: decompressed (bounded by LogOptions.MaxDecompressedBatchBytes) and rebuilt with
// the same codec. Offsets never change. Cleaned segments are grouped up to segment.bytes and
// installed with Kafka's crash-safe .cleaned -> .swap -> rename sequence.
//
// Records without a key are dropped when the log's cleanup.policy includes compact, as
// Kafka's cleaner drops them (a compacted topic refuses them at produce, so they only exist
// from before the topic became compacted); a Compact call on a log whose policy does not
// compact (tests, tools) keeps them.
func (l *Log) Compact(ctx context.Context, maxKeys int) (CompactStats, error) {
	cfg := l.cfg.Load()
	now := l.nowMs()
	var st CompactStats
	gen := l.truncGen.Load()
	segs, end, _, _ := l.cleanableRange(cfg, now)
	if len(segs) == 0 {
		return st, nil
	}
	for _, s := range segs {
		if !s.acquire() {
			return st, ErrCompactionAborted
		}
	}
	defer func() {
		for _, s := range segs {
			s.release()
		}
	}()
	p := &cleanPass{
		log:           l,
		latest:        map[string]int64{},
		compacted:     cfg.CleanupPolicy.Compacts(),
		nowMs:         now,
		horizon:       now + cfg.DeleteRetentionMs,
		maxBatchBytes: l.maxDecompressBytes,
	}
	// 1. The offset map: latest offset of each key in the dirty part, bounded by maxKeys.
	point := l.cleanerPoint.Load()
	mapEnd := end
	mapped := false
	for i, s := range segs {
		upper := end
		if i+1 < len(segs) {
			upper = segs[i+1].base
		}
		if upper <= point {
			continue
		}
		if len(p.latest) >= maxKeys && mapped {
			mapEnd = s.base // the rest waits for the next pass
			break
		}
		mapped = true
		if err := l.forEachBatch(s, &p.rbuf, p.mapBatch); err != nil {
			return st, err
		}
	}
	// Only segments wholly below mapEnd are cleaned this pass.
	var clean []*segment
	for i, s := range segs {
		upper := end
		if i+1 < len(segs) {
			upper = segs[i+1].base
		}
		if upper > mapEnd {
			break
		}
		clean = append(clean, s)
	}
	if len(clean) == 0 {
		return st, nil
	}
	// Producers' last batches must stay.
	p.lastOfProducer = l.producers.lastOffsets()

	// 2. Groups of consecutive segments whose sizes add up to at most segment.bytes.
	for i := 0; i < len(clean); {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		j, size := i+1, clean[i].sizeBytes.Load()
		for j < len(clean) && size+clean[j].sizeBytes.Load() <= cfg.SegmentBytes {
			size += clean[j].sizeBytes.Load()
			j++
		}
		group := clean[i:j]
		removedBefore := p.removed
		written, err := l.cleanGroup(group, p)
		if err != nil {
			return st, err
		}
		st.SegmentsRead += len(group)
		st.SegmentsWritten++
		st.BytesRead += size
		st.BytesWritten += written
		st.RecordsRemoved += p.removed - removedBefore
		if err := l.swapIn(group, gen); err != nil {
			return st, err
		}
		i = j
	}
	st.CleanedUpTo = mapEnd
	for {
		cur := l.cleanerPoint.Load()
		if cur >= mapEnd || l.cleanerPoint.CompareAndSwap(cur, mapEnd) {
			break
		}
	}
	return st, nil
}

// forEachBatch reads every batch of a sealed segment whole into *buf.
func (l *Log) forEachBatch(s *segment, buf *[]byte, fn func(record.Batch) error) error {
	var hdr [record.HeaderSize]byte
	size := s.sizeBytes.Load()
	for pos := int64(0); ; {
		_, bsize, err := s.header(pos, size, hdr[:])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if int64(cap(*buf)) < bsize {
			*buf = make([]byte, bsize)
		}
		b := (*buf)[:bsize]
		if _, err := s.log.ReadAt(b, pos); err != nil {
			return err
		}
		if err := fn(record.Batch(b)); err != nil {
			return err
		}
		pos += bsize
	}
}

// cleanPass is the state of one compaction pass: the offset map and the buffers reused from
// batch to batch (read buffer, decompression buffer, batch builder), so that a pass
// allocates per key, not per record.
type cleanPass struct {
	log            *Log
	latest         map[string]int64 // key -> latest offset in the dirty part
	lastOfProducer map[int64]int64  // producer id -> last offset of its last batch
	compacted      bool             // cleanup.policy includes compact: keyless records go
	nowMs, horizon int64
	maxBatchBytes  int

	rbuf []byte          // a batch read from the segment
	dbuf []byte          // its decompressed records
	bd   *record.Builder // rebuilt batches
	out  []byte          // cleaned bytes not yet written

	// keepTombstones is set once a batch could not be read (decompressed size over the
	// bound, or undecodable records): its keys are unknown, so a later tombstone may be
	// the only thing hiding one of its records, and dropping it would resurrect the value.
	// Every pass starts at the log start, so every pass meets that batch before the
	// tombstones after it.
	keepTombstones bool
	warned         bool
	removed        int64
}

// records returns b's records section, decompressed if need be. ok is false when the batch
// cannot be read within the bound; the caller then keeps it whole.
func (p *cleanPass) records(b record.Batch) (recs []byte, ok bool) {
	if b.Compression() == record.CompressionNone {
		return b.Records(), true
	}
	recs, err := record.Decompress(p.dbuf[:0], b, p.maxBatchBytes)
	if err != nil {
		p.unreadable(b, err)
		return nil, false
	}
	p.dbuf = recs[:0]
	return recs, true
}

func (p *cleanPass) unreadable(b record.Batch, err error) {
	p.keepTombstones = true
	if !p.warned {
		p.warned = true
		p.log.logger.Warn("compaction keeps a batch it cannot read whole, and every later tombstone",
			"offset", b.BaseOffset(), "err", err)
	}
}

// mapBatch adds the keys of one batch to the offset map.
func (p *cleanPass) mapBatch(b record.Batch) error {
	if b.IsControl() {
		return nil
	}
	recs, ok := p.records(b)
	if !ok {
		return nil
	}
	it := record.NewRecordIter(recs, b.RecordCount())
	for it.Next() {
		if r := it.Record(); r.Key != nil {
			p.latest[string(r.Key)] = r.Offset(b)
		}
	}
	if err := it.Err(); err != nil {
		p.unreadable(b, err)
	}
	return nil
}

// retain is Kafka's record rule: a keyed record stays if no later offset holds its key and,
// for a tombstone, its batch's delete horizon has not passed.
func (p *cleanPass) retain(b record.Batch, r *record.Record, expired bool) bool {
	if r.Key == nil {
		return !p.compacted
	}
	if lo, ok := p.latest[string(r.Key)]; ok && lo > r.Offset(b) {
		return false
	}
	return r.Value != nil || !expired
}

// filter appends to dst what compaction keeps of b.
func (p *cleanPass) filter(dst []byte, b record.Batch) ([]byte, error) {
	if b.IsControl() {
		// Control batches stay until transactions can tell when a marker is safe to drop
		// (Kafka removes a marker after its delete horizon once the transaction's data is
		// gone).
		return append(dst, b...), nil
	}
	recs, ok := p.records(b)
	if !ok {
		return append(dst, b...), nil
	}
	expired := b.HasDeleteHorizon() && p.nowMs >= b.BaseTimestamp() && !p.keepTombstones
	var kept, removed int64
	hasTombstone := false
	it := record.NewRecordIter(recs, b.RecordCount())
	for it.Next() {
		r := it.Record()
		if !p.retain(b, r, expired) {
			removed++
			continue
		}
		kept++
		if r.Value == nil && r.Key != nil {
			hasTombstone = true
		}
	}
	if err := it.Err(); err != nil {
		p.unreadable(b, err)
		return append(dst, b...), nil
	}
	needHorizon := hasTombstone && !b.HasDeleteHorizon()
	if removed == 0 && !needHorizon {
		return append(dst, b...), nil
	}
	if kept == 0 {
		p.removed += removed
		if b.HasProducerID() && p.lastOfProducer[b.ProducerID()] == b.LastOffset() {
			return appendEmptyBatch(dst, b), nil
		}
		return dst, nil
	}
	// Rebuild as Kafka does: same base offset, last offset delta (so the producer's
	// sequence range survives), partition leader epoch, producer fields, flags and codec;
	// the max timestamp is the largest kept one (the append time for LogAppendTime); with a
	// new delete horizon the base timestamp becomes the horizon and record timestamps are
	// re-encoded relative to it. A delete horizon already set stays.
	opts := b.Options()
	if needHorizon {
		opts.HasDeleteHorizon, opts.DeleteHorizonMs = true, p.horizon
	}
	if p.bd == nil {
		p.bd = record.NewBuilder(opts)
	} else {
		p.bd.Reset(opts)
	}
	it = record.NewRecordIter(recs, b.RecordCount())
	for it.Next() {
		if r := it.Record(); p.retain(b, r, expired) {
			if err := p.bd.AppendRecord(b, r); err != nil {
				return dst, fmt.Errorf("storage: compaction rebuild of batch at %d: %w", b.BaseOffset(), err)
			}
		}
	}
	p.bd.SetLastOffsetDelta(b.LastOffsetDelta())
	nb, err := p.bd.Build()
	if err != nil {
		return dst, fmt.Errorf("storage: compaction rebuild of batch at %d: %w", b.BaseOffset(), err)
	}
	p.removed += removed
	return append(dst, nb...), nil
}

// appendEmptyBatch appends the header-only batch Kafka's cleaner writes when it removes every
// record of a producer's last batch: same offsets, leader epoch, producer fields, timestamp
// type and transactional/control flags; no records, no codec, base timestamp -1, the
// original max timestamp.
func appendEmptyBatch(dst []byte, b record.Batch) []byte {
	const (
		attrKeep = 0x08 | 0x10 | 0x20 // timestamp type, transactional, control
		offLen   = 8
		offAttrs = 21
		offBase  = 27
		offCount = 57
	)
	start := len(dst)
	dst = append(dst, b[:record.HeaderSize]...)
	h := record.Batch(dst[start:])
	binary.BigEndian.PutUint32(h[offLen:], uint32(record.HeaderSize-record.LogOverhead))
	binary.BigEndian.PutUint16(h[offAttrs:], uint16(b.Attributes()&attrKeep))
	binary.BigEndian.PutUint64(h[offBase:], math.MaxUint64) // -1: no timestamp
	binary.BigEndian.PutUint32(h[offCount:], 0)
	h.UpdateCRC()
	return dst
}

// cleanGroup writes the retained batches of group to <base>.log.cleaned, synced.
func (l *Log) cleanGroup(group []*segment, p *cleanPass) (written int64, err error) {
	base := group[0].base
	path := filepath.Join(l.dir, segmentFileName(base, logSuffix+cleanedSuffix))
	f, err := l.fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			l.removeQuiet(path)
		}
	}()
	var pos int64
	p.out = p.out[:0]
	flush := func() error {
		if len(p.out) == 0 {
			return nil
		}
		if _, err := f.WriteAt(p.out, pos); err != nil {
			return err
		}
		pos += int64(len(p.out))
		p.out = p.out[:0]
		return nil
	}
	for _, s := range group {
		err := l.forEachBatch(s, &p.rbuf, func(b record.Batch) error {
			kept, err := p.filter(p.out, b)
			if err != nil {
				return err
			}
			p.out = kept
			if len(p.out) >= 1<<20 {
				return flush()
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	if err := flush(); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return pos, nil
}

// swapIn replaces group with the cleaned segment: .cleaned -> .swap, old files -> .deleted,
// .swap -> .log. A crash anywhere in between is finished (or undone) by the next open.
func (l *Log) swapIn(group []*segment, gen int64) error {
	base := group[0].base
	cleaned := filepath.Join(l.dir, segmentFileName(base, logSuffix+cleanedSuffix))
	swap := filepath.Join(l.dir, segmentFileName(base, logSuffix+swapSuffix))
	// The cleaned batches may have held the first batch of an epoch: an open after a crash
	// could then only find the epoch's start at its next batch. Writing the cache first
	// (synced; its rename is made durable with the swap's below) keeps it exact.
	if _, err := l.epochs.flush(); err != nil {
		l.logger.Warn("leader epoch checkpoint write before a compaction swap failed", "err", err)
	}
	if err := l.fs.Rename(cleaned, swap); err != nil {
		return err
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		l.removeQuiet(swap)
		return err
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	segs := l.segments()
	idx := segmentFor(segs, base)
	ok := !l.closed.Load() && l.truncGen.Load() == gen && idx >= 0 && idx+len(group) < len(segs)
	for k := 0; ok && k < len(group); k++ {
		ok = segs[idx+k] == group[k]
	}
	if !ok {
		l.removeQuiet(swap)
		return ErrCompactionAborted
	}
	l.retireSegmentsLocked(append([]*segment(nil), group...))
	// retire dropped the list's references; Compact still holds its own until it returns.
	final := filepath.Join(l.dir, segmentFileName(base, logSuffix))
	if err := l.fs.Rename(swap, final); err != nil {
		l.w.failed = fmt.Errorf("storage: compaction swap of %s failed: %w", swap, err)
		return l.w.failed
	}
	f, err := l.fs.OpenFile(final, os.O_RDWR, 0)
	if err != nil {
		l.w.failed = err
		return err
	}
	ns := newSegmentStruct(l.fs, l.dir, base, f, l.cfg.Load().SegmentIndexBytes, l.nowMs(), 0)
	if _, err := ns.recoverBatches(base, l.cfg.Load().IndexIntervalBytes, nil); err != nil {
		f.Close()
		l.w.failed = err
		return err
	}
	ns.next.Store(segs[idx+len(group)].base)
	ns.maxTs.Store(max(ns.maxTs.Load(), -1))
	ns.sealed = false
	if err := ns.seal(); err != nil {
		l.logger.Warn("writing indexes of a cleaned segment", "err", err)
	}
	ns.syncedBytes.Store(ns.sizeBytes.Load())
	next := make([]*segment, 0, len(segs)-len(group)+1)
	next = append(next, segs[:idx]...)
	next = append(next, ns)
	next = append(next, segs[idx+len(group):]...)
	l.setSegments(next)
	l.dirDirty.Store(true)
	return nil
}

// cleaner runs compaction for the Manager: each worker repeatedly picks the log that most
// needs cleaning (highest dirty ratio among those over their threshold) and cleans it. At
// most one worker cleans a given log; DeleteLog waits for it.
type cleaner struct {
	m    *Manager
	stop chan struct{}
	once sync.Once
	kick chan struct{}
	mu   struct {
		sync.Mutex
		busy map[*Log]bool
		cond *sync.Cond
	}
}

func newCleaner(m *Manager) *cleaner {
	c := &cleaner{m: m, stop: make(chan struct{}), kick: make(chan struct{}, 1)}
	c.mu.busy = map[*Log]bool{}
	c.mu.cond = sync.NewCond(&c.mu.Mutex)
	return c
}

func (c *cleaner) close() { c.once.Do(func() { close(c.stop) }) }

// Kick asks the cleaner to look for work now instead of after its backoff.
func (c *cleaner) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *cleaner) run() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	backoff := time.Duration(c.m.opts.CleanerBackoffMs) * time.Millisecond
	timer := time.NewTimer(backoff)
	defer timer.Stop()
	for {
		l := c.pick()
		if l != nil {
			st, err := l.Compact(ctx, c.m.opts.CleanerMaxKeys)
			c.done(l)
			if err != nil && !errors.Is(err, ErrCompactionAborted) && !errors.Is(err, context.Canceled) {
				c.m.logger.Warn("compaction failed", "partition", l.tp.String(), "err", err)
			} else if st.SegmentsRead > 0 {
				c.m.logger.Debug("compacted", "partition", l.tp.String(), "segments", st.SegmentsRead,
					"bytesIn", st.BytesRead, "bytesOut", st.BytesWritten, "removed", st.RecordsRemoved)
			}
			if err == nil && st.SegmentsRead > 0 {
				c.m.cleaned()
			}
			continue
		}
		timer.Reset(backoff)
		select {
		case <-c.stop:
			return
		case <-c.kick:
		case <-timer.C:
		}
	}
}

func (c *cleaner) pick() *Log {
	select {
	case <-c.stop:
		return nil
	default:
	}
	var best *Log
	bestRatio := -1.0
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.m.Logs() {
		if c.mu.busy[l] {
			continue
		}
		if need, ratio := l.NeedsCompaction(); need && ratio > bestRatio {
			best, bestRatio = l, ratio
		}
	}
	if best != nil {
		c.mu.busy[best] = true
	}
	return best
}

func (c *cleaner) done(l *Log) {
	c.mu.Lock()
	delete(c.mu.busy, l)
	c.mu.cond.Broadcast()
	c.mu.Unlock()
}

// forget waits until no worker cleans l (the log is being deleted).
func (c *cleaner) forget(l *Log) {
	c.mu.Lock()
	for c.mu.busy[l] {
		c.mu.cond.Wait()
	}
	c.mu.Unlock()
}
