package group

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/record"
	"github.com/sluicehq/sluice/internal/replica"
)

// Shard limits.
const (
	// inboxSize bounds the operations queued for one shard; submitters wait for room (bounded
	// by their request's context).
	inboxSize = 1024
	// maxOpsPerRound is how many queued operations one loop round runs before it writes
	// their records as one batch: commits arriving together share a write and an fsync.
	maxOpsPerRound = 256
	// maxBatchBytes cuts the batch written in one round (an operation's records always stay
	// in one batch, which is what makes them atomic).
	maxBatchBytes = 512 << 10
	// maxPendingWrites bounds the batches written but not yet committed; past it a round
	// waits for commits before running more operations.
	maxPendingWrites = 4096
	// loadReadBytes is the size of each read while loading.
	loadReadBytes = 4 << 20
	// loadRetryBackoff is the wait before retrying a failed load.
	loadRetryBackoff = time.Second
)

// shardState is where a shard is in its life.
type shardState int32

const (
	shardLoading shardState = iota
	shardActive
	shardStopped
)

// shard is the coordinator of one __consumer_offsets partition that this broker leads: the
// groups whose ids hash to it and their offsets. One goroutine (run) owns all of its state
// and runs operations one at a time in the order they were submitted; a second goroutine
// (watchHW) only wakes it when the partition's high watermark advances. Nothing else touches
// the state, so it needs no lock.
type shard struct {
	c         *Coordinator
	partition int32
	epoch     int32
	p         *replica.Partition
	log       *slog.Logger

	state  atomic.Int32 // shardState
	inbox  chan func()
	hwCh   chan struct{} // one slot: the high watermark moved
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when run has returned
	wg     sync.WaitGroup

	// Owned by run.
	groups   map[string]group
	offsets  offsetStore
	timers   timers
	builder  *record.Builder
	batch    []rec         // records of this round, not yet written
	batchCbs []func(error) // their operations' completions
	writes   []pendingWrite
	writeSeq uint64
	wake     *time.Timer
	regexes  map[string]*regexp.Regexp // compiled subscription regexes (topics.go)
}

// pendingWrite is a batch written to the log and not yet committed (the high watermark has
// not passed it).
type pendingWrite struct {
	seq        uint64
	lastOffset int64
	cbs        []func(error)
}

func newShard(c *Coordinator, partition, epoch int32, p *replica.Partition) *shard {
	s := &shard{
		c:         c,
		partition: partition,
		epoch:     epoch,
		p:         p,
		log:       c.log.With(slog.Int("partition", int(partition)), slog.Int("leader_epoch", int(epoch))),
		inbox:     make(chan func(), inboxSize),
		hwCh:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		groups:    map[string]group{},
		offsets:   newOffsetStore(),
		timers:    newTimers(),
		builder:   record.NewBuilder(internalBatchOptions()),
		regexes:   map[string]*regexp.Regexp{},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.state.Store(int32(shardLoading))
	return s
}

// internalBatchOptions are the header fields of the batches a coordinator writes: no
// producer, uncompressed, CreateTime (as Kafka writes __consumer_offsets with the default
// offsets.topic.compression.codec).
func internalBatchOptions() record.BatchOptions {
	return record.BatchOptions{
		ProducerID:    record.NoProducerID,
		ProducerEpoch: record.NoProducerEpoch,
		BaseSequence:  record.NoSequence,
		Compression:   record.CompressionNone,
	}
}

// start runs the shard: it loads the partition, then serves operations until stop.
func (s *shard) start() {
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.watchHW()
	}()
	go func() {
		defer s.wg.Done()
		defer close(s.done)
		s.run()
	}()
}

// stop unloads the shard and waits for its goroutines. Every operation still queued or
// waiting (a parked JoinGroup, a write not yet committed) is answered NOT_COORDINATOR by
// its waiter, which watches done.
func (s *shard) stop() {
	s.cancel()
	s.wg.Wait()
}

func (s *shard) now() time.Time { return s.c.now() }

// run is the shard's goroutine.
func (s *shard) run() {
	defer s.state.Store(int32(shardStopped))
	start := s.now()
	for {
		err := s.load()
		if err == nil {
			break
		}
		if s.ctx.Err() != nil {
			return
		}
		s.log.Error("loading __consumer_offsets partition failed; retrying", slog.Any("err", err))
		s.reset()
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(loadRetryBackoff):
		}
	}
	s.onLoaded()
	s.log.Info("group coordinator loaded", slog.Int("groups", len(s.groups)),
		slog.Int("offsets", s.offsets.count), slog.Duration("took", s.now().Sub(start)))
	s.state.Store(int32(shardActive))

	s.wake = time.NewTimer(time.Hour)
	defer s.wake.Stop()
	for {
		s.armWake()
		if len(s.writes) >= maxPendingWrites {
			// Backpressure: accept no operation until commits catch up (or time out).
			select {
			case <-s.ctx.Done():
				return
			case <-s.hwCh:
				s.completeWrites()
			case <-s.wake.C:
				s.fireTimers()
			}
			continue
		}
		select {
		case <-s.ctx.Done():
			return
		case fn := <-s.inbox:
			fn()
			for n := 1; n < maxOpsPerRound; n++ {
				select {
				case fn := <-s.inbox:
					fn()
					continue
				default:
				}
				break
			}
		case <-s.hwCh:
			s.completeWrites()
		case <-s.wake.C:
			s.fireTimers()
		}
		s.flush()
	}
}

// reset drops whatever a failed load built.
func (s *shard) reset() {
	s.groups = map[string]group{}
	s.offsets = newOffsetStore()
	s.timers = newTimers()
}

// armWake sets the loop's timer to the earliest deadline.
func (s *shard) armWake() {
	if !s.wake.Stop() {
		select {
		case <-s.wake.C:
		default:
		}
	}
	if at, ok := s.timers.next(); ok {
		s.wake.Reset(max(at.Sub(s.now()), 0))
	}
}

func (s *shard) fireTimers() {
	now := s.now()
	for {
		fn, ok := s.timers.popDue(now)
		if !ok {
			return
		}
		fn()
	}
}

// schedule runs fn on the loop after d.
func (s *shard) schedule(key timerKey, d time.Duration, fn func()) {
	s.timers.set(key, s.now().Add(d), fn)
}

// submit queues fn to run on the loop.
func (s *shard) submit(ctx context.Context, fn func()) error {
	select {
	case s.inbox <- fn:
		return nil
	case <-s.done:
		return kerr.NotCoordinator
	case <-ctx.Done():
		return ctx.Err()
	}
}

// write queues records to be appended with this round's batch; done runs on the loop once
// they are committed (nil) or failed. An operation's records are written in one batch.
func (s *shard) write(recs []rec, done func(error)) {
	if len(recs) == 0 {
		done(nil)
		return
	}
	size := 0
	for _, r := range recs {
		size += r.size()
	}
	if len(s.batch) > 0 && s.batchBytes()+size > maxBatchBytes {
		s.flush()
	}
	s.batch = append(s.batch, recs...)
	s.batchCbs = append(s.batchCbs, done)
}

func (s *shard) batchBytes() int {
	n := 0
	for _, r := range s.batch {
		n += r.size()
	}
	return n
}

// flush appends this round's records as one batch. The append does not wait for the
// commit: the batch's completions run when the high watermark passes it (completeWrites),
// so later rounds are written while earlier ones are being synced or replicated.
func (s *shard) flush() {
	// A completion may write again (a failed rebalance write starts another rebalance).
	for len(s.batch) > 0 {
		s.flushOnce()
	}
}

func (s *shard) flushOnce() {
	recs, cbs := s.batch, s.batchCbs
	s.batch, s.batchCbs = nil, nil

	nowMs := s.now().UnixMilli()
	s.builder.Reset(internalBatchOptions())
	var err error
	for i, r := range recs {
		if err = s.builder.Append(int32(i), nowMs, r.key, r.value, nil); err != nil {
			break
		}
	}
	var res replica.AppendResult
	if err == nil {
		var b record.Batch
		if b, err = s.builder.Build(); err == nil {
			// acks=0: Append returns once the batch is in the log. Commitment is observed
			// through the high watermark, the same point acks=all waits for.
			res, err = s.p.Append(s.ctx, b, replica.AppendOptions{RequiredAcks: 0, Origin: replica.OriginCoordinator})
		}
	}
	if err != nil {
		err = appendError(err)
		s.log.Warn("writing to __consumer_offsets failed", slog.Any("err", err))
		for _, cb := range cbs {
			cb(err)
		}
		return
	}
	s.writeSeq++
	w := pendingWrite{seq: s.writeSeq, lastOffset: res.LastOffset, cbs: cbs}
	s.writes = append(s.writes, w)
	s.schedule(timerKey{kind: timerWrite, seq: w.seq}, s.c.cfg.OffsetCommitTimeout, func() { s.expireWrite(w.seq) })
	s.completeWrites()
}

// completeWrites runs the completions of every batch the high watermark has passed, in log
// order.
func (s *shard) completeWrites() {
	hw := s.p.HighWatermark()
	n := 0
	for _, w := range s.writes {
		if w.lastOffset >= hw {
			break
		}
		n++
		s.timers.cancel(timerKey{kind: timerWrite, seq: w.seq})
		for _, cb := range w.cbs {
			cb(nil)
		}
	}
	if n > 0 {
		s.writes = append(s.writes[:0], s.writes[n:]...)
	}
}

// expireWrite fails a batch not committed within offsets.commit.timeout.ms, and every
// batch before it (they cannot commit after it).
func (s *shard) expireWrite(seq uint64) {
	s.completeWrites()
	n := 0
	for _, w := range s.writes {
		if w.seq > seq {
			break
		}
		n++
		s.timers.cancel(timerKey{kind: timerWrite, seq: w.seq})
		err := fmt.Errorf("%w: write at offset %d not committed within %v", kerr.CoordinatorNotAvailable, w.lastOffset, s.c.cfg.OffsetCommitTimeout)
		for _, cb := range w.cbs {
			cb(err)
		}
	}
	if n > 0 {
		s.writes = append(s.writes[:0], s.writes[n:]...)
	}
}

// watchHW wakes the loop whenever the partition's high watermark advances. It owns a
// replica.Waiter; when the waiter cannot register (the manager's bound), it polls.
func (s *shard) watchHW() {
	w := s.c.replicas.NewWaiter()
	defer w.Close()
	poll := false
	if err := w.Watch(s.p); err != nil {
		s.log.Warn("cannot watch the high watermark; polling it", slog.Any("err", err))
		poll = true
	}
	last := s.p.HighWatermark()
	for {
		if poll {
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(5 * time.Millisecond):
			}
		} else if err := w.Wait(s.ctx); err != nil {
			if errors.Is(err, replica.ErrClosed) || s.ctx.Err() != nil {
				return
			}
		}
		if hw := s.p.HighWatermark(); hw != last {
			last = hw
			select {
			case s.hwCh <- struct{}{}:
			default:
			}
		}
	}
}

// do runs fn on the shard owning groupID and waits for its reply. fn runs on the loop and
// must call reply exactly once, now or later (a parked JoinGroup replies when the join
// phase ends). The error is a *kerr.Error (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS)
// or ctx's.
func do[T any](ctx context.Context, c *Coordinator, groupID string, fn func(s *shard, reply func(T))) (T, error) {
	var zero T
	s, err := c.shardFor(groupID)
	if err != nil {
		return zero, err
	}
	return doOn(ctx, s, fn)
}

func doOn[T any](ctx context.Context, s *shard, fn func(s *shard, reply func(T))) (T, error) {
	var zero T
	if shardState(s.state.Load()) == shardLoading {
		return zero, kerr.CoordinatorLoadInProgress
	}
	ch := make(chan T, 1)
	reply := func(v T) {
		select {
		case ch <- v:
		default: // replied already: a bug, but never block the loop
		}
	}
	if err := s.submit(ctx, func() { fn(s, reply) }); err != nil {
		return zero, err
	}
	select {
	case v := <-ch:
		return v, nil
	case <-s.done:
		select {
		case v := <-ch:
			return v, nil
		default:
			return zero, kerr.NotCoordinator
		}
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}
