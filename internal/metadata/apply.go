package metadata

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sluicehq/sluice/internal/protocol/metarecord"
)

// builder applies records to an image copy-on-write: a map is copied the first time the
// batch changes it, a topic the first time one of its partitions changes, so the new image
// shares everything else with the old one.
type builder struct {
	prev *Image
	next *Image
	// index is the raft index of the entry being applied, used as the epoch of brokers
	// whose RegisterBrokerRecord leaves the epoch to the log (BrokerEpoch -1).
	index uint64

	featuresCopied, brokersCopied, topicsCopied, configsCopied bool
	topicCopied                                                map[UUID]bool
}

func newBuilder(prev *Image, index uint64) *builder {
	next := *prev
	return &builder{prev: prev, next: &next, index: index, topicCopied: map[UUID]bool{}}
}

// Apply returns the image that results from applying records, as one atomic batch, to im
// at raft index/term. On error im is unchanged (and returned unchanged by callers).
func (im *Image) Apply(index, term uint64, records []metarecord.Record) (*Image, error) {
	b := newBuilder(im, index)
	for _, r := range records {
		if err := b.apply(r); err != nil {
			return im, err
		}
	}
	b.next.Offset, b.next.Epoch = index, term
	return b.next, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidRecord}, args...)...)
}

func (b *builder) apply(r metarecord.Record) error {
	switch r := r.(type) {
	case *metarecord.FeatureLevelRecord:
		b.copyFeatures()
		if r.FeatureLevel == 0 && r.Name != MetadataVersionFeature {
			delete(b.next.features, r.Name)
		} else {
			b.next.features[r.Name] = r.FeatureLevel
		}
	case *metarecord.RegisterBrokerRecord:
		return b.registerBroker(r)
	case *metarecord.UnregisterBrokerRecord:
		if _, err := b.brokerAt(r.BrokerId, r.BrokerEpoch); err != nil {
			return err
		}
		b.copyBrokers()
		delete(b.next.brokers, r.BrokerId)
	case *metarecord.FenceBrokerRecord:
		return b.changeBroker(r.Id, r.Epoch, 1, 0)
	case *metarecord.UnfenceBrokerRecord:
		return b.changeBroker(r.Id, r.Epoch, -1, 0)
	case *metarecord.BrokerRegistrationChangeRecord:
		return b.changeBroker(r.BrokerId, r.BrokerEpoch, r.Fenced, r.InControlledShutdown)
	case *metarecord.TopicRecord:
		id := UUID(r.TopicId)
		if _, ok := b.next.topics[id]; ok || id.IsZero() {
			return invalid("topic id %s already exists or is zero", id)
		}
		if _, ok := b.next.topicsByName[r.Name]; ok {
			return invalid("topic %q already exists", r.Name)
		}
		b.copyTopics()
		b.next.topics[id] = &Topic{ID: id, Name: r.Name}
		b.next.topicsByName[r.Name] = id
		b.topicCopied[id] = true
	case *metarecord.PartitionRecord:
		return b.partitionRecord(r)
	case *metarecord.PartitionChangeRecord:
		return b.partitionChange(r)
	case *metarecord.RemoveTopicRecord:
		id := UUID(r.TopicId)
		t, ok := b.next.topics[id]
		if !ok {
			return invalid("remove of unknown topic id %s", id)
		}
		b.copyTopics()
		delete(b.next.topics, id)
		delete(b.next.topicsByName, t.Name)
		// A topic's configs go with it, as in Kafka: a new topic of the same name starts clean.
		res := ConfigResource{Type: ResourceTopic, Name: t.Name}
		if _, ok := b.next.configs[res]; ok {
			b.copyConfigs()
			delete(b.next.configs, res)
		}
	case *metarecord.ConfigRecord:
		b.copyConfigs()
		res := ConfigResource{Type: r.ResourceType, Name: r.ResourceName}
		if r.ResourceType == ResourceTopic {
			if _, ok := b.next.topicsByName[r.ResourceName]; !ok {
				return invalid("config for unknown topic %q", r.ResourceName)
			}
		}
		cur := maps.Clone(b.next.configs[res])
		if cur == nil {
			cur = map[string]string{}
		}
		if r.Value == nil {
			delete(cur, r.Name)
		} else {
			cur[r.Name] = *r.Value
		}
		if len(cur) == 0 {
			delete(b.next.configs, res)
		} else {
			b.next.configs[res] = cur
		}
	case *metarecord.ProducerIdsRecord:
		if r.NextProducerId <= b.next.NextProducerID {
			return invalid("producer id block going back from %d to %d", b.next.NextProducerID, r.NextProducerId)
		}
		b.next.NextProducerID = r.NextProducerId
	case *metarecord.NoOpRecord:
	default:
		// ACLs, SCRAM credentials, client quotas, delegation tokens, controller registrations,
		// ZooKeeper migration state and metadata transaction markers decode (the entry is
		// valid) but are not part of the image yet: the issues that add ACLs, SASL/SCRAM and
		// quotas add them here.
	}
	return nil
}

func (b *builder) copyFeatures() {
	if !b.featuresCopied {
		b.next.features = maps.Clone(b.next.features)
		b.featuresCopied = true
	}
}

func (b *builder) copyBrokers() {
	if !b.brokersCopied {
		b.next.brokers = maps.Clone(b.next.brokers)
		b.brokersCopied = true
	}
}

func (b *builder) copyTopics() {
	if !b.topicsCopied {
		b.next.topics = maps.Clone(b.next.topics)
		b.next.topicsByName = maps.Clone(b.next.topicsByName)
		b.topicsCopied = true
	}
}

func (b *builder) copyConfigs() {
	if !b.configsCopied {
		b.next.configs = maps.Clone(b.next.configs)
		b.configsCopied = true
	}
}

// mutableTopic returns a copy of topic id private to this batch.
func (b *builder) mutableTopic(id UUID) (*Topic, bool) {
	t, ok := b.next.topics[id]
	if !ok {
		return nil, false
	}
	if !b.topicCopied[id] {
		b.copyTopics()
		c := *t
		c.Partitions = slices.Clone(t.Partitions)
		t = &c
		b.next.topics[id] = t
		b.topicCopied[id] = true
	}
	return t, true
}

func (b *builder) registerBroker(r *metarecord.RegisterBrokerRecord) error {
	epoch := r.BrokerEpoch
	if epoch < 0 {
		epoch = int64(b.index)
	}
	nb := &Broker{
		ID:                   r.BrokerId,
		IncarnationID:        UUID(r.IncarnationId),
		Epoch:                epoch,
		Fenced:               r.Fenced,
		InControlledShutdown: r.InControlledShutdown,
	}
	if r.Rack != nil {
		nb.Rack = *r.Rack
	}
	for _, e := range r.EndPoints {
		nb.Endpoints = append(nb.Endpoints, Endpoint{Name: e.Name, Host: e.Host, Port: e.Port, SecurityProtocol: e.SecurityProtocol})
	}
	for _, f := range r.Features {
		nb.Features = append(nb.Features, Feature{Name: f.Name, Min: f.MinSupportedVersion, Max: f.MaxSupportedVersion})
	}
	if old, ok := b.next.brokers[r.BrokerId]; ok && old.Epoch >= epoch {
		return invalid("broker %d registration epoch %d not above %d", r.BrokerId, epoch, old.Epoch)
	}
	b.copyBrokers()
	b.next.brokers[r.BrokerId] = nb
	return nil
}

func (b *builder) brokerAt(id int32, epoch int64) (*Broker, error) {
	br, ok := b.next.brokers[id]
	if !ok {
		return nil, invalid("unknown broker %d", id)
	}
	if br.Epoch != epoch {
		return nil, invalid("broker %d epoch %d, record has %d", id, br.Epoch, epoch)
	}
	return br, nil
}

// changeBroker applies Kafka's fencing change values: fenced 1 fences, -1 unfences, 0 keeps;
// shutdown 1 marks the broker as in controlled shutdown, 0 keeps.
func (b *builder) changeBroker(id int32, epoch int64, fenced, shutdown int8) error {
	br, err := b.brokerAt(id, epoch)
	if err != nil {
		return err
	}
	c := *br
	switch fenced {
	case 1:
		c.Fenced = true
	case -1:
		c.Fenced = false
	case 0:
	default:
		return invalid("broker %d fenced change %d", id, fenced)
	}
	switch shutdown {
	case 1:
		c.InControlledShutdown = true
	case 0:
	default:
		return invalid("broker %d controlled shutdown change %d", id, shutdown)
	}
	b.copyBrokers()
	b.next.brokers[id] = &c
	return nil
}

func (b *builder) partitionRecord(r *metarecord.PartitionRecord) error {
	t, ok := b.mutableTopic(UUID(r.TopicId))
	if !ok {
		return invalid("partition %d of unknown topic %s", r.PartitionId, UUID(r.TopicId))
	}
	if r.PartitionId < 0 || int(r.PartitionId) > len(t.Partitions) {
		return invalid("partition %d of topic %q out of order (%d partitions)", r.PartitionId, t.Name, len(t.Partitions))
	}
	p := &Partition{
		ID:                     r.PartitionId,
		Replicas:               r.Replicas,
		ISR:                    r.Isr,
		RemovingReplicas:       r.RemovingReplicas,
		AddingReplicas:         r.AddingReplicas,
		Leader:                 r.Leader,
		LeaderRecoveryState:    max(r.LeaderRecoveryState, 0),
		LeaderEpoch:            r.LeaderEpoch,
		PartitionEpoch:         r.PartitionEpoch,
		EligibleLeaderReplicas: r.EligibleLeaderReplicas,
		LastKnownELR:           r.LastKnownElr,
	}
	if int(r.PartitionId) == len(t.Partitions) {
		t.Partitions = append(t.Partitions, p)
	} else {
		t.Partitions[r.PartitionId] = p
	}
	return nil
}

// partitionChange merges a PartitionChangeRecord the way Kafka does: absent (null or
// default) fields keep their value, the partition epoch always advances, and the leader
// epoch advances whenever the record names a leader, even the same one.
func (b *builder) partitionChange(r *metarecord.PartitionChangeRecord) error {
	t, ok := b.mutableTopic(UUID(r.TopicId))
	if !ok {
		return invalid("change of partition %d of unknown topic %s", r.PartitionId, UUID(r.TopicId))
	}
	old := t.Partition(r.PartitionId)
	if old == nil {
		return invalid("change of unknown partition %d of topic %q", r.PartitionId, t.Name)
	}
	p := *old
	if r.Isr != nil {
		p.ISR = r.Isr
	}
	if r.Replicas != nil {
		p.Replicas = r.Replicas
	}
	if r.RemovingReplicas != nil {
		p.RemovingReplicas = r.RemovingReplicas
	}
	if r.AddingReplicas != nil {
		p.AddingReplicas = r.AddingReplicas
	}
	if r.EligibleLeaderReplicas != nil {
		p.EligibleLeaderReplicas = r.EligibleLeaderReplicas
	}
	if r.LastKnownElr != nil {
		p.LastKnownELR = r.LastKnownElr
	}
	if r.LeaderRecoveryState >= 0 {
		p.LeaderRecoveryState = r.LeaderRecoveryState
	}
	if r.Leader != -2 {
		p.Leader = r.Leader
		p.LeaderEpoch++
	}
	p.PartitionEpoch++
	t.Partitions[r.PartitionId] = &p
	return nil
}
