package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/storage"
)

// ManagerOptions configures a Manager.
type ManagerOptions struct {
	// Storage holds the partition logs. The Manager uses it but does not own it: the node
	// assembly opens it before and closes it after the Manager.
	Storage *storage.Manager
	// BrokerID is this broker's node.id: the replica id that counts as "self" in replica and
	// ISR lists.
	BrokerID int32
	// FlushPolicy is sluice.log.flush.policy (default FlushGroupCommit).
	FlushPolicy FlushPolicy
	Logger      *slog.Logger
	Now         func() time.Time

	// MaxWaiterRegistrations bounds the partition registrations of all fetch Waiters together
	// (default 1<<18). Past it Watch fails with ErrTooManyWaiters and the fetch answers at once.
	MaxWaiterRegistrations int64
	// MaxDecompressedBatchBytes bounds what one compressed batch may decompress to when the
	// broker has to look inside it (validation, recompression); a batch that expands further
	// is refused with ErrMessageTooLarge. Kafka has no such bound; Sluice needs one so that a
	// small request cannot make it allocate gigabytes. Default 256 MiB. ListOffsets looks
	// inside stored batches through storage, bounded by storage's own
	// ManagerOptions.MaxDecompressedBatchBytes (give both the same value).
	MaxDecompressedBatchBytes int
	// FlushThreads bounds how many partitions the background flusher (group commit only)
	// syncs at once: appends nobody waits for become durable, and visible, this many
	// partitions at a time (default 4). Sluice's own; Kafka has no group commit.
	FlushThreads int
}

func (o *ManagerOptions) ensureDefaults() {
	if o.FlushPolicy == "" {
		o.FlushPolicy = FlushGroupCommit
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxWaiterRegistrations <= 0 {
		o.MaxWaiterRegistrations = 1 << 18
	}
	if o.MaxDecompressedBatchBytes <= 0 {
		o.MaxDecompressedBatchBytes = 256 << 20
	}
	if o.FlushThreads <= 0 {
		o.FlushThreads = 4
	}
}

// Manager owns the partition replicas of one broker. Leadership changes, removals and config
// changes come from the node assembly, which translates metadata deltas; produce, fetch and
// the other data-path requests look a partition up with Partition and call it directly.
type Manager struct {
	opts        ManagerOptions
	logger      *slog.Logger
	storage     *storage.Manager
	groupCommit bool

	// changeMu serializes MakeLeader, MakeFollower, Remove and UpdateConfig: metadata deltas
	// are applied one at a time, and log creation happens outside mu.
	changeMu sync.Mutex
	mu       struct {
		sync.RWMutex
		parts  map[TopicPartition]*Partition
		closed bool
	}

	waiterRegs atomic.Int64 // partition registrations of all Waiters
	// waitingProduce and waitingFetch count the waits in progress (Waiting).
	waitingProduce, waitingFetch atomic.Int64

	flusher flusher
	closing chan struct{} // closed by Close: wakes Waiters and stops the flusher
	wg      sync.WaitGroup
}

// NewManager returns a Manager over opts.Storage. Under FlushGroupCommit it starts
// opts.FlushThreads goroutines (the flusher, see Partition.Append) that Close stops.
func NewManager(opts ManagerOptions) (*Manager, error) {
	if opts.Storage == nil {
		return nil, errors.New("replica: ManagerOptions.Storage is required")
	}
	opts.ensureDefaults()
	switch opts.FlushPolicy {
	case FlushGroupCommit, FlushNone:
	default:
		return nil, fmt.Errorf("%w: sluice.log.flush.policy %q", ErrInvalidConfig, string(opts.FlushPolicy))
	}
	m := &Manager{
		opts:        opts,
		logger:      opts.Logger,
		storage:     opts.Storage,
		groupCommit: opts.FlushPolicy == FlushGroupCommit,
		closing:     make(chan struct{}),
	}
	m.mu.parts = map[TopicPartition]*Partition{}
	m.flusher.signal = make(chan struct{}, 1)
	if m.groupCommit {
		ctx, cancel := context.WithCancel(context.Background())
		m.flusher.cancel = cancel
		for i := 0; i < opts.FlushThreads; i++ {
			m.wg.Add(1)
			go func() {
				defer m.wg.Done()
				m.runFlusher(ctx)
			}()
		}
	}
	return m, nil
}

// FlushPolicy reports the policy the manager runs with.
func (m *Manager) FlushPolicy() FlushPolicy { return m.opts.FlushPolicy }

// Partition returns the replica of tp, or ErrUnknownPartition.
func (m *Manager) Partition(tp TopicPartition) (*Partition, error) {
	m.mu.RLock()
	p, ok := m.mu.parts[tp]
	m.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownPartition, tp)
	}
	return p, nil
}

// Partitions returns every partition the manager holds, sorted by name.
func (m *Manager) Partitions() []*Partition {
	m.mu.RLock()
	ps := make([]*Partition, 0, len(m.mu.parts))
	for _, p := range m.mu.parts {
		ps = append(ps, p)
	}
	m.mu.RUnlock()
	sort.Slice(ps, func(i, j int) bool { return ps[i].tp.String() < ps[j].tp.String() })
	return ps
}

// MakeLeader makes this broker the leader of tp in st.LeaderEpoch, creating or opening its
// log on first use (cfg.Log applies to a log created here). A newer leader epoch starts a
// new leadership: the epoch begins at the current log end offset, which the log's
// leader-epoch cache records at once (storage.Log.AssignEpoch), and every follower's position
// is forgotten until it fetches. The same epoch with a newer partition epoch only updates
// replicas and ISR. An older leader epoch than the partition's or than the log's newest is
// ErrStaleLeaderEpoch and changes nothing.
func (m *Manager) MakeLeader(ctx context.Context, tp TopicPartition, topicID storage.TopicID, st PartitionState, cfg Config) (*Partition, error) {
	return m.makeReplica(ctx, tp, topicID, st, cfg, roleLeader)
}

// MakeFollower makes this broker a follower of st.Leader for tp. For now it only records
// the state: produce and consumer fetches answer ErrNotLeader, replication appends are
// accepted. Fetching from the leader, truncation by OffsetForLeaderEpoch and the follower's
// high watermark come with replication.
func (m *Manager) MakeFollower(ctx context.Context, tp TopicPartition, topicID storage.TopicID, st PartitionState, cfg Config) (*Partition, error) {
	return m.makeReplica(ctx, tp, topicID, st, cfg, roleFollower)
}

func (m *Manager) makeReplica(ctx context.Context, tp TopicPartition, topicID storage.TopicID, st PartitionState, cfg Config, r role) (*Partition, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m.changeMu.Lock()
	defer m.changeMu.Unlock()
	m.mu.RLock()
	closed := m.mu.closed
	p := m.mu.parts[tp]
	m.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	if p == nil {
		log, err := m.storage.GetOrCreateLog(ctx, tp, topicID, cfg.Log)
		if err != nil {
			return nil, fmt.Errorf("%w: open log %s: %w", ErrStorage, tp, err)
		}
		p = newPartition(m, tp, topicID, log, cfg)
		m.mu.Lock()
		m.mu.parts[tp] = p
		m.mu.Unlock()
	} else if err := p.setConfig(cfg); err != nil {
		return nil, err
	}
	if err := p.transition(r, st.clone()); err != nil {
		return p, err
	}
	return p, nil
}

// UpdateConfig applies a topic's changed configuration to a live partition (dynamic topic
// configs): the next append, read or background pass uses it.
func (m *Manager) UpdateConfig(tp TopicPartition, cfg Config) error {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	m.changeMu.Lock()
	defer m.changeMu.Unlock()
	p, err := m.Partition(tp)
	if err != nil {
		return err
	}
	return p.setConfig(cfg)
}

// Remove stops serving tp (the broker is no longer a replica, or the topic was deleted). With
// deleteData its log is deleted too; readers still holding Regions of it keep reading them
// until they Release. Waiters watching tp wake; produce and fetch on a *Partition kept from
// before answer ErrNotLeader. Without deleteData the log stays in the storage manager.
func (m *Manager) Remove(ctx context.Context, tp TopicPartition, deleteData bool) error {
	m.changeMu.Lock()
	defer m.changeMu.Unlock()
	m.mu.Lock()
	p, ok := m.mu.parts[tp]
	delete(m.mu.parts, tp)
	m.mu.Unlock()
	if ok {
		p.transition(roleRemoved, PartitionState{})
	}
	if !deleteData {
		if !ok {
			return fmt.Errorf("%w: %s", ErrUnknownPartition, tp)
		}
		return nil
	}
	// A log can exist without a replica (found on disk at startup for a partition this broker
	// no longer hosts): delete it all the same.
	if err := m.storage.DeleteLog(ctx, tp); err != nil {
		if errors.Is(err, storage.ErrLogNotFound) {
			if ok {
				return nil
			}
			return fmt.Errorf("%w: %s", ErrUnknownPartition, tp)
		}
		return fmt.Errorf("%w: delete %s: %w", ErrStorage, tp, err)
	}
	return nil
}

// LogDirPartition describes one log for DescribeLogDirs.
type LogDirPartition struct {
	TopicPartition TopicPartition
	SizeBytes      int64
	// OffsetLag is Kafka's: how far the log end is behind the high watermark, which is 0 for
	// every current (non-future) log.
	OffsetLag int64
}

// LogDirPartitions lists every log in the storage manager (including logs found on disk that
// no replica serves), with size and offset lag, sorted by name.
func (m *Manager) LogDirPartitions() []LogDirPartition {
	logs := m.storage.Logs()
	out := make([]LogDirPartition, 0, len(logs))
	for _, l := range logs {
		lag := int64(0)
		if p, err := m.Partition(l.TopicPartition()); err == nil {
			lag = max(0, p.HighWatermark()-l.LogEndOffset())
		}
		out = append(out, LogDirPartition{TopicPartition: l.TopicPartition(), SizeBytes: l.SizeBytes(), OffsetLag: lag})
	}
	return out
}

// Close stops the flusher, wakes every Waiter (Wait returns ErrClosed) and makes every
// partition answer ErrNotLeader. It does not close the storage manager. Appends in flight
// finish their write; their waits end with ErrTimeout or ErrNotLeader.
func (m *Manager) Close(context.Context) error {
	m.changeMu.Lock()
	m.mu.Lock()
	if m.mu.closed {
		m.mu.Unlock()
		m.changeMu.Unlock()
		return nil
	}
	m.mu.closed = true
	parts := m.mu.parts
	m.mu.parts = map[TopicPartition]*Partition{}
	m.mu.Unlock()
	m.changeMu.Unlock()

	close(m.closing)
	if m.flusher.cancel != nil {
		m.flusher.cancel()
	}
	for _, p := range parts {
		p.transition(roleRemoved, PartitionState{})
	}
	// The flusher stops at once, or after the sync rounds it may be running.
	m.wg.Wait()
	return nil
}

// flusher makes group-commit appends durable when no producer waits for them (acks=0, or a
// producer whose wait ended early), so that the high watermark, and consumers, reach them.
// Its queue holds each partition at most once (Partition.flushQueued), so it is bounded by the
// number of partitions; FlushThreads workers take partitions from it, so that one slow
// partition's fsync does not hold the others back and fsyncs of different files overlap.
type flusher struct {
	signal chan struct{} // capacity 1: set when the queue becomes non-empty
	cancel context.CancelFunc
	mu     struct {
		sync.Mutex
		queue []*Partition
	}
}

func (m *Manager) queueFlush(p *Partition) {
	if !m.groupCommit || p.flushQueued.Swap(true) {
		return
	}
	m.flusher.mu.Lock()
	m.flusher.mu.queue = append(m.flusher.mu.queue, p)
	m.flusher.mu.Unlock()
	select {
	case m.flusher.signal <- struct{}{}:
	default:
	}
}

// runFlusher is one flusher worker: it takes one partition at a time from the queue.
func (m *Manager) runFlusher(ctx context.Context) {
	for {
		m.flusher.mu.Lock()
		var p *Partition
		if n := len(m.flusher.mu.queue); n > 0 {
			p = m.flusher.mu.queue[0]
			m.flusher.mu.queue[0] = nil
			m.flusher.mu.queue = m.flusher.mu.queue[1:]
			if n > 1 {
				// More queued: make sure a worker (maybe this one) looks again.
				select {
				case m.flusher.signal <- struct{}{}:
				default:
				}
			}
		}
		m.flusher.mu.Unlock()
		if p == nil {
			select {
			case <-ctx.Done():
				return
			case <-m.flusher.signal:
			}
			continue
		}
		// Cleared before the sync: an append made during it queues the partition again.
		p.flushQueued.Store(false)
		if err := p.log.WaitDurable(ctx, p.log.LogEndOffset()); err != nil {
			if ctx.Err() != nil {
				return
			}
			if !errors.Is(err, storage.ErrClosed) {
				m.logger.Warn("background flush failed", "partition", p.tp.String(), "err", err)
			}
			continue
		}
		p.advanceHighWatermark()
	}
}
