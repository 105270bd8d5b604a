package group

import (
	"bytes"
	"encoding/binary"
	"slices"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

// classicState is a classic group's state, Kafka's ClassicGroupState.
type classicState int8

const (
	stateEmpty classicState = iota
	statePreparingRebalance
	stateCompletingRebalance
	stateStable
	stateDead
)

func (s classicState) String() string {
	switch s {
	case stateEmpty:
		return "Empty"
	case statePreparingRebalance:
		return "PreparingRebalance"
	case stateCompletingRebalance:
		return "CompletingRebalance"
	case stateStable:
		return "Stable"
	}
	return "Dead"
}

// validPrevious is Kafka's table of legal transitions: the states a group may leave for s.
func (s classicState) validPrevious(from classicState) bool {
	switch s {
	case stateEmpty:
		return from == statePreparingRebalance
	case statePreparingRebalance:
		return from == stateStable || from == stateCompletingRebalance || from == stateEmpty
	case stateCompletingRebalance:
		return from == statePreparingRebalance
	case stateStable:
		return from == stateCompletingRebalance
	}
	return true // Dead from anywhere
}

// consumerProtocolType is the protocol type of Kafka consumers (and franz-go, librdkafka).
const consumerProtocolType = "consumer"

// protocol is one (name, metadata) a member supports, in its order of preference.
type protocol struct {
	name     string
	metadata []byte
}

// classicMember is a member of a classic group (Kafka's ClassicGroupMember).
type classicMember struct {
	id                 string
	instanceID         *string // static membership (KIP-345); nil for dynamic members
	clientID           string
	clientHost         string
	rebalanceTimeoutMs int32
	sessionTimeoutMs   int32
	protocolType       string
	protocols          []protocol
	assignment         []byte

	// joinReply is set while the member's JoinGroup waits for the join phase to end; the
	// reply function shapes the response for the request's version. syncReply likewise for
	// SyncGroup.
	joinReply func(message.JoinGroupResponse)
	syncReply func(message.SyncGroupResponse)

	// isNew: joined in the current join phase and not yet given a generation. A new member
	// whose JoinGroup stays parked past the new-member timeout is removed.
	isNew bool
}

func (m *classicMember) awaitingJoin() bool { return m.joinReply != nil }
func (m *classicMember) awaitingSync() bool { return m.syncReply != nil }

// metadata returns the member's metadata for protocol name (nil when it does not support it).
func (m *classicMember) metadata(name string) []byte {
	for _, p := range m.protocols {
		if p.name == name {
			return p.metadata
		}
	}
	return nil
}

// matches reports whether protocols equal the member's (names, metadata and order), which
// decides whether a rejoin changes anything.
func (m *classicMember) matches(protocols []protocol) bool {
	return slices.EqualFunc(m.protocols, protocols, func(a, b protocol) bool {
		return a.name == b.name && bytes.Equal(a.metadata, b.metadata)
	})
}

// vote is the member's first preferred protocol among candidates.
func (m *classicMember) vote(candidates map[string]bool) string {
	for _, p := range m.protocols {
		if candidates[p.name] {
			return p.name
		}
	}
	return ""
}

// hasSatisfiedHeartbeat: whether a session expiry is to be ignored. Members waiting in a
// JoinGroup or SyncGroup are kept alive by the request itself, except new members, whose
// first JoinGroup is bounded by the new-member timeout instead.
func (m *classicMember) hasSatisfiedHeartbeat() bool {
	if m.isNew {
		return false
	}
	return m.awaitingJoin() || m.awaitingSync()
}

func (m *classicMember) static() bool { return m.instanceID != nil }

// classicGroup is one classic group (Kafka's ClassicGroup), owned by its shard's loop.
type classicGroup struct {
	groupID          string
	state            classicState
	prevState        classicState
	stateTimestampMs int64 // when the group entered its state; -1 unknown (old records)
	generation       int32
	protocolType     string // "" for a simple group (no members ever joined)
	protocolName     string
	hasProtocolName  bool
	leaderID         string // "" when none

	members        map[string]*classicMember
	staticMembers  map[string]string   // group.instance.id -> member id
	pendingJoin    map[string]struct{} // ids handed out with MEMBER_ID_REQUIRED
	pendingSync    map[string]struct{} // members that got a JoinGroup answer but have not synced
	protocolCounts map[string]int      // protocol name -> members supporting it
	numAwaiting    int                 // members with a parked JoinGroup
	newMemberAdded bool                // a member joined during the initial delay

	// subscribedTopics is the union of the members' subscriptions when the protocol type is
	// "consumer" and every member's metadata parsed; subscriptionKnown says whether it is.
	subscribedTopics  map[string]bool
	subscriptionKnown bool
}

func newClassicGroup(id string, now time.Time) *classicGroup {
	return &classicGroup{
		groupID:          id,
		state:            stateEmpty,
		prevState:        stateDead,
		stateTimestampMs: now.UnixMilli(),
		members:          map[string]*classicMember{},
		staticMembers:    map[string]string{},
		pendingJoin:      map[string]struct{}{},
		pendingSync:      map[string]struct{}{},
		protocolCounts:   map[string]int{},
	}
}

func (g *classicGroup) is(s classicState) bool { return g.state == s }

func (g *classicGroup) transition(s classicState, now time.Time) {
	if !s.validPrevious(g.state) {
		// A bug in the state machine: Kafka throws IllegalStateException. Staying in the
		// current state is safer for the members than crashing the shard.
		panic("group: illegal classic group transition from " + g.state.String() + " to " + s.String())
	}
	g.prevState = g.state
	g.state = s
	g.stateTimestampMs = now.UnixMilli()
}

func (g *classicGroup) canRebalance() bool { return statePreparingRebalance.validPrevious(g.state) }

func (g *classicGroup) isLeader(memberID string) bool {
	return g.leaderID != "" && g.leaderID == memberID
}

func (g *classicGroup) sortedMemberIDs() []string {
	ids := make([]string, 0, len(g.members))
	for id := range g.members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// add adds a member (Kafka's ClassicGroup.add); reply, when set, parks its JoinGroup.
func (g *classicGroup) add(m *classicMember, reply func(message.JoinGroupResponse)) {
	if m.instanceID != nil {
		g.staticMembers[*m.instanceID] = m.id
	}
	if len(g.members) == 0 {
		g.protocolType = m.protocolType
	}
	if g.leaderID == "" {
		g.leaderID = m.id
	}
	g.members[m.id] = m
	for _, p := range m.protocols {
		g.protocolCounts[p.name]++
	}
	m.joinReply = reply
	if reply != nil {
		g.numAwaiting++
	}
	delete(g.pendingJoin, m.id)
}

// remove removes a member (Kafka's ClassicGroup.remove), electing another leader if it led.
func (g *classicGroup) remove(memberID string) {
	if m, ok := g.members[memberID]; ok {
		delete(g.members, memberID)
		for _, p := range m.protocols {
			g.protocolCounts[p.name]--
			if g.protocolCounts[p.name] <= 0 {
				delete(g.protocolCounts, p.name)
			}
		}
		if m.awaitingJoin() {
			g.numAwaiting--
		}
		if m.instanceID != nil && g.staticMembers[*m.instanceID] == memberID {
			delete(g.staticMembers, *m.instanceID)
		}
	}
	if g.isLeader(memberID) {
		g.leaderID = ""
		if ids := g.sortedMemberIDs(); len(ids) > 0 {
			g.leaderID = ids[0]
		}
	}
	delete(g.pendingJoin, memberID)
	delete(g.pendingSync, memberID)
}

// updateMember replaces a member's protocols and timeouts and parks (or unparks) its join.
func (g *classicGroup) updateMember(m *classicMember, protocols []protocol, rebalanceTimeoutMs, sessionTimeoutMs int32, reply func(message.JoinGroupResponse)) {
	for _, p := range m.protocols {
		g.protocolCounts[p.name]--
		if g.protocolCounts[p.name] <= 0 {
			delete(g.protocolCounts, p.name)
		}
	}
	m.protocols = protocols
	for _, p := range m.protocols {
		g.protocolCounts[p.name]++
	}
	m.rebalanceTimeoutMs = rebalanceTimeoutMs
	m.sessionTimeoutMs = sessionTimeoutMs
	switch {
	case reply != nil && !m.awaitingJoin():
		g.numAwaiting++
	case reply == nil && m.awaitingJoin():
		g.numAwaiting--
	}
	m.joinReply = reply
}

// completeJoin answers a member's parked JoinGroup, if any.
func (g *classicGroup) completeJoin(m *classicMember, resp message.JoinGroupResponse) bool {
	if m.joinReply == nil {
		return false
	}
	reply := m.joinReply
	m.joinReply = nil
	g.numAwaiting--
	reply(resp)
	return true
}

// completeSync answers a member's parked SyncGroup, if any.
func (g *classicGroup) completeSync(m *classicMember, resp message.SyncGroupResponse) bool {
	if m.syncReply == nil {
		return false
	}
	reply := m.syncReply
	m.syncReply = nil
	reply(resp)
	return true
}

// replaceStaticMember gives a static member a new member id (a restarted instance),
// fencing whatever the old id still waits for (Kafka's replaceStaticMember).
func (g *classicGroup) replaceStaticMember(instanceID, oldID, newID string) *classicMember {
	old := g.members[oldID]
	delete(g.members, oldID)
	if old.awaitingJoin() {
		g.completeJoin(old, message.JoinGroupResponse{
			ErrorCode: kerr.FencedInstanceID.Code, MemberId: oldID, Members: []message.JoinGroupResponseMember{},
		})
	}
	g.completeSync(old, message.SyncGroupResponse{ErrorCode: kerr.FencedInstanceID.Code, Assignment: []byte{}})
	m := &classicMember{
		id:                 newID,
		instanceID:         old.instanceID,
		clientID:           old.clientID,
		clientHost:         old.clientHost,
		rebalanceTimeoutMs: old.rebalanceTimeoutMs,
		sessionTimeoutMs:   old.sessionTimeoutMs,
		protocolType:       old.protocolType,
		protocols:          old.protocols,
		assignment:         old.assignment,
	}
	g.members[newID] = m
	if g.isLeader(oldID) {
		g.leaderID = newID
	}
	g.staticMembers[instanceID] = newID
	if _, ok := g.pendingSync[oldID]; ok {
		delete(g.pendingSync, oldID)
		g.pendingSync[newID] = struct{}{}
	}
	return m
}

// validateMember is Kafka's ClassicGroup.validateMember.
func (g *classicGroup) validateMember(memberID string, instanceID *string) error {
	if instanceID != nil {
		existing, ok := g.staticMembers[*instanceID]
		if !ok {
			return kerr.UnknownMemberID
		}
		if existing != memberID {
			return kerr.FencedInstanceID
		}
	}
	if _, ok := g.members[memberID]; !ok {
		return kerr.UnknownMemberID
	}
	return nil
}

func (g *classicGroup) hasAllMembersJoined() bool {
	return len(g.members) == g.numAwaiting && len(g.pendingJoin) == 0
}

// rebalanceTimeout is the largest rebalance timeout of the members.
func (g *classicGroup) rebalanceTimeout() time.Duration {
	var ms int32
	for _, m := range g.members {
		ms = max(ms, m.rebalanceTimeoutMs)
	}
	return time.Duration(ms) * time.Millisecond
}

// supportsProtocols is Kafka's supportsProtocols: a member may join an empty group with any
// non-empty protocol type and protocols, and a non-empty group only with its protocol type
// and at least one protocol every member supports.
func (g *classicGroup) supportsProtocols(protocolType string, protocols []protocol) bool {
	if g.is(stateEmpty) {
		return protocolType != "" && len(protocols) > 0
	}
	if g.protocolType != protocolType {
		return false
	}
	for _, p := range protocols {
		if g.protocolCounts[p.name] == len(g.members) {
			return true
		}
	}
	return false
}

// selectProtocol picks the protocol of the next generation: among those every member
// supports, the one most members prefer (ties go to the name first in sort order, so the
// choice is deterministic; Kafka leaves ties to hash order).
func (g *classicGroup) selectProtocol() string {
	candidates := map[string]bool{}
	for name, n := range g.protocolCounts {
		if n == len(g.members) {
			candidates[name] = true
		}
	}
	votes := map[string]int{}
	for _, m := range g.members {
		if v := m.vote(candidates); v != "" {
			votes[v]++
		}
	}
	best, bestVotes := "", -1
	for name, n := range votes {
		if n > bestVotes || n == bestVotes && name < best {
			best, bestVotes = name, n
		}
	}
	return best
}

// maybeElectNewJoinedLeader is Kafka's: when the leader did not rejoin, any member that did
// becomes leader; false when the group has no leader or nobody rejoined.
func (g *classicGroup) maybeElectNewJoinedLeader() bool {
	if g.leaderID == "" {
		return false
	}
	if leader, ok := g.members[g.leaderID]; ok && leader.awaitingJoin() {
		return true
	}
	for _, id := range g.sortedMemberIDs() {
		if g.members[id].awaitingJoin() {
			g.leaderID = id
			return true
		}
	}
	return false
}

// initNextGeneration starts the next generation (Kafka's initNextGeneration).
func (g *classicGroup) initNextGeneration(now time.Time) {
	g.generation++
	if len(g.members) > 0 {
		g.protocolName, g.hasProtocolName = g.selectProtocol(), true
		g.computeSubscribedTopics()
		g.transition(stateCompletingRebalance, now)
	} else {
		g.protocolName, g.hasProtocolName = "", false
		g.computeSubscribedTopics()
		g.transition(stateEmpty, now)
	}
	clear(g.pendingSync)
}

// currentMembers is what the leader's JoinGroup answer lists: every member with its
// metadata for the selected protocol.
func (g *classicGroup) currentMembers() []message.JoinGroupResponseMember {
	out := make([]message.JoinGroupResponseMember, 0, len(g.members))
	for _, id := range g.sortedMemberIDs() {
		m := g.members[id]
		out = append(out, message.JoinGroupResponseMember{
			MemberId: m.id, GroupInstanceId: m.instanceID, Metadata: m.metadata(g.protocolName),
		})
	}
	return out
}

// joinResponse is the answer a member gets when the join phase ends or it rejoins without
// a change.
func (g *classicGroup) joinResponse(memberID string, withMembers bool) message.JoinGroupResponse {
	resp := message.JoinGroupResponse{
		GenerationId: g.generation,
		MemberId:     memberID,
		Leader:       g.leaderID,
		Members:      []message.JoinGroupResponseMember{},
	}
	if g.protocolType != "" {
		resp.ProtocolType = ptr(g.protocolType)
	}
	if g.hasProtocolName {
		resp.ProtocolName = ptr(g.protocolName)
	}
	if withMembers {
		resp.Members = g.currentMembers()
	}
	return resp
}

// computeSubscribedTopics parses the members' consumer subscriptions (the version-0 prefix
// every ConsumerProtocolSubscription version shares) when the protocol type is "consumer".
func (g *classicGroup) computeSubscribedTopics() {
	g.subscribedTopics, g.subscriptionKnown = nil, false
	if g.protocolType != consumerProtocolType {
		return
	}
	if len(g.members) == 0 {
		g.subscribedTopics, g.subscriptionKnown = map[string]bool{}, true
		return
	}
	if !g.hasProtocolName {
		return
	}
	topics := map[string]bool{}
	for _, m := range g.members {
		ts, ok := parseSubscriptionTopics(m.metadata(g.protocolName))
		if !ok {
			return
		}
		for _, t := range ts {
			topics[t] = true
		}
	}
	g.subscribedTopics, g.subscriptionKnown = topics, true
}

// parseSubscriptionTopics reads the topics of a ConsumerProtocolSubscription: int16
// version, then an int32-counted array of int16-length strings. Every length is checked
// against what remains (the bytes come from clients).
func parseSubscriptionTopics(b []byte) ([]string, bool) {
	if len(b) < 6 {
		return nil, false
	}
	if int16(binary.BigEndian.Uint16(b)) < 0 {
		return nil, false
	}
	n := int32(binary.BigEndian.Uint32(b[2:]))
	b = b[6:]
	if n < 0 || int(n) > len(b)/2 {
		return nil, false
	}
	topics := make([]string, 0, n)
	for range n {
		if len(b) < 2 {
			return nil, false
		}
		l := int16(binary.BigEndian.Uint16(b))
		b = b[2:]
		if l < 0 || int(l) > len(b) {
			return nil, false
		}
		topics = append(topics, string(b[:l]))
		b = b[l:]
	}
	return topics, true
}

// The group interface.

func (g *classicGroup) id() string               { return g.groupID }
func (g *classicGroup) kind() Type               { return TypeClassic }
func (g *classicGroup) stateName() string        { return g.state.String() }
func (g *classicGroup) protocolTypeName() string { return g.protocolType }
func (g *classicGroup) isEmpty() bool            { return g.is(stateEmpty) }
func (g *classicGroup) memberCount() int         { return len(g.members) }
func (g *classicGroup) markDead()                { g.prevState, g.state = g.state, stateDead }
func (g *classicGroup) tombstones() []rec        { return []rec{groupTombstone(g.groupID)} }

func (g *classicGroup) validateOffsetCommit(memberID string, instanceID *string, generation int32, _ int16) error {
	if g.is(stateDead) {
		return kerr.CoordinatorNotAvailable
	}
	if generation < 0 && g.is(stateEmpty) {
		// The admin client, or a consumer that assigns itself partitions: commits are
		// accepted while the group has no members.
		return nil
	}
	if generation >= 0 || memberID != "" || instanceID != nil {
		if err := g.validateMember(memberID, instanceID); err != nil {
			return err
		}
		if generation != g.generation {
			return kerr.IllegalGeneration
		}
	} else if !g.is(stateEmpty) {
		return kerr.UnknownMemberID
	}
	if g.is(stateCompletingRebalance) {
		// The member has its generation from JoinGroup but not its assignment yet.
		return kerr.RebalanceInProgress
	}
	return nil
}

func (g *classicGroup) validateOffsetFetch(*string, int32) error {
	if g.is(stateDead) {
		return kerr.GroupIDNotFound
	}
	return nil
}

func (g *classicGroup) validateOffsetDelete() error {
	switch g.state {
	case stateDead:
		return kerr.GroupIDNotFound
	case stateStable, statePreparingRebalance, stateCompletingRebalance:
		if g.protocolType != consumerProtocolType {
			return kerr.NonEmptyGroup
		}
	}
	return nil
}

func (g *classicGroup) validateDelete() error {
	switch g.state {
	case stateDead:
		return kerr.GroupIDNotFound
	case stateStable, statePreparingRebalance, stateCompletingRebalance:
		return kerr.NonEmptyGroup
	}
	return nil
}

func (g *classicGroup) subscribedTo(topic string) bool {
	if g.subscriptionKnown {
		return g.subscribedTopics[topic]
	}
	// Unknown subscriptions of a consumer group protect every topic.
	return g.protocolType == consumerProtocolType
}

func (g *classicGroup) offsetExpiryBase(v offsetValue) (int64, bool) {
	if g.protocolType == "" {
		// A simple group: retention runs from each commit.
		return v.commitTimestampMs, true
	}
	switch {
	case g.is(stateEmpty):
		if g.stateTimestampMs >= 0 {
			return g.stateTimestampMs, true
		}
		return v.commitTimestampMs, true
	case g.protocolType == consumerProtocolType && g.subscriptionKnown && g.is(stateStable):
		return v.commitTimestampMs, true
	}
	return 0, false
}

func (g *classicGroup) describe() message.DescribeGroupsResponseDescribedGroup {
	var d message.DescribeGroupsResponseDescribedGroup
	d.Default()
	d.GroupId = g.groupID
	d.GroupState = g.state.String()
	d.ProtocolType = g.protocolType
	withMetadata := g.is(stateStable) && g.hasProtocolName
	if withMetadata {
		d.ProtocolData = g.protocolName
	}
	d.Members = []message.DescribeGroupsResponseDescribedGroupMember{}
	for _, id := range g.sortedMemberIDs() {
		m := g.members[id]
		dm := message.DescribeGroupsResponseDescribedGroupMember{
			MemberId:         m.id,
			GroupInstanceId:  m.instanceID,
			ClientId:         m.clientID,
			ClientHost:       m.clientHost,
			MemberMetadata:   []byte{},
			MemberAssignment: m.assignment,
		}
		if withMetadata {
			dm.MemberMetadata = m.metadata(g.protocolName)
		}
		if dm.MemberMetadata == nil {
			dm.MemberMetadata = []byte{}
		}
		if dm.MemberAssignment == nil {
			dm.MemberAssignment = []byte{}
		}
		d.Members = append(d.Members, dm)
	}
	return d
}

func ptr[T any](v T) *T { return &v }
