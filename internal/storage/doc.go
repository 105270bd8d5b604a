// Package storage is Sluice's partition log: Kafka's on-disk layout and file formats,
// appends, reads by offset and by timestamp, truncation, retention, compaction, recovery,
// checkpoints, leader epochs, producer (idempotence) state and flushing with group commit.
//
// It must not import net, internal/protocol or internal/config: the server translates wire
// requests and topic configs into the types here. All disk access goes through FS (OSFS in
// production, MemFS with fault injection and crash simulation in tests).
//
// # Layout (Kafka's; its DumpLogSegments tool reads our segments)
//
//	<log.dir>/
//	  .kafka_cleanshutdown                  {"version":0,"brokerEpoch":N}; present only between a
//	                                        clean Manager.Close and the next open
//	  recovery-point-offset-checkpoint      offset checkpoint (below)
//	  log-start-offset-checkpoint           offset checkpoint
//	  cleaner-offset-checkpoint             offset checkpoint: first offset not yet compacted,
//	                                        for logs whose cleanup.policy compacts
//	  replication-offset-checkpoint         offset checkpoint: high watermark per partition
//	  <topic>-<partition>.<uuid>-delete/    a deleted partition, see below
//	  <topic>-<partition>/
//	    00000000000000000000.log            segment: record batches back to back
//	    00000000000000000000.index          sparse offset index
//	    00000000000000000000.timeindex      sparse time index
//	    00000000000000001234.snapshot       producer state as of offset 1234
//	    leader-epoch-checkpoint
//	    partition.metadata
//
// A deleted partition's directory is renamed as Kafka renames it: the topic (cut so that the
// name fits in 255 bytes), "-", the partition, ".", a random version-4 UUID as 32 lowercase
// hex digits, "-delete". The rename is synced (the log dir's entry) before DeleteLog returns;
// the Manager's deleter removes the directory after file.delete.delay.ms, and an open removes
// any such directory it finds (in the background) instead of loading it.
//
// The 20-digit number is the segment's base offset: the first offset it may hold. Transient
// names: *.tmp (checkpoint being written), *.deleted (retired segment file waiting
// file.delete.delay.ms), *.cleaned (compaction output being written), *.swap (compaction
// output complete, being installed).
//
// # Segment (.log)
//
//	+----------------------+----------------------+-----+
//	| RecordBatch v2 (n)   | RecordBatch v2 (n+1) | ... |   see internal/record/doc.go
//	+----------------------+----------------------+-----+
//
// Batches are stored exactly as the replica validated them (offsets assigned). Base offsets
// increase; gaps are legal (compaction). No batch straddles two segments. A segment holds at
// most segment.bytes (a single append larger than that gets a segment of its own) and its
// last offset is at most base+2^31-1 (relative offsets are int32).
//
// # Offset index (.index): 8-byte entries, big-endian
//
//	+---------------------------+---------------------------+
//	| relativeOffset int32      | position int32            |
//	+---------------------------+---------------------------+
//
// relativeOffset = (last offset of a batch) - base offset; position = byte position of that
// batch in the .log. An entry is added when more than index.interval.bytes were appended
// since the previous one (so the first batch never has one). Entries strictly increase in
// both fields. The active segment's entries live in memory; its index files are written when
// the segment is sealed or the log closed (trimmed to the entries), and preallocated to
// segment.index.bytes (zeros past the entries) when a log reopens after a clean shutdown.
// A new segment has no index files until then (Kafka preallocates them at once); recovery
// rebuilds missing ones.
//
// # Time index (.timeindex): 12-byte entries, big-endian
//
//	+-------------------------------------------------------+---------------------------+
//	| timestamp int64                                       | relativeOffset int32      |
//	+-------------------------------------------------------+---------------------------+
//
// timestamp = the segment's max timestamp so far, relativeOffset = last offset of the batch
// that holds it. An entry is written at the same points as offset index entries, but only
// when the max timestamp grew (Kafka's rule: the file is monotonic). Sealing a segment adds a
// final entry for its max timestamp, so a reopen finds it without scanning.
//
// # Offset checkpoints (recovery-point-offset-checkpoint, log-start-offset-checkpoint,
// cleaner-offset-checkpoint, replication-offset-checkpoint)
//
//	0                       version
//	2                       number of entries
//	orders 0 1234           topic, partition, offset (one line each)
//	orders 1 99
//
// When the Manager writes the offset checkpoints:
//
//   - recovery-point and log-start: every log.flush.offset.checkpoint.interval.ms, at Close,
//     after DeleteLog; the recovery point also right after a truncation, as Kafka does, so
//     that data written over a truncated range is never taken for durable after a restart;
//   - cleaner: after every compaction pass, at Close, after a truncation;
//   - replication (each log's SetHighWatermark value; logs that never had one are left
//     out): every replica.high.watermark.checkpoint.interval.ms when it changed, and at
//     Close.
//
// A cleaner entry below the log start or past the log end is ignored at open (the whole log
// is then dirty); a high watermark is clamped to [log start, log end]
// (Log.CheckpointedHighWatermark) and becomes the log's high watermark until the replica sets
// one.
//
// # leader-epoch-checkpoint
//
//	0                       version
//	2                       number of entries
//	3 0                     leader epoch, first offset written in it
//	5 1200
//
// # partition.metadata
//
//	version: 0
//	topic_id: <topic UUID in URL-safe base64 without padding>
//
// # Producer snapshot (<offset>.snapshot), Kafka's version 1, big-endian
//
//	+---------------+-------------------+--------------------+
//	| version int16 | crc uint32        | count int32        |  crc: CRC32C of every byte after it
//	+---------------+-------------------+--------------------+
//	then count entries of 46 bytes:
//	  producerId int64 | epoch int16 | lastSequence int32 | lastOffset int64 |
//	  offsetDelta int32 (last - first sequence of the last batch) | timestamp int64 |
//	  coordinatorEpoch int32 | currentTxnFirstOffset int64 (-1: none)
//
// Written at every roll (at the new segment's base offset, not synced: the CRC catches a torn
// one) and at close (synced); a reopen loads the newest readable snapshot at or below the log
// end and replays batch headers from there. Only the last batch per producer survives a
// snapshot, as in Kafka; the in-memory state keeps five for duplicate detection.
//
// All text checkpoints are replaced atomically: written to <name>.tmp, fsynced, renamed over
// <name>; the directory is fsynced right after (the log dir's checkpoints) or by the same
// flush round (partition.metadata, leader-epoch-checkpoint).
//
// # Durability contract
//
//   - Append returns when the batches are in the page cache (one pwrite). They are readable
//     at once; they survive a process crash, not a power loss.
//   - WaitDurable(ctx, off) returns nil once every offset below off is on disk: the segment
//     files holding them were fdatasync'ed, and so were the directory entries of any segment
//     created or renamed before (new segments, retirements). Concurrent waiters share
//     fsyncs: one round covers every append made before it started (group commit).
//     DurableOffset is the resulting recovery point.
//   - The same round first writes what the log deferred: partition.metadata (a topic id
//     learned since the last round), the leader-epoch checkpoint (new epochs since the
//     last round: appends in a new epoch, AssignEpoch), each to a synced tmp file renamed
//     into place; then syncs the partition directory and, for a partition created since,
//     the log dir (one fsync shared by every partition created before it). So creating a
//     partition costs no fsync, and nothing is called durable before its directory,
//     metadata and epochs are. The epoch changes an open could not redo from the batches
//     are written sooner: a truncation (TruncateTo, TruncateFullyAndStartAt) writes the
//     checkpoint, synced with its directory, before it returns (Kafka: clearAndFlush for a
//     full one, an asynchronous flush otherwise); a log start advance (DeleteRecords,
//     retention) and a compaction swap write it (synced) right after, outside the lock.
//   - A truncation is durable after the next flush round, which runs even when nothing was
//     appended since (the cut segment is fdatasync'ed, the removed ones' renames synced):
//     else a power loss could bring the removed batches back whole, for recovery to keep.
//   - flush.messages / flush.ms trigger the same flush by themselves (flush.messages inline
//     in the Append that crosses it; flush.ms from the Manager's housekeeping every
//     FlushCheckIntervalMs). Kafka's defaults (never) apply unless configured.
//   - A roll that seals a segment queues the log for the Manager's roll flusher, which runs
//     the same flush up to the new segment's base (and syncs the producer snapshot the roll
//     wrote), as Kafka schedules one at every roll: so the recovery point follows the rolls
//     even when nothing else flushes, and an unclean open rescans the active segment only.
//   - Index files and snapshots written at roll are never needed for correctness after a
//     crash: recovery rebuilds or validates them. An unclean open trusts the leader-epoch
//     checkpoint (it holds the epochs of everything below the recovery point, since the
//     round that advanced it wrote the checkpoint first, and nothing a truncation removed)
//     and adds the epoch of each rescanned batch at or above the log start that is newer
//     than its latest entry, as Kafka's recovery does; then it truncates the cache at the
//     log end and the log start, as Kafka's load does, and once more at the log end: an
//     entry starting at the log end (an epoch with no data yet) does not survive a reopen,
//     and that drop is written at once. An unreadable checkpoint makes the open rescan the
//     whole log. The log dir's text checkpoints are fsynced (file and directory) when
//     written.
//   - A crash before a new partition's first flush round may leave no directory, or one
//     with some of its files, empty or missing: open tolerates each (an unreadable
//     partition.metadata is ignored and rewritten with the next topic id given, an
//     unreadable epoch checkpoint is rebuilt from the batches, *.tmp files are removed, a
//     missing .log becomes an empty segment at the log start). Nothing in it was durable.
//   - After a power loss, recovery keeps at least everything below the recovery point
//     recorded in the checkpoint (and in practice everything the disk kept whole): it scans
//     from the segment holding the recovery point, checks every batch's CRC, and cuts the log
//     after the last valid batch (later segments included). Base offset, length and leader
//     epoch lie outside the batch CRC (format property); recovery checks offsets increase.
//   - Manager.Close flushes every log, writes snapshots, indexes and checkpoints, then the
//     clean-shutdown marker; the next open trusts the files and skips the scan.
//
// # Compaction
//
// Kafka's cleaner rules, record by record, compressed batches included (decompressed within
// MaxDecompressedBatchBytes and rebuilt with the same codec): a keyed record stays unless a
// later offset in the dirty part holds its key; a tombstone stays until the delete horizon
// stamped on its batch (delete.retention.ms after the pass that first kept it, KIP-534) has
// passed; records without a key are dropped from a compacted log, as Kafka drops them. A
// rebuilt batch keeps its base and last offset, leader epoch, producer id, epoch and base
// sequence, flags and codec; its max timestamp is the largest kept one (the append time for
// LogAppendTime batches). A producer's last batch whose records all go stays as Kafka's
// empty batch (header only, no codec, base timestamp -1, the original max timestamp).
// Differences from Kafka: control batches are always kept (Kafka drops markers of finished
// transactions after their horizon) and aborted transactions' records are not removed (no
// transaction index yet); a batch that cannot be read within the bound is kept whole, and
// then so is every later tombstone (Kafka has no bound).
//
// # Concurrency and lock order
//
// One writer per Log: Append, TruncateTo, TruncateFullyAndStartAt, AdvanceLogStartOffset,
// EnforceRetention, Roll, AssignEpoch and the compaction swap serialize on Log.writeMu, held
// across the pwrite of an append and never across an fsync (one exception: a truncation
// writes the epoch checkpoint, synced, under it). Readers (Read, OffsetForTimestamp,
// MaxTimestamp, …) take no lock: they load the immutable segment list and pin the segment
// they read with a reference count; the file closes when the last reference goes, so a
// retired (renamed *.deleted, later unlinked) segment stays readable through its open
// descriptor until the reader calls Region.Release. Index entries are append-only slices
// published atomically; truncation copies.
//
// The produce hot path's reads take no lock either: DurableOffset is an atomic published
// after the fsyncs it covers (see flusher), and CheckProducerBatch copies the producer's
// state to the stack through a per-producer sequence lock over atomics, found in a
// sync.Map (see producerState for the memory-ordering argument). Writers of producer state
// serialize on producerState.mu.
//
// Lock order (outer first); no path takes two of the inner locks together:
//
//	cleaner.mu  ->  Manager.mu      (the cleaner lists logs while picking one)
//	Manager.ckptMu -> Manager.mu    (checkpoint writers list the logs)
//	Log.writeMu ->  epochCache.flushMu -> epochCache.mu
//	Log.writeMu ->  producerState.mu | flusher.mu | segment.idxMu | deleter.mu | Log.meta |
//	                Manager.rolls.mu (a roll queues the log for the roll flusher)
//	flush round:    Log.meta | epochCache.flushMu | dirSyncer.mu   (one at a time, no writeMu)
//
// flusher.mu is never held across an fsync; epochCache.flushMu, Log.meta and dirSyncer.mu are
// (they only order writers of one small file). MemFS.mu is innermost (test only).
//
// # Goroutines
//
// The Manager owns its goroutines (housekeeping: flush.ms, retention, checkpoints; cleaner
// workers; RollFlushThreads roll flusher workers; the deleter, which also removes -delete
// directories) and Close waits for all.
// OpenManager loads the partition directories on RecoveryThreadsPerDataDir workers
// (num.recovery.threads.per.data.dir, default 2) that end before it returns; a failure stops
// the others and closes every log already opened. A standalone Log owns a deleter and Close
// waits for it. Group commit runs in the waiting callers' goroutines: no flusher goroutine.
//
// # Memory
//
// Per partition: the segment list, one open .log descriptor per segment, and the index
// entries of the active segment and of every segment read since open (8 bytes per
// index.interval.bytes of data for .index, 12 for .timeindex), plus producer state (a slot
// of about 250 bytes per live producer id, bounded by producer.id.expiration.ms rather than
// a count, as in Kafka). The deleter's queue is bounded (past it files and directories are
// removed at once); the roll flusher's holds each log at most once. A compaction pass holds one key per distinct key of the dirty part (at
// most CleanerMaxKeys) and one decompressed batch (at most MaxDecompressedBatchBytes).
//
// # Differences from Kafka
//
//   - Durability is deferred more: a new partition's directory, its partition.metadata and
//     every new leader epoch are made durable by the log's next flush round (Kafka syncs
//     the epoch checkpoint on every new epoch and partition.metadata soon after creation).
//     Recovery adds the epochs of the batches it rescans, so the answers after a crash
//     match Kafka's; an epoch recorded by AssignEpoch and not written yet comes back at
//     the epoch's first batch, which a leader appends at the offset it assigned (and an
//     epoch with no data is dropped at a load, by Kafka too). Truncations write the epoch
//     checkpoint synchronously (Kafka: asynchronously for TruncateTo).
//   - TruncateTo leaves the log end where the kept data ends (below offset when offset
//     falls inside a batch or in a gap), which is what Kafka finds after its next restart;
//     Kafka sets it to offset until then. When nothing at or above the log start stays,
//     the log restarts empty at offset (log start and end at offset, no epochs); Kafka
//     keeps its log start and epoch entries below offset until its next restart.
//   - The active segment's index files are not preallocated at creation (written at seal
//     and close; preallocated on a clean reopen).
//   - DeleteLog waits the topic's file.delete.delay.ms (Kafka: the broker default).
//   - Compressed batches are decompressed within MaxDecompressedBatchBytes (Kafka has no
//     bound); see Compaction for what that changes, and LookupTimestamp.
//   - Compact called on a log whose policy does not compact keeps keyless records (Kafka
//     never cleans such logs).
package storage
