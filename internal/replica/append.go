package replica

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/sluicehq/sluice/internal/record"
	"github.com/sluicehq/sluice/internal/storage"
)

// AppendOptions says how to append and when to answer.
type AppendOptions struct {
	// RequiredAcks is the produce request's acks: 0 (answer at once), 1 (the leader has it)
	// or -1 (the ISR has it). Anything else is ErrInvalidRequiredAcks.
	RequiredAcks int16
	Origin       Origin
	// SingleBatch requires exactly one batch, as Kafka does for produce v3 and later.
	SingleBatch bool
	// RejectZstd refuses zstd batches, as Kafka does for produce requests older than v7.
	RejectZstd bool
}

// AppendResult is what a produce response reports for one partition.
type AppendResult struct {
	// BaseOffset and LastOffset are the offsets of the first and last record appended (of the
	// original append for a duplicate).
	BaseOffset int64
	LastOffset int64
	// LogAppendTime is the broker time stamped on the batch for a LogAppendTime topic, -1
	// otherwise.
	LogAppendTime  int64
	LogStartOffset int64
	// Duplicate: the batch repeated one of the producer's last five (a retry); nothing was
	// appended and the offsets are those of the original.
	Duplicate bool
}

// Append validates records (one or more whole RecordBatch v2 batches) as Kafka's broker does
// for opts.Origin, assigns their offsets and leader epoch in place (records is modified and
// must not be used by the caller afterwards), appends them to the log in one write, and
// returns once opts.RequiredAcks is satisfied:
//
//   - acks=0 returns after the write.
//   - acks=1 returns after the write under FlushNone, and once the write is on disk under
//     FlushGroupCommit (concurrent appends share one fdatasync).
//   - acks=-1 also waits until the high watermark covers the batch (the ISR has it),
//     bounded by ctx (the request timeout): ErrTimeout. It fails before appending with
//     ErrNotEnoughReplicas when the ISR is smaller than min.insync.replicas, and after with
//     ErrNotEnoughReplicasAfterAppend when the ISR shrank meanwhile.
//
// For an idempotent producer the sequence and epoch are checked against the partition's
// producer state under the append lock; a retry of one of its last five batches returns the
// original offsets with Duplicate set and appends nothing. The errors are listed in errors.go.
func (p *Partition) Append(ctx context.Context, records []byte, opts AppendOptions) (AppendResult, error) {
	switch opts.RequiredAcks {
	case 0, 1, -1:
	default:
		return AppendResult{}, fmt.Errorf("%w: %d", ErrInvalidRequiredAcks, opts.RequiredAcks)
	}
	if opts.Origin == OriginReplication {
		return p.appendAsFollower(records)
	}
	cfg := p.cfg.Load()
	nowMs := p.m.opts.Now().UnixMilli()
	// Validation and recompression need no lock: they depend on the batch and the config only.
	buf, pooled, err := p.prepare(records, cfg, &opts, nowMs)
	if pooled != nil {
		defer putBuffer(pooled, buf)
	}
	if err != nil {
		return AppendResult{}, err
	}
	if int64(len(buf)) > cfg.Log.SegmentBytes {
		return AppendResult{}, fmt.Errorf("%w: %d bytes, segment.bytes %d", ErrRecordListTooLarge, len(buf), cfg.Log.SegmentBytes)
	}

	p.stateMu.RLock()
	st := p.state.Load()
	if st.role != roleLeader {
		p.stateMu.RUnlock()
		return AppendResult{}, fmt.Errorf("%w: %s", ErrNotLeader, p.tp)
	}
	if opts.RequiredAcks == -1 && len(st.ISR) < cfg.MinInsyncReplicas {
		p.stateMu.RUnlock()
		return AppendResult{}, fmt.Errorf("%w: ISR %v, min.insync.replicas %d", ErrNotEnoughReplicas, st.ISR, cfg.MinInsyncReplicas)
	}
	p.appendMu.Lock()
	dup, isDup, err := p.checkProducersLocked(buf, opts.Origin)
	var info storage.AppendInfo
	if err == nil && !isDup {
		next := p.log.LogEndOffset()
		for rest := buf; len(rest) > 0; {
			size, _ := record.BatchSize(rest) // validated by prepare
			b := record.Batch(rest[:size])
			b.SetBaseOffset(next)
			b.SetPartitionLeaderEpoch(st.LeaderEpoch)
			next = b.NextOffset()
			rest = rest[size:]
		}
		info, err = p.log.Append(buf)
		if err != nil {
			if errors.Is(err, storage.ErrBatchTooLarge) {
				err = fmt.Errorf("%w: %w", ErrRecordListTooLarge, err)
			} else {
				err = fmt.Errorf("%w: append to %s: %w", ErrStorage, p.tp, err)
			}
		}
	}
	p.appendMu.Unlock()
	p.stateMu.RUnlock()
	if err != nil {
		return AppendResult{}, err
	}

	res := AppendResult{LogAppendTime: -1}
	if isDup {
		res.BaseOffset, res.LastOffset, res.Duplicate = dup.FirstOffset, dup.LastOffset, true
		if cfg.TimestampType == LogAppendTime {
			res.LogAppendTime = dup.TimestampMs
		}
	} else {
		p.waiters.wake(true)
		p.counters.bytesIn.Add(int64(len(buf)))
		p.counters.recordsIn.Add(info.LastOffset - info.FirstOffset + 1)
		res.BaseOffset, res.LastOffset = info.FirstOffset, info.LastOffset
		if cfg.TimestampType == LogAppendTime {
			res.LogAppendTime = nowMs
		}
	}
	res.LogStartOffset = p.log.LogStartOffset()
	return res, p.acknowledge(ctx, st, opts.RequiredAcks, res.LastOffset+1)
}

// acknowledge waits until the append that ends before next is as safe as acks asks.
func (p *Partition) acknowledge(ctx context.Context, st *replicaState, acks int16, next int64) error {
	if acks == 0 {
		if p.m.groupCommit {
			p.m.queueFlush(p) // nobody waits for this data: the flusher makes it visible
		} else {
			p.advanceHighWatermark()
		}
		return nil
	}
	p.m.waitingProduce.Add(1)
	defer p.m.waitingProduce.Add(-1)
	if p.m.groupCommit {
		if err := p.log.WaitDurable(ctx, next); err != nil {
			p.m.queueFlush(p)
			switch {
			case ctx.Err() != nil:
				return fmt.Errorf("%w: %w", ErrTimeout, err)
			case errors.Is(err, storage.ErrClosed):
				return fmt.Errorf("%w: %s: %w", ErrNotLeader, p.tp, err)
			}
			return fmt.Errorf("%w: sync %s: %w", ErrStorage, p.tp, err)
		}
	}
	p.advanceHighWatermark()
	if acks == 1 {
		return nil
	}
	if err := p.waitHighWatermark(ctx, st.LeaderEpoch, next); err != nil {
		return err
	}
	if cur := p.state.Load(); len(cur.ISR) < p.cfg.Load().MinInsyncReplicas {
		return fmt.Errorf("%w: ISR %v, min.insync.replicas %d", ErrNotEnoughReplicasAfterAppend, cur.ISR, p.cfg.Load().MinInsyncReplicas)
	}
	return nil
}

// waitHighWatermark waits until the high watermark reaches offset while this broker leads in
// epoch.
func (p *Partition) waitHighWatermark(ctx context.Context, epoch int32, offset int64) error {
	var w *Waiter
	defer func() {
		if w != nil {
			w.Close()
		}
	}()
	for {
		st := p.state.Load()
		if st.role != roleLeader || st.LeaderEpoch != epoch {
			return fmt.Errorf("%w: %s: leadership changed while waiting for acks", ErrNotLeader, p.tp)
		}
		if p.hw.value.Load() >= offset {
			return nil
		}
		if w == nil {
			// Register, then look again: an advance between the check and the
			// registration would otherwise be missed.
			w = p.m.NewWaiter()
			w.unbounded = true
			_ = w.Watch(p)
			continue
		}
		if err := w.Wait(ctx); err != nil {
			if errors.Is(err, ErrClosed) {
				return fmt.Errorf("%w: %s: %w", ErrNotLeader, p.tp, err)
			}
			return fmt.Errorf("%w: high watermark %d, waiting for %d: %w", ErrTimeout, p.hw.value.Load(), offset, err)
		}
	}
}

// prepare validates the batches of a produce and applies the topic's compression.type and
// timestamp type. It returns the bytes to append: records itself (modified in place) unless
// a batch had to be recompressed, in which case the result lives in a pooled buffer the
// caller returns with putBuffer.
func (p *Partition) prepare(records []byte, cfg *Config, opts *AppendOptions, nowMs int64) (buf []byte, pooled *[]byte, err error) {
	if len(records) == 0 {
		return nil, nil, fmt.Errorf("%w: no record batch", record.ErrBatchCount)
	}
	client := opts.Origin == OriginClient
	target, recompress, err := cfg.CompressionType.codec()
	if err != nil {
		return nil, nil, err
	}
	recompress = recompress && client
	logAppendTime := cfg.TimestampType == LogAppendTime
	rules := record.ProduceRules{
		Compacted:            cfg.Log.CleanupPolicy.Compacts(),
		LogAppendTime:        logAppendTime,
		NowMs:                nowMs,
		TimestampBeforeMaxMs: cfg.TimestampBeforeMaxMs,
		TimestampAfterMaxMs:  cfg.TimestampAfterMaxMs,
		DecompressLimitBytes: p.m.opts.MaxDecompressedBatchBytes,
	}
	maxBytes := cfg.Log.MaxMessageBytes

	var out []byte // the rewritten batches, once one needed recompression
	for rest, n := records, 0; len(rest) > 0; n++ {
		if n == 1 && opts.SingleBatch {
			return nil, pooled, fmt.Errorf("%w: more than one batch", record.ErrBatchCount)
		}
		size, err := record.BatchSize(rest)
		if err != nil {
			return nil, pooled, classifyRecordErr(err)
		}
		// Kafka's order: message format, a client's base offset, size, then CRC.
		if len(rest) > 16 && int8(rest[16]) != record.Magic {
			return nil, pooled, fmt.Errorf("%w: %w: magic %d", ErrInvalidRecord, record.ErrMagic, int8(rest[16]))
		}
		if base := int64(binary.BigEndian.Uint64(rest)); client && base != 0 {
			return nil, pooled, fmt.Errorf("%w: a produced batch must have base offset 0, not %d", ErrInvalidRecord, base)
		}
		if int64(size) > maxBytes {
			return nil, pooled, fmt.Errorf("%w: batch of %d bytes, max.message.bytes %d", ErrMessageTooLarge, size, maxBytes)
		}
		b, next, err := record.Parse(rest, 0)
		if err != nil {
			return nil, pooled, classifyRecordErr(err)
		}
		consumed := len(records) - len(rest)
		rest = next
		if opts.RejectZstd && b.Compression() == record.CompressionZstd {
			return nil, pooled, ErrUnsupportedCompressionType
		}
		maxTs := b.MaxTimestamp()
		if client {
			info, err := record.ValidateProduce(b, &rules)
			if err != nil {
				return nil, pooled, classifyRecordErr(err)
			}
			maxTs = info.MaxTimestamp
		} else if err := b.ValidateProducer(); err != nil {
			return nil, pooled, classifyRecordErr(err)
		}

		if recompress && b.Compression() != target {
			if pooled == nil {
				pooled = getBuffer()
				out = append((*pooled)[:0], records[:consumed]...)
			}
			nb, err := record.Recompress(out[len(out):], b, target, cfg.CompressionLevel, p.m.opts.MaxDecompressedBatchBytes)
			if err != nil {
				return nil, pooled, classifyRecordErr(err)
			}
			if int64(len(nb)) > maxBytes {
				return nil, pooled, fmt.Errorf("%w: batch of %d bytes after recompression to %s, max.message.bytes %d",
					ErrMessageTooLarge, len(nb), target, maxBytes)
			}
			stampTimestamp(nb, logAppendTime, client, maxTs, nowMs)
			if len(out) == 0 {
				out = nb
			} else {
				out = append(out, nb...)
			}
			continue
		}
		stampTimestamp(b, logAppendTime, client, maxTs, nowMs)
		if pooled != nil {
			out = append(out, b...)
		}
	}
	if pooled != nil {
		return out, pooled, nil
	}
	return records, nil, nil
}

// stampTimestamp sets the batch's timestamp type and max timestamp as Kafka's broker does:
// the append time for a LogAppendTime topic, else (for a client batch) the largest record
// timestamp it validated.
func stampTimestamp(b record.Batch, logAppendTime, client bool, maxTs, nowMs int64) {
	switch {
	case logAppendTime:
		b.SetLogAppendTime(nowMs)
	case client:
		b.SetCreateTime(maxTs)
	}
}

// classifyRecordErr wraps an error of the record package with the replica sentinel the
// server maps (see errors.go). Errors that already are one pass unchanged, so that
// *record.RecordErrors stays reachable with errors.As.
func classifyRecordErr(err error) error {
	switch {
	case errors.Is(err, record.ErrInvalidTimestamp), errors.Is(err, record.ErrInvalidRecord):
		return err
	case errors.Is(err, record.ErrMagic):
		return fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	case errors.Is(err, record.ErrTooLarge), errors.Is(err, record.ErrDecompressLimit):
		return fmt.Errorf("%w: %w", ErrMessageTooLarge, err)
	}
	return fmt.Errorf("%w: %w", ErrCorruptMessage, err)
}

// checkProducersLocked applies the idempotence checks to every client batch that carries a
// producer id. A batch repeating one of the producer's recent batches returns that batch
// (isDup) and nothing must be appended, as in Kafka. Batches of the same producer within one
// append are checked against each other.
func (p *Partition) checkProducersLocked(buf []byte, origin Origin) (dup storage.ProducerBatch, isDup bool, err error) {
	if origin != OriginClient {
		// Coordinator batches carry no sequences; the epoch checks of transaction markers
		// come with transactions.
		return dup, false, nil
	}
	for pos := 0; pos < len(buf); {
		size, _ := record.BatchSize(buf[pos:])
		b := record.Batch(buf[pos : pos+size])
		if b.HasProducerID() {
			if prev, ok := lastBatchOf(buf[:pos], b.ProducerID()); ok {
				if err := checkFollows(prev, b); err != nil {
					return dup, false, err
				}
			} else {
				pb, err := p.log.CheckProducerBatch(b)
				if errors.Is(err, storage.ErrDuplicateSequence) {
					return pb, true, nil
				}
				if err != nil {
					return dup, false, err
				}
			}
		}
		pos += size
	}
	return dup, false, nil
}

// lastBatchOf finds the last batch of producer pid in buf.
func lastBatchOf(buf []byte, pid int64) (record.Batch, bool) {
	var last record.Batch
	for len(buf) > 0 {
		size, _ := record.BatchSize(buf)
		if b := record.Batch(buf[:size]); b.ProducerID() == pid {
			last = b
		}
		buf = buf[size:]
	}
	return last, last != nil
}

// checkFollows checks that b may follow prev, a batch of the same producer in the same append.
func checkFollows(prev, b record.Batch) error {
	switch {
	case b.ProducerEpoch() < prev.ProducerEpoch():
		return fmt.Errorf("%w: producer %d epoch %d after %d", ErrInvalidProducerEpoch, b.ProducerID(), b.ProducerEpoch(), prev.ProducerEpoch())
	case b.ProducerEpoch() > prev.ProducerEpoch():
		if b.BaseSequence() != 0 {
			return fmt.Errorf("%w: producer %d new epoch %d starts at sequence %d", ErrOutOfOrderSequence, b.ProducerID(), b.ProducerEpoch(), b.BaseSequence())
		}
	case b.BaseSequence() != record.IncrementSequence(prev.LastSequence(), 1):
		return fmt.Errorf("%w: producer %d sequence %d after %d", ErrOutOfOrderSequence, b.ProducerID(), b.BaseSequence(), prev.LastSequence())
	}
	return nil
}

// appendAsFollower appends what the leader sent, offsets and epochs unchanged. The follower
// fetcher (replication) will call it; it checks structure and CRC only, as Kafka does.
func (p *Partition) appendAsFollower(records []byte) (AppendResult, error) {
	for rest := records; len(rest) > 0; {
		_, next, err := record.Parse(rest, 0)
		if err != nil {
			return AppendResult{}, classifyRecordErr(err)
		}
		rest = next
	}
	p.stateMu.RLock()
	if p.state.Load().role != roleFollower {
		p.stateMu.RUnlock()
		return AppendResult{}, fmt.Errorf("%w: %s", ErrNotFollower, p.tp)
	}
	p.appendMu.Lock()
	info, err := p.log.Append(records)
	p.appendMu.Unlock()
	p.stateMu.RUnlock()
	if err != nil {
		return AppendResult{}, fmt.Errorf("%w: append to %s: %w", ErrStorage, p.tp, err)
	}
	p.waiters.wake(true)
	return AppendResult{BaseOffset: info.FirstOffset, LastOffset: info.LastOffset, LogAppendTime: -1, LogStartOffset: p.log.LogStartOffset()}, nil
}

// bufferPool holds buffers for recompressed batches; they live until the storage append has
// copied them to the page cache.
var bufferPool = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBytes keeps one huge batch from pinning its buffer in the pool.
const maxPooledBytes = 8 << 20

func getBuffer() *[]byte { return bufferPool.Get().(*[]byte) }

func putBuffer(p *[]byte, used []byte) {
	if cap(used) > cap(*p) {
		*p = used // it grew: keep the larger storage
	}
	if cap(*p) > maxPooledBytes {
		*p = nil
	}
	*p = (*p)[:0]
	bufferPool.Put(p)
}
