package group

import (
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/kerr"
	"github.com/sluicehq/sluice/internal/protocol/message"
)

// Simple consumers (generation -1, no member) commit into a group with no members; their
// offsets survive a restart, OffsetFetch answers every version's shape, and OffsetDelete
// and DeleteGroups remove them for good.
func TestOffsetsCommitFetchDelete(t *testing.T) {
	e := newEnv(t, nil)
	for _, g := range []string{"a", "b", "c"} {
		resp := e.commit(0, g, "", nil, -1, map[string]map[int32]int64{"t1": {0: 10, 1: 11}, "t2": {0: 20}}, "meta-"+g)
		for _, tp := range resp.Topics {
			for _, p := range tp.Partitions {
				if p.ErrorCode != 0 {
					t.Fatalf("commit %s: %+v", g, resp)
				}
			}
		}
	}
	e.restart()
	if got := e.committed("b"); got["t1"][1] != 11 || got["t2"][0] != 20 || len(got) != 2 {
		t.Fatalf("committed %v", got)
	}

	// v1: single group, listed partitions, metadata and no leader epoch.
	r := message.NewOffsetFetchRequest()
	r.GroupId = "a"
	r.Topics = []message.OffsetFetchRequestTopic{{Name: "t1", PartitionIndexes: []int32{0, 5}}}
	resp, err := e.c.OffsetFetch(ctx(t), req(1), r)
	if err != nil {
		t.Fatal(err)
	}
	p := resp.Topics[0].Partitions
	if p[0].CommittedOffset != 10 || *p[0].Metadata != "meta-a" || p[1].CommittedOffset != -1 || *p[1].Metadata != "" {
		t.Fatalf("v1 fetch: %+v", resp)
	}
	// v7 with a null topic list: everything.
	r = message.NewOffsetFetchRequest()
	r.GroupId, r.Topics, r.RequireStable = "c", nil, true
	resp, err = e.c.OffsetFetch(ctx(t), req(7), r)
	if err != nil || resp.ErrorCode != 0 || len(resp.Topics) != 2 {
		t.Fatalf("v7 fetch all: %+v %v", resp, err)
	}
	// A group nobody knows: -1 everywhere, no error.
	r.GroupId = "unknown"
	r.Topics = []message.OffsetFetchRequestTopic{{Name: "t1", PartitionIndexes: []int32{0}}}
	resp, err = e.c.OffsetFetch(ctx(t), req(7), r)
	if err != nil || resp.ErrorCode != 0 || resp.Topics[0].Partitions[0].CommittedOffset != -1 {
		t.Fatalf("unknown group: %+v %v", resp, err)
	}

	// OffsetDelete on a simple group deletes (it consumes nothing).
	od := message.NewOffsetDeleteRequest()
	od.GroupId = "a"
	od.Topics = []message.OffsetDeleteRequestTopic{{Name: "t1", Partitions: []message.OffsetDeleteRequestPartition{{PartitionIndex: 0}, {PartitionIndex: 9}}}}
	odr, err := e.c.OffsetDelete(ctx(t), req(0), od)
	if err != nil || odr.ErrorCode != 0 || odr.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("offset delete: %+v %v", odr, err)
	}
	if got := e.committed("a"); got["t1"][0] != 0 && len(got["t1"]) != 1 {
		t.Fatalf("after offset delete: %v", got)
	}
	od.GroupId = "unknown"
	if odr, _ := e.c.OffsetDelete(ctx(t), req(0), od); odr.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("offset delete of an unknown group: %d", odr.ErrorCode)
	}

	// DeleteGroups: b goes with its offsets; a name twice is answered once.
	dg := message.NewDeleteGroupsRequest()
	dg.GroupsNames = []string{"b", "b", "zzz"}
	dr, err := e.c.DeleteGroups(ctx(t), req(2), dg)
	if err != nil || len(dr.Results) != 2 || dr.Results[0].ErrorCode != 0 || dr.Results[1].ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("delete groups: %+v %v", dr, err)
	}
	if got := e.committed("b"); len(got) != 0 {
		t.Fatalf("deleted group still has offsets %v", got)
	}
	e.restart()
	if got := e.committed("b"); len(got) != 0 {
		t.Fatalf("deleted group's offsets came back after a restart: %v", got)
	}
	if got := e.committed("a"); len(got["t1"]) != 1 || got["t1"][1] != 11 {
		t.Fatalf("a after restart: %v", got)
	}
	if d := e.describe("b"); d.GroupState != "Dead" {
		t.Fatalf("deleted group described as %s", d.GroupState)
	}
}

// ListGroups lists the groups of every loaded partition, with state and type filters.
func TestListGroups(t *testing.T) {
	e := newEnv(t, nil)
	e.commit(8, "simple", "", nil, -1, map[string]map[int32]int64{"t": {0: 1}}, "")
	id, j := e.newMember("live")
	recv(t, j)
	_ = id
	list := func(states, types []string) map[string]message.ListGroupsResponseListedGroup {
		r := message.NewListGroupsRequest()
		r.StatesFilter, r.TypesFilter = states, types
		resp, err := e.c.ListGroups(ctx(t), req(5), r)
		if err != nil || resp.ErrorCode != 0 {
			t.Fatalf("list: %+v %v", resp, err)
		}
		out := map[string]message.ListGroupsResponseListedGroup{}
		for _, g := range resp.Groups {
			out[g.GroupId] = g
		}
		return out
	}
	all := list(nil, nil)
	if len(all) != 2 || all["simple"].GroupState != "Empty" || all["simple"].ProtocolType != "" ||
		all["live"].GroupState != "CompletingRebalance" || all["live"].ProtocolType != "consumer" || all["live"].GroupType != "classic" {
		t.Fatalf("all: %+v", all)
	}
	if got := list([]string{" EMPTY "}, nil); len(got) != 1 || got["simple"].GroupId == "" {
		t.Fatalf("empty filter: %+v", got)
	}
	if got := list(nil, []string{"Consumer"}); len(got) != 0 {
		t.Fatalf("consumer-type filter: %+v", got)
	}
	if got := list(nil, []string{"bogus", "classic"}); len(got) != 2 {
		t.Fatalf("classic filter: %+v", got)
	}
}

// Offsets of a group without members expire after offsets.retention.minutes (tombstoned,
// so they stay gone after a restart), and the group goes with them; offsets with an
// explicit v2–v4 retention expire on their own clock; a group with members keeps its
// offsets.
func TestOffsetExpiry(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.OffsetsRetention = 300 * time.Millisecond
		c.OffsetsRetentionCheckInterval = 20 * time.Millisecond
	})
	e.commit(8, "simple", "", nil, -1, map[string]map[int32]int64{"t": {0: 1, 1: 2}}, "")
	// A member that never heartbeats keeps its group out of Empty for its session.
	id, j := e.newMember("live")
	r := recv(t, j)
	e.sync(5, syncReq("live", id, r.GenerationId, map[string]string{id: "x"}))
	e.commit(8, "live", id, nil, r.GenerationId, map[string]map[int32]int64{"u": {0: 5}}, "")
	eventually(t, "the simple group's offsets expire", func() bool { return len(e.committed("simple")) == 0 })
	eventually(t, "the simple group goes", func() bool { return e.describe("simple").GroupState == "Dead" })
	if got := e.committed("live"); got["u"][0] != 5 {
		t.Fatalf("a group with members lost its offsets: %v", got)
	}
	e.restart()
	if got := e.committed("simple"); len(got) != 0 {
		t.Fatalf("expired offsets came back: %v", got)
	}
}

// The load replays a partition holding many groups to the same state; a group deleted and
// groups whose offsets were overwritten load as their last records say.
func TestLoadManyGroups(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.OffsetsTopicNumPartitions = 1 })
	for i := range 200 {
		g := fmt.Sprintf("g%d", i)
		e.commit(8, g, "", nil, -1, map[string]map[int32]int64{"t": {0: int64(i), 1: int64(i + 1)}}, "")
		if i%10 == 0 {
			e.commit(8, g, "", nil, -1, map[string]map[int32]int64{"t": {0: int64(1000 + i)}}, "")
		}
	}
	dg := message.NewDeleteGroupsRequest()
	dg.GroupsNames = []string{"g7"}
	if dr, err := e.c.DeleteGroups(ctx(t), req(2), dg); err != nil || dr.Results[0].ErrorCode != 0 {
		t.Fatalf("delete: %+v %v", dr, err)
	}
	e.restart()
	for i := range 200 {
		g := fmt.Sprintf("g%d", i)
		got := e.committed(g)
		want0 := int64(i)
		if i%10 == 0 {
			want0 = int64(1000 + i)
		}
		if i == 7 {
			if len(got) != 0 {
				t.Fatalf("g7 came back: %v", got)
			}
			continue
		}
		if got["t"][0] != want0 || got["t"][1] != int64(i+1) {
			t.Fatalf("%s: %v", g, got)
		}
	}
}
