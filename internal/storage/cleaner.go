package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
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
// whose delete horizon (KIP-534) has passed and stamps a horizon on those it keeps, and keeps
// every control batch, every compressed batch whole (record-level cleaning of compressed
// batches waits for internal/record's codecs), every keyless record, and for each live
// producer its last batch (empty if need be) so idempotence state survives. Offsets never
// change. Cleaned segments are grouped up to segment.bytes and installed with Kafka's
// crash-safe .cleaned -> .swap -> rename sequence.
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
	// 1. The offset map: latest offset of each key in the dirty part, bounded by maxKeys.
	point := l.cleanerPoint.Load()
	latest := map[string]int64{}
	mapEnd := end
	mapped := false
	var buf []byte
	for i, s := range segs {
		upper := end
		if i+1 < len(segs) {
			upper = segs[i+1].base
		}
		if upper <= point {
			continue
		}
		if len(latest) >= maxKeys && mapped {
			mapEnd = s.base // the rest waits for the next pass
			break
		}
		mapped = true
		err := l.forEachBatch(s, &buf, func(b record.Batch) error {
			if b.IsControl() || b.Compression() != record.CompressionNone {
				return nil
			}
			it := record.NewRecordIter(b.Records(), b.RecordCount())
			for it.Next() {
				r := it.Record()
				if r.Key != nil {
					latest[string(r.Key)] = r.Offset(b)
				}
			}
			return it.Err()
		})
		if err != nil {
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
	lastOfProducer := map[int64]int64{}
	l.producers.mu.RLock()
	for pid, e := range l.producers.mu.producers {
		if n := len(e.Batches); n > 0 {
			lastOfProducer[pid] = e.Batches[n-1].LastOffset
		}
	}
	l.producers.mu.RUnlock()
	horizon := now + cfg.DeleteRetentionMs

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
		written, removed, err := l.cleanGroup(group, latest, lastOfProducer, now, horizon, &buf)
		if err != nil {
			return st, err
		}
		st.SegmentsRead += len(group)
		st.SegmentsWritten++
		st.BytesRead += size
		st.BytesWritten += written
		st.RecordsRemoved += removed
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

// cleanGroup writes the retained batches of group to <base>.log.cleaned, synced.
func (l *Log) cleanGroup(group []*segment, latest map[string]int64, lastOfProducer map[int64]int64,
	nowMs, horizon int64, buf *[]byte) (written, removed int64, err error) {
	base := group[0].base
	path := filepath.Join(l.dir, segmentFileName(base, logSuffix+cleanedSuffix))
	f, err := l.fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, 0, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			l.removeQuiet(path)
		}
	}()
	var out []byte
	var pos int64
	flush := func() error {
		if len(out) == 0 {
			return nil
		}
		if _, err := f.WriteAt(out, pos); err != nil {
			return err
		}
		pos += int64(len(out))
		out = out[:0]
		return nil
	}
	for _, s := range group {
		err := l.forEachBatch(s, buf, func(b record.Batch) error {
			kept, n, err := filterBatch(out, b, latest, lastOfProducer, nowMs, horizon)
			if err != nil {
				return err
			}
			out = kept
			removed += n
			if len(out) >= 1<<20 {
				return flush()
			}
			return nil
		})
		if err != nil {
			return 0, 0, err
		}
	}
	if err := flush(); err != nil {
		return 0, 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, 0, err
	}
	return pos, removed, nil
}

// filterBatch appends to dst what compaction keeps of b.
func filterBatch(dst []byte, b record.Batch, latest map[string]int64, lastOfProducer map[int64]int64,
	nowMs, horizon int64) ([]byte, int64, error) {
	if b.IsControl() || b.Compression() != record.CompressionNone {
		// Control batches stay until transactions can tell when a marker is safe to drop
		// (Kafka removes a marker after its delete horizon once the transaction's data is
		// gone); compressed batches stay whole until record-level rewriting of them lands.
		return append(dst, b...), 0, nil
	}
	expired := b.HasDeleteHorizon() && nowMs >= b.BaseTimestamp()
	type keep struct {
		r  record.Record
		ts int64
	}
	var kept []keep
	var removed int64
	hasTombstone := false
	it := record.NewRecordIter(b.Records(), b.RecordCount())
	for it.Next() {
		r := it.Record()
		off := r.Offset(b)
		retain := true
		if r.Key != nil {
			if lo, ok := latest[string(r.Key)]; ok && lo > off {
				retain = false
			}
			if retain && r.Value == nil {
				if expired {
					retain = false
				} else {
					hasTombstone = true
				}
			}
		}
		if !retain {
			removed++
			continue
		}
		kept = append(kept, keep{r: *r, ts: r.Timestamp(b)})
	}
	if err := it.Err(); err != nil {
		return dst, 0, err
	}
	if removed == 0 && !(hasTombstone && !b.HasDeleteHorizon()) {
		return append(dst, b...), 0, nil
	}
	isLastOfProducer := b.HasProducerID() && lastOfProducer[b.ProducerID()] == b.LastOffset()
	if len(kept) == 0 && !isLastOfProducer {
		return dst, removed, nil
	}
	// Rebuild the batch: same base offset, last offset delta, producer fields and max
	// timestamp; with a tombstone kept, the base timestamp becomes the delete horizon and
	// record timestamps are re-encoded relative to it (KIP-534).
	baseTs := b.BaseTimestamp()
	attrs := b.Attributes()
	if hasTombstone && !b.HasDeleteHorizon() {
		baseTs = horizon
		attrs |= 0x40
	} else if b.HasDeleteHorizon() && !hasTombstone {
		// No tombstone left: clear the horizon, base timestamp back to the first record.
		attrs &^= 0x40
		if len(kept) > 0 {
			baseTs = kept[0].ts
		}
	}
	start := len(dst)
	dst = append(dst, b[:record.HeaderSize]...)
	for _, k := range kept {
		dst = appendRecord(dst, &k.r, k.ts-baseTs)
	}
	nb := record.Batch(dst[start:])
	binary.BigEndian.PutUint32(nb[8:], uint32(len(nb)-record.LogOverhead))
	binary.BigEndian.PutUint16(nb[21:], uint16(attrs))
	binary.BigEndian.PutUint64(nb[27:], uint64(baseTs))
	binary.BigEndian.PutUint32(nb[57:], uint32(len(kept)))
	nb.UpdateCRC()
	return dst, removed, nil
}

// appendRecord encodes r with a new timestamp delta (the rest unchanged).
func appendRecord(dst []byte, r *record.Record, tsDelta int64) []byte {
	if tsDelta == r.TimestampDelta {
		return append(dst, r.Raw...)
	}
	var body []byte
	body = append(body, byte(r.Attributes))
	body = binary.AppendVarint(body, tsDelta)
	body = binary.AppendVarint(body, int64(r.OffsetDelta))
	body = appendNullable(body, r.Key)
	body = appendNullable(body, r.Value)
	body = binary.AppendVarint(body, int64(r.Headers.Len()))
	body = append(body, r.Headers.Raw()...)
	dst = binary.AppendVarint(dst, int64(len(body)))
	return append(dst, body...)
}

func appendNullable(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

// swapIn replaces group with the cleaned segment: .cleaned -> .swap, old files -> .deleted,
// .swap -> .log. A crash anywhere in between is finished (or undone) by the next open.
func (l *Log) swapIn(group []*segment, gen int64) error {
	base := group[0].base
	cleaned := filepath.Join(l.dir, segmentFileName(base, logSuffix+cleanedSuffix))
	swap := filepath.Join(l.dir, segmentFileName(base, logSuffix+swapSuffix))
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
