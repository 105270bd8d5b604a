package group

import (
	"slices"

	"github.com/sluicehq/sluice/internal/protocol/grouprecord"
)

// The KIP-848 records of __consumer_offsets (key versions 3–8), written and replayed as
// Kafka 4.0 does: the group epoch, the subscribed topics' metadata, each member's
// metadata, the target assignment (its epoch and each member's), and each member's current
// assignment. All values are version 0.

func consumerGroupKey(group string) []byte {
	return mustAppend(grouprecord.AppendKey(nil, grouprecord.KeyVersionConsumerGroupMetadataV3, &grouprecord.ConsumerGroupMetadataKey{GroupId: group}))
}

func partitionMetadataKey(group string) []byte {
	return mustAppend(grouprecord.AppendKey(nil, grouprecord.KeyVersionConsumerGroupPartitionMetadataV4, &grouprecord.ConsumerGroupPartitionMetadataKey{GroupId: group}))
}

func memberMetadataKey(group, member string) []byte {
	return mustAppend(grouprecord.AppendKey(nil, grouprecord.KeyVersionConsumerGroupMemberMetadataV5, &grouprecord.ConsumerGroupMemberMetadataKey{GroupId: group, MemberId: member}))
}

func targetMetadataKey(group string) []byte {
	return mustAppend(grouprecord.AppendKey(nil, grouprecord.KeyVersionConsumerGroupTargetAssignmentMetadataV6, &grouprecord.ConsumerGroupTargetAssignmentMetadataKey{GroupId: group}))
}

func targetMemberKey(group, member string) []byte {
	return mustAppend(grouprecord.AppendKey(nil, grouprecord.KeyVersionConsumerGroupTargetAssignmentMemberV7, &grouprecord.ConsumerGroupTargetAssignmentMemberKey{GroupId: group, MemberId: member}))
}

func currentAssignmentKey(group, member string) []byte {
	return mustAppend(grouprecord.AppendKey(nil, grouprecord.KeyVersionConsumerGroupCurrentMemberAssignmentV8, &grouprecord.ConsumerGroupCurrentMemberAssignmentKey{GroupId: group, MemberId: member}))
}

func consumerGroupRecord(g *consumerGroup) rec {
	v := grouprecord.NewConsumerGroupMetadataValue()
	v.Epoch = g.epoch
	return rec{key: consumerGroupKey(g.groupID), value: mustAppend(grouprecord.AppendValue(nil, 0, v))}
}

func partitionMetadataRecord(g *consumerGroup) rec {
	v := grouprecord.NewConsumerGroupPartitionMetadataValue()
	names := make([]string, 0, len(g.subscribed))
	for n := range g.subscribed {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		tm := g.subscribed[n]
		v.Topics = append(v.Topics, grouprecord.ConsumerGroupPartitionMetadataValueTopicMetadata{
			// PartitionMetadata (racks, unused since Kafka 4.0) is left empty.
			TopicId: tm.id, TopicName: n, NumPartitions: tm.partitions,
		})
	}
	if v.Topics == nil {
		v.Topics = []grouprecord.ConsumerGroupPartitionMetadataValueTopicMetadata{}
	}
	return rec{key: partitionMetadataKey(g.groupID), value: mustAppend(grouprecord.AppendValue(nil, 0, v))}
}

func memberMetadataRecord(group string, m *consumerMember) rec {
	v := grouprecord.NewConsumerGroupMemberMetadataValue()
	v.InstanceId = m.instanceID
	v.RackId = m.rackID
	v.ClientId = m.clientID
	v.ClientHost = m.clientHost
	v.SubscribedTopicNames = slices.Clone(m.subscribedTopics)
	if v.SubscribedTopicNames == nil {
		v.SubscribedTopicNames = []string{}
	}
	v.SubscribedTopicRegex = m.subscribedRegex
	v.RebalanceTimeoutMs = m.rebalanceTimeoutMs
	v.ServerAssignor = m.serverAssignor
	return rec{key: memberMetadataKey(group, m.id), value: mustAppend(grouprecord.AppendValue(nil, 0, v))}
}

func targetMetadataRecord(g *consumerGroup) rec {
	v := grouprecord.NewConsumerGroupTargetAssignmentMetadataValue()
	v.AssignmentEpoch = g.assignmentEpoch
	return rec{key: targetMetadataKey(g.groupID), value: mustAppend(grouprecord.AppendValue(nil, 0, v))}
}

func targetMemberRecord(group, member string, a assignment) rec {
	v := grouprecord.NewConsumerGroupTargetAssignmentMemberValue()
	v.TopicPartitions = []grouprecord.ConsumerGroupTargetAssignmentMemberValueTopicPartition{}
	for _, t := range a.sortedTopics() {
		v.TopicPartitions = append(v.TopicPartitions, grouprecord.ConsumerGroupTargetAssignmentMemberValueTopicPartition{TopicId: t, Partitions: slices.Clone(a[t])})
	}
	return rec{key: targetMemberKey(group, member), value: mustAppend(grouprecord.AppendValue(nil, 0, v))}
}

func recordPartitions(a assignment) []grouprecord.ConsumerGroupCurrentMemberAssignmentValueTopicPartitions {
	out := []grouprecord.ConsumerGroupCurrentMemberAssignmentValueTopicPartitions{}
	for _, t := range a.sortedTopics() {
		out = append(out, grouprecord.ConsumerGroupCurrentMemberAssignmentValueTopicPartitions{TopicId: t, Partitions: slices.Clone(a[t])})
	}
	return out
}

func currentAssignmentRecord(group string, m *consumerMember) rec {
	v := grouprecord.NewConsumerGroupCurrentMemberAssignmentValue()
	v.MemberEpoch = m.epoch
	v.PreviousMemberEpoch = m.previousEpoch
	v.State = int8(m.state)
	v.AssignedPartitions = recordPartitions(m.assigned)
	v.PartitionsPendingRevocation = recordPartitions(m.revoking)
	return rec{key: currentAssignmentKey(group, m.id), value: mustAppend(grouprecord.AppendValue(nil, 0, v))}
}

// memberTombstones delete a member, in Kafka's order: current assignment, target
// assignment, metadata.
func memberTombstones(group, member string) []rec {
	return []rec{
		{key: currentAssignmentKey(group, member)},
		{key: targetMemberKey(group, member)},
		{key: memberMetadataKey(group, member)},
	}
}

// Replay.

// consumerGroupFor returns the consumer group a replayed record belongs to, creating it (a
// classic group of the same id is replaced: its tombstone came first in the log).
func (s *shard) consumerGroupFor(id string) *consumerGroup {
	if g, ok := s.groups[id].(*consumerGroup); ok {
		return g
	}
	g := newConsumerGroup(id)
	s.groups[id] = g
	return g
}

func (g *consumerGroup) memberFor(id string) *consumerMember {
	m := g.members[id]
	if m == nil {
		m = &consumerMember{id: id, state: memberStable, assigned: assignment{}, revoking: assignment{}}
		g.members[id] = m
	}
	return m
}

func fromTargetPartitions(tps []grouprecord.ConsumerGroupTargetAssignmentMemberValueTopicPartition) assignment {
	a := assignment{}
	for _, tp := range tps {
		a[tp.TopicId] = append(a[tp.TopicId], tp.Partitions...)
	}
	return a.normalize()
}

func fromCurrentPartitions(tps []grouprecord.ConsumerGroupCurrentMemberAssignmentValueTopicPartitions) assignment {
	a := assignment{}
	for _, tp := range tps {
		a[tp.TopicId] = append(a[tp.TopicId], tp.Partitions...)
	}
	return a.normalize()
}

// replayConsumer applies one KIP-848 record (key k, value v nil for a tombstone).
func (s *shard) replayConsumer(k, v any) {
	switch k := k.(type) {
	case *grouprecord.ConsumerGroupMetadataKey:
		if v == nil {
			if _, ok := s.groups[k.GroupId].(*consumerGroup); ok {
				delete(s.groups, k.GroupId)
			}
			return
		}
		s.consumerGroupFor(k.GroupId).epoch = v.(*grouprecord.ConsumerGroupMetadataValue).Epoch
	case *grouprecord.ConsumerGroupPartitionMetadataKey:
		g := s.consumerGroupFor(k.GroupId)
		g.subscribed = map[string]topicMeta{}
		if v == nil {
			return
		}
		for _, t := range v.(*grouprecord.ConsumerGroupPartitionMetadataValue).Topics {
			g.subscribed[t.TopicName] = topicMeta{id: t.TopicId, partitions: t.NumPartitions}
		}
	case *grouprecord.ConsumerGroupMemberMetadataKey:
		g := s.consumerGroupFor(k.GroupId)
		if v == nil {
			if m := g.members[k.MemberId]; m != nil {
				if m.instanceID != nil && g.static[*m.instanceID] == m.id {
					delete(g.static, *m.instanceID)
				}
				g.setOwned(&consumerMember{id: m.id}, m.owned())
				delete(g.members, k.MemberId)
			}
			return
		}
		val := v.(*grouprecord.ConsumerGroupMemberMetadataValue)
		m := g.memberFor(k.MemberId)
		m.instanceID, m.rackID = val.InstanceId, val.RackId
		m.clientID, m.clientHost = val.ClientId, val.ClientHost
		m.subscribedTopics = slices.Sorted(slices.Values(val.SubscribedTopicNames))
		m.subscribedRegex = val.SubscribedTopicRegex
		m.rebalanceTimeoutMs = val.RebalanceTimeoutMs
		m.serverAssignor = val.ServerAssignor
		m.resolvedIn = nil
		if m.instanceID != nil {
			g.static[*m.instanceID] = m.id
		}
	case *grouprecord.ConsumerGroupTargetAssignmentMetadataKey:
		g := s.consumerGroupFor(k.GroupId)
		if v == nil {
			g.assignmentEpoch = 0
			return
		}
		g.assignmentEpoch = v.(*grouprecord.ConsumerGroupTargetAssignmentMetadataValue).AssignmentEpoch
	case *grouprecord.ConsumerGroupTargetAssignmentMemberKey:
		g := s.consumerGroupFor(k.GroupId)
		if v == nil {
			delete(g.target, k.MemberId)
			return
		}
		g.target[k.MemberId] = fromTargetPartitions(v.(*grouprecord.ConsumerGroupTargetAssignmentMemberValue).TopicPartitions)
	case *grouprecord.ConsumerGroupCurrentMemberAssignmentKey:
		g := s.consumerGroupFor(k.GroupId)
		m := g.members[k.MemberId]
		if v == nil {
			if m != nil {
				before := m.owned()
				m.assigned, m.revoking = assignment{}, assignment{}
				g.setOwned(m, before)
			}
			return
		}
		val := v.(*grouprecord.ConsumerGroupCurrentMemberAssignmentValue)
		m = g.memberFor(k.MemberId)
		before := m.owned()
		m.epoch, m.previousEpoch = val.MemberEpoch, val.PreviousMemberEpoch
		m.state = consumerMemberState(val.State)
		m.assigned = fromCurrentPartitions(val.AssignedPartitions)
		m.revoking = fromCurrentPartitions(val.PartitionsPendingRevocation)
		g.setOwned(m, before)
	}
}
