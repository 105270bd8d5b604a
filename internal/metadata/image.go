package metadata

import (
	"maps"
	"slices"
)

// MetadataVersionFeature is the feature that names the metadata format, and
// MetadataVersionLevel the level a new Sluice cluster starts at: 3.9-IV0 (21), the newest
// level whose records the message specs Sluice is generated from describe.
const (
	MetadataVersionFeature       = "metadata.version"
	MetadataVersionLevel   int16 = 21
)

// Config resource types, Kafka's ConfigResource.Type ids as stored in ConfigRecord.
const (
	ResourceTopic  int8 = 2
	ResourceBroker int8 = 4
)

// NoLeader is the leader id of a partition without a leader.
const NoLeader int32 = -1

// ConfigResource names a set of dynamic configs: a topic by name, a broker by id in decimal,
// or the cluster-wide broker default (ResourceBroker, "").
type ConfigResource struct {
	Type int8
	Name string
}

// Endpoint is one listener a broker registered.
type Endpoint struct {
	Name             string // listener name, upper case
	Host             string
	Port             uint16
	SecurityProtocol int16 // Kafka's SecurityProtocol id: 0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL
}

// Feature is a supported version range a broker registered.
type Feature struct {
	Name     string
	Min, Max int16
}

// Broker is a registered broker. Broker values are shared between images and never
// modified; slices are read-only.
type Broker struct {
	ID            int32
	IncarnationID UUID
	// Epoch is the raft index of the entry that registered the broker.
	Epoch                int64
	Endpoints            []Endpoint
	Features             []Feature
	Rack                 string // "" when the broker has none
	Fenced               bool
	InControlledShutdown bool
}

// Endpoint returns the broker's endpoint on the named listener.
func (b *Broker) Endpoint(listener string) (Endpoint, bool) {
	for _, e := range b.Endpoints {
		if e.Name == listener {
			return e, true
		}
	}
	return Endpoint{}, false
}

// Alive reports whether the broker can lead partitions and count in ISRs: unfenced and not
// shutting down.
func (b *Broker) Alive() bool { return !b.Fenced && !b.InControlledShutdown }

// Partition is one partition's replication state. Shared, never modified; slices read-only.
type Partition struct {
	ID               int32
	Replicas         []int32
	ISR              []int32
	RemovingReplicas []int32
	AddingReplicas   []int32
	Leader           int32 // NoLeader when none
	// LeaderRecoveryState is 0 (recovered) or 1 (recovering after an unclean election).
	LeaderRecoveryState int8
	LeaderEpoch         int32
	PartitionEpoch      int32
	// EligibleLeaderReplicas and LastKnownELR (KIP-966) are kept when records carry them;
	// Sluice's controller does not produce them yet.
	EligibleLeaderReplicas []int32
	LastKnownELR           []int32
}

// Topic is a topic and its partitions (index = partition id). Shared, never modified.
type Topic struct {
	ID         UUID
	Name       string
	Partitions []*Partition
}

// Partition returns partition p, or nil.
func (t *Topic) Partition(p int32) *Partition {
	if p < 0 || int(p) >= len(t.Partitions) {
		return nil
	}
	return t.Partitions[p]
}

// Image is the cluster metadata as of one raft entry. An Image is immutable: applying
// records builds a new Image that shares every unchanged broker, topic, partition and
// config map with its predecessor. Everything returned by its methods is read-only.
type Image struct {
	// Offset is the raft index of the last applied entry, Epoch its raft term (the
	// controller epoch). Both are 0 in the empty image.
	Offset uint64
	Epoch  uint64
	// ClusterID is the cluster id from meta.properties; the log does not carry it.
	ClusterID string
	// NextProducerID is the first producer id the next AllocateProducerIds hands out.
	NextProducerID int64

	features     map[string]int16
	brokers      map[int32]*Broker
	topics       map[UUID]*Topic
	topicsByName map[string]UUID
	configs      map[ConfigResource]map[string]string
}

// Empty returns the image before any record.
func Empty(clusterID string) *Image {
	return &Image{
		ClusterID:    clusterID,
		features:     map[string]int16{},
		brokers:      map[int32]*Broker{},
		topics:       map[UUID]*Topic{},
		topicsByName: map[string]UUID{},
		configs:      map[ConfigResource]map[string]string{},
	}
}

// Feature returns a finalized feature level (0 when unset).
func (im *Image) Feature(name string) int16 { return im.features[name] }

// Features returns a copy of the finalized features.
func (im *Image) Features() map[string]int16 { return maps.Clone(im.features) }

// MetadataVersion returns the metadata.version level, 0 before bootstrap.
func (im *Image) MetadataVersion() int16 { return im.features[MetadataVersionFeature] }

// Broker returns a registered broker.
func (im *Image) Broker(id int32) (*Broker, bool) {
	b, ok := im.brokers[id]
	return b, ok
}

// Brokers returns every registered broker, by id.
func (im *Image) Brokers() []*Broker {
	out := make([]*Broker, 0, len(im.brokers))
	for _, b := range im.brokers {
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b *Broker) int { return int(a.ID) - int(b.ID) })
	return out
}

// AliveBrokers returns the unfenced brokers not in controlled shutdown, by id.
func (im *Image) AliveBrokers() []*Broker {
	out := im.Brokers()
	return slices.DeleteFunc(out, func(b *Broker) bool { return !b.Alive() })
}

// UnfencedBrokers returns the unfenced brokers (including those shutting down), by id.
func (im *Image) UnfencedBrokers() []*Broker {
	out := im.Brokers()
	return slices.DeleteFunc(out, func(b *Broker) bool { return b.Fenced })
}

// TopicByName returns a topic.
func (im *Image) TopicByName(name string) (*Topic, bool) {
	id, ok := im.topicsByName[name]
	if !ok {
		return nil, false
	}
	return im.topics[id], true
}

// TopicByID returns a topic.
func (im *Image) TopicByID(id UUID) (*Topic, bool) {
	t, ok := im.topics[id]
	return t, ok
}

// Topics returns every topic, by name.
func (im *Image) Topics() []*Topic {
	out := make([]*Topic, 0, len(im.topics))
	for _, t := range im.topics {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Topic) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}

// TopicCount returns the number of topics.
func (im *Image) TopicCount() int { return len(im.topics) }

// Partition returns one partition of a topic named name.
func (im *Image) Partition(name string, p int32) (*Partition, bool) {
	t, ok := im.TopicByName(name)
	if !ok {
		return nil, false
	}
	part := t.Partition(p)
	return part, part != nil
}

// Config returns a resource's dynamic configs (a copy; empty when none).
func (im *Image) Config(r ConfigResource) map[string]string {
	return maps.Clone(im.configs[r])
}

// TopicConfig returns a topic's overrides.
func (im *Image) TopicConfig(name string) map[string]string {
	return im.Config(ConfigResource{Type: ResourceTopic, Name: name})
}

// BrokerConfig returns one broker's dynamic configs.
func (im *Image) BrokerConfig(id int32) map[string]string {
	return im.Config(ConfigResource{Type: ResourceBroker, Name: itoa(id)})
}

// ClusterConfig returns the dynamic cluster-wide broker defaults.
func (im *Image) ClusterConfig() map[string]string {
	return im.Config(ConfigResource{Type: ResourceBroker, Name: ""})
}

// ConfigResources returns every resource that has dynamic configs.
func (im *Image) ConfigResources() []ConfigResource {
	out := make([]ConfigResource, 0, len(im.configs))
	for r := range im.configs {
		out = append(out, r)
	}
	slices.SortFunc(out, compareResource)
	return out
}

func compareResource(a, b ConfigResource) int {
	if a.Type != b.Type {
		return int(a.Type) - int(b.Type)
	}
	if a.Name < b.Name {
		return -1
	}
	if a.Name > b.Name {
		return 1
	}
	return 0
}
