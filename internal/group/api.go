package group

import (
	"bytes"
	"context"
	"errors"
	"strings"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

// The request API: one method per Kafka API, taking the decoded request and returning the
// response for r.Version (DESIGN §4 lets coordinators speak the protocol's types). Every
// Kafka error is a code in the response; the error return is only the context's (the
// connection went away or the broker is stopping), with a nil response. Requests are
// copied before they reach a shard, since their buffers are reused once the handler
// returns.

// failed reports whether err is ctx's own end, which the caller returns as is.
func failed(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err())
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return bytes.Clone(b)
}

func cloneString(s *string) *string {
	if s == nil {
		return nil
	}
	return ptr(*s)
}

// shapeJoin makes a JoinGroup answer encodable at version: a null protocol name is "" below
// v7, skip_assignment exists from v9.
func shapeJoin(resp *message.JoinGroupResponse, version int16) *message.JoinGroupResponse {
	if version < 7 && resp.ProtocolName == nil {
		resp.ProtocolName = ptr("")
	}
	if version < 9 {
		resp.SkipAssignment = false
	}
	if resp.Members == nil {
		resp.Members = []message.JoinGroupResponseMember{}
	}
	return resp
}

// JoinGroup handles JoinGroup (v0–v9). The answer may take up to the group's rebalance
// timeout: the request is parked until the join phase ends.
func (c *Coordinator) JoinGroup(ctx context.Context, r Request, req *message.JoinGroupRequest) (*message.JoinGroupResponse, error) {
	if req.GroupId == "" {
		resp := joinError(kerr.InvalidGroupID.Code, req.MemberId)
		return shapeJoin(&resp, r.Version), nil
	}
	session := ms(req.SessionTimeoutMs)
	if session < c.cfg.MinSessionTimeout || session > c.cfg.MaxSessionTimeout {
		resp := joinError(kerr.InvalidSessionTimeout.Code, req.MemberId)
		return shapeJoin(&resp, r.Version), nil
	}
	jr := joinRequest{
		groupID:            req.GroupId,
		memberID:           req.MemberId,
		instanceID:         cloneString(req.GroupInstanceId),
		sessionTimeoutMs:   req.SessionTimeoutMs,
		rebalanceTimeoutMs: req.RebalanceTimeoutMs,
		protocolType:       req.ProtocolType,
	}
	if r.Version == 0 {
		jr.rebalanceTimeoutMs = req.SessionTimeoutMs // v0 has none: the session timeout serves
	}
	if req.Reason != nil {
		jr.reason = *req.Reason
	}
	for _, p := range req.Protocols {
		jr.protocols = append(jr.protocols, protocol{name: p.Name, metadata: cloneBytes(p.Metadata)})
	}
	resp, err := do(ctx, c, req.GroupId, func(s *shard, reply func(message.JoinGroupResponse)) { s.join(r, jr, reply) })
	if failed(ctx, err) {
		return nil, err
	}
	if err != nil {
		resp = joinError(codeOf(err), req.MemberId)
	}
	return shapeJoin(&resp, r.Version), nil
}

// SyncGroup handles SyncGroup (v0–v5). Followers' answers wait for the leader's assignment.
func (c *Coordinator) SyncGroup(ctx context.Context, r Request, req *message.SyncGroupRequest) (*message.SyncGroupResponse, error) {
	if req.GroupId == "" {
		resp := syncError(kerr.InvalidGroupID.Code)
		return &resp, nil
	}
	if r.Version >= 5 && (req.ProtocolType == nil || req.ProtocolName == nil) {
		resp := syncError(kerr.InconsistentGroupProtocol.Code)
		return &resp, nil
	}
	sr := syncRequest{
		groupID:      req.GroupId,
		generation:   req.GenerationId,
		memberID:     req.MemberId,
		instanceID:   cloneString(req.GroupInstanceId),
		protocolType: cloneString(req.ProtocolType),
		protocolName: cloneString(req.ProtocolName),
		assignments:  make(map[string][]byte, len(req.Assignments)),
	}
	for _, a := range req.Assignments {
		sr.assignments[a.MemberId] = cloneBytes(a.Assignment)
	}
	resp, err := do(ctx, c, req.GroupId, func(s *shard, reply func(message.SyncGroupResponse)) { s.sync(sr, reply) })
	if failed(ctx, err) {
		return nil, err
	}
	if err != nil {
		resp = syncError(codeOf(err))
	}
	return &resp, nil
}

// Heartbeat handles Heartbeat (v0–v4).
func (c *Coordinator) Heartbeat(ctx context.Context, r Request, req *message.HeartbeatRequest) (*message.HeartbeatResponse, error) {
	resp := message.NewHeartbeatResponse()
	if req.GroupId == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp, nil
	}
	instanceID := cloneString(req.GroupInstanceId)
	code, err := do(ctx, c, req.GroupId, func(s *shard, reply func(int16)) {
		reply(s.heartbeat(req.GroupId, req.MemberId, instanceID, req.GenerationId))
	})
	if failed(ctx, err) {
		return nil, err
	}
	if err != nil {
		code = codeOf(err)
		if code == kerr.CoordinatorLoadInProgress.Code {
			code = 0 // as Kafka: the group is loading, so the member is answered blindly
		}
	}
	resp.ErrorCode = code
	return resp, nil
}

// LeaveGroup handles LeaveGroup (v0–v5; several members from v3).
func (c *Coordinator) LeaveGroup(ctx context.Context, r Request, req *message.LeaveGroupRequest) (*message.LeaveGroupResponse, error) {
	resp := message.NewLeaveGroupResponse()
	if req.GroupId == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp, nil
	}
	var members []leaveMember
	if r.Version < 3 {
		members = []leaveMember{{memberID: req.MemberId}}
	} else {
		for _, m := range req.Members {
			lm := leaveMember{memberID: m.MemberId, instanceID: cloneString(m.GroupInstanceId)}
			if m.Reason != nil {
				lm.reason = *m.Reason
			}
			members = append(members, lm)
		}
	}
	type result struct {
		code    int16
		members []message.LeaveGroupResponseMemberResponse
	}
	res, err := do(ctx, c, req.GroupId, func(s *shard, reply func(result)) {
		code, ms := s.leave(req.GroupId, members)
		reply(result{code, ms})
	})
	if failed(ctx, err) {
		return nil, err
	}
	if err != nil {
		res = result{code: codeOf(err)}
	}
	if r.Version >= 3 {
		resp.ErrorCode = res.code
		resp.Members = res.members
		if resp.Members == nil {
			resp.Members = []message.LeaveGroupResponseMemberResponse{}
		}
		return resp, nil
	}
	resp.ErrorCode = res.code
	for _, m := range res.members {
		if resp.ErrorCode == 0 {
			resp.ErrorCode = m.ErrorCode
		}
	}
	return resp, nil
}

// OffsetCommit handles OffsetCommit (v0–v9) for the topics of req, which the caller has
// checked exist (unknown ones are its to answer). v0 commits as a member-less consumer.
func (c *Coordinator) OffsetCommit(ctx context.Context, r Request, req *message.OffsetCommitRequest) (*message.OffsetCommitResponse, error) {
	cr := commitRequest{
		groupID:     req.GroupId,
		generation:  req.GenerationIdOrMemberEpoch,
		memberID:    req.MemberId,
		instanceID:  cloneString(req.GroupInstanceId),
		retentionMs: -1,
	}
	if r.Version == 0 {
		cr.generation, cr.memberID = -1, ""
	}
	if r.Version >= 2 && r.Version <= 4 {
		cr.retentionMs = req.RetentionTimeMs
	}
	for _, t := range req.Topics {
		ct := commitTopic{name: t.Name}
		for _, p := range t.Partitions {
			cp := commitPartition{
				partition:   p.PartitionIndex,
				offset:      p.CommittedOffset,
				leaderEpoch: p.CommittedLeaderEpoch,
				metadata:    cloneString(p.CommittedMetadata),
				timestampMs: -1,
			}
			if r.Version == 1 {
				cp.timestampMs = p.CommitTimestamp
			}
			if r.Version < 6 {
				cp.leaderEpoch = -1
			}
			ct.partitions = append(ct.partitions, cp)
		}
		cr.topics = append(cr.topics, ct)
	}
	resp := message.NewOffsetCommitResponse()
	if len(cr.topics) == 0 {
		resp.Topics = []message.OffsetCommitResponseTopic{}
		return resp, nil
	}
	topics, err := do(ctx, c, req.GroupId, func(s *shard, reply func([]message.OffsetCommitResponseTopic)) {
		s.commit(r.Version, cr, reply)
	})
	if failed(ctx, err) {
		return nil, err
	}
	if err != nil {
		topics = commitError(cr, codeOf(err))
	}
	resp.Topics = topics
	return resp, nil
}

// FetchGroup is one group of an OffsetFetch: Topics nil asks for all its offsets.
type FetchGroup struct {
	GroupID     string
	Topics      []message.OffsetFetchRequestTopics
	MemberID    *string // v9, KIP-848 groups
	MemberEpoch int32
}

// OffsetFetch handles OffsetFetch (v0–v9): the v8+ list of groups, or at v0–v7 the single
// group (its group-level error goes to the top level from v2, to every partition before).
func (c *Coordinator) OffsetFetch(ctx context.Context, r Request, req *message.OffsetFetchRequest) (*message.OffsetFetchResponse, error) {
	resp := message.NewOffsetFetchResponse()
	if r.Version >= 8 {
		resp.Groups = make([]message.OffsetFetchResponseGroup, 0, len(req.Groups))
		for _, g := range req.Groups {
			fg := FetchGroup{GroupID: g.GroupId, Topics: g.Topics, MemberID: g.MemberId, MemberEpoch: g.MemberEpoch}
			if r.Version < 9 {
				fg.MemberID, fg.MemberEpoch = nil, -1 // v9 added them: older clients send none
			}
			rg, err := c.fetchGroup(ctx, fg)
			if err != nil {
				return nil, err
			}
			resp.Groups = append(resp.Groups, rg)
		}
		return resp, nil
	}
	fg := FetchGroup{GroupID: req.GroupId, MemberEpoch: -1}
	if req.Topics != nil || r.Version < 2 {
		fg.Topics = make([]message.OffsetFetchRequestTopics, 0, len(req.Topics))
		for _, t := range req.Topics {
			fg.Topics = append(fg.Topics, message.OffsetFetchRequestTopics{Name: t.Name, PartitionIndexes: t.PartitionIndexes})
		}
	}
	rg, err := c.fetchGroup(ctx, fg)
	if err != nil {
		return nil, err
	}
	resp.Topics = []message.OffsetFetchResponseTopic{}
	if rg.ErrorCode != 0 {
		if r.Version >= 2 {
			resp.ErrorCode = rg.ErrorCode
			return resp, nil
		}
		for _, t := range fg.Topics {
			rt := message.OffsetFetchResponseTopic{Name: t.Name, Partitions: []message.OffsetFetchResponsePartition{}}
			for _, p := range t.PartitionIndexes {
				rt.Partitions = append(rt.Partitions, message.OffsetFetchResponsePartition{
					PartitionIndex: p, CommittedOffset: -1, CommittedLeaderEpoch: -1, Metadata: ptr(""), ErrorCode: rg.ErrorCode,
				})
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil
	}
	for _, t := range rg.Topics {
		rt := message.OffsetFetchResponseTopic{Name: t.Name, Partitions: []message.OffsetFetchResponsePartition{}}
		for _, p := range t.Partitions {
			rt.Partitions = append(rt.Partitions, message.OffsetFetchResponsePartition{
				PartitionIndex: p.PartitionIndex, CommittedOffset: p.CommittedOffset,
				CommittedLeaderEpoch: p.CommittedLeaderEpoch, Metadata: p.Metadata, ErrorCode: p.ErrorCode,
			})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}

// fetchGroup answers one group of an OffsetFetch. Errors reaching the shard become the
// group's error code; only ctx's end is returned.
func (c *Coordinator) fetchGroup(ctx context.Context, fg FetchGroup) (message.OffsetFetchResponseGroup, error) {
	var topics []fetchTopic
	if fg.Topics != nil {
		topics = make([]fetchTopic, 0, len(fg.Topics))
		for _, t := range fg.Topics {
			topics = append(topics, fetchTopic{name: t.Name, partitions: append([]int32(nil), t.PartitionIndexes...)})
		}
	}
	memberID := cloneString(fg.MemberID)
	rg, err := do(ctx, c, fg.GroupID, func(s *shard, reply func(message.OffsetFetchResponseGroup)) {
		reply(s.fetch(fg.GroupID, topics, memberID, fg.MemberEpoch))
	})
	if failed(ctx, err) {
		return rg, err
	}
	if err != nil {
		return message.OffsetFetchResponseGroup{GroupId: fg.GroupID, ErrorCode: codeOf(err), Topics: []message.OffsetFetchResponseTopics{}}, nil
	}
	return rg, nil
}

// OffsetDelete handles OffsetDelete (v0) for the topics of req, which the caller has
// checked exist.
func (c *Coordinator) OffsetDelete(ctx context.Context, r Request, req *message.OffsetDeleteRequest) (*message.OffsetDeleteResponse, error) {
	resp := message.NewOffsetDeleteResponse()
	resp.Topics = []message.OffsetDeleteResponseTopic{}
	if req.GroupId == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp, nil
	}
	topics := make([]fetchTopic, 0, len(req.Topics))
	for _, t := range req.Topics {
		ft := fetchTopic{name: t.Name}
		for _, p := range t.Partitions {
			ft.partitions = append(ft.partitions, p.PartitionIndex)
		}
		topics = append(topics, ft)
	}
	type result struct {
		code   int16
		topics []message.OffsetDeleteResponseTopic
	}
	res, err := do(ctx, c, req.GroupId, func(s *shard, reply func(result)) {
		s.deleteOffsets(req.GroupId, topics, func(code int16, ts []message.OffsetDeleteResponseTopic) { reply(result{code, ts}) })
	})
	if failed(ctx, err) {
		return nil, err
	}
	if err != nil {
		res = result{code: codeOf(err)}
	}
	resp.ErrorCode = res.code
	if res.code == 0 {
		resp.Topics = res.topics
	}
	return resp, nil
}

// byShard groups ids by the partition that places them, in first-seen order.
func (c *Coordinator) byShard(ids []string) (order []int32, groups map[int32][]string) {
	groups = map[int32][]string{}
	for _, id := range ids {
		p := c.PartitionFor(id)
		if _, ok := groups[p]; !ok {
			order = append(order, p)
		}
		groups[p] = append(groups[p], id)
	}
	return order, groups
}

// perShard runs op once on each shard that holds some of ids (the ids it holds, in request
// order) and returns the results by group id, the first one for an id listed twice. The ids
// of a shard that is not here or cannot answer (NOT_COORDINATOR, loading) get onErr. It
// fails only when ctx ends.
func perShard[T any](ctx context.Context, c *Coordinator, ids []string,
	op func(s *shard, ids []string, reply func([]T)), idOf func(T) string, onErr func(id string, err error) T) (map[string]T, error) {
	byID := make(map[string]T, len(ids))
	order, groups := c.byShard(ids)
	for _, p := range order {
		ids := groups[p]
		var results []T
		var err error = kerr.NotCoordinator
		if s := c.shardOf(p); s != nil {
			results, err = doOn(ctx, s, func(s *shard, reply func([]T)) { op(s, ids, reply) })
		}
		if failed(ctx, err) {
			return nil, err
		}
		if err != nil {
			for _, id := range ids {
				byID[id] = onErr(id, err)
			}
			continue
		}
		for _, res := range results {
			if _, seen := byID[idOf(res)]; !seen {
				byID[idOf(res)] = res
			}
		}
	}
	return byID, nil
}

func (c *Coordinator) shardOf(partition int32) *shard {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.shards[partition]
}

// DescribeGroups handles DescribeGroups (v0–v5). The caller adds authorized operations.
func (c *Coordinator) DescribeGroups(ctx context.Context, r Request, req *message.DescribeGroupsRequest) (*message.DescribeGroupsResponse, error) {
	resp := message.NewDescribeGroupsResponse()
	resp.Groups = []message.DescribeGroupsResponseDescribedGroup{}
	byID, err := perShard(ctx, c, req.Groups,
		func(s *shard, ids []string, reply func([]message.DescribeGroupsResponseDescribedGroup)) {
			reply(s.describe(ids))
		},
		func(d message.DescribeGroupsResponseDescribedGroup) string { return d.GroupId },
		func(id string, err error) message.DescribeGroupsResponseDescribedGroup {
			var d message.DescribeGroupsResponseDescribedGroup
			d.Default()
			d.GroupId, d.ErrorCode = id, codeOf(err)
			d.Members = []message.DescribeGroupsResponseDescribedGroupMember{}
			return d
		})
	if err != nil {
		return nil, err
	}
	for _, id := range req.Groups {
		resp.Groups = append(resp.Groups, byID[id])
	}
	return resp, nil
}

// ListGroups handles ListGroups (v0–v5): the groups of every partition this broker
// coordinates, filtered by state (v4+) and type (v5+). A partition still loading fails the
// request with COORDINATOR_LOAD_IN_PROGRESS, as Kafka answers.
func (c *Coordinator) ListGroups(ctx context.Context, r Request, req *message.ListGroupsRequest) (*message.ListGroupsResponse, error) {
	resp := message.NewListGroupsResponse()
	resp.Groups = []message.ListGroupsResponseListedGroup{}
	states := map[string]bool{}
	for _, s := range req.StatesFilter {
		states[strings.TrimSpace(lower(s))] = true
	}
	types := map[Type]bool{}
	for _, t := range req.TypesFilter {
		if ty, ok := parseType(strings.TrimSpace(t)); ok {
			types[ty] = true
		}
	}
	filterTypes := len(req.TypesFilter) > 0
	for _, s := range c.shards() {
		listed, err := doOn(ctx, s, func(s *shard, reply func([]message.ListGroupsResponseListedGroup)) {
			reply(s.list(states, types, filterTypes))
		})
		if failed(ctx, err) {
			return nil, err
		}
		if err != nil {
			if code := codeOf(err); code != kerr.NotCoordinator.Code {
				resp.ErrorCode = code
				resp.Groups = []message.ListGroupsResponseListedGroup{}
				return resp, nil
			}
			continue
		}
		resp.Groups = append(resp.Groups, listed...)
	}
	return resp, nil
}

// DeleteGroups handles DeleteGroups (v0–v2).
func (c *Coordinator) DeleteGroups(ctx context.Context, r Request, req *message.DeleteGroupsRequest) (*message.DeleteGroupsResponse, error) {
	resp := message.NewDeleteGroupsResponse()
	resp.Results = []message.DeleteGroupsResponseDeletableGroupResult{}
	byID, err := perShard(ctx, c, req.GroupsNames,
		func(s *shard, ids []string, reply func([]message.DeleteGroupsResponseDeletableGroupResult)) {
			s.deleteGroups(ids, reply)
		},
		func(res message.DeleteGroupsResponseDeletableGroupResult) string { return res.GroupId },
		func(id string, err error) message.DeleteGroupsResponseDeletableGroupResult {
			return message.DeleteGroupsResponseDeletableGroupResult{GroupId: id, ErrorCode: codeOf(err)}
		})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, id := range req.GroupsNames {
		if seen[id] {
			continue // Kafka's response collection keys results by group id
		}
		seen[id] = true
		resp.Results = append(resp.Results, byID[id])
	}
	return resp, nil
}

// OnTopicsDeleted tombstones the committed offsets of deleted topics in every partition this
// broker coordinates (Kafka's onPartitionsDeleted). It queues the work and returns; ctx
// bounds only the queueing.
func (c *Coordinator) OnTopicsDeleted(ctx context.Context, topics []string) {
	if len(topics) == 0 {
		return
	}
	set := make(map[string]bool, len(topics))
	for _, t := range topics {
		set[t] = true
	}
	for _, s := range c.shards() {
		_ = s.submit(ctx, func() { s.topicsDeleted(set) })
	}
}
