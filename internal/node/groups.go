package node

import (
	"fmt"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/group"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/replica"
	"github.com/sluicehq/sluice/internal/storage"
)

// The group coordinator's assembly: its configuration from the broker's, and the metadata
// reactions that make this broker the coordinator of the __consumer_offsets partitions it
// leads (Kafka's BrokerMetadataPublisher calling onElection / onResignation).

// startGroups builds the group coordinator over the replicas. Its shards start as the
// subscriber makes this broker leader of __consumer_offsets partitions.
func (n *Node) startGroups(cfg *config.Broker) error {
	c, err := group.New(group.Options{
		Config:   groupConfig(cfg),
		Replicas: n.replicas,
		Logger:   n.log.With("component", "group-coordinator"),
	})
	if err != nil {
		return fmt.Errorf("%w: group coordinator: %w", ErrStartup, err)
	}
	n.groups = c
	return nil
}

// groupConfig translates the broker's offsets.* and group.* settings.
func groupConfig(cfg *config.Broker) group.Config {
	g := cfg.Groups
	c := group.DefaultConfig()
	c.OffsetsTopicNumPartitions = g.OffsetsTopicNumPartitions
	c.OffsetsTopicReplicationFactor = g.OffsetsTopicReplicationFactor
	c.OffsetsTopicSegmentBytes = g.OffsetsTopicSegmentBytes
	c.OffsetsRetention = g.OffsetsRetention
	c.OffsetsRetentionCheckInterval = g.OffsetsRetentionCheck
	c.OffsetCommitTimeout = g.OffsetsCommitTimeout
	c.OffsetMetadataMaxBytes = g.OffsetMetadataMaxBytes
	c.InitialRebalanceDelay = g.InitialRebalanceDelay
	c.MinSessionTimeout = g.MinSessionTimeout
	c.MaxSessionTimeout = g.MaxSessionTimeout
	c.MaxSize = g.MaxSize
	c.ConsumerProtocol = g.ConsumerProtocol
	c.ConsumerSessionTimeout = g.Consumer.SessionTimeout
	c.ConsumerHeartbeatInterval = g.Consumer.HeartbeatInterval
	c.ConsumerMaxSize = g.Consumer.MaxSize
	if len(g.Consumer.Assignors) > 0 {
		c.ConsumerAssignors = g.Consumer.Assignors
	}
	return c
}

// coordinate tells the group coordinator about a __consumer_offsets partition whose state
// this broker just applied: leading it (p is the replica) makes this broker its coordinator,
// anything else (following, removed: p nil) ends that.
func (s *subscriber) coordinate(tp storage.TopicPartition, leaderEpoch int32, p *replica.Partition, leader bool) {
	c := s.n.groups
	if c == nil || tp.Topic != group.OffsetsTopic {
		return
	}
	if leader && p != nil {
		c.Elect(tp.Partition, leaderEpoch, p)
		return
	}
	c.Resign(tp.Partition, leaderEpoch)
}

// coordinateTopics passes the topic-level changes of a delta: __consumer_offsets' partition
// count (placement uses it) and the offsets of deleted topics, which the coordinator
// tombstones.
func (s *subscriber) coordinateTopics(next *metadata.Image, d *metadata.Delta) {
	c := s.n.groups
	if c == nil {
		return
	}
	if t, ok := next.TopicByName(group.OffsetsTopic); ok {
		c.SetPartitionCount(int32(len(t.Partitions)))
	}
	var deleted []string
	for _, t := range d.DeletedTopics {
		if t.Name == group.OffsetsTopic {
			for _, p := range t.Partitions {
				c.Resign(p.ID, -1)
			}
			continue
		}
		deleted = append(deleted, t.Name)
	}
	c.OnTopicsDeleted(s.ctx, deleted)
	if len(d.CreatedTopics) > 0 || len(d.DeletedTopics) > 0 || len(d.ChangedPartitions) > 0 {
		// Kafka's onNewMetadataImage: KIP-848 assignment and regex subscriptions work on
		// the topics' ids and partition counts. The coordinator ignores an unchanged set.
		c.SetTopics(s.ctx, groupTopics(next))
	}
}

// groupTopics lists the image's topics for the group coordinator.
func groupTopics(im *metadata.Image) []group.TopicInfo {
	ts := im.Topics()
	out := make([]group.TopicInfo, 0, len(ts))
	for _, t := range ts {
		out = append(out, group.TopicInfo{ID: t.ID, Name: t.Name, Partitions: int32(len(t.Partitions))})
	}
	return out
}
