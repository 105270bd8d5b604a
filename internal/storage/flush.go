package storage

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// flusher coordinates group commit: many callers wait for durability, one of them (the
// leader of a round) runs the fsyncs for all, the others wait for the round and are done if
// it covered their offset. A round that started before a truncation does not count (the
// bytes it synced may have been replaced).
//
// durable is written only with mu held (so that a round's result and a truncation are
// ordered by truncGen) and read without it (DurableOffset, the waiters' fast path, the
// replica's high watermark). The store that publishes a round's target happens after the
// round's fsyncs returned, in the same goroutine; an atomic load that observes it therefore
// happens after them too (Go's atomics synchronize), so a reader never sees an offset as
// durable before its fsync completed. A reader racing a truncation may see the old, higher
// value, exactly as one that read just before it would.
type flusher struct {
	durable atomic.Int64 // every offset below is on disk
	mu      struct {
		sync.Mutex
		round    *flushRound // the round in progress, nil when none
		truncGen uint64
	}
}

type flushRound struct {
	done chan struct{}
	err  error
}

func (f *flusher) truncated(offset int64) {
	f.mu.Lock()
	f.mu.truncGen++
	f.durable.Store(min(f.durable.Load(), offset))
	f.mu.Unlock()
}

// DurableOffset is the offset below which everything is known to be on disk (the recovery
// point).
// It takes no lock (see flusher).
func (l *Log) DurableOffset() int64 { return l.flush.durable.Load() }

// raiseDurableLocked moves the durable offset up to target (never down). Callers hold
// flusher.mu and have checked that no truncation happened since their round began.
func (f *flusher) raiseDurableLocked(target int64) {
	if target > f.durable.Load() {
		f.durable.Store(target)
	}
}

// Flush makes everything appended so far durable.
func (l *Log) Flush(ctx context.Context) error { return l.WaitDurable(ctx, l.logEnd.Load()) }

// WaitDurable returns once every offset below offset is on disk (fdatasync of the segment
// files, fsync of the directory when files were created or renamed). Concurrent callers
// share fsyncs: while one round runs, later callers queue behind it and the next round
// covers all of them. A canceled ctx stops the wait, not a round already running.
//
// A truncation since the last round (cutPending) makes the next call run a round even when
// offset is durable already: the cut itself, and the renames of the segments it removed,
// must reach the disk too, or a power loss could bring the removed batches back.
func (l *Log) WaitDurable(ctx context.Context, offset int64) error {
	f := &l.flush
	if f.durable.Load() >= offset && !l.cutPending.Load() {
		return nil
	}
	for {
		f.mu.Lock()
		if f.durable.Load() >= offset && !l.cutPending.Load() {
			f.mu.Unlock()
			return nil
		}
		if r := f.mu.round; r != nil {
			f.mu.Unlock()
			select {
			case <-r.done:
				if r.err != nil {
					return r.err
				}
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if l.closed.Load() && l.segments() == nil {
			f.mu.Unlock()
			return ErrClosed
		}
		if err := ctx.Err(); err != nil {
			f.mu.Unlock()
			return err
		}
		r := &flushRound{done: make(chan struct{})}
		f.mu.round = r
		gen := f.mu.truncGen
		f.mu.Unlock()

		target, err := l.syncRound()

		f.mu.Lock()
		if err == nil && gen == f.mu.truncGen {
			f.raiseDurableLocked(target)
		}
		f.mu.round = nil
		r.err = err
		f.mu.Unlock()
		close(r.done)
		if err != nil {
			return err
		}
	}
}

// syncRound fsyncs every segment with unsynced bytes or index files, then the directory if
// its entries changed, and returns the log end offset it covered.
func (l *Log) syncRound() (target int64, err error) {
	if l.onFlush != nil {
		start := time.Now() // wall clock, not l.now: the metric is a real duration
		defer func() { l.onFlush(time.Since(start)) }()
	}
	// Cleared first: a truncation while the round runs marks it again.
	l.cutPending.Store(false)
	defer func() {
		if err != nil {
			l.cutPending.Store(true)
		}
	}()
	target = l.logEnd.Load()
	appended := l.appendedRecords.Load()
	var errs []error
	// The small files whose writes were deferred to this round: synced and renamed now,
	// their directory entries synced below with the rest.
	if wrote, err := l.flushPartitionMetadata(); err != nil {
		errs = append(errs, err)
	} else if wrote {
		l.dirDirty.Store(true)
	}
	if wrote, err := l.epochs.flush(); err != nil {
		errs = append(errs, err)
	} else if wrote {
		l.dirDirty.Store(true)
	}
	for _, s := range l.segments() {
		if s.base >= target && s.sizeBytes.Load() == 0 && s.syncedBytes.Load() >= 0 {
			continue
		}
		size := s.sizeBytes.Load()
		if s.syncedBytes.Load() >= size && !s.idxDirty.Load() {
			continue
		}
		if !s.acquire() {
			continue // retired meanwhile: nothing of it needs to be durable
		}
		if before := s.syncedBytes.Load(); before < size {
			if err := s.log.Sync(); err != nil {
				errs = append(errs, err)
			} else {
				for {
					cur := s.syncedBytes.Load()
					// A negative value marks a cut not yet synced, unique per cut (see
					// segment.truncateTo): one made during this sync is left for the
					// next round.
					if cur >= size || cur < 0 && cur != before || s.syncedBytes.CompareAndSwap(cur, size) {
						break
					}
				}
			}
		}
		errs = append(errs, s.syncIndexes())
		s.release()
	}
	if l.dirDirty.Swap(false) {
		if err := l.fs.SyncDir(l.dir); err != nil {
			l.dirDirty.Store(true)
			errs = append(errs, err)
		}
	}
	// A new partition directory's own entry, in the log dir (one fsync shared by every
	// partition created before it).
	if l.parentPending.Load() {
		if err := l.makeParentDurable(); err != nil {
			errs = append(errs, err)
		} else {
			l.parentPending.Store(false)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	l.flushedRecords.Store(appended)
	l.lastFlushMs.Store(l.nowMs())
	return target, nil
}

// persistUrgentEpochs writes the leader-epoch checkpoint when the cache holds a change that
// an unclean open could not redo (see epochCache). Callers hold no lock of the log: the write
// syncs the file (its directory entry is synced by the next flush round). A crash before it
// finishes loses what Kafka's asynchronous checkpoint flush loses in the same window.
func (l *Log) persistUrgentEpochs() {
	if !l.epochs.urgent.Swap(false) {
		return
	}
	wrote, err := l.epochs.flush()
	if err != nil {
		l.epochs.urgent.Store(true)
		l.logger.Warn("leader epoch checkpoint write failed", "err", err)
		return
	}
	if wrote {
		l.dirDirty.Store(true)
	}
}

// flushRolled makes everything below upTo durable and syncs the producer snapshot a roll
// wrote at upTo: Kafka's flush after a roll (flushUptoOffsetExclusive of the new segment's
// base, and the snapshot's flush). The round covers the whole log as it stands (the active
// segment's few bytes since the roll too): one round, shared with any waiter, rather than a
// second kind. The recovery point, DurableOffset, advances with it.
func (l *Log) flushRolled(ctx context.Context, upTo int64) error {
	if err := l.WaitDurable(ctx, upTo); err != nil {
		return err
	}
	f, err := l.fs.OpenFile(snapshotPath(l.dir, upTo), os.O_RDWR, 0)
	if err != nil {
		return nil // none written, or replaced by a later one: recovery does without it
	}
	defer f.Close()
	return f.Sync()
}

// flushIfDue runs a flush when flush.ms has passed since the last one and records are
// unflushed (called by the Manager's housekeeping).
func (l *Log) flushIfDue(ctx context.Context) error {
	cfg := l.cfg.Load()
	if l.appendedRecords.Load() == l.flushedRecords.Load() {
		return nil
	}
	if l.nowMs()-l.lastFlushMs.Load() < cfg.FlushMs {
		return nil
	}
	return l.Flush(ctx)
}
