package group

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
	"github.com/sluicehq/sluice/internal/protocol/wire"
)

var (
	topicA = TopicInfo{ID: [16]byte{0xa}, Name: "a", Partitions: 6}
	topicB = TopicInfo{ID: [16]byte{0xb}, Name: "b", Partitions: 2}
)

// cm is a test KIP-848 member: it remembers its epoch and what it owns, and acknowledges
// revocations at once, as a client does after committing.
type cm struct {
	e        *env
	group    string
	id       string
	instance *string
	epoch    int32
	owned    assignment
	// rebalanceMs overrides the rebalance timeout sent (10 s).
	rebalanceMs int32
}

func (e *env) consumerReq(group, member string, epoch int32) *message.ConsumerGroupHeartbeatRequest {
	r := message.NewConsumerGroupHeartbeatRequest()
	r.GroupId, r.MemberId, r.MemberEpoch = group, member, epoch
	r.RebalanceTimeoutMs = 10_000
	if epoch == 0 {
		r.SubscribedTopicNames = []string{"a"}
		r.TopicPartitions = []message.ConsumerGroupHeartbeatRequestTopicPartitions{}
	}
	return r
}

func (e *env) cgh(version int16, r *message.ConsumerGroupHeartbeatRequest) *message.ConsumerGroupHeartbeatResponse {
	e.t.Helper()
	resp, err := e.c.ConsumerGroupHeartbeat(ctx(e.t), req(version), r)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

// joinConsumer joins a member subscribed to topics and returns it.
func (e *env) joinConsumer(group, id string, instance *string, topics ...string) *cm {
	e.t.Helper()
	r := e.consumerReq(group, id, 0)
	r.InstanceId = instance
	if len(topics) > 0 {
		r.SubscribedTopicNames = topics
	}
	resp := e.cgh(1, r)
	if resp.ErrorCode != 0 {
		e.t.Fatalf("join %s: error %d %v", id, resp.ErrorCode, resp.ErrorMessage)
	}
	m := &cm{e: e, group: group, id: id, instance: instance, owned: assignment{}}
	m.apply(resp)
	return m
}

func (m *cm) apply(resp *message.ConsumerGroupHeartbeatResponse) {
	m.epoch = resp.MemberEpoch
	if resp.Assignment != nil {
		m.owned = assignment{}
		for _, t := range resp.Assignment.TopicPartitions {
			m.owned[t.TopicId] = append(m.owned[t.TopicId], t.Partitions...)
		}
		m.owned.normalize()
	}
}

// beat heartbeats with the owned partitions and applies the answer.
func (m *cm) beat() int16 {
	m.e.t.Helper()
	r := m.e.consumerReq(m.group, m.id, m.epoch)
	r.InstanceId = m.instance
	if m.rebalanceMs > 0 {
		r.RebalanceTimeoutMs = m.rebalanceMs
	}
	r.TopicPartitions = []message.ConsumerGroupHeartbeatRequestTopicPartitions{}
	for _, t := range m.owned.sortedTopics() {
		r.TopicPartitions = append(r.TopicPartitions, message.ConsumerGroupHeartbeatRequestTopicPartitions{TopicId: t, Partitions: m.owned[t]})
	}
	resp := m.e.cgh(1, r)
	if resp.ErrorCode == 0 {
		m.apply(resp)
	}
	return resp.ErrorCode
}

// checkOwners fails when a partition is owned by two members.
func checkOwners(t *testing.T, ms ...*cm) {
	t.Helper()
	seen := map[string]string{}
	for _, m := range ms {
		for tid, ps := range m.owned {
			for _, p := range ps {
				k := fmt.Sprintf("%x-%d", tid[:1], p)
				if o, ok := seen[k]; ok {
					t.Fatalf("partition %s owned by %s and %s", k, o, m.id)
				}
				seen[k] = m.id
			}
		}
	}
}

// settle heartbeats every member until the group is Stable, checking ownership each round.
func settle(t *testing.T, e *env, group string, ms ...*cm) {
	t.Helper()
	for range 20 {
		for _, m := range ms {
			if code := m.beat(); code != 0 {
				t.Fatalf("heartbeat of %s: error %d", m.id, code)
			}
			checkOwners(t, ms...)
		}
		if d := e.consumerDescribe(group); d.GroupState == "Stable" {
			return
		}
	}
	t.Fatalf("group %s did not become Stable: %+v", group, e.consumerDescribe(group))
}

func (e *env) consumerDescribe(group string) message.ConsumerGroupDescribeResponseDescribedGroup {
	e.t.Helper()
	r := message.NewConsumerGroupDescribeRequest()
	r.GroupIds = []string{group}
	resp, err := e.c.ConsumerGroupDescribe(ctx(e.t), req(0), r)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.Groups[0]
}

func newConsumerEnv(t *testing.T, mod func(*Config)) *env {
	e := newEnv(t, mod)
	e.c.SetTopics(context.Background(), []TopicInfo{topicA, topicB})
	return e
}

// Members join one after another; partitions move only after their owner revoked them,
// so no partition ever has two owners; the group ends Stable and balanced, and the member
// epochs follow the group epoch.
func TestConsumerJoinRevokeAssign(t *testing.T) {
	e := newConsumerEnv(t, nil)
	m1 := e.joinConsumer("g", "m1", nil)
	if m1.epoch != 1 || m1.owned.count() != 6 {
		t.Fatalf("first member: epoch %d owns %d, want 1 and 6", m1.epoch, m1.owned.count())
	}
	m2 := e.joinConsumer("g", "m2", nil)
	if m2.owned.count() != 0 {
		t.Fatalf("second member got %v before the first revoked anything", m2.owned)
	}
	checkOwners(t, m1, m2)
	settle(t, e, "g", m1, m2)
	m3 := e.joinConsumer("g", "m3", nil)
	settle(t, e, "g", m1, m2, m3)
	for _, m := range []*cm{m1, m2, m3} {
		if m.owned.count() != 2 || m.epoch != 3 {
			t.Fatalf("%s: owns %d at epoch %d, want 2 at 3", m.id, m.owned.count(), m.epoch)
		}
	}
	d := e.consumerDescribe("g")
	if d.GroupEpoch != 3 || d.AssignmentEpoch != 3 || d.AssignorName != "uniform" || len(d.Members) != 3 {
		t.Fatalf("describe: %+v", d)
	}
	// A graceful leave: the others get its partitions at their next heartbeat.
	r := e.consumerReq("g", "m3", leaveEpoch)
	if resp := e.cgh(1, r); resp.ErrorCode != 0 || resp.MemberEpoch != leaveEpoch {
		t.Fatalf("leave: %+v", resp)
	}
	settle(t, e, "g", m1, m2)
	if m1.owned.count()+m2.owned.count() != 6 || m1.owned.count() != 3 {
		t.Fatalf("after a leave: %v %v", m1.owned, m2.owned)
	}
}

// Hostile and malformed heartbeats get Kafka's error codes.
func TestConsumerHeartbeatErrors(t *testing.T) {
	e := newConsumerEnv(t, func(c *Config) { c.ConsumerMaxSize = 2 })
	m1 := e.joinConsumer("g", "m1", nil)
	inst := "i1"
	s1 := e.joinConsumer("g", "s1", &inst)
	settle(t, e, "g", m1, s1) // both at epoch 2, m1 previously at 1
	tests := []struct {
		name    string
		version int16
		mod     func(r *message.ConsumerGroupHeartbeatRequest)
		want    *kerr.Error
	}{
		{"empty group id", 1, func(r *message.ConsumerGroupHeartbeatRequest) { r.GroupId = "" }, kerr.InvalidRequest},
		{"v1 empty member id", 1, func(r *message.ConsumerGroupHeartbeatRequest) { r.MemberId = "" }, kerr.InvalidRequest},
		{"join without rebalance timeout", 1, func(r *message.ConsumerGroupHeartbeatRequest) {
			r.MemberId, r.MemberEpoch, r.RebalanceTimeoutMs = "x", 0, -1
		}, kerr.InvalidRequest},
		{"join owning partitions", 1, func(r *message.ConsumerGroupHeartbeatRequest) {
			r.MemberId, r.MemberEpoch = "x", 0
			r.TopicPartitions = []message.ConsumerGroupHeartbeatRequestTopicPartitions{{TopicId: topicA.ID, Partitions: []int32{0}}}
		}, kerr.InvalidRequest},
		{"join without subscription", 1, func(r *message.ConsumerGroupHeartbeatRequest) {
			r.MemberId, r.MemberEpoch, r.SubscribedTopicNames = "x", 0, nil
		}, kerr.InvalidRequest},
		{"epoch -3", 1, func(r *message.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = -3 }, kerr.InvalidRequest},
		{"static leave without instance", 1, func(r *message.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = -2 }, kerr.InvalidRequest},
		{"empty instance id", 1, func(r *message.ConsumerGroupHeartbeatRequest) { r.InstanceId = ptr("") }, kerr.InvalidRequest},
		{"unknown assignor", 1, func(r *message.ConsumerGroupHeartbeatRequest) { r.ServerAssignor = ptr("sticky") }, kerr.UnsupportedAssignor},
		{"bad regex", 1, func(r *message.ConsumerGroupHeartbeatRequest) { r.SubscribedTopicRegex = ptr("a(") }, kerr.InvalidRegularExpression},
		{"unknown member", 1, func(r *message.ConsumerGroupHeartbeatRequest) { r.MemberId, r.MemberEpoch = "nobody", 1 }, kerr.UnknownMemberID},
		{"epoch from the future", 1, func(r *message.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = 99 }, kerr.FencedMemberEpoch},
		{"old epoch owning more than assigned", 1, func(r *message.ConsumerGroupHeartbeatRequest) {
			r.MemberEpoch = 1
			r.TopicPartitions = []message.ConsumerGroupHeartbeatRequestTopicPartitions{{TopicId: topicA.ID, Partitions: []int32{0, 1, 2, 3, 4, 5}}}
		}, kerr.FencedMemberEpoch},
		{"instance held", 1, func(r *message.ConsumerGroupHeartbeatRequest) {
			r.MemberId, r.MemberEpoch, r.InstanceId = "s2", 0, &inst
			r.SubscribedTopicNames = []string{"a"}
			r.TopicPartitions = []message.ConsumerGroupHeartbeatRequestTopicPartitions{}
		}, kerr.UnreleasedInstanceID},
		{"instance of another member", 1, func(r *message.ConsumerGroupHeartbeatRequest) {
			r.MemberId, r.MemberEpoch, r.InstanceId = "s2", 2, &inst
		}, kerr.FencedInstanceID},
		{"group full", 1, func(r *message.ConsumerGroupHeartbeatRequest) {
			r.MemberId, r.MemberEpoch = "m3", 0
			r.SubscribedTopicNames = []string{"a"}
			r.TopicPartitions = []message.ConsumerGroupHeartbeatRequestTopicPartitions{}
		}, kerr.GroupMaxSizeReached},
		{"unknown group", 1, func(r *message.ConsumerGroupHeartbeatRequest) { r.GroupId = "nope" }, kerr.GroupIDNotFound},
		{"leave of an unknown member", 1, func(r *message.ConsumerGroupHeartbeatRequest) { r.MemberId, r.MemberEpoch = "nobody", -1 }, kerr.UnknownMemberID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.consumerReq("g", "m1", 2)
			tt.mod(r)
			resp := e.cgh(tt.version, r)
			if resp.ErrorCode != tt.want.Code {
				t.Fatalf("error %d (%v), want %s", resp.ErrorCode, resp.ErrorMessage, tt.want.Name)
			}
		})
	}

	// v0: the coordinator names a joining member.
	r := e.consumerReq("g0", "", 0)
	resp := e.cgh(0, r)
	if resp.ErrorCode != 0 || resp.MemberId == nil || *resp.MemberId == "" {
		t.Fatalf("v0 join: %+v", resp)
	}
}

// A group is of one protocol type: a consumer group in use refuses classic joins, a classic
// group in use refuses KIP-848 joins; an empty group of either type becomes the other.
func TestConsumerProtocolTypes(t *testing.T) {
	e := newConsumerEnv(t, withDelay)
	e.joinConsumer("cg", "m1", nil)
	if resp := e.join(9, joinReq("cg", "", nil)); resp.ErrorCode != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("classic join of a consumer group: error %d", resp.ErrorCode)
	}
	e.stableGroup("classic", 1)
	r := e.consumerReq("classic", "m1", 0)
	if resp := e.cgh(1, r); resp.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("KIP-848 join of a classic group: error %d", resp.ErrorCode)
	}
	if d := e.consumerDescribe("classic"); d.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("ConsumerGroupDescribe of a classic group: error %d", d.ErrorCode)
	}
	// A simple group (offsets only) becomes a consumer group, offsets kept.
	e.commit(2, "simple", "", nil, -1, map[string]map[int32]int64{"a": {0: 7}}, "")
	e.joinConsumer("simple", "m1", nil)
	if got := e.committed("simple")["a"][0]; got != 7 {
		t.Fatalf("offset after the group became a consumer group: %d", got)
	}
	// An empty consumer group becomes a classic group.
	if resp := e.cgh(1, e.consumerReq("simple", "m1", leaveEpoch)); resp.ErrorCode != 0 {
		t.Fatalf("leave: %d", resp.ErrorCode)
	}
	if resp := e.join(9, joinReq("simple", "", nil)); resp.ErrorCode != kerr.MemberIDRequired.Code {
		t.Fatalf("classic join of an empty consumer group: error %d", resp.ErrorCode)
	}
	// ListGroups reports each type.
	lr := message.NewListGroupsRequest()
	lr.TypesFilter = []string{"consumer"}
	list, err := e.c.ListGroups(ctx(t), req(5), lr)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Groups) != 1 || list.Groups[0].GroupId != "cg" || list.Groups[0].ProtocolType != "consumer" || list.Groups[0].GroupState != "Stable" {
		t.Fatalf("consumer groups listed: %+v", list.Groups)
	}
	if st := e.c.Stats(ctx(t)); st.Groups[StatsKey{Type: "consumer", State: "Stable"}] != 1 {
		t.Fatalf("stats: %+v", st)
	}
}

// Offsets of a consumer group are validated by member epoch.
func TestConsumerOffsets(t *testing.T) {
	e := newConsumerEnv(t, nil)
	m1 := e.joinConsumer("g", "m1", nil)
	type commitCase struct {
		name      string
		version   int16
		member    string
		epoch     int32
		partition int32
		want      int16
	}
	tests := []commitCase{
		{"current epoch", 9, "m1", m1.epoch, 0, 0},
		{"stale epoch", 9, "m1", m1.epoch + 5, 0, kerr.StaleMemberEpoch.Code},
		{"unknown member", 9, "nobody", 1, 0, kerr.UnknownMemberID.Code},
		{"no epoch while members exist", 9, "", -1, 0, kerr.UnknownMemberID.Code},
		{"classic version", 8, "m1", m1.epoch, 0, kerr.UnsupportedVersion.Code},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.commit(tt.version, "g", tt.member, nil, tt.epoch, map[string]map[int32]int64{"a": {tt.partition: 5}}, "")
			if got := resp.Topics[0].Partitions[0].ErrorCode; got != tt.want {
				t.Fatalf("commit: error %d, want %d", got, tt.want)
			}
		})
	}
	// m1 moves to epoch 2 keeping half of a: a commit with epoch 1 of a partition it kept
	// is still accepted, one of a partition it gave up is not.
	m2 := e.joinConsumer("g", "m2", nil)
	settle(t, e, "g", m1, m2)
	for p := range int32(6) {
		want := int16(0)
		if !m1.owned.has(topicA.ID, p) {
			want = kerr.StaleMemberEpoch.Code
		}
		resp := e.commit(9, "g", "m1", nil, m1.epoch-1, map[string]map[int32]int64{"a": {p: 5}}, "")
		if got := resp.Topics[0].Partitions[0].ErrorCode; got != want {
			t.Fatalf("commit of partition %d with the previous epoch: error %d, want %d", p, got, want)
		}
	}
	fetch := func(member *string, epoch int32) int16 {
		r := message.NewOffsetFetchRequest()
		r.Groups = []message.OffsetFetchRequestGroup{{GroupId: "g", MemberId: member, MemberEpoch: epoch}}
		resp, err := e.c.OffsetFetch(ctx(t), req(9), r)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Groups[0].ErrorCode
	}
	if code := fetch(ptr("m1"), m1.epoch); code != 0 {
		t.Fatalf("fetch: %d", code)
	}
	if code := fetch(ptr("m1"), m1.epoch+1); code != kerr.StaleMemberEpoch.Code {
		t.Fatalf("fetch with a stale epoch: %d", code)
	}
	if code := fetch(ptr("x"), 1); code != kerr.UnknownMemberID.Code {
		t.Fatalf("fetch by an unknown member: %d", code)
	}
	if code := fetch(nil, -1); code != 0 {
		t.Fatalf("admin fetch: %d", code)
	}
	// DeleteGroups refuses a group with members; OffsetDelete a subscribed topic.
	dr := message.NewDeleteGroupsRequest()
	dr.GroupsNames = []string{"g"}
	del, err := e.c.DeleteGroups(ctx(t), req(2), dr)
	if err != nil {
		t.Fatal(err)
	}
	if del.Results[0].ErrorCode != kerr.NonEmptyGroup.Code {
		t.Fatalf("delete a group with members: %d", del.Results[0].ErrorCode)
	}
	or := message.NewOffsetDeleteRequest()
	or.GroupId = "g"
	or.Topics = []message.OffsetDeleteRequestTopic{{Name: "a", Partitions: []message.OffsetDeleteRequestPartition{{PartitionIndex: 0}}}}
	od, err := e.c.OffsetDelete(ctx(t), req(0), or)
	if err != nil {
		t.Fatal(err)
	}
	if od.ErrorCode != 0 || od.Topics[0].Partitions[0].ErrorCode != kerr.GroupSubscribedToTopic.Code {
		t.Fatalf("offset delete of a subscribed topic: %+v", od)
	}
	// Once empty, the group and its offsets can be deleted.
	e.cgh(1, e.consumerReq("g", "m1", leaveEpoch))
	e.cgh(1, e.consumerReq("g", "m2", leaveEpoch))
	del, err = e.c.DeleteGroups(ctx(t), req(2), dr)
	if err != nil {
		t.Fatal(err)
	}
	if del.Results[0].ErrorCode != 0 {
		t.Fatalf("delete an empty group: %d", del.Results[0].ErrorCode)
	}
	if d := e.consumerDescribe("g"); d.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("describe after delete: %d", d.ErrorCode)
	}
}

// The group, its members, epochs and assignments survive a restart (the records are
// replayed), and the members carry on heartbeating with their epochs.
func TestConsumerReplay(t *testing.T) {
	e := newConsumerEnv(t, nil)
	m1 := e.joinConsumer("g", "m1", nil)
	inst := "i2"
	m2 := e.joinConsumer("g", "m2", &inst, "a", "b")
	settle(t, e, "g", m1, m2)
	e.commit(9, "g", "m1", nil, m1.epoch, map[string]map[int32]int64{"a": {0: 3}}, "")
	before := e.consumerDescribe("g")
	e.restart()
	e.c.SetTopics(context.Background(), []TopicInfo{topicA, topicB})
	after := e.consumerDescribe("g")
	if !reflect.DeepEqual(after, before) {
		t.Fatalf("after restart:\n%+v\nbefore:\n%+v", after, before)
	}
	for _, m := range []*cm{m1, m2} {
		if code := m.beat(); code != 0 {
			t.Fatalf("%s heartbeat after restart: %d", m.id, code)
		}
	}
	checkOwners(t, m1, m2)
	if got := e.committed("g")["a"][0]; got != 3 {
		t.Fatalf("offset after restart: %d", got)
	}
	// Deleted and expired groups leave nothing behind: after leaving and deleting, a
	// restart finds no group.
	e.cgh(1, e.consumerReq("g", "m1", leaveEpoch))
	r := e.consumerReq("g", "m2", leaveEpoch)
	r.InstanceId = &inst
	e.cgh(1, r)
	dr := message.NewDeleteGroupsRequest()
	dr.GroupsNames = []string{"g"}
	if _, err := e.c.DeleteGroups(ctx(t), req(2), dr); err != nil {
		t.Fatal(err)
	}
	e.restart()
	if d := e.consumerDescribe("g"); d.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("deleted group after restart: %+v", d)
	}
}

// A static member leaving with epoch -2 keeps its partitions; back under a new member id it
// gets them again at its epoch, with no new group epoch.
func TestConsumerStaticRestart(t *testing.T) {
	e := newConsumerEnv(t, nil)
	inst := "static-1"
	s1 := e.joinConsumer("g", "s1", &inst)
	m2 := e.joinConsumer("g", "m2", nil)
	settle(t, e, "g", s1, m2)
	owned, epoch := s1.owned.clone(), s1.epoch
	groupEpoch := e.consumerDescribe("g").GroupEpoch
	r := e.consumerReq("g", "s1", staticLeaveEpoch)
	r.InstanceId = &inst
	if resp := e.cgh(1, r); resp.ErrorCode != 0 || resp.MemberEpoch != staticLeaveEpoch {
		t.Fatalf("static leave: %+v", resp)
	}
	if code := m2.beat(); code != 0 || m2.owned.count() != 3 {
		t.Fatalf("the other member took partitions of a static member that left for now: %v", m2.owned)
	}
	back := e.joinConsumer("g", "s1-new", &inst)
	if !back.owned.equal(owned) || back.epoch != epoch {
		t.Fatalf("static member back: owns %v at %d, want %v at %d", back.owned, back.epoch, owned, epoch)
	}
	if d := e.consumerDescribe("g"); d.GroupEpoch != groupEpoch || len(d.Members) != 2 {
		t.Fatalf("after the static member came back: %+v", d)
	}
	checkOwners(t, back, m2)
}

// A member that stops heartbeating is removed when its session expires, and one that does
// not revoke within its rebalance timeout is fenced; their partitions go to the others.
func TestConsumerExpiry(t *testing.T) {
	e := newConsumerEnv(t, func(c *Config) { c.ConsumerSessionTimeout = 200 * time.Millisecond })
	m1 := e.joinConsumer("g", "m1", nil)
	e.joinConsumer("g", "m2", nil) // never heartbeats again
	eventually(t, "the silent member's session expires", func() bool {
		if code := m1.beat(); code != 0 {
			t.Fatalf("heartbeat: %d", code)
		}
		return len(e.consumerDescribe("g").Members) == 1 && m1.owned.count() == 6
	})

	// A member that does not revoke within its rebalance timeout is fenced.
	e2 := newConsumerEnv(t, nil)
	r := e2.consumerReq("g", "a", 0)
	r.RebalanceTimeoutMs = 100
	resp := e2.cgh(1, r)
	a := &cm{e: e2, group: "g", id: "a", owned: assignment{}, rebalanceMs: 100}
	a.apply(resp)
	b := e2.joinConsumer("g", "b", nil)
	eventually(t, "a member that does not revoke is fenced", func() bool {
		// a heartbeats but keeps owning everything it had; b waits for the partitions.
		owned := a.owned
		code := a.beat()
		a.owned = owned
		if code != 0 {
			a.owned = nil // fenced: the client drops its partitions
		}
		b.beat()
		checkOwners(t, a, b)
		return code == kerr.UnknownMemberID.Code
	})
	settle(t, e2, "g", b)
	if b.owned.count() != 6 {
		t.Fatalf("the remaining member owns %v", b.owned)
	}
}

func TestAssignors(t *testing.T) {
	ta, tb := wire.UUID(topicA.ID), wire.UUID(topicB.ID)
	topics := map[string]topicMeta{"a": {ta, 6}, "b": {tb, 2}}
	members := []assignorMember{{"m1", []string{"a", "b"}}, {"m2", []string{"a", "b"}}, {"m3", []string{"a"}}}
	check := func(name string, out map[string]assignment, wantTotal int) {
		t.Helper()
		seen := map[string]bool{}
		min, max := 1<<30, 0
		total := 0
		for _, m := range members {
			n := out[m.id].count()
			total += n
			min, max = minInt(min, n), maxInt(max, n)
			for tid, ps := range out[m.id] {
				for _, p := range ps {
					k := fmt.Sprint(tid, p)
					if seen[k] {
						t.Fatalf("%s: partition %s assigned twice", name, k)
					}
					seen[k] = true
				}
				if tid == tb && m.id == "m3" {
					t.Fatalf("%s: m3 got a topic it does not subscribe to", name)
				}
			}
		}
		if total != wantTotal {
			t.Fatalf("%s: %d partitions assigned, want %d", name, total, wantTotal)
		}
		if name == "uniform" && max-min > 1 {
			t.Fatalf("%s: unbalanced %d..%d: %v", name, min, max, out)
		}
	}
	u := assignUniform(assignorInput{members: members, topics: topics})
	check("uniform", u, 8)
	check("range", assignRange(assignorInput{members: members, topics: topics}), 8)
	// Sticky: a fourth member takes partitions only from others; nobody else's move.
	members = append(members, assignorMember{"m4", []string{"a", "b"}})
	u2 := assignUniform(assignorInput{members: members, topics: topics, prev: u})
	check("uniform", u2, 8)
	for _, m := range members[:3] {
		if !u2[m.id].subsetOf(u[m.id]) {
			t.Fatalf("uniform moved partitions between old members: %v -> %v", u[m.id], u2[m.id])
		}
	}
}

func minInt(a, b int) int { return min(a, b) }
func maxInt(a, b int) int { return max(a, b) }

// A regex subscription is resolved against the topics, and again when topics are created,
// grow or are deleted.
func TestConsumerRegex(t *testing.T) {
	e := newConsumerEnv(t, nil)
	r := e.consumerReq("g", "m1", 0)
	r.SubscribedTopicNames = nil
	r.SubscribedTopicRegex = ptr("r.*")
	resp := e.cgh(1, r)
	if resp.ErrorCode != 0 || resp.Assignment == nil || len(resp.Assignment.TopicPartitions) != 0 {
		t.Fatalf("join with a regex matching nothing: %+v", resp)
	}
	m := &cm{e: e, group: "g", id: "m1", owned: assignment{}}
	m.apply(resp)
	r1 := TopicInfo{ID: [16]byte{0x1}, Name: "r1", Partitions: 2}
	e.c.SetTopics(context.Background(), []TopicInfo{topicA, topicB, r1})
	eventually(t, "the new topic is assigned", func() bool { m.beat(); return m.owned.count() == 2 })
	r1.Partitions = 4
	e.c.SetTopics(context.Background(), []TopicInfo{topicA, topicB, r1, {ID: [16]byte{0x2}, Name: "xr", Partitions: 1}})
	eventually(t, "the grown topic is assigned", func() bool { m.beat(); return m.owned.count() == 4 })
	e.c.SetTopics(context.Background(), []TopicInfo{topicA, topicB})
	eventually(t, "the deleted topic is revoked", func() bool { m.beat(); return m.owned.count() == 0 })
	if d := e.consumerDescribe("g"); d.Members[0].SubscribedTopicRegex == nil || *d.Members[0].SubscribedTopicRegex != "r.*" {
		t.Fatalf("describe: %+v", d.Members[0])
	}
}

// An empty consumer group's offsets expire after offsets.retention, counted from their
// commit; then the group itself is deleted (tombstoned: gone after a restart too). Offsets
// of a topic a member subscribes to do not expire.
func TestConsumerGroupExpiry(t *testing.T) {
	e := newConsumerEnv(t, func(c *Config) {
		c.OffsetsRetention = 300 * time.Millisecond
		c.OffsetsRetentionCheckInterval = 20 * time.Millisecond
	})
	m := e.joinConsumer("g", "m1", nil)
	e.commit(9, "g", "m1", nil, m.epoch, map[string]map[int32]int64{"a": {0: 1}, "b": {0: 2}}, "")
	eventually(t, "the unsubscribed topic's offset expires", func() bool {
		m.beat()
		_, ok := e.committed("g")["b"]
		return !ok
	})
	if got := e.committed("g")["a"][0]; got != 1 {
		t.Fatalf("the subscribed topic's offset expired too: %v", e.committed("g"))
	}
	e.cgh(1, e.consumerReq("g", "m1", leaveEpoch))
	eventually(t, "the empty group expires", func() bool {
		return e.consumerDescribe("g").ErrorCode == kerr.GroupIDNotFound.Code
	})
	e.restart()
	if d := e.consumerDescribe("g"); d.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("expired group after a restart: %+v", d)
	}
}

// Before the coordinator is told the topics (a restart, before the node's first metadata),
// a group keeps the topics its records name instead of losing its assignment.
func TestConsumerWithoutTopics(t *testing.T) {
	e := newConsumerEnv(t, nil)
	m := e.joinConsumer("g", "m1", nil)
	e.restart() // no SetTopics after it
	if code := m.beat(); code != 0 || m.owned.count() != 6 {
		t.Fatalf("heartbeat before the topics are known: error %d, owns %v", code, m.owned)
	}
	if d := e.consumerDescribe("g"); d.GroupEpoch != 1 || d.GroupState != "Stable" {
		t.Fatalf("describe: %+v", d)
	}
}
