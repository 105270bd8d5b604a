package group

import (
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// This file is KIP-848 consumer groups on a shard's loop: Kafka's
// GroupMetadataManager.consumerGroupHeartbeat and its helpers (member epochs, static
// members, target assignment, reconciliation by CurrentAssignmentBuilder's rules, session
// and rebalance timeouts).
//
// State changes apply at once on the loop and their records are written with the round's
// batch; the answer waits until the records (or, for an answer that writes none, every
// record written before it) are committed, so a member never acts on state the log could
// lose while this broker stays leader.

// heartbeatRequest is a ConsumerGroupHeartbeat's fields, copied out of the frame buffer and
// validated (ConsumerGroupHeartbeat in consumer_api.go).
type heartbeatRequest struct {
	groupID            string
	memberID           string
	epoch              int32
	instanceID         *string
	rackID             *string
	rebalanceTimeoutMs int32
	topics             []string // nil: unchanged
	regex              *string  // nil: unchanged; "" clears
	assignor           *string  // nil: unchanged
	owned              assignment
	ownedKnown         bool // TopicPartitions was sent
	clientID           string
	clientHost         string
}

// heartbeatResult is a ConsumerGroupHeartbeat's answer.
type heartbeatResult struct {
	code       int16
	message    string
	memberID   string
	epoch      int32
	assignment assignment // nil: not sent
}

func heartbeatError(err *kerr.Error, msg string) heartbeatResult {
	return heartbeatResult{code: err.Code, message: msg}
}

func sessionKey(g, m string) timerKey {
	return timerKey{kind: timerConsumerSession, group: g, member: m}
}
func rebalanceKey(g, m string) timerKey {
	return timerKey{kind: timerConsumerRebalance, group: g, member: m}
}

// writeThen writes recs and runs done once they are committed; with no records, once every
// record written before is committed (what a reader of the current state depends on).
func (s *shard) writeThen(recs []rec, done func(error)) {
	switch {
	case len(recs) > 0:
		s.write(recs, done)
	case len(s.batch) > 0:
		s.batchCbs = append(s.batchCbs, done)
	case len(s.writes) > 0:
		last := &s.writes[len(s.writes)-1]
		last.cbs = append(last.cbs, done)
	default:
		done(nil)
	}
}

// consumerHeartbeat handles a ConsumerGroupHeartbeat (join, heartbeat, leave).
func (s *shard) consumerHeartbeat(req heartbeatRequest, reply func(heartbeatResult)) {
	if req.epoch == leaveEpoch || req.epoch == staticLeaveEpoch {
		s.consumerLeave(req, reply)
		return
	}
	var recs []rec
	var cg *consumerGroup
	created := false
	switch g := s.groups[req.groupID].(type) {
	case nil:
		if req.epoch != joinEpoch {
			reply(heartbeatError(kerr.GroupIDNotFound, "consumer group "+req.groupID+" not found"))
			return
		}
		cg, created = newConsumerGroup(req.groupID), true
	case *consumerGroup:
		if g.dead {
			reply(heartbeatError(kerr.CoordinatorNotAvailable, "the group is being deleted"))
			return
		}
		cg = g
	case *classicGroup:
		if !g.isEmpty() || len(g.pendingJoin) > 0 || g.is(stateDead) || req.epoch != joinEpoch {
			// Kafka with group.consumer.migration.policy=disabled: a classic group in use
			// is not a consumer group.
			reply(heartbeatError(kerr.GroupIDNotFound, "group "+req.groupID+" is not a consumer group"))
			return
		}
		// An empty classic (or simple) group becomes a consumer group; its offsets stay.
		if g.protocolType != "" {
			recs = append(recs, g.tombstones()...)
		}
		cg, created = newConsumerGroup(req.groupID), true
	default:
		reply(heartbeatError(kerr.GroupIDNotFound, "group "+req.groupID+" is not a consumer group"))
		return
	}

	m, replaced, isNew, errRes := s.consumerMemberFor(cg, req)
	if errRes != nil {
		reply(*errRes)
		return
	}
	if isNew && replaced == nil && len(cg.members) >= s.c.cfg.ConsumerMaxSize {
		reply(heartbeatError(kerr.GroupMaxSizeReached, "the consumer group has reached its maximum number of members"))
		return
	}
	if created {
		s.groups[req.groupID] = cg
	}
	if replaced != nil {
		// A static member back under a new member id: it takes over the old one's epoch
		// and assignment, without a new group epoch (KIP-345 for KIP-848).
		recs = append(recs, memberTombstones(cg.groupID, replaced.id)...)
		s.timers.cancel(sessionKey(cg.groupID, replaced.id))
		s.timers.cancel(rebalanceKey(cg.groupID, replaced.id))
		before := replaced.owned()
		delete(cg.members, replaced.id)
		cg.setOwned(&consumerMember{id: replaced.id}, before)
		m.epoch, m.previousEpoch, m.state = replaced.previousEpoch, replaced.previousEpoch, replaced.state
		if replaced.epoch != staticLeaveEpoch {
			m.epoch = replaced.epoch
		}
		m.assigned, m.revoking = replaced.assigned.clone(), replaced.revoking.clone()
		m.subscribedTopics, m.subscribedRegex = replaced.subscribedTopics, replaced.subscribedRegex
		m.serverAssignor, m.rebalanceTimeoutMs, m.rackID = replaced.serverAssignor, replaced.rebalanceTimeoutMs, replaced.rackID
		if t, ok := cg.target[replaced.id]; ok {
			cg.target[m.id] = t
			delete(cg.target, replaced.id)
			recs = append(recs, targetMemberRecord(cg.groupID, m.id, t))
		}
	}
	before := *m
	beforeAssigned := m.assigned

	subChanged := s.updateConsumerMember(m, req)
	if isNew {
		cg.members[m.id] = m
		if m.instanceID != nil {
			cg.static[*m.instanceID] = m.id
		}
		cg.setOwned(m, nil)
	}
	if isNew || subChanged || !sameMemberMetadata(&before, m) {
		recs = append(recs, memberMetadataRecord(cg.groupID, m))
	}
	bump := (isNew && replaced == nil) || subChanged
	// The group's topics change with its members' subscriptions here; with the topics
	// themselves in refreshConsumerGroups.
	if isNew || subChanged {
		if subs := s.subscribedTopics(cg); !maps.Equal(subs, cg.subscribed) {
			cg.subscribed = subs
			recs = append(recs, partitionMetadataRecord(cg))
			bump = true
		}
	}
	if bump {
		cg.epoch++
		recs = append(recs, consumerGroupRecord(cg))
	}
	if cg.epoch > cg.assignmentEpoch {
		recs = append(recs, s.computeTarget(cg)...)
	}
	if replaced != nil {
		recs = append(recs, currentAssignmentRecord(cg.groupID, m))
	}
	changed := s.reconcile(cg, m, req.owned, req.ownedKnown)
	if changed {
		recs = append(recs, currentAssignmentRecord(cg.groupID, m))
	}
	s.scheduleConsumerSession(cg, m)

	res := heartbeatResult{memberID: m.id, epoch: m.epoch}
	if req.epoch == joinEpoch || changed || !m.assigned.equal(beforeAssigned) ||
		req.ownedKnown && !req.owned.equal(m.assigned) {
		res.assignment = m.assigned.clone()
	}
	s.writeThen(recs, func(err error) {
		if err != nil {
			reply(heartbeatResult{code: codeOf(err)})
			return
		}
		reply(res)
	})
}

// consumerMemberFor finds or creates the member of a heartbeat (Kafka's
// getOrMaybeSubscribeDynamicConsumerGroupMember / ...StaticConsumerGroupMember) and checks
// its epoch. replaced is the static member a joining one takes over from.
func (s *shard) consumerMemberFor(cg *consumerGroup, req heartbeatRequest) (m, replaced *consumerMember, isNew bool, errRes *heartbeatResult) {
	fail := func(err *kerr.Error, msg string) (*consumerMember, *consumerMember, bool, *heartbeatResult) {
		r := heartbeatError(err, msg)
		return nil, nil, false, &r
	}
	newMember := func() *consumerMember {
		return &consumerMember{id: req.memberID, state: memberStable, assigned: assignment{}, revoking: assignment{}}
	}
	if req.instanceID == nil {
		m = cg.members[req.memberID]
		if m == nil {
			if req.epoch != joinEpoch {
				return fail(kerr.UnknownMemberID, "member "+req.memberID+" is not in the group")
			}
			return newMember(), nil, true, nil
		}
	} else {
		holderID, held := cg.static[*req.instanceID]
		holder := cg.members[holderID]
		switch {
		case req.epoch == joinEpoch && (!held || holder == nil):
			return newMember(), nil, true, nil
		case req.epoch == joinEpoch && holderID != req.memberID:
			if holder.epoch != staticLeaveEpoch {
				return fail(kerr.UnreleasedInstanceID, "instance id "+*req.instanceID+" is held by another member")
			}
			return newMember(), holder, true, nil
		case !held || holder == nil:
			return fail(kerr.UnknownMemberID, "no member holds instance id "+*req.instanceID)
		case holderID != req.memberID:
			return fail(kerr.FencedInstanceID, "instance id "+*req.instanceID+" is held by member "+holderID)
		}
		m = holder
	}
	if req.epoch == joinEpoch {
		return m, nil, false, nil // a member rejoining: it has dropped its partitions
	}
	switch {
	case req.epoch > m.epoch:
		return fail(kerr.FencedMemberEpoch, "the member epoch is newer than the group's")
	case req.epoch < m.epoch:
		// The answer that bumped the epoch may have been lost: the previous epoch is
		// accepted if the member owns no more than it is assigned.
		if req.epoch != m.previousEpoch || !req.ownedKnown || !req.owned.subsetOf(m.assigned) {
			return fail(kerr.FencedMemberEpoch, "the member epoch is older than the group's")
		}
	}
	return m, nil, false, nil
}

// updateConsumerMember applies a heartbeat's member fields; it reports whether the
// subscription changed (topics, regex or assignor), which bumps the group epoch.
func (s *shard) updateConsumerMember(m *consumerMember, req heartbeatRequest) bool {
	changed := false
	if req.topics != nil {
		topics := slices.Sorted(slices.Values(req.topics))
		topics = slices.Compact(topics)
		if !slices.Equal(topics, m.subscribedTopics) {
			m.subscribedTopics, changed = topics, true
		}
	}
	if req.regex != nil {
		var re *string
		if *req.regex != "" {
			re = ptr(*req.regex)
		}
		if !equalPtr(re, m.subscribedRegex) {
			m.subscribedRegex, changed = re, true
		}
	}
	if req.assignor != nil && !equalPtr(req.assignor, m.serverAssignor) {
		m.serverAssignor, changed = ptr(*req.assignor), true
	}
	if req.rebalanceTimeoutMs > 0 {
		m.rebalanceTimeoutMs = req.rebalanceTimeoutMs
	}
	if req.rackID != nil {
		m.rackID = ptr(*req.rackID)
	}
	if req.instanceID != nil {
		m.instanceID = ptr(*req.instanceID)
	}
	m.clientID, m.clientHost = req.clientID, req.clientHost
	if changed {
		m.resolvedIn = nil
	}
	return changed
}

func equalPtr(a, b *string) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

func sameMemberMetadata(a, b *consumerMember) bool {
	return equalPtr(a.instanceID, b.instanceID) && equalPtr(a.rackID, b.rackID) &&
		a.clientID == b.clientID && a.clientHost == b.clientHost &&
		slices.Equal(a.subscribedTopics, b.subscribedTopics) && equalPtr(a.subscribedRegex, b.subscribedRegex) &&
		a.rebalanceTimeoutMs == b.rebalanceTimeoutMs && equalPtr(a.serverAssignor, b.serverAssignor)
}

// memberTopics returns the existing topics a member subscribes to, by name or regex,
// sorted.
func (s *shard) memberTopics(m *consumerMember, im *topicImage) []string {
	if m.resolvedIn == im {
		return m.resolved
	}
	set := map[string]bool{}
	for _, t := range m.subscribedTopics {
		if _, ok := im.byName[t]; ok {
			set[t] = true
		}
	}
	if m.subscribedRegex != nil {
		if re := s.compileRegex(*m.subscribedRegex); re != nil {
			for name := range im.byName {
				if re.MatchString(name) { // internal topics too, as Kafka's resolution
					set[name] = true
				}
			}
		}
	}
	m.resolved, m.resolvedIn = slices.Sorted(maps.Keys(set)), im
	return m.resolved
}

// imageFor returns the topics as the node gave them, or, before it has (a coordinator
// without a node, or one not told yet), the group's own record of its topics, so that an
// unknown metadata never reads as every topic deleted.
func (s *shard) imageFor(cg *consumerGroup) *topicImage {
	if im := s.c.topics.Load(); im != nil {
		return im
	}
	im := &topicImage{byName: map[string]TopicInfo{}, byID: map[[16]byte]string{}}
	for name, tm := range cg.subscribed {
		im.byName[name] = TopicInfo{ID: tm.id, Name: name, Partitions: tm.partitions}
		im.byID[tm.id] = name
	}
	return im
}

// subscribedTopics is the metadata of every existing topic a member subscribes to.
func (s *shard) subscribedTopics(cg *consumerGroup) map[string]topicMeta {
	im := s.imageFor(cg)
	out := map[string]topicMeta{}
	for _, m := range cg.members {
		for _, t := range s.memberTopics(m, im) {
			ti := im.byName[t]
			out[t] = topicMeta{id: ti.ID, partitions: ti.Partitions}
		}
	}
	return out
}

// preferredAssignor is the assignor most members name, else the configured default
// (Kafka's ConsumerGroup.computePreferredServerAssignor); ties go to the smaller name.
func (s *shard) preferredAssignor(cg *consumerGroup) string {
	votes := map[string]int{}
	for _, m := range cg.members {
		if m.serverAssignor != nil {
			votes[*m.serverAssignor]++
		}
	}
	best := ""
	for name, n := range votes {
		if best == "" || n > votes[best] || n == votes[best] && name < best {
			best = name
		}
	}
	if best == "" {
		best = s.c.cfg.ConsumerAssignors[0]
	}
	return best
}

// computeTarget computes the target assignment for the group's epoch and returns the
// records of what changed (Kafka's TargetAssignmentBuilder).
func (s *shard) computeTarget(cg *consumerGroup) []rec {
	im := s.imageFor(cg)
	in := assignorInput{topics: cg.subscribed, prev: cg.target}
	for _, id := range cg.sortedMemberIDs() {
		in.members = append(in.members, assignorMember{id: id, topics: s.memberTopics(cg.members[id], im)})
	}
	// Only topics the group's metadata knows are assigned (they are the same ones).
	for i := range in.members {
		in.members[i].topics = slices.DeleteFunc(in.members[i].topics, func(t string) bool { _, ok := cg.subscribed[t]; return !ok })
	}
	next := runAssignor(s.preferredAssignor(cg), in)
	var recs []rec
	for _, id := range cg.sortedMemberIDs() {
		a := next[id]
		if old, ok := cg.target[id]; ok && old.equal(a) {
			continue
		}
		cg.target[id] = a
		recs = append(recs, targetMemberRecord(cg.groupID, id, a))
	}
	cg.assignmentEpoch = cg.epoch
	return append(recs, targetMetadataRecord(cg))
}

// reconcile moves a member towards its target assignment (Kafka's CurrentAssignmentBuilder):
// partitions it must give up are revoked first, within its current epoch; only once it
// has acknowledged that (its owned partitions no longer include them) does it move to the
// target epoch and get new partitions, and only those no other member still owns. It
// reports whether the member's epoch, state or partitions changed.
func (s *shard) reconcile(cg *consumerGroup, m *consumerMember, owned assignment, ownedKnown bool) bool {
	before := *m
	beforeOwned := m.owned()
	switch m.state {
	case memberUnrevoked:
		if !ownedKnown || owned.intersects(m.revoking) {
			return false
		}
		s.nextAssignment(cg, m, m.epoch, owned, ownedKnown)
	case memberUnreleased:
		s.nextAssignment(cg, m, m.epoch, owned, ownedKnown)
	default:
		if m.epoch == cg.assignmentEpoch {
			return false
		}
		s.nextAssignment(cg, m, m.epoch, owned, ownedKnown)
	}
	cg.setOwned(m, beforeOwned)
	changed := m.epoch != before.epoch || m.state != before.state ||
		!m.assigned.equal(before.assigned) || !m.revoking.equal(before.revoking)
	if m.state == memberUnrevoked {
		if before.state != memberUnrevoked || !m.revoking.equal(before.revoking) {
			s.scheduleConsumerRebalance(cg, m)
		}
	} else {
		s.timers.cancel(rebalanceKey(cg.groupID, m.id))
	}
	return changed
}

// nextAssignment is CurrentAssignmentBuilder.computeNextAssignment.
func (s *shard) nextAssignment(cg *consumerGroup, m *consumerMember, epoch int32, owned assignment, ownedKnown bool) {
	target := cg.target[m.id]
	kept, revoke, add := assignment{}, assignment{}, assignment{}
	unreleased := false
	topics := map[wire.UUID]bool{}
	for t := range target {
		topics[t] = true
	}
	for t := range m.assigned {
		topics[t] = true
	}
	for t := range topics {
		for _, p := range m.assigned[t] {
			if target.has(t, p) {
				kept.add(t, p)
			} else {
				revoke.add(t, p)
			}
		}
		for _, p := range target[t] {
			if m.assigned.has(t, p) {
				continue
			}
			if o := cg.owner(t, p); o != "" && o != m.id {
				unreleased = true
				continue
			}
			add.add(t, p)
		}
	}
	stillOwns := !ownedKnown || owned.intersects(revoke)
	setEpoch := func(e int32) { m.previousEpoch, m.epoch = m.epoch, e }
	switch {
	case len(revoke) > 0 && stillOwns:
		m.state = memberUnrevoked
		setEpoch(epoch)
		m.assigned, m.revoking = kept, revoke
	default:
		for t, ps := range add {
			for _, p := range ps {
				kept.add(t, p)
			}
		}
		m.state = memberStable
		if unreleased {
			m.state = memberUnreleased
		}
		setEpoch(cg.assignmentEpoch)
		m.assigned, m.revoking = kept, assignment{}
	}
}

// scheduleConsumerSession (re)starts a member's session.
func (s *shard) scheduleConsumerSession(cg *consumerGroup, m *consumerMember) {
	id, member := cg.groupID, m.id
	s.schedule(sessionKey(id, member), s.c.cfg.ConsumerSessionTimeout, func() {
		s.fenceConsumerMember(id, member, -1, "session timeout expired")
	})
}

// scheduleConsumerRebalance bounds how long a member may take to revoke partitions.
func (s *shard) scheduleConsumerRebalance(cg *consumerGroup, m *consumerMember) {
	id, member, epoch := cg.groupID, m.id, m.epoch
	timeout := time.Duration(m.rebalanceTimeoutMs) * time.Millisecond
	s.schedule(rebalanceKey(id, member), timeout, func() {
		s.fenceConsumerMember(id, member, epoch, "partitions not revoked within the rebalance timeout")
	})
}

// fenceConsumerMember removes a member that timed out; epoch >= 0 only if it is still in
// that epoch and revoking.
func (s *shard) fenceConsumerMember(groupID, memberID string, epoch int32, reason string) {
	cg, ok := s.groups[groupID].(*consumerGroup)
	if !ok {
		return
	}
	m := cg.members[memberID]
	if m == nil || epoch >= 0 && (m.epoch != epoch || m.state != memberUnrevoked) {
		return
	}
	s.log.Info("removing consumer group member", slog.String("group", groupID), slog.String("member", memberID), slog.String("reason", reason))
	recs := s.removeConsumerMember(cg, m)
	s.write(recs, func(err error) {
		if err != nil {
			s.log.Warn("writing a consumer group member's removal failed", slog.String("group", groupID), slog.Any("err", err))
		}
	})
}

// removeConsumerMember removes a member, bumps the group epoch and computes the new target
// assignment; its partitions are free for others at once.
func (s *shard) removeConsumerMember(cg *consumerGroup, m *consumerMember) []rec {
	recs := memberTombstones(cg.groupID, m.id)
	s.timers.cancel(sessionKey(cg.groupID, m.id))
	s.timers.cancel(rebalanceKey(cg.groupID, m.id))
	before := m.owned()
	delete(cg.members, m.id)
	if m.instanceID != nil && cg.static[*m.instanceID] == m.id {
		delete(cg.static, *m.instanceID)
	}
	delete(cg.target, m.id)
	cg.setOwned(&consumerMember{id: m.id}, before)
	if subs := s.subscribedTopics(cg); !maps.Equal(subs, cg.subscribed) {
		cg.subscribed = subs
		recs = append(recs, partitionMetadataRecord(cg))
	}
	cg.epoch++
	recs = append(recs, consumerGroupRecord(cg))
	return append(recs, s.computeTarget(cg)...)
}

// consumerLeave handles a heartbeat with epoch -1 (leave) or -2 (a static member leaving
// for now: it keeps its partitions until it comes back or its session expires).
func (s *shard) consumerLeave(req heartbeatRequest, reply func(heartbeatResult)) {
	cg, ok := s.groups[req.groupID].(*consumerGroup)
	if !ok || cg.dead {
		reply(heartbeatError(kerr.GroupIDNotFound, "consumer group "+req.groupID+" not found"))
		return
	}
	var m *consumerMember
	if req.epoch == staticLeaveEpoch && req.instanceID == nil {
		// Kafka answers INVALID_REQUEST; a static member's own id says which instance
		// leaves, which lets clients that omit it (franz-go) restart without a
		// reassignment.
		if dm := cg.members[req.memberID]; dm != nil && dm.instanceID != nil {
			req.instanceID = dm.instanceID
		} else {
			reply(heartbeatError(kerr.InvalidRequest, "InstanceId can't be null."))
			return
		}
	}
	if req.instanceID != nil {
		holderID, held := cg.static[*req.instanceID]
		switch {
		case !held || cg.members[holderID] == nil:
			reply(heartbeatError(kerr.UnknownMemberID, "no member holds instance id "+*req.instanceID))
			return
		case holderID != req.memberID:
			reply(heartbeatError(kerr.FencedInstanceID, "instance id "+*req.instanceID+" is held by member "+holderID))
			return
		}
		m = cg.members[holderID]
	} else if m = cg.members[req.memberID]; m == nil {
		reply(heartbeatError(kerr.UnknownMemberID, "member "+req.memberID+" is not in the group"))
		return
	}
	var recs []rec
	if req.epoch == staticLeaveEpoch {
		if m.epoch != staticLeaveEpoch {
			m.previousEpoch, m.epoch = m.epoch, staticLeaveEpoch
			recs = append(recs, currentAssignmentRecord(cg.groupID, m))
		}
	} else {
		recs = s.removeConsumerMember(cg, m)
	}
	res := heartbeatResult{memberID: m.id, epoch: req.epoch}
	s.writeThen(recs, func(err error) {
		if err != nil {
			reply(heartbeatResult{code: codeOf(err)})
			return
		}
		reply(res)
	})
}

// refreshConsumerGroups gives every consumer group whose subscribed topics changed in the
// metadata a new epoch and target assignment (Kafka compares the subscription metadata at
// each heartbeat; doing it when the metadata changes means an idle group is updated too).
func (s *shard) refreshConsumerGroups() {
	var recs []rec
	for _, id := range slices.Sorted(maps.Keys(s.groups)) {
		cg, ok := s.groups[id].(*consumerGroup)
		if !ok || cg.dead || len(cg.members) == 0 {
			continue
		}
		subs := s.subscribedTopics(cg)
		if maps.Equal(subs, cg.subscribed) {
			continue
		}
		cg.subscribed = subs
		cg.epoch++
		recs = append(recs, partitionMetadataRecord(cg), consumerGroupRecord(cg))
		recs = append(recs, s.computeTarget(cg)...)
	}
	if len(recs) == 0 {
		return
	}
	s.write(recs, func(err error) {
		if err != nil {
			s.log.Warn("writing consumer groups' new target assignments failed", slog.Any("err", err))
		}
	})
}

// onConsumerGroupsLoaded restarts the loaded members' sessions (and revocation deadlines)
// and catches up with the metadata.
func (s *shard) onConsumerGroupsLoaded() {
	for _, g := range s.groups {
		cg, ok := g.(*consumerGroup)
		if !ok {
			continue
		}
		for _, m := range cg.members {
			s.scheduleConsumerSession(cg, m)
			if m.state == memberUnrevoked {
				s.scheduleConsumerRebalance(cg, m)
			}
		}
	}
	if s.c.topics.Load() != nil {
		s.refreshConsumerGroups()
	}
}
