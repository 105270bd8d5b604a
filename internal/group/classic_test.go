package group

import (
	"slices"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

// stableMember is one member of a group brought to Stable by stableGroup.
type stableMember struct {
	id       string
	instance *string
}

// stableGroup brings a group of n members (the first ones static with instance ids from
// instances) to Stable: every member joins within the initial delay, the leader assigns
// "assignment-<i>" to member i, everyone syncs. The env must have a non-zero initial
// rebalance delay.
func (e *env) stableGroup(group string, n int, instances ...string) ([]stableMember, int32) {
	e.t.Helper()
	members := make([]stableMember, n)
	joins := make([]<-chan *message.JoinGroupResponse, n)
	for i := range n {
		if i < len(instances) {
			inst := instances[i]
			members[i].instance = &inst
			joins[i] = e.joinAsync(9, joinReq(group, "", &inst))
			continue
		}
		members[i].id, joins[i] = e.newMember(group)
	}
	var leader string
	var gen int32
	var all []message.JoinGroupResponseMember
	for i := range n {
		resp := recv(e.t, joins[i])
		if resp == nil || resp.ErrorCode != 0 {
			e.t.Fatalf("member %d join: %+v", i, resp)
		}
		members[i].id = resp.MemberId
		leader, gen = resp.Leader, resp.GenerationId
		if len(resp.Members) > 0 {
			all = resp.Members
		}
	}
	if len(all) != n {
		e.t.Fatalf("leader got %d members, want %d", len(all), n)
	}
	assign := map[string]string{}
	for i, m := range members {
		assign[m.id] = "assignment-" + string(rune('0'+i))
	}
	var syncs []<-chan *message.SyncGroupResponse
	for _, m := range members {
		r := syncReq(group, m.id, gen, nil)
		r.GroupInstanceId = m.instance
		if m.id == leader {
			r = syncReq(group, m.id, gen, assign)
			r.GroupInstanceId = m.instance
		}
		syncs = append(syncs, e.syncAsync(5, r))
	}
	for i, ch := range syncs {
		resp := recv(e.t, ch)
		if resp.ErrorCode != 0 || string(resp.Assignment) != assign[members[i].id] {
			e.t.Fatalf("member %d sync: error %d assignment %q", i, resp.ErrorCode, resp.Assignment)
		}
	}
	if d := e.describe(group); d.GroupState != "Stable" {
		e.t.Fatalf("group state %s, want Stable", d.GroupState)
	}
	return members, gen
}

func withDelay(c *Config) { c.InitialRebalanceDelay = 150 * time.Millisecond }

// A first JoinGroup (v4+) gets MEMBER_ID_REQUIRED with an id; joining with it makes the
// member the leader of generation 1; its SyncGroup returns its assignment; the group is
// Stable, persists, and its member heartbeats and commits with its generation.
func TestJoinSyncHeartbeatCommit(t *testing.T) {
	e := newEnv(t, nil)
	first := e.join(9, joinReq("g", "", nil))
	if first.ErrorCode != kerr.MemberIDRequired.Code || first.MemberId == "" {
		t.Fatalf("first join: %+v", first)
	}
	resp := e.join(9, joinReq("g", first.MemberId, nil))
	if resp.ErrorCode != 0 || resp.GenerationId != 1 || resp.Leader != first.MemberId ||
		len(resp.Members) != 1 || *resp.ProtocolName != "range" || *resp.ProtocolType != "consumer" {
		t.Fatalf("join: %+v", resp)
	}
	if string(resp.Members[0].Metadata) != "meta-range" {
		t.Fatalf("leader got metadata %q", resp.Members[0].Metadata)
	}
	sr := e.sync(5, syncReq("g", first.MemberId, 1, map[string]string{first.MemberId: "p0,p1"}))
	if sr.ErrorCode != 0 || string(sr.Assignment) != "p0,p1" || *sr.ProtocolName != "range" {
		t.Fatalf("sync: %+v", sr)
	}
	if code := e.heartbeat("g", first.MemberId, nil, 1); code != 0 {
		t.Fatalf("heartbeat: %d", code)
	}
	cr := e.commit(9, "g", first.MemberId, nil, 1, map[string]map[int32]int64{"t": {0: 42, 1: 7}}, "md")
	for _, p := range cr.Topics[0].Partitions {
		if p.ErrorCode != 0 {
			t.Fatalf("commit: %+v", cr)
		}
	}
	if got := e.committed("g"); got["t"][0] != 42 || got["t"][1] != 7 {
		t.Fatalf("committed %v", got)
	}
	d := e.describe("g")
	if d.GroupState != "Stable" || d.ProtocolData != "range" || len(d.Members) != 1 ||
		string(d.Members[0].MemberAssignment) != "p0,p1" || d.Members[0].ClientHost != "/127.0.0.1" {
		t.Fatalf("describe: %+v", d)
	}
	e.restart()
	if got := e.committed("g"); got["t"][0] != 42 {
		t.Fatalf("after restart committed %v", got)
	}
	d = e.describe("g")
	if d.GroupState != "Stable" || len(d.Members) != 1 || string(d.Members[0].MemberAssignment) != "p0,p1" {
		t.Fatalf("after restart describe: %+v", d)
	}
	// The member heartbeats on across the restart with its generation.
	if code := e.heartbeat("g", first.MemberId, nil, 1); code != 0 {
		t.Fatalf("heartbeat after restart: %d", code)
	}
}

// A new member makes a Stable group rebalance: the old member learns it from its
// heartbeat, rejoins, and both get generation 2; the protocol is one both support.
func TestRebalanceOnNewMember(t *testing.T) {
	e := newEnv(t, nil)
	m1, j1 := e.newMember("g", protos("roundrobin", "range")...)
	r1 := recv(t, j1)
	sr := syncReq("g", m1, r1.GenerationId, map[string]string{m1: "all"})
	sr.ProtocolName = r1.ProtocolName // roundrobin: the member's first choice
	if got := e.sync(5, sr).ErrorCode; got != 0 {
		t.Fatalf("sync: %d", got)
	}
	m2, j2 := e.newMember("g", protos("range", "sticky")...)
	eventually(t, "the group prepares a rebalance", func() bool { return e.describe("g").GroupState == "PreparingRebalance" })
	if code := e.heartbeat("g", m1, nil, 1); code != kerr.RebalanceInProgress.Code {
		t.Fatalf("heartbeat during rebalance: %d", code)
	}
	j1 = e.joinAsync(9, joinReq("g", m1, nil, protos("roundrobin", "range")...))
	a, b := recv(t, j1), recv(t, j2)
	if a.ErrorCode != 0 || b.ErrorCode != 0 || a.GenerationId != 2 || b.GenerationId != 2 {
		t.Fatalf("rejoin: %+v / %+v", a, b)
	}
	if *a.ProtocolName != "range" {
		t.Fatalf("protocol %s, want range (the only one both support)", *a.ProtocolName)
	}
	leader, follower := a, b
	if b.Leader == m2 {
		leader, follower = b, a
	}
	if len(leader.Members) != 2 || len(follower.Members) != 0 {
		t.Fatalf("members: leader %d follower %d", len(leader.Members), len(follower.Members))
	}
	fs := e.syncAsync(5, syncReq("g", follower.MemberId, 2, nil))
	ls := e.sync(5, syncReq("g", leader.MemberId, 2, map[string]string{leader.MemberId: "L", follower.MemberId: "F"}))
	if ls.ErrorCode != 0 || string(ls.Assignment) != "L" {
		t.Fatalf("leader sync %+v", ls)
	}
	if f := recv(t, fs); f.ErrorCode != 0 || string(f.Assignment) != "F" {
		t.Fatalf("follower sync %+v", f)
	}
	// A member with a protocol nobody else has cannot join.
	bad := e.join(9, joinReq("g", "", nil, protos("other")...))
	if bad.ErrorCode != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("join with a foreign protocol: %d", bad.ErrorCode)
	}
	other := joinReq("g", "", nil)
	other.ProtocolType = "connect"
	if got := e.join(9, other).ErrorCode; got != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("join with another protocol type: %d", got)
	}
}

// Every hostile or stale request is answered with Kafka's code, and none disturbs the group.
func TestHostileRequests(t *testing.T) {
	e := newEnv(t, func(c *Config) { withDelay(c); c.MaxSize = 2 })
	members, gen := e.stableGroup("g", 2, "i1")
	static, dyn := members[0], members[1]
	i1, other := "i1", "i-other"
	_, soloJoin := e.newMember("solo") // a group with room for an unknown member to be refused
	recv(t, soloJoin)
	garbage := []byte{0xff, 0xfe, 0, 1, 2, 3, 0x80}

	tests := []struct {
		name string
		run  func() int16
		want *kerr.Error
	}{
		{"join: empty group id", func() int16 { return e.join(9, joinReq("", "", nil)).ErrorCode }, kerr.InvalidGroupID},
		{"join: session below group.min.session.timeout.ms", func() int16 {
			r := joinReq("g2", "", nil)
			r.SessionTimeoutMs = 1
			return e.join(9, r).ErrorCode
		}, kerr.InvalidSessionTimeout},
		{"join: session above group.max.session.timeout.ms", func() int16 {
			r := joinReq("g2", "", nil)
			r.SessionTimeoutMs = 1 << 30
			return e.join(9, r).ErrorCode
		}, kerr.InvalidSessionTimeout},
		{"join: member id of a group that does not exist", func() int16 { return e.join(9, joinReq("nope", "m-x", nil)).ErrorCode }, kerr.UnknownMemberID},
		{"join: unknown member id", func() int16 { return e.join(9, joinReq("solo", "m-x", nil)).ErrorCode }, kerr.UnknownMemberID},
		{"join: unknown member id into a full group", func() int16 { return e.join(9, joinReq("g", "m-x", nil)).ErrorCode }, kerr.GroupMaxSizeReached},
		{"join: no protocol type", func() int16 {
			r := joinReq("g3", "", nil)
			r.ProtocolType = ""
			return e.join(9, r).ErrorCode
		}, kerr.InconsistentGroupProtocol},
		{"join: no protocols", func() int16 {
			r := joinReq("g3", "", nil)
			r.Protocols = []message.JoinGroupRequestProtocol{}
			return e.join(9, r).ErrorCode
		}, kerr.InconsistentGroupProtocol},
		{"join: group full (group.max.size 2)", func() int16 { return e.join(3, joinReq("g", "", nil)).ErrorCode }, kerr.GroupMaxSizeReached},
		{"join: static member id used with another instance", func() int16 { return e.join(9, joinReq("g", static.id, &other)).ErrorCode }, kerr.UnknownMemberID},
		{"join: another member id for a static instance", func() int16 { return e.join(9, joinReq("g", dyn.id, &i1)).ErrorCode }, kerr.FencedInstanceID},
		{"sync: unknown group", func() int16 { return e.sync(5, syncReq("nope", dyn.id, 1, nil)).ErrorCode }, kerr.UnknownMemberID},
		{"sync: unknown member", func() int16 { return e.sync(5, syncReq("g", "m-x", gen, nil)).ErrorCode }, kerr.UnknownMemberID},
		{"sync: stale generation", func() int16 { return e.sync(5, syncReq("g", dyn.id, gen-1, nil)).ErrorCode }, kerr.IllegalGeneration},
		{"sync: v5 without protocol type", func() int16 {
			r := syncReq("g", dyn.id, gen, nil)
			r.ProtocolType = nil
			return e.sync(5, r).ErrorCode
		}, kerr.InconsistentGroupProtocol},
		{"sync: another protocol name", func() int16 {
			r := syncReq("g", dyn.id, gen, nil)
			r.ProtocolName = ptr("roundrobin")
			return e.sync(5, r).ErrorCode
		}, kerr.InconsistentGroupProtocol},
		{"sync: fenced instance", func() int16 {
			r := syncReq("g", dyn.id, gen, nil)
			r.GroupInstanceId = &i1
			return e.sync(5, r).ErrorCode
		}, kerr.FencedInstanceID},
		{"heartbeat: unknown group", func() int16 { return e.heartbeat("nope", dyn.id, nil, gen) }, kerr.UnknownMemberID},
		{"heartbeat: unknown member", func() int16 { return e.heartbeat("g", "m-x", nil, gen) }, kerr.UnknownMemberID},
		{"heartbeat: stale generation", func() int16 { return e.heartbeat("g", dyn.id, nil, gen+5) }, kerr.IllegalGeneration},
		{"heartbeat: fenced instance", func() int16 { return e.heartbeat("g", "m-old", &i1, gen) }, kerr.FencedInstanceID},
		{"heartbeat: unknown instance", func() int16 { return e.heartbeat("g", static.id, &other, gen) }, kerr.UnknownMemberID},
		{"commit: stale generation", func() int16 {
			return e.commit(8, "g", dyn.id, nil, gen-1, map[string]map[int32]int64{"t": {0: 1}}, "").Topics[0].Partitions[0].ErrorCode
		}, kerr.IllegalGeneration},
		{"commit: unknown member", func() int16 {
			return e.commit(8, "g", "m-x", nil, gen, map[string]map[int32]int64{"t": {0: 1}}, "").Topics[0].Partitions[0].ErrorCode
		}, kerr.UnknownMemberID},
		{"commit: fenced instance", func() int16 {
			return e.commit(8, "g", "m-old", &i1, gen, map[string]map[int32]int64{"t": {0: 1}}, "").Topics[0].Partitions[0].ErrorCode
		}, kerr.FencedInstanceID},
		{"commit: generation -1 into a group with members", func() int16 {
			return e.commit(8, "g", "", nil, -1, map[string]map[int32]int64{"t": {0: 1}}, "").Topics[0].Partitions[0].ErrorCode
		}, kerr.UnknownMemberID},
		{"commit: metadata above offset.metadata.max.bytes", func() int16 {
			big := string(make([]byte, 4097))
			return e.commit(8, "g", dyn.id, nil, gen, map[string]map[int32]int64{"t": {0: 1}}, big).Topics[0].Partitions[0].ErrorCode
		}, kerr.OffsetMetadataTooLarge},
		{"commit: generation into a group that does not exist (v8)", func() int16 {
			return e.commit(8, "nope", "m", nil, 3, map[string]map[int32]int64{"t": {0: 1}}, "").Topics[0].Partitions[0].ErrorCode
		}, kerr.IllegalGeneration},
		{"commit: generation into a group that does not exist (v9)", func() int16 {
			return e.commit(9, "nope", "m", nil, 3, map[string]map[int32]int64{"t": {0: 1}}, "").Topics[0].Partitions[0].ErrorCode
		}, kerr.GroupIDNotFound},
		{"leave: unknown member", func() int16 {
			r := message.NewLeaveGroupRequest()
			r.GroupId = "g"
			r.Members = []message.LeaveGroupRequestMemberIdentity{{MemberId: "m-x"}}
			resp, err := e.c.LeaveGroup(ctx(t), req(5), r)
			if err != nil {
				t.Fatal(err)
			}
			return resp.Members[0].ErrorCode
		}, kerr.UnknownMemberID},
		{"leave: fenced instance (v0–v2 top level)", func() int16 {
			r := message.NewLeaveGroupRequest()
			r.GroupId, r.MemberId = "g", "m-x"
			resp, err := e.c.LeaveGroup(ctx(t), req(2), r)
			if err != nil {
				t.Fatal(err)
			}
			return resp.ErrorCode
		}, kerr.UnknownMemberID},
		{"offset delete: group consumes the topic (unparsable metadata protects all)", func() int16 {
			r := message.NewOffsetDeleteRequest()
			r.GroupId = "g"
			r.Topics = []message.OffsetDeleteRequestTopic{{Name: "t", Partitions: []message.OffsetDeleteRequestPartition{{PartitionIndex: 0}}}}
			resp, err := e.c.OffsetDelete(ctx(t), req(0), r)
			if err != nil {
				t.Fatal(err)
			}
			return resp.Topics[0].Partitions[0].ErrorCode
		}, kerr.GroupSubscribedToTopic},
		{"delete groups: group with members", func() int16 {
			r := message.NewDeleteGroupsRequest()
			r.GroupsNames = []string{"g"}
			resp, err := e.c.DeleteGroups(ctx(t), req(2), r)
			if err != nil {
				t.Fatal(err)
			}
			return resp.Results[0].ErrorCode
		}, kerr.NonEmptyGroup},
		{"delete groups: unknown group", func() int16 {
			r := message.NewDeleteGroupsRequest()
			r.GroupsNames = []string{"nope"}
			resp, err := e.c.DeleteGroups(ctx(t), req(2), r)
			if err != nil {
				t.Fatal(err)
			}
			return resp.Results[0].ErrorCode
		}, kerr.GroupIDNotFound},
		{"join: garbage protocol metadata is passed through", func() int16 {
			r := joinReq("garbage", "", nil)
			r.Protocols = []message.JoinGroupRequestProtocol{{Name: "range", Metadata: garbage}}
			id := e.join(9, r).MemberId
			r.MemberId = id
			resp := e.join(9, r)
			if resp.ErrorCode == 0 && !slices.Equal(resp.Members[0].Metadata, garbage) {
				t.Errorf("metadata %x, want %x", resp.Members[0].Metadata, garbage)
			}
			return resp.ErrorCode
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.run()
			want := int16(0)
			if tt.want != nil {
				want = tt.want.Code
			}
			if got != want {
				t.Fatalf("error code %d (%v), want %d (%v)", got, kerr.ForCode(got), want, tt.want)
			}
		})
	}
	// None of that disturbed the group.
	if d := e.describe("g"); d.GroupState != "Stable" || len(d.Members) != 2 {
		t.Fatalf("group after hostile requests: %s with %d members", d.GroupState, len(d.Members))
	}
	if code := e.heartbeat("g", dyn.id, nil, gen); code != 0 {
		t.Fatalf("heartbeat after hostile requests: %d", code)
	}
}
