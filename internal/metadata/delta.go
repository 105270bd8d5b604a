package metadata

import (
	"maps"
	"slices"
)

// PartitionRef names one partition of a topic by id.
type PartitionRef struct {
	TopicID   UUID
	Partition int32
}

// Delta is what changed between two images: what a broker reacts to (become leader or
// follower, delete a replica, apply a topic config). Every list is sorted.
type Delta struct {
	// CreatedTopics are in next but not in prev.
	CreatedTopics []UUID
	// DeletedTopics are in prev but not in next, as they were in prev (name and partitions,
	// so the broker can find and delete their replicas).
	DeletedTopics []*Topic
	// ChangedPartitions are the partitions of topics in next that are new or differ from
	// prev (every partition of a created topic is listed).
	ChangedPartitions []PartitionRef
	// ChangedConfigs are the resources whose dynamic configs differ.
	ChangedConfigs []ConfigResource
	// ChangedBrokers are the broker ids registered, changed or unregistered.
	ChangedBrokers []int32
	// FeaturesChanged reports a finalized feature change (metadata.version included).
	FeaturesChanged bool
	// ProducerIDsChanged reports a new producer-id block.
	ProducerIDsChanged bool
}

// Empty reports whether nothing changed.
func (d *Delta) Empty() bool {
	return len(d.CreatedTopics) == 0 && len(d.DeletedTopics) == 0 && len(d.ChangedPartitions) == 0 &&
		len(d.ChangedConfigs) == 0 && len(d.ChangedBrokers) == 0 && !d.FeaturesChanged && !d.ProducerIDsChanged
}

// Diff returns the delta from prev to next, which may be any two images (not only
// consecutive ones). Because images share unchanged parts, it compares pointers first and
// costs little more than a walk of the topic map.
func Diff(prev, next *Image) *Delta {
	d := &Delta{}
	for id, nt := range next.topics {
		pt, ok := prev.topics[id]
		if !ok {
			d.CreatedTopics = append(d.CreatedTopics, id)
		}
		if ok && pt == nt {
			continue
		}
		for i, np := range nt.Partitions {
			if pt != nil && i < len(pt.Partitions) && pt.Partitions[i] == np {
				continue
			}
			d.ChangedPartitions = append(d.ChangedPartitions, PartitionRef{TopicID: id, Partition: int32(i)})
		}
	}
	for id, pt := range prev.topics {
		if _, ok := next.topics[id]; !ok {
			d.DeletedTopics = append(d.DeletedTopics, pt)
		}
	}
	for r, nc := range next.configs {
		if pc, ok := prev.configs[r]; !ok || !maps.Equal(pc, nc) {
			d.ChangedConfigs = append(d.ChangedConfigs, r)
		}
	}
	for r := range prev.configs {
		if _, ok := next.configs[r]; !ok {
			d.ChangedConfigs = append(d.ChangedConfigs, r)
		}
	}
	for id, nb := range next.brokers {
		if pb, ok := prev.brokers[id]; !ok || pb != nb {
			d.ChangedBrokers = append(d.ChangedBrokers, id)
		}
	}
	for id := range prev.brokers {
		if _, ok := next.brokers[id]; !ok {
			d.ChangedBrokers = append(d.ChangedBrokers, id)
		}
	}
	d.FeaturesChanged = !maps.Equal(prev.features, next.features)
	d.ProducerIDsChanged = prev.NextProducerID != next.NextProducerID

	slices.SortFunc(d.CreatedTopics, compareUUID)
	slices.SortFunc(d.DeletedTopics, func(a, b *Topic) int { return compareUUID(a.ID, b.ID) })
	slices.SortFunc(d.ChangedPartitions, func(a, b PartitionRef) int {
		if c := compareUUID(a.TopicID, b.TopicID); c != 0 {
			return c
		}
		return int(a.Partition - b.Partition)
	})
	slices.SortFunc(d.ChangedConfigs, compareResource)
	slices.Sort(d.ChangedBrokers)
	return d
}

func compareUUID(a, b UUID) int {
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}
