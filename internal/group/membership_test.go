package group

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

// A member that stops heartbeating is removed after its session timeout; the survivor is
// told to rejoin and gets a generation of its own. A member that heartbeats is never
// removed.
func TestSessionTimeoutExpelsMember(t *testing.T) {
	e := newEnv(t, withDelay)
	short := func(group, member string) *message.JoinGroupRequest {
		r := joinReq(group, member, nil)
		r.SessionTimeoutMs = 300
		r.RebalanceTimeoutMs = 2000
		return r
	}
	a := e.join(9, short("s", "")).MemberId
	b := e.join(9, short("s", "")).MemberId
	ja, jb := e.joinAsync(9, short("s", a)), e.joinAsync(9, short("s", b))
	ra, rb := recv(t, ja), recv(t, jb)
	gen := ra.GenerationId
	if ra.ErrorCode != 0 || rb.ErrorCode != 0 || rb.GenerationId != gen {
		t.Fatalf("joins: %+v %+v", ra, rb)
	}
	sa := e.syncAsync(5, syncReq("s", a, gen, map[string]string{a: "A", b: "B"}))
	sb := e.syncAsync(5, syncReq("s", b, gen, map[string]string{a: "A", b: "B"}))
	if recv(t, sa).ErrorCode != 0 || recv(t, sb).ErrorCode != 0 {
		t.Fatal("syncs")
	}
	// a heartbeats every 50 ms; b never again.
	deadline := time.Now().Add(testWait)
	var code int16
	for time.Now().Before(deadline) {
		if code = e.heartbeat("s", a, nil, gen); code != 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code != kerr.RebalanceInProgress.Code {
		t.Fatalf("survivor's heartbeat: %d, want REBALANCE_IN_PROGRESS", code)
	}
	r := recv(t, e.joinAsync(9, short("s", a)))
	if r.ErrorCode != 0 || r.GenerationId != gen+1 || len(r.Members) != 1 || r.Leader != a {
		t.Fatalf("rejoin after expulsion: %+v", r)
	}
	if got := e.heartbeat("s", b, nil, gen); got != kerr.UnknownMemberID.Code {
		t.Fatalf("expelled member's heartbeat: %d", got)
	}
}

// A static member that restarts (joins with its instance id and no member id) gets a new
// member id and the current generation and assignment without a rebalance; its old
// incarnation is fenced (FENCED_INSTANCE_ID) everywhere.
func TestStaticMemberRejoinsWithoutRebalance(t *testing.T) {
	e := newEnv(t, withDelay)
	members, gen := e.stableGroup("g", 2, "i1")
	static, dyn := members[0], members[1]
	wasLeader := e.describe("g")

	r := e.join(9, joinReq("g", "", static.instance))
	if r.ErrorCode != 0 || r.GenerationId != gen || r.MemberId == static.id {
		t.Fatalf("static rejoin: %+v", r)
	}
	newID := r.MemberId
	if code := e.heartbeat("g", dyn.id, nil, gen); code != 0 {
		t.Fatalf("the other member was told to rebalance: %d", code)
	}
	sr := e.sync(5, func() *message.SyncGroupRequest {
		s := syncReq("g", newID, gen, nil)
		s.GroupInstanceId = static.instance
		return s
	}())
	if sr.ErrorCode != 0 || string(sr.Assignment) != "assignment-0" {
		t.Fatalf("static member's sync: %+v", sr)
	}
	// The old incarnation is fenced.
	if code := e.heartbeat("g", static.id, static.instance, gen); code != kerr.FencedInstanceID.Code {
		t.Fatalf("old incarnation's heartbeat: %d", code)
	}
	cr := e.commit(9, "g", static.id, static.instance, gen, map[string]map[int32]int64{"t": {0: 1}}, "")
	if code := cr.Topics[0].Partitions[0].ErrorCode; code != kerr.FencedInstanceID.Code {
		t.Fatalf("old incarnation's commit: %d", code)
	}
	if d := e.describe("g"); d.GroupState != "Stable" || len(d.Members) != 2 {
		t.Fatalf("group: %+v (before %+v)", d, wasLeader)
	}
}

// A static member's group survives a coordinator restart: the generation, members and
// assignments load from __consumer_offsets, and the restarted instance rejoins without a
// rebalance.
func TestStaticMemberSurvivesRestart(t *testing.T) {
	e := newEnv(t, withDelay)
	members, gen := e.stableGroup("g", 2, "i1", "i2")
	e.restart()
	d := e.describe("g")
	if d.GroupState != "Stable" || len(d.Members) != 2 {
		t.Fatalf("after restart: %+v", d)
	}
	for _, m := range members {
		r := e.join(9, joinReq("g", "", m.instance))
		if r.ErrorCode != 0 || r.GenerationId != gen {
			t.Fatalf("rejoin of %s after restart: %+v", *m.instance, r)
		}
		s := syncReq("g", r.MemberId, gen, nil)
		s.GroupInstanceId = m.instance
		sr := e.sync(5, s)
		want := map[string]string{"i1": "assignment-0", "i2": "assignment-1"}[*m.instance]
		if sr.ErrorCode != 0 || string(sr.Assignment) != want {
			t.Fatalf("sync of %s: %+v", *m.instance, sr)
		}
	}
	if d := e.describe("g"); d.GroupState != "Stable" {
		t.Fatalf("state %s", d.GroupState)
	}
	e.restart()
	// And again, with the member ids the restarted instances got.
	if d := e.describe("g"); d.GroupState != "Stable" || len(d.Members) != 2 {
		t.Fatalf("after second restart: %+v", d)
	}
}

// A graceful leave rebalances the rest at once; when the last member leaves the group is
// Empty, and that is persisted.
func TestLeaveGroup(t *testing.T) {
	e := newEnv(t, withDelay)
	members, gen := e.stableGroup("g", 3, "i1")
	leave := func(version int16, ids ...message.LeaveGroupRequestMemberIdentity) *message.LeaveGroupResponse {
		r := message.NewLeaveGroupRequest()
		r.GroupId, r.Members = "g", ids
		resp, err := e.c.LeaveGroup(ctx(t), req(version), r)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	// Remove the static member by instance id alone (administrative removal) and a
	// dynamic one by member id, in one request.
	resp := leave(5, message.LeaveGroupRequestMemberIdentity{GroupInstanceId: members[0].instance},
		message.LeaveGroupRequestMemberIdentity{MemberId: members[1].id})
	if resp.ErrorCode != 0 || len(resp.Members) != 2 || resp.Members[0].ErrorCode != 0 || resp.Members[1].ErrorCode != 0 {
		t.Fatalf("leave: %+v", resp)
	}
	last := members[2].id
	if code := e.heartbeat("g", last, nil, gen); code != kerr.RebalanceInProgress.Code {
		t.Fatalf("heartbeat: %d", code)
	}
	r := recv(t, e.joinAsync(9, joinReq("g", last, nil)))
	if r.GenerationId != gen+1 || len(r.Members) != 1 {
		t.Fatalf("rejoin: %+v", r)
	}
	old := message.NewLeaveGroupRequest()
	old.GroupId, old.MemberId = "g", last
	if resp, err := e.c.LeaveGroup(ctx(t), req(1), old); err != nil || resp.ErrorCode != 0 {
		t.Fatalf("v1 leave: %+v %v", resp, err)
	}
	eventually(t, "the group empties", func() bool { return e.describe("g").GroupState == "Empty" })
	e.restart()
	if d := e.describe("g"); d.GroupState != "Empty" || len(d.Members) != 0 {
		t.Fatalf("after restart: %+v", d)
	}
}

// Unloading a partition (another broker leads it now) answers parked requests with
// NOT_COORDINATOR and every later one too.
func TestResignAnswersNotCoordinator(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.InitialRebalanceDelay = time.Minute })
	id := e.join(9, joinReq("g", "", nil)).MemberId
	parked := e.joinAsync(9, joinReq("g", id, nil))
	eventually(t, "the join is parked", func() bool { return e.describe("g").GroupState == "PreparingRebalance" })
	e.c.Resign(e.c.PartitionFor("g"), -1)
	if r := recv(t, parked); r == nil || r.ErrorCode != kerr.NotCoordinator.Code {
		t.Fatalf("parked join: %+v", r)
	}
	if code := e.heartbeat("g", id, nil, 0); code != kerr.NotCoordinator.Code {
		t.Fatalf("heartbeat: %d", code)
	}
	if d := e.describe("g"); d.ErrorCode != kerr.NotCoordinator.Code {
		t.Fatalf("describe: %+v", d)
	}
}
