package group

import (
	"github.com/sluicehq/sluice/internal/protocol/grouprecord"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// The record versions written, as Kafka 3.x/4.0 writes them: keys are typed by their
// version prefix (OffsetCommitKey 1, GroupMetadataKey 2); OffsetCommitValue 3, or 1 when the
// commit carries an explicit expire timestamp (OffsetCommit v2–v4 retention_time_ms);
// GroupMetadataValue 3.
const (
	offsetCommitValueVersion       int16 = 3
	offsetCommitValueExpireVersion int16 = 1
	groupMetadataValueVersion      int16 = 3
)

// rec is one record of __consumer_offsets: a version-prefixed key and value, the value nil
// for a tombstone.
type rec struct {
	key, value []byte
}

func (r rec) size() int { return len(r.key) + len(r.value) + 32 } // + record framing, roughly

// mustAppend encodes a message we built ourselves: an error means a bug (a field the
// version cannot carry), never bad input.
func mustAppend(b []byte, err error) []byte {
	if err != nil {
		panic("group: encoding a __consumer_offsets record: " + err.Error())
	}
	return b
}

func offsetCommitKey(group, topic string, partition int32) []byte {
	k := grouprecord.OffsetCommitKey{Group: group, Topic: topic, Partition: partition}
	return mustAppend(grouprecord.AppendKey(nil, grouprecord.KeyVersionOffsetCommitV1, &k))
}

func offsetCommitRecord(group, topic string, partition int32, v offsetValue) rec {
	val := grouprecord.NewOffsetCommitValue()
	val.Offset = v.offset
	val.LeaderEpoch = v.leaderEpoch
	val.Metadata = v.metadata
	val.CommitTimestamp = v.commitTimestampMs
	version := offsetCommitValueVersion
	if v.expireTimestampMs >= 0 {
		version = offsetCommitValueExpireVersion
		val.ExpireTimestamp = v.expireTimestampMs
	}
	return rec{
		key:   offsetCommitKey(group, topic, partition),
		value: mustAppend(grouprecord.AppendValue(nil, version, val)),
	}
}

func offsetTombstone(group, topic string, partition int32) rec {
	return rec{key: offsetCommitKey(group, topic, partition)}
}

func groupMetadataKey(group string) []byte {
	k := grouprecord.GroupMetadataKey{Group: group}
	return mustAppend(grouprecord.AppendKey(nil, grouprecord.KeyVersionGroupMetadataV2, &k))
}

func groupTombstone(group string) rec { return rec{key: groupMetadataKey(group)} }

// classicGroupRecord is the GroupMetadata record of a classic group with the given
// assignment per member (Kafka's newGroupMetadataRecord): written when a rebalance
// completes (the leader's SyncGroup), when the group becomes empty, and when a static member
// is replaced without a rebalance.
func classicGroupRecord(g *classicGroup, assignment map[string][]byte) rec {
	val := grouprecord.NewGroupMetadataValue()
	val.ProtocolType = g.protocolType
	val.Generation = g.generation
	val.Protocol = nil
	if g.hasProtocolName {
		val.Protocol = wire.Ptr(g.protocolName)
	}
	val.Leader = nil
	if g.leaderID != "" {
		val.Leader = wire.Ptr(g.leaderID)
	}
	val.CurrentStateTimestamp = g.stateTimestampMs
	for _, id := range g.sortedMemberIDs() {
		m := g.members[id]
		mm := grouprecord.GroupMetadataValueMemberMetadata{
			MemberId:         m.id,
			ClientId:         m.clientID,
			ClientHost:       m.clientHost,
			RebalanceTimeout: m.rebalanceTimeoutMs,
			SessionTimeout:   m.sessionTimeoutMs,
			Subscription:     m.metadata(g.protocolName),
			Assignment:       assignment[m.id],
		}
		if mm.Subscription == nil {
			mm.Subscription = []byte{}
		}
		if mm.Assignment == nil {
			mm.Assignment = []byte{}
		}
		if m.instanceID != nil {
			mm.GroupInstanceId = wire.Ptr(*m.instanceID)
		}
		val.Members = append(val.Members, mm)
	}
	return rec{
		key:   groupMetadataKey(g.groupID),
		value: mustAppend(grouprecord.AppendValue(nil, groupMetadataValueVersion, val)),
	}
}
