package group

import (
	"container/heap"
	"time"
)

// timerKind says what a timer is for; with the group, member and sequence it keys the
// timer, so that scheduling the same key again replaces the previous deadline (a member's
// heartbeat pushes its session expiry forward) instead of adding an entry.
type timerKind uint8

const (
	// timerHeartbeat: a classic member's session (or a pending member's, or a new member's
	// join) expires.
	timerHeartbeat timerKind = iota
	// timerJoin: a classic group's join phase ends (rebalance timeout, initial delay).
	timerJoin
	// timerSync: a classic group's members that have not sent SyncGroup are removed.
	timerSync
	// timerWrite: a write to __consumer_offsets not committed in time fails.
	timerWrite
	// timerExpiry: the periodic offsets and group expiration.
	timerExpiry
	// timerConsumerSession: a KIP-848 member's session expires.
	timerConsumerSession
	// timerConsumerRebalance: a KIP-848 member has not revoked partitions within its
	// rebalance timeout.
	timerConsumerRebalance
)

type timerKey struct {
	kind   timerKind
	group  string
	member string
	seq    uint64
}

type timerEntry struct {
	key   timerKey
	at    time.Time
	fn    func()
	index int // in the heap
}

// timers is a shard's deadline set: at most one entry per key, ordered by deadline. It is
// owned by the shard's loop (no lock). Its size is bounded by what it keys: one entry per
// member, per group and per write in flight.
type timers struct {
	h     timerHeap
	byKey map[timerKey]*timerEntry
}

func newTimers() timers { return timers{byKey: map[timerKey]*timerEntry{}} }

// set schedules fn at at, replacing the key's previous deadline.
func (t *timers) set(key timerKey, at time.Time, fn func()) {
	if e, ok := t.byKey[key]; ok {
		e.at, e.fn = at, fn
		heap.Fix(&t.h, e.index)
		return
	}
	e := &timerEntry{key: key, at: at, fn: fn}
	t.byKey[key] = e
	heap.Push(&t.h, e)
}

// cancel drops the key's deadline, if any.
func (t *timers) cancel(key timerKey) {
	if e, ok := t.byKey[key]; ok {
		heap.Remove(&t.h, e.index)
		delete(t.byKey, key)
	}
}

// next returns the earliest deadline.
func (t *timers) next() (time.Time, bool) {
	if len(t.h) == 0 {
		return time.Time{}, false
	}
	return t.h[0].at, true
}

// popDue removes and returns the earliest entry if it is due at now.
func (t *timers) popDue(now time.Time) (func(), bool) {
	if len(t.h) == 0 || t.h[0].at.After(now) {
		return nil, false
	}
	e := heap.Pop(&t.h).(*timerEntry)
	delete(t.byKey, e.key)
	return e.fn, true
}

type timerHeap []*timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	e := x.(*timerEntry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}
