// Package metadata owns the cluster metadata image: the immutable view built by applying
// Kafka's metadata records (TopicRecord, PartitionRecord, …, package metarecord) from the
// raft log, the deltas between images, snapshots, the FSM the quorum drives, and
// meta.properties, each log directory's identity file.
//
// # The log
//
// One raft entry is a batch of framed records applied atomically (entry.go draws the
// layout): the controller writes every record of one operation in one entry, so no node
// ever sees half a topic. An entry that does not decode, or a record that does not apply
// (a partition of an unknown topic, a stale broker epoch), makes the whole entry a no-op on
// every node alike; the offset still advances.
//
// Records applied: FeatureLevel, RegisterBroker, UnregisterBroker, FenceBroker,
// UnfenceBroker, BrokerRegistrationChange, Topic, Partition, PartitionChange, RemoveTopic,
// Config, ProducerIds, NoOp. ACL, SCRAM, client-quota, delegation-token, controller
// registration, ZooKeeper-migration and metadata-transaction records decode but are not in
// the image yet (later issues).
//
// Two Sluice-specific rules, both because raft assigns an entry's index only when it is
// appended: a RegisterBrokerRecord whose BrokerEpoch is -1 gets the raft index of its entry
// as the broker's epoch (Kafka writes the record's own offset, which its controller knows in
// advance); snapshots write the real epoch. And the image's Offset is the raft index of the
// last entry applied, not a Kafka record offset.
//
// # Invariants
//
//   - An *Image is never modified after it is published; Apply builds a new one that shares
//     unchanged brokers, topics, partitions and config maps (copy-on-write). Callers must
//     treat every returned slice and struct as read-only.
//   - Images are applied in raft order; Offset only grows, except that Restore may install
//     a snapshot (it is always newer than what it replaces when raft installs it).
//   - The FSM publishes to subscribers from one goroutine it owns, in commit order, bounded
//     by coalescing (see FSM); Close waits for it.
//
// # Snapshot format
//
// See snapshot.go: magic "SLMDSNAP", a version, the offset and epoch, then the framed
// records that recreate the image, then a zero length.
//
// # Lock order
//
// FSM.mu is the only lock; subscribers are called without it.
//
// It must not import net or the generated request/response types; it imports
// internal/protocol/metarecord (the persisted record schemas) and internal/config (to read
// meta.properties, which uses the Java properties syntax).
package metadata
