package server

import (
	"context"
	"time"

	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/group"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
)

// groupHandlers lists the group coordinator's APIs, in key order. See handlers() in
// registry.go. They are registered only where the node has a coordinator (and the metadata
// image FindCoordinator answers from).
func (s *Server) groupHandlers() []Handler {
	if s.opts.Deps.Groups == nil || s.opts.Deps.Metadata == nil {
		return nil
	}
	hs := []Handler{
		s.offsetCommitHandler(),    // 08_offset_commit.go
		s.offsetFetchHandler(),     // 09_offset_fetch.go
		s.findCoordinatorHandler(), // 10_find_coordinator.go
		s.joinGroupHandler(),       // 11_join_group.go
		s.heartbeatHandler(),       // 12_heartbeat.go
		s.leaveGroupHandler(),      // 13_leave_group.go
		s.syncGroupHandler(),       // 14_sync_group.go
		s.describeGroupsHandler(),  // 15_describe_groups.go
		s.listGroupsHandler(),      // 16_list_groups.go
		s.deleteGroupsHandler(),    // 42_delete_groups.go
		s.offsetDeleteHandler(),    // 47_offset_delete.go
	}
	if s.opts.Deps.Groups.Config().ConsumerProtocol {
		// group.coordinator.rebalance.protocols includes "consumer" (KIP-848).
		hs = append(hs,
			s.consumerGroupHeartbeatHandler(), // 68_consumer_group_heartbeat.go
			s.consumerGroupDescribeHandler(),  // 69_consumer_group_describe.go
		)
	}
	return hs
}

// What the group handlers share.

// groupRequest is what the coordinator needs to know of a request besides its body. The
// client host is Kafka's InetAddress.toString of the peer ("/127.0.0.1").
func groupRequest(r *Request) group.Request {
	host := ""
	if r.Peer.IsValid() {
		host = "/" + r.Peer.Addr().Unmap().String()
	}
	return group.Request{Version: r.Version, ClientID: r.ClientID, ClientHost: host}
}

// groupAuthorizedOps is what DescribeGroups reports when asked: every operation a group
// supports (READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS), as Kafka reports
// without an authorizer.
const groupAuthorizedOps int32 = 1<<3 | 1<<6 | 1<<8 | 1<<10 | 1<<11

// coordinatorTopicTimeout bounds FindCoordinator's creation of __consumer_offsets (the
// controller's commit and this broker applying it).
const coordinatorTopicTimeout = 30 * time.Second

// ensureOffsetsTopic returns the image with __consumer_offsets, creating the topic through
// the controller when it does not exist yet (Kafka creates it on the first coordinator
// lookup). ok is false when the topic is still not there (creation refused, for example
// offsets.topic.replication.factor above the live brokers, or still in progress): the
// caller answers COORDINATOR_NOT_AVAILABLE and the client retries.
func (s *Server) ensureOffsetsTopic(ctx context.Context, r *Request) (*metadata.Image, bool) {
	im, err := s.image()
	if err != nil {
		return nil, false
	}
	if t, ok := im.TopicByName(group.OffsetsTopic); ok {
		s.opts.Deps.Groups.SetPartitionCount(int32(len(t.Partitions)))
		return im, true
	}
	ctl, err := s.adminController()
	if err != nil {
		return im, false
	}
	cfg := s.opts.Deps.Groups.Config()
	ctx, cancel := context.WithTimeout(ctx, coordinatorTopicTimeout)
	defer cancel()
	results, offset, err := ctl.CreateTopics(ctx, []controller.TopicSpec{{
		Name:              group.OffsetsTopic,
		NumPartitions:     cfg.OffsetsTopicNumPartitions,
		ReplicationFactor: cfg.OffsetsTopicReplicationFactor,
		Configs:           cfg.TopicConfigs(),
	}}, false)
	switch {
	case err != nil:
		r.Logger().Info("creating __consumer_offsets failed", "err", err)
	case len(results) == 1 && results[0].Err != nil && r.ErrorCode(results[0].Err) != kerr.TopicAlreadyExists.Code:
		r.Logger().Warn("creating __consumer_offsets was refused", "err", results[0].Err)
	default:
		if deadline, ok := ctx.Deadline(); ok {
			s.waitApplied(ctx, r, offset, time.Until(deadline))
		}
	}
	im, _ = s.image()
	t, ok := im.TopicByName(group.OffsetsTopic)
	if ok {
		s.opts.Deps.Groups.SetPartitionCount(int32(len(t.Partitions)))
	}
	return im, ok
}

// topicPartitionKnown reports whether the metadata has the partition (Kafka's
// metadataCache.getPartitionInfo), for OffsetCommit and OffsetDelete.
func topicPartitionKnown(im *metadata.Image, topic string, partition int32) bool {
	_, ok := im.Partition(topic, partition)
	return ok
}
