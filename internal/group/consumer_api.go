package group

import (
	"context"
	"slices"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

// ConsumerGroupHeartbeat handles ConsumerGroupHeartbeat (v0–v1): a KIP-848 member joins
// (epoch 0), heartbeats with its epoch and owned partitions, or leaves (-1; -2 for a static
// member leaving for now). The request is checked as Kafka's
// throwIfConsumerGroupHeartbeatRequestIsInvalid does (INVALID_REQUEST with a message,
// UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION), then runs on the group's shard.
func (c *Coordinator) ConsumerGroupHeartbeat(ctx context.Context, r Request, req *message.ConsumerGroupHeartbeatRequest) (*message.ConsumerGroupHeartbeatResponse, error) {
	resp := message.NewConsumerGroupHeartbeatResponse()
	resp.HeartbeatIntervalMs = int32(c.cfg.ConsumerHeartbeatInterval.Milliseconds())
	fail := func(err *kerr.Error, msg string) (*message.ConsumerGroupHeartbeatResponse, error) {
		resp.ErrorCode, resp.ErrorMessage = err.Code, ptr(msg)
		resp.HeartbeatIntervalMs, resp.MemberEpoch = 0, 0
		return resp, nil
	}
	if msg := invalidHeartbeat(r.Version, req); msg != "" {
		return fail(kerr.InvalidRequest, msg)
	}
	if req.ServerAssignor != nil && !slices.Contains(c.cfg.ConsumerAssignors, *req.ServerAssignor) {
		return fail(kerr.UnsupportedAssignor, "the assignor "+*req.ServerAssignor+" is not supported; supported: "+joinNames(c.cfg.ConsumerAssignors))
	}
	if req.SubscribedTopicRegex != nil && *req.SubscribedTopicRegex != "" && !validRegex(*req.SubscribedTopicRegex) {
		return fail(kerr.InvalidRegularExpression, "SubscribedTopicRegex does not compile: "+*req.SubscribedTopicRegex)
	}
	hr := heartbeatRequest{
		groupID:            req.GroupId,
		memberID:           req.MemberId,
		epoch:              req.MemberEpoch,
		instanceID:         cloneString(req.InstanceId),
		rackID:             cloneString(req.RackId),
		rebalanceTimeoutMs: req.RebalanceTimeoutMs,
		regex:              cloneString(req.SubscribedTopicRegex),
		assignor:           cloneString(req.ServerAssignor),
		clientID:           r.ClientID,
		clientHost:         r.ClientHost,
	}
	if r.Version == 0 && hr.memberID == "" && hr.epoch == joinEpoch {
		hr.memberID = randomUUID() // v0: the coordinator names new members
	}
	if req.SubscribedTopicNames != nil {
		hr.topics = slices.Clone(req.SubscribedTopicNames)
		if hr.topics == nil {
			hr.topics = []string{}
		}
	}
	if req.TopicPartitions != nil {
		hr.ownedKnown = true
		hr.owned = assignment{}
		for _, t := range req.TopicPartitions {
			hr.owned[t.TopicId] = append(hr.owned[t.TopicId], t.Partitions...)
		}
		hr.owned.normalize()
	}
	res, err := do(ctx, c, req.GroupId, func(s *shard, reply func(heartbeatResult)) { s.consumerHeartbeat(hr, reply) })
	if failed(ctx, err) {
		return nil, err
	}
	if err != nil {
		res = heartbeatResult{code: codeOf(err)}
	}
	if res.code != 0 {
		resp.ErrorCode, resp.HeartbeatIntervalMs = res.code, 0
		if res.message != "" {
			resp.ErrorMessage = ptr(res.message)
		}
		return resp, nil
	}
	resp.MemberId = ptr(res.memberID)
	resp.MemberEpoch = res.epoch
	if res.epoch < 0 {
		resp.HeartbeatIntervalMs = 0 // a leave: nothing more to send
	}
	if res.assignment != nil {
		a := &message.ConsumerGroupHeartbeatResponseAssignment{TopicPartitions: []message.ConsumerGroupHeartbeatResponseTopicPartitions{}}
		for _, t := range res.assignment.sortedTopics() {
			a.TopicPartitions = append(a.TopicPartitions, message.ConsumerGroupHeartbeatResponseTopicPartitions{TopicId: t, Partitions: res.assignment[t]})
		}
		resp.Assignment = a
	}
	return resp, nil
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

// invalidHeartbeat returns why a ConsumerGroupHeartbeat is malformed, or "".
func invalidHeartbeat(version int16, req *message.ConsumerGroupHeartbeatRequest) string {
	switch {
	case req.GroupId == "":
		return "GroupId can't be empty."
	case req.InstanceId != nil && *req.InstanceId == "":
		return "InstanceId can't be empty."
	case req.RackId != nil && *req.RackId == "":
		return "RackId can't be empty."
	case version >= 1 && req.MemberId == "":
		return "MemberId can't be empty."
	case version == 0 && req.MemberId == "" && req.MemberEpoch != joinEpoch:
		return "MemberId can't be empty."
	}
	switch {
	case req.MemberEpoch == joinEpoch:
		switch {
		case req.RebalanceTimeoutMs == -1:
			return "RebalanceTimeoutMs must be provided in first request."
		case req.TopicPartitions == nil || len(req.TopicPartitions) > 0:
			return "TopicPartitions must be empty when (re-)joining."
		case req.SubscribedTopicNames == nil && req.SubscribedTopicRegex == nil:
			return "SubscribedTopicNames or SubscribedTopicRegex must be set in first request."
		}
	case req.MemberEpoch > 0:
	case req.MemberEpoch == leaveEpoch:
	case req.MemberEpoch == staticLeaveEpoch:
		// Kafka requires InstanceId here; franz-go (v1.22) leaves without it, so a
		// missing one is looked up from the member id on the shard (consumerLeave).
	default:
		return "MemberEpoch is invalid."
	}
	return ""
}

// ConsumerGroupDescribe handles ConsumerGroupDescribe (v0). The caller adds authorized
// operations.
func (c *Coordinator) ConsumerGroupDescribe(ctx context.Context, r Request, req *message.ConsumerGroupDescribeRequest) (*message.ConsumerGroupDescribeResponse, error) {
	resp := message.NewConsumerGroupDescribeResponse()
	resp.Groups = []message.ConsumerGroupDescribeResponseDescribedGroup{}
	byID, err := perShard(ctx, c, req.GroupIds,
		func(s *shard, ids []string, reply func([]message.ConsumerGroupDescribeResponseDescribedGroup)) {
			reply(s.consumerDescribe(ids))
		},
		func(d message.ConsumerGroupDescribeResponseDescribedGroup) string { return d.GroupId },
		func(id string, err error) message.ConsumerGroupDescribeResponseDescribedGroup {
			return describeError(id, codeOf(err), "")
		})
	if err != nil {
		return nil, err
	}
	for _, id := range req.GroupIds {
		resp.Groups = append(resp.Groups, byID[id])
	}
	return resp, nil
}

func describeError(id string, code int16, msg string) message.ConsumerGroupDescribeResponseDescribedGroup {
	var d message.ConsumerGroupDescribeResponseDescribedGroup
	d.Default()
	d.GroupId, d.ErrorCode = id, code
	if msg != "" {
		d.ErrorMessage = ptr(msg)
	}
	d.Members = []message.ConsumerGroupDescribeResponseMember{}
	return d
}

// consumerDescribe describes consumer groups of this shard; any other group is
// GROUP_ID_NOT_FOUND, as Kafka answers.
func (s *shard) consumerDescribe(ids []string) []message.ConsumerGroupDescribeResponseDescribedGroup {
	out := make([]message.ConsumerGroupDescribeResponseDescribedGroup, 0, len(ids))
	im := s.c.image()
	for _, id := range ids {
		cg, ok := s.groups[id].(*consumerGroup)
		switch {
		case s.groups[id] == nil || ok && cg.dead:
			out = append(out, describeError(id, kerr.GroupIDNotFound.Code, "group "+id+" not found"))
			continue
		case !ok:
			out = append(out, describeError(id, kerr.GroupIDNotFound.Code, "group "+id+" is not a consumer group"))
			continue
		}
		d := describeError(id, 0, "")
		d.GroupState = cg.state().String()
		d.GroupEpoch = cg.epoch
		d.AssignmentEpoch = cg.assignmentEpoch
		d.AssignorName = s.preferredAssignor(cg)
		for _, mid := range cg.sortedMemberIDs() {
			m := cg.members[mid]
			dm := message.ConsumerGroupDescribeResponseMember{
				MemberId: m.id, InstanceId: m.instanceID, RackId: m.rackID, MemberEpoch: m.epoch,
				ClientId: m.clientID, ClientHost: m.clientHost,
				SubscribedTopicNames: slices.Clone(m.subscribedTopics), SubscribedTopicRegex: m.subscribedRegex,
				Assignment:       describeAssignment(m.assigned, cg, im),
				TargetAssignment: describeAssignment(cg.target[m.id], cg, im),
			}
			if dm.SubscribedTopicNames == nil {
				dm.SubscribedTopicNames = []string{}
			}
			d.Members = append(d.Members, dm)
		}
		out = append(out, d)
	}
	return out
}

func describeAssignment(a assignment, cg *consumerGroup, im *topicImage) message.ConsumerGroupDescribeResponseAssignment {
	out := message.ConsumerGroupDescribeResponseAssignment{TopicPartitions: []message.ConsumerGroupDescribeResponseTopicPartitions{}}
	for _, t := range a.sortedTopics() {
		name := im.byID[t]
		if name == "" {
			for n, tm := range cg.subscribed {
				if tm.id == wire.UUID(t) {
					name = n
				}
			}
		}
		out.TopicPartitions = append(out.TopicPartitions, message.ConsumerGroupDescribeResponseTopicPartitions{
			TopicId: t, TopicName: name, Partitions: slices.Clone(a[t]),
		})
	}
	return out
}
