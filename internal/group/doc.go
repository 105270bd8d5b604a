// Package group is the group coordinator: the classic consumer group protocol (JoinGroup,
// SyncGroup, Heartbeat, LeaveGroup), committed offsets (OffsetCommit, OffsetFetch,
// OffsetDelete), group administration (ListGroups, DescribeGroups, DeleteGroups), and their
// persistence in __consumer_offsets with Kafka's own record schemas
// (internal/protocol/grouprecord), and KIP-848 consumer groups (ConsumerGroupHeartbeat,
// ConsumerGroupDescribe, server-side assignors) on the same machinery.
//
// # Placement
//
// The coordinator of group G is the leader of __consumer_offsets partition
// abs(javaHashCode(G)) % partitions (hash.go), as in Kafka, so tools that compute
// coordinators agree. The node's metadata subscriber calls Elect when this broker becomes
// leader of such a partition and Resign when it stops (a follower, removed, deleted);
// requests for groups of other partitions answer NOT_COORDINATOR.
//
// # Shards: one single-owner loop per partition
//
// Each led partition is a shard (shard.go): one goroutine owns every group and offset of
// the partition and runs operations one at a time, in submission order, so the state needs
// no lock. A request handler submits a closure to the shard's bounded inbox (do / doOn) and
// waits for its reply, its context, or the shard's end (then NOT_COORDINATOR). A closure
// may reply later: a parked JoinGroup replies when the join phase ends, a SyncGroup when
// the leader's assignment is committed. Timers (session expiry, join and sync phases,
// write timeouts, the periodic expiration) live in a per-shard deadline heap keyed so that
// rescheduling replaces (timer.go); the loop sleeps on one time.Timer. A second goroutine
// per shard (watchHW) only signals the loop when the partition's high watermark advances.
//
// # Writes
//
// An operation that changes persistent state hands records to shard.write with a
// completion. The records of the operations run in one loop round (up to 256, 512 KiB) go
// into one batch, appended with Partition.Append (OriginCoordinator, acks=0: it returns
// once the batch is in the log). The completions run on the loop when the high watermark
// passes the batch: the commit point acks=all waits for (replicated to the ISR and, under
// group commit, fsynced). Until then the state they change is not visible: OffsetFetch
// sees an offset only once committed, a group turns Stable only once its assignment is.
// A batch not committed within offsets.commit.timeout.ms fails its operations with
// COORDINATOR_NOT_AVAILABLE; a failed append answers NOT_COORDINATOR (not the leader, a
// storage error), COORDINATOR_NOT_AVAILABLE or UNKNOWN_SERVER_ERROR as Kafka maps them.
// Writes are pipelined: later rounds append while earlier ones sync.
//
// Records: OffsetCommitKey (key version 1) / OffsetCommitValue v3 (v1 with an explicit
// expire timestamp), GroupMetadataKey (2) / GroupMetadataValue v3, tombstones (null
// values) for deleted offsets and groups. A classic group's GroupMetadata record is written
// when a rebalance completes (the leader's SyncGroup), when it becomes empty, and when a
// static member is replaced without a rebalance.
//
// # Load and unload
//
// A new shard first reads its partition from the log start to the log end (ReadLogEnd,
// 4 MiB reads) and replays every record (load.go): offsets into the offset store, the last
// GroupMetadata of each group into a classic group (Stable with its members, or Empty),
// tombstones removing. Requests meanwhile get COORDINATOR_LOAD_IN_PROGRESS (Heartbeat gets
// NONE, as Kafka). Then members' sessions start and the loop serves. Unloading cancels the
// shard: queued and parked requests answer NOT_COORDINATOR; nothing is written.
//
// # Invariants
//
//   - Only a shard's loop reads or writes its groups, offsets, timers and batch.
//   - The offset store equals the replay of the partition's committed records: commits are
//     applied in log order by completions, or removed at once by expiration (whose
//     tombstones, if lost, expire the same offsets at the next load).
//   - Every reply function is called at most once; every parked request is answered by its
//     operation, by a later rebalance, or by the shard's end.
//   - Bounds: a shard's inbox (1024 operations), batches in flight (4096), timers (one per
//     member, group and write in flight); groups and offsets are bounded by the log, which
//     expiration and compaction keep small.
//
// # KIP-848 consumer groups
//
// A group is of one protocol type: the shard's map holds the group interface (group.go),
// implemented by *classicGroup and *consumerGroup (consumer.go). ConsumerGroupHeartbeat
// runs on the group's shard (consumer_ops.go, Kafka's consumerGroupHeartbeat): a member
// joins with epoch 0, heartbeats with its epoch and owned partitions, leaves with -1 (a
// static member with -2, keeping its partitions until it returns under a new member id or
// its session expires). A new member, a changed subscription or a change of the subscribed
// topics bumps the group epoch; the target assignment is then computed at once by the
// group's assignor (assignor.go: "uniform", sticky and balanced, or "range"; the one most
// members name, else the first of group.consumer.assignors). Each member reconciles
// towards its target on its own heartbeats (Kafka's CurrentAssignmentBuilder): partitions
// to give up are revoked first, within its epoch; once its owned partitions no longer
// include them it moves to the target epoch and gets the new partitions that no other
// member still owns (consumerGroup.owners), so a partition never has two owners. Session
// (group.consumer.session.timeout.ms) and rebalance (the member's, for revocation)
// timeouts are shard timers; an expired member is removed and its partitions reassigned.
//
// The topics come from the node (SetTopics, Kafka's onNewMetadataImage): subscriptions by
// name and by regex (Go's RE2, matching whole names, internal topics included as Kafka's
// resolution does) resolve against them, and a change of the topics a group subscribes to
// (created, deleted, more partitions) gives it a new epoch and target at once.
//
// Records (consumer_records.go), key versions 3–8, values v0: ConsumerGroupMetadata (the
// group epoch), ConsumerGroupPartitionMetadata (the subscribed topics' ids and partition
// counts), ConsumerGroupMemberMetadata, ConsumerGroupTargetAssignmentMetadata and
// ...Member, ConsumerGroupCurrentMemberAssignment; tombstones when a member leaves or the
// group is deleted or expires. Replay rebuilds the group; onLoaded restarts every member's
// session (and pending revocation deadline). Unlike classic operations, a heartbeat's
// state changes apply at once on the loop (later heartbeats must see them); its answer waits
// until its records, or those written before it, are committed.
//
// Offsets of consumer groups are validated by member epoch (STALE_MEMBER_EPOCH,
// UNKNOWN_MEMBER_ID; OffsetCommit below v9 is UNSUPPORTED_VERSION for a member), expire
// counted from their commit for topics no member subscribes to, and DeleteGroups needs the
// group empty. A classic JoinGroup on a consumer group with members is refused
// (INCONSISTENT_GROUP_PROTOCOL) and a ConsumerGroupHeartbeat on a classic group with members
// gets GROUP_ID_NOT_FOUND, as Kafka with migration disabled; an empty group of one type
// becomes the other, its offsets kept.

// # Differences from Kafka
//
//   - State changes apply when their records commit, as Kafka's old coordinator did;
//     Kafka's new runtime applies them at once on a timeline and reverts on failure. What
//     clients see is the same: reads answer from committed state. Expiration is the
//     exception (applied at once, as Kafka's).
//   - A new classic group is written to the log only when its first join phase ends
//     (Kafka's new coordinator writes an empty record at once).
//   - No transactional offset commits yet (TxnOffsetCommit, the transaction coordinator's
//     issue): require_stable never answers UNSTABLE_OFFSET_COMMIT, the load skips
//     transactional batches and markers.
//   - Ties are broken deterministically where Kafka uses hash order: the selected protocol
//     (most votes, then name order) and a new leader (smallest member id).
//   - A parked JoinGroup or SyncGroup superseded by a newer one from the same member is
//     answered REBALANCE_IN_PROGRESS, and a removed member's parked SyncGroup
//     UNKNOWN_MEMBER_ID; Kafka leaves both unanswered.
//   - Writes do not check min.insync.replicas before appending (the append is acks=0 and
//     the commit is waited for through the high watermark); replication does not exist yet.
//   - A record the load cannot decode is skipped with a warning (Kafka fails the load).
//   - OffsetCommit and OffsetFetch v0 are served by the coordinator (Kafka kept them in
//     ZooKeeper and 4.0 removed them). No authorization, no quotas, no metrics yet.
//   - KIP-848: no online migration between the classic and consumer protocols (Kafka's
//     group.consumer.migration.policy=disabled); no rack-aware assignment; regexes are
//     resolved on the loop when needed, not asynchronously, and no RegularExpression
//     records are written (the specs Sluice generates from predate them), nor the metadata
//     hash of Kafka 4.1 (PartitionMetadata records as Kafka 4.0 writes them). A commit
//     with the member's previous epoch is accepted when the member still owns every
//     partition it commits (as Kafka 4.3 relaxes it; 4.0 answers STALE_MEMBER_EPOCH). A heartbeat's state changes apply before its records commit
//     and are not rolled back if the write fails (Kafka reverts its timeline): the
//     member is answered with the error and the memory stays ahead of the log until the
//     shard is reloaded. A failed write means leadership is moving or storage failed,
//     and the next coordinator rebuilds the state from the log. DescribeGroups reports a
//     consumer group as Dead with no members (Kafka 4.0 without migration does too).
//
// # Imports
//
// group imports replica (the partition it writes and reads), record (batches), the
// generated grouprecord schemas and, as DESIGN §4 allows coordinators, the request and
// response types of internal/protocol/message and the kerr codes. It must not import net,
// server, node, metadata or config: the node assembly passes partitions and settings in.
//
// # Locks
//
// Coordinator.mu guards the shard map only; it is never held while calling into a shard
// or waiting for one. Shard state has no lock (single owner).
package group
