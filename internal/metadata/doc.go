// Package metadata owns the cluster metadata image: the immutable view built by applying
// Kafka's metadata records (TopicRecord, PartitionRecord, …) from the raft log, the deltas
// between images, snapshots, and the glue that makes the image a raft finite state machine.
// It must not import net or the generated request/response types.
package metadata
