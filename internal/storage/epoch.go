package storage

import (
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
)

// epochCache is the leader epoch cache: for each leader epoch, the first offset appended in
// it, persisted to leader-epoch-checkpoint (tmp file, fsync, rename). A standalone cache
// writes on every change; a log's cache (deferred) only marks itself dirty and is written by
// the log's next flush round, before the round calls anything durable (see the durability
// contract in doc.go), so that no new epoch costs an fsync under the log's write lock.
//
// What an unclean open can redo from the checkpoint and the batches decides what may wait
// for the round. It redoes new epochs (the rescanned batches carry them) and the moves of a
// log start advance (it truncates at the log start again). It cannot tell that a
// truncation removed an entry (the checkpoint would still hold it), nor where an epoch
// began once its batches lie below the log start, nor that a batch of an older epoch
// replaced a newer entry. So a truncation writes the checkpoint synced before it returns
// (truncateFromEndSynced, clear), and a log start advance or an epoch regression marks the
// cache urgent: the log writes it right after releasing its write lock (Log.persistUrgentEpochs).
type epochCache struct {
	fs       FS
	path     string
	deferred bool
	dirty    atomic.Bool
	urgent   atomic.Bool // a change an open could not redo is not written yet
	flushMu  sync.Mutex  // one write of the file at a time
	mu       struct {
		sync.RWMutex
		entries []EpochEntry // strictly increasing epochs and non-decreasing offsets
	}
}

func newEpochCache(fsys FS, dir string) *epochCache {
	return &epochCache{fs: fsys, path: filepath.Join(dir, leaderEpochCheckpointFile)}
}

func loadEpochCache(fsys FS, dir string) (*epochCache, error) {
	c := newEpochCache(fsys, dir)
	data, err := readFile(fsys, c.path, checkpointLimitBytes)
	if err != nil {
		if !exists(fsys, c.path) {
			return c, nil
		}
		return nil, err
	}
	es, err := decodeEpochCheckpoint(c.path, data)
	if err != nil {
		return nil, err
	}
	c.mu.entries = es
	return c, nil
}

// writeLocked persists a change made with c.mu held: at once, or at the next flush.
func (c *epochCache) writeLocked() error {
	if c.deferred {
		c.dirty.Store(true)
		return nil
	}
	return writeFileAtomic(c.fs, c.path, encodeEpochCheckpoint(c.mu.entries))
}

// flush writes a deferred cache's checkpoint if it changed (tmp file synced, renamed; the
// caller syncs the directory). It reports whether it wrote.
func (c *epochCache) flush() (bool, error) {
	if !c.dirty.Load() {
		return false, nil
	}
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	// Cleared before the entries are read: a change made meanwhile marks it again.
	if !c.dirty.Swap(false) {
		return false, nil
	}
	c.mu.RLock()
	data := encodeEpochCheckpoint(c.mu.entries)
	c.mu.RUnlock()
	if err := writeFileSynced(c.fs, c.path, data); err != nil {
		c.dirty.Store(true)
		return false, err
	}
	return true, nil
}

// assign records the epoch of a batch appended at startOffset with Kafka's rule: nothing
// changes when epoch is the latest one and startOffset does not precede its start; otherwise
// the entries that the new one contradicts (an epoch at least as new, or a start offset not
// below startOffset) are dropped and the new entry appended. A follower appending an older
// epoch than its cache's latest (it was not truncated first) therefore makes the cache follow
// its data, as Kafka's does.
func (c *epochCache) assign(epoch int32, startOffset int64) error {
	if epoch < 0 {
		return nil
	}
	c.mu.RLock()
	needed := assignNeededLocked(c.mu.entries, epoch, startOffset)
	c.mu.RUnlock()
	if !needed {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !assignNeededLocked(c.mu.entries, epoch, startOffset) {
		return nil
	}
	es := c.mu.entries
	for n := len(es); n > 0 && (es[n-1].Epoch >= epoch || es[n-1].StartOffset >= startOffset); n = len(es) {
		if es[n-1].Epoch >= epoch {
			c.urgent.Store(true) // an epoch regression: a rescan would keep the newer entry
		}
		es = es[:n-1]
	}
	c.mu.entries = append(es[:len(es):len(es)], EpochEntry{Epoch: epoch, StartOffset: startOffset})
	return c.writeLocked()
}

func assignNeededLocked(es []EpochEntry, epoch int32, startOffset int64) bool {
	n := len(es)
	return n == 0 || es[n-1].Epoch != epoch || startOffset < es[n-1].StartOffset
}

// assignIfNewer is recovery's rule (Kafka's segment recovery): a rescanned batch adds its
// epoch only when it is newer than the latest entry.
func (c *epochCache) assignIfNewer(epoch int32, startOffset int64) error {
	if epoch < 0 {
		return nil
	}
	if e, ok := c.latest(); ok && epoch <= e.Epoch {
		return nil
	}
	return c.assign(epoch, startOffset)
}

// assignExplicit records a new leader epoch at election (Log.AssignEpoch): epochs only
// grow, the same epoch again changes nothing, and entries starting at or after startOffset
// give way (Kafka's rule for non-monotonic entries).
func (c *epochCache) assignExplicit(epoch int32, startOffset int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	es := c.mu.entries
	if n := len(es); n > 0 {
		latest := es[n-1]
		if epoch < latest.Epoch {
			return fmt.Errorf("%w: epoch %d, latest %d", ErrStaleLeaderEpoch, epoch, latest.Epoch)
		}
		if epoch == latest.Epoch {
			return nil
		}
	}
	for len(es) > 0 && es[len(es)-1].StartOffset >= startOffset {
		es = es[:len(es)-1]
	}
	c.mu.entries = append(es[:len(es):len(es)], EpochEntry{Epoch: epoch, StartOffset: startOffset})
	return c.writeLocked()
}

// truncateFromEnd drops entries starting at or after endOffset (log truncation at open).
func (c *epochCache) truncateFromEnd(endOffset int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.truncateFromEndLocked(endOffset) {
		return nil
	}
	return c.writeLocked()
}

func (c *epochCache) truncateFromEndLocked(endOffset int64) bool {
	es := c.mu.entries
	i := sort.Search(len(es), func(i int) bool { return es[i].StartOffset >= endOffset })
	if i == len(es) {
		return false
	}
	c.mu.entries = append([]EpochEntry(nil), es[:i]...)
	return true
}

// truncateFromEndSynced is truncateFromEnd for a truncation of a live log (TruncateTo): the
// checkpoint is written, synced, before it returns, even when deferred, so that the file never
// holds an entry that a truncation removed. An unclean open trusts the checkpoint and only
// adds the epochs of rescanned batches newer than its latest (Kafka's recovery); an entry
// describing data that a truncation replaced could not be told apart from a live one there.
// Kafka flushes this change asynchronously and accepts that window. Readers are not blocked
// by the write.
func (c *epochCache) truncateFromEndSynced(endOffset int64) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	changed := c.truncateFromEndLocked(endOffset)
	data := encodeEpochCheckpoint(c.mu.entries)
	c.mu.Unlock()
	if !changed {
		return nil // pending changes (moves, new epochs) are rebuilt by an open if lost
	}
	// Cleared before the write, as in flush: a change made meanwhile marks it again.
	c.dirty.Store(false)
	if err := writeFileAtomic(c.fs, c.path, data); err != nil {
		c.dirty.Store(true)
		return err
	}
	return nil
}

// truncateFromStart drops entries wholly below startOffset and moves the one containing it
// up to startOffset (log start offset advanced).
func (c *epochCache) truncateFromStart(startOffset int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	es := c.mu.entries
	i := sort.Search(len(es), func(i int) bool { return es[i].StartOffset > startOffset })
	if i == 0 || (i == 1 && es[0].StartOffset == startOffset) {
		return nil
	}
	kept := append([]EpochEntry{{Epoch: es[i-1].Epoch, StartOffset: startOffset}}, es[i:]...)
	c.mu.entries = kept
	c.urgent.Store(true)
	return c.writeLocked()
}

// clear empties the cache (the log restarted at a new offset) and, like Kafka's
// clearAndFlush, persists that at once even when deferred: the entries it drops describe
// data that is gone, which a recovery could not tell from the batches it rescans.
func (c *epochCache) clear() error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.entries = nil
	if err := writeFileAtomic(c.fs, c.path, encodeEpochCheckpoint(nil)); err != nil {
		c.dirty.Store(true)
		return err
	}
	c.dirty.Store(false)
	return nil
}

func (c *epochCache) snapshot() []EpochEntry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]EpochEntry(nil), c.mu.entries...)
}

func (c *epochCache) latest() (EpochEntry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if n := len(c.mu.entries); n > 0 {
		return c.mu.entries[n-1], true
	}
	return EpochEntry{}, false
}

// endOffsetFor answers OffsetForLeaderEpoch as Kafka does: the latest epoch <= requested and
// the offset where the next higher epoch starts (the log end offset for the latest epoch).
// (-1, -1) when requested is newer than every known epoch or the cache is empty.
func (c *epochCache) endOffsetFor(requested int32, logEndOffset int64) (epoch int32, endOffset int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	es := c.mu.entries
	if requested < 0 || len(es) == 0 {
		return -1, -1
	}
	if es[len(es)-1].Epoch == requested {
		return requested, logEndOffset
	}
	hi := sort.Search(len(es), func(i int) bool { return es[i].Epoch > requested })
	if hi == len(es) {
		return -1, -1
	}
	if hi == 0 {
		return requested, es[0].StartOffset
	}
	return es[hi-1].Epoch, es[hi].StartOffset
}
