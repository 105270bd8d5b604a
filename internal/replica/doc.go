// Package replica is the broker's partition replicas: for each partition this broker hosts,
// its leadership state (leader epoch, partition epoch, replicas, ISR), the produce path
// (Kafka's validation, idempotence checks, offset assignment), the high watermark, the fetch
// path, ListOffsets, OffsetForLeaderEpoch, DeleteRecords, DescribeProducers, and the waits
// that Produce (acks) and Fetch (long poll) need.
//
// It sits on internal/storage (the log) and internal/record (batch bytes). It must not import
// net, internal/protocol/..., internal/metadata or internal/config: the node assembly turns
// metadata deltas and topic configs into MakeLeader / MakeFollower / Remove / UpdateConfig
// calls with the small types of config.go, and the server turns requests into the option
// types here and the sentinel errors of errors.go into Kafka error codes (each sentinel names
// its code).
//
// # Who calls what
//
//	node assembly   NewManager, MakeLeader, MakeFollower, Remove, UpdateConfig, Close
//	Produce         Manager.Partition(tp) -> Partition.Append(ctx, records, AppendOptions)
//	Fetch           Partition.Read(ReadOptions); Manager.NewWaiter + Waiter.Watch/Wait for
//	                max_wait_ms / min_bytes
//	ListOffsets     Partition.ListOffsets(ListOffsetsOptions)
//	OffsetForLeaderEpoch  Partition.EndOffsetForEpoch(currentEpoch, epoch)
//	DeleteRecords   Partition.DeleteRecords(ctx, offset)
//	DescribeProducers     Partition.Producers(ctx)
//	DescribeLogDirs Manager.LogDirPartitions()
//	metrics         Partition.Stats (bytes and records in, bytes out), Manager.Waiting
//	                (produce and fetch waits in progress): atomic counters, read on scrape
//
// # Produce
//
// Append validates without any lock (record.Parse: size against max.message.bytes, magic 2,
// CRC; record.ValidateProduce: producer fields, offset deltas, timestamps against
// message.timestamp.before/after.max.ms, keys on compacted topics, no control batches from
// clients; exactly one batch for produce v3+), recompresses when compression.type names a
// codec other than the batch's, and stamps LogAppendTime or the validated max timestamp.
// Then, holding the partition's append lock: idempotence checks against the log's producer
// state (a retry of one of the producer's last five batches answers its original offsets and
// appends nothing), offset and leader-epoch assignment in place, and one storage append. An
// uncompressed batch is never copied and nothing is allocated per record.
//
// # High watermark and flush policy
//
// The leader's high watermark (HW) is the smallest log end offset over the ISR, where the
// leader's own log end counts only as far as it is on disk when sluice.log.flush.policy is
// group-commit (the default). So under group commit everything a consumer can read, and
// everything acknowledged with acks>=1, has been fdatasync'ed: acks=1 waits for
// storage.WaitDurable (concurrent producers share syncs); acks=all waits, bounded by the
// request's context, until the HW covers the batch. Appends nobody waits for (acks=0, or a
// producer whose wait ended early) are made durable by the Manager's flusher goroutine, so
// the HW reaches them (a failed background sync is retried with the partition's next
// append). Under policy none (Kafka's behaviour) acks=1 answers after the write to
// the page cache and the HW follows the log end at once. The HW never moves back on a
// leader. The last stable offset equals the HW until transactions exist.
//
// A replica taking over a log starts its HW where storage's replication-offset-checkpoint
// left it (storage.Log.HighWatermark: written every
// replica.high.watermark.checkpoint.interval.ms and at Close, clamped to the log; or the
// last HW a replica gave the log since it was opened), clamped under group commit to the
// durable offset, as Kafka's Partition does. So after a restart consumers read up to the
// old HW at once, and a leader whose ISR lags answers ListOffsets with OFFSET_NOT_AVAILABLE
// while its HW is below the start of its epoch, as Kafka's does.
//
// # Leader epochs
//
// A new leadership (MakeLeader with a newer leader epoch) records its epoch in the log's
// leader-epoch cache at the log end (storage.Log.AssignEpoch), as Kafka's makeLeader does,
// so OffsetForLeaderEpoch and a follower fetch's diverging-epoch check read the cache alone,
// before anything is written in the epoch. An election older than the log's newest epoch
// (a metadata delta replayed after the log saw a newer one) fails with ErrStaleLeaderEpoch
// and changes nothing; Kafka's cache would drop its newer entries instead. The offset where
// the leadership began is also kept in the partition state for ListOffsets
// (OFFSET_NOT_AVAILABLE), as Kafka keeps it.
//
// # Waiting for data
//
// A Waiter is registered on the partitions of one fetch; a partition wakes its waiters when
// its HW advances (WatchLogEnd: also on every append, for followers) and when its leadership
// changes. A wake is a non-blocking send on the waiter's one-slot channel: no goroutine per
// waiter or partition, wakes coalesce, and a partition nobody waits on pays one atomic load
// per append. The manager bounds the registrations of all waiters together.
//
// # Concurrency and lock order
//
// Reads (Read, ListOffsets, EndOffsetForEpoch, Producers) take no partition lock: they load
// the immutable leadership state (an atomic pointer) and read storage, which pins segments.
// Lock order, outer first:
//
//	Manager.changeMu -> Manager.mu
//	Manager.changeMu -> Partition.stateMu            (leadership changes)
//	Partition.stateMu (shared) -> Partition.appendMu -> storage's Log locks   (appends)
//
// Partition.hw.mu, Partition.waiters.mu and Manager.flusher.mu are leaves: nothing is
// acquired while holding them. No partition lock is held across a wait for durability or
// replication.
//
// # Goroutines
//
// Under group commit the Manager runs the flusher: FlushThreads workers (default 4) taking
// partitions from one queue, so that partitions are synced several at a time and a slow one
// does not hold the others back; Close stops them and waits. Everything else runs in the
// callers' goroutines.
//
// # Memory
//
// Per partition: the leadership state (a few slices), one entry per follower, one map entry
// per registered waiter. Recompression buffers come from a pool (buffers over 8 MiB are not
// kept). Decompressing a batch for validation is bounded by MaxDecompressedBatchBytes.
//
// # Differences from Kafka
//
//   - Group commit (above) is Sluice's; with policy none the behaviour is Kafka's.
//   - A duplicate produce reports a log append time only on LogAppendTime topics (Kafka
//     reports the original batch's max timestamp on every topic).
//   - Coordinator appends (OriginCoordinator) are checked for structure, CRC and producer
//     fields only; the topic's compression.type is not applied to them.
//   - A compressed batch that would decompress to more than MaxDecompressedBatchBytes is
//     refused with MESSAGE_TOO_LARGE; Kafka has no such bound.
//   - DeleteRecords answers as soon as the leader moved its log start (no followers yet).
//
// # Not yet (replication)
//
// MakeFollower records state only. Missing: the follower fetcher (Fetch to the leader,
// appending with OriginReplication, taking the leader's HW and log start), truncation on a
// leader change (OffsetForLeaderEpoch / diverging epoch, storage's TruncateTo), ISR shrink
// and expand through AlterPartition (followerState keeps the last fetch and caught-up times
// for it), DeleteRecords waiting for followers, and fetch from followers (KIP-392). The
// leader side already tracks follower positions from their fetches and counts them in the HW.
package replica
