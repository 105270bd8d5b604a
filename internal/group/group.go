package group

import (
	"github.com/sluicehq/sluice/internal/protocol/message"
)

// Type is a group's type as Kafka names it (ListGroups v5 types filter, GroupType).
type Type int8

const (
	// TypeClassic: a group of the classic protocol (JoinGroup/SyncGroup), including
	// "simple" groups that only commit offsets.
	TypeClassic Type = iota
	// TypeConsumer: a KIP-848 consumer group (ConsumerGroupHeartbeat). Not built yet: the
	// shard's machinery (offsets, records, timers, load) is shared, see doc.go.
	TypeConsumer
)

// String returns Kafka's name ("classic", "consumer").
func (t Type) String() string {
	switch t {
	case TypeClassic:
		return "classic"
	case TypeConsumer:
		return "consumer"
	}
	return "unknown"
}

// parseType is Kafka's GroupType.parse: case-insensitive, unknown names match no group.
func parseType(s string) (Type, bool) {
	switch lower(s) {
	case "classic":
		return TypeClassic, true
	case "consumer":
		return TypeConsumer, true
	}
	return 0, false
}

// group is what a shard's shared machinery (offsets, listing, describing, deletion,
// expiration) needs of a group, whatever its protocol. Each group is owned by its shard's
// loop. A group of one type never turns into another here; KIP-848's online migration
// would replace the object in the shard's map.
type group interface {
	// id is the group id.
	id() string
	// kind is the group's protocol.
	kind() Type
	// stateName is Kafka's state name for ListGroups and DescribeGroups ("Stable", …).
	stateName() string
	// protocolTypeName is the protocol type ListGroups reports ("consumer", "" for a
	// simple group).
	protocolTypeName() string
	// isEmpty reports whether the group has no members: DeleteGroups may delete it, and
	// its offsets and the group itself may expire.
	isEmpty() bool
	// memberCount is the number of members (metrics).
	memberCount() int

	// validateOffsetCommit checks an OffsetCommit's member fields (Kafka's
	// Group.validateOffsetCommit) and returns a *kerr.Error, or nil.
	validateOffsetCommit(memberID string, instanceID *string, generation int32, version int16) error
	// validateOffsetFetch checks an OffsetFetch (v9's member fields for KIP-848 groups).
	validateOffsetFetch(memberID *string, memberEpoch int32) error
	// validateOffsetDelete and validateDelete check OffsetDelete and DeleteGroups.
	validateOffsetDelete() error
	validateDelete() error
	// subscribedTo reports whether a member consumes topic, which protects its offsets
	// from OffsetDelete (GROUP_SUBSCRIBED_TO_TOPIC) and from expiry.
	subscribedTo(topic string) bool
	// offsetExpiryBase is Kafka's offsetExpirationCondition: the time an offset's
	// retention is counted from, or false when the group's offsets must not expire now.
	offsetExpiryBase(v offsetValue) (int64, bool)

	// describe answers DescribeGroups for the group.
	describe() message.DescribeGroupsResponseDescribedGroup
	// tombstones are the records that delete the group (not its offsets).
	tombstones() []rec
	// markDead moves the group to Dead (deleted, or about to be): requests for it are
	// answered as Kafka answers a dead group until it is gone.
	markDead()
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
