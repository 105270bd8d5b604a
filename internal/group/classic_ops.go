package group

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

// This file is the classic group protocol on a shard's loop: Kafka's GroupMetadataManager
// (classicGroupJoin, classicGroupSync, classicGroupHeartbeat, classicGroupLeave and the
// rebalance machinery), with the same states, checks and error codes.

// joinRequest is a JoinGroup's fields, copied out of the request's frame buffer.
type joinRequest struct {
	groupID            string
	memberID           string
	instanceID         *string
	sessionTimeoutMs   int32
	rebalanceTimeoutMs int32
	protocolType       string
	protocols          []protocol
	reason             string
}

func heartbeatKey(groupID, memberID string) timerKey {
	return timerKey{kind: timerHeartbeat, group: groupID, member: memberID}
}
func joinKey(groupID string) timerKey { return timerKey{kind: timerJoin, group: groupID} }
func syncKey(groupID string) timerKey { return timerKey{kind: timerSync, group: groupID} }

// joinError is a JoinGroup answer carrying only an error (Kafka's defaults elsewhere:
// generation -1, no protocol, no leader).
func joinError(code int16, memberID string) message.JoinGroupResponse {
	resp := *message.NewJoinGroupResponse()
	resp.ErrorCode = code
	resp.MemberId = memberID
	resp.ProtocolName = nil
	resp.Members = []message.JoinGroupResponseMember{}
	return resp
}

// newMemberID is Kafka's generateMemberId: the instance id (static members) or client id,
// "-", a random UUID.
func newMemberID(clientID string, instanceID *string) string {
	prefix := clientID
	if instanceID != nil {
		prefix = *instanceID
	}
	return prefix + "-" + randomUUID()
}

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// classicGroupOf returns the classic group id, or nil.
func (s *shard) classicGroupOf(id string) *classicGroup {
	cg, _ := s.groups[id].(*classicGroup)
	return cg
}

// join handles a JoinGroup (Kafka's classicGroupJoin / classicGroupJoinToClassicGroup).
func (s *shard) join(r Request, req joinRequest, reply func(message.JoinGroupResponse)) {
	g := s.groups[req.groupID]
	if cg, ok := g.(*consumerGroup); ok {
		if !cg.isEmpty() || cg.dead {
			// A KIP-848 group in use: classic members joining it (Kafka's online
			// migration) are not supported, so Kafka's answer with migration disabled.
			reply(joinError(kerr.InconsistentGroupProtocol.Code, ""))
			return
		}
		// An empty consumer group becomes a classic group (its offsets stay).
		s.write(cg.tombstones(), func(err error) {
			if err != nil {
				s.log.Warn("writing an empty consumer group's tombstones failed", slog.String("group", cg.groupID), slog.Any("err", err))
			}
		})
		delete(s.groups, req.groupID)
		g = nil
	}
	unknown := req.memberID == ""
	cg, _ := g.(*classicGroup)
	if cg == nil {
		if !unknown {
			reply(joinError(kerr.UnknownMemberID.Code, req.memberID))
			return
		}
		cg = newClassicGroup(req.groupID, s.now())
		s.groups[req.groupID] = cg
	}
	if !s.acceptJoiningMember(cg, req.memberID) {
		if m := cg.members[req.memberID]; m != nil {
			s.removeMember(cg, m)
		}
		cg.remove(req.memberID)
		reply(joinError(kerr.GroupMaxSizeReached.Code, ""))
		return
	}
	if unknown {
		s.joinNewMember(r, req, cg, reply)
	} else {
		s.joinExistingMember(r, req, cg, reply)
	}
}

// acceptJoiningMember enforces group.max.size (Kafka's acceptJoiningMember).
func (s *shard) acceptJoiningMember(cg *classicGroup, memberID string) bool {
	max := s.c.cfg.MaxSize
	m := cg.members[memberID]
	switch cg.state {
	case statePreparingRebalance:
		// Counting parked joins (not members) lets a lowered limit shrink the group: the
		// last members to rejoin are the ones turned away.
		return m != nil && m.awaitingJoin() || cg.numAwaiting < max
	case stateCompletingRebalance, stateStable:
		return m != nil || len(cg.members) < max
	}
	return true
}

func (s *shard) joinNewMember(r Request, req joinRequest, cg *classicGroup, reply func(message.JoinGroupResponse)) {
	switch {
	case cg.is(stateDead):
		// The group was just deleted or unloaded: the member finds the coordinator again.
		reply(joinError(kerr.CoordinatorNotAvailable.Code, ""))
	case !cg.supportsProtocols(req.protocolType, req.protocols):
		reply(joinError(kerr.InconsistentGroupProtocol.Code, ""))
	case req.instanceID != nil:
		newID := newMemberID(r.ClientID, req.instanceID)
		if existing, ok := cg.staticMembers[*req.instanceID]; ok {
			s.log.Info("static member rejoins with an unknown member id; replacing the previous member id",
				slog.String("group", cg.groupID), slog.String("instance_id", *req.instanceID),
				slog.String("old_member_id", existing), slog.String("state", cg.state.String()))
			s.updateStaticMember(r, req, cg, existing, newID, reply)
			return
		}
		s.addMemberThenRebalanceOrCompleteJoin(r, req, cg, newID, reply)
	case r.Version >= 4:
		// KIP-394: the member gets its id first and joins with it, so that a client whose
		// JoinGroup times out does not leave an unknown member behind on every retry.
		newID := newMemberID(r.ClientID, nil)
		cg.pendingJoin[newID] = struct{}{}
		s.schedule(heartbeatKey(cg.groupID, newID), ms(req.sessionTimeoutMs), func() { s.expireHeartbeat(cg.groupID, newID) })
		reply(joinError(kerr.MemberIDRequired.Code, newID))
	default:
		s.addMemberThenRebalanceOrCompleteJoin(r, req, cg, newMemberID(r.ClientID, nil), reply)
	}
}

func (s *shard) joinExistingMember(r Request, req joinRequest, cg *classicGroup, reply func(message.JoinGroupResponse)) {
	memberID := req.memberID
	switch {
	case cg.is(stateDead):
		reply(joinError(kerr.CoordinatorNotAvailable.Code, memberID))
		return
	case !cg.supportsProtocols(req.protocolType, req.protocols):
		reply(joinError(kerr.InconsistentGroupProtocol.Code, memberID))
		return
	}
	if _, pending := cg.pendingJoin[memberID]; pending {
		if req.instanceID != nil {
			// Pending ids are handed to dynamic members only; Kafka fails such a request
			// with an IllegalStateException.
			reply(joinError(kerr.UnknownServerError.Code, memberID))
			return
		}
		s.addMemberThenRebalanceOrCompleteJoin(r, req, cg, memberID, reply)
		return
	}
	if err := cg.validateMember(memberID, req.instanceID); err != nil {
		reply(joinError(codeOf(err), memberID))
		return
	}
	m := cg.members[memberID]
	switch cg.state {
	case statePreparingRebalance:
		s.updateMemberThenRebalanceOrCompleteJoin(req, cg, m, "member joining during PreparingRebalance", reply)
	case stateCompletingRebalance:
		if m.matches(req.protocols) {
			// The member lost our answer (a timeout) and asks again: same generation.
			reply(cg.joinResponse(memberID, cg.isLeader(memberID)))
		} else {
			s.updateMemberThenRebalanceOrCompleteJoin(req, cg, m, "member changed its metadata during CompletingRebalance", reply)
		}
	case stateStable:
		switch {
		case cg.isLeader(memberID):
			// A rejoining leader forces a rebalance: it does so when something outside the
			// members' metadata changed (a topic gained partitions).
			s.updateMemberThenRebalanceOrCompleteJoin(req, cg, m, "leader rejoining during Stable", reply)
		case !m.matches(req.protocols):
			s.updateMemberThenRebalanceOrCompleteJoin(req, cg, m, "member changed its metadata during Stable", reply)
		default:
			reply(cg.joinResponse(memberID, false))
		}
	default:
		reply(joinError(kerr.UnknownMemberID.Code, memberID))
	}
}

// updateStaticMember replaces a static member's id with newID (a restarted instance) and,
// when the group is Stable and the selected protocol stays, persists the group and answers
// with the current generation: no rebalance (KIP-345).
func (s *shard) updateStaticMember(r Request, req joinRequest, cg *classicGroup, oldID, newID string, reply func(message.JoinGroupResponse)) {
	currentLeader := cg.leaderID
	s.timers.cancel(heartbeatKey(cg.groupID, oldID))
	m := cg.replaceStaticMember(*req.instanceID, oldID, newID)
	s.rescheduleHeartbeat(cg, m)
	oldProtocols, oldRebalance, oldSession := m.protocols, m.rebalanceTimeoutMs, m.sessionTimeoutMs
	cg.updateMember(m, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, reply)

	switch cg.state {
	case stateStable:
		if !cg.hasProtocolName || cg.selectProtocol() != cg.protocolName {
			s.maybePrepareRebalanceOrCompleteJoin(cg, "static member "+newID+" rejoined with a change of protocol")
			return
		}
		s.log.Info("static member rejoined a stable group without changing its protocol; no rebalance",
			slog.String("group", cg.groupID), slog.String("member", newID))
		generation := cg.generation
		s.write([]rec{classicGroupRecord(cg, cg.assignments())}, func(err error) {
			if cg.members[newID] != m || cg.generation != generation {
				return // the group moved on meanwhile; m's join is answered by that rebalance
			}
			if err != nil {
				s.log.Warn("persisting a replaced static member failed; reverting to the old member id",
					slog.String("group", cg.groupID), slog.String("member", newID), slog.Any("err", err))
				cg.updateMember(m, oldProtocols, oldRebalance, oldSession, nil)
				s.timers.cancel(heartbeatKey(cg.groupID, newID))
				old := cg.replaceStaticMember(*req.instanceID, newID, oldID)
				s.rescheduleHeartbeat(cg, old)
				resp := cg.joinResponse("", false)
				resp.ErrorCode = codeOf(err)
				resp.Leader = currentLeader
				reply(resp)
				return
			}
			if r.Version >= 9 {
				// KIP-814: a rejoining static leader learns it leads but must not assign
				// (the group is stable; its SyncGroup would not be broadcast).
				leader := cg.isLeader(newID)
				resp := cg.joinResponse(newID, leader)
				resp.SkipAssignment = leader
				cg.completeJoin(m, resp)
				return
			}
			// Older clients get the old leader's id, so that a rejoining leader does not
			// think it leads and run a pointless assignment.
			resp := cg.joinResponse(newID, false)
			resp.Leader = currentLeader
			cg.completeJoin(m, resp)
		})
	case stateCompletingRebalance:
		// The leader may already have been sent the old member id to assign: rebalance, or
		// the new id would get no assignment.
		s.prepareRebalance(cg, "static member "+newID+" rejoined during CompletingRebalance")
	case statePreparingRebalance:
		s.maybeCompleteJoinPhase(cg)
	default:
		// A group with a static member is never Empty or Dead.
		cg.updateMember(m, m.protocols, m.rebalanceTimeoutMs, m.sessionTimeoutMs, nil)
		reply(joinError(kerr.UnknownServerError.Code, newID))
	}
}

func (s *shard) updateMemberThenRebalanceOrCompleteJoin(req joinRequest, cg *classicGroup, m *classicMember, reason string, reply func(message.JoinGroupResponse)) {
	if m.awaitingJoin() {
		// A JoinGroup superseded by a newer one (the client retried on another connection):
		// answer it so that nothing waits forever.
		cg.completeJoin(m, joinError(kerr.RebalanceInProgress.Code, m.id))
	}
	cg.updateMember(m, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, reply)
	s.maybePrepareRebalanceOrCompleteJoin(cg, reason)
}

func (s *shard) addMemberThenRebalanceOrCompleteJoin(r Request, req joinRequest, cg *classicGroup, memberID string, reply func(message.JoinGroupResponse)) {
	m := &classicMember{
		id:                 memberID,
		instanceID:         req.instanceID,
		clientID:           r.ClientID,
		clientHost:         r.ClientHost,
		rebalanceTimeoutMs: req.rebalanceTimeoutMs,
		sessionTimeoutMs:   req.sessionTimeoutMs,
		protocolType:       req.protocolType,
		protocols:          req.protocols,
		isNew:              true,
	}
	if cg.is(statePreparingRebalance) && cg.prevState == stateEmpty {
		cg.newMemberAdded = true // the initial delay may be extended
	}
	cg.add(m, reply)
	// A new member cannot heartbeat (it has no generation) and its parked JoinGroup hides a
	// disconnect; the new-member timeout removes it if it never completes a join.
	s.schedule(heartbeatKey(cg.groupID, memberID), s.c.cfg.NewMemberJoinTimeout, func() { s.expireHeartbeat(cg.groupID, memberID) })
	reason := "adding new member " + memberID
	if req.reason != "" {
		reason += " (" + req.reason + ")"
	}
	s.maybePrepareRebalanceOrCompleteJoin(cg, reason)
}

func (s *shard) maybePrepareRebalanceOrCompleteJoin(cg *classicGroup, reason string) {
	if cg.canRebalance() {
		s.prepareRebalance(cg, reason)
	} else {
		s.maybeCompleteJoinPhase(cg)
	}
}

// prepareRebalance starts a join phase (Kafka's prepareRebalance).
func (s *shard) prepareRebalance(cg *classicGroup, reason string) {
	if cg.is(stateCompletingRebalance) {
		s.resetAndPropagateAssignmentWithError(cg, kerr.RebalanceInProgress.Code)
	}
	s.removeSyncExpiration(cg)
	initial := cg.is(stateEmpty)
	if initial {
		// A new group waits group.initial.rebalance.delay.ms for more members, extended by
		// the same delay (within the rebalance timeout) while members keep arriving.
		delay := s.c.cfg.InitialRebalanceDelay
		remaining := max(cg.rebalanceTimeout()-delay, 0)
		id := cg.groupID
		s.schedule(joinKey(id), delay, func() { s.tryCompleteInitialRebalance(id, delay, remaining) })
	}
	cg.transition(statePreparingRebalance, s.now())
	s.log.Info("preparing to rebalance group", slog.String("group", cg.groupID),
		slog.Int("generation", int(cg.generation)), slog.String("reason", reason))
	if !initial {
		s.maybeCompleteJoinElseSchedule(cg)
	}
}

func (s *shard) maybeCompleteJoinElseSchedule(cg *classicGroup) {
	if cg.hasAllMembersJoined() {
		s.completeJoinPhase(cg)
		return
	}
	id := cg.groupID
	s.schedule(joinKey(id), cg.rebalanceTimeout(), func() { s.completeJoinPhaseOf(id) })
}

func (s *shard) tryCompleteInitialRebalance(id string, delay, remaining time.Duration) {
	cg := s.classicGroupOf(id)
	if cg == nil {
		return
	}
	if cg.newMemberAdded && remaining != 0 {
		cg.newMemberAdded = false
		newDelay := min(s.c.cfg.InitialRebalanceDelay, remaining)
		newRemaining := max(remaining-delay, 0)
		s.schedule(joinKey(id), newDelay, func() { s.tryCompleteInitialRebalance(id, newDelay, newRemaining) })
		return
	}
	s.completeJoinPhase(cg)
}

// maybeCompleteJoinPhase ends the join phase once every member has rejoined, except during
// the initial delay of a new group.
func (s *shard) maybeCompleteJoinPhase(cg *classicGroup) {
	if !cg.is(statePreparingRebalance) || cg.prevState == stateEmpty || !cg.hasAllMembersJoined() {
		return
	}
	s.completeJoinPhase(cg)
}

func (s *shard) completeJoinPhaseOf(id string) {
	if cg := s.classicGroupOf(id); cg != nil {
		s.completeJoinPhase(cg)
	}
}

// completeJoinPhase ends a join phase (Kafka's completeClassicGroupJoin): dynamic members
// that did not rejoin are removed, the next generation starts, and every parked JoinGroup
// is answered (the leader's with the members' metadata).
func (s *shard) completeJoinPhase(cg *classicGroup) {
	if !cg.is(statePreparingRebalance) {
		return
	}
	s.timers.cancel(joinKey(cg.groupID))
	var dropped []string
	for _, id := range cg.sortedMemberIDs() {
		if m := cg.members[id]; !m.awaitingJoin() && !m.static() {
			s.removeMember(cg, m)
			dropped = append(dropped, id)
		}
	}
	if len(dropped) > 0 {
		s.log.Info("removed members that did not rejoin", slog.String("group", cg.groupID), slog.Any("members", dropped))
	}
	if !cg.maybeElectNewJoinedLeader() && len(cg.members) > 0 {
		// Only static members remain and none rejoined: wait another rebalance timeout
		// (their sessions expire meanwhile).
		s.log.Warn("group could not complete its rebalance because no member rejoined", slog.String("group", cg.groupID))
		id := cg.groupID
		s.schedule(joinKey(id), cg.rebalanceTimeout(), func() { s.completeJoinPhaseOf(id) })
		return
	}
	cg.initNextGeneration(s.now())
	if cg.is(stateEmpty) {
		s.log.Info("group is now empty", slog.String("group", cg.groupID), slog.Int("generation", int(cg.generation)))
		id := cg.groupID
		s.write([]rec{classicGroupRecord(cg, nil)}, func(err error) {
			if err != nil {
				// The previous generation stays in the log; it has no members that could
				// be hurt by it.
				s.log.Warn("persisting an empty group failed", slog.String("group", id), slog.Any("err", err))
			}
		})
		return
	}
	s.log.Info("group stabilized its join phase", slog.String("group", cg.groupID),
		slog.Int("generation", int(cg.generation)), slog.Int("members", len(cg.members)),
		slog.String("protocol", cg.protocolName))
	for _, id := range cg.sortedMemberIDs() {
		m := cg.members[id]
		cg.completeJoin(m, cg.joinResponse(id, cg.isLeader(id)))
		s.rescheduleHeartbeat(cg, m)
		m.isNew = false
		cg.pendingSync[id] = struct{}{}
	}
	s.schedulePendingSync(cg)
}

// schedulePendingSync removes, after the rebalance timeout, the members that got their
// JoinGroup answer but never sent SyncGroup.
func (s *shard) schedulePendingSync(cg *classicGroup) {
	id, generation := cg.groupID, cg.generation
	s.schedule(syncKey(id), cg.rebalanceTimeout(), func() { s.expirePendingSync(id, generation) })
}

func (s *shard) expirePendingSync(id string, generation int32) {
	cg := s.classicGroupOf(id)
	if cg == nil || cg.generation != generation {
		return
	}
	if !cg.is(stateCompletingRebalance) && !cg.is(stateStable) || len(cg.pendingSync) == 0 {
		return
	}
	var removed []string
	for memberID := range cg.pendingSync {
		removed = append(removed, memberID)
	}
	for _, memberID := range removed {
		if m := cg.members[memberID]; m != nil {
			s.removeMember(cg, m)
		}
		cg.remove(memberID)
	}
	s.prepareRebalance(cg, fmt.Sprintf("removing %v on pending sync request expiration", removed))
}

func (s *shard) removeSyncExpiration(cg *classicGroup) {
	clear(cg.pendingSync)
	s.timers.cancel(syncKey(cg.groupID))
}

func (s *shard) removePendingSyncMember(cg *classicGroup, memberID string) {
	delete(cg.pendingSync, memberID)
	switch cg.state {
	case stateCompletingRebalance, stateStable:
		if len(cg.pendingSync) == 0 {
			s.timers.cancel(syncKey(cg.groupID))
		}
	default:
		s.timers.cancel(syncKey(cg.groupID))
	}
}

// rescheduleHeartbeat pushes a member's session expiry to one session timeout from now.
func (s *shard) rescheduleHeartbeat(cg *classicGroup, m *classicMember) {
	id, memberID := cg.groupID, m.id
	s.schedule(heartbeatKey(id, memberID), ms(m.sessionTimeoutMs), func() { s.expireHeartbeat(id, memberID) })
}

// expireHeartbeat handles a session expiry (Kafka's expireClassicGroupMemberHeartbeat).
func (s *shard) expireHeartbeat(id, memberID string) {
	cg := s.classicGroupOf(id)
	if cg == nil || cg.is(stateDead) {
		return
	}
	if _, pending := cg.pendingJoin[memberID]; pending {
		s.log.Info("pending member removed after its session timeout", slog.String("group", id), slog.String("member", memberID))
		cg.remove(memberID)
		if cg.is(statePreparingRebalance) && cg.hasAllMembersJoined() {
			s.completeJoinPhase(cg)
		}
		return
	}
	m := cg.members[memberID]
	if m == nil || m.hasSatisfiedHeartbeat() {
		return
	}
	s.log.Info("member failed (session timeout); removing it", slog.String("group", id), slog.String("member", memberID))
	s.removeMemberAndUpdateGroup(cg, m, "removing member "+memberID+" on heartbeat expiration")
}

// removeMember answers whatever the member waits for and removes it; the caller updates
// the group's state.
func (s *shard) removeMember(cg *classicGroup, m *classicMember) {
	s.timers.cancel(heartbeatKey(cg.groupID, m.id))
	// A parked JoinGroup learns it is gone (it retries as a new member if still alive).
	cg.completeJoin(m, joinError(kerr.UnknownMemberID.Code, ""))
	cg.completeSync(m, message.SyncGroupResponse{ErrorCode: kerr.UnknownMemberID.Code, Assignment: []byte{}})
	cg.remove(m.id)
}

func (s *shard) removeMemberAndUpdateGroup(cg *classicGroup, m *classicMember, reason string) {
	s.removeMember(cg, m)
	switch {
	case cg.is(stateStable), cg.is(stateCompletingRebalance):
		s.maybePrepareRebalanceOrCompleteJoin(cg, reason)
	case cg.is(statePreparingRebalance) && cg.hasAllMembersJoined():
		s.completeJoinPhase(cg)
	}
}

func (s *shard) resetAndPropagateAssignmentWithError(cg *classicGroup, code int16) {
	for _, m := range cg.members {
		m.assignment = []byte{}
	}
	s.propagateAssignment(cg, code)
}

func (s *shard) setAndPropagateAssignment(cg *classicGroup, assignment map[string][]byte) {
	for id, m := range cg.members {
		m.assignment = assignment[id]
		if m.assignment == nil {
			m.assignment = []byte{}
		}
	}
	s.propagateAssignment(cg, 0)
}

// propagateAssignment answers every parked SyncGroup and restarts those members' sessions
// (an expiry while they waited was ignored).
func (s *shard) propagateAssignment(cg *classicGroup, code int16) {
	for _, id := range cg.sortedMemberIDs() {
		m := cg.members[id]
		resp := message.SyncGroupResponse{ErrorCode: code, Assignment: m.assignment}
		if code == 0 {
			if cg.protocolType != "" {
				resp.ProtocolType = ptr(cg.protocolType)
			}
			if cg.hasProtocolName {
				resp.ProtocolName = ptr(cg.protocolName)
			}
		}
		if resp.Assignment == nil {
			resp.Assignment = []byte{}
		}
		if cg.completeSync(m, resp) {
			s.rescheduleHeartbeat(cg, m)
		}
	}
}

// assignments is every member's current assignment.
func (cg *classicGroup) assignments() map[string][]byte {
	out := make(map[string][]byte, len(cg.members))
	for id, m := range cg.members {
		out[id] = m.assignment
	}
	return out
}

// syncRequest is a SyncGroup's fields, copied out of the request's frame buffer.
type syncRequest struct {
	groupID      string
	generation   int32
	memberID     string
	instanceID   *string
	protocolType *string
	protocolName *string
	assignments  map[string][]byte
}

func syncError(code int16) message.SyncGroupResponse {
	return message.SyncGroupResponse{ErrorCode: code, Assignment: []byte{}}
}

// sync handles a SyncGroup (Kafka's classicGroupSync).
func (s *shard) sync(req syncRequest, reply func(message.SyncGroupResponse)) {
	g := s.groups[req.groupID]
	if g == nil || g.isEmpty() {
		reply(syncError(kerr.UnknownMemberID.Code))
		return
	}
	cg, ok := g.(*classicGroup)
	if !ok {
		// Classic members of a KIP-848 group: the consumer protocol's to handle.
		reply(syncError(kerr.UnknownMemberID.Code))
		return
	}
	switch {
	case cg.is(stateDead):
		reply(syncError(kerr.CoordinatorNotAvailable.Code))
		return
	case cg.validateMember(req.memberID, req.instanceID) != nil:
		reply(syncError(codeOf(cg.validateMember(req.memberID, req.instanceID))))
		return
	case req.generation != cg.generation:
		reply(syncError(kerr.IllegalGeneration.Code))
		return
	case inconsistent(req.protocolType, cg.protocolType, cg.protocolType != "") ||
		inconsistent(req.protocolName, cg.protocolName, cg.hasProtocolName):
		reply(syncError(kerr.InconsistentGroupProtocol.Code))
		return
	}
	m := cg.members[req.memberID]
	switch cg.state {
	case statePreparingRebalance:
		reply(syncError(kerr.RebalanceInProgress.Code))
	case stateCompletingRebalance:
		if m.awaitingSync() {
			cg.completeSync(m, syncError(kerr.RebalanceInProgress.Code)) // superseded
		}
		m.syncReply = reply
		s.removePendingSyncMember(cg, req.memberID)
		if !cg.isLeader(req.memberID) {
			return
		}
		assignment := make(map[string][]byte, len(cg.members))
		for id := range cg.members {
			a := req.assignments[id]
			if a == nil {
				a = []byte{}
			}
			assignment[id] = a
		}
		if len(req.assignments) < len(cg.members) {
			s.log.Warn("leader left members without an assignment; they get an empty one", slog.String("group", cg.groupID))
		}
		s.log.Info("assignment received from the leader", slog.String("group", cg.groupID),
			slog.Int("generation", int(cg.generation)), slog.Int("members", len(cg.members)))
		generation := req.generation
		s.write([]rec{classicGroupRecord(cg, assignment)}, func(err error) {
			// Another member may have joined meanwhile: only the same generation, still
			// waiting for its assignment, takes this outcome.
			if s.groups[cg.groupID] != cg || !cg.is(stateCompletingRebalance) || cg.generation != generation {
				return
			}
			if err != nil {
				code := codeOf(err)
				s.resetAndPropagateAssignmentWithError(cg, code)
				s.maybePrepareRebalanceOrCompleteJoin(cg, fmt.Sprintf("error %v when storing the group assignment", err))
				return
			}
			s.setAndPropagateAssignment(cg, assignment)
			cg.transition(stateStable, s.now())
		})
	case stateStable:
		s.removePendingSyncMember(cg, req.memberID)
		resp := message.SyncGroupResponse{Assignment: m.assignment}
		if resp.Assignment == nil {
			resp.Assignment = []byte{}
		}
		if cg.protocolType != "" {
			resp.ProtocolType = ptr(cg.protocolType)
		}
		if cg.hasProtocolName {
			resp.ProtocolName = ptr(cg.protocolName)
		}
		reply(resp)
	default:
		reply(syncError(kerr.UnknownMemberID.Code))
	}
}

// inconsistent is Kafka's isProtocolInconsistent: both sides known and different.
func inconsistent(req *string, group string, groupKnown bool) bool {
	return req != nil && groupKnown && *req != group
}

// heartbeat handles a Heartbeat (Kafka's classicGroupHeartbeat).
func (s *shard) heartbeat(groupID, memberID string, instanceID *string, generation int32) int16 {
	cg := s.classicGroupOf(groupID)
	if cg == nil {
		return kerr.UnknownMemberID.Code
	}
	if cg.is(stateDead) {
		return kerr.CoordinatorNotAvailable.Code
	}
	if err := cg.validateMember(memberID, instanceID); err != nil {
		return codeOf(err)
	}
	if generation != cg.generation {
		return kerr.IllegalGeneration.Code
	}
	switch cg.state {
	case stateEmpty:
		return kerr.UnknownMemberID.Code
	case statePreparingRebalance:
		s.rescheduleHeartbeat(cg, cg.members[memberID])
		return kerr.RebalanceInProgress.Code
	default:
		// Members may heartbeat between their JoinGroup and SyncGroup answers.
		s.rescheduleHeartbeat(cg, cg.members[memberID])
		return 0
	}
}

// leaveMember is one member of a LeaveGroup.
type leaveMember struct {
	memberID   string
	instanceID *string
	reason     string
}

// leave handles a LeaveGroup (Kafka's classicGroupLeave). It returns the top-level code
// and one result per member.
func (s *shard) leave(groupID string, members []leaveMember) (int16, []message.LeaveGroupResponseMemberResponse) {
	results := make([]message.LeaveGroupResponseMemberResponse, 0, len(members))
	cg := s.classicGroupOf(groupID)
	if cg == nil {
		for _, lm := range members {
			results = append(results, message.LeaveGroupResponseMemberResponse{
				MemberId: lm.memberID, GroupInstanceId: lm.instanceID, ErrorCode: kerr.UnknownMemberID.Code,
			})
		}
		return 0, results
	}
	if cg.is(stateDead) {
		return kerr.CoordinatorNotAvailable.Code, nil
	}
	left := 0
	for _, lm := range members {
		res := message.LeaveGroupResponseMemberResponse{MemberId: lm.memberID, GroupInstanceId: lm.instanceID}
		switch {
		case lm.memberID == "":
			// Administrative removal by instance id.
			if id, ok := staticMemberID(cg, lm.instanceID); ok {
				s.leaveMember(cg, cg.members[id], lm.reason)
			} else {
				res.ErrorCode = kerr.UnknownMemberID.Code
			}
		case isPending(cg, lm.memberID):
			cg.remove(lm.memberID)
			s.timers.cancel(heartbeatKey(cg.groupID, lm.memberID))
			s.log.Info("pending member left the group", slog.String("group", groupID), slog.String("member", lm.memberID))
		default:
			if err := cg.validateMember(lm.memberID, lm.instanceID); err != nil {
				res.ErrorCode = codeOf(err)
			} else {
				s.leaveMember(cg, cg.members[lm.memberID], lm.reason)
			}
		}
		if res.ErrorCode == 0 {
			left++
		}
		results = append(results, res)
	}
	if left > 0 {
		switch cg.state {
		case stateStable, stateCompletingRebalance:
			s.maybePrepareRebalanceOrCompleteJoin(cg, "members left the group (LeaveGroup)")
		case statePreparingRebalance:
			s.maybeCompleteJoinPhase(cg)
		}
	}
	return 0, results
}

func (s *shard) leaveMember(cg *classicGroup, m *classicMember, reason string) {
	s.log.Info("member left the group", slog.String("group", cg.groupID), slog.String("member", m.id), slog.String("reason", reason))
	s.removeMember(cg, m)
}

func staticMemberID(cg *classicGroup, instanceID *string) (string, bool) {
	if instanceID == nil {
		return "", false
	}
	id, ok := cg.staticMembers[*instanceID]
	return id, ok
}

func isPending(cg *classicGroup, memberID string) bool {
	_, ok := cg.pendingJoin[memberID]
	return ok
}

func ms(v int32) time.Duration { return time.Duration(v) * time.Millisecond }
