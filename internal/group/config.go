package group

import (
	"fmt"
	"time"
)

// OffsetsTopic is the internal topic holding committed offsets and group metadata.
const OffsetsTopic = "__consumer_offsets"

// Config is the coordinator's configuration: the broker's offsets.* and group.* settings,
// translated by the node assembly. Durations are Kafka's millisecond settings.
type Config struct {
	// OffsetsTopicNumPartitions is offsets.topic.num.partitions: the partition count used to
	// create __consumer_offsets and to place groups while the topic does not exist yet (once
	// it exists its actual partition count is used, see Coordinator.SetPartitionCount).
	OffsetsTopicNumPartitions int32
	// OffsetsTopicReplicationFactor is offsets.topic.replication.factor.
	OffsetsTopicReplicationFactor int16
	// OffsetsTopicSegmentBytes is offsets.topic.segment.bytes.
	OffsetsTopicSegmentBytes int64
	// OffsetsRetention is offsets.retention.minutes: how long the offsets of an empty group
	// (or of a simple consumer) live after the group emptied (after their commit).
	OffsetsRetention time.Duration
	// OffsetsRetentionCheckInterval is offsets.retention.check.interval.ms.
	OffsetsRetentionCheckInterval time.Duration
	// OffsetCommitTimeout is offsets.commit.timeout.ms: how long a write to __consumer_offsets
	// may take to be committed before the request fails.
	OffsetCommitTimeout time.Duration
	// OffsetMetadataMaxBytes is offset.metadata.max.bytes.
	OffsetMetadataMaxBytes int
	// InitialRebalanceDelay is group.initial.rebalance.delay.ms.
	InitialRebalanceDelay time.Duration
	// MinSessionTimeout and MaxSessionTimeout are group.min/max.session.timeout.ms.
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration
	// MaxSize is group.max.size (classic groups).
	MaxSize int
	// NewMemberJoinTimeout bounds how long a new member's first JoinGroup may stay parked
	// (Kafka's group.classic.new.member.join.timeout.ms, an internal setting: 5 minutes).
	NewMemberJoinTimeout time.Duration

	// ConsumerProtocol: "consumer" is in group.coordinator.rebalance.protocols, so
	// ConsumerGroupHeartbeat and ConsumerGroupDescribe are served.
	ConsumerProtocol bool
	// ConsumerSessionTimeout is group.consumer.session.timeout.ms: a KIP-848 member that
	// does not heartbeat for this long is removed.
	ConsumerSessionTimeout time.Duration
	// ConsumerHeartbeatInterval is group.consumer.heartbeat.interval.ms, told to members.
	ConsumerHeartbeatInterval time.Duration
	// ConsumerMaxSize is group.consumer.max.size.
	ConsumerMaxSize int
	// ConsumerAssignors is group.consumer.assignors: the server-side assignors members may
	// name; the first is the default.
	ConsumerAssignors []string
}

// DefaultConfig returns Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		OffsetsTopicNumPartitions:     50,
		OffsetsTopicReplicationFactor: 3,
		OffsetsTopicSegmentBytes:      100 << 20,
		OffsetsRetention:              7 * 24 * time.Hour,
		OffsetsRetentionCheckInterval: 10 * time.Minute,
		OffsetCommitTimeout:           5 * time.Second,
		OffsetMetadataMaxBytes:        4096,
		InitialRebalanceDelay:         3 * time.Second,
		MinSessionTimeout:             6 * time.Second,
		MaxSessionTimeout:             30 * time.Minute,
		MaxSize:                       int(^uint32(0) >> 1),
		NewMemberJoinTimeout:          5 * time.Minute,
		ConsumerProtocol:              true,
		ConsumerSessionTimeout:        45 * time.Second,
		ConsumerHeartbeatInterval:     5 * time.Second,
		ConsumerMaxSize:               int(^uint32(0) >> 1),
		ConsumerAssignors:             []string{AssignorUniform, AssignorRange},
	}
}

// Validate checks the values a coordinator cannot run with.
func (c Config) Validate() error {
	switch {
	case c.OffsetsTopicNumPartitions < 1:
		return fmt.Errorf("%w: offsets.topic.num.partitions %d", ErrInvalidConfig, c.OffsetsTopicNumPartitions)
	case c.OffsetsTopicReplicationFactor < 1:
		return fmt.Errorf("%w: offsets.topic.replication.factor %d", ErrInvalidConfig, c.OffsetsTopicReplicationFactor)
	case c.OffsetCommitTimeout <= 0:
		return fmt.Errorf("%w: offsets.commit.timeout.ms %v", ErrInvalidConfig, c.OffsetCommitTimeout)
	case c.OffsetsRetentionCheckInterval <= 0:
		return fmt.Errorf("%w: offsets.retention.check.interval.ms %v", ErrInvalidConfig, c.OffsetsRetentionCheckInterval)
	case c.MaxSize < 1:
		return fmt.Errorf("%w: group.max.size %d", ErrInvalidConfig, c.MaxSize)
	case c.NewMemberJoinTimeout <= 0:
		return fmt.Errorf("%w: new member join timeout %v", ErrInvalidConfig, c.NewMemberJoinTimeout)
	case c.ConsumerSessionTimeout <= 0:
		return fmt.Errorf("%w: group.consumer.session.timeout.ms %v", ErrInvalidConfig, c.ConsumerSessionTimeout)
	case c.ConsumerHeartbeatInterval <= 0:
		return fmt.Errorf("%w: group.consumer.heartbeat.interval.ms %v", ErrInvalidConfig, c.ConsumerHeartbeatInterval)
	case c.ConsumerMaxSize < 1:
		return fmt.Errorf("%w: group.consumer.max.size %d", ErrInvalidConfig, c.ConsumerMaxSize)
	case len(c.ConsumerAssignors) == 0:
		return fmt.Errorf("%w: group.consumer.assignors is empty", ErrInvalidConfig)
	}
	for _, a := range c.ConsumerAssignors {
		if a != AssignorUniform && a != AssignorRange {
			return fmt.Errorf("%w: group.consumer.assignors: unknown assignor %q", ErrInvalidConfig, a)
		}
	}
	return nil
}

// TopicConfigs are the topic configs __consumer_offsets is created with, as Kafka's
// GroupCoordinator.groupMetadataTopicConfigs: compacted, the producer's compression kept
// (the coordinator writes uncompressed batches), offsets.topic.segment.bytes.
func (c Config) TopicConfigs() map[string]string {
	return map[string]string{
		"cleanup.policy":   "compact",
		"compression.type": "producer",
		"segment.bytes":    fmt.Sprint(c.OffsetsTopicSegmentBytes),
	}
}
