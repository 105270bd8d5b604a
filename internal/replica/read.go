package replica

import (
	"context"
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/internal/storage"
)

// ReadOptions describe one partition of a Fetch.
type ReadOptions struct {
	Offset   int64
	MaxBytes int64
	// MinOneMessage returns the first batch whole even when larger than MaxBytes (Kafka sets
	// it for the first partition of a response that has no data yet).
	MinOneMessage bool
	// Isolation bounds what a consumer sees (high watermark or last stable offset). Followers
	// (ReplicaID >= 0) always read to the log end.
	Isolation IsolationLevel
	// CurrentLeaderEpoch is the fetcher's view of the leader epoch, -1 for none.
	CurrentLeaderEpoch int32
	// LastFetchedEpoch is the epoch of the last batch the fetcher has (Fetch v12+), -1 for
	// none. When it disagrees with this log the result carries DivergingEpoch instead of data.
	LastFetchedEpoch int32
	// ReplicaID is ConsumerReplicaID for clients, the follower's broker id for followers.
	ReplicaID int32
	// FollowerLogStartOffset is a follower's log start offset (followers only).
	FollowerLogStartOffset int64
}

// EpochEndOffset is a leader epoch and the offset where it ends (OffsetForLeaderEpoch, and a
// fetch's diverging epoch). Both are -1 when unknown.
type EpochEndOffset struct {
	LeaderEpoch int32
	EndOffset   int64
}

// AbortedTransaction is an entry of a read_committed fetch's aborted transaction list.
type AbortedTransaction struct {
	ProducerID  int64
	FirstOffset int64
}

// ReadResult is the data and the offsets of one partition of a Fetch response.
type ReadResult struct {
	// Region holds whole batches from one segment, to be sent with sendfile. A non-empty
	// Region must be Released once sent.
	Region storage.Region
	// The partition's offsets as of the start of the read (Kafka's rule: appends during the
	// read do not change what the response reports).
	HighWatermark    int64
	LastStableOffset int64
	LogStartOffset   int64
	LogEndOffset     int64
	LeaderEpoch      int32
	// AbortedTransactions is nil until transactions exist (read_committed will list the
	// aborted transactions overlapping Region from the transaction index).
	AbortedTransactions []AbortedTransaction
	// DivergingEpoch is set, and Region empty, when the fetcher's LastFetchedEpoch ends before
	// its fetch offset here: it must truncate to DivergingEpoch.EndOffset first.
	DivergingEpoch *EpochEndOffset
}

// Read serves one partition of a Fetch from the leader. Consumers read up to the high
// watermark (read_uncommitted) or the last stable offset (read_committed), followers up to
// the log end; a follower's read also records its position, which may advance the high
// watermark. An offset between the bound and the log end returns an empty Region, one
// outside [log start, log end] is ErrOffsetOutOfRange. Read takes no lock an append holds.
func (p *Partition) Read(opts ReadOptions) (ReadResult, error) {
	st, err := p.leaderState(opts.CurrentLeaderEpoch)
	if err != nil {
		return ReadResult{}, err
	}
	var follower *followerState
	if opts.ReplicaID >= 0 {
		if follower = st.followers[opts.ReplicaID]; follower == nil {
			// Kafka's answer to a broker that is not an assigned replica: retry later.
			if opts.CurrentLeaderEpoch >= 0 {
				return ReadResult{}, fmt.Errorf("%w: broker %d is not a replica of %s", ErrUnknownLeaderEpoch, opts.ReplicaID, p.tp)
			}
			return ReadResult{}, fmt.Errorf("%w: broker %d is not a replica of %s", ErrNotLeader, opts.ReplicaID, p.tp)
		}
	}
	res := ReadResult{
		HighWatermark:    p.HighWatermark(),
		LastStableOffset: p.LastStableOffset(),
		LogStartOffset:   p.log.LogStartOffset(),
		LogEndOffset:     p.log.LogEndOffset(),
		LeaderEpoch:      st.LeaderEpoch,
		Region:           storage.Region{FirstOffset: opts.Offset},
	}
	if opts.LastFetchedEpoch >= 0 {
		e := p.endOffsetForEpoch(opts.LastFetchedEpoch)
		if e.LeaderEpoch < 0 || e.EndOffset < 0 {
			return ReadResult{}, fmt.Errorf("%w: no end offset for last fetched epoch %d", ErrOffsetOutOfRange, opts.LastFetchedEpoch)
		}
		if opts.Offset < res.LogStartOffset {
			return ReadResult{}, fmt.Errorf("%w: %d below log start %d", ErrOffsetOutOfRange, opts.Offset, res.LogStartOffset)
		}
		if e.LeaderEpoch < opts.LastFetchedEpoch || e.EndOffset < opts.Offset {
			res.DivergingEpoch = &e
			return res, nil
		}
	}
	if opts.Offset < res.LogStartOffset || opts.Offset > res.LogEndOffset {
		return ReadResult{}, fmt.Errorf("%w: %d not in [%d, %d]", ErrOffsetOutOfRange, opts.Offset, res.LogStartOffset, res.LogEndOffset)
	}
	bound := res.HighWatermark
	switch {
	case follower != nil || opts.Isolation == ReadLogEnd:
		bound = res.LogEndOffset
	case opts.Isolation == ReadCommitted:
		bound = res.LastStableOffset
	}
	// storage treats a bound of 0 as "the log end": never ask it for nothing.
	if opts.Offset < bound {
		r, err := p.log.Read(opts.Offset, storage.ReadOptions{MaxBytes: opts.MaxBytes, MinOneBatch: opts.MinOneMessage, MaxOffset: bound})
		if err != nil {
			if errors.Is(err, storage.ErrOffsetOutOfRange) {
				return ReadResult{}, err // retention moved the log start meanwhile
			}
			return ReadResult{}, fmt.Errorf("%w: read %s at %d: %w", ErrStorage, p.tp, opts.Offset, err)
		}
		res.Region = r
		if follower == nil {
			p.counters.bytesOut.Add(r.Length)
		}
	}
	if follower != nil {
		p.recordFollowerFetch(follower, opts, res.LogEndOffset)
	}
	return res, nil
}

// recordFollowerFetch notes a follower's position from its fetch and advances the high
// watermark. ISR expansion (through AlterPartition) comes with replication.
func (p *Partition) recordFollowerFetch(f *followerState, opts ReadOptions, leaderEnd int64) {
	now := p.m.opts.Now().UnixMilli()
	f.leo.Store(opts.Offset)
	f.logStart.Store(opts.FollowerLogStartOffset)
	f.lastFetchMs.Store(now)
	if opts.Offset >= leaderEnd {
		f.lastCaughtUpMs.Store(now)
	}
	p.advanceHighWatermark()
}

// ListOffsetsOptions describe one partition of a ListOffsets request.
type ListOffsetsOptions struct {
	// Timestamp is a time in milliseconds (the first record at or after it) or one of the
	// Timestamp* constants.
	Timestamp int64
	// Isolation applies to client requests (ReplicaID ConsumerReplicaID) only.
	Isolation          IsolationLevel
	CurrentLeaderEpoch int32 // -1: none
	// ReplicaID: ConsumerReplicaID for clients, DebuggingReplicaID for tools (a follower may
	// answer), a broker id for followers (they see up to the log end).
	ReplicaID int32
}

// OffsetResult is one partition's ListOffsets answer. Nothing found is Offset -1,
// Timestamp -1, LeaderEpoch -1 and no error, as Kafka answers.
type OffsetResult struct {
	Offset      int64
	Timestamp   int64
	LeaderEpoch int32
}

var notFound = OffsetResult{Offset: -1, Timestamp: -1, LeaderEpoch: -1}

// ListOffsets answers ListOffsets as Kafka's leader does:
//
//   - TimestampLatest: the high watermark (read_uncommitted), the last stable offset
//     (read_committed) or, for non-clients, the log end; with the current leader epoch.
//   - TimestampEarliest, TimestampEarliestLocal: the log start offset, with its epoch.
//   - TimestampMax: the first record with the largest timestamp, with its batch's epoch.
//   - TimestampLatestTiered: -1 (no remote storage).
//   - a time: the first record whose timestamp is at or after it, with that timestamp and its
//     batch's epoch.
//
// Results at or past the last offset the caller may read are "not found". Right after a
// leader change, while the high watermark is below the epoch's start, client requests for
// the latest offset or a time fail with ErrOffsetNotAvailable.
func (p *Partition) ListOffsets(opts ListOffsetsOptions) (OffsetResult, error) {
	st := p.state.Load()
	if err := checkEpoch(st, opts.CurrentLeaderEpoch); err != nil {
		return OffsetResult{}, err
	}
	if st.role != roleLeader && !(opts.ReplicaID == DebuggingReplicaID && st.role == roleFollower) {
		return OffsetResult{}, fmt.Errorf("%w: %s", ErrNotLeader, p.tp)
	}
	client := opts.ReplicaID == ConsumerReplicaID
	hw := p.HighWatermark()
	lastFetchable := p.log.LogEndOffset()
	if client {
		lastFetchable = hw
		if opts.Isolation == ReadCommitted {
			lastFetchable = p.LastStableOffset()
		}
	}
	var lagging error
	if client && st.role == roleLeader && st.epochStartOffset > hw {
		lagging = fmt.Errorf("%w: high watermark %d below the start %d of leader epoch %d", ErrOffsetNotAvailable, hw, st.epochStartOffset, st.LeaderEpoch)
	}

	var (
		r     OffsetResult
		found bool
		err   error
	)
	switch opts.Timestamp {
	case TimestampLatest:
		if lagging != nil {
			return OffsetResult{}, lagging
		}
		return OffsetResult{Offset: lastFetchable, Timestamp: -1, LeaderEpoch: st.LeaderEpoch}, nil
	case TimestampEarliest, TimestampEarliestLocal:
		start := p.log.LogStartOffset()
		epoch := int32(-1)
		if es := p.log.EpochEntries(); len(es) > 0 && es[0].StartOffset <= start {
			epoch = epochAt(es, start)
		}
		return OffsetResult{Offset: start, Timestamp: -1, LeaderEpoch: epoch}, nil
	case TimestampLatestTiered:
		r, found = OffsetResult{Offset: -1, Timestamp: -1, LeaderEpoch: -1}, true
	case TimestampMax:
		r, found, err = p.maxTimestampOffset()
	default:
		r, found, err = p.offsetForTimestamp(opts.Timestamp)
	}
	if err != nil {
		return OffsetResult{}, err
	}
	if !found || r.Offset >= lastFetchable {
		if lagging != nil {
			return OffsetResult{}, lagging
		}
		return notFound, nil
	}
	return r, nil
}

// epochAt is the epoch of the cache entry covering offset.
func epochAt(es []storage.EpochEntry, offset int64) int32 {
	epoch := int32(-1)
	for _, e := range es {
		if e.StartOffset > offset {
			break
		}
		epoch = e.Epoch
	}
	return epoch
}

// offsetForTimestamp finds the first record at or after ts; storage searches inside
// compressed batches and returns the leader epoch of the batch holding the record.
func (p *Partition) offsetForTimestamp(ts int64) (OffsetResult, bool, error) {
	r, found, err := p.log.LookupTimestamp(ts)
	if err != nil {
		return OffsetResult{}, false, fmt.Errorf("%w: timestamp lookup in %s: %w", ErrStorage, p.tp, err)
	}
	return OffsetResult{Offset: r.Offset, Timestamp: r.Timestamp, LeaderEpoch: r.LeaderEpoch}, found, nil
}

// maxTimestampOffset finds the first record carrying the log's largest timestamp (KIP-734).
func (p *Partition) maxTimestampOffset() (OffsetResult, bool, error) {
	r, found, err := p.log.LookupMaxTimestamp()
	if err != nil {
		return OffsetResult{}, false, fmt.Errorf("%w: max timestamp lookup in %s: %w", ErrStorage, p.tp, err)
	}
	return OffsetResult{Offset: r.Offset, Timestamp: r.Timestamp, LeaderEpoch: r.LeaderEpoch}, found, nil
}

// EndOffsetForEpoch answers OffsetForLeaderEpoch on the leader: the largest epoch at or below
// requested that this log knows, and the offset where the next epoch starts (the log end
// for the current epoch). Unknown epochs answer -1, -1 without error, as Kafka does.
func (p *Partition) EndOffsetForEpoch(currentLeaderEpoch, requested int32) (EpochEndOffset, error) {
	if _, err := p.leaderState(currentLeaderEpoch); err != nil {
		return EpochEndOffset{}, err
	}
	return p.endOffsetForEpoch(requested), nil
}

// endOffsetForEpoch reads the log's leader-epoch cache, which holds the current epoch from
// the election on (AssignEpoch), as Kafka's does.
func (p *Partition) endOffsetForEpoch(requested int32) EpochEndOffset {
	epoch, end := p.log.EndOffsetForEpoch(requested)
	return EpochEndOffset{LeaderEpoch: epoch, EndOffset: end}
}

// DeleteRecords moves the log start offset up to offset (-1: the high watermark) and deletes
// the segments wholly below it (DeleteRecords on the leader). It returns the new low
// watermark: the log start offset (with replication, the smallest over the replicas, once the
// followers followed). Offsets above the high watermark are ErrOffsetOutOfRange; topics
// without cleanup.policy=delete refuse with ErrPolicyViolation.
func (p *Partition) DeleteRecords(ctx context.Context, offset int64) (lowWatermark int64, err error) {
	if _, err := p.leaderState(-1); err != nil {
		return 0, err
	}
	if !p.cfg.Load().Log.CleanupPolicy.Deletes() {
		return 0, fmt.Errorf("%w: %s", ErrPolicyViolation, p.tp)
	}
	hw := p.HighWatermark()
	if offset == -1 {
		offset = hw
	}
	if offset < 0 || offset > hw {
		return 0, fmt.Errorf("%w: %d not in [0, high watermark %d]", ErrOffsetOutOfRange, offset, hw)
	}
	if err := p.log.AdvanceLogStartOffset(offset); err != nil {
		if errors.Is(err, storage.ErrOffsetOutOfRange) {
			return 0, err
		}
		return 0, fmt.Errorf("%w: delete records of %s: %w", ErrStorage, p.tp, err)
	}
	return p.log.LogStartOffset(), nil
}

// ProducerState is one producer's state in a partition (DescribeProducers).
type ProducerState struct {
	ProducerID            int64
	ProducerEpoch         int32
	LastSequence          int32
	LastTimestamp         int64
	CoordinatorEpoch      int32
	CurrentTxnStartOffset int64 // -1: no open transaction
}

// Producers lists the producers the partition remembers (DescribeProducers, leader only),
// sorted by producer id, from storage's producer state.
func (p *Partition) Producers(ctx context.Context) ([]ProducerState, error) {
	if _, err := p.leaderState(-1); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	entries := p.log.Producers()
	out := make([]ProducerState, 0, len(entries))
	for _, e := range entries {
		out = append(out, ProducerState{
			ProducerID: e.ProducerID, ProducerEpoch: int32(e.Epoch), LastSequence: e.LastSeq(),
			LastTimestamp: e.LastTimestampMs, CoordinatorEpoch: e.CoordinatorEpoch,
			CurrentTxnStartOffset: e.CurrentTxnFirstOffset,
		})
	}
	return out, nil
}
