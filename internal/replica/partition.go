package replica

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/sluicehq/sluice/internal/storage"
)

type role int8

const (
	roleNone role = iota // created, no state applied yet
	roleLeader
	roleFollower
	roleRemoved // removed from the manager, or the manager closed
)

// replicaState is one immutable version of a partition's leadership state. Readers load it
// without a lock; writers replace it under Partition.stateMu.
type replicaState struct {
	role role
	PartitionState
	// epochStartOffset is the log end offset when this broker became leader in LeaderEpoch:
	// the first offset of the epoch, which the log's epoch cache also records (AssignEpoch).
	// It is kept here, as Kafka's Partition keeps leaderEpochStartOffsetOpt, for ListOffsets:
	// the cache entry can move with the log start, the start of the leadership cannot.
	epochStartOffset int64
	// followers has an entry per replica other than this broker (leader only). The map is
	// never changed after publication; the entries' fields are atomic.
	followers map[int32]*followerState
}

// followerState is what the leader knows of one follower, from its fetches.
type followerState struct {
	leo         atomic.Int64 // the follower's log end offset (its fetch offset); -1 unknown
	logStart    atomic.Int64 // the follower's log start offset; -1 unknown
	lastFetchMs atomic.Int64
	// lastCaughtUpMs is the last time the follower fetched at (or past) the leader's log end
	// as of its fetch: the input of ISR shrinking (replica.lag.time.max.ms), which comes with
	// replication.
	lastCaughtUpMs atomic.Int64
}

// Partition is one partition replica on this broker: its log, its leadership state, its high
// watermark, and the waiters for it. All methods are safe for concurrent use.
type Partition struct {
	m       *Manager
	tp      TopicPartition
	topicID storage.TopicID
	log     *storage.Log

	cfg atomic.Pointer[Config]

	// stateMu orders leadership changes against appends: an append holds it shared from its
	// leadership check to the end of its write, a state change holds it exclusively. Reads do
	// not take it; they load state.
	stateMu sync.RWMutex
	state   atomic.Pointer[replicaState]

	// appendMu serializes producer-state checks, offset assignment and the storage append, so
	// that concurrent producers are checked against each other's writes. It is never held
	// across a wait for durability or replication.
	appendMu sync.Mutex

	hw struct {
		mu    sync.Mutex // orders advances, so the log sees them in order
		value atomic.Int64
	}
	waiters     waiterSet
	flushQueued atomic.Bool // in the manager's flusher queue
	counters    partitionCounters
}

func newPartition(m *Manager, tp TopicPartition, topicID storage.TopicID, log *storage.Log, cfg Config) *Partition {
	p := &Partition{m: m, tp: tp, topicID: topicID, log: log}
	p.cfg.Store(&cfg)
	p.state.Store(&replicaState{role: roleNone, PartitionState: PartitionState{Leader: -1, LeaderEpoch: -1, PartitionEpoch: -1}})
	p.hw.value.Store(initialHighWatermark(log, m.groupCommit))
	return p
}

// initialHighWatermark is where a replica taking over log starts its high watermark, as
// Kafka's Partition does from replication-offset-checkpoint: the high watermark storage
// knows for the log (the checkpoint's, or the last one a replica gave it since the log was
// opened), which storage clamps to the log. Under group commit it is clamped to the durable
// offset too, so that consumers never see past the disk. A leader moves it up from its ISR
// (at once when the ISR is this broker alone); it never moves back.
func initialHighWatermark(log *storage.Log, groupCommit bool) int64 {
	hw := log.HighWatermark()
	if groupCommit {
		hw = min(hw, max(log.DurableOffset(), log.LogStartOffset()))
	}
	return hw
}

// TopicPartition names the partition.
func (p *Partition) TopicPartition() TopicPartition { return p.tp }

// TopicID is the topic's id.
func (p *Partition) TopicID() storage.TopicID { return p.topicID }

// Config returns the partition's current configuration.
func (p *Partition) Config() Config { return *p.cfg.Load() }

// State returns the partition's current assignment and whether this broker leads it.
func (p *Partition) State() (st PartitionState, leader bool) {
	s := p.state.Load()
	return s.PartitionState.clone(), s.role == roleLeader
}

// IsLeader reports whether this broker leads the partition.
func (p *Partition) IsLeader() bool { return p.state.Load().role == roleLeader }

// LeaderEpoch is the current leader epoch (-1 before any state was applied).
func (p *Partition) LeaderEpoch() int32 { return p.state.Load().LeaderEpoch }

// HighWatermark is the offset below which every record is replicated to the ISR (and, under
// group commit, on the leader's disk): what read_uncommitted consumers see.
func (p *Partition) HighWatermark() int64 { return p.hw.value.Load() }

// LastStableOffset is the offset below which no transaction is open: what read_committed
// consumers see. Until transactions exist it equals the high watermark; with them it becomes
// min(HW, first offset of the oldest open transaction) from the producer state.
func (p *Partition) LastStableOffset() int64 { return p.hw.value.Load() }

// LogStartOffset is the first offset a consumer may read.
func (p *Partition) LogStartOffset() int64 { return p.log.LogStartOffset() }

// LogEndOffset is the offset the next append gets.
func (p *Partition) LogEndOffset() int64 { return p.log.LogEndOffset() }

// SizeBytes is the size of the partition's log.
func (p *Partition) SizeBytes() int64 { return p.log.SizeBytes() }

func (p *Partition) setConfig(cfg Config) error {
	if err := p.log.SetConfig(cfg.Log); err != nil {
		return err
	}
	p.cfg.Store(&cfg)
	return nil
}

// transition applies a leadership change. It waits for appends in flight to finish their
// write, then wakes every waiter so that fetches and acks=all waits re-check the state.
func (p *Partition) transition(r role, st PartitionState) error {
	p.stateMu.Lock()
	cur := p.state.Load()
	if r != roleRemoved && cur.role != roleNone && cur.role != roleRemoved && st.LeaderEpoch < cur.LeaderEpoch {
		p.stateMu.Unlock()
		return fmt.Errorf("%w: %s epoch %d, current %d", ErrStaleLeaderEpoch, p.tp, st.LeaderEpoch, cur.LeaderEpoch)
	}
	next := &replicaState{role: r, PartitionState: st, epochStartOffset: -1}
	if r == roleLeader {
		self := p.m.opts.BrokerID
		st.Leader = self
		next.PartitionState.Leader = self
		sameLeadership := cur.role == roleLeader && cur.LeaderEpoch == st.LeaderEpoch
		if sameLeadership {
			if st.PartitionEpoch < cur.PartitionEpoch {
				p.stateMu.Unlock()
				return nil // an older ISR/replica change of the same leadership: ignore
			}
			next.epochStartOffset = cur.epochStartOffset
		} else {
			// A new leadership starts its epoch at the log end, in the log's epoch cache
			// too, as Kafka's makeLeader does: OffsetForLeaderEpoch and diverging-epoch
			// answers then come from the cache alone, even before the epoch's first append.
			// No append is in flight (they hold stateMu shared), so the log end is stable.
			next.epochStartOffset = p.log.LogEndOffset()
			if err := p.log.AssignEpoch(st.LeaderEpoch, next.epochStartOffset); err != nil {
				p.stateMu.Unlock()
				return assignEpochError(p.tp, st.LeaderEpoch, err)
			}
		}
		next.followers = make(map[int32]*followerState, len(st.Replicas))
		for _, id := range st.Replicas {
			if id == self {
				continue
			}
			if f, ok := cur.followers[id]; ok && sameLeadership {
				next.followers[id] = f // keep what the follower's fetches told us
				continue
			}
			f := &followerState{}
			f.leo.Store(-1)
			f.logStart.Store(-1)
			next.followers[id] = f
		}
	}
	p.state.Store(next)
	p.stateMu.Unlock()
	if r == roleLeader {
		p.advanceHighWatermark()
	}
	p.waiters.wakeAll()
	return nil
}

// assignEpochError classifies a failed AssignEpoch at election; nothing changed.
func assignEpochError(tp TopicPartition, epoch int32, err error) error {
	switch {
	case errors.Is(err, storage.ErrStaleLeaderEpoch):
		// The log holds a newer epoch than the metadata gave (a replayed delta): refuse
		// rather than let the cache go back.
		return fmt.Errorf("%w: %s epoch %d: %w", ErrStaleLeaderEpoch, tp, epoch, err)
	case errors.Is(err, storage.ErrClosed):
		return fmt.Errorf("%w: %s: %w", ErrClosed, tp, err)
	}
	return fmt.Errorf("%w: record leader epoch %d of %s: %w", ErrStorage, epoch, tp, err)
}

// checkEpoch compares a request's current leader epoch (-1: none) with ours, as Kafka does:
// older is fenced, newer is unknown.
func checkEpoch(st *replicaState, requestEpoch int32) error {
	switch {
	case requestEpoch < 0:
		return nil
	case requestEpoch < st.LeaderEpoch:
		return fmt.Errorf("%w: request epoch %d, current %d", ErrFencedLeaderEpoch, requestEpoch, st.LeaderEpoch)
	case requestEpoch > st.LeaderEpoch:
		return fmt.Errorf("%w: request epoch %d, current %d", ErrUnknownLeaderEpoch, requestEpoch, st.LeaderEpoch)
	}
	return nil
}

// leaderState returns the state if this broker leads the partition in the request's epoch.
func (p *Partition) leaderState(requestEpoch int32) (*replicaState, error) {
	st := p.state.Load()
	if err := checkEpoch(st, requestEpoch); err != nil {
		return nil, err
	}
	if st.role != roleLeader {
		return nil, fmt.Errorf("%w: %s", ErrNotLeader, p.tp)
	}
	return st, nil
}

// advanceHighWatermark moves the leader's high watermark to the smallest log end offset of
// the ISR, counting the leader's own log end only as far as it is durable under group commit.
// It never moves the high watermark back, and wakes the waiters when it moves.
func (p *Partition) advanceHighWatermark() bool {
	st := p.state.Load()
	if st.role != roleLeader {
		return false
	}
	target := p.log.LogEndOffset()
	if p.m.groupCommit {
		target = min(target, p.log.DurableOffset())
	}
	for _, id := range st.ISR {
		if id == st.Leader {
			continue
		}
		f := st.followers[id]
		if f == nil {
			return false // an ISR member that is not a replica: wait for consistent metadata
		}
		target = min(target, f.leo.Load())
	}
	p.hw.mu.Lock()
	if target <= p.hw.value.Load() {
		p.hw.mu.Unlock()
		return false
	}
	p.hw.value.Store(target)
	p.log.SetHighWatermark(target)
	p.hw.mu.Unlock()
	p.waiters.wake(false)
	return true
}
