package group

import (
	"slices"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// This file is the KIP-848 consumer group (Kafka's ConsumerGroup and ConsumerGroupMember):
// its state, members and assignments. The operations on it (heartbeat, leave, expiry,
// target assignment, reconciliation) are in consumer_ops.go; its records in
// consumer_records.go.

// Member epochs with a meaning of their own in ConsumerGroupHeartbeat.
const (
	joinEpoch        int32 = 0  // a member joining (or rejoining after losing its partitions)
	leaveEpoch       int32 = -1 // a member leaving for good
	staticLeaveEpoch int32 = -2 // a static member leaving for now: it keeps its assignment
)

// consumerMemberState is a member's reconciliation state, with Kafka's MemberState values as
// persisted in ConsumerGroupCurrentMemberAssignmentValue.State.
type consumerMemberState int8

const (
	// memberUnrevoked: the member must revoke partitions before it gets any new ones.
	memberUnrevoked consumerMemberState = 1
	// memberUnreleased: the member waits for partitions other members still own.
	memberUnreleased consumerMemberState = 2
	// memberStable: the member has its whole target assignment.
	memberStable consumerMemberState = 3
)

// assignment is a set of partitions by topic id, each list sorted and without duplicates;
// a topic with no partitions is absent.
type assignment map[wire.UUID][]int32

func (a assignment) clone() assignment {
	out := make(assignment, len(a))
	for t, ps := range a {
		out[t] = slices.Clone(ps)
	}
	return out
}

func (a assignment) count() int {
	n := 0
	for _, ps := range a {
		n += len(ps)
	}
	return n
}

func (a assignment) has(t wire.UUID, p int32) bool {
	_, ok := slices.BinarySearch(a[t], p)
	return ok
}

func (a assignment) equal(b assignment) bool {
	if len(a) != len(b) {
		return false
	}
	for t, ps := range a {
		if !slices.Equal(ps, b[t]) {
			return false
		}
	}
	return true
}

// subsetOf reports whether every partition of a is in b.
func (a assignment) subsetOf(b assignment) bool {
	for t, ps := range a {
		for _, p := range ps {
			if !b.has(t, p) {
				return false
			}
		}
	}
	return true
}

// intersects reports whether a and b share a partition.
func (a assignment) intersects(b assignment) bool {
	for t, ps := range a {
		for _, p := range ps {
			if b.has(t, p) {
				return true
			}
		}
	}
	return false
}

// add puts p into topic t's sorted list.
func (a assignment) add(t wire.UUID, p int32) {
	ps := a[t]
	i, ok := slices.BinarySearch(ps, p)
	if !ok {
		a[t] = slices.Insert(ps, i, p)
	}
}

// sortedTopics returns a's topic ids in byte order, for deterministic output.
func (a assignment) sortedTopics() []wire.UUID {
	ts := make([]wire.UUID, 0, len(a))
	for t := range a {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(x, y wire.UUID) int { return compareUUID(x, y) })
	return ts
}

func compareUUID(x, y wire.UUID) int {
	for i := range x {
		if x[i] != y[i] {
			return int(x[i]) - int(y[i])
		}
	}
	return 0
}

// normalize sorts and dedups every list and drops empty topics (input from a request).
func (a assignment) normalize() assignment {
	for t, ps := range a {
		slices.Sort(ps)
		ps = slices.Compact(ps)
		if len(ps) == 0 {
			delete(a, t)
			continue
		}
		a[t] = ps
	}
	return a
}

// consumerMember is a member of a consumer group (Kafka's ConsumerGroupMember).
type consumerMember struct {
	id                 string
	instanceID         *string
	rackID             *string
	clientID           string
	clientHost         string
	subscribedTopics   []string // sorted
	subscribedRegex    *string
	rebalanceTimeoutMs int32
	serverAssignor     *string

	epoch         int32
	previousEpoch int32
	state         consumerMemberState
	assigned      assignment // partitions the member owns (may consume)
	revoking      assignment // partitions it owns and must give up

	// resolved caches the topics the subscription resolves to in the image resolvedIn
	// (memberTopics): a regex is matched against every topic once per image, not per
	// heartbeat.
	resolved   []string
	resolvedIn *topicImage
}

// owned returns every partition the member may still hold: assigned and revoking.
func (m *consumerMember) owned() assignment {
	out := m.assigned.clone()
	for t, ps := range m.revoking {
		for _, p := range ps {
			out.add(t, p)
		}
	}
	return out
}

// topicMeta is a subscribed topic as the group last saw it in the metadata (the
// ConsumerGroupPartitionMetadata record).
type topicMeta struct {
	id         wire.UUID
	partitions int32
}

// consumerState is a consumer group's state, Kafka's ConsumerGroupState, derived from its
// members and epochs.
type consumerState int8

const (
	consumerEmpty consumerState = iota
	consumerAssigning
	consumerReconciling
	consumerStable
	consumerDead
)

func (s consumerState) String() string {
	switch s {
	case consumerEmpty:
		return "Empty"
	case consumerAssigning:
		return "Assigning"
	case consumerReconciling:
		return "Reconciling"
	case consumerStable:
		return "Stable"
	}
	return "Dead"
}

// consumerGroup is one KIP-848 consumer group, owned by its shard's loop.
//
// Invariant: a partition is owned (assigned or revoking) by at most one member; owners
// records who, and a partition is handed to a new member only once it is absent there.
type consumerGroup struct {
	groupID         string
	epoch           int32 // group epoch: bumped when members or subscriptions change
	assignmentEpoch int32 // epoch of the target assignment
	dead            bool

	members map[string]*consumerMember
	static  map[string]string     // instance id -> member id
	target  map[string]assignment // member id -> target assignment
	// subscribed is the metadata of the topics the group subscribes to (by name), as of
	// the last epoch bump.
	subscribed map[string]topicMeta
	// owners maps each owned partition to its owner's member id.
	owners map[wire.UUID]map[int32]string
}

func newConsumerGroup(id string) *consumerGroup {
	return &consumerGroup{
		groupID:    id,
		members:    map[string]*consumerMember{},
		static:     map[string]string{},
		target:     map[string]assignment{},
		subscribed: map[string]topicMeta{},
		owners:     map[wire.UUID]map[int32]string{},
	}
}

func (g *consumerGroup) state() consumerState {
	switch {
	case g.dead:
		return consumerDead
	case len(g.members) == 0:
		return consumerEmpty
	case g.epoch > g.assignmentEpoch:
		return consumerAssigning
	}
	for _, m := range g.members {
		if m.state != memberStable || m.epoch != g.assignmentEpoch {
			return consumerReconciling
		}
	}
	return consumerStable
}

// owner returns the member owning partition p of topic t, or "".
func (g *consumerGroup) owner(t wire.UUID, p int32) string { return g.owners[t][p] }

// setOwned replaces m's owned partitions in the owners map with what it owns now.
func (g *consumerGroup) setOwned(m *consumerMember, before assignment) {
	for t, ps := range before {
		for _, p := range ps {
			if g.owners[t][p] == m.id {
				delete(g.owners[t], p)
			}
		}
		if len(g.owners[t]) == 0 {
			delete(g.owners, t)
		}
	}
	for t, ps := range m.owned() {
		if g.owners[t] == nil {
			g.owners[t] = map[int32]string{}
		}
		for _, p := range ps {
			g.owners[t][p] = m.id
		}
	}
}

// sortedMemberIDs returns the member ids in order, for deterministic assignment and output.
func (g *consumerGroup) sortedMemberIDs() []string {
	ids := make([]string, 0, len(g.members))
	for id := range g.members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// The group interface.

func (g *consumerGroup) id() string               { return g.groupID }
func (g *consumerGroup) kind() Type               { return TypeConsumer }
func (g *consumerGroup) stateName() string        { return g.state().String() }
func (g *consumerGroup) protocolTypeName() string { return consumerProtocolType }
func (g *consumerGroup) isEmpty() bool            { return len(g.members) == 0 }
func (g *consumerGroup) memberCount() int         { return len(g.members) }
func (g *consumerGroup) markDead()                { g.dead = true }

// validateOffsetCommit is Kafka's ConsumerGroup.validateOffsetCommit: without a member
// epoch (the admin client, manual assignment) only while the group is empty; otherwise
// the member must exist, commit with v9+ and with its current epoch (see also
// staleCommitAccepted).
func (g *consumerGroup) validateOffsetCommit(memberID string, _ *string, epoch int32, version int16) error {
	if g.dead {
		return kerr.CoordinatorNotAvailable
	}
	if epoch < 0 && len(g.members) == 0 {
		return nil
	}
	m := g.members[memberID]
	if m == nil {
		return kerr.UnknownMemberID
	}
	if version < 9 {
		return kerr.UnsupportedVersion
	}
	if epoch != m.epoch {
		return kerr.StaleMemberEpoch
	}
	return nil
}

// staleCommitAccepted relaxes STALE_MEMBER_EPOCH as Kafka 4.3 does: a commit sent with the
// member's previous epoch, just before its answer with the new epoch arrived, is accepted
// when the member still owns every partition it commits (its new epoch only added
// partitions), so no other member's progress can be overwritten.
func (g *consumerGroup) staleCommitAccepted(memberID string, epoch int32, topics []commitTopic) bool {
	m := g.members[memberID]
	if m == nil || epoch <= 0 || epoch != m.previousEpoch {
		return false
	}
	for _, t := range topics {
		tm, ok := g.subscribed[t.name]
		if !ok {
			return false
		}
		for _, p := range t.partitions {
			if !m.assigned.has(tm.id, p.partition) {
				return false
			}
		}
	}
	return true
}

// validateOffsetFetch is Kafka's ConsumerGroup.validateOffsetFetch.
func (g *consumerGroup) validateOffsetFetch(memberID *string, epoch int32) error {
	if g.dead {
		return kerr.GroupIDNotFound
	}
	if memberID == nil && epoch < 0 {
		return nil
	}
	id := ""
	if memberID != nil {
		id = *memberID
	}
	m := g.members[id]
	if m == nil {
		return kerr.UnknownMemberID
	}
	if epoch != m.epoch {
		return kerr.StaleMemberEpoch
	}
	return nil
}

func (g *consumerGroup) validateOffsetDelete() error {
	if g.dead {
		return kerr.GroupIDNotFound
	}
	return nil // topics a member subscribes to are refused per topic
}

func (g *consumerGroup) validateDelete() error {
	switch {
	case g.dead:
		return kerr.GroupIDNotFound
	case len(g.members) > 0:
		return kerr.NonEmptyGroup
	}
	return nil
}

func (g *consumerGroup) subscribedTo(topic string) bool {
	_, ok := g.subscribed[topic]
	return ok
}

// offsetExpiryBase: a consumer group's offsets of topics it does not subscribe to expire
// counted from their commit (Kafka's ConsumerGroup.offsetExpirationCondition).
func (g *consumerGroup) offsetExpiryBase(v offsetValue) (int64, bool) {
	return v.commitTimestampMs, true
}

// describe answers the classic DescribeGroups for a consumer group as Kafka does when
// migration is off: the group is not a classic group, so it is reported Dead with no
// members and no error (DescribeGroups up to v5 has no way to say more).
func (g *consumerGroup) describe() message.DescribeGroupsResponseDescribedGroup {
	var d message.DescribeGroupsResponseDescribedGroup
	d.Default()
	d.GroupId = g.groupID
	d.GroupState = consumerDead.String()
	d.Members = []message.DescribeGroupsResponseDescribedGroupMember{}
	return d
}

func (g *consumerGroup) tombstones() []rec {
	var recs []rec
	for _, id := range g.sortedMemberIDs() {
		recs = append(recs, memberTombstones(g.groupID, id)...)
	}
	return append(recs,
		rec{key: targetMetadataKey(g.groupID)},
		rec{key: partitionMetadataKey(g.groupID)},
		rec{key: consumerGroupKey(g.groupID)},
	)
}
