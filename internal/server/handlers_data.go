package server

import (
	"fmt"

	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/replica"
)

// dataHandlers lists the partition-data APIs, in key order. See handlers() in registry.go.
// A server without replicas (a controller-only node, or a server under test without
// partition data) serves none of them, so ApiVersions never advertises an API that could
// only fail.
func (s *Server) dataHandlers() []Handler {
	if s.opts.Deps.Replicas == nil {
		return nil
	}
	return []Handler{
		s.produceHandler(),              // 00_produce.go
		s.fetchHandler(),                // 01_fetch.go
		s.listOffsetsHandler(),          // 02_list_offsets.go
		s.deleteRecordsHandler(),        // 21_delete_records.go
		s.initProducerIDHandler(),       // 22_init_producer_id.go
		s.offsetForLeaderEpochHandler(), // 23_offset_for_leader_epoch.go
		s.describeLogDirsHandler(),      // 35_describe_log_dirs.go
		s.describeProducersHandler(),    // 61_describe_producers.go
	}
}

// What the partition-data handlers share: how a partition is found, and who leads it.

// internalWriterClientID is the client id Kafka's own tools use to write to internal topics;
// Produce refuses internal topics to every other client, as Kafka does.
const internalWriterClientID = "__admin_client"

// dataInternalTopic is Kafka's Topic.isInternal: the topics of its coordinators, which
// clients may not produce to or delete records from.
func dataInternalTopic(name string) bool {
	switch name {
	case "__consumer_offsets", "__transaction_state", "__share_group_state":
		return true
	}
	return false
}

// dataImage returns the current metadata image, or nil on a node without metadata (tests,
// controller-only nodes).
func (s *Server) dataImage() *metadata.Image {
	if s.opts.Deps.Metadata == nil {
		return nil
	}
	return s.opts.Deps.Metadata.Current()
}

// knownPartition reports whether the metadata has the partition (Kafka's
// metadataCache.contains).
func knownPartition(im *metadata.Image, topic string, partition int32) bool {
	if im == nil {
		return false
	}
	_, ok := im.Partition(topic, partition)
	return ok
}

// hostedPartition returns this broker's replica of tp, or the error Kafka answers when there
// is none: NOT_LEADER_OR_FOLLOWER when the metadata knows the partition (it moved, or this
// broker has not created its replica yet), UNKNOWN_TOPIC_OR_PARTITION otherwise. Whether
// the replica leads is the caller's next question (replica methods answer ErrNotLeader).
func (s *Server) hostedPartition(im *metadata.Image, tp replica.TopicPartition) (*replica.Partition, error) {
	if m := s.opts.Deps.Replicas; m != nil {
		p, err := m.Partition(tp)
		if err == nil {
			return p, nil
		}
	}
	if knownPartition(im, tp.Topic, tp.Partition) {
		return nil, fmt.Errorf("%w: this broker hosts no replica of %s", kerr.NotLeaderOrFollower, tp)
	}
	return nil, fmt.Errorf("%w: %s", kerr.UnknownTopicOrPartition, tp)
}

// leaderHint is what NOT_LEADER_OR_FOLLOWER answers carry from Produce v10 and Fetch v12 on
// (KIP-951): the partition's leader and epoch as this broker's metadata has them, and the
// leader's endpoint on the listener the request came in on.
type leaderHint struct {
	LeaderID    int32 // -1 when unknown
	LeaderEpoch int32 // -1 when unknown
	// Endpoint is valid when HasEndpoint; Rack is "" when the broker has none.
	HasEndpoint bool
	Host        string
	Port        int32
	Rack        string
}

// currentLeader looks the leader of a partition up in im (Kafka's getCurrentLeader).
func currentLeader(im *metadata.Image, topic string, partition int32, listener string) leaderHint {
	h := leaderHint{LeaderID: -1, LeaderEpoch: -1}
	if im == nil {
		return h
	}
	p, ok := im.Partition(topic, partition)
	if !ok {
		return h
	}
	h.LeaderID, h.LeaderEpoch = p.Leader, p.LeaderEpoch
	if p.Leader == metadata.NoLeader {
		return h
	}
	b, ok := im.Broker(p.Leader)
	if !ok {
		return h
	}
	ep, ok := b.Endpoint(listener)
	if !ok {
		return h
	}
	h.HasEndpoint, h.Host, h.Port, h.Rack = true, ep.Host, int32(ep.Port), b.Rack
	return h
}

// nullableRack is a rack for NodeEndpoints: null when the broker has none.
func nullableRack(rack string) *string {
	if rack == "" {
		return nil
	}
	return &rack
}
